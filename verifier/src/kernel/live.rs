//! Read the seccomp filter stacks of a running process, thread by thread.
//!
//! Seccomp state belongs to a thread, not to a process: every thread has its
//! own mode and its own stack of filters (`task->seccomp`, include/linux/seccomp_types.h),
//! shared with other threads only when they inherited it or were synchronised
//! with `SECCOMP_FILTER_FLAG_TSYNC`. So [`read_process`] lists every thread
//! (`/proc/PID/task/*`), takes its mode from `/proc/PID/task/TID/status`
//! (`Seccomp:`, fs/proc/array.c `task_seccomp`), and for a thread in filter mode
//! reads the programs the kernel holds with `ptrace(PTRACE_SECCOMP_GET_FILTER)`
//! (kernel/seccomp.c `seccomp_get_filter`, which copies the classic program the
//! filter was created from) and their flags with `PTRACE_SECCOMP_GET_METADATA`
//! (`seccomp_get_metadata`).
//!
//! **Order.** Filter index 0 is the *oldest* filter: kernel/seccomp.c
//! `get_nth_filter` counts the `prev` chain from the newest filter (`count`),
//! then walks `count - index - 1` steps back from the newest. ptrace(2) says the
//! opposite ("the most recently installed filter has the index 0"); the code and
//! this kernel (tested in `tests/live_process.rs`) agree with each other, not
//! with the man page. Stacks here are in installation order, oldest first; the
//! kernel runs them newest first and keeps the action of lowest precedence
//! (`seccomp_run_filters`), which [`crate::emu::run_stack`] mirrors.
//!
//! **Flags.** The kernel keeps one flag per filter that it can report:
//! `SECCOMP_FILTER_FLAG_LOG` (`seccomp_get_metadata` sets only that bit).
//! `TSYNC`, `SPEC_ALLOW`, `NEW_LISTENER` and `WAIT_KILLABLE_RECV` act at install
//! time or live elsewhere and cannot be read back.
//!
//! **Permissions.** Both requests need a ptrace-stopped tracee and a tracer with
//! `CAP_SYS_ADMIN` in the initial user namespace that is not itself under
//! seccomp (`seccomp_get_filter` returns `EACCES` otherwise). Attaching needs
//! ptrace access (same user and a dumpable target, or `CAP_SYS_PTRACE`; Yama may
//! restrict it further).
//!
//! **Leaving the target undisturbed.** One thread at a time is attached with
//! `PTRACE_SEIZE` (which, unlike `PTRACE_ATTACH`, sends no `SIGSTOP`), stopped
//! with `PTRACE_INTERRUPT`, read, and detached; the window is a handful of
//! system calls. A signal that arrived meanwhile is passed back on detach, and a
//! thread that was in a group stop (`SIGSTOP`) stays stopped (kernel/ptrace.c
//! `__ptrace_unlink` re-arms the group stop). Detaching happens in a `Drop`
//! guard, so an error or a panic on our side detaches too; if our process dies
//! between attach and detach, the kernel detaches every tracee
//! (kernel/ptrace.c `exit_ptrace`). Threads in disabled or strict mode are never
//! attached: they have no filters to read.
//!
//! **Consistency.** Each thread's stack is read while that thread is stopped,
//! and a stack only grows at the newest end (a new filter's `prev` is the old
//! stack; even a `TSYNC` from a sibling installs a descendant of the current
//! stack, kernel/seccomp.c `seccomp_can_sync_threads`), so reading index 0, 1, …
//! up to `ENOENT` yields a stack the thread really had. Different threads are
//! read at slightly different times: this is not a process-wide snapshot.
//! Threads that appear during the read are picked up by listing the threads
//! again; threads that exit are reported as [`Skipped`].

use crate::bpf::{Insn, Program};
use crate::uapi::{SECCOMP_MODE_DISABLED, SECCOMP_MODE_FILTER, SECCOMP_MODE_STRICT};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `PTRACE_SECCOMP_GET_FILTER` (include/uapi/linux/ptrace.h); not in the libc crate.
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
/// `PTRACE_SECCOMP_GET_METADATA` (include/uapi/linux/ptrace.h, Linux 4.16).
const PTRACE_SECCOMP_GET_METADATA: libc::c_uint = 0x420d;
/// `PTRACE_EVENT_STOP` (include/uapi/linux/ptrace.h): the stop `PTRACE_INTERRUPT`
/// and group stops of a seized tracee report in `status >> 16`.
const PTRACE_EVENT_STOP: i32 = 128;

