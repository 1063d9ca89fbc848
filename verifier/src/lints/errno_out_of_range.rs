//! SC010 `errno-out-of-range`: an ERRNO action whose errno is 0 or above 4095.
//!
//! ### What it does
//!
//! Looks at every return value some input gets (`RET K`, and each value of a
//! `RET A`) and reports `SECCOMP_RET_ERRNO` with data 0, or with data above
//! `MAX_ERRNO` (4095).
//!
//! ### Why is this bad
//!
//! `__seccomp_filter` (kernel/seccomp.c) sets the syscall's return value to
//! `-data` after capping it: `if (data > MAX_ERRNO) data = MAX_ERRNO;`. An
//! errno above 4095 therefore becomes `-4095`, not the code the author wrote
//! (`0x50000 | 10000` is not `ERRNO(10000)`). With data 0 the syscall is
//! skipped and returns 0: the caller believes it succeeded — `write` wrote
//! nothing, `setuid` changed nothing, `open` "returned" file descriptor 0 —
//! which is rarely what a denial should look like and can turn a denied
//! security call (`setuid`, `prctl(PR_SET_NO_NEW_PRIVS)` in a child) into a
//! silent no-op the program trusts.
//!
//! ### Example
//!
//! ```text
//! ret #0x50000    ; ERRNO(0): "success"
//! ret #0x52710    ; ERRNO(10000) is capped to 4095
//! ```
//!
//! Return a real errno, usually `EPERM` (1) or `ENOSYS` (38) for syscalls the
//! program may fall back from.

use super::{finding, LintContext};
use crate::finding::{Finding, Severity};
use crate::seccomp::{MAX_ERRNO, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO};
use crate::symbolic::InputSet;

pub const CODE: &str = "SC010";
pub const NAME: &str = "errno-out-of-range";

/// Per instruction (a `RET A` has one exit per value): the inputs getting
/// ERRNO(0), and the out-of-range values with their inputs.
type AtInsn = (usize, Option<InputSet>, Vec<u32>, Option<InputSet>);

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let exits: Vec<_> = cx.analysis().exits().iter().map(|e| (e.insn, e.ret, e.inputs())).collect();
    let mut by_insn: Vec<AtInsn> = Vec::new();
    for (insn, ret, inputs) in exits {
        if ret & SECCOMP_RET_ACTION_FULL != SECCOMP_RET_ERRNO {
            continue;
        }
        let data = ret & SECCOMP_RET_DATA;
        if data != 0 && data <= MAX_ERRNO {
            continue;
        }
        let at = match by_insn.iter().position(|e| e.0 == insn) {
            Some(i) => i,
            None => {
                by_insn.push((insn, None, Vec::new(), None));
                by_insn.len() - 1
            }
        };
        let e = &mut by_insn[at];
        let mut a = cx.analysis();
        if data == 0 {
            e.1 = Some(e.1.map_or(inputs, |s| a.or(s, inputs)));
        } else {
            e.2.push(data);
            e.3 = Some(e.3.map_or(inputs, |s| a.or(s, inputs)));
        }
    }
    let mut out = Vec::new();
    for (insn, zero, big, big_inputs) in by_insn {
        if let Some(s) = zero {
            out.push(finding(
                CODE,
                NAME,
                Severity::Warning,
                format!("insn {insn} returns ERRNO with errno 0: the syscall is skipped and returns 0, so the caller sees success"),
                vec![insn],
                cx.counterexample(s),
            ));
        }
        if let Some(s) = big_inputs {
            let values = match big.as_slice() {
                [one] => format!("ERRNO({one})"),
                many => format!(
                    "ERRNO with {} errno values from {} to {}",
                    many.len(),
                    many.iter().min().unwrap_or(&0),
                    many.iter().max().unwrap_or(&0)
                ),
            };
            out.push(finding(
                CODE,
                NAME,
                Severity::Warning,
                format!("insn {insn} returns {values}: the kernel caps the errno at {MAX_ERRNO}, so the syscall fails with -{MAX_ERRNO}"),
                vec![insn],
                cx.counterexample(s),
            ));
        }
    }
    out
}
