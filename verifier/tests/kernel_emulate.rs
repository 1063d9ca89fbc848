//! The emulator against the running kernel: for the corpus filters (compiled by
//! libseccomp as runc loads them, and by seccompiler), generated filters that
//! cover every seccomp opcode, and stacks of filters, the action the kernel
//! takes for a syscall must be the one `emu` computes from the exact
//! `seccomp_data` the kernel built (read back by the oracle, instruction
//! pointer included).
//!
//! The oracle never lets a probed syscall run, so ALLOW and LOG (and unknown
//! action values above TRACE) come back as one class, `AboveTrace`; everything
//! else is compared exactly, data included (`KernelAction::agrees_with`).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use seccheck::bpf::insn::*;
use seccheck::bpf::{decode, validate, ByteOrder, Program};
use seccheck::emu::{run_stack, Emulator};
use seccheck::kernel::{Abi, KernelAction, OracleInput, Prober};
use seccheck::seccomp::{filters_bypassed, Action, SeccompData, X86_64_UPROBE_SYSCALLS};
use seccheck::symbolic::{analyze, Options};
use seccheck::testgen;

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

fn corpus() -> Vec<(String, Program)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
        .collect();
    v.sort();
    v.into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                decode(&std::fs::read(&p).unwrap(), ByteOrder::Little).unwrap(),
            )
        })
        .collect()
}

/// Inputs for one program: testgen's boundary inputs, mapped onto the three
/// ABIs this machine can issue (the kernel sets arch from the ABI).
fn oracle_inputs(rng: &mut SmallRng, p: &Program, n: usize) -> Vec<OracleInput> {
    testgen::inputs_for(rng, p, n)
        .into_iter()
        .map(|d: SeccompData| {
            let abi = match rng.gen_range(0..10) {
                0..=5 => Abi::X86_64,
                6 | 7 => Abi::I386,
                _ => Abi::X32,
            };
            let nr = match abi {
                Abi::X32 => d.nr & !0x4000_0000 & 0x3ff,
                _ => d.nr,
            };
            OracleInput::new(abi, nr, d.args)
        })
        .collect()
}

/// Probe `inputs` under `stack`; return (compared, disagreements).
///
/// Exempt calls (`seccomp::filters_bypassed`: x86-64 uretprobe/uprobe) must
/// come back as `Bypassed` whatever the filters say, and nothing else may.
fn compare(
    name: &str,
    stack: &[Program],
    inputs: &[OracleInput],
    expect: impl Fn(&SeccompData) -> Action,
) -> (usize, Vec<String>) {
    let mut prober = Prober::new(stack).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut bad = Vec::new();
    for i in inputs {
        let out = prober.probe(i).unwrap_or_else(|e| panic!("{name}: probe {i:?}: {e}"));
        let ok = if filters_bypassed(&out.data) {
            out.action == KernelAction::Bypassed
        } else {
            out.action.agrees_with(expect(&out.data))
        };
        if !ok {
            let model =
                if filters_bypassed(&out.data) { "no filter runs".to_string() } else { expect(&out.data).to_string() };
            bad.push(format!("{name}: {:?} -> kernel {:?}, model {model}", out.data, out.action));
        }
    }
    (inputs.len(), bad)
}

/// `p` behind a guard that returns ALLOW for x86-64 seccomp(2). Jumps are
/// relative, so the original program is unchanged after the guard.
fn allowing_seccomp(p: &Program) -> Program {
    let mut v = vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 3),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 317, 0, 1),
        Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
    ];
    v.extend(p.insns.iter().copied());
    Program::new(v)
}

