//! The filter overhead suite: plan, measure, and explain what filters cost
//! on this kernel.
//!
//! 1. [`plan`]: for every subject (no filter, the all-cacheable
//!    `ld [0]; ret ALLOW` floor, each filter stack under test) and every hot
//!    syscall probe, the emulator decides what the stack does with the exact
//!    `seccomp_data` the probe will produce; killed or trapped probes are
//!    skipped, ERRNO'd ones are measured and labelled. The cost model predicts
//!    each call: cached by the kernel's action cache, or how many BPF
//!    instructions run.
//! 2. [`measure`]: rounds × thread counts × subjects, the subject order
//!    rotated every round so that filtered and unfiltered runs interleave;
//!    each run is one group of forked children ([`crate::kernel::overhead`]).
//! 3. [`analyze`]: per (subject, probe, threads) the median over rounds and
//!    its spread; the overhead as the *paired* per-round difference to the
//!    baseline of the same round (and to the entry floor, which separates the
//!    seccomp entry cost from the filter's run time); the noise of the
//!    baseline itself; the linear cost model fitted to the single-thread
//!    measurements and how well it predicts them.

pub mod stats;

use crate::bpf::{validate, Program, ValidProgram};
use crate::cost::{ActionCache, CacheGeometry, CostTable};
use crate::emu::{run_stack, Emulator};
use crate::kernel::environment::{self, Environment, Load};
use crate::kernel::overhead::{self as kov, OverheadError, Probe, ProbeContext, ProbePlan, RunSpec, TickClock};
use crate::seccomp::Action;
use serde::Serialize;
use stats::{least_squares, pearson, resolution, summarize, Resolution, Summary};

/// What a subject is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// No filter at all.
    Baseline,
    /// `ld [0]; ret ALLOW`: every syscall is served by the action cache, so this
    /// is the cost of entering seccomp at all.
    EntryFloor,
    /// A filter (or stack) under test.
    UnderTest,
}

/// A filter stack to measure.
#[derive(Clone, Debug)]
pub struct Subject {
    pub label: String,
    pub kind: SubjectKind,
    /// Installation order, newest last.
    pub stack: Vec<ValidProgram>,
    /// Where it came from (generator, file).
    pub note: String,
}

impl Subject {
    pub fn baseline() -> Subject {
        Subject { label: "no filter".into(), kind: SubjectKind::Baseline, stack: vec![], note: "baseline".into() }
    }
    pub fn entry_floor() -> Subject {
        use crate::bpf::insn::*;
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW),
        ]);
        Subject {
            label: "ld [0]; ret ALLOW".into(),
            kind: SubjectKind::EntryFloor,
            stack: vec![validate(&p).expect("valid")],
            note: "all-cacheable filter: seccomp entry cost only".into(),
        }
    }
}

/// Lengths of the [`Subject::size_sweep`] filters: the instruction counts the
/// design's own anchors were measured at (DESIGN.md, "What the kernel costs here").
pub const SWEEP_SIZES: [usize; 3] = [6, 1006, 4006];

impl Subject {
    /// A filter that runs exactly `len` instructions for every system call and
    /// that the kernel's action cache never serves: it loads `arg0` first (a
    /// load outside `nr`/`arch` makes `seccomp_is_const_allow` give up), then
    /// `len - 2` `add #1` (each one JIT-compiled instruction; a jump whose two
    /// targets are the next instruction would be turned into a no-op by
    /// `bpf_convert_filter`), then `ret ALLOW`. Measuring a few lengths gives
    /// the model its per-instruction cost from points that differ in nothing else.
    pub fn size_sweep(len: usize) -> Subject {
        use crate::bpf::insn::*;
        assert!((2..=BPF_MAXINSNS).contains(&len), "sweep length {len}");
        let mut v = vec![Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16)];
        v.extend(std::iter::repeat_n(Insn::stmt(BPF_ALU | BPF_ADD | BPF_K, 1), len - 2));
        v.push(Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW));
        Subject {
            label: format!("sweep: {len} insns"),
            kind: SubjectKind::UnderTest,
            stack: vec![validate(&Program::new(v)).expect("a straight line of ALU instructions is valid")],
            note: format!("synthetic: {len} instructions on every path, never cached"),
        }
    }
}

/// Suite options.
#[derive(Clone, Debug, Serialize)]
pub struct Options {
    /// Concurrent children per run, e.g. `[1, 2]`.
    pub threads: Vec<usize>,
    /// Interleaved repetitions of every (subject, threads) run.
    pub rounds: usize,
    /// Timed batches per probe per run.
    pub batches: u32,
    /// Target duration of one batch, nanoseconds (sets iterations per probe).
    pub batch_ns: f64,
    pub probes: Vec<Probe>,
    pub geometry: CacheGeometry,
    /// Also measure where the native cache bitmap ends.
    pub probe_bitmap: bool,
}

