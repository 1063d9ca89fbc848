//! Run a command under a seccomp filter: either a *recording* filter whose every
//! system call is reported to us and then continued, or a profile's compiled
//! filter (the kernel enforcing it). The unsafe half of `seccheck record` and
//! `seccheck run`; the aggregation and everything else is in `crate::record`.
//!
//! ## Why seccomp user notification, not ptrace
//!
//! The recording filter is `ret SECCOMP_RET_USER_NOTIF` for every input,
//! installed with `SECCOMP_FILTER_FLAG_NEW_LISTENER`; the supervisor (this
//! process) answers every notification with `SECCOMP_USER_NOTIF_FLAG_CONTINUE`,
//! so the call then runs as if no filter existed (`seccomp_do_user_notification`
//! returns 0 for a CONTINUE response and `__seccomp_filter` lets the call
//! proceed, kernel/seccomp.c). Against `PTRACE_O_TRACESECCOMP` +
//! `SECCOMP_RET_TRACE`:
//!
//! * **Coverage is the kernel's, not ours.** Filters are inherited by every
//!   thread and child (`copy_seccomp` in kernel/fork.c) and survive `execve`;
//!   a tracer has to follow `PTRACE_O_TRACECLONE/FORK/VFORK/EXEC` events and
//!   races new tasks (a task created before the tracer attached to it runs
//!   untraced until it stops).
//! * **The notification carries exactly `struct seccomp_data`**: `nr`, `arch`
//!   (so an `int 0x80` call from a 64-bit program arrives as
//!   `AUDIT_ARCH_I386` and an x32 call with `__X32_SYSCALL_BIT` in `nr`),
//!   `instruction_pointer` and all six argument registers, filled by
//!   `populate_seccomp_data` — the same input a profile's filter will see. No
//!   register reading, no per-arch register maps.
//! * **The command is not a tracee**: it can still use ptrace itself (a
//!   debugger, `strace`, a sandbox that traces), which a ptrace-based recorder
//!   forbids (one tracer per task).
//! * Cost: each call is two context switches to the supervisor and back (the
//!   `SECCOMP_IOCTL_NOTIF_RECV`/`SEND` pair); ptrace stops cost the same two,
//!   plus the register reads. Measured numbers are in the README.
//!
//! Limits of the mechanism, stated rather than hidden: a command that installs
//! its own filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER` gets `EBUSY` (one
//! listener per filter chain, `has_duplicate_listener`); a system call
//! interrupted by a signal while it waits for us is re-notified when it
//! restarts, so it may be counted twice.
//!
//! ## Setting it up without deadlocks
//!
//! The filter has to be installed by the command's own process before
//! `execve` (only a task can install a filter on itself), and from then on
//! *every* system call of that process waits for a supervisor. So:
//!
//! 1. The supervisor must not be under the filter: a task that waits for its
//!    own notifications never gets them. The supervisor is this process; the
//!    filter is installed in a grandchild.
//! 2. Between installing the filter and `execve` the child makes no system
//!    call at all: it writes the listener's fd number into shared memory
//!    (plain stores) and calls `execve`, which blocks until the supervisor has
//!    taken the listener with `pidfd_getfd(2)` (it needs no cooperation from the
//!    blocked child) and continued it. A child that signalled "ready" with a
//!    futex wake or a socket write would wait forever for a supervisor that
//!    waits for that very signal. The listener fd is `O_CLOEXEC`
//!    (`get_unused_fd_flags(O_CLOEXEC)` in `seccomp_set_mode_filter`), so the
//!    command never holds it.
//! 3. The end of the run is "every task that holds the filter is gone". An
//!    intermediate *reaper* process (not filtered) makes itself a child
//!    subreaper (`PR_SET_CHILD_SUBREAPER`), forks the command and reaps every
//!    descendant, including daemonised grandchildren reparented to it; it
//!    exits when `wait4` reports `ECHILD`. Its pidfd becoming readable ends the
//!    supervisor's loop. Like `strace -f`, the recorder therefore waits for
//!    background processes the command leaves behind.
//! 4. Signals: SIGINT/SIGQUIT from the terminal reach the whole foreground
//!    process group, the command included; the supervisor and the reaper block
//!    them (read through a `signalfd`) so they keep serving the command while it
//!    handles them. A SIGINT/SIGTERM/SIGHUP/SIGQUIT *sent* to seccheck
//!    (`si_code <= 0`: `kill`, `sigqueue`, `tgkill`) is forwarded to the command.
//!    The command starts with the signal mask seccheck had before.
//!
//! Forked children may only use raw system calls on memory prepared before
//! the fork (the parent may be multi-threaded): everything they run is in
//! `reaper` and `target` below.

