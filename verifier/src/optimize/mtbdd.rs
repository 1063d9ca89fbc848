//! A filter's meaning as one multi-terminal decision diagram: internal nodes
//! test one input bit (the levels of [`crate::symbolic::vars`]: arch, nr,
//! arg0 … arg5, ip, most significant bit first), leaves hold the return value.
//!
//! Built from the exact analysis ([`crate::symbolic::Analysis::by_action`]):
//! one canonical return value per [`Action`] (the value `diff` would consider
//! the same: action bits plus the data the kernel uses), folded in with
//! `ite(inputs of action, leaf, rest)`. Hash-consed and reduced, so two
//! syscalls whose argument checks mean the same thing share one node, and a
//! node's sub-diagram is exactly "what happens from here on".

use crate::seccomp::Action;
use crate::symbolic::bdd::{Bdd, Manager, TERMINAL_LEVEL};
use crate::symbolic::Analysis;
use std::collections::HashMap;

/// Index of a node in an [`Mt`].
pub type MtId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MtNode {
    Leaf(u32),
    Node { level: u32, lo: MtId, hi: MtId },
}

/// The diagram; `root` is the whole function.
pub struct Mt {
    nodes: Vec<MtNode>,
    unique: HashMap<MtNode, MtId>,
    pub root: MtId,
    limit: usize,
}

/// The diagram outgrew its node budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the multi-terminal decision diagram outgrew {limit} nodes")]
pub struct MtTooLarge {
    pub limit: usize,
}

/// The return value the optimised program uses for `a`: the action bits and
/// the data `__seccomp_filter` (kernel/seccomp.c) reads; data the kernel
/// ignores (ALLOW, LOG, KILL_*, USER_NOTIF) is dropped, so an `ALLOW` with
/// data becomes plain `SECCOMP_RET_ALLOW`, which `seccomp_is_const_allow`
/// can cache.
pub fn canonical_ret(a: Action) -> u32 {
    a.action_bits() | a.data().map_or(0, u32::from)
}

impl Mt {
    /// The meaning of `an` (every exit, by action).
    pub fn build(an: &mut Analysis, limit: usize) -> Result<Mt, MtTooLarge> {
        let groups = an.by_action();
        let mut mt = Mt { nodes: Vec::new(), unique: HashMap::new(), root: 0, limit };
        let Some((first, rest)) = groups.split_first() else {
            // No exit at all cannot happen for a valid program; an empty
            // partition would be a bug upstream, not a function.
            return Err(MtTooLarge { limit: 0 });
        };
        let mut f = mt.leaf(canonical_ret(first.0))?;
        let m = an.manager();
        for (a, s) in rest {
            let t = mt.leaf(canonical_ret(*a))?;
            let mut memo = HashMap::new();
            f = mt.ite(m, s.bdd(), t, f, &mut memo)?;
        }
        mt.root = f;
        Ok(mt)
    }

    pub fn node(&self, n: MtId) -> MtNode {
        self.nodes[n as usize]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Level of `n`; leaves are below every variable.
    pub fn level(&self, n: MtId) -> u32 {
        match self.nodes[n as usize] {
            MtNode::Leaf(_) => TERMINAL_LEVEL,
            MtNode::Node { level, .. } => level,
        }
    }

    pub fn leaf_value(&self, n: MtId) -> Option<u32> {
        match self.nodes[n as usize] {
            MtNode::Leaf(v) => Some(v),
            MtNode::Node { .. } => None,
        }
    }

    /// Children of `n` at `level` (`n` itself twice when it does not test it).
    pub fn cofactors(&self, n: MtId, level: u32) -> (MtId, MtId) {
        match self.nodes[n as usize] {
            MtNode::Node { level: l, lo, hi } if l == level => (lo, hi),
            _ => (n, n),
        }
    }

    /// Follow one concrete assignment of the bits from `n` down to the first
    /// node at or below `until` (a leaf if the diagram ends first).
    pub fn walk(&self, mut n: MtId, until: u32, bit: impl Fn(u32) -> bool) -> MtId {
        while self.level(n) < until {
            let (lo, hi) = self.cofactors(n, self.level(n));
            n = if bit(self.level(n)) { hi } else { lo };
        }
        n
    }

    fn intern(&mut self, node: MtNode) -> Result<MtId, MtTooLarge> {
        if let Some(&id) = self.unique.get(&node) {
            return Ok(id);
        }
        if self.nodes.len() >= self.limit {
            return Err(MtTooLarge { limit: self.limit });
        }
        let id = self.nodes.len() as MtId;
        self.nodes.push(node);
        self.unique.insert(node, id);
        Ok(id)
    }

    fn leaf(&mut self, v: u32) -> Result<MtId, MtTooLarge> {
        self.intern(MtNode::Leaf(v))
    }

    fn mk(&mut self, level: u32, lo: MtId, hi: MtId) -> Result<MtId, MtTooLarge> {
        if lo == hi {
            return Ok(lo);
        }
        self.intern(MtNode::Node { level, lo, hi })
    }

    /// `if f then t else g`, `t` a leaf.
    fn ite(
        &mut self,
        m: &Manager,
        f: Bdd,
        t: MtId,
        g: MtId,
        memo: &mut HashMap<(Bdd, MtId), MtId>,
    ) -> Result<MtId, MtTooLarge> {
        if f.is_true() {
            return Ok(t);
        }
        if f.is_false() {
            return Ok(g);
        }
        if let Some(&r) = memo.get(&(f, g)) {
            return Ok(r);
        }
        let level = m.level(f).min(self.level(g));
        let (f0, f1) = if m.level(f) == level { (m.low(f), m.high(f)) } else { (f, f) };
        let (g0, g1) = self.cofactors(g, level);
        let lo = self.ite(m, f0, t, g0, memo)?;
        let hi = self.ite(m, f1, t, g1, memo)?;
        let r = self.mk(level, lo, hi)?;
        memo.insert((f, g), r);
        Ok(r)
    }
}
