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
//! 3. [`analyze`]: per (subject, probe, threads) the median over rounds with
//!    its 95 % interval ([`stats::median_interval`]); the overhead as the
//!    *paired* per-round difference to the baseline of the same round (and to
//!    the entry floor, which separates the seccomp entry cost from the
//!    filter's run time); the noise of the baseline itself; the cost model by
//!    instruction class ([`CostModel`]), each parameter from the sweep filters
//!    of its own class ([`Subject::sweeps`]), each with its interval over
//!    rounds; and the model's validation on the real filters' uncached
//!    syscalls, which it was not fitted on.

pub mod command;
pub mod compare;
pub mod stats;
pub mod suite;

use crate::bpf::{validate, Program, ValidProgram};
use crate::cost::{ActionCache, CacheGeometry, CostTable};
use crate::emu::{run_stack, Emulator};
use crate::kernel::environment::{self, Environment, Load};
use crate::kernel::overhead::{self as kov, OverheadError, Probe, ProbeContext, ProbePlan, RunSpec, TickClock};
use crate::seccomp::Action;
use serde::Serialize;
use stats::{least_squares, spearman, summarize, Estimate, Summary};

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
    /// A synthetic filter the cost model's parameters are measured from.
    Sweep,
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

/// A syscall number no ABI has (x86_64 and arm64 tables end below 500): the
/// kernel's action cache never serves it (it is past the bitmap), and without
/// a filter the call does no work (`ENOSYS` from the dispatcher). A filter
/// that allows it or answers `ERRNO` therefore costs its full run on its
/// default path, usually its longest (give or take the few ns by which
/// returning `ERRNO` and dispatching `ENOSYS` differ): the model is validated on it
/// ([`Probe::Raw`]; a filter that kills or traps it is not measured).
pub const UNKNOWN_NR: u32 = 1000;

/// Instructions of the class under test in each long sweep filter.
pub const SWEEP_LEN: usize = 1000;
/// Filters in the stacked sweep.
pub const SWEEP_STACK: usize = 8;

/// Instruction classes the cost model prices apart. `ret` has no price of
/// its own: every filter that runs executes exactly one, so its cost cannot be
/// told apart from the per-filter cost and is part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsnClass {
    /// `ld`/`ldx` of any mode (absolute loads of `seccomp_data`, immediates, scratch memory).
    Load,
    /// `jeq`/`jgt`/`jge`/`jset` (K or X) and `ja`.
    Jump,
    /// ALU, `tax`/`txa`, `st`/`stx`.
    Alu,
}

/// Instructions executed on one path, by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    pub load: u32,
    pub jump: u32,
    pub alu: u32,
    pub ret: u32,
}

impl ClassCounts {
    /// Count the instructions at `path` of `v`.
    pub fn of_path(v: &ValidProgram, path: &[usize]) -> ClassCounts {
        use crate::bpf::insn::*;
        let mut c = ClassCounts::default();
        for &pc in path {
            match v.insns()[pc].class() {
                BPF_LD | BPF_LDX => c.load += 1,
                BPF_JMP => c.jump += 1,
                BPF_RET => c.ret += 1,
                _ => c.alu += 1,
            }
        }
        c
    }
    fn add(&mut self, o: ClassCounts) {
        self.load += o.load;
        self.jump += o.jump;
        self.alu += o.alu;
        self.ret += o.ret;
    }
}

impl Subject {
    /// `ld [16]; ret ALLOW`: runs on every call (a load outside `nr`/`arch`
    /// makes `seccomp_is_const_allow` give up, so nothing is cached).
    fn minimal_uncached() -> ValidProgram {
        use crate::bpf::insn::*;
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW),
        ]);
        validate(&p).expect("ld; ret is valid")
    }

    /// A stack of `k` minimal filters that all run on every call: the
    /// difference between `k` and 1 prices one more filter run.
    pub fn sweep_stack(k: usize) -> Subject {
        Subject {
            label: format!("sweep: {k} filter{} (ld; ret)", if k == 1 { "" } else { "s" }),
            kind: SubjectKind::Sweep,
            stack: vec![Subject::minimal_uncached(); k],
            note: format!("synthetic: {k} × `ld [16]; ret ALLOW`, never cached"),
        }
    }

    /// A filter that runs [`SWEEP_LEN`] instructions of `class` on every call
    /// and is never cached (it loads `arg0` first):
    /// - `Load`: `ld [16..63]` (the argument words in turn);
    /// - `Jump`: `ld #0`, then `jeq #k` whose true branch (never taken, A is
    ///   0 and k is not) leads to a `ret ERRNO` at the end of its block of 250,
    ///   and whose false branch is the next instruction: the shape of
    ///   libseccomp's and runc's syscall chains (`bpf_convert_filter` maps
    ///   each to one conditional jump, its "`jump_false` is next insn" case);
    ///   a `ja +1` skips each block's `ret`;
    /// - `Alu`: `add #1`, each one depending on the previous.
    ///
    /// A jump whose two targets are both the next instruction is *not* a
    /// no-op: `bpf_convert_filter` still emits a conditional jump for it (its
    /// `jf == 0` case, with offset 0) and the JIT compiles a compare and a
    /// branch. Timed side by side on the reference VM (Linux 6.18, JIT on, one
    /// process, 6 rounds, a loaded machine): chains of 1000 cost ≈ 0.11–0.13
    /// ns per jump whether both targets are the next instruction or the true
    /// branch leads up to 250 instructions ahead; chains of 4000 cost ≈ 0.16
    /// and ≈ 0.22 ns per jump, and 4000 loads or adds more per instruction too
    /// (the JIT code then outgrows the first-level instruction cache and
    /// branch predictor; far branches need longer encodings). Real filters'
    /// paths are at most a few hundred instructions, so the sweeps are
    /// [`SWEEP_LEN`] long, and the model under-prices paths of thousands.
    pub fn sweep_chain(class: InsnClass) -> Subject {
        use crate::bpf::insn::*;
        const BLOCK: usize = 250;
        let mut v = vec![Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16)];
        let what = match class {
            InsnClass::Load => {
                v.extend((0..SWEEP_LEN).map(|i| Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16 + 4 * (i as u32 % 12))));
                "loads"
            }
            InsnClass::Jump => {
                v.push(Insn::stmt(BPF_LD | BPF_IMM, 0));
                for b in 0..SWEEP_LEN / BLOCK {
                    for j in 0..BLOCK {
                        let k = 1 + (b * BLOCK + j) as u32;
                        v.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, k, (BLOCK - j) as u8, 0));
                    }
                    v.push(Insn::stmt(BPF_JMP | BPF_JA, 1));
                    v.push(Insn::stmt(BPF_RET | BPF_K, 0x0005_0001));
                }
                "jeq"
            }
            InsnClass::Alu => {
                v.extend(std::iter::repeat_n(Insn::stmt(BPF_ALU | BPF_ADD | BPF_K, 1), SWEEP_LEN));
                "add #1"
            }
        };
        v.push(Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW));
        let len = v.len();
        Subject {
            label: format!("sweep: {SWEEP_LEN} {what}"),
            kind: SubjectKind::Sweep,
            stack: vec![validate(&Program::new(v)).expect("sweep filters are valid")],
            note: format!("synthetic: {len} instructions, {SWEEP_LEN} of them {what} on every path, never cached"),
        }
    }

    /// The sweep filters the cost model is measured from: one and
    /// [`SWEEP_STACK`] minimal filters, and one long chain per [`InsnClass`].
    pub fn sweeps() -> Vec<Subject> {
        vec![
            Subject::sweep_stack(1),
            Subject::sweep_stack(SWEEP_STACK),
            Subject::sweep_chain(InsnClass::Load),
            Subject::sweep_chain(InsnClass::Jump),
            Subject::sweep_chain(InsnClass::Alu),
        ]
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
    /// Single calls of each probe timed one by one per child and run, for
    /// the p50/p99 latencies ([`TailRow`]); 0: none.
    pub per_call: u32,
    /// Conditions every (round, threads) runs under: `[Quiet]`, or
    /// `[Quiet, Busy]` with a busy neighbour. The main tables and the cost
    /// model use the quiet runs; [`TailRow`]s cover every condition.
    pub neighbours: Vec<Neighbour>,
}

/// What runs next to the measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Neighbour {
    /// Nothing of ours (the machine's own load only).
    Quiet,
    /// A process spinning on the last CPU ([`kov::BusyNeighbour`]), the
    /// measuring processes pinned to the others.
    Busy,
}

impl Neighbour {
    pub fn describe(self) -> &'static str {
        match self {
            Neighbour::Quiet => "quiet",
            Neighbour::Busy => "busy neighbour",
        }
    }
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
    /// `insns` by instruction class.
    pub classes: ClassCounts,
}

