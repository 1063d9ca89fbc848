//! Cost-model speed: the kernel action-cache prediction and the full cost table
//! (path bounds for every x86_64, i386 and x32 syscall number) of the compiled
//! corpus filters. `seccheck bench` computes one table per filter it measures.

use criterion::{criterion_group, criterion_main, Criterion};
use seccheck::arch::Arch;
use seccheck::cost::{ActionCache, CacheGeometry, CostTable};
use seccheck_speed::compiled_corpus;
use std::hint::black_box;

fn cost(c: &mut Criterion) {
    let geometry = CacheGeometry::linux_6_18(Arch::X86_64).expect("x86_64 geometry");
    let mut g = c.benchmark_group("cost");
    g.sample_size(10);
    for (name, prog) in compiled_corpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with("docker_default.x86_64") || n.starts_with("firecracker_x86_64.vmm"))
    {
        g.bench_function(format!("cache/{name}"), |b| {
            b.iter(|| ActionCache::prepare(&[black_box(prog.program())], geometry))
        });
        g.bench_function(format!("table/{name}"), |b| {
            b.iter(|| CostTable::compute(&[black_box(&prog)], geometry).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, cost);
criterion_main!(benches);
