//! Which action does the kernel take for one system call under a filter stack?
//!
//! A [`Prober`] keeps a forked, ptrace-seized child per configuration. The
//! child (the thread-group leader, "the prober thread") installs:
//!
//! 1. a **probe filter** P0, oldest of all, that returns
//!    `SECCOMP_RET_TRACE | marker` when `instruction_pointer` is one of the two
//!    probe sites (`syscall` / `int 0x80` in `sys.rs`) and `ALLOW` otherwise;
//! 2. the filters under test, in order (newest last). Each install is itself a
//!    system call that the filters installed before it judge, so several
//!    encodings are tried — `seccomp(2)` and `prctl(PR_SET_SECCOMP)` through
//!    `syscall`, `int 0x80` and x32 — and one that is refused, trapped or
//!    killed is replaced by the next (the child is restarted after a kill).
//!
//! and then runs the probe loop: `int3`; the tracer writes the probe's
//! registers; `PTRACE_SYSCALL` gives the syscall-entry stop, where
//! `PTRACE_GET_SYSCALL_INFO` returns the exact `seccomp_data` (same helpers
//! as `populate_seccomp_data`, kernel/seccomp.c); `PTRACE_CONT` lets seccomp
//! decide. `seccomp_run_filters` keeps the lowest `ACTION_ONLY` value, newest
//! filter first, strict `<` (ties keep the newest filter's data), so P0's
//! `TRACE` wins exactly when every filter under test returned something above
//! `TRACE` — `ALLOW`, `LOG` or an unknown value there — and then the system
//! call is skipped at the trace stop instead of running. How each action is
//! recognised (`__seccomp_filter`, kernel/seccomp.c, Linux 6.18):
//!
//! * **TRACE(d)**: a `PTRACE_EVENT_SECCOMP` stop (`ptrace_event(PTRACE_EVENT_SECCOMP,
//!   data)`; the options include `PTRACE_O_TRACESECCOMP`); `PTRACE_GETEVENTMSG`
//!   is `d`. The tracer sets `orig_rax = -1`, so `this_syscall < 0` skips the
//!   call. If `d` is P0's marker the winner may be P0 (stack above TRACE,
//!   [`KernelAction::AboveTrace`]) or a filter returning `TRACE(marker)`: the
//!   marker avoids every `RET K` TRACE datum in the stack, and when a filter
//!   has `RET A` a second child with another marker decides.
//! * **ERRNO(d)**: `syscall_set_return_value(-data)` and skip; the loop's next
//!   `int3` stops with `rax = -d` (`d` capped at `MAX_ERRNO`).
//! * **TRAP(d)**: `force_sig_seccomp(this_syscall, data, false)`: a SIGSYS
//!   signal-delivery-stop; `PTRACE_GETSIGINFO` has `si_code = SYS_SECCOMP`,
//!   `si_errno = d`, `si_syscall`, `si_arch`, `si_call_addr` (checked against
//!   the entry data). The signal is suppressed.
//! * **KILL_PROCESS** (and unknown values below TRACE, the `default:` case):
//!   `force_sig_seccomp(.., true)` marks SIGSYS `SA_IMMUTABLE`, so there is no
//!   stop: the process dies of SIGSYS. `PR_SET_DUMPABLE` 0 and `RLIMIT_CORE` 0
//!   keep it from dumping core.
//! * **KILL_THREAD**: `do_exit(SIGSYS)` for the calling thread only — but only
//!   if `atomic_read(&current->signal->live) != 1`; a single-threaded process
//!   is killed like KILL_PROCESS. So the child starts an unfiltered helper
//!   thread H1 before any filter exists. The prober registered its thread id
//!   word with `set_tid_address`; its exit clears the word and wakes futex
//!   waiters (`mm_release`), H1 wakes and calls `exit_group(EXIT_THREAD_KILLED)`.
//!   Under KILL_PROCESS the group exit (`SIGNAL_GROUP_EXIT`) is set before the
//!   prober's `mm_release`, so the status stays "killed by SIGSYS". H1 also
//!   ends a child that has been stuck in one probe for `TIMEOUT_SECS`.
//! * **USER_NOTIF**: without a listener `seccomp_do_user_notification` returns
//!   `-ENOSYS`, indistinguishable from ERRNO(38). So the newest filter that
//!   may return USER_NOTIF (a `RET K` with that action, or any `RET A`) is
//!   installed with `SECCOMP_FILTER_FLAG_NEW_LISTENER`; a second unfiltered
//!   helper thread H2 (sharing the fd table) receives notifications,
//!   records them (with their `seccomp_data`) and answers `-ENOSYS`. Only one
//!   listener per chain is allowed (`has_duplicate_listener`) and only the
//!   *matching* filter's listener is used (`match->notif`), so when the answer
//!   is ERRNO(38) and there are more candidates, a child with the listener on
//!   the next candidate repeats the probe.
//! * **ALLOW / LOG**: the kernel runs the system call; the oracle never lets
//!   that happen, so both end as P0's TRACE: [`KernelAction::AboveTrace`].
//! * **no filter at all**: x86-64 `uretprobe`/`uprobe` skip every filter, P0
//!   included (`seccomp_uprobe_exception`), so the one calls the oracle cannot
//!   stop do run; outside a uprobe trampoline `uretprobe` raises SIGILL (which
//!   is suppressed) and `uprobe` returns `-ENXIO`: [`KernelAction::Bypassed`].
//!
//! The child only uses raw system calls from prepared buffers (it was forked
//! from a multi-threaded process), dies with the tracer (`PTRACE_O_EXITKILL`,
//! `PR_SET_PDEATHSIG`), and is always reaped. Its side is `child.rs`; this
//! file is the parent's (the tracer): plans, shared page, the ptrace dialogue.

