//! Does the running kernel accept a filter?
//!
//! [`accepts`] forks a child that sets `PR_SET_NO_NEW_PRIVS` and calls
//! `seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog)`. The child reports through a
//! `MAP_SHARED` page with plain stores, so no system call is needed after the
//! filter exists: a refusal is recorded (and the child exits) while no filter
//! is installed yet; after a successful install the child records that and
//! kills itself with `ud2` (SIGILL, default action), which no filter can stop.
//!
//! [`Validator`] answers the same question for many programs from one child:
//! the child first installs an allow-all filter *with a listener*
//! (`SECCOMP_FILTER_FLAG_NEW_LISTENER`) and then submits every program with
//! that flag again. `seccomp_set_mode_filter` (kernel/seccomp.c) runs
//! `seccomp_prepare_user_filter` — the length check, `bpf_check_classic` and
//! `seccomp_check_filter` — *before* `has_duplicate_listener`, which refuses a
//! second listener in the chain with `-EBUSY` before anything is attached. So
//! `EBUSY` means "prepared, would attach", any other error is the kernel's
//! verdict, and the child's filter chain never grows. The only check skipped
//! is `seccomp_attach_filter`'s chain length (`MAX_INSNS_PER_PATH` = 32768
//! converted instructions), which a single program cannot hit: it converts to
//! at most 20480 (`crate::bpf::convert`: 4095 `div x` and a `ret #k`), over the listener's 5 + 4. Stacks
//! are judged by [`super::attach_stack`]. The kernel tests hold the two
//! against each other.
//!
//! Both are paced by [`super::health::pace`]: every accepted program costs the
//! kernel a JIT compilation and a deferred free, and an unpaced flood of them
//! deadlocked this kernel's JIT allocator (see [`super::JIT_PER_SECOND`]).

use super::prologue::{child_hygiene, lock_down, set_filter, SetupReport, STEP_LISTENER};
use super::sys::{self, *};
use super::{Acceptance, OracleError, MAX_FPROG_LEN, TIMEOUT_SECS};
use crate::bpf::Program;
use crate::uapi::{SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_RET_ALLOW};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// Child progress, written by the child with plain stores into shared memory.
const STATE_SETUP: u32 = 0;
const STATE_REJECTED: u32 = 1;
const STATE_INSTALLED: u32 = 2;
const STATE_READY: u32 = 3;
const STATE_SETUP_FAILED: u32 = 4;

/// The pid of this process, as the child's `getppid()` will report it.
pub(super) fn own_pid() -> i64 {
    // SAFETY: getpid has no arguments and no side effects.
    unsafe { syscall6(SYS_GETPID, 0, 0, 0, 0, 0, 0) }
}

/// Fork: `clone(SIGCHLD)` with no other flags. Returns 0 in the child.
///
/// # Safety
/// In the child only async-signal-safe code may run, and it must never return
/// into code that assumes it is the parent.
pub(super) unsafe fn fork() -> Result<i32, OracleError> {
    // SAFETY: the caller upholds the post-fork contract.
    let r = unsafe { syscall6(SYS_CLONE, SIGCHLD, 0, 0, 0, 0, 0) };
    if r < 0 {
        return Err(OracleError::Sys { what: "fork", errno: -r });
    }
    Ok(r as i32)
}

/// Kill `pid` (not yet reaped, so the pid cannot have been reused) and reap it.
pub(super) fn kill_and_reap(pid: i32) {
    // SAFETY: `pid` is our unreaped child.
    unsafe {
        syscall6(SYS_KILL, pid as u64, SIGKILL, 0, 0, 0, 0);
    }
    while let Ok(Some(s)) = sys::wait(pid, 0) {
        if matches!(WaitStatus::from_raw(s), WaitStatus::Exited(_) | WaitStatus::Signaled(_)) {
            break;
        }
    }
}

#[repr(C)]
#[derive(Default)]
struct AcceptShared {
    state: AtomicU32,
    result: AtomicI64,
    setup: SetupReport,
}

struct AcceptPlan {
    shared: *const AcceptShared,
    fprog: SockFprog,
    parent: i64,
}

fn fprog_len(p: &Program) -> Result<u16, OracleError> {
    if p.len() > MAX_FPROG_LEN {
        return Err(OracleError::TooLong { len: p.len() });
    }
    Ok(p.len() as u16)
}

/// Does the running kernel accept `p` as a seccomp filter? Installs it in a
/// forked child (after `PR_SET_NO_NEW_PRIVS`), never on the caller.
pub fn accepts(p: &Program) -> Result<Acceptance, OracleError> {
    acceptance_or_retry(|| accepts_once(p)).map_err(|e| path_explained(e, &[], p))
}

