//! Small promises, each held by the real binary: a filter the
//! kernel refuses gets exit 1 whatever the rule (no instructions or 4097),
//! `asm` does not quietly write such a filter, counts say "1 instruction",
//! and an output that cannot be written is named as the user wrote it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const RET_ALLOW: [u8; 8] = [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f];

/// `seccomp_prepare_filter`: `fprog->len == 0 || fprog->len > BPF_MAXINSNS`
/// is one rule, so no instructions and 4097 get the same verdict and exit
/// code (1, the kernel refuses the filter), from every command that reads one.
#[test]
fn no_instructions_and_4097_are_the_same_kernel_rule_with_the_same_exit_code() {
    let d = tempfile::tempdir().unwrap();
    let empty = write(d.path(), "empty.bpf", b"");
    let big = write(d.path(), "big.bpf", &RET_ALLOW.repeat(4097));
    for (file, n) in [(&empty, 0), (&big, 4097)] {
        let f = file.to_str().unwrap();
        let o = seccheck(&["validate", f]);
        assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains(&format!(
                "program has {n} instructions; the kernel takes 1 to 4096 (seccomp_prepare_filter)"
            )),
            "{}",
            stdout(&o)
        );
        for cmd in ["table", "lint"] {
            let o = seccheck(&[cmd, f]);
            assert_eq!(o.status.code(), Some(1), "{cmd} {f}: {}{}", stdout(&o), stderr(&o));
            assert!(stdout(&o).contains("the kernel refuses this filter"), "{cmd}: {}", stdout(&o));
        }
        // disasm lists what it is given, and says the kernel refuses it.
        let o = seccheck(&["disasm", f]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).starts_with(&format!("; {n} instructions; the kernel refuses this filter")),
            "{}",
            stdout(&o)
        );
    }
}

/// A program that assembles but that the kernel refuses (here it does not end
/// in `ret`) is not written; `--allow-invalid` writes it, and both say why on
/// stderr and exit 1.
#[test]
fn asm_does_not_quietly_write_a_program_the_kernel_refuses() {
    let d = tempfile::tempdir().unwrap();
    let src = write(d.path(), "noret.s", b"ld [0]\n");
    let out = d.path().join("noret.bpf");
    let (s, o) = (src.to_str().unwrap(), out.to_str().unwrap());
    let r = seccheck(&["asm", s, "-o", o]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(!out.exists(), "written although refused");
    let err = stderr(&r);
    assert!(
        err.contains("the kernel refuses this program (1 problem); nothing written (--allow-invalid writes it)"),
        "{err}"
    );
    assert!(err.contains("does not end in a return") || err.contains("ret"), "{err}");
    let r = seccheck(&["asm", s, "-o", o, "--allow-invalid"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("written anyway (--allow-invalid)"), "{}", stderr(&r));
    assert_eq!(std::fs::read(&out).unwrap(), vec![0x20, 0, 0, 0, 0, 0, 0, 0]);
    // A program the kernel accepts: exit 0, nothing on stderr.
    let ok = write(d.path(), "ok.s", b"ret #0x7fff0000\n");
    let r = seccheck(&["asm", ok.to_str().unwrap(), "-o", d.path().join("ok.bpf").to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(stderr(&r).is_empty(), "{}", stderr(&r));
}

#[test]
fn one_instruction_is_singular_everywhere() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one.bpf", &RET_ALLOW);
    let f = one.to_str().unwrap();
    for (args, want) in [
        (vec!["validate", f], "ok: 1 instruction (5 after the kernel's conversion to eBPF)"),
        (vec!["disasm", f], "; 1 instruction, 5 after"),
        (vec!["table", f], "one.bpf: 1 instruction\n"),
        (vec!["emu", f, "--syscall", "read", "--arch", "x86_64"], "after 1 instruction:"),
    ] {
        let o = seccheck(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains(want), "{args:?}: {want:?} not in {}", stdout(&o));
    }
    for args in [vec!["validate", f], vec!["disasm", f], vec!["table", f]] {
        let o = seccheck(&args);
        assert!(!stdout(&o).contains("1 instructions"), "{args:?}: {}", stdout(&o));
    }
}

/// `report -o /missing/dir/x.html` names that path, not the temporary file
/// seccheck writes first.
#[test]
fn an_output_in_a_missing_directory_is_named_as_given() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one.bpf", &RET_ALLOW);
    let target = d.path().join("missing/dir/x.html");
    let o = seccheck(&["report", one.to_str().unwrap(), "-o", target.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(
        err.trim(),
        format!(
            "seccheck: error: {}: cannot write: the directory {} does not exist",
            target.display(),
            target.parent().unwrap().display()
        )
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

/// A filter that never reads `arch` gets, per number, what that number is on
/// the arches users run: denying 59 denies x86_64's execve and i386's
/// oldolduname, in the table itself (text and JSON).
#[test]
fn an_arch_blind_filter_shows_each_number_on_each_arch() {
    let d = tempfile::tempdir().unwrap();
    let src =
        write(d.path(), "blind.s", b"ld [0]\njeq #59, deny, allow\ndeny: ret #0x00050001\nallow: ret #0x7fff0000\n");
    let bpf = d.path().join("blind.bpf");
    let o = seccheck(&["asm", src.to_str().unwrap(), "-o", bpf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = seccheck(&["table", bpf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("note: this filter never tells arches apart"), "{t}");
    assert!(
        t.contains(
            "ERRNO(1) EPERM: nr 59 [x86_64: execve, i386: oldolduname, aarch64: pipe2, arm: none, riscv64: pipe2]"
        ),
        "{t}"
    );
    let o = seccheck(&["table", bpf.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = &v["table"]["other_arch"][0]["rows"][0];
    assert_eq!(row["nr"], 59);
    assert_eq!(row["on_arches"][0], serde_json::json!({"arch": "x86_64", "name": "execve"}));
    assert_eq!(row["on_arches"][3], serde_json::json!({"arch": "arm", "name": null}));
    // A filter that checks arch has names per arch and no such note.
    let o = seccheck(&["table", "../corpus/compiled/docker_default.x86_64.runc.bpf"]);
    assert!(!stdout(&o).contains("never tells arches apart") && !stdout(&o).contains("on_arches"), "{}", stdout(&o));
}
