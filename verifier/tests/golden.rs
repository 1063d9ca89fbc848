//! Golden output: every command in every format it has, on one small corpus
//! profile (`corpus/profiles/seed_backend_denylist.json`: 33 instructions
//! after libseccomp and runc, two rules runc drops silently, a policy in
//! `corpus/policies/` that it violates), snapshotted whole — exit code,
//! stdout and stderr — so any change to what seccheck prints is a reviewed
//! snapshot change. Only what truly varies is redacted: the absolute
//! working directory SARIF names as `%SRCROOT%`. Examples are not put to the
//! kernel (`--no-kernel`), whose availability varies by machine; the kernel's
//! part is tested where it is asked (json_contract.rs, cli_check.rs).
//! Every JSON snapshotted is also validated against its schema.

use crate::common::schemas;

use std::path::{Path, PathBuf};
use std::process::Command;

const PROFILE: &str = "corpus/profiles/seed_backend_denylist.json";
const POLICY: &str = "corpus/policies/seed_backend_denylist.toml";
/// A second filter for diff and stack: allows everything on x86_64.
const OTHER: &str = "corpus/compiled/spo_profile-allow-unsafe.x86_64.runc.bpf";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// `exit: N`, then stdout and stderr, with the working directory redacted.
fn golden(args: &[&str]) -> String {
    golden_in(&root(), args)
}

fn golden_in(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().unwrap();
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    if let Some(i) = args.iter().position(|a| *a == "--format") {
        match args[i + 1] {
            "json" => {
                schemas::parse(&o.stdout);
            }
            "sarif" => {
                schemas::parse_sarif(&o.stdout);
            }
            _ => {}
        }
    }
    let cwd = format!("file://{}/", dir.display());
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().map_or("signal".to_string(), |c| c.to_string()),
        stdout.replace(&cwd, "file:///[CWD]/"),
        String::from_utf8_lossy(&o.stderr)
    )
}

macro_rules! golden {
    ($name:ident, $($arg:expr),+ $(,)?) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(golden(&[$($arg),+]));
        }
    };
}

golden!(validate_text, "validate", PROFILE);
golden!(validate_json, "validate", PROFILE, "--format", "json");
golden!(table_text, "table", PROFILE);
golden!(table_json, "table", PROFILE, "--format", "json");
golden!(table_selected_text, "table", PROFILE, "--arch", "x86_64", "--syscall", "openat,socket,clone3");
golden!(check_text, "check", PROFILE, "--policy", POLICY, "--no-kernel");
golden!(check_json, "check", PROFILE, "--policy", POLICY, "--no-kernel", "--format", "json");
golden!(check_sarif, "check", PROFILE, "--policy", POLICY, "--no-kernel", "--format", "sarif");
golden!(lint_text, "lint", PROFILE, "--no-kernel");
golden!(lint_json, "lint", PROFILE, "--no-kernel", "--format", "json");
golden!(lint_sarif, "lint", PROFILE, "--no-kernel", "--format", "sarif");
golden!(disasm_text, "disasm", PROFILE);
golden!(disasm_json, "disasm", PROFILE, "--format", "json");
golden!(emu_text, "emu", PROFILE, "--arch", "x86_64", "--syscall", "openat", "--args", "0,0x1000,0");
golden!(
    emu_json,
    "emu",
    PROFILE,
    "--arch",
    "x86_64",
    "--syscall",
    "openat",
    "--args",
    "0,0x1000,0",
    "--format",
    "json"
);
golden!(diff_text, "diff", PROFILE, OTHER, "--no-kernel");
golden!(diff_json, "diff", PROFILE, OTHER, "--no-kernel", "--format", "json");
golden!(refines_text, "diff", "--refines", PROFILE, OTHER, "--no-kernel");
golden!(refines_json, "diff", "--refines", PROFILE, OTHER, "--no-kernel", "--format", "json");
golden!(stack_text, "stack", PROFILE, OTHER, "--arch", "x86_64", "--syscall", "read,openat,ptrace");
golden!(stack_json, "stack", PROFILE, OTHER, "--arch", "x86_64", "--syscall", "read,openat,ptrace", "--format", "json");
golden!(explain_text, "explain", "SC005");
golden!(bench_predict_text, "bench", "--predict-only", PROFILE);
golden!(bench_predict_json, "bench", "--predict-only", PROFILE, "--format", "json");

/// `report` writes a file: the command's line and the file, in both formats.
#[test]
fn report_markdown_and_html() {
    let d = tempfile::tempdir().unwrap();
    for (name, out) in [("report_markdown", "r.md"), ("report_html", "r.html")] {
        let target = d.path().join(out);
        let line = golden(&["report", PROFILE, "--policy", POLICY, "--no-kernel", "-o", target.to_str().unwrap()]);
        let line = line.replace(&d.path().display().to_string(), "[TMP]");
        let page = std::fs::read_to_string(&target).unwrap();
        insta::assert_snapshot!(name, format!("{line}--- {out}\n{page}"));
    }
}

