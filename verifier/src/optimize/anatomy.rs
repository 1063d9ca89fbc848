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

/// The fewest tests on nr, summed over the `hot` numbers, of any decision
/// by `JEQ/JGE/JGT/JSET K` tests on nr alone in which each hot number ends
/// where every number of `sample` still possible gets its outcome; `None`
/// when more than `limit` are needed. `sample` holds `(nr, outcome)` pairs
/// (at most 64, the hot numbers among them). Only the sample's numbers are
/// asked to agree, so this is a lower bound for the whole word: a decision
/// that separates all 2^32 numbers separates these. The tests are taken
/// as the partitions of the sample they make, all of them: `JEQ` and `JGE`
/// at each sample number (`JGT k` is `JGE k + 1`), `JSET` by every subset
/// of the bits the sample uses.
pub fn min_tests(sample: &[(u32, u32)], hot: &[u32], limit: u32) -> Option<u32> {
    assert!(sample.len() <= 64, "at most 64 sample numbers");
    let bits = sample.iter().fold(0u32, |a, s| a | s.0);
    assert!(bits.count_ones() <= 14, "the JSET masks are enumerated");
    let side =
        |f: &dyn Fn(u32) -> bool| sample.iter().enumerate().filter(|s| f(s.1 .0)).fold(0u64, |m, (i, _)| m | 1 << i);
    let mut tests: Vec<u64> = Vec::new();
    for &(k, _) in sample {
        tests.push(side(&|v| v == k));
        tests.push(side(&|v| v >= k));
    }
    let mut k = 0u32;
    loop {
        tests.push(side(&|v| v & k != 0));
        k = k.wrapping_sub(bits) & bits;
        if k == 0 {
            break;
        }
    }
    tests.sort_unstable();
    tests.dedup();
    let all = if sample.len() == 64 { u64::MAX } else { (1u64 << sample.len()) - 1 };
    let hot_mask = side(&|v| hot.contains(&v));
    let pure = |s: u64| {
        let mut o = None;
        (0..sample.len()).filter(|i| s >> i & 1 == 1).all(|i| *o.get_or_insert(sample[i].1) == sample[i].1)
    };
    struct Search<'a> {
        tests: &'a [u64],
        pure: &'a dyn Fn(u64) -> bool,
        /// Per (set, hot): the exact cost, or a bound it exceeds.
        memo: std::collections::HashMap<(u64, u64), Result<u32, u32>>,
    }
    impl Search<'_> {
        fn cost(&mut self, s: u64, h: u64, limit: u32) -> Option<u32> {
            if h == 0 || (self.pure)(s) {
                return Some(0);
            }
            match self.memo.get(&(s, h)) {
                Some(Ok(c)) => return (*c <= limit).then_some(*c),
                Some(Err(above)) if *above >= limit => return None,
                _ => {}
            }
            let here = h.count_ones();
            let mut best: Option<u32> = None;
            if here <= limit {
                let mut seen = std::collections::HashSet::new();
                for t in self.tests {
                    let a = s & t;
                    if a == 0 || a == s || !seen.insert(a) {
                        continue;
                    }
                    let b = s & !t;
                    let cap = best.map_or(limit, |c| c - 1).saturating_sub(here);
                    let floor =
                        |x: u64, y: u64, p: &dyn Fn(u64) -> bool| if y == 0 || p(x) { 0 } else { y.count_ones() };
                    let fb = floor(b, h & !t, self.pure);
                    if fb > cap {
                        continue;
                    }
                    let Some(ca) = self.cost(a, h & t, cap - fb) else { continue };
                    let Some(cb) = self.cost(b, h & !t, cap - ca) else { continue };
                    best = Some(here + ca + cb);
                }
            }
            self.memo.insert((s, h), best.ok_or(limit));
            best
        }
    }
    let mut search = Search { tests: &tests, pure: &pure, memo: Default::default() };
    search.cost(all, hot_mask, limit)
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

    #[test]
    fn min_tests_is_the_fewest_over_every_decision() {
        // 0 and 1 share an outcome, 2 another, 3 the first again, 8 a third.
        let sample = [(0, 0), (1, 0), (2, 1), (3, 0), (8, 2)];
        // One test (JGE 2 false) decides 0 and 1 together.
        assert_eq!(min_tests(&sample, &[0, 1], 10), Some(2));
        // 3 needs 2 excluded and 8 too: JEQ 3 alone.
        assert_eq!(min_tests(&sample, &[3], 10), Some(1));
        // 0, 1 and 3: no one test leaves them without 2 or 8; JGE 2 and then
        // JEQ 3 on its true side take 1 + 1 + 2.
        assert_eq!(min_tests(&sample, &[0, 1, 3], 10), Some(4));
        assert_eq!(min_tests(&sample, &[0, 1, 3], 3), None);
        // Every sample number of one outcome: nothing to test.
        assert_eq!(min_tests(&[(5, 0), (9, 0)], &[5], 3), Some(0));
    }
}
