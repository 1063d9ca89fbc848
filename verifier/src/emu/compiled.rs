//! The emulator's fast path: a filter compiled into lookup tables on `arch`
//! and `nr` and small decision trees on the arguments, with the interpreter
//! ([`Emulator`]) resuming wherever the compilation does not follow the
//! program exactly.
//!
//! Real filters spend almost all their instructions dispatching on `arch` and
//! `nr` (a linear chain of hundreds of `jeq`, a search tree, runc's stub in
//! front): the same few hundred steps for every call of the same syscall. So
//! [`CompiledEmulator::new`] follows the program once for every class of
//! inputs that takes the same path, and [`CompiledEmulator::run`] does one
//! table lookup and, for argument checks, a few interval searches:
//!
//! - the walk keeps each register and scratch cell as a constant or as
//!   `word & mask` of one input word (what `ld [k]` and `and #k` make of
//!   it), and for each word the interval its value is known to lie in;
//! - a conditional jump on such a word splits the interval into the pieces
//!   where its outcome is constant (at `k`, `k + 1` for `jeq`/`jgt`/`jge`;
//!   aligned blocks of `2^(trailing zeros of the mask)` for `jset` and masked
//!   words, e.g. the x32 test `jset #0x40000000`), and each piece follows its
//!   branch;
//! - splits on `arch` and `nr` partition all `2^64` pairs into rectangles,
//!   which become per `arch` interval a dense table for `nr < DENSE_NR` and
//!   sorted interval starts above it; a split on any other word starts a
//!   decision tree (shared by every rectangle that reaches the same
//!   instruction with the same registers) whose nodes test one word;
//! - a path ends in `ret` of a known value, or in a *resume point* (the
//!   instruction and the registers as expressions of the input) at the first
//!   instruction not followed exactly: an ALU operation other than `and #k`
//!   on a word, a comparison of two words, `ret a` of a word, or a spent
//!   budget. (A test of a masked word whose interval would split into more
//!   than [`MAX_PIECES`] pieces, e.g. `and #0x7e020000; jeq #0`, becomes a
//!   tree node on the masked value instead.)
//!
//! Exactness does not depend on how far the walk gets: every step it takes
//! is the interpreter's step on every input of the piece, and at a resume
//! point the interpreter itself continues with the registers it would have
//! had. A program the walk cannot split at all compiles to one resume point
//! at instruction 0, the interpreter unchanged. `tests/compiled_vs_emu.rs`
//! compares the two on every corpus filter; this module's proptest on
//! generated programs.

use super::{Emulator, Op, Regs};
use crate::bpf::insn::*;
use crate::bpf::semantics::{alu, alu_valid, jump, Alu, Src};
use crate::bpf::validate::ValidProgram;
use crate::seccomp::SeccompData;
use std::collections::HashMap;

/// Most pieces one conditional jump may split an interval into; a jump
/// that needs more (e.g. `jset #1` over all numbers) becomes a resume point.
pub const MAX_PIECES: u64 = 256;
/// Most leaves (intervals of `arch` × `nr` with one outcome) of one program.
const MAX_LEAVES: usize = 1 << 16;
/// Most instruction steps the compilation walk takes in all.
const MAX_STEPS: usize = 1 << 22;
/// Most (arch class, leaf) cells the tables may hold before the
/// compilation falls back to the plain interpreter.
const MAX_CELLS: usize = 1 << 20;
/// Syscall numbers below this are looked up in a dense table.
const DENSE_NR: u32 = 1024;
/// Most nodes and steps of one decision tree, and most tests on one of its
/// paths; most nodes of all trees.
const TREE_NODES: usize = 1024;
const TREE_STEPS: usize = 1 << 14;
const TREE_DEPTH: usize = 64;
const MAX_NODES: usize = 1 << 18;

/// Byte offsets of the two words the tables dispatch on.
const NR: u8 = 0;
const ARCH: u8 = 4;

/// What the walk knows of a register: a constant, or `word & mask` of the
/// input word at a byte offset (`mask` never 0: that is the constant 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Val {
    Const(u32),
    Masked(u8, u32),
}

impl Val {
    #[inline]
    fn at(self, d: &SeccompData) -> u32 {
        match self {
            Val::Const(c) => c,
            Val::Masked(off, m) => d.word(u32::from(off)) & m,
        }
    }
}

