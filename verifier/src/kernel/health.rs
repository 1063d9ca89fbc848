//! Can the running kernel load seccomp filters right now, and how to keep it so.
//!
//! Every seccomp filter is JIT-compiled on x86-64 (`CONFIG_BPF_JIT_ALWAYS_ON`),
//! and the JIT packs programs into shared executable pages
//! (`bpf_prog_pack_alloc` / `bpf_prog_pack_free`, kernel/bpf/core.c, both under
//! one `pack_mutex`). Freeing a filter queues `bpf_prog_free_deferred` on the
//! per-CPU system workqueue. Seen on this machine (Linux 6.18): when a test
//! created and dropped filters by the thousand on a loaded 2-CPU VM, about 1024
//! free work items piled up on CPU 0 behind `pack_mutex`, while its holder, in
//! `bpf_prog_pack_alloc` → `set_memory_rox` → `vm_unmap_aliases`, waited for a
//! vmalloc purge work item queued on the same, now saturated, workqueue
//! (`max_active`): a deadlock. From then on every `seccomp(2)` that installs a
//! filter blocks forever in uninterruptible sleep, and only a reboot helps.
//!
//! So:
//! - [`pace`] rate-limits JIT compilations machine-wide (every code path that
//!   makes the kernel compile a filter calls it), which keeps the free queue short;
//! - [`check`] detects a kernel already in that state — cheaply, by reading
//!   `/proc/*/wchan`, never by trying to install a filter (which would only add
//!   another task that cannot be killed) — so callers can refuse with a clear
//!   error instead of hanging.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tasks blocked in the JIT pack allocator above which the kernel is taken to
/// be deadlocked. A healthy system has none there for more than an instant.
const BLOCKED_THRESHOLD: usize = 32;

/// Why filters cannot be loaded now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the running kernel cannot load BPF programs: {blocked} tasks are blocked in the BPF JIT allocator \
     ({wchan}), the workqueue deadlock described in seccheck::kernel::health; only a reboot clears it"
)]
pub struct KernelUnavailable {
    pub blocked: usize,
    pub wchan: String,
}

/// Scan `/proc` for tasks in uninterruptible sleep inside `bpf_prog_pack_*`.
pub fn check() -> Result<(), KernelUnavailable> {
    check_in(std::path::Path::new("/proc"))
}

fn check_in(proc_root: &std::path::Path) -> Result<(), KernelUnavailable> {
    let Ok(dir) = std::fs::read_dir(proc_root) else { return Ok(()) };
    let mut blocked = 0;
    let mut wchan_seen = String::new();
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().filter(|s| s.bytes().all(|b| b.is_ascii_digit())) else { continue };
        let Ok(w) = std::fs::read_to_string(proc_root.join(pid).join("wchan")) else { continue };
        if !w.starts_with("bpf_prog_pack") {
            continue;
        }
        // Field 3 of /proc/PID/stat is the state; the command may contain spaces,
        // so read after the last ')'.
        let Ok(stat) = std::fs::read_to_string(proc_root.join(pid).join("stat")) else { continue };
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
        if state == Some("D") {
            blocked += 1;
            if wchan_seen.is_empty() {
                wchan_seen = w;
            }
        }
    }
    if blocked >= BLOCKED_THRESHOLD {
        Err(KernelUnavailable { blocked, wchan: wchan_seen })
    } else {
        Ok(())
    }
}

/// Most BPF JIT compilations (filter installs, accepted validations) started
/// per second on this machine, by all seccheck processes together.
pub const JIT_PER_SECOND: u32 = 400;
/// Compilations allowed in one burst before pacing starts.
pub const JIT_BURST: u32 = 50;

/// The most waiting that the bucket's stored state can impose on a caller:
/// debt left by others is clamped to this many seconds' worth of tokens, so a
/// caller taking `n` waits at most `MAX_DEBT_WAIT + n / JIT_PER_SECOND`
/// whatever the file holds.
pub const MAX_DEBT_WAIT: Duration = Duration::from_millis(500);
/// How long [`pace`] tries to lock the shared bucket before it paces with the
/// process-local one instead: a neighbour holding the lock delays us by this
/// much, never more.
pub const LOCK_TIMEOUT: Duration = Duration::from_millis(200);
/// After a lock was not given within [`LOCK_TIMEOUT`], this process paces
/// alone for this long before it tries the shared bucket again: a lock held
/// for good costs one [`LOCK_TIMEOUT`] per period, not one per compilation.
const LOCK_BACKOFF: Duration = Duration::from_secs(10);
/// Longest bucket file we read; ours is two numbers (well under 64 bytes).
const MAX_BUCKET_BYTES: u64 = 64;
/// Timestamps older than this are a bucket that has long refilled.
const MAX_AGE_SECS: f64 = 3600.0;

