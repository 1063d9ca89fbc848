//! `seccheck stack FILE...`: what a stack of filters does, as one table.
//!
//! A thread's filters all run on every syscall, newest first, and the lowest
//! action wins (KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE <
//! LOG < ALLOW); among equal actions the newest filter's data stays
//! (`seccomp_run_filters`, kernel/seccomp.c). Give the files in installation
//! order, oldest first (the order `seccheck pid` lists and `--dump` writes
//! them). The output is the effective per-arch, per-syscall table with the
//! argument conditions, exact for every input, and the stack's path length:
//! the total `seccomp_attach_filter` (kernel/seccomp.c) checks against
//! `MAX_INSNS_PER_PATH` and the room it leaves for one more filter. A stack
//! the kernel would refuse to build is not described: exit 1 with the rule and
//! every filter's total. Exit 0, 1 refused, or 2 on bad input.

use super::input::InputOptions;
use super::stackio::{load_valid_compiled, side_name};
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::seccomp::PathLength;
use crate::stack;
use crate::symbolic::{Options, Table, TableOptions};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// The effective action of a stack of filters, per arch and syscall.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The filters in installation order, oldest first (any input format;
    /// `BINARY#N` for an ELF's N-th filter).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only these arches (comma-separated names), without the "other arch" entry.
    #[arg(long, value_delimiter = ',')]
    pub arch: Vec<String>,
    /// Only rows for these syscalls (comma-separated names or numbers).
    #[arg(long, value_delimiter = ',')]
    pub syscall: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub input: InputOptions,
}

#[derive(Serialize)]
struct Report<'a> {
    /// Installation order, oldest first, each with what its generator made of it.
    filters: serde_json::Value,
    /// Converted lengths, totals and room (`seccomp_attach_filter`).
    path_length: &'a PathLength,
    /// Absent when the kernel would refuse the stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a Table>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let arches = super::input::parse_arches(&args.arch, "--arch")?;
    let syscalls = super::input::syscall_selection(&args.syscall, &arches)?;
    let (programs, made_by): (Vec<_>, Vec<_>) = args
        .files
        .iter()
        .map(|f| load_valid_compiled(&args.input, f))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let pl = super::path_length::of(&programs);
    if pl.refused.is_some() {
        match args.format {
            OutputFormat::Json => write_json(
                out,
                "stack",
                &Report {
                    filters: super::stackio::stack_json(&args.files, &made_by),
                    path_length: &pl,
                    table: None,
                    refused: super::path_length::refusal(&pl),
                },
            )?,
            OutputFormat::Text => {
                super::path_length::write_if_refused(out, &pl, &args.files)?;
            }
        }
        return Ok(Outcome::Findings);
    }
    let mut s = stack::analyze(&programs, &Options::default())
        .map_err(|e| CliError::Input { file: side_name(&args.files), msg: e.to_string() })?;
    let opts = TableOptions { arches: (!arches.is_empty()).then_some(arches), syscalls };
    let table = s.table(&opts);
    match args.format {
        OutputFormat::Json => {
            let filters = super::stackio::stack_json(&args.files, &made_by);
            write_json(out, "stack", &Report { filters, path_length: &pl, table: Some(&table), refused: None })?
        }
        OutputFormat::Text => {
            writeln!(
                out,
                "effective action of {} filter{} (installation order, the last runs first):",
                names.len(),
                if names.len() == 1 { "" } else { "s" }
            )?;
            for (i, (n, m)) in names.iter().zip(&made_by).enumerate() {
                match m {
                    Some(m) => writeln!(out, "  {i}: {n} ({})", m.made_by())?,
                    None => writeln!(out, "  {i}: {n}")?,
                }
            }
            writeln!(out, "{}", pl.summary())?;
            write!(out, "{}", table.render_text())?;
        }
    }
    Ok(Outcome::Clean)
}
