//! `table` and `stack` views scoped with `--syscall` / `--arch`: they say only
//! what they know, and a name that selects nothing is an error, never an empty
//! row that reads like "denied".

#[path = "common/schemas.rs"]
mod schemas;

use std::process::{Command, Output};

fn seccheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().expect("run seccheck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

fn filter() -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f.c");
    std::fs::write(&p, C_FILTER).unwrap();
    let s = p.to_str().unwrap().to_string();
    (d, s)
}

#[test]
fn an_unknown_syscall_name_is_exit_2_with_the_closest_names() {
    let (_d, f) = filter();
    for cmd in [vec!["table", f.as_str()], vec!["stack", f.as_str(), f.as_str()]] {
        for (sel, near) in [("ptrase", "`ptrace`"), ("READ", "`read`"), ("read,ptrase", "`ptrace`")] {
            let mut args = cmd.clone();
            args.extend(["--syscall", sel]);
            let o = seccheck(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("unknown syscall") && err.contains(near), "{args:?}: {err}");
            assert!(o.stdout.is_empty(), "{args:?}: no partial table: {}", text(&o.stdout));
        }
    }
    // A name of another arch than the one selected is unknown there.
    let o = seccheck(&["table", &f, "--arch", "x86_64", "--syscall", "socketcall"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let o = seccheck(&["table", &f, "--arch", "x86-65"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("did you mean `x86_64`"), "{}", text(&o.stderr));
}

#[test]
fn a_scoped_table_says_nothing_about_the_rows_it_does_not_show() {
    let (_d, f) = filter();
    let o = seccheck(&["table", &f, "--arch", "x86_64", "--syscall", "read"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.contains("ALLOW: read"), "{out}");
    // The old table printed the class of most numbers as "everything else"
    // (here ALLOW, but ERRNO for openat would be hidden in it): nothing about
    // unselected numbers may appear.
    assert!(!out.contains("everything") && !out.contains("every other"), "{out}");
    assert!(
        out.contains("only the rows selected with --syscall (read) are shown; other syscall numbers are not"),
        "{out}"
    );

    // Names of syscalls that one selected arch lacks are said to be absent there.
    let o = seccheck(&["table", &f, "--arch", "x86_64,i386", "--syscall", "socketcall,openat"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.contains("not a syscall of x86_64: socketcall"), "{out}");
    assert!(out.contains("KILL_PROCESS: socketcall, openat"), "{out}");
    assert!(out.contains("ERRNO(1) EPERM: openat"), "{out}");

    // The unscoped table names its catch-all for what it is.
    let o = seccheck(&["table", &f, "--arch", "x86_64"]);
    let out = text(&o.stdout);
    assert!(out.contains("ERRNO(1) EPERM: openat") && out.contains("ALLOW: every other syscall number"), "{out}");
}

#[test]
fn scoped_json_leaves_other_numbers_out_and_names_the_selection() {
    let (_d, f) = filter();
    let o = seccheck(&["table", &f, "--arch", "x86_64", "--syscall", "openat", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["table"]["selected"], serde_json::json!(["openat"]));
    assert_eq!(v["table"]["arches"][0]["other_nr"], serde_json::json!([]));
    assert_eq!(v["table"]["arches"][0]["rows"][0]["name"], "openat");
}

/// What a generator did silently is a diagnostic: one summary line on stderr
/// (it was 27 `note:` lines on stdout before every Docker table), each note
/// with `-v`, none with `-q`; the result on stdout is the same in all three.
#[test]
fn generator_notes_go_to_stderr_summarised() {
    let d = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/profiles/docker_default.json");
    let run = |extra: &[&str]| {
        let mut a = vec!["table", d, "--arch", "x86_64", "--syscall", "read"];
        a.extend(extra);
        let o = seccheck(&a);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        (text(&o.stdout), text(&o.stderr))
    };
    let (out, err) = run(&[]);
    assert!(!out.contains("note: syscalls["), "{out}");
    assert!(out.contains("compiled by libseccomp"), "the generator stays part of the result: {out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("note: 27 things the generator did that the profile does not say: 18 rules not applied"),
        "{err}"
    );
    let (out_v, err_v) = run(&["-v"]);
    assert_eq!(out_v, out);
    assert_eq!(err_v.lines().count(), 27, "{err_v}");
    assert!(err_v.lines().all(|l| l.starts_with("note: syscalls[")), "{err_v}");
    let (out_q, err_q) = run(&["-q"]);
    assert_eq!(out_q, out);
    assert!(err_q.is_empty(), "{err_q}");
}
