//! Symbolic evaluator speed: exact analysis and the full per-arch table, on the
//! real Docker default profile (corpus, libseccomp 2.5 linear / tree / runc
//! layouts), an equivalent built here with libseccomp for x86_64+x32+i386, a
//! filter with 2^30 paths and a 4096-instruction filter. Targets (`docs/design.md`):
//! < 20 ms for Docker's default, < 100 ms for the other two. The emulator's cost
//! of one evaluation on the same filters is measured alongside, for ratios.

use criterion::{criterion_group, criterion_main, Criterion};
use seccheck::arch::Arch;
use seccheck::emu::Emulator;
use seccheck::symbolic::{analyze, Options, TableOptions};
use seccheck_speed::{symbolic_bench_filters, syscall_mix};
use std::hint::black_box;

fn symbolic(c: &mut Criterion) {
    let filters = symbolic_bench_filters();
    let mut g = c.benchmark_group("symbolic-analyze");
    for (name, p) in &filters {
        g.bench_function(name, |b| b.iter(|| analyze(black_box(p), &Options::default()).unwrap().node_count()));
    }
    g.finish();
    let mut g = c.benchmark_group("symbolic-table");
    for (name, p) in &filters {
        g.bench_function(name, |b| {
            b.iter(|| analyze(black_box(p), &Options::default()).unwrap().table(&TableOptions::default()).arches.len())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("emulate-one");
    let inputs = syscall_mix(Arch::X86_64, 1024, 1);
    for (name, p) in &filters {
        let emu = Emulator::new(p);
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                emu.run(black_box(&inputs[i]))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, symbolic);
criterion_main!(benches);
