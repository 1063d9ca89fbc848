//! `seccheck record`, `generate` and `run` on real programs, with the running
//! kernel as the judge: the recorder sees every thread and child, the
//! generated profile proves its own policy, and the recorded command runs
//! under the profile the kernel enforces.

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn p(d: &Path, f: &str) -> String {
    d.join(f).display().to_string()
}

fn trace(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The record entry of `name` on `arch`.
fn entry<'a>(t: &'a Value, arch: &str, name: &str) -> Option<&'a Value> {
    t["syscalls"].as_array().unwrap().iter().find(|s| s["arch"] == arch && s["name"] == name)
}

/// Record `cmd`, generate a strict profile with its policy, check that the
/// generator verified it, and run `cmd` under it. Returns the directory, the
/// trace and the profile.
fn record_generate_run(cmd: &[&str], extra_generate: &[&str]) -> (tempfile::TempDir, Value, Value) {
    let d = tempfile::tempdir().unwrap();
    let (t, prof, pol) = (p(d.path(), "trace.json"), p(d.path(), "profile.json"), p(d.path(), "policy.toml"));
    let mut args = vec!["record", "-o", &t, "--"];
    args.extend(cmd);
    let plain = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
    let r = seccheck(&args);
    assert_eq!(r.status.code(), plain.status.code(), "{cmd:?}: {}", text(&r.stderr));
    assert_eq!(r.stdout, plain.stdout, "recording does not change what {cmd:?} prints");
    assert!(text(&r.stderr).starts_with("seccheck: recorded "), "{}", text(&r.stderr));
    let mut g = vec!["generate", &t, "-o", &prof, "--policy-out", &pol];
    g.extend(extra_generate);
    let gen = seccheck(&g);
    let out = text(&gen.stdout);
    assert_eq!(gen.status.code(), Some(0), "{out}{}", text(&gen.stderr));
    assert!(out.contains("properties of "), "{out}");
    assert!(out.contains(" hold; lints: 0 errors, "), "{out}");
    assert!(out.contains("(exit 0: no property violated, no lint error, every recorded call shape met)"), "{out}");
    // The policy is checked by `seccheck check` as a user would run it.
    let c = seccheck(&["check", &prof, "--policy", &pol]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stdout));
    // The kernel enforces the profile and the command still works.
    let mut run = vec!["run", "--profile", &prof, "--"];
    run.extend(cmd);
    let under = seccheck(&run);
    assert_eq!(under.status.code(), plain.status.code(), "{cmd:?} under its profile: {}", text(&under.stderr));
    assert_eq!(under.stdout, plain.stdout);
    let tr = trace(&t);
    let profile: Value = serde_json::from_slice(&std::fs::read(&prof).unwrap()).unwrap();
    eprintln!(
        "{cmd:?}: {} (arch, syscall) pairs recorded; {}",
        tr["syscalls"].as_array().unwrap().len(),
        out.lines().next().unwrap()
    );
    (d, tr, profile)
}

