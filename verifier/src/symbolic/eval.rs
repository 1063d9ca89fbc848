//! Forward evaluation over the program DAG.
//!
//! Classic BPF jumps only forward (`bpf_check_classic`, net/core/filter.c), so
//! instruction order is a topological order. Each instruction is visited once;
//! its state is the merge of what its predecessors sent: the path condition
//! `P` (the exact set of inputs that execute it) and the values of `A`, `X` and
//! `M[0..16]`. Paths are never enumerated — a filter with 2^30 paths costs what
//! its instruction count and BDD sizes cost.
//!
//! A register's value is a small list of guarded alternatives `(g, w)`: for an
//! input in `P ∩ g` the register holds `w`. Alternatives arise where paths with
//! different values join, and where a load's meaning depends on the arch's byte
//! order. Guards are kept exact on `P` (never widened), so a comparison is
//! `⋁ g ∧ (w op k)` restricted to `P`. Past [`Options::max_alternatives`] they are
//! folded into one word (`bit_i = ⋁ g ∧ w_i`), still exact.
//!
//! Registers dead at a join (overwritten before any use on every path from it,
//! computed by a backward liveness pass) are not merged at all: libseccomp's
//! argument checks clobber `A` and then jump to a common return or reload, and
//! merging those values would be pure waste.

use super::bdd::{Bdd, Manager};
use super::vars::{endianness_level, word_bits, word_depends_on_endianness};
use super::word::{alu_k, alu_x, cmp_k, cmp_x, neg, Word};
use super::{Exit, ExitKind, Options, SymbolicError};
use crate::bpf::insn::*;
use crate::bpf::validate::ValidProgram;
use crate::uapi::SECCOMP_DATA_SIZE;
use std::rc::Rc;

/// A register value: one word, or guarded alternatives.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Val {
    One(Word),
    Alts(Rc<Vec<(Bdd, Word)>>),
}

