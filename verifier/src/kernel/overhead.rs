//! Measure the latency a filter stack adds to hot syscalls, in forked children.
//!
//! A seccomp filter cannot be removed once installed, so every measurement runs
//! in fresh processes: [`run`] forks `processes` children from one prepared
//! state; each sets itself up as every oracle child does (`prologue.rs`) and
//! installs the stack (`PR_SET_NO_NEW_PRIVS`, then one
//! `seccomp(SECCOMP_SET_MODE_FILTER)` per filter, oldest first), reports ready,
//! waits for a common start signal, and then times every probe in batches.
//! Several children run at once to measure under load, each in its own filtered
//! context (per-process filters, no `TSYNC`).
//!
//! Nothing a child does after installing its filters may depend on the filter
//! allowing it: results go to a shared anonymous mapping (no syscalls), the
//! clock is the TSC (`rdtsc`, no syscalls; the vDSO could fall back to a real
//! `clock_gettime`), and the child ends with `exit_group`, which it retries as
//! `exit` and then spins if the filter denies both — the parent kills every
//! child once its results are in. Probes the caller marks as not enabled (the
//! filter kills or traps them; the caller decides with the emulator) are never
//! called.
//!
//! Each probe is issued with all six argument registers set (`syscall(2)` with
//! six arguments), so the `seccomp_data` the kernel hands the filter is known
//! before the run ([`ProbeContext::inputs`]) except for the instruction pointer.
//! Per-child file descriptors are fixed: the child closes everything above 2
//! and opens `/dev/zero` (3), `/dev/null` (4) and an epoll instance (5), so
//! `openat` returns 6.
//!
//! After the batches, a child can time `per_call` single iterations of every
//! probe one by one (interleaved across probes), for latency percentiles:
//! each timing includes one pair of `rdtsc` reads (a few ns, the same with
//! and without a filter). Under a [`BusyNeighbour`] the children are pinned
//! to every CPU but the neighbour's.

use super::prologue::{child_hygiene, lock_down, set_filter};
use super::sys::{exit_group, SockFprog};
use super::validate::own_pid;
use crate::bpf::Program;
use crate::seccomp::SeccompData;
use std::ffi::CString;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One hot-syscall workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// `getpid()`.
    Getpid,
    /// `clock_gettime(CLOCK_MONOTONIC, &ts)` through `syscall(2)`, not the vDSO.
    ClockGettime,
    /// `read(fd, buf, 1)` from `/dev/zero`.
    Read,
    /// `write(fd, buf, 1)` to `/dev/null`.
    Write,
    /// `futex(&word, FUTEX_WAKE_PRIVATE, 1)` with no waiters.
    FutexWake,
    /// `epoll_wait(epfd, events, 1, 0)` on an empty epoll instance.
    EpollWait,
    /// `openat(AT_FDCWD, "/dev/null", O_RDONLY|O_CLOEXEC)` then `close(fd)`.
    OpenatClose,
    /// `syscall(nr)` with all arguments 0, for probing the action cache's range.
    Raw(u32),
}

/// `epoll_wait` where the ABI has it; arm64 only has `epoll_pwait`, which with
/// a NULL signal mask (the probe's fifth argument is 0) behaves the same.
#[cfg(target_arch = "x86_64")]
const SYS_EPOLL_WAIT: libc::c_long = libc::SYS_epoll_wait;
#[cfg(not(target_arch = "x86_64"))]
const SYS_EPOLL_WAIT: libc::c_long = libc::SYS_epoll_pwait;

/// Child file descriptors (fixed, see the module doc).
const FD_ZERO: u64 = 3;
const FD_NULL: u64 = 4;
const FD_EPOLL: u64 = 5;
const FD_OPENAT: u64 = 6;

impl Probe {
    /// The hot-syscall probes, in report order.
    pub const HOT: [Probe; 7] = [
        Probe::Getpid,
        Probe::ClockGettime,
        Probe::Read,
        Probe::Write,
        Probe::FutexWake,
        Probe::EpollWait,
        Probe::OpenatClose,
    ];

    pub fn name(self) -> String {
        match self {
            Probe::Getpid => "getpid".into(),
            Probe::ClockGettime => "clock_gettime".into(),
            Probe::Read => "read".into(),
            Probe::Write => "write".into(),
            Probe::FutexWake => "futex".into(),
            Probe::EpollWait => "epoll_wait".into(),
            Probe::OpenatClose => "openat+close".into(),
            Probe::Raw(nr) => format!("nr {nr}"),
        }
    }

    pub fn description(self) -> String {
        match self {
            Probe::Getpid => "getpid()".into(),
            Probe::ClockGettime => "clock_gettime(CLOCK_MONOTONIC) via syscall(2)".into(),
            Probe::Read => "read 1 byte from /dev/zero".into(),
            Probe::Write => "write 1 byte to /dev/null".into(),
            Probe::FutexWake => "futex(FUTEX_WAKE_PRIVATE), no waiters".into(),
            Probe::EpollWait => "epoll_wait, empty set, timeout 0".into(),
            Probe::OpenatClose => "openat(/dev/null) + close".into(),
            Probe::Raw(nr) => format!("syscall({nr}) with zero arguments"),
        }
    }

