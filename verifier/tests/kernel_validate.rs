//! `bpf::validate` against the running kernel: for every generated program,
//! "valid" must equal "the kernel accepts it as a seccomp filter".
//!
//! Programs come from `seccheck::testgen` (filter-shaped, soup, computed
//! actions, and their mutations) plus the corners this file adds: every one of
//! the 65536 opcodes, loads at every offset, shifts and divisions at their
//! limits, jumps at the edge of the program, scratch memory written on some
//! paths only, and lengths around 4096. The bulk goes through
//! `kernel::Validator` (one child); a sample also goes through
//! `kernel::accepts` (one fork per program, a real install) and the two
//! oracles must agree.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use seccheck::bpf::insn::*;
use seccheck::bpf::validate::{validate, violations, Rule};
use seccheck::bpf::{Insn, Program};
use seccheck::kernel::{accepts, Acceptance, Validator};
use seccheck::seccomp::SECCOMP_RET_ALLOW;
use seccheck::testgen;
use std::collections::BTreeMap;

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

const RET_ALLOW: Insn = Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
const EINVAL: i32 = 22;

/// Programs at the corners of every validation rule.
fn corner_programs() -> Vec<Program> {
    let mut out = Vec::new();
    let p = |v: Vec<Insn>| Program::new(v);
    // Every 16-bit opcode, with k = 0 and k = 1, followed by a RET.
    for code in 0..=u16::MAX {
        for k in [0, 1] {
            out.push(p(vec![Insn::new(code, 0, 0, k), RET_ALLOW]));
        }
    }
    // Loads at every offset around struct seccomp_data, and far away.
    for k in (0..80).chain([0xffff_f000, 0xffff_f004, 0xffff_ffff, 0x8000_0000]) {
        for code in
            [BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS, BPF_LD | BPF_W | BPF_IND]
        {
            out.push(p(vec![Insn::stmt(code, k), RET_ALLOW]));
        }
    }
    // Shifts and divisions by constants at their limits.
    for k in [0, 1, 31, 32, 33, u32::MAX] {
        for op in [BPF_LSH, BPF_RSH, BPF_DIV, BPF_MOD] {
            out.push(p(vec![Insn::stmt(BPF_ALU | op | BPF_K, k), RET_ALLOW]));
        }
    }
    // JA at the edge: k = flen - pc - 2 is the last valid target.
    for len in [2usize, 3, 10, 300] {
        for pc in 0..len - 1 {
            let room = (len - pc - 1) as u32;
            for k in [room.wrapping_sub(1), room, room + 1, u32::MAX, 0x8000_0000] {
                let mut v = vec![RET_ALLOW; len];
                v[pc] = Insn::stmt(BPF_JMP | BPF_JA, k);
                out.push(p(v));
            }
            if len > 10 && pc % 17 != 0 {
                continue;
            }
            // Conditional jumps at the edge.
            for (jt, jf) in [(room - 1, room - 1), (room, 0), (0, room), (255, 255)] {
                if jt > 255 || jf > 255 {
                    continue;
                }
                let mut v = vec![RET_ALLOW; len];
                v[pc] = Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 5, jt as u8, jf as u8);
                out.push(p(v));
            }
        }
    }
    // Lengths: empty, 4095, 4096, 4097, the largest sock_fprog.
    for len in [0usize, 1, 4095, 4096, 4097, 5000, 65535] {
        out.push(p(vec![RET_ALLOW; len]));
    }
    // A program of 4096 whose last instruction is not a RET; a long JA chain.
    let mut v = vec![RET_ALLOW; 4096];
    v[4095] = Insn::stmt(BPF_LD | BPF_IMM, 0);
    out.push(p(v));
    let mut v = vec![Insn::stmt(BPF_JMP | BPF_JA, 0); 4096];
    v[4095] = RET_ALLOW;
    out.push(p(v.clone()));
    v[0] = Insn::stmt(BPF_JMP | BPF_JA, 4094);
    out.push(p(v.clone()));
    v[0] = Insn::stmt(BPF_JMP | BPF_JA, 4095);
    out.push(p(v));
    // Scratch memory: every cell index, read before and after a store.
    for k in 0..18 {
        out.push(p(vec![Insn::stmt(BPF_ST, k), Insn::stmt(BPF_LD | BPF_MEM, k), RET_ALLOW]));
        out.push(p(vec![Insn::stmt(BPF_STX, k), Insn::stmt(BPF_LDX | BPF_MEM, k), RET_ALLOW]));
        out.push(p(vec![Insn::stmt(BPF_LD | BPF_MEM, k), Insn::stmt(BPF_ST, k), RET_ALLOW]));
    }
    // Stores after a RET still count for the fall-through (memvalid is not reset).
    out.push(p(vec![Insn::stmt(BPF_ST, 5), RET_ALLOW, Insn::stmt(BPF_LD | BPF_MEM, 5), RET_ALLOW]));
    // Return with unusual rval bits (RET X and an undefined one).
    for code in [0x06, 0x0e, 0x16, 0x1e, 0x26, 0x86] {
        out.push(p(vec![Insn::stmt(code, 0)]));
    }
    out
}

