//! `seccheck bench --compare-optimized` end to end, at small scale: every
//! filter under test is measured next to the program `seccheck optimize`
//! compiles from it, in the same rounds. Structure and invariants only (the
//! instruction counts are exact, no cached call is lost, estimates contain
//! their medians, the document matches its schema); no timing is asserted.

use serde_json::Value;
use std::path::Path;

use crate::common::bench::{dir_with, measuring_dir, seccheck, ALLOW_ALL, SMALL};
use crate::common::schemas;

#[test]
fn every_filter_is_measured_next_to_its_optimised_program() {
    // `ret ALLOW` twice: two inputs with one optimised program.
    let Some(dir) = measuring_dir(&[("allow.h", ALLOW_ALL), ("allow2.h", ALLOW_ALL)]) else { return };
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles/firecracker_x86_64-unknown-linux-musl.json");
    let vmm = format!("{}@vmm", profile.display());
    let mut args =
        vec!["bench", "allow.h", "allow2.h", "--compare-generators", &vmm, "--compare-optimized", "--format", "json"];
    args.extend(SMALL);
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = schemas::parse(&o.stdout);
    let c = &v["comparison"];
    let subjects: Vec<&str> = c["subjects"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let vmm_label = "firecracker_x86_64-unknown-linux-musl.json@vmm";
    // Inputs first, then one optimised program per distinct result: both
    // `ret ALLOW` files optimise to one program, measured once.
    assert_eq!(
        subjects,
        [vmm_label, "allow.h", "allow2.h", &format!("{vmm_label} optimized"), "allow.h optimized"],
        "{c:#}"
    );
    let pairs = c["optimized"].as_array().unwrap();
    let pair = |input: &str| pairs.iter().find(|p| p["input"] == input).unwrap_or_else(|| panic!("{input}: {c:#}"));
    assert_eq!(pairs.len(), 3);
    assert_eq!(pair("allow2.h")["output"], "allow.h optimized");
    let note = v["subjects"].as_array().unwrap().iter().find(|s| s["label"] == "allow.h optimized").unwrap()["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("proven equivalent") && note.contains("also of allow2.h"), "{note}");
    // Each pair's rows agree with the comparison's cells for the same
    // subjects (one run, one plan), and the optimiser keeps every cached call.
    let cell = |probe: &Value, subject: &Value| -> Value {
        let r = c["rows"].as_array().unwrap().iter().find(|r| &r["probe"] == probe).unwrap();
        r["cells"].as_array().unwrap().iter().find(|x| &x["subject"] == subject).unwrap().clone()
    };
    for p in pairs {
        let rows = p["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 8, "7 hot syscalls and nr 1000");
        for r in rows {
            let (i, o) = (cell(&r["probe"], &p["input"]), cell(&r["probe"], &p["output"]));
            assert_eq!(r["input_insns"], i["insns"], "{r}");
            assert_eq!(r["output_insns"], o["insns"], "{r}");
            assert_eq!(r["input_cached"], i["cached_predicted"], "{r}");
            assert_eq!(r["output_cached"], o["cached_predicted"], "{r}");
            assert!(r["input_cached"] == false || r["output_cached"] == true, "a cached call lost: {r}");
            // Same meaning, same verdict: a probe the input traps is never run
            // under either, and has no difference.
            assert_eq!(i["verdict"], o["verdict"], "{r}");
            let measured = i["verdict"]["status"] != "skipped";
            assert_eq!(r["difference"].is_null(), !measured, "{r}");
            if measured {
                // Two rounds: a median, no interval, never resolved.
                assert_eq!(r["difference"]["n"], 2, "{r}");
                assert_eq!(r["difference"]["unresolved"], "too_few_rounds", "{r}");
            }
        }
    }
    // seccompiler's linear chain runs over a hundred instructions for futex;
    // the optimised program a handful (the layout puts hot syscalls first).
    let futex =
        pair(vmm_label)["rows"].as_array().unwrap().iter().find(|r| r["probe"] == "futex_wake").unwrap().clone();
    let (i, o) = (futex["input_insns"].as_u64().unwrap(), futex["output_insns"].as_u64().unwrap());
    assert!(i > 100 && o < 20, "{futex}");
    let a = pair("allow.h");
    assert_eq!((a["input_instructions"].as_u64(), a["output_instructions"].as_u64()), (Some(1), Some(1)));
    // The text names the pairing.
    let mut args = vec!["bench", "allow.h", "--compare-optimized"];
    args.extend(SMALL);
    let o = seccheck(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("allow.h → allow.h optimized"), "{t}");
}

#[test]
fn a_stack_is_not_optimised_and_says_so() {
    let dir = dir_with(&[("allow.h", ALLOW_ALL)]);
    let mut args = vec!["bench", "allow.h+allow.h", "--compare-optimized"];
    args.extend(SMALL);
    let o = seccheck(dir.path(), &args);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("allow.h + allow.h") && e.contains("not stacks"), "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_command_is_timed_under_each_filter_and_its_optimised_program() {
    let Some(dir) = measuring_dir(&[("allow.h", ALLOW_ALL)]) else { return };
    let vmm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled/firecracker_x86_64.vmm.bpf");
    let o = seccheck(
        dir.path(),
        &[
            "bench",
            "--command",
            "--compare-optimized",
            "allow.h",
            vmm.to_str().unwrap(),
            "--rounds",
            "2",
            "--quiet",
            "--format",
            "json",
            "--",
            "/bin/true",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = schemas::parse(&o.stdout);
    let rows = v["rows"].as_array().unwrap();
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        ["allow.h", "firecracker_x86_64.vmm.bpf", "allow.h optimized", "firecracker_x86_64.vmm.bpf optimized"]
    );
    // The same meaning ends the command the same way: `ret ALLOW` lets it
    // run, Firecracker's vmm filter kills it (SIGSYS) before and after.
    for (input, output) in [(0, 2), (1, 3)] {
        assert_eq!(rows[input]["verdict"], rows[output]["verdict"], "{}", rows[output]);
    }
    assert_eq!(rows[1]["verdict"]["status"], "killed");
    assert!(rows[3]["note"].as_str().unwrap().contains("443 → "), "{}", rows[3]["note"]);
}
