//! `seccheck bench` end to end on a small filter with a tiny iteration count:
//! the JSON has the baseline, the entry floor and the filter, each probe is
//! measured or skipped as the emulator predicts, and the kernel's return
//! values confirm the prediction. No timing is asserted.

use crate::common::schemas;

use std::process::Command;

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

/// x86_64: ERRNO(EPERM) for openat (257), KILL_PROCESS for getpid (39), the
/// rest allowed; read (0) loads arg0 first, so it runs the filter.
const FILTER: &str = "\
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x00000101 },
{ 0x06, 0, 0, 0x00050001 },
{ 0x15, 0, 1, 0x00000027 },
{ 0x06, 0, 0, 0x80000000 },
{ 0x15, 0, 2, 0x00000000 },
{ 0x20, 0, 0, 0x00000010 },
{ 0x06, 0, 0, 0x7fff0000 },
{ 0x06, 0, 0, 0x7fff0000 },
";

#[test]
fn bench_json_has_baseline_floor_and_filter_rows() {
    if !cfg!(target_arch = "x86_64") {
        return; // the filter above is written for x86_64 numbers
    }
    if !kernel_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("small.h");
    std::fs::write(&f, FILTER).unwrap();
    let report = dir.path().join("report");
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .args(["bench", f.to_str().unwrap(), "--threads", "1,2", "--rounds", "2", "--batches", "2", "--batch-us", "20"])
        .args(["--no-bitmap-probe", "--quiet", "--format", "json", "--report", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse(&o.stdout);
    for key in ["environment", "load", "clock", "options", "subjects", "rows", "noise", "cache_check"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let rows = v["rows"].as_array().unwrap();
    let row = |subject: &str, probe: &str, threads: u64| {
        rows.iter().find(|r| r["subject"] == subject && r["probe"] == probe && r["threads"] == threads).cloned()
    };
    for t in [1, 2] {
        let base = row("no filter", "read", t).expect("baseline row");
        assert!(base["latency"]["median"].as_f64().unwrap() > 0.0);
        assert!(base["overhead"].is_null(), "the baseline has no overhead against itself");
        let floor = row("ld [0]; ret ALLOW", "read", t).expect("floor row");
        assert_eq!(floor["predicted_cached"], true);
        assert!(floor["overhead"]["median"].is_number());
        let read = row("small.h", "read", t).expect("filter row");
        assert_eq!((read["predicted_cached"].clone(), read["predicted_insns"].clone()), (false.into(), 6.into()));
        assert!(read["run_cost"]["median"].is_number());
        assert_eq!(read["returns"], serde_json::json!([1]), "read returned one byte");
    }
    // Two rounds give no 95 % interval: every figure says so, none is resolved.
    let estimates: Vec<&serde_json::Value> =
        rows.iter().map(|r| &r["overhead_estimate"]).filter(|e| !e.is_null()).collect();
    assert!(!estimates.is_empty());
    for e in estimates {
        assert_eq!(
            (e["n"].as_u64(), e["interval"].is_null(), e["unresolved"].as_str()),
            (Some(2), true, Some("too_few_rounds")),
            "{e}"
        );
    }
    assert_eq!(v["min_rounds"], 6);
    // The unknown number runs the whole filter (its default ALLOW: ENOSYS from the kernel).
    let unknown = rows
        .iter()
        .find(|r| r["subject"] == "small.h" && r["probe"]["raw"] == 1000 && r["threads"] == 1)
        .expect("nr 1000 row");
    // ld [0], three jeq that fail, ret ALLOW.
    assert_eq!((unknown["predicted_cached"].clone(), unknown["predicted_insns"].clone()), (false.into(), 5.into()));
    assert_eq!(unknown["returns"], serde_json::json!([-38]), "ENOSYS");
    // openat is denied: measured, labelled, and the kernel really returned EPERM.
    let openat = row("small.h", "openat_close", 1).unwrap();
    assert_eq!(openat["verdict"]["status"], "denied");
    assert_eq!(openat["returns"][0], -1);
    // getpid would kill the process: never called.
    assert!(row("small.h", "getpid", 1).is_none());
    let subj = v["subjects"].as_array().unwrap().iter().find(|s| s["label"] == "small.h").unwrap();
    let getpid = subj["decisions"].as_array().unwrap().iter().find(|d| d["probe"] == "getpid").unwrap();
    assert_eq!(getpid["verdict"]["status"], "skipped");
    for file in ["README.md", "overhead.svg", "scaling.svg", "model.svg", "report.json"] {
        assert!(report.join(file).exists(), "{file} not written");
    }
    // report.json is the document stdout printed.
    assert_eq!(schemas::parse_as("bench", &std::fs::read(report.join("report.json")).unwrap()), v);
}