/// A persistent ENOMEM for `p` installed over filters of converted lengths
/// `below` is the path length check when this process runs under filters of
/// its own or the stack is too long (`seccomp_attach_filter`): say so, with
/// the totals, instead of a bare errno.
fn path_explained(e: OracleError, below: &[usize], p: &Program) -> OracleError {
    let OracleError::CouldNotLoad { errno } = e else { return e };
    let own = super::path::own_filter_count();
    let len = crate::bpf::validate(p).map(|v| crate::bpf::converted_len(&v)).unwrap_or(0);
    let mut lengths = below.to_vec();
    lengths.push(len);
    let too_long = crate::seccomp::PathLength::new(lengths.clone()).refused.is_some();
    if i64::from(errno) != super::path::ENOMEM || (!too_long && own.unwrap_or(0) == 0) {
        return e;
    }
    OracleError::PathTooLong {
        index: below.len(),
        explanation: super::path::explain_lengths(&lengths, below.len(), own),
    }
}

/// EINVAL is the kernel's verdict on a filter (every rule of
/// `bpf_check_classic` and `seccomp_check_filter` answers it); any other
/// errno (ENOMEM, or ENOTSUPP when the always-on JIT failed: seen here after
/// hundreds of thousands of loads) is the kernel being unable to load it just
/// now. Retry those a few times, paced, then say so instead of answering.
pub(super) fn acceptance_or_retry(
    mut once: impl FnMut() -> Result<Acceptance, OracleError>,
) -> Result<Acceptance, OracleError> {
    let mut last = 0;
    for attempt in 0..4u64 {
        match once()? {
            Acceptance::Rejected { errno } if errno != libc::EINVAL => {
                last = errno;
                std::thread::sleep(std::time::Duration::from_millis(50 << attempt));
                super::health::pace(1);
            }
            v => return Ok(v),
        }
    }
    Err(OracleError::CouldNotLoad { errno: last })
}

fn accepts_once(p: &Program) -> Result<Acceptance, OracleError> {
    let len = fprog_len(p)?;
    super::health::check()?;
    super::health::pace(1);
    let bytes = p.to_bytes();
    let map = Mapping::new(std::mem::size_of::<AcceptShared>(), true, false)
        .map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
    let shared = map.addr as *const AcceptShared;
    let plan = AcceptPlan { shared, fprog: SockFprog { len, filter: bytes.as_ptr() as u64 }, parent: own_pid() };
    // SAFETY: the child runs only `accept_child`, which is async-signal-safe
    // and never returns.
    let pid = unsafe { fork()? };
    if pid == 0 {
        // SAFETY: `plan` is valid in the child's copy of the address space.
        unsafe { accept_child(&plan) }
    }
    let status = loop {
        match sys::wait(pid, 0) {
            Ok(Some(s)) => match WaitStatus::from_raw(s) {
                WaitStatus::Exited(_) | WaitStatus::Signaled(_) => break WaitStatus::from_raw(s),
                _ => continue,
            },
            Ok(None) => continue,
            Err(errno) => return Err(OracleError::Sys { what: "wait4", errno }),
        }
    };
    // SAFETY: the mapping is live and the child is gone.
    let sh = unsafe { &*shared };
    match sh.state.load(Ordering::Acquire) {
        STATE_INSTALLED => Ok(Acceptance::Accepted),
        STATE_REJECTED => Ok(Acceptance::Rejected { errno: sh.result.load(Ordering::Acquire) as i32 }),
        STATE_SETUP_FAILED => Err(sh.setup.error()),
        s => Err(OracleError::Unexpected(format!("validation child ended in state {s} with {status:?}"))),
    }
}

/// The forked child of [`accepts`].
///
/// # Safety
/// Only in a freshly forked child; `plan` must be valid there.
unsafe fn accept_child(plan: &AcceptPlan) -> ! {
    // SAFETY: the shared page outlives the child (the parent unmaps it only
    // after reaping us).
    let sh = unsafe { &*plan.shared };
    if let Err(e) = child_hygiene(plan.parent).and_then(|()| lock_down()) {
        sh.setup.fail(&sh.state, STATE_SETUP_FAILED, e)
    }
    // SAFETY: `fprog` points into the child's copy of the parent's buffer.
    let r = unsafe { set_filter(0, &plan.fprog) };
    if r < 0 {
        sh.result.store(-r, Ordering::Release);
        sh.state.store(STATE_REJECTED, Ordering::Release);
        exit_group(0)
    }
    // From here on every system call meets the new filter: record and die
    // without one.
    sh.state.store(STATE_INSTALLED, Ordering::Release);
    die()
}

/// Offset of the program bytes in the validator's shared region.
const PROGRAM_OFFSET: usize = 4096;