#[test]
fn ls_and_cat_get_profiles_they_run_under() {
    if !kernel_usable() {
        return;
    }
    let (_d, t, prof) = record_generate_run(&["ls", "-la", "/usr"], &[]);
    assert!(entry(&t, "x86_64", "getdents64").is_some(), "{t}");
    assert!(
        entry(&t, "x86_64", "execve").is_some(),
        "the command's own execve is recorded (runtimes install profiles before it)"
    );
    assert_eq!(t["exit"]["code"], 0);
    assert_eq!(prof["architectures"], serde_json::json!(["SCMP_ARCH_X86_64"]));
    let (_d, t, prof) =
        record_generate_run(&["cat", "/etc/hostname"], &["--default-action", "kill", "--args", "loose"]);
    let flags = &entry(&t, "x86_64", "openat").unwrap()["args"][0];
    assert_eq!(flags["name"], "flags");
    assert!(
        flags["values"].as_array().unwrap().iter().all(|v| v.as_u64().unwrap() & 3 == 0),
        "cat only reads: {flags}"
    );
    assert_eq!(prof["defaultAction"], "SCMP_ACT_KILL_PROCESS");
    let openat: Vec<&Value> =
        prof["syscalls"].as_array().unwrap().iter().filter(|r| r["names"][0] == "openat").collect();
    assert_eq!(openat.len(), 1, "read-only opens only: {openat:?}");
    assert_eq!(
        openat[0]["args"][0],
        serde_json::json!({"index": 2, "value": 3, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"})
    );
}

#[test]
fn python_walkthrough_from_the_readme() {
    if !kernel_usable() {
        return;
    }
    let (d, t, _) = record_generate_run(&["python3", "-c", "print(open('/etc/hostname').read())"], &[]);
    assert!(entry(&t, "x86_64", "openat").is_some());
    let prof = p(d.path(), "profile.json");
    let c = seccheck(&["record", "--check", &prof, "--", "python3", "-c", "print(open('/etc/hostname').read())"]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stderr));
    assert!(text(&c.stderr).contains("allows every one of the"), "{}", text(&c.stderr));
}

/// A multi-threaded Rust program that forks from a thread, with one i386 call
/// (`int 0x80`) from 64-bit code; built with rustc here.
const RUST_PROGRAM: &str = r#"
use std::arch::asm;
extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
    fn umask(mask: u32) -> u32;
    fn sched_yield() -> i32;
}
fn main() {
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                unsafe { sched_yield() };
                if i == 0 {
                    let pid = unsafe { fork() };
                    if pid == 0 {
                        unsafe { umask(0o22); _exit(7) }
                    }
                    let mut st = 0;
                    unsafe { waitpid(pid, &mut st, 0) };
                    assert_eq!((st >> 8) & 0xff, 7, "child status");
                }
                if i == 1 {
                    // i386 getpid (20) through int 0x80.
                    let r: i64;
                    unsafe { asm!("int 0x80", inlateout("rax") 20i64 => r, options(nostack)) };
                    assert_eq!(r as u32, std::process::id());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    println!("done");
}
"#;

fn build_rust_program(d: &Path) -> PathBuf {
    let src = d.join("prog.rs");
    std::fs::write(&src, RUST_PROGRAM).unwrap();
    let bin = d.join("prog");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(rustc).args(["-O", "--edition", "2021", "-o"]).arg(&bin).arg(&src).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    bin
}

#[test]
fn every_thread_and_child_of_a_forking_multithreaded_program_is_recorded_per_abi() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let bin = build_rust_program(d.path()).display().to_string();
    let (_d, t, prof) = record_generate_run(&[&bin], &[]);
    assert!(entry(&t, "x86_64", "sched_yield").unwrap()["count"].as_u64().unwrap() >= 4, "every thread: {t}");
    assert!(entry(&t, "x86_64", "umask").is_some(), "the forked child");
    assert!(entry(&t, "i386", "getpid").is_some(), "int 0x80 is an i386 call");
    assert!(entry(&t, "x86_64", "getpid").is_none() || entry(&t, "i386", "getpid").unwrap()["nr"] == 20);
    assert!(t["recorder"]["tasks"].as_u64().unwrap() >= 6, "main, 4 threads, 1 child: {}", t["recorder"]);
    assert_eq!(prof["architectures"], serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]));
}

#[test]
fn check_mode_lists_what_the_profile_would_block_without_disturbing_the_command() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (t, prof) = (p(d.path(), "t.json"), p(d.path(), "p.json"));
    assert_eq!(seccheck(&["record", "-o", &t, "--", "cat", "/etc/hostname"]).status.code(), Some(0));
    assert_eq!(seccheck(&["generate", &t, "-o", &prof]).status.code(), Some(0));
    let copy = p(d.path(), "copy");
    let c = seccheck(&["record", "--check", &prof, "--", "cp", "/etc/hostname", &copy]);
    let err = text(&c.stderr);
    assert_eq!(c.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("seccheck: {prof} would have blocked ")), "{err}");
    // cp creates its target: O_WRONLY|O_CREAT|O_EXCL (0xc1) — cat never writes.
    let line = err.lines().find(|l| l.contains(" openat ")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("ERRNO(1) EPERM") && line.contains("flags in {0xc1}"), "{line}");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read("/etc/hostname").unwrap(), "the command ran undisturbed");
    // no trace unless asked for
    assert!(!d.path().join("trace.json").exists());
}