/// Random branchy programs that store and load scratch cells on some paths
/// only: the input `check_load_and_stores` exists for.
fn memory_program<R: Rng>(rng: &mut R) -> Program {
    let len = rng.gen_range(3..40);
    let cells = rng.gen_range(1..4u32);
    let mut v = Vec::with_capacity(len);
    for pc in 0..len - 1 {
        let remaining = len - 1 - pc;
        let cell = rng.gen_range(0..cells);
        let ins = match rng.gen_range(0..10) {
            0 | 1 => Insn::stmt(*[BPF_ST, BPF_STX].choose(rng).unwrap(), cell),
            2 | 3 => Insn::stmt(*[BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM].choose(rng).unwrap(), cell),
            4..=6 if remaining > 1 => {
                let max = (remaining - 1).min(255);
                Insn::jump(
                    BPF_JMP | BPF_JEQ | BPF_K,
                    rng.gen_range(0..3),
                    rng.gen_range(0..=max) as u8,
                    rng.gen_range(0..=max) as u8,
                )
            }
            7 if remaining > 1 => Insn::stmt(BPF_JMP | BPF_JA, rng.gen_range(0..remaining as u32 - 1)),
            8 => Insn::stmt(BPF_RET | BPF_A, 0),
            _ => Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        };
        v.push(ins);
    }
    v.push(RET_ALLOW);
    Program::new(v)
}

/// A program of about 4096 instructions, valid or just past a limit.
fn near_limit<R: Rng>(rng: &mut R) -> Program {
    let len = rng.gen_range(4090..=4100);
    let mut p = testgen::soup(rng, len.min(4096));
    while p.len() < len {
        p.insns.insert(0, Insn::stmt(BPF_LD | BPF_IMM, rng.gen()));
    }
    if rng.gen_bool(0.5) {
        p = testgen::mutate(rng, &p);
    }
    p
}

/// Generated and mutated programs, then the corners.
fn programs(seed: u64, n: usize) -> Vec<Program> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n + 140_000);
    for i in 0..n {
        let p = match i % 10 {
            0..=2 => testgen::valid_program(&mut rng),
            3..=6 => {
                let p = testgen::valid_program(&mut rng);
                testgen::mutate(&mut rng, &p)
            }
            7 | 8 => memory_program(&mut rng),
            _ if i % 100 == 9 => near_limit(&mut rng),
            _ => {
                // Random opcodes from the whole 16-bit space and the classic set.
                let len = rng.gen_range(1..8);
                let mut v: Vec<Insn> = (0..len)
                    .map(|_| {
                        let code = if rng.gen_bool(0.5) {
                            rng.gen()
                        } else {
                            *testgen::CLASSIC_OPCODES.choose(&mut rng).unwrap()
                        };
                        Insn::new(code, rng.gen_range(0..3), rng.gen_range(0..3), testgen::interesting_u32(&mut rng))
                    })
                    .collect();
                v.push(RET_ALLOW);
                Program::new(v)
            }
        };
        out.push(p);
    }
    out.extend(corner_programs());
    out
}

/// One disagreement between a validator and the kernel.
struct Disagreement {
    program: Program,
    kernel: Acceptance,
    ours: bool,
    why: Vec<String>,
}

/// The kernel's verdict on every program (asked once; each accepted program
/// costs the kernel a JIT compilation, paced by `kernel::health::pace`).
fn kernel_verdicts(v: &mut Validator, programs: &[Program]) -> Vec<Acceptance> {
    programs.iter().map(|p| v.accepts(p).unwrap_or_else(|e| panic!("kernel oracle failed on {p:?}: {e}"))).collect()
}

/// Judge `programs` with `ours` (true = valid) against the kernel's verdicts;
/// return the disagreements and the tally of kernel verdicts.
fn compare(
    programs: &[Program],
    kernel: &[Acceptance],
    ours: impl Fn(&Program) -> bool,
) -> (Vec<Disagreement>, BTreeMap<String, usize>) {
    let mut tally = BTreeMap::new();
    let mut bad = Vec::new();
    for (p, &k) in programs.iter().zip(kernel) {
        *tally.entry(format!("{k:?}")).or_insert(0) += 1;
        let valid = ours(p);
        if valid != k.is_accepted() {
            let why = violations(p).iter().map(|v| v.to_string()).collect();
            bad.push(Disagreement { program: p.clone(), kernel: k, ours: valid, why });
        }
    }
    (bad, tally)
}

