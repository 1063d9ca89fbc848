//! `seccheck report FILE [--policy P] [--against OLD] [--bench] [--no-kernel] -o report.html|report.md`:
//! the page a reviewer reads before approving a profile.
//!
//! One file with the verdict at the top (policy properties and lints, pass or
//! fail with counts, the generator that produced the filter, its arches), the
//! per-arch syscall matrix coloured by action class (searchable in HTML, with
//! the argument conditions on expansion), every finding with its
//! counterexample and the instructions involved (linked to the annotated
//! disassembly), with `--against` every region where the filter differs from
//! the old one, and with `--bench` the overhead measured on this kernel (table
//! and plots). The format follows the extension of `-o` (`.html`/`.htm`, or
//! `.md` for a GitHub pull-request comment); `--format` overrides it. The file
//! is written whole or not at all. Every counterexample is run through the
//! running kernel and marked where the kernel agrees (`--no-kernel`: not asked).
//!
//! Exit codes as `check`: 0 when the verdict passes (every property holds, no
//! lint warning or error; changes against OLD are reported, not judged), 1 when
//! something fails (or the kernel refuses the filter), 2 on bad input.

use super::input::{FilterArgs, KernelArgs};
use super::numbers;
use super::stackio::load_valid_compiled;
use super::{CliError, Outcome};
use crate::finding::Counterexample;
use crate::kernel::overhead::{Probe, ProbeContext};
use crate::output::{Named, Outputs};
use crate::overhead::suite::{Settings, SuiteError};
use crate::overhead::{self, Subject, SubjectKind};
use crate::report::review::{self, ReviewInput};
use crate::report::{html, markdown};
use std::io::Write;
use std::path::PathBuf;

/// Write one reviewable page about a filter: verdict, syscall matrix, findings,
/// disassembly, and optionally the diff and the overhead.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The properties to check, as policy.toml.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The filter this one replaces (any input format, read with the same
    /// input options): every region where they differ.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Measure the overhead on this kernel (takes a while; numbers are noise on a busy machine).
    #[arg(long)]
    pub bench: bool,
    /// With --bench: concurrent processes, comma-separated, each 1..=64
    /// (default: 1 up to the number of CPUs).
    #[arg(long = "bench-threads", value_delimiter = ',', requires = "bench",
          value_parser = numbers::count::<usize>(1, crate::kernel::overhead::MAX_PROCESSES), allow_negative_numbers = true)]
    pub bench_threads: Vec<usize>,
    /// With --bench: interleaved repetitions of every measurement (a 95 %
    /// interval needs at least 6; fewer resolve no figure); 1..=1000.
    #[arg(long = "bench-rounds", default_value_t = 9, requires = "bench",
          value_parser = numbers::count::<usize>(1, crate::overhead::suite::MAX_ROUNDS), allow_negative_numbers = true)]
    pub bench_rounds: usize,
    /// Where to write the report; its extension picks the format.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Whether the running kernel runs every finding's counterexample (x86_64,
    /// x32 and i386 inputs, on an x86_64 host) and the report says whether it
    /// agrees: by default, as in `check`, `lint` and `diff`.
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// The format, when the extension does not say it.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Markdown,
}

fn format_of(args: &Args) -> Result<ReportFormat, CliError> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    let ext = args.output.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => Ok(ReportFormat::Html),
        Some("md" | "markdown") => Ok(ReportFormat::Markdown),
        _ => Err(CliError::Usage(format!(
            "-o {}: cannot tell the format from the extension; expected .html, .htm or .md, or give --format html|markdown",
            args.output.display()
        ))),
    }
}

/// Measure the filter next to the no-filter baseline and the all-cacheable floor.
fn bench(args: &Args, valid: crate::bpf::ValidProgram, note: String) -> Result<review::BenchView, CliError> {
    let settings = Settings {
        threads: args.bench_threads.clone(),
        rounds: args.bench_rounds,
        batches: 25,
        batch_ns: 100_000.0,
        probes: Probe::HOT.to_vec(),
        probe_bitmap: false,
        per_call: 0,
        neighbours: vec![overhead::Neighbour::Quiet],
        nr_syscalls: None,
    };
    // Every range is clap's (`numbers`); what is left depends on the host.
    let options = settings.options().map_err(|e| {
        CliError::Usage(match e {
            SuiteError::Host => "--bench measures on x86_64 or aarch64 hosts only".into(),
            e => e.to_string(),
        })
    })?;
    let label = args
        .filter
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.filter.display_name());
    let subjects =
        overhead::suite::subjects([Subject { label, kind: SubjectKind::UnderTest, stack: vec![valid], note }]);
    let ctx = ProbeContext::new();
    let plan = overhead::plan(subjects, options, &ctx);
    let command = std::iter::once("seccheck".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let report = overhead::suite::run(&plan, &ctx, 1, &command, &[], &mut |_, _| {})
        .map_err(|e| CliError::failed("--bench: measurement failed: ", e))?;
    review::bench_view(&report).map_err(|e| CliError::failed("--bench: ", e))
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let format = format_of(&args)?;
    // Settled before the analyses (and --bench) run; written whole at the end.
    let mut outputs = Outputs::new();
    outputs.input(&args.filter.file);
    for p in [&args.policy, &args.against].into_iter().flatten() {
        outputs.input(p);
    }
    let target = outputs.file(&args.output, Named::ByUser)?;
    let fallback = args.filter.input.host()?;
    let policy = args.policy.as_deref().map(super::input::read_policy).transpose()?;
    let name = args.filter.display_name();
    let loaded = args.filter.load_full()?;
    let against = match &args.against {
        Some(p) => Some((p.display().to_string(), load_valid_compiled(&args.filter.input, p)?.0)),
        None => None,
    };
    let bench = match (args.bench, crate::bpf::validate(&loaded.program)) {
        (true, Ok(valid)) => {
            let note =
                loaded.compiled.as_ref().map_or_else(|| loaded.format.name().to_string(), |c| c.generator.clone());
            Some(bench(&args, valid, note)?)
        }
        _ => None,
    };
    // Each counterexample through the kernel oracle, judged as `check` and
    // `lint` judge theirs (finding::confirm).
    let mut confirm = |examples: Vec<&mut Counterexample>| {
        crate::finding::confirm::ask(std::slice::from_ref(&loaded.program), examples, false)
    };
    let input = ReviewInput {
        name: name.clone(),
        loaded: &loaded,
        policy: args.policy.as_ref().zip(policy.as_ref()).map(|(p, pol)| (p.display().to_string(), pol)),
        against: against.as_ref().map(|(n, p)| (n.clone(), p)),
        bench,
        fallback_arch: fallback,
        tool: format!("seccheck {}", env!("CARGO_PKG_VERSION")),
        confirm: if args.kernel.no_kernel { None } else { Some(&mut confirm) },
    };
    let r = review::build(input).map_err(|e| match e {
        review::ReviewError::Analysis { file, msg } => {
            CliError::Input { file, msg: format!("cannot be analysed exactly: {msg}") }
        }
    })?;
    let text = match format {
        ReportFormat::Html => html::render(&r).map_err(|e| CliError::failed("", e))?,
        ReportFormat::Markdown => markdown::render(&r),
    };
    target.write(text.as_bytes())?;
    writeln!(out, "{}: {}; {} written", name, r.verdict.headline, args.output.display())?;
    Ok(if r.verdict.pass { Outcome::Clean } else { Outcome::Findings })
}