/// Registers and scratch memory as the walk knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct State {
    a: Val,
    x: Val,
    mem: [Val; BPF_MEMWORDS as usize],
}

const START: State = State { a: Val::Const(0), x: Val::Const(0), mem: [Val::Const(0); BPF_MEMWORDS as usize] };

impl State {
    fn regs(&self, d: &SeccompData) -> Regs {
        Regs { a: self.a.at(d), x: self.x.at(d), mem: self.mem.map(|v| v.at(d)) }
    }
}

/// An inclusive interval of 32-bit values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    lo: u32,
    hi: u32,
}

const ALL: Span = Span { lo: 0, hi: u32::MAX };

/// What a class of `(arch, nr)` gets: a return value, or a node of the
/// decision trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    Ret(u32),
    Node(u32),
}

/// A node of the decision trees that follow the tables.
#[derive(Clone, Copy, Debug)]
enum Node {
    Ret(u32),
    /// The interpreter continues at a resume point.
    Resume(u32),
    /// The input word at byte offset `off`, and-ed with `mask`, selects a
    /// child: `starts[first..first + len]` are the ascending starts of its
    /// intervals, `kids` the same range the children.
    Test {
        off: u32,
        mask: u32,
        first: u32,
        len: u32,
    },
}

/// Where the interpreter continues, with registers to be evaluated per input
/// (`fixed` when none depends on it).
#[derive(Clone, Copy, Debug)]
struct Resume {
    pc: usize,
    state: State,
    fixed: Option<Regs>,
}

impl Resume {
    fn new(pc: usize, state: State) -> Resume {
        let konst = |v: Val| matches!(v, Val::Const(_));
        let all_const = konst(state.a) && konst(state.x) && state.mem.iter().all(|&v| konst(v));
        Resume { pc, state, fixed: all_const.then(|| state.regs(&SeccompData::default())) }
    }
}

/// The outcomes of one interval of `arch` values, by `nr`.
#[derive(Clone, Debug)]
struct ArchClass {
    /// `dense[nr]` for `nr < dense.len()`.
    dense: Box<[Entry]>,
    /// Starts of the `nr` intervals (the first is 0), ascending.
    starts: Box<[u32]>,
    entries: Box<[Entry]>,
}

impl ArchClass {
    #[inline]
    fn get(&self, nr: u32) -> Entry {
        match self.dense.get(nr as usize) {
            Some(&e) => e,
            None => self.entries[self.starts.partition_point(|&s| s <= nr) - 1],
        }
    }
}

/// A program compiled for repeated evaluation: the same return value as
/// [`Emulator::run`] on every input, most of them by one table lookup and a
/// few interval searches.
#[derive(Clone, Debug)]
pub struct CompiledEmulator {
    emu: Emulator,
    /// Starts of the `arch` intervals (the first is 0), ascending.
    arch_starts: Box<[u32]>,
    classes: Box<[ArchClass]>,
    nodes: Box<[Node]>,
    starts: Box<[u32]>,
    kids: Box<[u32]>,
    resumes: Box<[Resume]>,
}

/// The size of a compiled filter, for tests and benches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Intervals of `arch` with their own table.
    pub arch_classes: usize,
    /// Intervals of `nr` over all arch classes, each with one outcome.
    pub intervals: usize,
    /// Of those, the ones that end in a known return value.
    pub constant_intervals: usize,
    /// Tests of the decision trees (argument checks).
    pub tests: usize,
    /// Distinct places where the interpreter takes over.
    pub resume_points: usize,
    /// Nothing was compiled: every input runs the interpreter from the start.
    pub interpreted: bool,
}

impl CompiledEmulator {
    /// Compile `p`. Never fails: what the walk cannot follow is left to the
    /// interpreter.
    pub fn new(p: &ValidProgram) -> CompiledEmulator {
        let emu = Emulator::new(p);
        let mut w = Walk {
            ops: &emu.ops,
            leaves: Vec::new(),
            nodes: Vec::new(),
            starts: Vec::new(),
            kids: Vec::new(),
            roots: HashMap::new(),
            resumes: Vec::new(),
            ids: HashMap::new(),
            steps: 0,
        };
        w.run();
        let tables = tables(&w.leaves);
        let Walk { nodes, starts, kids, resumes, .. } = w;
        match tables {
            Some((arch_starts, classes)) => CompiledEmulator {
                emu,
                arch_starts,
                classes,
                nodes: nodes.into(),
                starts: starts.into(),
                kids: kids.into(),
                resumes: resumes.into(),
            },
            None => CompiledEmulator::interpreted(emu),
        }
    }

