//! SC001 `missing-arch-check`: a syscall runs on a path that never pinned `arch` to one ABI.
//!
//! ### What it does
//!
//! Follows every path to an exit that lets the syscall run (ALLOW, LOG) or hands
//! it to a supervisor (USER_NOTIF, TRACE), and collects the `arch` values the
//! path's own tests admit. When a path decides on the syscall number or the
//! arguments but still admits more than one `AUDIT_ARCH` value — because it never
//! tested `arch`, or tested it only to reject some values — it reports the exit,
//! the arch values that share the decision and an input of an ABI the rules were
//! not written for.
//!
//! ### Why is this bad
//!
//! Syscall numbers mean different things on different ABIs: 59 is `execve` on
//! x86_64 and `oldolduname` on i386, where `execve` is 11. The kernel hands a
//! filter the ABI of each syscall in `seccomp_data.arch`
//! (`populate_seccomp_data`, kernel/seccomp.c), and a 64-bit process can issue
//! i386 syscalls (`int $0x80`) or, on arm64, AArch32 ones. A filter that decides
//! on `nr` without first pinning `arch` applies x86_64's numbering to all of
//! them, so a deny-list misses the other ABI's dangerous syscalls and an
//! allow-list lets through whatever shares a number with an allowed one. The
//! kernel documentation (Documentation/userspace-api/seccomp_filter.rst)
//! recommends that every filter check `arch` first.
//!
//! Paths that end in a denial (KILL, TRAP, ERRNO) are not reported: denying more
//! than intended is never a bypass. Paths that reach ALLOW without looking at
//! `nr` or the arguments at all ("everything else runs") are left to
//! `default-allow` and `compat-arch-open`.
//!
//! ### Example
//!
//! ```text
//! ld [0]                 ; nr
//! jeq #59, deny, allow   ; execve on x86_64 only
//! allow: ret #0x7fff0000
//! deny:  ret #0x50001
//! ```
//!
//! Load and compare `arch` first, and kill what is not the ABI the rules are for:
//!
//! ```text
//! ld [4]
//! jeq #0xc000003e, next, kill   ; AUDIT_ARCH_X86_64
//! ```

use super::{finding, LintContext};
use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::finding::{Finding, Severity};
use crate::seccomp::ActionClass;
use crate::symbolic::vars::Field;
use crate::symbolic::InputSet;

pub const CODE: &str = "SC001";
pub const NAME: &str = "missing-arch-check";

/// Distinct path constraints on `arch` followed per instruction; a program
/// that needs more is reported as not checked rather than approximated.
const MAX_BUNDLES: usize = 64;

