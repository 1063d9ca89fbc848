//! Every command that writes files, against hostile layouts: an output that
//! is an input, two outputs that are one file, a default name over an existing
//! file, and links planted where a file will be written.
//! Each refusal is exit 2 with one line naming the path, and leaves every
//! file as it was.

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

fn seccheck_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(cwd).args(args).output().expect("run seccheck")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exit 2 with one line on stderr that contains every needle.
fn refused(o: &Output, needles: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stdout: {}\nstderr: {err}", text(&o.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p).unwrap().file_type().is_symlink()
}

const DENY_LIST: &str = "ld [4]\n jeq #0xc000003e, x86, kill\n x86: ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0\n";

#[test]
fn asm_refuses_to_write_over_its_source() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("prog.s");
    std::fs::write(&src, DENY_LIST).unwrap();
    let o = seccheck_in(d.path(), &["asm", "prog.s", "-o", "prog.s"]);
    refused(&o, &["prog.s: is also an input of this command"]);
    assert_eq!(std::fs::read_to_string(&src).unwrap(), DENY_LIST);
    // Through a link to it, too.
    symlink(&src, d.path().join("alias.s")).unwrap();
    refused(&seccheck_in(d.path(), &["asm", "prog.s", "-o", "alias.s"]), &["alias.s: is also an input"]);
    assert_eq!(std::fs::read_to_string(&src).unwrap(), DENY_LIST);
    // Another name works, and a link planted there is replaced, not followed.
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    symlink(&victim, d.path().join("prog.bpf")).unwrap();
    let o = seccheck_in(d.path(), &["asm", "prog.s", "-o", "prog.bpf"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(!is_link(&d.path().join("prog.bpf")));
    assert_eq!(
        std::fs::read(d.path().join("prog.bpf")).unwrap(),
        seccheck::bpf::assemble(DENY_LIST).unwrap().to_bytes()
    );
    // A device is written into; a link to a descriptor is refused, never replaced.
    assert_eq!(seccheck_in(d.path(), &["asm", "prog.s", "-o", "/dev/null"]).status.code(), Some(0));
    refused(
        &seccheck_in(d.path(), &["asm", "prog.s", "-o", "/dev/stdout"]),
        &["/dev/stdout: is a link to an open file descriptor"],
    );
    assert!(is_link(Path::new("/dev/stdout")));
}

#[test]
fn report_refuses_to_write_over_the_filter_or_the_policy() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f.md");
    std::fs::write(&f, seccheck::bpf::assemble(DENY_LIST).unwrap().to_bytes()).unwrap();
    let before = std::fs::read(&f).unwrap();
    refused(&seccheck_in(d.path(), &["report", "f.md", "-o", "f.md"]), &["f.md: is also an input"]);
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let policy = d.path().join("policy.md");
    std::fs::write(&policy, "arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"execve\"]\n").unwrap();
    let pbefore = std::fs::read(&policy).unwrap();
    refused(
        &seccheck_in(d.path(), &["report", "f.md", "--policy", "policy.md", "-o", "policy.md"]),
        &["policy.md: is also an input"],
    );
    assert_eq!(std::fs::read(&policy).unwrap(), pbefore);
}

