//! `bench --command`: a whole command timed end to end with and without each
//! filter, the macro figure (Draco, ISCA 2020, reports seccomp's cost this
//! way: 1.14× on macro benchmarks).
//!
//! Every run goes through `seccheck run`'s path ([`crate::kernel::supervise::time_command`]):
//! the same reaper and command processes, `no_new_privs` in both cases, the
//! filter installed with the flags its loader uses, standard streams on
//! `/dev/null`. The clock runs from the reaper's fork to the reaping of the
//! command's last process, so a filtered run pays the filter's installation
//! (the kernel compiles it) and its run on every call the command makes.
//!
//! Each filter first runs the command once, next to an unfiltered run: a
//! filter under which the command ends differently (killed by `SIGSYS`,
//! another exit status, `execve` refused) is reported as such and never
//! timed, since its time is not the command's. Then rounds interleave the
//! unfiltered run and every remaining filter, the order rotated each round;
//! per round the paired difference and ratio to that round's unfiltered run
//! give each filter's figure as the median over rounds with its 95 %
//! order-statistics interval ([`super::stats`]), not resolved when the
//! interval spans zero. A run whose outcome differs from the first makes the
//! filter's figures unresolved too (the command is not deterministic).

use super::stats::{self, Estimate};
use crate::bpf::ValidProgram;
use crate::kernel::command::CommandSpec;
use crate::kernel::environment::{self, Environment, Load};
use crate::kernel::supervise::{time_command, Exit, RunError};
use serde::Serialize;

pub use crate::uapi::SIGSYS;

/// A filter to time the command under.
#[derive(Clone, Debug)]
pub struct CommandSubject {
    pub label: String,
    /// Generator or format.
    pub note: String,
    pub program: ValidProgram,
    /// `SECCOMP_FILTER_FLAG_*` bits its loader passes (as `seccheck run`).
    pub flags: u32,
}

/// How one run of the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    Exit(i32),
    Signal(i32),
}

