//! The cost table of a filter stack: for every `(arch, nr)` the kernel can
//! see on a host, whether the action cache skips the stack, and otherwise how
//! many BPF instructions run (min/max over arguments, summed over the stack's
//! filters, since `seccomp_run_filters` runs all of them).

use super::cache::{ActionCache, CacheGeometry};
use super::paths::{path_bounds, TooManyStates};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::ValidProgram;
use serde::Serialize;

/// One `(arch, nr)` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub arch: Arch,
    /// Raw `seccomp_data.nr` (x32 numbers include `__X32_SYSCALL_BIT`).
    pub nr: u32,
    pub name: Option<&'static str>,
    /// The kernel's action cache returns ALLOW without running any filter.
    pub cached: bool,
    /// Instructions executed (0 when cached), fewest / most over arguments.
    pub min: u32,
    pub max: u32,
}

/// Per-ABI summary of a table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AbiSummary {
    pub arch: Arch,
    pub syscalls: usize,
    pub cached: usize,
    /// Largest `max` over the ABI.
    pub worst: u32,
    /// Mean of `max` over the ABI's non-cached numbers.
    pub mean_uncached_max: f64,
}

/// The table for a stack (installation order, newest last) on a host geometry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostTable {
    pub entries: Vec<Entry>,
    pub summaries: Vec<AbiSummary>,
}

/// Highest x32 number in the x86_64 table (`pwritev2`, 547; the x32-specific
/// range is 512–547 in arch/x86/entry/syscalls/syscall_64.tbl), so x32 rows
/// cover `0..548` with the x32 bit set.
const X32_RANGE: u32 = 548;

impl CostTable {
    /// Compute the table: the geometry's cached ABIs over their bitmap ranges,
    /// plus x32 when the host is x86_64.
    pub fn compute(stack: &[&ValidProgram], geometry: CacheGeometry) -> Result<CostTable, TooManyStates> {
        let programs: Vec<&crate::bpf::Program> = stack.iter().map(|v| v.program()).collect();
        let cache = ActionCache::prepare(&programs, geometry);
        let mut abis: Vec<(Arch, u32, Vec<u32>)> =
            vec![(geometry.native.arch, geometry.native.audit_arch, (0..geometry.native.nr_syscalls).collect())];
        if let Some(c) = geometry.compat {
            abis.push((c.arch, c.audit_arch, (0..c.nr_syscalls).collect()));
        }
        if geometry.native.arch == Arch::X86_64 {
            abis.push((Arch::X32, Arch::X32.audit_arch(), (0..X32_RANGE).map(|n| n | X32_SYSCALL_BIT).collect()));
        }
        let mut entries = Vec::new();
        let mut summaries = Vec::new();
        for (arch, audit, nrs) in abis {
            let (mut cached_n, mut worst, mut sum, mut uncached) = (0, 0, 0u64, 0usize);
            for nr in nrs {
                let cached = cache.is_cached(audit, nr);
                let (mut min, mut max) = (0, 0);
                if !cached {
                    for p in stack {
                        let b = path_bounds(p, audit, nr)?;
                        min += b.min;
                        max += b.max;
                    }
                    worst = worst.max(max);
                    sum += max as u64;
                    uncached += 1;
                } else {
                    cached_n += 1;
                }
                entries.push(Entry { arch, nr, name: arch.syscall_name(nr), cached, min, max });
            }
            summaries.push(AbiSummary {
                arch,
                syscalls: entries.iter().filter(|e| e.arch == arch).count(),
                cached: cached_n,
                worst,
                mean_uncached_max: if uncached > 0 { sum as f64 / uncached as f64 } else { 0.0 },
            });
        }
        Ok(CostTable { entries, summaries })
    }

    pub fn get(&self, arch: Arch, nr: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.arch == arch && e.nr == nr)
    }

    /// Weighted mean of `(min, max)` instructions over `(arch, nr, weight)`
    /// (cached syscalls count as 0 instructions). Numbers not in the table are
    /// skipped; `None` if none is in it.
    pub fn weighted_mean(&self, weights: &[(Arch, u32, f64)]) -> Option<(f64, f64)> {
        let (mut lo, mut hi, mut w) = (0.0, 0.0, 0.0);
        for &(arch, nr, wt) in weights {
            if let Some(e) = self.get(arch, nr) {
                lo += wt * e.min as f64;
                hi += wt * e.max as f64;
                w += wt;
            }
        }
        (w > 0.0).then(|| (lo / w, hi / w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use crate::bpf::{validate, Program};

    #[test]
    fn table_sums_the_stack_and_zeroes_cached_rows() {
        // allow getpid (39) constantly, check arg0 for write (1), kill the rest.
        let f = validate(&Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 3, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]))
        .unwrap();
        let geo = CacheGeometry::linux_6_18(Arch::X86_64).unwrap();
        let t = CostTable::compute(&[&f], geo).unwrap();
        let getpid = t.get(Arch::X86_64, 39).unwrap();
        assert!(getpid.cached && getpid.max == 0);
        let write = t.get(Arch::X86_64, 1).unwrap();
        assert_eq!((write.cached, write.min, write.max), (false, 6, 6));
        let i386 = t.get(Arch::I386, 39).unwrap();
        assert_eq!((i386.cached, i386.min), (true, 0), "the filter does not check arch: ALLOW on every ABI");
        let x32 = t.get(Arch::X32, 39 | X32_SYSCALL_BIT).unwrap();
        assert_eq!((x32.cached, x32.min), (false, 4), "x32 is never cached");
        assert_eq!(t.summaries.len(), 3);
        assert_eq!(t.summaries[0].cached, 3, "getpid, and uretprobe/uprobe (seccomp_uprobe_exception)");
        let two = CostTable::compute(&[&f, &f], geo).unwrap();
        assert_eq!(two.get(Arch::X86_64, 1).unwrap().max, 12);
        let (lo, hi) = t.weighted_mean(&[(Arch::X86_64, 39, 1.0), (Arch::X86_64, 1, 3.0)]).unwrap();
        assert_eq!((lo, hi), (4.5, 4.5));
    }
}