use super::command::CommandSpec;
use super::health;
use super::prologue::{no_new_privs, set_filter};
use super::sys::{self, *};
use super::validate::own_pid;
use crate::bpf::Program;
use crate::uapi::{
    SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND, SECCOMP_RET_USER_NOTIF,
    SECCOMP_USER_NOTIF_FLAG_CONTINUE,
};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::time::{Duration, Instant};

// arch/x86/entry/syscalls/syscall_64.tbl
const SYS_CLOSE: u64 = 3;
const SYS_DUP2: u64 = 33;
const SYS_POLL: u64 = 7;
const SYS_READ: u64 = 0;
const SYS_NANOSLEEP: u64 = 35;
const SYS_EXECVE: u64 = 59;
const SYS_SIGNALFD4: u64 = 289;
const SYS_PIDFD_OPEN: u64 = 434;
const SYS_PIDFD_GETFD: u64 = 438;
// include/uapi/linux/prctl.h
const PR_SET_CHILD_SUBREAPER: u64 = 36;
// include/uapi/asm-generic/poll.h
const POLLIN: i16 = 0x1;
const POLLHUP: i16 = 0x10;
// include/uapi/asm-generic/signal.h
const SIGHUP: u64 = 1;
const SIGINT: u64 = 2;
const SIGQUIT: u64 = 3;
const SIGTERM: u64 = 15;
const ECHILD: i64 = 10;
const ENOENT: i64 = 2;
// include/uapi/linux/signalfd.h (SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK)
const SFD_FLAGS: u64 = 0o2000000 | 0o4000;

/// Exit code of the command's process when setting up its filter failed.
const EXIT_SETUP: u64 = 126;
/// Exit code of the command's process when `execve` failed.
const EXIT_EXEC: u64 = 127;

const STATE_STARTING: u32 = 0;
const STATE_LISTENER: u32 = 1;
const STATE_FILTERED: u32 = 2;
const STATE_SETUP_FAILED: u32 = 3;
const STATE_EXEC_FAILED: u32 = 4;

/// The steps of the command's setup, for error messages.
const STEPS: &[&str] = &[
    "become a child subreaper (prctl PR_SET_CHILD_SUBREAPER)",
    "fork the command",
    "restore the signal mask",
    "set no_new_privs (prctl PR_SET_NO_NEW_PRIVS)",
    "install the filter (seccomp SECCOMP_SET_MODE_FILTER)",
    "execute the command (execve)",
    "die with seccheck (prctl PR_SET_PDEATHSIG)",
    "put its standard streams on /dev/null (dup2)",
];
const STEP_SUBREAPER: u32 = 0;
const STEP_FORK: u32 = 1;
const STEP_SIGMASK: u32 = 2;
const STEP_NNP: u32 = 3;
const STEP_FILTER: u32 = 4;
const STEP_EXEC: u32 = 5;
const STEP_PDEATHSIG: u32 = 6;
const STEP_STDIO: u32 = 7;

