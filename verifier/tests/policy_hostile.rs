//! Hostile policy files through `seccheck check FILE --policy P` (20 000
//! nested parentheses, 50 000 `not`, a flat
//! 200 000-long `or` chain, TOML nested 100 000 deep) each end with exit 2 and
//! one clear message, or a verdict; never a stack overflow (exit 134).

use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

const FILTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/compiled/docker_default.x86_64.opt1.bpf");

/// Check FILTER against `policy`; the exit code (never a signal) and stderr.
fn check(policy: &str) -> (i32, String, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p.toml");
    std::fs::write(&p, policy).unwrap();
    let o = seccheck(&["check", FILTER, "--policy", p.to_str().unwrap(), "--no-kernel", "--no-lints"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {:?}\n{}", o.status, &err[..err.len().min(2000)]));
    (code, String::from_utf8_lossy(&o.stdout).into_owned(), err)
}

/// The arches FILTER is for (as corpus/policies/docker_default.toml says).
const ARCHES: &str = "arches = [\"x86_64\", \"i386\", \"x32\"]";

fn with_when(when: &str) -> String {
    format!("{ARCHES}\n[[allow_only_if]]\nsyscalls = [\"personality\"]\nwhen = \"{when}\"\n")
}

#[test]
fn deep_when_nesting_is_refused_naming_the_limit_and_the_column() {
    for (when, col) in [
        (format!("{}arg0 == 1{}", "(".repeat(20_000), ")".repeat(20_000)), 9 + 64),
        (format!("{}arg0 == 1", "not ".repeat(50_000)), 9 + 4 * 64),
        (format!("arg0 == {}1{}", "(".repeat(20_000), ")".repeat(20_000)), 9 + 8 + 64),
        (format!("{}arg0 == 1{}", "not (".repeat(20_000), ")".repeat(20_000)), 9 + 5 * 32),
    ] {
        let (code, _, err) = check(&with_when(&when));
        assert_eq!(code, 2, "{err}");
        let want = format!("line 4, column {col}: in `when`: ");
        assert!(
            err.contains(&want) && err.contains("nests deeper than 64 levels of parentheses and `not` (the limit)"),
            "want {want}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn flat_chains_of_any_length_get_a_verdict_or_a_clear_refusal() {
    // 200 000 distinct values: the exact set outgrows the decision-diagram
    // budget, which is said, with the rule's line.
    let distinct = (0..200_000).map(|i| format!("arg0 == {i}")).collect::<Vec<_>>().join(" or ");
    let (code, _, err) = check(&with_when(&distinct));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("policy line 3: the input sets outgrew the decision-diagram budget"), "{err}");

    // 100 000 operands (3 MB) naming five values: a verdict. Docker's default
    // profile lets personality run for exactly these personas (as
    // corpus/policies/docker_default.toml says), so the property holds.
    let personas = ["0x0", "0x8", "0x20000", "0x20008", "0xffffffff"];
    let same =
        (0..100_000).map(|i| format!("arg0 & 0xffffffff == {}", personas[i % 5])).collect::<Vec<_>>().join(" or ");
    let (code, out, err) = check(&with_when(&same));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASS: 2 of 2 properties hold"), "{out}");
    let and = vec!["arg0 & 0xffffffff != 0x20000"; 100_000].join(" and ");
    let (code, out, err) = check(&with_when(&format!("not ({and}) or arg0 & 0xffffffff == 0")));
    assert!(code == 0 || code == 1, "{out}{err}");
}

#[test]
fn deep_toml_is_refused_with_its_position() {
    let n = 100_000;
    for (text, at) in [
        (format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)), "line 1, column "),
        (format!("x = {}1{}\n", "{a=".repeat(n), "}".repeat(n)), "line 1, column "),
        (format!("{ARCHES}\n{} = 1\n", vec!["a"; n].join(".")), "line 2, column 1:"),
        (format!("{ARCHES}\n[[{}]]\n", vec!["a"; n].join(".")), "line 2, column 1:"),
    ] {
        let (code, _, err) = check(&text);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(at) && err.contains("nested deeper than the TOML reader allows (80 levels"), "{err}");
    }
}

#[test]
fn many_rules_and_long_lists_cost_linear_time() {
    // 100 000 rules (each rule's line was found by rescanning the file from
    // its start: 171 s before) and one list of 500 000 names.
    let rules = format!("{ARCHES}\n{}", "[[allow]]\nsyscalls = [\"read\"]\n".repeat(100_000));
    let t = std::time::Instant::now();
    let (code, out, err) = check(&rules);
    assert_eq!(code, 0, "{out}{err}");
    let names = format!("{ARCHES}\n[[allow]]\nsyscalls = [{}]\n", vec!["\"read\""; 500_000].join(","));
    let (code, out, err) = check(&names);
    assert_eq!(code, 0, "{out}{err}");
    // Generous: both take about a second here; quadratic was minutes.
    assert!(t.elapsed().as_secs() < 60, "{:?}", t.elapsed());
}
