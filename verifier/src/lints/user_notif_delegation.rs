//! SC011 `user-notif-delegation`: which syscalls a supervisor or tracer decides.
//!
//! ### What it does
//!
//! Lists, per arch the filter is meant for, the syscalls some input of which
//! reaches `SECCOMP_RET_USER_NOTIF` (a user-space supervisor holding the
//! listener fd decides) or `SECCOMP_RET_TRACE` (a ptracer decides), marking
//! those delegated only for some argument values. It is a note: delegation is
//! a design decision, not a mistake, but the list is what a reviewer must audit.
//!
//! ### Why is this bad
//!
//! Whatever is delegated is decided by a program, not by the filter: that
//! program joins the trusted base, and its answer is only as good as what it
//! can see. The kernel documentation
//! (Documentation/userspace-api/seccomp_filter.rst) warns that a supervisor must
//! not use the notification to implement a security policy over pointer
//! arguments: the memory behind them belongs to the target, whose other
//! threads can change it between the supervisor's read and the kernel's
//! (time-of-check to time-of-use), so `openat`'s path or `connect`'s address
//! seen by the supervisor need not be the one used. With no supervisor
//! listening (USER_NOTIF) or no tracer attached (TRACE), the syscalls fail with
//! `ENOSYS` (`seccomp_do_user_notification`, `__seccomp_filter`).
//!
//! ### Example
//!
//! ```text
//! ld [0]
//! jeq #257, notify, allow   ; openat goes to the supervisor
//! notify: ret #0x7fc00000
//! ```

use super::{finding, list_some, LintContext};
use crate::arch::args::{self, ArgKind};
use crate::arch::Arch;
use crate::finding::{Finding, Severity};
use crate::seccomp::Action;

pub const CODE: &str = "SC011";
pub const NAME: &str = "user-notif-delegation";

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for (who, is_kind) in [
        ("a user-space supervisor (USER_NOTIF)", (|a: Action| a == Action::UserNotif) as fn(Action) -> bool),
        ("a ptracer (TRACE)", |a: Action| matches!(a, Action::Trace(_))),
    ] {
        let (set, insns) = {
            let mut a = cx.analysis();
            let exits: Vec<_> =
                a.exits().iter().filter(|e| is_kind(e.action())).map(|e| (e.insn, e.inputs())).collect();
            let mut s = a.none();
            let mut insns: Vec<usize> = Vec::new();
            for (insn, e) in exits {
                s = a.or(s, e);
                if !insns.contains(&insn) {
                    insns.push(insn);
                }
            }
            (s, insns)
        };
        if cx.analysis().is_empty(set) {
            continue;
        }
        let mut parts = Vec::new();
        let mut pointers = Vec::new();
        let arches: Vec<Arch> =
            if cx.arches.is_empty() { Arch::all().filter(|&a| a != Arch::X32).collect() } else { cx.arches.clone() };
        for arch in arches {
            let mut names = Vec::new();
            for &(nr, name) in arch.syscalls() {
                let s = cx.syscall(arch, nr);
                let mut a = cx.analysis();
                let m = a.and(s, set);
                if a.is_empty(m) {
                    continue;
                }
                let always = a.subset(s, set);
                names.push(if always { name.to_string() } else { format!("{name} (some arguments)") });
                if args::args(arch, name).is_some_and(|s| s.params.iter().any(|&(_, k)| k == ArgKind::Pointer))
                    && !pointers.contains(&name)
                {
                    pointers.push(name);
                }
            }
            if !names.is_empty() {
                parts.push(format!("{} on {arch}", list_some(&names, 12)));
            }
        }
        if parts.is_empty() {
            parts.push("inputs of no known arch".into());
        }
        let mut message = format!("{who} decides {}, and becomes part of the trusted base", parts.join("; "));
        if !pointers.is_empty() {
            message.push_str(&format!(
                "; it must not trust the memory behind the pointer arguments of {}, which other threads can change after it looks (TOCTOU)",
                list_some(&pointers, 6)
            ));
        }
        out.push(finding(CODE, NAME, Severity::Note, message, insns, cx.counterexample(set)));
    }
    out
}
