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
//! `JEQ`, and a range may start with one test that sends heavy values of one
//! target straight to it (`JEQ` a value, or `JSET` the zero side of a subcube
//! that holds values of ranges far apart, such as x86_64 and x32 numbers);
//! a word whose function is a mask test (`arg & M == 0`) is compiled to
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
/// Free bits of a subcube tested by one `JSET` (its values are enumerated).
const MAX_FREE_BITS: u32 = 12;
/// Weighted values of a block that may be pulled ahead of a search.
const MAX_HOT: usize = 32;
/// Values a subcube is grown from.
const MAX_SEEDS: usize = 8;
/// Longest run of intervals (besides the whole word) a pull may lead.
const PULL_LEN: usize = 24;

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
    /// One test sends a set of values of one target (the exit of interval
    /// `leaf`) straight to it: `jeq k` the value `k`, `jset k` its zero side
    /// (the subcube of the bits outside `k`); the rest goes on to `rest`.
    Pull {
        op: u16,
        k: u32,
        leaf: usize,
        rest: Box<Tree>,
    },
}

/// A pull a search range may start with ([`Tree::Pull`]), and the weight it
/// takes from each interval.
struct Pull {
    op: u16,
    k: u32,
    leaf: usize,
    removed: Vec<(usize, f64)>,
}

/// A subcube `{v : v & !free == 0}` whose weighted values share a target.
struct Cube {
    free: u32,
    /// Its values of other targets, ascending.
    other: Vec<u32>,
    /// Its weighted values of the target.
    held: Vec<(u32, f64)>,
}

/// The pulls of one block ([`Layout::pulls`]).
#[derive(Default)]
struct Pulls {
    /// Weighted values, ascending.
    hot: Vec<(u32, f64)>,
    cubes: Vec<Cube>,
}

impl Pulls {
    /// The candidate pulls for the search over intervals `i..j`: the
    /// heaviest single value, and the subcube holding the most weight that
    /// has no value of another target inside the range. Only for runs of at
    /// most [`PULL_LEN`] intervals and the whole word, which bounds the
    /// searches they cost.
    fn at(&self, iv: &[(u32, u32, usize)], i: usize, j: usize) -> Vec<Pull> {
        if j - i < 2 || (j - i > PULL_LEN && (i, j) != (0, iv.len())) {
            return Vec::new();
        }
        let (lo, hi) = (iv[i].0, iv[j - 1].1);
        let at = |v: u32| iv.partition_point(|x| x.0 <= v) - 1;
        let from = self.hot.partition_point(|h| h.0 < lo);
        let to = self.hot.partition_point(|h| h.0 <= hi);
        let inside = &self.hot[from..to];
        let Some(&(v, w)) = inside.iter().max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0))) else {
            return Vec::new();
        };
        let mut out = vec![Pull { op: BPF_JEQ, k: v, leaf: at(v), removed: vec![(at(v), w)] }];
        let mut best: Option<(f64, &Cube)> = None;
        for c in &self.cubes {
            let o = c.other.partition_point(|&x| x < lo);
            if c.other.get(o).is_some_and(|&x| x <= hi) {
                continue;
            }
            let held: f64 = c.held.iter().filter(|h| (lo..=hi).contains(&h.0)).map(|h| h.1).sum();
            if held > 0.0 && best.is_none_or(|b| held > b.0) {
                best = Some((held, c));
            }
        }
        if let Some((_, c)) = best {
            let removed: Vec<(usize, f64)> =
                c.held.iter().filter(|h| (lo..=hi).contains(&h.0)).map(|&(v, w)| (at(v), w)).collect();
            out.push(Pull { op: BPF_JSET, k: !c.free, leaf: removed[0].0, removed });
        }
        out
    }
}

