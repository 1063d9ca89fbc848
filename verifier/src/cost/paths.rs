//! How many BPF instructions a filter executes for one `(arch, nr)`, over all
//! argument values: exact where only `arch` and `nr` decide, a `[min, max]`
//! interval where arguments do.
//!
//! The kernel's run time of a filter that is not skipped by the action cache
//! grows with the number of instructions on the path it takes (JIT-compiled,
//! roughly 0.17 ns each on our machine kind). The path depends on `arch` and
//! `nr`, which a cost table fixes, and on the instruction pointer and the
//! arguments, which it does not. So we run the program with an abstract state
//! in which every register and scratch cell is either a known 32-bit constant
//! or unknown:
//!
//! - `LD W ABS 0` / `4` give the known `nr` / `arch`; every other offset
//!   (instruction pointer, arguments) gives unknown;
//! - ALU on known operands is computed exactly (the emulator's [`alu`]); on an
//!   unknown operand the result is unknown, except the cases whose result does
//!   not depend on it (`AND 0`, `MUL 0`, `OR 0xffffffff`);
//! - a conditional jump on known operands takes exactly one edge; on an unknown
//!   operand it takes both, except comparisons that have one answer for every
//!   value (`JGE 0` always, `JGT 0xffffffff` and `JSET 0` never);
//! - `DIV X` with `X` known zero ends the path (return 0), with `X` unknown it
//!   both ends and continues.
//!
//! Classic BPF jumps only forward, so `(pc, abstract state)` pairs form a DAG;
//! one pass in program order computes the shortest and longest path to every
//! `RET` (no path enumeration: a 2^30-path filter costs the same as its number
//! of distinct states).
//!
//! ## What `min`/`max` mean
//!
//! `min` and `max` are the shortest and longest instruction count (including
//! the final `RET`, the same count as [`crate::emu::Outcome::path`]'s length)
//! over all paths the abstract run allows. Every concrete input with this
//! `arch` and `nr` follows one of these paths, so its count lies in
//! `[min, max]` (tested against the emulator). When no argument-dependent
//! branch is reached, `min == max` and the count is exact.
//!
//! The bounds are attained when the argument-dependent branches on the
//! extreme paths can be decided independently — the usual shape, where each
//! branch tests a different argument word. They may be loose when
//! - the same argument word is tested more than once on a path with
//!   contradicting outcomes (`arg0 > 10` then `arg0 == 3`),
//! - a branch tests a value computed from an argument whose range is limited
//!   (`(arg0 & 1) == 2` is never true, but is treated as possible),
//! - `DIV X` by an unknown `X` that can in fact never be zero.
//!
//! Deciding those needs the symbolic evaluator (`crate::symbolic`).

use crate::bpf::insn::*;
use crate::bpf::semantics::{alu_valid as alu, jump};
use crate::bpf::ValidProgram;
use crate::seccomp::Action;
use crate::uapi::SECCOMP_DATA_SIZE;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// An abstract 32-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Val {
    Known(u32),
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct State {
    a: Val,
    x: Val,
    mem: [Val; BPF_MEMWORDS as usize],
}

/// A return value the program can produce for this `(arch, nr)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Ret {
    /// A known return value (`RET K`, or `RET A` with `A` known).
    Value(u32),
    /// `RET A` with `A` computed from the arguments or the instruction pointer.
    Computed,
}

/// Path lengths for one `(arch, nr)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathBounds {
    /// Fewest instructions executed over all argument values.
    pub min: u32,
    /// Most instructions executed over all argument values.
    pub max: u32,
    /// No argument-dependent branch was reached: every input takes the same path.
    pub exact: bool,
    /// The return values reachable with this `arch` and `nr`.
    pub returns: BTreeSet<Ret>,
    /// Some reachable path loads an argument word.
    pub reads_args: bool,
    /// Some reachable path loads the instruction pointer.
    pub reads_ip: bool,
}

impl PathBounds {
    /// The single action every input with this `arch`/`nr` gets, if there is one.
    pub fn constant_action(&self) -> Option<Action> {
        let mut actions = self.returns.iter().map(|r| match r {
            Ret::Value(v) => Some(Action::from_ret(*v)),
            Ret::Computed => None,
        });
        let first = actions.next()??;
        actions.all(|a| a == Some(first)).then_some(first)
    }
}

