//! `seccheck diff` and `seccheck stack`, the real binary: exit codes, formats,
//! `--stack` sides, profiles and ELF inputs, golden text and JSON.

use crate::common::schemas;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::kernel_gate;

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn corpus(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(name).to_string_lossy().into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// Replace the temporary directory in output with `$DIR`.
fn scrub(s: &str, dir: &Path) -> String {
    s.replace(&dir.to_string_lossy().into_owned(), "$DIR")
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

/// x86_64 only: getpid ERRNO(1), openat ERRNO(1) unless O_RDONLY, else ALLOW.
const OLD: &str = "\
{ 0x20, 0, 0, 0x00000004 },
{ 0x15, 1, 0, 0xc000003e },
{ 0x06, 0, 0, 0x80000000 },
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 4, 0, 0x00000027 },
{ 0x15, 0, 4, 0x00000101 },
{ 0x20, 0, 0, 0x00000020 },
{ 0x54, 0, 0, 0x00000003 },
{ 0x15, 1, 0, 0x00000000 },
{ 0x06, 0, 0, 0x00050001 },
{ 0x06, 0, 0, 0x7fff0000 },
";

/// The same, but getpid allowed and a refused openat gets EACCES.
const NEW: &str = "\
{ 0x20, 0, 0, 0x00000004 },
{ 0x15, 1, 0, 0xc000003e },
{ 0x06, 0, 0, 0x80000000 },
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 4, 0x00000101 },
{ 0x20, 0, 0, 0x00000020 },
{ 0x54, 0, 0, 0x00000003 },
{ 0x15, 1, 0, 0x00000000 },
{ 0x06, 0, 0, 0x0005000d },
{ 0x06, 0, 0, 0x7fff0000 },
";

/// A layer without an arch check: TRAP(7) for nr 101.
const LAYER: &str = "\
{ 0x20, 0, 0, 0x00000000 },
{ 0x15, 0, 1, 0x00000065 },
{ 0x06, 0, 0, 0x00030007 },
{ 0x06, 0, 0, 0x7fff0000 },
";

#[test]
fn diff_exit_codes_and_golden_text() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = (write(d.path(), "old.c", OLD), write(d.path(), "new.c", NEW));
    let o = seccheck(&["diff", "--no-kernel", &old, &new]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("diff_text", scrub(&stdout(&o), d.path()));
    let o = seccheck(&["diff", &old, &old]);
    assert_eq!(code(&o), Some(0));
    assert!(stdout(&o).contains("equivalent"));
    // new allows getpid where old denied it: new does not refine old …
    let o = seccheck(&["diff", "--no-kernel", "--refines", &new, &old]);
    assert_eq!(code(&o), Some(1));
    insta::assert_snapshot!("refines_text", scrub(&stdout(&o), d.path()));
    // … but old refines new (EPERM and EACCES are equally strict).
    let o = seccheck(&["diff", "--no-kernel", "--refines", &old, &new]);
    assert_eq!(code(&o), Some(0), "{}", stdout(&o));
}

#[test]
fn diff_json_is_the_report_model() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = (write(d.path(), "old.c", OLD), write(d.path(), "new.c", NEW));
    let o = seccheck(&["diff", "--no-kernel", &old, &new, "--format", "json"]);
    assert_eq!(code(&o), Some(1));
    schemas::parse(&o.stdout);
    insta::assert_snapshot!("diff_json", scrub(&stdout(&o), d.path()));
    let o = seccheck(&["diff", "--no-kernel", "--refines", &new, &old, "--format", "json"]);
    assert_eq!(code(&o), Some(1));
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["refines"], false);
    assert_eq!(v["violations"].as_array().unwrap().len(), 1);
    assert_eq!(v["violations"][0]["example"]["syscall"], "getpid");
}

