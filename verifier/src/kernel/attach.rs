//! Does the running kernel attach a whole stack of filters, one on top of
//! the other?
//!
//! [`attach_stack`] forks a child that sets `PR_SET_NO_NEW_PRIVS` and calls
//! `seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog)` for each filter in turn,
//! oldest first, so every filter goes through `seccomp_attach_filter`
//! (kernel/seccomp.c) with the ones before it already attached — the only
//! place the kernel checks the length of a whole stack (`MAX_INSNS_PER_PATH`,
//! [`crate::seccomp::PathLength`]). [`super::accepts`] and [`super::Validator`]
//! judge one filter at a time and never reach that check on a stack.
//!
//! Each install is itself a system call the filters attached before it judge,
//! so every filter but the last must allow `seccomp(2)` through `syscall`
//! (the kernel tests stack `ret ALLOW` fillers under the program they
//! measure). The child records its progress with plain stores in a shared
//! page before each install and dies by `ud2` afterwards, as `validate.rs`'s
//! child does, so a filter that kills or fails the next call shows as a
//! refusal of that install with the errno it gave (or [`OracleError`]).

use super::prologue::{child_hygiene, lock_down, set_filter, SetupReport};
use super::sys::{self, *};
use super::validate::{fork, own_pid};
use super::{OracleError, MAX_FPROG_LEN};
use crate::bpf::Program;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

// State 0: the child is still setting itself up.
const STATE_INSTALLING: u32 = 1;
const STATE_REFUSED: u32 = 2;
const STATE_ALL_ATTACHED: u32 = 3;
const STATE_SETUP_FAILED: u32 = 4;

/// How far the kernel got attaching a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackAttach {
    /// Every filter was attached.
    Attached,
    /// Filter `index` (oldest = 0) was refused with `errno`; the ones before
    /// it are attached.
    Refused { index: usize, errno: i32 },
}

#[repr(C)]
#[derive(Default)]
struct AttachShared {
    state: AtomicU32,
    index: AtomicU32,
    errno: AtomicI64,
    setup: SetupReport,
}

struct AttachPlan {
    shared: *const AttachShared,
    fprogs: Vec<SockFprog>,
    parent: i64,
}

/// Attach `stack` (installation order, oldest first) in a forked child, never
/// on the caller, and say which filter, if any, the kernel refused. Paced by
/// [`super::health::pace`]: each attached filter is a JIT compilation.
pub fn attach_stack(stack: &[Program]) -> Result<StackAttach, OracleError> {
    if stack.is_empty() {
        return Err(OracleError::EmptyStack);
    }
    if let Some(p) = stack.iter().find(|p| p.len() > MAX_FPROG_LEN) {
        return Err(OracleError::TooLong { len: p.len() });
    }
    super::health::check()?;
    super::health::pace(stack.len() as u32);
    let bytes: Vec<Vec<u8>> = stack.iter().map(Program::to_bytes).collect();
    let map = Mapping::new(std::mem::size_of::<AttachShared>(), true, false)
        .map_err(|errno| OracleError::Sys { what: "mmap", errno })?;
    let plan = AttachPlan {
        shared: map.addr as *const AttachShared,
        fprogs: stack
            .iter()
            .zip(&bytes)
            .map(|(p, b)| SockFprog { len: p.len() as u16, filter: b.as_ptr() as u64 })
            .collect(),
        parent: own_pid(),
    };
    // SAFETY: the child runs only `attach_child`, async-signal-safe and never
    // returning.
    let pid = unsafe { fork()? };
    if pid == 0 {
        // SAFETY: `plan` and the program bytes are valid in the child's copy
        // of the address space.
        unsafe { attach_child(&plan) }
    }
    let status = loop {
        match sys::wait(pid, 0) {
            Ok(Some(s)) => match WaitStatus::from_raw(s) {
                w @ (WaitStatus::Exited(_) | WaitStatus::Signaled(_)) => break w,
                _ => continue,
            },
            Ok(None) => continue,
            Err(errno) => return Err(OracleError::Sys { what: "wait4", errno }),
        }
    };
    // SAFETY: the mapping is live and the child is gone.
    let sh = unsafe { &*plan.shared };
    let index = sh.index.load(Ordering::Acquire) as usize;
    match sh.state.load(Ordering::Acquire) {
        STATE_ALL_ATTACHED => Ok(StackAttach::Attached),
        STATE_REFUSED => Ok(StackAttach::Refused { index, errno: sh.errno.load(Ordering::Acquire) as i32 }),
        STATE_SETUP_FAILED => Err(sh.setup.error()),
        _ => Err(OracleError::CannotInstall {
            index,
            attempts: format!(
                "the child ended ({status:?}) while installing it: a filter before it stopped seccomp(2)"
            ),
        }),
    }
}

/// The forked child of [`attach_stack`].
///
/// # Safety
/// Only in a freshly forked child; `plan` must be valid there.
unsafe fn attach_child(plan: &AttachPlan) -> ! {
    // SAFETY: the shared page outlives the child.
    let sh = unsafe { &*plan.shared };
    if let Err(e) = child_hygiene(plan.parent).and_then(|()| lock_down()) {
        sh.setup.fail(&sh.state, STATE_SETUP_FAILED, e)
    }
    for (i, fprog) in plan.fprogs.iter().enumerate() {
        sh.index.store(i as u32, Ordering::Release);
        sh.state.store(STATE_INSTALLING, Ordering::Release);
        // SAFETY: every `fprog` points into the child's copy of the parent's buffers.
        let r = unsafe { set_filter(0, fprog) };
        if r < 0 {
            sh.errno.store(-r, Ordering::Release);
            sh.state.store(STATE_REFUSED, Ordering::Release);
            die()
        }
    }
    sh.state.store(STATE_ALL_ATTACHED, Ordering::Release);
    die()
}
