//! `seccheck fuzz-generator`: exit codes, usage errors, and a short real run.

use crate::common::schemas;
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
fn numbers_out_of_range_are_usage_errors_naming_the_range() {
    for (args, first) in [
        (&["--seconds", "0"][..], "seccheck: error: invalid value '0' for '--seconds <SECONDS>': 0 is not in 1..=604800"),
        (&["--seconds", "18446744073709551615"], "seccheck: error: invalid value '18446744073709551615' for '--seconds <SECONDS>': 18446744073709551615 is not in 1..=604800"),
        (&["--case-timeout", "0"], "seccheck: error: invalid value '0' for '--case-timeout <SECONDS>': 0 is not in 1..=86400"),
        (&["--max-findings", "1001"], "seccheck: error: invalid value '1001' for '--max-findings <MAX_FINDINGS>': 1001 is not in 0..=1000"),
        (&["--profile-size", "0"], "seccheck: error: invalid value '0' for '--profile-size <N>': 0 is not in 1..=1000"),
        (&["--cases", "0"], "seccheck: error: invalid value '0' for '--cases <N>': 0 is not in 1..=18446744073709551615"),
    ] {
        let mut argv = vec!["fuzz-generator", "--generator", "seccompiler"];
        argv.extend(args);
        let (code, out, err) = seccheck(&argv);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert_eq!(err, format!("{first}\n"), "{args:?}: one line");
    }
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
    assert!(out.contains(" of known issue seccompiler-unconditional-rule-dropped"), "{out}");
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

#[test]
fn arches_the_generator_does_not_target_and_bad_shards_are_usage_errors() {
    let (code, _, err) = seccheck(&["fuzz-generator", "--generator", "seccompiler", "--arches", "s390x"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "seccheck: error: --arches: `s390x` is not an arch seccompiler targets (it targets x86_64, aarch64, riscv64)"
    );
    for bad in ["3/3", "1", "a/2", "0/0"] {
        let (code, _, err) = seccheck(&["fuzz-generator", "--generator", "seccompiler", "--shard", bad]);
        assert_eq!(code, 2, "{bad}");
        assert_eq!(err.trim(), format!("seccheck: error: --shard must be I/N with 0 <= I < N (`{bad}` given)"));
    }
}

#[test]
fn big_endian_libseccomp_filters_are_compiled_and_compared() {
    let (code, out, err) = seccheck(&[
        "fuzz-generator",
        "--generator",
        "libseccomp",
        "--seconds",
        "3",
        "--max-findings",
        "0",
        "--arches",
        "s390x,ppc64,mips",
        "--profile-size",
        "4",
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    let api = out.lines().find(|l| l.trim_start().starts_with("libseccomp-api-o2: ")).expect(&out);
    let compared: u64 = api.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(compared > 0, "no big-endian filter was compiled and compared: {out}");
}

#[test]
fn shards_split_a_seed_and_merge_back_into_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..2 {
        let d = dir.path().join(format!("shard{i}"));
        let (code, out, err) = seccheck(&[
            "fuzz-generator",
            "--generator",
            "seccompiler",
            "--seconds",
            "1",
            "--seed",
            "5",
            "--shard",
            &format!("{i}/2"),
            "--max-findings",
            "1",
            "--out",
            d.to_str().unwrap(),
        ]);
        assert!(code == 0 || code == 1, "{out}{err}");
        assert!(out.contains(&format!(", seed 5, shard {i}/2\n")), "{out}");
        files.push(d.join("findings.json"));
    }
    // Each file follows docs/schemas/fuzz-generator.v1.json.
    let json = |p: &std::path::Path| -> serde_json::Value { schemas::parse(&std::fs::read(p).unwrap()) };
    let (a, b) = (json(&files[0]), json(&files[1]));
    // Shard 0 takes the even cases, shard 1 the odd ones.
    for f in a["findings"].as_array().unwrap() {
        assert_eq!(f["case"].as_u64().unwrap() % 2, 0, "{f}");
    }
    for f in b["findings"].as_array().unwrap() {
        assert_eq!(f["case"].as_u64().unwrap() % 2, 1, "{f}");
    }
    let merged_dir = dir.path().join("merged");
    let (code, out, err) = seccheck(&[
        "fuzz-generator",
        "--merge",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "--out",
        merged_dir.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    let m = json(&merged_dir.join("findings.json"));
    assert_eq!(m["runs"], 2);
    assert_eq!(m["cases"].as_u64().unwrap(), a["cases"].as_u64().unwrap() + b["cases"].as_u64().unwrap());
    let compared = |v: &serde_json::Value| v["per_compiler"][0]["compared"].as_u64().unwrap();
    assert_eq!(compared(&m), compared(&a) + compared(&b));
    // Refusals are counted by reason, and the reasons add up, merged too.
    for v in [&a, &b, &m] {
        let c = &v["per_compiler"][0];
        let why: u64 = c["refused_because"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(why, c["refused"].as_u64().unwrap(), "{c}");
    }
    let refused = |v: &serde_json::Value| v["per_compiler"][0]["refused"].as_u64().unwrap();
    assert_eq!(refused(&m), refused(&a) + refused(&b));
    assert!(out.contains(" (2 runs merged)\n"), "{out}");
    // Different campaigns do not merge.
    let other = dir.path().join("other");
    seccheck(&[
        "fuzz-generator",
        "--generator",
        "seccompiler",
        "--seconds",
        "1",
        "--seed",
        "6",
        "--out",
        other.to_str().unwrap(),
    ]);
    let (code, _, err) = seccheck(&[
        "fuzz-generator",
        "--merge",
        files[0].to_str().unwrap(),
        other.join("findings.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a seccompiler run of seed 6, not seccompiler seed 5"), "{err}");
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

#[test]
fn a_campaign_of_default_length_reaches_every_arch_and_size_class() {
    // 152 cases: eight passes over libseccomp's 19 arches, about what the
    // default --seconds 10 runs here (--cases: the same cases however busy
    // the machine is). The schedule has every arch and size class, alone and
    // with others, within two passes; the rest lets refusals happen.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("cov");
    let (code, out, err) = seccheck(&[
        "fuzz-generator",
        "--generator",
        "libseccomp",
        "--cases",
        "152",
        "--seconds",
        "600",
        "--max-findings",
        "0",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(out.starts_with("152 cases in "), "{out}");
    assert!(out.contains("\n  time: ") && out.contains(" s compiling, "), "{out}");
    assert!(
        out.contains("\n  reached: every arch and size class the run aims at, alone and with other arches, compiled and compared by at least one compiler\n"),
        "{out}"
    );
    assert!(out.contains("\n  arch and size class pairs: ") && out.contains(" of 152 compared"), "{out}");
    let f = schemas::parse(&std::fs::read(out_dir.join("findings.json")).unwrap());
    let cells = f["coverage"].as_array().unwrap();
    let marginal: Vec<&serde_json::Value> =
        cells.iter().filter(|c| c.get("arch").is_none() || c.get("size").is_none()).collect();
    // 19 arches and 4 size classes, each alone and with other arches.
    assert_eq!(marginal.len(), 2 * (19 + 4), "{f}");
    let n = |c: &serde_json::Value, compiler: &str| c["compared"][compiler].as_u64().unwrap();
    for c in &marginal {
        // libseccomp's own API compiles for every arch it targets (parisc too).
        assert!(n(c, "libseccomp-api-o1") > 0 && n(c, "libseccomp-api-o2") > 0, "{c}");
    }
    for size in ["small", "medium", "large", "very-large"] {
        assert!(marginal.iter().any(|c| c["size"] == size && n(c, "libseccomp-o1") > 0), "{size}: {f}");
    }
    // runc's conversion has no parisc (nor x32 as the host): said, with why.
    let parisc = marginal.iter().find(|c| c["arch"] == "parisc" && c["with_others"] == false).unwrap();
    assert_eq!(n(parisc, "libseccomp-o1"), 0, "{parisc}");
    assert!(parisc["not_compared"]["libseccomp-o1"]["parisc is not an arch Docker runs on"].as_u64().unwrap() > 0);
    assert!(out.contains("\n    libseccomp-o1 compared no case of parisc alone ("), "{out}");
}
