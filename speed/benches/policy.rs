//! Policy reading speed in MB/s: `policy::parse` (TOML, names, families,
//! `when` conditions) on the corpus's real policies, and the `when` parser on
//! long flat chains and nesting at the depth limit (the shapes a hostile
//! policy would use; the parser is linear in them, see `policy/expr.rs`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seccheck::arch::Arch;
use seccheck::policy;
use seccheck::when as expr;
use std::hint::black_box;
use std::path::Path;

fn corpus_policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy-parse");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/policies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        policy::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(path.file_stem().unwrap().to_string_lossy().as_ref(), |b| {
            b.iter(|| policy::parse(black_box(&text)).is_ok())
        });
    }
    // A whole policy whose one condition is a 1 MB flat chain.
    let chain = (0..40_000).map(|i| format!("arg0 & 0xffffffff == {i}")).collect::<Vec<_>>().join(" or ");
    let text = format!("arches = [\"x86_64\"]\n[[allow_only_if]]\nsyscalls = [\"personality\"]\nwhen = \"{chain}\"\n");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("one-1MB-condition", |b| b.iter(|| policy::parse(black_box(&text)).is_ok()));
    g.finish();
}

fn when_shapes(c: &mut Criterion) {
    let mut g = c.benchmark_group("when-parse");
    let arches = [Arch::X86_64];
    let or_chain =
        |n: usize| (0..n).map(|i| format!("arg{} & O_ACCMODE == {i}", i % 6)).collect::<Vec<_>>().join(" or ");
    let mixed = |n: usize| {
        (0..n)
            .map(|i| format!("not (arg0 == {i} and (ip < 7 or arg1 in [1, (2 | 4)]))"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let deep = |n: usize| {
        let one = format!("{}arg0 == 1{}", "(not ".repeat(expr::MAX_DEPTH / 2), ")".repeat(expr::MAX_DEPTH / 2));
        vec![one; n].join(" or ")
    };
    for (name, text) in [
        ("or-chain-64KB", or_chain(2_600)),
        ("or-chain-1MB", or_chain(42_000)),
        ("not-and-or-1MB", mixed(17_000)),
        ("depth-limit-1MB", deep(2_900)),
    ] {
        expr::parse(&text, &arches).unwrap();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| expr::parse(black_box(&text), &arches).is_ok()));
    }
    // Refused at the limit: costs only the text up to the limit plus lexing.
    let refused = format!("{}arg0 == 1{}", "(".repeat(200_000), ")".repeat(200_000));
    g.throughput(Throughput::Bytes(refused.len() as u64));
    g.bench_function("200k-parentheses-refused", |b| b.iter(|| expr::parse(black_box(&refused), &arches).is_err()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(300));
    targets = corpus_policies, when_shapes
}
criterion_main!(benches);