mod child;

use super::prologue::{SetupReport, EXIT_SETUP_FAILED};
use super::sys::{self, *};
use super::validate::{fork, kill_and_reap, own_pid};
use super::{Abi, KernelAction, KernelOutcome, OracleError, OracleInput, MAX_FPROG_LEN, MAX_STACK};
use crate::bpf::insn::*;
use crate::bpf::Program;
use crate::seccomp::SeccompData;
use crate::uapi::{
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_TRACE, SECCOMP_RET_USER_NOTIF, X32_SYSCALL_BIT,
};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

/// `ENXIO` (include/uapi/asm-generic/errno-base.h).
const ENXIO: i64 = 6;

/// Exit code of the child when the prober thread alone was killed.
const EXIT_THREAD_KILLED: i32 = 0x4b;
/// Exit code of the child when a probe got stuck.
const EXIT_TIMEOUT: i32 = 0x54;

const PHASE_INSTALLING: u32 = 1;
const PHASE_LISTENER_READY: u32 = 2;
const PHASE_INSTALL_FAILED: u32 = 3;
const PHASE_READY: u32 = 4;
const PHASE_SETUP_FAILED: u32 = 5;
/// Setup step index of the probe filter install (after validate's steps).
const STEP_PROBE_FILTER: u32 = 100;

/// Install encodings, tried in this order.
const ENCODINGS: [&str; 6] = [
    "seccomp() via syscall",
    "prctl(PR_SET_SECCOMP) via syscall",
    "seccomp() via int 0x80",
    "prctl(PR_SET_SECCOMP) via int 0x80",
    "seccomp() via x32 syscall",
    "prctl(PR_SET_SECCOMP) via x32 syscall",
];
const NUM_ENC: usize = ENCODINGS.len();
/// Attempt results in shared memory: not tried / skipped / trapped
/// (0 = installed, negative = -errno).
const ATTEMPT_NOT_TRIED: i64 = 1;
const ATTEMPT_SKIPPED: i64 = 2;
/// The tracer puts this into rax when an install attempt was TRAPped: no
/// system call returns it (errors stop at -MAX_ERRNO).
const ATTEMPT_TRAPPED: i64 = -4096;

/// Memory shared between the parent and one child (`MAP_SHARED`). Field
/// order matters only for `regs`, which the probe loop reads at offset 0.
#[repr(C)]
struct ProbeShared {
    regs: ProbeRegs,
    go: AtomicU32,
    listener_go: AtomicU32,
    phase: AtomicU32,
    busy: AtomicU32,
    seq: AtomicU32,
    tid_word: AtomicU32,
    progress: AtomicU32,
    notif_count: AtomicU32,
    listener_fd: AtomicI64,
    h2_error: AtomicI64,
    notif: [AtomicU64; 10],
    setup: SetupReport,
    attempts: [[AtomicI64; NUM_ENC]; MAX_STACK],
}

/// Everything a child needs, prepared before the fork (the child reads its
/// copy; it allocates nothing).
#[derive(Clone, Copy)]
struct ChildPlan {
    shared: u64,
    parent: i64,
    n: usize,
    fprog64: [u64; MAX_STACK],
    fprog32: [u32; MAX_STACK],
    p0: u64,
    /// Index of the filter installed with a listener (`>= n`: none).
    listener: usize,
    start_enc: [u8; MAX_STACK],
    h1_stack_top: u64,
    h2_stack_top: u64,
}

/// Which probe filter marker and which listener a child uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Config {
    marker: u16,
    listener: Option<usize>,
}

struct Slot {
    cfg: Config,
    shared: Mapping,
    pid: Option<i32>,
    start_enc: [u8; MAX_STACK],
    /// What happened to install attempts that killed a child.
    killed: Vec<(usize, usize, String)>,
}

impl Slot {
    fn sh(&self) -> &ProbeShared {
        // SAFETY: the mapping holds a ProbeShared, zero-initialised (valid for
        // its atomics and plain integers), and lives as long as the slot.
        unsafe { &*(self.shared.addr as *const ProbeShared) }
    }
}

/// Counters for reporting throughput.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProberStats {
    /// Inputs answered by [`Prober::probe`].
    pub probes: u64,
    /// System calls issued in children (more than `probes` when a second
    /// marker or listener position is needed).
    pub kernel_probes: u64,
    /// Children started.
    pub spawns: u64,
}