#[test]
fn corpus_pairs_from_the_command_line() {
    let opt1 = corpus("corpus/compiled/docker_default.x86_64.opt1.bpf");
    let opt2 = corpus("corpus/compiled/docker_default.x86_64.opt2.bpf");
    let runc = corpus("corpus/compiled/docker_default.x86_64.runc.bpf");
    assert_eq!(code(&seccheck(&["diff", &opt1, &opt2])), Some(0));
    let o = seccheck(&["diff", &runc, &opt1, "--format", "json"]);
    assert_eq!(code(&o), Some(1));
    let v = schemas::parse(&o.stdout);
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 3);
    assert!(regions.iter().all(|r| r["a"]["data"] == 38 && r["b"]["data"] == 1));
    assert_eq!(code(&seccheck(&["diff", "--refines", &runc, &opt1])), Some(0));
    // A profile, compiled the way runc does, equals runc's compiled filter; a
    // seccompiler profile's `--filter vmm` equals its compiled vmm filter.
    let docker = corpus("corpus/profiles/docker_default.json");
    let o = seccheck(&["diff", &docker, &runc, "--kernel-version", "6.18"]);
    assert_eq!(code(&o), Some(0), "{}{}", stdout(&o), stderr(&o));
    let fc = corpus("corpus/profiles/firecracker_x86_64-unknown-linux-musl.json");
    let vmm = corpus("corpus/compiled/firecracker_x86_64.vmm.bpf");
    assert_eq!(code(&seccheck(&["diff", &fc, &vmm, "--filter", "vmm"])), Some(0));
    let api = corpus("corpus/compiled/firecracker_x86_64.api.bpf");
    assert_eq!(code(&seccheck(&["diff", &fc, &api, "--filter", "vmm"])), Some(1));
}

