//! The numeric options: every one is parsed with its accepted range, so a
//! value outside it (0 rounds, `nan` microseconds, a count or duration no
//! run could reach) is refused by clap before any work starts, as a usage
//! error (exit 2) that names the option and the range: `invalid value '0'
//! for '--rounds <ROUNDS>': 0 is not in 1..=1000`. Each option's help states
//! its range too; `options_tests.rs` checks both for every numeric option of
//! every command.

use std::fmt::Display;

/// Whole numbers `lo..=hi` of type `T` (u32, u64, usize, i32). Clap's own
/// integer parsers say "invalid digit found in string" for `-1` and "number
/// too large to fit in target type" for 10^20, naming no range; this one
/// states it for every refused value.
pub fn count<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: Copy + Display + TryFrom<i128> + Send + Sync + 'static,
    i128: TryFrom<T>,
{
    // Every integer type of 64 bits or fewer fits in i128.
    let bounds = i128::try_from(lo).ok().zip(i128::try_from(hi).ok());
    move |s: &str| {
        let range = format!("{lo}..={hi}");
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("not a whole number in {range}"));
        }
        match s.parse::<i128>() {
            Ok(v) if bounds.is_some_and(|(l, h)| (l..=h).contains(&v)) => {
                T::try_from(v).map_err(|_| format!("{s} is not in {range}"))
            }
            // Out of range, or beyond even i128: a number all the same.
            _ => Err(format!("{s} is not in {range}")),
        }
    }
}

/// A process id: 1 up to the largest `pid_t`.
pub fn pid() -> impl Fn(&str) -> Result<i32, String> + Clone + Send + Sync + 'static {
    count(1, i32::MAX)
}

/// A finite decimal number `lo..=hi` (`nan`, `inf` and anything outside
/// are refused), in the words of [`count`].
pub fn decimal(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let range = format!("{lo}..={hi}");
        match s.parse::<f64>() {
            Ok(v) if !v.is_finite() => Err(format!("not a finite number in {range}")),
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            Ok(_) => Err(format!("{s} is not in {range}")),
            Err(_) => Err(format!("not a number in {range}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decimal_is_finite_and_in_range() {
        let p = decimal(1.0, 100_000.0);
        assert_eq!(p("2.5"), Ok(2.5));
        assert_eq!(p("1"), Ok(1.0));
        assert_eq!(p("100000"), Ok(100_000.0));
        assert_eq!(p("0"), Err("0 is not in 1..=100000".to_string()));
        assert_eq!(p("-5"), Err("-5 is not in 1..=100000".to_string()));
        assert_eq!(p("0.999"), Err("0.999 is not in 1..=100000".to_string()));
        assert_eq!(p("nan"), Err("not a finite number in 1..=100000".to_string()));
        assert_eq!(p("inf"), Err("not a finite number in 1..=100000".to_string()));
        assert_eq!(p("1e400"), Err("not a finite number in 1..=100000".to_string()));
        assert_eq!(p("ten"), Err("not a number in 1..=100000".to_string()));
        assert_eq!(p(" 5"), Err("not a number in 1..=100000".to_string()));
    }

    #[test]
    fn a_count_is_whole_and_in_range_whatever_its_size() {
        let p = count::<u32>(1, 64);
        assert_eq!(p("1"), Ok(1));
        assert_eq!(p("64"), Ok(64));
        assert_eq!(p("+7"), Ok(7));
        assert_eq!(p("0"), Err("0 is not in 1..=64".to_string()));
        assert_eq!(p("65"), Err("65 is not in 1..=64".to_string()));
        assert_eq!(p("-1"), Err("-1 is not in 1..=64".to_string()));
        let huge = "9".repeat(50);
        assert_eq!(p(&huge), Err(format!("{huge} is not in 1..=64")));
        for bad in ["", "-", "2.5", "1e3", "0x10", "ten", " 5", "nan"] {
            assert_eq!(p(bad), Err("not a whole number in 1..=64".to_string()), "{bad:?}");
        }
        let all = count::<u64>(0, u64::MAX);
        assert_eq!(all("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(all("18446744073709551616"), Err("18446744073709551616 is not in 0..=18446744073709551615".into()));
        assert_eq!(pid()("-1"), Err("-1 is not in 1..=2147483647".to_string()));
        assert_eq!(pid()("2147483647"), Ok(i32::MAX));
    }
}
