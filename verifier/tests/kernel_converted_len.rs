//! `bpf::converted_len` and `seccomp::PathLength` against the running kernel.
//!
//! The kernel never tells a filter's converted (eBPF) length, but it refuses
//! a stack whose lengths add up past `MAX_INSNS_PER_PATH`
//! (`seccomp_attach_filter`, kernel/seccomp.c). So for each program under
//! test we attach filler filters below it and search, by loading, for the
//! largest filler under which the program still attaches. That boundary
//! moves one for one with the program's converted length, so it must equal
//! what the model predicts, instruction for instruction. The programs cover
//! every instruction form seccomp accepts: `RET K`/`RET A`, every conditional
//! jump (K and X) with every jt/jf shape and negative K, `JA`, every ALU op
//! incl. `DIV X`, loads (ABS, IMM, MEM, LEN), stores, `TAX`/`TXA`, plus
//! generated filters from `seccheck::testgen` and every compiled corpus filter.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use seccheck::bpf::insn::*;
use seccheck::bpf::{converted_len, validate, Insn, Program};
use seccheck::kernel::{attach_stack, Abi, OracleError, OracleInput, StackAttach};
use seccheck::seccomp::{PathLength, SECCOMP_RET_ALLOW};
use seccheck::testgen;

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

const RET_ALLOW: Insn = Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
const TAX: Insn = Insn::stmt(BPF_MISC | BPF_TAX, 0);
const ENOMEM: i32 = 12;
/// Shortest and longest converted length [`filler`] can make.
const FILLER_MIN: usize = 5;
const FILLER_MAX: usize = 3 + 2 * 4096;

/// An allow-all filter whose converted length is exactly `len` (in
/// `FILLER_MIN..=FILLER_MAX`): `t` TAX (1 each) then `r` `ret ALLOW` (2 each).
fn filler(len: usize) -> Program {
    assert!((FILLER_MIN..=FILLER_MAX).contains(&len));
    let body = len - 3;
    let (t, r) = if body <= 4096 + 1 { (body - 2, 1) } else { (4096 - (body - 4096), body - 4096) };
    let mut v = vec![TAX; t];
    v.extend(std::iter::repeat_n(RET_ALLOW, r));
    let p = Program::new(v);
    assert_eq!(converted_len(&validate(&p).unwrap()), len, "filler construction");
    p
}

/// Does the kernel attach `base`, then a filler of converted length `f`, then
/// `p`? `Err(i)`: filter `i` was refused with ENOMEM (the filler itself when
/// it alone is too long, else the program).
fn attaches(base: &[Program], f: usize, p: &Program) -> Result<(), usize> {
    let mut stack = base.to_vec();
    stack.push(filler(f));
    stack.push(p.clone());
    match attach_stack(&stack).expect("the kernel could be asked") {
        StackAttach::Attached => Ok(()),
        StackAttach::Refused { index, errno: ENOMEM } if index >= base.len() => Err(index),
        other => panic!("unexpected answer {other:?} for filler {f} under {} fillers", base.len()),
    }
}

/// The largest filler length under which `p` still attaches, found by
/// loading (binary search over the filler's whole range). Just above it, the
/// kernel must refuse the program itself, not the filler.
fn measured_boundary(base: &[Program], p: &Program) -> usize {
    let (mut lo, mut hi) = (FILLER_MIN, FILLER_MAX);
    assert!(attaches(base, lo, p).is_ok(), "even the smallest filler leaves no room");
    let mut refused_at = attaches(base, hi, p).expect_err("even the largest filler fits");
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match attaches(base, mid, p) {
            Ok(()) => lo = mid,
            Err(i) => (hi, refused_at) = (mid, i),
        }
    }
    assert_eq!(refused_at, base.len() + 1, "at filler {hi} the kernel refused filter {refused_at}, not the program");
    lo
}

/// Fillers below the program, of random sizes, leaving the boundary for the
/// searched filler inside its range; their converted lengths.
fn base_for(rng: &mut SmallRng, program_len: usize) -> (Vec<Program>, Vec<usize>) {
    let (mut base, mut lens) = (Vec::new(), Vec::new());
    // Room for the searched filler (its own + 4) and the program.
    let mut rem = 32768 - 4 - program_len;
    while rem > FILLER_MAX {
        let most = (rem - FILLER_MIN - 4 - 3) / 2;
        let r = rng.gen_range(most.min(4096) / 2..=most.min(4096));
        let len = 3 + 2 * r;
        base.push(filler(len));
        lens.push(len);
        rem -= len + 4;
    }
    (base, lens)
}

