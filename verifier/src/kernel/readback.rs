//! Install a filter in a child process and read back what the kernel holds.
//!
//! "The same bytes the kernel ends up holding" is checked here literally: the
//! child installs the program with `seccomp(SECCOMP_SET_MODE_FILTER)`, the
//! parent stops it with ptrace and asks the kernel for the installed program
//! with `PTRACE_SECCOMP_GET_FILTER` (kernel/seccomp.c `seccomp_get_filter`,
//! which copies the original classic program the filter was created from). Needs
//! `CAP_SYS_ADMIN`, a tracer that is not itself under seccomp, and
//! `CONFIG_CHECKPOINT_RESTORE`.

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
const CHILD_NNP_FAILED: i32 = 3;
const ERRNO_BASE: i32 = 16;

/// Install `program` as the only new filter of a forked child and return the
/// newest filter the kernel reports for that child.
pub fn install_and_read_back(program: &Program) -> Result<Program, ReadbackError> {
    let filter: Vec<libc::sock_filter> =
        program.insns.iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect();
    let len = u16::try_from(filter.len()).map_err(|_| ReadbackError::Length(filter.len()))?;
    if len == 0 {
        return Err(ReadbackError::Length(0));
    }
    let fprog = libc::sock_fprog { len, filter: filter.as_ptr() as *mut libc::sock_filter };
    super::health::check()?;
    super::health::pace(1);

    // SAFETY: fork has no memory-safety preconditions. In the child we only call
    // async-signal-safe functions (prctl, syscall, _exit) on data prepared before
    // the fork, then spin without system calls until the parent kills it.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_os("fork"));
    }
    if pid == 0 {
        // SAFETY: plain prctl/seccomp syscalls; `fprog` points into `filter`,
        // which the fork copied and which lives as long as this process.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(CHILD_NNP_FAILED);
            }
            let fp: *const libc::sock_fprog = &fprog;
            if libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, fp) != 0 {
                let errno = *libc::__errno_location();
                libc::_exit(ERRNO_BASE + errno.min(100));
            }
        }
        // Installed: make no further system call (the filter may deny them).
        loop {
            std::hint::spin_loop();
        }
    }
    let result = read_back_from(pid);
    // SAFETY: pid is our child; killing and reaping it has no memory effects.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    result
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
