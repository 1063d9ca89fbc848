//! Reading filters from a live process, judged by the kernel: a helper program
//! (C, compiled here with gcc) installs different stacks on different threads,
//! and `read_process` must return exactly those programs, per thread, in
//! installation order, with their flags — and leave the helper running as it was.
//!
//! Every helper is killed and reaped by a guard, also when an assertion fails.

use crate::common::schemas;

use seccheck::bpf::insn::*;
use seccheck::bpf::{Insn, Program};
use seccheck::kernel::live::{read_process, LiveError, SeccompMode};
use seccheck::seccomp::*;
use seccheck::uapi::SECCOMP_FILTER_FLAG_LOG;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

use seccheck::uapi::AUDIT_ARCH_X86_64;
const NR_PTRACE: u32 = 101;
const NR_PERSONALITY: u32 = 135;

fn filter_a() -> Program {
    Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, NR_PTRACE, 0, 1),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ])
}

/// Filter B (installed with SECCOMP_FILTER_FLAG_LOG): `personality` fails with ENOSYS.
fn filter_b() -> Program {
    Program::new(vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, NR_PERSONALITY, 0, 1),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 38),
        Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ])
}

fn c_array(name: &str, p: &Program) -> String {
    let body: Vec<String> =
        p.insns.iter().map(|i| format!("{{{:#x}, {}, {}, {:#x}}}", i.code, i.jt, i.jf, i.k)).collect();
    format!("static struct sock_filter {name}[] = {{ {} }};\n", body.join(", "))
}

/// Threads: main (no filter), `t-a` (A), `t-ab` (A, then B with FLAG_LOG),
/// `t-none` (no filter), `t-strict` (strict mode). Each prints `role tid` once
/// ready; main answers `ping` with `pong` and exits on EOF of stdin.
fn helper_source() -> String {
    let mut s = String::from(
        r#"#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
"#,
    );
    s += &c_array("A", &filter_a());
    s += &c_array("B", &filter_b());
    s += r#"
static int never[2];
static void say(const char *role) {
    char line[64];
    int n = snprintf(line, sizeof line, "%s %ld\n", role, (long)syscall(SYS_gettid));
    if (write(1, line, n) != n) _exit(3);
}
static void install(struct sock_filter *f, unsigned short len, unsigned flags) {
    struct sock_fprog p = { len, f };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p) != 0) { perror("seccomp"); _exit(4); }
}
static void *t_a(void *x) {
    prctl(PR_SET_NAME, "t-a"); install(A, sizeof A / sizeof A[0], 0); say("a");
    for (;;) pause();
}
static void *t_ab(void *x) {
    prctl(PR_SET_NAME, "t-ab"); install(A, sizeof A / sizeof A[0], 0);
    install(B, sizeof B / sizeof B[0], SECCOMP_FILTER_FLAG_LOG); say("ab");
    for (;;) pause();
}
static void *t_none(void *x) { prctl(PR_SET_NAME, "t-none"); say("none"); for (;;) pause(); }
static void *t_strict(void *x) {
    char line[64], c;
    int n = snprintf(line, sizeof line, "strict %ld\n", (long)syscall(SYS_gettid));
    prctl(PR_SET_NAME, "t-strict");
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) _exit(5);
    /* Strict mode: only read, write, _exit and sigreturn from here on. */
    if (write(1, line, n) != n) syscall(SYS_exit, 6);
    for (;;) if (read(never[0], &c, 1) <= 0) syscall(SYS_exit, 0);
}
int main(void) {
    pthread_t t;
    char buf[16];
    if (pipe(never) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
    say("main");
    pthread_create(&t, 0, t_a, 0);
    pthread_create(&t, 0, t_ab, 0);
    pthread_create(&t, 0, t_none, 0);
    pthread_create(&t, 0, t_strict, 0);
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) _exit(0);
        if (n >= 4 && memcmp(buf, "ping", 4) == 0 && write(1, "pong\n", 5) != 5) _exit(7);
    }
}
"#;
    s
}

/// The compiled helper, built once per test binary under cargo's scratch
/// directory for tests (world-readable: the permission test runs it as `nobody`).
fn helper_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live_process");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let src = dir.join("helper.c");
        std::fs::write(&src, helper_source()).unwrap();
        let bin = dir.join("helper");
        let out = Command::new("gcc").args(["-O1", "-pthread", "-o"]).arg(&bin).arg(&src).output().expect("gcc runs");
        assert!(out.status.success(), "gcc: {}", String::from_utf8_lossy(&out.stderr));
        bin
    })
}

