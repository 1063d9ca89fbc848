//! The reference interpreter: one concrete `seccomp_data` in, one return value out.
//!
//! Semantics are those of the kernel running a classic filter after
//! `bpf_convert_filter` (net/core/filter.c) turned it into eBPF:
//! - `A` and `X` start at 0 (the converter's first two instructions clear them);
//! - ALU operations and jump conditions are [`crate::bpf::semantics`]: 32-bit
//!   wrapping arithmetic, unsigned `DIV`, `DIV X` with `X == 0` ending the
//!   program with return value 0 (`SECCOMP_RET_KILL_THREAD`), shifts by `X & 31`;
//! - `LD/LDX W LEN` load `sizeof(struct seccomp_data)` = 64 (`seccomp_check_filter`
//!   rewrites them to immediates);
//! - `LD W ABS k` loads the 32-bit word of `seccomp_data` at offset `k`
//!   ([`SeccompData::word`]).
//!
//! Every other analysis (symbolic evaluator, kernel oracle, generators) is
//! differentially tested against this module.

use crate::bpf::insn::*;
use crate::bpf::semantics::{alu, alu_valid, jump, Alu, Src};
use crate::bpf::validate::ValidProgram;
use crate::seccomp::{Action, SeccompData};
use crate::uapi::SECCOMP_DATA_SIZE;
use serde::Serialize;

/// An instruction pre-decoded for fast dispatch. Built only from validated programs.
#[derive(Clone, Copy, Debug)]
enum Op {
    LdAbs(u32),
    LdImm(u32),
    LdxImm(u32),
    LdMem(usize),
    LdxMem(usize),
    St(usize),
    Stx(usize),
    AluK(u16, u32),
    AluX(u16),
    Neg,
    Ja(usize),
    JK { op: u16, k: u32, jt: usize, jf: usize },
    JX { op: u16, jt: usize, jf: usize },
    RetK(u32),
    RetA,
    Tax,
    Txa,
}

/// A compiled program ready for repeated evaluation.
#[derive(Clone, Debug)]
pub struct Emulator {
    ops: Vec<Op>,
}

/// The result of one evaluation with the executed instruction indices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub action: Action,
    /// The filter's 32-bit return value.
    pub ret: u32,
    /// Instruction indices in execution order, ending at the `RET`
    /// (or at the `DIV X` that divided by zero).
    pub path: Vec<usize>,
}

impl Emulator {
    pub fn new(p: &ValidProgram) -> Emulator {
        let ops = p
            .insns()
            .iter()
            .enumerate()
            .map(|(pc, i)| {
                let k = i.k;
                let c = i.code;
                match c & 0x07 {
                    BPF_LD => match c & 0xe0 {
                        BPF_ABS => Op::LdAbs(k),
                        BPF_LEN => Op::LdImm(SECCOMP_DATA_SIZE),
                        BPF_MEM => Op::LdMem(k as usize),
                        _ => Op::LdImm(k),
                    },
                    BPF_LDX => match c & 0xe0 {
                        BPF_LEN => Op::LdxImm(SECCOMP_DATA_SIZE),
                        BPF_MEM => Op::LdxMem(k as usize),
                        _ => Op::LdxImm(k),
                    },
                    BPF_ST => Op::St(k as usize),
                    BPF_STX => Op::Stx(k as usize),
                    BPF_ALU if c & 0xf0 == BPF_NEG => Op::Neg,
                    BPF_ALU if c & BPF_X != 0 => Op::AluX(c & 0xf0),
                    BPF_ALU => Op::AluK(c & 0xf0, k),
                    BPF_JMP if c & 0xf0 == BPF_JA => Op::Ja(pc + 1 + k as usize),
                    BPF_JMP => {
                        let (jt, jf) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
                        if c & BPF_X != 0 {
                            Op::JX { op: c & 0xf0, jt, jf }
                        } else {
                            Op::JK { op: c & 0xf0, k, jt, jf }
                        }
                    }
                    BPF_RET if c & 0x18 == BPF_A => Op::RetA,
                    BPF_RET => Op::RetK(k),
                    _ if c & 0xf8 == BPF_TXA => Op::Txa,
                    _ => Op::Tax,
                }
            })
            .collect();
        Emulator { ops }
    }

    /// The filter's return value for `d`.
    #[inline]
    pub fn run(&self, d: &SeccompData) -> u32 {
        self.exec(d, |_| ())
    }

    /// The action for `d` (as `__seccomp_filter` decodes the return value).
    pub fn action(&self, d: &SeccompData) -> Action {
        Action::from_ret(self.run(d))
    }

    /// Evaluate and record the path.
    pub fn trace(&self, d: &SeccompData) -> Outcome {
        let mut path = Vec::new();
        let ret = self.exec(d, |pc| path.push(pc));
        Outcome { action: Action::from_ret(ret), ret, path }
    }

