//! Filters under test side by side, syscall by syscall: what each generator's
//! output costs for the same calls (`bench --compare-generators PROFILE`
//! measures libseccomp optimize 1 and 2 and runc's layout of one profile, or
//! seccompiler's; any other FILE given joins them). Generic over the filters
//! under test of a [`Report`]: any set of two or more is compared.
//!
//! Per probe and filter: the instructions executed for the probe's exact
//! input (the emulator's path through every filter, 0 when the kernel's
//! action cache serves the call), the bounds over all argument values from
//! [`crate::cost::paths`] (via the cost table), the cache prediction and
//! whether the measurement agrees with it, and the measured overhead with its
//! interval.
//!
//! [`optimized`] pairs a filter with the program `seccheck optimize` made of
//! it (`bench --compare-optimized`): per probe both instruction counts, both
//! cache predictions, and the optimised filter's time minus its input's,
//! paired per round, with its interval.

use super::stats::Estimate;
use super::{Measurements, Plan, ProbeStatus, Report, SubjectKind};
use crate::cost::paths::path_bounds;
use crate::kernel::overhead::Probe;
use serde::Serialize;

/// Whether the measured run cost agrees with the cache prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheChecked {
    /// Predicted cached and no run cost resolved above the entry floor, or
    /// predicted to run the filter and a run cost resolved above it.
    Consistent,
    /// Predicted to run the filter, but no run cost was resolved (too few
    /// rounds, noise, or a path too short to tell apart).
    NotShown,
    /// Predicted cached, yet a run cost above the floor was resolved.
    Contradicted,
    /// Not measured (skipped, denied, or no run cost against the floor).
    Unmeasured,
}