/// The cost model's view of one call of a probe under a subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallPrediction {
    pub nr: u32,
    /// What the stack does with this exact input (emulator, `run_stack`).
    pub action: Action,
    /// Served by the kernel's action cache (no filter runs).
    pub cached: bool,
    /// Instructions executed over the stack for this input (0 when cached).
    pub insns: u32,
    /// Filters run (0 when cached).
    pub filters_run: u32,
}

/// Whether and how a probe is measured under a subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    Measured,
    /// The filter denies it: measured, but it is the cost of the denial, not of the syscall.
    Denied { action: String },
    /// Not measured: calling it would kill or trap the measuring process, or
    /// its answer depends on the instruction pointer, which we cannot fix.
    Skipped { reason: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct ProbeDecision {
    pub probe: Probe,
    pub calls: Vec<CallPrediction>,
    pub verdict: Verdict,
}

/// The plan of a suite: subjects with their decisions.
#[derive(Clone, Debug)]
pub struct Plan {
    pub subjects: Vec<Subject>,
    pub decisions: Vec<Vec<ProbeDecision>>,
    pub options: Options,
}

fn reads_ip(v: &ValidProgram, path: &[usize]) -> bool {
    use crate::bpf::insn::*;
    path.iter().any(|&pc| {
        let i = v.insns()[pc];
        i.code == BPF_LD | BPF_W | BPF_ABS && (i.k == 8 || i.k == 12)
    })
}

/// Decide, per subject and probe, what happens and what the model predicts.
pub fn plan(subjects: Vec<Subject>, options: Options, ctx: &ProbeContext) -> Plan {
    let decisions = subjects
        .iter()
        .map(|s| {
            let emus: Vec<Emulator> = s.stack.iter().map(Emulator::new).collect();
            let programs: Vec<&Program> = s.stack.iter().map(|v| v.program()).collect();
            let cache = ActionCache::prepare(&programs, options.geometry);
            options
                .probes
                .iter()
                .map(|&probe| {
                    let mut ip_dependent = false;
                    let calls: Vec<CallPrediction> = ctx
                        .inputs(probe)
                        .iter()
                        .map(|d| {
                            let action = if emus.is_empty() { Action::Allow } else { Action::from_ret(run_stack(&emus, d)) };
                            let cached = !s.stack.is_empty() && cache.is_cached(d.arch, d.nr);
                            let (mut insns, mut filters_run) = (0, 0);
                            if !cached {
                                for (e, v) in emus.iter().zip(&s.stack) {
                                    let t = e.trace(d);
                                    ip_dependent |= reads_ip(v, &t.path);
                                    insns += t.path.len() as u32;
                                    filters_run += 1;
                                }
                            }
                            CallPrediction { nr: d.nr, action, cached, insns, filters_run }
                        })
                        .collect();
                    let name = |c: &CallPrediction| kov_name(c.nr);
                    let fatal = calls.iter().find(|c| {
                        !matches!(c.action.effective(), Action::Allow | Action::Log | Action::Errno(_) | Action::Trace(_))
                    });
                    let denied = calls.iter().find(|c| matches!(c.action, Action::Errno(_) | Action::Trace(_)));
                    let verdict = if let Some(c) = fatal {
                        Verdict::Skipped { reason: format!("{} for {}", c.action, name(c)) }
                    } else if ip_dependent {
                        Verdict::Skipped { reason: "the filter reads the instruction pointer".into() }
                    } else if let Some(c) = denied {
                        Verdict::Denied { action: format!("{} for {}", c.action, name(c)) }
                    } else {
                        Verdict::Measured
                    };
                    ProbeDecision { probe, calls, verdict }
                })
                .collect()
        })
        .collect();
    Plan { subjects, decisions, options }
}

/// One run's result for one probe: per child, the median ns/call over batches.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub subject: usize,
    pub threads: usize,
    pub round: usize,
    pub probe: Probe,
    pub per_child: Vec<f64>,
    /// What each call returned in the first child's warm-up (`-errno` on failure).
    pub returns: Vec<i64>,
}

/// Where the native cache bitmap ends, measured with a long all-cacheable filter.
#[derive(Clone, Debug, Serialize)]
pub struct BitmapProbe {
    pub filter_len: usize,
    pub predicted_size: u32,
    /// `(nr, ns/call)` for numbers around the predicted size, then the x32
    /// number of `getpid` (never cached).
    pub latencies: Vec<(u32, f64)>,
    /// Smallest number from which every probed number runs the filter.
    pub measured_size: Option<u32>,
    pub conclusion: String,
}

/// Everything measured.
#[derive(Clone, Debug)]
pub struct Measurements {
    pub plan: Plan,
    pub clock: TickClock,
    pub iterations: Vec<(Probe, u32)>,
    pub samples: Vec<Sample>,
    pub environment: Environment,
    pub load: Load,
    pub bitmap: Option<BitmapProbe>,
}

