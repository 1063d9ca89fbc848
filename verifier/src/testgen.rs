//! Generators of programs and inputs shared by tests, benches and fuzz targets
//! (feature `testgen`).
//!
//! Three judges (emulator, symbolic evaluator, kernel) only catch drift when they
//! are fed inputs that reach the interesting corners. So the generators here
//! produce:
//! - *valid* seccomp programs shaped like real filters (arch check, syscall
//!   dispatch, argument checks on both halves, ALU and scratch-memory use, `RET A`
//!   with computed actions) plus random straight-line/jump soup;
//! - *mutations* of programs (bit flips, truncation, extension, random opcodes) for
//!   validator-vs-kernel tests;
//! - *inputs* at the boundaries of every constant a program compares against, on
//!   nr, arch, the instruction pointer and both halves of every argument.
//!
//! Everything is driven by a caller-supplied RNG so failures reproduce from a seed.

pub mod skip;

use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::seccomp::*;
use rand::seq::SliceRandom;
use rand::Rng;

/// Return values a generated filter may produce, covering every action and the
/// data edge cases (`ERRNO` above `MAX_ERRNO`, unknown action values).
pub const INTERESTING_RETS: &[u32] = &[
    SECCOMP_RET_ALLOW,
    SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE | 7,
    SECCOMP_RET_USER_NOTIF,
    SECCOMP_RET_ERRNO | 1,
    SECCOMP_RET_ERRNO | 13,
    SECCOMP_RET_ERRNO | 0xffff,
    SECCOMP_RET_TRAP | 3,
    SECCOMP_RET_KILL_THREAD,
    SECCOMP_RET_KILL_PROCESS,
    0x0004_0000, // unknown action between TRAP and ERRNO
    0x9000_0000, // unknown action with the sign bit
];

/// Arch values a generated filter checks for or an input carries.
pub fn interesting_arches() -> Vec<u32> {
    let mut v: Vec<u32> = Arch::all().map(|a| a.audit_arch()).collect();
    v.dedup();
    v.extend([0, 0xffff_ffff, 0x4000_003e]);
    v
}

fn pick_ret<R: Rng>(rng: &mut R) -> u32 {
    if rng.gen_bool(0.9) {
        *INTERESTING_RETS.choose(rng).unwrap()
    } else {
        rng.gen()
    }
}

/// A constant that is often "interesting" (small, a power of two, all ones…).
pub fn interesting_u32<R: Rng>(rng: &mut R) -> u32 {
    match rng.gen_range(0..8) {
        0 => 0,
        1 => rng.gen_range(0..512),
        2 => 1 << rng.gen_range(0..32),
        3 => u32::MAX - rng.gen_range(0..4),
        4 => 0x4000_0000 | rng.gen_range(0..600),
        5 => (1u32 << rng.gen_range(0..32)).wrapping_sub(1),
        _ => rng.gen(),
    }
}

/// A valid program shaped like the filters generators emit: optional arch check,
/// a load of `nr`, a chain of syscall comparisons each leading either to a
/// return or to an argument check (one or both halves, masked or compared), and
/// a default return.
pub fn filter_like<R: Rng>(rng: &mut R) -> Program {
    // Build blocks back to front so every jump is forward and in range.
    let mut tail: Vec<Insn> = vec![Insn::stmt(BPF_RET | BPF_K, pick_ret(rng))]; // default
    let n_rules = rng.gen_range(1..12);
    for _ in 0..n_rules {
        let nr = if rng.gen_bool(0.8) { rng.gen_range(0..460) } else { interesting_u32(rng) };
        // Body executed when nr matches; at its end control returns.
        let mut body: Vec<Insn> = Vec::new();
        if rng.gen_bool(0.5) {
            let arg = rng.gen_range(0..6u32);
            let half = if rng.gen_bool(0.5) { 0 } else { 4 };
            let off = 16 + 8 * arg + half;
            let ret_hit = pick_ret(rng);
            let ret_miss = pick_ret(rng);
            body.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, off));
            if rng.gen_bool(0.4) {
                body.push(Insn::stmt(BPF_ALU | BPF_AND | BPF_K, interesting_u32(rng)));
            }
            let op = *[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].choose(rng).unwrap();
            body.push(Insn::jump(BPF_JMP | op | BPF_K, interesting_u32(rng), 0, 1));
            body.push(Insn::stmt(BPF_RET | BPF_K, ret_hit));
            body.push(Insn::stmt(BPF_RET | BPF_K, ret_miss));
        } else {
            body.push(Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)));
        }
        // Each rule: reload nr (bodies clobber A), compare, on match fall into body,
        // else skip body to the remaining chain.
        if body.len() > 255 {
            continue;
        }
        let mut block = vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, body.len() as u8),
        ];
        block.extend(body);
        block.extend(tail);
        tail = block;
    }
    let mut prog = Vec::new();
    if rng.gen_bool(0.8) {
        let arch = *interesting_arches().choose(rng).unwrap();
        prog.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4));
        prog.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0));
        prog.push(Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)));
        if rng.gen_bool(0.5) {
            // the x32 check libseccomp emits for x86_64
            prog.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0));
            prog.push(Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 0, 1));
            prog.push(Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)));
        }
    }
    prog.extend(tail);
    Program::new(prog)
}

