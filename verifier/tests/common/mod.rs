//! Shared pieces of the integration tests: the kernel gate (`kernel_gate`),
//! the `seccheck bench` tests' setup (`bench`),
//! the generator cases of `reports/generator-findings.md` (`generator_cases`)
//! and, for the symbolic-evaluator tests, hand-written filters that together
//! use every opcode, libseccomp-built filters, boundary inputs, and the
//! emulator comparison.
#![allow(dead_code)]

pub mod bench;
pub mod docker_like;
pub mod generator_cases;
pub mod kernel_gate;
pub mod schemas;
pub mod seccomp_lib;

use seccheck::arch::Arch;
use seccheck::bpf::insn::*;
use seccheck::bpf::{validate, Program, ValidProgram};
use seccheck::emu::Emulator;
use seccheck::seccomp::*;
use seccheck::symbolic::Analysis;

pub fn valid(p: Program) -> ValidProgram {
    validate(&p).unwrap_or_else(|v| panic!("invalid test program: {v:?}\n{p:?}"))
}

/// Every input lies in exactly one exit, and that exit is where the emulator
/// ends, with the value it returns.
pub fn check_against_emulator(an: &mut Analysis, p: &ValidProgram, inputs: &[SeccompData]) {
    let emu = Emulator::new(p);
    for d in inputs {
        let want = emu.trace(d);
        let hits: Vec<_> = an.exits().iter().filter(|e| an.contains(e.inputs(), d)).collect();
        assert_eq!(hits.len(), 1, "input {d:?} is in {} exit sets\n{:?}", hits.len(), p.insns());
        let e = hits[0];
        assert_eq!(
            (e.ret, e.insn),
            (want.ret, *want.path.last().unwrap()),
            "input {d:?}: symbolic says ret {:#x} at insn {}, emulator {:#x} at {}\n{:?}",
            e.ret,
            e.insn,
            want.ret,
            want.path.last().unwrap(),
            p.insns()
        );
        // Instructions on the emulator's path have the input in their reach
        // sets (checked at up to 8 points: paths of linear filters are long).
        let every = want.path.len().div_ceil(8).max(1);
        for &pc in want.path.iter().step_by(every) {
            assert!(an.contains(an.reach(pc), d), "insn {pc} reach set misses {d:?}");
        }
    }
}

/// Inputs at every constant of the program ±1 in every 32-bit word, on the known
/// arches (both byte orders) and an unknown one, with x32 and plain nr.
pub fn boundary_inputs(p: &Program) -> Vec<SeccompData> {
    let mut ks: Vec<u32> = p.insns.iter().map(|i| i.k).collect();
    ks.extend([0, 1, u32::MAX, 0x4000_0000]);
    ks.sort_unstable();
    ks.dedup();
    let mut vals: Vec<u32> = ks.iter().flat_map(|&k| [k.wrapping_sub(1), k, k.wrapping_add(1)]).collect();
    vals.sort_unstable();
    vals.dedup();
    let arches = [
        Arch::X86_64.audit_arch(),
        Arch::I386.audit_arch(),
        Arch::S390x.audit_arch(),
        Arch::Aarch64.audit_arch(),
        0x1234,
    ];
    let mut out = Vec::new();
    for (ai, &arch) in arches.iter().enumerate() {
        for (vi, &v) in vals.iter().enumerate() {
            // Put v in each word in turn; other words cycle through the values.
            for word in 0..16u32 {
                let mut words = [0u32; 16];
                for (w, slot) in words.iter_mut().enumerate() {
                    *slot = vals[(vi + w * 7 + ai) % vals.len()];
                }
                words[word as usize] = v;
                words[1] = if word == 1 { v } else { arch };
                out.push(from_words(words));
            }
        }
    }
    out
}

/// The input whose 16 words (as `LD W ABS 4*i` reads them) are `w`.
pub fn from_words(w: [u32; 16]) -> SeccompData {
    let le = w[1] & AUDIT_ARCH_LE != 0;
    let join = |a: u32, b: u32| -> u64 {
        let (lo, hi) = if le { (a, b) } else { (b, a) };
        (hi as u64) << 32 | lo as u64
    };
    let d = SeccompData {
        nr: w[0],
        arch: w[1],
        instruction_pointer: join(w[2], w[3]),
        args: std::array::from_fn(|i| join(w[4 + 2 * i], w[5 + 2 * i])),
    };
    debug_assert!((0..16).all(|i| d.word(4 * i as u32) == w[i]));
    d
}

