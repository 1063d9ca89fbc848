//! The probe's forked child: everything that runs after the fork, and only that.
//!
//! The child was forked from a possibly multi-threaded process, so it runs
//! async-signal-safe code alone: raw system calls (`sys.rs`) on the
//! [`ChildPlan`] and the shared page the parent prepared, no allocation, no
//! locks. It sets itself up with the shared prologue (`prologue.rs`), starts
//! its helper threads (H1 watches the prober thread, H2 answers user
//! notifications), installs the probe filter P0 and the filters under test
//! (trying each encoding of `ENCODINGS` in turn), then enters the probe loop.
//! What the parent does with it is in `mod.rs`.

use super::super::prologue::{child_hygiene, lock_down, set_filter, STEP_THREAD, STEP_TID};
use super::super::sys::*;
use super::super::{MAX_STACK, TIMEOUT_SECS};
use super::{
    ChildPlan, ProbeShared, ATTEMPT_SKIPPED, EXIT_THREAD_KILLED, EXIT_TIMEOUT, NUM_ENC, PHASE_INSTALLING,
    PHASE_INSTALL_FAILED, PHASE_LISTENER_READY, PHASE_READY, PHASE_SETUP_FAILED, STEP_PROBE_FILTER,
};
use crate::uapi::{
    SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND, SECCOMP_MODE_FILTER,
    SECCOMP_SET_MODE_FILTER, X32_SYSCALL_BIT,
};
use std::sync::atomic::{AtomicU32, Ordering};

/// The forked child: helpers, filters, then the probe loop.
///
/// # Safety
/// Only in a freshly forked child; `plan` must be valid there.
pub(super) unsafe fn probe_child(plan: &ChildPlan) -> ! {
    // SAFETY: the shared mapping is inherited and outlives the child.
    let sh = unsafe { &*(plan.shared as *const ProbeShared) };
    let fail = |e| -> ! { sh.setup.fail(&sh.phase, PHASE_SETUP_FAILED, e) };
    if let Err(e) = child_hygiene(plan.parent) {
        fail(e)
    }
    let arg = plan as *const ChildPlan as u64;
    // SAFETY: system calls on this process; the helper stacks are private
    // copies in this child, used by nothing else.
    unsafe {
        let tid = syscall6(SYS_SET_TID_ADDRESS, &sh.tid_word as *const AtomicU32 as u64, 0, 0, 0, 0, 0);
        if tid < 0 {
            fail((STEP_TID, -tid))
        }
        sh.tid_word.store(tid as u32, Ordering::Release);
        let r = spawn_thread(plan.h1_stack_top as *mut u8, h1_main, arg);
        if r < 0 {
            fail((STEP_THREAD, -r))
        }
        if plan.listener < plan.n {
            let r = spawn_thread(plan.h2_stack_top as *mut u8, h2_main, arg);
            if r < 0 {
                fail((STEP_THREAD, -r))
            }
        }
        // Wait until the parent has seized us.
        while sh.go.load(Ordering::Acquire) == 0 {
            futex_wait(&sh.go as *const AtomicU32 as *const u32, 0, None);
        }
    }
    // Seized now: not dumpable, no new privileges, then P0.
    if let Err(e) = lock_down() {
        fail(e)
    }
    // SAFETY: P0's fprog lives in the low arena, inherited by the child.
    let r = unsafe { set_filter(0, plan.p0 as *const SockFprog) };
    if r < 0 {
        fail((STEP_PROBE_FILTER, -r))
    }
    // From here on P0 is installed; only the filters under test may refuse
    // our system calls. Failures are reported through int3, not exit.
    sh.phase.store(PHASE_INSTALLING, Ordering::Release);
    for i in 0..plan.n.min(MAX_STACK) {
        let listener = i == plan.listener;
        let flags = if listener { SECCOMP_FILTER_FLAG_NEW_LISTENER } else { 0 };
        let mut e = plan.start_enc[i] as usize;
        loop {
            if e >= NUM_ENC {
                sh.progress.store((i * 16) as u32, Ordering::Release);
                sh.phase.store(PHASE_INSTALL_FAILED, Ordering::Release);
                breakpoint();
                die()
            }
            // prctl has no flags argument.
            if listener && e % 2 == 1 {
                sh.attempts[i][e].store(ATTEMPT_SKIPPED, Ordering::Release);
                e += 1;
                continue;
            }
            sh.progress.store((i * 16 + e) as u32, Ordering::Release);
            // SAFETY: install system calls with pointers into the low arena.
            let r = unsafe { install(plan, i, e, flags) };
            sh.attempts[i][e].store(r.min(0), Ordering::Release);
            if r >= 0 {
                if listener {
                    sh.listener_fd.store(r, Ordering::Release);
                    sh.phase.store(PHASE_LISTENER_READY, Ordering::Release);
                    breakpoint();
                }
                break;
            }
            e += 1;
        }
    }
    sh.phase.store(PHASE_READY, Ordering::Release);
    // SAFETY: the registers live in the shared mapping for the child's life.
    unsafe { probe_loop(plan.shared as *const ProbeRegs) }
}