/// Progress of [`measure`]: `done` of `total` runs, and what runs now.
pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub what: &'a str,
}

/// Run the plan. `progress` is called before every run.
pub fn measure(plan: Plan, ctx: &ProbeContext, progress: &mut dyn FnMut(Progress)) -> Result<Measurements, OverheadError> {
    let environment = environment::environment();
    let start = environment::sample_load();
    let clock = TickClock::calibrate(std::time::Duration::from_millis(20));
    let opts = &plan.options;
    let total = 1 + opts.rounds * opts.threads.len() * plan.subjects.len() + usize::from(opts.probe_bitmap);
    progress(Progress { done: 0, total, what: "calibrating" });
    // Calibrate iterations on the baseline: a batch should take about batch_ns.
    let cal: Vec<ProbePlan> = opts.probes.iter().map(|&probe| ProbePlan { probe, iterations: 200, enabled: true }).collect();
    let r = kov::run(&RunSpec { stack: &[], probes: &cal, processes: 1, batches: 3, clock }, ctx)?;
    let iterations: Vec<(Probe, u32)> = r.children[0]
        .iter()
        .map(|p| {
            let ns = stats::median(&p.ns_per_call).unwrap_or(1000.0).max(1.0);
            (p.probe, (opts.batch_ns / ns).clamp(20.0, 200_000.0) as u32)
        })
        .collect();
    let mut samples = Vec::new();
    let mut done = 1;
    let n = plan.subjects.len();
    for round in 0..opts.rounds {
        for &threads in &opts.threads {
            for k in 0..n {
                let si = (k + round) % n;
                let subject = &plan.subjects[si];
                progress(Progress { done, total, what: &format!("round {}/{} · {} thread(s) · {}", round + 1, opts.rounds, threads, subject.label) });
                let probes: Vec<ProbePlan> = plan.decisions[si]
                    .iter()
                    .zip(&iterations)
                    .map(|(d, &(_, it))| ProbePlan { probe: d.probe, iterations: it, enabled: !matches!(d.verdict, Verdict::Skipped { .. }) })
                    .collect();
                let stack: Vec<Program> = subject.stack.iter().map(|v| v.program().clone()).collect();
                let r = kov::run(&RunSpec { stack: &stack, probes: &probes, processes: threads, batches: opts.batches, clock }, ctx)?;
                for (j, plan_j) in probes.iter().enumerate() {
                    if !plan_j.enabled {
                        continue;
                    }
                    let per_child: Vec<f64> = r.children.iter().filter_map(|c| stats::median(&c[j].ns_per_call)).collect();
                    samples.push(Sample { subject: si, threads, round, probe: plan_j.probe, per_child, returns: r.children[0][j].first_returns.clone() });
                }
                done += 1;
            }
        }
    }
    let bitmap = if opts.probe_bitmap {
        progress(Progress { done, total, what: "probing the cache bitmap size" });
        Some(probe_bitmap(opts.geometry, clock, ctx)?)
    } else {
        None
    };
    let load = environment::load_between(&start, &environment::sample_load(), environment.cpus);
    Ok(Measurements { plan, clock, iterations, samples, environment, load, bitmap })
}

/// Length of the bitmap-probe filter: long enough that running it (~0.17 ns per
/// JIT-compiled instruction here) stands far above the noise.
pub const BITMAP_PROBE_LEN: usize = 4000;

/// Time `syscall(nr)` for numbers around the predicted native bitmap size under
/// an all-cacheable filter of [`BITMAP_PROBE_LEN`] instructions: numbers inside
/// the bitmap are served by the cache, numbers outside run every instruction.
pub fn probe_bitmap(geometry: CacheGeometry, clock: TickClock, ctx: &ProbeContext) -> Result<BitmapProbe, OverheadError> {
    let predicted = geometry.native.nr_syscalls;
    let mut nrs: Vec<u32> = (predicted.saturating_sub(4)..predicted + 4).collect();
    let x32 = libc::SYS_getpid as u32 | crate::arch::X32_SYSCALL_BIT;
    if geometry.native.arch == crate::arch::Arch::X86_64 {
        nrs.push(x32);
    }
    let probes: Vec<ProbePlan> = nrs.iter().map(|&nr| ProbePlan { probe: Probe::Raw(nr), iterations: 2000, enabled: true }).collect();
    let stack = [kov::cacheable_chain(BITMAP_PROBE_LEN)];
    let mut per_nr: Vec<Vec<f64>> = vec![Vec::new(); nrs.len()];
    for _ in 0..3 {
        let r = kov::run(&RunSpec { stack: &stack, probes: &probes, processes: 1, batches: 5, clock }, ctx)?;
        for (j, p) in r.children[0].iter().enumerate() {
            per_nr[j].extend(&p.ns_per_call);
        }
    }
    let latencies: Vec<(u32, f64)> = nrs.iter().zip(&per_nr).map(|(&nr, v)| (nr, stats::median(v).unwrap_or(f64::NAN))).collect();
    let (measured_size, conclusion) = classify_bitmap(&latencies, predicted, x32);
    Ok(BitmapProbe { filter_len: BITMAP_PROBE_LEN, predicted_size: predicted, latencies, measured_size, conclusion })
}

