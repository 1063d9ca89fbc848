//! `seccheck run`: every input format, the same profile options as every
//! other command, and a kill explained rather than a silent exit 159.

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

use std::process::{Command, Output};

/// How `run` and `record` both say a command died of SIGSYS.
const KILLED_BY_SECCOMP: &str =
    "was killed by signal 31 (SIGSYS), which seccomp sends when a filter answers a call with KILL (or TRAP, unhandled)";

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_kill_is_explained_and_compiled_filters_run_too() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("p.json");
    std::fs::write(
        &json,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    let (json, bpf, s) = (json.to_str().unwrap(), d.path().join("p.bpf"), d.path().join("p.s"));
    // The same filter as raw BPF: disassembled and assembled back.
    let listing = seccheck(&["disasm", json]);
    std::fs::write(&s, &listing.stdout).unwrap();
    assert!(seccheck(&["asm", s.to_str().unwrap(), "-o", bpf.to_str().unwrap()]).status.success());
    for f in [json, bpf.to_str().unwrap()] {
        let r = seccheck(&["run", "--profile", f, "--", "uname"]);
        let err = text(&r.stderr);
        assert_eq!(r.status.code(), Some(128 + 31), "{f}: {err}");
        assert!(r.stdout.is_empty(), "uname never printed: {}", text(&r.stdout));
        assert!(err.contains("uname (pid ") && err.contains(&format!(") {KILLED_BY_SECCOMP}.\n")), "{err}");
        // The kernel's audit record names the call, unless the log could not
        // give it (printk rate limiting under a busy test run), which is said.
        let named = "The kernel's audit record (type 1326) names the call: uname (x86_64 syscall 63) at ip 0x";
        assert!(
            (err.contains(named) && err.contains(", answered KILL_PROCESS (0x80000000)."))
                || err.contains("The kernel log has no seccomp audit record for pid "),
            "{err}"
        );
        assert!(err.contains(&format!("seccheck record --check {f}")), "{err}");
        // A command the filter lets through runs as before.
        let r = seccheck(&["run", "--profile", f, "--", "true"]);
        assert_eq!(r.status.code(), Some(0), "{f}: {}", text(&r.stderr));
        assert!(r.stderr.is_empty() || text(&r.stderr).starts_with("note: "), "{}", text(&r.stderr));
    }
    // `record --check` reads the same inputs: the compiled filter finds the call.
    let r = seccheck(&["record", "--check", bpf.to_str().unwrap(), "--", "uname"]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("would have blocked") && err.contains("x86_64 uname (nr 63)") && err.contains("KILL_PROCESS"),
        "{err}"
    );
    // A Kubernetes SeccompProfile with several profiles takes --filter, like `table`.
    let k8s = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/profiles/spo_seccompprofile.yaml");
    let r = seccheck(&["run", "--profile", k8s, "--", "true"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains("--filter"), "{}", text(&r.stderr));
}

/// `record` says a SIGSYS death in `run`'s words (one function prints both).
#[test]
fn record_says_a_sigsys_death_as_run_does() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("t.json");
    let r = seccheck(&["record", "-o", t.to_str().unwrap(), "--", "sh", "-c", "kill -SYS $$"]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(128 + 31), "{err}");
    assert!(err.ends_with(&format!("; the command {KILLED_BY_SECCOMP}\n")), "{err}");
}
