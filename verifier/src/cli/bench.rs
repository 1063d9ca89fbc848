//! `seccheck bench FILE...`: measure the latency filters add to hot syscalls on
//! this kernel, next to the no-filter baseline and the all-cacheable entry
//! floor, with 1..N concurrent processes, and explain it with the cost model.
//!
//! A FILE is anything the other commands read; for profiles, a suffix picks
//! the generator's settings: `profile.json@opt1` (libseccomp linear),
//! `@opt2` (binary tree), `@runc` (what runc installs); `@NAME` picks a
//! seccompiler thread category or Kubernetes profile. `A+B` installs A, then B
//! on top (a stack of two filters).
//!
//! `--command -- CMD…` times a whole command instead, end to end, without
//! and under each FILE ([`crate::overhead::command`]).
//!
//! `--compare-optimized` adds, for every FILE (and generator layout), the
//! program `seccheck optimize` compiles from it, proven equivalent on every
//! input before it is measured ([`crate::optimize::optimize`]), and shows
//! each input next to its optimised program per syscall
//! ([`crate::overhead::compare::optimized`]).

use super::input::{FilterArgs, InputOptions, LoaderArg, OptimizeArg};
use super::numbers;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::arch::Arch;
use crate::bpf::validate::validate;
use crate::kernel::overhead::{Probe, ProbeContext, MAX_BATCHES, MAX_PER_CALL, MAX_PROCESSES};
use crate::output::Outputs;
use crate::overhead::suite::{Settings, SuiteError, BATCH_US, MAX_NR_SYSCALLS, MAX_ROUNDS};
use crate::overhead::{self, Subject, SubjectKind};
use std::io::Write;
use std::path::PathBuf;

