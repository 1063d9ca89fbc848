//! Emulator speed: evaluations per second on the compiled corpus filters and on
//! generated filters. Target (`docs/design.md`): >= 20 M evaluations/s for Docker's
//! default profile.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use seccheck::arch::Arch;
use seccheck::bpf::{decode, validate, ByteOrder};
use seccheck::emu::Emulator;
use seccheck_speed::{compiled_corpus, syscall_mix};
use std::hint::black_box;

fn emulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("emulate");
    let inputs = syscall_mix(Arch::X86_64, 4096, 1);
    g.throughput(Throughput::Elements(inputs.len() as u64));
    for (name, prog) in compiled_corpus() {
        let emu = Emulator::new(&prog);
        g.bench_function(&name, |b| b.iter(|| inputs.iter().fold(0u32, |acc, d| acc ^ emu.run(black_box(d)))));
    }
    let mut rng = SmallRng::seed_from_u64(7);
    let soup = validate(&seccheck::testgen::soup(&mut rng, 4096)).unwrap();
    let emu = Emulator::new(&soup);
    g.bench_function("generated-4096-insn-soup", |b| {
        b.iter(|| inputs.iter().fold(0u32, |acc, d| acc ^ emu.run(black_box(d))))
    });
    g.finish();
}

fn decode_validate(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode+validate");
    for (name, prog) in compiled_corpus() {
        let bytes = prog.to_bytes();
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(&name, |b| {
            b.iter_batched(
                || bytes.clone(),
                |bytes| validate(&decode(&bytes, ByteOrder::Little).unwrap()).is_ok(),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, emulate, decode_validate);
criterion_main!(benches);