/// Whether and how a probe is measured under a subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProbeStatus {
    Measured,
    /// The filter denies it: measured, but it is the cost of the denial, not of the syscall.
    Denied {
        action: String,
    },
    /// Not measured: calling it would kill or trap the measuring process, or
    /// its answer depends on the instruction pointer, which we cannot fix.
    Skipped {
        reason: String,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct ProbeDecision {
    pub probe: Probe,
    pub calls: Vec<CallPrediction>,
    pub verdict: ProbeStatus,
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
                            let action =
                                if emus.is_empty() { Action::Allow } else { Action::from_ret(run_stack(&emus, d)) };
                            let cached = !s.stack.is_empty() && cache.is_cached(d.arch, d.nr);
                            let (mut insns, mut filters_run, mut classes) = (0, 0, ClassCounts::default());
                            if !cached {
                                for (e, v) in emus.iter().zip(&s.stack) {
                                    let t = e.trace(d);
                                    ip_dependent |= reads_ip(v, &t.path);
                                    insns += t.path.len() as u32;
                                    classes.add(ClassCounts::of_path(v, &t.path));
                                    filters_run += 1;
                                }
                            }
                            CallPrediction { nr: d.nr, action, cached, insns, filters_run, classes }
                        })
                        .collect();
                    let name = |c: &CallPrediction| kov_name(c.nr);
                    let fatal = calls.iter().find(|c| {
                        !matches!(
                            c.action.effective(),
                            Action::Allow | Action::Log | Action::Errno(_) | Action::Trace(_)
                        )
                    });
                    let denied = calls.iter().find(|c| matches!(c.action, Action::Errno(_) | Action::Trace(_)));
                    let verdict = if let Some(c) = fatal {
                        ProbeStatus::Skipped { reason: format!("{} for {}", c.action, name(c)) }
                    } else if ip_dependent {
                        ProbeStatus::Skipped { reason: "the filter reads the instruction pointer".into() }
                    } else if let Some(c) = denied {
                        ProbeStatus::Denied { action: format!("{} for {}", c.action, name(c)) }
                    } else {
                        ProbeStatus::Measured
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
    pub neighbour: Neighbour,
    pub round: usize,
    pub probe: Probe,
    pub per_child: Vec<f64>,
    /// Every singly timed call of every child, ns (not serialized: large).
    #[serde(skip)]
    pub per_call: Vec<f64>,
    /// What each call returned in the first child's warm-up (`-errno` on failure).
    pub returns: Vec<i64>,
}