/// One system call as the recording filter saw it: exactly `struct
/// seccomp_data` plus the calling task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallEvent {
    /// Thread id in seccheck's pid namespace.
    pub tid: u32,
    pub arch: u32,
    pub nr: i32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// The status a shell would report: the code, or 128 + the signal.
    pub fn shell_status(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

/// Why the command could not be run as asked.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RunError {
    #[error("recording runs only on Linux x86-64")]
    Unsupported,
    #[error("{what} failed: errno {errno}")]
    Sys { what: &'static str, errno: i64 },
    #[error("the command's process could not {step}: errno {errno}")]
    Setup { step: &'static str, errno: i64 },
    #[error("{path}: cannot execute: errno {errno} ({})", describe_exec_errno(*.errno))]
    Exec { path: String, errno: i64 },
    #[error("{0}")]
    Unavailable(#[from] health::KernelUnavailable),
    #[error("the command's processes ended without reporting the command's exit status")]
    NoStatus,
    /// `seccomp(2)` refused the filter with ENOMEM: the path length check,
    /// explained with the totals ([`super::path::explain`]).
    #[error("{0}")]
    PathTooLong(String),
}

fn describe_exec_errno(e: i64) -> &'static str {
    match e {
        1 => "EPERM: the filter denies execve, or no_new_privs forbids it",
        2 => "ENOENT: no such file",
        8 => "ENOEXEC: not an executable format the kernel knows",
        13 => "EACCES: permission denied",
        _ => "see execve(2)",
    }
}

/// The filter the command runs under.
#[derive(Clone, Copy, Debug)]
enum Mode<'a> {
    /// `ret USER_NOTIF` with a listener: record every call.
    Notify,
    /// A profile's program, installed with these `SECCOMP_FILTER_FLAG_*` bits.
    Enforce { program: &'a Program, flags: u32 },
    /// No filter: the same processes and steps otherwise (the baseline `bench --command` times against).
    Unfiltered,
}

#[repr(C)]
#[derive(Default)]
struct Shared {
    state: AtomicU32,
    step: AtomicU32,
    errno: AtomicI64,
    target_pid: AtomicI32,
    listener_fd: AtomicI32,
    target_status: AtomicI32,
    target_reaped: AtomicU32,
}

/// Everything the forked processes use, prepared before the fork.
#[derive(Clone, Copy)]
struct Plan {
    shared: *const Shared,
    parent: i64,
    path: *const i8,
    argv: *const *const i8,
    envp: *const *const i8,
    /// Null: install no filter.
    fprog: *const SockFprog,
    flags: u32,
    notify: bool,
    orig_mask: u64,
    /// A descriptor to put on 0, 1 and 2 before `execve`, or -1 to keep seccheck's.
    stdio: i64,
}

/// Run `cmd` with every system call of every task it creates reported to
/// `on_call` (after the call was allowed to continue). Returns how the
/// command ended and how many calls were reported.
pub fn record(cmd: &CommandSpec, on_call: &mut dyn FnMut(&SyscallEvent)) -> Result<Exit, RunError> {
    run(cmd, Mode::Notify, None, on_call).map(|(exit, _, _)| exit)
}

/// Run `cmd` under `program` (installed with `flags`, `SECCOMP_FILTER_FLAG_*`)
/// and return how it ended and the command's pid (to find the kernel's audit
/// record of a kill, see [`super::audit`]). The kernel enforces the filter:
/// nothing is reported, nothing is continued.
pub fn enforce(cmd: &CommandSpec, program: &Program, flags: u32) -> Result<(Exit, i32), RunError> {
    run(cmd, Mode::Enforce { program, flags }, None, &mut |_| {}).map(|(exit, _, pid)| (exit, pid))
}

/// Run `cmd` under `filter` (a program and its `SECCOMP_FILTER_FLAG_*` bits,
/// installed exactly as [`enforce`] does) or, with `None`, under no filter,
/// with its standard streams on `/dev/null`, and time it end to end: from the
/// fork of the reaper to the reaping of the command's last process. Both
/// cases set `no_new_privs` and take the same steps, so the filter (its
/// installation, which compiles it, and its runs on every call) is the only
/// difference. JIT pacing ([`health::pace`]) happens before the clock starts.
pub fn time_command(cmd: &CommandSpec, filter: Option<(&Program, u32)>) -> Result<(Exit, Duration), RunError> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| RunError::Sys { what: "open /dev/null", errno: i64::from(e.raw_os_error().unwrap_or(0)) })?;
    let mode = match filter {
        Some((program, flags)) => Mode::Enforce { program, flags },
        None => Mode::Unfiltered,
    };
    run(cmd, mode, Some(null.as_raw_fd()), &mut |_| {}).map(|(exit, took, _)| (exit, took))
}

fn sys_err(what: &'static str, r: i64) -> Result<i64, RunError> {
    if r < 0 {
        Err(RunError::Sys { what, errno: -r })
    } else {
        Ok(r)
    }
}

/// Block the signals the supervisor reads from its signalfd; returns the old mask.
fn block_signals(set: u64) -> Result<u64, RunError> {
    let mut old = 0u64;
    // SAFETY: both pointers are to locals that outlive the call; 8 = sizeof(sigset_t) for the kernel.
    let r = unsafe {
        syscall6(
            SYS_RT_SIGPROCMASK,
            0, /* SIG_BLOCK */
            &set as *const u64 as u64,
            &mut old as *mut u64 as u64,
            8,
            0,
            0,
        )
    };
    sys_err("rt_sigprocmask", r)?;
    Ok(old)
}

