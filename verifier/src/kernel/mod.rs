//! The running kernel as the judge: does it accept a filter, and which action
//! does it take for one system call under a stack of filters.
//!
//! Every other part of seccheck predicts what the kernel does; this module asks
//! it. It is the only place with `unsafe` code, because asking means forking a
//! child of the (multi-threaded) test process, installing filters in it,
//! tracing it with ptrace and issuing hand-made system calls from inline
//! assembly. Nothing is ever installed on the calling process.
//!
//! * [`accepts`] — install one filter with `seccomp(SECCOMP_SET_MODE_FILTER)`
//!   in a forked child after `PR_SET_NO_NEW_PRIVS` (`seccomp_set_mode_filter`,
//!   kernel/seccomp.c). [`Validator`] answers the same question for many
//!   programs from one long-lived child (see `validate.rs` for how).
//! * [`readback`] — install a filter and read back what the kernel holds.
//! * [`isolate`] — run a computation that may never return (a generator under
//!   test) in a forked child, and tell a tight loop from slow work.
//! * [`confirm`] — ask the kernel about every counterexample a finding prints.
//! * [`action`] / [`Prober`] — the action the kernel takes for one system call
//!   and the exact `struct seccomp_data` it built, *without letting the system
//!   call run*. How each action is recognised, with the kernel code it relies
//!   on, is documented in `probe.rs`.
//!
//! Only Linux on x86-64 is supported (the probes are x86-64 machine code);
//! elsewhere every function returns [`OracleError::Unsupported`].
#![allow(unsafe_code)]

use crate::seccomp::{Action, SeccompData, SECCOMP_RET_TRACE};
use serde::Serialize;
use std::fmt;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod attach;
pub mod audit;
pub mod command;
pub mod health;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod isolate;
pub mod live;
pub mod path;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod probe;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod prologue;
pub mod readback;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub mod supervise;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sys;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod validate;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use attach::{attach_stack, StackAttach};
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use probe::{action, probe_instruction_pointer, Prober, ProberStats};
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use validate::{accepts, Validator};

/// Longest program `struct sock_fprog` can describe (`unsigned short len`).
pub const MAX_FPROG_LEN: usize = u16::MAX as usize;
/// Most filters [`Prober`] stacks (besides its own probe filter).
pub const MAX_STACK: usize = 32;
/// How long one probe or one validation may take before the child is killed
/// and [`OracleError::Timeout`] is returned.
pub const TIMEOUT_SECS: u32 = 10;

/// The kernel's answer to installing one filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Acceptance {
    Accepted,
    /// `seccomp(2)` failed with this errno (EINVAL for every rule of
    /// `bpf_check_classic` / `seccomp_check_filter`).
    Rejected {
        errno: i32,
    },
}

impl Acceptance {
    pub fn is_accepted(self) -> bool {
        self == Acceptance::Accepted
    }
}

/// The system call ABI a probe uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Abi {
    /// `syscall` with the number in rax; `seccomp_data.arch = AUDIT_ARCH_X86_64`.
    X86_64,
    /// `syscall` with `nr | __X32_SYSCALL_BIT`; the kernel reports
    /// `AUDIT_ARCH_X86_64` and the number with the bit set.
    X32,
    /// `int 0x80` from the 64-bit child; `AUDIT_ARCH_I386`. The six argument
    /// registers are loaded with the full 64-bit values, and the kernel passes
    /// them to the filter unchanged (see [`OracleInput`]).
    I386,
}

/// One system call to probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct OracleInput {
    pub abi: Abi,
    /// The number loaded into rax/eax. For [`Abi::X32`] `__X32_SYSCALL_BIT`
    /// is or-ed in; for [`Abi::I386`] the kernel keeps the low 32 bits
    /// (`int80_emulation`: `orig_ax = ax & GENMASK(31, 0)`), which is all a
    /// `u32` holds anyway.
    pub nr: u32,
    /// Argument registers in ABI order (x86-64: rdi rsi rdx r10 r8 r9; i386:
    /// ebx ecx edx esi edi ebp). Measured on Linux 6.18: for `int 0x80` from
    /// 64-bit code, `syscall_get_arguments` copies the full 64-bit registers
    /// into `seccomp_data.args` — the upper halves are *not* cleared, even
    /// though the 32-bit system call itself only uses the low halves.
    pub args: [u64; 6],
}

impl OracleInput {
    pub fn new(abi: Abi, nr: u32, args: [u64; 6]) -> Self {
        OracleInput { abi, nr, args }
    }
}

/// The action the kernel carried out for a probed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", content = "data", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KernelAction {
    /// The whole process died of SIGSYS. Also what an action value the kernel
    /// does not know does (`__seccomp_filter`'s `default:` case).
    KillProcess,
    /// Only the calling thread died (`do_exit(SIGSYS)`).
    KillThread,
    /// SIGSYS with `si_errno` = data.
    Trap(u16),
    /// The system call returned `-data` without running.
    Errno(u16),
    /// A notification reached the filter's listener.
    UserNotif,
    /// A `PTRACE_EVENT_SECCOMP` stop with this event message.
    Trace(u16),
    /// The stack's result ranks above `SECCOMP_RET_TRACE`: `ALLOW`, `LOG`, or
    /// an unknown action value between them (which the kernel would carry out
    /// as `KILL_PROCESS`). Telling these apart requires letting the system call
    /// run, which the oracle never does: `LOG` and `ALLOW` differ only in an
    /// audit record written *as* the system call proceeds, and an unknown
    /// value only shows by killing a process that got past every stop.
    AboveTrace,
    /// The kernel ran none of the filters: the system call is exempt
    /// ([`crate::seccomp::filters_bypassed`]) and ran. The oracle recognises
    /// what such a call does outside a uprobe trampoline: SIGILL for
    /// `uretprobe`, `-ENXIO` for `uprobe`.
    Bypassed,
}

