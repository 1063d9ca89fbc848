//! From the decision diagram to blocks of classic BPF.
//!
//! The input is cut into the sixteen 32-bit words a filter can load (arch, nr,
//! then the high and low half of each argument and of the instruction
//! pointer, in the diagram's level order). A *block* decides one word: it
//! loads it once and branches, by a search over the word's value intervals or
//! by bit tests, to the block of the next word that matters or straight to a
//! `ret`. A block is keyed by the diagram node it starts at (and, for blocks
//! that load argument words, the byte order, which says at which offset each
//! half lies: `populate_seccomp_data`, kernel/seccomp.c, hands the filter the
//! native struct), so identical argument checks of different syscalls are one
//! block: shared tails.
//!
//! Syscalls whose action does not depend on the arguments end in a `ret`
//! reached through arch and nr loads and `JEQ/JGE/JGT/JSET K` only, which is
//! exactly what `seccomp_is_const_allow` (kernel/seccomp.c) can follow: every
//! such `(arch, nr)` that allows is served by the kernel's action cache.
//!
//! The interval search is a weighted optimal alphabetic tree (dynamic
//! programming over the intervals; Knuth's root bounds for long lists), where
//! a run of single values inside one default target may instead be a chain of
//! `JEQ`; a word whose function is a mask test (`arg & M == 0`) is compiled to
//! `JSET` tests following the diagram, runs of bits with the same outcome
//! merged into one mask. Whichever takes fewer instructions on the expected
//! path is used.

use super::link::{Asm, Op};
use super::mtbdd::{Mt, MtId, MtNode};
use crate::bpf::insn::{BPF_JEQ, BPF_JGE, BPF_JSET};
use crate::seccomp::AUDIT_ARCH_LE;
use std::collections::{BTreeMap, HashMap};

/// A block: the diagram node it starts at and, when it (or a block after it)
/// loads argument or ip words, the byte order (`Some(true)`: little-endian).
pub type Key = (MtId, Option<bool>);

/// Intervals a word may be split into before the bit-test form is used.
const MAX_INTERVALS: usize = 1024;
/// Above this many intervals the tree search uses Knuth's root bounds.
const FULL_DP: usize = 160;
/// Single values a `JEQ` chain may test.
const MAX_CHAIN: usize = 6;

/// A branch target inside a block under construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tgt {
    Label(usize),
    Block(Key),
    Ret(u32),
}

#[derive(Clone, Copy, Debug)]
enum LOp {
    Ld(u32),
    J { op: u16, k: u32, jt: Tgt, jf: Tgt },
    Ja(Tgt),
}

#[derive(Default)]
struct Emitter {
    ops: Vec<LOp>,
    labels: Vec<Option<usize>>,
}

impl Emitter {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.ops.len());
    }
}

/// A decision over one word's intervals.
enum Tree {
    Leaf(usize),
    /// `jge k`: values `>= k` go to `hi`.
    Split {
        k: u32,
        lo: Box<Tree>,
        hi: Box<Tree>,
    },
    /// `jeq v` for each `(v, interval)` in turn, then the default interval.
    Chain {
        tests: Vec<(u32, usize)>,
        default: usize,
    },
}

/// The word a level belongs to (0 arch, 1 nr, 2 + 2i / 3 + 2i high / low
/// half of arg i, 14 / 15 high / low half of ip).
pub fn word_of(level: u32) -> u32 {
    level / 32
}

/// Byte offset in `struct seccomp_data` (include/uapi/linux/seccomp.h) of
/// word `w` for the given byte order (the rule of `symbolic::vars::word_bits`).
pub fn word_offset(w: u32, le: Option<bool>) -> u32 {
    match w {
        0 => 4,
        1 => 0,
        _ => {
            let base = if w >= 14 { 8 } else { 16 + 8 * ((w - 2) / 2) };
            let high = w.is_multiple_of(2);
            if high == le.expect("argument words are loaded with a known byte order") {
                base + 4
            } else {
                base
            }
        }
    }
}

/// Expected-path weights of one block's word values.
pub type PointWeights = HashMap<MtId, BTreeMap<u32, f64>>;

pub struct Layout<'a> {
    mt: &'a Mt,
    needs_le: Vec<bool>,
    points: &'a PointWeights,
}

