//! The `seccheck` command line: parse arguments, call the library, render.
//!
//! Exit codes are the same for every subcommand: 0 = ok, 1 = findings (the
//! kernel would reject the filter, a property fails, …), 2 = bad input or usage.

mod asm;
mod bench;
mod check;
mod completions;
mod diff;
mod disasm;
mod emu;
mod explain;
mod fuzz_generator;
mod generate;
mod input;
mod lint;
mod man;
mod path_length;
mod pid;
mod record;
mod report;
mod run;
mod scan;
mod stack;
mod table;
mod validate;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Verify, compare and benchmark compiled seccomp-BPF filters exactly as the kernel runs them.
#[derive(Parser, Debug)]
#[command(name = "seccheck", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// List every note on what a generator did that the profile does not say
    /// (by default one summary line on stderr).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// No generator notes on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
}

/// How generator notes are reported on stderr: 0 quiet, 1 summary, 2 each.
static NOTES: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

#[derive(Subcommand, Debug)]
enum Command {
    Validate(validate::Args),
    Table(table::Args),
    Check(check::Args),
    Disasm(disasm::Args),
    Asm(asm::Args),
    Emu(emu::Args),
    Scan(scan::Args),
    Lint(lint::Args),
    Explain(explain::Args),
    Diff(diff::Args),
    Stack(stack::Args),
    Pid(pid::Args),
    Bench(bench::Args),
    Report(report::Args),
    Record(record::Args),
    Generate(generate::Args),
    Run(run::Args),
    FuzzGenerator(fuzz_generator::Args),
    Completions(completions::Args),
    Man(man::Args),
}

/// What a subcommand concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: findings, rejection, differences.
    Findings,
    /// The exit status of a command seccheck ran (`record`, `run`).
    Exit(u8),
}