fn report(bad: &[Disagreement]) -> String {
    bad.iter()
        .take(8)
        .map(|d| {
            format!(
                "kernel {:?}, validate says {}: {:?}\n  violations: {:?}",
                d.kernel,
                if d.ours { "valid" } else { "invalid" },
                d.program.insns.iter().take(12).collect::<Vec<_>>(),
                d.why
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn validate_agrees_with_the_kernel() {
    if !kernel_usable() {
        return;
    }
    let programs = programs(0x5eccec, 12_000);
    let mut v = Validator::new().unwrap();
    let start = std::time::Instant::now();
    let kernel = kernel_verdicts(&mut v, &programs);
    let (bad, tally) = compare(&programs, &kernel, |p| validate(p).is_ok());
    let secs = start.elapsed().as_secs_f64();
    println!(
        "compared {} programs with the kernel in {secs:.2} s ({:.0}/s, {} validator children): {tally:?}",
        programs.len(),
        programs.len() as f64 / secs,
        v.spawns
    );
    // Every rule was exercised, and the kernel refuses with EINVAL only.
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &programs {
        for viol in violations(p) {
            let name = match viol.rule {
                Rule::Length { .. } => "length",
                Rule::UnknownOpcode { .. } => "unknown-opcode",
                Rule::NotAllowedInSeccomp { .. } => "not-in-seccomp",
                Rule::DivisionByZero => "division-by-zero",
                Rule::ShiftTooLarge { .. } => "shift-too-large",
                Rule::MemoryIndex { .. } => "memory-index",
                Rule::JumpOutOfRange { .. } => "jump-out-of-range",
                Rule::CondJumpOutOfRange { .. } => "cond-jump-out-of-range",
                Rule::LoadOffset { .. } => "load-offset",
                Rule::LastNotReturn => "last-not-return",
                Rule::ReadBeforeWrite { .. } => "read-before-write",
            };
            *rules.entry(name).or_insert(0) += 1;
        }
    }
    println!("violations by rule: {rules:?}");
    assert_eq!(rules.len(), 11, "every rule must be exercised: {rules:?}");
    assert!(bad.is_empty(), "{} disagreements with the kernel:\n{}", bad.len(), report(&bad));
    for k in tally.keys() {
        assert!(k == "Accepted" || k == &format!("Rejected {{ errno: {EINVAL} }}"), "unexpected verdict {k}");
    }
    assert!(tally["Accepted"] > 3_000 && tally.len() == 2, "{tally:?}");
}

#[test]
fn one_fork_per_program_agrees_with_the_validator_child() {
    if !kernel_usable() {
        return;
    }
    // `accepts` really installs the filter; the Validator relies on EBUSY.
    let programs: Vec<Program> = programs(7, 3000).into_iter().step_by(7).take(600).collect();
    let mut v = Validator::new().unwrap();
    let start = std::time::Instant::now();
    let mut tally = BTreeMap::new();
    for p in &programs {
        let forked = accepts(p).unwrap();
        assert_eq!(forked, v.accepts(p).unwrap(), "{p:?}");
        *tally.entry(forked.is_accepted()).or_insert(0) += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} programs both ways in {secs:.2} s ({:.0} forks/s): {tally:?}",
        programs.len(),
        programs.len() as f64 / secs
    );
    assert!(tally.len() == 2, "both verdicts must occur: {tally:?}");
}

/// The test of the test: validators that drifted from the kernel in known ways
/// must be caught by the same comparison.
#[test]
fn a_drifted_validator_is_caught() {
    if !kernel_usable() {
        return;
    }
    let programs = programs(11, 3000);
    let mut v = Validator::new().unwrap();
    let kernel = kernel_verdicts(&mut v, &programs);
    let only = |p: &Program, allowed: &dyn Fn(&Rule) -> bool| {
        let vs = violations(p);
        vs.iter().all(|x| allowed(&x.rule))
    };
    // 1. Forgets that seccomp refuses BPF_MOD (bpf_check_classic allows it).
    let allows_mod = |p: &Program| only(p, &|r| matches!(r, Rule::NotAllowedInSeccomp { what: "BPF_MOD", .. }));
    let (bad, _) = compare(&programs, &kernel, allows_mod);
    println!("validator allowing BPF_MOD: {} disagreements", bad.len());
    assert!(!bad.is_empty(), "a validator allowing BPF_MOD must disagree with the kernel");
    assert!(bad.iter().all(|d| d.ours && !d.kernel.is_accepted()));
    // 2. Forgets check_load_and_stores.
    let no_memvalid = |p: &Program| only(p, &|r| matches!(r, Rule::ReadBeforeWrite { .. }));
    let (bad, _) = compare(&programs, &kernel, no_memvalid);
    println!("validator without check_load_and_stores: {} disagreements", bad.len());
    assert!(!bad.is_empty(), "a validator without the memory check must disagree with the kernel");
    // 3. Off by one on the JA range (`k > flen - pc - 1` instead of `>=`).
    let ja_off_by_one =
        |p: &Program| only(p, &|r| matches!(r, Rule::JumpOutOfRange { target } if *target == p.len() as u64));
    let (bad, _) = compare(&programs, &kernel, ja_off_by_one);
    println!("validator with an off-by-one JA range: {} disagreements", bad.len());
    assert!(!bad.is_empty(), "an off-by-one JA check must disagree with the kernel");
}
