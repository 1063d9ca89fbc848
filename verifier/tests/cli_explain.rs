//! `seccheck explain` covers every code `check` and `lint` print (`explain
//! P002` used to fail although `check` printed P001–P006).

use std::process::Command;

fn seccheck(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn every_code_check_prints_on_the_corpus_is_explained() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let (code, out, err) = seccheck(&[
        "check",
        &format!("{root}/corpus/profiles/docker_default.json"),
        "--policy",
        &format!("{root}/corpus/policies/docker_default.toml"),
        "--no-kernel",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut codes: Vec<String> =
        v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    codes.extend((1..=6).map(|i| format!("P00{i}")));
    codes.sort();
    codes.dedup();
    assert!(codes.iter().any(|c| c.starts_with("SC")) && codes.iter().any(|c| c.starts_with('P')), "{codes:?}");
    for c in &codes {
        let (code, doc, err) = seccheck(&["explain", c]);
        assert_eq!(code, 0, "{c}: {err}");
        assert!(doc.contains("###"), "{c}: {doc}");
    }
    let (code, _, err) = seccheck(&["explain", "P02"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `P002`") || err.contains("`P002`"), "{err}");
}
