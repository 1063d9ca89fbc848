//! `seccheck disasm FILE`: a listing a person can read, in the syntax `asm` takes back.
//!
//! It starts with a `;` line giving the length and, for a filter the kernel
//! accepts, its length after the kernel's conversion to eBPF
//! (`bpf_convert_filter`, [`crate::bpf::convert`]), which is what counts when
//! filters are stacked. JSON: `{instructions, converted_instructions, listing}`.

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::bpf::{converted_len, disassemble, listing, validate, DisasmOptions, ListingLine};
use crate::words::count;
use serde::Serialize;
use std::io::Write;

/// Disassemble a filter: absolute jump targets, loads, arch constants, syscall
/// numbers (per the arch known on each path) and return values named.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Assume this arch where the filter does not test it (names syscalls, picks
    /// the argument word order).
    #[arg(long)]
    pub arch: Option<String>,
    /// Leave out the `; …` comments.
    #[arg(long)]
    pub no_comments: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct Report {
    file: String,
    compiled: Option<super::contract::Generated>,
    instructions: usize,
    /// Length after `bpf_convert_filter`; absent when the kernel refuses the filter.
    converted_instructions: Option<usize>,
    listing: Vec<ListingLine>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let arch = match &args.arch {
        None => None,
        Some(a) => super::input::parse_arches(std::slice::from_ref(a), "--arch")?.pop(),
    };
    let loaded = args.filter.load_full()?;
    let program = loaded.program;
    let opts = DisasmOptions { comments: !args.no_comments, arch };
    let converted = validate(&program).ok().map(|p| converted_len(&p));
    match args.format {
        OutputFormat::Json => write_json(
            out,
            "disasm",
            &Report {
                file: args.filter.display_name(),
                compiled: super::contract::Generated::of_option(&loaded.compiled),
                instructions: program.len(),
                converted_instructions: converted,
                listing: listing(&program, &opts),
            },
        )?,
        OutputFormat::Text => {
            if opts.comments {
                match converted {
                    Some(c) => writeln!(
                        out,
                        "; {}, {c} after the kernel's conversion to eBPF",
                        count(program.len(), "instruction")
                    )?,
                    None => writeln!(out, "; {}; the kernel refuses this filter", count(program.len(), "instruction"))?,
                }
            }
            // As `;` comments, so the listing still assembles back (`seccheck asm`).
            if let (Some(c), true) = (&loaded.compiled, opts.comments) {
                writeln!(out, "; {}", super::made_by(c))?;
                for n in &c.notes {
                    writeln!(out, "; note: {n}")?;
                }
            }
            out.write_all(disassemble(&program, &opts).as_bytes())?
        }
    }
    Ok(Outcome::Clean)
}