/// Probes one filter stack with many inputs, reusing its children: a child
/// survives every outcome except the KILL actions.
pub struct Prober {
    n: usize,
    arena: Mapping,
    stacks: Mapping,
    p0_insns: usize,
    fprog64: [u64; MAX_STACK],
    fprog32: [u32; MAX_STACK],
    p0: u64,
    has_ret_a: bool,
    /// Filters that may return USER_NOTIF, newest first.
    notif_candidates: Vec<usize>,
    markers: [u16; 2],
    slots: Vec<Slot>,
    parent: i64,
    /// Converted lengths of the filters under test (0 for one the kernel
    /// refuses on its own) and of the current P0, to explain an ENOMEM.
    lengths: Vec<usize>,
    p0_converted: usize,
    pub stats: ProberStats,
}

const HELPER_STACK: usize = 64 * 1024;
const P0_LEN: usize = 10;

/// Where the action for one input under one configuration came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Raw {
    KillProcess,
    KillThread,
    Trap(u16),
    Errno(u16),
    UserNotif,
    Trace(u16),
    Bypassed,
}

impl Prober {
    /// Prepare to probe `stack` (installation order: `stack[0]` oldest).
    pub fn new(stack: &[Program]) -> Result<Prober, OracleError> {
        super::health::check()?;
        if stack.is_empty() {
            return Err(OracleError::EmptyStack);
        }
        if stack.len() > MAX_STACK {
            return Err(OracleError::StackTooDeep { len: stack.len() });
        }
        if let Some(p) = stack.iter().find(|p| p.len() > MAX_FPROG_LEN) {
            return Err(OracleError::TooLong { len: p.len() });
        }
        // Low arena: [P0 fprog 16][P0 insns] then per filter [fprog 16][compat 8][insns].
        let size = 16 + P0_LEN * 8 + stack.iter().map(|p| 24 + p.len() * 8).sum::<usize>();
        let arena = Mapping::new(size, false, true).map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
        let stacks =
            Mapping::new(2 * HELPER_STACK, false, false).map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
        let base = arena.addr as u64;
        if base + size as u64 > u32::MAX as u64 {
            return Err(OracleError::Unexpected("MAP_32BIT mapping above 4 GiB".into()));
        }
        let mut fprog64 = [0u64; MAX_STACK];
        let mut fprog32 = [0u32; MAX_STACK];
        let p0_insns = 16;
        // SAFETY: every write below stays inside the arena (sized above) and
        // is suitably aligned (all offsets are multiples of 8).
        unsafe {
            (arena.addr as *mut SockFprog).write(SockFprog { len: P0_LEN as u16, filter: base + p0_insns as u64 });
            let mut off = p0_insns + P0_LEN * 8;
            for (i, p) in stack.iter().enumerate() {
                let insns = base + off as u64 + 24;
                (arena.addr.add(off) as *mut SockFprog).write(SockFprog { len: p.len() as u16, filter: insns });
                (arena.addr.add(off + 16) as *mut CompatSockFprog)
                    .write(CompatSockFprog { len: p.len() as u16, filter: insns as u32 });
                let bytes = p.to_bytes();
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), insns as *mut u8, bytes.len());
                fprog64[i] = base + off as u64;
                fprog32[i] = (base + off as u64 + 16) as u32;
                off += 24 + bytes.len();
            }
        }
        let mut trace_data = std::collections::HashSet::new();
        let mut has_ret_a = false;
        let mut notif_candidates = Vec::new();
        for (i, p) in stack.iter().enumerate().rev() {
            let mut may_notify = false;
            for ins in &p.insns {
                if ins.code == BPF_RET | BPF_A {
                    has_ret_a = true;
                    may_notify = true;
                } else if ins.code == BPF_RET | BPF_K {
                    match ins.k & SECCOMP_RET_ACTION_FULL {
                        SECCOMP_RET_TRACE => {
                            trace_data.insert(ins.k as u16);
                        }
                        SECCOMP_RET_USER_NOTIF => may_notify = true,
                        _ => {}
                    }
                }
            }
            if may_notify {
                notif_candidates.push(i);
            }
        }
        let mut free = (0..=u16::MAX).rev().filter(|d| !trace_data.contains(d));
        let markers = [free.next().unwrap_or(0), free.next().unwrap_or(1)];
        let lengths =
            stack.iter().map(|p| crate::bpf::validate(p).map(|v| crate::bpf::converted_len(&v)).unwrap_or(0)).collect();
        Ok(Prober {
            lengths,
            p0_converted: 0,
            n: stack.len(),
            p0: base,
            arena,
            stacks,
            p0_insns,
            fprog64,
            fprog32,
            has_ret_a,
            notif_candidates,
            markers,
            slots: Vec::new(),
            parent: own_pid(),
            stats: ProberStats::default(),
        })
    }

    /// The probe filter for `marker`: TRACE|marker at either probe site.
    fn write_p0(&mut self, marker: u16) {
        let site = |ip: u64| ((ip >> 32) as u32, ip as u32);
        let (a_hi, a_lo) = site(probe_syscall_ip());
        let (b_hi, b_lo) = site(probe_int80_ip());
        // seccomp_data: instruction_pointer at 8 (low word on x86) and 12.
        let p0 = [
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 12),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, a_hi, 0, 2),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 8),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, a_lo, 4, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 12),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, b_hi, 0, 3),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 8),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, b_lo, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE | marker as u32),
            Insn::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        ];
        let p0_program = Program::new(p0.to_vec());
        self.p0_converted = crate::bpf::validate(&p0_program).map(|v| crate::bpf::converted_len(&v)).unwrap_or(0);
        let bytes: Vec<u8> = p0.iter().flat_map(|i| i.to_bytes()).collect();
        // SAFETY: P0's slot in the arena holds exactly P0_LEN instructions.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.arena.addr.add(self.p0_insns), bytes.len());
        }
    }

    fn slot_index(&mut self, cfg: Config) -> Result<usize, OracleError> {
        if let Some(i) = self.slots.iter().position(|s| s.cfg == cfg) {
            return Ok(i);
        }
        let shared = Mapping::new(std::mem::size_of::<ProbeShared>(), true, false)
            .map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
        self.slots.push(Slot { cfg, shared, pid: None, start_enc: [0; MAX_STACK], killed: Vec::new() });
        Ok(self.slots.len() - 1)
    }

    /// Start the child of slot `si` and bring it to the probe loop.
    fn spawn(&mut self, si: usize) -> Result<i32, OracleError> {
        let cfg = self.slots[si].cfg;
        self.write_p0(cfg.marker);
        for _ in 0..=(self.n * NUM_ENC + 1) {
            // P0 and every filter of the stack get JIT-compiled.
            super::health::pace(self.n as u32 + 1);
            let slot = &self.slots[si];
            // SAFETY: the slot's mapping holds a ProbeShared; no child uses it now.
            unsafe { std::ptr::write_bytes(slot.shared.addr, 0, std::mem::size_of::<ProbeShared>()) };
            let sh = slot.sh();
            for row in &sh.attempts {
                for a in row {
                    a.store(ATTEMPT_NOT_TRIED, Ordering::Relaxed);
                }
            }
            sh.busy.store(1, Ordering::Release);
            let stacks = self.stacks.addr as u64;
            let plan = ChildPlan {
                shared: slot.shared.addr as u64,
                parent: self.parent,
                n: self.n,
                fprog64: self.fprog64,
                fprog32: self.fprog32,
                p0: self.p0,
                listener: cfg.listener.unwrap_or(MAX_STACK),
                start_enc: slot.start_enc,
                h1_stack_top: stacks + HELPER_STACK as u64,
                h2_stack_top: stacks + 2 * HELPER_STACK as u64,
            };
            // SAFETY: the child runs only `probe_child`: raw system calls on
            // prepared memory, never returning.
            let pid = unsafe { fork()? };
            if pid == 0 {
                // SAFETY: `plan` is valid in the child's copy of our memory.
                unsafe { child::probe_child(&plan) }
            }
            self.stats.spawns += 1;
            let opts = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
            // SAFETY: PTRACE_SEIZE takes the options in `data`.
            let r = unsafe { sys::ptrace(PTRACE_SEIZE, pid, 0, opts) };
            if r < 0 {
                kill_and_reap(pid);
                return Err(OracleError::Sys { what: "ptrace(PTRACE_SEIZE)", errno: -r });
            }
            let sh = self.slots[si].sh();
            sh.go.store(1, Ordering::Release);
            // SAFETY: futex word in the shared mapping.
            unsafe { futex_wake(&sh.go as *const AtomicU32 as *const u32) };
            match self.install_phase(si, pid)? {
                Some(pid) => {
                    self.slots[si].pid = Some(pid);
                    return Ok(pid);
                }
                None => continue,
            }
        }
        Err(self.install_error(si, self.n.saturating_sub(1)))
    }

    /// Follow the child through its installs. `Ok(None)`: an attempt killed
    /// it, try again with the next encoding.
    fn install_phase(&mut self, si: usize, pid: i32) -> Result<Option<i32>, OracleError> {
        loop {
            let status = match sys::wait(pid, 0) {
                Ok(Some(s)) => WaitStatus::from_raw(s),
                Ok(None) => continue,
                Err(errno) => return Err(OracleError::Sys { what: "wait4", errno }),
            };
            let sh = self.slots[si].sh();
            let phase = sh.phase.load(Ordering::Acquire);
            match status {
                WaitStatus::Stopped(s) if s == SIGTRAP => match phase {
                    PHASE_READY => return Ok(Some(pid)),
                    PHASE_LISTENER_READY => {
                        sh.phase.store(PHASE_INSTALLING, Ordering::Release);
                        sh.listener_go.store(1, Ordering::Release);
                        // SAFETY: futex word in the shared mapping.
                        unsafe { futex_wake(&sh.listener_go as *const AtomicU32 as *const u32) };
                        cont(pid)?;
                    }
                    PHASE_INSTALL_FAILED => {
                        let i = (sh.progress.load(Ordering::Acquire) / 16) as usize;
                        kill_and_reap(pid);
                        return Err(self.install_error(si, i));
                    }
                    p => {
                        kill_and_reap(pid);
                        return Err(OracleError::Unexpected(format!("breakpoint in phase {p} while installing")));
                    }
                },
                // A filter said TRACE to an install: let it run.
                WaitStatus::Stopped(s) if s == SIGTRAP | (PTRACE_EVENT_SECCOMP << 8) => cont(pid)?,
                // A filter said TRAP to an install: make it fail instead.
                WaitStatus::Stopped(s) if s == SIGSYS => {
                    poke_user(pid, USER_REGS_RAX, ATTEMPT_TRAPPED as u64)?;
                    cont(pid)?;
                }
                WaitStatus::Stopped(s) => {
                    // Some other signal during an install (e.g. SIGSEGV from
                    // `int 0x80` without IA32 emulation): count the attempt as
                    // failed and start over.
                    let (i, e) = progress(sh);
                    kill_and_reap(pid);
                    self.note_killed(si, i, e, format!("stopped by signal {}", s & 0x7f));
                    return Ok(None);
                }
                WaitStatus::Exited(c) if c == EXIT_SETUP_FAILED => {
                    let step = sh.setup.step.load(Ordering::Acquire);
                    let errno = sh.setup.errno.load(Ordering::Acquire);
                    return Err(if step == STEP_PROBE_FILTER {
                        OracleError::SeccompUnavailable { errno }
                    } else {
                        sh.setup.error()
                    });
                }
                WaitStatus::Exited(c) if c == EXIT_TIMEOUT => return Err(OracleError::Timeout),
                WaitStatus::Exited(_) | WaitStatus::Signaled(_) if phase == PHASE_INSTALLING => {
                    let (i, e) = progress(sh);
                    self.note_killed(si, i, e, describe_death(status));
                    return Ok(None);
                }
                other => {
                    if !matches!(other, WaitStatus::Exited(_) | WaitStatus::Signaled(_)) {
                        kill_and_reap(pid);
                    }
                    return Err(OracleError::Unexpected(format!("child ended with {other:?} in phase {phase}")));
                }
            }
        }
    }

    fn note_killed(&mut self, si: usize, i: usize, e: usize, what: String) {
        let slot = &mut self.slots[si];
        if i < MAX_STACK {
            slot.start_enc[i] = (e + 1) as u8;
        }
        slot.killed.push((i, e, what));
    }

    fn install_error(&self, si: usize, index: usize) -> OracleError {
        let slot = &self.slots[si];
        let sh = slot.sh();
        let mut parts = Vec::new();
        let mut first_errno = None;
        for (e, name) in ENCODINGS.iter().enumerate() {
            let killed = slot.killed.iter().find(|(i, k, _)| *i == index && *k == e);
            let what = if let Some((_, _, w)) = killed {
                w.clone()
            } else {
                match sh.attempts[index.min(MAX_STACK - 1)][e].load(Ordering::Acquire) {
                    ATTEMPT_NOT_TRIED => continue,
                    ATTEMPT_SKIPPED => "skipped (no flags through prctl)".to_string(),
                    ATTEMPT_TRAPPED => "trapped".to_string(),
                    r => {
                        first_errno.get_or_insert(-r);
                        format!("errno {}", -r)
                    }
                }
            };
            parts.push(format!("{name}: {what}"));
        }
        // ENOMEM is the stack's path length (`seccomp_attach_filter`), P0
        // below the filters under test counting too.
        if first_errno == Some(super::path::ENOMEM) {
            let mut lengths = vec![self.p0_converted];
            lengths.extend(&self.lengths);
            let own = super::path::own_filter_count();
            let explanation = format!(
                "{} (the oracle's probe filter is filter 1)",
                super::path::explain_lengths(&lengths, index + 1, own)
            );
            return OracleError::PathTooLong { index, explanation };
        }
        // Under the probe filter alone (index 0) the first answer is the
        // kernel's own verdict on the program.
        if index == 0 && slot.killed.is_empty() {
            if let Some(errno) = first_errno {
                return OracleError::FilterRejected { index, errno };
            }
        }
        OracleError::CannotInstall { index, attempts: parts.join("; ") }
    }

    /// The action the kernel takes for `input` under the stack, and the
    /// `seccomp_data` it built.
    pub fn probe(&mut self, input: &OracleInput) -> Result<KernelOutcome, OracleError> {
        let first = Config { marker: self.markers[0], listener: self.notif_candidates.first().copied() };
        let (raw, data) = self.raw(first, input)?;
        let action = match raw {
            Raw::Errno(38) if self.notif_candidates.len() > 1 => {
                let mut action = KernelAction::Errno(38);
                for k in 1..self.notif_candidates.len() {
                    let cfg = Config { marker: self.markers[0], listener: Some(self.notif_candidates[k]) };
                    match self.raw(cfg, input)? {
                        (Raw::UserNotif, d) if d == data => {
                            action = KernelAction::UserNotif;
                            break;
                        }
                        (Raw::Errno(38), d) if d == data => {}
                        (r, d) => {
                            return Err(OracleError::Inconsistent(format!(
                                "moving the listener changed {:?} on {data:?} into {r:?} on {d:?}",
                                Raw::Errno(38)
                            )))
                        }
                    }
                }
                action
            }
            Raw::Trace(m) if m == self.markers[0] => {
                if self.has_ret_a {
                    let cfg = Config { marker: self.markers[1], ..first };
                    match self.raw(cfg, input)? {
                        (Raw::Trace(m2), d) if m2 == self.markers[1] && d == data => KernelAction::AboveTrace,
                        (Raw::Trace(m1), d) if m1 == m && d == data => KernelAction::Trace(m),
                        (r, d) => {
                            return Err(OracleError::Inconsistent(format!(
                                "changing the probe marker changed TRACE({m}) on {data:?} into {r:?} on {d:?}"
                            )))
                        }
                    }
                } else {
                    KernelAction::AboveTrace
                }
            }
            Raw::KillProcess => KernelAction::KillProcess,
            Raw::KillThread => KernelAction::KillThread,
            Raw::Trap(d) => KernelAction::Trap(d),
            Raw::Errno(d) => KernelAction::Errno(d),
            Raw::UserNotif => KernelAction::UserNotif,
            Raw::Trace(d) => KernelAction::Trace(d),
            Raw::Bypassed => KernelAction::Bypassed,
        };
        self.stats.probes += 1;
        Ok(KernelOutcome { action, data })
    }

    /// [`Prober::probe`] for each input in turn.
    pub fn probe_all(&mut self, inputs: &[OracleInput]) -> Result<Vec<KernelOutcome>, OracleError> {
        inputs.iter().map(|i| self.probe(i)).collect()
    }

    /// One system call in the child of `cfg`.
    fn raw(&mut self, cfg: Config, input: &OracleInput) -> Result<(Raw, SeccompData), OracleError> {
        let si = self.slot_index(cfg)?;
        let pid = match self.slots[si].pid {
            Some(pid) => pid,
            None => self.spawn(si)?,
        };
        self.stats.kernel_probes += 1;
        let slot = &self.slots[si];
        let sh = slot.sh();
        let regs = ProbeRegs {
            via_int80: (input.abi == Abi::I386) as u64,
            rax: match input.abi {
                Abi::X32 => u64::from(input.nr | X32_SYSCALL_BIT),
                _ => input.nr as u64,
            },
            args: input.args,
        };
        // SAFETY: the child is stopped at the probe loop's int3 and reads the
        // registers only after we resume it.
        unsafe { std::ptr::write_volatile(slot.shared.addr as *mut ProbeRegs, regs) };
        sh.seq.fetch_add(1, Ordering::AcqRel);
        sh.busy.store(1, Ordering::Release);
        let notifs = sh.notif_count.load(Ordering::Acquire);
        let result = self.step(si, pid, input, notifs);
        let slot = &mut self.slots[si];
        slot.sh().busy.store(0, Ordering::Release);
        match result {
            Ok((raw, data, alive)) => {
                if !alive {
                    slot.pid = None;
                }
                Ok((raw, data))
            }
            Err((e, reaped)) => {
                if !reaped {
                    kill_and_reap(pid);
                }
                slot.pid = None;
                Err(e)
            }
        }
    }

    /// Drive one probe from the loop's int3 to the next one (or the child's
    /// death). Errors say whether the child is already reaped.
    #[allow(clippy::type_complexity)]
    fn step(
        &self,
        si: usize,
        pid: i32,
        input: &OracleInput,
        notifs: u32,
    ) -> Result<(Raw, SeccompData, bool), (OracleError, bool)> {
        let alive = |e: OracleError| (e, false);
        let sh = self.slots[si].sh();
        // SAFETY: PTRACE_SYSCALL with no signal.
        let r = unsafe { sys::ptrace(PTRACE_SYSCALL, pid, 0, 0) };
        if r < 0 {
            return Err(alive(OracleError::Sys { what: "ptrace(PTRACE_SYSCALL)", errno: -r }));
        }
        let entry = wait_status(pid)?;
        match entry {
            WaitStatus::Stopped(s) if s == SIGTRAP | 0x80 => {}
            WaitStatus::Stopped(11) if input.abi == Abi::I386 => {
                return Err(alive(OracleError::AbiUnavailable(Abi::I386)))
            }
            other => return Err(dead_or_alive(other, "at the syscall-entry stop")),
        }
        let info = syscall_info(pid).map_err(alive)?;
        if info.op != PTRACE_SYSCALL_INFO_ENTRY {
            return Err(alive(OracleError::Unexpected(format!("syscall info op {} at entry", info.op))));
        }
        let data = SeccompData {
            nr: info.nr as u32,
            arch: info.arch,
            instruction_pointer: info.instruction_pointer,
            args: info.args,
        };
        cont(pid).map_err(alive)?;
        let outcome = wait_status(pid)?;
        let raw = match outcome {
            WaitStatus::Stopped(s) if s == SIGTRAP | (PTRACE_EVENT_SECCOMP << 8) => {
                let mut msg: u64 = 0;
                // SAFETY: PTRACE_GETEVENTMSG writes one unsigned long to `msg`.
                let r = unsafe { sys::ptrace(PTRACE_GETEVENTMSG, pid, 0, &mut msg as *mut u64 as u64) };
                if r < 0 {
                    return Err(alive(OracleError::Sys { what: "ptrace(PTRACE_GETEVENTMSG)", errno: -r }));
                }
                let at = syscall_info(pid).map_err(alive)?;
                let seen = SeccompData {
                    nr: at.nr as u32,
                    arch: at.arch,
                    instruction_pointer: at.instruction_pointer,
                    args: at.args,
                };
                if at.op != PTRACE_SYSCALL_INFO_SECCOMP || seen != data || at.ret_data as u64 != msg {
                    return Err(alive(OracleError::Inconsistent(format!(
                        "seccomp stop reports {seen:?} (op {}, data {}) but entry reported {data:?} (message {msg})",
                        at.op, at.ret_data
                    ))));
                }
                // Skip the system call: `this_syscall < 0` after the trace stop.
                poke_user(pid, USER_REGS_ORIG_RAX, u64::MAX).map_err(alive)?;
                cont(pid).map_err(alive)?;
                expect_loop_stop(pid, sh)?;
                Raw::Trace(msg as u16)
            }
            WaitStatus::Stopped(s) if s == SIGSYS => {
                let mut si_buf = SigsysInfo::default();
                // SAFETY: PTRACE_GETSIGINFO writes a siginfo_t (128 bytes) into si_buf.
                let r = unsafe { sys::ptrace(PTRACE_GETSIGINFO, pid, 0, &mut si_buf as *mut SigsysInfo as u64) };
                if r < 0 {
                    return Err(alive(OracleError::Sys { what: "ptrace(PTRACE_GETSIGINFO)", errno: -r }));
                }
                if si_buf.code != SYS_SECCOMP_SI_CODE
                    || si_buf.syscall as u32 != data.nr
                    || si_buf.arch != data.arch
                    || si_buf.call_addr != data.instruction_pointer
                {
                    return Err(alive(OracleError::Inconsistent(format!(
                        "SIGSYS si_code {} syscall {} arch {:#x} call_addr {:#x} for {data:?}",
                        si_buf.code, si_buf.syscall, si_buf.arch, si_buf.call_addr
                    ))));
                }
                poke_user(pid, USER_REGS_RAX, ATTEMPT_TRAPPED as u64).map_err(alive)?;
                cont(pid).map_err(alive)?;
                expect_loop_stop(pid, sh)?;
                Raw::Trap(si_buf.errno as u16)
            }
            WaitStatus::Stopped(s) if s == SIGTRAP => {
                if sh.notif_count.load(Ordering::Acquire) != notifs {
                    let w: Vec<u64> = sh.notif.iter().map(|a| a.load(Ordering::Acquire)).collect();
                    let seen = SeccompData {
                        nr: w[2] as u32,
                        arch: (w[2] >> 32) as u32,
                        instruction_pointer: w[3],
                        args: [w[4], w[5], w[6], w[7], w[8], w[9]],
                    };
                    if seen != data {
                        return Err(alive(OracleError::Inconsistent(format!(
                            "user notification carries {seen:?}, entry reported {data:?}"
                        ))));
                    }
                    Raw::UserNotif
                } else {
                    let rax = get_regs(pid).map_err(alive)?.0[10] as i64;
                    // `uprobe` outside a trampoline returns -ENXIO
                    // (`SYSCALL_DEFINE0(uprobe)`, arch/x86/kernel/uprobes.c);
                    // no filter saw it (`seccomp_uprobe_exception`).
                    if rax == -ENXIO
                        && data.nr == crate::seccomp::X86_64_UPROBE_SYSCALLS[1]
                        && crate::seccomp::filters_bypassed(&data)
                    {
                        return Ok((Raw::Bypassed, data, true));
                    }
                    if !(-4095..=0).contains(&rax) {
                        return Err(alive(OracleError::Unexpected(format!(
                            "the probed system call returned {rax}: it must not have run"
                        ))));
                    }
                    Raw::Errno((-rax) as u16)
                }
            }
            // An exempt call (`seccomp_uprobe_exception`) reached the kernel
            // without any filter, the probe filter P0 included, and ran: outside
            // a uprobe trampoline it only forces SIGILL. Suppress it like SIGSYS.
            WaitStatus::Stopped(s) if s as u64 == SIGILL && crate::seccomp::filters_bypassed(&data) => {
                cont(pid).map_err(alive)?;
                expect_loop_stop(pid, sh)?;
                Raw::Bypassed
            }
            WaitStatus::Signaled(s) if s == SIGSYS => return Ok((Raw::KillProcess, data, false)),
            WaitStatus::Exited(c) if c == EXIT_THREAD_KILLED => return Ok((Raw::KillThread, data, false)),
            other => return Err(dead_or_alive(other, "after the seccomp decision")),
        };
        Ok((raw, data, true))
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(pid) = slot.pid.take() {
                kill_and_reap(pid);
            }
        }
    }
}