/// Where the native cache bitmap ends, measured with a long all-cacheable filter.
#[derive(Clone, Debug, Serialize)]
pub struct BitmapProbe {
    pub filter_len: usize,
    pub predicted_size: u32,
    /// `(nr, ns/call)` under the probe filter for numbers around the
    /// predicted size, then the x32 number of `getpid` (never cached).
    pub latencies: Vec<(u32, f64)>,
    /// The same numbers without a filter, timed in the same rounds: what the
    /// syscall itself costs (a real syscall among the numbers, such as 466 or
    /// 467 on Linux 6.18, costs µs of its own), subtracted before classifying.
    pub without_filter: Vec<(u32, f64)>,
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
pub fn measure(
    plan: Plan,
    ctx: &ProbeContext,
    progress: &mut dyn FnMut(Progress),
) -> Result<Measurements, OverheadError> {
    let environment = environment::environment();
    let start = environment::sample_load();
    let clock = TickClock::calibrate(std::time::Duration::from_millis(20));
    let opts = &plan.options;
    let total = 1
        + opts.rounds * opts.threads.len() * opts.neighbours.len() * plan.subjects.len()
        + usize::from(opts.probe_bitmap);
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    progress(Progress { done: 0, total, what: "calibrating" });
    // Calibrate iterations on the baseline: a batch should take about batch_ns.
    let cal: Vec<ProbePlan> =
        opts.probes.iter().map(|&probe| ProbePlan { probe, iterations: 200, enabled: true }).collect();
    let r = kov::run(
        &RunSpec { stack: &[], probes: &cal, processes: 1, batches: 3, clock, per_call: 0, avoid_cpu: None },
        ctx,
    )?;
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
        for (&threads, &neighbour) in opts.threads.iter().flat_map(|t| opts.neighbours.iter().map(move |nb| (t, nb))) {
            let busy = match neighbour {
                Neighbour::Quiet => None,
                Neighbour::Busy => Some(kov::BusyNeighbour::start(cpus.saturating_sub(1))?),
            };
            for k in 0..n {
                let si = (k + round) % n;
                let subject = &plan.subjects[si];
                progress(Progress {
                    done,
                    total,
                    what: &format!(
                        "round {}/{} · {} thread(s){} · {}",
                        round + 1,
                        opts.rounds,
                        threads,
                        if busy.is_some() { " · busy neighbour" } else { "" },
                        subject.label
                    ),
                });
                let probes: Vec<ProbePlan> = plan.decisions[si]
                    .iter()
                    .zip(&iterations)
                    .map(|(d, &(_, it))| ProbePlan {
                        probe: d.probe,
                        iterations: it,
                        enabled: !matches!(d.verdict, ProbeStatus::Skipped { .. }),
                    })
                    .collect();
                let stack: Vec<Program> = subject.stack.iter().map(|v| v.program().clone()).collect();
                let r = kov::run(
                    &RunSpec {
                        stack: &stack,
                        probes: &probes,
                        processes: threads,
                        batches: opts.batches,
                        clock,
                        per_call: opts.per_call,
                        avoid_cpu: busy.as_ref().map(|b| b.cpu),
                    },
                    ctx,
                )?;
                for (j, plan_j) in probes.iter().enumerate() {
                    if !plan_j.enabled {
                        continue;
                    }
                    let per_child: Vec<f64> =
                        r.children.iter().filter_map(|c| stats::median(&c[j].ns_per_call)).collect();
                    samples.push(Sample {
                        subject: si,
                        threads,
                        neighbour,
                        round,
                        probe: plan_j.probe,
                        per_child,
                        per_call: r.children.iter().flat_map(|c| c[j].per_call_ns.iter().copied()).collect(),
                        returns: r.children[0][j].first_returns.clone(),
                    });
                }
                done += 1;
            }
            drop(busy);
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
pub fn probe_bitmap(
    geometry: CacheGeometry,
    clock: TickClock,
    ctx: &ProbeContext,
) -> Result<BitmapProbe, OverheadError> {
    let predicted = geometry.native.nr_syscalls;
    let mut nrs: Vec<u32> = (predicted.saturating_sub(4)..predicted + 4).collect();
    let x32 = libc::SYS_getpid as u32 | crate::arch::X32_SYSCALL_BIT;
    if geometry.native.arch == crate::arch::Arch::X86_64 {
        nrs.push(x32);
    }
    let probes: Vec<ProbePlan> =
        nrs.iter().map(|&nr| ProbePlan { probe: Probe::Raw(nr), iterations: 2000, enabled: true }).collect();
    let stack = [kov::cacheable_chain(BITMAP_PROBE_LEN)];
    // [with the filter, without], per number; the two interleave per round.
    let mut per_nr: [Vec<Vec<f64>>; 2] = [vec![Vec::new(); nrs.len()], vec![Vec::new(); nrs.len()]];
    for _ in 0..3 {
        for (k, stack) in [&stack[..], &[]].into_iter().enumerate() {
            let r = kov::run(
                &RunSpec { stack, probes: &probes, processes: 1, batches: 5, clock, per_call: 0, avoid_cpu: None },
                ctx,
            )?;
            for (j, p) in r.children[0].iter().enumerate() {
                per_nr[k][j].extend(&p.ns_per_call);
            }
        }
    }
    let medians = |v: &[Vec<f64>]| -> Vec<(u32, f64)> {
        nrs.iter().zip(v).map(|(&nr, v)| (nr, stats::median(v).unwrap_or(f64::NAN))).collect()
    };
    let (latencies, without_filter) = (medians(&per_nr[0]), medians(&per_nr[1]));
    let cost: Vec<(u32, f64)> = latencies.iter().zip(&without_filter).map(|(a, b)| (a.0, a.1 - b.1)).collect();
    let (measured_size, conclusion) = classify_bitmap(&cost, predicted, x32);
    Ok(BitmapProbe {
        filter_len: BITMAP_PROBE_LEN,
        predicted_size: predicted,
        latencies,
        without_filter,
        measured_size,
        conclusion,
    })
}

/// Where the fast (cached) numbers end in `(nr, ns)` probe results (the
/// filter's cost: with it minus without), numbers in increasing order, `x32`
/// (never cached) anywhere among them.
fn classify_bitmap(latencies: &[(u32, f64)], predicted: u32, x32: u32) -> (Option<u32>, String) {
    let lo = latencies.iter().map(|l| l.1).fold(f64::INFINITY, f64::min);
    let hi = latencies.iter().map(|l| l.1).fold(0.0, f64::max);
    // Running 4000 instructions costs hundreds of ns (~300 here, against ~30
    // for a cached call); anything under 150 ns of contrast means the probe
    // saw no cache boundary at all.
    if hi - lo < 150.0 {
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
    /// The same with its 95 % interval.
    pub latency_estimate: Estimate,
    /// Paired per-round difference to the baseline.
    pub overhead: Option<Summary>,
    /// The same with its 95 % interval, and whether it resolves the overhead.
    pub overhead_estimate: Option<Estimate>,
    /// Paired per-round difference to the entry floor: the filter's own run time.
    pub run_cost: Option<Summary>,
    pub run_cost_estimate: Option<Estimate>,
    pub verdict: ProbeStatus,
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

/// One parameter of the [`CostModel`]: its value per round and its estimate.
#[derive(Clone, Debug, Serialize)]
pub struct Param {
    /// `entry`, `miss`, `per_filter`, `load`, `jump`, `alu`.
    pub name: &'static str,
    /// What it prices, and from which measurement.
    pub what: &'static str,
    /// ns, one value per round (rounds where every needed run was measured).
    pub per_round: Vec<f64>,
    pub estimate: Estimate,
}

/// How well predictions match measurements over some points.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Agreement {
    pub points: usize,
    /// Points whose measured overhead is resolved (its interval excludes zero).
    pub resolved_points: usize,
    /// Median over points of |predicted − measured| / |measured|.
    pub median_relative_error: Option<f64>,
    /// Spearman rank correlation of predicted and measured (≥ 3 points).
    pub spearman: Option<f64>,
}

impl Agreement {
    fn of(points: &[&ModelPoint]) -> Agreement {
        let v: Vec<(f64, f64, bool)> =
            points.iter().map(|p| (p.predicted_ns, p.measured_ns, p.measured_resolved)).collect();
        Agreement::from_values(&v)
    }
    /// From `(predicted, measured, measured resolved)` per point.
    pub fn from_values(points: &[(f64, f64, bool)]) -> Agreement {
        let pred: Vec<f64> = points.iter().map(|p| p.0).collect();
        let meas: Vec<f64> = points.iter().map(|p| p.1).collect();
        let rel: Vec<f64> = points.iter().filter(|p| p.1 != 0.0).map(|p| ((p.0 - p.1) / p.1).abs()).collect();
        Agreement {
            points: points.len(),
            resolved_points: points.iter().filter(|p| p.2).count(),
            median_relative_error: stats::median(&rel),
            spearman: spearman(&pred, &meas),
        }
    }
}

/// The cost of a call by instruction class, each parameter measured from its
/// own sweep (paired within each round, see [`Subject::sweeps`]):
///
/// `overhead = entry` for a call the kernel's action cache serves, and
/// `entry + miss + per_filter·filters + load·loads + jump·jumps + alu·alus`
/// for one it does not. `entry` is the all-cacheable floor against no filter;
/// the other five solve, round by round, the five sweep filters' run costs
/// against the floor (exactly determined: one equation per sweep).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CostModel {
    /// Process count of the measurements used (the smallest measured).
    pub threads: usize,
    /// `entry` always (when the floor was measured); the others only with the sweeps.
    pub params: Vec<Param>,
    /// Single-process points: the sweeps (what the parameters come from) and
    /// the filters under test (what they are validated on).
    pub points: Vec<ModelPoint>,
    /// Predicted against measured over the sweep points: the fit.
    pub fit: Agreement,
    /// Over the real filters' syscalls that run a filter (not cached), which
    /// the model was not fitted on.
    pub validation: Agreement,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelPoint {
    pub subject: String,
    pub kind: SubjectKind,
    pub probe: Probe,
    /// Some call of the probe runs a filter.
    pub uncached: bool,
    pub insns: u32,
    pub measured_ns: f64,
    pub measured_resolved: bool,
    pub predicted_ns: f64,
}

/// Names of the [`CostModel`] parameters, in the order a fit produces them.
pub const PARAM_NAMES: [&str; 6] = ["entry", "miss", "per_filter", "load", "jump", "alu"];

impl CostModel {
    /// The parameters of a model a `bench` run measured, read back from its
    /// JSON document (`--format json`, or `report.json` of `--report`): the
    /// parameters as they were estimated, no points (the fit and validation
    /// stay with the run that measured them). Errors name the JSON path.
    pub fn from_bench_json(bytes: &[u8]) -> Result<CostModel, String> {
        #[derive(serde::Deserialize)]
        struct Doc {
            schema: String,
            model: Model,
        }
        #[derive(serde::Deserialize)]
        struct Model {
            threads: usize,
            params: Vec<ParamIn>,
        }
        #[derive(serde::Deserialize)]
        struct ParamIn {
            name: String,
            per_round: Vec<f64>,
            estimate: Estimate,
        }
        const SCHEMA: &str = "seccheck/bench/v1";
        let doc: Doc = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "JSON line {}, column {}: {e} (expected a `seccheck bench --format json` document)",
                e.line(),
                e.column()
            )
        })?;
        if doc.schema != SCHEMA {
            return Err(format!("`schema` is {:?}, expected {SCHEMA:?}", doc.schema));
        }
        let mut params = Vec::new();
        for (i, p) in doc.model.params.into_iter().enumerate() {
            let name = PARAM_NAMES.iter().find(|&&n| n == p.name).ok_or_else(|| {
                format!("model.params[{i}].name is {:?}, expected one of {}", p.name, PARAM_NAMES.join(", "))
            })?;
            if params.iter().any(|q: &Param| q.name == *name) {
                return Err(format!("model.params[{i}]: a second {name:?}"));
            }
            params.push(Param {
                name,
                what: "read from the --model document",
                per_round: p.per_round,
                estimate: p.estimate,
            });
        }
        if params.is_empty() {
            return Err("model.params is empty: that run measured no cost model".into());
        }
        Ok(CostModel {
            threads: doc.model.threads,
            params,
            points: Vec::new(),
            fit: Agreement::default(),
            validation: Agreement::default(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
    fn value(&self, name: &str) -> Option<f64> {
        self.get(name).map(|p| p.estimate.median)
    }
    /// Predicted overhead of one probe iteration, ns; `None` when it needs a
    /// parameter that was not measured.
    pub fn predict(&self, filtered: bool, calls: &[CallPrediction]) -> Option<f64> {
        if !filtered {
            return Some(0.0);
        }
        let entry = self.value("entry")?;
        calls
            .iter()
            .map(|c| {
                if c.cached {
                    Some(entry)
                } else {
                    Some(
                        entry
                            + self.value("miss")?
                            + self.value("per_filter")? * c.filters_run as f64
                            + self.value("load")? * c.classes.load as f64
                            + self.value("jump")? * c.classes.jump as f64
                            + self.value("alu")? * c.classes.alu as f64,
                    )
                }
            })
            .sum()
    }
}

/// A recorded program's syscalls priced by the cost model, per filter under
/// test (`bench --workload TRACE`). Predicted only: the suite times its hot
/// probes, not arbitrary syscalls with the program's arguments; `bench
/// --command --workload` sets the prediction beside the command's measured
/// time.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadCost {
    pub subject: String,
    /// Calls in the trace, all ABIs.
    pub calls: u64,
    /// Calls the filter answers with something other than ALLOW/LOG (not
    /// priced: they are not the program's normal run).
    pub not_allowed_calls: u64,
    /// Allowed calls the kernel's action cache serves.
    pub cached_calls: u64,
    /// BPF instructions the filters execute over all allowed calls of the
    /// recorded run (exact for the inputs of [`Workload::input`]).
    pub insns: u64,
    /// Predicted overhead per allowed call, ns (`None` without the sweep parameters).
    pub ns_per_call: Option<f64>,
    /// Predicted filter time per second of the recorded run, ns.
    pub ns_per_second: Option<f64>,
}

impl WorkloadCost {
    /// Calls the filter lets run.
    pub fn allowed_calls(&self) -> u64 {
        self.calls - self.not_allowed_calls
    }
    /// Predicted filter time over the whole recorded run, ns.
    pub fn ns_per_run(&self) -> Option<f64> {
        self.ns_per_call.map(|n| n * self.allowed_calls() as f64)
    }
}

/// The trace the workload costs come from.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    pub trace: String,
    pub command: Vec<String>,
    pub wall_seconds: f64,
    /// How each syscall's path is chosen.
    pub input: &'static str,
    pub costs: Vec<WorkloadCost>,
}

/// Price a trace's syscalls under every filter under test in `plan` with `model`.
pub fn workload(plan: &Plan, model: &CostModel, trace_name: String, trace: &crate::record::Trace) -> Workload {
    let subjects =
        plan.subjects.iter().filter(|s| s.kind == SubjectKind::UnderTest).map(|s| (s.label.as_str(), &s.stack[..]));
    price_trace(subjects, plan.options.geometry, model, trace_name, trace)
}

/// Price a trace's syscalls under each `(label, stack)` (filters in
/// installation order) with `model`, the kernel's action cache laid out by
/// `geometry`.
pub fn price_trace<'a>(
    subjects: impl Iterator<Item = (&'a str, &'a [ValidProgram])>,
    geometry: CacheGeometry,
    model: &CostModel,
    trace_name: String,
    trace: &crate::record::Trace,
) -> Workload {
    let costs = subjects
        .map(|(label, stack)| {
            let emus: Vec<Emulator> = stack.iter().map(Emulator::new).collect();
            let programs: Vec<&Program> = stack.iter().map(|v| v.program()).collect();
            let cache = ActionCache::prepare(&programs, geometry);
            let mut w = WorkloadCost {
                subject: label.to_string(),
                calls: 0,
                not_allowed_calls: 0,
                cached_calls: 0,
                insns: 0,
                ns_per_call: Some(0.0),
                ns_per_second: None,
            };
            let mut total = Some(0.0);
            for r in &trace.syscalls {
                w.calls += r.count;
                let Some(arch) = crate::arch::Arch::from_name(&r.arch) else { continue };
                let mut args = [0u64; 6];
                for a in &r.args {
                    if let (Some(&v), Some(slot)) = (a.values.first(), args.get_mut(a.index as usize)) {
                        *slot = v;
                    }
                }
                let d = crate::seccomp::SeccompData { nr: r.nr, arch: arch.audit_arch(), instruction_pointer: 0, args };
                let action = Action::from_ret(run_stack(&emus, &d));
                if !matches!(action, Action::Allow | Action::Log) {
                    w.not_allowed_calls += r.count;
                    continue;
                }
                let cached = cache.is_cached(d.arch, d.nr);
                let mut c = CallPrediction {
                    nr: d.nr,
                    action,
                    cached,
                    insns: 0,
                    filters_run: 0,
                    classes: ClassCounts::default(),
                };
                if cached {
                    w.cached_calls += r.count;
                } else {
                    for (e, v) in emus.iter().zip(stack) {
                        let t = e.trace(&d);
                        c.insns += t.path.len() as u32;
                        c.classes.add(ClassCounts::of_path(v, &t.path));
                        c.filters_run += 1;
                    }
                    w.insns += u64::from(c.insns) * r.count;
                }
                total = total.zip(model.predict(true, &[c])).map(|(t, p)| t + p * r.count as f64);
            }
            let allowed = w.allowed_calls();
            w.ns_per_call = total.filter(|_| allowed > 0).map(|t| t / allowed as f64);
            w.ns_per_second =
                total.filter(|_| trace.recorder.wall_seconds > 0.0).map(|t| t / trace.recorder.wall_seconds);
            w
        })
        .collect();
    Workload {
        trace: trace_name,
        command: trace.command.clone(),
        wall_seconds: trace.recorder.wall_seconds,
        input: "one input per recorded syscall: each argument's first recorded value, 0 where none was recorded",
        costs,
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
    pub table: Option<Vec<crate::cost::per_syscall::AbiSummary>>,
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
    /// How every interval is computed ([`stats::METHOD`]).
    pub method: String,
    /// Rounds needed for any 95 % interval ([`stats::MIN_ROUNDS`]).
    pub min_rounds: usize,
    pub model: CostModel,
    /// With `--repeat N`: the parameters of each further run of the suite,
    /// for their spread across runs.
    pub repeats: Vec<Vec<Param>>,
    /// With `--repeat N`: per further run, how many of the first run's
    /// overhead cells (filter, syscall, processes) with a 95 % interval in
    /// both runs have intervals that overlap.
    pub repeat_cells: Vec<CellAgreement>,
    /// With `--workload`: a recorded program's syscalls priced by the model.
    pub workload: Option<Workload>,
    /// Per-call latency percentiles per (threads, neighbour) condition.
    pub tails: Vec<TailRow>,
    /// With two or more filters under test: them side by side per syscall.
    pub comparison: Option<compare::Comparison>,
    pub bitmap: Option<BitmapProbe>,
    /// Of the (subject, probe) pairs predicted to be cached, how many measured
    /// a run cost (vs the entry floor) within noise of zero; and of those
    /// predicted to run the filter, how many measured one above it.
    pub cache_check: CacheCheck,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CacheCheck {
    /// Enough rounds for intervals: without them nothing counts as consistent.
    pub resolvable: bool,
    pub cached_predicted: usize,
    pub cached_consistent: usize,
    pub uncached_predicted: usize,
    pub uncached_consistent: usize,
}

/// Per round, the median over children of the quiet runs (the main tables' figure).
fn per_round(samples: &[Sample], subject: usize, probe: Probe, threads: usize) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = samples
        .iter()
        .filter(|s| s.subject == subject && s.probe == probe && s.threads == threads && s.neighbour == Neighbour::Quiet)
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
                let values: Vec<f64> = mine.iter().map(|x| x.1).collect();
                let (Some(latency), Some(latency_estimate)) = (summarize(&values), Estimate::of(&values, false)) else {
                    continue;
                };
                // An allowed call's overhead is a cost; a denied one skips the
                // syscall's work and may well be negative.
                let cost = d.verdict == ProbeStatus::Measured;
                let diff = |other: Option<usize>| {
                    other
                        .filter(|&o| o != si)
                        .map(|o| paired(&mine, &per_round(&m.samples, o, d.probe, threads)))
                        .filter(|v| !v.is_empty())
                };
                let overhead_values = diff(base);
                let run_values = if s.kind != SubjectKind::Baseline && s.kind != SubjectKind::EntryFloor {
                    diff(floor)
                } else {
                    None
                };
                if s.kind == SubjectKind::Baseline {
                    noise.push(Noise {
                        probe: d.probe,
                        threads,
                        baseline: latency,
                        relative_spread: latency.relative_spread(),
                    });
                }
                rows.push(Row {
                    subject: s.label.clone(),
                    kind: s.kind,
                    probe: d.probe,
                    threads,
                    latency,
                    latency_estimate,
                    overhead: overhead_values.as_deref().and_then(summarize),
                    overhead_estimate: overhead_values.as_deref().and_then(|v| Estimate::of(v, cost)),
                    run_cost: run_values.as_deref().and_then(summarize),
                    run_cost_estimate: run_values.as_deref().and_then(|v| Estimate::of(v, cost)),
                    verdict: d.verdict.clone(),
                    predicted_cached: !s.stack.is_empty() && d.calls.iter().all(|c| c.cached),
                    predicted_insns: d.calls.iter().map(|c| c.insns).sum(),
                    predicted_ns: None,
                    returns: m
                        .samples
                        .iter()
                        .find(|x| x.subject == si && x.probe == d.probe && x.threads == threads)
                        .map(|x| x.returns.clone())
                        .unwrap_or_default(),
                });
            }
        }
    }
    let model = fit_model(&m, &rows);
    for r in rows.iter_mut().filter(|r| r.threads == model.threads) {
        let si = plan.subjects.iter().position(|s| s.label == r.subject).expect("row subject");
        if let Some(d) = plan.decisions[si].iter().find(|d| d.probe == r.probe) {
            r.predicted_ns = model.predict(!plan.subjects[si].stack.is_empty(), &d.calls);
        }
    }
    let mut cache_check = CacheCheck { resolvable: plan.options.rounds >= stats::MIN_ROUNDS, ..CacheCheck::default() };
    for r in rows.iter().filter(|r| {
        r.kind == SubjectKind::UnderTest && r.threads == model.threads && r.verdict == ProbeStatus::Measured
    }) {
        let Some(rc) = &r.run_cost_estimate else { continue };
        if r.predicted_cached {
            cache_check.cached_predicted += 1;
            cache_check.cached_consistent += usize::from(cache_check.resolvable && !rc.resolved_positive());
        } else {
            cache_check.uncached_predicted += 1;
            cache_check.uncached_consistent += usize::from(rc.resolved_positive());
        }
    }
    let subjects =
        plan.subjects.iter().zip(&plan.decisions).map(|(s, ds)| subject_info(s, ds, plan.options.geometry)).collect();
    let tails = tails(&m);
    let mut report = Report {
        command,
        environment: m.environment,
        load: m.load,
        clock: m.clock,
        options: plan.options.clone(),
        iterations: m.iterations,
        subjects,
        rows,
        noise,
        method: stats::METHOD.to_string(),
        min_rounds: stats::MIN_ROUNDS,
        model,
        repeats: Vec::new(),
        repeat_cells: Vec::new(),
        workload: None,
        tails,
        comparison: None,
        bitmap: m.bitmap,
        cache_check,
    };
    report.comparison = compare::compare(&report, plan);
    report
}