/// A valid program shaped like libseccomp's linear output (optimize 1, runc):
/// optional arch check, one load of `nr`, then a chain of `jeq nr, BODY, 0`
/// tests (values sometimes repeated) that fall through to the default return,
/// and the bodies after it (a return, or an argument check).
pub fn dispatch_chain<R: Rng>(rng: &mut R) -> Program {
    let mut prog = Vec::new();
    if rng.gen_bool(0.7) {
        prog.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4));
        prog.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, *interesting_arches().choose(rng).unwrap(), 1, 0));
        prog.push(Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)));
    }
    prog.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0));
    let n = rng.gen_range(1..24usize);
    let mut values: Vec<u32> = Vec::with_capacity(n);
    let mut bodies: Vec<Vec<Insn>> = Vec::with_capacity(n);
    for _ in 0..n {
        let v =
            if !values.is_empty() && rng.gen_bool(0.1) { *values.choose(rng).unwrap() } else { rng.gen_range(0..460) };
        values.push(v);
        bodies.push(if rng.gen_bool(0.6) {
            vec![Insn::stmt(BPF_RET | BPF_K, pick_ret(rng))]
        } else {
            let off = 16 + 8 * rng.gen_range(0..6u32) + if rng.gen_bool(0.5) { 0 } else { 4 };
            let op = *[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].choose(rng).unwrap();
            vec![
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, off),
                Insn::jump(BPF_JMP | op | BPF_K, interesting_u32(rng), 0, 1),
                Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)),
                Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)),
            ]
        });
    }
    // Test i sits n - i instructions before the default return; body i
    // starts after the default and the bodies before it (at most 24 + 1 +
    // 23 * 4 away, so every offset fits in a byte).
    let mut body_start = n + 1;
    for (i, v) in values.iter().enumerate() {
        let jt = body_start - i - 1;
        prog.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, *v, u8::try_from(jt).expect("offsets fit in a byte"), 0));
        body_start += bodies[i].len();
    }
    prog.push(Insn::stmt(BPF_RET | BPF_K, pick_ret(rng)));
    prog.extend(bodies.into_iter().flatten());
    Program::new(prog)
}

