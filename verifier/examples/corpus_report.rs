//! Write `reports/corpus.md`: every compiled corpus filter with its generator,
//! instruction count, lint counts and the verdict of its profile's policy.
//!
//! Run from anywhere in the workspace:
//!
//! ```text
//! cargo run --release -p seccheck --example corpus_report
//! ```
//!
//! The rows are `corpus/compiled/INDEX.tsv` (made by `compile_corpus`), the
//! policies `corpus/policies/INDEX.tsv`. Lints run as `seccheck lint FILE.bpf`
//! does (arches inferred from the program); the policy is checked as
//! `seccheck check FILE.bpf --policy P` does. The test `corpus_report` fails
//! when the committed report differs from a fresh one.

use seccheck::arch::Arch;
use seccheck::bpf::{decode, validate, ByteOrder};
use seccheck::check::{self, Job};
use seccheck::finding::{Finding, Severity};
use seccheck::lints::LintOptions;
use seccheck::policy::{self, Policy};
use seccheck::sources::{
    compile, detect_format, CompileOptions, CompiledFilter, DockerOptions, KernelVersion, ProfileFormat,
    SeccompilerOptions, SourceError,
};
use seccheck::symbolic::Options;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One row of `corpus/policies/INDEX.tsv`.
#[derive(Clone, Debug)]
pub struct PolicyCheck {
    pub policy: String,
    /// File in `corpus/profiles/`.
    pub profile: String,
    /// `--filter` (seccompiler thread, Kubernetes profile name), if any.
    pub filter: Option<String>,
    /// The host arch the policy is written for.
    pub host: String,
    /// Further compile options (`--caps CAP_SYS_ADMIN`); the compiled corpus has
    /// none, so only checks without them have rows in the report.
    pub options: Vec<String>,
}

/// One row of `corpus/compiled/INDEX.tsv`.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub file: String,
    pub source: String,
    pub label: String,
    pub options: String,
    pub generator: String,
    pub instructions: usize,
}

fn tsv(path: &Path, columns: usize) -> Result<Vec<Vec<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let cells: Vec<String> = line.split('\t').map(str::to_string).collect();
        if cells.len() != columns {
            return Err(format!(
                "{}: line {}: expected {columns} tab-separated columns, found {}",
                path.display(),
                i + 1,
                cells.len()
            ));
        }
        rows.push(cells);
    }
    Ok(rows)
}

pub fn policy_checks(root: &Path) -> Result<Vec<PolicyCheck>, String> {
    Ok(tsv(&root.join("corpus/policies/INDEX.tsv"), 5)?
        .into_iter()
        .map(|c| PolicyCheck {
            policy: c[0].clone(),
            profile: c[1].clone(),
            filter: (c[2] != "-").then(|| c[2].clone()),
            host: c[3].clone(),
            options: if c[4] == "-" { Vec::new() } else { c[4].split(' ').map(str::to_string).collect() },
        })
        .collect())
}

pub fn compiled(root: &Path) -> Result<Vec<Compiled>, String> {
    tsv(&root.join("corpus/compiled/INDEX.tsv"), 6)?
        .into_iter()
        .map(|c| {
            let instructions =
                c[5].parse().map_err(|_| format!("corpus/compiled/INDEX.tsv: {}: bad instruction count", c[0]))?;
            Ok(Compiled {
                file: c[0].clone(),
                source: c[1].clone(),
                label: c[2].clone(),
                options: c[3].clone(),
                generator: c[4].clone(),
                instructions,
            })
        })
        .collect()
}

/// The host arch a compiled file was made for (`host=` or `target=` in its options).
fn host_of(c: &Compiled) -> Option<&str> {
    c.options.split(' ').find_map(|o| o.strip_prefix("host=").or_else(|| o.strip_prefix("target=")))
}

/// The policy check that applies to a compiled file: same profile, same filter, same host.
fn policy_of<'a>(checks: &'a [PolicyCheck], c: &Compiled) -> Option<&'a PolicyCheck> {
    checks.iter().find(|p| {
        p.options.is_empty()
            && p.profile == c.source
            && p.filter.as_deref().unwrap_or("profile") == c.label
            && host_of(c) == Some(p.host.as_str())
    })
}

/// Every compiled file a policy check applies to.
#[allow(dead_code)] // used by the corpus_policies test, not by main or corpus_report
pub fn compiled_for(root: &Path, check: &PolicyCheck) -> Result<Vec<Compiled>, String> {
    let checks = [check.clone()];
    Ok(compiled(root)?.into_iter().filter(|c| policy_of(&checks, c).is_some()).collect())
}

/// `E/W/N` counts of lint findings.
fn severities(findings: &[Finding]) -> String {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    format!("{} / {} / {}", n(Severity::Error), n(Severity::Warning), n(Severity::Note))
}

