//! What every forked child does first after the fork, written once.
//!
//! The oracle's children ([`super::accepts`], [`super::Validator`],
//! [`super::attach_stack`], the probe's children) and the children of
//! `readback`, `overhead` and `supervise` are forked from a possibly
//! multi-threaded process, so until they die (or exec) they may only run
//! async-signal-safe code: raw system calls (`sys.rs`) on memory prepared
//! before the fork, no allocation, no locks, no `std` I/O. Each sets itself
//! up from the same steps, in this order: [`child_hygiene`], then
//! [`lock_down`] (not dumpable, no new privileges, as
//! `seccomp_set_mode_filter` requires of an unprivileged caller,
//! kernel/seccomp.c) or [`no_new_privs`] alone, then [`set_filter`].
//! `supervise` takes the last two only (the command it runs keeps its core
//! limit and signal dispositions), `isolate`'s children the hygiene only.
//! The oracle's children report a failed step through the [`SetupReport`]
//! in the page they share with the parent ([`SetupReport::fail`]); the
//! others through their own channel (an exit code, their own shared page).

use super::sys::*;
use super::OracleError;
use crate::uapi::SECCOMP_SET_MODE_FILTER;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// Exit code of a child whose setup failed (details in shared memory).
pub(super) const EXIT_SETUP_FAILED: i32 = 0x53;

/// Setup steps of every oracle child, by index (for error messages).
pub(super) const SETUP_STEPS: &[&str] = &[
    "set PR_SET_PDEATHSIG",
    "outlive its parent",
    "limit core dumps (RLIMIT_CORE)",
    "clear its signal mask",
    "reset signal dispositions",
    "set PR_SET_DUMPABLE to 0",
    "set PR_SET_NO_NEW_PRIVS",
    "install the listener filter",
    "record its thread id",
    "start a helper thread",
];
pub(super) const STEP_DUMPABLE: u32 = 5;
pub(super) const STEP_NNP: u32 = 6;
pub(super) const STEP_LISTENER: u32 = 7;
pub(super) const STEP_TID: u32 = 8;
pub(super) const STEP_THREAD: u32 = 9;

/// A failed setup step (an index of [`SETUP_STEPS`], or a caller's own beyond
/// them) and its errno.
pub(super) type StepError = (u32, i64);

/// Setup failure as reported by the child.
#[repr(C)]
#[derive(Default)]
pub(super) struct SetupReport {
    pub step: AtomicU32,
    pub errno: AtomicI64,
}

impl SetupReport {
    /// In the parent: the failure the child recorded.
    pub fn error(&self) -> OracleError {
        let step = self.step.load(Ordering::Acquire) as usize;
        OracleError::ChildSetup {
            step: SETUP_STEPS.get(step).copied().unwrap_or("set itself up"),
            errno: self.errno.load(Ordering::Acquire),
        }
    }

    /// In the child: record the failed step, publish `failed` in the child's
    /// `state` word (waking a parent that sleeps on it) and exit with
    /// [`EXIT_SETUP_FAILED`]. Async-signal-safe.
    pub fn fail(&self, state: &AtomicU32, failed: u32, (step, errno): StepError) -> ! {
        self.step.store(step, Ordering::Release);
        self.errno.store(errno, Ordering::Release);
        state.store(failed, Ordering::Release);
        // SAFETY: a futex word in the shared mapping, which outlives the child;
        // a wake with no waiter does nothing.
        unsafe { futex_wake(state as *const AtomicU32 as *const u32) };
        exit_group(EXIT_SETUP_FAILED as u64)
    }
}

/// `Err((step, errno))` for a raw system call result `r` (`-errno` on failure).
fn check(step: u32, r: i64) -> Result<(), StepError> {
    if r < 0 {
        Err((step, -r))
    } else {
        Ok(())
    }
}

/// Common hygiene of every oracle child, before anything else: die with the
/// parent thread, never dump core (core_pattern may be a plain file), and
/// start from an empty signal mask with default dispositions for the signals
/// the oracle relies on (a fork inherits the test process's handlers).
/// Returns the failed step and errno.
///
/// Async-signal-safe: raw system calls only.
pub(super) fn child_hygiene(parent: i64) -> Result<(), StepError> {
    // SAFETY: plain system calls on this process (all below) with
    // pointers to locals that outlive them.
    unsafe {
        check(0, syscall6(SYS_PRCTL, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0))?;
        // If the parent already died, PDEATHSIG will never fire.
        if syscall6(SYS_GETPPID, 0, 0, 0, 0, 0, 0) != parent {
            return Err((1, 3 /* ESRCH */));
        }
        let zero = [0u64; 2];
        check(2, syscall6(SYS_PRLIMIT64, 0, RLIMIT_CORE, zero.as_ptr() as u64, 0, 0, 0))?;
        let empty_mask = 0u64;
        check(3, syscall6(SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, &empty_mask as *const u64 as u64, 0, 8, 0, 0))?;
        // struct kernel_sigaction { handler, flags, restorer, mask }: SIG_DFL.
        let dfl = [0u64; 4];
        for sig in [SIGILL, SIGTRAP as u64, SIGSYS as u64, 11 /* SIGSEGV */, 7 /* SIGBUS */] {
            check(4, syscall6(SYS_RT_SIGACTION, sig, dfl.as_ptr() as u64, 0, 8, 0, 0))?;
        }
    }
    Ok(())
}

/// The last steps before a filter: `PR_SET_DUMPABLE` 0 (a filter that kills
/// leaves no core dump; a tracer must already be attached, as the probe's is)
/// and [`no_new_privs`]. Async-signal-safe.
pub(super) fn lock_down() -> Result<(), StepError> {
    // SAFETY: prctl on this process, no pointers.
    check(STEP_DUMPABLE, unsafe { syscall6(SYS_PRCTL, PR_SET_DUMPABLE, 0, 0, 0, 0, 0) })?;
    check(STEP_NNP, no_new_privs())
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`, which lets a process without
/// `CAP_SYS_ADMIN` install a filter: the raw result. Async-signal-safe.
pub(super) fn no_new_privs() -> i64 {
    // SAFETY: prctl on this process, no pointers.
    unsafe { syscall6(SYS_PRCTL, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, fprog)` through `syscall`: the
/// raw result (a listener fd or 0, `-errno` on failure). Async-signal-safe.
///
/// # Safety
/// `fprog` points to a `struct sock_fprog` whose instructions are readable;
/// once a filter is installed every later system call of this process meets it.
pub(super) unsafe fn set_filter(flags: u32, fprog: *const SockFprog) -> i64 {
    // SAFETY: the kernel only reads `*fprog` and the instructions it points to
    // (the caller's contract).
    unsafe { syscall3(SYS_SECCOMP, u64::from(SECCOMP_SET_MODE_FILTER), u64::from(flags), fprog as u64) }
}
