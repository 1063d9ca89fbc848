//! `seccheck validate FILE`: would the kernel accept this filter?
//!
//! Exit 0 when `seccomp(SECCOMP_SET_MODE_FILTER)` would accept it, 1 with every
//! reason when it would refuse it, 2 when the file cannot be read as a filter.
//! An accepted filter's length after the kernel's conversion to eBPF
//! (`bpf_convert_filter`, [`crate::bpf::convert`]) is shown too: it is what
//! the kernel counts when filters are stacked (`MAX_INSNS_PER_PATH`).

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::bpf::converted_len;
use crate::bpf::validate::{validate, violations};
use serde::Serialize;
use std::io::Write;

/// Check a filter against the kernel's rules (bpf_check_classic + seccomp_check_filter).
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    compiled: Option<super::contract::Generated>,
    instructions: usize,
    /// Length after `bpf_convert_filter`; absent when the kernel refuses the filter.
    converted_instructions: Option<usize>,
    accepted: bool,
    violations: &'a [crate::bpf::Violation],
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let loaded = args.filter.load_full()?;
    let program = loaded.program;
    let v = violations(&program);
    let converted = validate(&program).ok().map(|p| converted_len(&p));
    let name = args.filter.display_name();
    match args.format {
        OutputFormat::Json => write_json(
            out,
            "validate",
            &Report {
                file: name,
                compiled: super::contract::Generated::of_option(&loaded.compiled),
                instructions: program.len(),
                converted_instructions: converted,
                accepted: v.is_empty(),
                violations: &v,
            },
        )?,
        OutputFormat::Text if v.is_empty() => {
            writeln!(
                out,
                "{name}: ok: {} ({} after the kernel's conversion to eBPF); the kernel accepts this filter",
                crate::words::count(program.len(), "instruction"),
                converted.unwrap_or(0)
            )?;
            super::write_compile_notes(out, &loaded.compiled)?;
        }
        OutputFormat::Text => {
            writeln!(
                out,
                "{name}: rejected: the kernel refuses this filter ({}):",
                crate::words::count(v.len(), "problem")
            )?;
            for x in &v {
                writeln!(out, "  {x}")?;
            }
        }
    }
    Ok(if v.is_empty() { Outcome::Clean } else { Outcome::Findings })
}
