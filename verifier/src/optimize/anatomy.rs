//! Where one syscall's instructions go, and how few any filter of the
//! optimiser's form could spend on a weighted mix.
//!
//! [`path_parts`] splits the path one `(arch, nr)` takes into the arch
//! prologue (its loads and tests), the number's load and the tests on it,
//! what follows the first load of another word (argument and instruction
//! pointer checks, longest over their values as [`path_bounds`] counts) and
//! the `ret`. [`lower_bound`] is what no filter that decides arch and nr with
//! `ld` and `JEQ/JGE/JGT/JSET K` (the forms the kernel's cache emulation,
//! `seccomp_is_const_allow` in kernel/seccomp.c, follows) can go below on a
//! weighted mix: one load and one test of arch, one load of nr, one `ret`,
//! a load and a test for a call whose action depends on its arguments, and
//! the tests on nr a binary decision needs to tell the mix's actions apart
//! (an optimal prefix code over them, Huffman's construction).

use crate::bpf::insn::*;
use crate::bpf::semantics::jump;
use crate::bpf::ValidProgram;
use crate::cost::paths::{path_bounds, TooManyStates};
use crate::seccomp::Action;
use serde::Serialize;

/// One `(arch, nr)`'s path, instruction by instruction class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathParts {
    /// Loads of and tests on arch (`ld [4]`, jumps while arch is in A).
    pub arch: u32,
    /// Loads of nr (`ld [0]`).
    pub nr_loads: u32,
    /// Jumps while nr is in A.
    pub nr_tests: u32,
    /// From the first load of another word (or any other instruction) to
    /// the `ret`, exclusive: argument and ip checks, longest over their
    /// values.
    pub args: u32,
    /// The `ret`.
    pub ret: u32,
    /// All of it ([`path_bounds`]'s `max`).
    pub total: u32,
    /// The action when it does not depend on arguments or ip.
    pub action: Option<Action>,
}

/// Which word A holds on the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Arch,
    Nr,
}

/// The path of `(arch, nr)` in `p` (`arch` an `AUDIT_ARCH` value).
pub fn path_parts(p: &ValidProgram, arch: u32, nr: u32) -> Result<PathParts, TooManyStates> {
    let b = path_bounds(p, arch, nr)?;
    let insns = p.insns();
    let mut parts =
        PathParts { arch: 0, nr_loads: 0, nr_tests: 0, args: 0, ret: 0, total: b.max, action: b.constant_action() };
    let mut a: Option<Word> = None;
    let mut pc = 0usize;
    while let Some(i) = insns.get(pc) {
        let class = i.class();
        if class == BPF_RET {
            parts.ret = 1;
            break;
        }
        if i.code == BPF_LD | BPF_W | BPF_ABS && (i.k == 0 || i.k == 4) {
            let w = if i.k == 4 { Word::Arch } else { Word::Nr };
            match w {
                Word::Arch => parts.arch += 1,
                Word::Nr => parts.nr_loads += 1,
            }
            a = Some(w);
            pc += 1;
            continue;
        }
        let value = match a {
            Some(Word::Arch) => arch,
            Some(Word::Nr) => nr,
            None => break,
        };
        if i.code == BPF_JMP | BPF_JA {
            pc += 1 + i.k as usize;
        } else if class == BPF_JMP && i.code & BPF_X == BPF_K {
            let taken = jump(i.code & 0xf0, value, i.k);
            pc += 1 + if taken { i.jt } else { i.jf } as usize;
        } else {
            break;
        }
        match a {
            Some(Word::Arch) => parts.arch += 1,
            _ => parts.nr_tests += 1,
        }
    }
    let counted = parts.arch + parts.nr_loads + parts.nr_tests;
    // The walk stopped before the ret: everything after it up to the ret.
    parts.ret = 1;
    parts.args = b.max.saturating_sub(counted + 1);
    Ok(parts)
}

/// A weighted mix's lower bound on mean instructions per call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LowerBound {
    /// `ld arch`, one arch test, `ld nr`, `ret`: 4 per call.
    pub fixed: f64,
    /// A load and a test for the share of calls whose action depends on
    /// their arguments (2 × that share).
    pub args: f64,
    /// Mean tests on nr of an optimal prefix code over the mix's distinct
    /// outcomes (each constant action one outcome, every argument-dependent
    /// call one more); at least 1 where the ABI's numbers do not all get
    /// one action.
    pub nr_tests: f64,
    /// The sum.
    pub total: f64,
}