/// For every (op, K/X) a program with all four jt/jf shapes, with K
/// positive and negative.
fn jump_programs() -> Vec<Program> {
    let mut out = Vec::new();
    for op in [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET] {
        for src in [BPF_K, BPF_X] {
            let mut v = Vec::new();
            for k in [7, 0x8000_0000, 0xffff_ffff] {
                for (jt, jf) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    v.push(Insn::jump(BPF_JMP | op | src, k, jt, jf));
                    v.push(Insn::stmt(BPF_LD | BPF_IMM, k));
                }
            }
            v.push(RET_ALLOW);
            out.push(Program::new(v));
        }
    }
    out
}

/// Straight-line programs: every ALU op (K, X, negative K, DIV X), every load
/// and store, TAX/TXA, JA, RET K and RET A.
fn straight_programs() -> Vec<Program> {
    let alu: Vec<Insn> = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_XOR, BPF_LSH, BPF_RSH]
        .iter()
        .flat_map(|&op| {
            let k = if matches!(op, BPF_LSH | BPF_RSH) { 31 } else { 0x8000_0001 };
            [Insn::stmt(BPF_ALU | op | BPF_K, k), Insn::stmt(BPF_ALU | op | BPF_X, 0)]
        })
        .chain([Insn::stmt(BPF_ALU | BPF_NEG, 0)])
        .chain([Insn::stmt(BPF_RET | BPF_A, 0)])
        .collect();
    let loads = vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 60),
        Insn::stmt(BPF_LD | BPF_W | BPF_LEN, 0),
        Insn::stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
        Insn::stmt(BPF_LD | BPF_IMM, 0xffff_ffff),
        Insn::stmt(BPF_LDX | BPF_IMM, 0x8000_0000),
        Insn::stmt(BPF_ST, 0),
        Insn::stmt(BPF_STX, 15),
        Insn::stmt(BPF_LD | BPF_MEM, 0),
        Insn::stmt(BPF_LDX | BPF_MEM, 15),
        Insn::stmt(BPF_MISC | BPF_TAX, 0),
        Insn::stmt(BPF_MISC | BPF_TXA, 0),
        Insn::stmt(BPF_JMP | BPF_JA, 1),
        Insn::stmt(BPF_RET | BPF_K, 0),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ];
    // DIV X alone (5 instructions each), many times over.
    let mut div = vec![Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0); 600];
    div.push(Insn::stmt(BPF_RET | BPF_A, 0));
    vec![Program::new(alu), Program::new(loads), Program::new(div), Program::new(vec![Insn::stmt(BPF_RET | BPF_A, 0)])]
}

#[test]
fn the_kernel_attaches_exactly_up_to_the_converted_lengths_the_model_computes() {
    if !kernel_usable() {
        return;
    }
    let mut rng = SmallRng::seed_from_u64(21);
    let mut programs = jump_programs();
    programs.extend(straight_programs());
    for i in 0..16 {
        programs.push(match i % 4 {
            0 => testgen::filter_like(&mut rng),
            1 => testgen::dispatch_chain(&mut rng),
            2 => testgen::computed_action(&mut rng),
            _ => {
                let len = rng.gen_range(2..1200);
                testgen::soup(&mut rng, len)
            }
        });
    }
    // Every compiled corpus filter (what `validate` reports for them).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut corpus: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
        .collect();
    corpus.sort();
    assert!(corpus.len() >= 20, "{corpus:?}");
    for f in &corpus {
        programs.push(seccheck::bpf::decode(&std::fs::read(f).unwrap(), seccheck::bpf::ByteOrder::Little).unwrap());
    }
    // The longest a seccomp filter converts to: 4095 DIV X (5 each) and a
    // RET K (2): 20480.
    let mut longest = vec![Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0); 4095];
    longest.push(RET_ALLOW);
    assert_eq!(converted_len(&validate(&Program::new(longest.clone())).unwrap()), 20480);
    programs.push(Program::new(longest));
    for (n, p) in programs.iter().enumerate() {
        let v = validate(p).unwrap_or_else(|e| panic!("program {n} invalid: {e:?}"));
        let len = converted_len(&v);
        let (base, mut lens) = base_for(&mut rng, len);
        let measured = measured_boundary(&base, p);
        // The model's boundary: the largest filler PathLength lets through.
        let fits = |f: usize| {
            let mut l = lens.clone();
            l.extend([f, len]);
            PathLength::new(l).refused.is_none()
        };
        let predicted = (FILLER_MIN..=FILLER_MAX).rev().find(|&f| fits(f)).expect("some filler fits");
        assert_eq!(
            measured,
            predicted,
            "program {n} ({} classic instructions, model says {len} converted) under fillers {lens:?}: \
             the kernel's boundary is {measured}, the model's {predicted}, so the program really converts to {}",
            p.len(),
            len + predicted - measured
        );
        lens.extend([measured, len]);
        assert_eq!(PathLength::new(lens).room, 0, "the boundary stack fills the path exactly");
    }
}

