//! Greedy minimisation of a case that diverges, is slow, hangs or kills its
//! compiler, while it still does.

use super::compare::Divergence;
use super::compile::{
    check_within, Case, CaseOutcome, Compiler, Hang, Limits, NotCompiled, Slow, LIMITS, MINIMISE_LIMITS, SLOW_COMPILE,
};
use crate::bpf::validate::ValidProgram;
use std::time::{Duration, Instant};

/// Minimise a diverging case greedily: take the first simpler variant that
/// still diverges, until none does or `budget` runs out. Variants get
/// [`MINIMISE_LIMITS`] (one that hangs does not diverge). The minimised case,
/// its divergence and its program.
pub fn shrink<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    found: (Divergence, ValidProgram),
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, (Divergence, ValidProgram)) {
    minimise(case, found, budget, MINIMISE_LIMITS.give_up, watch, |c| {
        match check_within(compiler, c, 1, MINIMISE_LIMITS) {
            Ok((CaseOutcome::Diverges(d), Some(p))) => Some((d, p)),
            _ => None,
        }
    })
}

/// Minimise a slow case greedily: the first simpler variant that still takes
/// at least half as long (and at least [`SLOW_COMPILE`]) for the same known
/// reason, until none does or `budget` runs out. The margin keeps the
/// result slow on a faster or idler machine; every step costs at least
/// [`SLOW_COMPILE`].
pub fn shrink_slow<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    slow: Slow,
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, Slow) {
    let floor = (slow.time / 2).max(SLOW_COMPILE);
    // A variant that loops is given up on soon; a slow one gets its time.
    let limits = Limits { spin_check: MINIMISE_LIMITS.spin_check, give_up: LIMITS.give_up };
    minimise(case, slow, budget, limits.give_up, watch, |c| {
        compiler.compile(c, limits).ok().and_then(|c| c.slow).filter(|s| s.known == slow.known && s.time >= floor)
    })
}

/// Minimise a hang greedily: the first simpler variant that still hangs the
/// same way (spinning or not, same known issue): a loop within
/// [`MINIMISE_LIMITS`], a hang that is not a loop within the run's own
/// [`LIMITS`] (so the result still takes that long).
pub fn shrink_hung<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    hang: Hang,
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, Hang) {
    let same = |h: &Hang, o: &Hang| h.known == o.known && h.spinning_at.is_some() == o.spinning_at.is_some();
    let limits = if hang.spinning_at.is_some() {
        MINIMISE_LIMITS
    } else {
        Limits { spin_check: MINIMISE_LIMITS.spin_check, give_up: LIMITS.give_up }
    };
    let first = hang.clone();
    minimise(case, hang, budget, limits.give_up, watch, |c| match compiler.compile(c, limits) {
        Err(NotCompiled::Hung(h)) if same(&h, &first) => Some(h),
        _ => None,
    })
}

/// Greedy minimisation: replace `case` by its first simpler variant for which
/// `still` answers, until none does or `budget` runs out. A variant is
/// checked only while `step` (the most one check can take: a slow or hanging
/// compilation's limit) still fits in the budget, so the budget holds when
/// `step` is right. `watch` sees each variant before it is checked.
pub(crate) fn minimise<C: Case, T>(
    case: &C,
    found: T,
    budget: Duration,
    step: Duration,
    watch: &mut dyn FnMut(&C),
    mut still: impl FnMut(&C) -> Option<T>,
) -> (C, T) {
    let start = Instant::now();
    let fits = || start.elapsed() + step < budget;
    let (mut best, mut what) = (case.clone(), found);
    'outer: while fits() {
        for c in best.shrink() {
            if !fits() {
                break 'outer;
            }
            watch(&c);
            if let Some(w) = still(&c) {
                best = c;
                what = w;
                continue 'outer;
            }
        }
        break;
    }
    (best, what)
}

/// `items` with each element left out in turn (a shrinking step).
pub(crate) fn without_each<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    (0..items.len())
        .map(|i| items.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, x)| x.clone()).collect())
        .collect()
}
