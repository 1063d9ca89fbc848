//! Prediction of the kernel's constant-action cache: which `(arch, nr)` skip
//! the filters entirely.
//!
//! Since Linux 5.11 (`CONFIG_SECCOMP_CACHE`, on by default where the arch
//! defines `SECCOMP_ARCH_NATIVE`) every attached filter carries a bitmap per
//! cached ABI. `seccomp_run_filters` (kernel/seccomp.c) first asks
//! `seccomp_cache_check_allow(f, sd)` on the *newest* filter only; a set bit
//! returns `SECCOMP_RET_ALLOW` without running any BPF. The bitmaps are built
//! once at attach time by `seccomp_cache_prepare`:
//!
//! - `seccomp_cache_prepare_bitmap` starts from the previous filter's bitmap
//!   (`bitmap_copy`) or from all ones (`bitmap_fill`) for the first filter, and
//!   clears bit `nr` unless `seccomp_is_const_allow(fprog, {nr, arch})` — so the
//!   cache of a stack is the AND of its filters' own answers;
//! - `seccomp_is_const_allow` walks the *original* classic program
//!   (`sfilter->prog->orig_prog`, saved before `seccomp_check_filter` rewrote
//!   loads) knowing only `nr` and `arch` (every other field is "unknown"): it
//!   follows `LD W ABS` of offsets 0 (nr) and 4 (arch), `JA`, `JEQ/JGE/JGT/JSET`
//!   with `BPF_K`, and `ALU AND K`; any other instruction answers "not constant";
//!   reaching `RET K` answers whether `k == SECCOMP_RET_ALLOW` exactly (so
//!   `RET 0x7fff0001`, an ALLOW with data, is never cached, nor is `RET A`).
//! - `seccomp_cache_check_allow` looks at the native bitmap when
//!   `sd->arch == SECCOMP_ARCH_NATIVE`, at the compat bitmap when it is
//!   `SECCOMP_ARCH_COMPAT`, and answers false for `nr < 0` or `nr >= bitmap
//!   size`. On x86_64 (arch/x86/include/asm/seccomp.h) native is
//!   `AUDIT_ARCH_X86_64` with `NR_syscalls` bits and compat is
//!   `AUDIT_ARCH_I386` with `IA32_NR_syscalls` bits; x32 numbers carry
//!   `__X32_SYSCALL_BIT` and so are always out of range: x32 syscalls always
//!   run the filter.
//!
//! The bitmap sizes are the running kernel's syscall-table sizes, which grow
//! with kernel versions; [`CacheGeometry`] names them explicitly. The sizes in
//! [`CacheGeometry::linux_6_18`] come from the syscall tables of that release;
//! `seccheck bench` also measures the native size on the running kernel (see
//! `kernel::overhead::probe_native_bitmap_size`).

use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::bpf::Program;
use crate::seccomp::SECCOMP_RET_ALLOW;
use serde::Serialize;

/// One cached ABI: its `AUDIT_ARCH` value and the bitmap size (syscall numbers
/// `0..nr_syscalls` are cacheable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CachedAbi {
    pub arch: Arch,
    pub audit_arch: u32,
    pub nr_syscalls: u32,
}

/// Which ABIs a kernel caches, as `SECCOMP_ARCH_NATIVE{,_NR}` and
/// `SECCOMP_ARCH_COMPAT{,_NR}` in the arch's `asm/seccomp.h` define them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CacheGeometry {
    pub native: CachedAbi,
    pub compat: Option<CachedAbi>,
}

impl CacheGeometry {
    /// The geometry of a Linux 6.18 kernel built for `host` with
    /// `CONFIG_COMPAT`, for the hosts whose tables we carry. Sizes are
    /// `max syscall number + 1` of the release's tables:
    /// x86_64 `syscall_64.tbl` (common+64, last `file_setattr` = 469) and
    /// `syscall_32.tbl` (last 469); arm64 uses the generic table
    /// (`__NR_syscalls` 470) and arm's `syscall.tbl` for compat (470).
    /// Returns `None` for other hosts: their sizes are not known here.
    pub fn linux_6_18(host: Arch) -> Option<CacheGeometry> {
        let abi = |arch: Arch, nr_syscalls| CachedAbi { arch, audit_arch: arch.audit_arch(), nr_syscalls };
        match host {
            Arch::X86_64 => Some(CacheGeometry { native: abi(Arch::X86_64, 470), compat: Some(abi(Arch::I386, 470)) }),
            Arch::Aarch64 => Some(CacheGeometry { native: abi(Arch::Aarch64, 470), compat: Some(abi(Arch::Arm, 470)) }),
            _ => None,
        }
    }

