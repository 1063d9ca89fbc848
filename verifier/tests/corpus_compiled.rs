//! The committed `corpus/compiled/` files are exactly what the generators
//! produce today, so they cannot rot. Regenerate with
//! `cargo run -p seccheck --example compile_corpus`.

use crate::compile_corpus;

use std::collections::BTreeSet;

#[test]
fn committed_filters_equal_a_fresh_compile() {
    let root = compile_corpus::workspace_root();
    let dir = root.join("corpus/compiled");
    let outputs = compile_corpus::compile_all(&root.join("corpus/profiles")).expect("the corpus compiles");
    let regen = "regenerate with `cargo run -p seccheck --example compile_corpus` and review the diff";
    for o in &outputs {
        let committed = std::fs::read(dir.join(&o.file)).unwrap_or_else(|e| panic!("{}: {e}; {regen}", o.file));
        assert!(committed == o.filter.program.to_bytes(), "{} differs from a fresh compile; {regen}", o.file);
        seccheck::bpf::validate(&o.filter.program).unwrap_or_else(|v| panic!("{}: kernel would refuse: {v:?}", o.file));
    }
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    assert_eq!(index, compile_corpus::index(&outputs), "INDEX.tsv is stale; {regen}");
    let expected: BTreeSet<String> = outputs.iter().map(|o| o.file.clone()).collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bpf"))
        .collect();
    assert_eq!(present, expected, "stray or missing .bpf files in corpus/compiled; {regen}");
}