    /// The native syscall numbers one iteration makes, in order.
    pub fn numbers(self) -> Vec<u32> {
        let n = |x: libc::c_long| x as u32;
        match self {
            Probe::Getpid => vec![n(libc::SYS_getpid)],
            Probe::ClockGettime => vec![n(libc::SYS_clock_gettime)],
            Probe::Read => vec![n(libc::SYS_read)],
            Probe::Write => vec![n(libc::SYS_write)],
            Probe::FutexWake => vec![n(libc::SYS_futex)],
            Probe::EpollWait => vec![n(SYS_EPOLL_WAIT)],
            Probe::OpenatClose => vec![n(libc::SYS_openat), n(libc::SYS_close)],
            Probe::Raw(nr) => vec![nr],
        }
    }
}

/// The native `AUDIT_ARCH` of this build (what the kernel puts in `seccomp_data.arch`).
pub fn native_audit_arch() -> Option<u32> {
    let a = if cfg!(target_arch = "x86_64") {
        crate::arch::Arch::X86_64
    } else if cfg!(target_arch = "aarch64") {
        crate::arch::Arch::Aarch64
    } else {
        return None;
    };
    Some(a.audit_arch())
}

/// Memory the probes point at, allocated before the fork so that every
/// argument value is known in advance.
pub struct ProbeContext {
    buf: Box<[u8; 64]>,
    ts: Box<libc::timespec>,
    futex_word: Box<u32>,
    events: Box<[libc::epoll_event; 1]>,
    path: CString,
    dev_zero: CString,
}

impl Default for ProbeContext {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeContext {
    pub fn new() -> ProbeContext {
        ProbeContext {
            buf: Box::new([0; 64]),
            ts: Box::new(libc::timespec { tv_sec: 0, tv_nsec: 0 }),
            futex_word: Box::new(0),
            events: Box::new([libc::epoll_event { events: 0, u64: 0 }]),
            path: CString::new("/dev/null").expect("no NUL"),
            dev_zero: CString::new("/dev/zero").expect("no NUL"),
        }
    }

    /// `(nr, args)` of each call one iteration of `probe` makes.
    fn calls(&self, probe: Probe) -> Vec<(u32, [u64; 6])> {
        let nrs = probe.numbers();
        let buf = self.buf.as_ptr() as u64;
        let args: Vec<[u64; 6]> = match probe {
            Probe::Getpid | Probe::Raw(_) => vec![[0; 6]],
            Probe::ClockGettime => vec![[libc::CLOCK_MONOTONIC as u64, &*self.ts as *const _ as u64, 0, 0, 0, 0]],
            Probe::Read => vec![[FD_ZERO, buf, 1, 0, 0, 0]],
            Probe::Write => vec![[FD_NULL, buf, 1, 0, 0, 0]],
            Probe::FutexWake => vec![[
                &*self.futex_word as *const u32 as u64,
                (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64,
                1,
                0,
                0,
                0,
            ]],
            Probe::EpollWait => vec![[FD_EPOLL, self.events.as_ptr() as u64, 1, 0, 0, 0]],
            Probe::OpenatClose => vec![
                [
                    libc::AT_FDCWD as i64 as u64,
                    self.path.as_ptr() as u64,
                    (libc::O_RDONLY | libc::O_CLOEXEC) as u64,
                    0,
                    0,
                    0,
                ],
                [FD_OPENAT, 0, 0, 0, 0, 0],
            ],
        };
        nrs.into_iter().zip(args).collect()
    }

    /// The `seccomp_data` of each call of `probe`, as the filter will see it
    /// (the instruction pointer, which the harness cannot fix, is 0).
    pub fn inputs(&self, probe: Probe) -> Vec<SeccompData> {
        let arch = native_audit_arch().unwrap_or(0);
        self.calls(probe).into_iter().map(|(nr, args)| SeccompData { nr, arch, instruction_pointer: 0, args }).collect()
    }
}

/// How to run one probe in a measurement.
#[derive(Clone, Copy, Debug)]
pub struct ProbePlan {
    pub probe: Probe,
    /// Calls per timed batch.
    pub iterations: u32,
    /// `false`: never call it (the filter would kill or trap).
    pub enabled: bool,
}

/// One measurement: a stack of filters in `processes` concurrent children.
#[derive(Clone, Copy, Debug)]
pub struct RunSpec<'a> {
    /// Filters in installation order; empty = the no-filter baseline.
    pub stack: &'a [Program],
    pub probes: &'a [ProbePlan],
    /// Concurrent children, each in its own filtered context.
    pub processes: usize,
    /// Timed batches per probe; probes are interleaved batch by batch.
    pub batches: u32,
    pub clock: TickClock,
    /// Single iterations of each enabled probe timed one by one after the
    /// batches (0: none), at most [`MAX_PER_CALL`].
    pub per_call: u32,
    /// Pin every child to all CPUs but this one (the busy neighbour's).
    pub avoid_cpu: Option<usize>,
}

/// Upper limits of a run (sizes of the shared result area).
pub const MAX_PROBES: usize = 16;
pub const MAX_BATCHES: usize = 64;
pub const MAX_PROCESSES: usize = 64;
pub const MAX_PER_CALL: u32 = 10_000;

/// One probe's results in one child.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResult {
    pub probe: Probe,
    /// Nanoseconds per iteration, one value per batch (empty when not enabled).
    pub ns_per_call: Vec<f64>,
    /// The raw return value of each call of the first (warm-up) iteration:
    /// `>= 0` on success, `-errno` on failure.
    pub first_returns: Vec<i64>,
    /// Nanoseconds of each singly timed iteration (`RunSpec::per_call` of them).
    pub per_call_ns: Vec<f64>,
}