/// A valid program of random instructions from the whole seccomp subset: every
/// ALU op (K and X), loads of any word, scratch memory (stored before read on
/// every path), forward jumps of every kind, `RET K` and `RET A`.
pub fn soup<R: Rng>(rng: &mut R, len: usize) -> Program {
    let len = len.clamp(2, 4096);
    let mut insns = Vec::with_capacity(len);
    // Prologue: make scratch cells valid so later loads are accepted.
    let cells = rng.gen_range(0..4u32);
    for c in 0..cells {
        insns.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4 * rng.gen_range(0..16u32)));
        insns.push(Insn::stmt(BPF_ST, c));
    }
    while insns.len() < len - 1 {
        let pc = insns.len();
        let remaining = len - 1 - pc; // instructions after this one, incl. the final RET
        let ins = match rng.gen_range(0..14) {
            0 | 1 => Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4 * rng.gen_range(0..16u32)),
            2 => Insn::stmt(BPF_LD | BPF_IMM, interesting_u32(rng)),
            3 => Insn::stmt(BPF_LDX | BPF_IMM, interesting_u32(rng)),
            4 => {
                let op = *[BPF_ADD, BPF_SUB, BPF_MUL, BPF_OR, BPF_AND, BPF_XOR].choose(rng).unwrap();
                Insn::stmt(BPF_ALU | op | BPF_K, interesting_u32(rng))
            }
            5 => match rng.gen_range(0..3) {
                0 => Insn::stmt(BPF_ALU | BPF_DIV | BPF_K, interesting_u32(rng).max(1)),
                1 => Insn::stmt(BPF_ALU | BPF_LSH | BPF_K, rng.gen_range(0..32)),
                _ => Insn::stmt(BPF_ALU | BPF_RSH | BPF_K, rng.gen_range(0..32)),
            },
            6 => {
                let op = *[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_XOR]
                    .choose(rng)
                    .unwrap();
                Insn::stmt(BPF_ALU | op | BPF_X, 0)
            }
            7 => *[
                Insn::stmt(BPF_ALU | BPF_NEG, 0),
                Insn::stmt(BPF_MISC | BPF_TAX, 0),
                Insn::stmt(BPF_MISC | BPF_TXA, 0),
                Insn::stmt(BPF_LD | BPF_W | BPF_LEN, 0),
                Insn::stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
            ]
            .choose(rng)
            .unwrap(),
            8 if cells > 0 => {
                let c = rng.gen_range(0..cells);
                *[
                    Insn::stmt(BPF_LD | BPF_MEM, c),
                    Insn::stmt(BPF_LDX | BPF_MEM, c),
                    Insn::stmt(BPF_ST, c),
                    Insn::stmt(BPF_STX, c),
                ]
                .choose(rng)
                .unwrap()
            }
            9..=11 if remaining > 1 => {
                let op = *[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].choose(rng).unwrap();
                let src = if rng.gen_bool(0.25) { BPF_X } else { BPF_K };
                let max = (remaining - 1).min(255);
                let jt = rng.gen_range(0..=max) as u8;
                let jf = rng.gen_range(0..=max) as u8;
                Insn::jump(BPF_JMP | op | src, interesting_u32(rng), jt, jf)
            }
            12 if remaining > 1 => Insn::stmt(BPF_JMP | BPF_JA, rng.gen_range(0..remaining as u32 - 1)),
            _ => {
                if rng.gen_bool(0.5) {
                    Insn::stmt(BPF_RET | BPF_K, pick_ret(rng))
                } else {
                    Insn::stmt(BPF_RET | BPF_A, 0)
                }
            }
        };
        insns.push(ins);
    }
    insns.push(if rng.gen_bool(0.5) {
        Insn::stmt(BPF_RET | BPF_K, pick_ret(rng))
    } else {
        Insn::stmt(BPF_RET | BPF_A, 0)
    });
    Program::new(insns)
}

/// A program computing its action with `RET A`: the result of ALU on input words
/// `OR`ed into an action value, so data bits come from arguments.
pub fn computed_action<R: Rng>(rng: &mut R) -> Program {
    let action = *[SECCOMP_RET_ERRNO, SECCOMP_RET_TRAP, SECCOMP_RET_TRACE].choose(rng).unwrap();
    Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16 + 8 * rng.gen_range(0..6u32)),
        Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xffff),
        Insn::stmt(BPF_ALU | BPF_OR | BPF_K, action),
        Insn::stmt(BPF_RET | BPF_A, 0),
    ])
}

/// One of the valid-program generators, chosen at random.
pub fn valid_program<R: Rng>(rng: &mut R) -> Program {
    match rng.gen_range(0..6) {
        0 | 1 => filter_like(rng),
        2 => computed_action(rng),
        5 => dispatch_chain(rng),
        3 => {
            let len = rng.gen_range(2..40);
            soup(rng, len)
        }
        _ => {
            let len = rng.gen_range(2..400);
            soup(rng, len)
        }
    }
}

/// A mutation of `p`: may or may not still be valid.
pub fn mutate<R: Rng>(rng: &mut R, p: &Program) -> Program {
    let mut insns = p.insns.clone();
    let rounds = rng.gen_range(1..4);
    for _ in 0..rounds {
        if insns.is_empty() {
            insns.push(Insn::stmt(BPF_RET | BPF_K, 0));
        }
        let i = rng.gen_range(0..insns.len());
        match rng.gen_range(0..10) {
            0 => insns[i].code ^= 1 << rng.gen_range(0..16),
            1 => insns[i].code = *CLASSIC_OPCODES.choose(rng).unwrap(),
            2 => insns[i].code = rng.gen(),
            3 => insns[i].jt = rng.gen(),
            4 => insns[i].jf = rng.gen(),
            5 => insns[i].k ^= 1 << rng.gen_range(0..32),
            6 => insns[i].k = interesting_u32(rng),
            7 => insns.truncate(i.max(1)),
            8 => {
                let n = rng.gen_range(1..4);
                for _ in 0..n {
                    insns.push(Insn::new(
                        *CLASSIC_OPCODES.choose(rng).unwrap(),
                        rng.gen(),
                        rng.gen(),
                        interesting_u32(rng),
                    ));
                }
            }
            _ => {
                let j = rng.gen_range(0..insns.len());
                insns.swap(i, j)
            }
        }
    }
    Program::new(insns)
}