/// Programs covering every seccomp opcode (ALU K/X incl. DIV by X = 0 and
/// shifts by X >= 32, NEG, memory, RET A with computed actions incl. unknown
/// action values and ERRNO data > 4095).
fn opcode_programs(rng: &mut SmallRng) -> Vec<(String, Program)> {
    let v = vec![
        // RET A = arg0 low: every action, unknown values, ERRNO > 4095.
        Program::new(vec![Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16), Insn::stmt(BPF_RET | BPF_A, 0)]),
        // ERRNO(arg1 low >> (X = arg2 low)) with X unmasked in the program.
        Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 32),
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 24),
            Insn::stmt(BPF_ALU | BPF_RSH | BPF_X, 0),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xfff),
            Insn::stmt(BPF_ALU | BPF_OR | BPF_K, 0x0005_0000),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]),
        // DIV by X = arg0 low (0 returns 0: KILL_THREAD).
        Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::stmt(BPF_LD | BPF_IMM, 0x0005_0fff),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
            Insn::stmt(BPF_ALU | BPF_OR | BPF_K, 0x0005_0000),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]),
    ];
    let mut v: Vec<(String, Program)> = v.into_iter().enumerate().map(|(i, p)| (format!("ret-a-{i}"), p)).collect();
    for i in 0..12 {
        v.push((format!("computed-action-{i}"), testgen::computed_action(rng)));
        v.push((format!("filter-like-{i}"), testgen::filter_like(rng)));
        let len = rng.gen_range(4..120);
        v.push((format!("soup-{i}"), testgen::soup(rng, len)));
    }
    v
}

