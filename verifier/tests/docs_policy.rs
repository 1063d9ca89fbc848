//! `docs/policy.md` is the user's reference for the policy language: its
//! reference tables are generated from the parser's own tables
//! (`policy::reference`), and every example policy in it parses. Regenerate
//! with `SECCHECK_UPDATE_DOCS=1 cargo test -p seccheck --test it docs_policy`.

use seccheck::policy::{self, reference};

fn doc_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy.md")
}

#[test]
fn the_reference_tables_are_current() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) =
        (doc.find(reference::BEGIN).expect("BEGIN marker"), doc.find(reference::END).expect("END marker"));
    let start = begin + reference::BEGIN.len() + 1;
    let want = reference::markdown();
    if std::env::var_os("SECCHECK_UPDATE_DOCS").is_some() {
        let new = format!("{}{}{}", &doc[..start], want, &doc[end..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        want,
        "docs/policy.md is stale: regenerate with SECCHECK_UPDATE_DOCS=1 cargo test -p seccheck --test it docs_policy"
    );
}

/// Each ```toml block is a policy (or a part of one, completed with an
/// `arches` line) that parses.
#[test]
fn every_example_policy_parses() {
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let mut n = 0;
    for block in doc.split("```toml\n").skip(1) {
        let text = &block[..block.find("```").unwrap()];
        let text = if text.contains("arches") { text.to_string() } else { format!("arches = [\"x86_64\"]\n{text}") };
        policy::parse(&text).unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        n += 1;
    }
    assert!(n >= 7, "{n} examples");
}