/// One later run of `--repeat` against the first: overhead cells compared.
#[derive(Clone, Debug, Serialize)]
pub struct CellAgreement {
    /// Cells with a 95 % interval in both runs.
    pub cells: usize,
    /// Of those, cells whose two intervals overlap.
    pub overlapping: usize,
    /// The others, as `filter / syscall / N processes`.
    pub disjoint: Vec<String>,
}

/// Compare `later`'s overhead cells with `first`'s (same filter, probe and
/// process count).
pub fn cell_agreement(first: &Report, later: &Report) -> CellAgreement {
    let mut a = CellAgreement { cells: 0, overlapping: 0, disjoint: Vec::new() };
    for r in &first.rows {
        let Some(i) = r.overhead_estimate.and_then(|e| e.interval) else { continue };
        let Some(j) = later
            .rows
            .iter()
            .find(|x| x.subject == r.subject && x.probe == r.probe && x.threads == r.threads)
            .and_then(|x| x.overhead_estimate?.interval)
        else {
            continue;
        };
        a.cells += 1;
        if i.lo <= j.hi && j.lo <= i.hi {
            a.overlapping += 1;
        } else {
            let procs = if r.threads == 1 { "1 process".to_string() } else { format!("{} processes", r.threads) };
            a.disjoint.push(format!("{} / {} / {procs}", r.subject, r.probe.name()));
        }
    }
    a
}

