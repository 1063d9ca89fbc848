//! Kernel-exact validation of a seccomp classic-BPF program.
//!
//! The kernel accepts a filter in `seccomp_prepare_filter` (kernel/seccomp.c) when
//! 1. `1 <= len <= BPF_MAXINSNS`,
//! 2. `bpf_check_classic` (net/core/filter.c) passes: every opcode is in
//!    `chk_code_allowed`'s table, `DIV`/`MOD` by constant zero and shifts by a
//!    constant `>= 32` are refused, scratch-memory indices are `< BPF_MEMWORDS`,
//!    jumps stay inside the program, the last instruction is a `RET`, and
//!    `check_load_and_stores` proves no `M[k]` is read before it is written on
//!    every path, and
//! 3. `seccomp_check_filter` (kernel/seccomp.c) passes: only its explicit opcode
//!    list (no `MOD`, no byte/half/indirect loads, no `MSH`) and `LD W ABS` with a
//!    4-byte aligned offset inside the 64-byte `struct seccomp_data`.
//!
//! The kernel stops at the first failure; we report *every* violation, each with
//! its instruction index, so that a program is accepted exactly when the list is
//! empty. The differential test in `verifier/tests/kernel_validate.rs` holds this
//! against the running kernel.

use super::insn::*;
use serde::Serialize;
use std::fmt;

use crate::uapi::SECCOMP_DATA_SIZE;

/// One reason the kernel would refuse the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Rule {
    /// `len == 0 || len > BPF_MAXINSNS` (`seccomp_prepare_filter`, `bpf_check_basics_ok`).
    Length { len: usize },
    /// Opcode absent from `chk_code_allowed` (net/core/filter.c): not classic BPF at all.
    UnknownOpcode { code: u16 },
    /// Classic BPF, but not in `seccomp_check_filter`'s list (kernel/seccomp.c).
    NotAllowedInSeccomp { code: u16, what: &'static str },
    /// `BPF_ALU|BPF_DIV|BPF_K` or `BPF_MOD|BPF_K` with `k == 0` (`bpf_check_classic`).
    DivisionByZero,
    /// `BPF_ALU|BPF_LSH|BPF_K` or `BPF_RSH|BPF_K` with `k >= 32` (`bpf_check_classic`).
    ShiftTooLarge { k: u32 },
    /// Scratch memory index `k >= BPF_MEMWORDS` (`bpf_check_classic`).
    MemoryIndex { k: u32 },
    /// `BPF_JA` whose target `pc + 1 + k` is not inside the program (`bpf_check_classic`:
    /// `k >= flen - pc - 1`).
    JumpOutOfRange { target: u64 },
    /// Conditional jump whose `jt` or `jf` target is not inside the program.
    CondJumpOutOfRange { jt_target: usize, jf_target: usize },
    /// `LD W ABS` whose offset is not 4-byte aligned or not below 64 (`seccomp_check_filter`).
    LoadOffset { k: u32 },
    /// The last instruction is not `RET K` / `RET A` (`bpf_check_classic`).
    LastNotReturn,
    /// `M[k]` may be read before any store to it on some path (`check_load_and_stores`).
    ReadBeforeWrite { k: u32 },
}

