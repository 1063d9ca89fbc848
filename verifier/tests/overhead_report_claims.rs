//! The committed overhead report (`reports/overhead/`) claims only what its
//! `report.json` shows: `report::overhead::unsupported_claims` recomputes every
//! cost-model parameter from its per-round values and the fit and validation
//! figures from the model's points, and the README must print exactly those
//! (and no Pearson correlation: the old report's r = 0.991 came from synthetic
//! points and said nothing of real filters).

fn read(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/overhead/").to_string() + name;
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn committed_overhead_report_claims_what_its_json_shows() {
    let md = read("README.md");
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).expect("report.json parses");
    let bad = seccheck::report::overhead::unsupported_claims(&md, &json);
    assert!(
        bad.is_empty(),
        "reports/overhead/README.md claims what its report.json does not show:\n  {}",
        bad.join("\n  ")
    );
    assert!(
        md.contains("**Validation**"),
        "the committed report is made with --size-sweep and shows its validation on real filters"
    );
}