    /// One resume point at instruction 0 for every input.
    fn interpreted(emu: Emulator) -> CompiledEmulator {
        let class = ArchClass { dense: Box::new([]), starts: Box::new([0]), entries: Box::new([Entry::Node(0)]) };
        CompiledEmulator {
            emu,
            arch_starts: Box::new([0]),
            classes: Box::new([class]),
            nodes: Box::new([Node::Resume(0)]),
            starts: Box::new([]),
            kids: Box::new([]),
            resumes: Box::new([Resume::new(0, START)]),
        }
    }

    /// The filter's return value for `d`, equal to [`Emulator::run`].
    #[inline]
    pub fn run(&self, d: &SeccompData) -> u32 {
        let class = &self.classes[self.arch_starts.partition_point(|&s| s <= d.arch) - 1];
        match class.get(d.nr) {
            Entry::Ret(r) => r,
            Entry::Node(n) => self.tree(n, d),
        }
    }

    #[inline(never)]
    fn tree(&self, mut n: u32, d: &SeccompData) -> u32 {
        loop {
            match self.nodes[n as usize] {
                Node::Ret(r) => return r,
                Node::Resume(i) => return self.resume(i, d),
                Node::Test { off, mask, first, len } => {
                    let v = d.word(off) & mask;
                    let (first, len) = (first as usize, len as usize);
                    let i = self.starts[first..first + len].partition_point(|&s| s <= v) - 1;
                    n = self.kids[first + i];
                }
            }
        }
    }

    fn resume(&self, i: u32, d: &SeccompData) -> u32 {
        let r = &self.resumes[i as usize];
        let regs = match r.fixed {
            Some(regs) => regs,
            None => r.state.regs(d),
        };
        self.emu.run_from(d, r.pc, regs)
    }

    /// The action for `d` (as `__seccomp_filter` decodes the return value).
    pub fn action(&self, d: &SeccompData) -> crate::seccomp::Action {
        crate::seccomp::Action::from_ret(self.run(d))
    }

    /// The interpreter it falls back to.
    pub fn emulator(&self) -> &Emulator {
        &self.emu
    }

    pub fn shape(&self) -> Shape {
        let intervals = self.classes.iter().map(|c| c.entries.len()).sum();
        let constant_intervals =
            self.classes.iter().flat_map(|c| c.entries.iter()).filter(|e| matches!(e, Entry::Ret(_))).count();
        let tests = self.nodes.iter().filter(|n| matches!(n, Node::Test { .. })).count();
        let interpreted = intervals == 1 && self.resumes.len() == 1 && self.resumes[0].pc == 0 && tests == 0;
        Shape {
            arch_classes: self.classes.len(),
            intervals,
            constant_intervals,
            tests,
            resume_points: self.resumes.len(),
            interpreted,
        }
    }

    /// Inputs at both ends of every interval of `arch` and `nr` the tables
    /// distinguish (with `args` and `ip` from `template`): the rows a test
    /// must cover to have seen every table entry.
    pub fn boundary_rows(&self, template: &SeccompData) -> Vec<SeccompData> {
        let ends = |starts: &[u32], i: usize| {
            let hi = starts.get(i + 1).map_or(u32::MAX, |&s| s - 1);
            [starts[i], hi]
        };
        let mut out = Vec::new();
        for (ci, class) in self.classes.iter().enumerate() {
            for arch in ends(&self.arch_starts, ci) {
                for ni in 0..class.starts.len() {
                    for nr in ends(&class.starts, ni) {
                        out.push(SeccompData { arch, nr, ..*template });
                    }
                }
            }
        }
        out
    }
}

/// A path of the table walk still to be followed.
struct Frame {
    pc: usize,
    state: State,
    arch: Span,
    nr: Span,
}

