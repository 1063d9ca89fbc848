//! SC003 `compat-arch-open`: a 64-bit filter lets the 32-bit compat ABI's syscalls run.
//!
//! ### What it does
//!
//! For a filter meant for a 64-bit ABI whose kernels also run a 32-bit compat
//! ABI, and not meant for that compat ABI, checks whether any syscall of the
//! compat ABI (its `AUDIT_ARCH` value and a number from its table) reaches ALLOW
//! or LOG: i386 on x86_64, arm on aarch64, and likewise ppc on ppc64, s390 on
//! s390x, o32/n32 on mips64, sparc on sparc64, parisc on parisc64, riscv32 on
//! riscv64. It reports how many compat syscalls run, which of them the filter
//! denies on the 64-bit ABI, and one of them. A filter that denies nothing on
//! the 64-bit ABI is not reported: the compat ABI bypasses nothing there.
//!
//! ### Why is this bad
//!
//! A 64-bit process can enter the kernel through the compat entry point
//! (`int $0x80` on x86_64 with `CONFIG_IA32_EMULATION`, arch/x86/entry/
//! syscall_32.c; AArch32 tasks on arm64 with `CONFIG_COMPAT`), and the filter
//! then sees `arch == AUDIT_ARCH_I386` (resp. `AUDIT_ARCH_ARM`) and the compat
//! numbering. If the filter lets that arch through to its default ALLOW, every
//! compat syscall runs unfiltered — `execve` is 11 on i386, not 59 — which is a
//! complete bypass of a deny-list. The kernel's own seccomp documentation
//! (Documentation/userspace-api/seccomp_filter.rst) warns about exactly this.
//!
//! ### Example
//!
//! ```text
//! ld [4]
//! jeq #0xc000003e, rules, allow   ; every other arch falls through to ALLOW
//! ```
//!
//! Kill (or deny) every arch the rules are not written for:
//!
//! ```text
//! ld [4]
//! jeq #0xc000003e, rules, kill
//! ```

use super::{abi_bypass, finding, LintContext};
use crate::arch::Arch;
use crate::finding::{Finding, Severity};

pub const CODE: &str = "SC003";
pub const NAME: &str = "compat-arch-open";

/// (64-bit ABI, its compat ABIs) — the kernels that run both: x86
/// `IA32_EMULATION`, arm64/powerpc/s390/mips/sparc/parisc/riscv `COMPAT`.
pub const COMPAT: &[(Arch, &[Arch])] = &[
    (Arch::X86_64, &[Arch::I386]),
    (Arch::Aarch64, &[Arch::Arm]),
    (Arch::Ppc64, &[Arch::Ppc]),
    (Arch::S390x, &[Arch::S390]),
    (Arch::Mips64, &[Arch::Mips, Arch::Mips64n32]),
    (Arch::Mipsel64, &[Arch::Mipsel, Arch::Mipsel64n32]),
    (Arch::Sparc64, &[Arch::Sparc]),
    (Arch::Parisc64, &[Arch::Parisc]),
    (Arch::Riscv64, &[Arch::Riscv32]),
];

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for &(native, compats) in COMPAT {
        if !cx.arches.contains(&native) {
            continue;
        }
        for &compat in compats.iter().filter(|c| !cx.arches.contains(c)) {
            let Some(b) = abi_bypass(cx, native, compat) else { continue };
            out.push(finding(
                CODE,
                NAME,
                Severity::Error,
                format!(
                    "{} of {} {compat} syscalls run on this {native} filter{}; {compat} is the compat ABI of {native} kernels and not one of the filter's arches",
                    b.running,
                    b.total,
                    b.denied_clause(native)
                ),
                cx.exits_meeting(b.open),
                cx.counterexample(b.example),
            ));
        }
    }
    out
}
