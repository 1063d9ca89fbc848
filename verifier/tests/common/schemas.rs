//! Every JSON document seccheck prints is checked against the JSON Schema it
//! names (`"schema": "seccheck/<command>/v1"` → `docs/schemas/<command>.v1.json`,
//! the shared definitions in `common.v1.json`), and every SARIF log against
//! the official SARIF 2.1.0 schema. Tests parse seccheck's JSON only through
//! [`parse`], so a field that drifts from its schema fails the test that
//! produced it.
#![allow(dead_code)]

use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// `docs/schemas/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas")
}

/// Serves `urn:seccheck:schemas:NAME` from `docs/schemas/NAME.json`; nothing
/// else (no network).
struct Files;

impl Retrieve for Files {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix("urn:seccheck:schemas:")
            .ok_or_else(|| format!("{}: not a seccheck schema; nothing is fetched", uri.as_str()))?;
        let text = std::fs::read(dir().join(format!("{name}.json")))?;
        Ok(serde_json::from_slice(&text)?)
    }
}

/// The validator of `seccheck/<command>/v1`, built once per test binary.
pub fn validator(command: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(command.to_string())
        .or_insert_with(|| {
            let path = dir().join(format!("{command}.v1.json"));
            let schema: Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .with_retriever(Files)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{}: not a valid schema: {e}", path.display())),
            )
        })
        .clone()
}

/// The command a document names in its `schema` (`seccheck/check/v1` → `check`).
pub fn command_of(v: &Value) -> &str {
    let id = v["schema"].as_str().unwrap_or_else(|| panic!("no \"schema\" string at the top level:\n{v:#}"));
    id.strip_prefix("seccheck/")
        .and_then(|r| r.strip_suffix("/v1"))
        .unwrap_or_else(|| panic!("schema `{id}` is not seccheck/<command>/v1"))
}

/// The schema violations of `v` against the schema it names, one line each.
pub fn violations(v: &Value) -> Vec<String> {
    validator(command_of(v)).iter_errors(v).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// Assert that `v` follows the schema it names.
pub fn check(v: &Value) {
    let errors = violations(v);
    assert!(errors.is_empty(), "{} JSON does not follow its schema:\n{}\n{v:#}", command_of(v), errors.join("\n"));
}

/// Parse seccheck's `--format json` output and assert it follows its schema.
pub fn parse(stdout: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(stdout)));
    check(&v);
    v
}

/// Parse output that must be `command`'s JSON document.
pub fn parse_as(command: &str, stdout: &[u8]) -> Value {
    let v = parse(stdout);
    assert_eq!(command_of(&v), command, "{v:#}");
    v
}

/// Where `schema` types a value loosely, as JSON pointers: an object schema
/// without `properties` (unless a map typed by its values), an object schema
/// with `properties` that stays open to others (no `"additionalProperties":
/// false`), a `required` name it does not describe, an array schema without
/// `items` (or `prefixItems`), and a schema that accepts anything (`{}`,
/// `true`, or annotations alone). seccheck's records are typed field by
/// field (docs/json.md), so every such place is a record whose shape nobody
/// checks. The walk follows the keywords that hold schemas (`properties`,
/// `$defs`, `items`, `anyOf`, …), so a property named like a keyword is read
/// as a name.
pub fn loose_nodes(schema: &Value) -> Vec<String> {
    /// Keywords that say what a value is, not only describe it.
    const ANNOTATIONS: [&str; 7] = ["description", "title", "$comment", "default", "examples", "$schema", "$id"];
    fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
        let m = match v {
            Value::Bool(true) => return out.push(format!("{at}: a schema that accepts anything")),
            Value::Bool(false) => return,
            Value::Object(m) => m,
            _ => return out.push(format!("{at}: not a schema")),
        };
        if m.keys().all(|k| ANNOTATIONS.contains(&k.as_str())) {
            out.push(format!("{at}: a schema that accepts anything"));
        }
        let is = |t: &str| match m.get("type") {
            Some(Value::String(s)) => s == t,
            Some(Value::Array(a)) => a.iter().any(|x| x == t),
            _ => false,
        };
        let properties = m.get("properties").and_then(Value::as_object);
        if is("object") {
            // A map is typed by the schema of its values.
            let typed_map =
                matches!(m.get("additionalProperties"), Some(Value::Object(_))) || m.contains_key("patternProperties");
            match properties {
                None if !typed_map => out.push(format!("{at}: an object without properties")),
                Some(_) if m.get("additionalProperties") != Some(&Value::Bool(false)) => {
                    out.push(format!("{at}: an object open to other properties"))
                }
                _ => {}
            }
            for name in m.get("required").and_then(Value::as_array).into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !properties.is_some_and(|p| p.contains_key(name)) {
                    out.push(format!("{at}: required `{name}` is not among its properties"));
                }
            }
        }
        if is("array") && !m.contains_key("items") && !m.contains_key("prefixItems") {
            out.push(format!("{at}: an array without items"));
        }
        for key in ["properties", "$defs", "patternProperties"] {
            for (k, x) in m.get(key).and_then(Value::as_object).into_iter().flatten() {
                walk(x, &format!("{at}/{key}/{k}"), out);
            }
        }
        for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
            for (i, x) in m.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
                walk(x, &format!("{at}/{key}/{i}"), out);
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(x) = m.get(key) {
                walk(x, &format!("{at}/{key}"), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out);
    out
}