/// What one instruction does to the walk.
enum Step {
    Next(usize),
    Ret(u32),
    /// A conditional jump on the word at byte offset `off` whose outcome
    /// differs between the pieces of the interval of `word & mask` (of the
    /// word's known interval when `mask` is all ones).
    Split {
        off: u8,
        mask: u32,
        pieces: Vec<(Span, bool)>,
        jt: usize,
        jf: usize,
    },
    /// Not followed exactly: the interpreter takes over here.
    Stop,
}

/// The instruction at `pc` applied to `s` (changed only on `Next`), with the
/// interval each input word is known to lie in.
fn step(ops: &[Op], pc: usize, s: &mut State, span: impl Fn(u8) -> Span) -> Step {
    match ops[pc] {
        Op::LdAbs(off) => s.a = Val::Masked(off as u8, u32::MAX),
        Op::LdImm(k) => s.a = Val::Const(k),
        Op::LdxImm(k) => s.x = Val::Const(k),
        Op::LdMem(k) => s.a = s.mem[k],
        Op::LdxMem(k) => s.x = s.mem[k],
        Op::St(k) => s.mem[k] = s.a,
        Op::Stx(k) => s.mem[k] = s.x,
        Op::Tax => s.x = s.a,
        Op::Txa => s.a = s.x,
        Op::Neg => match s.a {
            Val::Const(c) => s.a = Val::Const(alu_valid(BPF_NEG, c, 0)),
            Val::Masked(..) => return Step::Stop,
        },
        Op::AluK(op, k) => match alu_val(op, s.a, Val::Const(k)) {
            Some(v) => s.a = v,
            None => return Step::Stop,
        },
        Op::AluX(op) => match alu_val(op, s.a, s.x) {
            Some(v) => s.a = v,
            None => return Step::Stop,
        },
        Op::Ja(t) => return Step::Next(t),
        Op::JK { op, k, jt, jf } => return branch(s.a, Val::Const(k), op, jt, jf, span),
        Op::JX { op, jt, jf } => return branch(s.a, s.x, op, jt, jf, span),
        Op::RetK(k) => return Step::Ret(k),
        Op::RetA => {
            return match s.a {
                Val::Const(c) => Step::Ret(c),
                Val::Masked(..) => Step::Stop,
            }
        }
    }
    Step::Next(pc + 1)
}

fn branch(a: Val, b: Val, op: u16, jt: usize, jf: usize, span: impl Fn(u8) -> Span) -> Step {
    match (a, b) {
        (Val::Const(a), Val::Const(b)) => Step::Next(if jump(op, a, b) { jt } else { jf }),
        (Val::Masked(off, m), Val::Const(k)) => {
            let (mask, pieces) = match pieces(span(off), m, op, k) {
                Some(p) => (u32::MAX, p),
                // `jset #0xffffffff` of the whole word: `word != 0`, split
                // within the word's known interval (a mask of all ones
                // means pieces of the word itself, which the table walk
                // takes as its new interval).
                None if op == BPF_JSET && m & k == u32::MAX => {
                    (u32::MAX, pieces(span(off), u32::MAX, BPF_JGT, 0).expect("a threshold test has pieces"))
                }
                // Too many pieces of the word: split the masked value
                // instead; `jset` tests whether `word & (m & k)` is non-zero.
                None if op == BPF_JSET => (m & k, pieces(ALL, u32::MAX, BPF_JGT, 0).expect("two pieces")),
                None => match pieces(ALL, u32::MAX, op, k) {
                    Some(p) => (m, p),
                    None => return Step::Stop,
                },
            };
            match pieces.as_slice() {
                [only] => Step::Next(if only.1 { jt } else { jf }),
                _ => Step::Split { off, mask, pieces, jt, jf },
            }
        }
        _ => Step::Stop,
    }
}

struct Walk<'a> {
    ops: &'a [Op],
    leaves: Vec<(Span, Span, Entry)>,
    nodes: Vec<Node>,
    starts: Vec<u32>,
    kids: Vec<u32>,
    /// Tree roots by where they start.
    roots: HashMap<(usize, State), u32>,
    resumes: Vec<Resume>,
    ids: HashMap<(usize, State), u32>,
    steps: usize,
}