/// Where the fast (cached) numbers end in `(nr, ns)` probe results, numbers in
/// increasing order, `x32` (never cached) anywhere among them.
fn classify_bitmap(latencies: &[(u32, f64)], predicted: u32, x32: u32) -> (Option<u32>, String) {
    let lo = latencies.iter().map(|l| l.1).fold(f64::INFINITY, f64::min);
    let hi = latencies.iter().map(|l| l.1).fold(0.0, f64::max);
    // Running 4000 instructions costs hundreds of ns; anything under 200 ns of
    // contrast means the probe saw no cache boundary at all.
    if hi - lo < 200.0 {
        (None, format!("inconclusive: all probed numbers cost {lo:.0}–{hi:.0} ns"))
    } else {
        let mid = (lo + hi) / 2.0;
        let slow: Vec<bool> = latencies.iter().filter(|l| l.0 != x32).map(|l| l.1 > mid).collect();
        let first_slow_suffix = (0..slow.len()).find(|&i| slow[i..].iter().all(|&s| s));
        let inside_fast = first_slow_suffix.is_some_and(|i| i > 0 && slow[..i].iter().all(|&s| !s));
        let window = format!("{}..={}", latencies[0].0, latencies[slow.len() - 1].0);
        match first_slow_suffix {
            _ if slow.iter().all(|&s| !s) => (None, format!("every probed number {window} is served by the cache: the bitmap is larger than predicted")),
            Some(0) => (None, format!("no probed number {window} is served by the cache: the bitmap is smaller than predicted (or the cache is off)")),
            Some(i) if inside_fast => {
                let size = latencies[i].0;
                let x32_note = latencies.iter().find(|l| l.0 == x32).map(|l| {
                    if l.1 > mid { "; the x32 getpid runs the filter, as predicted" } else { "; the x32 getpid was served by the cache: NOT as predicted" }
                });
                let verdict = if size == predicted { "matches the prediction" } else { "DIFFERS from the prediction" };
                (Some(size), format!("numbers below {size} are served by the cache, {size} and above run the filter: {verdict}{}", x32_note.unwrap_or("")))
            }
            _ => (None, "no clean boundary: the fast and slow numbers interleave (noise)".into()),
        }
    }
}

/// One line of results.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub subject: String,
    pub kind: SubjectKind,
    pub probe: Probe,
    pub threads: usize,
    /// ns per probe iteration (median of the children, per round), over rounds.
    pub latency: Summary,
    /// Paired per-round difference to the baseline.
    pub overhead: Option<Summary>,
    pub overhead_resolution: Option<Resolution>,
    /// Paired per-round difference to the entry floor: the filter's own run time.
    pub run_cost: Option<Summary>,
    pub verdict: Verdict,
    /// All calls of the probe served by the action cache.
    pub predicted_cached: bool,
    /// Instructions per probe iteration, summed over calls and filters.
    pub predicted_insns: u32,
    /// The fitted model's prediction of `overhead`, ns.
    pub predicted_ns: Option<f64>,
    /// Kernel return values of the first child's warm-up calls.
    pub returns: Vec<i64>,
}

/// How noisy the no-filter baseline itself was.
#[derive(Clone, Debug, Serialize)]
pub struct Noise {
    pub probe: Probe,
    pub threads: usize,
    pub baseline: Summary,
    /// Spread over median, e.g. 0.05 = ±5 %.
    pub relative_spread: f64,
}

