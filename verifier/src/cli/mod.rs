//! The `seccheck` command line: parse arguments, call the library, render.
//!
//! Exit codes are the same for every subcommand: 0 = ok, 1 = findings (the
//! kernel would reject the filter, a property fails, …), 2 = bad input or usage.

mod asm;
mod bench;
mod check;
mod completions;
mod contract;
mod diff;
mod disasm;
mod emu;
mod explain;
mod fuzz_generator;
mod generate;
mod input;
mod lint;
mod man;
mod numbers;
mod optimize;
#[cfg(test)]
mod options_tests;
mod path_length;
mod pid;
mod record;
mod report;
mod run;
mod scan;
mod stack;
mod stackio;
mod table;
mod validate;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Verify, compare and benchmark compiled seccomp-BPF filters exactly as the kernel runs them.
#[derive(Parser, Debug)]
#[command(
    name = "seccheck",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = "Exit status: 0 clean, 1 findings (a violated property, a lint warning, a difference, …), 2 bad \
                  input or usage (one line on stderr says why); `run` and `record` exit with the command's \
                  status. Each command's --help says what its codes mean."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// List every note on what a generator did that the profile does not say
    /// (by default one summary line on stderr), and in `table` and `stack`
    /// every syscall of an "every other syscall number" row.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// No generator notes on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
}

/// How generator notes are reported on stderr: 0 quiet, 1 summary, 2 each.
static NOTES: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

/// `-v`: list everything in full (generator notes, the syscalls of a
/// table's "every other syscall number" row).
fn verbose() -> bool {
    NOTES.load(std::sync::atomic::Ordering::Relaxed) == 2
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(
        after_help = "Exit status: 0 the kernel accepts the filter, 1 it refuses it (every reason listed), 2 the file cannot be read as a filter."
    )]
    Validate(validate::Args),
    #[command(
        after_help = "Exit status: 0, 1 the kernel refuses the filter (it never runs: no table), 2 bad input or usage."
    )]
    Table(table::Args),
    #[command(
        after_help = "Exit status: 0 every property holds and no lint reports a warning or an error, 1 otherwise (the verdict line says which decided it) or the kernel refuses the filter or stack, 2 bad input (the policy's errors with line and column)."
    )]
    Check(check::Args),
    #[command(
        after_help = "Exit status: 0 (a filter the kernel refuses is listed too, with why), 2 bad input or usage."
    )]
    Disasm(disasm::Args),
    #[command(
        after_help = "Exit status: 0 assembled into a filter the kernel accepts, 1 the kernel would refuse it (reasons on stderr; written only with --allow-invalid), 2 it does not assemble (every error with its line)."
    )]
    Asm(asm::Args),
    #[command(after_help = "Exit status: 0, 1 the kernel refuses the filter (it never runs), 2 bad input or usage.")]
    Emu(emu::Args),
    #[command(after_help = "Exit status: 0, 2 the file cannot be read as an ELF binary.")]
    Scan(scan::Args),
    #[command(
        after_help = "Exit status: 0 nothing or only notes, 1 a warning or an error (or the kernel refuses the filter), 2 the file cannot be read or analysed exactly."
    )]
    Lint(lint::Args),
    #[command(after_help = "Exit status: 0, 2 no finding has that code or name.")]
    Explain(explain::Args),
    #[command(
        after_help = "Exit status: 0 equivalent (with --refines: A is at least as strict as B everywhere), 1 they differ (or a stack is longer than the kernel allows), 2 bad input (a filter the kernel refuses included)."
    )]
    Diff(diff::Args),
    #[command(
        after_help = "Exit status: 0 written and proven equivalent, 2 bad input or anything unproven (nothing written)."
    )]
    Optimize(optimize::Args),
    #[command(
        after_help = "Exit status: 0, 1 the stack is longer than the kernel allows (every filter's total shown), 2 bad input (a filter the kernel refuses included)."
    )]
    Stack(stack::Args),
    #[command(
        after_help = "Exit status: 0, 2 the process cannot be read (no such process, permissions, kernel support)."
    )]
    Pid(pid::Args),
    #[command(after_help = "Exit status: 0, 2 bad input, or the host cannot measure.")]
    Bench(bench::Args),
    #[command(
        after_help = "Exit status: 0 the verdict passes, 1 it fails (or the kernel refuses the filter), 2 bad input."
    )]
    Report(report::Args),
    #[command(
        after_help = "Exit status: the command's (128 + N when signal N ended it); with --check, 1 when the filter would have blocked a call, else the command's; 2 seccheck could not run it."
    )]
    Record(record::Args),
    #[command(
        after_help = "Exit status: 0 the generated profile is verified, 1 it is not (files still written, the verdict line says FAIL), 2 bad input."
    )]
    Generate(generate::Args),
    #[command(
        after_help = "Exit status: the command's (128 + N when signal N ended it); 2 it could not be started (including a profile that denies execve)."
    )]
    Run(run::Args),
    #[command(
        after_help = "Exit status: 0 nothing found, or only known generator issues (--fail-on any: nothing at all), 1 other findings or a self-check failure, 2 bad usage."
    )]
    FuzzGenerator(fuzz_generator::Args),
    #[command(after_help = "Exit status: 0, 2 bad usage.")]
    Completions(completions::Args),
    #[command(after_help = "Exit status: 0, 2 bad usage or DIR cannot be written.")]
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
    /// The arguments make no sense together (or name nothing that exists).
    #[error("{0}")]
    Usage(String),
    /// A library call failed at run time: `CONTEXTSOURCE`, with the
    /// library's error as [`std::error::Error::source`].
    #[error("{context}{source}")]
    Failed { context: String, source: Box<dyn std::error::Error + Send + Sync> },
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

