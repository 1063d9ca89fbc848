//! SC009 `unreachable-code`: instructions no input executes.
//!
//! ### What it does
//!
//! Lists the instructions whose exact reach set is empty: no `seccomp_data`
//! whatsoever leads there, and names the `RET`s among them whose value no
//! reachable exit returns (an outcome someone wrote and no syscall ever gets).
//! It is a note: generators leave dead code as a matter of course (the `ja`
//! after runc's `-ENOSYS` stub, the stub's own `ret` when the profile has no
//! syscalls, the mismatch `ret` seccompiler emits after every rule), and a rule
//! that never applies is reported where it is decided, by
//! `contradictory-arg-check`.
//!
//! ### Why is this bad
//!
//! Dead code costs nothing at run time, but it counts against the 4096
//! instructions a filter may have (`BPF_MAXINSNS`, net/core/filter.c) and,
//! more importantly, it often means that a rule was meant to apply and does
//! not: an earlier rule already decided every input that would reach it, or a
//! jump offset was computed wrongly. Whatever action that `RET` was written
//! for never happens.
//!
//! ### Example
//!
//! ```text
//! ld [0]
//! jeq #2, allow, next
//! ja allow
//! ret #0x50001   ; never executed: ERRNO(1) is returned for nothing
//! allow: ret #0x7fff0000
//! ```

use super::{finding, list_some, LintContext};
use crate::bpf::disasm::insn_text;
use crate::bpf::insn::*;
use crate::finding::{Finding, Severity};
use crate::seccomp::Action;

pub const CODE: &str = "SC009";
pub const NAME: &str = "unreachable-code";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let insns = cx.program.insns();
    let dead: Vec<usize> = {
        let a = cx.analysis();
        (0..insns.len()).filter(|&pc| a.is_empty(a.reach(pc))).collect()
    };
    if dead.is_empty() {
        return Vec::new();
    }
    let returned: Vec<u32> = cx.analysis().exits().iter().map(|e| e.ret).collect();
    let lost: Vec<String> = dead
        .iter()
        .filter(|&&pc| insns[pc].code == BPF_RET | BPF_K && !returned.contains(&insns[pc].k))
        .map(|&pc| format!("insn {pc} `{}` ({})", insn_text(pc, &insns[pc]), Action::from_ret(insns[pc].k)))
        .collect();
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < dead.len() {
        let mut j = i;
        while j + 1 < dead.len() && dead[j + 1] == dead[j] + 1 {
            j += 1;
        }
        ranges.push(if i == j { dead[i].to_string() } else { format!("{}-{}", dead[i], dead[j]) });
        i = j + 1;
    }
    let n = dead.len();
    let mut message = format!(
        "{n} instruction{} {} never executed: {}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" },
        list_some(&ranges, 12)
    );
    if !lost.is_empty() {
        message.push_str(&format!("; no input ever gets {}", list_some(&lost, 4)));
    }
    vec![finding(CODE, NAME, Severity::Note, message, dead, None)]
}
