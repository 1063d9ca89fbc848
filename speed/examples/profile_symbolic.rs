//! Run the symbolic analysis of one bench filter in a loop (for profilers).
use seccheck::symbolic::{analyze, Options};
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "docker_default.x86_64.opt1".into());
    let (_, p) = seccheck_speed::symbolic_bench_filters().into_iter().find(|(n, _)| *n == name).expect("filter name");
    let t = std::time::Instant::now();
    let mut nodes = 0;
    for _ in 0..20 {
        nodes = analyze(&p, &Options::default()).unwrap().node_count();
    }
    println!("{name}: {:?} per analysis, {nodes} nodes", t.elapsed() / 20);
    let t = std::time::Instant::now();
    for _ in 0..20 {
        let mut an = analyze(&p, &Options::default()).unwrap();
        nodes = an.table(&seccheck::symbolic::TableOptions::default()).arches.len();
    }
    println!("{name}: {:?} per analysis + full table ({nodes} arches)", t.elapsed() / 20);
    let trace = seccheck::symbolic::Analysis::trace_operations(&p, &Options::default()).unwrap();
    let mut kinds = std::collections::BTreeMap::new();
    for op in &trace {
        *kinds.entry(format!("{op:?}").split_whitespace().next().unwrap().to_string()).or_insert(0) += 1;
    }
    println!("{} ops: {kinds:?}", trace.len());
}