/// `overhead ≈ entry·calls + per_filter·filter_runs + per_insn·instructions`.
#[derive(Clone, Debug, Serialize)]
pub struct Model {
    pub entry_ns: f64,
    pub per_filter_ns: f64,
    pub per_insn_ns: f64,
    /// Points the model was fitted on (single-thread, measured, not denied).
    pub points: Vec<ModelPoint>,
    pub pearson_r: Option<f64>,
    pub mean_abs_error_ns: f64,
    /// `true` when the per-filter and per-instruction terms could be fitted
    /// (some fitted probe runs a filter); otherwise only the entry cost is.
    pub full: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelPoint {
    pub subject: String,
    pub probe: Probe,
    pub calls: u32,
    pub filter_runs: u32,
    pub insns: u32,
    pub measured_ns: f64,
    pub predicted_ns: f64,
}

impl Model {
    pub fn predict(&self, calls: u32, filter_runs: u32, insns: u32) -> f64 {
        self.entry_ns * calls as f64 + self.per_filter_ns * filter_runs as f64 + self.per_insn_ns * insns as f64
    }
}

/// Static facts about a subject.
#[derive(Clone, Debug, Serialize)]
pub struct SubjectInfo {
    pub label: String,
    pub kind: SubjectKind,
    pub note: String,
    /// Instruction count of each filter, installation order.
    pub lengths: Vec<usize>,
    pub decisions: Vec<ProbeDecision>,
    /// Per-ABI summary of the cost table.
    pub table: Option<Vec<crate::cost::table::AbiSummary>>,
    /// Hot-syscall-weighted mean instructions (min, max), equal weights over the probes' calls.
    pub hot_weighted_insns: Option<(f64, f64)>,
    /// `(arch, name, min, max, cached)` of the probes' syscalls.
    pub hot: Vec<HotCost>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HotCost {
    pub syscall: String,
    pub nr: u32,
    pub cached: bool,
    pub min: u32,
    pub max: u32,
}

/// The full result, the one data model every renderer reads.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub command: String,
    pub environment: Environment,
    pub load: Load,
    pub clock: TickClock,
    pub options: Options,
    pub iterations: Vec<(Probe, u32)>,
    pub subjects: Vec<SubjectInfo>,
    pub rows: Vec<Row>,
    pub noise: Vec<Noise>,
    pub model: Option<Model>,
    pub bitmap: Option<BitmapProbe>,
    /// Of the (subject, probe) pairs predicted to be cached, how many measured
    /// a run cost (vs the entry floor) within noise of zero; and of those
    /// predicted to run the filter, how many measured one above it.
    pub cache_check: CacheCheck,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CacheCheck {
    pub cached_predicted: usize,
    pub cached_consistent: usize,
    pub uncached_predicted: usize,
    pub uncached_consistent: usize,
}

fn per_round(samples: &[Sample], subject: usize, probe: Probe, threads: usize) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = samples
        .iter()
        .filter(|s| s.subject == subject && s.probe == probe && s.threads == threads)
        .filter_map(|s| stats::median(&s.per_child).map(|m| (s.round, m)))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

fn paired(a: &[(usize, f64)], b: &[(usize, f64)]) -> Vec<f64> {
    a.iter().filter_map(|(r, x)| b.iter().find(|(q, _)| q == r).map(|(_, y)| x - y)).collect()
}

/// Statistics, model fit and cost tables.
pub fn analyze(m: Measurements, command: String) -> Report {
    let plan = &m.plan;
    let base = plan.subjects.iter().position(|s| s.kind == SubjectKind::Baseline);
    let floor = plan.subjects.iter().position(|s| s.kind == SubjectKind::EntryFloor);
    let mut rows = Vec::new();
    let mut noise = Vec::new();
    for &threads in &plan.options.threads {
        for (si, s) in plan.subjects.iter().enumerate() {
            for d in &plan.decisions[si] {
                let mine = per_round(&m.samples, si, d.probe, threads);
                let Some(latency) = summarize(&mine.iter().map(|x| x.1).collect::<Vec<_>>()) else { continue };
                let diff = |other: Option<usize>| {
                    other.filter(|&o| o != si).and_then(|o| summarize(&paired(&mine, &per_round(&m.samples, o, d.probe, threads))))
                };
                let overhead = diff(base);
                let run_cost = if s.kind == SubjectKind::UnderTest { diff(floor) } else { None };
                if s.kind == SubjectKind::Baseline {
                    noise.push(Noise { probe: d.probe, threads, baseline: latency, relative_spread: latency.relative_spread() });
                }
                rows.push(Row {
                    subject: s.label.clone(),
                    kind: s.kind,
                    probe: d.probe,
                    threads,
                    latency,
                    overhead,
                    overhead_resolution: overhead.as_ref().map(resolution),
                    run_cost,
                    verdict: d.verdict.clone(),
                    predicted_cached: !s.stack.is_empty() && d.calls.iter().all(|c| c.cached),
                    predicted_insns: d.calls.iter().map(|c| c.insns).sum(),
                    predicted_ns: None,
                    returns: m.samples.iter().find(|x| x.subject == si && x.probe == d.probe && x.threads == threads).map(|x| x.returns.clone()).unwrap_or_default(),
                });
            }
        }
    }
    let model = fit_model(plan, &rows);
    if let Some(model) = &model {
        for r in rows.iter_mut() {
            let si = plan.subjects.iter().position(|s| s.label == r.subject).expect("row subject");
            if let Some(d) = plan.decisions[si].iter().find(|d| d.probe == r.probe) {
                let (calls, runs, insns) = features(&plan.subjects[si], d);
                r.predicted_ns = Some(model.predict(calls, runs, insns));
            }
        }
    }
    let mut cache_check = CacheCheck::default();
    for r in rows.iter().filter(|r| r.kind == SubjectKind::UnderTest && r.threads == 1 && r.verdict == Verdict::Measured) {
        let Some(rc) = &r.run_cost else { continue };
        let zero = resolution(rc) == Resolution::BelowNoise || rc.median <= 0.0;
        if r.predicted_cached {
            cache_check.cached_predicted += 1;
            cache_check.cached_consistent += usize::from(zero);
        } else {
            cache_check.uncached_predicted += 1;
            cache_check.uncached_consistent += usize::from(!zero);
        }
    }
    let subjects = plan
        .subjects
        .iter()
        .zip(&plan.decisions)
        .map(|(s, ds)| subject_info(s, ds, plan.options.geometry))
        .collect();
    Report {
        command,
        environment: m.environment,
        load: m.load,
        clock: m.clock,
        options: plan.options.clone(),
        iterations: m.iterations,
        subjects,
        rows,
        noise,
        model,
        bitmap: m.bitmap,
        cache_check,
    }
}

/// The static part of the report, without measuring: per subject its cost
/// table summary, the hot syscalls' instruction counts and cache status, and
/// what each probe would do.
pub fn predictions(plan: &Plan) -> Vec<SubjectInfo> {
    plan.subjects.iter().zip(&plan.decisions).map(|(s, ds)| subject_info(s, ds, plan.options.geometry)).collect()
}

/// (calls, filter runs, instructions) per probe iteration.
fn features(s: &Subject, d: &ProbeDecision) -> (u32, u32, u32) {
    let calls = if s.stack.is_empty() { 0 } else { d.calls.len() as u32 };
    (calls, d.calls.iter().map(|c| c.filters_run).sum(), d.calls.iter().map(|c| c.insns).sum())
}

fn fit_model(plan: &Plan, rows: &[Row]) -> Option<Model> {
    let mut pts = Vec::new();
    for r in rows.iter().filter(|r| r.threads == 1 && r.kind != SubjectKind::Baseline && r.verdict == Verdict::Measured) {
        let Some(o) = &r.overhead else { continue };
        let si = plan.subjects.iter().position(|s| s.label == r.subject)?;
        let d = plan.decisions[si].iter().find(|d| d.probe == r.probe)?;
        let (calls, runs, insns) = features(&plan.subjects[si], d);
        pts.push((r.subject.clone(), r.probe, calls, runs, insns, o.median));
    }
    if pts.is_empty() {
        return None;
    }
    let ys: Vec<f64> = pts.iter().map(|p| p.5).collect();
    let full_rows: Vec<Vec<f64>> = pts.iter().map(|p| vec![p.2 as f64, p.3 as f64, p.4 as f64]).collect();
    let (coef, full) = match least_squares(&full_rows, &ys) {
        Some(c) => (c, true),
        None => {
            let entry_rows: Vec<Vec<f64>> = pts.iter().map(|p| vec![p.2 as f64]).collect();
            (vec![least_squares(&entry_rows, &ys)?[0], 0.0, 0.0], false)
        }
    };
    let mut model = Model { entry_ns: coef[0], per_filter_ns: coef[1], per_insn_ns: coef[2], points: vec![], pearson_r: None, mean_abs_error_ns: 0.0, full };
    model.points = pts
        .into_iter()
        .map(|(subject, probe, calls, filter_runs, insns, measured_ns)| ModelPoint {
            subject,
            probe,
            calls,
            filter_runs,
            insns,
            measured_ns,
            predicted_ns: model.predict(calls, filter_runs, insns),
        })
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = model.points.iter().map(|p| (p.predicted_ns, p.measured_ns)).unzip();
    model.pearson_r = pearson(&xs, &ys);
    model.mean_abs_error_ns = xs.iter().zip(&ys).map(|(a, b)| (a - b).abs()).sum::<f64>() / xs.len() as f64;
    Some(model)
}

fn subject_info(s: &Subject, ds: &[ProbeDecision], geometry: CacheGeometry) -> SubjectInfo {
    let refs: Vec<&ValidProgram> = s.stack.iter().collect();
    let table = (!refs.is_empty()).then(|| CostTable::compute(&refs, geometry).ok()).flatten();
    let arch = geometry.native.arch;
    let mut hot = Vec::new();
    let mut weights = Vec::new();
    for d in ds {
        for c in &d.calls {
            if hot.iter().any(|h: &HotCost| h.nr == c.nr) {
                continue;
            }
            if let Some(e) = table.as_ref().and_then(|t| t.get(arch, c.nr)) {
                hot.push(HotCost { syscall: arch.syscall_name(c.nr).map(str::to_string).unwrap_or_else(|| kov_name(c.nr)), nr: c.nr, cached: e.cached, min: e.min, max: e.max });
                weights.push((arch, c.nr, 1.0));
            }
        }
    }
    SubjectInfo {
        label: s.label.clone(),
        kind: s.kind,
        note: s.note.clone(),
        lengths: s.stack.iter().map(|v| v.len()).collect(),
        decisions: ds.to_vec(),
        hot_weighted_insns: table.as_ref().and_then(|t| t.weighted_mean(&weights)),
        table: table.map(|t| t.summaries),
        hot,
    }
}

/// Name of a native syscall number: from the arch tables, else from the
/// probes that make it.
fn kov_name(nr: u32) -> String {
    let native = kov::native_audit_arch().and_then(|a| crate::arch::Arch::from_audit(a, nr));
    if let Some(n) = native.and_then(|a| a.syscall_name(nr)) {
        return n.to_string();
    }
    Probe::HOT
        .iter()
        .find_map(|p| {
            let names: &[&str] = match p {
                Probe::OpenatClose => &["openat", "close"],
                _ => &[],
            };
            let nrs = p.numbers();
            if names.is_empty() {
                (nrs == [nr]).then(|| match p {
                    Probe::FutexWake => "futex".to_string(),
                    other => other.name(),
                })
            } else {
                nrs.iter().position(|&n| n == nr).map(|i| names[i].to_string())
            }
        })
        .unwrap_or_else(|| format!("nr {nr}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::bpf::insn::*;

    fn geo() -> CacheGeometry {
        CacheGeometry::linux_6_18(Arch::X86_64).unwrap()
    }

    fn opts() -> Options {
        Options { threads: vec![1], rounds: 3, batches: 3, batch_ns: 1e6, probes: Probe::HOT.to_vec(), geometry: geo(), probe_bitmap: false }
    }

    /// Allows everything but: getpid → ERRNO(1), write → KILL_PROCESS; read
    /// and futex load arguments (so they run the filter: 6 and 8 instructions).
    fn subject() -> Subject {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_getpid as u32, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_write as u32, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x8000_0000),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_read as u32, 0, 2),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_futex as u32, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 24),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        Subject { label: "test".into(), kind: SubjectKind::UnderTest, stack: vec![validate(&p).unwrap()], note: String::new() }
    }