/// The action the kernel takes for `input` under `stack` (installation order,
/// last = newest) and the `seccomp_data` it built. One-shot form of [`Prober`].
pub fn action(stack: &[Program], input: &OracleInput) -> Result<KernelOutcome, OracleError> {
    Prober::new(stack)?.probe(input)
}

/// The `instruction_pointer` the kernel reports for every probe of `abi`
/// (the address after the probe loop's `syscall` or `int 0x80`), so that
/// tests can build filters that look at it.
pub fn probe_instruction_pointer(abi: Abi) -> u64 {
    match abi {
        Abi::X86_64 | Abi::X32 => probe_syscall_ip(),
        Abi::I386 => probe_int80_ip(),
    }
}

fn progress(sh: &ProbeShared) -> (usize, usize) {
    let p = sh.progress.load(Ordering::Acquire) as usize;
    (p / 16, p % 16)
}

fn describe_death(s: WaitStatus) -> String {
    match s {
        WaitStatus::Exited(c) if c == EXIT_THREAD_KILLED => "killed the installing thread".into(),
        WaitStatus::Signaled(sig) => format!("killed the process (signal {sig})"),
        other => format!("ended the child ({other:?})"),
    }
}

fn cont(pid: i32) -> Result<(), OracleError> {
    // SAFETY: PTRACE_CONT with no signal.
    let r = unsafe { sys::ptrace(PTRACE_CONT, pid, 0, 0) };
    if r < 0 {
        return Err(OracleError::Sys { what: "ptrace(PTRACE_CONT)", errno: -r });
    }
    Ok(())
}

