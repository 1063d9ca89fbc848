//! `seccheck lint FILE [--format text|json] [--arch A,B]`: run every lint.
//!
//! Exit 0 when there are only notes (or nothing), 1 when a lint reports a
//! warning or an error, 2 when the file cannot be read or analysed exactly (the
//! message says why). A filter the kernel would refuse is reported like
//! `validate` does, with exit 1: it never runs, so there is nothing to lint.

use super::contract::{Examples, Generated, KernelCheck};
use super::input::{FilterArgs, KernelArgs};
use super::{write_json, CliError, Outcome, Rendering};
use crate::check::{CheckError, Job};
use crate::finding::{fails, Finding, Severity};
use crate::lints::{ArchSource, LintError, LintOptions};
use serde::Serialize;
use std::io::Write;

/// Look for bypasses and mistakes in a filter, without a policy.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The arches the filter is meant for, comma-separated (default: a compiled
    /// profile's arches, else the arches the filter compares `arch` with, else
    /// --host-arch).
    #[arg(long, value_delimiter = ',')]
    pub arch: Option<Vec<String>>,
    /// Output format (`sarif`: SARIF 2.1.0 for code-scanning UIs, as `check` writes it).
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    #[command(flatten)]
    pub kernel: KernelArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    arches: Vec<&'static str>,
    arch_source: ArchSource,
    compiled: Option<Generated>,
    findings: &'a [Finding],
    /// The findings' display order and kinds (indices into `findings`).
    groups: Vec<crate::finding::group::Group>,
    kernel: KernelCheck,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let name = args.filter.display_name();
    let given = match &args.arch {
        None => None,
        Some(list) => Some(super::input::parse_arches(list, "--arch")?),
    };
    let fallback = args.filter.input.host()?;
    let loaded = args.filter.load_full()?;
    let how = match args.format {
        LintFormat::Text => Rendering::Text,
        LintFormat::Json => Rendering::Json("lint"),
        LintFormat::Sarif => Rendering::Sarif,
    };
    let Some(valid) = super::accepted(out, how, &name, &loaded.program)? else { return Ok(Outcome::Findings) };
    let opts = LintOptions {
        arches: given.or_else(|| loaded.compiled.as_ref().map(|c| c.arches.clone())),
        fallback_arch: Some(fallback),
    };
    let err = |e: CheckError| CliError::Input {
        file: name.clone(),
        msg: match e {
            CheckError::Analysis(e) => LintError::Symbolic(e).to_string(),
            e => e.to_string(),
        },
    };
    let checked = crate::check::run(&valid, &Job { lints: Some(opts), ..Job::default() }).map_err(err)?;
    let (lint_arches, arch_source) = checked.lint_arches.expect("the lints ran");
    let mut findings = checked.findings;
    let kernel =
        super::confirm_counterexamples(std::slice::from_ref(&loaded.program), &mut findings, args.kernel.no_kernel);
    let arches: Vec<&'static str> = lint_arches.iter().map(|a| a.name()).collect();
    match args.format {
        LintFormat::Json => write_json(
            out,
            "lint",
            &Report {
                file: name,
                arches,
                arch_source,
                compiled: Generated::of_option(&loaded.compiled),
                findings: &findings,
                groups: crate::finding::group::groups(&findings),
                kernel,
            },
        )?,
        LintFormat::Sarif => super::write_sarif(out, &name, None, &findings)?,
        LintFormat::Text => {
            let count = |s| findings.iter().filter(|f| f.severity == s).count();
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            let source = match arch_source {
                ArchSource::Given => "given",
                ArchSource::Inferred => "the arches it tests",
                ArchSource::Assumed => "assumed: --host-arch, the filter compares arch with no known value",
                ArchSource::Unknown => "none known",
            };
            writeln!(
                out,
                "{name}: {}, {}, {} (arches: {} — {source})",
                plural(count(Severity::Error), "error"),
                plural(count(Severity::Warning), "warning"),
                plural(count(Severity::Note), "note"),
                if arches.is_empty() { "-".to_string() } else { arches.join(", ") },
            )?;
            super::write_compile_notes(out, &loaded.compiled)?;
            // Most severe first; one card per kind (finding::group).
            out.write_all(crate::finding::group::render_text(&findings).as_bytes())?;
            if let Some(k) = kernel.line(Examples::Counterexamples) {
                writeln!(out, "{k}")?;
            }
        }
    }
    super::kernel_disagreed(super::confirmed_of(&findings))?;
    Ok(if fails(&findings) { Outcome::Findings } else { Outcome::Clean })
}
