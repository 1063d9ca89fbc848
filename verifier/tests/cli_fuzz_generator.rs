//! `seccheck fuzz-generator`: exit codes, usage errors, and a short real run.

use std::process::Command;

fn seccheck(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn zero_seconds_is_a_usage_error() {
    let (code, out, err) = seccheck(&["fuzz-generator", "--generator", "seccompiler", "--seconds", "0"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.trim(), "seccheck: error: --seconds must be at least 1");
}

#[test]
fn unknown_generator_is_a_usage_error() {
    let (code, _, err) = seccheck(&["fuzz-generator", "--generator", "kafel", "--seconds", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'kafel'"), "{err}");
}

#[test]
fn a_short_seccompiler_run_reports_its_known_finding_with_a_reproducer() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("found");
    let (code, out, err) = seccheck(&[
        "fuzz-generator",
        "--generator",
        "seccompiler",
        "--seconds",
        "2",
        "--seed",
        "1",
        "--max-findings",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    // Known issues only: exit 0 by default (--fail-on unexplained), and said.
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.trim_end().ends_with("exit 0: every finding is of a known issue (--fail-on any makes any finding exit 1)"),
        "{out}"
    );
    assert!(out.contains("seccompiler: ") && out.contains("compiled and compared exactly"), "{out}");
    assert!(out.contains("known issue: seccompiler-unconditional-rule-dropped"), "{out}");
    assert!(out.contains("seccheck emu policy.json --filter main --host-arch"), "{out}");
    // Streamed: each finding is printed when found, the counters close the run.
    let (finding, summary) = (out.find("finding (").unwrap(), out.find(" cases in ").unwrap());
    assert!(finding < summary, "{out}");
    let last = out.trim_end().lines().rev().nth(1).unwrap();
    let shown = out.matches("finding (").count();
    let plural = if shown == 1 { "" } else { "s" };
    assert!(last.starts_with(&format!("{shown} finding{plural} shown above ({shown} of a known issue) of ")), "{out}");
    assert!(last.ends_with(" in all (0 unexplained), 0 self-check failures"), "{out}");
    assert!(out.contains("divergences of known issue seccompiler-unconditional-rule-dropped"), "{out}");
    let saved = std::fs::read_to_string(out_dir.join("finding-0.json")).unwrap();
    assert!(saved.contains("\"main\""), "{saved}");
}

#[test]
fn divergences_count_even_when_none_is_shown() {
    // --max-findings 0 shows nothing, but the run still found S1/S2: exit 1 with --fail-on any.
    let (code, out, err) = seccheck(&[
        "fuzz-generator",
        "--generator",
        "seccompiler",
        "--seconds",
        "1",
        "--max-findings",
        "0",
        "--fail-on",
        "any",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("finding ("), "{out}");
    assert!(
        out.trim_end().lines().last().unwrap().starts_with("0 findings shown above (0 of a known issue) of "),
        "{out}"
    );
}

/// `--seconds N` is a promise: the run (generation, libseccomp compilations
/// in child processes, minimisation) ends within 10 % of N, never before it.
#[test]
fn a_run_ends_within_ten_percent_of_its_seconds() {
    let n = 20.0;
    let start = std::time::Instant::now();
    let (code, out, err) = seccheck(&["fuzz-generator", "--generator", "libseccomp", "--seconds", "20"]);
    let wall = start.elapsed().as_secs_f64();
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(out.contains(" cases in "), "{out}");
    assert!(wall >= n && wall <= n * 1.1, "--seconds 20 took {wall:.1} s");
}