/// A running helper; killed and reaped on drop.
struct Helper {
    child: Child,
    stdin: ChildStdin,
    /// Lines from the helper's stdout, read by a thread so that waiting for
    /// them can time out.
    lines: mpsc::Receiver<String>,
    /// (role, tid) as the helper reported them.
    roles: Vec<(String, i32)>,
}

/// How long the helper may take to install its filters and answer. Installing
/// a filter is microseconds; this only turns a stuck kernel into a failure
/// instead of a hung test.
const PATIENCE: Duration = Duration::from_secs(10);

impl Helper {
    fn start(configure: impl FnOnce(&mut Command)) -> Helper {
        let mut cmd = Command::new(helper_binary());
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        configure(&mut cmd);
        let mut child = cmd.spawn().expect("helper starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in stdout.lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut h = Helper { child, stdin, lines, roles: Vec::new() };
        for _ in 0..5 {
            let line = h.line();
            let (role, tid) = line.split_once(' ').unwrap_or_else(|| panic!("helper said `{line}`"));
            h.roles.push((role.to_string(), tid.parse().unwrap()));
        }
        h
    }
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    fn tid(&self, role: &str) -> i32 {
        self.roles.iter().find(|(r, _)| r == role).unwrap().1
    }
    fn line(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(l) => l,
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("helper exited early"),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "helper {} silent for {PATIENCE:?}; its threads: {:?} (state D in bpf_prog_pack_alloc means the kernel's BPF JIT is stuck, see /proc/PID/task/*/stack)",
                self.pid(),
                thread_states(self.pid())
            ),
        }
    }
    /// The helper still runs normally: its main thread answers.
    fn ping(&mut self) {
        self.stdin.write_all(b"ping\n").unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(self.line(), "pong");
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // A thread stuck in the kernel cannot die until it leaves; do not hang
        // the test on it (init reaps it later).
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && start.elapsed() < PATIENCE {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Every thread of `pid`: (tid, state letter, tracer pid).
fn thread_states(pid: i32) -> Vec<(i32, char, i32)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        let Some(tid) = e.file_name().to_str().and_then(|t| t.parse::<i32>().ok()) else { continue };
        let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")) else { continue };
        let field = |k: &str| s.lines().find_map(|l| l.strip_prefix(k)).unwrap_or("").trim().to_string();
        v.push((tid, field("State:").chars().next().unwrap_or('?'), field("TracerPid:").parse().unwrap_or(-1)));
    }
    v.sort();
    v
}

#[test]
fn reads_every_threads_stack_in_installation_order() {
    if !kernel_usable() {
        return;
    }
    let mut h = Helper::start(|_| {});
    let p = read_process(h.pid()).expect("read the helper");
    assert_eq!(p.pid, h.pid());
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);

    let a = filter_a();
    let b = filter_b();
    let stack = |role: &str| {
        let t = p.threads.iter().find(|t| t.tid == h.tid(role)).unwrap_or_else(|| panic!("thread {role} missing"));
        (t.mode, t.filters.iter().map(|f| (f.program.to_bytes(), f.flags)).collect::<Vec<_>>())
    };
    let none = (SeccompMode::Disabled, vec![]);
    assert_eq!(stack("main"), none);
    assert_eq!(stack("none"), none);
    assert_eq!(stack("strict"), (SeccompMode::Strict, vec![]));
    assert_eq!(stack("a"), (SeccompMode::Filter, vec![(a.to_bytes(), Some(0))]));
    // Oldest first: A was installed before B, and only B carries FLAG_LOG.
    assert_eq!(
        stack("ab"),
        (SeccompMode::Filter, vec![(a.to_bytes(), Some(0)), (b.to_bytes(), Some(u64::from(SECCOMP_FILTER_FLAG_LOG)))])
    );
    assert_eq!(p.threads.len(), 5);
    assert_eq!(p.threads.iter().find(|t| t.tid == h.tid("ab")).unwrap().name, "t-ab");

    // Groups: identical stacks together, in order of their lowest thread id.
    let groups: Vec<(Vec<i32>, SeccompMode, usize)> =
        p.groups().into_iter().map(|g| (g.tids, g.mode, g.filters.len())).collect();
    let mut main_and_none = vec![h.tid("main"), h.tid("none")];
    main_and_none.sort();
    let mut expected = vec![
        (main_and_none, SeccompMode::Disabled, 0),
        (vec![h.tid("a")], SeccompMode::Filter, 1),
        (vec![h.tid("ab")], SeccompMode::Filter, 2),
        (vec![h.tid("strict")], SeccompMode::Strict, 0),
    ];
    expected.sort_by_key(|g| g.0[0]);
    assert_eq!(groups, expected);
    assert_eq!(p.distinct_filters().len(), 2);

    // Left as it was: nobody traces it, nothing stopped, and it still answers.
    for (tid, state, tracer) in thread_states(h.pid()) {
        assert_eq!(tracer, 0, "thread {tid} still traced");
        assert!(state == 'S' || state == 'R', "thread {tid} in state {state}");
    }
    h.ping();
}

