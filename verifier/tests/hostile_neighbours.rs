//! What another user (or a careless script) can plant where seccheck keeps
//! the state it shares between its processes: the JIT pacing bucket
//! (`kernel::health`). Each case runs in a private mount namespace with fresh
//! tmpfs over `/run` and `/dev/shm` (the bucket's former place, planted too),
//! plants one thing, runs a kernel-using command, and asserts that the command
//! finishes in bounded time with the output it has without the plant, and that
//! nothing planted, or pointed to, was changed.

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// Longer than any healthy run here (a lint with kernel confirmation takes
/// about a second); a hang is forever.
const BOUND: Duration = Duration::from_secs(30);

/// Far more memory than lint needs here (tens of MiB); reading a link to
/// `/dev/zero` to the end took all it could get.
const PEAK_RSS: u64 = 256 << 20;

/// A deny list whose lint findings the kernel confirms (so `lint` uses it).
const DENY_LIST: &str = "ld [4]\n jeq #0xc000003e, x86, kill\n x86: ld [0]\n jeq #59, deny, allow\n allow: ret #0x7fff0000\n deny: ret #0x50001\n kill: ret #0";

/// The bucket's places, new and old.
const PLACES: [&str; 2] = ["/run/seccheck/jit-pace", "/dev/shm/seccheck-jit-pace"];

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
    /// Bytes.
    peak_rss: u64,
}

fn unshare_available() {
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "these tests need `unshare --mount` (util-linux) and CAP_SYS_ADMIN; the README's test setup provides both"
    );
}