/// The shared bucket's directory for root. Every process of the same user
/// must find the same file (the deadlock above is a property of the machine's
/// workqueue, so a per-process limit lets N parallel test binaries, or a test
/// run beside `seccheck bench`, reach N times the safe rate), and no other
/// user may be able to create, replace or write it: the old fixed name in the
/// world-writable `/dev/shm` let anyone plant a symlink (root then rewrote its
/// target), a FIFO (a hang), a held lock (every command stalled) or garbage
/// (a panic, or hours of sleep). `/run` is root's tmpfs (0755, gone after the
/// reboot that a deadlock needs anyway); other users get
/// `$XDG_RUNTIME_DIR/seccheck` (their own 0700 tmpfs directory, by the XDG
/// base directory spec). Either is created 0700 and then trusted only if it
/// is a real directory (not a link) owned by the effective uid with no
/// group or other write; otherwise, and when there is no such place, each
/// process paces with a bucket of its own ([`local_take`]).
const ROOT_BUCKET_DIR: &str = "/run/seccheck";
/// The bucket's file name inside the directory.
const BUCKET_FILE: &std::ffi::CStr = c"jit-pace";

/// Take `n` JIT compilations from the machine-wide token bucket, sleeping as
/// needed. Every code path that makes the kernel compile a filter calls it.
/// Where the shared bucket cannot be used safely (no trusted directory, a
/// file that is not ours, a lock not given within [`LOCK_TIMEOUT`], and then
/// for [`LOCK_BACKOFF`]), a bucket of this process alone paces instead.
/// Bounded whatever the shared file holds: at most [`LOCK_TIMEOUT`] plus
/// [`MAX_DEBT_WAIT`] plus `n / JIT_PER_SECOND`; never a panic.
pub fn pace(n: u32) {
    let wait = shared_take(n).unwrap_or_else(|| local_take(n));
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
}

/// One bucket step: `tokens` left at time `last` (seconds), `n` taken at `now`.
/// Returns the new level and how long the caller must wait before its
/// compilations may start. Total over every `f64`: stored debt counts for at
/// most [`MAX_DEBT_WAIT`], a `last` in the future as no time passed, and
/// anything not finite as a full bucket.
fn take(tokens: f64, last: f64, now: f64, n: u32) -> (f64, Duration) {
    let rate = JIT_PER_SECOND as f64;
    let (tokens, last) = if tokens.is_finite() && last.is_finite() && now.is_finite() {
        (tokens, last)
    } else {
        (JIT_BURST as f64, now)
    };
    let tokens = tokens.clamp(-MAX_DEBT_WAIT.as_secs_f64() * rate, JIT_BURST as f64);
    // A clock that went backwards (wall clock reset), or a timestamp in the
    // future, counts as no time passed.
    let elapsed = if now.is_finite() { (now - last).clamp(0.0, MAX_AGE_SECS) } else { 0.0 };
    let left = (tokens + elapsed * rate).min(JIT_BURST as f64) - n as f64;
    // `-left / rate` is at most MAX_DEBT_WAIT + n / rate: finite, non-negative.
    let wait = if left < 0.0 { Duration::from_secs_f64(-left / rate) } else { Duration::ZERO };
    (left, wait)
}

