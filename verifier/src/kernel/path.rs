//! Explaining an `ENOMEM` from `seccomp(2)`: it is almost always the length
//! check of `seccomp_attach_filter` (kernel/seccomp.c), not a lack of memory.
//!
//! Wherever seccheck installs filters itself (the oracle, `run`, `record`,
//! the overhead suite) the kernel counts, besides the filters seccheck
//! installs, every filter the seccheck process already runs under (a child
//! inherits them, `copy_seccomp` in kernel/fork.c). Their number is in
//! `/proc/self/status` (`Seccomp_filters:`, Linux 5.9+); their lengths are
//! not, so the explanation gives the totals of the filters seccheck knows and
//! says how many more the kernel counted on top.

use crate::bpf::{converted_len, validate, Program};
use crate::seccomp::{PathLength, FILTER_PENALTY, PATH_RULE};

/// `ENOMEM` (include/uapi/asm-generic/errno-base.h).
pub const ENOMEM: i64 = 12;

/// How many filters this process runs under (`Seccomp_filters:` of
/// `/proc/self/status`); `None` where the kernel does not say.
pub fn own_filter_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Seccomp_filters:")).and_then(|v| v.trim().parse().ok())
}

/// Why the kernel refused, with `ENOMEM`, to attach filter `index` of
/// `lengths` (converted lengths, oldest first, including any filter seccheck
/// itself put below the ones under test), given `own` filters the process had
/// before: every filter's total and the room left, as one paragraph.
pub fn explain_lengths(lengths: &[usize], index: usize, own: Option<usize>) -> String {
    let upto = &lengths[..(index + 1).min(lengths.len())];
    let pl = PathLength::new(upto.to_vec());
    let totals = pl.totals.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    let lens = pl.lengths.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    let mut s = format!(
        "seccomp(2) refused filter {} with ENOMEM: {PATH_RULE}; converted lengths {lens} (oldest first), totals when attached {totals}",
        index + 1
    );
    match (pl.refused, own) {
        (Some(i), _) => {
            s += &format!("; at filter {} the total exceeds the limit by {}", i + 1, pl.excess().unwrap_or(0))
        }
        (None, Some(n)) if n > 0 => {
            s += &format!(
                "; these fit (room {} left), but this process already runs under {n} filter{} of its own, inherited by \
                 every child, which count too (each its converted length + {FILTER_PENALTY})",
                pl.room,
                if n == 1 { "" } else { "s" }
            )
        }
        (None, _) => {
            s += &format!(
                "; these fit (room {} left) and this process runs under no filter, so the kernel was short of memory",
                pl.room
            )
        }
    }
    s
}

/// [`explain_lengths`] for programs (a program the kernel would refuse on its
/// own never reaches the length check; it counts as 0 here).
pub fn explain(stack: &[Program], index: usize) -> String {
    let lengths: Vec<usize> = stack.iter().map(|p| validate(p).map(|v| converted_len(&v)).unwrap_or(0)).collect();
    explain_lengths(&lengths, index, own_filter_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_names_the_totals_and_the_culprit() {
        let full = 3 + 2 * 4096;
        let s = explain_lengths(&[full, full, full, 3 + 2 * 4085], 3, Some(0));
        assert!(s.contains("refused filter 4 with ENOMEM"), "{s}");
        assert!(s.contains("totals when attached 8195, 16394, 24593, 32770"), "{s}");
        assert!(s.contains("at filter 4 the total exceeds the limit by 2"), "{s}");
        let s = explain_lengths(&[full, 5], 1, Some(2));
        assert!(s.contains("runs under 2 filters of its own"), "{s}");
        let s = explain_lengths(&[5], 0, Some(0));
        assert!(s.contains("short of memory"), "{s}");
    }

    #[test]
    fn own_filter_count_reads_this_process() {
        // The test process itself: Linux 5.9+ reports the line.
        assert!(own_filter_count().is_some());
    }
}