/// A trace recorded from `true`, at `path`.
fn record_true(dir: &Path, path: &str) {
    let o = seccheck_in(dir, &["record", "-o", path, "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn record_never_replaces_a_trace_json_it_was_not_told_to() {
    let d = tempfile::tempdir().unwrap();
    let mine = d.path().join("trace.json");
    std::fs::write(&mine, "my own notes\n").unwrap();
    let o = seccheck_in(d.path(), &["record", "--", "true"]);
    refused(&o, &["trace.json: already exists and was not named as an output", "pass -o FILE"]);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my own notes\n");
    if !kernel_usable() {
        return;
    }
    // Named, it is replaced; in a directory without one, the default is written.
    record_true(d.path(), "trace.json");
    assert!(std::fs::read_to_string(&mine).unwrap().contains("seccheck-trace/1"));
    let e = tempfile::tempdir().unwrap();
    let o = seccheck_in(e.path(), &["record", "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(std::fs::read_to_string(e.path().join("trace.json")).unwrap().contains("seccheck-trace/1"));
}

#[test]
fn record_check_refuses_to_write_the_trace_over_the_profile() {
    let d = tempfile::tempdir().unwrap();
    let profile = d.path().join("p.json");
    let json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": []}\n";
    std::fs::write(&profile, json).unwrap();
    let o = seccheck_in(d.path(), &["record", "--check", "p.json", "-o", "p.json", "--", "true"]);
    refused(&o, &["p.json: is also an input"]);
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), json);
}

#[test]
fn generate_refuses_outputs_that_are_its_trace_or_each_other() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    record_true(d.path(), "t.json");
    let trace = std::fs::read(d.path().join("t.json")).unwrap();
    refused(
        &seccheck_in(d.path(), &["generate", "t.json", "-o", "t.json", "--policy-out", "t.json"]),
        &["t.json: is also an input"],
    );
    refused(
        &seccheck_in(d.path(), &["generate", "t.json", "-o", "p.json", "--policy-out", "t.json"]),
        &["t.json: is also an input"],
    );
    assert_eq!(std::fs::read(d.path().join("t.json")).unwrap(), trace);
    // Two outputs, one file (not there yet, spelled two ways).
    let o = seccheck_in(d.path(), &["generate", "t.json", "-o", "p.json", "--policy-out", "./p.json"]);
    refused(&o, &["./p.json: is the same file as the output p.json"]);
    assert!(!d.path().join("p.json").exists(), "nothing written before the refusal");
    let o = seccheck_in(d.path(), &["generate", "t.json", "-o", "p.json", "--policy-out", "policy.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn fuzz_generator_out_is_never_written_through_a_link() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let out = d.path().join("found");
    std::fs::create_dir(&out).unwrap();
    symlink(&victim, out.join("finding-0.json")).unwrap();
    // The run of cli_fuzz_generator.rs that finds a known seccompiler issue
    // (exit 1 with --fail-on any).
    let args = [
        "fuzz-generator",
        "--generator",
        "seccompiler",
        "--seconds",
        "2",
        "--seed",
        "1",
        "--max-findings",
        "1",
        "--fail-on",
        "any",
        "--out",
    ];
    let o = seccheck_in(d.path(), &[&args[..], &[s(&out)]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(!is_link(&out.join("finding-0.json")));
    assert!(std::fs::read_to_string(out.join("finding-0.json")).unwrap().contains("\"main\""));
    // The directory itself a link: refused before the run.
    let link = d.path().join("link");
    symlink(&out, &link).unwrap();
    refused(&seccheck_in(d.path(), &[&args[..], &["link"]].concat()), &["link: is a symbolic link"]);
}

/// `sleep 60` under a one-instruction ALLOW filter; the filter's raw bytes.
// `pre_exec` and the system calls it makes are `unsafe`.
#[allow(unsafe_code)]
fn filtered_sleeper() -> (std::process::Child, Vec<u8>) {
    use std::os::unix::process::CommandExt;
    // BPF_RET | BPF_K, SECCOMP_RET_ALLOW
    let prog = seccheck::bpf::assemble("ret #0x7fff0000").unwrap();
    let bytes = prog.to_bytes();
    let mut filter = [libc::sock_filter { code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000 }];
    let mut cmd = Command::new("sleep");
    cmd.arg("60");
    // SAFETY: only prctl and seccomp between fork and exec, on memory
    // prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let fprog = libc::sock_fprog { len: 1, filter: filter.as_mut_ptr() };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::syscall(libc::SYS_seccomp, 1, 0, &fprog as *const libc::sock_fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    (cmd.spawn().unwrap(), bytes)
}

#[test]
fn pid_dump_replaces_a_link_planted_at_the_predictable_name() {
    if !kernel_usable() {
        return;
    }
    use sha2::Digest;
    let (mut child, bytes) = filtered_sleeper();
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let dump = d.path().join("dump");
    std::fs::create_dir(&dump).unwrap();
    let hash: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let planted = dump.join(format!("{}.bpf", &hash[..12]));
    symlink(&victim, &planted).unwrap();
    let pid = child.id().to_string();
    let o = seccheck_in(d.path(), &["pid", &pid, "--dump", "dump"]);
    let link = d.path().join("link");
    symlink(&dump, &link).unwrap();
    let via_link = seccheck_in(d.path(), &["pid", &pid, "--dump", "link"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains(&hash[..12]), "{}", text(&o.stdout));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(!is_link(&planted));
    assert_eq!(std::fs::read(&planted).unwrap(), bytes);
    refused(&via_link, &["link: is a symbolic link"]);
}

#[test]
fn bench_report_is_never_written_through_a_link() {
    if !kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("allow.bpf");
    std::fs::write(&f, seccheck::bpf::assemble("ld [0]\n ret #0x7fff0000").unwrap().to_bytes()).unwrap();
    let victim = d.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let report = d.path().join("report");
    std::fs::create_dir(&report).unwrap();
    let names = ["README.md", "report.json", "overhead.svg", "scaling.svg"];
    for n in names {
        symlink(&victim, report.join(n)).unwrap();
    }
    let small = [
        "--threads",
        "1",
        "--rounds",
        "1",
        "--batches",
        "1",
        "--batch-us",
        "20",
        "--no-bitmap-probe",
        "--quiet",
        "--format",
        "json",
    ];
    let o = seccheck_in(d.path(), &[&["bench", "allow.bpf", "--report", "report"][..], &small[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    for n in names {
        assert!(!is_link(&report.join(n)), "{n}");
    }
    assert!(std::fs::read_to_string(report.join("README.md")).unwrap().starts_with("# Filter overhead"));
    // The directory a link, or holding the filter it measures: refused before measuring.
    symlink(&report, d.path().join("link")).unwrap();
    refused(
        &seccheck_in(d.path(), &[&["bench", "allow.bpf", "--report", "link"][..], &small[..]].concat()),
        &["link: is a symbolic link"],
    );
    let inside = report.join("overhead.svg");
    std::fs::copy(&f, &inside).unwrap();
    let o = seccheck_in(d.path(), &[&["bench", "report/overhead.svg", "--report", "report"][..], &small[..]].concat());
    refused(&o, &["overhead.svg: is also an input"]);
    assert_eq!(std::fs::read(&inside).unwrap(), std::fs::read(&f).unwrap());
}