/// `asm` in each output encoding, from the listing `disasm` prints.
#[test]
fn asm_c_and_hex() {
    let d = tempfile::tempdir().unwrap();
    let o =
        Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(["disasm", PROFILE]).output().unwrap();
    std::fs::write(d.path().join("f.s"), &o.stdout).unwrap();
    for enc in ["c", "hex"] {
        let out = golden_in(d.path(), &["asm", "f.s", "-o", "-", "--output-format", enc]);
        insta::assert_snapshot!(format!("asm_{enc}"), out);
    }
    let raw = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(d.path())
        .args(["asm", "f.s", "-o", "-"])
        .output()
        .unwrap();
    let compiled =
        Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(["validate", PROFILE]).output().unwrap();
    assert!(compiled.status.success());
    assert_eq!(raw.stdout.len(), 33 * 8, "raw: the 33 instructions as sock_filter bytes");
}

/// What varies from run to run, replaced by a placeholder: each `(value,
/// placeholder)` literally, then every `0x…` address after `at ip ` and every
/// number after `in ` and before ` s` (durations).
fn redact(mut s: String, literal: &[(&str, &str)]) -> String {
    for (v, p) in literal {
        s = s.replace(v, p);
    }
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find(" in ") {
        out += &rest[..i + 4];
        rest = &rest[i + 4..];
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if n > 0 && rest[n..].starts_with(" s") {
            out += "[SECONDS]";
            rest = &rest[n..];
        }
    }
    out + rest
}

golden!(optimize_asm_text, "optimize", PROFILE, "-o", "-", "--output-format", "asm", "--no-kernel");
golden!(optimize_c_text, "optimize", PROFILE, "-o", "-", "--output-format", "c", "--no-kernel");
golden!(optimize_json, "optimize", PROFILE, "-o", "/dev/null", "--no-kernel", "--format", "json");

