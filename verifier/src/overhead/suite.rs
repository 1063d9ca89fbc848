//! The suite as a front end starts it: what it chooses ([`Settings`]) checked
//! and completed for this host into [`Options`] (the running kernel's
//! action-cache geometry, one process up to every CPU by default), the
//! no-filter baseline and the entry floor next to the filters under test
//! ([`subjects`]), and the planned runs measured and analysed into a
//! [`Report`] ([`run`]). `seccheck bench` and `seccheck report --bench` both
//! start the suite here, so they measure alike.

use super::{analyze, compare, measure, Neighbour, Options, Plan, Progress, Report, Subject};
use crate::arch::Arch;
use crate::cost::CacheGeometry;
use crate::kernel::overhead::{self as kov, OverheadError, Probe, ProbeContext};

/// What a front end chooses about a run of the suite.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Concurrent processes per run (empty: 1 up to the number of CPUs).
    pub threads: Vec<usize>,
    /// Interleaved repetitions of every measurement.
    pub rounds: usize,
    /// Timed batches per probe per run.
    pub batches: u32,
    /// Target duration of one batch, nanoseconds.
    pub batch_ns: f64,
    pub probes: Vec<Probe>,
    /// Also measure where the native cache bitmap ends.
    pub probe_bitmap: bool,
    /// Single calls of each probe timed one by one per process and run (0: none).
    pub per_call: u32,
    /// Conditions every (round, threads) runs under.
    pub neighbours: Vec<Neighbour>,
    /// The running kernel's native syscall-table size, if not Linux 6.18's.
    pub nr_syscalls: Option<u32>,
}

/// Most rounds a run takes (each measures every subject, probe and process
/// count again: 1000 of them take hours).
pub const MAX_ROUNDS: usize = 1000;

/// The target length of one timed batch, microseconds: at least 1, at most
/// 0.1 s (the suite needs many batches per round, and a batch is meant to
/// run within one scheduler time slice).
pub const BATCH_US: (f64, f64) = (1.0, 100_000.0);

/// Largest native syscall-table size (`NR_syscalls`) the suite takes: every
/// Linux ABI it measures on numbers its syscalls below 1024 (x86_64 and
/// aarch64 are below 500 in 6.18), and the cache model keeps one bit per number.
pub const MAX_NR_SYSCALLS: u32 = 4096;

/// Why the suite cannot run as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SuiteError {
    #[error("the overhead suite measures on x86_64 or aarch64 hosts only")]
    Host,
    #[error("no action-cache geometry known for {0}")]
    Geometry(Arch),
    #[error("the native syscall-table size must be 1..={MAX_NR_SYSCALLS}")]
    NrSyscalls,
    #[error("rounds must be 1..={MAX_ROUNDS}")]
    Rounds,
    #[error("a batch's target length must be {}..={} µs", BATCH_US.0, BATCH_US.1)]
    BatchLength,
    #[error("batches must be 1..={}", kov::MAX_BATCHES)]
    Batches,
    #[error("single calls per probe must be 0..={}", kov::MAX_PER_CALL)]
    PerCall,
    #[error("a busy neighbour needs at least two CPUs (one for the neighbour)")]
    BusyNeighbour,
    #[error("concurrent processes must be 1..={}", kov::MAX_PROCESSES)]
    Threads,
}

/// The running host's action-cache geometry (Linux 6.18's layout), its
/// native table `nr_syscalls` long when given (1..=[`MAX_NR_SYSCALLS`]).
pub fn host_geometry(nr_syscalls: Option<u32>) -> Result<CacheGeometry, SuiteError> {
    let running = host_arch().ok_or(SuiteError::Host)?;
    let geometry = CacheGeometry::linux_6_18(running).ok_or(SuiteError::Geometry(running))?;
    Ok(match nr_syscalls {
        Some(n) if n == 0 || n > MAX_NR_SYSCALLS => return Err(SuiteError::NrSyscalls),
        Some(n) => geometry.with_native_size(n),
        None => geometry,
    })
}

