//! Robust statistics for latency samples, and how many digits they deserve.
//!
//! On a shared VM single runs show 2–3× outliers, so every figure we print is
//! a median over interleaved rounds with a 95 % confidence interval, and a
//! difference is printed as a number only when that interval resolves it.
//!
//! The interval is the distribution-free order-statistics interval for a
//! median ([`median_interval`]): with `n` independent values (one per round,
//! each a paired difference within that round), the number of values below the
//! true median is Binomial(n, ½), so `[x₍ₖ₎, x₍ₙ₋ₖ₊₁₎]` covers the median with
//! probability `1 − 2·P(B ≤ k−1)`; `k` is the largest with that ≥ 95 %. It
//! assumes nothing about the noise's shape (outliers from preemption are
//! common here), is deterministic (no resampling seed) and needs at least
//! [`MIN_ROUNDS`] values: with 5 or fewer even `[min, max]` covers less than
//! 95 %.

use serde::Serialize;

/// Median and spread of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    /// First and third quartile (linear interpolation between order statistics).
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// Half the interquartile range: the "±" we print.
    pub fn spread(&self) -> f64 {
        (self.q3 - self.q1) / 2.0
    }
    /// Spread relative to the median (0 when the median is 0).
    pub fn relative_spread(&self) -> f64 {
        if self.median.abs() > 0.0 {
            self.spread() / self.median.abs()
        } else {
            0.0
        }
    }
}

/// The `q`-quantile (0..=1) of sorted data, interpolating linearly.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Summarize a sample; `None` when it is empty or holds a NaN.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    if xs.is_empty() || xs.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut s = xs.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Some(Summary {
        n: s.len(),
        median: quantile_sorted(&s, 0.5),
        q1: quantile_sorted(&s, 0.25),
        q3: quantile_sorted(&s, 0.75),
        min: s[0],
        max: s[s.len() - 1],
    })
}

pub fn median(xs: &[f64]) -> Option<f64> {
    summarize(xs).map(|s| s.median)
}

/// Pearson correlation; `None` for fewer than 3 points or zero variance.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 3 {
        return None;
    }
    let mx = xs[..n].iter().sum::<f64>() / n as f64;
    let my = ys[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (xs[i] - mx, ys[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Least squares `y ≈ Σ β_j x_j` without intercept, by the normal equations.
/// `None` when the design is singular (a feature is constant zero or two are
/// proportional).
pub fn least_squares(rows: &[Vec<f64>], ys: &[f64]) -> Option<Vec<f64>> {
    let k = rows.first()?.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for (r, &y) in rows.iter().zip(ys) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += r[i] * r[j];
            }
            a[i][k] += r[i] * y;
        }
    }
    // Gauss-Jordan with partial pivoting.
    for col in 0..k {
        let piv = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        let scale = a.iter().map(|r| r[col].abs()).fold(0.0, f64::max);
        if a[piv][col].abs() <= 1e-12 * scale.max(1e-300) {
            return None;
        }
        a.swap(col, piv);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            let f = row[col];
            if r != col && f != 0.0 {
                for (v, p) in row.iter_mut().zip(&pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    Some(a.iter().map(|r| r[k]).collect())
}

/// Confidence level of every interval we print.
pub const CONFIDENCE: f64 = 0.95;

/// The fewest rounds for which a 95 % interval of the median exists
/// (`[min, max]` of 6 values covers it with probability 1 − 2/64 ≈ 96.9 %).
pub const MIN_ROUNDS: usize = 6;

/// How intervals are computed, as reports state it.
pub const METHOD: &str = "95 % distribution-free order-statistics interval for the median of the paired per-round values (binomial, sign-test inversion; deterministic)";

/// A confidence interval and its exact coverage.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    /// Exact coverage probability of this order-statistics interval (≥ 0.95).
    pub coverage: f64,
}

/// `ln C(n, i)` for all `i` in `0..=n`.
fn ln_binomials(n: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    v.push(0.0);
    for i in 0..n {
        acc += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
        v.push(acc);
    }
    v
}

/// `P(B ≤ k)` for `B ~ Binomial(n, ½)`.
pub fn binomial_half_cdf(n: usize, k: usize) -> f64 {
    let ln_half_n = n as f64 * 0.5f64.ln();
    ln_binomials(n).iter().take(k + 1).map(|l| (l + ln_half_n).exp()).sum::<f64>().min(1.0)
}

/// The 95 % order-statistics interval of the median of `xs` (see the module
/// doc); `None` for fewer than [`MIN_ROUNDS`] values or a NaN.
pub fn median_interval(xs: &[f64]) -> Option<Interval> {
    let n = xs.len();
    if n < MIN_ROUNDS || xs.iter().any(|x| x.is_nan()) {
        return None;
    }
    let alpha = (1.0 - CONFIDENCE) / 2.0;
    // Largest k ≥ 1 with P(B ≤ k − 1) ≤ α.
    let mut k = 0;
    while k < n / 2 && binomial_half_cdf(n, k) <= alpha {
        k += 1;
    }
    if k == 0 {
        return None;
    }
    let mut s = xs.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Some(Interval { lo: s[k - 1], hi: s[n - k], coverage: 1.0 - 2.0 * binomial_half_cdf(n, k - 1) })
}

/// Why a figure is not resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unresolved {
    /// Fewer than [`MIN_ROUNDS`] values: no 95 % interval exists.
    TooFewRounds,
    /// The interval contains zero.
    SpansZero,
    /// The interval is wider than the value itself.
    WiderThanEffect,
    /// The whole interval is below zero where only a cost (≥ 0) makes sense,
    /// e.g. a filter making an allowed call faster than no filter.
    Negative,
}

impl Unresolved {
    pub fn describe(self) -> &'static str {
        match self {
            Unresolved::TooFewRounds => "too few rounds for a 95 % interval",
            Unresolved::SpansZero => "interval spans zero",
            Unresolved::WiderThanEffect => "interval wider than the value",
            Unresolved::Negative => "below zero, where only a cost makes sense",
        }
    }
}

