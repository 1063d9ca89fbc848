//! Comparing filters: `diff` of libseccomp's two layouts of Docker's default
//! profile (linear vs binary tree, equivalent) and of runc's program against
//! libseccomp's (three regions), `refines`, and a two-filter stack's effective
//! table (corpus files by stem). Bar: the Docker diff well under a second.

use criterion::{criterion_group, criterion_main, Criterion};
use seccheck::bpf::ValidProgram;
use seccheck::diff::{diff, refines};
use seccheck::symbolic::{Options, TableOptions};
use seccheck_speed::compiled_corpus;
use std::hint::black_box;

fn corpus(name: &str) -> ValidProgram {
    compiled_corpus().into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} not in corpus")).1
}

fn compare(c: &mut Criterion) {
    let opt1 = corpus("docker_default.x86_64.opt1");
    let opt2 = corpus("docker_default.x86_64.opt2");
    let runc = corpus("docker_default.x86_64.runc");
    let podman = corpus("podman_containers_common.x86_64.runc");
    let opts = Options::default();
    let mut g = c.benchmark_group("compare");
    g.sample_size(20);
    // The part of a diff that is the two analyses.
    g.bench_function("analyze_many docker opt1 opt2", |b| {
        b.iter(|| seccheck::symbolic::analyze_many(&[&opt1, &opt2], &opts).unwrap().len())
    });
    g.bench_function("diff docker opt1 opt2", |b| {
        b.iter(|| diff(black_box(&opt1), black_box(&opt2), &opts).unwrap().equivalent)
    });
    g.bench_function("diff docker runc opt1", |b| {
        b.iter(|| diff(black_box(&runc), black_box(&opt1), &opts).unwrap().regions.len())
    });
    g.bench_function("refines docker runc opt1", |b| {
        b.iter(|| refines(black_box(&runc), black_box(&opt1), &opts).unwrap().refines)
    });
    g.bench_function("diff docker podman", |b| {
        b.iter(|| diff(black_box(&runc), black_box(&podman), &opts).unwrap().regions.len())
    });
    let stack = [runc.clone(), podman.clone()];
    g.bench_function("stack docker+podman table", |b| {
        b.iter(|| {
            seccheck::stack::analyze(black_box(&stack), &opts).unwrap().table(&TableOptions::default()).arches.len()
        })
    });
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