/// A rule broken at an instruction (`insn` is `None` for whole-program rules).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub insn: Option<usize>,
    #[serde(flatten)]
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.insn {
            write!(f, "insn {i}: ")?;
        }
        match &self.rule {
            Rule::Length { len } => write!(
                f,
                "program has {}; the kernel takes 1 to {BPF_MAXINSNS} (seccomp_prepare_filter)",
                crate::words::count(*len, "instruction")
            ),
            Rule::UnknownOpcode { code } => {
                write!(f, "opcode {code:#06x} is not a classic BPF instruction (chk_code_allowed)")
            }
            Rule::NotAllowedInSeccomp { code, what } => write!(
                f,
                "{what} (opcode {code:#06x}) is classic BPF but not allowed in seccomp filters (seccomp_check_filter)"
            ),
            Rule::DivisionByZero => write!(f, "division or modulo by constant 0 (bpf_check_classic)"),
            Rule::ShiftTooLarge { k } => {
                write!(f, "shift by constant {k}; must be below 32 (bpf_check_classic)")
            }
            Rule::MemoryIndex { k } => {
                write!(f, "scratch memory index {k}; must be below {BPF_MEMWORDS} (bpf_check_classic)")
            }
            Rule::JumpOutOfRange { target } => {
                write!(f, "jump target {target} is past the last instruction (bpf_check_classic)")
            }
            Rule::CondJumpOutOfRange { jt_target, jf_target } => write!(
                f,
                "conditional jump targets {jt_target} / {jf_target}: both must be inside the program (bpf_check_classic)"
            ),
            Rule::LoadOffset { k } => write!(
                f,
                "load from offset {k}: seccomp_data loads must be 4-byte aligned and below {SECCOMP_DATA_SIZE} (seccomp_check_filter)"
            ),
            Rule::LastNotReturn => {
                write!(f, "the last instruction must be `ret` (bpf_check_classic)")
            }
            Rule::ReadBeforeWrite { k } => write!(
                f,
                "M[{k}] may be read before it is written on some path (check_load_and_stores)"
            ),
        }
    }
}

/// A program the kernel accepts. Only [`validate`] makes one, so analyses that
/// take it may rely on in-range jumps, a final `RET`, and the seccomp opcode subset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValidProgram(Program);

impl ValidProgram {
    pub fn program(&self) -> &Program {
        &self.0
    }
    pub fn insns(&self) -> &[Insn] {
        &self.0.insns
    }
    pub fn into_program(self) -> Program {
        self.0
    }
}

impl std::ops::Deref for ValidProgram {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.0
    }
}

/// `chk_code_allowed` (net/core/filter.c): the classic BPF opcodes the kernel knows.
pub fn classic_opcode_known(code: u16) -> bool {
    matches!(
        code,
        // 32 bit ALU operations
        0x04 | 0x0c | 0x14 | 0x1c | 0x24 | 0x2c | 0x34 | 0x3c | 0x94 | 0x9c
        | 0x54 | 0x5c | 0x44 | 0x4c | 0xa4 | 0xac | 0x64 | 0x6c | 0x74 | 0x7c | 0x84
        // loads: LD W/H/B ABS, LD W LEN, LD W/H/B IND, LD IMM, LD MEM
        | 0x20 | 0x28 | 0x30 | 0x80 | 0x40 | 0x48 | 0x50 | 0x00 | 0x60
        // LDX W LEN, LDX B MSH, LDX IMM, LDX MEM
        | 0x81 | 0xb1 | 0x01 | 0x61
        // ST, STX
        | 0x02 | 0x03
        // TAX, TXA
        | 0x07 | 0x87
        // RET K, RET A
        | 0x06 | 0x16
        // JA, JEQ/JGT/JGE/JSET K and X
        | 0x05 | 0x15 | 0x1d | 0x35 | 0x3d | 0x25 | 0x2d | 0x45 | 0x4d
    )
}