/// Results of one run: per child, per probe.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    pub children: Vec<Vec<ProbeResult>>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum OverheadError {
    #[error("{call} failed: {source}")]
    Sys {
        call: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused to install filter `index` of the stack.
    #[error("the kernel refused filter {index} of the stack: errno {errno} ({})", std::io::Error::from_raw_os_error(*errno))]
    InstallRefused { index: usize, errno: i32 },
    /// The kernel refused filter `index` with ENOMEM: the stack's path
    /// length, explained with the totals ([`super::path::explain`]).
    #[error("{explanation}")]
    PathTooLong { index: usize, explanation: String },
    /// A child died before reporting its results (the filter killed it).
    #[error("a measuring child died ({status}) while {stage}")]
    ChildDied { status: String, stage: String },
    #[error("the children did not finish within {0:?}")]
    Timeout(Duration),
    /// `seccomp(2)` did not return: the kernel is stuck installing the filter
    /// (seen on Linux 6.18 when the BPF JIT's allocator deadlocked).
    #[error("seccomp(2) did not return within {limit:?}: the kernel is stuck installing the filter (in {frame})")]
    InstallStuck { limit: Duration, frame: String },
    #[error("{0}")]
    Limits(String),
    /// The kernel cannot load filters now (see [`super::health`]).
    #[error("{0}")]
    Unavailable(#[from] super::health::KernelUnavailable),
}

fn sys_err(call: &'static str) -> OverheadError {
    OverheadError::Sys { call, source: std::io::Error::last_os_error() }
}

/// Converts timestamp ticks to nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TickClock {
    /// Nanoseconds per tick.
    pub ns_per_tick: f64,
    /// `tsc` (x86 time-stamp counter, calibrated) or `clock_monotonic`.
    pub source: &'static str,
}

#[inline(always)]
fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc has no preconditions and touches no memory.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes into the local timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

impl TickClock {
    /// Calibrate the tick counter against `CLOCK_MONOTONIC` over `span`.
    pub fn calibrate(span: Duration) -> TickClock {
        if !cfg!(target_arch = "x86_64") {
            return TickClock { ns_per_tick: 1.0, source: "clock_monotonic" };
        }
        let (t0, c0) = (Instant::now(), ticks());
        std::thread::sleep(span);
        let (t1, c1) = (Instant::now(), ticks());
        let ns = (t1 - t0).as_nanos() as f64;
        TickClock { ns_per_tick: ns / (c1.wrapping_sub(c0)).max(1) as f64, source: "tsc" }
    }
}

// Child states in the shared area (0 = starting).
const ST_READY: u32 = 1;
const ST_DONE: u32 = 2;
const ST_FAILED: u32 = 3;

/// Per-child slot in the shared mapping. `stage` is the probe index being
/// measured (or `STAGE_INSTALL`), for naming what killed a child.
#[repr(C)]
struct Slot {
    state: AtomicU32,
    stage: AtomicU32,
    err: AtomicI32,
    err_index: AtomicU32,
    /// Written only by the child, read by the parent after `ST_DONE`; atomics
    /// because another process writes them behind the parent's references.
    first: [[AtomicI64; 2]; MAX_PROBES],
    ticks: [[AtomicU64; MAX_BATCHES]; MAX_PROBES],
}

const STAGE_INSTALL: u32 = u32::MAX;
const STAGE_SETUP: u32 = u32::MAX - 1;

#[repr(C)]
struct Shared {
    go: AtomicU32,
    slots: [Slot; MAX_PROCESSES],
}

/// An anonymous shared mapping holding one [`Shared`].
struct SharedMap {
    ptr: *mut Shared,
}