/// Inputs that arrive at an instruction along paths whose `arch` tests admit
/// the same set of arch values `arch`.
#[derive(Clone, Copy)]
struct Bundle {
    arch: InputSet,
    inputs: InputSet,
}

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let insns = cx.program.insns();
    let mut pending: Vec<Vec<Bundle>> = vec![Vec::new(); insns.len()];
    {
        let a = cx.analysis();
        pending[0].push(Bundle { arch: a.all(), inputs: a.all() });
    }
    // (exit insn, the inputs leaving there along paths that did not pin arch)
    let mut unpinned: Vec<(usize, InputSet)> = Vec::new();
    for pc in 0..insns.len() {
        let bundles = std::mem::take(&mut pending[pc]);
        if bundles.is_empty() {
            continue;
        }
        let bundles = merge(cx, bundles);
        if bundles.len() > MAX_BUNDLES {
            return vec![finding(
                CODE,
                NAME,
                Severity::Note,
                format!("not checked: at insn {pc} paths carry more than {MAX_BUNDLES} different sets of arch values"),
                vec![pc],
                None,
            )];
        }
        let i = &insns[pc];
        match i.class() {
            BPF_RET => {
                for b in bundles {
                    if let Some(s) = unpinned_exit(cx, pc, b) {
                        match unpinned.last_mut() {
                            Some((at, all)) if *at == pc => *all = cx.analysis().or(*all, s),
                            _ => unpinned.push((pc, s)),
                        }
                    }
                }
            }
            BPF_JMP if i.is_cond_jump() && i.jt != i.jf => {
                let Some(br) = cx.branches(pc) else { continue };
                let st = cx.flow.before[pc].as_ref();
                let tests_arch = st.is_some_and(|s| {
                    let x = if i.code & BPF_X != 0 { s.x.src } else { 0 };
                    (s.a.src | x) & (1 << 1) != 0
                });
                for (target, edge) in [(pc + 1 + i.jt as usize, br.taken), (pc + 1 + i.jf as usize, br.not_taken)] {
                    for b in &bundles {
                        let mut a = cx.analysis();
                        let inputs = a.and(b.inputs, edge);
                        if a.is_empty(inputs) {
                            continue;
                        }
                        let arch = if tests_arch { a.project_arch(inputs) } else { b.arch };
                        pending[target].push(Bundle { arch, inputs });
                    }
                }
            }
            _ => {
                for t in i.successors(pc).iter() {
                    pending[t].extend(bundles.iter().copied());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (pc, s) in unpinned {
        let arches = cx.describe_arches(s);
        let action = cx.emu.action(&cx.analysis().example(s).unwrap_or_default());
        // Show an input of an ABI the rules were not written for, at best a
        // syscall they deny on their own ABI that runs here.
        let meant: Vec<Arch> = if cx.arches.is_empty() {
            let d = cx.analysis().example(s);
            d.and_then(|d| Arch::from_audit(d.arch, d.nr)).into_iter().collect()
        } else {
            cx.arches.clone()
        };
        let mut sample = s;
        for &arch in &meant {
            let mut a = cx.analysis();
            let v = a.field_eq(Field::Arch, arch.audit_arch() as u64);
            let r = a.diff(sample, v);
            if !a.is_empty(r) {
                sample = r;
            }
        }
        if let Some(telling) = telling_example(cx, &meant, sample) {
            sample = telling;
        }
        out.push(finding(
            CODE,
            NAME,
            Severity::Error,
            format!(
                "insn {pc} ({action}) is reached on paths that decide on the syscall number or arguments without pinning arch: the same rules apply to {arches}"
            ),
            vec![pc],
            cx.counterexample(sample),
        ));
    }
    out
}

/// Inputs in `s` of a syscall that a `meant` arch denies (for some arguments
/// at least) under the same name, for the best-known such name.
fn telling_example(cx: &LintContext, meant: &[Arch], s: InputSet) -> Option<InputSet> {
    for name in super::TELLING {
        let denied_on_meant = meant.iter().any(|&m| {
            m.syscall_nr(name).is_some_and(|nr| {
                let n = cx.syscall(m, nr);
                let mut a = cx.analysis();
                let d = a.and(n, cx.denied);
                !a.is_empty(d)
            })
        });
        if !denied_on_meant {
            continue;
        }
        for other in Arch::all().filter(|a| !meant.contains(a)) {
            let Some(nr) = other.syscall_nr(name) else { continue };
            let o = cx.syscall(other, nr);
            let mut a = cx.analysis();
            let m = a.and(o, s);
            if !a.is_empty(m) {
                return Some(m);
            }
        }
    }
    None
}

/// Bundles with the same arch set become one.
fn merge(cx: &LintContext, bundles: Vec<Bundle>) -> Vec<Bundle> {
    let mut out: Vec<Bundle> = Vec::new();
    let mut a = cx.analysis();
    for b in bundles {
        match out.iter_mut().find(|o| o.arch == b.arch) {
            Some(o) => o.inputs = a.or(o.inputs, b.inputs),
            None => out.push(b),
        }
    }
    out
}

/// The inputs of bundle `b` that leave at exit `pc` with a syscall that runs
/// (or is delegated), if its path admits several arch values and decided on
/// nr or the arguments.
fn unpinned_exit(cx: &LintContext, pc: usize, b: Bundle) -> Option<InputSet> {
    let mut a = cx.analysis();
    if a.arch_value_count(b.arch) < 2 {
        return None;
    }
    let exits: Vec<_> = a
        .exits()
        .iter()
        .filter(|e| e.insn == pc && ActionClass::of(e.action()) != ActionClass::Denied)
        .map(|e| e.inputs())
        .collect();
    let mut s = a.none();
    for e in exits {
        let m = a.and(e, b.inputs);
        s = a.or(s, m);
    }
    if a.is_empty(s) || a.arch_value_count(s) < 2 {
        return None;
    }
    let decides = a.depends_on(s, Field::Nr, 0..32) || (0..6).any(|i| a.depends_on(s, Field::Arg(i), 0..64));
    decides.then_some(s)
}
