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

/// The token bucket shared by every seccheck process on the machine: the
/// deadlock above is a property of the machine's workqueue, so a per-process
/// limit lets N parallel test binaries (or a test run beside `seccheck bench`)
/// reach N times the safe rate. tmpfs, so it never touches a disk and is gone
/// after the reboot that a deadlock needs anyway.
const SHARED_BUCKET: &str = "/dev/shm/seccheck-jit-pace";

/// Take `n` JIT compilations from the machine-wide token bucket, sleeping as
/// needed. Every code path that makes the kernel compile a filter calls it.
/// Where the shared file cannot be used (no `/dev/shm`, read-only), a bucket
/// of this process alone paces instead.
pub fn pace(n: u32) {
    let wait = shared_take(n).unwrap_or_else(|| local_take(n));
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
}

/// One bucket step: `tokens` left at time `last` (seconds), `n` taken at `now`.
/// Returns the new level and how long the caller must wait before its
/// compilations may start.
fn take(tokens: f64, last: f64, now: f64, n: u32) -> (f64, Duration) {
    // A clock that went backwards (wall clock reset) counts as no time passed.
    let elapsed = (now - last).max(0.0);
    let left = (tokens + elapsed * JIT_PER_SECOND as f64).min(JIT_BURST as f64) - n as f64;
    let wait = if left < 0.0 { Duration::from_secs_f64(-left / JIT_PER_SECOND as f64) } else { Duration::ZERO };
    (left, wait)
}

fn shared_take(n: u32) -> Option<Duration> {
    use std::io::{Read, Seek, Write};
    let mut f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(SHARED_BUCKET).ok()?;
    f.lock().ok()?;
    let mut text = String::new();
    f.read_to_string(&mut text).ok()?;
    // Wall-clock seconds: the only clock every process reads alike.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    let (tokens, last) = text
        .split_once(' ')
        .and_then(|(t, l)| Some((t.trim().parse::<f64>().ok()?, l.trim().parse::<f64>().ok()?)))
        .filter(|(t, l)| t.is_finite() && l.is_finite())
        .unwrap_or((JIT_BURST as f64, now));
    let (left, wait) = take(tokens, last, now, n);
    f.set_len(0).ok()?;
    f.rewind().ok()?;
    write!(f, "{left} {now}").ok()?;
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