#[repr(C)]
#[derive(Default)]
struct ValidatorShared {
    state: AtomicU32,
    req: AtomicU32,
    resp: AtomicU32,
    result: AtomicI64,
    setup: SetupReport,
    fprog_len: AtomicU32,
}

/// Many validations from one long-lived child (see the module docs for why
/// `-EBUSY` means "accepted"). Several thousand programs per second.
pub struct Validator {
    map: Mapping,
    pid: Option<i32>,
    parent: i64,
    /// Programs judged so far.
    pub count: u64,
    /// Children started (one, unless a program got attached or a child died).
    pub spawns: u64,
}

impl Validator {
    pub fn new() -> Result<Validator, OracleError> {
        super::health::check()?;
        let map = Mapping::new(PROGRAM_OFFSET + MAX_FPROG_LEN * 8, true, false)
            .map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
        Ok(Validator { map, pid: None, parent: own_pid(), count: 0, spawns: 0 })
    }

    fn shared(&self) -> &ValidatorShared {
        // SAFETY: the mapping starts with a zero-initialised ValidatorShared
        // (all-atomic, valid when zeroed) and lives as long as `self`.
        unsafe { &*(self.map.addr as *const ValidatorShared) }
    }

    fn spawn(&mut self) -> Result<i32, OracleError> {
        let sh = self.shared();
        sh.state.store(STATE_SETUP, Ordering::Release);
        sh.req.store(0, Ordering::Release);
        sh.resp.store(0, Ordering::Release);
        let base = self.map.addr as u64;
        let parent = self.parent;
        // SAFETY: the child runs only `validator_child`, async-signal-safe and
        // never returning.
        let pid = unsafe { fork()? };
        if pid == 0 {
            // SAFETY: the mapping is inherited at the same address.
            unsafe { validator_child(base, parent) }
        }
        self.spawns += 1;
        // Wait for the child to finish its setup.
        if let Err((e, reaped)) =
            self.wait_for(pid, |sh| sh.state.load(Ordering::Acquire) != STATE_SETUP, |sh| &sh.state, STATE_SETUP)
        {
            if !reaped {
                kill_and_reap(pid);
            }
            return Err(e);
        }
        if self.shared().state.load(Ordering::Acquire) != STATE_READY {
            let e = self.shared().setup.error();
            kill_and_reap(pid);
            return Err(e);
        }
        self.pid = Some(pid);
        Ok(pid)
    }

    /// Wait until `done(shared)`, sleeping on the futex `word` while it holds
    /// `val`; fails if the child dies (then it is already reaped: the flag is
    /// true) or the timeout passes.
    fn wait_for(
        &self,
        pid: i32,
        done: impl Fn(&ValidatorShared) -> bool,
        word: impl Fn(&ValidatorShared) -> &AtomicU32,
        val: u32,
    ) -> Result<(), (OracleError, bool)> {
        let tick = Timespec { sec: 0, nsec: 100_000_000 };
        let mut ticks = 0u32;
        while !done(self.shared()) {
            // SAFETY: the futex word lives in our shared mapping.
            let r = unsafe { futex_wait(word(self.shared()) as *const AtomicU32 as *const u32, val, Some(&tick)) };
            if r == -ETIMEDOUT {
                ticks += 1;
                if let Ok(Some(s)) = sys::wait(pid, WNOHANG) {
                    let e = if self.shared().state.load(Ordering::Acquire) == STATE_SETUP_FAILED {
                        self.shared().setup.error()
                    } else {
                        OracleError::Unexpected(format!("validation child died: {:?}", WaitStatus::from_raw(s)))
                    };
                    return Err((e, true));
                }
                if ticks > TIMEOUT_SECS * 10 {
                    return Err((OracleError::Timeout, false));
                }
            }
        }
        Ok(())
    }

    /// Does the running kernel accept `p`? (Errors other than EINVAL are
    /// retried, see [`acceptance_or_retry`].)
    pub fn accepts(&mut self, p: &Program) -> Result<Acceptance, OracleError> {
        // Below the program: the child's listener filter, `ret ALLOW` (5 converted).
        acceptance_or_retry(|| self.accepts_once(p)).map_err(|e| path_explained(e, &[5], p))
    }

