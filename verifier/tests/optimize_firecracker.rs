//! `optimize --output-format firecracker`: the file Firecracker loads with
//! `--seccomp-filter`, read back the way Firecracker reads it
//! (`bitcode::deserialize` into `HashMap<String, Vec<u64>>`, each `u64` a
//! `sock_filter`'s little-endian bytes), holds one program per thread
//! category of the seccompiler JSON, each proven equivalent to seccompiler's
//! compilation of that category; anything Firecracker would refuse is
//! refused before a byte is written.

use crate::common::schemas;
use seccheck::bpf::{validate, Insn, Program};
use seccheck::sources::seccompiler::{compile_seccompiler, SeccompilerOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles/firecracker_x86_64-unknown-linux-musl.json")
}

fn seccheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

fn program(words: &[u64]) -> Program {
    Program::new(
        words
            .iter()
            .map(|w| {
                let b = w.to_le_bytes();
                Insn {
                    code: u16::from_le_bytes([b[0], b[1]]),
                    jt: b[2],
                    jf: b[3],
                    k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
                }
            })
            .collect(),
    )
}

#[test]
fn every_thread_category_is_optimised_into_the_file_firecracker_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("filters.bin");
    let o = seccheck(&[
        "optimize",
        profile().to_str().unwrap(),
        "--output-format",
        "firecracker",
        "-o",
        out.to_str().unwrap(),
        "--no-kernel",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = schemas::parse(&o.stdout);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() <= 100_000, "Firecracker's DESERIALIZATION_BYTES_LIMIT");
    // Firecracker's reader (src/vmm/src/seccomp.rs, deserialize_binary).
    let map: HashMap<String, Vec<u64>> = bitcode::deserialize(&bytes).unwrap();
    let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["api", "vcpu", "vmm"]);
    let source = std::fs::read(profile()).unwrap();
    let compiled = compile_seccompiler(&source, &SeccompilerOptions::default()).unwrap();
    assert_eq!(compiled.len(), 3);
    let filters = report["filters"].as_array().unwrap();
    for c in &compiled {
        let input = validate(&c.program).unwrap();
        let output = validate(&program(&map[&c.label])).expect("the kernel's rules hold");
        let d = seccheck::diff::diff(&input, &output, &Default::default()).unwrap();
        assert!(d.equivalent, "{}: {} region(s) differ", c.label, d.regions.len());
        let r = filters.iter().find(|f| f["name"] == c.label.as_str()).unwrap();
        assert_eq!(r["before"]["instructions"], c.program.insns.len());
        assert_eq!(r["after"]["instructions"], output.insns().len());
        assert!(output.insns().len() < c.program.insns.len(), "{}", c.label);
    }
    // The library's reader agrees with bitcode's.
    let back = seccheck::optimize::firecracker::decode(&bytes).unwrap();
    assert_eq!(back.len(), 3);
    for (name, p) in back {
        assert_eq!(p, program(&map[&name]));
    }
}

#[test]
fn what_firecracker_would_refuse_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("filters.bin");
    let two = dir.path().join("two.json");
    std::fs::write(
        &two,
        r#"{"vmm": {"default_action": "allow", "filter_action": "trap", "filter": []},
            "api": {"default_action": "allow", "filter_action": "trap", "filter": []}}"#,
    )
    .unwrap();
    let docker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled/docker_default.x86_64.runc.bpf");
    let p = profile();
    let cases: [(Vec<&str>, &str); 3] = [
        (vec![two.to_str().unwrap()], "`vcpu` is missing"),
        (vec![docker.to_str().unwrap()], "not a profile"),
        (vec![p.to_str().unwrap(), "--filter", "vmm"], "takes no --filter"),
    ];
    for (input, want) in cases {
        let mut args = vec!["optimize"];
        args.extend(input);
        args.extend(["--output-format", "firecracker", "-o", out.to_str().unwrap(), "--no-kernel"]);
        let o = seccheck(&args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(want) && e.lines().count() == 1, "{args:?}: {e}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}