/// Both ends (smallest and largest input) of every exit set and of both sides
/// of every conditional jump: the inputs where a wrong constant or a wrong
/// comparison operator shows, even behind ALU arithmetic (`arg0 + 6 > k` has
/// its boundary at `k - 5`, which no "near a constant" generator finds).
pub fn symbolic_boundary_inputs(an: &mut Analysis, p: &Program) -> Vec<SeccompData> {
    // Every exit, or an even sample of them for RET A with thousands of values.
    let exits = an.exits();
    let every = exits.len().div_ceil(64).max(1);
    let mut sets: Vec<_> = exits.iter().step_by(every).map(|e| e.inputs()).collect();
    for i in 0..p.len() {
        if let Some((t, f)) = an.branch(i) {
            sets.push(t);
            sets.push(f);
        }
    }
    let mut out = Vec::new();
    for s in sets {
        for d in an.example(s).into_iter().chain(an.example_max(s)) {
            // The smallest element's predecessor and the largest's successor
            // (in variable order) lie just across the set's boundary.
            out.push(d);
            out.push(lex_step(d, false));
            out.push(lex_step(d, true));
        }
    }
    out
}

/// `d` ± 1 as a 512-bit number in variable order (arch, nr, arg0..arg5, ip;
/// least significant last).
fn lex_step(d: SeccompData, up: bool) -> SeccompData {
    let mut limbs: Vec<u64> = vec![d.arch as u64, d.nr as u64];
    limbs.extend(d.args);
    limbs.push(d.instruction_pointer);
    let widths: Vec<u32> = [32, 32, 64, 64, 64, 64, 64, 64, 64].to_vec();
    for i in (0..limbs.len()).rev() {
        let max = if widths[i] == 64 { u64::MAX } else { (1u64 << widths[i]) - 1 };
        if up {
            if limbs[i] == max {
                limbs[i] = 0;
                continue;
            }
            limbs[i] += 1;
        } else {
            if limbs[i] == 0 {
                limbs[i] = max;
                continue;
            }
            limbs[i] -= 1;
        }
        break;
    }
    SeccompData {
        arch: limbs[0] as u32,
        nr: limbs[1] as u32,
        args: std::array::from_fn(|i| limbs[2 + i]),
        instruction_pointer: limbs[8],
    }
}

// ---- hand-written filters ----

const fn ld(off: u32) -> Insn {
    Insn::stmt(BPF_LD | BPF_W | BPF_ABS, off)
}
const fn ret(k: u32) -> Insn {
    Insn::stmt(BPF_RET | BPF_K, k)
}
const fn jk(op: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn::jump(BPF_JMP | op | BPF_K, k, jt, jf)
}
const fn jx(op: u16, jt: u8, jf: u8) -> Insn {
    Insn::jump(BPF_JMP | op | BPF_X, 0, jt, jf)
}
const fn alu(op: u16, k: u32) -> Insn {
    Insn::stmt(BPF_ALU | op | BPF_K, k)
}
const fn alux(op: u16) -> Insn {
    Insn::stmt(BPF_ALU | op | BPF_X, 0)
}
const RET_A: Insn = Insn::stmt(BPF_RET | BPF_A, 0);
const TAX: Insn = Insn::stmt(BPF_MISC | BPF_TAX, 0);
const TXA: Insn = Insn::stmt(BPF_MISC | BPF_TXA, 0);

const ALLOW: u32 = SECCOMP_RET_ALLOW;
const KILL: u32 = SECCOMP_RET_KILL_PROCESS;
const fn errno(e: u32) -> u32 {
    SECCOMP_RET_ERRNO | e
}

/// x86_64 arch check with libseccomp's x32 rejection.
fn x86_64_prologue() -> Vec<Insn> {
    vec![
        ld(4),
        jk(BPF_JEQ, Arch::X86_64.audit_arch(), 1, 0),
        ret(KILL),
        ld(0),
        jk(BPF_JGE, 0x4000_0000, 0, 1),
        ret(errno(38)),
    ]
}