/// The stored bucket `tokens last`, or `None` for anything else (empty,
/// too long, not UTF-8, not two finite numbers): the caller starts afresh.
fn parse_bucket(bytes: &[u8]) -> Option<(f64, f64)> {
    if bytes.len() as u64 > MAX_BUCKET_BYTES {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let (t, l) = text.trim().split_once(' ')?;
    let (t, l) = (t.trim().parse::<f64>().ok()?, l.trim().parse::<f64>().ok()?);
    (t.is_finite() && l.is_finite()).then_some((t, l))
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The directory of the shared bucket for the effective uid, opened and
/// checked, or `None` when there is no place only this user can write.
fn bucket_dir() -> Option<std::fs::File> {
    let euid = euid();
    let path = if euid == 0 {
        std::path::PathBuf::from(ROOT_BUCKET_DIR)
    } else {
        let runtime = std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
        if !runtime.is_absolute() {
            return None;
        }
        runtime.join("seccheck")
    };
    trusted_dir(&path, euid)
}

/// `path` as a directory (created 0700 if missing) that only `euid` can
/// write, not reached through a link at its last component.
fn trusted_dir(path: &std::path::Path, euid: u32) -> Option<std::fs::File> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    // Already there is fine: what matters is what the open below finds.
    let _ = std::fs::DirBuilder::new().mode(0o700).create(path);
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    let m = dir.metadata().ok()?;
    (m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0).then_some(dir)
}

/// The bucket file, opened inside `dir` without following a link and
/// without blocking on a FIFO, and used only if it is a regular file of ours
/// that nobody else can write, with no other name.
fn bucket_file(dir: &std::fs::File) -> Option<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::fs::MetadataExt;
    let flags = libc::O_RDWR | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;
    // SAFETY: `dir` is an open directory descriptor and BUCKET_FILE a
    // NUL-terminated string, both alive for the call; the mode is an int.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), BUCKET_FILE.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just returned by openat and is owned by nobody else.
    let f = unsafe { std::fs::File::from_raw_fd(fd) };
    let m = f.metadata().ok()?;
    (m.is_file() && m.uid() == euid() && m.mode() & 0o022 == 0 && m.nlink() == 1).then_some(f)
}

/// Lock `f`, trying for at most [`LOCK_TIMEOUT`].
fn lock_briefly(f: &std::fs::File) -> bool {
    let start = Instant::now();
    loop {
        match f.try_lock() {
            Ok(()) => return true,
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => return false,
        }
    }
}

/// When this process last gave up waiting for the shared bucket's lock.
static GAVE_UP: Mutex<Option<Instant>> = Mutex::new(None);

fn shared_take(n: u32) -> Option<Duration> {
    take_shared_in(&bucket_dir()?, n)
}

/// One step of the bucket in `dir`, or `None` to pace alone.
fn take_shared_in(dir: &std::fs::File, n: u32) -> Option<Duration> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    if GAVE_UP.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() < LOCK_BACKOFF) {
        return None;
    }
    let f = bucket_file(dir)?;
    if !lock_briefly(&f) {
        *GAVE_UP.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        return None;
    }
    let mut bytes = Vec::new();
    (&f).take(MAX_BUCKET_BYTES + 1).read_to_end(&mut bytes).ok()?;
    // Wall-clock seconds: the only clock every process reads alike.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    let (tokens, last) = parse_bucket(&bytes).unwrap_or((JIT_BURST as f64, now));
    let (left, wait) = take(tokens, last, now, n);
    let line = format!("{left} {now}");
    f.write_all_at(line.as_bytes(), 0).ok()?;
    f.set_len(line.len() as u64).ok()?;
    // The lock is released when `f` is closed.
    Some(wait)
}