/// Every subset of the bits of `free`, ascending.
fn subsets(free: u32) -> impl Iterator<Item = u32> {
    let mut next = Some(0u32);
    std::iter::from_fn(move || {
        let s = next?;
        let n = s.wrapping_sub(free) & free;
        next = (n != 0).then_some(n);
        Some(s)
    })
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
                let pulls = self.pulls(n, &iv);
                let (tree, cost) = plan(&iv, &weights, &|i, j| pulls.at(&iv, i, j));
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

    /// The sets of weighted values one test can send to their target ahead
    /// of a search: single values (`JEQ`) and subcubes `{v : v & !free ==
    /// 0}` (`JSET !free`, its zero side). A subcube holds values of ranges
    /// far apart, e.g. read, write, close and getpid of x86_64 and x32 (0,
    /// 1, 3, 0x27, with and without `__X32_SYSCALL_BIT`), or 228 and 232
    /// without the 231 between them. Each subcube is grown from one of the
    /// heaviest values by adding others of its target, heaviest first, while
    /// no value of another target lies between the least and the greatest
    /// weighted value it holds; where a search range holds one of its other
    /// values it is not used there ([`Pulls::at`]). The kernel's cache
    /// emulation follows `JEQ K` and `JSET K` (`seccomp_is_const_allow`,
    /// kernel/seccomp.c), so nothing cached is lost.
    fn pulls(&self, n: MtId, iv: &[(u32, u32, usize)]) -> Pulls {
        let Some(points) = self.points.get(&n) else {
            return Pulls::default();
        };
        let target = |v: u32| iv[iv.partition_point(|x| x.0 <= v) - 1].2;
        let mut hot: Vec<(u32, f64)> = points.iter().filter(|p| *p.1 > 0.0).map(|(&v, &w)| (v, w)).collect();
        hot.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hot.truncate(MAX_HOT);
        let mut cubes: Vec<Cube> = Vec::new();
        for &(seed, _) in hot.iter().take(MAX_SEEDS) {
            let t = target(seed);
            let mut free = seed;
            let mut grown = vec![free];
            for &(u, _) in hot.iter().filter(|h| h.0 != seed) {
                let f = free | u;
                if f == free || target(u) != t || f.count_ones() > MAX_FREE_BITS {
                    continue;
                }
                let inside: Vec<u32> = hot.iter().map(|h| h.0).filter(|&h| h & !f == 0 && target(h) == t).collect();
                let (lo, hi) = (inside.iter().min().copied(), inside.iter().max().copied());
                let (Some(lo), Some(hi)) = (lo, hi) else { continue };
                if subsets(f).any(|v| (lo..=hi).contains(&v) && target(v) != t) {
                    continue;
                }
                free = f;
                grown.push(free);
            }
            for free in grown {
                if cubes.iter().any(|c| c.free == free) || free.count_ones() > MAX_FREE_BITS {
                    continue;
                }
                let mut other: Vec<u32> = subsets(free).filter(|&v| target(v) != t).collect();
                other.sort_unstable();
                let held: Vec<(u32, f64)> = points
                    .iter()
                    .filter(|&(&v, &w)| w > 0.0 && v & !free == 0 && target(v) == t)
                    .map(|(&v, &w)| (v, w))
                    .collect();
                cubes.push(Cube { free, other, held });
            }
        }
        Pulls { hot: points.iter().filter(|p| *p.1 > 0.0).map(|(&v, &w)| (v, w)).collect(), cubes }
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

/// How the cheapest tree of a range starts.
#[derive(Clone, Copy)]
enum Choice {
    Leaf,
    /// `jge` the first value of this interval.
    Split(usize),
    /// A `JEQ` chain with this default target.
    Chain(usize),
    /// The pull kept at this index.
    Pull(usize),
}

/// The cheapest search tree over `iv` for `weights`, and its cost (sum of
/// weight × comparisons). `pulls` offers, per range of intervals, tests
/// that decide some of its values first ([`Tree::Pull`]); the range's rest
/// is then searched without further pulls.
fn plan(iv: &[(u32, u32, usize)], weights: &[f64], pulls: &dyn Fn(usize, usize) -> Vec<Pull>) -> (Tree, f64) {
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
    let mut choice = vec![Choice::Leaf; n * (n + 1)];
    // The best split of each range, for Knuth's bounds.
    let mut root = vec![0usize; n * (n + 1)];
    let mut pulled: Vec<Option<(Pull, Tree)>> = Vec::new();
    for len in 2..=n {
        for i in 0..=n - len {
            let j = i + len;
            let w = pre[j] - pre[i];
            let (mut best, mut arg) = (f64::INFINITY, 0usize);
            let (from, to) = if n <= FULL_DP || len == 2 {
                (i + 1, j - 1)
            } else {
                (root[idx(i, j - 1)].clamp(i + 1, j - 1), root[idx(i + 1, j)].clamp(i + 1, j - 1))
            };
            let (from, to) = if from <= to { (from, to) } else { (i + 1, j - 1) };
            for m in from..=to {
                let c = w + cost[idx(i, m)] + cost[idx(m, j)];
                if c < best {
                    best = c;
                    arg = m;
                }
            }
            root[idx(i, j)] = arg;
            let mut how = Choice::Split(arg);
            if len <= 2 * MAX_CHAIN + 1 {
                if let Some((c, t)) = chain_cost(&iv[i..j], &weights[i..j]) {
                    if c < best {
                        best = c;
                        how = Choice::Chain(t);
                    }
                }
            }
            for p in pulls(i, j) {
                let mut rest_w = weights[i..j].to_vec();
                for &(x, r) in &p.removed {
                    rest_w[x - i] = (rest_w[x - i] - r).max(0.0);
                }
                let (rest, c) = plan(&iv[i..j], &rest_w, &|_, _| Vec::new());
                if w + c < best {
                    best = w + c;
                    how = Choice::Pull(pulled.len());
                    pulled.push(Some((p, shift(rest, i))));
                }
            }
            cost[idx(i, j)] = best;
            choice[idx(i, j)] = how;
        }
    }
    fn build(
        iv: &[(u32, u32, usize)],
        weights: &[f64],
        choice: &[Choice],
        pulled: &mut [Option<(Pull, Tree)>],
        n: usize,
        i: usize,
        j: usize,
    ) -> Tree {
        if j == i + 1 {
            return Tree::Leaf(i);
        }
        match choice[i * (n + 1) + j] {
            Choice::Leaf => Tree::Leaf(i),
            Choice::Chain(t) => {
                let mut tests: Vec<(u32, usize, f64)> =
                    (i..j).filter(|&x| iv[x].2 != t).map(|x| (iv[x].0, x, weights[x])).collect();
                tests.sort_by(|a, b| b.2.total_cmp(&a.2));
                let default = (i..j).find(|&x| iv[x].2 == t).expect("the chain's default occurs");
                Tree::Chain { tests: tests.into_iter().map(|(v, x, _)| (v, x)).collect(), default }
            }
            Choice::Split(c) => Tree::Split {
                k: iv[c].0,
                lo: Box::new(build(iv, weights, choice, pulled, n, i, c)),
                hi: Box::new(build(iv, weights, choice, pulled, n, c, j)),
            },
            Choice::Pull(p) => {
                let (p, rest) = pulled[p].take().expect("each range is built once");
                Tree::Pull { op: p.op, k: p.k, leaf: p.leaf, rest: Box::new(rest) }
            }
        }
    }
    let tree = build(iv, weights, &choice, &mut pulled, n, 0, n);
    (tree, cost[idx(0, n)])
}

/// `t` with every interval index moved up by `by` (a tree planned over a
/// slice of the intervals).
fn shift(t: Tree, by: usize) -> Tree {
    match t {
        Tree::Leaf(i) => Tree::Leaf(i + by),
        Tree::Split { k, lo, hi } => Tree::Split { k, lo: Box::new(shift(*lo, by)), hi: Box::new(shift(*hi, by)) },
        Tree::Chain { tests, default } => {
            Tree::Chain { tests: tests.into_iter().map(|(v, x)| (v, x + by)).collect(), default: default + by }
        }
        Tree::Pull { op, k, leaf, rest } => Tree::Pull { op, k, leaf: leaf + by, rest: Box::new(shift(*rest, by)) },
    }
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
        Tree::Pull { op, k, leaf: x, rest } => {
            let to = exits[iv[*x].2];
            let l = e.label();
            let on = leaf(rest).unwrap_or(Tgt::Label(l));
            let (jt, jf) = if *op == BPF_JEQ { (to, on) } else { (on, to) };
            e.ops.push(LOp::J { op: *op, k: *k, jt, jf });
            if leaf(rest).is_none() {
                e.place(l);
                emit_tree(e, rest, iv, exits);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_every_combination_of_the_free_bits() {
        let mut s: Vec<u32> = subsets(0b1010_0001).collect();
        s.sort_unstable();
        assert_eq!(s, vec![0, 1, 0x20, 0x21, 0x80, 0x81, 0xa0, 0xa1]);
        assert_eq!(subsets(0).collect::<Vec<_>>(), vec![0]);
    }

    /// The numbers above 218 of the generated `ls` profile on x86_64:
    /// 228 and 232 are denied, 231 between them allowed. A search over the
    /// ranges needs three comparisons for one of them; `JSET !0xec` after
    /// `JGE 219` sends both to the denial in two, as no number from 219 up
    /// in that subcube (224, 228, 232, 236) is allowed (as does `JGE 231`
    /// and then `JEQ 232` on the upper side).
    #[test]
    fn a_pull_decides_values_a_range_search_keeps_apart() {
        let iv = [(0, 218, 0), (219, 230, 1), (231, 231, 2), (232, 256, 1), (257, 257, 3), (258, u32::MAX, 0)];
        let eps = 1e-6;
        let weights = [eps, 1.0 + eps, eps, 1.0 + eps, eps, eps];
        let (_, plain) = plan(&iv, &weights, &|_, _| Vec::new());
        let hot = vec![(228, 1.0), (232, 1.0)];
        let other: Vec<u32> = subsets(0xec).filter(|&v| v < 219).collect();
        let pulls = Pulls { hot: hot.clone(), cubes: vec![Cube { free: 0xec, other, held: hot }] };
        let (tree, pulled) = plan(&iv, &weights, &|i, j| pulls.at(&iv, i, j));
        assert!((plain - 5.0).abs() < 1e-3, "{plain}");
        assert!((pulled - 4.0).abs() < 1e-3, "{pulled}");
        fn pulls_in(t: &Tree) -> usize {
            match t {
                Tree::Leaf(_) | Tree::Chain { .. } => 0,
                Tree::Split { lo, hi, .. } => pulls_in(lo) + pulls_in(hi),
                Tree::Pull { rest, .. } => 1 + pulls_in(rest),
            }
        }
        assert_eq!(pulls_in(&tree), 1);
        // The subcube alone reaches it too.
        let (_, cube_only) =
            plan(&iv, &weights, &|i, j| pulls.at(&iv, i, j).into_iter().filter(|p| p.op == BPF_JSET).collect());
        assert!((cube_only - 4.0).abs() < 1e-3, "{cube_only}");
    }
}
