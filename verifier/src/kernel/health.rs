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
//! - [`pace`] rate-limits JIT compilations process-wide (every code path that
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

/// Most BPF JIT compilations (filter installs, accepted validations) this
/// process starts per second.
pub const JIT_PER_SECOND: u32 = 400;
/// Compilations allowed in one burst before pacing starts.
pub const JIT_BURST: u32 = 50;

/// Take `n` JIT compilations from the process-wide token bucket, sleeping as
/// needed. Every code path that makes the kernel compile a filter calls it.
pub fn pace(n: u32) {
    static BUCKET: Mutex<Option<(f64, Instant)>> = Mutex::new(None);
    let wait = {
        let mut b = BUCKET.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, last) = b.unwrap_or((JIT_BURST as f64, now));
        let refill = (tokens + now.duration_since(last).as_secs_f64() * JIT_PER_SECOND as f64).min(JIT_BURST as f64);
        let left = refill - n as f64;
        *b = Some((left, now));
        if left < 0.0 {
            Duration::from_secs_f64(-left / JIT_PER_SECOND as f64)
        } else {
            Duration::ZERO
        }
    };
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
