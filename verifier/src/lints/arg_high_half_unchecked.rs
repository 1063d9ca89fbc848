//! SC008 `arg-high-half-unchecked`: an argument compared on the wrong number of bits.
//!
//! ### What it does
//!
//! For every 64-bit arch the filter is meant for and every syscall whose
//! argument kinds are known (`arch::args`, from the kernel's `SYSCALL_DEFINE`
//! signatures), looks at exactly which inputs of that syscall run and which are
//! denied, and reports two mistakes:
//!
//! - **a 64-bit value checked on its low half only** (an error): the decision
//!   depends on the low 32 bits of a pointer or size argument but not on its
//!   upper 32 bits, so a value with the upper half set passes a check meant to
//!   bound it — `len <= 0x1000` admits `len = 0x1_0000_1000`;
//! - **a 32-bit argument compared on all 64 bits**: the decision depends on the
//!   upper half of an `int`/`unsigned int` argument (fd, flags, pid, family),
//!   which the kernel throws away. An error when setting the upper half turns
//!   a denied value into one that runs (the kernel still sees the denied low
//!   half), a warning when it only turns an allowed value into a denied one
//!   (the program fails depending on what its compiler left in the register).
//!
//! ILP32 ABIs with 64-bit registers (x32, mips n32), where pointers are 32-bit,
//! and arguments whose meaning depends on another (`ioctl`'s `arg`) are skipped.
//!
//! ### Why is this bad
//!
//! `seccomp_data.args[i]` holds the full 64-bit register, but
//! `SYSCALL_DEFINE` wrappers (include/linux/syscalls.h) truncate 32-bit
//! parameters, and the upper half of a register holding an `int` is undefined
//! in the x86_64 and arm64 calling conventions. libseccomp 2.5 compares every
//! argument on 64 bits (issue 383): Docker's default profile allows
//! `socket(family)` for `family > 40`, and with the upper half set `family =
//! 0x1_0000_0028` is greater than 40 while the kernel creates an `AF_VSOCK`
//! (40) socket the profile meant to deny. Generators that compare 32 bits
//! ("dword" in seccompiler) must not be used for sizes and pointers
//! (firedancer issue 9185, shadow PR 3034).
//!
//! ### Example
//!
//! ```text
//! ld [24]                 ; arg1 low (mprotect's len)
//! jgt #0x1000, deny, allow   ; the high word [28] is never tested
//! ```
//!
//! Compare the high word too (`ld [28]; jeq #0, …` before the low word), and
//! compare 32-bit arguments on the low word only.

use super::{finding, list, LintContext};
use crate::arch::args;
use crate::arch::Arch;
use crate::finding::{Finding, Severity};
use crate::symbolic::vars::Field;
use crate::symbolic::InputSet;

pub const CODE: &str = "SC008";
pub const NAME: &str = "arg-high-half-unchecked";

const HIGH: u64 = 0xffff_ffff_0000_0000;

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for &arch in &cx.arches {
        if !arch.is_64bit() || matches!(arch, Arch::X32 | Arch::Mips64n32 | Arch::Mipsel64n32) {
            continue;
        }
        for spec in args::TABLE {
            let Some(spec) = args::args(arch, spec.name) else { continue };
            let Some(nr) = arch.syscall_nr(spec.name) else { continue };
            let base = cx.syscall(arch, nr);
            let (runs, denied) = {
                let mut a = cx.analysis();
                (a.and(base, cx.runs), a.and(base, cx.denied))
            };
            if cx.analysis().is_empty(runs) || cx.analysis().is_empty(denied) {
                continue;
            }
            for (i, &(param, kind)) in spec.params.iter().enumerate() {
                let i = i as u8;
                let f = Field::Arg(i);
                let (lo, hi) = {
                    let a = cx.analysis();
                    (a.depends_on(runs, f, 0..32), a.depends_on(runs, f, 32..64))
                };
                if kind.is_wide_value() && lo && !hi {
                    let what = format!("{arch} {}: arg{i} ({param}, a {})", spec.name, kind.name());
                    let example = {
                        let mut a = cx.analysis();
                        let high_set = a.field_masked_eq(f, HIGH, 1 << 32);
                        a.and(runs, high_set)
                    };
                    let cex = cx.counterexample(example);
                    let v = cex.as_ref().map(|c| c.input.args[i as usize]).unwrap_or(1 << 32);
                    let insns = testing(cx, arch, i, false, base);
                    out.push(finding(
                        CODE,
                        NAME,
                        Severity::Error,
                        format!(
                            "{what} is compared on its low 32 bits only{}: a value with the upper half set passes the same check, e.g. {param} = {v:#x}",
                            at(&insns)
                        ),
                        insns,
                        cex,
                    ));
                } else if kind.is_32bit() && hi {
                    let what = format!(
                        "{arch} {}: arg{i} ({param}, {}: the kernel reads only its low 32 bits)",
                        spec.name,
                        kind.name()
                    );
                    if let Some(f) = thirty_two_bit(cx, arch, i, param, &what, base, runs, denied) {
                        out.push(f);
                    }
                }
            }
        }
    }
    out
}

