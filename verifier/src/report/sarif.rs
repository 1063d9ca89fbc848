//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for
//! code-scanning UIs: one run, one rule per finding code, one result per finding.
//!
//! The artifact is the filter or profile file; property findings also point at
//! their line in the policy file. Counterexamples go into `properties` so they
//! survive the round trip through tools that do not know them.

use crate::finding::{Finding, Severity};
use serde_json::{json, Value};

/// The SARIF log for `findings` about `artifact` (with the policy file, if any).
pub fn log(artifact: &str, policy: Option<&str>, findings: &[Finding]) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for f in findings {
        if !ids.contains(&f.code) {
            ids.push(f.code);
            rules.push(json!({
                "id": f.code,
                "name": f.name,
                "shortDescription": { "text": f.name },
                "helpUri": format!("https://seccheck.invalid/explain/{}", f.name),
            }));
        }
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut locations = vec![json!({
                "physicalLocation": { "artifactLocation": { "uri": artifact } },
                "logicalLocations": f.insns.iter().map(|i| json!({ "name": format!("insn {i}"), "kind": "instruction" })).collect::<Vec<_>>(),
            })];
            if let (Some(p), Some(line)) = (policy, f.policy_line) {
                locations.push(json!({
                    "physicalLocation": { "artifactLocation": { "uri": p }, "region": { "startLine": line } }
                }));
            }
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": ids.iter().position(|c| *c == f.code).unwrap(),
                "level": match f.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Note => "note" },
                "message": { "text": f.message },
                "locations": locations,
            });
            if let Some(c) = &f.counterexample {
                r["message"]["text"] = json!(format!("{}; example: {c}", f.message));
                r["properties"] = json!({ "counterexample": c });
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "seccheck",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://seccheck.invalid/",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