/// `struct seccomp_metadata` (include/uapi/linux/ptrace.h).
#[repr(C)]
struct SeccompMetadata {
    /// Input: which filter.
    filter_off: u64,
    /// Output: `SECCOMP_FILTER_FLAG_*`.
    flags: u64,
}

/// A thread's seccomp mode (`SECCOMP_MODE_*`, include/uapi/linux/seccomp.h), as
/// `/proc/PID/task/TID/status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompMode {
    /// 0: no seccomp.
    Disabled,
    /// 1: only `read`, `write`, `_exit` and `sigreturn` (kernel/seccomp.c
    /// `mode1_syscalls`); no filters.
    Strict,
    /// 2: a stack of filters.
    Filter,
}

impl SeccompMode {
    fn from_status(v: u32) -> Option<Self> {
        match v {
            SECCOMP_MODE_DISABLED => Some(SeccompMode::Disabled),
            SECCOMP_MODE_STRICT => Some(SeccompMode::Strict),
            SECCOMP_MODE_FILTER => Some(SeccompMode::Filter),
            _ => None,
        }
    }
}

impl std::fmt::Display for SeccompMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SeccompMode::Disabled => "disabled",
            SeccompMode::Strict => "strict",
            SeccompMode::Filter => "filter",
        })
    }
}

/// One filter of a thread's stack, as the kernel holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LiveFilter {
    /// The classic BPF program exactly as it was passed to `seccomp(2)`.
    pub program: Program,
    /// `SECCOMP_FILTER_FLAG_*` bits the kernel reports for this filter (only
    /// `LOG` can be set); `None` when the kernel has no
    /// `PTRACE_SECCOMP_GET_METADATA` (before Linux 4.16).
    pub flags: Option<u64>,
}

impl LiveFilter {
    /// Names of the set flags, e.g. `["LOG"]`; empty when none or unknown.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let f = self.flags.unwrap_or(0);
        let mut names = Vec::new();
        if f & u64::from(crate::uapi::SECCOMP_FILTER_FLAG_LOG) != 0 {
            names.push("LOG");
        }
        names
    }
}

/// The seccomp state of one thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadFilters {
    pub tid: i32,
    /// The thread's name (`Name:` in its status, the `comm`).
    pub name: String,
    pub mode: SeccompMode,
    /// Installation order: `filters[0]` is the oldest, the last the newest
    /// (the one the kernel runs first). Empty unless `mode` is `Filter`.
    pub filters: Vec<LiveFilter>,
}

/// Why a thread's filters are not in the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The thread exited while we listed or read it (threads come and go).
    Exited,
    /// The thread has exited and only its zombie entry remains (a thread-group
    /// leader that called `pthread_exit` stays a zombie until the process ends);
    /// the kernel lets no tracer attach to it.
    Zombie,
    /// The thread stayed in an uninterruptible sleep (state `D`, e.g. a `vfork`
    /// parent waiting for its child): it cannot be stopped until it returns to
    /// user space, so we did not wait for it.
    Uninterruptible,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Exited => "exited during the read",
            SkipReason::Zombie => "has exited (zombie); no filters to read",
            SkipReason::Uninterruptible => "stayed in uninterruptible sleep (state D, e.g. a vfork parent); not read",
        })
    }
}

/// A thread that was listed but not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub tid: i32,
    pub reason: SkipReason,
}

/// Every thread of a process and its filter stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessFilters {
    /// The process (thread-group) id; a thread id given to [`read_process`]
    /// names its process.
    pub pid: i32,
    /// Read threads, by thread id.
    pub threads: Vec<ThreadFilters>,
    /// Threads that were listed but could not be read, by thread id.
    pub skipped: Vec<Skipped>,
}

/// Threads with identical seccomp state: the same mode and the same stack
/// (same programs and flags, in the same order).
///
/// The kernel does not say whether two threads share filter *objects* (after
/// inheritance or `TSYNC`) or merely hold equal copies; both behave the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadGroup<'a> {
    /// Thread ids, ascending.
    pub tids: Vec<i32>,
    /// The threads' names, in `tids` order.
    pub names: Vec<&'a str>,
    pub mode: SeccompMode,
    /// The shared stack, oldest first.
    pub filters: &'a [LiveFilter],
}