/// `holds`, or `fails: P002 x6 (process_vm_readv, …), …`.
fn verdict(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "holds".into();
    }
    let mut by_code: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    for f in findings {
        let e = by_code.entry(f.code).or_default();
        e.0 += 1;
        let s = f.counterexample.as_ref().and_then(|c| c.syscall).unwrap_or("?");
        if !e.1.contains(&s) {
            e.1.push(s);
        }
    }
    let parts: Vec<String> = by_code
        .iter()
        .map(|(code, (n, sys))| {
            let count = if *n == 1 { String::new() } else { format!(" x{n}") };
            format!("{code}{count} ({})", sys.join(", "))
        })
        .collect();
    format!("fails: {}", parts.join(", "))
}

struct Row {
    compiled: Compiled,
    lints: String,
    policy: Option<(String, Vec<Finding>)>,
}

fn evaluate(root: &Path, c: &Compiled, checks: &[PolicyCheck]) -> Result<Row, String> {
    let err = |e: String| format!("corpus/compiled/{}: {e}", c.file);
    let bytes = std::fs::read(root.join("corpus/compiled").join(&c.file)).map_err(|e| err(e.to_string()))?;
    let program = decode(&bytes, ByteOrder::Little).map_err(|e| err(e.to_string()))?;
    let valid = validate(&program).map_err(|v| err(format!("the kernel would refuse it: {v:?}")))?;
    let host = host_of(c).and_then(Arch::from_name).ok_or_else(|| err(format!("no host arch in `{}`", c.options)))?;
    let lints = LintOptions { arches: None, fallback_arch: Some(host) };
    let check = policy_of(checks, c);
    let pol = check.map(|p| read_policy(root, &p.policy)).transpose().map_err(err)?;
    let job = Job { policy: pol.as_ref(), lints: Some(lints), symbolic: Options::default() };
    let checked = check::run(&valid, &job).map_err(|e| err(e.to_string()))?;
    let policy = check.map(|p| (p.policy.clone(), checked.violations().to_vec()));
    Ok(Row { compiled: c.clone(), lints: severities(checked.lint_findings()), policy })
}

/// `corpus/policies/{policy}`, parsed.
fn read_policy(root: &Path, policy: &str) -> Result<Policy, String> {
    let path = root.join("corpus/policies").join(policy);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    policy::parse(&text).map_err(|e| format!("{}: {e:?}", path.display()))
}

/// A check with its own compile options (only `--caps` is used): the profile
/// compiled here as the compiled corpus is, plus those options.
fn with_options(root: &Path, p: &PolicyCheck) -> Result<(CompiledFilter, Vec<Finding>), String> {
    let err = |e: String| format!("corpus/policies/INDEX.tsv: {}: {e}", p.policy);
    let host = Arch::from_name(&p.host).ok_or_else(|| err(format!("unknown host `{}`", p.host)))?;
    let mut docker = DockerOptions {
        host_arch: host,
        kernel: Some(KernelVersion { kernel: 6, major: 18 }),
        ..DockerOptions::default()
    };
    match p.options.as_slice() {
        [flag, caps] if flag == "--caps" => docker.capabilities = caps.split(',').map(str::to_string).collect(),
        other => return Err(err(format!("options {other:?}: the report knows `--caps LIST` only"))),
    }
    let opts = CompileOptions { docker, seccompiler: SeccompilerOptions { target: host, thread: None } };
    let bytes = std::fs::read(root.join("corpus/profiles").join(&p.profile)).map_err(|e| err(e.to_string()))?;
    let filters = compile(&bytes, &opts).map_err(|e| err(e.to_string()))?;
    let want = p.filter.as_deref().unwrap_or("profile");
    let f = filters.into_iter().find(|f| f.label == want).ok_or_else(|| err(format!("no filter `{want}`")))?;
    let valid = validate(&f.program).map_err(|v| err(format!("the kernel would refuse it: {v:?}")))?;
    let pol = read_policy(root, &p.policy).map_err(err)?;
    let job = Job { policy: Some(&pol), lints: None, symbolic: Options::default() };
    let checked = check::run(&valid, &job).map_err(|e| err(e.to_string()))?;
    Ok((f, checked.findings))
}

/// The profiles no generator here compiles, with the refusal `seccheck` gives.
fn refused(root: &Path) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let dir = root.join("corpus/profiles");
    let mut files: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_dir() {
            for e in std::fs::read_dir(&p).map_err(|e| e.to_string())? {
                files.push(e.map_err(|e| e.to_string())?.path());
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| e.to_string())?;
        let format = match detect_format(&bytes) {
            Ok(f @ (ProfileFormat::Kafel | ProfileFormat::Lxc)) => f.name(),
            Err(SourceError::Unsupported { format, .. }) => format,
            _ => continue,
        };
        let name = f.strip_prefix(&dir).unwrap_or(&f).display().to_string();
        out.push((name, format.to_string()));
    }
    Ok(out)
}

