//! `seccheck generate trace.json… -o profile.json [--policy-out policy.toml]`:
//! a least-privilege Docker/OCI profile from recorded traces, and the proof
//! that it means what it should (see `crate::record::generate` for the rules).
//!
//! After writing, the profile is compiled with libseccomp exactly as runc loads
//! it and checked: the generated policy holds (every violation with a
//! counterexample), no lint reports an error, and every recorded call shape is
//! allowed (or gets the promised `ENOSYS`). The verdict is `check`'s line
//! (`policy::verdict::Summary`: properties, lints, recorded call shapes, and
//! what decided the exit code). Exit 0 when all of that holds, 1 (files still
//! written, the line says FAIL) when something does not, 2 on bad input.

use super::{CliError, Outcome};
use crate::output::{Named, Outputs};
use crate::record::generate::{generate, ArgMode, Base, DefaultAction, GenerateOptions};
use crate::record::read_trace;
use crate::record::verify::{compile, verify};
use std::io::Write;
use std::path::PathBuf;

/// Generate a Docker/OCI profile (and policy.toml) from traces, then prove it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Trace files written by `seccheck record`.
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// The profile to write.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Where to write the policy.toml the profile is checked against.
    #[arg(long)]
    pub policy_out: Option<PathBuf>,
    /// Start from nothing, or from Docker's default profile.
    #[arg(long, value_enum, default_value_t = BaseArg::None)]
    pub base: BaseArg,
    /// How far arguments are restricted.
    #[arg(long, value_enum, default_value_t = ArgsArg::Strict)]
    pub args: ArgsArg,
    /// What everything else gets: errno = EPERM, kill = SCMP_ACT_KILL_PROCESS.
    #[arg(long, value_enum, default_value_t = DefaultArg::Errno)]
    pub default_action: DefaultArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BaseArg {
    None,
    DockerDefault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ArgsArg {
    Strict,
    Loose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DefaultArg {
    Errno,
    Kill,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    // Both outputs are checked before anything is written: never an input,
    // never the same file twice.
    let mut outputs = Outputs::new();
    for t in &args.traces {
        outputs.input(t);
    }
    let profile_out = outputs.file(&args.output, Named::ByUser)?;
    let policy_out = args.policy_out.as_deref().map(|p| outputs.file(p, Named::ByUser)).transpose()?;
    let mut traces = Vec::new();
    for t in &args.traces {
        let tr = read_trace(t).map_err(|e| CliError::failed("", e))?;
        traces.push((t.display().to_string(), tr));
    }
    let opts = GenerateOptions {
        base: match args.base {
            BaseArg::None => Base::None,
            BaseArg::DockerDefault => Base::DockerDefault,
        },
        args: match args.args {
            ArgsArg::Strict => ArgMode::Strict,
            ArgsArg::Loose => ArgMode::Loose,
        },
        default: match args.default_action {
            DefaultArg::Errno => DefaultAction::Errno,
            DefaultArg::Kill => DefaultAction::Kill,
        },
    };
    let g = generate(&traces, &opts).map_err(|e| CliError::failed("", e))?;
    let mut text = serde_json::to_vec_pretty(&g.profile).map_err(|e| CliError::Output(e.into()))?;
    text.push(b'\n');
    profile_out.write(&text)?;
    if let Some(p) = &policy_out {
        p.write(g.policy.as_bytes())?;
    }
    let name = args.output.display().to_string();
    let recorded: u64 = traces.iter().map(|(_, t)| t.syscalls.len() as u64).sum();
    writeln!(
        out,
        "{name}: {} allowed ({} with argument rules) from {recorded} recorded (arch, syscall) {}",
        crate::words::count(g.allowed_names, "syscall"),
        g.restricted_names,
        crate::words::noun(recorded as usize, "pair", "pairs")
    )?;
    for n in &g.notes {
        writeln!(out, "note: {n}")?;
    }
    let compiled = compile(&name, &text).map_err(|e| CliError::failed("", e))?;
    writeln!(
        out,
        "compiled by {}: {}",
        compiled.generator,
        crate::words::count(compiled.program.program().len(), "instruction")
    )?;
    for n in &compiled.notes {
        writeln!(out, "note: {n}")?;
    }
    let v = verify(&name, &compiled, &g.policy, &g.expectations).map_err(|e| CliError::failed("", e))?;
    for f in &v.findings {
        writeln!(out, "{f}")?;
    }
    for u in &v.unmet {
        let e = &u.expectation;
        let a: Vec<String> = e.args.iter().map(|x| format!("{x:#x}")).collect();
        writeln!(
            out,
            "error: recorded call {} {}({}) gets {}, not {:?}",
            e.arch.name(),
            e.name,
            a.join(", "),
            u.got,
            e.expected
        )?;
    }
    // `check`'s verdict line (policy::verdict::Summary); a generated profile
    // fails on lint errors only.
    let policy_name = match &args.policy_out {
        Some(p) => p.display().to_string(),
        None => "the generated policy".to_string(),
    };
    writeln!(out, "{}", v.summary.line_with(Some(&policy_name), &[]))?;
    Ok(if v.holds() { Outcome::Clean } else { Outcome::Findings })
}