impl Settings {
    /// The options for this host, or the first setting it cannot run (in the
    /// order of [`SuiteError`]'s variants).
    pub fn options(self) -> Result<Options, SuiteError> {
        let geometry = host_geometry(self.nr_syscalls)?;
        if self.rounds == 0 || self.rounds > MAX_ROUNDS {
            return Err(SuiteError::Rounds);
        }
        let batch_us = self.batch_ns / 1000.0;
        if !(BATCH_US.0..=BATCH_US.1).contains(&batch_us) {
            return Err(SuiteError::BatchLength);
        }
        if self.batches == 0 || self.batches as usize > kov::MAX_BATCHES {
            return Err(SuiteError::Batches);
        }
        if self.per_call > kov::MAX_PER_CALL {
            return Err(SuiteError::PerCall);
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if self.neighbours.contains(&Neighbour::Busy) && cpus < 2 {
            return Err(SuiteError::BusyNeighbour);
        }
        let threads = if self.threads.is_empty() { (1..=cpus).collect() } else { self.threads };
        if threads.iter().any(|&t| t == 0 || t > kov::MAX_PROCESSES) {
            return Err(SuiteError::Threads);
        }
        Ok(Options {
            threads,
            rounds: self.rounds,
            batches: self.batches,
            batch_ns: self.batch_ns,
            probes: self.probes,
            geometry,
            probe_bitmap: self.probe_bitmap,
            per_call: self.per_call,
            neighbours: self.neighbours,
        })
    }
}

/// The ABI the suite's children run in: this host's native one.
pub fn host_arch() -> Option<Arch> {
    let native = kov::native_audit_arch()?;
    Arch::all().find(|a| a.audit_arch() == native && *a != Arch::X32)
}

/// What every suite measures: the no-filter baseline and the all-cacheable
/// entry floor, then `under_test`.
pub fn subjects(under_test: impl IntoIterator<Item = Subject>) -> Vec<Subject> {
    [Subject::baseline(), Subject::entry_floor()].into_iter().chain(under_test).collect()
}

/// Measure `plan` `repeat` times (at least once) and analyse each run: the
/// first run's report, with every later run's cost-model parameters in
/// [`Report::repeats`]. `optimized` pairs (input label, optimised label)
/// of `bench --compare-optimized` are compared in each run
/// ([`compare::optimized`]). `progress` is told the run (from 0) and its
/// progress; `command` is the command line the report names.
pub fn run(
    plan: &Plan,
    ctx: &ProbeContext,
    repeat: usize,
    command: &str,
    optimized: &[(String, String)],
    progress: &mut dyn FnMut(usize, Progress),
) -> Result<Report, OverheadError> {
    let mut runs = Vec::with_capacity(repeat.max(1));
    for i in 0..repeat.max(1) {
        let measured = measure(plan.clone(), ctx, &mut |p| progress(i, p))?;
        let pairs = compare::optimized(&measured, optimized);
        let mut report = analyze(measured, command.to_string());
        if let Some(c) = report.comparison.as_mut() {
            c.optimized = pairs;
        }
        runs.push(report);
    }
    let mut report = runs.remove(0);
    report.repeat_cells = runs.iter().map(|r| super::cell_agreement(&report, r)).collect();
    report.repeats = runs.into_iter().map(|r| r.model.params).collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            threads: Vec::new(),
            rounds: 3,
            batches: 5,
            batch_ns: 100_000.0,
            probes: Probe::HOT.to_vec(),
            probe_bitmap: false,
            per_call: 0,
            neighbours: vec![Neighbour::Quiet],
            nr_syscalls: None,
        }
    }

    #[test]
    fn options_are_checked_and_completed_for_this_host() {
        let Ok(o) = settings().options() else {
            // Not an x86_64 or aarch64 host: said, never guessed.
            assert_eq!(settings().options().unwrap_err(), SuiteError::Host);
            return;
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(o.threads, (1..=cpus).collect::<Vec<_>>());
        assert_eq!((o.rounds, o.batches, o.per_call), (3, 5, 0));
        let with = |f: fn(&mut Settings)| {
            let mut s = settings();
            f(&mut s);
            s.options().map(|_| ())
        };
        assert_eq!(with(|s| s.rounds = 0), Err(SuiteError::Rounds));
        assert_eq!(with(|s| s.rounds = MAX_ROUNDS + 1), Err(SuiteError::Rounds));
        assert_eq!(with(|s| s.batch_ns = 0.0), Err(SuiteError::BatchLength));
        assert_eq!(with(|s| s.batch_ns = f64::NAN), Err(SuiteError::BatchLength));
        assert_eq!(with(|s| s.batch_ns = -1000.0), Err(SuiteError::BatchLength));
        assert_eq!(with(|s| s.batch_ns = 1e12), Err(SuiteError::BatchLength));
        assert_eq!(with(|s| s.nr_syscalls = Some(0)), Err(SuiteError::NrSyscalls));
        assert_eq!(with(|s| s.nr_syscalls = Some(u32::MAX)), Err(SuiteError::NrSyscalls));
        assert_eq!(with(|s| s.batches = 0), Err(SuiteError::Batches));
        assert_eq!(with(|s| s.batches = kov::MAX_BATCHES as u32 + 1), Err(SuiteError::Batches));
        assert_eq!(with(|s| s.per_call = kov::MAX_PER_CALL + 1), Err(SuiteError::PerCall));
        assert_eq!(with(|s| s.threads = vec![1, 0]), Err(SuiteError::Threads));
        assert_eq!(with(|s| s.threads = vec![kov::MAX_PROCESSES + 1]), Err(SuiteError::Threads));
        assert_eq!(with(|s| s.threads = vec![2]), Ok(()));
        let mut s = settings();
        s.nr_syscalls = Some(500);
        assert_eq!(s.options().unwrap().geometry, o.geometry.with_native_size(500));
    }

    #[test]
    fn the_baseline_and_floor_come_first() {
        let s = subjects([Subject::baseline()]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].label, Subject::entry_floor().label);
    }
}