/// A measured figure: the median of `n` per-round values, its 95 % interval,
/// and whether the interval resolves it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    pub n: usize,
    pub median: f64,
    /// `None` below [`MIN_ROUNDS`] values.
    pub interval: Option<Interval>,
    /// `None` when resolved.
    pub unresolved: Option<Unresolved>,
}

impl Estimate {
    /// `cost`: the figure is a cost, so a resolved negative value is refused
    /// as [`Unresolved::Negative`] rather than printed as a saving.
    pub fn of(xs: &[f64], cost: bool) -> Option<Estimate> {
        let median = median(xs)?;
        let interval = median_interval(xs);
        let unresolved = match interval {
            None => Some(Unresolved::TooFewRounds),
            Some(i) if i.lo <= 0.0 && i.hi >= 0.0 => Some(Unresolved::SpansZero),
            Some(i) if i.hi - i.lo > median.abs() => Some(Unresolved::WiderThanEffect),
            Some(i) if cost && i.hi < 0.0 => Some(Unresolved::Negative),
            Some(_) => None,
        };
        Some(Estimate { n: xs.len(), median, interval, unresolved })
    }
    /// The same figure in other units: median and interval times `k` (> 0).
    pub fn scaled(&self, k: f64) -> Estimate {
        Estimate {
            median: self.median * k,
            interval: self.interval.map(|i| Interval { lo: i.lo * k, hi: i.hi * k, coverage: i.coverage }),
            ..*self
        }
    }
    pub fn resolved(&self) -> bool {
        self.unresolved.is_none()
    }
    /// Whether the interval (or, without one, nothing) shows the value above zero.
    pub fn resolved_positive(&self) -> bool {
        self.resolved() && self.median > 0.0
    }
}

/// Round to the power of ten at or below half the interval's width (at least `min_step`).
fn step_for(i: &Interval, min_step: f64) -> f64 {
    let half = (i.hi - i.lo) / 2.0;
    if half > min_step {
        10f64.powi(half.log10().floor() as i32).max(min_step)
    } else {
        min_step
    }
}

fn fmt_step(v: f64, step: f64, signed: bool) -> String {
    let digits = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    let r = (v / step).round() * step;
    let r = if r == 0.0 { 0.0 } else { r };
    if signed && r >= 0.0 {
        format!("+{r:.digits$}")
    } else {
        format!("{r:.digits$}")
    }
}

/// Print an estimate with as many digits as its interval supports:
/// `+41 [35, 48]` when resolved, `not resolved [−10, 60]` when not, and
/// `not resolved (n=1)` without an interval. `min_step` is the finest digit
/// (1 for ns latencies, 0.001 for ns per instruction).
pub fn format_estimate(e: &Estimate, signed: bool, min_step: f64) -> String {
    match (&e.interval, e.unresolved) {
        (None, _) => format!("not resolved (n={})", e.n),
        (Some(i), u) => {
            let step = step_for(i, min_step);
            let range = format!("[{}, {}]", fmt_step(i.lo, step, false), fmt_step(i.hi, step, false));
            match u {
                None => format!("{} {range}", fmt_step(e.median, step, signed)),
                Some(_) => format!("not resolved {range}"),
            }
        }
    }
}