    fn accepts_once(&mut self, p: &Program) -> Result<Acceptance, OracleError> {
        let len = fprog_len(p)?;
        let pid = match self.pid {
            Some(pid) => pid,
            None => self.spawn()?,
        };
        let bytes = p.to_bytes();
        // SAFETY: the program area lies inside the mapping (MAX_FPROG_LEN * 8
        // bytes after PROGRAM_OFFSET) and the child only reads it after the
        // release store of `req` below.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.map.addr.add(PROGRAM_OFFSET), bytes.len());
        }
        let sh = self.shared();
        sh.fprog_len.store(len as u32, Ordering::Release);
        let req = sh.req.load(Ordering::Acquire).wrapping_add(1);
        sh.req.store(req, Ordering::Release);
        // SAFETY: futex word in our mapping.
        unsafe { futex_wake(&sh.req as *const AtomicU32 as *const u32) };
        let prev = req.wrapping_sub(1);
        let res = self.wait_for(pid, |sh| sh.resp.load(Ordering::Acquire) == req, |sh| &sh.resp, prev);
        if let Err((e, reaped)) = res {
            if !reaped {
                kill_and_reap(pid);
            }
            self.pid = None;
            return Err(e);
        }
        self.count += 1;
        let r = self.shared().result.load(Ordering::Acquire);
        if r == -EBUSY {
            // The kernel compiled (and now frees) the program: pace the next one.
            super::health::pace(1);
            Ok(Acceptance::Accepted)
        } else if r < 0 {
            Ok(Acceptance::Rejected { errno: -r as i32 })
        } else {
            // Attached for real (only possible if the listener vanished): the
            // child's chain is no longer clean, start over next time.
            kill_and_reap(pid);
            self.pid = None;
            Ok(Acceptance::Accepted)
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            kill_and_reap(pid);
        }
    }
}

/// The long-lived child of [`Validator`].
///
/// # Safety
/// Only in a freshly forked child; `base` is the shared mapping.
unsafe fn validator_child(base: u64, parent: i64) -> ! {
    // SAFETY: the mapping is inherited and outlives us.
    let sh = unsafe { &*(base as *const ValidatorShared) };
    if let Err(e) = child_hygiene(parent).and_then(|()| lock_down()) {
        sh.setup.fail(&sh.state, STATE_SETUP_FAILED, e)
    }
    // An allow-all filter with a listener: `ret ALLOW`.
    let allow = crate::bpf::Insn::stmt(0x06, SECCOMP_RET_ALLOW).to_bytes();
    let allow_prog = SockFprog { len: 1, filter: allow.as_ptr() as u64 };
    let fprog = SockFprog { len: 0, filter: base + PROGRAM_OFFSET as u64 };
    // SAFETY: `allow_prog` points to `allow`, a local that outlives the call.
    let r = unsafe { set_filter(SECCOMP_FILTER_FLAG_NEW_LISTENER, &allow_prog) };
    if r < 0 {
        sh.setup.fail(&sh.state, STATE_SETUP_FAILED, (STEP_LISTENER, -r))
    }
    sh.state.store(STATE_READY, Ordering::Release);
    // SAFETY: futex word in the shared mapping.
    unsafe { futex_wake(&sh.state as *const AtomicU32 as *const u32) };
    let mut seen = 0u32;
    let mut fprog = fprog;
    loop {
        let req = sh.req.load(Ordering::Acquire);
        if req == seen {
            // SAFETY: futex word in the shared mapping.
            unsafe { futex_wait(&sh.req as *const AtomicU32 as *const u32, seen, None) };
            continue;
        }
        seen = req;
        fprog.len = sh.fprog_len.load(Ordering::Acquire) as u16;
        // SAFETY: `fprog` points into the shared mapping, filled before `req`.
        let r = unsafe { set_filter(SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog) };
        sh.result.store(r, Ordering::Release);
        sh.resp.store(seen, Ordering::Release);
        // SAFETY: futex word in the shared mapping.
        unsafe { futex_wake(&sh.resp as *const AtomicU32 as *const u32) };
        if r >= 0 {
            // A filter got attached; this child is no longer clean.
            die()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `acceptance_or_retry` over answers given in turn; how many were asked for.
    fn answered(answers: &[Acceptance]) -> (Result<Acceptance, OracleError>, usize) {
        let mut asked = 0;
        let r = acceptance_or_retry(|| {
            asked += 1;
            Ok(answers[(asked - 1).min(answers.len() - 1)])
        });
        (r, asked)
    }

    #[test]
    fn only_einval_is_a_verdict_other_errnos_are_retried_then_reported() {
        let rejected = |errno| Acceptance::Rejected { errno };
        assert_eq!(answered(&[rejected(libc::EINVAL)]), (Ok(rejected(libc::EINVAL)), 1));
        assert_eq!(answered(&[Acceptance::Accepted]), (Ok(Acceptance::Accepted), 1));
        // ENOTSUPP (524), as the kernel answered once its JIT failed.
        assert_eq!(answered(&[rejected(524), Acceptance::Accepted]), (Ok(Acceptance::Accepted), 2));
        assert_eq!(
            answered(&[rejected(libc::ENOMEM), rejected(524)]),
            (Err(OracleError::CouldNotLoad { errno: 524 }), 4)
        );
    }
}
