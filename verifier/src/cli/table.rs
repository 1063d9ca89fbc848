//! `seccheck table FILE`: what the filter does, per arch and per syscall, for
//! every argument value — computed exactly by the symbolic evaluator.

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::symbolic::{analyze, Options, TableOptions};
use std::io::Write;

/// The exact per-arch, per-syscall table: which action each syscall gets, and
/// under which argument conditions.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only these arches (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub arch: Vec<String>,
    /// Only these syscalls (names or numbers, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub syscall: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let arches = super::input::parse_arches(&args.arch, "--arch")?;
    let syscalls = super::input::syscall_selection(&args.syscall, &arches)?;
    let loaded = args.filter.load_full()?;
    let name = args.filter.display_name();
    let Some(valid) = super::accepted(out, args.format.rendering("table"), &name, &loaded.program)? else {
        return Ok(Outcome::Findings);
    };
    let mut analysis = analyze(&valid, &Options::default())
        .map_err(|e| CliError::Input { file: name.clone(), msg: format!("cannot be analysed exactly: {e}") })?;
    let opts = TableOptions { arches: (!arches.is_empty()).then_some(arches), syscalls };
    let table = analysis.table(&opts);
    match args.format {
        OutputFormat::Json => write_json(
            out,
            "table",
            &serde_json::json!({
                "file": name,
                "instructions": valid.len(),
                "compiled": super::contract::Generated::of_option(&loaded.compiled),
                "table": table,
            }),
        )?,
        OutputFormat::Text => {
            writeln!(out, "{name}: {}", crate::words::count(valid.len(), "instruction"))?;
            super::write_compile_notes(out, &loaded.compiled)?;
            out.write_all(table.render_text_with(super::verbose()).as_bytes())?;
        }
    }
    Ok(Outcome::Clean)
}
