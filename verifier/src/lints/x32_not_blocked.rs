//! SC002 `x32-not-blocked`: an x86_64 filter lets x32 syscalls run.
//!
//! ### What it does
//!
//! For a filter meant for x86_64 but not for x32 that denies some x86_64
//! syscalls, checks whether any x32 syscall — `seccomp_data.arch ==
//! AUDIT_ARCH_X86_64` with `nr` carrying `__X32_SYSCALL_BIT` (0x40000000) and
//! naming a syscall of the x32 table — reaches ALLOW or LOG. It reports how many
//! x32 syscalls run, which of them the filter denies on x86_64, the exits they
//! leave through and one of them (a denied one, where there is one). A filter
//! that denies nothing on x86_64 is not reported: x32 bypasses nothing there.
//!
//! ### Why is this bad
//!
//! x32 syscalls carry the same `AUDIT_ARCH_X86_64` as native ones, so an arch
//! check does not stop them; only `nr` tells them apart
//! (arch/x86/include/uapi/asm/unistd.h). Any x86_64 process can make them on a
//! kernel built with `CONFIG_X86_X32_ABI` (`do_syscall_x32`,
//! arch/x86/entry/syscall_64.c). A filter whose rules compare `nr` with x86_64
//! numbers misses every x32 one: an x86_64 deny-list that blocks `execve` (59)
//! lets x32 `execve` (0x40000208) run through its default ALLOW. libseccomp
//! guards every x86_64 filter with `nr >= 0x40000000 → bad-arch action` for
//! this reason.
//!
//! Numbers with the bit set that name no x32 syscall (including `-1`) only
//! return `-ENOSYS` and are not reported.
//!
//! ### Example
//!
//! ```text
//! ld [4]
//! jeq #0xc000003e, next, kill
//! ld [0]
//! jeq #59, deny, allow        ; x32 execve is 0x40000208: allowed
//! ```
//!
//! Reject x32 numbers right after the arch check:
//!
//! ```text
//! ld [0]
//! jge #0x40000000, kill, next
//! ```

use super::{abi_bypass, finding, LintContext};
use crate::arch::Arch;
use crate::finding::{Finding, Severity};

pub const CODE: &str = "SC002";
pub const NAME: &str = "x32-not-blocked";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    if !cx.arches.contains(&Arch::X86_64) || cx.arches.contains(&Arch::X32) {
        return Vec::new();
    }
    let Some(b) = abi_bypass(cx, Arch::X86_64, Arch::X32) else { return Vec::new() };
    vec![finding(
        CODE,
        NAME,
        Severity::Error,
        format!(
            "{} of {} x32 syscalls (AUDIT_ARCH_X86_64 with nr | 0x40000000) run on this x86_64 filter{}; x32 is not one of its arches",
            b.running,
            b.total,
            b.denied_clause(Arch::X86_64)
        ),
        cx.exits_meeting(b.open),
        cx.counterexample(b.example),
    )]
}