/// The official SARIF 2.1.0 JSON schema (OASIS `sarif-schema-2.1.0.json`,
/// not vendored here: OASIS publishes it under its IPR policy, not an open
/// licence), as the serde-sarif crate (MIT/Apache-2.0, a dev-dependency)
/// ships it in its source (`src/schema.json`), found through `cargo metadata`
/// so that no path on this machine is written down.
pub fn sarif_schema() -> Value {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let o = std::process::Command::new(env!("CARGO"))
        // Only this platform's packages, all of them already downloaded for the build.
        .args(["metadata", "--format-version", "1", "--offline", "--filter-platform", host_triple(), "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(o.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&o.stderr));
    let meta: Value = serde_json::from_slice(&o.stdout).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif is a dev-dependency");
    let dir = Path::new(pkg["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf();
    let schema: Value = serde_json::from_slice(&std::fs::read(dir.join("src/schema.json")).unwrap()).unwrap();
    assert_eq!(schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
    schema
}

fn host_triple() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "x86_64-unknown-linux-gnu"
    } else if cfg!(target_arch = "aarch64") {
        "aarch64-unknown-linux-gnu"
    } else {
        panic!("add this host's target triple")
    }
}

/// A validator of the SARIF 2.1.0 schema, built once per test binary.
pub fn sarif_validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let mut schema = sarif_schema();
        // The published schema's `language` patterns (of `run` and
        // `toolComponent`) have an unbalanced `]`
        // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`), which the
        // meta-schema's "regex" format rejects; seccheck writes no `language`,
        // so exactly those patterns are dropped and the rest is checked as published.
        fn drop_bad_patterns(v: &mut Value) -> usize {
            const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
            match v {
                Value::Object(m) => {
                    let here = (m.get("pattern").and_then(|p| p.as_str()) == Some(BAD)) as usize;
                    if here == 1 {
                        m.remove("pattern");
                    }
                    here + m.values_mut().map(drop_bad_patterns).sum::<usize>()
                }
                Value::Array(a) => a.iter_mut().map(drop_bad_patterns).sum(),
                _ => 0,
            }
        }
        assert_eq!(drop_bad_patterns(&mut schema), 2);
        jsonschema::options().should_validate_formats(true).build(&schema).unwrap()
    })
}

/// Parse a SARIF log and assert it follows the SARIF 2.1.0 schema, and that
/// every rule a result names is there with the `explain` text as help.
pub fn parse_sarif(stdout: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(stdout)));
    let errors: Vec<String> =
        sarif_validator().iter_errors(&v).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF schema violations:\n{}\n{v:#}", errors.join("\n"));
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(rules[idx]["help"]["text"].as_str().is_some_and(|t| t.len() > 40), "{:#}", rules[idx]);
    }
    assert!(!v.to_string().contains("seccheck.invalid"), "no dead links");
    v
}