fn set_mask(mask: u64) {
    // SAFETY: the pointer is to a local that outlives the call; 8 = sizeof(sigset_t) for the kernel.
    unsafe {
        syscall6(SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, &mask as *const u64 as u64, 0, 8, 0, 0);
    }
}

fn close(fd: i64) {
    // SAFETY: `fd` is a descriptor this function's caller owns.
    unsafe {
        syscall6(SYS_CLOSE, fd as u64, 0, 0, 0, 0, 0);
    }
}

fn sig_bit(sig: u64) -> u64 {
    1 << (sig - 1)
}

fn run(
    cmd: &CommandSpec,
    mode: Mode,
    stdio: Option<i32>,
    on_call: &mut dyn FnMut(&SyscallEvent),
) -> Result<(Exit, Duration, i32), RunError> {
    health::check()?;
    // The recording filter: one instruction.
    let notify_prog =
        [crate::bpf::Insn::stmt(crate::bpf::insn::BPF_RET | crate::bpf::insn::BPF_K, SECCOMP_RET_USER_NOTIF)];
    let installed = match mode {
        Mode::Notify => crate::bpf::Program::new(notify_prog.to_vec()),
        Mode::Enforce { program, .. } => program.clone(),
        Mode::Unfiltered => crate::bpf::Program::new(Vec::new()),
    };
    let insns: Vec<u8> = installed.to_bytes();
    let fprog = SockFprog { len: (insns.len() / 8) as u16, filter: insns.as_ptr() as u64 };
    let flags = match mode {
        Mode::Notify => SECCOMP_FILTER_FLAG_NEW_LISTENER,
        Mode::Enforce { flags, .. } => flags,
        Mode::Unfiltered => 0,
    };
    let mut argv: Vec<*const i8> = cmd.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const i8> = cmd.env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let shared = Mapping::new(std::mem::size_of::<Shared>(), true, false)
        .map_err(|errno| RunError::Sys { what: "mmap", errno })?;
    let sh_ptr = shared.addr as *const Shared;
    // SAFETY: the mapping is zeroed and sized for a Shared (atomics and integers).
    let sh = unsafe { &*sh_ptr };
    // The kernel JIT-compiles the one filter the command's process installs.
    // Paced before the signals are blocked: pacing may sleep (boundedly, see
    // health::pace), and SIGINT/SIGTERM must end us meanwhile as usual.
    if !matches!(mode, Mode::Unfiltered) {
        health::pace(1);
    }
    let signals = sig_bit(SIGINT) | sig_bit(SIGTERM) | sig_bit(SIGHUP) | sig_bit(SIGQUIT);
    let orig_mask = block_signals(signals)?;
    let plan = Plan {
        shared: sh_ptr,
        parent: own_pid(),
        path: cmd.path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        fprog: if matches!(mode, Mode::Unfiltered) { std::ptr::null() } else { &fprog },
        flags,
        notify: matches!(mode, Mode::Notify),
        orig_mask,
        stdio: stdio.map_or(-1, i64::from),
    };
    let start = Instant::now();
    let result = supervise(&plan, sh, on_call);
    let elapsed = start.elapsed();
    set_mask(orig_mask);
    result.and_then(|()| {
        if sh.state.load(Ordering::Acquire) == STATE_SETUP_FAILED {
            let step = sh.step.load(Ordering::Acquire) as usize;
            let errno = sh.errno.load(Ordering::Acquire);
            if step == STEP_FILTER as usize && errno == super::path::ENOMEM {
                return Err(RunError::PathTooLong(super::path::explain(std::slice::from_ref(&installed), 0)));
            }
            return Err(RunError::Setup {
                step: STEPS.get(step).copied().unwrap_or("set itself up"),
                errno: sh.errno.load(Ordering::Acquire),
            });
        }
        if sh.state.load(Ordering::Acquire) == STATE_EXEC_FAILED {
            return Err(RunError::Exec {
                path: cmd.path.to_string_lossy().into_owned(),
                errno: sh.errno.load(Ordering::Acquire),
            });
        }
        if sh.target_reaped.load(Ordering::Acquire) == 0 {
            return Err(RunError::NoStatus);
        }
        let exit = match WaitStatus::from_raw(sh.target_status.load(Ordering::Acquire)) {
            WaitStatus::Exited(c) => Exit::Code(c),
            WaitStatus::Signaled(s) => Exit::Signal(s),
            _ => return Err(RunError::NoStatus),
        };
        Ok((exit, elapsed, sh.target_pid.load(Ordering::Acquire)))
    })
}