    /// The same geometry with another native bitmap size (e.g. measured on the
    /// running kernel).
    pub fn with_native_size(mut self, nr_syscalls: u32) -> CacheGeometry {
        self.native.nr_syscalls = nr_syscalls;
        self
    }
}

/// `seccomp_is_const_allow` (kernel/seccomp.c) on the original program: does
/// the program return exactly `SECCOMP_RET_ALLOW` for every input with this
/// `nr` and `arch`, decided by the kernel's restricted walk?
///
/// Mirrors the C loop literally, including `pc += k` followed by the loop's
/// `pc++`, and `false` when the walk runs off the end (the kernel's
/// `WARN_ON(1)` case, impossible for validated programs).
pub fn is_const_allow(program: &Program, nr: u32, arch: u32) -> bool {
    // "Our single exception to filtering": `seccomp_uprobe_exception` first.
    if crate::seccomp::filters_bypassed(&crate::seccomp::SeccompData { nr, arch, ..Default::default() }) {
        return true;
    }
    let insns = &program.insns;
    let mut reg: u32 = 0;
    let mut pc: usize = 0;
    while pc < insns.len() {
        let i = insns[pc];
        let k = i.k;
        match i.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => match k {
                0 => reg = nr,
                4 => reg = arch,
                // "can't optimize (non-constant value load)"
                _ => return false,
            },
            c if c == BPF_RET | BPF_K => return k == SECCOMP_RET_ALLOW,
            c if c == BPF_JMP | BPF_JA => pc = pc.wrapping_add(k as usize),
            c if c == BPF_JMP | BPF_JEQ | BPF_K
                || c == BPF_JMP | BPF_JGE | BPF_K
                || c == BPF_JMP | BPF_JGT | BPF_K
                || c == BPF_JMP | BPF_JSET | BPF_K =>
            {
                let taken = match c & 0xf0 {
                    BPF_JEQ => reg == k,
                    BPF_JGE => reg >= k,
                    BPF_JGT => reg > k,
                    _ => reg & k != 0,
                };
                pc += if taken { i.jt as usize } else { i.jf as usize };
            }
            c if c == BPF_ALU | BPF_AND | BPF_K => reg &= k,
            // "can't optimize (unknown insn)"
            _ => return false,
        }
        pc = pc.wrapping_add(1);
    }
    false
}

/// The bitmaps of one filter stack as the kernel holds them on its newest filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionCache {
    pub geometry: CacheGeometry,
    native: Vec<bool>,
    compat: Option<Vec<bool>>,
}

impl ActionCache {
    /// `seccomp_cache_prepare` applied to each filter of `stack` in
    /// installation order (the last is the newest): each bitmap starts as the
    /// previous one (all ones for the first filter) and keeps a bit only if
    /// this filter is const-allow for it.
    pub fn prepare(stack: &[&Program], geometry: CacheGeometry) -> ActionCache {
        let bitmap = |abi: CachedAbi| -> Vec<bool> {
            let mut bits = vec![true; abi.nr_syscalls as usize];
            for p in stack {
                for (nr, bit) in bits.iter_mut().enumerate() {
                    if *bit && !is_const_allow(p, nr as u32, abi.audit_arch) {
                        *bit = false;
                    }
                }
            }
            bits
        };
        ActionCache { geometry, native: bitmap(geometry.native), compat: geometry.compat.map(bitmap) }
    }

    /// `seccomp_cache_check_allow`: does a syscall with this `arch` and `nr`
    /// skip the filters? `nr` is the raw `seccomp_data.nr` (x32 numbers with
    /// `__X32_SYSCALL_BIT`, which are out of every bitmap's range).
    pub fn is_cached(&self, arch: u32, nr: u32) -> bool {
        let check = |bits: &Vec<bool>| (nr as i32) >= 0 && bits.get(nr as usize).copied().unwrap_or(false);
        if arch == self.geometry.native.audit_arch {
            return check(&self.native);
        }
        match (&self.geometry.compat, &self.compat) {
            (Some(abi), Some(bits)) if arch == abi.audit_arch => check(bits),
            _ => false,
        }
    }

