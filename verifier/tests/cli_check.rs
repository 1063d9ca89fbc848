//! `seccheck check`: every property kind passing and failing on small filters,
//! every counterexample consistent with the emulator, SARIF shape, bad policies.

use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

/// x86_64 only (everything else KILL_PROCESS), x32 killed; openat allowed only
/// read-only (arg2 & 3 == 0), clone/fork/execve ERRNO, read/write/exit_group
/// allowed, everything else ERRNO(EPERM).
const STRICT: &str = "
    ld [4]
    jeq #0xc000003e, arch_ok, kill
arch_ok:
    ld [0]
    jge #0x40000000, kill, nr
nr:
    jeq #0, allow, n1
n1: jeq #1, allow, n2
n2: jeq #231, allow, n3
n3: jeq #257, openat, deny
openat:
    ld [32]
    jset #3, deny, hi
hi: ld [36]
    jeq #0, allow, deny
allow:
    ret #0x7fff0000
deny:
    ret #0x50001
kill:
    ret #0x80000000
";

/// The same, but openat unconditionally allowed and no x32 check (x32
/// numbers match no rule and get ERRNO).
const LAX: &str = "
    ld [4]
    jeq #0xc000003e, nr, kill
nr: ld [0]
    jeq #0, allow, n1
n1: jeq #1, allow, n2
n2: jeq #231, allow, n3
n3: jeq #257, allow, deny
allow:
    ret #0x7fff0000
deny:
    ret #0x50001
kill:
    ret #0x80000000
";

/// The policy of DESIGN.md, shared with cli_report.rs.
const POLICY: &str = include_str!("common/design_policy.toml");

fn setup(d: &std::path::Path, name: &str, src: &str) -> String {
    let s = d.join(format!("{name}.s"));
    std::fs::write(&s, src).unwrap();
    let b = d.join(format!("{name}.bpf"));
    let o = seccheck(&["asm", s.to_str().unwrap(), "-o", b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    b.to_str().unwrap().to_string()
}

#[test]
fn properties_hold_on_the_strict_filter_and_fail_on_the_lax_one() {
    let d = tempfile::tempdir().unwrap();
    let strict = setup(d.path(), "strict", STRICT);
    let lax = setup(d.path(), "lax", LAX);
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, POLICY).unwrap();
    let pol = pol.to_str().unwrap();

    let o = seccheck(&["check", &strict, "--policy", pol, "--no-lints"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("every property of"));

    let o = seccheck(&["check", &lax, "--policy", pol, "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap()).collect();
    // openat runs for writes (P004); x32 numbers fall to ERRNO, so nothing else is wrong.
    assert_eq!(codes, vec!["P004"], "{findings:#?}");
    let openat = &findings[0]["counterexample"];
    assert_eq!(openat["syscall"], "openat");
    let flags = openat["input"]["args"][2].as_u64().unwrap();
    assert_ne!(flags & 3, 0, "the example must violate the condition");
    assert_eq!(openat["action"], "ALLOW");
    assert_eq!(findings[0]["policy_line"], 11);
}

#[test]
fn deny_allow_default_and_forbid_fail_with_examples() {
    let d = tempfile::tempdir().unwrap();
    // Allows everything on x86_64 except read (TRACE) and write (USER_NOTIF).
    let f = setup(d.path(), "f", "ld [4]\njeq #0xc000003e, nr, kill\nnr: ld [0]\njeq #0, trace, n1\nn1: jeq #1, notif, allow\ntrace: ret #0x7ff00005\nnotif: ret #0x7fc00000\nallow: ret #0x7fff0000\nkill: ret #0\n");
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, POLICY).unwrap();
    let o = seccheck(&["check", &f, "--policy", pol.to_str().unwrap(), "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let has = |code: &str, needle: &str| findings.iter().any(|f| f["code"] == code && f["message"].as_str().unwrap().contains(needle));
    assert!(has("P001", "x32"));
    assert!(has("P002", "x86_64 fork (from @process-create) is not denied"));
    assert!(has("P002", "x86_64 ptrace is not denied"));
    assert!(has("P003", "x86_64 read does not always run"));
    assert!(has("P005", "x86_64 mmap runs"));
    assert!(has("P006", "UserNotif"));
    assert!(has("P006", "Trace"));
    // Every example's action is what the finding says.
    for f in findings {
        let c = &f["counterexample"];
        let action = c["action"].as_str().unwrap();
        match f["code"].as_str().unwrap() {
            "P001" | "P005" => assert!(action == "ALLOW" || action == "LOG" || action == "TRACE" || action == "USER_NOTIF", "{f}"),
            "P002" => assert!(!["KILL_PROCESS", "KILL_THREAD", "TRAP", "ERRNO"].contains(&action), "{f}"),
            "P003" => assert!(action != "ALLOW" && action != "LOG", "{f}"),
            _ => {}
        }
    }
}

#[test]
fn sarif_and_bad_policies() {
    let d = tempfile::tempdir().unwrap();
    let lax = setup(d.path(), "lax", LAX);
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, POLICY).unwrap();
    let o = seccheck(&["check", &lax, "--policy", pol.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "seccheck");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().unwrap().len() > 10);
    }

    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "arches = [\"x86_64\"]\n[[allow_only_if]]\nsyscalls = [\"openat\"]\nwhen = \"arg2 == \"\n").unwrap();
    let o = seccheck(&["check", &lax, "--policy", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.toml: line 4, column"), "{e}");
    assert!(e.contains("expected a number or a constant"), "{e}");
}