impl SharedMap {
    fn new() -> Result<SharedMap, OverheadError> {
        // SAFETY: a fresh anonymous mapping; zero-filled memory is a valid
        // `Shared` (atomics and integers only).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Shared>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(sys_err("mmap"));
        }
        Ok(SharedMap { ptr: p as *mut Shared })
    }
    fn get(&self) -> &Shared {
        // SAFETY: ptr is a live mapping of the right size for the life of self;
        // every field is an atomic, so writes by the children (other processes
        // sharing the pages) are allowed behind this shared reference.
        unsafe { &*self.ptr }
    }
}

impl Drop for SharedMap {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping created in new(); no references outlive self.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, std::mem::size_of::<Shared>()) };
    }
}

/// An anonymous shared array of tick counts (the per-call timings), indexed
/// `[child][probe][call]`.
struct TickArea {
    ptr: *mut AtomicU32,
    len: usize,
}

impl TickArea {
    fn new(len: usize) -> Result<TickArea, OverheadError> {
        if len == 0 {
            return Ok(TickArea { ptr: std::ptr::NonNull::dangling().as_ptr(), len: 0 });
        }
        // SAFETY: a fresh anonymous mapping; zeroed memory is valid AtomicU32s.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len * std::mem::size_of::<AtomicU32>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(sys_err("mmap"));
        }
        Ok(TickArea { ptr: p as *mut AtomicU32, len })
    }
    fn get(&self) -> &[AtomicU32] {
        // SAFETY: ptr is a live mapping of len atomics for the life of self
        // (or dangling with len 0); atomics allow the children's writes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for TickArea {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmapping the mapping created in new(); no references outlive self.
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len * std::mem::size_of::<AtomicU32>()) };
        }
    }
}

/// The CPUs a process may run on, as a `cpu_set_t`: all of `0..cpus` but `avoid`.
fn cpu_set_without(cpus: usize, avoid: usize) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for c in (0..cpus.min(libc::CPU_SETSIZE as usize)).filter(|&c| c != avoid) {
        // SAFETY: c < CPU_SETSIZE, within the set's bit array.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    set
}

/// A process that spins on one CPU (pinned there) for as long as this value
/// lives: integer work and stores over a buffer larger than a core's L2
/// cache, so a neighbour core shares caches, memory bandwidth and (with
/// SMT) the core itself with the measurement. It is killed on drop, and dies
/// with seccheck (`PR_SET_PDEATHSIG`).
pub struct BusyNeighbour {
    pid: libc::pid_t,
    pub cpu: usize,
}

/// Bytes the neighbour writes over and over.
const NEIGHBOUR_BUFFER: usize = 8 << 20;

impl BusyNeighbour {
    /// Start a spinner pinned to `cpu`.
    pub fn start(cpu: usize) -> Result<BusyNeighbour, OverheadError> {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        if cpus < 2 || cpu >= cpus {
            return Err(OverheadError::Limits(format!(
                "a busy neighbour needs a CPU of its own: CPU {cpu} of {cpus} leaves no other CPU to measure on"
            )));
        }
        // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: cpu < the CPU count, far below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        let mut buffer = vec![0u64; NEIGHBOUR_BUFFER / 8];
        let parent = own_pid();
        // SAFETY: the child touches only `buffer` and `set`, copied by the
        // fork, and makes raw system calls; it never returns (spins until killed).
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(sys_err("fork"));
        }
        if pid == 0 {
            // The oracle children's hygiene (it dies with seccheck), then its CPU.
            if child_hygiene(parent).is_err()
                // SAFETY: sched_setaffinity on this process, reading the local `set`.
                || unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0
            {
                exit_group(1)
            }
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            loop {
                for (i, w) in buffer.iter_mut().enumerate().step_by(8) {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i as u64);
                    *w = std::hint::black_box(x);
                }
            }
        }
        drop(buffer);
        // Wait until it runs pinned (its affinity is readable once set).
        let start = Instant::now();
        loop {
            // SAFETY: `cpu_set_t` is plain old data: all zeroes is a valid (empty) set.
            let mut got: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: sched_getaffinity writes into the local set.
            let r = unsafe { libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &mut got) };
            // SAFETY: reading bits of a local set; cpu < CPU_SETSIZE.
            if r == 0 && unsafe { libc::CPU_COUNT(&got) == 1 && libc::CPU_ISSET(cpu, &got) } {
                break;
            }
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid out-pointer.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                return Err(OverheadError::ChildDied {
                    status: format!("exit status {}", libc::WEXITSTATUS(status)),
                    stage: "pinning the busy neighbour".into(),
                });
            }
            if start.elapsed() > Duration::from_secs(5) {
                reap(&[pid]);
                return Err(OverheadError::Timeout(Duration::from_secs(5)));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(BusyNeighbour { pid, cpu })
    }
}

impl Drop for BusyNeighbour {
    fn drop(&mut self) {
        reap(&[self.pid]);
    }
}