impl ProcessFilters {
    /// Group threads with identical stacks, in order of each group's lowest
    /// thread id.
    pub fn groups(&self) -> Vec<ThreadGroup<'_>> {
        let mut groups: Vec<ThreadGroup<'_>> = Vec::new();
        for t in &self.threads {
            match groups.iter_mut().find(|g| g.mode == t.mode && g.filters == t.filters.as_slice()) {
                Some(g) => {
                    g.tids.push(t.tid);
                    g.names.push(&t.name);
                }
                None => groups.push(ThreadGroup {
                    tids: vec![t.tid],
                    names: vec![&t.name],
                    mode: t.mode,
                    filters: &t.filters,
                }),
            }
        }
        groups
    }

    /// Every distinct filter of the process (by program and flags), in order of
    /// first appearance (threads by id, each stack oldest first).
    pub fn distinct_filters(&self) -> Vec<&LiveFilter> {
        let mut seen: Vec<&LiveFilter> = Vec::new();
        for f in self.threads.iter().flat_map(|t| &t.filters) {
            if !seen.contains(&f) {
                seen.push(f);
            }
        }
        seen
    }
}

/// Why the filters of a process could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No process with this id (or not a valid id).
    #[error("no process with pid {pid}")]
    NoSuchProcess { pid: i32 },
    /// The process is the caller itself: ptrace cannot attach to threads of the
    /// tracer's own thread group (kernel/ptrace.c `ptrace_attach`, `same_thread_group`).
    #[error("pid {pid} is this process itself; ptrace cannot attach to its own threads")]
    OwnProcess { pid: i32 },
    /// Every thread exited while we read; the process is gone.
    #[error("process {pid} exited while its threads were read")]
    ProcessExited { pid: i32 },
    /// `PTRACE_SEIZE` failed with `EPERM`.
    #[error("permission denied: cannot ptrace thread {tid} of process {pid}: {why}")]
    AttachDenied { pid: i32, tid: i32, why: String },
    /// `PTRACE_SECCOMP_GET_FILTER` failed with `EACCES` and we lack `CAP_SYS_ADMIN`.
    #[error("permission denied: reading seccomp filters needs CAP_SYS_ADMIN in the initial user namespace{}; run as root", if *.has_cap_in_own_namespace { " (this process has it only in its own user namespace)" } else { ", which this process does not have" })]
    NeedCapSysAdmin { has_cap_in_own_namespace: bool },
    /// `PTRACE_SECCOMP_GET_FILTER` failed with `EACCES` because we are under seccomp.
    #[error("permission denied: the kernel shows seccomp filters only to a tracer that is not itself under seccomp, and this process is in seccomp mode {mode}; run outside the sandbox")]
    TracerUnderSeccomp { mode: u32 },
    /// `EINVAL` for a thread in filter mode: the request exists but the kernel
    /// was built without `CONFIG_CHECKPOINT_RESTORE` (include/linux/seccomp.h
    /// stubs `seccomp_get_filter` to `-EINVAL`).
    #[error("this kernel cannot report seccomp filters: PTRACE_SECCOMP_GET_FILTER answers EINVAL for thread {tid}, which is in filter mode; the kernel was built without CONFIG_CHECKPOINT_RESTORE")]
    NoCheckpointRestore { tid: i32 },
    /// `EIO`: ptrace does not know the request (Linux before 4.4).
    #[error("this kernel has no PTRACE_SECCOMP_GET_FILTER (EIO: unknown ptrace request; it was added in Linux 4.4)")]
    NoGetFilter,
    /// `EMEDIUMTYPE`: a filter without a classic program (kernel/seccomp.c).
    #[error("filter {index} of thread {tid} is not a classic BPF program (EMEDIUMTYPE)")]
    NotClassic { tid: i32, index: u64 },
    /// A file under `/proc` could not be read.
    #[error("{}: {source}", path.display())]
    Proc {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `/proc` status file without a line we need, or one we cannot parse.
    #[error("{}: {what}", path.display())]
    ProcFormat { path: PathBuf, what: String },
    /// Any other failed system call.
    #[error("{call} on thread {tid} failed: {source}")]
    Sys {
        call: &'static str,
        tid: i32,
        #[source]
        source: std::io::Error,
    },
    /// The thread exited while it was read (only from [`read_stack`];
    /// [`read_process`] reports it as [`Skipped`]).
    #[error("thread {tid} exited during the read")]
    ThreadExited { tid: i32 },
}