/// Spearman rank correlation (ties get their mean rank); `None` as [`pearson`].
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let mean = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = mean;
            }
            i = j + 1;
        }
        r
    }
    let n = xs.len().min(ys.len());
    pearson(&ranks(&xs[..n]), &ranks(&ys[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate() {
        let s = summarize(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!((s.median, s.q1, s.q3, s.min, s.max), (3.0, 2.0, 4.0, 1.0, 5.0));
        let s = summarize(&[1.0, 2.0]).unwrap();
        assert_eq!(s.median, 1.5);
        assert!(summarize(&[]).is_none());
        assert!(summarize(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn correlation_and_fit() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&xs, &[2.0, 4.0, 6.0, 8.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&xs, &[8.0, 6.0, 4.0, 2.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&xs, &[1.0, 1.0, 1.0, 1.0]), None);
        // y = 40 a + 0.2 b
        let rows: Vec<Vec<f64>> = vec![vec![1.0, 0.0], vec![1.0, 100.0], vec![2.0, 50.0], vec![1.0, 1000.0]];
        let ys: Vec<f64> = rows.iter().map(|r| 40.0 * r[0] + 0.2 * r[1]).collect();
        let b = least_squares(&rows, &ys).unwrap();
        assert!((b[0] - 40.0).abs() < 1e-9 && (b[1] - 0.2).abs() < 1e-9, "{b:?}");
        assert_eq!(least_squares(&[vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 2.0]), None);
    }

    #[test]
    fn order_statistics_interval_on_known_samples() {
        // n = 6: k = 1 (P(B ≤ 0) = 1/64 ≤ 0.025), [min, max], coverage 62/64.
        let i = median_interval(&[5.0, 1.0, 3.0, 2.0, 6.0, 4.0]).unwrap();
        assert_eq!((i.lo, i.hi), (1.0, 6.0));
        assert!((i.coverage - 62.0 / 64.0).abs() < 1e-12, "{i:?}");
        // n = 5: even [min, max] covers only 1 − 2/32 = 93.75 %.
        assert_eq!(median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]), None);
        // n = 9: P(B ≤ 1) = 10/512 ≤ 0.025 < P(B ≤ 2) = 46/512, so k = 2: [x2, x8].
        let xs: Vec<f64> = (1..=9).map(f64::from).collect();
        let i = median_interval(&xs).unwrap();
        assert_eq!((i.lo, i.hi), (2.0, 8.0));
        assert!((i.coverage - (1.0 - 20.0 / 512.0)).abs() < 1e-12);
        // n = 20: the textbook table gives [x6, x15] (coverage 95.9 %).
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        let i = median_interval(&xs).unwrap();
        assert_eq!((i.lo, i.hi), (6.0, 15.0));
        assert!((i.coverage - 0.958611).abs() < 1e-5, "{i:?}");
        assert!((binomial_half_cdf(10, 10) - 1.0).abs() < 1e-12);
        assert!((binomial_half_cdf(3, 1) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn unresolved_figures_say_why_and_never_print_a_number() {
        let est = |xs: &[f64], cost| Estimate::of(xs, cost).unwrap();
        // One round: a median but no interval.
        let one = est(&[-19.0], true);
        assert_eq!((one.n, one.interval, one.unresolved), (1, None, Some(Unresolved::TooFewRounds)));
        assert_eq!(format_estimate(&one, true, 1.0), "not resolved (n=1)");
        // Five rounds are still too few.
        assert_eq!(est(&[40.0, 41.0, 42.0, 43.0, 44.0], true).unresolved, Some(Unresolved::TooFewRounds));
        // The committed report's floor row: median +43 but quartiles 4..71 and a round below zero.
        let floor = est(&[-20.0, 3.9, 30.0, 43.4, 60.0, 71.4, 90.0], true);
        assert_eq!(floor.unresolved, Some(Unresolved::SpansZero));
        assert_eq!(format_estimate(&floor, true, 1.0), "not resolved [-20, 90]");
        // Above zero but wider than the value.
        let wide = est(&[5.0, 8.0, 20.0, 22.0, 30.0, 40.0], true);
        assert_eq!(wide.unresolved, Some(Unresolved::WiderThanEffect));
        // Negative cost: refused, not printed as a saving; a denial may resolve negative.
        let neg: Vec<f64> = (0..9).map(|i| -579.0 + f64::from(i)).collect();
        assert_eq!(est(&neg, true).unresolved, Some(Unresolved::Negative));
        assert!(est(&neg, false).resolved());
        assert!(format_estimate(&est(&neg, true), true, 1.0).starts_with("not resolved"));
        // Resolved: digits follow the interval.
        let ok = est(&[39.0, 40.0, 41.0, 41.3, 42.0, 43.0, 45.0], true);
        assert!(ok.resolved_positive());
        assert_eq!(format_estimate(&ok, true, 1.0), "+41 [39, 45]");
        let slope = est(&[0.161, 0.163, 0.165, 0.166, 0.168, 0.170], true);
        assert_eq!(format_estimate(&slope, false, 0.001), "0.166 [0.161, 0.170]");
        let big = est(&[320.0, 330.0, 350.0, 352.0, 360.0, 381.0], true);
        assert_eq!(format_estimate(&big, true, 1.0), "+350 [320, 380]");
    }

    #[test]
    fn spearman_ranks_with_ties() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&xs, &[10.0, 20.0, 30.0, 40.0, 1000.0]).unwrap() - 1.0).abs() < 1e-12, "monotone is 1");
        assert!((spearman(&xs, &[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // Ties get mean ranks: x ranks 1..5, y ranks 1.5 1.5 3 4 5.
        let r = spearman(&xs, &[1.0, 1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((r - 0.9746794344808963).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&xs[..2], &[1.0, 2.0]), None);
    }
}