/// Measure filter overhead on hot syscalls against the no-filter baseline.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Filters to measure: FILE, FILE@opt1|opt2|runc|NAME, or A+B for a stack.
    #[arg(required_unless_present = "compare_generators")]
    pub filters: Vec<String>,
    /// Measure one profile as each generator compiles it, side by side per
    /// syscall: a Docker/OCI or Kubernetes profile with libseccomp optimize 1
    /// and 2 and as runc loads it (ENOSYS stub), a seccompiler JSON
    /// (`FILE@CATEGORY`) with seccompiler; FILEs given as well join them.
    #[arg(long = "compare-generators", value_name = "PROFILE")]
    pub compare_generators: Option<String>,
    /// Also measure every filter under test as `seccheck optimize` compiles
    /// it (proven equivalent on every input first; laid out for the hot
    /// syscalls, or for the `--workload` trace), and show each next to its
    /// input per syscall: instructions, cache, and the time difference with
    /// its interval. Identical optimised programs are measured once.
    #[arg(long = "compare-optimized")]
    pub compare_optimized: bool,
    /// Concurrent processes, comma-separated, each 1..=64 (default: 1 up to
    /// the number of CPUs), each making calls at once in its own filtered context.
    #[arg(long, visible_alias = "concurrency", value_delimiter = ',',
          value_parser = numbers::count::<usize>(1, MAX_PROCESSES), allow_negative_numbers = true)]
    pub threads: Vec<usize>,
    /// Single calls of each syscall timed one by one per process and run, for
    /// the p50 and p99 latencies under load, 0..=10000 (0: none).
    #[arg(long = "per-call", default_value_t = 1000, value_parser = numbers::count::<u32>(0, MAX_PER_CALL), allow_negative_numbers = true)]
    pub per_call: u32,
    /// `busy`: also run every (round, thread count) with a process spinning
    /// on the last CPU, the measuring processes pinned to the others; the
    /// per-call table then shows each figure quiet and under contention.
    #[arg(long, value_enum, default_value_t = NeighbourArg::Quiet)]
    pub neighbour: NeighbourArg,
    /// Interleaved repetitions of every measurement; a 95 % interval needs at
    /// least 6 (fewer still runs, and resolves no figure); 1..=1000.
    #[arg(long, default_value_t = 9, value_parser = numbers::count::<usize>(1, MAX_ROUNDS), allow_negative_numbers = true)]
    pub rounds: usize,
    /// Timed batches per syscall per run (the median is kept: short batches
    /// that a preemption hit are outvoted); 1..=64.
    #[arg(long, default_value_t = 25, value_parser = numbers::count::<u32>(1, MAX_BATCHES as u32), allow_negative_numbers = true)]
    pub batches: u32,
    /// Target length of one timed batch, in microseconds (well under a
    /// scheduler time slice, so most batches run unpreempted on a busy
    /// machine); 1..=100000.
    #[arg(long = "batch-us", default_value_t = 100.0, value_parser = numbers::decimal(BATCH_US.0, BATCH_US.1), allow_negative_numbers = true)]
    pub batch_us: f64,
    /// Skip measuring where the kernel's cache bitmap ends.
    #[arg(long = "no-bitmap-probe")]
    pub no_bitmap_probe: bool,
    /// The running kernel's native syscall-table size (`NR_syscalls`), if not
    /// Linux 6.18's; 1..=4096.
    #[arg(long = "nr-syscalls", value_parser = numbers::count::<u32>(1, MAX_NR_SYSCALLS), allow_negative_numbers = true)]
    pub nr_syscalls: Option<u32>,
    /// How every FILE is read, as every command reads a filter; a FILE's
    /// `@opt1`/`@opt2`/`@runc`/`@NAME` suffix overrides `--optimize`,
    /// `--loader` and `--filter` for it.
    #[command(flatten)]
    pub input: InputOptions,
    /// Write a Markdown report with SVG plots (and report.json) into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Do not measure: print the cost model's predictions (cache, instructions) only.
    #[arg(long = "predict-only")]
    pub predict_only: bool,
    /// Also measure the sweep filters the cost model is priced from (never
    /// cached): 1 and 8 stacked `ld; ret` filters, and chains of 1000 loads,
    /// 1000 `jeq` and 1000 `add`. Without them only the entry cost is measured.
    #[arg(long = "size-sweep")]
    pub size_sweep: bool,
    /// Run the whole suite N times and report each cost-model parameter's
    /// spread across the runs (tables and plots show the first run); 1..=10.
    #[arg(long, default_value_t = 1, value_parser = numbers::count::<usize>(1, MAX_REPEAT), allow_negative_numbers = true)]
    pub repeat: usize,
    /// Price a trace from `seccheck record` with the measured cost model:
    /// per filter, predicted overhead per allowed call and per second of the
    /// recorded run (needs --size-sweep for calls the cache does not serve).
    /// With --command: the trace of that command, set beside its measured
    /// time (exact instructions; predicted time with --model).
    #[arg(long)]
    pub workload: Option<PathBuf>,
    /// With `--command --workload`: price the trace with the cost model a
    /// `bench --size-sweep` run measured, read from its JSON (`--format
    /// json` output or a `--report` directory's report.json).
    #[arg(long, value_name = "REPORT_JSON", requires = "workload", requires = "command")]
    pub model: Option<PathBuf>,
    /// Time the command given after `--` end to end, without and under each
    /// FILE (installed as `seccheck run` does), instead of the hot-syscall
    /// suite: paired rounds, difference and ratio with 95 % intervals.
    #[arg(long = "command")]
    pub command: bool,
    /// The command `--command` times, and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub argv: Vec<std::ffi::OsString>,
}

/// `--neighbour`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighbourArg {
    /// No neighbour of ours.
    Quiet,
    /// Quiet runs and runs next to a spinning process.
    Busy,
}

/// The filter specs `--compare-generators PROFILE` measures: one per
/// generator that compiles PROFILE's format.
fn generator_specs(spec: &str) -> Result<Vec<String>, CliError> {
    use crate::sources::ProfileFormat;
    let (path, name) = match spec.rsplit_once('@') {
        Some((p, n)) if !std::path::Path::new(spec).exists() => (p, Some(n)),
        _ => (spec, None),
    };
    let bytes = crate::sources::read_bounded(std::path::Path::new(path))?;
    let libseccomp = || ["opt1", "opt2", "runc"].map(|g| format!("{path}@{g}")).to_vec();
    match crate::sources::detect_format(&bytes) {
        Ok(ProfileFormat::DockerJson | ProfileFormat::OciConfig | ProfileFormat::KubernetesYaml) if name.is_none() => {
            Ok(libseccomp())
        }
        Ok(ProfileFormat::KubernetesYaml) => Err(CliError::Usage(format!(
            "--compare-generators {spec}: a Kubernetes profile chosen by name cannot also take the generator suffixes; give a file with one profile"
        ))),
        Ok(ProfileFormat::SeccompilerJson) => Ok(vec![spec.to_string()]),
        Ok(f) => Err(CliError::Usage(format!(
            "--compare-generators {spec}: {} is not compiled by a generator seccheck runs (Docker/OCI, Kubernetes or seccompiler profiles are)",
            f.name()
        ))),
        Err(e) => Err(CliError::Input {
            file: path.to_string(),
            msg: format!("--compare-generators takes a profile (Docker/OCI, Kubernetes or seccompiler JSON): {e}"),
        }),
    }
}