impl From<Exit> for Outcome {
    fn from(e: Exit) -> Outcome {
        match e {
            Exit::Code(c) => Outcome::Exit(c),
            Exit::Signal(s) => Outcome::Signal(s),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Exit(c) => write!(f, "exit status {c}"),
            Outcome::Signal(SIGSYS) => write!(f, "killed by SIGSYS"),
            Outcome::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// Whether a filter's runs are timed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommandVerdict {
    /// Ends as the unfiltered command does in every run: timed.
    Timed,
    /// The filter killed the command (`SIGSYS`: its answer to some call was
    /// KILL, or TRAP with no handler). Not timed.
    Killed { outcome: Outcome },
    /// The command ends otherwise under the filter (a denied call changed its
    /// course). Not timed: it is not the same work.
    Different { outcome: Outcome },
    /// The command could not start under the filter (e.g. it denies `execve`).
    NotStarted { reason: String },
    /// Some timed round ended differently from the first run; figures not resolved.
    Unstable { differing_runs: usize },
}

/// One filter's figures.
#[derive(Clone, Debug, Serialize)]
pub struct CommandRow {
    pub label: String,
    pub note: String,
    pub verdict: CommandVerdict,
    /// Wall time per run, µs, one per round (empty when not timed).
    pub per_round_us: Vec<f64>,
    /// Median wall time over rounds, µs.
    pub wall: Option<Estimate>,
    /// Paired per-round difference to the unfiltered run, µs (a cost).
    pub difference: Option<Estimate>,
    /// Paired per-round ratio to the unfiltered run, minus one (`0.14` = 1.14×).
    pub relative: Option<Estimate>,
}

impl CommandRow {
    /// Whether its figures are resolved (timed, stable, interval off zero).
    pub fn resolved(&self) -> bool {
        self.verdict == CommandVerdict::Timed && self.difference.is_some_and(|d| d.resolved())
    }
}

/// The whole measurement.
#[derive(Clone, Debug, Serialize)]
pub struct CommandReport {
    /// The `seccheck` command line that produced it.
    pub invocation: String,
    /// The command timed, as given.
    pub command: Vec<String>,
    pub rounds: usize,
    pub method: String,
    pub min_rounds: usize,
    pub environment: Environment,
    pub load: Load,
    /// How the unfiltered command ended.
    pub baseline_outcome: Outcome,
    pub baseline_per_round_us: Vec<f64>,
    pub baseline: Option<Estimate>,
    pub rows: Vec<CommandRow>,
    /// With `--workload`: the recorded trace priced under each filter, set
    /// beside the measured difference.
    pub workload: Option<super::Workload>,
    /// Where the cost model pricing the workload came from (`--model`);
    /// `None`: no model, so no predicted time (instructions are still exact).
    pub model_from: Option<String>,
}

impl CommandReport {
    /// A filter's measured difference per call its filter let the recorded
    /// program make, ns (`None` without a workload, a timed difference, or allowed calls).
    pub fn measured_per_allowed_call(&self, row: &CommandRow) -> Option<Estimate> {
        let cost = self.workload.as_ref()?.costs.iter().find(|c| c.subject == row.label)?;
        let allowed = cost.allowed_calls();
        let d = row.difference?;
        (allowed > 0).then(|| d.scaled(1000.0 / allowed as f64))
    }
}

/// Why a command could not be timed at all.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the command without a filter: {0}")]
    Baseline(RunError),
    #[error("{label}: {source}")]
    Subject {
        label: String,
        #[source]
        source: RunError,
    },
}

/// Time `cmd` `rounds` times without a filter and under each subject. See the
/// module doc. `progress(done, total, what)` is called before every run.
pub fn measure(
    cmd: &CommandSpec,
    shown: Vec<String>,
    subjects: &[CommandSubject],
    rounds: usize,
    invocation: String,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<CommandReport, CommandError> {
    let environment = environment::environment();
    let start = environment::sample_load();
    let total = (1 + subjects.len()) * (rounds + 1);
    let mut done = 0;
    // First runs: the outcome each filter is compared with (and a warm page cache).
    progress(done, total, "first run without a filter");
    let (base_exit, _) = time_command(cmd, None).map_err(CommandError::Baseline)?;
    let baseline_outcome = Outcome::from(base_exit);
    done += 1;
    let mut verdicts = Vec::with_capacity(subjects.len());
    for s in subjects {
        progress(done, total, &format!("first run under {}", s.label));
        done += 1;
        verdicts.push(match time_command(cmd, Some((s.program.program(), s.flags))) {
            Ok((exit, _)) => first_verdict(baseline_outcome, exit.into()),
            Err(e @ (RunError::Exec { .. } | RunError::Setup { .. } | RunError::PathTooLong(_))) => {
                CommandVerdict::NotStarted { reason: e.to_string() }
            }
            Err(source) => return Err(CommandError::Subject { label: s.label.clone(), source }),
        });
    }
    let timed: Vec<usize> = (0..subjects.len()).filter(|&i| verdicts[i] == CommandVerdict::Timed).collect();
    // Slot 0 is the unfiltered run, slot k the k-th timed subject.
    let slots = 1 + timed.len();
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); slots];
    let mut differing = vec![0usize; slots];
    for round in 0..rounds {
        for step in 0..slots {
            let slot = (step + round) % slots;
            let (label, filter) = match slot {
                0 => ("no filter", None),
                k => {
                    let s = &subjects[timed[k - 1]];
                    (s.label.as_str(), Some((s.program.program(), s.flags)))
                }
            };
            progress(done, total, &format!("round {}/{rounds} · {label}", round + 1));
            done += 1;
            let (exit, elapsed) = time_command(cmd, filter).map_err(|source| match slot {
                0 => CommandError::Baseline(source),
                _ => CommandError::Subject { label: label.to_string(), source },
            })?;
            differing[slot] += usize::from(Outcome::from(exit) != baseline_outcome);
            times[slot].push(elapsed.as_secs_f64() * 1e6);
        }
    }
    let load = environment::load_between(&start, &environment::sample_load(), environment.cpus);
    let mut rows: Vec<CommandRow> = subjects
        .iter()
        .zip(verdicts)
        .map(|(s, verdict)| CommandRow {
            label: s.label.clone(),
            note: s.note.clone(),
            verdict,
            per_round_us: Vec::new(),
            wall: None,
            difference: None,
            relative: None,
        })
        .collect();
    for (k, &i) in timed.iter().enumerate() {
        rows[i].per_round_us = times[k + 1].clone();
        if differing[k + 1] > 0 {
            rows[i].verdict = CommandVerdict::Unstable { differing_runs: differing[k + 1] };
        }
    }
    let baseline_per_round_us = std::mem::take(&mut times[0]);
    Ok(analyze(CommandReport {
        invocation,
        command: shown,
        rounds,
        method: stats::METHOD.to_string(),
        min_rounds: stats::MIN_ROUNDS,
        environment,
        load,
        baseline_outcome,
        baseline: None,
        baseline_per_round_us,
        rows,
        workload: None,
        model_from: None,
    })
    .with_unstable_baseline(differing[0]))
}