/// Per-call latency of one probe under one subject and condition: p50 and p99
/// of all children's singly timed calls, per round; the median over rounds
/// with its 95 % interval, and the paired per-round difference to the
/// no-filter run of the same condition.
#[derive(Clone, Debug, Serialize)]
pub struct TailRow {
    pub subject: String,
    pub kind: SubjectKind,
    pub probe: Probe,
    pub threads: usize,
    pub neighbour: Neighbour,
    pub verdict: ProbeStatus,
    /// Singly timed calls per round (all children).
    pub calls_per_round: usize,
    pub p50: Estimate,
    pub p99: Estimate,
    /// Null when not paired; see `unpaired`.
    pub p50_overhead: Option<Estimate>,
    pub p99_overhead: Option<Estimate>,
    /// Why the difference to no filter is not given although both ran: the
    /// filter skips calls the no-filter run makes, so the singly timed calls
    /// interleave a different mix (which alone moves a call's latency by
    /// 10–30 ns here) and a difference would not be the filter's.
    pub unpaired: Option<String>,
}

/// The `q`-quantile of every singly timed call of a run, per round.
fn per_round_quantile(
    m: &Measurements,
    si: usize,
    probe: Probe,
    threads: usize,
    nb: Neighbour,
    q: f64,
) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = m
        .samples
        .iter()
        .filter(|s| s.subject == si && s.probe == probe && s.threads == threads && s.neighbour == nb)
        .filter(|s| !s.per_call.is_empty())
        .map(|s| {
            let mut c = s.per_call.clone();
            c.sort_by(f64::total_cmp);
            (s.round, stats::quantile_sorted(&c, q))
        })
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

fn tails(m: &Measurements) -> Vec<TailRow> {
    let plan = &m.plan;
    let base = plan.subjects.iter().position(|s| s.kind == SubjectKind::Baseline);
    let skipped = |si: usize| -> Vec<Probe> {
        plan.decisions[si]
            .iter()
            .filter(|d| matches!(d.verdict, ProbeStatus::Skipped { .. }))
            .map(|d| d.probe)
            .collect()
    };
    let base_skipped = base.map(skipped).unwrap_or_default();
    let mut out = Vec::new();
    for &threads in &plan.options.threads {
        for &nb in &plan.options.neighbours {
            for (si, s) in plan.subjects.iter().enumerate() {
                if s.kind == SubjectKind::Sweep {
                    continue;
                }
                for d in &plan.decisions[si] {
                    let quantiles = |q| per_round_quantile(m, si, d.probe, threads, nb, q);
                    let (q50, q99) = (quantiles(0.5), quantiles(0.99));
                    let values = |v: &[(usize, f64)]| v.iter().map(|x| x.1).collect::<Vec<f64>>();
                    let (Some(p50), Some(p99)) =
                        (Estimate::of(&values(&q50), false), Estimate::of(&values(&q99), false))
                    else {
                        continue;
                    };
                    let cost = d.verdict == ProbeStatus::Measured;
                    let other_mix: Vec<Probe> = skipped(si).into_iter().filter(|p| !base_skipped.contains(p)).collect();
                    let unpaired = (base != Some(si) && !other_mix.is_empty()).then(|| {
                        format!(
                            "not paired: {} skipped under this filter, so its calls interleave with others",
                            other_mix.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                        )
                    });
                    let overhead = |mine: &[(usize, f64)], q| {
                        base.filter(|&b| b != si && unpaired.is_none()).and_then(|b| {
                            let v = paired(mine, &per_round_quantile(m, b, d.probe, threads, nb, q));
                            Estimate::of(&v, cost)
                        })
                    };
                    let calls_per_round = m
                        .samples
                        .iter()
                        .find(|x| x.subject == si && x.probe == d.probe && x.threads == threads && x.neighbour == nb)
                        .map_or(0, |x| x.per_call.len());
                    out.push(TailRow {
                        subject: s.label.clone(),
                        kind: s.kind,
                        probe: d.probe,
                        threads,
                        neighbour: nb,
                        verdict: d.verdict.clone(),
                        calls_per_round,
                        p50_overhead: overhead(&q50, 0.5),
                        p99_overhead: overhead(&q99, 0.99),
                        unpaired,
                        p50,
                        p99,
                    });
                }
            }
        }
    }
    out
}

/// The static part of the report, without measuring: per subject its cost
/// table summary, the hot syscalls' instruction counts and cache status, and
/// what each probe would do.
pub fn predictions(plan: &Plan) -> Vec<SubjectInfo> {
    plan.subjects.iter().zip(&plan.decisions).map(|(s, ds)| subject_info(s, ds, plan.options.geometry)).collect()
}

/// Per round, the median over the probes both subjects run allowed of the
/// per-call latency difference `a − b` (paired within the round), over the
/// probes whose calls the all-cacheable `floor` serves from the cache (so the
/// floor is the entry cost alone there).
fn per_call_diff(m: &Measurements, a: usize, b: usize, floor: usize, threads: usize) -> Vec<(usize, f64)> {
    let plan = &m.plan;
    let mut by_round: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for ((da, db), df) in plan.decisions[a].iter().zip(&plan.decisions[b]).zip(&plan.decisions[floor]) {
        if da.verdict != ProbeStatus::Measured
            || db.verdict != ProbeStatus::Measured
            || da.calls.is_empty()
            || !df.calls.iter().all(|c| c.cached)
        {
            continue;
        }
        let calls = da.calls.len() as f64;
        let xb = per_round(&m.samples, b, db.probe, threads);
        for (r, x) in per_round(&m.samples, a, da.probe, threads) {
            if let Some((_, y)) = xb.iter().find(|q| q.0 == r) {
                by_round.entry(r).or_default().push((x - y) / calls);
            }
        }
    }
    by_round.into_iter().filter_map(|(r, v)| stats::median(&v).map(|x| (r, x))).collect()
}

/// `[1 (miss), filters, loads, jumps, alus]` per call of a sweep subject, the
/// same for every call it makes (`None` if not: then it prices nothing).
fn sweep_features(ds: &[ProbeDecision]) -> Option<[f64; 5]> {
    let mut calls = ds.iter().filter(|d| d.verdict == ProbeStatus::Measured).flat_map(|d| d.calls.iter());
    let c0 = calls.next()?;
    let f = |c: &CallPrediction| (c.cached, c.filters_run, c.classes);
    if c0.cached || !calls.all(|c| f(c) == f(c0)) {
        return None;
    }
    Some([1.0, c0.filters_run as f64, c0.classes.load as f64, c0.classes.jump as f64, c0.classes.alu as f64])
}

const PARAMS: [(&str, &str); 6] = [
    ("entry", "every call, once any filter is attached: the all-cacheable floor `ld [0]; ret ALLOW` against no filter"),
    ("miss", "once per call the action cache does not serve (seccomp_data filled, the filter loop entered)"),
    ("per_filter", "per filter run, its `ret` included (from 1 against 8 stacked `ld; ret` filters)"),
    ("load", "per `ld`/`ldx` executed (from the 1000-load chain)"),
    ("jump", "per `jeq`/`jgt`/`jge`/`jset`/`ja` executed (from the 1000-jeq chain)"),
    ("alu", "per ALU/`tax`/`st` instruction executed (from the 1000-`add` chain)"),
];