/// `(input, output)` subject labels: a filter and its optimised program.
type Pairs = Vec<(String, String)>;

/// The optimised programs `--compare-optimized` adds: for each subject under
/// test, `seccheck optimize`'s program, proven equivalent to it. Returns the
/// new subjects and the `(input, output)` label pairs; inputs whose
/// optimised programs are identical share one subject.
fn optimized_subjects(
    inputs: &[Subject],
    host: Arch,
    weights: Option<crate::optimize::Weights>,
) -> Result<(Vec<Subject>, Pairs), CliError> {
    let mut opts = crate::optimize::OptimizeOptions::for_host(host)
        .ok_or_else(|| CliError::Usage(format!("--compare-optimized: no action-cache geometry known for {host}")))?;
    if let Some(w) = weights {
        opts.weights = w;
    }
    let mut out: Vec<Subject> = Vec::new();
    let mut pairs = Vec::new();
    for s in inputs {
        let [p] = s.stack.as_slice() else {
            return Err(CliError::Usage(format!(
                "`{}`: --compare-optimized optimises single filters, not stacks (as `seccheck optimize` does)",
                s.label
            )));
        };
        let o = crate::optimize::optimize(p, &opts).map_err(|e| CliError::Input {
            file: s.label.clone(),
            msg: format!("--compare-optimized: not optimised: {e}"),
        })?;
        let (n, m) = (p.insns().len(), o.program.insns().len());
        let label = match out.iter_mut().find(|x| x.stack[0].insns() == o.program.insns()) {
            Some(same) => {
                same.note.push_str(&format!("; also of {} ({n} instructions): the same program", s.label));
                same.label.clone()
            }
            None => {
                let label = format!("{} optimized", s.label);
                out.push(Subject {
                    label: label.clone(),
                    kind: SubjectKind::UnderTest,
                    stack: vec![o.program],
                    note: format!(
                        "seccheck optimize of {} ({n} → {m} instructions, proven equivalent on every input; weights: {})",
                        s.label, opts.weights.source
                    ),
                });
                label
            }
        };
        pairs.push((s.label.clone(), label));
    }
    Ok((out, pairs))
}

/// Most runs of the suite `--repeat` takes.
pub const MAX_REPEAT: usize = 10;

fn filter_args(spec: &str, p: &InputOptions) -> FilterArgs {
    let (path, suffix) = match spec.rsplit_once('@') {
        Some((p, s)) if !std::path::Path::new(spec).exists() => (p, Some(s)),
        _ => (spec, None),
    };
    let mut a = FilterArgs { file: PathBuf::from(path), input: p.clone() };
    match suffix {
        Some("opt1") => (a.input.optimize, a.input.loader) = (OptimizeArg::Linear, LoaderArg::Raw),
        Some("opt2") => (a.input.optimize, a.input.loader) = (OptimizeArg::Tree, LoaderArg::Raw),
        Some("runc") => (a.input.optimize, a.input.loader) = (OptimizeArg::Runc, LoaderArg::Runc),
        Some(name) => a.input.filter = Some(name.to_string()),
        None => {}
    }
    a
}

fn load_subject(spec: &str, p: &InputOptions) -> Result<Subject, CliError> {
    let mut stack = Vec::new();
    let mut notes = Vec::new();
    for part in spec.split('+') {
        let fa = filter_args(part, p);
        let loaded = fa.load_full()?;
        let valid = validate(&loaded.program)
            .map_err(|v| CliError::Input { file: fa.display_name(), msg: super::input::refusal(&v) })?;
        notes.push(match &loaded.compiled {
            Some(c) => c.generator.clone(),
            None => loaded.format.name().to_string(),
        });
        stack.push(valid);
    }
    let label = spec
        .split('+')
        .map(|p| {
            std::path::Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.to_string())
        })
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(Subject { label, kind: SubjectKind::UnderTest, stack, note: notes.join(" + ") })
}