#[test]
fn a_stopped_process_stays_stopped() {
    if !kernel_usable() {
        return;
    }
    let mut h = Helper::start(|_| {});
    let kill = |sig: &str| assert!(Command::new("kill").args([sig, &h.pid().to_string()]).status().unwrap().success());
    kill("-STOP");
    let all_stopped = || thread_states(h.pid()).iter().all(|&(_, s, _)| s == 'T');
    let start = Instant::now();
    while !all_stopped() {
        assert!(start.elapsed() < PATIENCE, "SIGSTOP did not stop the helper");
        std::thread::sleep(Duration::from_millis(2));
    }
    let p = read_process(h.pid()).expect("read the stopped helper");
    let ab = p.threads.iter().find(|t| t.tid == h.tid("ab")).unwrap();
    assert_eq!(ab.filters.len(), 2);
    // Back in its group stop (`T`, not the traced `t`), untraced. Detaching
    // wakes each thread so that it re-enters the group stop (kernel/ptrace.c
    // `__ptrace_unlink`: JOBCTL_STOP_PENDING, then `ptrace_signal_wake_up`),
    // so a thread may be `R` for an instant before it is `T` again.
    let start = Instant::now();
    while !all_stopped() && start.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(2));
    }
    for (tid, state, tracer) in thread_states(h.pid()) {
        assert_eq!((state, tracer), ('T', 0), "thread {tid}");
    }
    kill("-CONT");
    h.ping();
}

#[test]
fn a_process_without_filters_has_empty_stacks() {
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    struct Reap<'a>(&'a mut Child);
    impl Drop for Reap<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pid = sleeper.id() as i32;
    let _guard = Reap(&mut sleeper);
    let p = read_process(pid).unwrap();
    assert_eq!(p.threads.len(), 1);
    assert_eq!((p.threads[0].tid, p.threads[0].mode), (pid, SeccompMode::Disabled));
    assert!(p.threads[0].filters.is_empty());
    assert!(p.groups().len() == 1 && p.distinct_filters().is_empty());
}

#[test]
fn missing_and_own_pids_are_clear_errors() {
    // A pid that existed a moment ago and has been reaped.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id() as i32;
    gone.wait().unwrap();
    for bad in [pid, 0, -1] {
        match read_process(bad) {
            Err(LiveError::NoSuchProcess { pid: p }) => assert_eq!(p, bad),
            other => panic!("pid {bad}: {other:?}"),
        }
    }
    let me = std::process::id() as i32;
    assert!(matches!(read_process(me), Err(LiveError::OwnProcess { pid }) if pid == me));
    assert!(read_process(me).unwrap_err().to_string().contains("this process itself"));
}

fn seccheck(args: &[&str], configure: impl FnOnce(&mut Command)) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seccheck"));
    cmd.args(args);
    configure(&mut cmd);
    cmd.output().unwrap()
}

const NOBODY: u32 = 65534;

#[test]
fn permission_errors_say_what_is_missing() {
    if !kernel_usable() {
        return;
    }
    // An unprivileged user may not trace root's process at all.
    let h = Helper::start(|_| {});
    let o = seccheck(&["pid", &h.pid().to_string()], |c| {
        c.uid(NOBODY).gid(NOBODY);
    });
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("permission denied: cannot ptrace thread"), "{err}");
    assert!(o.stdout.is_empty());
    drop(h);

    // Tracing its own process is allowed, reading filters needs CAP_SYS_ADMIN.
    let h = Helper::start(|c| {
        c.uid(NOBODY).gid(NOBODY);
    });
    let o = seccheck(&["pid", &h.pid().to_string()], |c| {
        c.uid(NOBODY).gid(NOBODY);
    });
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("needs CAP_SYS_ADMIN"), "{err}");
    // And the failed read left every thread running and untraced.
    for (tid, state, tracer) in thread_states(h.pid()) {
        assert!(tracer == 0 && (state == 'S' || state == 'R'), "thread {tid}: {state} traced by {tracer}");
    }
}