#[derive(Clone, Debug, Serialize)]
pub struct ComparisonCell {
    pub subject: String,
    pub verdict: ProbeStatus,
    /// Instructions executed for this probe's input, summed over its calls
    /// and the stack's filters; 0 for calls the cache serves. Exact.
    pub insns: u32,
    /// Fewest and most instructions over all argument values, summed over
    /// the probe's calls and the stack's filters ([`path_bounds`]; 0 for a
    /// cached call); `None` when the path analysis gave up.
    pub bounds: Option<(u32, u32)>,
    pub cached_predicted: bool,
    pub cache_check: CacheChecked,
    /// Against no filter, paired per round.
    pub overhead: Option<Estimate>,
    /// Against the all-cacheable entry floor: the filter's own run time.
    pub run_cost: Option<Estimate>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ComparisonRow {
    pub probe: Probe,
    pub cells: Vec<ComparisonCell>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Process count the figures are from (the smallest measured, quiet runs).
    pub threads: usize,
    pub subjects: Vec<String>,
    pub rows: Vec<ComparisonRow>,
    /// With `--compare-optimized`: each input next to its optimised program.
    pub optimized: Vec<OptimizedPair>,
}

/// A filter under test and the program `seccheck optimize` compiled from it
/// (proven equivalent on every input before it was measured), both measured
/// in the same rounds.
#[derive(Clone, Debug, Serialize)]
pub struct OptimizedPair {
    pub input: String,
    pub output: String,
    pub input_instructions: usize,
    pub output_instructions: usize,
    pub rows: Vec<OptimizedRow>,
}

/// One probe under an input and its optimised program.
#[derive(Clone, Debug, Serialize)]
pub struct OptimizedRow {
    pub probe: Probe,
    /// Instructions executed for the probe's input (0 when the cache serves
    /// every call), exact, under the input and under the optimised program.
    pub input_insns: u32,
    pub output_insns: u32,
    pub input_cached: bool,
    pub output_cached: bool,
    /// Optimised minus input, ns per probe iteration, paired per round (the
    /// smallest process count, quiet runs): negative when the optimised
    /// program is faster. `None` when the probe was not measured under both.
    pub difference: Option<Estimate>,
}

/// Each `(input, output)` pair of subject labels of `m`, probe by probe (the
/// same filter, so the same verdict under both). A label `m` does not hold
/// is left out.
pub fn optimized(m: &Measurements, pairs: &[(String, String)]) -> Vec<OptimizedPair> {
    let plan = &m.plan;
    let threads = plan.options.threads.iter().copied().min().unwrap_or(1);
    let index = |label: &str| plan.subjects.iter().position(|s| s.label == label);
    pairs
        .iter()
        .filter_map(|(input, output)| {
            let (i, o) = (index(input)?, index(output)?);
            let rows = plan.decisions[i]
                .iter()
                .filter_map(|di| {
                    let d_o = plan.decisions[o].iter().find(|d| d.probe == di.probe)?;
                    let measured = !matches!(di.verdict, ProbeStatus::Skipped { .. });
                    let values = super::paired(
                        &super::per_round(&m.samples, o, di.probe, threads),
                        &super::per_round(&m.samples, i, di.probe, threads),
                    );
                    Some(OptimizedRow {
                        probe: di.probe,
                        input_insns: di.calls.iter().map(|c| c.insns).sum(),
                        output_insns: d_o.calls.iter().map(|c| c.insns).sum(),
                        input_cached: di.calls.iter().all(|c| c.cached),
                        output_cached: d_o.calls.iter().all(|c| c.cached),
                        difference: if measured { Estimate::of(&values, false) } else { None },
                    })
                })
                .collect();
            Some(OptimizedPair {
                input: input.clone(),
                output: output.clone(),
                input_instructions: plan.subjects[i].stack.iter().map(|v| v.insns().len()).sum(),
                output_instructions: plan.subjects[o].stack.iter().map(|v| v.insns().len()).sum(),
                rows,
            })
        })
        .collect()
}

/// The comparison of every filter under test of `report` (measured from
/// `plan`); `None` with fewer than two.
pub fn compare(report: &Report, plan: &Plan) -> Option<Comparison> {
    let subjects: Vec<&super::SubjectInfo> =
        report.subjects.iter().filter(|s| s.kind == SubjectKind::UnderTest).collect();
    if subjects.len() < 2 {
        return None;
    }
    let threads = report.model.threads;
    let resolvable = report.options.rounds >= super::stats::MIN_ROUNDS;
    let arch = plan.options.geometry.native.arch.audit_arch();
    let rows = report
        .options
        .probes
        .iter()
        .map(|&probe| ComparisonRow {
            probe,
            cells: subjects
                .iter()
                .filter_map(|s| {
                    let d = s.decisions.iter().find(|d| d.probe == probe)?;
                    let row =
                        report.rows.iter().find(|r| r.subject == s.label && r.probe == probe && r.threads == threads);
                    let cached_predicted = d.calls.iter().all(|c| c.cached);
                    let stack = &plan.subjects.iter().find(|p| p.label == s.label)?.stack;
                    let bounds = d.calls.iter().try_fold((0, 0), |(lo, hi), c| {
                        if c.cached {
                            return Some((lo, hi));
                        }
                        stack.iter().try_fold((lo, hi), |(lo, hi), v| {
                            path_bounds(v, arch, c.nr).ok().map(|b| (lo + b.min, hi + b.max))
                        })
                    });
                    let run_cost = row.and_then(|r| r.run_cost_estimate);
                    let cache_check = match (&d.verdict, run_cost) {
                        (ProbeStatus::Measured, Some(rc)) => match (cached_predicted, rc.resolved_positive()) {
                            (true, false) if resolvable => CacheChecked::Consistent,
                            (true, false) => CacheChecked::NotShown,
                            (true, true) => CacheChecked::Contradicted,
                            (false, true) => CacheChecked::Consistent,
                            (false, false) => CacheChecked::NotShown,
                        },
                        _ => CacheChecked::Unmeasured,
                    };
                    Some(ComparisonCell {
                        subject: s.label.clone(),
                        verdict: d.verdict.clone(),
                        insns: d.calls.iter().map(|c| c.insns).sum(),
                        bounds,
                        cached_predicted,
                        cache_check,
                        overhead: row.and_then(|r| r.overhead_estimate),
                        run_cost,
                    })
                })
                .collect(),
        })
        .collect();
    Some(Comparison {
        threads,
        subjects: subjects.iter().map(|s| s.label.clone()).collect(),
        rows,
        optimized: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overhead::tests::{subject2, synthetic_measurements};

    #[test]
    fn an_input_and_its_optimised_program_are_paired_per_round() {
        let m = synthetic_measurements(&[1], 7, true, vec![subject2()]);
        let pairs = [("test".to_string(), "test2".to_string()), ("test".to_string(), "absent".to_string())];
        let o = optimized(&m, &pairs);
        assert_eq!(o.len(), 1, "a label the run does not hold is left out");
        let p = &o[0];
        assert_eq!((p.input.as_str(), p.output.as_str()), ("test", "test2"));
        assert_eq!(p.output_instructions, p.input_instructions + 4);
        assert_eq!(p.rows.len(), Probe::HOT.len() + 1);
        let row = |probe: Probe| p.rows.iter().find(|r| r.probe == probe).unwrap();
        // read: test2 runs two more loads; the synthetic law prices a load at
        // 0.3 ns, and the per-round drift cancels in the pairing.
        let read = row(Probe::Read);
        assert_eq!((read.input_insns, read.output_insns), (6, 8));
        let d = read.difference.expect("measured under both");
        assert!((d.median - 0.6).abs() < 1e-9 && d.interval.is_some(), "{d:?}");
        // write kills the caller under both: never measured, no difference.
        assert!(row(Probe::Write).difference.is_none());
        // A cached call runs nothing under either.
        let e = row(Probe::EpollWait);
        assert!(e.input_cached && e.output_cached && e.input_insns == 0 && e.output_insns == 0, "{e:?}");
        assert!(e.difference.unwrap().median.abs() < 1e-9);
    }
}