/// Every opcode in `chk_code_allowed` (net/core/filter.c).
pub const CLASSIC_OPCODES: &[u16] = &[
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac, 0x64, 0x6c, 0x74,
    0x7c, 0x84, 0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xb1, 0x01, 0x61, 0x02, 0x03, 0x07, 0x87,
    0x06, 0x16, 0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d,
];

/// Constants a program compares or combines with (the `k` of every jump and ALU
/// instruction, and of `LD IMM`/`LDX IMM`).
pub fn program_constants(p: &Program) -> Vec<u32> {
    let mut ks: Vec<u32> = p
        .insns
        .iter()
        .filter(|i| {
            matches!(i.class(), BPF_JMP | BPF_ALU)
                || (matches!(i.class(), BPF_LD | BPF_LDX) && i.code & 0xe0 == BPF_IMM)
        })
        .map(|i| i.k)
        .collect();
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// A 32-bit value near one of `consts` (k-1, k, k+1, k with bits flipped), or random.
pub fn near<R: Rng>(rng: &mut R, consts: &[u32]) -> u32 {
    if consts.is_empty() || rng.gen_bool(0.15) {
        return interesting_u32(rng);
    }
    let k = *consts.choose(rng).unwrap();
    match rng.gen_range(0..6) {
        0 => k.wrapping_sub(1),
        1 => k.wrapping_add(1),
        2 => k ^ (1 << rng.gen_range(0..32)),
        3 => !k,
        _ => k,
    }
}

/// Inputs aimed at `p`: nr and arch near the program's constants or known arch
/// values, and each argument/ip half independently near a constant or random.
pub fn inputs_for<R: Rng>(rng: &mut R, p: &Program, n: usize) -> Vec<SeccompData> {
    let consts = program_constants(p);
    let arches = interesting_arches();
    (0..n)
        .map(|_| {
            let arch = if rng.gen_bool(0.85) { *arches.choose(rng).unwrap() } else { near(rng, &consts) };
            let half = |rng: &mut R| near(rng, &consts) as u64;
            let word64 = |rng: &mut R| (half(rng) << 32) | half(rng);
            let mut args = [0u64; 6];
            for a in &mut args {
                *a = if rng.gen_bool(0.2) { 0 } else { word64(rng) };
            }
            SeccompData {
                nr: if rng.gen_bool(0.7) { near(rng, &consts) } else { rng.gen_range(0..500) },
                arch,
                instruction_pointer: word64(rng),
                args,
            }
        })
        .collect()
}

/// proptest strategies built on the generators above (seeded from proptest's RNG,
/// so shrinking works on the seed).
pub mod strategies {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    /// A valid seccomp program.
    pub fn valid_program() -> impl Strategy<Value = Program> {
        any::<u64>().prop_map(|s| super::valid_program(&mut SmallRng::seed_from_u64(s)))
    }

    /// Any decodable program (possibly invalid): a valid one, mutated or not.
    pub fn any_program() -> impl Strategy<Value = Program> {
        (any::<u64>(), any::<bool>()).prop_map(|(s, m)| {
            let mut rng = SmallRng::seed_from_u64(s);
            let p = super::valid_program(&mut rng);
            if m {
                mutate(&mut rng, &p)
            } else {
                p
            }
        })
    }

    /// A valid program with inputs aimed at it.
    pub fn program_with_inputs(n: usize) -> impl Strategy<Value = (Program, Vec<SeccompData>)> {
        any::<u64>().prop_map(move |s| {
            let mut rng = SmallRng::seed_from_u64(s);
            let p = super::valid_program(&mut rng);
            let inputs = inputs_for(&mut rng, &p, n);
            (p, inputs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::validate::validate;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn generated_programs_are_valid() {
        let mut rng = SmallRng::seed_from_u64(1);
        for i in 0..2000 {
            let p = valid_program(&mut rng);
            if let Err(v) = validate(&p) {
                panic!("program {i} invalid: {v:?}\n{p:?}");
            }
        }
    }

    #[test]
    fn mutations_produce_both_verdicts() {
        let mut rng = SmallRng::seed_from_u64(2);
        let (mut ok, mut bad) = (0, 0);
        for _ in 0..2000 {
            let p = valid_program(&mut rng);
            match validate(&mutate(&mut rng, &p)) {
                Ok(_) => ok += 1,
                Err(_) => bad += 1,
            }
        }
        assert!(ok > 200 && bad > 200, "ok={ok} bad={bad}");
    }
}