/// The analysis gave up: more distinct abstract states than the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path analysis stopped: more than {limit} distinct (instruction, register state) pairs; use the symbolic evaluator for this filter")]
pub struct TooManyStates {
    pub limit: usize,
}

/// Upper bound on `(pc, state)` pairs per `(arch, nr)`; real filters need a
/// few per instruction.
pub const STATE_LIMIT: usize = 1 << 20;

/// Shortest and longest paths for syscall `nr` of `arch` (`AUDIT_ARCH` value).
pub fn path_bounds(p: &ValidProgram, arch: u32, nr: u32) -> Result<PathBounds, TooManyStates> {
    let insns = p.insns();
    let n = insns.len();
    // For every pc, the distinct states arriving there with (min, max) prefix length.
    let mut at: Vec<HashMap<State, (u32, u32)>> = vec![HashMap::new(); n];
    let unknown_mem = [Val::Unknown; BPF_MEMWORDS as usize];
    // A = X = 0 at entry (the converter clears them); M[] is never read
    // before written in a valid program, so its initial value does not matter.
    at[0].insert(State { a: Val::Known(0), x: Val::Known(0), mem: unknown_mem }, (0, 0));
    let mut total = 1usize;
    let mut out =
        PathBounds { min: u32::MAX, max: 0, exact: true, returns: BTreeSet::new(), reads_args: false, reads_ip: false };
    let finish = |out: &mut PathBounds, len: (u32, u32), ret: Ret| {
        out.min = out.min.min(len.0);
        out.max = out.max.max(len.1);
        out.returns.insert(ret);
    };
    for pc in 0..n {
        let states = std::mem::take(&mut at[pc]);
        for (st, (lo, hi)) in states {
            let len = (lo + 1, hi + 1);
            let i = insns[pc];
            let mut next: [Option<(usize, State)>; 2] = [None, None];
            let mut s = st;
            match i.class() {
                BPF_RET => {
                    let ret = if i.code & 0x18 == BPF_A {
                        match s.a {
                            Val::Known(v) => Ret::Value(v),
                            Val::Unknown => Ret::Computed,
                        }
                    } else {
                        Ret::Value(i.k)
                    };
                    finish(&mut out, len, ret);
                    continue;
                }
                BPF_LD | BPF_LDX => {
                    let v = match i.code & 0xe0 {
                        BPF_ABS => match i.k {
                            0 => Val::Known(nr),
                            4 => Val::Known(arch),
                            8 | 12 => {
                                out.reads_ip = true;
                                Val::Unknown
                            }
                            _ => {
                                out.reads_args = true;
                                Val::Unknown
                            }
                        },
                        BPF_LEN => Val::Known(SECCOMP_DATA_SIZE),
                        BPF_MEM => s.mem[i.k as usize],
                        _ => Val::Known(i.k),
                    };
                    if i.class() == BPF_LD {
                        s.a = v
                    } else {
                        s.x = v
                    }
                    next[0] = Some((pc + 1, s));
                }
                BPF_ST => {
                    s.mem[i.k as usize] = s.a;
                    next[0] = Some((pc + 1, s));
                }
                BPF_STX => {
                    s.mem[i.k as usize] = s.x;
                    next[0] = Some((pc + 1, s));
                }
                BPF_ALU => {
                    let op = i.code & 0xf0;
                    if op == BPF_NEG {
                        s.a = match s.a {
                            Val::Known(a) => Val::Known(a.wrapping_neg()),
                            Val::Unknown => Val::Unknown,
                        };
                        next[0] = Some((pc + 1, s));
                    } else {
                        let b = if i.code & BPF_X != 0 { s.x } else { Val::Known(i.k) };
                        if op == BPF_DIV && i.code & BPF_X != 0 && b != Val::Known(1) {
                            // DIV X: X == 0 ends the program with 0 (see emu).
                            match b {
                                Val::Known(0) => {
                                    finish(&mut out, len, Ret::Value(0));
                                    continue;
                                }
                                Val::Unknown => {
                                    out.exact = false;
                                    finish(&mut out, len, Ret::Value(0));
                                }
                                Val::Known(_) => {}
                            }
                        }
                        s.a = alu_abstract(op, s.a, b);
                        next[0] = Some((pc + 1, s));
                    }
                }
                BPF_JMP => {
                    let op = i.code & 0xf0;
                    if op == BPF_JA {
                        next[0] = Some((pc + 1 + i.k as usize, s));
                    } else {
                        let b = if i.code & BPF_X != 0 { s.x } else { Val::Known(i.k) };
                        let (jt, jf) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
                        match jump_abstract(op, s.a, b) {
                            Some(true) => next[0] = Some((jt, s)),
                            Some(false) => next[0] = Some((jf, s)),
                            None => {
                                if jt != jf {
                                    out.exact = false;
                                }
                                next = [Some((jt, s)), Some((jf, s))];
                            }
                        }
                    }
                }
                _ => {
                    // MISC: TAX / TXA
                    if i.code & 0xf8 == BPF_TXA {
                        s.a = s.x
                    } else {
                        s.x = s.a
                    }
                    next[0] = Some((pc + 1, s));
                }
            }
            for (to, ns) in next.into_iter().flatten() {
                let e = at[to].entry(ns).or_insert_with(|| {
                    total += 1;
                    (u32::MAX, 0)
                });
                e.0 = e.0.min(len.0);
                e.1 = e.1.max(len.1);
            }
            if total > STATE_LIMIT {
                return Err(TooManyStates { limit: STATE_LIMIT });
            }
        }
    }
    Ok(out)
}