/// The name `seccheck pid` gives a filter: the first 12 hex digits of the
/// SHA-256 of its raw bytes (what `sha256sum` prints for the dumped file).
fn short_hash(p: &Program) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(p.to_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Replace each thread id in `text` by its role, so the output is stable.
fn by_role(text: &str, h: &Helper, dir: &Path) -> String {
    let mut t = text.replace(&dir.display().to_string(), "DIR");
    t = t.replace(&format!("process {}:", h.pid()), "process PID:");
    let mut roles = h.roles.clone();
    roles.sort_by_key(|(_, tid)| std::cmp::Reverse(tid.to_string().len()));
    for (role, tid) in roles {
        t = t.replace(&format!("{tid} ("), &format!("<{role}> ("));
    }
    t
}

#[test]
fn cli_reports_groups_and_dumps_each_filter() {
    if !kernel_usable() {
        return;
    }
    let h = Helper::start(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("filters");
    let d = dump.to_str().unwrap();
    let pid = h.pid().to_string();

    let o = seccheck(&["pid", &pid, "--dump", d], |_| {});
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let ha = short_hash(&filter_a());
    let hb = short_hash(&filter_b());
    let head = "filter mode, {} oldest first (the kernel runs the newest first)";
    // Each stack's path length: converted lengths, each older filter + 4.
    let conv = |p: Program| seccheck::bpf::converted_len(&seccheck::bpf::validate(&p).unwrap());
    let (ca, cb) = (conv(filter_a()), conv(filter_b()));
    let path = |lens: &[usize]| {
        let pl = PathLength::new(lens.to_vec());
        let shown = lens.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" + ");
        format!(
            "  path length {} of 32768 (converted lengths {shown}, each older filter + 4): one more filter may have at most {} converted instructions\n",
            pl.total(),
            pl.room
        )
    };
    let mut blocks = vec![
        (h.tid("main").min(h.tid("none")), format!(
            "threads {}: seccomp disabled, no filters\n",
            if h.tid("main") < h.tid("none") { "<main> (helper), <none> (t-none)" } else { "<none> (t-none), <main> (helper)" }
        )),
        (h.tid("a"), format!(
            "thread <a> (t-a): {}\n  #0     7 insns  sha256 {ha}  -> DIR/filters/{ha}.bpf\n{}",
            head.replace("{}", "1 filter,"),
            path(&[ca])
        )),
        (h.tid("ab"), format!(
            "thread <ab> (t-ab): {}\n  #0     7 insns  sha256 {ha}  -> DIR/filters/{ha}.bpf\n  #1     4 insns  sha256 {hb}  flags LOG  -> DIR/filters/{hb}.bpf\n{}",
            head.replace("{}", "2 filters,"),
            path(&[ca, cb])
        )),
        (h.tid("strict"), "thread <strict> (t-strict): strict mode (only read, write, _exit, sigreturn), no filters\n".to_string()),
    ];
    blocks.sort();
    let expected = format!(
        "process PID: 5 threads, 4 distinct seccomp states\n{}dumped 2 distinct filters to DIR/filters\n",
        blocks.into_iter().map(|b| b.1).collect::<String>()
    );
    assert_eq!(by_role(&String::from_utf8(o.stdout).unwrap(), &h, dir.path()), expected);

    // One raw file per distinct program, readable by the other commands.
    let mut files: Vec<_> = std::fs::read_dir(&dump).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let mut contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    contents.sort();
    let mut expected = vec![filter_a().to_bytes(), filter_b().to_bytes()];
    expected.sort();
    assert_eq!(contents, expected);
    for f in &files {
        let o = seccheck(&["validate", f.to_str().unwrap()], |_| {});
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }

    let o = seccheck(&["pid", &pid, "--format", "json", "--per-thread"], |_| {});
    assert_eq!(o.status.code(), Some(0));
    let v = schemas::parse(&o.stdout);
    assert_eq!(v["pid"], h.pid());
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 5);
    let ab = groups.iter().find(|g| g["tids"][0] == h.tid("ab")).unwrap();
    assert_eq!(ab["mode"], "filter");
    assert_eq!(ab["names"][0], "t-ab");
    let f = ab["filters"].as_array().unwrap();
    assert_eq!((f[0]["instructions"].as_u64(), f[1]["instructions"].as_u64()), (Some(7), Some(4)));
    assert_eq!((f[0]["flags"].clone(), f[1]["flags"].clone()), (serde_json::json!([]), serde_json::json!(["LOG"])));
    assert_eq!(f[0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(ab["path_length"]["lengths"], serde_json::json!([ca, cb]));
    assert_eq!(ab["path_length"]["room"], 32768 - (ca + 4) - (cb + 4));
    let strict = groups.iter().find(|g| g["tids"][0] == h.tid("strict")).unwrap();
    assert_eq!(strict["mode"], "strict");

    // 0 is no process id (clap refuses it), a free one names no process.
    let o = seccheck(&["pid", "0"], |_| {});
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "seccheck: error: invalid value '0' for '<PID>': 0 is not in 1..=2147483647\n"
    );
    let o = seccheck(&["pid", "2147483647"], |_| {});
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "seccheck: error: no process with pid 2147483647\n");
}