/// The parent's side: fork the reaper, take the listener, serve notifications
/// and forward signals until every process of the command is gone.
fn supervise(plan: &Plan, sh: &Shared, on_call: &mut dyn FnMut(&SyscallEvent)) -> Result<(), RunError> {
    let mut sigset = sig_bit(SIGINT) | sig_bit(SIGTERM) | sig_bit(SIGHUP) | sig_bit(SIGQUIT);
    // SAFETY: `sigset` outlives the call; 8 = sizeof(kernel sigset_t).
    let sfd = sys_err("signalfd4", unsafe {
        syscall6(SYS_SIGNALFD4, u64::MAX, &mut sigset as *mut u64 as u64, 8, SFD_FLAGS, 0, 0)
    })?;
    // SAFETY: the child runs only `reaper`: raw system calls on memory
    // prepared before the fork, never returning.
    let pid = unsafe { syscall6(SYS_CLONE, SIGCHLD, 0, 0, 0, 0, 0) };
    if pid < 0 {
        close(sfd);
        return Err(RunError::Sys { what: "fork", errno: -pid });
    }
    let pid = pid as i32;
    if pid == 0 {
        // SAFETY: `plan` is valid in the child's copy of our memory.
        unsafe { reaper(plan) }
    }
    let r = serve(pid, plan, sh, sfd, on_call);
    close(sfd);
    if r.is_err() {
        // Nobody serves the command any more: a task of it may be blocked in a
        // notification forever. End the command and the reaper.
        let target = sh.target_pid.load(Ordering::Acquire);
        // SAFETY: kill on our child and on the grandchild, neither reaped by us
        // (the reaper may have reaped the grandchild; then the pid is a zombie-free
        // number that nobody reused yet only if the reaper still lives, which
        // it does until we kill it below).
        unsafe {
            if target > 0 && sh.target_reaped.load(Ordering::Acquire) == 0 {
                syscall6(SYS_KILL, target as u64, SIGKILL, 0, 0, 0, 0);
            }
            syscall6(SYS_KILL, pid as u64, SIGKILL, 0, 0, 0, 0);
        }
    }
    // The reaper exits once every process of the command is reaped.
    let _ = sys::wait(pid, 0);
    r
}

