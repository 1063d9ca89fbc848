//! `seccheck disasm FILE`: a listing a person can read, in the syntax `asm` takes back.

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::bpf::{disassemble, listing, DisasmOptions};
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

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let arch = match &args.arch {
        None => None,
        Some(a) => super::input::parse_arches(std::slice::from_ref(a), "--arch")?.pop(),
    };
    let loaded = args.filter.load_full()?;
    let program = loaded.program;
    let opts = DisasmOptions { comments: !args.no_comments, arch };
    match args.format {
        OutputFormat::Json => write_json(out, &listing(&program, &opts))?,
        OutputFormat::Text => {
            // As `;` comments, so the listing still assembles back (`seccheck asm`).
            if let (Some(c), true) = (&loaded.compiled, opts.comments) {
                let arches = c.arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ");
                writeln!(out, "; compiled by {} for {arches}", c.generator)?;
                for n in &c.notes {
                    writeln!(out, "; note: {n}")?;
                }
            }
            out.write_all(disassemble(&program, &opts).as_bytes())?
        }
    }
    Ok(Outcome::Clean)
}