impl Walk<'_> {
    fn run(&mut self) {
        let mut stack = vec![Frame { pc: 0, state: START, arch: ALL, nr: ALL }];
        while let Some(f) = stack.pop() {
            let may_split = self.leaves.len() + stack.len() < MAX_LEAVES;
            self.follow(f, &mut stack, may_split);
        }
    }

    fn node(&mut self, n: Node) -> u32 {
        self.nodes.push(n);
        (self.nodes.len() - 1) as u32
    }

    fn resume_node(&mut self, pc: usize, state: State) -> u32 {
        let next = self.resumes.len() as u32;
        let id = *self.ids.entry((pc, state)).or_insert(next);
        if id == next {
            self.resumes.push(Resume::new(pc, state));
        }
        self.node(Node::Resume(id))
    }

    /// Follow one frame of the table walk to a leaf, pushing the other
    /// pieces of every split on `nr` or `arch` (only while `may_split`).
    fn follow(&mut self, f: Frame, stack: &mut Vec<Frame>, may_split: bool) {
        let Frame { mut pc, mut state, mut arch, mut nr } = f;
        let span = |off: u8, arch: Span, nr: Span| match off {
            NR => nr,
            ARCH => arch,
            _ => ALL,
        };
        let entry = loop {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                break Entry::Node(self.resume_node(pc, state));
            }
            match step(self.ops, pc, &mut state, |off| span(off, arch, nr)) {
                Step::Next(t) => pc = t,
                Step::Ret(r) => break Entry::Ret(r),
                Step::Stop => break Entry::Node(self.resume_node(pc, state)),
                Step::Split { off: off @ (NR | ARCH), mask: u32::MAX, pieces, jt, jf } => {
                    if !may_split {
                        break Entry::Node(self.resume_node(pc, state));
                    }
                    for &(piece, taken) in &pieces[1..] {
                        let (mut a2, mut n2) = (arch, nr);
                        *(if off == NR { &mut n2 } else { &mut a2 }) = piece;
                        stack.push(Frame { pc: if taken { jt } else { jf }, state, arch: a2, nr: n2 });
                    }
                    *(if off == NR { &mut nr } else { &mut arch }) = pieces[0].0;
                    pc = if pieces[0].1 { jt } else { jf };
                }
                Step::Split { .. } => break Entry::Node(self.tree_root(pc, state)),
            }
        };
        self.leaves.push((arch, nr, entry));
    }

    /// The decision tree of everything from `pc` on (shared by every table
    /// entry that reaches `pc` with `state`, so it assumes nothing of `nr`
    /// and `arch`).
    fn tree_root(&mut self, pc: usize, state: State) -> u32 {
        if let Some(&n) = self.roots.get(&(pc, state)) {
            return n;
        }
        let mut budget = (TREE_NODES, TREE_STEPS);
        let n = self.tree(pc, state, [ALL; 16], 0, &mut budget);
        self.roots.insert((pc, state), n);
        n
    }

    fn tree(
        &mut self,
        mut pc: usize,
        mut state: State,
        spans: [Span; 16],
        depth: usize,
        budget: &mut (usize, usize),
    ) -> u32 {
        loop {
            self.steps += 1;
            if budget.1 == 0 || self.steps > MAX_STEPS {
                return self.resume_node(pc, state);
            }
            budget.1 -= 1;
            match step(self.ops, pc, &mut state, |off| spans[usize::from(off / 4)]) {
                Step::Next(t) => pc = t,
                Step::Ret(r) => return self.node(Node::Ret(r)),
                Step::Stop => return self.resume_node(pc, state),
                Step::Split { off, mask, pieces, jt, jf } => {
                    if depth >= TREE_DEPTH || budget.0 < pieces.len() || self.nodes.len() + pieces.len() > MAX_NODES {
                        return self.resume_node(pc, state);
                    }
                    budget.0 -= pieces.len();
                    let kids: Vec<u32> = pieces
                        .iter()
                        .map(|&(piece, taken)| {
                            let mut s2 = spans;
                            if mask == u32::MAX {
                                s2[usize::from(off / 4)] = piece;
                            }
                            self.tree(if taken { jt } else { jf }, state, s2, depth + 1, budget)
                        })
                        .collect();
                    let first = self.starts.len() as u32;
                    self.starts.extend(pieces.iter().map(|p| p.0.lo));
                    self.kids.extend(kids);
                    return self.node(Node::Test { off: u32::from(off), mask, first, len: pieces.len() as u32 });
                }
            }
        }
    }
}