/// One FILE for `--command`: a single filter and the flags its loader installs it with.
fn load_command_subject(spec: &str, p: &InputOptions) -> Result<overhead::command::CommandSubject, CliError> {
    if spec.contains('+') {
        return Err(CliError::Usage(format!(
            "`{spec}`: --command installs one filter per FILE, as `seccheck run` does (no stacks)"
        )));
    }
    let fa = filter_args(spec, p);
    let name = fa.display_name();
    let (valid, compiled) = fa.input.load_valid(&fa.file)?;
    let flags = match &compiled {
        Some(c) => crate::record::verify::load_flag_bits(&c.load_flags).map_err(|flag| CliError::Input {
            file: name.clone(),
            msg: format!("its loader would install it with {flag}, which `seccheck bench --command` does not do (a notifying profile needs a supervisor)"),
        })?,
        None => 0,
    };
    let label = std::path::Path::new(spec).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or(name);
    Ok(overhead::command::CommandSubject {
        label,
        note: match &compiled {
            Some(c) => c.generator.clone(),
            None => "compiled BPF, installed as it is".into(),
        },
        program: valid,
        flags,
    })
}

fn run_command(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    if args.argv.is_empty() {
        return Err(CliError::Usage("--command needs the command after `--`".into()));
    }
    let cmd = crate::kernel::command::resolve(&args.argv).map_err(|e| CliError::failed("", e))?;
    let p = &args.input;
    let mut outputs = Outputs::new();
    let mut subjects = Vec::new();
    let mut specs = match &args.compare_generators {
        Some(g) => generator_specs(g)?,
        None => Vec::new(),
    };
    specs.extend(args.filters.iter().cloned());
    for spec in &specs {
        subjects.push(load_command_subject(spec, p)?);
        outputs.input(&filter_args(spec, p).file);
    }
    if args.compare_optimized {
        let host = overhead::suite::host_arch().ok_or_else(|| {
            CliError::Usage("--compare-optimized: seccheck bench measures on x86_64 or aarch64 hosts only".into())
        })?;
        let as_subjects: Vec<Subject> = subjects
            .iter()
            .map(|c| Subject {
                label: c.label.clone(),
                kind: SubjectKind::UnderTest,
                stack: vec![c.program.clone()],
                note: c.note.clone(),
            })
            .collect();
        let (more, pairs) = optimized_subjects(&as_subjects, host, None)?;
        for o in more {
            // Installed with the flags of the (first) input it was optimised from.
            let from = pairs.iter().find(|p| p.1 == o.label).map(|p| p.0.as_str());
            let flags = subjects.iter().find(|c| Some(c.label.as_str()) == from).map_or(0, |c| c.flags);
            subjects.push(overhead::command::CommandSubject {
                label: o.label,
                note: o.note,
                program: o.stack[0].clone(),
                flags,
            });
        }
    }
    // Read before measuring: a bad trace or model costs no run.
    let workload = match &args.workload {
        Some(path) => {
            let trace = crate::record::read_trace(path).map_err(|e| CliError::failed("", e))?;
            let model = match &args.model {
                Some(m) => {
                    outputs.input(m);
                    let bytes = crate::sources::read_bounded(m).map_err(|e| CliError::Source(Box::new(e)))?;
                    overhead::CostModel::from_bench_json(&bytes)
                        .map_err(|msg| CliError::Input { file: m.display().to_string(), msg })?
                }
                None => overhead::CostModel::default(),
            };
            outputs.input(path);
            let geometry =
                overhead::suite::host_geometry(args.nr_syscalls).map_err(|e| CliError::Usage(e.to_string()))?;
            let priced = subjects.iter().map(|c| (c.label.as_str(), std::slice::from_ref(&c.program)));
            Some(overhead::price_trace(priced, geometry, &model, path.display().to_string(), &trace))
        }
        None => None,
    };
    let report_dir = args.report.as_ref().map(|d| outputs.dir(d)).transpose()?;
    let bar = progress_bar(args.quiet);
    let shown: Vec<String> = args.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut report =
        overhead::command::measure(&cmd, shown, &subjects, args.rounds, invocation(), &mut |done, total, what| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(what.to_string());
        })
        .map_err(|e| CliError::failed("measurement failed: ", e))?;
    bar.finish_and_clear();
    report.workload = workload;
    report.model_from = args.model.as_ref().map(|m| m.display().to_string());
    if let Some(dir) = &report_dir {
        crate::report::overhead_command::write(&report, dir).map_err(|e| CliError::failed("", e))?;
    }
    match args.format {
        OutputFormat::Json => write_json(out, "bench-command", &report)?,
        OutputFormat::Text => write!(out, "{}", crate::report::overhead_command::text(&report))?,
    }
    Ok(Outcome::Clean)
}

fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(1);
    b.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs · {elapsed} · {msg}")
            .expect("valid template"),
    );
    b
}

