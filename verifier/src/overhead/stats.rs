//! Robust statistics for latency samples, and how many digits they deserve.
//!
//! On a shared VM single runs show 2–3× outliers, so every number we print is a
//! median with its spread (quartiles), and a difference is reported as a
//! number only when it stands out of that spread.

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

/// How a measured difference compares with its noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The median stands clear of the spread (|median| > 2 × spread).
    Resolved,
    /// Measurable, but the spread is more than a quarter of the value.
    Noisy,
    /// Not distinguishable from zero: |median| ≤ 2 × spread.
    BelowNoise,
}

pub fn resolution(s: &Summary) -> Resolution {
    let spread = s.spread();
    if s.median.abs() <= 2.0 * spread {
        Resolution::BelowNoise
    } else if spread > 0.25 * s.median.abs() {
        Resolution::Noisy
    } else {
        Resolution::Resolved
    }
}

/// Print a value with as many digits as its spread supports: rounded to the
/// power of ten at or below the spread (at least 1 ns), with the spread.
/// `below noise` values print as `< X`.
pub fn format_ns(s: &Summary, signed: bool) -> String {
    let spread = s.spread();
    let step = if spread >= 1.0 { 10f64.powi(spread.log10().floor() as i32) } else { 1.0 };
    let round = |v: f64| (v / step).round() * step;
    let sp = round(spread).max(if spread > 0.0 { step } else { 0.0 });
    match resolution(s) {
        Resolution::BelowNoise => format!("≈0 (±{sp:.0})"),
        r => {
            let v = round(s.median);
            let sign = if signed && v >= 0.0 { "+" } else { "" };
            let mark = if r == Resolution::Noisy { " noisy" } else { "" };
            format!("{sign}{v:.0} ±{sp:.0}{mark}")
        }
    }
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
    fn digits_follow_the_spread() {
        let s = |median, q1, q3| Summary { n: 5, median, q1, q3, min: q1, max: q3 };
        assert_eq!(format_ns(&s(41.3, 39.0, 45.0), true), "+41 ±3");
        assert_eq!(format_ns(&s(182.0, 130.0, 230.0), true), "+180 ±50 noisy");
        assert_eq!(format_ns(&s(3.0, -4.0, 8.0), true), "≈0 (±6)");
        assert_eq!(format_ns(&s(140.2, 140.0, 140.4), false), "140 ±1");
        assert_eq!(resolution(&s(100.0, 99.0, 101.0)), Resolution::Resolved);
    }
}
