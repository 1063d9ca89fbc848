//! `seccheck check`: every property kind passing and failing on small filters,
//! every counterexample consistent with the emulator, SARIF shape, bad policies.

use crate::common::schemas;

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

/// The policy of docs/design.md, shared with cli_report.rs.
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(": PASS: 6 of 6 properties hold; lints not run"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = seccheck(&["check", &lax, "--policy", pol, "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = schemas::parse(&o.stdout);
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
    // The verdict counts properties and violations apart, and says what decided the exit code.
    assert_eq!(v["verdict"]["pass"], false);
    assert_eq!(v["verdict"]["properties"], 6);
    assert_eq!(v["verdict"]["holding"], 5);
    assert_eq!(v["verdict"]["violations"], findings.len());
    assert_eq!(v["properties"].as_array().unwrap().iter().filter(|p| p["holds"] == false).count(), 1);
    assert!(v["verdict_line"].as_str().unwrap().contains("(exit 1: a property is violated)"), "{}", v["verdict_line"]);

    // Every property holding but a lint failing is exit 1, and the line says so
    // (it used to say "every property … holds" above a lint error).
    // The strict filter compares openat's 32-bit flags on all 64 bits (SC008).
    let o = seccheck(&["check", &strict, "--policy", pol, "--no-kernel"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(!text.contains("every property"), "{text}");
    assert!(
        text.lines().next().unwrap().ends_with("FAIL: 6 of 6 properties hold; lints: 0 errors, 1 warning, 0 notes (exit 1: a lint warning or error was reported)"),
        "{text}"
    );
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
    let v = schemas::parse(&o.stdout);
    let findings = v["findings"].as_array().unwrap();
    let has = |code: &str, needle: &str| {
        findings.iter().any(|f| f["code"] == code && f["message"].as_str().unwrap().contains(needle))
    };
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
            "P001" | "P005" => {
                assert!(action == "ALLOW" || action == "LOG" || action == "TRACE" || action == "USER_NOTIF", "{f}")
            }
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
    let v = schemas::parse_sarif(&o.stdout);
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
    std::fs::write(&bad, "arches = [\"x86_64\"]\n[[allow_only_if]]\nsyscalls = [\"openat\"]\nwhen = \"arg2 == \"\n")
        .unwrap();
    let o = seccheck(&["check", &lax, "--policy", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.toml: line 4, column"), "{e}");
    assert!(e.contains("expected a number or a constant"), "{e}");
}

#[test]
fn deny_and_allow_rules_can_be_scoped_with_when() {
    let d = tempfile::tempdir().unwrap();
    let strict = setup(d.path(), "strict", STRICT);
    let pol = d.path().join("w.toml");
    // STRICT allows openat only with arg2 & 3 == 0 and the high half 0.
    std::fs::write(
        &pol,
        r#"arches = ["x86_64"]
[[deny]]
syscalls = ["openat"]
when = "arg2 & O_ACCMODE != O_RDONLY"

[[allow]]
syscalls = ["openat"]
when = "arg2 & O_ACCMODE == O_RDONLY"
"#,
    )
    .unwrap();
    let o = seccheck(&["check", &strict, "--policy", pol.to_str().unwrap(), "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse(&o.stdout);
    let findings = v["findings"].as_array().unwrap();
    // The deny rule holds; the allow rule fails on a read-only flag value with
    // the high half set, which STRICT denies.
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["code"], "P003");
    assert_eq!(findings[0]["message"], "x86_64 openat where `arg2 & O_ACCMODE == O_RDONLY` does not always run");
    let flags = findings[0]["counterexample"]["input"]["args"][2].as_u64().unwrap();
    assert_eq!(flags & 3, 0);
    assert_ne!(flags >> 32, 0, "{flags:#x}");
    assert_eq!(findings[0]["policy_line"], 7);

    std::fs::write(&pol, "arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"openat\"]\nwhen = \"arg9 == 0\"\n").unwrap();
    let o = seccheck(&["check", &strict, "--policy", pol.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("w.toml: line 4, column 9: in `when`"), "{e}");
}

/// libseccomp lets nr -1 through its x32 guard on purpose; the kernel runs no
/// syscall for it, so an x86_64-only policy holds. An x32 number that names a
/// syscall and runs is a violation.
#[test]
fn x32_numbers_that_name_no_syscall_do_not_count_as_open() {
    let d = tempfile::tempdir().unwrap();
    let guard = setup(
        d.path(),
        "guard",
        "ld [4]\njeq #0xc000003e, nr, kill\nnr: ld [0]\njge #0x40000000, x32, allow\nx32: jeq #0xffffffff, allow, kill\nallow: ret #0x7fff0000\nkill: ret #0x80000000\n",
    );
    let open = setup(
        d.path(),
        "open",
        "ld [4]\njeq #0xc000003e, allow, kill\nallow: ret #0x7fff0000\nkill: ret #0x80000000\n",
    );
    let pol = d.path().join("a.toml");
    std::fs::write(&pol, "arches = [\"x86_64\"]\n").unwrap();
    let o = seccheck(&["check", &guard, "--policy", pol.to_str().unwrap(), "--no-lints"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    let o = seccheck(&["check", &open, "--policy", pol.to_str().unwrap(), "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = schemas::parse(&o.stdout);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "P001", "{v:#}");
    let nr = f["counterexample"]["input"]["nr"].as_u64().unwrap();
    assert!(seccheck::arch::Arch::X32.syscall_name(nr as u32).is_some(), "{nr:#x} names an x32 syscall");
}

/// socketcall carries socket's arguments in memory: a condition on them cannot
/// be enforced for the multiplexed call, so it is a violation wherever
/// socketcall(SYS_SOCKET) runs, however its registers look.
#[test]
fn conditions_on_socketcall_arguments_are_unknown() {
    let d = tempfile::tempdir().unwrap();
    // i386: socket (359) only for AF_UNIX; socketcall (102) always allowed.
    let f = setup(
        d.path(),
        "f",
        "ld [4]\njeq #0x40000003, nr, kill\nnr: ld [0]\njeq #359, sock, allow\nsock: ld [16]\njeq #1, allow, deny\nallow: ret #0x7fff0000\ndeny: ret #0x50001\nkill: ret #0x80000000\n",
    );
    let pol = d.path().join("s.toml");
    std::fs::write(
        &pol,
        "arches = [\"i386\"]\n[[allow_only_if]]\nsyscalls = [\"socket\"]\nwhen = \"arg0 & 0xffffffff == AF_UNIX\"\n",
    )
    .unwrap();
    let o = seccheck(&["check", &f, "--policy", pol.to_str().unwrap(), "--no-lints", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v = schemas::parse(&o.stdout);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let msg = findings[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("i386 socketcall when arg0 == 0x1 (socketcall passes the call's arguments in memory"),
        "{msg}"
    );
    assert!(msg.ends_with("runs, so `arg0 & 0xffffffff == AF_UNIX` is not enforced"), "{msg}");
    assert_eq!(findings[0]["counterexample"]["input"]["args"][0], 1);
    assert_eq!(findings[0]["counterexample"]["action"], "ALLOW");
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let d = tempfile::tempdir().unwrap();
    let lax = setup(d.path(), "lax", LAX);
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, POLICY).unwrap();
    let validator = schemas::sarif_validator();
    // With findings of every kind (properties with policy lines, lints,
    // counterexamples), with none, from `lint` as from `check`, and for a
    // filter the kernel refuses.
    let clean = d.path().join("clean.toml");
    std::fs::write(&clean, "arches = [\"x86_64\"]\n").unwrap();
    let refused = d.path().join("refused.bpf");
    // `jeq #0, +0, +9` jumps out of the two-instruction program.
    std::fs::write(&refused, [0x15u8, 0, 0, 9, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
    let (p, c, r) = (pol.to_str().unwrap(), clean.to_str().unwrap(), refused.to_str().unwrap());
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/compiled/seed_backend_denylist.x86_64.runc.bpf")
        .display()
        .to_string();
    let mut results = 0;
    // (arguments, exit code, whether there are results)
    for (args, expect, some) in [
        (vec!["check", &lax, "--policy", p], 1, true),
        (vec!["check", &lax, "--policy", c], 0, false),
        (vec!["lint", &lax], 0, false),
        (vec!["lint", &seed], 1, true),
        (vec!["check", r, "--policy", c], 1, true),
        (vec!["lint", r], 1, true),
    ] {
        let o = seccheck(&[&args[..], &["--format", "sarif"]].concat());
        assert_eq!(o.status.code(), Some(expect), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let v = schemas::parse_sarif(&o.stdout);
        // The typed model of the same schema reads it back too.
        let typed: serde_sarif::sarif::Sarif = serde_json::from_value(v.clone()).unwrap();
        let n = typed.runs[0].results.as_ref().map_or(0, |r| r.len());
        assert_eq!(n > 0, some, "{args:?}: {v:#}");
        results += n;
        // Locations are relative to the working directory, or absolute file: URIs.
        for r in v["runs"][0]["results"].as_array().unwrap() {
            for l in r["locations"].as_array().unwrap() {
                let a = &l["physicalLocation"]["artifactLocation"];
                let uri = a["uri"].as_str().unwrap();
                assert!(uri.starts_with("file:///") || a["uriBaseId"] == "%SRCROOT%", "{a}");
            }
        }
    }
    assert!(results > 0);
    // The test of the test: the schema rejects a log without `runs`, and one of
    // ours with a level SARIF does not have.
    assert!(!validator.is_valid(&serde_json::json!({ "version": "2.1.0" })));
    let o = seccheck(&["check", &lax, "--policy", p, "--format", "sarif"]);
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(validator.is_valid(&v));
    v["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&v));
}

/// In a working directory, SARIF names the files as the repository does:
/// `uri` relative to it under `%SRCROOT%`.
#[test]
fn sarif_locations_are_relative_to_the_working_directory() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path(), "lax", LAX);
    std::fs::write(d.path().join("p.toml"), POLICY).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(d.path())
        .args(["check", "lax.bpf", "--policy", "p.toml", "--format", "sarif", "--no-kernel"])
        .output()
        .unwrap();
    let v = schemas::parse_sarif(&o.stdout);
    let run = &v["runs"][0];
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
    let uris: std::collections::BTreeSet<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["locations"].as_array().unwrap())
        .map(|l| l["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris.into_iter().collect::<Vec<_>>(), ["lax.bpf", "p.toml"]);
}

/// `--stack A,B`: the properties hold of the stack's effective action, and a
/// violation's counterexample names the filter that decided it.
#[test]
fn check_a_stack_by_its_effective_action() {
    let d = tempfile::tempdir().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let docker = dir.join("docker_default.x86_64.runc.bpf");
    let seed = dir.join("seed_backend_denylist.x86_64.runc.bpf");
    let pol = d.path().join("p.toml");
    std::fs::write(&pol, "arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"ptrace\", \"socket\"]\n").unwrap();
    let p = pol.to_str().unwrap();
    // Docker alone lets socket and (x32, i386) through; the seed's layer on top denies them.
    let o = seccheck(&["check", docker.to_str().unwrap(), "--policy", p, "--no-kernel"]);
    assert_eq!(o.status.code(), Some(1));
    let both = format!("{},{}", docker.display(), seed.display());
    let o = seccheck(&["check", "--stack", &both, "--policy", p]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("(stack, oldest first) against") && text.contains("PASS: 2 of 2 properties hold; lints not run"),
        "{text}"
    );
    assert!(text.contains("lints look at one filter at a time"), "{text}");
    // A property the stack breaks: connect must always run.
    std::fs::write(&pol, "arches = [\"x86_64\"]\n[[allow]]\nsyscalls = [\"connect\"]\n").unwrap();
    let o = seccheck(&["check", "--stack", &both, "--policy", p, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = schemas::parse(&o.stdout);
    let f =
        v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "P003").expect("connect does not always run");
    assert_eq!(f["counterexample"]["syscall"], "connect");
    assert_eq!(f["counterexample"]["action"], "ERRNO");
    // An empty name in the list is a usage error.
    let o = seccheck(&["check", "--stack", &format!("{},", docker.display()), "--policy", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty file name"));
}
