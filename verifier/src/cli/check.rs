//! `seccheck check FILE --policy POLICY`: do the stated properties hold?
//!
//! Exit 0 when every property holds (and no lint reports a warning or an
//! error), 1 with every violation and a counterexample each, 2 on bad input
//! (the policy's problems with their TOML line and column).

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome};
use crate::emu::Emulator;
use crate::lints::{self, LintContext, LintOptions};
use crate::policy::{self, check::check};
use crate::report::{fails, sarif, Finding};
use crate::sources::read_bounded;
use crate::symbolic::{analyze, Options};
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
    let text = read_bounded(&args.policy)?;
    let text = std::str::from_utf8(&text).map_err(|e| CliError::Input { file: pname.clone(), msg: format!("not UTF-8 ({e})") })?;
    let pol = policy::parse(text).map_err(|errs| CliError::Input {
        file: pname.clone(),
        msg: errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  "),
    })?;
    let name = args.filter.display_name();
    let loaded = args.filter.load_full()?;
    let Some(valid) = super::accepted(out, &name, &loaded.program)? else { return Ok(Outcome::Findings) };
    let analysis_err = |e: String| CliError::Input { file: name.clone(), msg: format!("cannot be analysed exactly: {e}") };
    let mut analysis = analyze(&valid, &Options::default()).map_err(|e| analysis_err(e.to_string()))?;
    let emu = Emulator::new(&valid);
    let mut findings: Vec<Finding> = check(&pol, &mut analysis, &emu);
    let violations = findings.len();
    if !args.no_lints {
        let opts = LintOptions { arches: Some(pol.arches.clone()), ..LintOptions::default() };
        let cx = LintContext::new(&valid, &opts).map_err(|e| analysis_err(e.to_string()))?;
        findings.extend(lints::run(&cx).map_err(|e| analysis_err(e.to_string()))?);
    }
    match args.format {
        CheckFormat::Json => write_json(out, &serde_json::json!({ "file": name, "policy": pname, "findings": findings }))?,
        CheckFormat::Sarif => write_json(out, &sarif::log(&name, Some(&pname), &findings))?,
        CheckFormat::Text => {
            if violations == 0 {
                writeln!(out, "{name}: every property of {pname} holds")?;
            } else {
                writeln!(out, "{name}: {violations} propert{} of {pname} violated", if violations == 1 { "y" } else { "ies" })?;
            }
            super::write_compile_notes(out, &loaded.compiled)?;
            for f in &findings {
                writeln!(out, "{f}")?;
            }
        }
    }
    Ok(if violations > 0 || fails(&findings) { Outcome::Findings } else { Outcome::Clean })
}
