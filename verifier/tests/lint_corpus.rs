//! Which lints fire on which real filter: every compiled corpus filter as the
//! kernel receives it (arches inferred from the program, as `seccheck lint
//! f.bpf` does), the same filters as their generators describe them (arches
//! given by the profile), and the filters read back from real runc.
//!
//! The snapshot is the record; a change in what fires on real profiles is
//! reviewed as a diff. Every counterexample is checked against the exact
//! analysis (the emulator produced it; both must agree).

use crate::compile_corpus;

use seccheck::arch::Arch;
use seccheck::bpf::{decode, validate, ByteOrder};
use seccheck::check::{self, Job};
use seccheck::finding::confirm::confirm;
use seccheck::finding::Finding;
use seccheck::lints::{self, LintOptions};
use std::collections::BTreeMap;

use crate::common::kernel_gate;

/// Counterexamples the kernel confirmed, over the whole test.
static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
use std::fmt::Write as _;

/// Lint one filter; `(arch list, one line of codes)`.
fn lint(name: &str, program: &seccheck::bpf::Program, arches: Option<Vec<Arch>>) -> (String, Vec<Finding>) {
    let valid = validate(program).unwrap_or_else(|v| panic!("{name}: kernel would refuse: {v:?}"));
    let opts = LintOptions { arches, fallback_arch: Some(Arch::X86_64) };
    let job = Job { lints: Some(opts), ..Job::default() };
    let checked = check::run(&valid, &job).unwrap_or_else(|e| panic!("{name}: {e}"));
    let findings = checked.findings;
    let analysis = checked.analysis;
    for f in &findings {
        assert!(f.insns.iter().all(|&i| i < program.len()), "{name}: {f}");
        if let Some(c) = &f.counterexample {
            let exit = analysis.exit_for(&c.input);
            assert_eq!(exit.map(|e| e.action()), Some(c.action), "{name}: analysis and emulator disagree on {f}");
            assert_eq!(c.path.last().copied(), exit.map(|e| e.insn), "{name}: {f}");
        }
    }
    // The running kernel takes each counterexample's action (on a copy: the
    // snapshot does not depend on whether it could be asked).
    if kernel_gate::kernel_usable() {
        let mut copies: Vec<_> = findings.iter().filter_map(|f| f.counterexample.clone()).collect();
        let c = confirm(std::slice::from_ref(program), copies.iter_mut()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            c.disagreements(),
            0,
            "{name}: {:#?}",
            copies.iter().filter(|c| c.kernel_confirmed == Some(false)).collect::<Vec<_>>()
        );
        ASKED.fetch_add(c.asked, std::sync::atomic::Ordering::Relaxed);
    }
    let (arches, source) = checked.lint_arches.expect("the job ran the lints");
    let arches = arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(",");
    (format!("{arches} ({source:?})").to_lowercase(), findings)
}

/// `SC005 error x7, SC009 note`.
fn codes(findings: &[Finding]) -> String {
    let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for f in findings {
        *counts.entry((f.code, f.severity.to_string())).or_default() += 1;
    }
    if counts.is_empty() {
        return "-".into();
    }
    counts
        .iter()
        .map(|((c, s), n)| if *n == 1 { format!("{c} {s}") } else { format!("{c} {s} x{n}") })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn lints_on_the_corpus() {
    let root = compile_corpus::workspace_root();
    let mut out = String::new();
    let mut fired: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut record = |out: &mut String, label: String, arches: String, findings: Vec<Finding>| {
        writeln!(out, "{label} [{arches}]: {}", codes(&findings)).unwrap();
        for f in &findings {
            let v = fired.entry(f.code).or_default();
            if !v.contains(&label) {
                v.push(label.clone());
            }
        }
    };

    writeln!(out, "## compiled filters, arches inferred").unwrap();
    let mut files: Vec<_> = std::fs::read_dir(root.join("corpus/compiled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .collect();
    files.extend(
        std::fs::read_dir(root.join("corpus/runc-readback"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bpf")),
    );
    files.sort();
    for path in &files {
        let rel = path.strip_prefix(root.join("corpus")).unwrap().display().to_string();
        let program = decode(&std::fs::read(path).unwrap(), ByteOrder::Little).unwrap();
        let (arches, findings) = lint(&rel, &program, None);
        record(&mut out, rel, arches, findings);
    }

    writeln!(out, "\n## profiles, arches given by the generator").unwrap();
    let outputs = compile_corpus::compile_all(&root.join("corpus/profiles")).expect("the corpus compiles");
    for o in &outputs {
        let label = format!("{} -> {}", o.source, o.file);
        let (arches, findings) = lint(&label, &o.filter.program, Some(o.filter.arches.clone()));
        record(&mut out, label, arches, findings);
    }

    writeln!(out, "\n## where each lint fires").unwrap();
    for l in lints::ALL {
        let on = fired.get(l.code).map(|v| v.len()).unwrap_or(0);
        let first = fired.get(l.code).and_then(|v| v.first()).cloned().unwrap_or_else(|| "none in corpus".into());
        writeln!(out, "{} {}: {on} filters, e.g. {first}", l.code, l.name).unwrap();
    }
    insta::assert_snapshot!(out);
    let asked = ASKED.load(std::sync::atomic::Ordering::Relaxed);
    println!("the kernel confirmed {asked} counterexamples");
    if kernel_gate::kernel_usable() {
        assert!(asked > 50, "only {asked} counterexamples asked");
    }
}
