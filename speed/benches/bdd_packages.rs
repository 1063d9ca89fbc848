//! Which BDD package: the symbolic evaluator's exact sequence of BDD operations,
//! recorded on each workload (`Analysis::trace_operations`), replayed on
//! seccheck's own package, biodivine-lib-bdd 0.6 and oxidd 0.13 (BDDs with
//! complement edges, `bcdd`, one thread). Same operations, same variable order;
//! only the package differs. The result is recorded in `symbolic/mod.rs`.
//! Behind a feature, so that other benches do not build the two packages:
//! `cargo bench -p seccheck-speed --features bdd-packages --bench bdd_packages`.

use criterion::{criterion_group, criterion_main, Criterion};
use seccheck::symbolic::bdd::{Bdd, Manager, TraceOp};
use seccheck::symbolic::{Analysis, Options};
use seccheck_speed::symbolic_bench_filters;
use std::hint::black_box;

fn replay_ours(trace: &[TraceOp]) -> usize {
    let mut m = Manager::with_capacity(1 << 24, trace.len() * 4);
    let mut map: Vec<Bdd> = Vec::new();
    let get = |map: &Vec<Bdd>, i: u32| -> Bdd {
        if i < 2 {
            if i == 1 {
                Bdd::TRUE
            } else {
                Bdd::FALSE
            }
        } else {
            map[i as usize]
        }
    };
    let put = |map: &mut Vec<Bdd>, i: u32, v: Bdd| {
        if map.len() <= i as usize {
            map.resize(i as usize + 1, Bdd::FALSE);
        }
        map[i as usize] = v;
    };
    for op in trace {
        let (r, v) = match *op {
            TraceOp::Mk { level, lo, hi, r } => (r, m.mk(level, get(&map, lo), get(&map, hi))),
            TraceOp::Not { a, r } => (r, m.not(get(&map, a))),
            TraceOp::And { a, b, r } => (r, m.and(get(&map, a), get(&map, b))),
            TraceOp::Or { a, b, r } => (r, m.or(get(&map, a), get(&map, b))),
            TraceOp::Xor { a, b, r } => (r, m.xor(get(&map, a), get(&map, b))),
            TraceOp::Diff { a, b, r } => (r, m.diff(get(&map, a), get(&map, b))),
            TraceOp::Ite { a, b, c, r } => (r, m.ite(get(&map, a), get(&map, b), get(&map, c))),
        };
        put(&mut map, r, v);
    }
    m.node_count()
}

fn replay_biodivine(trace: &[TraceOp]) -> usize {
    use biodivine_lib_bdd::{Bdd as BBdd, BddVariable, BddVariableSet};
    use std::collections::HashMap;
    let vars = BddVariableSet::new_anonymous(512);
    let mut map: HashMap<u32, BBdd> = HashMap::new();
    map.insert(0, vars.mk_false());
    map.insert(1, vars.mk_true());
    for op in trace {
        let (r, v) = match *op {
            TraceOp::Mk { level, lo, hi, r } => {
                let x = vars.mk_var(BddVariable::from_index(level as usize));
                (r, BBdd::if_then_else(&x, &map[&hi], &map[&lo]))
            }
            TraceOp::Not { a, r } => (r, map[&a].not()),
            TraceOp::And { a, b, r } => (r, map[&a].and(&map[&b])),
            TraceOp::Or { a, b, r } => (r, map[&a].or(&map[&b])),
            TraceOp::Xor { a, b, r } => (r, map[&a].xor(&map[&b])),
            TraceOp::Diff { a, b, r } => (r, map[&a].and_not(&map[&b])),
            TraceOp::Ite { a, b, c, r } => (r, BBdd::if_then_else(&map[&a], &map[&b], &map[&c])),
        };
        map.insert(r, v);
    }
    map.len()
}

fn replay_oxidd(trace: &[TraceOp]) -> usize {
    use oxidd::bcdd::BCDDFunction;
    use oxidd::{BooleanFunction, Manager as _, ManagerRef};
    use std::collections::HashMap;
    let mref = oxidd::bcdd::new_manager(1 << 22, 1 << 20, 1);
    // Variables need exclusive access; the operations take shared access
    // themselves (calling them inside `with_manager_exclusive` deadlocks).
    let (vars, f, t) = mref.with_manager_exclusive(|m| {
        m.add_vars(512);
        let vars: Vec<BCDDFunction> = (0..512).map(|v| BCDDFunction::var(m, v).unwrap()).collect();
        (vars, BCDDFunction::f(m), BCDDFunction::t(m))
    });
    let mut map: HashMap<u32, BCDDFunction> = HashMap::new();
    map.insert(0, f);
    map.insert(1, t);
    for op in trace {
        let (r, v) = match *op {
            TraceOp::Mk { level, lo, hi, r } => (r, vars[level as usize].ite(&map[&hi], &map[&lo]).unwrap()),
            TraceOp::Not { a, r } => (r, map[&a].not().unwrap()),
            TraceOp::And { a, b, r } => (r, map[&a].and(&map[&b]).unwrap()),
            TraceOp::Or { a, b, r } => (r, map[&a].or(&map[&b]).unwrap()),
            TraceOp::Xor { a, b, r } => (r, map[&a].xor(&map[&b]).unwrap()),
            TraceOp::Diff { a, b, r } => (r, map[&b].imp_strict(&map[&a]).unwrap()),
            TraceOp::Ite { a, b, c, r } => (r, map[&a].ite(&map[&b], &map[&c]).unwrap()),
        };
        map.insert(r, v);
    }
    let n = map.len();
    drop(map);
    drop(vars);
    let _ = mref.with_manager_shared(|m| m.num_inner_nodes());
    n
}

fn packages(c: &mut Criterion) {
    for (name, p) in symbolic_bench_filters() {
        let trace = Analysis::trace_operations(&p, &Options::default()).unwrap();
        let mut g = c.benchmark_group(format!("bdd-replay/{name} ({} ops)", trace.len()));
        g.sample_size(10);
        g.bench_function("seccheck", |b| b.iter(|| replay_ours(black_box(&trace))));
        g.bench_function("biodivine-lib-bdd", |b| b.iter(|| replay_biodivine(black_box(&trace))));
        g.bench_function("oxidd-bcdd", |b| b.iter(|| replay_oxidd(black_box(&trace))));
        g.finish();
    }
}

criterion_group!(benches, packages);
criterion_main!(benches);