/// `seccomp_check_filter` (kernel/seccomp.c): `Ok(())` for the opcodes it lists,
/// otherwise the name of the refused construct.
fn seccomp_opcode(code: u16) -> Result<(), &'static str> {
    const LD_W_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const LD_W_LEN: u16 = BPF_LD | BPF_W | BPF_LEN;
    const LDX_W_LEN: u16 = BPF_LDX | BPF_W | BPF_LEN;
    match code {
        LD_W_ABS | LD_W_LEN | LDX_W_LEN => Ok(()),
        c if c == BPF_RET | BPF_K || c == BPF_RET | BPF_A => Ok(()),
        c if c & 0x07 == BPF_ALU => match c & 0xf0 {
            BPF_MOD => Err("BPF_MOD"),
            BPF_NEG if c == BPF_ALU | BPF_NEG => Ok(()),
            BPF_ADD | BPF_SUB | BPF_MUL | BPF_DIV | BPF_AND | BPF_OR | BPF_XOR | BPF_LSH | BPF_RSH => Ok(()),
            _ => Err("this ALU operation"),
        },
        c if c == BPF_LD | BPF_IMM
            || c == BPF_LDX | BPF_IMM
            || c == BPF_MISC | BPF_TAX
            || c == BPF_MISC | BPF_TXA
            || c == BPF_LD | BPF_MEM
            || c == BPF_LDX | BPF_MEM
            || c == BPF_ST
            || c == BPF_STX =>
        {
            Ok(())
        }
        c if c & 0x07 == BPF_JMP => Ok(()),
        c if c == BPF_LD | BPF_H | BPF_ABS || c == BPF_LD | BPF_B | BPF_ABS => {
            Err("a half-word or byte load (only 32-bit loads of seccomp_data)")
        }
        c if c & 0x07 == BPF_LD && c & 0xe0 == BPF_IND => Err("an indirect load (BPF_IND)"),
        c if c == BPF_LDX | BPF_B | BPF_MSH => Err("BPF_LDX|BPF_B|BPF_MSH"),
        _ => Err("this instruction"),
    }
}

/// Check `p` exactly as the kernel does; on failure return every violation in
/// instruction order (whole-program rules first).
pub fn validate(p: &Program) -> Result<ValidProgram, Vec<Violation>> {
    let v = violations(p);
    if v.is_empty() {
        Ok(ValidProgram(p.clone()))
    } else {
        Err(v)
    }
}

/// Every rule `p` breaks; empty exactly when the kernel accepts `p`.
pub fn violations(p: &Program) -> Vec<Violation> {
    let flen = p.insns.len();
    let mut out = Vec::new();
    let at = |pc: usize, rule: Rule| Violation { insn: Some(pc), rule };
    if flen == 0 || flen > BPF_MAXINSNS {
        out.push(Violation { insn: None, rule: Rule::Length { len: flen } });
        if flen == 0 {
            return out;
        }
    }
    // bpf_check_classic's per-instruction loop, then seccomp_check_filter's.
    let mut structure_ok = true; // jump targets and memory indices usable below
    for (pc, ins) in p.insns.iter().enumerate() {
        let code = ins.code;
        if !classic_opcode_known(code) {
            out.push(at(pc, Rule::UnknownOpcode { code }));
            structure_ok &= ins.class() != BPF_JMP && !touches_memory(code);
            continue;
        }
        match code {
            c if c == BPF_ALU | BPF_DIV | BPF_K || c == BPF_ALU | BPF_MOD | BPF_K => {
                if ins.k == 0 {
                    out.push(at(pc, Rule::DivisionByZero));
                }
            }
            c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => {
                if ins.k >= 32 {
                    out.push(at(pc, Rule::ShiftTooLarge { k: ins.k }));
                }
            }
            c if touches_memory(c) => {
                if ins.k >= BPF_MEMWORDS {
                    out.push(at(pc, Rule::MemoryIndex { k: ins.k }));
                    structure_ok = false;
                }
            }
            c if c == BPF_JMP | BPF_JA => {
                // `ftest->k >= (unsigned int)(flen - pc - 1)`
                if ins.k >= (flen - pc - 1) as u32 {
                    out.push(at(pc, Rule::JumpOutOfRange { target: pc as u64 + 1 + ins.k as u64 }));
                    structure_ok = false;
                }
            }
            c if ins.is_cond_jump() && c & 0x07 == BPF_JMP => {
                let (t, f) = (pc + ins.jt as usize + 1, pc + ins.jf as usize + 1);
                if t >= flen || f >= flen {
                    out.push(at(pc, Rule::CondJumpOutOfRange { jt_target: t, jf_target: f }));
                    structure_ok = false;
                }
            }
            _ => {}
        }
        // bpf_check_classic's ancillary-load check can only refuse offsets
        // >= SKF_AD_OFF, which seccomp_check_filter refuses below anyway.
        match seccomp_opcode(code) {
            Err(what) => out.push(at(pc, Rule::NotAllowedInSeccomp { code, what })),
            Ok(()) if code == BPF_LD | BPF_W | BPF_ABS => {
                if ins.k >= SECCOMP_DATA_SIZE || ins.k & 3 != 0 {
                    out.push(at(pc, Rule::LoadOffset { k: ins.k }));
                }
            }
            Ok(()) => {}
        }
    }
    let last = p.insns[flen - 1].code;
    if last != BPF_RET | BPF_K && last != BPF_RET | BPF_A {
        out.push(at(flen - 1, Rule::LastNotReturn));
    }
    if structure_ok {
        out.extend(load_and_store_violations(p));
    }
    out.sort_by_key(|v| v.insn.map_or(0, |i| i + 1));
    out
}