/// `a op b` where the walk can say exactly what it is: constants fold
/// (except a division by zero, which ends the program: left to the
/// interpreter), `and` narrows a word's mask; anything else is unknown.
fn alu_val(op: u16, a: Val, b: Val) -> Option<Val> {
    match (a, b) {
        // As the interpreter computes both `K` and `X` operations.
        (Val::Const(a), Val::Const(b)) => match alu(op, Src::X, a, b) {
            Alu::Value(v) => Some(Val::Const(v)),
            Alu::ReturnsZero | Alu::Refused => None,
        },
        (Val::Masked(w, m), Val::Const(k)) | (Val::Const(k), Val::Masked(w, m)) if op == BPF_AND => {
            Some(if m & k == 0 { Val::Const(0) } else { Val::Masked(w, m & k) })
        }
        _ => None,
    }
}

/// The pieces of `span` on which `jump(op, v & m, k)` is constant, in
/// ascending order, with the outcome on each; `None` when there would be
/// more than [`MAX_PIECES`].
fn pieces(span: Span, m: u32, op: u16, k: u32) -> Option<Vec<(Span, bool)>> {
    let test = |v: u32| jump(op, v & m, k);
    let mut out: Vec<(Span, bool)> = Vec::new();
    if m == u32::MAX && op != BPF_JSET {
        // A threshold test of the word itself: constant between cut points.
        let cuts: &[Option<u32>] = match op {
            BPF_JEQ => &[Some(k), k.checked_add(1)],
            BPF_JGT => &[k.checked_add(1)],
            _ => &[Some(k)], // BPF_JGE
        };
        let mut lo = span.lo;
        for &c in cuts.iter().flatten() {
            if c > lo && c <= span.hi {
                out.push((Span { lo, hi: c - 1 }, test(lo)));
                lo = c;
            }
        }
        out.push((Span { lo, hi: span.hi }, test(lo)));
        return Some(out);
    }
    // `v & m` (and so the test) is constant on aligned blocks of
    // 2^(trailing zeros) of the bits that matter.
    let relevant = if op == BPF_JSET { m & k } else { m };
    if relevant == 0 {
        return Some(vec![(span, test(span.lo))]);
    }
    let t = relevant.trailing_zeros();
    let blocks = u64::from(span.hi >> t) - u64::from(span.lo >> t) + 1;
    if blocks > MAX_PIECES {
        return None;
    }
    let mut lo = span.lo;
    loop {
        let block_end = (u64::from(lo >> t) + 1) << t; // first value of the next block
        let hi = (block_end - 1).min(u64::from(span.hi)) as u32;
        let taken = test(lo);
        match out.last_mut() {
            Some(last) if last.1 == taken => last.0.hi = hi,
            _ => out.push((Span { lo, hi }, taken)),
        }
        if hi == span.hi {
            return Some(out);
        }
        lo = hi + 1;
    }
}

type Tables = (Box<[u32]>, Box<[ArchClass]>);