/// The command line that produced a report.
fn invocation() -> String {
    std::iter::once("seccheck".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    if args.command {
        return run_command(args, out);
    }
    if !args.argv.is_empty() {
        return Err(CliError::Usage("a command after `--` is timed only with --command".into()));
    }
    let settings = Settings {
        threads: args.threads.clone(),
        rounds: args.rounds,
        batches: args.batches,
        batch_ns: args.batch_us * 1000.0,
        // The hot syscalls, then a number no syscall has: it runs every
        // filter's default path (the model's validation, see UNKNOWN_NR).
        probes: Probe::HOT.iter().copied().chain([Probe::Raw(overhead::UNKNOWN_NR)]).collect(),
        probe_bitmap: !args.no_bitmap_probe,
        per_call: args.per_call,
        neighbours: match args.neighbour {
            NeighbourArg::Quiet => vec![overhead::Neighbour::Quiet],
            NeighbourArg::Busy => vec![overhead::Neighbour::Quiet, overhead::Neighbour::Busy],
        },
        nr_syscalls: args.nr_syscalls,
    };
    // Every range is clap's (`numbers`); what is left depends on the host.
    let options = settings.options().map_err(|e| {
        CliError::Usage(match e {
            SuiteError::Host => "seccheck bench measures on x86_64 or aarch64 hosts only".into(),
            SuiteError::BusyNeighbour => "--neighbour busy needs at least two CPUs (one for the neighbour)".into(),
            e => e.to_string(),
        })
    })?;
    let mut subjects = Vec::new();
    let mut outputs = Outputs::new();
    let mut specs = match &args.compare_generators {
        Some(p) => generator_specs(p)?,
        None => Vec::new(),
    };
    specs.extend(args.filters.iter().cloned());
    for spec in &specs {
        subjects.push(load_subject(spec, &args.input)?);
        for part in spec.split('+') {
            outputs.input(&filter_args(part, &args.input).file);
        }
    }
    let trace = match &args.workload {
        Some(path) => {
            Some((path.display().to_string(), crate::record::read_trace(path).map_err(|e| CliError::failed("", e))?))
        }
        None => None,
    };
    let mut optimized_pairs = Vec::new();
    if args.compare_optimized {
        let weights = trace.as_ref().map(|(name, t)| crate::optimize::Weights::from_trace(t, name));
        let under: Vec<Subject> = subjects.iter().filter(|s| s.kind == SubjectKind::UnderTest).cloned().collect();
        let host = overhead::suite::host_arch()
            .ok_or_else(|| CliError::Usage("seccheck bench measures on x86_64 or aarch64 hosts only".into()))?;
        let (more, pairs) = optimized_subjects(&under, host, weights)?;
        subjects.extend(more);
        optimized_pairs = pairs;
    }
    // Claimed before measuring: a refused directory costs no run.
    let report_dir = match (&args.report, args.predict_only) {
        (Some(dir), false) => Some(outputs.dir(dir)?),
        _ => None,
    };
    if args.size_sweep {
        subjects.extend(Subject::sweeps());
    }
    let ctx = ProbeContext::new();
    let plan = overhead::plan(overhead::suite::subjects(subjects), options, &ctx);
    if args.predict_only {
        let info = overhead::predictions(&plan);
        match args.format {
            OutputFormat::Json => write_json(out, "bench-predict", &serde_json::json!({ "subjects": info }))?,
            OutputFormat::Text => write!(out, "{}", crate::report::overhead::predictions_text(&info))?,
        }
        return Ok(Outcome::Clean);
    }
    let bar = progress_bar(args.quiet);
    let repeat = args.repeat;
    let mut report = overhead::suite::run(&plan, &ctx, repeat, &invocation(), &optimized_pairs, &mut |run, p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        if repeat > 1 {
            bar.set_message(format!("run {}/{} · {}", run + 1, repeat, p.what));
        } else {
            bar.set_message(p.what.to_string());
        }
    })
    .map_err(|e| CliError::failed("measurement failed: ", e))?;
    bar.finish_and_clear();
    if let Some((name, t)) = &trace {
        report.workload = Some(overhead::workload(&plan, &report.model, name.clone(), t));
    }
    if let Some(dir) = &report_dir {
        crate::report::overhead::write(&report, dir).map_err(|e| CliError::failed("", e))?;
    }
    match args.format {
        OutputFormat::Json => write_json(out, "bench", &report)?,
        OutputFormat::Text => write!(out, "{}", crate::report::overhead::text(&report))?,
    }
    Ok(Outcome::Clean)
}
