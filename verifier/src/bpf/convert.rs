//! How long a filter is once the kernel has converted it to eBPF.
//!
//! The kernel never runs classic BPF: `bpf_prepare_filter` → `bpf_migrate_filter`
//! (net/core/filter.c) turns every seccomp filter into eBPF with
//! `bpf_convert_filter`, and the converted program's `prog->len` is what
//! `seccomp_attach_filter` (kernel/seccomp.c) counts against
//! `MAX_INSNS_PER_PATH` (see [`crate::seccomp::PathLength`]). So whether a stack
//! of filters can be installed at all depends on these lengths, not on the
//! classic instruction counts.
//!
//! The conversion sees the program after `seccomp_check_filter` rewrote it:
//! `LD W ABS` became `LDX W ABS` (a plain load from the context, one
//! instruction) and `LD/LDX W LEN` became `LD/LDX IMM` (one `MOV32`). Every
//! other opcode seccomp accepts reaches `bpf_convert_filter` unchanged. The
//! rules below are its first pass (`new_prog == NULL`), which computes the
//! length the second pass then emits (`BUG_ON(*new_len != new_flen)`), for
//! Linux 6.18; measured against the kernel by `tests/kernel_converted_len.rs`.
//! The conversion's only other refusal, a jump whose converted offset does
//! not fit eBPF's 16 bits (`BPF_EMIT_JMP`), cannot happen to a filter
//! `validate` accepts: at most 4096 classic instructions convert to at most
//! 20480 (4095 `div x` and a `ret #k`).

use super::insn::*;
use super::validate::ValidProgram;

/// The prologue every converted seccomp filter starts with: `A ^= A`,
/// `X ^= X`, `CTX = ARG1` (`bpf_convert_filter`). The four more instructions
/// for packet data (`if (*seen_ld_abs)`) never apply to seccomp: only
/// `LD ABS/IND` and `LDX MSH` set `seen_ld_abs`, and `seccomp_check_filter`
/// rewrites the first and refuses the others.
pub const PROLOGUE: usize = 3;

/// Converted length of one instruction of a validated seccomp filter, after
/// `seccomp_check_filter`'s rewrites (`bpf_convert_filter`, net/core/filter.c):
///
/// * `RET K` → `MOV32 R0, K; EXIT` (2); `RET A` → `EXIT` (1, A is R0).
/// * `ALU DIV X` → `MOV32 X, X; JNE X, 0, +2; A ^= A; EXIT; DIV` (5): the
///   classic "division by zero returns 0". Every other ALU op, `NEG`
///   included, maps to one instruction (an ALU32 immediate is used as is,
///   negative or not). `MOD` never reaches here (seccomp refuses it).
/// * Conditional jumps: one more instruction first (`MOV32 TMP, K`) when the
///   operand is `K` and `(int) k < 0`, since eBPF immediates are sign-extended.
///   Then one jump when `jf == 0`; one inverted jump when `jt == 0` and the op
///   has an inverse (`JEQ` → `JNE`, `JGT` → `JLE`, `JGE` → `JLT`; `JSET` has
///   none); otherwise the jump plus a `JA` (2).
/// * `JA`, loads (`LDX W ABS`, `IMM`, `MEM`, the rewritten `LEN`), stores,
///   `TAX`, `TXA`: one instruction each.
pub fn insn_converted_len(insn: &Insn) -> usize {
    match insn.class() {
        // BPF_RVAL: K needs the MOV32 into R0; A already is R0.
        BPF_RET if insn.code & 0x18 == BPF_K => 2,
        BPF_RET => 1,
        BPF_ALU if insn.code == BPF_ALU | BPF_DIV | BPF_X || insn.code == BPF_ALU | BPF_MOD | BPF_X => 5,
        BPF_JMP if insn.code & 0xf0 == BPF_JA => 1,
        BPF_JMP => {
            let tmp = usize::from(insn.code & BPF_X == BPF_K && (insn.k as i32) < 0);
            let op = insn.code & 0xf0;
            let single = insn.jf == 0 || (insn.jt == 0 && matches!(op, BPF_JEQ | BPF_JGT | BPF_JGE));
            tmp + if single { 1 } else { 2 }
        }
        _ => 1,
    }
}

/// Converted length of a whole filter: [`PROLOGUE`] plus every instruction's
/// [`insn_converted_len`]. This is the `prog->len` the kernel holds for it.
pub fn converted_len(p: &ValidProgram) -> usize {
    PROLOGUE + p.insns().iter().map(insn_converted_len).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{validate, Program};

    fn len_of(insns: Vec<Insn>) -> usize {
        converted_len(&validate(&Program::new(insns)).expect("valid"))
    }

    const ALLOW: Insn = Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000);

    #[test]
    fn ret_k_is_two_ret_a_is_one_after_the_prologue() {
        assert_eq!(len_of(vec![ALLOW]), 5);
        assert_eq!(len_of(vec![Insn::stmt(BPF_RET | BPF_A, 0)]), 4);
        assert_eq!(len_of(vec![ALLOW; 4096]), 3 + 2 * 4096);
    }

    #[test]
    fn jumps_depend_on_their_branches_op_and_sign_of_k() {
        let j = |code: u16, k: u32, jt: u8, jf: u8| insn_converted_len(&Insn::jump(BPF_JMP | code, k, jt, jf));
        for op in [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET] {
            assert_eq!(j(op, 1, 1, 0), 1, "op {op:#x} jf=0");
            assert_eq!(j(op, 1, 0, 0), 1, "op {op:#x} both 0");
            assert_eq!(j(op, 1, 1, 1), 2, "op {op:#x} both taken");
            assert_eq!(j(op | BPF_X, 0, 1, 1), 2);
            assert_eq!(j(op, 0x8000_0000, 1, 1), 3, "negative K adds the MOV32");
            assert_eq!(j(op | BPF_X, 0x8000_0000, 1, 1), 2, "X ignores k");
            assert_eq!(j(op, 0x8000_0000, 1, 0), 2);
        }
        assert_eq!(j(BPF_JEQ, 1, 0, 1), 1);
        assert_eq!(j(BPF_JGT, 1, 0, 1), 1);
        assert_eq!(j(BPF_JGE, 1, 0, 1), 1);
        assert_eq!(j(BPF_JSET, 1, 0, 1), 2, "JSET has no inverse");
        assert_eq!(j(BPF_JSET, 0xffff_ffff, 0, 1), 3);
        assert_eq!(j(BPF_JA, 0xffff_ffff, 0, 0), 1);
    }

    #[test]
    fn div_by_x_checks_for_zero_everything_else_is_one() {
        assert_eq!(insn_converted_len(&Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0)), 5);
        assert_eq!(insn_converted_len(&Insn::stmt(BPF_ALU | BPF_DIV | BPF_K, 0x8000_0000)), 1);
        for code in [
            BPF_ALU | BPF_ADD | BPF_K,
            BPF_ALU | BPF_NEG,
            BPF_ALU | BPF_XOR | BPF_X,
            BPF_LD | BPF_W | BPF_ABS,
            BPF_LD | BPF_W | BPF_LEN,
            BPF_LDX | BPF_W | BPF_LEN,
            BPF_LD | BPF_IMM,
            BPF_LDX | BPF_MEM,
            BPF_ST,
            BPF_STX,
            BPF_MISC | BPF_TAX,
            BPF_MISC | BPF_TXA,
        ] {
            assert_eq!(insn_converted_len(&Insn::stmt(code, 0xffff_ffff)), 1, "{code:#x}");
        }
    }
}