fn local_take(n: u32) -> Duration {
    static BUCKET: Mutex<Option<(f64, Instant)>> = Mutex::new(None);
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    let mut b = BUCKET.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let (tokens, last) = b.unwrap_or((JIT_BURST as f64, now));
    let secs = |t: Instant| t.duration_since(start).as_secs_f64();
    let (left, wait) = take(tokens, secs(last), secs(now), n);
    *b = Some((left, now));
    wait
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_step_refills_at_the_rate_and_caps_at_the_burst() {
        // 50 ms at 400/s refills 20 tokens, below the burst cap.
        let (left, wait) = take(0.0, 10.0, 10.05, 1);
        assert!((left - (0.05 * JIT_PER_SECOND as f64 - 1.0)).abs() < 1e-6, "{left}");
        assert_eq!(wait, Duration::ZERO);
        let (left, _) = take(0.0, 0.0, 1e6, 0);
        assert_eq!(left, JIT_BURST as f64);
        let (left, wait) = take(-10.0, 5.0, 4.0, 10);
        assert_eq!(left, -20.0, "a clock going backwards adds nothing");
        assert_eq!(wait, Duration::from_secs_f64(20.0 / JIT_PER_SECOND as f64));
    }

    /// The wait [`take`] may impose for `n`, whatever the stored state.
    fn bound(n: u32) -> Duration {
        MAX_DEBT_WAIT + Duration::from_secs_f64(n as f64 / JIT_PER_SECOND as f64)
    }

    #[test]
    fn hostile_bucket_contents_cost_a_bounded_wait_and_never_a_panic() {
        // Contents that once caused a panic in Duration::from_secs_f64 and a
        // 10 000 s sleep.
        for text in ["-1e300 0", "-4000000 1e18", "NaN NaN", "inf -inf", "1e308 -1e308", "-0 1e300", "50 -1e300"] {
            let now = 1.7e9;
            let (tokens, last) = parse_bucket(text.as_bytes()).unwrap_or((JIT_BURST as f64, now));
            let (left, wait) = take(tokens, last, now, 1);
            assert!(wait <= bound(1), "{text}: {wait:?}");
            assert!(left.is_finite() && left <= JIT_BURST as f64, "{text}: {left}");
        }
        assert_eq!(parse_bucket(b"-4000000 1e18"), Some((-4_000_000.0, 1e18)));
        assert_eq!(parse_bucket(b"NaN 1"), None);
        assert_eq!(parse_bucket(&[b'1'; 65]), None, "longer than any bucket we write");
        assert_eq!(parse_bucket(b"\xff\xfe 1"), None);
        // What shared_take writes reads back as written.
        assert_eq!(parse_bucket(format!("{} {}", -3.25, 1.7e9).as_bytes()), Some((-3.25, 1.7e9)));
    }

    proptest::proptest! {
        #[test]
        fn any_bucket_text_parses_or_is_refused_and_waits_boundedly(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            text in "[-+0-9.eEnaNiIf ]{0,40}",
            n in 0u32..2000,
            now in 0.0f64..4e9,
        ) {
            for b in [bytes.as_slice(), text.as_bytes()] {
                let (tokens, last) = parse_bucket(b).unwrap_or((JIT_BURST as f64, now));
                let (left, wait) = take(tokens, last, now, n);
                proptest::prop_assert!(wait <= bound(n), "{wait:?} for {b:?}");
                proptest::prop_assert!(left.is_finite() && left <= JIT_BURST as f64);
            }
        }

        #[test]
        fn any_stored_numbers_wait_boundedly(tokens in proptest::num::f64::ANY, last in proptest::num::f64::ANY, now in proptest::num::f64::ANY, n in 0u32..100_000) {
            let (_, wait) = take(tokens, last, now, n);
            proptest::prop_assert!(wait <= bound(n), "{wait:?}");
        }
    }

    /// Who owns what in a scratch bucket directory, and what it holds.
    fn snapshot(p: &std::path::Path) -> (u32, u32, Vec<u8>, std::time::SystemTime) {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(p).unwrap();
        let content = if m.is_file() { std::fs::read(p).unwrap() } else { Vec::new() };
        (m.uid(), m.mode(), content, m.modified().unwrap())
    }

    #[test]
    fn only_a_private_regular_file_of_ours_is_used_as_the_bucket() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let scratch = tempfile::tempdir().unwrap();
        let sentinel = scratch.path().join("sentinel");
        std::fs::write(&sentinel, "keep me\n").unwrap();
        let euid = euid();
        let plant = |what: &str| -> std::path::PathBuf {
            let d = scratch.path().join(what);
            std::fs::create_dir(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
            let f = d.join("jit-pace");
            match what {
                "symlink" => std::os::unix::fs::symlink(&sentinel, &f).unwrap(),
                "dangling" => std::os::unix::fs::symlink(scratch.path().join("created-through-link"), &f).unwrap(),
                "fifo" => assert!(std::process::Command::new("mkfifo").arg(&f).status().unwrap().success()),
                "hardlink" => std::fs::hard_link(&sentinel, &f).unwrap(),
                "group-writable" => {
                    std::fs::write(&f, "1 2").unwrap();
                    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o620)).unwrap();
                }
                "foreign" => {
                    std::fs::write(&f, "1 2").unwrap();
                    std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
                }
                "directory" => std::fs::create_dir(&f).unwrap(),
                _ => unreachable!(),
            }
            f
        };
        for what in ["symlink", "dangling", "fifo", "hardlink", "group-writable", "foreign", "directory"] {
            let f = plant(what);
            let before = snapshot(&f);
            let sentinel_before = snapshot(&sentinel);
            let dir = trusted_dir(f.parent().unwrap(), euid).expect("a private directory of ours is trusted");
            assert!(bucket_file(&dir).is_none(), "{what} was used as the bucket");
            assert_eq!(snapshot(&f), before, "{what} was changed");
            assert_eq!(snapshot(&sentinel), sentinel_before, "{what}: the sentinel was changed");
        }
        assert!(!scratch.path().join("created-through-link").exists());
        // The directory itself: a link to a good one, another user's, or writable by others.
        let good = scratch.path().join("good");
        std::fs::create_dir(&good).unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o700)).unwrap();
        let f = bucket_file(&trusted_dir(&good, euid).unwrap()).expect("a fresh bucket in a private directory");
        assert_eq!(f.metadata().unwrap().mode() & 0o777, 0o600);
        let link = scratch.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert!(trusted_dir(&link, euid).is_none(), "a link to a directory");
        assert!(trusted_dir(&good, euid + 1).is_none(), "another user's directory");
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(trusted_dir(&good, euid).is_none(), "a world-writable directory");
        let fresh = scratch.path().join("fresh");
        assert!(trusted_dir(&fresh, euid).is_some());
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_held_lock_is_waited_for_briefly_then_given_up() {
        let d = tempfile::tempdir().unwrap();
        let a = std::fs::File::create(d.path().join("f")).unwrap();
        let b = std::fs::File::open(d.path().join("f")).unwrap();
        a.lock().unwrap();
        let t = Instant::now();
        assert!(!lock_briefly(&b));
        let waited = t.elapsed();
        assert!(waited >= LOCK_TIMEOUT, "{waited:?}");
        a.unlock().unwrap();
        assert!(lock_briefly(&b));
    }

    #[test]
    fn a_lock_held_for_good_costs_one_timeout_per_backoff_period() {
        let d = tempfile::tempdir().unwrap();
        let dir = trusted_dir(d.path(), euid()).unwrap();
        assert!(take_shared_in(&dir, 1).is_some(), "a fresh bucket");
        let holder = std::fs::File::open(d.path().join("jit-pace")).unwrap();
        holder.lock().unwrap();
        let t = Instant::now();
        assert_eq!(take_shared_in(&dir, 1), None);
        assert!(t.elapsed() >= LOCK_TIMEOUT, "{:?}", t.elapsed());
        let t = Instant::now();
        for _ in 0..20 {
            assert_eq!(take_shared_in(&dir, 1), None);
        }
        // Twenty more tries within the backoff cost far less than one timeout.
        assert!(t.elapsed() < LOCK_TIMEOUT / 2, "{:?}", t.elapsed());
        *GAVE_UP.lock().unwrap() = None;
        holder.unlock().unwrap();
        assert!(take_shared_in(&dir, 1).is_some());
    }

    #[test]
    fn pace_limits_the_rate() {
        let t = Instant::now();
        for _ in 0..(JIT_BURST + JIT_PER_SECOND / 2) {
            pace(1);
        }
        // The burst passes at once; the rest drain at JIT_PER_SECOND.
        assert!(t.elapsed() >= Duration::from_millis(450), "{:?}", t.elapsed());
    }

    fn fake_proc(blocked: usize, other: usize) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for i in 0..blocked + other {
            let p = d.path().join((100 + i).to_string());
            std::fs::create_dir(&p).unwrap();
            let (wchan, state) = if i < blocked { ("bpf_prog_pack_free", "D") } else { ("do_wait", "S") };
            std::fs::write(p.join("wchan"), wchan).unwrap();
            std::fs::write(p.join("stat"), format!("{} (kworker/0:1 x) {state} 2 0 0", 100 + i)).unwrap();
        }
        std::fs::create_dir(d.path().join("self")).unwrap();
        d
    }

    #[test]
    fn a_pile_of_tasks_blocked_in_the_jit_allocator_means_unavailable() {
        let d = fake_proc(40, 5);
        let e = check_in(d.path()).unwrap_err();
        assert_eq!(e.blocked, 40);
        assert!(e.to_string().contains("bpf_prog_pack_free"), "{e}");
        assert_eq!(check_in(fake_proc(3, 50).path()), Ok(()));
    }
}