fn poke_user(pid: i32, offset: u64, value: u64) -> Result<(), OracleError> {
    // SAFETY: PTRACE_POKEUSER writes one register of the stopped tracee.
    let r = unsafe { sys::ptrace(PTRACE_POKEUSER, pid, offset, value) };
    if r < 0 {
        return Err(OracleError::Sys { what: "ptrace(PTRACE_POKEUSER)", errno: -r });
    }
    Ok(())
}

fn get_regs(pid: i32) -> Result<UserRegs, OracleError> {
    let mut regs = UserRegs([0; 27]);
    // SAFETY: PTRACE_GETREGS writes a user_regs_struct (27 words).
    let r = unsafe { sys::ptrace(PTRACE_GETREGS, pid, 0, &mut regs as *mut UserRegs as u64) };
    if r < 0 {
        return Err(OracleError::Sys { what: "ptrace(PTRACE_GETREGS)", errno: -r });
    }
    Ok(regs)
}

fn syscall_info(pid: i32) -> Result<PtraceSyscallInfo, OracleError> {
    let mut info = PtraceSyscallInfo::default();
    let size = std::mem::size_of::<PtraceSyscallInfo>() as u64;
    // SAFETY: the kernel writes at most `size` bytes into `info`.
    let r = unsafe { sys::ptrace(PTRACE_GET_SYSCALL_INFO, pid, size, &mut info as *mut PtraceSyscallInfo as u64) };
    if r < 0 {
        return Err(OracleError::Sys { what: "ptrace(PTRACE_GET_SYSCALL_INFO)", errno: -r });
    }
    Ok(info)
}

