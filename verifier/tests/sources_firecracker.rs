//! Firecracker's compiled filter file (`firecracker --seccomp-filter FILE`) as
//! an input. The corpus' Firecracker JSON filters are compiled by the real
//! `seccompiler` and written as `seccompiler-bin` writes them, in both
//! encodings Firecracker versions read (bitcode from v1.15, bincode before):
//! each thread category, read from the file (content detection or
//! `--input-format firecracker`, `--filter NAME`), is exactly seccompiler's
//! program, and `table` prints for it what it prints for the JSON. Files
//! Firecracker would not load are refused with one line and exit 2.

use seccheck::arch::Arch;
use seccheck::sources::seccompiler::{compile_seccompiler, SeccompilerOptions};
use seccheck::sources::{read_file, InputFormat, ReadOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles").join(name)
}

/// The corpus' Firecracker JSON filters and the arch each is written for.
const PROFILES: [(&str, Arch, &str); 2] = [
    ("firecracker_x86_64-unknown-linux-musl.json", Arch::X86_64, "x86_64"),
    ("firecracker_aarch64-unknown-linux-musl.json", Arch::Aarch64, "aarch64"),
];

fn seccheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

/// Thread category → instructions as `u64`s (each a `sock_filter`'s little-endian bytes).
fn compiled(profile: &str, target: Arch) -> HashMap<String, Vec<u64>> {
    let json = std::fs::read(corpus(profile)).unwrap();
    compile_seccompiler(&json, &SeccompilerOptions { target, thread: None })
        .unwrap()
        .into_iter()
        .map(|f| (f.label, f.program.insns.iter().map(|i| u64::from_le_bytes(i.to_bytes())).collect()))
        .collect()
}

/// The file as seccompiler-bin writes it for Firecracker v1.15 on (bitcode)
/// and for v0.25 to v1.14 (bincode 1, fixed-width integers).
fn encodings(map: &HashMap<String, Vec<u64>>) -> [(&'static str, Vec<u8>); 2] {
    use bincode::Options;
    let bincode = bincode::DefaultOptions::new().with_fixint_encoding().serialize(map).unwrap();
    [("bitcode", bitcode::serialize(map).unwrap()), ("bincode", bincode)]
}

#[test]
fn every_category_reads_as_seccompilers_program() {
    let dir = tempfile::tempdir().unwrap();
    let mut read = 0;
    for (profile, target, _) in PROFILES {
        let map = compiled(profile, target);
        assert_eq!(map.len(), 3, "{profile}");
        for (encoding, bytes) in encodings(&map) {
            let file = dir.path().join(format!("{target}.{encoding}"));
            std::fs::write(&file, &bytes).unwrap();
            for (name, words) in &map {
                for format in [InputFormat::Auto, InputFormat::Firecracker] {
                    let opts = ReadOptions { format, filter: Some(name.clone()), ..ReadOptions::default() };
                    let loaded = read_file(&file, &opts).unwrap_or_else(|e| panic!("{profile} {encoding}: {e}"));
                    assert_eq!(loaded.format, InputFormat::Firecracker);
                    let got: Vec<u64> = loaded.program.insns.iter().map(|i| u64::from_le_bytes(i.to_bytes())).collect();
                    assert_eq!(&got, words, "{profile} {encoding} {name}");
                    read += 1;
                }
            }
        }
    }
    assert_eq!(read, 2 * 2 * 3 * 2);
}

#[test]
fn table_of_a_category_is_the_table_of_its_json() {
    let dir = tempfile::tempdir().unwrap();
    for (profile, target, host) in PROFILES {
        let json = corpus(profile);
        for (encoding, bytes) in encodings(&compiled(profile, target)) {
            let file = dir.path().join(format!("filters.{encoding}"));
            std::fs::write(&file, &bytes).unwrap();
            for category in ["vmm", "api", "vcpu"] {
                let from_json =
                    seccheck(&["table", json.to_str().unwrap(), "--filter", category, "--host-arch", host, "-q"]);
                let from_file = seccheck(&["table", file.to_str().unwrap(), "--filter", category]);
                assert!(from_json.status.success(), "{}", String::from_utf8_lossy(&from_json.stderr));
                assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
                let (a, b) =
                    (String::from_utf8(from_json.stdout).unwrap(), String::from_utf8(from_file.stdout).unwrap());
                // The first line names the file; the JSON's table also says
                // how seccompiler compiled it. The rest is the same table.
                let n = a.lines().next().unwrap().rsplit_once(": ").unwrap().1;
                assert_eq!(b.lines().next().unwrap(), format!("{}: {n}", file.display()));
                let a: Vec<&str> = a.lines().skip(1).filter(|l| !l.starts_with("compiled by seccompiler")).collect();
                let b: Vec<&str> = b.lines().skip(1).collect();
                assert!(a.len() > 10, "{a:?}");
                assert_eq!(a, b, "{profile} {encoding} {category}");
            }
        }
    }
}

/// `(bytes, arguments after the file, what the one line on stderr says)`.
type Case = (Vec<u8>, Vec<&'static str>, String);

#[test]
fn what_firecracker_would_not_load_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let map = compiled(PROFILES[0].0, Arch::X86_64);
    let bytes = bitcode::serialize(&map).unwrap();
    let mut io = map.clone();
    io.insert("io".into(), map["vmm"].clone());
    let mut empty = map.clone();
    empty.insert("vcpu".into(), Vec::new());
    let cases: Vec<Case> = vec![
        (bytes.clone(), vec![], "holds one filter per thread category (api, vcpu, vmm); pick one with --filter NAME".into()),
        (bytes.clone(), vec!["--filter", "io"], "no filter named `io`; the input has: api, vcpu, vmm".into()),
        (
            bytes[..bytes.len() - 3].to_vec(),
            vec!["--filter", "vmm", "--input-format", "firecracker"],
            "not a Firecracker filter file (a map of thread category to u64 instructions): as bincode".into(),
        ),
        (
            bitcode::serialize(&io).unwrap(),
            vec!["--filter", "vmm", "--input-format", "firecracker"],
            "bitcode (Firecracker v1.15 on) filter file: thread category `io` is not one Firecracker loads (vmm, api, vcpu)"
                .into(),
        ),
        (
            bitcode::serialize(&empty).unwrap(),
            vec!["--filter", "vcpu"],
            "vcpu: an empty program: Firecracker installs no seccomp filter on this thread category".into(),
        ),
    ];
    for (i, (bytes, args, want)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("case{i}.bin"));
        std::fs::write(&file, &bytes).unwrap();
        let mut all = vec!["disasm", file.to_str().unwrap()];
        all.extend(args);
        let o = seccheck(&all);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{all:?}: {e}");
        assert!(e.contains(file.to_str().unwrap()) && e.contains(&want), "{all:?}: {e}\nwant: {want}");
        assert!(o.stdout.is_empty(), "{all:?}: nothing on stdout");
    }
}
