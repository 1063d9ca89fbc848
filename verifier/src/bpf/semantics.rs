//! What one classic-BPF ALU operation or conditional jump computes, exactly as
//! the kernel runs a seccomp filter: the single definition the emulator (the
//! reference), the disassembler's constant folding and every analysis call.
//!
//! A seccomp filter runs after `bpf_convert_filter` (net/core/filter.c) has
//! turned it into eBPF, so the rules are those of the converted program and of
//! the eBPF interpreter (kernel/bpf/core.c, `___bpf_prog_run`) and JITs:
//! - `A` is 32 bits wide; `ADD`, `SUB`, `MUL` and `NEG` wrap, `DIV` and `MOD`
//!   are unsigned (`ALU_DIV_X: DST = (u32) DST / (u32) SRC`);
//! - a division or remainder by `X == 0` ends the program with return value 0:
//!   the converter emits `if X == 0 { A = 0; exit }` before `DIV X`/`MOD X`;
//! - a division or remainder by the constant 0, and a shift by a constant of
//!   32 or more, are refused when the filter is loaded (`bpf_check_classic`);
//! - a shift by `X` shifts by `X & 31` (`SHT(LSH, <<)`:
//!   `DST = (u32) DST << (SRC & 31)`; the x86-64 JIT's `shl r32, cl` masks the
//!   same way);
//! - conditional jumps compare unsigned 32-bit values; `JSET` tests
//!   `A & operand != 0`.
//!
//! `MOD` is classic BPF but not seccomp (`seccomp_check_filter` refuses it):
//! its meaning here serves listings of programs the kernel refuses.

use super::insn::*;

/// Where an ALU operation's second operand comes from (`BPF_SRC(code)`): the
/// kernel checks constant operands when loading and masks register shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// `BPF_K`: the instruction's immediate.
    K,
    /// `BPF_X`: the X register.
    X,
}

/// The outcome of `A = A op operand`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    /// The new value of `A`.
    Value(u32),
    /// `DIV X` or `MOD X` with `X == 0`: the program ends, returning 0.
    ReturnsZero,
    /// An operation the kernel refuses to load (division by the constant 0, a
    /// constant shift of 32 or more, an opcode that is not an ALU operation).
    Refused,
}

/// `A op b` for the ALU operation `op` (`BPF_OP(code)`) with its operand from
/// `src`; `b` is ignored by `NEG`.
#[inline(always)]
pub fn alu(op: u16, src: Src, a: u32, b: u32) -> Alu {
    let divides = op == BPF_DIV || op == BPF_MOD;
    if divides && b == 0 {
        return match src {
            Src::X => Alu::ReturnsZero,
            Src::K => Alu::Refused,
        };
    }
    let shifts = op == BPF_LSH || op == BPF_RSH;
    if shifts && src == Src::K && b >= 32 {
        return Alu::Refused;
    }
    Alu::Value(match op {
        BPF_ADD => a.wrapping_add(b),
        BPF_SUB => a.wrapping_sub(b),
        BPF_MUL => a.wrapping_mul(b),
        BPF_DIV => a / b,
        BPF_MOD => a % b,
        BPF_OR => a | b,
        BPF_AND => a & b,
        BPF_XOR => a ^ b,
        BPF_LSH => a << (b & 31),
        BPF_RSH => a >> (b & 31),
        BPF_NEG => a.wrapping_neg(),
        _ => return Alu::Refused,
    })
}

/// [`alu`] in a program that passed validation, on a path where the divisor is
/// not 0 (the constant cannot be; callers split off `X == 0`, which returns 0).
/// A validated constant shift is below 32, so masking, as for `X`, is exact.
#[inline(always)]
pub fn alu_valid(op: u16, a: u32, b: u32) -> u32 {
    match alu(op, Src::X, a, b) {
        Alu::Value(v) => v,
        other => unreachable!("ALU op {op:#x} with operand {b:#x} is {other:?} in a validated program"),
    }
}

/// Does the conditional jump `op` (`BPF_OP(code)`: `JEQ`, `JGT`, `JGE` or
/// `JSET`) with `A = a` and operand `b` take its `jt` branch?
#[inline(always)]
pub fn jump(op: u16, a: u32, b: u32) -> bool {
    match op {
        BPF_JEQ => a == b,
        BPF_JGT => a > b,
        BPF_JGE => a >= b,
        // BPF_JSET, the only other conditional jump classic BPF has.
        _ => a & b != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_32_bit_and_wraps() {
        assert_eq!(alu(BPF_ADD, Src::K, u32::MAX, 2), Alu::Value(1));
        assert_eq!(alu(BPF_SUB, Src::X, 0, 1), Alu::Value(u32::MAX));
        assert_eq!(alu(BPF_MUL, Src::K, 0x8000_0001, 2), Alu::Value(2));
        assert_eq!(alu(BPF_NEG, Src::K, 1, 0), Alu::Value(u32::MAX));
        assert_eq!(alu(BPF_DIV, Src::K, u32::MAX, 2), Alu::Value(0x7fff_ffff));
        assert_eq!(alu(BPF_MOD, Src::X, 7, 4), Alu::Value(3));
        assert_eq!(alu(BPF_XOR, Src::K, 0xff00, 0x0ff0), Alu::Value(0xf0f0));
    }

    #[test]
    fn division_by_zero_returns_zero_from_x_and_is_refused_from_k() {
        for op in [BPF_DIV, BPF_MOD] {
            assert_eq!(alu(op, Src::X, 5, 0), Alu::ReturnsZero);
            assert_eq!(alu(op, Src::K, 5, 0), Alu::Refused);
        }
    }

    #[test]
    fn register_shifts_are_masked_and_constant_shifts_of_32_refused() {
        assert_eq!(alu(BPF_LSH, Src::X, 1, 33), Alu::Value(2));
        assert_eq!(alu(BPF_RSH, Src::X, 4, 34), Alu::Value(1));
        assert_eq!(alu(BPF_LSH, Src::X, 1, 32), Alu::Value(1));
        assert_eq!(alu(BPF_LSH, Src::K, 1, 31), Alu::Value(0x8000_0000));
        assert_eq!(alu(BPF_LSH, Src::K, 1, 32), Alu::Refused);
        assert_eq!(alu(BPF_RSH, Src::K, 1, 32), Alu::Refused);
        assert_eq!(alu_valid(BPF_LSH, 1, 31), 0x8000_0000);
    }

    #[test]
    fn jumps_compare_unsigned() {
        assert!(jump(BPF_JGT, 0x8000_0000, 1));
        assert!(jump(BPF_JGE, 5, 5));
        assert!(!jump(BPF_JGT, 5, 5));
        assert!(jump(BPF_JEQ, 7, 7));
        assert!(jump(BPF_JSET, 6, 2));
        assert!(!jump(BPF_JSET, 6, 1));
    }
}