/// One install attempt of filter `i` with encoding `e`.
///
/// # Safety
/// Child only; the fprogs live in the low arena.
unsafe fn install(plan: &ChildPlan, i: usize, e: usize, flags: u32) -> i64 {
    let f64 = plan.fprog64[i];
    let f32 = plan.fprog32[i];
    // SAFETY: seccomp/prctl read the fprog and the instructions it points to.
    unsafe {
        match e {
            0 => set_filter(flags, f64 as *const SockFprog),
            1 => syscall6(SYS_PRCTL, PR_SET_SECCOMP, u64::from(SECCOMP_MODE_FILTER), f64, 0, 0, 0),
            2 => int80(SYS32_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, f32, 0, 0),
            3 => int80(SYS32_PRCTL, PR_SET_SECCOMP as u32, SECCOMP_MODE_FILTER, f32, 0, 0),
            4 => syscall3(
                SYS_SECCOMP | u64::from(X32_SYSCALL_BIT),
                u64::from(SECCOMP_SET_MODE_FILTER),
                u64::from(flags),
                u64::from(f32),
            ),
            _ => syscall6(
                SYS_PRCTL | u64::from(X32_SYSCALL_BIT),
                PR_SET_SECCOMP,
                u64::from(SECCOMP_MODE_FILTER),
                u64::from(f32),
                0,
                0,
                0,
            ),
        }
    }
}

/// Helper thread H1: turns the prober thread's lone death into
/// `exit_group(EXIT_THREAD_KILLED)`, and ends a child stuck in one probe.
///
/// # Safety
/// Started by `probe_child` with its plan.
unsafe extern "C" fn h1_main(arg: u64) -> ! {
    // SAFETY: the plan and shared mapping outlive every thread of the child.
    let sh = unsafe { &*((*(arg as *const ChildPlan)).shared as *const ProbeShared) };
    let tid = sh.tid_word.load(Ordering::Acquire);
    let tick = Timespec { sec: 1, nsec: 0 };
    let (mut last, mut stale) = (u32::MAX, 0u32);
    loop {
        // SAFETY: futex word in the shared mapping; cleared by mm_release.
        unsafe { futex_wait(&sh.tid_word as *const AtomicU32 as *const u32, tid, Some(&tick)) };
        if sh.tid_word.load(Ordering::Acquire) == 0 {
            exit_group(EXIT_THREAD_KILLED as u64)
        }
        let seq = sh.seq.load(Ordering::Acquire);
        if sh.busy.load(Ordering::Acquire) != 0 && seq == last {
            stale += 1;
            if stale >= TIMEOUT_SECS {
                exit_group(EXIT_TIMEOUT as u64)
            }
        } else {
            (last, stale) = (seq, 0);
        }
    }
}

/// Helper thread H2: receives user notifications on the listener, records
/// them and answers `-ENOSYS`.
///
/// # Safety
/// Started by `probe_child` with its plan.
unsafe extern "C" fn h2_main(arg: u64) -> ! {
    // SAFETY: the plan and shared mapping outlive every thread of the child.
    let sh = unsafe { &*((*(arg as *const ChildPlan)).shared as *const ProbeShared) };
    while sh.listener_go.load(Ordering::Acquire) == 0 {
        // SAFETY: futex word in the shared mapping.
        unsafe { futex_wait(&sh.listener_go as *const AtomicU32 as *const u32, 0, None) };
    }
    let fd = sh.listener_fd.load(Ordering::Acquire) as u64;
    loop {
        let mut n = SeccompNotif::default();
        // SAFETY: RECV fills the zeroed 80-byte struct.
        let r = unsafe { syscall3(SYS_IOCTL, fd, SECCOMP_IOCTL_NOTIF_RECV, &mut n as *mut SeccompNotif as u64) };
        if r < 0 {
            if r == -EINTR || r == -2 {
                continue;
            }
            sh.h2_error.store(r, Ordering::Release);
            loop {
                // SAFETY: park forever on a word nobody changes.
                unsafe { futex_wait(&sh.listener_go as *const AtomicU32 as *const u32, 1, None) };
            }
        }
        // SAFETY: SeccompNotif is 80 bytes of plain integers = 10 words.
        let words: [u64; 10] = unsafe { core::mem::transmute(n) };
        for (slot, w) in sh.notif.iter().zip(words) {
            slot.store(w, Ordering::Relaxed);
        }
        sh.notif_count.fetch_add(1, Ordering::AcqRel);
        let resp = SeccompNotifResp { id: n.id, val: 0, error: -(ENOSYS as i32), flags: 0 };
        // SAFETY: SEND reads the 24-byte response.
        unsafe { syscall3(SYS_IOCTL, fd, SECCOMP_IOCTL_NOTIF_SEND, &resp as *const SeccompNotifResp as u64) };
    }
}
