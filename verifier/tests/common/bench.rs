//! Setup shared by the end-to-end tests of `seccheck bench` (`bench_modes`,
//! `bench_optimized`): the filter most of them measure, the binary run in a
//! scratch directory holding the filters, the smallest suite that still
//! measures, and the check every estimate in a bench document passes.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use tempfile::TempDir;

use super::kernel_gate::kernel_usable;

/// `ret ALLOW`.
pub const ALLOW_ALL: &str = "{ 0x06, 0, 0, 0x7fff0000 },\n";

/// The smallest suite that measures: one thread, two rounds of two 20 µs
/// batches, no singly timed calls, no bitmap probe, no progress.
pub const SMALL: [&str; 12] = [
    "--threads",
    "1",
    "--rounds",
    "2",
    "--batches",
    "2",
    "--batch-us",
    "20",
    "--per-call",
    "0",
    "--no-bitmap-probe",
    "--quiet",
];

/// `seccheck ARGS` run in `dir` (a command a filter kills may dump core
/// into its working directory).
pub fn seccheck(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().unwrap()
}

/// `seccheck ARGS` in `dir` is a usage or input error: exit 2, `want` on
/// stderr, nothing on stdout.
pub fn refused(dir: &Path, args: &[&str], want: &str) {
    let o = seccheck(dir, args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(want), "{args:?}: {err}");
    assert!(o.stdout.is_empty());
}

/// A scratch directory holding `files` (name, filter text).
pub fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// [`dir_with`] for a test that measures under filters: `None`, recorded as
/// skipped, where the kernel cannot load filters.
pub fn measuring_dir(files: &[(&str, &str)]) -> Option<TempDir> {
    kernel_usable().then(|| dir_with(files))
}

/// Every estimate present in `v` has its median inside its interval, or
/// says why it has no interval.
pub fn check_estimate(v: &Value, what: &str) {
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