/// `sh -c` in a private mount namespace with empty `/run` (with
/// `/run/seccheck` 0700, as seccheck creates it) and `/dev/shm`, then `plant`
/// (which sees `$SECCHECK`), and `tail` (which usually `exec`s seccheck).
/// Address space is capped at 2 GiB, so the unbounded read of a link to
/// `/dev/zero` fails instead of filling the machine.
fn spawn(plant: &str, tail: &str) -> Child {
    let script = format!(
        "set -e\nulimit -v 2097152\nmount -t tmpfs -o mode=0755 tmpfs /run\nmount -t tmpfs -o mode=1777 tmpfs /dev/shm\nmkdir -m 0700 /run/seccheck\n{plant}\n{tail}\n"
    );
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("SECCHECK", env!("CARGO_BIN_EXE_seccheck"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unshare")
}

/// Wait for `child` at most [`BOUND`]; past it, kill it and fail.
fn finish(child: Child, what: &str) -> Run {
    finish_within(child).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Wait for `child` at most [`BOUND`]; past it, kill it and say so. Reaped
/// with wait4(2) for its peak resident memory (the script `exec`s seccheck,
/// so the child is seccheck by then).
// wait4 with the child's resource usage: libc, so `unsafe`.
#[allow(unsafe_code)]
fn finish_within(mut child: Child) -> Result<Run, String> {
    use std::io::Read;
    let pid = child.id() as i32;
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let mut status = 0;
    // SAFETY: plain-data out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        let flags = if killed { 0 } else { libc::WNOHANG };
        // SAFETY: wait4 on our own child with valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4: {}", std::io::Error::last_os_error());
        if start.elapsed() > BOUND {
            // Not reaped yet, so the pid is still our child's.
            let _ = child.kill();
            killed = true;
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let took = start.elapsed();
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    if killed {
        return Err(format!("still running after {BOUND:?}, killed\nstdout: {stdout}\nstderr: {stderr}"));
    }
    Ok(Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout,
        stderr,
        took,
        peak_rss: usage.ru_maxrss as u64 * 1024,
    })
}

/// Content, owner, mode and modification time of `p` (not following a link).
fn snapshot(p: &Path) -> (String, u32, u32, SystemTime) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned(), m.uid(), m.mode(), m.modified().unwrap())
}

fn deny_list(dir: &Path) -> PathBuf {
    let p = dir.join("deny.bpf");
    std::fs::write(&p, seccheck::bpf::assemble(DENY_LIST).unwrap().to_bytes()).unwrap();
    p
}

/// `plant` run once per place with `$F` set to it.
fn at_both_places(plant: &str) -> String {
    PLACES.iter().map(|f| format!("F={f}\n{plant}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn planted_buckets_change_nothing_and_cost_no_hang() {
    if !kernel_usable() {
        return;
    }
    unshare_available();
    let d = tempfile::tempdir().unwrap();
    let filter = deny_list(d.path());
    let lint = format!("exec \"$SECCHECK\" lint {}", filter.display());
    let baseline = finish(spawn("", &lint), "lint with nothing planted");
    assert_eq!(baseline.code, Some(1), "{}{}", baseline.stdout, baseline.stderr);
    assert!(baseline.stdout.contains("[kernel agrees]"), "the kernel was not asked: {}", baseline.stdout);

    let sentinel = d.path().join("sentinel");
    std::fs::write(&sentinel, "a root-owned file nobody should rewrite\n").unwrap();
    let s = sentinel.display();
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("a symlink to a file of root's", at_both_places(&format!("ln -s {s} $F"))),
        ("a dangling symlink", at_both_places(&format!("ln -s {}/created-through-the-link $F", elsewhere.display()))),
        ("a symlink to /dev/zero", at_both_places("ln -s /dev/zero $F")),
        ("a FIFO", at_both_places("mkfifo $F")),
        ("a file of nobody's", at_both_places("echo '-4000000 1e18' > $F; chown 65534:65534 $F")),
        ("a file others can write", at_both_places("echo '-4000000 1e18' > $F; chmod 0666 $F")),
        (
            "a lock held by another process",
            "exec 8<>/run/seccheck/jit-pace 9<>/dev/shm/seccheck-jit-pace; flock 8; flock 9".to_string(),
        ),
        ("-1e300 0", at_both_places("echo '-1e300 0' > $F")),
        ("-4000000 1e18", at_both_places("echo '-4000000 1e18' > $F")),
        ("NaN", at_both_places("echo 'NaN NaN' > $F")),
        ("a 1 MiB line", at_both_places("head -c 1048576 /dev/zero | tr '\\0' 9 > $F")),
        ("binary", at_both_places("printf '\\377\\000\\376-\\001 \\200' > $F")),
        ("/run/seccheck as a link", format!("rmdir /run/seccheck; ln -s {} /run/seccheck", elsewhere.display())),
        (
            "/run/seccheck writable by all",
            "chmod 1777 /run/seccheck; echo '-4000000 1e18' > /run/seccheck/jit-pace".to_string(),
        ),
        (
            "/run/seccheck of nobody's",
            "chown 65534 /run/seccheck; echo '-4000000 1e18' > /run/seccheck/jit-pace".to_string(),
        ),
    ];
    let mut sentinel_before = snapshot(&sentinel);
    // Every case is run and every failure listed, so a regression shows all it breaks.
    let mut failed = Vec::new();
    for (what, plant) in &cases {
        let r = match finish_within(spawn(plant, &lint)) {
            Ok(r) => r,
            Err(e) => {
                failed.push(format!("{what}: {e}"));
                continue;
            }
        };
        if (r.code, r.signal) != (Some(1), None) || r.stdout != baseline.stdout {
            failed.push(format!(
                "{what}: exit {:?} signal {:?}, not as without the plant\nstdout: {}\nstderr: {}",
                r.code, r.signal, r.stdout, r.stderr
            ));
        }
        if r.took >= BOUND {
            failed.push(format!("{what}: took {:?}", r.took));
        }
        if r.peak_rss > PEAK_RSS {
            failed.push(format!(
                "{what}: peak resident memory {} MiB (without the plant {} MiB)",
                r.peak_rss >> 20,
                baseline.peak_rss >> 20
            ));
        }
        let now = snapshot(&sentinel);
        if now != sentinel_before {
            failed.push(format!("{what}: the file behind the link was written: {now:?}"));
            std::fs::write(&sentinel, &sentinel_before.0).unwrap();
            sentinel_before = snapshot(&sentinel);
        }
        if std::fs::read_dir(&elsewhere).unwrap().count() != 0 {
            failed.push(format!("{what}: something was created through a link"));
            std::fs::remove_dir_all(&elsewhere).unwrap();
            std::fs::create_dir(&elsewhere).unwrap();
        }
    }
    assert!(failed.is_empty(), "{} of {} cases failed:\n{}", failed.len(), cases.len(), failed.join("\n"));
    // What was planted with foreign owner or loose mode is left exactly as
    // planted: checked inside the namespace, after seccheck ran.
    for (what, setup) in [
        ("a file of nobody's", "echo '-4000000 1e18' > $F; chown 65534:65534 $F; touch -d @1000000000 $F"),
        ("a file others can write", "echo '-4000000 1e18' > $F; chmod 0666 $F; touch -d @1000000000 $F"),
    ] {
        let check = PLACES.iter().map(|f| format!("stat -c '%u %a %Y %s' {f}; cat {f}")).collect::<Vec<_>>().join("; ");
        let r = finish(
            spawn(
                &at_both_places(setup),
                &format!("\"$SECCHECK\" lint {} >/dev/null || true\n{check}", filter.display()),
            ),
            what,
        );
        let want = if what.contains("nobody") {
            "65534 644 1000000000 14\n-4000000 1e18\n"
        } else {
            "0 666 1000000000 14\n-4000000 1e18\n"
        };
        assert_eq!(r.stdout, want.repeat(2), "{what}: changed\nstderr: {}", r.stderr);
    }
}

#[test]
fn the_bucket_is_still_shared_in_a_private_directory() {
    if !kernel_usable() {
        return;
    }
    unshare_available();
    let d = tempfile::tempdir().unwrap();
    let filter = deny_list(d.path());
    // Two runs one after the other: the second finds what the first left.
    let script = format!(
        "\"$SECCHECK\" lint {f} >/dev/null || true\ncat /run/seccheck/jit-pace; echo\n\"$SECCHECK\" lint {f} >/dev/null || true\ncat /run/seccheck/jit-pace; echo\nstat -c '%F %a %u' /run/seccheck /run/seccheck/jit-pace; ls /dev/shm",
        f = filter.display()
    );
    let r = finish(spawn("rmdir /run/seccheck", &script), "two lints");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}{}", r.stdout, r.stderr);
    let bucket = |l: &str| -> (f64, f64) {
        let (t, s) = l.split_once(' ').unwrap_or_else(|| panic!("bucket line {l:?}"));
        (t.parse().unwrap(), s.parse().unwrap())
    };
    let ((t1, s1), (t2, s2)) = (bucket(lines[0]), bucket(lines[1]));
    let burst = seccheck::kernel::health::JIT_BURST as f64;
    assert!(t1 < burst, "the first lint took no token: {t1}");
    assert!(s2 > s1 && t2 < burst, "the second lint did not update the first's bucket: {t1} {s1} → {t2} {s2}");
    assert_eq!(lines[2..], ["directory 700 0", "regular file 600 0"], "{}", r.stdout);
}

#[test]
// kill(2) through libc, so `unsafe`.
#[allow(unsafe_code)]
fn record_under_a_held_lock_still_ends_on_sigterm() {
    if !kernel_usable() {
        return;
    }
    unshare_available();
    let d = tempfile::tempdir().unwrap();
    let trace = d.path().join("trace.json");
    // The shell holds the lock on both places through descriptors seccheck
    // inherits: its own open of the bucket is another open file description,
    // so it cannot take the lock either.
    let child = spawn(
        "exec 8<>/run/seccheck/jit-pace 9<>/dev/shm/seccheck-jit-pace; flock 8; flock 9",
        &format!("exec \"$SECCHECK\" record -o {} -- sleep 60", trace.display()),
    );
    let pid = child.id() as i32;
    // Long enough to be past pacing and serving the command.
    std::thread::sleep(Duration::from_secs(2));
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let r = finish(child, "record under a held lock, after SIGTERM");
    let after = sent.elapsed();
    assert!(after < Duration::from_secs(10), "SIGTERM took {after:?} to end record");
    // SIGTERM is forwarded to the command, which dies of it: 128 + 15.
    assert_eq!(r.code, Some(143), "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("was killed by signal 15"), "{}", r.stderr);
    assert!(trace.exists());
}

#[test]
fn another_user_keeps_the_bucket_in_its_runtime_directory_and_trusts_no_other() {
    if !kernel_usable() {
        return;
    }
    unshare_available();
    let d = tempfile::tempdir().unwrap();
    let filter = deny_list(d.path());
    // As nobody (uid 65534), with its XDG runtime directory, reading a copy
    // of the filter it can read.
    let prelude = format!(
        "mkdir -p -m 0755 /run/user; mkdir -m 0700 /run/user/65534; chown 65534:65534 /run/user/65534\ncp {} /run/deny.bpf; chmod 0644 /run/deny.bpf",
        filter.display()
    );
    let as_nobody = "setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_RUNTIME_DIR=/run/user/65534 \"$SECCHECK\" lint /run/deny.bpf > /run/out || true\ntail -n 1 /run/out";
    let show =
        "stat -c '%F %a %u' /run/user/65534/seccheck /run/user/65534/seccheck/jit-pace; ls -A /dev/shm /run/seccheck";
    let r = finish(spawn(&prelude, &format!("{as_nobody}\n{show}")), "lint as nobody");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.first().is_some_and(|l| l.contains("3 of 3 counterexample")), "{}{}", r.stdout, r.stderr);
    assert_eq!(lines[1..3], ["directory 700 65534", "regular file 600 65534"], "{}{}", r.stdout, r.stderr);
    // Nothing of nobody's in root's directory or in /dev/shm.
    assert_eq!(lines[3..], ["/dev/shm:", "", "/run/seccheck:"], "{}", r.stdout);

    // A directory of root's planted in nobody's runtime directory: nobody's
    // seccheck paces alone, and the planted bucket stays as it was.
    let plant = format!("{prelude}\nmkdir -m 0755 /run/user/65534/seccheck; echo '-4000000 1e18' > /run/user/65534/seccheck/jit-pace; touch -d @1000000000 /run/user/65534/seccheck/jit-pace");
    let show = "stat -c '%u %a %Y %s' /run/user/65534/seccheck/jit-pace";
    let r = finish(spawn(&plant, &format!("{as_nobody}\n{show}")), "lint as nobody beside root's directory");
    assert_eq!(r.stdout.lines().collect::<Vec<_>>()[1..], ["0 644 1000000000 14"], "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("3 of 3 counterexample"), "{}", r.stdout);
}