    #[test]
    fn bitmap_boundary_is_where_the_slow_suffix_starts() {
        let x32 = 39 | crate::arch::X32_SYSCALL_BIT;
        let lat = |fast_below: u32| -> Vec<(u32, f64)> {
            (466..474).map(|n| (n, if n < fast_below { 150.0 } else { 800.0 })).chain([(x32, 810.0)]).collect()
        };
        let (size, text) = classify_bitmap(&lat(470), 470, x32);
        assert_eq!(size, Some(470));
        assert!(text.contains("matches the prediction") && text.contains("as predicted"), "{text}");
        let (size, text) = classify_bitmap(&lat(472), 470, x32);
        assert_eq!(size, Some(472));
        assert!(text.contains("DIFFERS"), "{text}");
        assert_eq!(classify_bitmap(&lat(400), 470, x32).0, None, "all slow: boundary below the window");
        assert_eq!(classify_bitmap(&lat(500), 470, x32).0, None, "all fast: boundary above the window");
        let flat: Vec<(u32, f64)> = (466..474).map(|n| (n, 150.0)).collect();
        assert!(classify_bitmap(&flat, 470, x32).1.starts_with("inconclusive"));
        let mut mixed = lat(470);
        mixed[1].1 = 900.0; // 467 slow although inside: noise
        assert_eq!(classify_bitmap(&mixed, 470, x32).0, None);
    }