/// Run one measurement. See the module doc for the protocol.
pub fn run(spec: &RunSpec, ctx: &ProbeContext) -> Result<RunResult, OverheadError> {
    if spec.probes.len() > MAX_PROBES || spec.batches as usize > MAX_BATCHES || spec.processes > MAX_PROCESSES {
        return Err(OverheadError::Limits(format!(
            "at most {MAX_PROBES} probes, {MAX_BATCHES} batches and {MAX_PROCESSES} processes per run"
        )));
    }
    if spec.processes == 0 || spec.batches == 0 {
        return Err(OverheadError::Limits("a run needs at least one process and one batch".into()));
    }
    let filters: Vec<Vec<libc::sock_filter>> = spec
        .stack
        .iter()
        .map(|p| p.insns.iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect())
        .collect();
    for (i, f) in filters.iter().enumerate() {
        if f.is_empty() || f.len() > u16::MAX as usize {
            return Err(OverheadError::Limits(format!("filter {i} has {} instructions", f.len())));
        }
    }
    if !spec.stack.is_empty() {
        super::health::check()?;
        // Each child compiles every filter of the stack.
        super::health::pace((spec.stack.len() * spec.processes) as u32);
    }
    let fprogs: Vec<SockFprog> =
        filters.iter().map(|f| SockFprog { len: f.len() as u16, filter: f.as_ptr() as u64 }).collect();
    let calls: Vec<Vec<(u32, [u64; 6])>> = spec.probes.iter().map(|p| ctx.calls(p.probe)).collect();
    let shared = SharedMap::new()?;
    if spec.per_call > MAX_PER_CALL {
        return Err(OverheadError::Limits(format!("at most {MAX_PER_CALL} singly timed calls per probe")));
    }
    let per_call = spec.per_call as usize;
    let area = TickArea::new(spec.processes * spec.probes.len() * per_call)?;
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let affinity = spec.avoid_cpu.map(|c| cpu_set_without(cpus, c));

    let parent = own_pid();
    let mut pids = Vec::with_capacity(spec.processes);
    let result = (|| {
        for index in 0..spec.processes {
            // SAFETY: the child only touches memory prepared above (copied by
            // fork) and makes raw system calls; it never returns (child_main
            // ends in exit_group/exit or spins until killed), never allocates
            // and never takes locks another thread of the parent could hold.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(sys_err("fork"));
            }
            if pid == 0 {
                // SAFETY: see the fork comment; slot index < MAX_PROCESSES.
                unsafe {
                    let width = spec.probes.len() * per_call;
                    let ticks = &area.get()[index * width..(index + 1) * width];
                    child_main(
                        parent,
                        &shared.get().slots[index],
                        &shared.get().go,
                        spec,
                        &fprogs,
                        &calls,
                        ctx,
                        ticks,
                        &affinity,
                    )
                }
            }
            pids.push(pid);
        }
        let sh = shared.get();
        wait_all(sh, &pids, spec, ST_READY, Duration::from_secs(10))?;
        sh.go.store(1, Ordering::Release);
        let budget = expected_duration(spec).saturating_mul(4) + Duration::from_secs(20);
        wait_all(sh, &pids, spec, ST_DONE, budget)?;
        let mut children = Vec::with_capacity(spec.processes);
        let width = spec.probes.len() * per_call;
        for (index, slot) in sh.slots[..spec.processes].iter().enumerate() {
            children.push(
                spec.probes
                    .iter()
                    .enumerate()
                    .map(|(j, plan)| ProbeResult {
                        probe: plan.probe,
                        ns_per_call: if plan.enabled {
                            slot.ticks[j][..spec.batches as usize]
                                .iter()
                                .map(|t| {
                                    t.load(Ordering::Relaxed) as f64 * spec.clock.ns_per_tick
                                        / plan.iterations.max(1) as f64
                                })
                                .collect()
                        } else {
                            Vec::new()
                        },
                        first_returns: if plan.enabled {
                            slot.first[j][..calls[j].len()].iter().map(|r| r.load(Ordering::Relaxed)).collect()
                        } else {
                            Vec::new()
                        },
                        per_call_ns: if plan.enabled {
                            let at = index * width + j * per_call;
                            area.get()[at..at + per_call]
                                .iter()
                                .map(|t| t.load(Ordering::Relaxed) as f64 * spec.clock.ns_per_tick)
                                .collect()
                        } else {
                            Vec::new()
                        },
                    })
                    .collect(),
            );
        }
        Ok(RunResult { children })
    })();
    reap(&pids);
    result
}

