//! `seccheck lint` and `seccheck explain` as a user runs them: exit codes,
//! text and JSON output, errors.

#[path = "common/schemas.rs"]
mod schemas;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Assemble `src` into a raw filter file.
fn filter(dir: &Path, name: &str, src: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, seccheck::bpf::assemble(src).unwrap().to_bytes()).unwrap();
    p
}

const ALLOW_LIST: &str = "ld [4]\n jeq #0xc000003e, x86, kill\n x86: ld [0]\n jge #0x40000000, kill, rules\n rules: jeq #0, allow, deny\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";
const DENY_LIST: &str = "ld [4]\n jeq #0xc000003e, x86, kill\n x86: ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn exit_0_for_a_clean_filter_1_for_warnings_and_errors() {
    let d = tempfile::tempdir().unwrap();
    let clean = filter(d.path(), "allow.bpf", ALLOW_LIST);
    let o = seccheck(&["lint", clean.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("0 errors, 0 warnings, 0 notes (arches: x86_64 — the arches it tests)"),
        "{}",
        text(&o.stdout)
    );

    let deny = filter(d.path(), "deny.bpf", DENY_LIST);
    let o = seccheck(&["lint", deny.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for needle in [
        "error[SC002 x32-not-blocked]",
        "warning[SC004 default-allow]",
        "error[SC005 sibling-not-denied]",
        "example: x32 execve(",
    ] {
        assert!(out.contains(needle), "{needle} not in {out}");
    }
    // --arch overrides the inference: x32 is meant, so SC002 stays quiet
    let o = seccheck(&["lint", deny.to_str().unwrap(), "--arch", "x86_64,x32"]);
    assert!(!text(&o.stdout).contains("SC002"), "{}", text(&o.stdout));
}

#[test]
fn json_output_carries_arches_and_findings() {
    let d = tempfile::tempdir().unwrap();
    let deny = filter(d.path(), "deny.bpf", DENY_LIST);
    let o = seccheck(&["lint", deny.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["arches"], serde_json::json!(["x86_64"]));
    assert_eq!(v["arch_source"], "inferred");
    let f = v["findings"].as_array().unwrap();
    let sc002 = f.iter().find(|f| f["code"] == "SC002").expect("SC002 reported");
    assert_eq!(sc002["name"], "x32-not-blocked");
    assert_eq!(sc002["severity"], "error");
    assert_eq!(sc002["counterexample"]["action"], "ALLOW");
    assert_eq!(sc002["counterexample"]["input"]["nr"], 0x4000_0208);
}

#[test]
fn profiles_are_linted_with_their_generators_arches() {
    let seed = workspace().join("corpus/profiles/seed_backend_denylist.json");
    let o = seccheck(&["lint", seed.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    assert!(out.contains("(arches: x86_64 — given)"), "{out}");
    assert!(out.contains("compiled by libseccomp"), "{out}");
    assert!(out.contains("openat2 (always)"), "{out}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let d = tempfile::tempdir().unwrap();
    let deny = filter(d.path(), "deny.bpf", DENY_LIST);
    // MUL of two input-dependent words cannot be evaluated exactly
    let mul =
        filter(d.path(), "mul.bpf", "ld [0]\n tax\n ld [16]\n mul x\n jeq #6, a, b\n a: ret #0x7fff0000\n b: ret #0");
    let trunc = d.path().join("trunc.bpf");
    std::fs::write(&trunc, [6u8, 0, 0]).unwrap();
    for (args, needle) in [
        (vec!["lint", mul.to_str().unwrap()], "cannot be evaluated exactly"),
        (vec!["lint", trunc.to_str().unwrap()], "trunc.bpf"),
        (vec!["lint", deny.to_str().unwrap(), "--arch", "vax"], "unknown arch `vax` in --arch"),
        (vec!["explain", "SC999"], "no finding code or name `SC999`"),
    ] {
        let o = seccheck(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    }
    let o = seccheck(&["explain", "nope"]);
    let err = text(&o.stderr);
    assert!(err.contains("SC001 missing-arch-check") && err.contains("SC011 user-notif-delegation"), "{err}");
}

#[test]
fn a_filter_the_kernel_refuses_is_a_finding() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("refused.bpf");
    // a lone `ld [0]`: the last instruction is not a RET
    std::fs::write(&p, [0x20u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let o = seccheck(&["lint", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("the kernel refuses this filter"), "{}", text(&o.stdout));
}

#[test]
fn explain_prints_the_module_doc_by_code_or_name() {
    let by_code = seccheck(&["explain", "sc002"]);
    let by_name = seccheck(&["explain", "x32-not-blocked"]);
    assert_eq!(by_code.status.code(), Some(0));
    assert_eq!(by_code.stdout, by_name.stdout);
    let doc = text(&by_code.stdout);
    assert!(doc.starts_with("SC002 `x32-not-blocked`: "), "{doc}");
    for s in ["### What it does", "### Why is this bad", "### Example", "jge #0x40000000"] {
        assert!(doc.contains(s), "{s} not in {doc}");
    }
    assert!(!doc.contains("//!"), "{doc}");
}