/// The fields of `/proc/.../status` we use (fs/proc/array.c).
#[derive(Debug)]
struct Status {
    name: String,
    /// First letter of `State:` (R, S, D, T, t, Z, X, …).
    state: char,
    tgid: i32,
    tracer: i32,
    /// `Seccomp:`; absent when the kernel has no CONFIG_SECCOMP.
    seccomp: Option<u32>,
}

enum ReadStatus {
    Found(Status),
    Gone,
}

fn read_status(path: &Path) -> Result<ReadStatus, LiveError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        // A task that has been reaped: ENOENT for the directory entry, ESRCH
        // when it went away between open and read (fs/proc/base.c).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(ReadStatus::Gone)
        }
        Err(source) => return Err(LiveError::Proc { path: path.into(), source }),
    };
    let field =
        |key: &str| text.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':'))).map(str::trim);
    let bad = |what: String| LiveError::ProcFormat { path: path.into(), what };
    let number = |key: &str| -> Result<Option<i64>, LiveError> {
        field(key)
            .map(|v| v.parse::<i64>().map_err(|_| bad(format!("`{key}:` is `{v}`, expected a number"))))
            .transpose()
    };
    let need = |key: &str, v: Option<i64>| v.ok_or_else(|| bad(format!("no `{key}:` line")));
    let seccomp = match number("Seccomp")? {
        None => None,
        Some(v) => Some(u32::try_from(v).map_err(|_| bad(format!("`Seccomp:` is {v}")))?),
    };
    Ok(ReadStatus::Found(Status {
        name: field("Name").unwrap_or("").to_string(),
        state: field("State").and_then(|s| s.chars().next()).ok_or_else(|| bad("no `State:` line".into()))?,
        tgid: need("Tgid", number("Tgid")?)? as i32,
        tracer: need("TracerPid", number("TracerPid")?)? as i32,
        seccomp,
    }))
}

fn list_tasks(pid: i32) -> Result<Option<Vec<i32>>, LiveError> {
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
        Err(source) => return Err(LiveError::Proc { path: dir, source }),
    };
    let mut tids = Vec::new();
    for e in entries {
        let e = e.map_err(|source| LiveError::Proc { path: dir.clone(), source })?;
        if let Some(tid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) {
            tids.push(tid);
        }
    }
    tids.sort_unstable();
    Ok(Some(tids))
}

/// How many times the thread list is re-read to catch threads created during
/// the read; a process that keeps creating threads faster than we read them is
/// reported as of the last listing.
const MAX_LISTINGS: usize = 4;

/// How long a thread in uninterruptible sleep may take to leave it before we
/// skip it (it cannot be stopped before it returns to user space).
const D_STATE_PATIENCE: Duration = Duration::from_millis(200);

/// Read the mode and filter stack of every thread of process `pid`.
///
/// A thread id names its process. Threads that exit during the read are listed
/// in [`ProcessFilters::skipped`]; see the module documentation for order,
/// flags, permissions and how the threads are left.
pub fn read_process(pid: i32) -> Result<ProcessFilters, LiveError> {
    if pid <= 0 {
        return Err(LiveError::NoSuchProcess { pid });
    }
    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let tgid = match read_status(&status_path)? {
        ReadStatus::Found(s) => s.tgid,
        ReadStatus::Gone => return Err(LiveError::NoSuchProcess { pid }),
    };
    if tgid == std::process::id() as i32 {
        return Err(LiveError::OwnProcess { pid });
    }
    let mut result = ProcessFilters { pid: tgid, threads: Vec::new(), skipped: Vec::new() };
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..MAX_LISTINGS {
        let Some(tids) = list_tasks(tgid)? else { break };
        let new: Vec<i32> = tids.into_iter().filter(|t| !seen.contains(t)).collect();
        if new.is_empty() {
            break;
        }
        for tid in new {
            seen.insert(tid);
            match read_thread(tgid, tid) {
                Ok(t) => result.threads.push(t),
                Err(Skip(reason)) => result.skipped.push(Skipped { tid, reason }),
                Err(Fail(e)) => return Err(e),
            }
        }
    }
    if result.threads.is_empty() && !Path::new(&format!("/proc/{tgid}")).exists() {
        return Err(if seen.is_empty() {
            LiveError::NoSuchProcess { pid }
        } else {
            LiveError::ProcessExited { pid: tgid }
        });
    }
    result.threads.sort_by_key(|t| t.tid);
    result.skipped.sort_by_key(|s| s.tid);
    Ok(result)
}

