//! `seccheck fuzz-generator --generator libseccomp|seccompiler --seconds N [--seed S]`:
//! differential fuzzing of a filter generator against its documented meaning.
//!
//! Random policies (Docker/OCI JSON for libseccomp, compiled as runc does at
//! optimize 1 and 2; seccompiler JSON for x86_64, aarch64 and riscv64) are
//! compiled by the generator linked into this binary, and the compiled BPF is
//! compared exactly with the policy's meaning computed from the formats'
//! documentation (library: `genfuzz`). Every divergence is minimised and
//! printed with the policy, the input, the expected and the actual action, the
//! generator's version and a `seccheck emu` command that reproduces it.
//!
//! Exit 0 when nothing was found, 1 with findings (or when seccheck's own
//! judges disagreed), 2 on bad usage.

use super::{CliError, Outcome};
use crate::genfuzz::{self, Case, Finding, RunReport};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Fuzz a filter generator: random policies, compiled, compared exactly with their documented meaning.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which generator.
    #[arg(long, value_enum)]
    pub generator: Generator,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seed of the run (case i of seed s is always the same policy).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Minimise and print at most this many divergences per compiler and kind.
    #[arg(long, default_value_t = 3)]
    pub max_findings: usize,
    /// Write each finding's minimised policy to DIR/finding-N.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    Libseccomp,
    Seccompiler,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    if args.seconds == 0 {
        return Err(CliError::Usage("--seconds must be at least 1".into()));
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| CliError::Input { file: dir.display().to_string(), msg: format!("cannot create the output directory: {e}") })?;
    }
    let budget = Duration::from_secs(args.seconds);
    let rep = match args.generator {
        Generator::Libseccomp => go(&genfuzz::libseccomp::campaign(), budget, &args),
        Generator::Seccompiler => go(&genfuzz::seccompiler::campaign(), budget, &args),
    };
    render(out, &rep, &args)
}

fn go<C: Case>(c: &genfuzz::Campaign<C>, budget: Duration, args: &Args) -> RunReport {
    genfuzz::run(c, budget, args.seed, args.max_findings)
}

fn render(out: &mut dyn Write, rep: &RunReport, args: &Args) -> Result<Outcome, CliError> {
    let secs = rep.elapsed.as_secs_f64().max(1e-9);
    writeln!(out, "{} cases in {:.1} s ({:.0} cases/s), seed {}", rep.cases, secs, rep.cases as f64 / secs, args.seed)?;
    for (name, compared, refused, diverged, large) in &rep.per_compiler {
        writeln!(out, "  {name}: {compared} compiled and compared exactly, {refused} refused by the generator, {large} too large to compare exactly, {diverged} diverged")?;
    }
    for (i, f) in rep.findings.iter().enumerate() {
        write!(out, "\n{}", f.render())?;
        if let Some(dir) = &args.out {
            write_policy(dir, i, f)?;
        }
    }
    for s in &rep.self_check {
        writeln!(out, "seccheck self-check failed (a bug in seccheck, not in the generator): {s}")?;
    }
    let found = !rep.findings.is_empty() || !rep.self_check.is_empty();
    if !found {
        writeln!(out, "no divergence found")?;
    }
    Ok(if found { Outcome::Findings } else { Outcome::Clean })
}

fn write_policy(dir: &std::path::Path, i: usize, f: &Finding) -> Result<(), CliError> {
    let p = dir.join(format!("finding-{i}.json"));
    std::fs::write(&p, &f.policy_json).map_err(|e| CliError::Input { file: p.display().to_string(), msg: format!("cannot write: {e}") })
}
