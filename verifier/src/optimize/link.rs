//! Linking: instructions whose jumps name other instructions become a classic
//! BPF program with 8-bit conditional offsets.
//!
//! Between layout and bytes, three clean-ups run to a fixpoint: jump
//! threading (a branch to a `ja` goes where the `ja` goes, a `ja` to a `ret`
//! becomes that `ret`), sharing of `ret` instructions (a branch to `ret K`
//! uses the farthest identical `ret` it can reach, so the copies nobody uses
//! disappear), and dead-code removal (whatever the entry cannot reach).
//! Classic conditional jumps reach at most 255 instructions forward
//! (`jt`/`jf` are `__u8`, include/uapi/linux/filter.h); a farther edge gets
//! a trampoline right after the branch: a copy of the `ret` it aims at, or a
//! `ja`, whose 32-bit offset reaches anywhere.

use crate::bpf::insn::*;
use crate::bpf::Program;
use std::collections::{BTreeMap, HashMap};

/// One instruction before linking; jump targets are instruction ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Reserved, not yet filled.
    Hole,
    /// `ld [k]` (`BPF_LD | BPF_W | BPF_ABS`).
    Ld(u32),
    /// `op` is `BPF_JEQ`, `BPF_JGT`, `BPF_JGE` or `BPF_JSET`, with `K`.
    J {
        op: u16,
        k: u32,
        jt: usize,
        jf: usize,
    },
    Ja(usize),
    Ret(u32),
}

/// Instructions by id, and the order they are laid out in.
#[derive(Default)]
pub struct Asm {
    ops: Vec<Op>,
    pub order: Vec<usize>,
}

/// Linking went wrong: a bug in the layout, reported instead of emitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("internal error while linking the optimised program: {0}")]
pub struct LinkError(pub String);

const ROUNDS: usize = 16;