impl<'a> Layout<'a> {
    pub fn new(mt: &'a Mt, points: &'a PointWeights) -> Layout<'a> {
        // Children have higher ids than their parents? Not guaranteed by
        // hash-consing order, so compute bottom-up by level.
        let mut ids: Vec<MtId> = (0..mt.len() as MtId).collect();
        ids.sort_by_key(|&n| std::cmp::Reverse(mt.level(n)));
        let mut needs_le = vec![false; mt.len()];
        for n in ids {
            if let MtNode::Node { level, lo, hi } = mt.node(n) {
                needs_le[n as usize] = level >= 64 || needs_le[lo as usize] || needs_le[hi as usize];
            }
        }
        Layout { mt, needs_le, points }
    }

    fn key_of(&self, n: MtId, le: Option<bool>) -> Key {
        (n, if self.needs_le[n as usize] { le } else { None })
    }

    fn exit_tgt(&self, n: MtId, le: Option<bool>) -> Tgt {
        match self.mt.leaf_value(n) {
            Some(v) => Tgt::Ret(v),
            None => Tgt::Block(self.key_of(n, le)),
        }
    }

    /// The whole program.
    pub fn emit(&self, asm: &mut Asm) {
        let root = self.mt.root;
        if let Some(v) = self.mt.leaf_value(root) {
            let id = asm.push(Op::Ret(v));
            asm.order.push(id);
            return;
        }
        // Compile every reachable block, then lay them out in reverse
        // postorder (every jump forward).
        let start: Key = (root, None);
        let mut blocks: HashMap<Key, Emitter> = HashMap::new();
        let mut post: Vec<Key> = Vec::new();
        let mut stack: Vec<(Key, bool)> = vec![(start, false)];
        while let Some((k, done)) = stack.pop() {
            if done {
                post.push(k);
                continue;
            }
            if blocks.contains_key(&k) {
                continue;
            }
            let e = self.block(k);
            let succ: Vec<Key> = e
                .ops
                .iter()
                .flat_map(|o| match *o {
                    LOp::J { jt, jf, .. } => vec![jt, jf],
                    LOp::Ja(t) => vec![t],
                    LOp::Ld(_) => vec![],
                })
                .filter_map(|t| match t {
                    Tgt::Block(b) => Some(b),
                    _ => None,
                })
                .collect();
            blocks.insert(k, e);
            stack.push((k, true));
            // Pushed in reverse so the first successor is visited first.
            for s in succ.into_iter().rev() {
                if !blocks.contains_key(&s) {
                    stack.push((s, false));
                }
            }
        }
        // A key pushed twice before being compiled appears once in `post`
        // (the second visit finds it compiled); keep the first occurrence.
        let mut seen = std::collections::HashSet::new();
        post.retain(|k| seen.insert(*k));
        post.reverse();
        let entry: HashMap<Key, usize> = post.iter().map(|k| (*k, asm.hole())).collect();
        for k in &post {
            let e = &blocks[k];
            let ids: Vec<usize> = (0..e.ops.len()).map(|i| if i == 0 { entry[k] } else { asm.hole() }).collect();
            let mut pool: BTreeMap<u32, usize> = BTreeMap::new();
            let mut resolve = |t: Tgt, asm: &mut Asm| -> usize {
                match t {
                    Tgt::Label(l) => ids[e.labels[l].expect("every label is placed")],
                    Tgt::Block(b) => entry[&b],
                    Tgt::Ret(v) => *pool.entry(v).or_insert_with(|| asm.hole()),
                }
            };
            for (i, o) in e.ops.iter().enumerate() {
                let op = match *o {
                    LOp::Ld(off) => Op::Ld(off),
                    LOp::J { op, k, jt, jf } => {
                        let jt = resolve(jt, asm);
                        let jf = resolve(jf, asm);
                        Op::J { op, k, jt, jf }
                    }
                    LOp::Ja(t) => Op::Ja(resolve(t, asm)),
                };
                asm.set(ids[i], op);
                asm.order.push(ids[i]);
            }
            for (v, id) in pool {
                asm.set(id, Op::Ret(v));
                asm.order.push(id);
            }
        }
    }

    /// Compile one block.
    fn block(&self, (n, le): Key) -> Emitter {
        let mut e = Emitter::default();
        let level = self.mt.level(n);
        let w = word_of(level);
        if w >= 1 && le.is_none() && self.needs_le[n as usize] {
            // Only the root can start past the arch word with arguments
            // ahead: learn the byte order from arch first (`__AUDIT_ARCH_LE`,
            // include/uapi/linux/audit.h).
            e.ops.push(LOp::Ld(word_offset(0, None)));
            e.ops.push(LOp::J {
                op: BPF_JSET,
                k: AUDIT_ARCH_LE,
                jt: Tgt::Block((n, Some(true))),
                jf: Tgt::Block((n, Some(false))),
            });
            return e;
        }
        e.ops.push(LOp::Ld(word_offset(w, le)));
        let intervals = self.intervals(n, w, le);
        let bitwise_len = self.bitwise(&mut Emitter::default(), n, w, le);
        match intervals {
            Some((iv, exits)) => {
                let weights = self.interval_weights(n, &iv);
                let (tree, cost) = plan(&iv, &weights);
                let total: f64 = weights.iter().sum();
                if (bitwise_len as f64) < cost / total.max(f64::MIN_POSITIVE) {
                    self.bitwise(&mut e, n, w, le);
                } else {
                    emit_tree(&mut e, &tree, &iv, &exits);
                }
            }
            None => {
                self.bitwise(&mut e, n, w, le);
            }
        }
        e
    }

    /// The word's value intervals from `n` (ascending, covering all 2^32
    /// values) with the target of each; `None` when there are more than
    /// [`MAX_INTERVALS`].
    #[allow(clippy::type_complexity)]
    fn intervals(&self, n: MtId, w: u32, le: Option<bool>) -> Option<(Vec<(u32, u32, usize)>, Vec<Tgt>)> {
        let mut raw: Vec<(u64, u64, MtId)> = Vec::new();
        if !self.enumerate(n, w, 0, 32, &mut raw) {
            return None;
        }
        let mut exits: Vec<Tgt> = Vec::new();
        let mut out: Vec<(u32, u32, usize)> = Vec::new();
        let mut push = |lo: u64, hi: u64, t: Tgt, out: &mut Vec<(u32, u32, usize)>| {
            let i = exits.iter().position(|x| *x == t).unwrap_or_else(|| {
                exits.push(t);
                exits.len() - 1
            });
            match out.last_mut() {
                Some(last) if last.2 == i && last.1 as u64 + 1 == lo => last.1 = hi as u32,
                _ => out.push((lo as u32, hi as u32, i)),
            }
        };
        for (lo, hi, x) in raw {
            if w == 0 && self.mt.leaf_value(x).is_none() && self.needs_le[x as usize] {
                // Split at the byte-order bit so each piece knows its offsets.
                let mut a = lo;
                while a <= hi {
                    let end = hi.min((((a >> 30) + 1) << 30) - 1);
                    let le = a & AUDIT_ARCH_LE as u64 != 0;
                    push(a, end, self.exit_tgt(x, Some(le)), &mut out);
                    a = end + 1;
                }
            } else {
                push(lo, hi, self.exit_tgt(x, le), &mut out);
            }
        }
        (out.len() <= MAX_INTERVALS).then_some((out, exits))
    }

    /// Intervals of word `w` below `n`, for values `base .. base + 2^bits`.
    fn enumerate(&self, n: MtId, w: u32, base: u64, bits: u32, out: &mut Vec<(u64, u64, MtId)>) -> bool {
        let level = self.mt.level(n);
        if level == u32::MAX || word_of(level) > w {
            match out.last_mut() {
                Some(last) if last.2 == n && last.1 + 1 == base => last.1 = base + (1 << bits) - 1,
                _ => out.push((base, base + (1 << bits) - 1, n)),
            }
            return out.len() <= MAX_INTERVALS;
        }
        let b = 31 - (level - 32 * w);
        let (lo, hi) = self.mt.cofactors(n, level);
        let reps = 1u64 << (bits - 1 - b);
        for r in 0..reps {
            let s = base + (r << (b + 1));
            if !self.enumerate(lo, w, s, b, out) || !self.enumerate(hi, w, s + (1 << b), b, out) {
                return false;
            }
        }
        true
    }

    /// Weight of each interval: the point weights inside it plus a small
    /// share for every interval, so that syscalls outside the mix still get
    /// a balanced search.
    fn interval_weights(&self, n: MtId, iv: &[(u32, u32, usize)]) -> Vec<f64> {
        let Some(points) = self.points.get(&n) else {
            return vec![1.0; iv.len()];
        };
        let total: f64 = points.values().sum();
        let eps = (total * 1e-3 / iv.len() as f64).max(1e-9);
        iv.iter().map(|&(lo, hi, _)| eps + points.range(lo..=hi).map(|(_, w)| w).sum::<f64>()).collect()
    }

    /// Bit tests following the diagram inside word `w`; returns the number of
    /// instructions emitted (the caller has emitted the load).
    fn bitwise(&self, e: &mut Emitter, n: MtId, w: u32, le: Option<bool>) -> usize {
        let before = e.ops.len();
        // In-word nodes reachable from n, in level order.
        let mut inword: Vec<MtId> = Vec::new();
        let mut todo = vec![n];
        while let Some(x) = todo.pop() {
            let l = self.mt.level(x);
            if l == u32::MAX || word_of(l) != w || inword.contains(&x) {
                continue;
            }
            inword.push(x);
            let (lo, hi) = self.mt.cofactors(x, l);
            todo.push(lo);
            todo.push(hi);
        }
        inword.sort_by_key(|&x| (self.mt.level(x), x));
        let labels: HashMap<MtId, usize> = inword.iter().map(|&x| (x, e.label())).collect();
        let mut referenced: std::collections::HashSet<MtId> = [n].into();
        let in_word = |x: MtId| labels.contains_key(&x);
        for &x in &inword {
            if !referenced.contains(&x) {
                continue;
            }
            e.place(labels[&x]);
            let level = self.mt.level(x);
            let (lo, hi) = self.mt.cofactors(x, level);
            // A run of nodes whose set bit leads to the same place: one mask.
            let mut mask = 1u32 << (31 - (level - 32 * w));
            let mut rest = lo;
            while in_word(rest) {
                let l = self.mt.level(rest);
                let (lo2, hi2) = self.mt.cofactors(rest, l);
                if hi2 != hi {
                    break;
                }
                mask |= 1 << (31 - (l - 32 * w));
                rest = lo2;
            }
            let mut tgt = |y: MtId| {
                if in_word(y) {
                    referenced.insert(y);
                    Tgt::Label(labels[&y])
                } else {
                    self.exit_tgt(y, le)
                }
            };
            let jt = tgt(hi);
            let jf = tgt(rest);
            e.ops.push(LOp::J { op: BPF_JSET, k: mask, jt, jf });
        }
        e.ops.len() - before
    }
}