fn alu_abstract(op: u16, a: Val, b: Val) -> Val {
    match (a, b) {
        (Val::Known(a), Val::Known(b)) => Val::Known(alu(op, a, b)),
        (_, Val::Known(0)) | (Val::Known(0), _) if op == BPF_AND || op == BPF_MUL => Val::Known(0),
        (_, Val::Known(u32::MAX)) | (Val::Known(u32::MAX), _) if op == BPF_OR => Val::Known(u32::MAX),
        _ => Val::Unknown,
    }
}

/// `Some(outcome)` when the jump goes one way for every value of the unknowns.
fn jump_abstract(op: u16, a: Val, b: Val) -> Option<bool> {
    match (a, b) {
        (Val::Known(a), Val::Known(b)) => Some(jump(op, a, b)),
        (Val::Unknown, Val::Known(k)) => match op {
            BPF_JGE if k == 0 => Some(true),
            BPF_JGT if k == u32::MAX => Some(false),
            BPF_JSET if k == 0 => Some(false),
            _ => None,
        },
        (Val::Known(a), Val::Unknown) => match op {
            // a >= X for every X only when a is the maximum; a > X never when a == 0.
            BPF_JGE if a == u32::MAX => Some(true),
            BPF_JGT if a == 0 => Some(false),
            BPF_JSET if a == 0 => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{validate, Program};
    use crate::emu::Emulator;
    use crate::seccomp::SeccompData;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    const X86_64: u32 = 0xc000_003e;

    fn valid(insns: Vec<Insn>) -> ValidProgram {
        validate(&Program::new(insns)).unwrap()
    }

    #[test]
    fn nr_only_paths_are_exact() {
        // ld nr; jeq 1 ? ret allow : (jeq 2 ? ret errno : ret kill)
        let p = valid(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]);
        let b = path_bounds(&p, X86_64, 1).unwrap();
        assert_eq!((b.min, b.max, b.exact), (3, 3, true));
        assert_eq!(b.constant_action(), Some(Action::Allow));
        let b = path_bounds(&p, X86_64, 7).unwrap();
        assert_eq!((b.min, b.max, b.exact), (4, 4, true));
        assert_eq!(b.constant_action(), Some(Action::KillThread));
    }

    #[test]
    fn argument_branches_give_an_interval() {
        // ld nr; jeq 1 -> [ld arg0; jeq 5 ? allow : (ld arg1; jset 1 ? allow : errno)] ; kill
        let p = valid(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 6),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 5, 2, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 24),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]);
        let b = path_bounds(&p, X86_64, 1).unwrap();
        assert_eq!((b.min, b.max, b.exact, b.reads_args), (5, 7, false, true));
        assert_eq!(b.constant_action(), None);
        assert_eq!(b.returns, [Ret::Value(0x0005_0001), Ret::Value(0x7fff_0000)].into());
        let b = path_bounds(&p, X86_64, 2).unwrap();
        assert_eq!((b.min, b.max, b.exact, b.reads_args), (3, 3, true, false));
    }

    #[test]
    fn degenerate_comparisons_and_unknown_division() {
        let p = valid(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0), // always true
            Insn::stmt(BPF_RET | BPF_K, 1),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 0, 0, 1), // never true
            Insn::stmt(BPF_RET | BPF_K, 2),
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::stmt(BPF_LD | BPF_IMM, 10),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0), // X unknown: may be zero
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let b = path_bounds(&p, X86_64, 0).unwrap();
        assert_eq!((b.min, b.max), (6, 7));
        assert_eq!(b.returns, [Ret::Value(0), Ret::Computed].into());
    }

    /// Every concrete input's path length lies in the interval.
    #[test]
    fn emulator_paths_lie_within_the_bounds() {
        let mut rng = SmallRng::seed_from_u64(11);
        let mut checked = 0;
        for _ in 0..400 {
            let prog = crate::testgen::filter_like(&mut rng);
            let Ok(v) = validate(&prog) else { continue };
            let emu = Emulator::new(&v);
            for d in crate::testgen::inputs_for(&mut rng, &prog, 30) {
                let b = path_bounds(&v, d.arch, d.nr).unwrap();
                let len = emu.trace(&d).path.len() as u32;
                assert!(b.min <= len && len <= b.max, "{prog:?} {d:?}: {len} not in [{}, {}]", b.min, b.max);
                if b.exact {
                    assert_eq!(len, b.min);
                }
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} inputs checked");
    }

    /// A filter in which each argument word is loaded at most once, so every
    /// argument-dependent branch is independent of the others.
    fn independent_filter(rng: &mut SmallRng) -> (Program, Vec<(u32, Vec<u32>)>) {
        let mut words: Vec<u32> = (4..16).map(|w| w * 4).collect();
        let mut insns = vec![Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0)];
        let tests = rng.gen_range(1..=5);
        let mut consts = Vec::new();
        // nr dispatch: nr == 1 runs the tests, anything else returns at once.
        insns.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0));
        insns.push(Insn::stmt(BPF_RET | BPF_K, 0x0005_0001));
        let body_start = insns.len();
        let body_len = tests * 2 + 2; // each test: ld + jmp; then two RETs
        for t in 0..tests {
            let w = words.remove(rng.gen_range(0..words.len()));
            let k: u32 = if rng.gen_bool(0.5) { rng.gen_range(0..8) } else { rng.gen() };
            let op = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET][rng.gen_range(0..4)];
            consts.push((w, vec![k, k.wrapping_add(1), k.wrapping_sub(1), 0, u32::MAX, !k]));
            insns.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, w));
            // Targets: the start (the load) of a later test or one of the two
            // RETs, never a later jump, which would test this word again.
            let here = body_start + t * 2 + 1;
            let targets: Vec<usize> = (t + 1..tests)
                .map(|u| body_start + u * 2)
                .chain([body_start + body_len - 2, body_start + body_len - 1])
                .collect();
            let mut pick = || (targets[rng.gen_range(0..targets.len())] - here - 1) as u8;
            let (jt, jf) = (pick(), pick());
            insns.push(Insn::jump(BPF_JMP | op | BPF_K, k, jt, jf));
        }
        insns.push(Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000));
        insns.push(Insn::stmt(BPF_RET | BPF_K, 0x0005_0002));
        (Program::new(insns), consts)
    }

    /// With independent branches both bounds are attained by some input.
    #[test]
    fn bounds_are_attained_when_branches_are_independent() {
        let mut rng = SmallRng::seed_from_u64(5);
        for _ in 0..200 {
            let (prog, consts) = independent_filter(&mut rng);
            let v = validate(&prog).unwrap();
            let emu = Emulator::new(&v);
            let b = path_bounds(&v, X86_64, 1).unwrap();
            // Every combination of candidate values per tested word.
            let (mut lo, mut hi) = (u32::MAX, 0);
            let combos: usize = consts.iter().map(|(_, c)| c.len()).product();
            for mut idx in 0..combos {
                let mut words = [0u32; 16];
                for (w, cands) in &consts {
                    words[*w as usize / 4] = cands[idx % cands.len()];
                    idx /= cands.len();
                }
                let mut d = SeccompData { nr: 1, arch: X86_64, ..Default::default() };
                for a in 0..6 {
                    d.args[a] = words[4 + 2 * a] as u64 | (words[5 + 2 * a] as u64) << 32;
                }
                let len = emu.trace(&d).path.len() as u32;
                lo = lo.min(len);
                hi = hi.max(len);
            }
            assert_eq!((lo, hi), (b.min, b.max), "{prog:?}");
        }
    }
}
