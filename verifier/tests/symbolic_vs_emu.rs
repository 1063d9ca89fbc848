//! Differential tests: the symbolic evaluator against the reference emulator.
//!
//! For each program, every input must lie in exactly one exit set, and that exit
//! must be the instruction the emulator ends at, with the value it returns. The
//! programs are generated (`seccheck::testgen`: filter-shaped programs, random
//! instruction soup over the whole seccomp subset, computed `RET A`) and
//! hand-written (every opcode, memory, x32, halves of arguments, big-endian
//! arches); the inputs sit at and around every constant the program uses.

use crate::common;

use common::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use seccheck::bpf::insn::*;
use seccheck::emu::Emulator;
use seccheck::symbolic::{analyze, Options, SymbolicError};
use seccheck::testgen;

#[test]
fn generated_filters_agree_with_the_emulator() {
    // Filter-shaped programs and computed actions: never refused.
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut inputs = 0;
    // computed_action returns `arg & 0xffff | action`: 65536 values, above the
    // default limit of 4096, so raise it.
    let opts = Options { max_return_values: 1 << 16, ..Options::default() };
    for i in 0..400 {
        let p = valid(if i % 40 == 0 { testgen::computed_action(&mut rng) } else { testgen::filter_like(&mut rng) });
        let mut ins = testgen::inputs_for(&mut rng, &p, 100);
        let mut an = analyze(&p, &opts).unwrap_or_else(|e| panic!("{e}\n{:?}", p.insns()));
        ins.extend(symbolic_boundary_inputs(&mut an, &p));
        check_against_emulator(&mut an, &p, &ins);
        inputs += ins.len();
    }
    eprintln!("400 generated filters, {inputs} inputs agree");
}

#[test]
fn generated_instruction_soup_agrees_with_the_emulator() {
    // Random ALU soup builds words whose diagrams are exponential in any
    // variable order (sums and products of independent input words): those must
    // be refused explicitly, naming the instruction; everything else must agree.
    let mut rng = SmallRng::seed_from_u64(0x50f7);
    let opts = Options { node_limit: 1 << 20, ..Options::default() };
    let (mut programs, mut inputs, mut refused) = (0, 0, std::collections::BTreeMap::<String, usize>::new());
    for i in 0..300 {
        let len = if i % 3 == 0 { rng.gen_range(2..400) } else { rng.gen_range(2..40) };
        let p = valid(testgen::soup(&mut rng, len));
        let mut ins = testgen::inputs_for(&mut rng, &p, 60);
        match analyze(&p, &opts) {
            Ok(mut an) => {
                ins.extend(symbolic_boundary_inputs(&mut an, &p));
                check_against_emulator(&mut an, &p, &ins);
                programs += 1;
                inputs += ins.len();
            }
            Err(e) => {
                let insn = match e {
                    SymbolicError::Unsupported { insn, .. } => {
                        let code = p.insns()[insn].code;
                        assert!(code == BPF_ALU | BPF_MUL | BPF_X || code == BPF_ALU | BPF_DIV | BPF_X, "{e}");
                        insn
                    }
                    SymbolicError::NodeLimit { insn, .. } | SymbolicError::TooManyReturnValues { insn, .. } => insn,
                };
                assert!(insn < p.len());
                let kind = format!("{:?}", e).split_whitespace().next().unwrap().to_string();
                *refused.entry(kind).or_default() += 1;
            }
        }
    }
    eprintln!("{programs} soups, {inputs} inputs agree; refused: {refused:?}");
    // Most refusals are `RET A` of a whole input word (2^32 values).
    assert!(programs >= 150 && refused.get("NodeLimit").copied().unwrap_or(0) <= 30, "too many refusals: {refused:?}");
}