/// The cheapest search tree over `iv` for `weights`, and its cost (sum of
/// weight × comparisons).
fn plan(iv: &[(u32, u32, usize)], weights: &[f64]) -> (Tree, f64) {
    let n = iv.len();
    if n == 1 {
        return (Tree::Leaf(0), 0.0);
    }
    let mut pre = vec![0.0; n + 1];
    for i in 0..n {
        pre[i + 1] = pre[i] + weights[i];
    }
    let idx = |i: usize, j: usize| i * (n + 1) + j;
    let mut cost = vec![0.0f64; n * (n + 1)];
    // choice: 0 = leaf, m > 0 = split before interval m, usize::MAX - t = chain with default exit t.
    let mut choice = vec![0usize; n * (n + 1)];
    for len in 2..=n {
        for i in 0..=n - len {
            let j = i + len;
            let w = pre[j] - pre[i];
            let (mut best, mut arg) = (f64::INFINITY, 0usize);
            let (from, to) = if n <= FULL_DP || len == 2 {
                (i + 1, j - 1)
            } else {
                (choice[idx(i, j - 1)].clamp(i + 1, j - 1), choice[idx(i + 1, j)].clamp(i + 1, j - 1))
            };
            let (from, to) = if from <= to { (from, to) } else { (i + 1, j - 1) };
            for m in from..=to {
                let c = w + cost[idx(i, m)] + cost[idx(m, j)];
                if c < best {
                    best = c;
                    arg = m;
                }
            }
            if len <= 2 * MAX_CHAIN + 1 {
                if let Some((c, t)) = chain_cost(&iv[i..j], &weights[i..j]) {
                    if c < best {
                        best = c;
                        arg = usize::MAX - t;
                    }
                }
            }
            cost[idx(i, j)] = best;
            choice[idx(i, j)] = arg;
        }
    }
    fn build(iv: &[(u32, u32, usize)], weights: &[f64], choice: &[usize], n: usize, i: usize, j: usize) -> Tree {
        if j == i + 1 {
            return Tree::Leaf(i);
        }
        let c = choice[i * (n + 1) + j];
        if c > n {
            let t = usize::MAX - c;
            let mut tests: Vec<(u32, usize, f64)> =
                (i..j).filter(|&x| iv[x].2 != t).map(|x| (iv[x].0, x, weights[x])).collect();
            tests.sort_by(|a, b| b.2.total_cmp(&a.2));
            let default = (i..j).find(|&x| iv[x].2 == t).expect("the chain's default occurs");
            return Tree::Chain { tests: tests.into_iter().map(|(v, x, _)| (v, x)).collect(), default };
        }
        Tree::Split {
            k: iv[c].0,
            lo: Box::new(build(iv, weights, choice, n, i, c)),
            hi: Box::new(build(iv, weights, choice, n, c, j)),
        }
    }
    (build(iv, weights, &choice, n, 0, n), cost[idx(0, n)])
}

