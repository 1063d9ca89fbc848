//! `bench --command --workload TRACE --model REPORT_JSON`: a trace recorded by
//! `seccheck record` priced under each filter (exact instructions, the cost
//! model's prediction) beside the command's measured difference. The model is
//! the committed overhead report's; the instruction counts are checked
//! against the trace itself, the prediction against the model's parameters.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::common::bench::{dir_with, measuring_dir, refused, seccheck, ALLOW_ALL};
use crate::common::schemas;

/// `ld [0]; ld [16]; ret ALLOW`: loading an argument keeps every call out of
/// the cache, so each runs exactly three instructions (two loads).
const UNCACHED: &str = "{ 0x20, 0, 0, 0x00000000 },\n{ 0x20, 0, 0, 0x00000010 },\n{ 0x06, 0, 0, 0x7fff0000 },\n";

fn committed_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/overhead/report.json")
}

fn param(model: &Value, name: &str) -> f64 {
    let params = model["model"]["params"].as_array().unwrap();
    params.iter().find(|p| p["name"] == name).unwrap()["estimate"]["median"].as_f64().unwrap()
}

#[test]
fn a_recorded_trace_is_priced_beside_the_measured_difference() {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let Some(dir) = measuring_dir(&[("allow.h", ALLOW_ALL), ("uncached.h", UNCACHED)]) else { return };
    let o = seccheck(dir.path(), &["record", "-o", "trace.json", "--", "/bin/true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace: Value = serde_json::from_slice(&std::fs::read(dir.path().join("trace.json")).unwrap()).unwrap();
    let calls: u64 = trace["syscalls"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert!(calls > 10, "{trace}");
    let model_path = committed_model();
    let model: Value = serde_json::from_slice(&std::fs::read(&model_path).unwrap()).unwrap();
    let m = model_path.to_str().unwrap();
    let o = seccheck(
        dir.path(),
        &[
            "bench",
            "allow.h",
            "uncached.h",
            "--rounds",
            "6",
            "--quiet",
            "--format",
            "json",
            "--command",
            "--workload",
            "trace.json",
            "--model",
            m,
            "--",
            "/bin/true",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse_as("bench-command", &o.stdout);
    assert_eq!(v["model_from"], m);
    let w = &v["workload"];
    assert_eq!(w["trace"], "trace.json");
    assert_eq!(w["command"], trace["command"]);
    let costs = w["costs"].as_array().unwrap();
    assert_eq!(costs.len(), 2);
    let entry = param(&model, "entry");
    // Served by the cache: no instruction runs; each call costs the entry floor.
    let allow = &costs[0];
    assert_eq!(allow["subject"], "allow.h");
    assert_eq!((allow["calls"].as_u64(), allow["not_allowed_calls"].as_u64()), (Some(calls), Some(0)));
    assert_eq!((allow["cached_calls"].as_u64(), allow["insns"].as_u64()), (Some(calls), Some(0)));
    assert!((allow["ns_per_call"].as_f64().unwrap() - entry).abs() < 1e-6, "{allow}");
    // Never cached: three instructions per call, priced entry + miss + one filter + two loads.
    let un = &costs[1];
    assert_eq!((un["cached_calls"].as_u64(), un["insns"].as_u64()), (Some(0), Some(3 * calls)));
    let want = entry + param(&model, "miss") + param(&model, "per_filter") + 2.0 * param(&model, "load");
    assert!((un["ns_per_call"].as_f64().unwrap() - want).abs() < 1e-6, "{un} vs {want}");
    let per_second = un["ns_per_second"].as_f64().unwrap();
    let wall = w["wall_seconds"].as_f64().unwrap();
    assert!((per_second * wall - want * calls as f64).abs() < 1e-3 * want * calls as f64, "{un}");

    // Text: the same figures, in words; no model: no prediction, instructions still exact.
    let o = seccheck(
        dir.path(),
        &[
            "bench",
            "uncached.h",
            "--rounds",
            "1",
            "--quiet",
            "--command",
            "--workload",
            "trace.json",
            "--",
            "/bin/true",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("no cost model given (--model REPORT.json"), "{text}");
    let line = format!(
        "uncached.h: {calls} allowed calls, 0 served by the cache, {} BPF instructions; predicted — µs per run",
        3 * calls
    );
    assert!(text.contains(&line), "{text}");
    assert!(!text.contains("not the command timed here"), "{text}");
    // A trace of another command is said to be one.
    let o = seccheck(
        dir.path(),
        &["bench", "allow.h", "--rounds", "1", "--quiet", "--command", "--workload", "trace.json", "--", "/bin/false"],
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("the trace recorded `/bin/true`, not the command timed here"), "{text}");
}

#[test]
fn a_model_that_is_not_a_bench_run_is_refused_before_anything_runs() {
    let dir = dir_with(&[("allow.h", ALLOW_ALL), ("not-a-model.json", r#"{"format":"seccheck-trace/v1"}"#)]);
    let mut model: Value = serde_json::from_slice(&std::fs::read(committed_model()).unwrap()).unwrap();
    model["model"]["params"][1]["name"] = "warp".into();
    std::fs::write(dir.path().join("renamed.json"), model.to_string()).unwrap();
    model["schema"] = "seccheck/bench-command/v1".into();
    std::fs::write(dir.path().join("command.json"), model.to_string()).unwrap();
    let refuse = |args: &[&str], want: &str| refused(dir.path(), args, want);
    let command = |model: &'static str| -> Vec<&'static str> {
        vec!["bench", "allow.h", "--command", "--workload", "trace.json", "--model", model, "--", "/bin/true"]
    };
    // The model is read only to price a workload in command mode.
    refuse(&["bench", "allow.h", "--model", "renamed.json", "--command", "--", "/bin/true"], "--workload");
    refuse(&["bench", "allow.h", "--workload", "x.json", "--model", "renamed.json"], "--command");
    // A real trace is needed first; then the model's own errors name file and path.
    if !crate::common::kernel_gate::kernel_usable() {
        return; // recorded as skipped: `record` needs seccomp user notification
    }
    let o = seccheck(dir.path(), &["record", "-o", "trace.json", "--", "/bin/true"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    refuse(&command("renamed.json"), "renamed.json: model.params[1].name is \"warp\", expected one of entry, miss");
    refuse(
        &command("command.json"),
        "command.json: `schema` is \"seccheck/bench-command/v1\", expected \"seccheck/bench/v1\"",
    );
    refuse(&command("not-a-model.json"), "not-a-model.json: JSON line 1");
    refuse(&command("missing.json"), "missing.json");
}