/// Next state change of the child; a wait failure means it is gone.
fn wait_status(pid: i32) -> Result<WaitStatus, (OracleError, bool)> {
    loop {
        match sys::wait(pid, 0) {
            Ok(Some(s)) => return Ok(WaitStatus::from_raw(s)),
            Ok(None) => continue,
            Err(errno) => return Err((OracleError::Sys { what: "wait4", errno }, true)),
        }
    }
}

/// An unexpected state; reaped already if the child ended.
fn dead_or_alive(s: WaitStatus, when: &str) -> (OracleError, bool) {
    match s {
        WaitStatus::Exited(c) if c == EXIT_TIMEOUT => (OracleError::Timeout, true),
        WaitStatus::Exited(_) | WaitStatus::Signaled(_) => {
            (OracleError::Unexpected(format!("child ended with {s:?} {when}")), true)
        }
        _ => (OracleError::Unexpected(format!("child reported {s:?} {when}")), false),
    }
}

/// After a skipped, trapped or failed probe the child runs into the loop's
/// next `int3`.
fn expect_loop_stop(pid: i32, sh: &ProbeShared) -> Result<(), (OracleError, bool)> {
    match wait_status(pid)? {
        WaitStatus::Stopped(s) if s == SIGTRAP && sh.phase.load(Ordering::Acquire) == PHASE_READY => Ok(()),
        other => Err(dead_or_alive(other, "returning to the probe loop")),
    }
}
