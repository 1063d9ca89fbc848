//! SC007 `contradictory-arg-check`: a branch no input takes, because earlier tests on the path decided it.
//!
//! ### What it does
//!
//! For every conditional jump on an argument (or the instruction pointer) that
//! some input reaches, computes exactly which inputs go each way. When every
//! input that gets there goes the same way although the test itself could go
//! both ways (otherwise `tautological-arg-check` reports it), the tests before
//! it on every path have already settled it: the lint reports the jump, the
//! branch never taken and an input that arrives.
//!
//! A warning when the branch never taken was the only way to its target (a
//! rule that never applies); a note when the target is reached from elsewhere
//! and the test is merely redundant — libseccomp's 64-bit comparisons leave such
//! tests, e.g. `arg high == 0` right after `arg high > 0` failed. Tests of `nr`
//! and `arch` are left out: binary-tree layouts re-test numbers their
//! ranges already fixed.
//!
//! ### Why is this bad
//!
//! A test that repeats or contradicts an earlier one is dead weight at best.
//! More often it is a rule that can never match: an argument condition placed
//! after an earlier rule that already decided the same syscall (`nr == 2 →
//! ALLOW`, then `nr == 2 && arg1 & 3 == 0 → …`), a range that the path's
//! previous comparisons exclude (`arg0 > 10` on a path where `arg0 < 5`), or a
//! hand-edited jump that lands in the wrong block. What the author meant that
//! branch to do never happens.
//!
//! ### Example
//!
//! ```text
//! ld [16]                ; arg0 low
//! jgt #10, big, small
//! small: jgt #20, odd, deny   ; arg0 <= 10 here: never > 20
//! ```

use super::flow::{decided, Value};
use super::tautological_arg_check::fields;
use super::{finding, LintContext};
use crate::bpf::disasm::insn_text;
use crate::bpf::insn::*;
use crate::finding::{Finding, Severity};

pub const CODE: &str = "SC007";
pub const NAME: &str = "contradictory-arg-check";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for (pc, i) in cx.program.insns().iter().enumerate() {
        let Some(br) = cx.branches(pc) else { continue };
        let Some(st) = &cx.flow.before[pc] else { continue };
        let operand = if i.code & BPF_X != 0 { st.x } else { Value::konst(i.k) };
        if decided(i.code & 0xf0, st.a, operand).is_some() {
            continue; // the test's own operands fix it: SC006
        }
        let (t, f) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
        let (never, goes, arrive) = {
            let a = cx.analysis();
            if a.is_empty(br.taken) {
                (t, f, br.not_taken)
            } else if a.is_empty(br.not_taken) {
                (f, t, br.taken)
            } else {
                continue;
            }
        };
        let src = Value { src: st.a.src | operand.src, ..st.a };
        // Argument (and instruction pointer) tests only: words 2..16.
        if src.src == 0 || src.src & 0b11 != 0 {
            continue;
        }
        // Does the never-taken branch strand its target? Then what it leads to
        // never happens for anyone.
        let stranded = {
            let a = cx.analysis();
            a.is_empty(a.reach(never))
        };
        let (severity, tail) = if stranded {
            (Severity::Warning, format!("nothing else leads to insn {never}, so what follows it never happens"))
        } else {
            (Severity::Note, format!("insn {never} is reached from elsewhere, so this test is only redundant"))
        };
        out.push(finding(
            CODE,
            NAME,
            severity,
            format!(
                "insn {pc} `{}` tests {}, but every input reaching it continues at insn {goes}: earlier tests on every path already decided it; {tail}",
                insn_text(pc, i),
                fields(cx, src, pc)
            ),
            vec![pc, never],
            cx.counterexample(arrive),
        ));
    }
    out
}
