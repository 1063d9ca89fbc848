//! Install a filter in a child process and read back what the kernel holds.
//!
//! "The same bytes the kernel ends up holding" is checked here literally: the
//! child installs the program with `seccomp(SECCOMP_SET_MODE_FILTER)`, the
//! parent stops it with ptrace and asks the kernel for the installed program
//! with `PTRACE_SECCOMP_GET_FILTER` (kernel/seccomp.c `seccomp_get_filter`,
//! which copies the original classic program the filter was created from). Needs
//! `CAP_SYS_ADMIN`, a tracer that is not itself under seccomp, and
//! `CONFIG_CHECKPOINT_RESTORE`.

use super::prologue::{child_hygiene, no_new_privs, set_filter};
use super::sys::{exit_group, SockFprog};
use super::validate::own_pid;
use crate::bpf::Program;

/// Why a filter could not be installed or read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadbackError {
    /// The kernel refused the program in the child (`seccomp(2)` failed with this errno).
    #[error("the kernel refused to install the filter: errno {errno} ({})", std::io::Error::from_raw_os_error(*errno))]
    InstallRefused { errno: i32 },
    /// A system call of the harness failed.
    #[error("{call} failed: {source}")]
    Sys {
        call: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The child did not report within the time limit.
    #[error("the child did not install its filter within 5 s")]
    Timeout,
    /// The kernel cannot load filters now (see [`super::health`]).
    #[error("{0}")]
    Unavailable(#[from] super::health::KernelUnavailable),
    /// Reading the installed filter back failed (see [`crate::kernel::live`]).
    #[error("reading the filter back: {0}")]
    Live(#[from] crate::kernel::live::LiveError),
    /// The program is empty or longer than a `sock_fprog` can say.
    #[error("a program of {} cannot be passed to seccomp(2)", crate::words::count(*.0, "instruction"))]
    Length(usize),
}

fn last_os(call: &'static str) -> ReadbackError {
    ReadbackError::Sys { call, source: std::io::Error::last_os_error() }
}

/// Exit codes the child uses; `ERRNO_BASE + errno` reports a refused install.
const CHILD_SETUP_FAILED: u64 = 3;
const ERRNO_BASE: i32 = 16;

/// Install `program` as the only new filter of a forked child and return the
/// newest filter the kernel reports for that child.
pub fn install_and_read_back(program: &Program) -> Result<Program, ReadbackError> {
    let bytes = program.to_bytes();
    let len = u16::try_from(program.len()).map_err(|_| ReadbackError::Length(program.len()))?;
    if len == 0 {
        return Err(ReadbackError::Length(0));
    }
    let fprog = SockFprog { len, filter: bytes.as_ptr() as u64 };
    super::health::check()?;
    super::health::pace(1);
    let parent = own_pid();

    // SAFETY: the child runs only `readback_child`, async-signal-safe (raw
    // system calls on data prepared before the fork) and never returning.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_os("fork"));
    }
    if pid == 0 {
        // SAFETY: a freshly forked child; `fprog` points into `bytes`, which
        // the fork copied and which lives as long as this process.
        unsafe { readback_child(parent, &fprog) }
    }
    let result = read_back_from(pid);
    // SAFETY: pid is our child; killing and reaping it has no memory effects.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    result
}

/// The forked child of [`install_and_read_back`]: the oracle children's
/// prologue (hygiene, no_new_privs, the filter), then it spins without system
/// calls (the filter may deny them) until the parent kills it. Not made
/// undumpable: the parent attaches with ptrace after the filter is in.
///
/// # Safety
/// Only in a freshly forked child; `fprog` must point to a `sock_fprog` whose
/// instructions are readable there.
unsafe fn readback_child(parent: i64, fprog: &SockFprog) -> ! {
    if child_hygiene(parent).is_err() || no_new_privs() != 0 {
        exit_group(CHILD_SETUP_FAILED)
    }
    // SAFETY: `fprog` and its instructions are readable (the caller's
    // contract); no system call follows the filter.
    let r = unsafe { set_filter(0, fprog) };
    if r < 0 {
        exit_group((i64::from(ERRNO_BASE) + (-r).min(100)) as u64)
    }
    loop {
        std::hint::spin_loop();
    }
}

fn read_back_from(pid: libc::pid_t) -> Result<Program, ReadbackError> {
    let status_path = format!("/proc/{pid}/status");
    let start = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
            return Err(if code >= ERRNO_BASE {
                ReadbackError::InstallRefused { errno: code - ERRNO_BASE }
            } else {
                ReadbackError::Sys {
                    call: "child setup",
                    source: std::io::Error::other(format!("child exited with status {status:#x}")),
                }
            });
        }
        let s = std::fs::read_to_string(&status_path)
            .map_err(|source| ReadbackError::Sys { call: "read /proc/PID/status", source })?;
        // `Seccomp: 2` is SECCOMP_MODE_FILTER (fs/proc/array.c task_seccomp).
        if s.lines().any(|l| l.split_whitespace().eq(["Seccomp:", "2"])) {
            break;
        }
        if start.elapsed() > std::time::Duration::from_secs(5) {
            return Err(ReadbackError::Timeout);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // Filter mode: read the stack as for any live process; the newest filter
    // is the one the child just installed.
    let mut stack = crate::kernel::live::read_stack(pid)?;
    let newest = stack.pop().ok_or_else(|| ReadbackError::Sys {
        call: "PTRACE_SECCOMP_GET_FILTER",
        source: std::io::Error::other("the child is in filter mode but the kernel reports no filter"),
    })?;
    Ok(newest.program)
}