    #[test]
    fn plan_follows_the_emulator_and_the_cache() {
        let ctx = ProbeContext::new();
        let p = plan(vec![Subject::baseline(), Subject::entry_floor(), subject()], opts(), &ctx);
        let d = &p.decisions[2];
        let by = |probe| d.iter().find(|x| x.probe == probe).unwrap();
        assert!(matches!(&by(Probe::Getpid).verdict, Verdict::Denied { action } if action.starts_with("ERRNO(1)")));
        assert!(matches!(&by(Probe::Write).verdict, Verdict::Skipped { reason } if reason.starts_with("KILL_PROCESS")));
        let read = by(Probe::Read);
        assert_eq!(read.verdict, Verdict::Measured);
        assert_eq!((read.calls[0].cached, read.calls[0].insns, read.calls[0].filters_run), (false, 6, 1));
        assert_eq!(by(Probe::FutexWake).calls[0].insns, 8);
        let epoll = by(Probe::EpollWait);
        assert!(epoll.calls[0].cached && epoll.calls[0].insns == 0);
        // The floor caches everything, the baseline runs nothing.
        assert!(p.decisions[1].iter().all(|d| d.calls.iter().all(|c| c.cached)));
        assert!(p.decisions[0].iter().all(|d| d.verdict == Verdict::Measured && d.calls.iter().all(|c| !c.cached && c.insns == 0)));
    }

