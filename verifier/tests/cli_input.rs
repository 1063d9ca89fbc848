//! The real binary on good and bad inputs: exit codes and one-line errors.

use crate::common::schemas;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::generator_cases;

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// An x86_64 filter: kill other arches, ERRNO(EPERM) for openat, allow the rest.
const C_FILTER: &str = "\
{ 0x20, 0, 0, 0x00000004 },
{ 0x15, 1, 0, 0xc000003e },
{ 0x06, 0, 0, 0x80000000 },
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x00000101 },
{ 0x06, 0, 0, 0x00050001 },
{ 0x06, 0, 0, 0x7fff0000 },
";

/// Assert exit code 2 with exactly one line on stderr containing `needle`, nothing on stdout.
fn assert_bad_input(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(o).is_empty(), "no partial output: {}", stdout(o));
}

#[test]
fn bad_inputs_are_one_line_errors_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let trunc = write(d.path(), "trunc.bpf", &[0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x20, 0, 0]);
    let garbage = write(d.path(), "garbage.txt", b"hello, this is not a filter\n");
    let badc = write(d.path(), "bad.c", b"{ 0x06, 0, 0 },\n");
    let big = write(d.path(), "big.bin", &vec![0u8; 10 << 20]);
    let spaces = write(d.path(), "spaces.txt", b"  \n\n");
    let json = write(d.path(), "p.json", br#"{"defaultAction": 5}"#);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["validate".into(), trunc.display().to_string()], "11 bytes is not a whole number of 8-byte instructions"),
        (vec!["validate".into(), garbage.display().to_string()], "text that is neither a C array"),
        (vec!["validate".into(), badc.display().to_string()], "line 1, column 1: expected 4 fields"),
        (vec!["validate".into(), big.display().to_string()], "is larger than 4194304 bytes"),
        (vec!["validate".into(), spaces.display().to_string()], "only white space"),
        (vec!["validate".into(), json.display().to_string()], "defaultAction: expected"),
        (
            vec!["validate".into(), "/nonexistent/filter.bpf".into()],
            "/nonexistent/filter.bpf: cannot read: No such file",
        ),
        (vec!["validate".into(), d.path().display().to_string()], "is a directory"),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad_input(&seccheck(&a), needle);
    }
}

#[test]
fn unreadable_file_is_exit_2() {
    // Root can read mode-000 files, so use a path through a regular file instead.
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "f", b"x");
    let p = f.join("child");
    assert_bad_input(&seccheck(&["validate", p.to_str().unwrap()]), "cannot read: Not a directory");
}

#[test]
fn usage_errors_are_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "f.c", C_FILTER.as_bytes());
    let f = f.to_str().unwrap();
    assert_bad_input(&seccheck(&["emu", f, "--arch", "vax", "--syscall", "1"]), "unknown arch `vax`");
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "nosuch"]),
        "x86_64 has no syscall named `nosuch`",
    );
    // A typo gets the closest names, as `table --syscall` and `--arch` give them.
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "ptrase"]),
        "x86_64 has no syscall named `ptrase`; did you mean `ptrace`?",
    );
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "aarch46", "--syscall", "1"]),
        "unknown arch `aarch46`: neither an arch name nor a 32-bit AUDIT_ARCH number; did you mean `aarch64`?",
    );
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "1", "--args", "1,2,3,4,5,6,7"]),
        "at most 6",
    );
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "1", "--args", "zz"]),
        "--args value 0 `zz` is not a number (decimal, 0x-hex, or 0-octal as in C)",
    );
    // A number, but not 64 bits the filter could read: said so, naming the option.
    for (args, says) in [
        ("1,-1", "--args value 1 `-1` is negative; give the 64 bits the filter reads"),
        ("99999999999999999999", "--args value 0 `99999999999999999999` does not fit in 64 bits"),
        ("0x10000000000000000", "--args value 0 `0x10000000000000000` does not fit in 64 bits"),
    ] {
        assert_bad_input(&seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "1", "--args", args]), says);
    }
    assert_bad_input(
        &seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "1", "--ip", "-4"]),
        "--ip `-4` is negative",
    );
    // Numeric options: refused before any work, naming the option and its range.
    for (argv, says) in [
        (
            &["bench", f, "--batch-us", "0"][..],
            "seccheck: error: invalid value '0' for '--batch-us <BATCH_US>': 0 is not in 1..=100000",
        ),
        (&["bench", f, "--batch-us", "nan"], "'--batch-us <BATCH_US>': not a finite number in 1..=100000"),
        (&["bench", f, "--batch-us", "inf"], "'--batch-us <BATCH_US>': not a finite number in 1..=100000"),
        (&["bench", f, "--rounds", "-3"], "'--rounds <ROUNDS>': -3 is not in 1..=1000"),
        (&["bench", f, "--threads", "1,0"], "'--threads <THREADS>': 0 is not in 1..=64"),
        (
            &["report", f, "--bench", "--bench-rounds", "99999999999999999999999"],
            "99999999999999999999999 is not in 1..=1000",
        ),
        (
            &["table", f, "--libseccomp-timeout", "ten"],
            "'--libseccomp-timeout <SECONDS>': not a whole number in 0..=604800",
        ),
        (&["pid", "-1"], "'<PID>': -1 is not in 1..=2147483647"),
    ] {
        assert_bad_input(&seccheck(argv), says);
    }
    let o = seccheck(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("seccheck: error: unrecognized subcommand 'frobnicate'"), "{}", stderr(&o));
}

