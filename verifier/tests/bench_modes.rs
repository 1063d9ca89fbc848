//! `seccheck bench`'s macro and comparison modes end to end, at small scale:
//! `--command` (a real command timed with and without filters; a filter that
//! kills it is reported killed, not timed). Structure and invariants only
//! (intervals contain their median, verdicts follow the kernel); no timing is
//! asserted.

use serde_json::Value;
use std::path::Path;

use crate::common::bench::{check_estimate, dir_with, measuring_dir, refused, seccheck, ALLOW_ALL, SMALL};
use crate::common::schemas;
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

#[test]
fn command_is_timed_under_an_allowing_filter_and_reported_killed_under_a_killing_one() {
    let files = [("allow.h", ALLOW_ALL), ("kill.h", KILL_EXIT_GROUP), ("noexec.h", DENY_EXECVE)];
    let Some(dir) = measuring_dir(&files) else { return };
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
    let v: Value = schemas::parse(&o.stdout);
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
    // report.json is the document stdout printed.
    let json = schemas::parse_as("bench-command", &std::fs::read(dir.path().join("out/report.json")).unwrap());
    assert_eq!(json, v);
    // Text: the killed filter is named as such.
    let o = seccheck(dir.path(), &["bench", "kill.h", "--rounds", "1", "--quiet", "--command", "--", "/bin/true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("kill.h: killed by SIGSYS in its first run"), "{text}");
    assert!(text.contains("with 1 round nothing is resolved"), "{text}");
}

#[test]
fn command_mode_refuses_what_it_cannot_do() {
    let dir = dir_with(&[("allow.h", ALLOW_ALL)]);
    let refuse = |args: &[&str], want: &str| refused(dir.path(), args, want);
    refuse(&["bench", "allow.h", "--command"], "--command needs the command after `--`");
    refuse(&["bench", "allow.h", "--", "/bin/true"], "timed only with --command");
    refuse(&["bench", "allow.h+allow.h", "--command", "--", "/bin/true"], "no stacks");
    refuse(&["bench", "allow.h", "--command", "--", "seccheck-no-such-command"], "command not found");
}

#[test]
fn under_load_every_condition_has_p50_and_p99_per_syscall() {
    let Some(dir) = measuring_dir(&[("kill.h", KILL_EXIT_GROUP)]) else { return };
    let busy = std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2;
    let mut args = vec!["bench", "kill.h", "--threads", "1,2", "--rounds", "2", "--batches", "2", "--batch-us", "20"];
    args.extend(["--per-call", "50", "--no-bitmap-probe", "--quiet", "--format", "json"]);
    if busy {
        args.extend(["--neighbour", "busy"]);
    }
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = schemas::parse(&o.stdout);
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

#[test]
fn generators_compared_on_the_same_syscalls_with_exact_instruction_counts() {
    let Some(dir) = measuring_dir(&[("allow.h", ALLOW_ALL)]) else { return };
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles/docker_default.json");
    let mut args = vec!["bench", "allow.h", "--compare-generators", profile.to_str().unwrap()];
    args.extend(SMALL);
    args.extend(["--format", "json"]);
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = schemas::parse(&o.stdout);
    let c = &v["comparison"];
    let subjects: Vec<&str> = c["subjects"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        ["docker_default.json@opt1", "docker_default.json@opt2", "docker_default.json@runc", "allow.h"]
    );
    assert!(v["tails"].as_array().unwrap().is_empty(), "--per-call 0 times no single call");
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "7 hot syscalls and nr 1000");
    let cell = |probe: Value, subject: &str| -> Value {
        let r = rows.iter().find(|r| r["probe"] == probe).unwrap();
        r["cells"].as_array().unwrap().iter().find(|c| c["subject"] == subject).unwrap().clone()
    };
    for r in rows {
        for cell in r["cells"].as_array().unwrap() {
            let insns = cell["insns"].as_u64().unwrap();
            let b = cell["bounds"].as_array().expect("bounds");
            let (lo, hi) = (b[0].as_u64().unwrap(), b[1].as_u64().unwrap());
            assert!(lo <= insns && insns <= hi, "{cell}");
            if cell["cached_predicted"] == true {
                assert_eq!((insns, lo, hi), (0, 0, 0), "{cell}");
            }
            // Two rounds: no interval, so no cache prediction can be confirmed.
            assert_ne!(cell["cache_check"], "consistent", "{cell}");
        }
    }
    // A number no syscall has: libseccomp's linear chain (optimize 1) tests
    // every rule before its default; runc's stub answers ENOSYS after a few
    // instructions; `ret ALLOW` runs one.
    let unknown = |s| cell(serde_json::json!({"raw": 1000}), s)["insns"].as_u64().unwrap();
    assert!(unknown("docker_default.json@opt1") > 100, "{}", unknown("docker_default.json@opt1"));
    assert!(unknown("docker_default.json@runc") < unknown("docker_default.json@opt1"));
    assert!(unknown("docker_default.json@opt2") < unknown("docker_default.json@opt1"));
    assert_eq!(unknown("allow.h"), 1);
    // Every hot syscall is cached under Docker's default profile.
    assert_eq!(cell("getpid".into(), "docker_default.json@runc")["cached_predicted"], true);
    // Not a profile: refused with the format named.
    let o = seccheck(dir.path(), &["bench", "--compare-generators", "allow.h", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--compare-generators"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The suite's optional records, at the smallest scale: `--size-sweep` (all
/// six cost-model parameters), `--repeat 2` (one further run's parameters),
/// `--workload` (a trace recorded here, priced per filter under test) and the
/// bitmap probe (on by default). The document follows its schema in every one.
#[test]
fn size_sweep_repeat_workload_and_bitmap_probe_are_reported() {
    let Some(dir) = measuring_dir(&[("allow.h", ALLOW_ALL)]) else { return };
    let o = seccheck(dir.path(), &["record", "-o", "trace.json", "--", "/bin/true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace: Value = serde_json::from_slice(&std::fs::read(dir.path().join("trace.json")).unwrap()).unwrap();
    let recorded: u64 = trace["syscalls"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum();
    let mut args = vec!["bench", "allow.h", "--threads", "1", "--rounds", "2", "--batches", "2", "--batch-us", "20"];
    args.extend(["--per-call", "0", "--size-sweep", "--repeat", "2", "--workload", "trace.json", "--quiet"]);
    args.extend(["--format", "json"]);
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = schemas::parse_as("bench", &o.stdout);
    let names = |params: &Value| -> Vec<String> {
        params.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    // Two rounds give a median per parameter and no interval.
    let all = ["entry", "miss", "per_filter", "load", "jump", "alu"];
    assert_eq!(names(&v["model"]["params"]), all);
    for p in v["model"]["params"].as_array().unwrap() {
        assert_eq!(p["per_round"].as_array().unwrap().len(), 2, "{p}");
        check_estimate(&p["estimate"], "param");
    }
    let repeats = v["repeats"].as_array().unwrap();
    assert_eq!(repeats.len(), 1, "--repeat 2: the first run is the report, one further run's parameters");
    assert_eq!(names(&repeats[0]), all);
    // The sweeps are subjects of their own.
    assert!(v["subjects"].as_array().unwrap().iter().any(|s| s["kind"] == "sweep"));
    let w = &v["workload"];
    assert_eq!(w["trace"], "trace.json");
    assert_eq!(w["command"], serde_json::json!(["/bin/true"]));
    let costs = w["costs"].as_array().unwrap();
    assert_eq!(costs.len(), 1, "{w}");
    assert_eq!(costs[0]["subject"], "allow.h");
    assert_eq!(costs[0]["calls"].as_u64(), Some(recorded), "{w}");
    assert_eq!(costs[0]["not_allowed_calls"], 0, "`ret ALLOW` allows every call");
    // Every number a recorded x86_64 call has is below the bitmap's end.
    assert_eq!(costs[0]["cached_calls"].as_u64(), Some(recorded), "{w}");
    let b = &v["bitmap"];
    assert_eq!(b["predicted_size"], 470, "Linux 6.18 x86_64: {b}");
    let numbers: Vec<u64> = b["latencies"].as_array().unwrap().iter().map(|l| l[0].as_u64().unwrap()).collect();
    assert!(numbers.contains(&469) && numbers.contains(&470), "{numbers:?}");
    assert!(!b["conclusion"].as_str().unwrap().is_empty());
}
