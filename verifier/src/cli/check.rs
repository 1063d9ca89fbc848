//! `seccheck check FILE --policy POLICY`: do the stated properties hold?
//!
//! Exit 0 when every property holds (and no lint reports a warning or an
//! error), 1 with every violation and a counterexample each, 2 on bad input
//! (the policy's problems with their TOML line and column).
//!
//! `--stack`: a stack the kernel would refuse to build (`seccomp_attach_filter`'s
//! `MAX_INSNS_PER_PATH`) is not checked: exit 1 with finding `S001
//! stack-too-long`, the rule and every filter's total.

use super::contract::{Examples, Generated};
use super::input::{FilterArgs, KernelArgs};
use super::{write_json, CliError, Outcome, Rendering};
use crate::check::{CheckError, Job};
use crate::finding::{fails, Finding};
use crate::lints::LintOptions;
use crate::policy::verdict::{self, LintCounts, Summary};
use crate::symbolic::Options;
use std::io::Write;
use std::path::PathBuf;

/// Check a filter against a policy (policy.toml) and the built-in lints.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The properties, as policy.toml.
    #[arg(long)]
    pub policy: PathBuf,
    /// Skip the built-in lints.
    #[arg(long)]
    pub no_lints: bool,
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// FILE is a stack: comma-separated filters in installation order (oldest
    /// first), checked by their effective action (`seccomp_run_filters`).
    /// Lints look at single filters and are not run on a stack.
    #[arg(long)]
    pub stack: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let pname = args.policy.display().to_string();
    let pol = super::input::read_policy(&args.policy)?;
    let name = if args.stack {
        super::stackio::side_name(&super::stackio::side_files(&args.filter.file.to_string_lossy(), true)?)
    } else {
        args.filter.display_name()
    };
    let analysis_err =
        |e: String| CliError::Input { file: name.clone(), msg: format!("cannot be analysed exactly: {e}") };
    let policy_err =
        |e: String| CliError::Input { file: pname.clone(), msg: format!("cannot be checked exactly: {e}") };
    let job_err = |e: CheckError| match e {
        CheckError::Policy(e) => policy_err(e.to_string()),
        e => analysis_err(e.to_string()),
    };
    let mut stack_made = None;
    let (mut findings, violations, programs, compiled) = if args.stack {
        let files = super::stackio::side_files(&args.filter.file.to_string_lossy(), true)?;
        let (valid, made): (Vec<_>, Vec<_>) = files
            .iter()
            .map(|f| super::stackio::load_valid_compiled(&args.filter.input, f))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        let pl = super::path_length::of(&valid);
        if let Some(f) = super::path_length::finding(&pl, &files) {
            refused_stack(out, args.format, &name, &pname, &pl, &files, f)?;
            return Ok(Outcome::Findings);
        }
        stack_made = Some((files, made, pl));
        let findings = crate::check::run_stack(&valid, &pol, &Options::default()).map_err(job_err)?;
        let n = findings.len();
        (findings, n, valid.iter().map(|v| v.program().clone()).collect::<Vec<_>>(), None)
    } else {
        let loaded = args.filter.load_full()?;
        let how = match args.format {
            CheckFormat::Text => Rendering::Text,
            CheckFormat::Json => Rendering::Json("check"),
            CheckFormat::Sarif => Rendering::Sarif,
        };
        let Some(valid) = super::accepted(out, how, &name, &loaded.program)? else { return Ok(Outcome::Findings) };
        let lints =
            (!args.no_lints).then(|| LintOptions { arches: Some(pol.arches.clone()), ..LintOptions::default() });
        let checked = crate::check::run(&valid, &Job { policy: Some(&pol), lints, symbolic: Options::default() })
            .map_err(job_err)?;
        (checked.findings, checked.violations, vec![loaded.program], loaded.compiled)
    };
    let kernel = super::confirm_counterexamples(&programs, &mut findings, args.kernel.no_kernel);
    let props = verdict::properties(&pol, &findings[..violations]);
    let lint_counts = (!args.stack && !args.no_lints).then(|| LintCounts::of(&findings[violations..]));
    let summary = Summary::new(&props, violations, lint_counts);
    debug_assert_eq!(summary.pass, !(violations > 0 || fails(&findings)));
    match args.format {
        CheckFormat::Json => {
            let properties: Vec<_> = props
                .iter()
                .map(|p| serde_json::json!({ "code": p.code, "property": p.label, "policy_line": p.line, "holds": p.holds(), "violations": p.violations.len() }))
                .collect();
            let mut report = serde_json::json!({ "file": name, "policy": pname, "compiled": Generated::of_option(&compiled), "verdict": summary, "verdict_line": summary.line(), "properties": properties, "findings": findings, "groups": crate::finding::group::groups(&findings), "kernel": kernel });
            if let Some((files, made, pl)) = &stack_made {
                report["path_length"] = serde_json::json!(pl);
                report["stack"] = super::stackio::stack_json(files, made);
            }
            write_json(out, "check", &report)?
        }
        CheckFormat::Sarif => super::write_sarif(out, &name, Some(&pname), &findings)?,
        CheckFormat::Text => {
            writeln!(out, "{name} against {pname}: {}", summary.line())?;
            super::write_compile_notes(out, &compiled)?;
            if let Some((files, made, pl)) = &stack_made {
                super::stackio::write_made_by(out, files, made)?;
                writeln!(out, "{}", pl.summary())?;
            }
            if args.stack && !args.no_lints {
                writeln!(out, "note: lints look at one filter at a time and were not run on this stack; run `seccheck lint` on each filter")?;
            }
            for p in props.iter().filter(|p| !p.holds()) {
                let line = p.line.map(|l| format!(" (policy line {l})")).unwrap_or_default();
                writeln!(
                    out,
                    "violated: {} {}{line}: {} violation{}",
                    p.code,
                    p.label,
                    p.violations.len(),
                    if p.violations.len() == 1 { "" } else { "s" }
                )?;
            }
            // Most severe first; one card per kind (finding::group).
            out.write_all(crate::finding::group::render_text(&findings).as_bytes())?;
            if let Some(k) = kernel.line(Examples::Counterexamples) {
                writeln!(out, "{k}")?;
            }
        }
    }
    super::kernel_disagreed(super::confirmed_of(&findings))?;
    Ok(if summary.pass { Outcome::Clean } else { Outcome::Findings })
}

/// A stack the kernel would not install: nothing to check (the caller exits 1).
fn refused_stack(
    out: &mut dyn Write,
    format: CheckFormat,
    name: &str,
    pname: &str,
    pl: &crate::seccomp::PathLength,
    files: &[PathBuf],
    finding: Finding,
) -> Result<(), CliError> {
    match format {
        CheckFormat::Json => write_json(
            out,
            "check",
            &serde_json::json!({
                "file": name,
                "policy": pname,
                "verdict": { "pass": false, "refused": "stack" },
                "verdict_line": format!("FAIL: not checked: the kernel refuses to build this stack ({} {})", finding.code, finding.name),
                "path_length": pl,
                "findings": [finding],
            }),
        ),
        CheckFormat::Sarif => super::write_sarif(out, name, Some(pname), &[finding]),
        CheckFormat::Text => {
            writeln!(out, "{name}: not checked against {pname}")?;
            super::path_length::write_if_refused(out, pl, files)?;
            Ok(())
        }
    }
}