/// The verdict of a filter's first run against the unfiltered outcome.
pub fn first_verdict(baseline: Outcome, filtered: Outcome) -> CommandVerdict {
    match filtered {
        o if o == baseline => CommandVerdict::Timed,
        o @ Outcome::Signal(SIGSYS) => CommandVerdict::Killed { outcome: o },
        o => CommandVerdict::Different { outcome: o },
    }
}

impl CommandReport {
    /// An unfiltered run that ended otherwise than the first makes every pairing unsound.
    fn with_unstable_baseline(mut self, differing: usize) -> CommandReport {
        if differing > 0 {
            for r in self.rows.iter_mut().filter(|r| r.verdict == CommandVerdict::Timed) {
                r.verdict = CommandVerdict::Unstable { differing_runs: differing };
                r.difference = None;
                r.relative = None;
            }
        }
        self
    }
}

/// Fill every estimate from the per-round times (round `i` of a row is paired
/// with round `i` of the baseline).
pub fn analyze(mut r: CommandReport) -> CommandReport {
    r.baseline = Estimate::of(&r.baseline_per_round_us, false);
    for row in &mut r.rows {
        if row.per_round_us.is_empty() {
            continue;
        }
        row.wall = Estimate::of(&row.per_round_us, false);
        if row.verdict != CommandVerdict::Timed {
            continue;
        }
        let pairs = row.per_round_us.iter().zip(&r.baseline_per_round_us);
        let diff: Vec<f64> = pairs.clone().map(|(f, b)| f - b).collect();
        let rel: Vec<f64> = pairs.filter(|(_, &b)| b > 0.0).map(|(f, b)| f / b - 1.0).collect();
        row.difference = Estimate::of(&diff, true);
        row.relative = Estimate::of(&rel, true);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(base: Vec<f64>, rows: Vec<(CommandVerdict, Vec<f64>)>) -> CommandReport {
        let env = environment::environment();
        let s = environment::sample_load();
        CommandReport {
            invocation: "seccheck bench --command".into(),
            command: vec!["/bin/true".into()],
            rounds: base.len(),
            method: stats::METHOD.into(),
            min_rounds: stats::MIN_ROUNDS,
            load: environment::load_between(&s, &s, env.cpus),
            environment: env,
            baseline_outcome: Outcome::Exit(0),
            baseline_per_round_us: base,
            baseline: None,
            rows: rows
                .into_iter()
                .map(|(verdict, per_round_us)| CommandRow {
                    label: "f".into(),
                    note: String::new(),
                    verdict,
                    per_round_us,
                    wall: None,
                    difference: None,
                    relative: None,
                })
                .collect(),
            workload: None,
            model_from: None,
        }
    }

    #[test]
    fn the_measured_difference_is_divided_over_the_allowed_calls() {
        let base: Vec<f64> = (0..9).map(|i| 1000.0 + f64::from(i)).collect();
        let filtered: Vec<f64> = base.iter().map(|b| b + 50.0).collect();
        let mut r = analyze(report(base, vec![(CommandVerdict::Timed, filtered)]));
        assert_eq!(r.measured_per_allowed_call(&r.rows[0]), None, "no workload");
        let cost = |subject: &str, calls, not_allowed_calls| crate::overhead::WorkloadCost {
            subject: subject.into(),
            calls,
            not_allowed_calls,
            cached_calls: 0,
            insns: 0,
            ns_per_call: None,
            ns_per_second: None,
        };
        r.workload = Some(crate::overhead::Workload {
            trace: "t.json".into(),
            command: vec!["/bin/true".into()],
            wall_seconds: 0.001,
            input: "",
            costs: vec![cost("other", 10, 0), cost("f", 1250, 250)],
        });
        // +50 µs over 1000 allowed calls: 50 ns each, the interval scaled alike.
        let d = r.rows[0].difference.unwrap();
        let per = r.measured_per_allowed_call(&r.rows[0]).unwrap();
        assert!((per.median - 50.0).abs() < 1e-9, "{per:?}");
        assert_eq!(per.unresolved, d.unresolved);
        let (i, j) = (per.interval.unwrap(), d.interval.unwrap());
        assert!((i.lo - j.lo).abs() < 1e-9 && (i.hi - j.hi).abs() < 1e-9 && i.coverage == j.coverage);
        r.workload.as_mut().unwrap().costs[1].not_allowed_calls = 1250;
        assert_eq!(r.measured_per_allowed_call(&r.rows[0]), None, "no allowed call");
    }

    #[test]
    fn paired_rounds_give_difference_and_ratio_with_intervals() {
        // A drift common to both runs of a round is paired away: +50 µs, ×1.05.
        let base: Vec<f64> = (0..9).map(|i| 1000.0 + 100.0 * f64::from(i % 4)).collect();
        let filtered: Vec<f64> = base.iter().map(|b| b * 1.05).collect();
        let r = analyze(report(base.clone(), vec![(CommandVerdict::Timed, filtered)]));
        let row = &r.rows[0];
        let d = row.difference.unwrap();
        let q = row.relative.unwrap();
        assert!(row.resolved());
        assert!((q.median - 0.05).abs() < 1e-12 && q.resolved(), "{q:?}");
        let (di, qi) = (d.interval.unwrap(), q.interval.unwrap());
        assert!(di.lo <= d.median && d.median <= di.hi && qi.lo <= q.median && q.median <= qi.hi);
        assert!(di.lo >= 50.0 && di.hi <= 65.0, "{di:?}");
        assert_eq!(r.baseline.unwrap().n, 9);
        // No difference at all: spans zero, not resolved.
        let noisy: Vec<f64> = base.iter().enumerate().map(|(i, b)| b + if i % 2 == 0 { 5.0 } else { -5.0 }).collect();
        let r = analyze(report(base, vec![(CommandVerdict::Timed, noisy)]));
        assert!(!r.rows[0].resolved());
        assert_eq!(r.rows[0].difference.unwrap().unresolved, Some(stats::Unresolved::SpansZero));
    }

    #[test]
    fn killed_and_different_runs_are_not_timed() {
        assert_eq!(first_verdict(Outcome::Exit(0), Outcome::Exit(0)), CommandVerdict::Timed);
        assert_eq!(
            first_verdict(Outcome::Exit(0), Outcome::Signal(SIGSYS)),
            CommandVerdict::Killed { outcome: Outcome::Signal(SIGSYS) }
        );
        assert_eq!(
            first_verdict(Outcome::Exit(0), Outcome::Exit(1)),
            CommandVerdict::Different { outcome: Outcome::Exit(1) }
        );
        let r =
            analyze(report(vec![1.0; 9], vec![(CommandVerdict::Killed { outcome: Outcome::Signal(SIGSYS) }, vec![])]));
        assert!(r.rows[0].difference.is_none() && !r.rows[0].resolved());
        // An unstable baseline unresolves every timed filter.
        let r = analyze(report(vec![1.0; 9], vec![(CommandVerdict::Timed, vec![2.0; 9])])).with_unstable_baseline(1);
        assert_eq!(r.rows[0].verdict, CommandVerdict::Unstable { differing_runs: 1 });
        assert!(r.rows[0].difference.is_none());
    }
}