fn fit_model(m: &Measurements, rows: &[Row]) -> CostModel {
    let plan = &m.plan;
    let threads = plan.options.threads.iter().copied().min().unwrap_or(1);
    let base = plan.subjects.iter().position(|s| s.kind == SubjectKind::Baseline);
    let floor = plan.subjects.iter().position(|s| s.kind == SubjectKind::EntryFloor);
    let mut params = Vec::new();
    let param = |name: &str, per_round: Vec<f64>| {
        let (name, what) = PARAMS.iter().find(|p| p.0 == name).copied().expect("known parameter");
        Estimate::of(&per_round, true).map(|estimate| Param { name, what, per_round, estimate })
    };
    if let (Some(b), Some(f)) = (base, floor) {
        let entry: Vec<f64> = per_call_diff(m, f, b, f, threads).into_iter().map(|x| x.1).collect();
        params.extend(param("entry", entry));
        // The sweep system, round by round.
        let sweeps: Vec<(usize, [f64; 5])> = plan
            .subjects
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SubjectKind::Sweep)
            .filter_map(|(si, _)| sweep_features(&plan.decisions[si]).map(|x| (si, x)))
            .collect();
        if sweeps.len() >= 5 {
            let diffs: Vec<Vec<(usize, f64)>> =
                sweeps.iter().map(|&(si, _)| per_call_diff(m, si, f, f, threads)).collect();
            let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); 5];
            for round in 0..plan.options.rounds {
                let (xs, ys): (Vec<Vec<f64>>, Vec<f64>) = sweeps
                    .iter()
                    .zip(&diffs)
                    .filter_map(|((_, x), d)| d.iter().find(|q| q.0 == round).map(|q| (x.to_vec(), q.1)))
                    .unzip();
                if xs.len() < 5 {
                    continue;
                }
                if let Some(beta) = least_squares(&xs, &ys) {
                    for (v, b) in per_round.iter_mut().zip(beta) {
                        v.push(b);
                    }
                }
            }
            for (name, v) in ["miss", "per_filter", "load", "jump", "alu"].into_iter().zip(per_round) {
                params.extend(param(name, v));
            }
        }
    }
    let mut model =
        CostModel { threads, params, points: Vec::new(), fit: Agreement::default(), validation: Agreement::default() };
    for r in
        rows.iter().filter(|r| r.threads == threads && matches!(r.kind, SubjectKind::UnderTest | SubjectKind::Sweep))
    {
        let (Some(o), Some(si)) = (&r.overhead_estimate, plan.subjects.iter().position(|s| s.label == r.subject))
        else {
            continue;
        };
        let Some(d) = plan.decisions[si].iter().find(|d| d.probe == r.probe) else { continue };
        // An ERRNO'd call skips the syscall's work, so its difference is no
        // overhead, except for the unknown number, which has no work to skip.
        let errno_on_nothing = r.probe == Probe::Raw(UNKNOWN_NR)
            && d.calls.iter().all(|c| matches!(c.action, Action::Allow | Action::Errno(_)));
        if r.verdict != ProbeStatus::Measured && !errno_on_nothing {
            continue;
        }
        let Some(predicted_ns) = model.predict(true, &d.calls) else { continue };
        model.points.push(ModelPoint {
            subject: r.subject.clone(),
            kind: r.kind,
            probe: r.probe,
            uncached: d.calls.iter().any(|c| !c.cached),
            insns: r.predicted_insns,
            measured_ns: o.median,
            measured_resolved: o.resolved(),
            predicted_ns,
        });
    }
    let fit: Vec<&ModelPoint> = model.points.iter().filter(|p| p.kind == SubjectKind::Sweep).collect();
    let validation: Vec<&ModelPoint> =
        model.points.iter().filter(|p| p.kind == SubjectKind::UnderTest && p.uncached).collect();
    model.fit = Agreement::of(&fit);
    model.validation = Agreement::of(&validation);
    model
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
                hot.push(HotCost {
                    syscall: arch.syscall_name(c.nr).map(str::to_string).unwrap_or_else(|| kov_name(c.nr)),
                    nr: c.nr,
                    cached: e.cached,
                    min: e.min,
                    max: e.max,
                });
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
        Options {
            threads: vec![1],
            rounds: 3,
            batches: 3,
            batch_ns: 1e6,
            probes: Probe::HOT.to_vec(),
            geometry: geo(),
            probe_bitmap: false,
            per_call: 0,
            neighbours: vec![Neighbour::Quiet],
        }
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
        Subject {
            label: "test".into(),
            kind: SubjectKind::UnderTest,
            stack: vec![validate(&p).unwrap()],
            note: String::new(),
        }
    }

    #[test]
    fn bitmap_boundary_is_where_the_slow_suffix_starts() {
        let x32 = 39 | crate::arch::X32_SYSCALL_BIT;
        let lat = |fast_below: u32| -> Vec<(u32, f64)> {
            (466..474).map(|n| (n, if n < fast_below { 150.0 } else { 800.0 })).chain([(x32, 810.0)]).collect()
        };
        // Measured here (Linux 6.18): 466 and 467 are real syscalls costing
        // over 1 µs of their own, so the absolute times interleave; the
        // filter's cost (with minus without) has the boundary at 470.
        let nrs = [466, 467, 468, 469, 470, 471, 472, 473, x32];
        let with = [1194.0, 1321.0, 132.0, 133.0, 394.0, 388.0, 390.0, 390.0, 390.0];
        let without = [1160.0, 1290.0, 101.0, 100.0, 79.0, 79.0, 80.0, 79.0, 80.0];
        let abs: Vec<(u32, f64)> = nrs.iter().copied().zip(with).collect();
        assert_eq!(classify_bitmap(&abs, 470, x32).0, None);
        let cost: Vec<(u32, f64)> = nrs.iter().zip(with.iter().zip(without)).map(|(&n, (a, b))| (n, a - b)).collect();
        assert_eq!(classify_bitmap(&cost, 470, x32).0, Some(470));
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
        assert!(matches!(&by(Probe::Getpid).verdict, ProbeStatus::Denied { action } if action.starts_with("ERRNO(1)")));
        assert!(
            matches!(&by(Probe::Write).verdict, ProbeStatus::Skipped { reason } if reason.starts_with("KILL_PROCESS"))
        );
        let read = by(Probe::Read);
        assert_eq!(read.verdict, ProbeStatus::Measured);
        assert_eq!((read.calls[0].cached, read.calls[0].insns, read.calls[0].filters_run), (false, 6, 1));
        assert_eq!(by(Probe::FutexWake).calls[0].insns, 8);
        let epoll = by(Probe::EpollWait);
        assert!(epoll.calls[0].cached && epoll.calls[0].insns == 0);
        // The floor caches everything, the baseline runs nothing.
        assert!(p.decisions[1].iter().all(|d| d.calls.iter().all(|c| c.cached)));
        assert!(p.decisions[0]
            .iter()
            .all(|d| d.verdict == ProbeStatus::Measured && d.calls.iter().all(|c| !c.cached && c.insns == 0)));
    }

    #[test]
    fn sweep_filters_run_their_class_on_every_probe_and_are_never_cached() {
        let ctx = ProbeContext::new();
        let subjects = std::iter::once(Subject::baseline()).chain(Subject::sweeps()).collect();
        let p = plan(subjects, opts(), &ctx);
        let n = SWEEP_LEN as u32;
        let want = [
            (1, ClassCounts { load: 1, jump: 0, alu: 0, ret: 1 }),
            (SWEEP_STACK as u32, ClassCounts { load: 8, jump: 0, alu: 0, ret: 8 }),
            (1, ClassCounts { load: n + 1, jump: 0, alu: 0, ret: 1 }),
            // ld [16], ld #0; every jeq falls through, one ja per block of 250.
            (1, ClassCounts { load: 2, jump: n + n / 250, alu: 0, ret: 1 }),
            (1, ClassCounts { load: 1, jump: 0, alu: n, ret: 1 }),
        ];
        for (i, &(filters, classes)) in want.iter().enumerate() {
            let s = &p.subjects[i + 1];
            assert_eq!(s.kind, SubjectKind::Sweep);
            for d in &p.decisions[i + 1] {
                assert_eq!(d.verdict, ProbeStatus::Measured, "{}: {:?}", s.label, d.probe);
                for c in &d.calls {
                    assert!(!c.cached && c.action == Action::Allow, "{}: {c:?}", s.label);
                    assert_eq!((c.filters_run, c.classes), (filters, classes), "{}", s.label);
                    assert_eq!(c.insns, classes.load + classes.jump + classes.alu + classes.ret);
                }
            }
            assert!(s.stack.iter().all(|v| v.len() <= crate::bpf::insn::BPF_MAXINSNS));
        }
        // The sweeps' equations determine all five parameters.
        let xs: Vec<Vec<f64>> = (1..=5).map(|i| sweep_features(&p.decisions[i]).unwrap().to_vec()).collect();
        let beta = least_squares(&xs, &[1.0, 2.0, 3.0, 4.0, 5.0]).expect("the sweep design is not singular");
        assert_eq!(beta.len(), 5);
    }

    #[test]
    fn instruction_classes_follow_the_opcode_class() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_LDX | BPF_IMM, 3),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::stmt(BPF_ST, 0),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 0),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 0),
            Insn::stmt(BPF_JMP | BPF_JA, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let v = validate(&p).unwrap();
        let path: Vec<usize> = (0..9).collect();
        assert_eq!(ClassCounts::of_path(&v, &path), ClassCounts { load: 2, jump: 3, alu: 3, ret: 1 });
        assert_eq!(ClassCounts::of_path(&v, &[0, 8]), ClassCounts { load: 1, jump: 0, alu: 0, ret: 1 });
    }

    /// The synthetic cost law: entry 40 ns per call, 10 ns per cache miss,
    /// 5 ns per filter run, 0.3 per load, 0.17 per jump, 0.29 per ALU instruction.
    fn law(c: &CallPrediction) -> f64 {
        if c.cached {
            40.0
        } else {
            40.0 + 10.0
                + 5.0 * c.filters_run as f64
                + 0.3 * c.classes.load as f64
                + 0.17 * c.classes.jump as f64
                + 0.29 * c.classes.alu as f64
        }
    }

    /// Synthetic measurements following [`law`] with a drift common to every
    /// subject of a round (pairing removes it); more processes add 10 ns per
    /// process. With `sweeps`, the sweep filters are measured too.
    pub(crate) fn synthetic_report(threads: &[usize], rounds: usize, sweeps: bool) -> Report {
        synthetic_report_with(threads, rounds, sweeps, Vec::new())
    }

    /// [`synthetic_report`] with more filters under test.
    pub(crate) fn synthetic_report_with(threads: &[usize], rounds: usize, sweeps: bool, more: Vec<Subject>) -> Report {
        analyze(synthetic_measurements(threads, rounds, sweeps, more), "seccheck bench test".into())
    }

    /// The measurements [`synthetic_report_with`] analyses.
    pub(crate) fn synthetic_measurements(
        threads: &[usize],
        rounds: usize,
        sweeps: bool,
        more: Vec<Subject>,
    ) -> Measurements {
        let ctx = ProbeContext::new();
        let mut subjects = vec![Subject::baseline(), Subject::entry_floor(), subject()];
        subjects.extend(more);
        if sweeps {
            subjects.extend(Subject::sweeps());
        }
        let probes = Probe::HOT.iter().copied().chain([Probe::Raw(UNKNOWN_NR)]).collect();
        let p = plan(subjects, Options { threads: threads.to_vec(), rounds, probes, ..opts() }, &ctx);
        let mut samples = Vec::new();
        for &t in threads {
            for round in 0..rounds {
                let drift = 15.0 * ((round * 7) % 5) as f64 - 30.0;
                for (si, ds) in p.decisions.iter().enumerate() {
                    for d in ds {
                        if matches!(d.verdict, ProbeStatus::Skipped { .. }) {
                            continue;
                        }
                        let body = 100.0 + 10.0 * d.probe.numbers()[0] as f64;
                        let cost: f64 =
                            if p.subjects[si].stack.is_empty() { 0.0 } else { d.calls.iter().map(law).sum() };
                        let load = 10.0 * (t - 1) as f64;
                        let v = body + cost + drift + load;
                        samples.push(Sample {
                            subject: si,
                            threads: t,
                            neighbour: Neighbour::Quiet,
                            round,
                            probe: d.probe,
                            per_child: vec![v; t],
                            // 100 calls per child, v … v + 99 ns: p50 v + 49.5, p99 v + 98.01.
                            per_call: (0..100 * t).map(|i| v + (i % 100) as f64).collect(),
                            returns: vec![0],
                        });
                    }
                }
            }
        }
        Measurements {
            plan: p,
            clock: TickClock { ns_per_tick: 1.0, source: "tsc" },
            iterations: vec![],
            samples,
            environment: environment::environment(),
            load: environment::load_between(&environment::sample_load(), &environment::sample_load(), 1),
            bitmap: None,
        }
    }

    #[test]
    fn analysis_pairs_rounds_and_recovers_the_cost_law_by_class() {
        let r = synthetic_report(&[1], 7, true);
        let row = r.rows.iter().find(|x| x.subject == "test" && x.probe == Probe::Read).unwrap();
        // read: ld [0], 3 × jeq, ld [16], ret.
        let want = 40.0 + 10.0 + 5.0 + 0.3 * 2.0 + 0.17 * 3.0;
        let o = row.overhead_estimate.unwrap();
        assert!((o.median - want).abs() < 1e-9 && o.resolved(), "{o:?}");
        let i = o.interval.unwrap();
        assert!(i.hi - i.lo < 1e-9 && i.coverage >= 0.95, "the drift is paired away: {i:?}");
        assert!((row.run_cost.unwrap().median - (want - 40.0)).abs() < 1e-9);
        let floor_getpid =
            r.rows.iter().find(|x| x.kind == SubjectKind::EntryFloor && x.probe == Probe::Getpid).unwrap();
        assert!((floor_getpid.overhead.unwrap().median - 40.0).abs() < 1e-9);
        let m = &r.model;
        for (name, v) in
            [("entry", 40.0), ("miss", 10.0), ("per_filter", 5.0), ("load", 0.3), ("jump", 0.17), ("alu", 0.29)]
        {
            let p = m.get(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!((p.estimate.median - v).abs() < 1e-6, "{name}: {p:?}");
            assert_eq!(p.per_round.len(), 7, "{name}");
            assert!(p.estimate.resolved(), "{name}");
        }
        assert!((row.predicted_ns.unwrap() - want).abs() < 1e-6);
        // Validation: the real filter's uncached probes (read, futex, the
        // unknown number on its default path), not the sweeps.
        assert_eq!(m.validation.points, 3);
        assert!(m.validation.median_relative_error.unwrap() < 1e-9);
        assert!((m.validation.spearman.unwrap() - 1.0).abs() < 1e-9);
        let unknown = m.points.iter().find(|p| p.subject == "test" && p.probe == Probe::Raw(UNKNOWN_NR)).unwrap();
        assert_eq!(unknown.insns, 6, "ld [0], four jeq, ret ALLOW");
        assert!(m.fit.points >= 5 * 6 && m.fit.median_relative_error.unwrap() < 1e-9, "{:?}", m.fit);
        assert!(m.points.iter().filter(|p| p.kind == SubjectKind::UnderTest).all(|p| p.subject == "test"));
        assert_eq!(r.noise.len(), Probe::HOT.len() + 1);
        assert!(r.noise.iter().all(|n| n.relative_spread > 0.0), "the drift shows up as baseline noise");
        assert!(
            r.rows.iter().all(|x| x.probe != Probe::Write || x.kind != SubjectKind::UnderTest),
            "skipped probes have no row"
        );
        assert!(r.cache_check.resolvable);
        assert_eq!((r.cache_check.uncached_predicted, r.cache_check.uncached_consistent), (3, 3));
        assert_eq!(
            (r.cache_check.cached_predicted, r.cache_check.cached_consistent),
            (3, 3),
            "clock_gettime, epoll_wait, openat+close"
        );
        // getpid is denied: its overhead may be negative and is not a cost.
        let getpid = r.rows.iter().find(|x| x.subject == "test" && x.probe == Probe::Getpid).unwrap();
        assert!(matches!(getpid.verdict, ProbeStatus::Denied { .. }));
        let info = &r.subjects[2];
        assert_eq!(info.lengths, vec![13]);
        assert!(info.hot.iter().any(|h| h.syscall == "getpid" && !h.cached));
    }

    #[test]
    fn tails_pair_percentiles_per_round_and_p99_is_never_below_p50() {
        let r = synthetic_report(&[1, 2], 7, false);
        assert!(!r.tails.is_empty());
        for t in &r.tails {
            assert!(t.p99.median >= t.p50.median, "{t:?}");
            for e in [Some(t.p50), Some(t.p99), t.p50_overhead, t.p99_overhead].into_iter().flatten() {
                let i = e.interval.expect("7 rounds give an interval");
                assert!(i.lo <= e.median && e.median <= i.hi, "{t:?}");
            }
            assert_eq!(t.calls_per_round, 100 * t.threads);
            assert_eq!(t.neighbour, Neighbour::Quiet);
            assert!(t.kind != SubjectKind::Sweep);
        }
        // The test filter kills write, so its per-call runs interleave one call
        // fewer than the no-filter run's: not paired, for any probe.
        for t in r.tails.iter().filter(|t| t.subject == "test") {
            assert!(t.p50_overhead.is_none() && t.p99_overhead.is_none(), "{t:?}");
            assert!(t.unpaired.as_deref().is_some_and(|w| w.contains("write skipped")), "{t:?}");
        }
        assert!(r.tails.iter().filter(|t| t.subject != "test").all(|t| t.unpaired.is_none()));
        // read under a filter that kills nothing the baseline calls (getpid
        // denied, read allowed after a load): every call costs the law's
        // price more, so both percentiles move by exactly that (the drift is
        // paired away).
        let mut s = subject();
        s.label = "test-nokill".into();
        let mut insns = s.stack[0].insns().to_vec();
        insns[4] = Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000);
        s.stack = vec![validate(&Program::new(insns)).unwrap()];
        let r = synthetic_report_with(&[1, 2], 7, false, vec![s]);
        let read =
            r.tails.iter().find(|t| t.subject == "test-nokill" && t.probe == Probe::Read && t.threads == 2).unwrap();
        let want = 40.0 + 10.0 + 5.0 + 0.3 * 2.0 + 0.17 * 3.0;
        let (o50, o99) = (read.p50_overhead.unwrap(), read.p99_overhead.unwrap());
        assert!((o50.median - want).abs() < 1e-9 && (o99.median - want).abs() < 1e-9, "{read:?}");
        assert!(o99.resolved() && o50.resolved());
        let base = r.tails.iter().find(|t| t.kind == SubjectKind::Baseline && t.probe == Probe::Read).unwrap();
        assert!(base.p50_overhead.is_none(), "the baseline has no overhead against itself");
        assert!((base.p99.median - base.p50.median - (98.01 - 49.5)).abs() < 1e-9);
    }

    /// [`subject`] with a longer read path (`ld [16]` twice more) and
    /// futex's argument loads behind a `jset` on arg0.
    pub(crate) fn subject2() -> Subject {
        let mut s = subject();
        let mut insns = s.stack[0].insns().to_vec();
        // read's block (jeq at 5, its loads from 6) grows by two.
        insns[5].jf += 2;
        insns.splice(6..6, [Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16), Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16)]);
        // futex: `jset #1` on arg0 (a pointer, even here, so it falls
        // through) skips its first load when taken.
        let futex_at = insns.iter().position(|i| i.k == libc::SYS_futex as u32).unwrap();
        insns[futex_at].jf += 2;
        insns.splice(
            futex_at + 1..futex_at + 1,
            [Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16), Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 1, 0)],
        );
        s.stack = vec![validate(&Program::new(insns)).expect("valid")];
        s.label = "test2".into();
        s
    }

    #[test]
    fn comparison_counts_exact_instructions_within_their_path_bounds_and_checks_the_cache() {
        assert!(synthetic_report(&[1], 7, false).comparison.is_none(), "one filter under test: nothing to compare");
        let r = synthetic_report_with(&[1], 7, true, vec![subject2()]);
        let c = r.comparison.as_ref().expect("two filters under test");
        assert_eq!(c.subjects, ["test", "test2"]);
        assert_eq!(c.rows.len(), Probe::HOT.len() + 1);
        for row in &c.rows {
            assert_eq!(row.cells.len(), 2, "{:?}", row.probe);
            for cell in &row.cells {
                let (lo, hi) = cell.bounds.expect("small filters: the path analysis never gives up");
                assert!(lo <= cell.insns && cell.insns <= hi, "{:?} {}: {cell:?}", row.probe, cell.subject);
                if cell.cached_predicted {
                    assert_eq!((cell.insns, lo, hi), (0, 0, 0));
                }
                if let (Some(o), Some(i)) = (cell.overhead, cell.overhead.and_then(|o| o.interval)) {
                    assert!(i.lo <= o.median && o.median <= i.hi);
                }
            }
        }
        let cell = |p: Probe, s: &str| {
            c.rows.iter().find(|r| r.probe == p).unwrap().cells.iter().find(|x| x.subject == s).unwrap().clone()
        };
        // read: ld [0], 3 × jeq, ld [16], ret; test2 loads twice more.
        assert_eq!((cell(Probe::Read, "test").insns, cell(Probe::Read, "test2").insns), (6, 8));
        assert_eq!(cell(Probe::Read, "test2").bounds, Some((8, 8)), "no argument branch: exact");
        // futex under test2 branches on arg0: the bounds span both ways, the count is this input's.
        let f = cell(Probe::FutexWake, "test2");
        assert_eq!((f.insns, f.bounds), (10, Some((9, 10))), "{f:?}");
        assert_eq!(cell(Probe::Read, "test2").cache_check, compare::CacheChecked::Consistent);
        assert_eq!(cell(Probe::EpollWait, "test").cache_check, compare::CacheChecked::Consistent);
        assert_eq!(cell(Probe::Getpid, "test").cache_check, compare::CacheChecked::Unmeasured, "denied");
        assert!(matches!(cell(Probe::Write, "test2").verdict, ProbeStatus::Skipped { .. }));
        // The measured overhead follows the law with each filter's own classes.
        let read2 = cell(Probe::Read, "test2").overhead.unwrap();
        assert!((read2.median - (40.0 + 10.0 + 5.0 + 0.3 * 4.0 + 0.17 * 3.0)).abs() < 1e-9, "{read2:?}");
    }

    #[test]
    fn without_sweeps_only_the_entry_cost_is_measured_and_nothing_uncached_is_predicted() {
        let r = synthetic_report(&[1], 7, false);
        assert!((r.model.get("entry").unwrap().estimate.median - 40.0).abs() < 1e-9);
        assert!(r.model.get("jump").is_none() && r.model.get("per_filter").is_none());
        let read = r.rows.iter().find(|x| x.subject == "test" && x.probe == Probe::Read).unwrap();
        assert_eq!(read.predicted_ns, None, "read runs the filter: no per-instruction cost to predict it with");
        let epoll = r.rows.iter().find(|x| x.subject == "test" && x.probe == Probe::EpollWait).unwrap();
        assert_eq!(epoll.predicted_ns, Some(40.0), "cached: entry only");
        assert_eq!(r.model.validation.points, 0);
        // The floor runs its two instructions on the unknown number: the entry
        // cost is taken only from the probes it serves from the cache.
        let floor_unknown =
            r.rows.iter().find(|x| x.kind == SubjectKind::EntryFloor && x.probe == Probe::Raw(UNKNOWN_NR)).unwrap();
        assert!(!floor_unknown.predicted_cached && floor_unknown.predicted_insns == 2);
    }

    #[test]
    fn a_workload_is_priced_call_by_call() {
        let r = synthetic_report(&[1], 7, true);
        let ctx = ProbeContext::new();
        let p = plan(vec![Subject::baseline(), Subject::entry_floor(), subject()], opts(), &ctx);
        let rec = |nr: u32, count: u64| crate::record::SyscallRecord {
            arch: "x86_64".into(),
            nr,
            name: Arch::X86_64.syscall_name(nr).map(str::to_string),
            count,
            args: vec![],
        };
        let trace = crate::record::Trace {
            format: crate::record::TRACE_FORMAT.into(),
            command: vec!["prog".into()],
            exit: crate::record::ExitRecord::Code(0),
            recorder: crate::record::RecorderStats {
                mechanism: "test".into(),
                notifications: 0,
                tasks: 1,
                tasks_capped: false,
                dropped_calls: 0,
                wall_seconds: 2.0,
            },
            // read runs the filter (6 insns), epoll_wait is cached, getpid is ERRNO'd.
            syscalls: vec![
                rec(libc::SYS_read as u32, 30),
                rec(libc::SYS_epoll_wait as u32, 10),
                rec(libc::SYS_getpid as u32, 5),
            ],
        };
        let w = workload(&p, &r.model, "t.json".into(), &trace);
        let c = &w.costs[0];
        assert_eq!((c.calls, c.not_allowed_calls, c.cached_calls), (45, 5, 10));
        let read = 40.0 + 10.0 + 5.0 + 0.3 * 2.0 + 0.17 * 3.0;
        assert!((c.ns_per_call.unwrap() - (30.0 * read + 10.0 * 40.0) / 40.0).abs() < 1e-6, "{c:?}");
        assert!((c.ns_per_second.unwrap() - (30.0 * read + 10.0 * 40.0) / 2.0).abs() < 1e-6);
        // Without the sweeps only cached calls could be priced: no figure.
        let bare = synthetic_report(&[1], 7, false);
        assert_eq!(workload(&p, &bare.model, "t.json".into(), &trace).costs[0].ns_per_call, None);
    }

    #[test]
    fn one_round_resolves_nothing() {
        let r = synthetic_report(&[1], 1, true);
        assert!(r
            .rows
            .iter()
            .filter_map(|x| x.overhead_estimate)
            .all(|e| e.n == 1 && e.interval.is_none() && !e.resolved()));
        assert!(r.model.params.iter().all(|p| !p.estimate.resolved()));
        assert!(!r.cache_check.resolvable);
        assert_eq!((r.cache_check.cached_consistent, r.cache_check.uncached_consistent), (0, 0));
    }
}