#[test]
fn stacks_as_sides_and_as_a_table() {
    let d = tempfile::tempdir().unwrap();
    let (old, layer) = (write(d.path(), "old.c", OLD), write(d.path(), "layer.c", LAYER));
    let both = format!("{old},{layer}");
    let o = seccheck(&["diff", "--no-kernel", "--stack", &both, &old]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("diff_stack_text", scrub(&stdout(&o), d.path()));
    // Adding a layer never loosens: the stack refines its base.
    assert_eq!(code(&seccheck(&["diff", "--stack", "--refines", &both, &old])), Some(0));
    assert_eq!(code(&seccheck(&["diff", "--stack", "--refines", &old, &both])), Some(1));
    let o = seccheck(&["stack", &old, &layer, "--arch", "x86_64,i386"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("stack_text", scrub(&stdout(&o), d.path()));
    let o = seccheck(&["stack", &old, &layer, "--arch", "x86_64", "--format", "json"]);
    assert_eq!(code(&o), Some(0));
    schemas::parse(&o.stdout);
    insta::assert_snapshot!("stack_json", scrub(&stdout(&o), d.path()));
}

/// `-` named twice is one input, read once (as for diff(1)): before, the
/// second `-` read an exhausted standard input and was refused as empty.
#[test]
fn standard_input_named_twice_is_one_input() {
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_seccheck"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run seccheck");
        use std::io::Write;
        c.stdin.take().unwrap().write_all(LAYER.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    };
    let o = run(&["diff", "--no-kernel", "-", "-"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("equivalent: A and B take the same action on every input"), "{}", stdout(&o));
    // The same filter installed twice: twice its length on the path.
    let o = run(&["stack", "-", "-", "--arch", "x86_64"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("effective action of 2 filters"), "{}", stdout(&o));
    assert!(stdout(&o).contains("path length: 22 of 32768"), "{}", stdout(&o));
    let o = run(&["diff", "--no-kernel", "--stack", "--", "-,-", "-"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let d = tempfile::tempdir().unwrap();
    let old = write(d.path(), "old.c", OLD);
    // Jumps past the end: the kernel refuses it.
    let bad = write(d.path(), "bad.c", "{ 0x15, 5, 0, 0x00000027 },\n{ 0x06, 0, 0, 0x7fff0000 },\n");
    for args in [
        vec!["diff", old.as_str(), bad.as_str()],
        vec!["diff", old.as_str(), "/nonexistent/filter.bpf"],
        vec!["diff", "--stack", &format!("{old},"), old.as_str()],
        vec!["stack", old.as_str(), bad.as_str()],
        vec!["stack", old.as_str(), "--arch", "vax"],
    ] {
        let o = seccheck(&args);
        let err = stderr(&o);
        assert_eq!(code(&o), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked") && stdout(&o).is_empty(), "{args:?}: {err}");
    }
    let o = seccheck(&["diff", &old, &bad]);
    assert!(stderr(&o).contains("bad.c: the kernel refuses this filter: insn 0"), "{}", stderr(&o));
}

const ELF_SRC: &str = r#"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
static const struct sock_filter deny_getpid[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static const struct sock_filter trap_ptrace[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 101, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 7),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
int main(void) {
    printf("%p %p\n", (void *)deny_getpid, (void *)trap_ptrace);
    return 0;
}
"#;

#[test]
fn filters_embedded_in_an_elf_binary() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("f.c");
    std::fs::write(&src, ELF_SRC).unwrap();
    let bin = d.path().join("f");
    let st = Command::new("gcc").args(["-O2", "-o"]).arg(&bin).arg(&src).status().expect("gcc runs");
    assert!(st.success());
    let (f0, f1) = (format!("{}#0", bin.display()), format!("{}#1", bin.display()));
    assert_eq!(code(&seccheck(&["diff", &f0, &f0])), Some(0));
    let o = seccheck(&["diff", &f0, &f1, "--format", "json"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    let v = schemas::parse(&o.stdout);
    let mut names: Vec<&str> =
        v["regions"].as_array().unwrap().iter().map(|r| r["example"]["syscall"].as_str().unwrap_or("")).collect();
    names.sort();
    // nr 39 and 101 on every arch that names them; x86_64's are getpid and ptrace.
    assert!(names.contains(&"getpid") && names.contains(&"ptrace"), "{names:?}");
    let o = seccheck(&["stack", &f0, &f1, "--arch", "x86_64", "--syscall", "getpid,ptrace,read"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("ERRNO(1) EPERM: getpid") && text.contains("TRAP(7): ptrace"), "{text}");
}

/// Without --no-kernel every region's example is run by the kernel under each
/// side; the text says so per example and in one closing line.
#[test]
fn diff_examples_are_confirmed_by_the_kernel() {
    if !kernel_gate::kernel_usable() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled");
    let a = dir.join("docker_default.x86_64.runc.bpf");
    let b = dir.join("seed_backend_denylist.x86_64.runc.bpf");
    let o = seccheck(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code(&o), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    let examples = text.lines().filter(|l| l.trim_start().starts_with("e.g. ")).count();
    let x86 = text
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("e.g. x86_64 ")
                || l.trim_start().starts_with("e.g. i386 ")
                || l.trim_start().starts_with("e.g. x32 ")
        })
        .count();
    let agreed = text.lines().filter(|l| l.trim_start().starts_with("e.g. ") && l.ends_with("[kernel agrees]")).count();
    assert!(x86 > 10, "{text}");
    assert_eq!(agreed, x86, "every example on an ABI this machine issues is confirmed:\n{text}");
    assert!(!text.contains("KERNEL DISAGREES"), "{text}");
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("kernel: the running kernel took both sides' actions for {x86} of {x86} examples")),
        "{last}"
    );
    assert!(examples >= x86);
}

/// A raw filter of `n` `ret ALLOW`s (converted: 3 + 2n).
fn rets(dir: &Path, n: usize) -> String {
    let p = dir.join(format!("rets{n}.bpf"));
    let one = [0x06u8, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f];
    std::fs::write(&p, one.repeat(n)).unwrap();
    p.to_string_lossy().into_owned()
}

/// The issue's stack: three filters of 4096 `ret`s leave room for exactly
/// 4084 more (32768 converted instructions, measured in
/// tests/kernel_converted_len.rs); with 4085 the kernel refuses the fourth,
/// so `stack`, `check --stack` and `diff --stack` refuse it too (exit 1).
#[test]
fn stacks_the_kernel_would_not_build_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let (full, fits, over) = (rets(d.path(), 4096), rets(d.path(), 4084), rets(d.path(), 4085));
    let o = seccheck(&["stack", &full, &full, &full, &fits, "--arch", "x86_64", "--syscall", "getpid"]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("path length: 32768 of 32768 converted instructions"), "{out}");
    assert!(out.contains("one more filter may have at most 0 converted instructions"), "{out}");

    let o = seccheck(&["stack", &full, &full, &full, &over, "--arch", "x86_64", "--syscall", "getpid"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    let out = scrub(&stdout(&o), d.path());
    assert!(out.starts_with("the kernel refuses this stack: filter 4 would make 32770 converted instructions, 2 over the limit; the kernel (seccomp_attach_filter, kernel/seccomp.c) refuses"), "{out}");
    assert!(out.contains("filter 3 ($DIR/rets4096.bpf): converted length 8195, total when attached 24593\n"), "{out}");
    assert!(
        out.contains(
            "filter 4 ($DIR/rets4085.bpf): converted length 8173, total when attached 32770  > 32768: refused (ENOMEM)"
        ),
        "{out}"
    );
    assert!(!out.contains("ALLOW"), "no table for a stack that never runs: {out}");
    let o = seccheck(&["stack", &full, &full, &full, &over, "--format", "json"]);
    assert_eq!(code(&o), Some(1));
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["path_length"]["totals"], serde_json::json!([8195, 16394, 24593, 32770]));
    assert_eq!(v["path_length"]["refused"], 3);
    assert!(v.get("table").is_none());

    let stack = format!("{full},{full},{full},{over}");
    let policy = write(d.path(), "p.toml", "arches = [\"x86_64\"]\n");
    let o = seccheck(&["check", &stack, "--stack", "--policy", &policy, "--no-kernel"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("not checked against"), "{}", stdout(&o));
    assert!(stdout(&o).contains("the kernel refuses this stack: filter 4"), "{}", stdout(&o));
    let o = seccheck(&["check", &stack, "--stack", "--policy", &policy, "--format", "sarif"]);
    assert_eq!(code(&o), Some(1));
    assert!(stdout(&o).contains("stack-too-long"), "{}", stdout(&o));
    schemas::parse_sarif(&o.stdout);
    let o = seccheck(&["check", &stack, "--stack", "--policy", &policy, "--format", "json"]);
    assert_eq!(code(&o), Some(1));
    let v = schemas::parse_as("check", &o.stdout);
    assert_eq!(v["verdict"], serde_json::json!({ "pass": false, "refused": "stack" }));
    let fits_stack = format!("{full},{full},{full},{fits}");
    // Installable: checked (allow-all breaks the arch property: exit 1 for that).
    let o = seccheck(&["check", &fits_stack, "--stack", "--policy", &policy, "--no-kernel"]);
    assert!(stdout(&o).contains("violated") && !stdout(&o).contains("not checked"), "{}", stdout(&o));
    assert!(stdout(&o).contains("path length: 32768 of 32768"), "{}", stdout(&o));

    let o = seccheck(&["diff", "--stack", "--no-kernel", &stack, &full]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("A ("), "{}", stdout(&o));
    assert!(stdout(&o).contains("the kernel refuses this stack: filter 4"), "{}", stdout(&o));
    let o = seccheck(&["diff", "--stack", "--no-kernel", &fits_stack, &full]);
    assert_eq!(code(&o), Some(0), "both allow everything: {}", stdout(&o));
    assert!(stdout(&o).contains("A: path length: 32768 of 32768"), "{}", stdout(&o));
}