/// `scan` of a binary gcc builds here (elf_scan.rs's program), both formats;
/// file offsets and addresses depend on the toolchain and are redacted.
#[test]
fn scan_text_and_json() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("f.c"), crate::elf_scan::C_SRC).unwrap();
    let st = Command::new("gcc").current_dir(d.path()).args(["-O2", "-o", "f", "f.c"]).status().expect("gcc runs");
    assert!(st.success());
    let json = golden_in(d.path(), &["scan", "f", "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(json.split("--- stdout\n").nth(1).unwrap().split("--- stderr").next().unwrap()).unwrap();
    let mut literal: Vec<(String, String)> = Vec::new();
    for (i, f) in v["filters"].as_array().unwrap().iter().enumerate() {
        for key in ["file_offset", "vaddr", "address"] {
            if let Some(n) = f[key].as_u64() {
                // In a PIE, .rodata's vaddr is its file offset: one placeholder.
                literal.push((format!("{n:#x}"), format!("[offset {i}]")));
                literal.push((format!("\"{key}\": {n}"), format!("\"{key}\": [offset {i}]")));
            }
        }
    }
    let lit: Vec<(&str, &str)> = literal.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    insta::assert_snapshot!("scan_json", redact(json, &lit));
    insta::assert_snapshot!("scan_text", redact(golden_in(d.path(), &["scan", "f"]), &lit));
}

/// The commands that run a program, under the kernel: `run` (a command that
/// runs, one the filter kills), `record` and the trace it writes, `generate`
/// from that trace (its profile and policy), and `pid` on a process running
/// under a filter. A static busybox makes the recorded calls the same on
/// every run; pids, durations and addresses are redacted.
#[test]
fn run_record_generate_pid() {
    if !crate::common::kernel_gate::kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let tmp = dir.display().to_string();
    let busybox = "/usr/bin/busybox";
    std::fs::write(
        dir.join("kill.json"),
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getuid"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    let other = root().join(OTHER).display().to_string();
    insta::assert_snapshot!("run_text", golden_in(dir, &["run", "--profile", &other, "--", busybox, "echo", "hello"]));
    // The kill: the pid varies, and so does whether the kernel log still
    // holds the audit record (printk rate limiting under a busy test run;
    // cli_run.rs checks the record's line): one line or the other.
    let killed = golden_in(dir, &["run", "--profile", "kill.json", "--", busybox, "id", "-u"]);
    let pid = killed.split("(pid ").nth(1).and_then(|s| s.split(')').next()).unwrap().to_string();
    let killed: String = killed
        .lines()
        .map(|l| {
            if l.starts_with("The kernel's audit record") || l.starts_with("The kernel log has no seccomp audit record")
            {
                "[the kernel's audit record of the call, or why the log has none]"
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("run_killed_text", redact(killed, &[(&pid, "[PID]")]));

    let rec = golden_in(dir, &["record", "-o", "trace.json", "--", busybox, "true"]);
    insta::assert_snapshot!("record_text", redact(rec, &[]));
    let mut trace: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("trace.json")).unwrap()).unwrap();
    trace["recorder"]["wall_seconds"] = serde_json::json!("[SECONDS]");
    insta::assert_snapshot!("record_trace_json", serde_json::to_string_pretty(&trace).unwrap());

    let gen = golden_in(dir, &["generate", "trace.json", "-o", "profile.json", "--policy-out", "policy.toml"]);
    let profile = std::fs::read_to_string(dir.join("profile.json")).unwrap();
    let policy = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    insta::assert_snapshot!(
        "generate_text",
        format!("{gen}--- profile.json\n{profile}--- policy.toml\n{policy}").replace(&tmp, "[TMP]")
    );

    // pid: a shell under the filter writes its pid, then becomes `sleep`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(dir)
        .args([
            "run",
            "--profile",
            &other,
            "--",
            busybox,
            "sh",
            "-c",
            "echo $$ > pid.txt; exec /usr/bin/busybox sleep 30",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pidfile = dir.join("pid.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let target = loop {
        let t = std::fs::read_to_string(&pidfile).unwrap_or_default();
        if t.ends_with('\n')
            && std::fs::read(format!("/proc/{}/cmdline", t.trim())).is_ok_and(|c| c.ends_with(b"sleep\x0030\x00"))
        {
            break t.trim().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "the shell under the filter never became sleep");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let text = golden_in(dir, &["pid", &target]);
    let json = golden_in(dir, &["pid", &target, "--format", "json"]);
    let _ = Command::new("kill").arg(&target).status();
    let _ = child.wait();
    insta::assert_snapshot!("pid_text", redact(text, &[(&target, "[PID]")]));
    insta::assert_snapshot!("pid_json", redact(json, &[(&target, "[PID]")]));
}

/// `fuzz-generator`: a campaign split in two shards and merged, as a batch
/// scheduler would run it. What each shard reached depends on the machine's
/// speed, so every number is redacted and the per-known-issue and refusal
/// lines (which ones a short run meets varies) are left out of the snapshot; instead the
/// merge is checked to add up: its cases and each issue's count are the sums
/// of the shards'.
#[test]
fn fuzz_generator_shards_merged_text() {
    let d = tempfile::tempdir().unwrap();
    let mut shards = Vec::new();
    for i in 0..2 {
        let out = format!("shard{i}");
        let shard = golden_in(
            d.path(),
            &["fuzz-generator", "--generator", "seccompiler", "--seconds", "1", "--seed", "3", "--max-findings", "0"]
                .into_iter()
                .chain(["--shard", &format!("{i}/2"), "--out", &out])
                .collect::<Vec<_>>(),
        );
        assert!(d.path().join(&out).join("findings.json").is_file(), "{shard}");
        shards.push(shard);
    }
    let merged = golden_in(d.path(), &["fuzz-generator", "--merge", "shard0/findings.json", "shard1/findings.json"]);
    // "N cases in …" and "N divergences of known issue X", as numbers by key.
    let counts = |s: &str| -> std::collections::BTreeMap<String, u64> {
        let mut m = std::collections::BTreeMap::new();
        for l in s.lines() {
            let t = l.trim_start().trim_start_matches("seccompiler: ");
            let (n, rest) = t.split_once(' ').unwrap_or(("", ""));
            let Ok(n) = n.parse::<u64>() else { continue };
            if rest.starts_with("cases in ") {
                *m.entry("cases".to_string()).or_default() += n;
            } else if let Some(issue) = rest
                .strip_prefix("divergences of known issue ")
                .or_else(|| rest.strip_prefix("divergence of known issue "))
            {
                *m.entry(issue.to_string()).or_default() += n;
            }
        }
        m
    };
    let mut sum = counts(&shards[0]);
    for (k, v) in counts(&shards[1]) {
        *sum.entry(k).or_default() += v;
    }
    assert_eq!(counts(&merged), sum, "the merge adds the shards up:\n{}\n{}\n{merged}", shards[0], shards[1]);
    assert!(sum["cases"] > 0);
    let shape = |s: &str| -> String {
        let mut out = String::new();
        // Which known issues and refusal reasons a 1 s run meets varies, and
        // so do the coverage cells a compiler compared none of (every large
        // case of a shard may be refused) and with them the verdict.
        let varies = |l: &&str| {
            l.contains(" of known issue ")
                || l.ends_with(", because:")
                || l.starts_with("      ")
                || l.contains(" compared no case of ")
                || l.starts_with("  arch and size class pairs: ")
                || l.starts_with("  reached: ")
                || l.starts_with("  not reached: ")
        };
        for l in s.lines().filter(|l| !varies(l)) {
            let mut last_digit = false;
            for c in l.chars() {
                if c.is_ascii_digit() {
                    if !last_digit {
                        out.push('#');
                    }
                    last_digit = true;
                } else {
                    out.push(c);
                    last_digit = false;
                }
            }
            out.push('\n');
        }
        out
    };
    insta::assert_snapshot!(format!("{}--- merged\n{}", shape(&shards[0]), shape(&merged)));
}
