//! The compiled emulator (`seccheck::emu::CompiledEmulator`) against the
//! interpreter it compiles: the same return value on every corpus filter
//! (`corpus/compiled/`, which `corpus_compiled.rs` keeps equal to what the
//! loaders build from `corpus/profiles/`) and on the hand-written filters that
//! use every opcode, for every `(arch, nr)` row: every arch seccheck knows and
//! unknown ones, both ends of every arch and nr interval the tables
//! distinguish, nr 0..1024 plain and with the x32 bit, numbers at and above
//! 2^31; each row with arguments at the filter's constants ±1, and the
//! symbolic evaluator's boundary inputs (both ends of every exit set and of
//! both sides of every jump). Generated programs are compared in the
//! module's own proptest (`emu/compiled.rs`).

use crate::common::{hand_written, symbolic_boundary_inputs};

use seccheck::bpf::{decode, validate, ByteOrder, ValidProgram};
use seccheck::emu::{CompiledEmulator, Emulator};
use seccheck::seccomp::SeccompData;
use seccheck::symbolic::{analyze, Options};
use seccheck::testgen;
use std::path::PathBuf;

fn corpus() -> Vec<(String, ValidProgram)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "the corpus holds its compiled filters");
    paths
        .iter()
        .map(|p| {
            let prog = decode(&std::fs::read(p).unwrap(), ByteOrder::Little).unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), validate(&prog).unwrap())
        })
        .collect()
}

/// Every row named in the module doc, with three argument patterns each
/// drawn from the filter's constants ±1, 0 and all ones.
fn rows(p: &ValidProgram, c: &CompiledEmulator) -> Vec<SeccompData> {
    let mut values: Vec<u32> = testgen::program_constants(p.program())
        .iter()
        .flat_map(|&k| [k.wrapping_sub(1), k, k.wrapping_add(1)])
        .chain([0, 1, u32::MAX])
        .collect();
    values.sort_unstable();
    values.dedup();
    let half = |i: usize| u64::from(values[i % values.len()]);
    let template = |j: usize| SeccompData {
        nr: 0,
        arch: 0,
        instruction_pointer: half(j * 3) << 32 | half(j * 5 + 1),
        args: std::array::from_fn(|a| half(j * 7 + 13 * a + 2) << 32 | half(j * 11 + 17 * a + 3)),
    };
    let mut arches = testgen::interesting_arches();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for d in c.boundary_rows(&SeccompData::default()) {
        arches.push(d.arch);
        pairs.push((d.arch, d.nr));
    }
    arches.sort_unstable();
    arches.dedup();
    let nrs: Vec<u32> = (0..1024)
        .chain(0x4000_0000..0x4000_0400)
        .chain([0x3fff_ffff, 0x7fff_ffff, 0x8000_0000, 0x8000_0001, 0xbfff_ffff, 0xc000_0000, u32::MAX - 1, u32::MAX])
        .collect();
    for &arch in &arches {
        pairs.extend(nrs.iter().map(|&nr| (arch, nr)));
    }
    let mut out = Vec::with_capacity(pairs.len() * 3);
    for (i, &(arch, nr)) in pairs.iter().enumerate() {
        for j in 0..3 {
            out.push(SeccompData { arch, nr, ..template(i + j * 101) });
        }
    }
    out
}

fn same(name: &str, p: &ValidProgram, extra: &[SeccompData]) -> usize {
    let (emu, c) = (Emulator::new(p), CompiledEmulator::new(p));
    let mut inputs = rows(p, &c);
    inputs.extend_from_slice(extra);
    for d in &inputs {
        let (want, got) = (emu.run(d), c.run(d));
        assert_eq!(got, want, "{name}: compiled {got:#x}, interpreter {want:#x} on {d:?}");
    }
    inputs.len()
}

#[test]
fn corpus_filters_compile_to_the_interpreters_results() {
    let mut total = 0;
    for (name, p) in corpus() {
        let shape = CompiledEmulator::new(&p).shape();
        assert!(!shape.interpreted && shape.constant_intervals > 0, "{name}: nothing compiled: {shape:?}");
        let mut an = analyze(&p, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let boundaries = symbolic_boundary_inputs(&mut an, p.program());
        total += same(&name, &p, &boundaries);
    }
    eprintln!("corpus: {total} inputs agree");
}

#[test]
fn docker_default_compiles_without_the_interpreter() {
    for (name, p) in corpus().into_iter().filter(|(n, _)| n.starts_with("docker_default.x86_64")) {
        let shape = CompiledEmulator::new(&p).shape();
        // clone, socket and personality check arguments, in decision trees:
        // nothing needs the interpreter.
        assert_eq!(shape.resume_points, 0, "{name}: {shape:?}");
        assert!(shape.tests >= 3, "{name}: {shape:?}");
        assert!(shape.constant_intervals * 10 > shape.intervals * 9, "{name}: {shape:?}");
    }
}

#[test]
fn hand_written_filters_compile_to_the_interpreters_results() {
    for (name, p) in hand_written() {
        let boundaries = match analyze(&p, &Options::default()) {
            Ok(mut an) => symbolic_boundary_inputs(&mut an, p.program()),
            Err(_) => Vec::new(),
        };
        same(name, &p, &boundaries);
    }
}
