//! The JSON output contract (docs/json.md) on the corpus: every command that
//! prints JSON, run on real filters and profiles, prints one document that
//! names its schema and follows it; a refused filter is a document too; and
//! each schema rejects the drift it exists to catch (an unknown field, a
//! missing one, a wrong type), so that validating proves something.

use crate::common::schemas;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(args).output().unwrap()
}

/// Run, expect one of `codes`, and return the validated document.
fn json_of(args: &[&str], codes: &[i32]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let o = seccheck(&all);
    let code = o.status.code().unwrap_or(-1);
    assert!(codes.contains(&code), "{all:?} exited {code}: {}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse(&o.stdout);
    let kind = if args.contains(&"--predict-only") { "bench-predict" } else { args[0] };
    assert_eq!(schemas::command_of(&v), kind, "{all:?}");
    v
}

fn compiled() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("corpus/compiled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

/// Every compiled corpus filter through every single-filter command.
#[test]
fn every_command_on_every_compiled_corpus_filter() {
    let filters = compiled();
    assert!(filters.len() >= 20, "{filters:?}");
    for f in &filters {
        let v = json_of(&["validate", f], &[0]);
        assert_eq!(v["accepted"], true);
        assert_eq!(v["compiled"], Value::Null);
        json_of(&["disasm", f], &[0]);
        let t = json_of(&["table", f], &[0]);
        assert!(
            !t["table"]["arches"].as_array().unwrap().is_empty()
                || !t["table"]["other_arch"].as_array().unwrap().is_empty()
        );
        let l = json_of(&["lint", f, "--no-kernel"], &[0, 1]);
        assert!(["no_examples", "skipped"].contains(&l["kernel"]["status"].as_str().unwrap()), "{f}");
        let e = json_of(&["emu", f, "--arch", "x86_64", "--syscall", "openat", "--args", "1,2,0x80000"], &[0]);
        assert_eq!(e["input"]["syscall"], "openat");
        assert_eq!(e["input"]["args"], json!([1, 2, 0x80000, 0, 0, 0]));
    }
    // Two filters: a diff both ways, a refinement and a stack.
    let (a, b) = (&filters[0], &filters[filters.len() - 1]);
    let d = json_of(&["diff", a, b, "--no-kernel"], &[0, 1]);
    assert_eq!(d["mode"], "diff");
    assert_eq!(d["a"][0]["file"], json!(a));
    let r = json_of(&["diff", "--refines", a, b, "--no-kernel"], &[0, 1]);
    assert_eq!(r["mode"], "refines");
    let s = json_of(&["stack", a, b], &[0]);
    assert_eq!(s["filters"].as_array().unwrap().len(), 2);
    json_of(&["bench", "--predict-only", a, b], &[0]);
}

/// Every corpus profile with its policy (corpus/policies/INDEX.tsv): check,
/// lint and table carry what the generator did as data.
#[test]
fn every_corpus_profile_through_check_lint_and_table() {
    let index = std::fs::read_to_string(root().join("corpus/policies/INDEX.tsv")).unwrap();
    let mut rows = 0;
    let mut notes = 0;
    for line in index.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (policy, profile, filter, host, options) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
        let profile = format!("corpus/profiles/{profile}");
        let policy = format!("corpus/policies/{policy}");
        let mut opts: Vec<&str> = vec!["--host-arch", host, "--kernel-version", "6.18"];
        if filter != "-" {
            opts.extend(["--filter", filter]);
        }
        if options != "-" {
            opts.extend(options.split(' '));
        }
        let c = json_of(&[&["check", &profile, "--policy", &policy, "--no-kernel"][..], &opts].concat(), &[0, 1]);
        assert_eq!(c["verdict"]["pass"].as_bool().unwrap(), c["verdict_line"].as_str().unwrap().starts_with("PASS"));
        assert!(c["compiled"]["generator"].is_string(), "{profile}: a profile says its generator");
        notes += c["compiled"]["notes"].as_array().unwrap().len();
        json_of(&[&["lint", &profile, "--no-kernel"][..], &opts].concat(), &[0, 1]);
        json_of(&[&["table", &profile][..], &opts].concat(), &[0]);
        rows += 1;
    }
    assert!(rows >= 15, "{rows} INDEX rows");
    assert!(notes > 0, "the corpus has profiles whose generator drops rules");
}

/// A profile read from standard input (`-`) is the same document.
#[test]
fn standard_input_is_read_as_dash() {
    let f = root().join("corpus/profiles/seed_backend_denylist.json");
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .args(["validate", "-", "--format", "json"])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse_as("validate", &o.stdout);
    assert_eq!(v["file"], "<stdin>");
    assert_eq!(v["compiled"]["notes"][0]["kind"], "rule_dropped");
}

/// Under --format json, a filter the kernel refuses is a JSON document (not
/// text) for every command that analyses one filter, and exit 1.
#[test]
fn a_refused_filter_is_a_document() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("refused.bpf");
    // `jeq #0, +0, +9` jumps out of the two-instruction program.
    std::fs::write(&f, [0x15u8, 0, 0, 9, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
    let p = d.path().join("p.toml");
    std::fs::write(&p, "arches = [\"x86_64\"]\n").unwrap();
    let (f, p) = (f.to_str().unwrap(), p.to_str().unwrap());
    for args in [
        vec!["table", f],
        vec!["lint", f],
        vec!["emu", f, "--arch", "x86_64", "--syscall", "read"],
        vec!["check", f, "--policy", p],
    ] {
        let v = json_of(&args, &[1]);
        assert_eq!(v["accepted"], false, "{args:?}");
        assert_eq!(v["violations"][0]["rule"], "cond-jump-out-of-range", "{args:?}");
    }
    let v = json_of(&["check", f, "--policy", p], &[1]);
    assert_eq!(v["verdict"], json!({ "pass": false, "refused": "filter" }));
    let v = json_of(&["validate", f], &[1]);
    assert_eq!(v["accepted"], false);
}

/// The kernel's word is one object whatever happened: asked (where the kernel
/// can be asked), skipped, or nothing to ask.
#[test]
fn kernel_confirmation_is_an_object_with_a_status() {
    let f = "corpus/compiled/seed_backend_denylist.x86_64.runc.bpf";
    let v = json_of(&["lint", f, "--no-kernel"], &[1]);
    let k = &v["kernel"];
    assert_eq!(k["status"], "skipped");
    assert_eq!(k["asked"], 0);
    assert!(k["examples"].as_u64().unwrap() > 0, "{k}");
    assert_eq!(k["reason"], Value::Null);
    let v = json_of(&["lint", f], &[1]);
    let k = &v["kernel"];
    assert!(["asked", "unavailable"].contains(&k["status"].as_str().unwrap()), "{k}");
    if k["status"] == "asked" {
        assert_eq!(k["asked"].as_u64().unwrap() + k["not_askable"].as_u64().unwrap(), k["examples"].as_u64().unwrap());
        assert_eq!(k["disagreed"], 0);
    } else {
        assert!(k["reason"].is_string());
    }
    let v = json_of(&["diff", f, f], &[0]);
    assert_eq!(v["kernel"]["status"], "no_examples");
}

/// The test of the tests: each schema fails on drift. For one real document
/// per schema, an added field, a removed required field and a retyped field
/// are each rejected.
#[test]
fn every_schema_rejects_drift() {
    let d = tempfile::tempdir().unwrap();
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, "arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"ptrace\"]\n").unwrap();
    let f = "corpus/profiles/seed_backend_denylist.json";
    let g = "corpus/compiled/spo_profile-allow-unsafe.x86_64.runc.bpf";
    let docs = [
        json_of(&["validate", f], &[0]),
        json_of(&["table", f], &[0]),
        json_of(&["check", f, "--policy", pol.to_str().unwrap(), "--no-kernel"], &[1]),
        json_of(&["lint", f, "--no-kernel"], &[1]),
        json_of(&["disasm", f], &[0]),
        json_of(&["emu", f, "--arch", "x86_64", "--syscall", "ptrace"], &[0]),
        json_of(&["diff", f, g, "--no-kernel"], &[1]),
        json_of(&["stack", f, g], &[0]),
        json_of(&["bench", "--predict-only", g], &[0]),
        json_of(&["optimize", g, "-o", d.path().join("o.bpf").to_str().unwrap(), "--no-kernel"], &[0]),
    ];
    let mut schemas_seen = std::collections::BTreeSet::new();
    for v in &docs {
        schemas_seen.insert(schemas::command_of(v).to_string());
        let mut added = v.clone();
        added["unexpected"] = json!(1);
        assert!(!schemas::violations(&added).is_empty(), "{} accepts an unknown field", schemas::command_of(v));
        let obj = v.as_object().unwrap();
        for key in obj.keys().filter(|k| *k != "schema") {
            let mut removed = v.clone();
            removed.as_object_mut().unwrap().remove(key);
            let mut retyped = v.clone();
            retyped[key] = json!({ "not": "this" });
            assert!(
                !schemas::violations(&retyped).is_empty(),
                "{}: `{key}` retyped to an object is accepted",
                schemas::command_of(v)
            );
            // Optional fields may go; everything the command always writes is required.
            let optional = ["path_length", "path_length_a", "path_length_b", "stack", "table", "refused"];
            if !optional.contains(&key.as_str()) {
                assert!(
                    !schemas::violations(&removed).is_empty(),
                    "{}: a document without `{key}` is accepted",
                    schemas::command_of(v)
                );
            }
        }
        // Drift deep inside too: an unknown field in a nested object of ours.
        let mut deep = v.clone();
        if let Some(fd) = deep.get_mut("findings").and_then(|f| f.get_mut(0)) {
            fd["extra"] = json!(true);
            assert!(!schemas::violations(&deep).is_empty(), "a finding with an unknown field is accepted");
        }
    }
    assert_eq!(schemas_seen.len(), docs.len(), "one document per schema");
    // Every schema file is one of the documented kinds, and parses as a schema.
    for e in std::fs::read_dir(schemas::dir()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let kind = name.strip_suffix(".v1.json").unwrap_or_else(|| panic!("{name}: not <kind>.v1.json"));
        if kind != "common" {
            schemas::validator(kind);
        }
    }
}

/// No schema types a record loosely: every object schema lists its
/// properties and is closed to others, every required field is described,
/// every array schema lists its items and no field accepts anything, so a
/// record cannot drift unnoticed below a field typed only as "object",
/// "array" or not at all.
#[test]
fn every_schema_types_its_records_field_by_field() {
    let loose = json!({"type": "object", "additionalProperties": false, "required": ["a", "g"], "properties": {
        "a": {"type": ["object", "null"]},
        "b": {"anyOf": [{"type": "array"}, {"type": "null"}]},
        "c": {"type": "array", "prefixItems": [{"type": "integer"}], "items": false},
        "d": {"type": "object", "properties": {"x": {}}},
        "e": {"anyOf": [{"description": "anything"}, true]},
        "f": {"type": "object", "additionalProperties": {"type": "integer"}},
        "description": {"type": "string"},
    }});
    assert_eq!(
        schemas::loose_nodes(&loose),
        [
            ": required `g` is not among its properties",
            "/properties/a: an object without properties",
            "/properties/b/anyOf/0: an array without items",
            "/properties/d: an object open to other properties",
            "/properties/d/properties/x: a schema that accepts anything",
            "/properties/e/anyOf/0: a schema that accepts anything",
            "/properties/e/anyOf/1: a schema that accepts anything",
        ]
    );
    let mut files = 0;
    for e in std::fs::read_dir(schemas::dir()).unwrap() {
        let path = e.unwrap().path();
        let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let loose = schemas::loose_nodes(&schema);
        assert!(loose.is_empty(), "{}:\n{}", path.display(), loose.join("\n"));
        files += 1;
    }
    assert!(files > 10, "{files} schema files");
}