/// Whether `ins` passes every check the kernel makes on an instruction by
/// itself (known opcode, allowed in seccomp, `LD W ABS` offset, division by a
/// constant zero, shift amount, scratch index): the checks of [`violations`]
/// other than jump ranges, the last `RET` and the scratch-memory dataflow. The
/// ELF scan uses it to know where no valid filter can extend past.
pub fn locally_acceptable(ins: &Insn) -> bool {
    let code = ins.code;
    if !classic_opcode_known(code) {
        return false;
    }
    let local = match code {
        c if c == BPF_ALU | BPF_DIV | BPF_K || c == BPF_ALU | BPF_MOD | BPF_K => ins.k != 0,
        c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => ins.k < 32,
        c if touches_memory(c) => ins.k < BPF_MEMWORDS,
        _ => true,
    };
    local
        && match seccomp_opcode(code) {
            Err(_) => false,
            Ok(()) if code == BPF_LD | BPF_W | BPF_ABS => ins.k < SECCOMP_DATA_SIZE && ins.k & 3 == 0,
            Ok(()) => true,
        }
}

fn touches_memory(code: u16) -> bool {
    code == BPF_LD | BPF_MEM || code == BPF_LDX | BPF_MEM || code == BPF_ST || code == BPF_STX
}

/// `check_load_and_stores` (net/core/filter.c), transcribed: one validity bit
/// per scratch cell, intersected at jump targets. Note that, as in the kernel,
/// `memvalid` is *not* reset after `RET`: an unreachable instruction after a
/// `RET` inherits the bits of the fall-through.
/// Requires in-range jump targets and memory indices.
fn load_and_store_violations(p: &Program) -> Vec<Violation> {
    let flen = p.insns.len();
    let mut masks = vec![u16::MAX; flen];
    let mut memvalid: u16 = 0;
    let mut out = Vec::new();
    for (pc, ins) in p.insns.iter().enumerate() {
        memvalid &= masks[pc];
        match ins.code {
            c if c == BPF_ST || c == BPF_STX => memvalid |= 1 << ins.k,
            c if c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM => {
                if memvalid & (1 << ins.k) == 0 {
                    out.push(Violation { insn: Some(pc), rule: Rule::ReadBeforeWrite { k: ins.k } });
                    // The kernel stops here; later reads are still worth reporting,
                    // so carry on as if the cell had been written.
                    memvalid |= 1 << ins.k;
                }
            }
            c if c == BPF_JMP | BPF_JA => {
                masks[pc + 1 + ins.k as usize] &= memvalid;
                memvalid = u16::MAX;
            }
            _ if classic_opcode_known(ins.code) && ins.is_cond_jump() => {
                masks[pc + 1 + ins.jt as usize] &= memvalid;
                masks[pc + 1 + ins.jf as usize] &= memvalid;
                memvalid = u16::MAX;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(insns: &[Insn]) -> Program {
        Program::new(insns.to_vec())
    }
    fn rules(p: &Program) -> Vec<(Option<usize>, Rule)> {
        violations(p).into_iter().map(|v| (v.insn, v.rule)).collect()
    }
    const RET_ALLOW: Insn = Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000);

    #[test]
    fn locally_acceptable_is_violations_of_one_instruction() {
        for code in 0..=u16::MAX {
            for k in [0, 1, 4, 6, 31, 32, 60, 64, 0x7fff_0000] {
                // Jumps go to the RET, so only instruction-local rules can fail at 0.
                let (jt, jf, k) = if code & 0x07 == BPF_JMP { (0, 0, 0) } else { (0, 0, k) };
                let ins = Insn::new(code, jt, jf, k);
                let p = Program::new(vec![ins, Insn::stmt(BPF_RET | BPF_K, 0)]);
                let local = !violations(&p)
                    .iter()
                    .any(|v| v.insn == Some(0) && !matches!(v.rule, Rule::ReadBeforeWrite { .. }));
                assert_eq!(locally_acceptable(&ins), local, "{ins:?}");
            }
        }
    }

    #[test]
    fn accepts_minimal() {
        assert!(validate(&prog(&[RET_ALLOW])).is_ok());
        assert!(validate(&prog(&[Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 60), RET_ALLOW])).is_ok());
    }

    #[test]
    fn length_limits() {
        assert_eq!(rules(&prog(&[])), vec![(None, Rule::Length { len: 0 })]);
        assert_eq!(rules(&prog(&vec![RET_ALLOW; 4097])), vec![(None, Rule::Length { len: 4097 })]);
        assert!(validate(&prog(&vec![RET_ALLOW; 4096])).is_ok());
    }

    #[test]
    fn reports_every_violation() {
        let p = prog(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 2),  // misaligned
            Insn::stmt(BPF_ALU | BPF_MOD | BPF_K, 3), // MOD not in seccomp
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_K, 0), // div by zero
            Insn::stmt(BPF_LD | BPF_MEM, 3),          // read before write
            Insn::stmt(0xffff, 0),                    // unknown
            Insn::stmt(BPF_LD | BPF_IMM, 0),          // last not ret
        ]);
        let r = rules(&p);
        assert_eq!(
            r,
            vec![
                (Some(0), Rule::LoadOffset { k: 2 }),
                (Some(1), Rule::NotAllowedInSeccomp { code: 0x94, what: "BPF_MOD" }),
                (Some(2), Rule::DivisionByZero),
                (Some(3), Rule::ReadBeforeWrite { k: 3 }),
                (Some(4), Rule::UnknownOpcode { code: 0xffff }),
                (Some(5), Rule::LastNotReturn),
            ]
        );
    }

    #[test]
    fn jump_ranges() {
        // JA k must be < flen - pc - 1
        let p = prog(&[Insn::stmt(BPF_JMP | BPF_JA, 1), RET_ALLOW]);
        assert_eq!(rules(&p), vec![(Some(0), Rule::JumpOutOfRange { target: 2 })]);
        let p = prog(&[Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), RET_ALLOW]);
        assert_eq!(rules(&p), vec![(Some(0), Rule::CondJumpOutOfRange { jt_target: 1, jf_target: 2 })]);
    }

    #[test]
    fn memory_must_be_written_on_every_path() {
        // st on one branch only, then ld: rejected.
        let p = prog(&[
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
            Insn::stmt(BPF_ST, 0),
            Insn::stmt(BPF_LD | BPF_MEM, 0),
            RET_ALLOW,
        ]);
        assert_eq!(rules(&p), vec![(Some(2), Rule::ReadBeforeWrite { k: 0 })]);
        // st before the branch: accepted.
        let p = prog(&[
            Insn::stmt(BPF_ST, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0),
            Insn::stmt(BPF_LD | BPF_MEM, 0),
            RET_ALLOW,
        ]);
        assert!(validate(&p).is_ok());
    }

    #[test]
    fn unreachable_code_after_ret_inherits_memvalid() {
        // As in the kernel: memvalid is not reset by RET.
        let p = prog(&[Insn::stmt(BPF_ST, 5), RET_ALLOW, Insn::stmt(BPF_LD | BPF_MEM, 5), RET_ALLOW]);
        assert!(validate(&p).is_ok());
    }
}