/// `--host-arch` is one option parsed in one place: every command that reads a
/// filter (`run` and `record --check` too) refuses an unknown name with the
/// same line, naming the closest arch, before it writes or runs anything.
#[test]
fn a_bad_host_arch_is_the_same_error_in_every_command() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "f.c", C_FILTER.as_bytes());
    let f = f.to_str().unwrap();
    let policy = write(d.path(), "p.toml", b"arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"ptrace\"]\n");
    let out = d.path().join("out.bpf");
    let report = d.path().join("r.md");
    let ran = d.path().join("ran");
    let touch = ["--", "/usr/bin/touch", ran.to_str().unwrap()];
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", f],
        vec!["table", f],
        vec!["check", f, "--policy", policy.to_str().unwrap()],
        vec!["disasm", f],
        vec!["lint", f],
        vec!["emu", f, "--arch", "x86_64", "--syscall", "1"],
        vec!["diff", f, f],
        vec!["stack", f],
        vec!["optimize", f, "-o", out.to_str().unwrap()],
        vec!["report", f, "-o", report.to_str().unwrap()],
        vec!["bench", "--predict-only", f],
        vec!["run", "--profile", f],
        vec!["record", "--check", f],
    ];
    for mut args in commands {
        args.extend(["--host-arch", "x86_46"]);
        if matches!(args[0], "run" | "record") {
            args.extend(touch);
        }
        let o = seccheck(&args);
        assert_bad_input(&o, "unknown arch `x86_46` in --host-arch; did you mean `x86_64`?");
        assert_eq!(
            stderr(&o),
            "seccheck: error: unknown arch `x86_46` in --host-arch; did you mean `x86_64`?\n",
            "{args:?}"
        );
    }
    assert!(!out.exists() && !report.exists(), "an output was written");
    assert!(!ran.exists(), "a command ran");
}

