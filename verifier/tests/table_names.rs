//! What a table says in words: argument values by their UAPI names beside the
//! numbers (per arch and syscall), and the "every other syscall number" row
//! with the syscalls and number ranges it holds, so that no row reads as
//! "everything not shown" when it is not.

use crate::common::schemas;
use seccheck::arch::Arch;
use std::path::PathBuf;
use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn corpus(rel: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "corpus", rel].iter().collect();
    p.to_str().unwrap().to_string()
}

/// stdout of a successful run, with the corpus path made relative so the
/// snapshot does not depend on where the tree is.
fn stdout(args: &[&str]) -> String {
    let o = seccheck(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let root = corpus("");
    String::from_utf8(o.stdout).unwrap().replace(&root, "corpus/")
}

#[test]
fn docker_conditions_print_names_beside_numbers() {
    let d = corpus("profiles/docker_default.json");
    let out = stdout(&["table", &d, "-q", "--syscall", "socket,clone,personality,read"]);
    // the reproducer of issue 18: hex only
    assert!(out.contains("arg0 in {AF_ALG (0x26), AF_VSOCK (0x28)}"), "{out}");
    assert!(!out.contains("arg0 in {0x26, 0x28}"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn firecracker_conditions_name_per_arch() {
    // x86_64 and aarch64 filters compare the same numbers; PROT_BTI exists
    // only on aarch64, so 0x10 is a name there and a number on x86_64.
    let x = stdout(&["table", &corpus("compiled/firecracker_x86_64.vmm.bpf"), "--syscall", "socket,fcntl,tkill,mmap"]);
    let a = stdout(&["table", &corpus("compiled/firecracker_aarch64.vmm.bpf"), "--syscall", "socket,fcntl,tkill,mmap"]);
    assert!(a.contains("(arg2 & 0xfffffff4) == PROT_BTI (0x10)"), "{a}");
    assert!(x.contains("(arg2 & 0xfffffff4) == 0x10"), "{x}");
    insta::assert_snapshot!("firecracker_x86_64", x);
    insta::assert_snapshot!("firecracker_aarch64", a);
}

#[test]
fn the_every_other_row_lists_its_syscalls_and_unnamed_ranges() {
    let d = corpus("profiles/docker_default.json");
    let out = stdout(&["table", &d, "-q", "--arch", "x86_64"]);
    // Before: "ERRNO(38) ENOSYS: every other syscall number", with mseal, clone3
    // and 0x80000000.. inside it unsaid.
    let tail = out.split("every other syscall number:").nth(1).expect("the row says what it holds");
    assert!(tail.contains("syscalls without a row above: clone3,"), "{out}");
    assert!(tail.contains("mseal"), "{out}");
    assert!(tail.contains("numbers that name no syscall: 470..=0x3fffffff, 0x80000000..=0xbfffffff"), "{out}");
    assert!(out.contains("only the arches selected with --arch (x86_64) are shown; other arch values are not"));
    insta::assert_snapshot!(out);
}

/// An allow-list leaves hundreds of syscalls to its default: they are counted,
/// and `-v` lists each.
#[test]
fn a_long_other_row_is_counted_and_listed_with_v() {
    let f = corpus("compiled/firecracker_x86_64.vmm.bpf");
    let short = stdout(&["table", &f, "--arch", "x86_64"]);
    let line = short.lines().find(|l| l.contains("without a row above")).expect("the other row's syscalls");
    assert!(line.ends_with("syscalls without a row above (-v or --format json lists them)"), "{line}");
    let n: usize = line.trim().split(' ').next().unwrap().parse().unwrap();
    assert!(n > 16, "{line}");
    let long = stdout(&["table", &f, "--arch", "x86_64", "-v"]);
    let listed = long.split("without a row above: ").nth(1).expect("-v lists them");
    let listed = listed.split("\n      numbers").next().unwrap();
    assert_eq!(listed.split(',').count(), n, "{listed}");
}

#[test]
fn scoped_views_say_only_what_is_selected() {
    let d = corpus("profiles/docker_default.json");
    for cmd in [vec!["table", d.as_str()], vec!["stack", d.as_str(), d.as_str()]] {
        let mut args = cmd.clone();
        args.extend(["-q", "--syscall", "read", "--arch", "x86_64"]);
        let out = stdout(&args);
        assert!(out.contains("ALLOW: read"), "{out}");
        for wrong in ["every other", "everything", "every syscall", "uretprobe"] {
            assert!(!out.contains(wrong), "{args:?} says {wrong:?} about rows it does not show:\n{out}");
        }
        assert!(out.contains("other syscall numbers are not"), "{out}");
        assert!(out.contains("other arch values are not"), "{out}");
    }
}

/// Every number of each arch a table lists is in exactly one place: a row
/// (number or range), a named syscall of "every other syscall number", or one
/// of its unnamed ranges; and the named ones are exactly the arch's syscalls
/// without a row. A row that leaves something out, or claims what another
/// row holds, fails here.
#[test]
fn every_number_is_in_exactly_one_place() {
    let inputs = [
        "profiles/docker_default.json",
        "compiled/docker_default.aarch64.runc.bpf",
        "compiled/firecracker_x86_64.vmm.bpf",
        "compiled/podman_containers_common.x86_64.opt2.bpf",
    ];
    for rel in inputs {
        let f = corpus(rel);
        let o = seccheck(&["table", &f, "-q", "--format", "json"]);
        assert!(o.status.success(), "{rel}: {}", String::from_utf8_lossy(&o.stderr));
        let v = schemas::parse_as("table", &o.stdout);
        let arches = v["table"]["arches"].as_array().unwrap();
        assert!(!arches.is_empty(), "{rel}");
        for t in arches {
            let arch = Arch::from_name(t["arch"].as_str().unwrap()).unwrap();
            let domain: Vec<(u64, u64)> = match arch {
                Arch::X86_64 => vec![(0, 0x3fff_ffff), (0x8000_0000, 0xbfff_ffff)],
                Arch::X32 => vec![(0x4000_0000, 0x7fff_ffff), (0xc000_0000, 0xffff_ffff)],
                _ => vec![(0, u32::MAX as u64)],
            };
            let mut pieces: Vec<(u64, u64, String)> = Vec::new();
            let mut with_row = std::collections::BTreeSet::new();
            for r in t["rows"].as_array().unwrap() {
                let nr = r["nr"].as_u64().unwrap();
                let last = r.get("nr_last").and_then(|l| l.as_u64()).unwrap_or(nr);
                if let Some(n) = r.get("name").and_then(|n| n.as_str()) {
                    with_row.insert(n.to_string());
                }
                pieces.push((nr, last, format!("row {nr}..={last}")));
            }
            let named: Vec<&str> =
                t["other_named"].as_array().map_or(vec![], |a| a.iter().map(|n| n.as_str().unwrap()).collect());
            for n in &named {
                let nr = arch.syscall_nr(n).unwrap() as u64;
                pieces.push((nr, nr, format!("other {n}")));
            }
            for r in t["other_unnamed"].as_array().map_or(&vec![], |a| a) {
                let (a, b) = (r["first"].as_u64().unwrap(), r["last"].as_u64().unwrap());
                for &(nr, name) in arch.syscalls() {
                    assert!(!(a..=b).contains(&(nr as u64)), "{rel} {arch}: {name} in an unnamed range {a}..={b}");
                }
                pieces.push((a, b, format!("unnamed {a}..={b}")));
            }
            pieces.sort();
            for w in pieces.windows(2) {
                assert!(w[0].1 < w[1].0, "{rel} {arch}: {} overlaps {}", w[0].2, w[1].2);
            }
            let total: u64 = pieces.iter().map(|p| p.1 - p.0 + 1).sum();
            let size: u64 = domain.iter().map(|d| d.1 - d.0 + 1).sum();
            assert_eq!(total, size, "{rel} {arch}: the rows do not cover every number");
            for p in &pieces {
                assert!(domain.iter().any(|d| d.0 <= p.0 && p.1 <= d.1), "{rel} {arch}: {} outside the arch", p.2);
            }
            let mut expect: Vec<&str> =
                arch.syscalls().iter().map(|s| s.1).filter(|n| !with_row.contains(*n)).collect();
            let mut got = named.clone();
            expect.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expect, "{rel} {arch}: the named members of the other row");
        }
    }
}

#[test]
fn json_conditions_carry_the_names() {
    let d = corpus("profiles/docker_default.json");
    let o = seccheck(&["table", &d, "-q", "--format", "json", "--arch", "x86_64", "--syscall", "socket"]);
    assert!(o.status.success());
    let v = schemas::parse_as("table", &o.stdout);
    let row = &v["table"]["arches"][0]["rows"][0];
    assert_eq!(row["name"], "socket");
    let fc = &row["outcomes"][0]["when"]["any"][0][0];
    assert_eq!(fc["names"]["kind"], "address-family");
    assert_eq!(fc["names"]["atoms"], serde_json::json!([{"value": "AF_ALG"}, {"value": "AF_VSOCK"}]));
    assert_eq!(v["table"]["selected_arches"], serde_json::json!(["x86_64"]));
}