#[test]
fn early_exit_status_and_background_children() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let t = p(d.path(), "t.json");
    let r = seccheck(&["record", "-o", &t, "--", "sh", "-c", "exit 3"]);
    assert_eq!(r.status.code(), Some(3), "{}", text(&r.stderr));
    assert_eq!(trace(&t)["exit"]["code"], 3);
    // A child that outlives the command is still recorded: the recorder waits for it.
    let start = Instant::now();
    let r = seccheck(&["record", "-o", &t, "--", "sh", "-c", "(sleep 0.3; umask >/dev/null) & exit 0"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(entry(&trace(&t), "x86_64", "umask").is_some(), "the background child's umask");
}

#[test]
fn signals_end_the_command_and_are_forwarded() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let t = p(d.path(), "t.json");
    let r = seccheck(&["record", "-o", &t, "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(r.status.code(), Some(128 + 15), "{}", text(&r.stderr));
    assert_eq!(trace(&t)["exit"]["signal"], 15);
    assert!(text(&r.stderr).contains("the command was killed by signal 15"), "{}", text(&r.stderr));
    // SIGTERM sent to seccheck reaches the command; seccheck still writes the trace.
    let child = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .args(["record", "-o", &t, "--", "sleep", "30"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let k = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(k.success());
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(128 + 15), "{}", text(&out.stderr));
    assert_eq!(trace(&t)["exit"]["signal"], 15);
    assert!(
        entry(&trace(&t), "x86_64", "clock_nanosleep").is_some() || entry(&trace(&t), "x86_64", "nanosleep").is_some()
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let r = seccheck(&["record", "--", "seccheck-no-such-command"]);
    assert_eq!(r.status.code(), Some(2));
    let err = text(&r.stderr);
    assert!(err.starts_with("seccheck: error: `seccheck-no-such-command`: command not found (searched PATH="), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let r = seccheck(&["record"]);
    assert_eq!(r.status.code(), Some(2));
    let bad = p(d.path(), "bad.json");
    std::fs::write(&bad, "{\"format\": \"other\"}").unwrap();
    let r = seccheck(&["generate", &bad, "-o", &p(d.path(), "o.json")]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).starts_with(&format!("seccheck: error: {bad}: not a seccheck trace: JSON line 1")),
        "{}",
        text(&r.stderr)
    );
    let wrong = p(d.path(), "wrong.json");
    std::fs::write(
        &wrong,
        r#"{"format":"seccheck-trace/1","command":[],"exit":{"code":0},"recorder":{"mechanism":"","notifications":0,"tasks":0,"wall_seconds":0},"syscalls":[{"arch":"x86_64","nr":0,"name":"write","count":1}]}"#,
    )
    .unwrap();
    let r = seccheck(&["generate", &wrong, "-o", &p(d.path(), "o.json")]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(
        text(&r.stderr),
        format!(
            "seccheck: error: {wrong}: syscalls[0]: nr 0 is Some(\"read\") on x86_64, the trace says Some(\"write\")\n"
        )
    );
    let r = seccheck(&["run", "--profile", &p(d.path(), "missing.json"), "--", "true"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains("missing.json: cannot read"), "{}", text(&r.stderr));
}

#[test]
fn a_profile_that_denies_execve_is_reported_not_run() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let prof = p(d.path(), "p.json");
    std::fs::write(
        &prof,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let r = seccheck(&["run", "--profile", &prof, "--", "true"]);
    assert_eq!(r.status.code(), Some(2));
    let err = text(&r.stderr);
    assert!(err.contains("cannot execute: errno 1 (EPERM: the filter denies execve"), "{err}");
}

#[test]
fn docker_default_base_inherits_dockers_bypassable_socket_rule_and_says_so() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (t, prof) = (p(d.path(), "t.json"), p(d.path(), "p.json"));
    assert_eq!(seccheck(&["record", "-o", &t, "--", "cat", "/etc/hostname"]).status.code(), Some(0));
    let g = seccheck(&["generate", &t, "-o", &prof, "--base", "docker-default"]);
    let out = text(&g.stdout);
    // Docker's `socket` rules compare the 32-bit family on all 64 bits (SC008).
    assert_eq!(g.status.code(), Some(1), "{out}");
    assert!(out.contains("error[SC008 arg-high-half-unchecked]: x86_64 socket"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("FAIL: 3 of 3 properties of the generated policy hold; lints: 1 error, ")
            && l.ends_with(" recorded call shapes met (exit 1: a lint error was reported)")),
        "{out}"
    );
    // The profile is still written, and the command runs under it.
    let r = seccheck(&["run", "--profile", &prof, "--", "cat", "/etc/hostname"]);
    assert_eq!(r.stdout, std::fs::read("/etc/hostname").unwrap());
}