impl Asm {
    pub fn hole(&mut self) -> usize {
        self.push(Op::Hole)
    }
    pub fn push(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }
    pub fn set(&mut self, id: usize, op: Op) {
        self.ops[id] = op;
    }

    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![usize::MAX; self.ops.len()];
        for (p, &id) in self.order.iter().enumerate() {
            pos[id] = p;
        }
        pos
    }

    /// The program, every jump in range.
    pub fn link(mut self) -> Result<Program, LinkError> {
        for _ in 0..ROUNDS {
            let changed = self.simplify();
            let inserted = self.trampolines();
            if !changed && !inserted {
                break;
            }
        }
        // Whatever the clean-ups did, end with every edge in range.
        for _ in 0..ROUNDS {
            if !self.trampolines() {
                break;
            }
        }
        self.encode()
    }

    /// Insert a trampoline after every branch with an edge beyond 255.
    fn trampolines(&mut self) -> bool {
        let pos = self.positions();
        let mut order = Vec::with_capacity(self.order.len());
        let mut inserted = false;
        let order_before = std::mem::take(&mut self.order);
        for &id in &order_before {
            order.push(id);
            if let Op::J { op, k, jt, jf } = self.ops[id] {
                let far = |t: usize| pos[t].saturating_sub(pos[id] + 1) > 255;
                let (mut jt2, mut jf2) = (jt, jf);
                if far(jt) {
                    jt2 = self.trampoline(jt);
                    order.push(jt2);
                }
                if far(jf) {
                    jf2 = if jf == jt { jt2 } else { self.trampoline(jf) };
                    if jf2 != jt2 {
                        order.push(jf2);
                    }
                }
                if (jt2, jf2) != (jt, jf) {
                    self.ops[id] = Op::J { op, k, jt: jt2, jf: jf2 };
                    inserted = true;
                }
            }
        }
        self.order = order;
        inserted
    }

    fn trampoline(&mut self, target: usize) -> usize {
        match self.ops[target] {
            Op::Ret(v) => self.push(Op::Ret(v)),
            _ => self.push(Op::Ja(target)),
        }
    }

    /// Final target of a chain of `ja`.
    fn follow(&self, mut t: usize) -> usize {
        let mut steps = 0;
        while let Op::Ja(u) = self.ops[t] {
            t = u;
            steps += 1;
            if steps > self.ops.len() {
                break;
            }
        }
        t
    }

    /// One round of threading, `ret` sharing and dead-code removal.
    fn simplify(&mut self) -> bool {
        let mut changed = false;
        let pos = self.positions();
        let mut rets: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (p, &id) in self.order.iter().enumerate() {
            if let Op::Ret(v) = self.ops[id] {
                rets.entry(v).or_default().push(p);
            }
        }
        let order = self.order.clone();
        let retarget = |asm: &Asm, id: usize, t: usize| -> usize {
            let p = pos[id];
            let f = asm.follow(t);
            if let Op::Ret(v) = asm.ops[f] {
                // The farthest identical ret within reach (sorted positions).
                let list = &rets[&v];
                let limit = p + 256;
                let i = list.partition_point(|&q| q <= limit);
                if i > 0 && list[i - 1] > p {
                    return order[list[i - 1]];
                }
            }
            if pos[f] != usize::MAX && pos[f] > p && pos[f] - p - 1 <= 255 {
                f
            } else {
                t
            }
        };
        for &id in &order {
            match self.ops[id] {
                Op::J { op, k, jt, jf } => {
                    let (a, b) = (retarget(self, id, jt), retarget(self, id, jf));
                    let new = if a == b { Op::Ja(a) } else { Op::J { op, k, jt: a, jf: b } };
                    if new != self.ops[id] {
                        self.ops[id] = new;
                        changed = true;
                    }
                }
                Op::Ja(t) => {
                    let f = self.follow(t);
                    let new = match self.ops[f] {
                        Op::Ret(v) => Op::Ret(v),
                        _ => Op::Ja(f),
                    };
                    if new != self.ops[id] {
                        self.ops[id] = new;
                        changed = true;
                    }
                }
                _ => {}
            }
        }
        // Dead code: what the entry cannot reach; and `ja` to the next
        // instruction that no branch names.
        let pos = self.positions();
        let mut live = vec![false; self.ops.len()];
        let mut refs: HashMap<usize, usize> = HashMap::new();
        let mut stack = vec![self.order[0]];
        while let Some(id) = stack.pop() {
            if live[id] {
                continue;
            }
            live[id] = true;
            let next = self.order.get(pos[id] + 1).copied();
            match self.ops[id] {
                Op::Ld(_) | Op::Hole => stack.extend(next),
                Op::J { jt, jf, .. } => {
                    *refs.entry(jt).or_default() += 1;
                    *refs.entry(jf).or_default() += 1;
                    stack.push(jt);
                    stack.push(jf);
                }
                Op::Ja(t) => {
                    *refs.entry(t).or_default() += 1;
                    stack.push(t);
                }
                Op::Ret(_) => {}
            }
        }
        let before = self.order.len();
        let ops = &self.ops;
        let order_now = self.order.clone();
        self.order = order_now
            .iter()
            .enumerate()
            .filter(|&(p, &id)| {
                if !live[id] {
                    return false;
                }
                match ops[id] {
                    Op::Ja(t) => order_now.get(p + 1) != Some(&t) || refs.contains_key(&id),
                    _ => true,
                }
            })
            .map(|(_, &id)| id)
            .collect();
        changed || self.order.len() != before
    }

    fn encode(&self) -> Result<Program, LinkError> {
        let pos = self.positions();
        let mut insns = Vec::with_capacity(self.order.len());
        for (p, &id) in self.order.iter().enumerate() {
            let off = |t: usize| -> Result<usize, LinkError> {
                match pos[t] {
                    q if q == usize::MAX => Err(LinkError(format!("instruction {p} jumps to a removed instruction"))),
                    q if q <= p => Err(LinkError(format!("instruction {p} jumps backwards to {q}"))),
                    q => Ok(q - p - 1),
                }
            };
            insns.push(match self.ops[id] {
                Op::Hole => return Err(LinkError(format!("instruction {p} was never filled"))),
                Op::Ld(k) => Insn::stmt(BPF_LD | BPF_W | BPF_ABS, k),
                Op::Ret(k) => Insn::stmt(BPF_RET | BPF_K, k),
                Op::Ja(t) => Insn::stmt(BPF_JMP | BPF_JA, off(t)? as u32),
                Op::J { op, k, jt, jf } => {
                    let (a, b) = (off(jt)?, off(jf)?);
                    if a > 255 || b > 255 {
                        return Err(LinkError(format!("instruction {p}: a branch of {a} or {b} instructions")));
                    }
                    Insn::jump(BPF_JMP | op | BPF_K, k, a as u8, b as u8)
                }
            });
        }
        if let Some(last) = insns.last() {
            if last.class() != BPF_RET {
                return Err(LinkError("the last instruction is not a ret".into()));
            }
        }
        Ok(Program::new(insns))
    }
}