impl KernelAction {
    /// Does the emulator's (or any model's) action for the whole stack agree
    /// with what the kernel did? Unknown action values count as
    /// `KILL_PROCESS` (`__seccomp_filter`) except above `TRACE`, where the
    /// oracle cannot see the difference (see [`KernelAction::AboveTrace`]).
    pub fn agrees_with(self, a: Action) -> bool {
        match self {
            KernelAction::AboveTrace => a.precedence() > (SECCOMP_RET_TRACE as i32),
            KernelAction::KillProcess => {
                a.effective() == Action::KillProcess && a.precedence() < SECCOMP_RET_TRACE as i32
            }
            KernelAction::KillThread => a == Action::KillThread,
            KernelAction::Trap(d) => a == Action::Trap(d),
            KernelAction::Errno(d) => a == Action::Errno(d),
            KernelAction::UserNotif => a == Action::UserNotif,
            KernelAction::Trace(d) => a == Action::Trace(d),
            // No filter action explains a call the filters never saw: compare
            // with `seccomp::filters_bypassed` instead.
            KernelAction::Bypassed => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KernelAction::KillProcess => "KILL_PROCESS",
            KernelAction::KillThread => "KILL_THREAD",
            KernelAction::Trap(_) => "TRAP",
            KernelAction::Errno(_) => "ERRNO",
            KernelAction::UserNotif => "USER_NOTIF",
            KernelAction::Trace(_) => "TRACE",
            KernelAction::AboveTrace => "ABOVE_TRACE",
            KernelAction::Bypassed => "BYPASSED",
        }
    }
}

impl fmt::Display for KernelAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KernelAction::Trap(d) | KernelAction::Errno(d) | KernelAction::Trace(d) => {
                write!(f, "{}({d})", self.name())
            }
            KernelAction::AboveTrace => f.write_str("ALLOW, LOG or an unknown action above TRACE"),
            KernelAction::Bypassed => f.write_str("no filter ran (the kernel exempts this call) and the call ran"),
            a => f.write_str(a.name()),
        }
    }
}

/// What the kernel did and the `struct seccomp_data` it evaluated the filters on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct KernelOutcome {
    pub action: KernelAction,
    /// Read at the probe's syscall-entry stop with `PTRACE_GET_SYSCALL_INFO`,
    /// which fills it from the same helpers as `populate_seccomp_data`
    /// (`syscall_get_nr`, `syscall_get_arch`, `syscall_get_arguments`,
    /// `instruction_pointer`), and cross-checked against the data the action
    /// itself carries (seccomp stop, SIGSYS siginfo, user notification).
    pub data: SeccompData,
}

/// Why the oracle could not answer.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum OracleError {
    #[error("the kernel oracle runs only on Linux x86-64")]
    Unsupported,
    #[error("program has {len} instructions; struct sock_fprog holds at most {MAX_FPROG_LEN}")]
    TooLong { len: usize },
    #[error("a filter stack needs at least one filter")]
    EmptyStack,
    #[error("stack of {len} filters; the prober stacks at most {MAX_STACK}")]
    StackTooDeep { len: usize },
    #[error("{what} failed with errno {errno}")]
    Sys { what: &'static str, errno: i64 },
    /// `seccomp(2)` failed with something else than EINVAL, again after
    /// retries: the kernel could not load a filter it may well accept (ENOMEM,
    /// or ENOTSUPP = 524 when the BPF JIT, always on, failed to compile it:
    /// `bpf_prog_select_runtime`, kernel/bpf/core.c). Not a verdict.
    #[error("the kernel could not load the filter now (seccomp failed with errno {errno}, not EINVAL: out of memory or a failed JIT compilation), so it says nothing about the filter")]
    CouldNotLoad { errno: i32 },
    #[error("oracle child could not {step}: errno {errno}")]
    ChildSetup { step: &'static str, errno: i64 },
    #[error("seccomp filters are not available on this kernel (probe filter refused with errno {errno})")]
    SeccompUnavailable { errno: i64 },
    #[error("filter {index} of the stack was refused by the kernel with errno {errno}")]
    FilterRejected { index: usize, errno: i64 },
    #[error("filter {index} of the stack could not be installed under the filters before it: {attempts}")]
    CannotInstall { index: usize, attempts: String },
    /// `seccomp(2)` refused a filter with ENOMEM: the stack's path length
    /// (`seccomp_attach_filter`), explained by [`path::explain`].
    #[error("{explanation}")]
    PathTooLong { index: usize, explanation: String },
    #[error("the {0:?} system call ABI is not available on this kernel")]
    AbiUnavailable(Abi),
    #[error("the oracle child did not answer within {TIMEOUT_SECS} s")]
    Timeout,
    #[error("kernel reported inconsistent data: {0}")]
    Inconsistent(String),
    #[error("unexpected state of the oracle child: {0}")]
    Unexpected(String),
    /// The kernel cannot load filters now (see [`health`]); asking would hang.
    #[error("{0}")]
    Unavailable(#[from] health::KernelUnavailable),
}

/// Stubs for targets without the oracle.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
mod unsupported {
    use super::*;
    use crate::bpf::Program;

    pub fn accepts(_: &Program) -> Result<Acceptance, OracleError> {
        Err(OracleError::Unsupported)
    }
    pub fn action(_: &[Program], _: &OracleInput) -> Result<KernelOutcome, OracleError> {
        Err(OracleError::Unsupported)
    }
}
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub use unsupported::{accepts, action};
pub mod environment;
pub mod overhead;
