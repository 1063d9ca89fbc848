//! `seccheck asm FILE.s -o OUT.bpf`: assemble the `disasm` syntax back into a filter.
//!
//! Exit 0 when the program assembles into a filter the kernel accepts; 2 with
//! every error and its line when it does not assemble. A program that
//! assembles but that the kernel refuses (`bpf::validate`: `bpf_check_classic`,
//! `seccomp_check_filter`, `seccomp_prepare_filter`) is not written, exit 1 with
//! every reason on stderr; `--allow-invalid` writes it anyway (test cases for
//! the validator), still with the reasons as a warning on stderr and exit 1,
//! so a script never mistakes it for a loadable filter.

use super::{CliError, Outcome};
use crate::bpf::assemble;
use crate::output::{Named, Outputs};
use crate::sources::read_bounded;
use std::io::Write;
use std::path::PathBuf;

/// Assemble a listing (as `seccheck disasm` prints it, labels allowed) into a filter.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The assembly source.
    pub file: PathBuf,
    /// Where to write the program; `-` for standard output.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Encoding of the output.
    #[arg(long = "output-format", value_enum, default_value_t = AsmOut::Raw)]
    pub output_format: AsmOut,
    /// Write the program even when the kernel would refuse it (to build test
    /// cases); the reasons still go to stderr and the exit code is 1.
    #[arg(long)]
    pub allow_invalid: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AsmOut {
    /// Raw sock_filter bytes (what seccomp(2) takes).
    Raw,
    /// C array text, as `bpf_asm -c` prints it.
    C,
    /// Hex of the raw bytes, one instruction per line.
    Hex,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let target = if args.output.as_os_str() == "-" {
        None
    } else {
        Some(Outputs::new().input(&args.file).file(&args.output, Named::ByUser)?)
    };
    let name = args.file.display().to_string();
    let bytes = read_bounded(&args.file)?;
    let src = std::str::from_utf8(&bytes).map_err(|e| CliError::Usage(format!("{name}: not UTF-8 text ({e})")))?;
    let program = assemble(src).map_err(|errs| CliError::Assembly {
        file: name.clone(),
        errors: errs.iter().map(|e| e.to_string()).collect(),
    })?;
    let refused = crate::bpf::validate::violations(&program);
    if !refused.is_empty() {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "seccheck: {}: the kernel refuses this program ({}){}:",
            name,
            crate::words::count(refused.len(), "problem"),
            if args.allow_invalid {
                "; written anyway (--allow-invalid)"
            } else {
                "; nothing written (--allow-invalid writes it)"
            }
        )?;
        for v in &refused {
            writeln!(err, "  {v}")?;
        }
        if !args.allow_invalid {
            return Ok(Outcome::Findings);
        }
    }
    let encoded: Vec<u8> = match args.output_format {
        AsmOut::Raw => program.to_bytes(),
        AsmOut::C => program
            .insns
            .iter()
            .map(|i| format!("{{ 0x{:02x}, {}, {}, 0x{:08x} }},\n", i.code, i.jt, i.jf, i.k))
            .collect::<String>()
            .into_bytes(),
        AsmOut::Hex => program
            .insns
            .iter()
            .map(|i| i.to_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
            .collect::<String>()
            .into_bytes(),
    };
    match target {
        None => out.write_all(&encoded)?,
        Some(t) => t.write(&encoded)?,
    }
    Ok(if refused.is_empty() { Outcome::Clean } else { Outcome::Findings })
}