/// Filters that, between them, use every opcode of the seccomp subset.
pub fn hand_written() -> Vec<(&'static str, ValidProgram)> {
    let mut v = Vec::new();
    // Every ALU op with a constant, on an argument's low half, into RET A.
    v.push((
        "alu-k-chain",
        vec![
            ld(16),
            alu(BPF_ADD, 0x1234),
            alu(BPF_MUL, 3),
            alu(BPF_DIV, 7),
            alu(BPF_XOR, 0xf0f0),
            alu(BPF_LSH, 3),
            alu(BPF_RSH, 1),
            alu(BPF_OR, 0x100),
            alu(BPF_AND, 0xfff),
            Insn::stmt(BPF_ALU | BPF_NEG, 0),
            alu(BPF_SUB, 5),
            alu(BPF_AND, 0xff),
            alu(BPF_OR, SECCOMP_RET_ERRNO),
            RET_A,
        ],
    ));
    // ALU with X: X a constant, a copy of A, an argument word. Each result is
    // checked by a jump; operands stay narrow, because sums and products of
    // independent full words are exponential in any variable order (those are
    // refused with a node-limit error, see the soup test).
    let mut p = vec![Insn::stmt(BPF_LDX | BPF_IMM, 6)];
    for (i, op) in
        [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_XOR].into_iter().enumerate()
    {
        p.extend([ld(16), alux(op), jk(BPF_JGT, 0x1000_0000 >> i, 0, 1), ret(errno(i as u32 + 1))]);
    }
    p.extend([
        ld(24), // arg1 low, masked: X = arg1 & 0xff
        alu(BPF_AND, 0xff),
        TAX,
        ld(16),
        alu(BPF_AND, 0xfff),
        alux(BPF_ADD),
        alux(BPF_SUB),
        alux(BPF_XOR),
        alux(BPF_OR),
        alux(BPF_AND),
        jk(BPF_JEQ, 0x10, 0, 1),
        ret(errno(20)),
        ld(32), // arg2 low & 7: 8 values, so MUL and DIV by it are split
        alu(BPF_AND, 0x7),
        alu(BPF_ADD, 1),
        TAX,
        ld(40),
        alux(BPF_DIV),
        alux(BPF_MUL),
        jk(BPF_JGE, 0x8000, 0, 1),
        ret(errno(21)),
        ld(16), // shift amount 0..63 from arg0 so the `& 31` matters
        alu(BPF_AND, 0x3f),
        TAX,
        ld(48), // arg4 low: the data
        alux(BPF_LSH),
        jk(BPF_JSET, 0x8000_0000, 0, 1),
        ret(errno(22)),
        ld(48),
        alux(BPF_RSH),
        jk(BPF_JGT, 0xff, 0, 1),
        ret(errno(23)),
        ret(ALLOW),
    ]);
    v.push(("alu-x", p));
    // Conditional jumps against X, both operands input-dependent.
    // Conditional jumps against X, both operands input-dependent. X is narrow:
    // comparing two independent full words is exponential in any variable
    // order (refused with a node-limit error, see `limits_are_explicit_errors`).
    v.push((
        "jumps-x",
        vec![
            ld(20), // arg0 high (LE)
            alu(BPF_AND, 0xff),
            TAX,
            ld(16), // arg0 low
            jx(BPF_JEQ, 0, 1),
            ret(errno(1)),
            jx(BPF_JGT, 0, 1),
            ret(errno(2)),
            jx(BPF_JSET, 0, 1),
            ret(errno(3)),
            ld(24),
            jx(BPF_JGE, 0, 1),
            ret(errno(4)),
            ret(ALLOW),
        ],
    ));
    // Scratch memory: values stored on different paths meet at a join.
    v.push((
        "memory-join",
        vec![
            ld(0),
            jk(BPF_JGT, 100, 0, 4),
            alu(BPF_ADD, 0x10),
            alu(BPF_AND, 0xff), // narrow: compared with an argument word below
            Insn::stmt(BPF_ST, 0),
            Insn::jump(BPF_JMP | BPF_JA, 2, 0, 0),
            Insn::stmt(BPF_LD | BPF_IMM, 7),
            Insn::stmt(BPF_ST, 0),
            ld(16),
            Insn::stmt(BPF_STX, 5), // X = 0 here
            Insn::stmt(BPF_ST, 3),
            Insn::stmt(BPF_LDX | BPF_MEM, 0),
            Insn::stmt(BPF_LD | BPF_MEM, 3),
            jx(BPF_JGT, 0, 2),
            Insn::stmt(BPF_LD | BPF_MEM, 5),
            RET_A,
            TXA,
            alu(BPF_OR, SECCOMP_RET_ERRNO),
            RET_A,
        ],
    ));
    // LEN loads, TAX/TXA, DIV by X where X is 0 on some paths (program returns 0).
    v.push((
        "len-and-div-by-zero",
        vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_LEN, 0),
            Insn::stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
            alux(BPF_SUB), // A = 0
            TAX,
            ld(24),
            jk(BPF_JSET, 1, 0, 1),
            Insn::stmt(BPF_LDX | BPF_IMM, 4),
            ld(16),
            alux(BPF_DIV), // X == 0 when arg1 bit 0 is clear
            alu(BPF_AND, 0x3ff),
            alu(BPF_OR, SECCOMP_RET_ERRNO),
            RET_A,
        ],
    ));
    // x86_64 with x32 rejection and argument checks on both halves (libseccomp style 64-bit compare).
    let mut p = x86_64_prologue();
    p.extend([
        jk(BPF_JEQ, 9, 0, 9), // mmap
        ld(36),               // arg2 high
        jk(BPF_JEQ, 0, 0, 5),
        ld(32), // arg2 low
        jk(BPF_JSET, 0x4, 0, 1),
        ret(errno(13)),
        ld(20), // arg0 high only: bypassable check
        jk(BPF_JEQ, 0, 1, 0),
        ret(ALLOW),
        ret(KILL),
        jk(BPF_JEQ, 257, 0, 4), // openat
        ld(32),
        jk(BPF_JSET, 3, 1, 0),
        ret(ALLOW),
        ret(errno(1)),
        jk(BPF_JGE, 1000, 0, 1),
        ret(SECCOMP_RET_TRAP | 5),
        ret(ALLOW),
    ]);
    v.push(("x86_64-args", p));
    // No arch check at all: argument loads depend on the byte order.
    v.push((
        "no-arch-check",
        vec![
            ld(0),
            jk(BPF_JEQ, 1, 0, 3),
            ld(16),
            jk(BPF_JGT, 0x8000_0000, 0, 1),
            ret(errno(9)),
            ld(8), // ip word
            jk(BPF_JEQ, 0x1000, 0, 1),
            ret(SECCOMP_RET_LOG),
            ret(ALLOW),
        ],
    ));
    // RET A with an action computed from an argument, chosen per path.
    v.push((
        "computed-actions",
        vec![
            ld(0),
            jk(BPF_JEQ, 2, 0, 4),
            ld(24),
            alu(BPF_AND, 0x3f),
            alu(BPF_OR, SECCOMP_RET_ERRNO),
            Insn::jump(BPF_JMP | BPF_JA, 3, 0, 0),
            ld(32),
            alu(BPF_RSH, 28),
            alu(BPF_OR, SECCOMP_RET_TRAP),
            jk(BPF_JEQ, SECCOMP_RET_TRAP, 0, 1),
            ret(ALLOW),
            RET_A,
        ],
    ));
    // Shifts by X above 31 are masked; MUL/DIV by X with X from a few constants.
    v.push((
        "shift-and-split-x",
        vec![
            ld(16),
            alu(BPF_AND, 0x3f), // 0..63: shift amounts above 31 exercise the mask
            TAX,
            Insn::stmt(BPF_LD | BPF_IMM, 0x8000_0001),
            alux(BPF_LSH),
            Insn::stmt(BPF_ST, 1),
            Insn::stmt(BPF_LD | BPF_IMM, 0x8000_0001),
            alux(BPF_RSH),
            Insn::stmt(BPF_LDX | BPF_MEM, 1),
            alux(BPF_ADD),
            jk(BPF_JEQ, 0x8000_0001u32.wrapping_add(0x8000_0001), 0, 1),
            ret(ALLOW),
            alu(BPF_AND, 0xfff),
            alu(BPF_OR, SECCOMP_RET_ERRNO),
            RET_A,
        ],
    ));
    // Instruction pointer windows and a big-endian arch.
    v.push((
        "ip-and-s390x",
        vec![
            ld(4),
            jk(BPF_JEQ, Arch::S390x.audit_arch(), 0, 6),
            ld(8), // ip high on big-endian
            jk(BPF_JEQ, 0, 0, 3),
            ld(12), // ip low
            jk(BPF_JGE, 0x40_0000, 0, 1),
            ret(ALLOW),
            ret(errno(1)),
            ret(KILL),
        ],
    ));
    v.into_iter().map(|(n, p)| (n, valid(Program::new(p)))).collect()
}

/// Every named syscall of x86_64, x32 and i386 with a few argument patterns.
pub fn arch_syscall_inputs<R: rand::Rng>(rng: &mut R) -> Vec<SeccompData> {
    let mut out = Vec::new();
    for a in [Arch::X86_64, Arch::X32, Arch::I386, Arch::Aarch64] {
        for &(nr, _) in a.syscalls() {
            for _ in 0..3 {
                let mut args = [0u64; 6];
                for x in &mut args {
                    *x = match rng.gen_range(0..4) {
                        0 => 0,
                        1 => rng.gen_range(0..64),
                        2 => rng.gen::<u32>() as u64,
                        _ => rng.gen(),
                    };
                }
                out.push(SeccompData { nr, arch: a.audit_arch(), instruction_pointer: 0x40_1000, args });
            }
        }
    }
    out
}