/// The bound for `calls`: `(weight, action)` per call, `None` for a call
/// whose action depends on arguments or ip. `nr_decides`: the ABI's numbers
/// do not all get one action (so every call tests nr at least once).
pub fn lower_bound(calls: &[(f64, Option<Action>)], nr_decides: bool) -> Option<LowerBound> {
    let total_w: f64 = calls.iter().map(|c| c.0).sum();
    if total_w <= 0.0 {
        return None;
    }
    // One outcome per constant action, all argument-dependent calls one:
    // merging outcomes only lowers the code's cost, so the bound holds.
    let mut classes: Vec<(Option<Action>, f64)> = Vec::new();
    for &(w, a) in calls {
        match classes.iter_mut().find(|c| c.0 == a) {
            Some(c) => c.1 += w,
            None => classes.push((a, w)),
        }
    }
    let args_share = classes.iter().filter(|c| c.0.is_none()).map(|c| c.1).sum::<f64>() / total_w;
    let nr_tests = if classes.len() == 1 {
        if nr_decides {
            1.0
        } else {
            0.0
        }
    } else {
        huffman(classes.iter().map(|c| c.1).collect()) / total_w
    };
    let fixed = 4.0;
    Some(LowerBound { fixed, args: 2.0 * args_share, nr_tests, total: fixed + 2.0 * args_share + nr_tests })
}

/// Weighted depth of Huffman's optimal prefix code over `w` (the fewest
/// binary tests, weighted, that tell every class apart).
fn huffman(mut w: Vec<f64>) -> f64 {
    let mut cost = 0.0;
    while w.len() > 1 {
        w.sort_by(|a, b| b.total_cmp(a));
        let a = w.pop().expect("two left");
        let b = w.pop().expect("two left");
        cost += a + b;
        w.push(a + b);
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{assemble, validate};

    #[test]
    fn parts_add_up_to_the_path() {
        let src = "ld [4]\njeq #0xc000003e, 2, 8\nld [0]\njeq #1, 4, 6\nld [16]\njeq #3, 7, 6\nret #0x7fff0000\nret #0x50001\nret #0\n";
        let p = validate(&assemble(src).unwrap()).unwrap();
        let w = path_parts(&p, 0xc000003e, 1).unwrap();
        assert_eq!((w.arch, w.nr_loads, w.nr_tests, w.args, w.ret, w.total), (2, 1, 1, 2, 1, 7));
        assert_eq!(w.action, None);
        let r = path_parts(&p, 0xc000003e, 2).unwrap();
        assert_eq!((r.arch, r.nr_loads, r.nr_tests, r.args, r.ret, r.total), (2, 1, 1, 0, 1, 5));
        assert_eq!(r.action, Some(Action::from_ret(0x7fff0000)));
        let k = path_parts(&p, 0x40000003, 1).unwrap();
        assert_eq!((k.arch, k.nr_loads, k.nr_tests, k.total), (2, 0, 0, 3));
        assert_eq!(k.action, Some(Action::from_ret(0)));
    }

    #[test]
    fn the_bound_is_huffman_over_outcomes() {
        let allow = Some(Action::from_ret(0x7fff0000));
        let deny = Some(Action::from_ret(0x50001));
        // Two equal outcomes: one test each.
        let b = lower_bound(&[(1.0, allow), (1.0, deny)], true).unwrap();
        assert_eq!((b.nr_tests, b.total), (1.0, 5.0));
        // 2:1:1 — depths 1, 2, 2; the argument-dependent call adds 2 × 1/4.
        let b = lower_bound(&[(2.0, allow), (1.0, deny), (1.0, None)], true).unwrap();
        assert_eq!(b.nr_tests, 1.5);
        assert_eq!(b.args, 0.5);
        // One outcome: one test if nr decides anything, none otherwise.
        assert_eq!(lower_bound(&[(1.0, allow), (3.0, allow)], true).unwrap().nr_tests, 1.0);
        assert_eq!(lower_bound(&[(1.0, allow)], false).unwrap().nr_tests, 0.0);
        assert!(lower_bound(&[], true).is_none());
    }
}