impl Val {
    fn konst(c: u32) -> Val {
        Val::One(Word::Const(c))
    }
    fn alts(&self) -> Vec<(Bdd, Word)> {
        match self {
            Val::One(w) => vec![(Bdd::TRUE, w.clone())],
            Val::Alts(a) => (**a).clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct State {
    a: Val,
    x: Val,
    mem: [Val; BPF_MEMWORDS as usize],
}

struct Incoming {
    path: Bdd,
    st: State,
}

/// Register bits for liveness: A, X, then M[0..16].
const R_A: u32 = 1;
const R_X: u32 = 2;
fn r_m(k: u32) -> u32 {
    4 << k
}

/// (use, def) register sets of one instruction.
fn use_def(i: &Insn) -> (u32, u32) {
    let c = i.code;
    match i.class() {
        BPF_LD if c & 0xe0 == BPF_MEM => (r_m(i.k), R_A),
        BPF_LD => (0, R_A),
        BPF_LDX if c & 0xe0 == BPF_MEM => (r_m(i.k), R_X),
        BPF_LDX => (0, R_X),
        BPF_ST => (R_A, r_m(i.k)),
        BPF_STX => (R_X, r_m(i.k)),
        BPF_ALU if c & 0xf0 == BPF_NEG => (R_A, R_A),
        BPF_ALU if c & BPF_X != 0 => (R_A | R_X, R_A),
        BPF_ALU => (R_A, R_A),
        BPF_JMP if c & 0xf0 == BPF_JA => (0, 0),
        BPF_JMP if c & BPF_X != 0 => (R_A | R_X, 0),
        BPF_JMP => (R_A, 0),
        BPF_RET if c & 0x18 == BPF_A => (R_A, 0),
        BPF_RET => (0, 0),
        _ if c & 0xf8 == BPF_TXA => (R_X, R_A),
        _ => (R_A, R_X), // TAX
    }
}

/// Registers live on entry to each instruction.
fn liveness(insns: &[Insn]) -> Vec<u32> {
    let mut live = vec![0u32; insns.len()];
    for pc in (0..insns.len()).rev() {
        let out = insns[pc].successors(pc).iter().fold(0, |acc, s| acc | live[s]);
        let (u, d) = use_def(&insns[pc]);
        live[pc] = u | (out & !d);
    }
    live
}

pub(super) struct Evaluated {
    pub exits: Vec<Exit>,
    pub reach: Vec<Bdd>,
    /// For each `RET A`: its instruction and the value of A, exact on its reach set.
    pub ret_words: Vec<(usize, [Bdd; 32])>,
    /// For each conditional jump: the inputs taking it and those falling through.
    pub branches: Vec<Option<(Bdd, Bdd)>>,
}

struct Evaluator<'o> {
    m: Manager,
    opts: &'o Options,
    /// Loaded words by offset, for little- and big-endian machines.
    loads: [[Option<Word>; 2]; 16],
    endian_var: Bdd,
    ret_words: Vec<(usize, [Bdd; 32])>,
    branches: Vec<Option<(Bdd, Bdd)>>,
}

pub(super) fn evaluate(p: &ValidProgram, opts: &Options, trace: bool) -> Result<(Manager, Evaluated), SymbolicError> {
    // About 200 nodes per instruction is what libseccomp output needs.
    let mut m = Manager::with_capacity(opts.node_limit, p.insns().len() * 200);
    if trace {
        m.start_trace();
    }
    let (m, r) = evaluate_in(m, p, opts);
    r.map(|ev| (m, ev))
}

/// [`evaluate`] into a manager that may already hold other programs' sets
/// (`multi.rs`), made with the same `opts.node_limit`. The manager comes back
/// whatever the outcome.
pub(super) fn evaluate_in(
    mut m: Manager,
    p: &ValidProgram,
    opts: &Options,
) -> (Manager, Result<Evaluated, SymbolicError>) {
    let insns = p.insns();
    let live = liveness(insns);
    let endian_var = m.var(endianness_level());
    let mut ev = Evaluator {
        m,
        opts,
        loads: Default::default(),
        endian_var,
        ret_words: Vec::new(),
        branches: vec![None; insns.len()],
    };
    let mut pending: Vec<Vec<Incoming>> = (0..insns.len()).map(|_| Vec::new()).collect();
    let mut reach = vec![Bdd::FALSE; insns.len()];
    let mut exits = Vec::new();
    // A and X start at 0: bpf_convert_filter (net/core/filter.c) emits
    // `A = 0; X = 0` before the converted program.
    pending[0].push(Incoming {
        path: Bdd::TRUE,
        st: State { a: Val::konst(0), x: Val::konst(0), mem: std::array::from_fn(|_| Val::konst(0)) },
    });
    for pc in 0..insns.len() {
        let inc = std::mem::take(&mut pending[pc]);
        if inc.is_empty() {
            continue;
        }
        let (path, mut st) = ev.merge(inc, live[pc]);
        reach[pc] = path;
        let out = ev.step(pc, &insns[pc], path, &mut st, &mut exits);
        if ev.m.exhausted() {
            return (ev.m, Err(SymbolicError::NodeLimit { insn: pc, limit: opts.node_limit }));
        }
        let out = match out {
            Ok(out) => out,
            Err(e) => return (ev.m, Err(e)),
        };
        for (target, cond) in out {
            pending[target].push(Incoming { path: cond, st: st.clone() });
        }
    }
    (ev.m, Ok(Evaluated { exits, reach, ret_words: ev.ret_words, branches: ev.branches }))
}

impl Evaluator<'_> {
    fn merge(&mut self, mut inc: Vec<Incoming>, live: u32) -> (Bdd, State) {
        if inc.len() == 1 {
            let i = inc.pop().unwrap();
            return (i.path, i.st);
        }
        let mut path = Bdd::FALSE;
        for i in &inc {
            path = self.m.or(path, i.path);
        }
        let dead = || Val::konst(0);
        let a = if live & R_A != 0 { self.merge_reg(&inc, |s| &s.a) } else { dead() };
        let x = if live & R_X != 0 { self.merge_reg(&inc, |s| &s.x) } else { dead() };
        let mem =
            std::array::from_fn(
                |k| if live & r_m(k as u32) != 0 { self.merge_reg(&inc, |s| &s.mem[k]) } else { dead() },
            );
        (path, State { a, x, mem })
    }

    fn merge_reg(&mut self, inc: &[Incoming], get: impl Fn(&State) -> &Val) -> Val {
        let first = get(&inc[0].st);
        if inc.iter().all(|i| get(&i.st) == first) {
            return first.clone();
        }
        let mut alts: Vec<(Bdd, Word)> = Vec::new();
        for i in inc {
            for (g, w) in get(&i.st).alts() {
                let g = self.m.and(g, i.path);
                if g.is_false() {
                    continue;
                }
                match alts.iter_mut().find(|(_, w2)| *w2 == w) {
                    Some(slot) => slot.0 = self.m.or(slot.0, g),
                    None => alts.push((g, w)),
                }
            }
        }
        self.make_val(alts)
    }

    /// Normalise a list of alternatives (already exact on the current path).
    fn make_val(&mut self, mut alts: Vec<(Bdd, Word)>) -> Val {
        alts.retain(|(g, _)| !g.is_false());
        // Same word under several guards: one alternative.
        let mut merged: Vec<(Bdd, Word)> = Vec::with_capacity(alts.len());
        for (g, w) in alts {
            match merged.iter_mut().find(|(_, w2)| *w2 == w) {
                Some(slot) => slot.0 = self.m.or(slot.0, g),
                None => merged.push((g, w)),
            }
        }
        match merged.len() {
            0 => Val::konst(0), // unreachable value
            1 => Val::One(merged.pop().unwrap().1),
            n if n > self.opts.max_alternatives => {
                let mut bits = [Bdd::FALSE; 32];
                for (g, w) in &merged {
                    let wb = w.bits();
                    for i in 0..32 {
                        let t = self.m.and(*g, wb[i]);
                        bits[i] = self.m.or(bits[i], t);
                    }
                }
                Val::One(Word::from_bits(&self.m, bits))
            }
            _ => Val::Alts(Rc::new(merged)),
        }
    }

    fn load_word(&mut self, off: u32, le: bool) -> Word {
        let slot = &mut self.loads[(off / 4) as usize][le as usize];
        if let Some(w) = slot {
            return w.clone();
        }
        let (field, lo) = word_bits(off, le);
        let w = Word::from_levels(&mut self.m, |i| field.level(lo + i));
        self.loads[(off / 4) as usize][le as usize] = Some(w.clone());
        w
    }

    /// `LD W ABS off` on the inputs `path`: the word's meaning depends on byte
    /// order only for 64-bit fields, and only when `path` admits both orders.
    fn load(&mut self, off: u32, path: Bdd) -> Val {
        if !word_depends_on_endianness(off) {
            return Val::One(self.load_word(off, true));
        }
        let le = self.endian_var;
        let le_possible = self.m.intersects(path, le);
        let be_possible = !self.m.implies(path, le);
        match (le_possible, be_possible) {
            (true, false) => Val::One(self.load_word(off, true)),
            (false, true) => Val::One(self.load_word(off, false)),
            _ => {
                let (wl, wb) = (self.load_word(off, true), self.load_word(off, false));
                let not_le = self.m.not(le);
                Val::Alts(Rc::new(vec![(le, wl), (not_le, wb)]))
            }
        }
    }

    fn unary(&mut self, v: &Val, f: impl Fn(&mut Manager, &Word) -> Word) -> Val {
        match v {
            Val::One(w) => Val::One(f(&mut self.m, w)),
            Val::Alts(alts) => {
                let out = alts.iter().map(|(g, w)| (*g, f(&mut self.m, w))).collect();
                self.make_val(out)
            }
        }
    }

    /// `a op x` over all pairs of alternatives. An operation refused on two
    /// input-dependent words (`MUL`, `DIV`) is retried by splitting one operand
    /// into its concrete values on the current inputs, when it has at most
    /// [`SPLIT_VALUES`] of them — exact, since each value is a constant operand.
    fn binary(&mut self, pc: usize, path: Bdd, op: u16, a: &Val, x: &Val) -> Result<Val, SymbolicError> {
        let mut out = Vec::new();
        for (ga, wa) in a.alts() {
            for (gx, wx) in x.alts() {
                let g = self.m.and(ga, gx);
                let g = self.m.and(g, path);
                if g.is_false() {
                    continue;
                }
                match alu_x(&mut self.m, op, &wa, &wx) {
                    Ok(w) => out.push((g, w)),
                    Err(e) => {
                        let split_x = enumerate_values(&mut self.m, &wx, g, SPLIT_VALUES);
                        let split = match split_x {
                            Some(vals) => Some((vals, false)),
                            None if op == BPF_MUL => {
                                enumerate_values(&mut self.m, &wa, g, SPLIT_VALUES).map(|v| (v, true))
                            }
                            None => None,
                        };
                        let Some((vals, split_a)) = split else {
                            return Err(SymbolicError::Unsupported { insn: pc, what: e.0 });
                        };
                        for (set, v) in vals {
                            // MUL commutes, so a split A is a constant operand too.
                            let w =
                                if split_a { alu_k(&mut self.m, op, &wx, v) } else { alu_k(&mut self.m, op, &wa, v) };
                            out.push((set, w));
                        }
                    }
                }
            }
        }
        Ok(self.make_val(out))
    }

    /// `⋁ g ∧ pred(w)` over the alternatives.
    fn condition(&mut self, v: &Val, mut pred: impl FnMut(&mut Manager, &Word) -> Bdd) -> Bdd {
        match v {
            Val::One(w) => pred(&mut self.m, w),
            Val::Alts(alts) => {
                let mut acc = Bdd::FALSE;
                for (g, w) in alts.iter() {
                    let c = pred(&mut self.m, w);
                    let t = self.m.and(*g, c);
                    acc = self.m.or(acc, t);
                }
                acc
            }
        }
    }

    /// Execute one instruction on the inputs `path`; returns the successors with
    /// their path conditions.
    fn step(
        &mut self,
        pc: usize,
        i: &Insn,
        path: Bdd,
        st: &mut State,
        exits: &mut Vec<Exit>,
    ) -> Result<Vec<(usize, Bdd)>, SymbolicError> {
        let c = i.code;
        let k = i.k;
        let next = vec![(pc + 1, path)];
        match i.class() {
            BPF_LD => {
                st.a = match c & 0xe0 {
                    BPF_ABS => self.load(k, path),
                    // seccomp_check_filter rewrites LD/LDX W LEN to
                    // `k = sizeof(struct seccomp_data)` = 64.
                    BPF_LEN => Val::konst(SECCOMP_DATA_SIZE),
                    BPF_MEM => st.mem[k as usize].clone(),
                    _ => Val::konst(k),
                };
                Ok(next)
            }
            BPF_LDX => {
                st.x = match c & 0xe0 {
                    BPF_LEN => Val::konst(SECCOMP_DATA_SIZE),
                    BPF_MEM => st.mem[k as usize].clone(),
                    _ => Val::konst(k),
                };
                Ok(next)
            }
            BPF_ST => {
                st.mem[k as usize] = st.a.clone();
                Ok(next)
            }
            BPF_STX => {
                st.mem[k as usize] = st.x.clone();
                Ok(next)
            }
            BPF_ALU => {
                let op = c & 0xf0;
                if op == BPF_NEG {
                    st.a = self.unary(&st.a, neg);
                    return Ok(next);
                }
                if c & BPF_X == 0 {
                    st.a = self.unary(&st.a, |m, w| alu_k(m, op, w, k));
                    return Ok(next);
                }
                let mut path = path;
                if op == BPF_DIV {
                    // bpf_convert_filter emits `if X == 0 { A = 0; exit }` before a
                    // classic DIV X: the filter returns 0 (SECCOMP_RET_KILL_THREAD).
                    let zero = self.condition(&st.x, |m, w| cmp_k(m, BPF_JEQ, w, 0));
                    let z = self.m.and(path, zero);
                    if !z.is_false() {
                        exits.push(Exit { insn: pc, kind: ExitKind::DivideByZero, ret: 0, inputs: z });
                    }
                    path = self.m.diff(path, zero);
                    if path.is_false() {
                        return Ok(vec![]);
                    }
                    // Drop X alternatives that are 0 on the remaining inputs.
                    if let Val::Alts(alts) = &st.x {
                        let kept: Vec<_> = alts
                            .iter()
                            .filter(|(g, w)| w.as_const() != Some(0) && self.m.intersects(*g, path))
                            .cloned()
                            .collect();
                        st.x = self.make_val(kept);
                    }
                }
                let (a, x) = (st.a.clone(), st.x.clone());
                st.a = self.binary(pc, path, op, &a, &x)?;
                Ok(vec![(pc + 1, path)])
            }
            BPF_JMP => {
                let op = c & 0xf0;
                if op == BPF_JA {
                    return Ok(vec![(pc + 1 + k as usize, path)]);
                }
                let (jt, jf) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
                if jt == jf {
                    return Ok(vec![(jt, path)]);
                }
                let cond = if c & BPF_X != 0 {
                    let (a, x) = (st.a.clone(), st.x.clone());
                    match (&a, &x) {
                        (_, Val::One(wx)) => self.condition(&a, |m, wa| cmp_x(m, op, wa, wx)),
                        _ => {
                            let mut acc = Bdd::FALSE;
                            for (ga, wa) in a.alts() {
                                for (gx, wx) in x.alts() {
                                    let g = self.m.and(ga, gx);
                                    if g.is_false() {
                                        continue;
                                    }
                                    let cnd = cmp_x(&mut self.m, op, &wa, &wx);
                                    let t = self.m.and(g, cnd);
                                    acc = self.m.or(acc, t);
                                }
                            }
                            acc
                        }
                    }
                } else {
                    let a = st.a.clone();
                    self.condition(&a, |m, w| cmp_k(m, op, w, k))
                };
                let t = self.m.and(path, cond);
                let f = self.m.diff(path, cond);
                self.branches[pc] = Some((t, f));
                let mut out = Vec::with_capacity(2);
                if !t.is_false() {
                    out.push((jt, t));
                }
                if !f.is_false() {
                    out.push((jf, f));
                }
                Ok(out)
            }
            BPF_RET => {
                if c & 0x18 == BPF_A {
                    let a = st.a.clone();
                    let w = self.ret_a(pc, path, &a, exits)?;
                    self.ret_words.push((pc, w));
                } else {
                    exits.push(Exit { insn: pc, kind: ExitKind::Return, ret: k, inputs: path });
                }
                Ok(vec![])
            }
            _ => {
                if c & 0xf8 == BPF_TXA {
                    st.a = st.x.clone();
                } else {
                    st.x = st.a.clone();
                }
                Ok(next)
            }
        }
    }

    /// `RET A`: split `path` by the concrete value of A. Returns A as one word
    /// (exact on `path`), so the analysis can evaluate it per input.
    fn ret_a(&mut self, pc: usize, path: Bdd, a: &Val, exits: &mut Vec<Exit>) -> Result<[Bdd; 32], SymbolicError> {
        let word = match a {
            Val::One(w) => w.clone(),
            Val::Alts(alts) => {
                let mut bits = [Bdd::FALSE; 32];
                for (g, w) in alts.iter() {
                    let wb = w.bits();
                    for i in 0..32 {
                        let t = self.m.and(*g, wb[i]);
                        bits[i] = self.m.or(bits[i], t);
                    }
                }
                Word::from_bits(&self.m, bits)
            }
        };
        let limit = self.opts.max_return_values;
        let Some(values) = enumerate_values(&mut self.m, &word, path, limit) else {
            if self.m.exhausted() {
                return Err(SymbolicError::NodeLimit { insn: pc, limit: self.opts.node_limit });
            }
            return Err(SymbolicError::TooManyReturnValues { insn: pc, limit });
        };
        for (inputs, ret) in values {
            exits.push(Exit { insn: pc, kind: ExitKind::Return, ret, inputs });
        }
        Ok(word.bits())
    }
}

/// Most distinct values an operand of `MUL`/`DIV` by X may take to be split.
const SPLIT_VALUES: usize = 64;

/// The distinct values of `w` on the inputs `within`, each with its input set
/// (ascending by value); `None` past `limit` values.
fn enumerate_values(m: &mut Manager, w: &Word, within: Bdd, limit: usize) -> Option<Vec<(Bdd, u32)>> {
    let bits = match w {
        Word::Const(c) => return Some(if within.is_false() { vec![] } else { vec![(within, *c)] }),
        Word::Bits(b) => b.bit,
    };
    let mut out = Vec::new();
    // Depth-first over the bits, most significant first; zero before one keeps
    // the output sorted.
    let mut stack = vec![(within, 31i32, 0u32)];
    while let Some((set, bit, val)) = stack.pop() {
        if bit < 0 {
            out.push((set, val));
            if out.len() > limit {
                return None;
            }
            continue;
        }
        let f = bits[bit as usize];
        let one = m.and(set, f);
        let zero = m.diff(set, f);
        if m.exhausted() {
            return None;
        }
        if !one.is_false() {
            stack.push((one, bit - 1, val | 1 << bit));
        }
        if !zero.is_false() {
            stack.push((zero, bit - 1, val));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_sees_through_jumps_and_memory() {
        let p = [
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),        // 0
            Insn::stmt(BPF_ST, 2),                          // 1
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), // 2
            Insn::stmt(BPF_LD | BPF_IMM, 5),                // 3
            Insn::stmt(BPF_LDX | BPF_MEM, 2),               // 4
            Insn::stmt(BPF_RET | BPF_A, 0),                 // 5
        ];
        let l = liveness(&p);
        assert_eq!(l[5], R_A);
        assert_eq!(l[4], R_A | r_m(2));
        assert_eq!(l[3], r_m(2));
        assert_eq!(l[2], R_A | r_m(2));
        assert_eq!(l[0], 0);
    }
}
