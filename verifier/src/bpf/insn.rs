//! One classic-BPF instruction (`struct sock_filter`) and the opcode constants.
//!
//! Layout and constants are copied from the kernel's UAPI headers:
//! `include/uapi/linux/filter.h` (`struct sock_filter`, `BPF_MEMWORDS`) and
//! `include/uapi/linux/bpf_common.h` (class, size, mode, op and source fields).
//! An [`Insn`] is plain data: decoding never validates and validation never decodes.

use serde::{Deserialize, Serialize};

/// `struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }` (`include/uapi/linux/filter.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// Size of one encoded `struct sock_filter`.
pub const INSN_SIZE: usize = 8;
/// `BPF_MAXINSNS` (`include/uapi/linux/bpf_common.h`).
pub const BPF_MAXINSNS: usize = 4096;
/// `BPF_MEMWORDS` (`include/uapi/linux/filter.h`): scratch memory cells M[0..16].
pub const BPF_MEMWORDS: u32 = 16;

// Instruction classes (`BPF_CLASS(code)`, `include/uapi/linux/bpf_common.h`).
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_ST: u16 = 0x02;
pub const BPF_STX: u16 = 0x03;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_MISC: u16 = 0x07;

// ld/ldx size field (`BPF_SIZE(code)`).
pub const BPF_W: u16 = 0x00;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;

// ld/ldx mode field (`BPF_MODE(code)`).
pub const BPF_IMM: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MEM: u16 = 0x60;
pub const BPF_LEN: u16 = 0x80;
pub const BPF_MSH: u16 = 0xa0;

// alu/jmp op field (`BPF_OP(code)`).
pub const BPF_ADD: u16 = 0x00;
pub const BPF_SUB: u16 = 0x10;
pub const BPF_MUL: u16 = 0x20;
pub const BPF_DIV: u16 = 0x30;
pub const BPF_OR: u16 = 0x40;
pub const BPF_AND: u16 = 0x50;
pub const BPF_LSH: u16 = 0x60;
pub const BPF_RSH: u16 = 0x70;
pub const BPF_NEG: u16 = 0x80;
pub const BPF_MOD: u16 = 0x90;
pub const BPF_XOR: u16 = 0xa0;

pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;
pub const BPF_JSET: u16 = 0x40;

// Source operand (`BPF_SRC(code)`).
pub const BPF_K: u16 = 0x00;
pub const BPF_X: u16 = 0x08;

// ret source (`BPF_RVAL(code)`, `include/uapi/linux/filter.h`).
pub const BPF_A: u16 = 0x10;

// misc op (`BPF_MISCOP(code)`, `include/uapi/linux/filter.h`).
pub const BPF_TAX: u16 = 0x00;
pub const BPF_TXA: u16 = 0x80;

/// `SKF_AD_OFF` (`include/uapi/linux/filter.h`): start of the "ancillary data" load offsets.
pub const SKF_AD_OFF: u32 = 0xffff_f000;

impl Insn {
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Self {
        Insn { code, jt, jf, k }
    }
    /// `BPF_STMT(code, k)` from `include/uapi/linux/filter.h`.
    pub const fn stmt(code: u16, k: u32) -> Self {
        Insn { code, jt: 0, jf: 0, k }
    }
    /// `BPF_JUMP(code, k, jt, jf)` from `include/uapi/linux/filter.h`.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Insn { code, jt, jf, k }
    }

    pub fn class(&self) -> u16 {
        self.code & 0x07
    }

    /// The 8 bytes of this instruction in the host's (little-endian) layout.
    pub fn to_bytes(&self) -> [u8; INSN_SIZE] {
        let c = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [c[0], c[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }

    /// Decode one instruction from its 8 little-endian bytes.
    pub fn from_bytes(b: [u8; INSN_SIZE]) -> Self {
        Insn {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Is this a conditional jump (JEQ/JGT/JGE/JSET, K or X)?
    pub fn is_cond_jump(&self) -> bool {
        self.class() == BPF_JMP && self.code & 0xf0 != BPF_JA
    }

    /// Instruction indices control can move to after instruction `pc`
    /// (empty for `RET`). Only meaningful on validated programs.
    pub fn successors(&self, pc: usize) -> Successors {
        match self.class() {
            BPF_RET => Successors::None,
            BPF_JMP if self.code & 0xf0 == BPF_JA => Successors::One(pc + 1 + self.k as usize),
            BPF_JMP => Successors::Two(pc + 1 + self.jt as usize, pc + 1 + self.jf as usize),
            _ => Successors::One(pc + 1),
        }
    }
}

/// Control-flow successors of one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Successors {
    None,
    One(usize),
    /// (taken, not taken)
    Two(usize, usize),
}

impl Successors {
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let (a, b) = match self {
            Successors::None => (None, None),
            Successors::One(x) => (Some(x), None),
            Successors::Two(x, y) => (Some(x), Some(y)),
        };
        a.into_iter().chain(b)
    }
}

/// A decoded program: the instructions in order. Not necessarily valid; see
/// [`crate::bpf::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Program {
    pub insns: Vec<Insn>,
}

impl Program {
    pub fn new(insns: Vec<Insn>) -> Self {
        Program { insns }
    }
    pub fn len(&self) -> usize {
        self.insns.len()
    }
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }
    /// The raw `sock_filter` array, 8 little-endian bytes per instruction.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.insns.iter().flat_map(|i| i.to_bytes()).collect()
    }
}