    /// Cached syscall numbers of one ABI (`arch` is an `AUDIT_ARCH` value).
    pub fn cached_numbers(&self, arch: u32) -> Vec<u32> {
        let bits = if arch == self.geometry.native.audit_arch {
            Some(&self.native)
        } else if self.geometry.compat.is_some_and(|c| c.audit_arch == arch) {
            self.compat.as_ref()
        } else {
            None
        };
        bits.map(|b| b.iter().enumerate().filter(|(_, &s)| s).map(|(n, _)| n as u32).collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emu::Emulator;
    use crate::seccomp::SeccompData;
    use rand::{Rng, SeedableRng};

    const X86_64: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;

    fn p(insns: &[Insn]) -> Program {
        Program::new(insns.to_vec())
    }
    fn geo() -> CacheGeometry {
        CacheGeometry::linux_6_18(Arch::X86_64).unwrap()
    }

    /// `ld arch; jne X86_64 -> kill; ld nr; jeq 39 -> allow; jeq 1 -> check arg0; ret errno`
    fn sample() -> Program {
        p(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, X86_64, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 3, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
        ])
    }

    #[test]
    fn only_constant_allow_paths_are_cached() {
        let c = ActionCache::prepare(&[&sample()], geo());
        assert!(c.is_cached(X86_64, 39), "getpid: constant ALLOW");
        assert!(!c.is_cached(X86_64, 1), "write: loads arg0 on its path");
        assert!(!c.is_cached(X86_64, 0), "read: constant ERRNO is not cached");
        assert!(!c.is_cached(I386, 39), "i386 is killed: constant but not ALLOW");
        assert!(!c.is_cached(X86_64, 39 | 0x4000_0000), "x32 numbers are out of range");
        assert!(!c.is_cached(0xc000_00b7, 39), "aarch64 is neither native nor compat here");
        // uretprobe and uprobe: seccomp_uprobe_exception, whatever the filter says.
        assert_eq!(c.cached_numbers(X86_64), vec![39, 335, 336]);
    }

    #[test]
    fn allow_with_data_ret_a_and_other_insns_are_not_cached() {
        let allow_data = p(&[Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW | 1)]);
        assert!(!is_const_allow(&allow_data, 0, X86_64));
        // seccomp_uprobe_exception: uretprobe and uprobe, native x86-64 only.
        for nr in crate::seccomp::X86_64_UPROBE_SYSCALLS {
            assert!(is_const_allow(&allow_data, nr, X86_64));
            assert!(!is_const_allow(&allow_data, nr, 0x4000_0003), "not for i386");
        }
        let ret_a = p(&[Insn::stmt(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW), Insn::stmt(BPF_RET | BPF_A, 0)]);
        assert!(!is_const_allow(&ret_a, 0, X86_64), "LD IMM is not in the walk's list");
        let jeq_x = p(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 0),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        ]);
        assert!(!is_const_allow(&jeq_x, 0, X86_64), "JEQ X is not followed");
        let masked = p(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]);
        assert!(is_const_allow(&masked, 0x101, X86_64), "AND K is followed");
        assert!(!is_const_allow(&masked, 2, X86_64));
        let ja = p(&[
            Insn::stmt(BPF_JMP | BPF_JA, 1),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        ]);
        assert!(is_const_allow(&ja, 7, X86_64), "JA k skips k instructions");
    }

    #[test]
    fn the_stack_is_anded_and_order_does_not_matter() {
        let allow_all = p(&[Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0), Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)]);
        let s = sample();
        let only_all = ActionCache::prepare(&[&allow_all], geo());
        assert_eq!(only_all.cached_numbers(X86_64).len(), 470);
        assert_eq!(only_all.cached_numbers(I386).len(), 470);
        let a = ActionCache::prepare(&[&allow_all, &s], geo());
        let b = ActionCache::prepare(&[&s, &allow_all], geo());
        assert_eq!(a, b);
        assert_eq!(a.cached_numbers(X86_64), vec![39, 335, 336]);
        assert!(a.cached_numbers(I386).is_empty());
    }

    /// Whatever the walk says is cached must really be ALLOW for every input
    /// with that nr and arch (the emulator on random arguments agrees).
    #[test]
    fn cached_means_allow_for_every_argument() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..300 {
            let prog = crate::testgen::filter_like(&mut rng);
            let Ok(valid) = crate::bpf::validate(&prog) else { continue };
            let emu = Emulator::new(&valid);
            let cache = ActionCache::prepare(&[&prog], geo().with_native_size(64));
            for arch in [X86_64, I386] {
                for nr in cache.cached_numbers(arch) {
                    for _ in 0..20 {
                        let d = SeccompData {
                            nr,
                            arch,
                            instruction_pointer: rng.gen(),
                            args: [rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen()],
                        };
                        assert_eq!(emu.run(&d), SECCOMP_RET_ALLOW, "{prog:?} nr {nr} arch {arch:#x}");
                    }
                }
            }
        }
    }
}
