//! The stack length check every command that takes a stack shares: a stack
//! the kernel would refuse to build (`seccomp_attach_filter`'s
//! `MAX_INSNS_PER_PATH`, [`crate::seccomp::PathLength`]) never runs, so
//! `stack`, `check --stack` and `diff --stack` refuse it (exit 1) with the
//! kernel's rule and every filter's total instead of describing it.

use crate::bpf::{converted_len, ValidProgram};
use crate::finding::{Finding, Severity};
use crate::seccomp::{PathLength, PATH_RULE};
use std::io::Write;
use std::path::PathBuf;

/// The check over `programs`, oldest first.
pub(super) fn of(programs: &[ValidProgram]) -> PathLength {
    PathLength::new(programs.iter().map(converted_len).collect())
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}

/// The refusal as one sentence: which filter, its total, and the rule.
pub(super) fn refusal(pl: &PathLength) -> Option<String> {
    let i = pl.refused?;
    Some(format!(
        "the kernel refuses this stack: filter {} would make {} converted instructions, {} over the limit; {PATH_RULE}",
        i + 1,
        pl.totals[i],
        pl.excess().unwrap_or(0)
    ))
}

/// `true` (and the refusal with every filter's total written) when the
/// kernel would not install the stack `files`.
pub(super) fn write_if_refused(out: &mut dyn Write, pl: &PathLength, files: &[PathBuf]) -> std::io::Result<bool> {
    let Some(line) = refusal(pl) else { return Ok(false) };
    writeln!(out, "{line}")?;
    for l in pl.per_filter_lines(&names(files)) {
        writeln!(out, "  {l}")?;
    }
    Ok(true)
}

/// The refusal as a finding (for SARIF and JSON consumers of `check`).
pub(super) fn finding(pl: &PathLength, files: &[PathBuf]) -> Option<Finding> {
    let line = refusal(pl)?;
    Some(Finding {
        code: "S001",
        name: "stack-too-long",
        severity: Severity::Error,
        message: format!("{line} ({})", pl.per_filter_lines(&names(files)).join("; ")),
        insns: Vec::new(),
        policy_line: None,
        counterexample: None,
    })
}
