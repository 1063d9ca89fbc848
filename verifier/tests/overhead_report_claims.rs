//! The committed overhead report (`reports/overhead/`) claims only what its
//! `report.json` shows. Every cost-model parameter's figure and 95 % interval
//! is recomputed from its per-round values, the fit and the validation
//! (median relative error, Spearman) from the model's points, and the README
//! must print exactly those; it may claim no other fit quality (the old
//! report's "Pearson r 0.991" came from synthetic points and said nothing of
//! real filters).

use seccheck::overhead::stats::{format_estimate, median, spearman, Estimate};
use serde_json::Value;

fn read(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/overhead/").to_string() + name;
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `N points (R resolved): median relative error X %, Spearman ρ Y`, recomputed.
fn agreement(points: &[&Value]) -> String {
    let f = |p: &Value, k: &str| p[k].as_f64().unwrap_or_else(|| panic!("point without {k}: {p}"));
    let pred: Vec<f64> = points.iter().map(|p| f(p, "predicted_ns")).collect();
    let meas: Vec<f64> = points.iter().map(|p| f(p, "measured_ns")).collect();
    let rel: Vec<f64> = pred.iter().zip(&meas).filter(|(_, m)| **m != 0.0).map(|(p, m)| ((p - m) / m).abs()).collect();
    let resolved = points.iter().filter(|p| p["measured_resolved"] == true).count();
    format!(
        "{} point{} ({resolved} resolved): median relative error {}, Spearman ρ {}",
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        median(&rel).map(|e| format!("{:.0} %", e * 100.0)).unwrap_or_else(|| "n/a".into()),
        spearman(&pred, &meas).map(|r| format!("{r:.2}")).unwrap_or_else(|| "n/a (fewer than 3 points)".into())
    )
}

#[test]
fn committed_overhead_report_claims_what_its_json_shows() {
    let md = read("README.md");
    let json: Value = serde_json::from_str(&read("report.json")).expect("report.json parses");
    let model = &json["model"];
    assert!(!md.contains("Pearson"), "the README claims a Pearson correlation; the report measures Spearman on real filters");
    let params = model["params"].as_array().expect("report.json has model.params: regenerate reports/overhead with the command in its README");
    for name in ["entry", "miss", "per_filter", "load", "jump", "alu"] {
        let p = params.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("parameter {name} missing: the report must be made with --size-sweep"));
        let per_round: Vec<f64> = p["per_round"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let e = Estimate::of(&per_round, true).expect("per-round values");
        assert_eq!(p["estimate"]["median"].as_f64(), Some(e.median), "{name}: stored median");
        let step = if matches!(name, "load" | "jump" | "alu") { 0.001 } else { 0.1 };
        let row = format!("| `{name}` | {} | {} |", format_estimate(&e, false, step), e.n);
        assert!(md.contains(&row), "the README's row for {name} is not what its per-round values give: expected `{row}`");
    }
    let points: Vec<&Value> = model["points"].as_array().unwrap().iter().collect();
    let fit: Vec<&Value> = points.iter().copied().filter(|p| p["kind"] == "sweep").collect();
    let validation: Vec<&Value> = points.iter().copied().filter(|p| p["kind"] == "under_test" && p["uncached"] == true).collect();
    assert!(validation.len() >= 3, "the committed report validates on {} real-filter points; it needs at least 3 for a rank correlation", validation.len());
    let want_fit = format!("- Fit, on the sweep filters the parameters come from: {}.", agreement(&fit));
    let want_val = format!(
        "- **Validation**, on the filters under test, syscalls that run a filter (the model was not fitted on them): {}.",
        agreement(&validation)
    );
    assert!(md.contains(&want_fit), "README fit claim differs from report.json: expected `{want_fit}`");
    assert!(md.contains(&want_val), "README validation claim differs from report.json: expected `{want_val}`");
}