/// The whole report.
pub fn render(root: &Path) -> Result<String, String> {
    let checks = policy_checks(root)?;
    let rows = compiled(root)?.iter().map(|c| evaluate(root, c, &checks)).collect::<Result<Vec<_>, _>>()?;
    let mut s = String::new();
    let w = &mut s;
    writeln!(w, "# Corpus: compiled filters, lints and claims").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "Generated by `cargo run --release -p seccheck --example corpus_report`; do not edit.").unwrap();
    writeln!(w, "Rows: `corpus/compiled/INDEX.tsv` (regenerated by `cargo run -p seccheck --example compile_corpus`).")
        .unwrap();
    writeln!(
        w,
        "Lints: errors / warnings / notes of `seccheck lint corpus/compiled/FILE` (arches inferred from the program)."
    )
    .unwrap();
    writeln!(
        w,
        "Claims: `seccheck check corpus/compiled/FILE --policy corpus/policies/POLICY`, property codes with the"
    )
    .unwrap();
    writeln!(w, "counterexamples' syscalls.").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "| filter | profile | generator | options | instructions | lints E / W / N | policy | claims |")
        .unwrap();
    writeln!(w, "| --- | --- | --- | --- | ---: | --- | --- | --- |").unwrap();
    for r in &rows {
        let c = &r.compiled;
        let (p, v) = match &r.policy {
            Some((p, f)) => (format!("`{p}`"), verdict(f)),
            None => ("-".into(), "-".into()),
        };
        let label = if c.label == "profile" { String::new() } else { format!(" ({})", c.label) };
        writeln!(
            w,
            "| `{}` | `{}`{label} | {} | {} | {} | {} | {p} | {v} |",
            c.file, c.source, c.generator, c.options, c.instructions, r.lints
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    writeln!(w, "Checks with other compile options (the profile compiled here as above, plus the options):").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "| profile | options | generator | instructions | policy | claims |").unwrap();
    writeln!(w, "| --- | --- | --- | ---: | --- | --- |").unwrap();
    let mut failing: Vec<(String, String, Vec<Finding>)> = Vec::new();
    for p in checks.iter().filter(|p| !p.options.is_empty()) {
        let (f, findings) = with_options(root, p)?;
        writeln!(
            w,
            "| `{}` | `{}` | {} | {} | `{}` | {} |",
            p.profile,
            p.options.join(" "),
            f.generator,
            f.program.len(),
            p.policy,
            verdict(&findings)
        )
        .unwrap();
        failing.push((p.policy.clone(), p.profile.clone(), findings));
    }
    writeln!(w).unwrap();
    writeln!(w, "## Claims that fail").unwrap();
    writeln!(w).unwrap();
    let mut seen = Vec::new();
    let from_rows =
        rows.iter().filter_map(|r| r.policy.as_ref().map(|(p, f)| (p.clone(), r.compiled.source.clone(), f.clone())));
    for (p, source, findings) in from_rows.chain(failing) {
        if findings.is_empty() || seen.contains(&p) {
            continue;
        }
        seen.push(p.clone());
        writeln!(w, "`{p}` on `{source}`:").unwrap();
        writeln!(w).unwrap();
        for f in &findings {
            // The example without its instruction path (that is in `seccheck check`'s output).
            let ex = f
                .counterexample
                .as_ref()
                .map(|c| {
                    let c = seccheck::finding::Counterexample { path: Vec::new(), ..c.clone() };
                    format!(" — e.g. `{c}`")
                })
                .unwrap_or_default();
            writeln!(w, "- {} {}{ex}", f.code, f.message).unwrap();
        }
        writeln!(w).unwrap();
    }
    writeln!(w, "## Profiles seccheck does not compile").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "Every command refuses these with exit code 2 and `unsupported format: …` (their languages need their own compilers).").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "| profile | format |").unwrap();
    writeln!(w, "| --- | --- |").unwrap();
    for (f, format) in refused(root)? {
        writeln!(w, "| `{f}` | {format} |").unwrap();
    }
    Ok(s)
}

#[allow(dead_code)] // the corpus tests include this file for its readers
fn main() {
    let root = workspace_root();
    match render(&root) {
        Ok(text) => {
            let path = root.join("reports/corpus.md");
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("corpus_report: {}: {e}", path.display());
                std::process::exit(2);
            }
            println!("wrote {}", path.display());
        }
        Err(e) => {
            eprintln!("corpus_report: {e}");
            std::process::exit(2);
        }
    }
}
