//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for
//! code-scanning UIs, from `check` and `lint`: one run, one rule per finding
//! code, one result per finding.
//!
//! Each rule's `help` is the text `seccheck explain CODE` prints (plain and
//! Markdown); there is no `helpUri`, since seccheck has no web page a link
//! could stay true to. The artifact is the filter or profile file; property
//! findings also point at their line in the policy file. Artifact locations
//! are relative to the working directory (`uriBaseId` `%SRCROOT%`, which
//! `originalUriBaseIds` gives as the absolute directory), so a CI job that
//! runs in the repository's root gets repository paths; a file outside the
//! working directory keeps its absolute `file:` URI. Counterexamples go into
//! `properties` so they survive the round trip through tools that do not know
//! them.

use super::codes;
use crate::finding::{Finding, Severity};
use serde_json::{json, Value};
use std::path::{Component, Path};

/// The SARIF log for `findings` about `artifact` (with the policy file, if
/// any), with locations relative to `cwd`.
pub fn log(artifact: &str, policy: Option<&str>, findings: &[Finding], cwd: &Path) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for f in findings {
        if !ids.contains(&f.code) {
            ids.push(f.code);
            let mut rule = json!({
                "id": f.code,
                "name": f.name,
                "shortDescription": { "text": f.name },
                "defaultConfiguration": { "level": level(f.severity) },
            });
            if let Some(doc) = codes::explain(f.code) {
                rule["fullDescription"] = json!({ "text": first_paragraph(&doc) });
                rule["help"] = json!({ "text": doc, "markdown": doc });
            }
            rules.push(rule);
        }
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut locations = vec![json!({
                "physicalLocation": { "artifactLocation": location(artifact, cwd) },
                "logicalLocations": f.insns.iter().map(|i| json!({ "name": format!("insn {i}"), "kind": "instruction" })).collect::<Vec<_>>(),
            })];
            if let (Some(p), Some(line)) = (policy, f.policy_line) {
                locations.push(json!({
                    "physicalLocation": { "artifactLocation": location(p, cwd), "region": { "startLine": line } }
                }));
            }
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": ids.iter().position(|c| *c == f.code).unwrap(),
                "level": level(f.severity),
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
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": dir_uri(cwd) } },
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The first paragraph of an explanation after its `# CODE name` title.
fn first_paragraph(doc: &str) -> String {
    let body = doc.split("\n\n").map(str::trim).find(|p| !p.is_empty() && !p.starts_with('#'));
    body.unwrap_or(doc.trim()).to_string()
}

/// `{uri, uriBaseId: %SRCROOT%}` for a file under `cwd` (or given relative to
/// it), else `{uri: file:///…}`. `<stdin>` has no location to give: its
/// name stands as a relative reference.
fn location(file: &str, cwd: &Path) -> Value {
    let path = Path::new(file);
    let rel = if path.is_absolute() { path.strip_prefix(cwd).ok() } else { Some(path) };
    match rel {
        Some(r) if r.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) => {
            let parts: Vec<String> = r
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(escape(&s.to_string_lossy())),
                    _ => None,
                })
                .collect();
            json!({ "uri": parts.join("/"), "uriBaseId": "%SRCROOT%" })
        }
        // Outside the working directory (absolute, or climbing out with `..`).
        _ => json!({ "uri": file_uri(&cwd.join(path)) }),
    }
}

/// `file:///dir/` for a directory (the trailing slash makes it a base).
fn dir_uri(dir: &Path) -> String {
    let mut u = file_uri(dir);
    if !u.ends_with('/') {
        u.push('/');
    }
    u
}

/// `file://` + the absolute path, each segment percent-encoded (RFC 3986).
fn file_uri(path: &Path) -> String {
    let mut u = String::from("file://");
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(s) => {
                u.push('/');
                u.push_str(&escape(&s.to_string_lossy()));
            }
            Component::ParentDir => u.push_str("/.."),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if u == "file://" {
        u.push('/');
    }
    u
}

/// Percent-encode everything but RFC 3986 unreserved characters and the
/// sub-delimiters that are safe in a path segment.
fn escape(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'+' | b',' | b'=' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_relative_to_the_working_directory() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            location("profiles/a b.json", cwd),
            json!({ "uri": "profiles/a%20b.json", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(location("./p.toml", cwd), json!({ "uri": "p.toml", "uriBaseId": "%SRCROOT%" }));
        assert_eq!(location("/work/repo/x/f.bpf", cwd), json!({ "uri": "x/f.bpf", "uriBaseId": "%SRCROOT%" }));
        assert_eq!(location("/tmp/f.bpf", cwd), json!({ "uri": "file:///tmp/f.bpf" }));
        assert_eq!(location("../f#1.bpf", cwd), json!({ "uri": "file:///work/repo/../f%231.bpf" }));
        assert_eq!(dir_uri(cwd), "file:///work/repo/");
        assert_eq!(dir_uri(Path::new("/")), "file:///");
    }

    #[test]
    fn rules_carry_the_explain_text_and_no_link() {
        let f = Finding {
            code: "SC002",
            name: "x32-not-blocked",
            severity: Severity::Error,
            message: "m".into(),
            insns: vec![1],
            policy_line: None,
            counterexample: None,
        };
        let v = log("f.bpf", None, &[f], Path::new("/w"));
        let rule = &v["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["help"]["text"], json!(codes::explain("SC002").unwrap()));
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().starts_with('#'));
        assert!(!v.to_string().contains("invalid"), "no dead links");
        assert!(rule.get("helpUri").is_none());
    }
}
