//! The emulator's compiled fast path (`seccheck::emu::CompiledEmulator`)
//! against the interpreter it falls back to, in evaluations per second, on
//! Docker's default profile in the three layouts of the corpus (runc's,
//! libseccomp optimize 1 and 2) and a realistic call mix
//! (`seccheck_speed::realistic_mix`). Target: >= 100 M evaluations/s on
//! every layout.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seccheck::emu::{CompiledEmulator, Emulator};
use seccheck_speed::{compiled_corpus, realistic_mix};
use std::hint::black_box;

fn compiled_vs_interpreter(c: &mut Criterion) {
    let mut g = c.benchmark_group("evaluate");
    let inputs = realistic_mix(4096, 1);
    g.throughput(Throughput::Elements(inputs.len() as u64));
    let layouts = ["runc", "opt1", "opt2"];
    let corpus = compiled_corpus();
    for layout in layouts {
        let name = format!("docker_default.x86_64.{layout}");
        let (_, prog) = corpus.iter().find(|(n, _)| *n == name).expect("the corpus has Docker's default");
        let emu = Emulator::new(prog);
        let compiled = CompiledEmulator::new(prog);
        assert!(inputs.iter().all(|d| compiled.run(d) == emu.run(d)), "{name}: compiled differs");
        g.bench_function(format!("interpreter/{layout}"), |b| {
            b.iter(|| inputs.iter().fold(0u32, |acc, d| acc ^ emu.run(black_box(d))))
        });
        g.bench_function(format!("compiled/{layout}"), |b| {
            b.iter(|| inputs.iter().fold(0u32, |acc, d| acc ^ compiled.run(black_box(d))))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("compile");
    for layout in layouts {
        let name = format!("docker_default.x86_64.{layout}");
        let (_, prog) = corpus.iter().find(|(n, _)| *n == name).expect("the corpus has Docker's default");
        g.bench_function(layout, |b| b.iter(|| CompiledEmulator::new(black_box(prog))));
    }
    g.finish();
}

criterion_group!(benches, compiled_vs_interpreter);
criterion_main!(benches);
