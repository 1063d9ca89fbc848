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
use crate::report::{Finding, Severity};
use crate::seccomp::{MAX_ERRNO, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO};

pub const CODE: &str = "SC010";
pub const NAME: &str = "errno-out-of-range";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let exits: Vec<_> = cx.analysis().exits().iter().map(|e| (e.insn, e.ret, e.inputs())).collect();
    let mut out = Vec::new();
    for (insn, ret, inputs) in exits {
        if ret & SECCOMP_RET_ACTION_FULL != SECCOMP_RET_ERRNO {
            continue;
        }
        let data = ret & SECCOMP_RET_DATA;
        let message = if data == 0 {
            format!("insn {insn} returns {ret:#x}, ERRNO with errno 0: the syscall is skipped and returns 0, so the caller sees success")
        } else if data > MAX_ERRNO {
            format!("insn {insn} returns {ret:#x}, ERRNO({data}): the kernel caps the errno at {MAX_ERRNO}, so the syscall fails with -{MAX_ERRNO}")
        } else {
            continue;
        };
        out.push(finding(CODE, NAME, Severity::Warning, message, vec![insn], cx.counterexample(inputs)));
    }
    out
}
