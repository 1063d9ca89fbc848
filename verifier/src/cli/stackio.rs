//! Filters named on the command line, one or a stack (`A,B,…` with
//! `--stack`): reading each side, naming it, and saying what generated its
//! filters. Shared by `check`, `diff`, `report` and `stack`.

use super::contract::Generated;
use super::input::InputOptions;
use super::CliError;
use crate::bpf::validate::ValidProgram;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Read, compile (profiles) and validate one filter; a filter the kernel would
/// refuse is bad input (it never runs, so there is nothing to compare).
/// Returns what the generator made of a profile.
pub fn load_valid_compiled(input: &InputOptions, file: &Path) -> Result<(ValidProgram, Option<Generated>), CliError> {
    let (valid, compiled) = input.load_valid(file)?;
    Ok((valid, Generated::of_option(&compiled)))
}

/// Each filter of a side or stack with what its generator made of it, for JSON.
pub fn stack_json(files: &[PathBuf], made_by: &[Option<Generated>]) -> serde_json::Value {
    serde_json::Value::Array(
        files
            .iter()
            .zip(made_by)
            .map(|(f, m)| serde_json::json!({ "file": f.display().to_string(), "compiled": m }))
            .collect(),
    )
}

/// `FILE: compiled by …` for every profile among the inputs, so a reader knows
/// which generator made the filter being compared.
pub fn write_made_by(out: &mut dyn Write, files: &[PathBuf], made_by: &[Option<Generated>]) -> Result<(), CliError> {
    for (f, m) in files.iter().zip(made_by) {
        if let Some(m) = m {
            writeln!(out, "{}: {}", f.display(), m.made_by())?;
        }
    }
    Ok(())
}

/// One side: its files (split at commas with `--stack`).
pub fn side_files(arg: &str, stack: bool) -> Result<Vec<PathBuf>, CliError> {
    if !stack {
        return Ok(vec![PathBuf::from(arg)]);
    }
    let files: Vec<PathBuf> = arg.split(',').map(PathBuf::from).collect();
    if files.iter().any(|f| f.as_os_str().is_empty()) {
        return Err(CliError::Usage(format!("--stack side `{arg}` has an empty file name; expected FILE,FILE,…")));
    }
    Ok(files)
}

/// How a side is named in the report.
pub fn side_name(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match names.len() {
        1 => names[0].clone(),
        _ => format!("{} (stack, oldest first)", names.join(" + ")),
    }
}