/// The leaves (a partition of all `(arch, nr)`) as per-arch-interval tables;
/// `None` when they would exceed [`MAX_CELLS`].
fn tables(leaves: &[(Span, Span, Entry)]) -> Option<Tables> {
    let mut arch_starts: Vec<u32> = leaves.iter().map(|l| l.0.lo).collect();
    arch_starts.sort_unstable();
    arch_starts.dedup();
    let class_of = |a: u32| arch_starts.partition_point(|&s| s <= a) - 1;
    let mut cells = 0usize;
    let mut per_class: Vec<Vec<(Span, Entry)>> = vec![Vec::new(); arch_starts.len()];
    for &(arch, nr, e) in leaves {
        let (first, last) = (class_of(arch.lo), class_of(arch.hi));
        cells += last - first + 1;
        if cells > MAX_CELLS {
            return None;
        }
        for c in &mut per_class[first..=last] {
            c.push((nr, e));
        }
    }
    let classes = per_class
        .into_iter()
        .map(|mut v| {
            v.sort_unstable_by_key(|(s, _)| s.lo);
            let mut starts: Vec<u32> = Vec::new();
            let mut entries: Vec<Entry> = Vec::new();
            for (span, e) in v {
                if entries.last() != Some(&e) {
                    starts.push(span.lo);
                    entries.push(e);
                }
            }
            let dense_len = if entries.len() > 1 { DENSE_NR } else { 0 };
            let mut dense = Vec::with_capacity(dense_len as usize);
            let mut i = 0;
            for nr in 0..dense_len {
                while starts.get(i + 1).is_some_and(|&s| s <= nr) {
                    i += 1;
                }
                dense.push(entries[i]);
            }
            ArchClass { dense: dense.into(), starts: starts.into(), entries: entries.into() }
        })
        .collect();
    Some((arch_starts.into(), classes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::Program;
    use crate::bpf::validate::validate;
    use crate::seccomp::{SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO};
    use proptest::prelude::*;

    fn compile(insns: &[Insn]) -> (Emulator, CompiledEmulator) {
        let v = validate(&Program::new(insns.to_vec())).unwrap();
        (Emulator::new(&v), CompiledEmulator::new(&v))
    }

    fn at(arch: u32, nr: u32, arg0: u64) -> SeccompData {
        SeccompData { arch, nr, args: [arg0, 0, 0, 0, 0, 0], ..Default::default() }
    }

    const X86_64: u32 = 0xc000_003e;

    #[test]
    fn pieces_split_where_the_outcome_changes() {
        let sp = |lo, hi| Span { lo, hi };
        assert_eq!(
            pieces(ALL, u32::MAX, BPF_JEQ, 5),
            Some(vec![(sp(0, 4), false), (sp(5, 5), true), (sp(6, u32::MAX), false)])
        );
        assert_eq!(
            pieces(ALL, u32::MAX, BPF_JEQ, u32::MAX),
            Some(vec![(sp(0, u32::MAX - 1), false), (sp(u32::MAX, u32::MAX), true)])
        );
        assert_eq!(pieces(sp(10, 20), u32::MAX, BPF_JGT, 100), Some(vec![(sp(10, 20), false)]));
        assert_eq!(pieces(ALL, u32::MAX, BPF_JGE, 0), Some(vec![(ALL, true)]));
        // The x32 test: four alternating quarters.
        assert_eq!(
            pieces(ALL, u32::MAX, BPF_JSET, 0x4000_0000),
            Some(vec![
                (sp(0, 0x3fff_ffff), false),
                (sp(0x4000_0000, 0x7fff_ffff), true),
                (sp(0x8000_0000, 0xbfff_ffff), false),
                (sp(0xc000_0000, u32::MAX), true)
            ])
        );
        // A masked word compared: constant on blocks of 2^8, merged where equal.
        assert_eq!(
            pieces(sp(0, 0x3ff), 0xff00, BPF_JEQ, 0x100),
            Some(vec![(sp(0, 0xff), false), (sp(0x100, 0x1ff), true), (sp(0x200, 0x3ff), false)])
        );
        assert_eq!(pieces(ALL, u32::MAX, BPF_JSET, 1), None, "2^32 pieces");
    }

    #[test]
    fn dispatch_is_tabled_and_argument_checks_are_trees() {
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, X86_64, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 0x4000_0000, 5, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 3, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        ]);
        let shape = c.shape();
        assert_eq!((shape.tests, shape.resume_points), (1, 0), "write's argument check is a tree: {shape:?}");
        assert!(!shape.interpreted);
        // arch classes: below, at and above X86_64
        assert_eq!(shape.arch_classes, 3);
        for d in [
            at(X86_64, 39, 0),
            at(X86_64, 1, 1),
            at(X86_64, 1, 2),
            at(X86_64, 1, 1 << 32 | 1),
            at(X86_64, 0x4000_0027, 0),
            at(X86_64, 0xc000_0027, 0),
            at(X86_64, 0x8000_0027, 0),
            at(X86_64 + 1, 39, 0),
            at(X86_64 - 1, 39, 0),
            at(0x4000_0003, 39, 0),
        ] {
            assert_eq!(c.run(&d), emu.run(&d), "{d:?}");
        }
        assert_eq!(c.run(&at(X86_64, 39, 0)), SECCOMP_RET_ALLOW);
        assert_eq!(c.run(&at(X86_64, 1, 2)), SECCOMP_RET_ERRNO | 1);
    }

    #[test]
    fn registers_derived_from_nr_reach_the_interpreter() {
        // ret a of nr | ERRNO after an ADD the walk does not follow, and of a
        // masked nr kept in scratch memory.
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xfff),
            Insn::stmt(BPF_ST, 2),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 100, 0, 3),
            Insn::stmt(BPF_LD | BPF_MEM, 2),
            Insn::stmt(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
            Insn::stmt(BPF_RET | BPF_A, 0),
            Insn::stmt(BPF_LDX | BPF_MEM, 2),
            Insn::stmt(BPF_LD | BPF_IMM, 7),
            Insn::stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        for nr in [0, 5, 100, 101, 0xfff, 0x1000, 0x1064, 0x1065, u32::MAX] {
            let d = at(X86_64, nr, 0);
            assert_eq!(c.run(&d), emu.run(&d), "nr {nr:#x}");
        }
        assert_eq!(c.run(&at(X86_64, 0x1065, 0)), SECCOMP_RET_ERRNO | 0x65);
        assert_eq!(c.run(&at(X86_64, 0x1005, 0)), 12);
    }

    #[test]
    fn masked_tests_with_many_pieces_test_the_masked_value() {
        // clone's namespace-flag check, and odd syscall numbers.
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 4, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0x7e02_0000),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        ]);
        let shape = c.shape();
        assert_eq!((shape.tests, shape.resume_points), (2, 0), "{shape:?}");
        for nr in [0, 1, 2, 0x4000_0001, u32::MAX - 1, u32::MAX] {
            for arg0 in [0, 0x0002_0000, 0x0001_ffff, 0x7e02_0000, 0x8000_0000, 0xffff_ffff_8001_ffff] {
                let d = at(X86_64, nr, arg0);
                assert_eq!(c.run(&d), emu.run(&d), "{d:?}");
            }
        }
        assert_eq!(c.run(&at(X86_64, 2, 0x0002_0000)), SECCOMP_RET_ERRNO | 1);
        assert_eq!(c.run(&at(X86_64, 2, 0x8001_ffff)), SECCOMP_RET_ALLOW);
    }

    /// `jset #0xffffffff` of `arch` after a `jeq` narrowed it to 1..: the
    /// split stays inside that interval (it once took the pieces of all
    /// `2^32` values, so arch 0 got a second, wrong leaf; found by the
    /// `compiled_emu` fuzz target).
    #[test]
    fn a_jset_of_all_bits_splits_within_the_known_interval() {
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
            Insn::stmt(BPF_RET | BPF_A, 0),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, u32::MAX, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, 0x866c_1f54),
        ]);
        for arch in [0, 1, 2, X86_64, u32::MAX] {
            let d = at(arch, 0, 0);
            assert_eq!(c.run(&d), emu.run(&d), "arch {arch:#x}");
        }
        assert_eq!(c.run(&at(0, 0, 0)), 0);
        assert_eq!(c.run(&at(1, 0, 0)), SECCOMP_RET_ALLOW);
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 99, 0, 2),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, u32::MAX, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        ]);
        for nr in [0, 1, 99, 100, u32::MAX] {
            let d = at(X86_64, nr, 0);
            assert_eq!(c.run(&d), emu.run(&d), "nr {nr}");
        }
    }

    #[test]
    fn division_by_a_zero_x_is_left_to_the_interpreter() {
        let (emu, c) = compile(&[
            Insn::stmt(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let d = at(X86_64, 0, 0);
        assert_eq!((c.run(&d), emu.run(&d)), (0, 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Generated programs on inputs aimed at their constants, and at both
        /// ends of every interval the tables distinguish.
        #[test]
        fn equals_the_interpreter_on_generated_programs((p, inputs) in crate::testgen::strategies::program_with_inputs(64)) {
            let v = validate(&p).unwrap();
            let (emu, c) = (Emulator::new(&v), CompiledEmulator::new(&v));
            for d in &inputs {
                prop_assert_eq!(c.run(d), emu.run(d), "{:?}", d);
            }
            for d in inputs.iter().take(4) {
                for row in c.boundary_rows(d).iter().take(4096) {
                    prop_assert_eq!(c.run(row), emu.run(row), "{:?}", row);
                }
            }
        }
    }
}