enum ThreadError {
    Skip(SkipReason),
    Fail(LiveError),
}
use ThreadError::{Fail, Skip};

impl From<LiveError> for ThreadError {
    fn from(e: LiveError) -> Self {
        match e {
            LiveError::ThreadExited { .. } => Skip(SkipReason::Exited),
            e => Fail(e),
        }
    }
}

fn read_thread(pid: i32, tid: i32) -> Result<ThreadFilters, ThreadError> {
    let path = PathBuf::from(format!("/proc/{pid}/task/{tid}/status"));
    let mut status = match read_status(&path)? {
        ReadStatus::Found(s) => s,
        ReadStatus::Gone => return Err(Skip(SkipReason::Exited)),
    };
    match status.state {
        'Z' => return Err(Skip(SkipReason::Zombie)),
        'X' => return Err(Skip(SkipReason::Exited)),
        _ => {}
    }
    // No `Seccomp:` line: a kernel without CONFIG_SECCOMP, where nothing is filtered.
    let raw_mode = status.seccomp.unwrap_or(0);
    let mode = SeccompMode::from_status(raw_mode).ok_or_else(|| {
        Fail(LiveError::ProcFormat { path: path.clone(), what: format!("unknown seccomp mode {raw_mode}") })
    })?;
    let mut thread = ThreadFilters { tid, name: std::mem::take(&mut status.name), mode, filters: Vec::new() };
    if mode != SeccompMode::Filter {
        return Ok(thread);
    }
    if status.state == 'D' {
        let start = Instant::now();
        while status.state == 'D' {
            if start.elapsed() > D_STATE_PATIENCE {
                return Err(Skip(SkipReason::Uninterruptible));
            }
            std::thread::sleep(Duration::from_millis(5));
            status = match read_status(&path)? {
                ReadStatus::Found(s) => s,
                ReadStatus::Gone => return Err(Skip(SkipReason::Exited)),
            };
        }
    }
    thread.filters = read_stack_inner(pid, tid, status.tracer)?;
    Ok(thread)
}