/// The issue's shape, on both sides of the boundary: three filters of 4096
/// `ret`s, then one of 4084 (attaches: 32768 exactly) and one of 4085
/// (refused with ENOMEM, 32770).
#[test]
fn three_full_filters_leave_room_for_exactly_4084_rets() {
    if !kernel_usable() {
        return;
    }
    let rets = |n: usize| Program::new(vec![RET_ALLOW; n]);
    let full = rets(4096);
    for (n, ok) in [(4084, true), (4085, false)] {
        let stack = vec![full.clone(), full.clone(), full.clone(), rets(n)];
        let model = PathLength::new(stack.iter().map(|p| converted_len(&validate(p).unwrap())).collect());
        let kernel = attach_stack(&stack).expect("the kernel could be asked");
        assert_eq!(model.refused.is_none(), ok, "model, {n} rets: {model:?}");
        let expected = if ok { StackAttach::Attached } else { StackAttach::Refused { index: 3, errno: ENOMEM } };
        assert_eq!(kernel, expected, "kernel, {n} rets");
        assert_eq!(model.total(), if ok { 32768 } else { 32770 });
    }
}

/// The oracle installs its probe filter below the stack under test, so a
/// stack with no room left (three full filters and 4084 `ret`s: exactly
/// 32768) cannot be probed; it says so with the totals, P0 counted.
#[test]
fn the_oracle_explains_a_stack_too_long_to_probe() {
    if !kernel_usable() {
        return;
    }
    let rets = |n: usize| Program::new(vec![RET_ALLOW; n]);
    let full = rets(4096);
    let stack = vec![full.clone(), full.clone(), full, rets(4084)];
    let input = OracleInput::new(Abi::X86_64, 39, [0; 6]);
    match seccheck::kernel::action(&stack, &input) {
        Err(OracleError::PathTooLong { index: 3, explanation }) => {
            assert!(explanation.contains("refused filter 5 with ENOMEM"), "{explanation}");
            assert!(explanation.contains("(the oracle's probe filter is filter 1)"), "{explanation}");
            assert!(explanation.contains("MAX_INSNS_PER_PATH (32768)"), "{explanation}");
        }
        other => panic!("expected the path length explained, got {other:?}"),
    }
}

/// Runs its arguments up to `--` as filters of that many `ret ALLOW`s, then
/// executes the rest: seccheck under filters of its own.
const UNDER_FILTERS_C: &str = r#"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int i = 1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return 120;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        int n = atoi(argv[i]);
        struct sock_filter *f = calloc(n, sizeof *f);
        for (int j = 0; j < n; j++) {
            struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            f[j] = allow;
        }
        struct sock_fprog p = { .len = n, .filter = f };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p)) { perror("seccomp"); return 121; }
    }
    execv(argv[i + 1], argv + i + 1);
    perror("execv");
    return 122;
}
"#;

/// `seccheck run` inside a process that already holds 32604 converted
/// instructions of filters (room 164): the profile's filter is refused with
/// ENOMEM, and seccheck says why instead of printing the errno.
#[test]
fn run_explains_enomem_from_the_filters_seccheck_itself_runs_under() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (src, bin) = (d.path().join("under.c"), d.path().join("under"));
    std::fs::write(&src, UNDER_FILTERS_C).unwrap();
    let st = std::process::Command::new("gcc").args(["-O2", "-o"]).arg(&bin).arg(&src).status().expect("gcc runs");
    assert!(st.success());
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles/docker_default.json");
    seccheck::kernel::health::pace(5);
    let o = std::process::Command::new(&bin)
        .args(["4096", "4096", "4096", "4000", "--", env!("CARGO_BIN_EXE_seccheck"), "run", "--profile"])
        .arg(&profile)
        .args(["--", "/bin/true"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // One error line (beside the generator-notes summary every profile gets).
    assert_eq!(err.lines().filter(|l| !l.starts_with("note: ")).count(), 1, "{err}");
    assert!(err.contains("seccomp(2) refused filter 1 with ENOMEM"), "{err}");
    assert!(err.contains("but this process already runs under 4 filters of its own"), "{err}");
}