#[test]
fn emulator_agrees_with_the_kernel() {
    if !kernel_usable() {
        return;
    }
    let mut rng = SmallRng::seed_from_u64(0xe3e3);
    let mut programs = corpus();
    let corpus_len = programs.len();
    programs.extend(opcode_programs(&mut rng));
    let (mut compared, mut bad, mut symbolic_refused) = (0, Vec::new(), Vec::new());
    for (name, p) in &programs {
        let valid = validate(p).unwrap_or_else(|v| panic!("{name}: {v:?}"));
        let emu = Emulator::new(&valid);
        let inputs = oracle_inputs(&mut rng, p, 150);
        let (n, b) = compare(name, std::slice::from_ref(p), &inputs, |d| emu.action(d));
        compared += n;
        bad.extend(b);
        // The symbolic evaluator is the third judge, on a sample of the same inputs.
        // It may refuse a program explicitly (a limit it names); it may not
        // answer wrongly.
        let analysis = match analyze(&valid, &Options::default()) {
            Ok(a) => a,
            Err(e) => {
                // Filter-shaped programs (the corpus, filter_like) always are.
                assert!(!name.starts_with("filter-like") && !name.ends_with(".bpf"), "{name} must be analysable: {e}");
                symbolic_refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let (_, b) = compare(&format!("{name} (symbolic)"), std::slice::from_ref(p), &inputs[..30], |d| {
            analysis.exit_for(d).map(|e| e.action()).expect("every input has an exit")
        });
        bad.extend(b);
    }
    println!("emulator vs kernel: {} programs, {compared} inputs, {} disagreements", programs.len(), bad.len());
    println!(
        "symbolic evaluator refused {} generated programs explicitly: {symbolic_refused:?}",
        symbolic_refused.len()
    );
    assert!(programs.len() - symbolic_refused.len() >= corpus_len + 12, "{symbolic_refused:?}");
    assert!(bad.is_empty(), "{}", bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn stacks_agree_with_the_kernel() {
    if !kernel_usable() {
        return;
    }
    let mut rng = SmallRng::seed_from_u64(0x57ac);
    let (mut compared, mut bad) = (0, Vec::new());
    for round in 0..10 {
        let depth = rng.gen_range(2..=3);
        let mut stack: Vec<Program> = (0..depth)
            .map(
                |_| if rng.gen_bool(0.5) { testgen::filter_like(&mut rng) } else { testgen::computed_action(&mut rng) },
            )
            .collect();
        // The kernel judges each install by the filters already there, and a
        // random filter usually denies seccomp(2): let every filter but the
        // newest allow it (x86-64 only), so the stack can be built.
        for p in &mut stack[..depth - 1] {
            *p = allowing_seccomp(p);
        }
        let emus: Vec<Emulator> = stack.iter().map(|p| Emulator::new(&validate(p).unwrap())).collect();
        let mut all = stack[0].clone();
        for p in &stack[1..] {
            all.insns.extend(p.insns.iter().copied());
        }
        let inputs = oracle_inputs(&mut rng, &all, 100);
        let (n, b) = compare(&format!("stack-{round}"), &stack, &inputs, |d| Action::from_ret(run_stack(&emus, d)));
        compared += n;
        bad.extend(b);
    }
    println!("stacked filters vs kernel: {compared} inputs, {} disagreements", bad.len());
    assert!(bad.is_empty(), "{}", bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
}

/// The test of the test: an emulator that does not mask shift amounts, or a
/// program that differs from the one installed, must be caught.
#[test]
fn a_wrong_semantics_is_caught() {
    if !kernel_usable() {
        return;
    }
    // ERRNO((1 << (arg0 low)) & 0xfff): the kernel shifts by X & 31.
    let p = Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
        Insn::stmt(BPF_MISC | BPF_TAX, 0),
        Insn::stmt(BPF_LD | BPF_IMM, 1),
        Insn::stmt(BPF_ALU | BPF_LSH | BPF_X, 0),
        Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xfff),
        Insn::stmt(BPF_ALU | BPF_OR | BPF_K, 0x0005_0000),
        Insn::stmt(BPF_RET | BPF_A, 0),
    ]);
    let emu = Emulator::new(&validate(&p).unwrap());
    let inputs: Vec<OracleInput> =
        [3u64, 33, 40].iter().map(|&s| OracleInput::new(Abi::X86_64, 39, [s, 0, 0, 0, 0, 0])).collect();
    // The real emulator agrees…
    let (_, bad) = compare("shift", std::slice::from_ref(&p), &inputs, |d| emu.action(d));
    assert!(bad.is_empty(), "{bad:?}");
    // …an unmasked shift does not (1 << 33 would be 0 in 64-bit arithmetic, 2 in the kernel).
    let unmasked = |d: &SeccompData| {
        let s = d.args[0] as u32;
        let v = if s >= 32 { 0 } else { (1u32 << s) & 0xfff };
        Action::from_ret(0x0005_0000 | v)
    };
    let (_, bad) = compare("shift-unmasked", std::slice::from_ref(&p), &inputs, unmasked);
    assert_eq!(bad.len(), 2, "{bad:?}");
}

/// x86-64 uretprobe and uprobe skip every filter (`seccomp_uprobe_exception`):
/// under a filter that kills everything, the kernel still runs them, and only
/// them; their x32 and i386 numbers stay filtered.
#[test]
fn the_kernel_runs_no_filter_for_uprobe_calls() {
    if !kernel_usable() {
        return;
    }
    let kill_all = Program::new(vec![Insn::stmt(BPF_RET | BPF_K, 0x8000_0000)]);
    let errno_all = Program::new(vec![Insn::stmt(BPF_RET | BPF_K, 0x0005_0001)]);
    for p in [&kill_all, &errno_all] {
        let mut prober = Prober::new(std::slice::from_ref(p)).unwrap();
        for nr in X86_64_UPROBE_SYSCALLS {
            let out = prober.probe(&OracleInput::new(Abi::X86_64, nr, [0; 6])).unwrap();
            assert_eq!(out.action, KernelAction::Bypassed, "nr {nr}");
            assert!(filters_bypassed(&out.data));
            for abi in [Abi::X32, Abi::I386] {
                let out = prober.probe(&OracleInput::new(abi, nr, [0; 6])).unwrap();
                assert!(!filters_bypassed(&out.data));
                assert_ne!(out.action, KernelAction::Bypassed, "{abi:?} nr {nr}");
            }
        }
        let out = prober.probe(&OracleInput::new(Abi::X86_64, 39, [0; 6])).unwrap();
        assert_ne!(out.action, KernelAction::Bypassed);
    }
}