/// Read the filter stack of one thread (oldest first): attach, stop, read,
/// detach. Empty for a thread in disabled or strict mode, which is not
/// attached at all. The thread must not be in this process.
pub fn read_stack(tid: i32) -> Result<Vec<LiveFilter>, LiveError> {
    let path = PathBuf::from(format!("/proc/{tid}/status"));
    let status = match read_status(&path)? {
        ReadStatus::Found(s) if !matches!(s.state, 'Z' | 'X') => s,
        _ => return Err(LiveError::ThreadExited { tid }),
    };
    if status.tgid == std::process::id() as i32 {
        return Err(LiveError::OwnProcess { pid: status.tgid });
    }
    match status.seccomp {
        Some(2) => read_stack_inner(status.tgid, tid, status.tracer),
        _ => Ok(Vec::new()),
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn sys(call: &'static str, tid: i32) -> LiveError {
    LiveError::Sys { call, tid, source: std::io::Error::last_os_error() }
}

fn read_stack_inner(pid: i32, tid: i32, tracer: i32) -> Result<Vec<LiveFilter>, LiveError> {
    let stopped = Stopped::stop(pid, tid, tracer)?;
    let mut filters = Vec::new();
    let mut has_metadata = true;
    for index in 0u64.. {
        let Some(program) = stopped.get_filter(index)? else { break };
        let flags = if has_metadata {
            let f = stopped.get_flags(index)?;
            has_metadata = f.is_some();
            f
        } else {
            None
        };
        filters.push(LiveFilter { program, flags });
    }
    drop(stopped);
    Ok(filters)
}

/// A thread we have seized and seen stop. Dropping it detaches the thread,
/// passing back a signal it was about to receive.
struct Stopped {
    tid: i32,
    /// The signal of a signal-delivery stop, 0 for an interrupt or group stop.
    pending_signal: i32,
}

impl Stopped {
    /// Seize `tid`, interrupt it and wait until it stops. `tracer` is the
    /// thread's `TracerPid` before we tried, for the error message.
    fn stop(pid: i32, tid: i32, tracer: i32) -> Result<Stopped, LiveError> {
        // SAFETY: PTRACE_SEIZE takes no pointers (addr and data are 0: no options).
        if unsafe { libc::ptrace(libc::PTRACE_SEIZE, tid, 0usize, 0usize) } != 0 {
            return Err(match errno() {
                libc::ESRCH => LiveError::ThreadExited { tid },
                // ptrace_attach refuses exiting tasks with EPERM too.
                libc::EPERM if has_exited(pid, tid) => LiveError::ThreadExited { tid },
                libc::EPERM => LiveError::AttachDenied { pid, tid, why: attach_denied_reason(tracer) },
                _ => sys("PTRACE_SEIZE", tid),
            });
        }
        // From here on the thread is our tracee: every path below ends in a
        // stop (then `Stopped` detaches it) or in its exit (which we reap).
        // SAFETY: PTRACE_INTERRUPT takes no pointers.
        if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0usize, 0usize) } != 0 {
            // Only fails if the tracee is already gone (kernel/ptrace.c
            // ptrace_check_attach with ignore_state); reap what is left.
            let e = sys("PTRACE_INTERRUPT", tid);
            return match wait_for(tid)? {
                Waited::Exited => Err(LiveError::ThreadExited { tid }),
                Waited::Stopped(sig) => {
                    drop(Stopped { tid, pending_signal: sig });
                    Err(e)
                }
            };
        }
        match wait_for(tid)? {
            Waited::Stopped(sig) => Ok(Stopped { tid, pending_signal: sig }),
            Waited::Exited => Err(LiveError::ThreadExited { tid }),
        }
    }

    /// Filter `index` (0 = oldest), or `None` past the newest.
    fn get_filter(&self, index: u64) -> Result<Option<Program>, LiveError> {
        let tid = self.tid;
        // SAFETY: with a null data pointer the kernel only returns the length
        // (kernel/seccomp.c seccomp_get_filter: `if (!data) goto out`).
        let n = unsafe {
            libc::ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index as usize, std::ptr::null_mut::<libc::c_void>())
        };
        if n < 0 {
            return match errno() {
                libc::ENOENT => Ok(None),
                e => Err(get_filter_error(e, tid, index)),
            };
        }
        let mut buf = vec![libc::sock_filter { code: 0, jt: 0, jf: 0, k: 0 }; n as usize];
        // SAFETY: `buf` holds `n` sock_filters, exactly what the kernel copies
        // (`bpf_classic_proglen(fprog)` = len * sizeof(struct sock_filter)); a
        // filter's program never changes after install, so the length read
        // above is still the length now, and the thread is stopped.
        let m = unsafe { libc::ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index as usize, buf.as_mut_ptr()) };
        if m < 0 {
            return Err(get_filter_error(errno(), tid, index));
        }
        if m != n {
            return Err(LiveError::Sys {
                call: "PTRACE_SECCOMP_GET_FILTER",
                tid,
                source: std::io::Error::other(format!(
                    "filter {index} changed length from {n} to {m} while the thread was stopped"
                )),
            });
        }
        Ok(Some(Program::new(buf.iter().map(|f| Insn { code: f.code, jt: f.jt, jf: f.jf, k: f.k }).collect())))
    }

    /// The flags of filter `index`, or `None` if the kernel has no
    /// `PTRACE_SECCOMP_GET_METADATA`.
    fn get_flags(&self, index: u64) -> Result<Option<u64>, LiveError> {
        let mut md = SeccompMetadata { filter_off: index, flags: 0 };
        // SAFETY: the kernel reads `filter_off` from and writes at most
        // `addr` = size_of::<SeccompMetadata>() bytes to `data`, which points to
        // our properly sized and aligned struct.
        let r = unsafe {
            libc::ptrace(
                PTRACE_SECCOMP_GET_METADATA,
                self.tid,
                std::mem::size_of::<SeccompMetadata>(),
                &mut md as *mut SeccompMetadata,
            )
        };
        if r < 0 {
            return match errno() {
                libc::EIO => Ok(None),
                e => Err(get_filter_error(e, self.tid, index)),
            };
        }
        Ok(Some(md.flags))
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        // SAFETY: PTRACE_DETACH takes no pointer; `data` is the signal to
        // deliver on resumption (0 = none).
        let r = unsafe { libc::ptrace(libc::PTRACE_DETACH, self.tid, 0usize, self.pending_signal as usize) };
        if r != 0 && errno() == libc::ESRCH {
            // The tracee is no longer stopped: it was SIGKILLed while stopped
            // and is exiting. Reap it so no traced zombie stays behind.
            let _ = wait_for(self.tid);
        }
    }
}