#[test]
fn validate_accepts_and_rejects() {
    let d = tempfile::tempdir().unwrap();
    let good = write(d.path(), "good.c", C_FILTER.as_bytes());
    let o = seccheck(&["validate", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: 7 instructions"));

    // misaligned load + MOD + missing final ret: every reason listed, exit 1
    let bad = write(d.path(), "bad.c", b"{ 0x20, 0, 0, 2 },\n{ 0x94, 0, 0, 3 },\n{ 0x00, 0, 0, 0 },\n");
    let o = seccheck(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("rejected: the kernel refuses this filter (3 problems)"), "{out}");
    assert!(out.contains("insn 0: load from offset 2"), "{out}");
    assert!(out.contains("insn 1: BPF_MOD"), "{out}");
    assert!(out.contains("insn 2: the last instruction must be `ret`"), "{out}");

    let o = seccheck(&["validate", bad.to_str().unwrap(), "--format", "json"]);
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["accepted"], false);
    assert_eq!(v["violations"].as_array().unwrap().len(), 3);
    assert_eq!(v["violations"][0]["rule"], "load-offset");
}

#[test]
fn emu_prints_action_first_and_json() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "f.c", C_FILTER.as_bytes());
    let f = f.to_str().unwrap();
    let o = seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "openat", "--args", "0,0x80000"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().next(), Some("ERRNO(1) EPERM"));
    let o = seccheck(&["emu", f, "--arch", "i386", "--syscall", "5", "--format", "json"]);
    let v = schemas::parse(&o.stdout);
    let outcome: serde_json::Map<String, serde_json::Value> =
        ["action", "data", "ret", "path"].iter().map(|k| (k.to_string(), v[k].clone())).collect();
    assert_eq!(
        serde_json::Value::Object(outcome),
        serde_json::json!({"action": "KILL_PROCESS", "data": 0, "ret": 0x8000_0000u32, "path": [0, 1, 2]})
    );
    // The input it evaluated, echoed with the names seccheck knows.
    assert_eq!(
        v["input"],
        serde_json::json!({"arch": 0x4000_0003u32, "arch_name": "i386", "nr": 5, "syscall": "open", "instruction_pointer": 0, "args": [0, 0, 0, 0, 0, 0]})
    );
    let o = seccheck(&["emu", f, "--arch", "0xc000003e", "--syscall", "0"]);
    assert_eq!(stdout(&o).lines().next(), Some("ALLOW"));
    // uretprobe: the filter's answer, then why the kernel never asks for it.
    let o = seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "uretprobe"]);
    let text = stdout(&o);
    assert!(text.lines().nth(1).unwrap().starts_with("note: the kernel runs no filter for this call"), "{text}");
    let o = seccheck(&["emu", f, "--arch", "x86_64", "--syscall", "335", "--format", "json"]);
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["filters_bypassed"], true);
    let o = seccheck(&["emu", f, "--arch", "x32", "--syscall", "0x4000014f", "--format", "json"]);
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["filters_bypassed"], false, "{v}");
    assert_eq!(v["bypass_note"], serde_json::Value::Null, "{v}");
}

#[test]
fn disasm_then_asm_round_trips_every_corpus_filter() {
    let d = tempfile::tempdir().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "bpf") {
            continue;
        }
        let o = seccheck(&["disasm", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let s = write(d.path(), "l.s", &o.stdout);
        let out = d.path().join("out.bpf");
        let o = seccheck(&["asm", s.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&p).unwrap(), "{}", p.display());
        n += 1;
    }
    assert!(n >= 20, "only {n} corpus filters");
}

#[test]
fn asm_errors_are_exit_2_with_lines() {
    let d = tempfile::tempdir().unwrap();
    let s = write(d.path(), "bad.s", b"ld [0]\nfoo #1\nret #0x7fff0000\n");
    let o = seccheck(&["asm", s.to_str().unwrap(), "-o", d.path().join("o").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2: unknown mnemonic `foo`"), "{}", stderr(&o));
    let o = seccheck(&["asm", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "missing -o is a usage error");
}

#[test]
fn a_profile_libseccomp_takes_too_long_on_is_exit_2_after_the_timeout() {
    use seccheck::genfuzz::Case;
    let dir = tempfile::tempdir().unwrap();
    // reports/generator-findings.md: L5 (60 rules: about 6 minutes on the VM
    // this was written on) and L6 (never done).
    for (name, case) in
        [("slow.json", generator_cases::slow_rule_add(60)), ("loop.json", generator_cases::loops_forever())]
    {
        let f = write(dir.path(), name, case.json().as_bytes());
        let start = std::time::Instant::now();
        let o = seccheck(&["table", f.to_str().unwrap(), "--libseccomp-timeout", "1"]);
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", start.elapsed());
        assert_bad_input(&o, "had not finished building the filter after 1 s");
        let err = stderr(&o);
        assert!(err.starts_with(&format!("seccheck: error: {}: libseccomp", f.display())), "{err}");
        assert!(err.contains("--libseccomp-timeout 0 waits"), "{err}");
    }
}
