//! SC004 `default-allow`: syscalls the filter does not know run (a deny-list).
//!
//! ### What it does
//!
//! For each arch the filter is meant for, asks what the filter does with
//! syscall numbers it cannot have rules for: the numbers the arch leaves
//! unassigned below its highest syscall (or, for a table without gaps, the 64
//! after it). When most of them run (ALLOW or LOG), the filter's default is to
//! let syscalls run: it is a deny-list. The finding says how many of the arch's
//! known syscalls run, and shows the newest one that gets the default. Numbers
//! above a profile's newest syscall are not used: runc and crun answer them
//! with `-ENOSYS` in a stub before the profile's own rules.
//!
//! ### Why is this bad
//!
//! A deny-list is only as good as its author's knowledge of every syscall that
//! reaches the same effect, on every kernel it will ever run on: each release
//! adds syscalls (`openat2`, `clone3`, `io_uring_setup`, `open_tree_attr`…),
//! and each of them runs unfiltered under a filter that allows by default.
//! Allow-lists fail closed instead; runc and crun even return `-ENOSYS` for
//! numbers newer than the profile so that libc falls back to the old syscall the
//! profile does filter. A LOG default (an audit-mode profile) has the same
//! shape: nothing is enforced.
//!
//! ### Example
//!
//! ```text
//! ld [4]
//! jeq #0xc000003e, next, kill
//! ld [0]
//! jeq #59, deny, allow   ; deny execve, allow everything else
//! ```
//!
//! Prefer an allow-list: `ret ALLOW` for the syscalls the program needs, and a
//! denying default (`ERRNO(EPERM)`, or `ERRNO(ENOSYS)` for unknown numbers).

use super::{finding, LintContext};
use crate::finding::{Finding, Severity};
use crate::seccomp::ActionClass;

pub const CODE: &str = "SC004";
pub const NAME: &str = "default-allow";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for &arch in &cx.arches {
        let Some((action, default)) = cx.default_action(arch) else { continue };
        if ActionClass::of(action) != ActionClass::Runs {
            continue;
        }
        let table = arch.syscalls();
        let mut running = 0;
        // The newest syscall that gets the default: what a syscall added
        // tomorrow will get too.
        let mut newest = None;
        for &(nr, _) in table {
            let s = cx.syscall(arch, nr);
            let mut a = cx.analysis();
            let r = a.and(s, cx.runs);
            if !a.is_empty(r) {
                running += 1;
            }
            if a.subset(s, default) {
                newest = Some(s);
            }
        }
        let shape = if running * 2 > table.len() { "a deny-list" } else { "an allow-list with an allowing default" };
        let example = match newest {
            Some(s) => s,
            None => {
                let s = cx.real_syscalls(arch);
                let mut a = cx.analysis();
                a.and(s, default)
            }
        };
        out.push(finding(
            CODE,
            NAME,
            Severity::Warning,
            format!(
                "{arch}: syscalls the filter has no rule for get {action}, and {running} of its {} known syscalls run: {shape}; a syscall added to the kernel later runs unfiltered",
                table.len()
            ),
            cx.exits_meeting(default),
            cx.counterexample(example),
        ));
    }
    out
}