enum Waited {
    /// Stopped; the signal to pass back on detach (0 if none).
    Stopped(i32),
    Exited,
}

/// Wait for our tracee `tid` to stop or exit.
fn wait_for(tid: i32) -> Result<Waited, LiveError> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid out-pointer; __WALL because the tracee
        // is a thread (kernel/exit.c: without __WALL only "non-clone" children
        // are waited for).
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return Err(sys("waitpid", tid));
        }
        if libc::WIFSTOPPED(status) {
            // A seized tracee reports PTRACE_INTERRUPT and group stops as
            // PTRACE_EVENT_STOP; anything else is a signal-delivery stop whose
            // signal must be passed back, or it would be lost.
            let event = (status >> 16) & 0xff;
            let sig = if event == PTRACE_EVENT_STOP { 0 } else { libc::WSTOPSIG(status) };
            return Ok(Waited::Stopped(sig));
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok(Waited::Exited);
        }
    }
}

fn get_filter_error(e: i32, tid: i32, index: u64) -> LiveError {
    match e {
        libc::ESRCH => LiveError::ThreadExited { tid },
        libc::EACCES => eacces_reason(),
        libc::EINVAL => LiveError::NoCheckpointRestore { tid },
        libc::EIO => LiveError::NoGetFilter,
        libc::EMEDIUMTYPE => LiveError::NotClassic { tid, index },
        e => LiveError::Sys { call: "PTRACE_SECCOMP_GET_FILTER", tid, source: std::io::Error::from_raw_os_error(e) },
    }
}

/// `seccomp_get_filter` refuses with EACCES when `!capable(CAP_SYS_ADMIN)` or
/// the caller is itself under seccomp; tell which.
fn eacces_reason() -> LiveError {
    let own = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field =
        |key: &str| own.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':'))).map(str::trim);
    match field("Seccomp").and_then(|v| v.parse::<u32>().ok()) {
        Some(mode) if mode != 0 => LiveError::TracerUnderSeccomp { mode },
        _ => {
            // CAP_SYS_ADMIN is bit 21 (include/uapi/linux/capability.h).
            let eff = field("CapEff").and_then(|v| u64::from_str_radix(v, 16).ok()).unwrap_or(0);
            LiveError::NeedCapSysAdmin { has_cap_in_own_namespace: eff & (1 << 21) != 0 }
        }
    }
}

/// Has the thread exited (gone, or only its zombie entry left)?
fn has_exited(pid: i32, tid: i32) -> bool {
    match read_status(Path::new(&format!("/proc/{pid}/task/{tid}/status"))) {
        Ok(ReadStatus::Found(s)) => matches!(s.state, 'Z' | 'X'),
        Ok(ReadStatus::Gone) => true,
        Err(_) => false,
    }
}

/// Why `PTRACE_SEIZE` said EPERM (kernel/ptrace.c `ptrace_attach`).
fn attach_denied_reason(tracer: i32) -> String {
    if tracer != 0 {
        return format!(
            "it is already traced by process {tracer} (a debugger or strace?), and a thread has one tracer at a time"
        );
    }
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return format!(
            "attaching needs the target's user id and a dumpable process, or CAP_SYS_PTRACE (we run as uid {euid}); Yama's ptrace_scope may restrict it further; run as root"
        );
    }
    "the kernel's ptrace access check refused (a security module such as Yama or SELinux, or a kernel thread)".into()
}
