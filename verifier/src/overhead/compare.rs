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

use super::stats::Estimate;
use super::{Plan, ProbeStatus, Report, SubjectKind};
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
    Some(Comparison { threads, subjects: subjects.iter().map(|s| s.label.clone()).collect(), rows })
}
