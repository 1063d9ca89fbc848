//! `seccheck scan BINARY`: list the seccomp filters embedded in an ELF file.
//!
//! Each can then be given to any command as `BINARY#N`.

use super::{write_json, CliError, Outcome, OutputFormat};
use crate::sources::elf;
use std::io::Write;
use std::path::PathBuf;

/// Find seccomp filters embedded in an ELF executable or shared object.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ELF file to scan (`-`: standard input).
    pub binary: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let name = args.binary.display().to_string();
    let input_err = |msg: String| CliError::Input { file: name.clone(), msg };
    let bytes = crate::sources::read_bounded(&args.binary)?;
    if !elf::is_elf(&bytes) {
        return Err(input_err("not an ELF file (no \\x7fELF magic)".into()));
    }
    let found = elf::scan(&bytes).map_err(|e| input_err(e.to_string()))?;
    match args.format {
        OutputFormat::Json => write_json(out, "scan", &serde_json::json!({ "file": name, "filters": found }))?,
        OutputFormat::Text if found.is_empty() => writeln!(out, "{name}: no seccomp filters found")?,
        OutputFormat::Text => {
            writeln!(out, "{name}: {} found", crate::words::count(found.len(), "seccomp filter"))?;
            for f in &found {
                writeln!(
                    out,
                    "  {name}#{}: {} at file offset {:#x} (vaddr {:#x}) in {}{}",
                    f.index,
                    crate::words::count(f.instructions, "instruction"),
                    f.file_offset,
                    f.vaddr,
                    f.section,
                    f.symbol.as_deref().map(|s| format!(", symbol `{s}`")).unwrap_or_default()
                )?;
            }
        }
    }
    Ok(Outcome::Clean)
}