#[test]
fn hand_written_filters_agree_with_the_emulator() {
    let mut rng = SmallRng::seed_from_u64(7);
    for (name, p) in hand_written() {
        let mut an = analyze(&p, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ins = testgen::inputs_for(&mut rng, &p, 1000);
        ins.extend(boundary_inputs(&p));
        ins.extend(symbolic_boundary_inputs(&mut an, &p));
        check_against_emulator(&mut an, &p, &ins);
    }
}

/// The test of the test: a deliberately wrong semantics must be caught. Each
/// mutant changes one instruction (a constant +1, or a jump/ALU operator
/// swapped for a neighbour — "JGT evaluated as JGE"); its exact difference from
/// the original is computed symbolically, and whenever it is non-empty the
/// differential check (original's analysis vs mutant's emulator, on the same
/// generated and boundary inputs as above) must report a disagreement. The
/// symbolic difference's example must also tell the two emulators apart.
#[test]
fn mutated_programs_are_caught() {
    let mut rng = SmallRng::seed_from_u64(99);
    let (mut differ, mut same) = (0, 0);
    for (name, p) in hand_written() {
        let mut orig = analyze(&p, &Options::default()).unwrap();
        let mut ins = testgen::inputs_for(&mut rng, &p, 400);
        ins.extend(boundary_inputs(&p));
        ins.extend(symbolic_boundary_inputs(&mut orig, &p));
        let orig_emu = Emulator::new(&p);
        // Mutate at most ~24 evenly spaced instructions per program: each mutant
        // costs a full analysis, and long programs would dominate the suite.
        let stride = p.len().div_ceil(24).max(1);
        // Computed once per program, not once per mutant and value.
        let orig_by_value = orig.by_return_value();
        for (i, insn) in p.insns().iter().enumerate().step_by(stride) {
            let mut mutants = Vec::new();
            let mut m = *insn;
            m.k = m.k.wrapping_add(1);
            mutants.push(m);
            let swap = |op: u16| match op {
                BPF_JGT => Some(BPF_JGE),
                BPF_JGE => Some(BPF_JGT),
                BPF_JEQ => Some(BPF_JSET),
                BPF_ADD => Some(BPF_SUB),
                BPF_LSH => Some(BPF_RSH),
                BPF_AND => Some(BPF_OR),
                _ => None,
            };
            if insn.is_cond_jump() || insn.class() == BPF_ALU {
                if let Some(op) = swap(insn.code & 0xf0) {
                    mutants.push(Insn { code: insn.code & !0xf0 | op, ..*insn });
                }
            }
            for m in mutants {
                let mut code = p.insns().to_vec();
                code[i] = m;
                let Ok(mp) = seccheck::bpf::validate(&seccheck::bpf::Program::new(code)) else { continue };
                // A mutant the evaluator refuses (e.g. `AND 7` turned `OR 7`
                // makes a divisor with 2^29 values) is not a test of the check.
                let Ok(mut mutant) = analyze(&mp, &Options::default()) else { continue };
                // exact difference: inputs whose return value changes
                let mut diff = orig.none();
                for (v, s) in mutant.by_return_value() {
                    let s = orig.import(&mutant, s);
                    let o = orig_by_value.iter().find(|r| r.0 == v).map_or(orig.none(), |r| r.1);
                    let d = orig.diff(s, o);
                    diff = orig.or(diff, d);
                }
                let memu = Emulator::new(&mp);
                let caught = ins.iter().any(|d| orig.exit_for(d).map(|e| e.ret) != Some(memu.run(d)));
                match orig.example(diff) {
                    Some(x) => {
                        assert_ne!(orig_emu.run(&x), memu.run(&x), "{name} insn {i}: example {x:?} does not differ");
                        assert!(
                            caught,
                            "{name}: mutant {m:?} at insn {i} differs (e.g. {x:?}) but the inputs missed it"
                        );
                        differ += 1;
                    }
                    None => {
                        assert!(!caught, "{name} insn {i}: mutant equivalent but the check disagreed");
                        same += 1;
                    }
                }
            }
        }
    }
    eprintln!("{differ} mutants differ, all caught; {same} equivalent");
    assert!(differ > 30, "only {differ} mutants differ");
}

#[test]
fn libseccomp_filters_agree_with_the_emulator() {
    use common::seccomp_lib::*;
    use libseccomp::{ScmpAction, ScmpArch};
    let mut rng = SmallRng::seed_from_u64(3);
    let filters = [
        ("every-comparison-linear", compile(&x86_trio(), ScmpAction::KillProcess, &every_comparison(), 1)),
        ("every-comparison-tree", compile(&x86_trio(), ScmpAction::Errno(1), &every_comparison(), 2)),
        // libseccomp refuses to mix byte orders in one filter
        ("every-comparison-aarch64", compile(&[ScmpArch::Aarch64], ScmpAction::Errno(1), &every_comparison(), 1)),
        ("every-comparison-s390x", compile(&[ScmpArch::S390X], ScmpAction::Errno(1), &every_comparison(), 1)),
        ("docker-like", docker_like(1)),
        ("docker-like-tree", docker_like(2)),
    ];
    for (name, p) in filters {
        let mut an = analyze(&p, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ins = testgen::inputs_for(&mut rng, &p, 5000);
        ins.extend(boundary_inputs(&p));
        ins.extend(arch_syscall_inputs(&mut rng));
        ins.extend(symbolic_boundary_inputs(&mut an, &p));
        check_against_emulator(&mut an, &p, &ins);
        eprintln!("{name}: {} insns, {} inputs agree", p.len(), ins.len());
    }
}

#[test]
fn corpus_filters_agree_with_the_emulator() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut rng = SmallRng::seed_from_u64(11);
    let (mut n, mut max_steps) = (0, 0f64);
    for entry in std::fs::read_dir(&dir).expect("corpus/compiled exists") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bpf") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let p =
            seccheck::bpf::validate(&seccheck::bpf::decode(&bytes, seccheck::bpf::ByteOrder::Little).unwrap()).unwrap();
        let mut an = analyze(&p, &Options::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut ins = testgen::inputs_for(&mut rng, &p, 500);
        ins.extend(arch_syscall_inputs(&mut rng).into_iter().step_by(3));
        ins.extend(symbolic_boundary_inputs(&mut an, &p));
        check_against_emulator(&mut an, &p, &ins);
        // The step budget that stops runaway arithmetic must stay far from
        // real filters (they take about one step per node).
        let steps = an.steps_per_node();
        assert!(
            steps < (seccheck::symbolic::bdd::STEPS_PER_NODE / 16) as f64,
            "{}: {steps:.1} steps per node",
            path.display()
        );
        max_steps = max_steps.max(steps);
        n += 1;
    }
    assert!(n >= 20, "only {n} corpus filters");
    eprintln!("{n} corpus filters, at most {max_steps:.2} decision-diagram steps per node");
}

/// What cannot be computed exactly is an explicit error naming the instruction.
#[test]
fn limits_are_explicit_errors() {
    // Two independent full words compared: exponential in any variable order.
    let p = valid(seccheck::bpf::Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::stmt(BPF_MISC | BPF_TAX, 0),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
        Insn::stmt(BPF_RET | BPF_K, 0),
        Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
    ]));
    let small = Options { node_limit: 1 << 16, ..Options::default() };
    assert_eq!(analyze(&p, &small).err(), Some(SymbolicError::NodeLimit { insn: 3, limit: 1 << 16 }));
    // MUL of two input words with too many values to split.
    let p = valid(seccheck::bpf::Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::stmt(BPF_MISC | BPF_TAX, 0),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
        Insn::stmt(BPF_ALU | BPF_MUL | BPF_X, 0),
        Insn::stmt(BPF_RET | BPF_K, 0),
    ]));
    assert!(matches!(analyze(&p, &Options::default()), Err(SymbolicError::Unsupported { insn: 3, .. })));
    // RET A of a whole input word: 2^32 values.
    let p = valid(seccheck::bpf::Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::stmt(BPF_RET | BPF_A, 0),
    ]));
    assert_eq!(
        analyze(&p, &Options::default()).err(),
        Some(SymbolicError::TooManyReturnValues { insn: 1, limit: 4096 })
    );
    let e = SymbolicError::NodeLimit { insn: 3, limit: 1 << 16 };
    assert_eq!(e.to_string(), "insn 3: the decision diagrams outgrew the budget of 65536 nodes (or the work it allows); refusing to approximate (raise the node limit)");
}
