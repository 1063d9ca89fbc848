//! Tests that cannot run here are counted as skipped, never as passed.
//!
//! A test that needs what this machine may lack (a kernel that can load
//! filters, a browser, crun) calls [`skip`] and returns, or leaves out the part
//! that needs it. `skip` writes `SKIPPED: <binary file> <test> — <need>: <reason>`
//! straight to the terminal (past the test harness's output capture, so it is
//! seen although the test passes) and, when `SECCHECK_SKIP_LOG` names a file,
//! appends the same line there: `.ci/run` counts every test with such a line
//! as skipped, not passed, and names it. Where the need is known to be met,
//! `SECCHECK_REQUIRE_KERNEL=1`, `SECCHECK_REQUIRE_BROWSER=1` or
//! `SECCHECK_REQUIRE_CRUN=1` makes the would-be skip a failure (`.ci/run` sets
//! the first when no task is stuck in the BPF JIT allocator, the others when
//! a browser, or crun and a static busybox, are installed).

use std::fmt;
use std::io::Write;
use std::path::Path;

/// What a skipped test needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A running kernel that can load seccomp filters, on a platform the
    /// kernel oracle supports (`seccheck::kernel`: Linux on x86-64).
    Kernel,
    /// A headless Chromium (the HTML report's browser test).
    Browser,
    /// crun and a static busybox (the container test of `seccheck optimize`).
    Crun,
}

impl Need {
    /// The variable that, set to `1`, makes a skip for this need a failure.
    pub fn require_var(self) -> &'static str {
        match self {
            Need::Kernel => "SECCHECK_REQUIRE_KERNEL",
            Need::Browser => "SECCHECK_REQUIRE_BROWSER",
            Need::Crun => "SECCHECK_REQUIRE_CRUN",
        }
    }
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Kernel => "kernel",
            Need::Browser => "browser",
            Need::Crun => "crun",
        })
    }
}

/// The variable naming the file skips are appended to.
pub const LOG_VAR: &str = "SECCHECK_SKIP_LOG";

/// Record that the calling test (named by its thread, as the test harness
/// names it), or part of it, did not run for lack of `need`; panics instead
/// when `need`'s [`Need::require_var`] is `1` or the log cannot be written.
pub fn skip(need: Need, reason: &str) {
    let test = std::thread::current().name().unwrap_or("<unnamed thread>").to_owned();
    let required = std::env::var_os(need.require_var()).is_some_and(|v| v == "1");
    let log = std::env::var_os(LOG_VAR);
    if let Err(e) = record(need, reason, &test, required, log.as_deref().map(Path::new), &mut std::io::stderr()) {
        panic!("{e}");
    }
}

/// [`skip`] with its environment as arguments: the line goes to `terminal`
/// and, if given, to the end of `log`.
fn record(
    need: Need,
    reason: &str,
    test: &str,
    required: bool,
    log: Option<&Path>,
    terminal: &mut dyn Write,
) -> Result<(), String> {
    if required {
        return Err(format!("{test} needs the {need}, which {}=1 says is usable, but: {reason}", need.require_var()));
    }
    let line = format!("SKIPPED: {} {test} — {need}: {reason}\n", binary());
    // Not `eprintln!`: the harness would capture it and show it only if the
    // test failed.
    let _ = terminal.write_all(line.as_bytes());
    if let Some(path) = log {
        // One write of one short line with O_APPEND: tests running at the
        // same time, in this binary or another, do not interleave within a line.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| format!("{test}: cannot record its skip in {LOG_VAR}={}: {e}", path.display()))?;
    }
    Ok(())
}

/// The test binary's file name (`it-0123abcd…`): with Cargo's hash, so two
/// crates' `it` binaries are told apart, and `.ci/run` matches it with the
/// `Running … (target/…/deps/it-0123abcd…)` line of the test's result.
fn binary() -> String {
    let exe = std::env::current_exe().ok();
    exe.as_deref().and_then(Path::file_name).and_then(|s| s.to_str()).unwrap_or("?").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_one_line_on_the_terminal_and_in_the_log() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("skipped");
        let mut term = Vec::new();
        record(Need::Kernel, "no kernel", "m::a", false, Some(&log), &mut term).unwrap();
        record(Need::Browser, "no chromium", "m::b", false, Some(&log), &mut term).unwrap();
        let bin = binary();
        let want = format!("SKIPPED: {bin} m::a — kernel: no kernel\nSKIPPED: {bin} m::b — browser: no chromium\n");
        assert_eq!(String::from_utf8(term).unwrap(), want);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), want);
        assert!(bin.starts_with("seccheck-"), "the unit-test binary: {bin}");
    }

    #[test]
    fn a_required_need_fails_instead_and_records_nothing() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("skipped");
        let mut term = Vec::new();
        let e = record(Need::Kernel, "JIT deadlock", "m::a", true, Some(&log), &mut term).unwrap_err();
        assert_eq!(e, "m::a needs the kernel, which SECCHECK_REQUIRE_KERNEL=1 says is usable, but: JIT deadlock");
        assert!(term.is_empty() && !log.exists());
    }

    #[test]
    fn an_unwritable_log_is_a_failure_not_a_lost_skip() {
        let d = tempfile::tempdir().unwrap();
        let e = record(Need::Browser, "none", "m::a", false, Some(d.path()), &mut Vec::new()).unwrap_err();
        assert!(e.starts_with("m::a: cannot record its skip in SECCHECK_SKIP_LOG="), "{e}");
    }
}