/// Kill and reap the children. A child stuck in uninterruptible sleep inside
/// the kernel cannot die; after a bounded wait it is left to be reaped by init
/// rather than hanging the caller.
fn reap(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: kill on our own child has no memory effects.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let start = Instant::now();
    let mut left: Vec<libc::pid_t> = pids.to_vec();
    while !left.is_empty() && start.elapsed() < Duration::from_secs(2) {
        // SAFETY: non-blocking waitpid on our own children, null status pointer allowed.
        left.retain(|&pid| unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) } == 0);
        if !left.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The kernel function a stuck child sleeps in (from `/proc/PID/stack`, root
/// only), to say where the kernel is stuck.
fn kernel_frame(pid: libc::pid_t) -> Option<String> {
    let stack = std::fs::read_to_string(format!("/proc/{pid}/stack")).ok()?;
    let frame = stack.lines().next()?.split_whitespace().nth(1)?.split('+').next()?.to_string();
    Some(frame)
}

fn expected_duration(spec: &RunSpec) -> Duration {
    // A generous guess: 10 µs per call.
    let calls: u64 = spec.probes.iter().filter(|p| p.enabled).map(|p| p.iterations as u64).sum::<u64>()
        * spec.batches as u64
        + spec.probes.iter().filter(|p| p.enabled).count() as u64 * u64::from(spec.per_call);
    Duration::from_micros(calls * 10)
}

/// Wait until every child reached `want`; a dead or failed child is an error.
fn wait_all(
    sh: &Shared,
    pids: &[libc::pid_t],
    spec: &RunSpec,
    want: u32,
    limit: Duration,
) -> Result<(), OverheadError> {
    let start = Instant::now();
    loop {
        let mut all = true;
        for (i, &pid) in pids.iter().enumerate() {
            let slot = &sh.slots[i];
            let st = slot.state.load(Ordering::Acquire);
            if st == ST_FAILED {
                let errno = slot.err.load(Ordering::Acquire);
                let index = slot.err_index.load(Ordering::Acquire) as usize;
                return Err(if slot.stage.load(Ordering::Acquire) == STAGE_INSTALL {
                    if i64::from(errno) == super::path::ENOMEM {
                        OverheadError::PathTooLong { index, explanation: super::path::explain(spec.stack, index) }
                    } else {
                        OverheadError::InstallRefused { index, errno }
                    }
                } else {
                    OverheadError::Sys { call: "child setup", source: std::io::Error::from_raw_os_error(errno) }
                });
            }
            if st >= want {
                continue;
            }
            all = false;
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                let stage = match slot.stage.load(Ordering::Acquire) {
                    STAGE_INSTALL => "installing its filters".to_string(),
                    STAGE_SETUP => "setting up".to_string(),
                    j => format!("calling {}", spec.probes.get(j as usize).map(|p| p.probe.name()).unwrap_or_default()),
                };
                let status = if libc::WIFSIGNALED(status) {
                    format!("signal {}", libc::WTERMSIG(status))
                } else {
                    format!("exit status {}", libc::WEXITSTATUS(status))
                };
                return Err(OverheadError::ChildDied { status, stage });
            }
        }
        if all {
            return Ok(());
        }
        if start.elapsed() > limit {
            let stuck = pids.iter().zip(&sh.slots).find(|(_, slot)| slot.state.load(Ordering::Acquire) < want);
            let stage = stuck.map(|(_, slot)| slot.stage.load(Ordering::Acquire));
            let frame = stuck.and_then(|(&pid, _)| kernel_frame(pid));
            return Err(match (stage, frame) {
                (Some(STAGE_INSTALL), frame) => OverheadError::InstallStuck {
                    limit,
                    frame: frame.unwrap_or_else(|| "unknown (no /proc/PID/stack)".into()),
                },
                _ => OverheadError::Timeout(limit),
            });
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// A system call with all six argument registers given.
#[inline(always)]
///
/// # Safety
/// The call's arguments must be what system call `nr` expects; the probes
/// pass only integers and pointers into the child's own memory.
unsafe fn call6(nr: u32, a: &[u64; 6]) -> i64 {
    // SAFETY: forwarded to the caller; `__errno_location` is this thread's
    // errno, valid for reading right after the call that set it.
    unsafe {
        let r = libc::syscall(nr as libc::c_long, a[0], a[1], a[2], a[3], a[4], a[5]);
        if r < 0 {
            -(*libc::__errno_location() as i64)
        } else {
            r
        }
    }
}

/// The child: the oracle children's prologue (`super::prologue`: hygiene,
/// then its CPUs and descriptors, then not dumpable and no_new_privs, then
/// the filters), wait for the start, measure, exit. Never returns.
///
/// # Safety
/// Must run in a freshly forked child; `slot`/`go`/`per_call` point into the
/// shared mappings, the other references into memory the fork copied, and
/// every `fprogs` entry points to instructions readable there.
#[allow(clippy::too_many_arguments)]
unsafe fn child_main(
    parent: i64,
    slot: &Slot,
    go: &AtomicU32,
    spec: &RunSpec,
    fprogs: &[SockFprog],
    calls: &[Vec<(u32, [u64; 6])>],
    ctx: &ProbeContext,
    per_call: &[AtomicU32],
    affinity: &Option<libc::cpu_set_t>,
) -> ! {
    // SAFETY: the caller's contract: a freshly forked child, `slot`, `go` and
    // `per_call` in the shared mappings, everything else in the fork's copy;
    // the prologue's raw system calls and the libc calls are async-signal-safe
    // system call wrappers on that memory.
    unsafe {
        let fail = |errno: i32, index: u32| -> ! {
            slot.err.store(errno, Ordering::Release);
            slot.err_index.store(index, Ordering::Release);
            slot.state.store(ST_FAILED, Ordering::Release);
            exit_group(1)
        };
        slot.stage.store(STAGE_SETUP, Ordering::Release);
        if let Err((_, errno)) = child_hygiene(parent) {
            fail(errno as i32, 0)
        }
        if let Some(set) = affinity {
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0 {
                fail(*libc::__errno_location(), 0);
            }
        }
        // Fixed descriptors 3, 4, 5 (module doc).
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..1024 {
                libc::close(fd);
            }
        }
        let zero = libc::open(ctx.dev_zero.as_ptr(), libc::O_RDONLY);
        let null = libc::open(ctx.path.as_ptr(), libc::O_WRONLY);
        let ep = libc::epoll_create1(0);
        if zero != FD_ZERO as i32 || null != FD_NULL as i32 || ep != FD_EPOLL as i32 {
            fail(*libc::__errno_location(), 0);
        }
        // A filter that kills must not leave core dumps behind; no_new_privs
        // lets an unprivileged child install the stack (harmless without one).
        if let Err((_, errno)) = lock_down() {
            fail(errno as i32, 0)
        }
        slot.stage.store(STAGE_INSTALL, Ordering::Release);
        for (i, fp) in fprogs.iter().enumerate() {
            let r = set_filter(0, fp);
            if r < 0 {
                fail(-r as i32, i as u32);
            }
        }
        // From here on: only the probes' own syscalls.
        slot.state.store(ST_READY, Ordering::Release);
        while go.load(Ordering::Acquire) == 0 {
            std::hint::spin_loop();
        }
        // Warm-up iteration, recording what each call returned.
        for (j, plan) in spec.probes.iter().enumerate() {
            if !plan.enabled {
                continue;
            }
            slot.stage.store(j as u32, Ordering::Release);
            for (c, (nr, args)) in calls[j].iter().enumerate() {
                slot.first[j][c].store(call6(*nr, args), Ordering::Relaxed);
            }
        }
        let n = spec.probes.len();
        for b in 0..spec.batches as usize {
            for step in 0..n {
                // Rotate the order every batch so no probe always runs first.
                let j = (b + step) % n;
                let plan = &spec.probes[j];
                if !plan.enabled {
                    continue;
                }
                slot.stage.store(j as u32, Ordering::Relaxed);
                let cs = &calls[j];
                let t0 = ticks();
                for _ in 0..plan.iterations {
                    for (nr, args) in cs {
                        std::hint::black_box(call6(*nr, args));
                    }
                }
                let t1 = ticks();
                slot.ticks[j][b].store(t1.wrapping_sub(t0), Ordering::Relaxed);
            }
        }
        let each = spec.per_call as usize;
        for i in 0..each {
            for step in 0..n {
                let j = (i + step) % n;
                if !spec.probes[j].enabled {
                    continue;
                }
                slot.stage.store(j as u32, Ordering::Relaxed);
                let t0 = ticks();
                for (nr, args) in &calls[j] {
                    std::hint::black_box(call6(*nr, args));
                }
                let t1 = ticks();
                per_call[j * each + i].store(t1.wrapping_sub(t0).min(u64::from(u32::MAX)) as u32, Ordering::Relaxed);
            }
        }
        slot.state.store(ST_DONE, Ordering::Release);
        libc::syscall(libc::SYS_exit_group, 0);
        libc::syscall(libc::SYS_exit, 0);
        loop {
            std::hint::spin_loop();
        }
    }
}

/// `ld [0]` repeated, then `ret ALLOW`: constant ALLOW for every `nr`, so the
/// kernel caches every in-range number, and out-of-range numbers run all
/// `len` instructions.
pub fn cacheable_chain(len: usize) -> Program {
    use crate::bpf::insn::*;
    let mut insns = vec![Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0); len.saturating_sub(1).max(1)];
    insns.push(Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW));
    Program::new(insns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(probe: Probe, enabled: bool) -> ProbePlan {
        ProbePlan { probe, iterations: 20, enabled }
    }

    #[test]
    fn baseline_runs_report_every_enabled_probe() {
        let ctx = ProbeContext::new();
        let clock = TickClock::calibrate(Duration::from_millis(5));
        assert!(clock.ns_per_tick > 0.0);
        let probes: Vec<ProbePlan> = Probe::HOT.iter().map(|&p| plan(p, true)).collect();
        let r = run(
            &RunSpec { stack: &[], probes: &probes, processes: 2, batches: 2, clock, per_call: 5, avoid_cpu: None },
            &ctx,
        )
        .unwrap();
        assert_eq!(r.children.len(), 2);
        for child in &r.children {
            for p in child {
                assert_eq!(p.ns_per_call.len(), 2, "{:?}", p.probe);
                assert_eq!(p.per_call_ns.len(), 5, "{:?}", p.probe);
                assert!(p.per_call_ns.iter().all(|&ns| ns > 0.0), "{:?}: every single call was timed", p.probe);
                assert!(p.ns_per_call.iter().all(|&ns| ns > 0.0));
                assert!(p.first_returns.iter().all(|&ret| ret >= 0), "{:?} failed: {:?}", p.probe, p.first_returns);
            }
        }
    }

    /// One child, one batch, no singly timed calls, under a filter that
    /// returns `action` for syscall `nr` and allows every other call; `None`
    /// (counted as skipped) where the kernel cannot load filters.
    fn run_under_one_rule(nr: i64, action: u32, probes: &[ProbePlan]) -> Option<Result<RunResult, OverheadError>> {
        if let Err(e) = super::super::health::check() {
            crate::testgen::skip::skip(crate::testgen::skip::Need::Kernel, &e.to_string());
            return None;
        }
        use crate::bpf::insn::*;
        let filter = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, nr as u32, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, action),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let clock = TickClock { ns_per_tick: 1.0, source: "tsc" };
        let spec = RunSpec { stack: &[filter], probes, processes: 1, batches: 1, clock, per_call: 0, avoid_cpu: None };
        Some(run(&spec, &ProbeContext::new()))
    }

    #[test]
    fn denied_probes_are_measured_as_errors_and_disabled_ones_never_run() {
        // getpid denied with EPERM by the filter: measured as such, other probes untouched.
        let probes = [plan(Probe::Getpid, true), plan(Probe::Read, true), plan(Probe::Write, false)];
        let Some(r) = run_under_one_rule(libc::SYS_getpid, 0x0005_0001, &probes) else { return };
        let r = r.unwrap();
        let c = &r.children[0];
        assert_eq!(c[0].first_returns, vec![-1]);
        assert_eq!(c[1].first_returns, vec![1], "read returns one byte");
        assert!(c[2].ns_per_call.is_empty() && c[2].first_returns.is_empty() && c[2].per_call_ns.is_empty());
    }

    #[test]
    fn a_killing_filter_is_reported_with_the_probe_it_killed() {
        let probes = [plan(Probe::Getpid, true), plan(Probe::Read, true)];
        let Some(r) = run_under_one_rule(libc::SYS_read, 0x8000_0000, &probes) else { return };
        match r.unwrap_err() {
            OverheadError::ChildDied { stage, .. } => assert_eq!(stage, "calling read"),
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn a_busy_neighbour_spins_pinned_and_dies_with_its_value() {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        if cpus < 2 {
            assert!(matches!(BusyNeighbour::start(0), Err(OverheadError::Limits(_))));
            return;
        }
        assert!(matches!(BusyNeighbour::start(cpus), Err(OverheadError::Limits(_))), "no such CPU");
        let n = BusyNeighbour::start(cpus - 1).unwrap();
        let pid = n.pid;
        let cpu_time = || -> u64 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let f: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap() // utime + stime
        };
        let t0 = cpu_time();
        std::thread::sleep(Duration::from_millis(300));
        assert!(cpu_time() > t0, "the neighbour runs");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let allowed = status.lines().find(|l| l.starts_with("Cpus_allowed_list:")).unwrap();
        assert_eq!(allowed.split_whitespace().nth(1), Some((cpus - 1).to_string().as_str()), "{allowed}");
        // Children avoid its CPU and still measure.
        let ctx = ProbeContext::new();
        let clock = TickClock { ns_per_tick: 1.0, source: "tsc" };
        let probes = [plan(Probe::Getpid, true)];
        let spec = RunSpec {
            stack: &[],
            probes: &probes,
            processes: 2,
            batches: 1,
            clock,
            per_call: 3,
            avoid_cpu: Some(n.cpu),
        };
        let r = run(&spec, &ctx).unwrap();
        assert!(r.children.iter().all(|c| c[0].per_call_ns.len() == 3));
        drop(n);
        // SAFETY: kill with signal 0 only checks that the pid exists.
        assert_eq!(unsafe { libc::kill(pid, 0) }, -1, "reaped on drop");
    }

    #[test]
    fn inputs_name_the_fixed_descriptors() {
        let ctx = ProbeContext::new();
        let d = ctx.inputs(Probe::OpenatClose);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].args[0] as i64, libc::AT_FDCWD as i64);
        assert_eq!(d[1].args[0], FD_OPENAT);
        assert_eq!(ctx.inputs(Probe::Read)[0].args[..3], [FD_ZERO, ctx.buf.as_ptr() as u64, 1]);
    }
}