impl CliError {
    /// A failure of `source`, shown after `context` (which ends in `: ` when
    /// not empty).
    fn failed(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> CliError {
        CliError::Failed { context: context.into(), source: Box::new(source) }
    }
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
        Err(e) => return usage_error(&e),
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
        Command::Optimize(a) => optimize::run(a, &mut out),
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

/// A command line clap refused, said as every other error is: `seccheck:
/// error: …` on stderr, exit 2 (a value out of range is one line; a missing
/// argument keeps clap's usage line). `--help` and `--version` print to stdout
/// and exit 0; `seccheck` alone prints the help to stderr and exits 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    eprintln!("seccheck: {}", usage_text(&e.render().to_string()));
    ExitCode::from(2)
}

/// clap's rendering of an error without its blank lines and closing pointer
/// to `--help` (said once in every error, it points nowhere new).
fn usage_text(rendered: &str) -> String {
    rendered
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("For more information, try"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Output format shared by the subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

use contract::write_json;

impl OutputFormat {
    /// How `command` renders in this format.
    fn rendering(self, command: &'static str) -> Rendering {
        match self {
            OutputFormat::Text => Rendering::Text,
            OutputFormat::Json => Rendering::Json(command),
        }
    }
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
/// `stack` (unless `skip`), marking each `[kernel agrees]`
/// ([`crate::finding::confirm::ask`]).
fn confirm_counterexamples(
    stack: &[crate::bpf::Program],
    findings: &mut [crate::finding::Finding],
    skip: bool,
) -> contract::KernelCheck {
    let examples = findings.iter_mut().filter_map(|f| f.counterexample.as_mut()).collect();
    crate::finding::confirm::ask(stack, examples, skip)
}

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
fn confirmed_of(findings: &[crate::finding::Finding]) -> impl Iterator<Item = Option<bool>> + '_ {
    findings.iter().map(|f| f.counterexample.as_ref().and_then(|c| c.kernel_confirmed))
}

/// The SARIF 2.1.0 log of `findings` (`check`, `lint`), locations relative
/// to the working directory.
fn write_sarif(
    out: &mut dyn Write,
    artifact: &str,
    policy: Option<&str>,
    findings: &[crate::finding::Finding],
) -> Result<(), CliError> {
    let cwd = std::env::current_dir()?;
    serde_json::to_writer_pretty(&mut *out, &crate::report::sarif::log(artifact, policy, findings, &cwd))
        .map_err(|e| CliError::Output(e.into()))?;
    writeln!(out)?;
    Ok(())
}

/// How a command renders its result, for the helpers every format shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rendering {
    Text,
    /// The command's JSON document (its name, for the `schema`).
    Json(&'static str),
    Sarif,
}

/// The program as the kernel would accept it, or `None` after writing every
/// reason it would refuse it (the caller then ends with [`Outcome::Findings`]):
/// in text, one line each; in JSON, the command's document for a refused
/// filter (`{file, accepted: false, violations}`); in SARIF, one `V001`
/// result each.
fn accepted(
    out: &mut dyn Write,
    how: Rendering,
    name: &str,
    program: &crate::bpf::Program,
) -> Result<Option<crate::bpf::ValidProgram>, CliError> {
    let v = match crate::bpf::validate(program) {
        Ok(v) => return Ok(Some(v)),
        Err(v) => v,
    };
    match how {
        Rendering::Text => {
            writeln!(out, "{name}: the kernel refuses this filter, so it never runs:")?;
            for x in &v {
                writeln!(out, "  {x}")?;
            }
        }
        Rendering::Json(command) => {
            let mut doc =
                serde_json::json!({ "file": name, "accepted": false, "instructions": program.len(), "violations": v });
            if command == "check" {
                doc["verdict"] = serde_json::json!({ "pass": false, "refused": "filter" });
                doc["verdict_line"] = serde_json::json!("FAIL: the kernel refuses this filter, so it never runs");
            }
            write_json(out, command, &doc)?
        }
        Rendering::Sarif => {
            let findings: Vec<crate::finding::Finding> = v
                .iter()
                .map(|x| crate::finding::Finding {
                    code: crate::report::codes::REFUSED.0,
                    name: crate::report::codes::REFUSED.1,
                    severity: crate::finding::Severity::Error,
                    message: format!("the kernel refuses this filter, so it never runs: {x}"),
                    insns: x.insn.into_iter().collect(),
                    policy_line: None,
                    counterexample: None,
                })
                .collect();
            write_sarif(out, name, None, &findings)?;
        }
    }
    Ok(None)
}