fn serve(
    reaper_pid: i32,
    plan: &Plan,
    sh: &Shared,
    sfd: i64,
    on_call: &mut dyn FnMut(&SyscallEvent),
) -> Result<(), RunError> {
    // SAFETY: pidfd_open takes a pid and flags.
    let rfd = sys_err("pidfd_open", unsafe { syscall6(SYS_PIDFD_OPEN, reaper_pid as u64, 0, 0, 0, 0, 0) })?;
    let mut listener: i64 = -1;
    if plan.notify {
        // Wait for the listener fd number without any system call on the
        // child's side (see the module doc, point 2).
        loop {
            match sh.state.load(Ordering::Acquire) {
                STATE_STARTING => {}
                STATE_LISTENER => break,
                _ => {
                    close(rfd);
                    return Ok(());
                }
            }
            if let Ok(Some(_)) = sys::wait(reaper_pid, WNOHANG) {
                close(rfd);
                return Ok(());
            }
            let t = Timespec { sec: 0, nsec: 100_000 };
            // SAFETY: `t` outlives the call.
            unsafe { syscall6(SYS_NANOSLEEP, &t as *const Timespec as u64, 0, 0, 0, 0, 0) };
        }
        let target = sh.target_pid.load(Ordering::Acquire);
        // SAFETY: plain system calls on a pid and fd numbers.
        let tfd = sys_err("pidfd_open (command)", unsafe { syscall6(SYS_PIDFD_OPEN, target as u64, 0, 0, 0, 0, 0) });
        let tfd = match tfd {
            Ok(f) => f,
            Err(e) => {
                close(rfd);
                return Err(e);
            }
        };
        let fd_in_target = sh.listener_fd.load(Ordering::Acquire) as u64;
        // SAFETY: pidfd_getfd takes a pidfd and a descriptor number, no pointers.
        let l = unsafe { syscall6(SYS_PIDFD_GETFD, tfd as u64, fd_in_target, 0, 0, 0, 0) };
        close(tfd);
        if l < 0 {
            // The child is blocked in execve waiting for us: end it.
            // SAFETY: kill on our grandchild's pid (not reaped yet: it is blocked).
            unsafe { syscall6(SYS_KILL, target as u64, SIGKILL, 0, 0, 0, 0) };
            close(rfd);
            return Err(RunError::Sys { what: "pidfd_getfd (taking the seccomp listener)", errno: -l });
        }
        listener = l;
    }
    let r = serve_loop(rfd, listener, sfd, sh, on_call);
    if listener >= 0 {
        close(listener);
    }
    close(rfd);
    r
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

/// `struct signalfd_siginfo` (include/uapi/linux/signalfd.h): 128 bytes; we
/// read `ssi_signo` (offset 0) and `ssi_code` (offset 8).
#[repr(C)]
struct SignalfdSiginfo {
    signo: u32,
    errno: i32,
    code: i32,
    rest: [u32; 29],
}

fn serve_loop(
    rfd: i64,
    listener: i64,
    sfd: i64,
    sh: &Shared,
    on_call: &mut dyn FnMut(&SyscallEvent),
) -> Result<(), RunError> {
    let mut listener_open = listener >= 0;
    loop {
        let mut fds = [
            PollFd { fd: if listener_open { listener as i32 } else { -1 }, events: POLLIN, revents: 0 },
            PollFd { fd: sfd as i32, events: POLLIN, revents: 0 },
            PollFd { fd: rfd as i32, events: POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` is an array of 3 pollfd structs that outlives the call.
        let r = unsafe {
            syscall6(SYS_POLL, fds.as_mut_ptr() as u64, 3, u64::MAX /* -1: no timeout */, 0, 0, 0)
        };
        if r == -EINTR {
            continue;
        }
        sys_err("poll", r)?;
        if fds[0].revents & POLLIN != 0 {
            let mut n = SeccompNotif::default();
            // SAFETY: RECV writes one struct seccomp_notif, which must be zeroed on entry.
            let r = unsafe {
                syscall6(
                    SYS_IOCTL,
                    listener as u64,
                    SECCOMP_IOCTL_NOTIF_RECV,
                    &mut n as *mut SeccompNotif as u64,
                    0,
                    0,
                    0,
                )
            };
            if r == 0 {
                let resp = SeccompNotifResp { id: n.id, val: 0, error: 0, flags: SECCOMP_USER_NOTIF_FLAG_CONTINUE };
                // SAFETY: SEND reads one struct seccomp_notif_resp. ENOENT: the
                // task died or the call was interrupted meanwhile; nothing to answer.
                unsafe {
                    syscall6(
                        SYS_IOCTL,
                        listener as u64,
                        SECCOMP_IOCTL_NOTIF_SEND,
                        &resp as *const SeccompNotifResp as u64,
                        0,
                        0,
                        0,
                    )
                };
                on_call(&SyscallEvent {
                    tid: n.pid,
                    arch: n.arch,
                    nr: n.nr,
                    instruction_pointer: n.instruction_pointer,
                    args: n.args,
                });
            } else if r != -EINTR && r != -ENOENT {
                return sys_err("ioctl(SECCOMP_IOCTL_NOTIF_RECV)", r).map(|_| ());
            }
            continue;
        }
        if fds[0].revents & POLLHUP != 0 {
            // No task holds the filter any more.
            listener_open = false;
        }
        if fds[1].revents & POLLIN != 0 {
            let mut si = SignalfdSiginfo { signo: 0, errno: 0, code: 0, rest: [0; 29] };
            // SAFETY: reads at most one signalfd_siginfo into `si`.
            let r = unsafe { syscall6(SYS_READ, sfd as u64, &mut si as *mut SignalfdSiginfo as u64, 128, 0, 0, 0) };
            // Forward what was sent to seccheck; a terminal's signal (si_code
            // SI_KERNEL) already reached the whole process group.
            let target = sh.target_pid.load(Ordering::Acquire);
            if r == 128 && si.code <= 0 && target > 0 && sh.target_reaped.load(Ordering::Acquire) == 0 {
                // SAFETY: kill; the command is not reaped yet, so the pid is still its.
                unsafe { syscall6(SYS_KILL, target as u64, u64::from(si.signo), 0, 0, 0, 0) };
            }
        }
        if fds[2].revents & POLLIN != 0 {
            // The reaper exited after reaping every process of the command, so
            // no task holds the filter and no notification can be pending (a
            // pending one would have been served above first).
            return Ok(());
        }
    }
}

fn fail(sh: &Shared, state: u32, step: u32, errno: i64) {
    sh.step.store(step, Ordering::Relaxed);
    sh.errno.store(errno, Ordering::Relaxed);
    sh.state.store(state, Ordering::Release);
}

/// The unfiltered intermediate process: subreaper for the whole command.
///
/// # Safety
/// Runs in a freshly forked child; `plan` must point into memory the fork copied.
unsafe fn reaper(plan: &Plan) -> ! {
    // SAFETY: see `Plan`: the shared mapping outlives the children.
    let sh = unsafe { &*plan.shared };
    // SAFETY: raw system calls (all below) on locals and the plan.
    unsafe {
        if syscall6(SYS_PRCTL, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0) < 0
            || syscall6(SYS_GETPPID, 0, 0, 0, 0, 0, 0) != plan.parent
        {
            fail(sh, STATE_SETUP_FAILED, STEP_PDEATHSIG, 3);
            exit_group(EXIT_SETUP);
        }
        let r = syscall6(SYS_PRCTL, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0);
        if r < 0 {
            fail(sh, STATE_SETUP_FAILED, STEP_SUBREAPER, -r);
            exit_group(EXIT_SETUP);
        }
        let pid = syscall6(SYS_CLONE, SIGCHLD, 0, 0, 0, 0, 0);
        if pid < 0 {
            fail(sh, STATE_SETUP_FAILED, STEP_FORK, -pid);
            exit_group(EXIT_SETUP);
        }
        if pid == 0 {
            target(plan, sh)
        }
        sh.target_pid.store(pid as i32, Ordering::Release);
        loop {
            let mut status: i32 = 0;
            let r =
                syscall6(SYS_WAIT4, u64::MAX /* -1: any child */, &mut status as *mut i32 as u64, WALL, 0, 0, 0);
            if r == -EINTR {
                continue;
            }
            if r == -ECHILD || r < 0 {
                break;
            }
            if r == pid {
                sh.target_status.store(status, Ordering::Relaxed);
                sh.target_reaped.store(1, Ordering::Release);
            }
        }
    }
    exit_group(0)
}

/// The command's process: install the filter, then `execve` with no system
/// call in between.
///
/// # Safety
/// As [`reaper`].
unsafe fn target(plan: &Plan, sh: &Shared) -> ! {
    // SAFETY: raw system calls (all below) on locals and the plan.s
    // pointers, which stay valid in this copy of the parent's memory.
    unsafe {
        let r =
            syscall6(SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, &plan.orig_mask as *const u64 as u64, 0, 8, 0, 0);
        if r < 0 {
            fail(sh, STATE_SETUP_FAILED, STEP_SIGMASK, -r);
            exit_group(EXIT_SETUP);
        }
        // Our own pid, before the supervisor can need it: the reaper's store
        // after its fork may come later than our "listener ready".
        sh.target_pid.store(syscall6(SYS_GETPID, 0, 0, 0, 0, 0, 0) as i32, Ordering::Release);
        if plan.stdio >= 0 {
            for fd in 0..3 {
                let r = syscall6(SYS_DUP2, plan.stdio as u64, fd, 0, 0, 0, 0);
                if r < 0 {
                    fail(sh, STATE_SETUP_FAILED, STEP_STDIO, -r);
                    exit_group(EXIT_SETUP);
                }
            }
        }
        let r = no_new_privs();
        if r < 0 {
            fail(sh, STATE_SETUP_FAILED, STEP_NNP, -r);
            exit_group(EXIT_SETUP);
        }
        let r = if plan.fprog.is_null() { 0 } else { set_filter(plan.flags, plan.fprog) };
        if r < 0 {
            fail(sh, STATE_SETUP_FAILED, STEP_FILTER, -r);
            exit_group(EXIT_SETUP);
        }
        if plan.notify {
            sh.listener_fd.store(r as i32, Ordering::Relaxed);
            sh.state.store(STATE_LISTENER, Ordering::Release);
        } else {
            sh.state.store(STATE_FILTERED, Ordering::Release);
        }
        let r = syscall6(SYS_EXECVE, plan.path as u64, plan.argv as u64, plan.envp as u64, 0, 0, 0);
        fail(sh, STATE_EXEC_FAILED, STEP_EXEC, -r);
    }
    exit_group(EXIT_EXEC)
}