    #[inline(always)]
    fn exec(&self, d: &SeccompData, mut visit: impl FnMut(usize)) -> u32 {
        let (mut a, mut x) = (0u32, 0u32);
        let mut mem = [0u32; BPF_MEMWORDS as usize];
        let mut pc = 0usize;
        loop {
            visit(pc);
            // Validation guarantees pc is in range and the last op is a RET.
            match self.ops[pc] {
                Op::LdAbs(k) => a = d.word(k),
                Op::LdImm(k) => a = k,
                Op::LdxImm(k) => x = k,
                Op::LdMem(k) => a = mem[k],
                Op::LdxMem(k) => x = mem[k],
                Op::St(k) => mem[k] = a,
                Op::Stx(k) => mem[k] = x,
                Op::Neg => a = alu_valid(BPF_NEG, a, 0),
                Op::AluK(op, k) => a = alu_valid(op, a, k),
                Op::AluX(op) => match alu(op, Src::X, a, x) {
                    Alu::Value(v) => a = v,
                    Alu::ReturnsZero => return 0,
                    Alu::Refused => unreachable!("ALU op {op:#x} is not in the validated seccomp subset"),
                },
                Op::Ja(t) => {
                    pc = t;
                    continue;
                }
                Op::JK { op, k, jt, jf } => {
                    pc = if jump(op, a, k) { jt } else { jf };
                    continue;
                }
                Op::JX { op, jt, jf } => {
                    pc = if jump(op, a, x) { jt } else { jf };
                    continue;
                }
                Op::RetK(k) => return k,
                Op::RetA => return a,
                Op::Tax => x = a,
                Op::Txa => a = x,
            }
            pc += 1;
        }
    }
}

/// The return value of a stack of filters, given in installation order (the last
/// is the newest), as `seccomp_run_filters` (kernel/seccomp.c) computes it: every
/// filter runs, newest first, and a later result replaces the current one only if
/// its `ACTION_ONLY` value (the action bits as a signed 32-bit number) is strictly
/// lower, so ties keep the newest filter's data.
pub fn run_stack(stack: &[Emulator], d: &SeccompData) -> u32 {
    let mut ret = crate::seccomp::SECCOMP_RET_ALLOW;
    for e in stack.iter().rev() {
        let cur = e.run(d);
        if Action::from_ret(cur).precedence() < Action::from_ret(ret).precedence() {
            ret = cur;
        }
    }
    ret
}

/// Convenience: evaluate once.
pub fn evaluate(p: &ValidProgram, d: &SeccompData) -> Outcome {
    Emulator::new(p).trace(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::Program;
    use crate::bpf::validate::validate;

    fn emu(insns: &[Insn]) -> Emulator {
        Emulator::new(&validate(&Program::new(insns.to_vec())).unwrap())
    }

    #[test]
    fn stacks_keep_the_lowest_action_and_the_newest_data() {
        let ret = |k: u32| emu(&[Insn::stmt(BPF_RET | BPF_K, k)]);
        let d = SeccompData::default();
        // older ERRNO(1), newer ERRNO(2): tie, newest data wins
        assert_eq!(run_stack(&[ret(0x0005_0001), ret(0x0005_0002)], &d), 0x0005_0002);
        // older TRAP beats newer ERRNO
        assert_eq!(run_stack(&[ret(0x0003_0009), ret(0x0005_0002)], &d), 0x0003_0009);
        // unknown 0x9000_0000 (negative, above KILL_PROCESS) beats KILL_THREAD
        assert_eq!(run_stack(&[ret(0), ret(0x9000_0000)], &d), 0x9000_0000);
        assert_eq!(run_stack(&[ret(0x8000_0000), ret(0x9000_0000)], &d), 0x8000_0000);
        assert_eq!(run_stack(&[], &d), 0x7fff_0000);
    }

    #[test]
    fn div_by_x_zero_returns_zero() {
        let e = emu(&[
            Insn::stmt(BPF_LD | BPF_IMM, 0x7fff_0000),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let o = e.trace(&SeccompData::default());
        assert_eq!((o.ret, o.action, o.path), (0, Action::KillThread, vec![0, 1]));
    }

    #[test]
    fn shifts_by_x_are_masked() {
        let e = emu(&[
            Insn::stmt(BPF_LDX | BPF_IMM, 33),
            Insn::stmt(BPF_LD | BPF_IMM, 1),
            Insn::stmt(BPF_ALU | BPF_LSH | BPF_X, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        assert_eq!(e.run(&SeccompData::default()), 2);
    }

    #[test]
    fn follows_jumps_and_memory() {
        let e = emu(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_ST, 3),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 10, 0, 2),
            Insn::stmt(BPF_LDX | BPF_MEM, 3),
            Insn::stmt(BPF_MISC | BPF_TXA, 0),
            Insn::stmt(BPF_ALU | BPF_OR | BPF_K, 0x0005_0000),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let d = SeccompData { nr: 12, ..Default::default() };
        assert_eq!(e.trace(&d).action, Action::Errno(12));
        let d = SeccompData { nr: 3, ..Default::default() };
        let o = e.trace(&d);
        assert_eq!(o.path, vec![0, 1, 2, 5, 6]);
        assert_eq!(o.action, Action::Errno(3));
    }
}
