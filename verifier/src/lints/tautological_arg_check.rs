//! SC006 `tautological-arg-check`: a test whose outcome the instructions before it already fix.
//!
//! ### What it does
//!
//! Tracks which bits of `A` and `X` the program itself fixes before each
//! conditional jump (`and #0` clears every bit, `or #1` sets one, a `ld #k`
//! fixes all), over every path that reaches the jump, and reports a reached
//! jump whose outcome follows from those bits whatever the input: `and #0; jeq
//! #0` always holds, `and #0xff; jeq #0x100` never does, `jge #0` always does.
//! Jumps whose two targets are the same instruction are reported too: their
//! test decides nothing.
//!
//! One case is reported as a note: libseccomp compares a 64-bit argument as two
//! 32-bit halves, and for `SCMP_CMP_MASKED_EQ` with a mask that fits in 32 bits
//! it still emits the high half's test, `ld arg high; and #0; jeq #0`, which
//! always holds. That is deliberate and harmless; the low half decides.
//!
//! ### Why is this bad
//!
//! A check that cannot fail does not restrict the argument its author meant to
//! restrict. The usual cause is a mask of 0 — `SCMP_CMP_MASKED_EQ` with
//! `value: 0, valueTwo: 0`, written in the belief that it tests for `O_RDONLY`
//! (which is 0: no bit can be tested for it) — so the rule allows every flag
//! value, `O_WRONLY|O_CREAT` included.
//!
//! ### Example
//!
//! ```text
//! ld [24]        ; arg1 low (open's flags)
//! and #0x0
//! jeq #0x0, allow, deny   ; always allow
//! ```
//!
//! Test the access mode with its mask: `arg1 & O_ACCMODE (3) == O_RDONLY (0)`.

use super::flow::{decided, Value};
use super::{finding, LintContext};
use crate::bpf::disasm::insn_text;
use crate::bpf::insn::*;
use crate::finding::{Finding, Severity};

pub const CODE: &str = "SC006";
pub const NAME: &str = "tautological-arg-check";

/// The fields a value is computed from, named for the inputs reaching `pc`.
pub(crate) fn fields(cx: &LintContext, v: Value, pc: usize) -> String {
    if v.src == 0 {
        return "a constant".into();
    }
    let names: Vec<String> = (0..16u32).filter(|w| v.src & (1 << w) != 0).map(|w| cx.word_name(w * 4, pc)).collect();
    names.join(" and ")
}

/// Is `off` the high half of an argument for the inputs reaching `pc`?
fn is_arg_high_half(cx: &LintContext, off: u32, pc: usize) -> bool {
    off >= 16 && matches!(cx.little_endian_at(pc), Some(le) if ((off - 16) % 8 == 4) == le)
}

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for (pc, i) in cx.program.insns().iter().enumerate() {
        if !i.is_cond_jump() {
            continue;
        }
        let Some(st) = &cx.flow.before[pc] else { continue };
        let text = insn_text(pc, i);
        let (t, f) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
        let operand = if i.code & BPF_X != 0 { st.x } else { Value::konst(i.k) };
        let src = Value { src: st.a.src | operand.src, ..st.a };
        let reach = cx.analysis().reach(pc);
        if t == f {
            out.push(finding(
                CODE,
                NAME,
                Severity::Warning,
                format!(
                    "insn {pc} `{text}` tests {} but both outcomes continue at insn {t}: the test decides nothing",
                    fields(cx, src, pc)
                ),
                vec![pc],
                cx.counterexample(reach),
            ));
            continue;
        }
        let Some(outcome) = decided(i.code & 0xf0, st.a, operand) else { continue };
        let (goes, never) = if outcome { (t, f) } else { (f, t) };
        let libseccomp_high_half = i.code & 0xf0 == BPF_JEQ
            && operand.as_const() == Some(0)
            && st.a.as_const() == Some(0)
            && st.a.single_word().is_some_and(|off| is_arg_high_half(cx, off, pc));
        if libseccomp_high_half {
            out.push(finding(
                CODE,
                NAME,
                Severity::Note,
                format!(
                    "insn {pc} `{text}` tests {} masked with 0, which always holds: libseccomp's high-half test of a 64-bit masked comparison whose mask fits in 32 bits; harmless, the low half decides",
                    fields(cx, src, pc)
                ),
                vec![pc],
                None,
            ));
            continue;
        }
        out.push(finding(
            CODE,
            NAME,
            Severity::Warning,
            format!(
                "insn {pc} `{text}` tests {} but is always {}: whatever the input, it continues at insn {goes} and never at insn {never}",
                fields(cx, src, pc),
                outcome
            ),
            vec![pc],
            cx.counterexample(reach),
        ));
    }
    out
}