/// Cost of deciding `iv` by `JEQ` tests of its single values, everything
/// else going to one default target; the cheapest default.
fn chain_cost(iv: &[(u32, u32, usize)], weights: &[f64]) -> Option<(f64, usize)> {
    let mut best: Option<(f64, usize)> = None;
    let mut targets: Vec<usize> = iv.iter().map(|x| x.2).collect();
    targets.sort_unstable();
    targets.dedup();
    for t in targets {
        if iv.iter().any(|x| x.2 != t && x.0 != x.1) {
            continue;
        }
        let mut ws: Vec<f64> = iv.iter().zip(weights).filter(|(x, _)| x.2 != t).map(|(_, w)| *w).collect();
        if ws.len() > MAX_CHAIN {
            continue;
        }
        ws.sort_by(|a, b| b.total_cmp(a));
        let k = ws.len() as f64;
        let wt: f64 = iv.iter().zip(weights).filter(|(x, _)| x.2 == t).map(|(_, w)| *w).sum();
        let c = ws.iter().enumerate().map(|(r, w)| w * (r + 1) as f64).sum::<f64>() + wt * k;
        if best.is_none_or(|(b, _)| c < b) {
            best = Some((c, t));
        }
    }
    best
}

fn emit_tree(e: &mut Emitter, t: &Tree, iv: &[(u32, u32, usize)], exits: &[Tgt]) {
    let leaf = |t: &Tree| match t {
        Tree::Leaf(i) => Some(exits[iv[*i].2]),
        _ => None,
    };
    match t {
        Tree::Leaf(i) => e.ops.push(LOp::Ja(exits[iv[*i].2])),
        Tree::Split { k, lo, hi } => match (leaf(lo), leaf(hi)) {
            (Some(a), Some(b)) => e.ops.push(LOp::J { op: BPF_JGE, k: *k, jt: b, jf: a }),
            (Some(a), None) => {
                let l = e.label();
                e.ops.push(LOp::J { op: BPF_JGE, k: *k, jt: Tgt::Label(l), jf: a });
                e.place(l);
                emit_tree(e, hi, iv, exits);
            }
            (None, Some(b)) => {
                let l = e.label();
                e.ops.push(LOp::J { op: BPF_JGE, k: *k, jt: b, jf: Tgt::Label(l) });
                e.place(l);
                emit_tree(e, lo, iv, exits);
            }
            (None, None) => {
                let (ll, lh) = (e.label(), e.label());
                e.ops.push(LOp::J { op: BPF_JGE, k: *k, jt: Tgt::Label(lh), jf: Tgt::Label(ll) });
                e.place(ll);
                emit_tree(e, lo, iv, exits);
                e.place(lh);
                emit_tree(e, hi, iv, exits);
            }
        },
        Tree::Chain { tests, default } => {
            let d = exits[iv[*default].2];
            if tests.is_empty() {
                e.ops.push(LOp::Ja(d));
            }
            for (r, &(v, x)) in tests.iter().enumerate() {
                let jt = exits[iv[x].2];
                if r + 1 == tests.len() {
                    e.ops.push(LOp::J { op: BPF_JEQ, k: v, jt, jf: d });
                } else {
                    let l = e.label();
                    e.ops.push(LOp::J { op: BPF_JEQ, k: v, jt, jf: Tgt::Label(l) });
                    e.place(l);
                }
            }
        }
    }
}
