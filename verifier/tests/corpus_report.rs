//! `reports/corpus.md` is what `corpus_report` writes today, so the committed
//! table of profiles x generators cannot go stale.

use crate::corpus_report_example as corpus_report;

#[test]
fn committed_corpus_report_is_current() {
    let root = corpus_report::workspace_root();
    let fresh = corpus_report::render(&root).expect("the report renders");
    let committed = std::fs::read_to_string(root.join("reports/corpus.md")).unwrap_or_default();
    assert!(
        committed == fresh,
        "reports/corpus.md is stale; regenerate with `cargo run --release -p seccheck --example corpus_report` and review the diff"
    );
    // Every compiled filter has a row, with its generator named.
    for c in corpus_report::compiled(&root).unwrap() {
        let row = fresh
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", c.file)))
            .unwrap_or_else(|| panic!("no row for {}", c.file));
        assert!(row.contains(&c.generator), "{row}");
    }
}
