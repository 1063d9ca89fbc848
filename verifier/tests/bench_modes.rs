//! `seccheck bench`'s macro and comparison modes end to end, at small scale:
//! `--command` (a real command timed with and without filters; a filter that
//! kills it is reported killed, not timed). Structure and invariants only
//! (intervals contain their median, verdicts follow the kernel); no timing is
//! asserted.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[path = "common/kernel_gate.rs"]
mod kernel_gate;
use kernel_gate::kernel_usable;

/// `ret ALLOW`.
const ALLOW_ALL: &str = "{ 0x06, 0, 0, 0x7fff0000 },\n";
/// x86_64: KILL_PROCESS for exit_group (231), the rest allowed: `/bin/true`
/// starts and is killed when it exits.
const KILL_EXIT_GROUP: &str = "\
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x000000e7 },
{ 0x06, 0, 0, 0x80000000 },
{ 0x06, 0, 0, 0x7fff0000 },
";
/// x86_64: ERRNO(EPERM) for execve (59): the command never starts.
const DENY_EXECVE: &str = "\
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x0000003b },
{ 0x06, 0, 0, 0x00050001 },
{ 0x06, 0, 0, 0x7fff0000 },
";

fn seccheck(dir: &Path, args: &[&str]) -> std::process::Output {
    // The killed command may dump core into its working directory.
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().unwrap()
}

/// Every estimate present in `v` has its median inside its interval.
fn check_estimate(v: &Value, what: &str) {
    if v.is_null() {
        return;
    }
    let m = v["median"].as_f64().unwrap_or_else(|| panic!("{what}: no median in {v}"));
    if let Some(i) = v["interval"].as_object() {
        let (lo, hi) = (i["lo"].as_f64().unwrap(), i["hi"].as_f64().unwrap());
        assert!(lo <= m && m <= hi, "{what}: median {m} outside [{lo}, {hi}]");
        assert!(i["coverage"].as_f64().unwrap() >= 0.95, "{what}");
    } else {
        assert_eq!(v["unresolved"], "too_few_rounds", "{what}: no interval must say why");
    }
}

#[test]
fn command_is_timed_under_an_allowing_filter_and_reported_killed_under_a_killing_one() {
    if !cfg!(target_arch = "x86_64") || !kernel_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = [("allow.h", ALLOW_ALL), ("kill.h", KILL_EXIT_GROUP), ("noexec.h", DENY_EXECVE)];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let o = seccheck(
        dir.path(),
        &[
            "bench",
            "allow.h",
            "kill.h",
            "noexec.h",
            "--rounds",
            "6",
            "--quiet",
            "--format",
            "json",
            "--report",
            "out",
            "--command",
            "--",
            "/bin/true",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["baseline_outcome"], serde_json::json!({"kind": "exit", "value": 0}));
    assert_eq!(v["baseline_per_round_us"].as_array().unwrap().len(), 6);
    check_estimate(&v["baseline"], "baseline");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let allow = &rows[0];
    assert_eq!(allow["verdict"]["status"], "timed");
    assert_eq!(allow["per_round_us"].as_array().unwrap().len(), 6);
    assert!(allow["per_round_us"].as_array().unwrap().iter().all(|t| t.as_f64().unwrap() > 0.0));
    for key in ["wall", "difference", "relative"] {
        assert!(allow[key].is_object(), "{key}");
        check_estimate(&allow[key], key);
    }
    // The killing filter: its first run ended with SIGSYS; never timed.
    let kill = &rows[1];
    assert_eq!(kill["verdict"], serde_json::json!({"status": "killed", "outcome": {"kind": "signal", "value": 31}}));
    assert!(kill["per_round_us"].as_array().unwrap().is_empty());
    assert!(kill["difference"].is_null() && kill["relative"].is_null() && kill["wall"].is_null());
    let noexec = &rows[2];
    assert_eq!(noexec["verdict"]["status"], "not_started");
    assert!(noexec["verdict"]["reason"].as_str().unwrap().contains("EPERM"), "{noexec}");
    // The Markdown report says the same.
    let md = std::fs::read_to_string(dir.path().join("out/README.md")).unwrap();
    assert!(md.contains("| kill.h | — | — | — | killed by SIGSYS in its first run"), "{md}");
    assert!(md.contains("seccheck bench allow.h kill.h noexec.h"), "{md}");
    let json: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap()).unwrap();
    assert_eq!(json["rows"][1]["verdict"]["status"], "killed");
    // Text: the killed filter is named as such.
    let o = seccheck(dir.path(), &["bench", "kill.h", "--rounds", "1", "--quiet", "--command", "--", "/bin/true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("kill.h: killed by SIGSYS in its first run"), "{text}");
    assert!(text.contains("with 1 round(s) nothing is resolved"), "{text}");
}

#[test]
fn command_mode_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("allow.h"), ALLOW_ALL).unwrap();
    let refuse = |args: &[&str], want: &str| {
        let o = seccheck(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    };
    refuse(&["bench", "allow.h", "--command"], "--command needs the command after `--`");
    refuse(&["bench", "allow.h", "--", "/bin/true"], "timed only with --command");
    refuse(&["bench", "allow.h+allow.h", "--command", "--", "/bin/true"], "no stacks");
    refuse(&["bench", "allow.h", "--command", "--", "seccheck-no-such-command"], "command not found");
}

#[test]
fn under_load_every_condition_has_p50_and_p99_per_syscall() {
    if !cfg!(target_arch = "x86_64") || !kernel_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kill.h"), KILL_EXIT_GROUP).unwrap();
    let busy = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    let mut args = vec!["bench", "kill.h", "--threads", "1,2", "--rounds", "2", "--batches", "2", "--batch-us", "20"];
    args.extend(["--per-call", "50", "--no-bitmap-probe", "--quiet", "--format", "json"]);
    if busy {
        args.extend(["--neighbour", "busy"]);
    }
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tails = v["tails"].as_array().unwrap();
    let neighbours: &[&str] = if busy { &["quiet", "busy"] } else { &["quiet"] };
    for threads in [1u64, 2] {
        for nb in neighbours {
            let cond: Vec<&Value> = tails.iter().filter(|t| t["threads"] == threads && t["neighbour"] == *nb).collect();
            // no filter, the entry floor and kill.h, each on the 7 hot syscalls and nr 1000.
            assert_eq!(cond.len(), 3 * 8, "{threads} {nb}");
            for t in cond {
                assert_eq!(t["calls_per_round"], 50 * threads, "{t}");
                let (p50, p99) = (t["p50"]["median"].as_f64().unwrap(), t["p99"]["median"].as_f64().unwrap());
                assert!(p50 > 0.0 && p99 >= p50, "{t}");
                // Two rounds: a median, no interval, never resolved.
                assert_eq!(t["p99"]["unresolved"], "too_few_rounds");
                for key in ["p50", "p99", "p50_overhead", "p99_overhead"] {
                    check_estimate(&t[key], key);
                }
                assert_eq!(t["p50_overhead"].is_null(), t["subject"] == "no filter", "{t}");
            }
        }
    }
}