    #[test]
    fn sweep_filters_run_their_length_on_every_probe_and_are_never_cached() {
        let ctx = ProbeContext::new();
        let subjects = std::iter::once(Subject::baseline()).chain(SWEEP_SIZES.iter().map(|&n| Subject::size_sweep(n))).collect();
        let p = plan(subjects, opts(), &ctx);
        for (i, &n) in SWEEP_SIZES.iter().enumerate() {
            assert_eq!(p.subjects[i + 1].stack[0].len(), n);
            for d in &p.decisions[i + 1] {
                assert_eq!(d.verdict, Verdict::Measured, "{n}: {:?}", d.probe);
                assert!(d.calls.iter().all(|c| !c.cached && c.insns == n as u32 && c.filters_run == 1), "{n}: {d:?}");
            }
        }
    }

    /// Synthetic measurements with a known cost law (entry 40 ns per call,
    /// 15 ns per filter run, 0.2 ns per instruction) and a drift common to
    /// every subject of a round; more processes add 10 ns per process.
    pub(crate) fn synthetic_report(threads: &[usize]) -> Report {
        let ctx = ProbeContext::new();
        let p = plan(vec![Subject::baseline(), Subject::entry_floor(), subject()], Options { threads: threads.to_vec(), ..opts() }, &ctx);
        let mut samples = Vec::new();
        for &t in threads {
        for round in 0..3 {
            // Round-level drift common to all subjects: pairing removes it.
            let drift = [0.0, 30.0, -20.0][round];
            for (si, ds) in p.decisions.iter().enumerate() {
                for d in ds {
                    if matches!(d.verdict, Verdict::Skipped { .. }) {
                        continue;
                    }
                    let body = 100.0 + 10.0 * d.probe.numbers()[0] as f64;
                    let (calls, runs, insns) = features(&p.subjects[si], d);
                    let cost = 40.0 * calls as f64 + 15.0 * runs as f64 + 0.2 * insns as f64;
                    let load = 10.0 * (t - 1) as f64;
                    samples.push(Sample { subject: si, threads: t, round, probe: d.probe, per_child: vec![body + cost + drift + load; t], returns: vec![0] });
                }
            }
        }
        }
        let m = Measurements {
            plan: p,
            clock: TickClock { ns_per_tick: 1.0, source: "tsc" },
            iterations: vec![],
            samples,
            environment: environment::environment(),
            load: environment::load_between(&environment::sample_load(), &environment::sample_load(), 1),
            bitmap: None,
        };
        analyze(m, "seccheck bench test".into())
    }

    #[test]
    fn analysis_pairs_rounds_and_recovers_the_cost_law() {
        let r = synthetic_report(&[1]);
        let row = r.rows.iter().find(|x| x.subject == "test" && x.probe == Probe::Read).unwrap();
        let o = row.overhead.unwrap();
        assert!((o.median - (40.0 + 15.0 + 0.2 * 6.0)).abs() < 1e-9 && o.spread() < 1e-9, "{o:?}");
        assert!((row.run_cost.unwrap().median - (15.0 + 1.2)).abs() < 1e-9);
        let floor_getpid = r.rows.iter().find(|x| x.kind == SubjectKind::EntryFloor && x.probe == Probe::Getpid).unwrap();
        assert!((floor_getpid.overhead.unwrap().median - 40.0).abs() < 1e-9);
        let model = r.model.unwrap();
        assert!(model.full);
        assert!((model.entry_ns - 40.0).abs() < 1e-6 && (model.per_filter_ns - 15.0).abs() < 1e-6 && (model.per_insn_ns - 0.2).abs() < 1e-6, "{model:?}");
        assert!(model.mean_abs_error_ns < 1e-6);
        assert_eq!(r.noise.len(), Probe::HOT.len());
        assert!(r.noise.iter().all(|n| n.relative_spread > 0.0), "the drift shows up as baseline noise");
        assert!(r.rows.iter().all(|x| x.probe != Probe::Write || x.kind != SubjectKind::UnderTest), "skipped probes have no row");
        assert_eq!(r.cache_check.uncached_predicted, 2);
        assert_eq!(r.cache_check.uncached_consistent, 2);
        assert_eq!((r.cache_check.cached_predicted, r.cache_check.cached_consistent), (3, 3), "clock_gettime, epoll_wait, openat+close");
        let info = &r.subjects[2];
        assert_eq!(info.lengths, vec![13]);
        assert!(info.hot.iter().any(|h| h.syscall == "getpid" && !h.cached));
    }
}