/// The finding for a 32-bit argument whose upper half decides.
#[allow(clippy::too_many_arguments)]
fn thirty_two_bit(
    cx: &LintContext,
    arch: Arch,
    i: u8,
    param: &str,
    what: &str,
    base: InputSet,
    runs: InputSet,
    denied: InputSet,
) -> Option<Finding> {
    let f = Field::Arg(i);
    let (bypass, spurious) = {
        let mut a = cx.analysis();
        let clean = a.field_masked_eq(f, HIGH, 0);
        // Inputs that run although the same value with a clean (zero) upper half is denied.
        let d0 = a.and(denied, clean);
        let d0 = a.exists(d0, f, 32..64);
        let bypass = a.and(runs, d0);
        // Inputs denied although the same value with a clean upper half runs.
        let r0 = a.and(runs, clean);
        let r0 = a.exists(r0, f, 32..64);
        let spurious = a.and(denied, r0);
        (bypass, spurious)
    };
    let insns = testing(cx, arch, i, true, base);
    let head = format!("{what} is compared on all 64 bits{}", at(&insns));
    if !cx.analysis().is_empty(bypass) {
        let cex = cx.counterexample(bypass);
        let v = cex.as_ref().map_or(0, |c| c.input.args[i as usize]);
        return Some(finding(
            CODE,
            NAME,
            Severity::Error,
            format!(
                "{head}: setting the upper half gets a denied value through, e.g. {param} = {v:#x} runs although {:#x} is denied and the kernel sees {:#x}",
                v & 0xffff_ffff,
                v & 0xffff_ffff
            ),
            insns,
            cex,
        ));
    }
    if !cx.analysis().is_empty(spurious) {
        let cex = cx.counterexample(spurious);
        let v = cex.as_ref().map_or(0, |c| c.input.args[i as usize]);
        return Some(finding(
            CODE,
            NAME,
            Severity::Warning,
            format!(
                "{head}: the outcome depends on the undefined upper half, e.g. {param} = {v:#x} is denied although {:#x} runs",
                v & 0xffff_ffff
            ),
            insns,
            cex,
        ));
    }
    None
}

/// The conditional jumps that test arg `i`'s high (`high`) or low word for
/// inputs of `base`.
fn testing(cx: &LintContext, arch: Arch, i: u8, high: bool, base: InputSet) -> Vec<usize> {
    let first = 16 + 8 * i as u32;
    let off = if high == arch.little_endian() { first + 4 } else { first };
    let word = 1u16 << (off / 4);
    let mut out = Vec::new();
    for (pc, insn) in cx.program.insns().iter().enumerate() {
        let Some(st) = &cx.flow.before[pc] else { continue };
        let x = if insn.code & crate::bpf::insn::BPF_X != 0 { st.x.src } else { 0 };
        if !insn.is_cond_jump() || (st.a.src | x) & word == 0 {
            continue;
        }
        let mut a = cx.analysis();
        let r = a.reach(pc);
        let m = a.and(r, base);
        if !a.is_empty(m) {
            out.push(pc);
        }
    }
    out
}

fn at(insns: &[usize]) -> String {
    if insns.is_empty() {
        String::new()
    } else {
        let s: Vec<String> = insns.iter().map(|i| i.to_string()).collect();
        format!(" (insn{} {})", if insns.len() == 1 { "" } else { "s" }, list(&s))
    }
}
