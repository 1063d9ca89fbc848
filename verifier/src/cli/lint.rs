//! `seccheck lint FILE [--format text|json] [--arch A,B]`: run every lint.
//!
//! Exit 0 when there are only notes (or nothing), 1 when a lint reports a
//! warning or an error, 2 when the file cannot be read or analysed exactly (the
//! message says why). A filter the kernel would refuse is reported like
//! `validate` does, with exit 1: it never runs, so there is nothing to lint.

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::arch::Arch;
use crate::lints::{self, ArchSource, LintContext, LintOptions};
use crate::report::{fails, Finding, Severity};
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Do not ask the running kernel to confirm the counterexamples.
    #[arg(long)]
    pub no_kernel: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    arches: Vec<&'static str>,
    arch_source: ArchSource,
    findings: &'a [Finding],
    /// The findings' display order and kinds (indices into `findings`).
    groups: Vec<crate::report::group::Group>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<String>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let name = args.filter.display_name();
    let given = match &args.arch {
        None => None,
        Some(list) => Some(super::input::parse_arches(list, "--arch")?),
    };
    let fallback = Arch::from_name(&args.filter.input.host_arch)
        .ok_or_else(|| CliError::Usage(format!("unknown --host-arch `{}`", args.filter.input.host_arch)))?;
    let loaded = args.filter.load_full()?;
    let Some(valid) = super::accepted(out, &name, &loaded.program)? else { return Ok(Outcome::Findings) };
    let opts = LintOptions {
        arches: given.or_else(|| loaded.compiled.as_ref().map(|c| c.arches.clone())),
        fallback_arch: Some(fallback),
        ..LintOptions::default()
    };
    let err = |e: lints::LintError| CliError::Input { file: name.clone(), msg: e.to_string() };
    let cx = LintContext::new(&valid, &opts).map_err(err)?;
    let mut findings = lints::run(&cx).map_err(err)?;
    let kernel = super::confirm_counterexamples(std::slice::from_ref(&loaded.program), &mut findings, args.no_kernel);
    let arches: Vec<&'static str> = cx.arches.iter().map(|a| a.name()).collect();
    match args.format {
        OutputFormat::Json => {
            let groups = crate::report::group::groups(&findings);
            write_json(
                out,
                &Report { file: name, arches, arch_source: cx.arch_source, findings: &findings, groups, kernel },
            )?
        }
        OutputFormat::Text => {
            let count = |s| findings.iter().filter(|f| f.severity == s).count();
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            let source = match cx.arch_source {
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
            // Most severe first; one card per kind (report::group).
            out.write_all(crate::report::group::render_text(&findings).as_bytes())?;
            if let Some(k) = &kernel {
                writeln!(out, "{k}")?;
            }
        }
    }
    super::kernel_disagreed(super::confirmed_of(&findings))?;
    Ok(if fails(&findings) { Outcome::Findings } else { Outcome::Clean })
}