/// An error that ends the run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `FILE: message`
    #[error("{file}: {msg}")]
    Input { file: String, msg: String },
    /// Unreadable or malformed input; the message names the file. (Boxed:
    /// a source error is large, and every command returns this type.)
    #[error("{0}")]
    Source(Box<crate::sources::SourceError>),
    /// The same, with what the user can do about it in this command.
    #[error("{0}; {1}")]
    SourceHint(Box<crate::sources::SourceError>, &'static str),
    #[error("{0}")]
    Usage(String),
    /// Every assembler error, one per line after the first.
    #[error("{file}: {}:\n  {}", crate::words::count(.errors.len(), "error"), .errors.join("\n  "))]
    Assembly { file: String, errors: Vec<String> },
    /// A live process could not be read (no such pid, permissions, kernel support).
    #[error("{0}")]
    Live(#[from] crate::kernel::live::LiveError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The running kernel contradicted a prediction.
    #[error("{0}")]
    KernelDisagrees(String),
}

impl From<crate::sources::SourceError> for CliError {
    fn from(e: crate::sources::SourceError) -> CliError {
        CliError::Source(Box::new(e))
    }
}

/// An output refused or not written (`crate::output`): `PATH: why`.
impl From<crate::output::OutputError> for CliError {
    fn from(e: crate::output::OutputError) -> CliError {
        CliError::Input { file: e.path, msg: e.msg }
    }
}

/// Run the CLI with the process arguments and return the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    NOTES.store(
        if cli.quiet {
            0
        } else if cli.verbose {
            2
        } else {
            1
        },
        std::sync::atomic::Ordering::Relaxed,
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Validate(a) => validate::run(a, &mut out),
        Command::Table(a) => table::run(a, &mut out),
        Command::Check(a) => check::run(a, &mut out),
        Command::Disasm(a) => disasm::run(a, &mut out),
        Command::Asm(a) => asm::run(a, &mut out),
        Command::Emu(a) => emu::run(a, &mut out),
        Command::Scan(a) => scan::run(a, &mut out),
        Command::Lint(a) => lint::run(a, &mut out),
        Command::Explain(a) => explain::run(a, &mut out),
        Command::Diff(a) => diff::run(a, &mut out),
        Command::Stack(a) => stack::run(a, &mut out),
        Command::Pid(a) => pid::run(a, &mut out),
        Command::Bench(a) => bench::run(a, &mut out),
        Command::Report(a) => report::run(a, &mut out),
        Command::Record(a) => record::run(a, &mut out),
        Command::Generate(a) => generate::run(a, &mut out),
        Command::Run(a) => run::run(a, &mut out),
        Command::FuzzGenerator(a) => fuzz_generator::run(a, &mut out),
        Command::Completions(a) => completions::run(a, &mut out),
        Command::Man(a) => man::run(a, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(0),
        Err(e) => {
            eprintln!("seccheck: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Output format shared by the subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

fn write_json(out: &mut dyn Write, v: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(|e| CliError::Output(e.into()))?;
    writeln!(out)?;
    Ok(())
}

/// For a compiled profile: which generator made the program (on `out`, part
/// of the result), and what it did that the profile does not say (on stderr,
/// see [`report_notes`]).
fn write_compile_notes(out: &mut dyn Write, compiled: &Option<crate::sources::CompiledFilter>) -> Result<(), CliError> {
    if let Some(c) = compiled {
        writeln!(out, "{}", made_by(c))?;
        report_notes(None, &c.notes);
    }
    Ok(())
}

/// `compiled by GENERATOR for ARCHES`: which generator made a profile's program.
fn made_by(c: &crate::sources::CompiledFilter) -> String {
    format!("compiled by {} for {}", c.generator, c.arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "))
}

/// Generator notes are diagnostics: on stderr, one summary line by default
/// (`note: FILE: 27 things the generator did that the profile does not say:
/// 18 rules not applied …; -v lists them`), each note with `-v`, none with `-q`.
fn report_notes(file: Option<&str>, notes: &[crate::sources::Note]) {
    if notes.is_empty() {
        return;
    }
    let prefix = file.map(|f| format!("{f}: ")).unwrap_or_default();
    let mut err = std::io::stderr().lock();
    match NOTES.load(std::sync::atomic::Ordering::Relaxed) {
        0 => {}
        1 => {
            let mut kinds: std::collections::BTreeMap<crate::sources::NoteKind, usize> = Default::default();
            for n in notes {
                *kinds.entry(n.kind).or_default() += 1;
            }
            let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {}", k.plural())).collect();
            let _ = writeln!(
                err,
                "note: {prefix}{} {} the generator did that the profile does not say: {}; -v lists them",
                notes.len(),
                if notes.len() == 1 { "thing" } else { "things" },
                parts.join(", ")
            );
        }
        _ => {
            for n in notes {
                let _ = writeln!(err, "note: {prefix}{n}");
            }
        }
    }
}

/// Ask the running kernel about every counterexample in `findings` under
/// `stack` (unless `skip`), marking each `[kernel agrees]`. Returns the line
/// that says what was asked, for text output. The oracle being unavailable
/// (not Linux x86-64, no privileges, a kernel that cannot load filters) is
/// said, not an error: the findings stand on the exact analysis.
fn confirm_counterexamples(
    stack: &[crate::bpf::Program],
    findings: &mut [crate::report::Finding],
    skip: bool,
) -> Option<String> {
    let examples: Vec<&mut crate::report::Counterexample> =
        findings.iter_mut().filter_map(|f| f.counterexample.as_mut()).collect();
    if examples.is_empty() {
        return None;
    }
    let n = examples.len();
    if skip {
        return Some(format!("kernel: not asked about the {} (--no-kernel)", crate::words::count(n, "counterexample")));
    }
    Some(match crate::kernel::confirm::confirm(stack, examples) {
        Ok(c) => {
            let mut line = format!(
                "kernel: the running kernel took the predicted action for {} of {} it was asked about",
                c.agreed,
                crate::words::count(c.asked, "counterexample")
            );
            if c.not_askable > 0 {
                line += &format!("; {} {NOT_ASKABLE}", c.not_askable);
            }
            line
        }
        Err(e) => format!("kernel: counterexamples not confirmed ({e})"),
    })
}

/// Why a counterexample was not put to the kernel, for the closing `kernel:` line.
const NOT_ASKABLE: &str = "not askable here (an arch or instruction pointer this machine cannot issue)";

/// After the output is written: an example the kernel contradicted (each
/// `kernel_confirmed` of the examples shown) means seccheck's model is wrong,
/// and the run must not look successful.
fn kernel_disagreed(confirmed: impl IntoIterator<Item = Option<bool>>) -> Result<(), CliError> {
    let bad = confirmed.into_iter().filter(|&c| c == Some(false)).count();
    if bad == 0 {
        return Ok(());
    }
    Err(CliError::KernelDisagrees(format!(
        "the running kernel contradicted {} (marked KERNEL DISAGREES): seccheck's model is wrong there; please report it with the filter(s)",
        crate::words::count(bad, "example")
    )))
}

/// The `kernel_confirmed` of each finding's counterexample.
fn confirmed_of(findings: &[crate::report::Finding]) -> impl Iterator<Item = Option<bool>> + '_ {
    findings.iter().map(|f| f.counterexample.as_ref().and_then(|c| c.kernel_confirmed))
}

/// The program as the kernel would accept it, or `None` after printing every
/// reason it would refuse it (the caller then ends with [`Outcome::Findings`]).
fn accepted(
    out: &mut dyn Write,
    name: &str,
    program: &crate::bpf::Program,
) -> Result<Option<crate::bpf::ValidProgram>, CliError> {
    match crate::bpf::validate(program) {
        Ok(v) => Ok(Some(v)),
        Err(v) => {
            writeln!(out, "{name}: the kernel refuses this filter, so it never runs:")?;
            for x in &v {
                writeln!(out, "  {x}")?;
            }
            Ok(None)
        }
    }
}
