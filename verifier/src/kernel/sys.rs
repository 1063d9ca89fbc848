//! Raw x86-64 Linux system calls and the machine code the oracle's children run.
//!
//! A child forked from the (multi-threaded) test process may only use
//! async-signal-safe operations until it dies: no allocation, no locks, no
//! `std` I/O. Everything it executes is therefore here: `syscall` /
//! `int 0x80` wrappers written in inline assembly (no libc, no `errno`), a raw
//! `clone` that starts a helper thread on a preallocated stack, and the probe
//! loop, whose `syscall` / `int 0x80` instructions sit at fixed, known
//! addresses (the probe filter matches on them).
//!
//! The parent side uses the same wrappers, so every call site returns
//! `-errno` the way the kernel does.

use core::arch::{asm, global_asm};

// System call numbers, arch/x86/entry/syscalls/syscall_64.tbl.
pub const SYS_MMAP: u64 = 9;
pub const SYS_MUNMAP: u64 = 11;
pub const SYS_RT_SIGACTION: u64 = 13;
pub const SYS_RT_SIGPROCMASK: u64 = 14;
pub const SYS_IOCTL: u64 = 16;
pub const SYS_CLONE: u64 = 56;
pub const SYS_WAIT4: u64 = 61;
pub const SYS_KILL: u64 = 62;
pub const SYS_GETPPID: u64 = 110;
pub const SYS_PRCTL: u64 = 157;
pub const SYS_FUTEX: u64 = 202;
pub const SYS_SET_TID_ADDRESS: u64 = 218;
pub const SYS_EXIT_GROUP: u64 = 231;
pub const SYS_PTRACE: u64 = 101;
pub const SYS_GETPID: u64 = 39;
pub const SYS_PRLIMIT64: u64 = 302;
pub const SYS_SECCOMP: u64 = 317;
// arch/x86/entry/syscalls/syscall_32.tbl
pub const SYS32_PRCTL: u32 = 172;
pub const SYS32_SECCOMP: u32 = 354;

// include/uapi/linux/prctl.h
pub const PR_SET_PDEATHSIG: u64 = 1;
pub const PR_SET_DUMPABLE: u64 = 4;
pub const PR_SET_SECCOMP: u64 = 22;
pub const PR_SET_NO_NEW_PRIVS: u64 = 38;
/// `SYS_SECCOMP`, the `si_code` of a seccomp SIGSYS (include/uapi/asm-generic/siginfo.h).
pub const SYS_SECCOMP_SI_CODE: i32 = 1;

// include/uapi/linux/sched.h
pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SYSVSEM: u64 = 0x40000;

// include/uapi/linux/futex.h (shared, not FUTEX_PRIVATE_FLAG: the kernel's
// clear_child_tid wake in mm_release() uses the shared key).
pub const FUTEX_WAIT: u64 = 0;
pub const FUTEX_WAKE: u64 = 1;

// include/uapi/linux/ptrace.h
pub const PTRACE_CONT: u64 = 7;
pub const PTRACE_GETREGS: u64 = 12;
pub const PTRACE_SYSCALL: u64 = 24;
pub const PTRACE_POKEUSER: u64 = 6;
pub const PTRACE_GETEVENTMSG: u64 = 0x4201;
pub const PTRACE_GETSIGINFO: u64 = 0x4202;
pub const PTRACE_SEIZE: u64 = 0x4206;
pub const PTRACE_GET_SYSCALL_INFO: u64 = 0x420e;
pub const PTRACE_O_TRACESYSGOOD: u64 = 1;
pub const PTRACE_O_TRACESECCOMP: u64 = 0x80;
pub const PTRACE_O_EXITKILL: u64 = 1 << 20;
pub const PTRACE_EVENT_SECCOMP: i32 = 7;
pub const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
pub const PTRACE_SYSCALL_INFO_SECCOMP: u8 = 3;

// Offsets in `struct user_regs_struct` (arch/x86/include/asm/user_64.h).
pub const USER_REGS_RAX: u64 = 10 * 8;
pub const USER_REGS_ORIG_RAX: u64 = 15 * 8;

pub const SIGKILL: u64 = 9;
pub const SIGCHLD: u64 = 17;
pub const SIGTRAP: i32 = 5;
pub const SIGILL: u64 = 4;
pub use crate::uapi::SIGSYS;
pub const RLIMIT_CORE: u64 = 4;
pub const WALL: u64 = 0x4000_0000;
pub const WNOHANG: u64 = 1;

pub const EINTR: i64 = 4;
pub const EBUSY: i64 = 16;
pub const ENOSYS: i64 = 38;
pub const ETIMEDOUT: i64 = 110;

/// `syscall` with up to six arguments; returns the raw `rax` (`-errno` on failure).
///
/// # Safety
/// The caller is responsible for the meaning of the system call.
#[inline(always)]
pub unsafe fn syscall6(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64 {
    let ret: i64;
    // SAFETY: `syscall` clobbers only rax (result), rcx and r11; memory may be
    // read or written by the kernel, which the default (non-`nomem`) asm allows.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a0, in("rsi") a1, in("rdx") a2,
            in("r10") a3, in("r8") a4, in("r9") a5,
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// # Safety
/// As [`syscall6`].
#[inline(always)]
pub unsafe fn syscall3(nr: u64, a0: u64, a1: u64, a2: u64) -> i64 {
    // SAFETY: forwarded to the caller.
    unsafe { syscall6(nr, a0, a1, a2, 0, 0, 0) }
}

/// A 32-bit (`int 0x80`) system call from 64-bit code: arguments in ebx, ecx,
/// edx, esi, edi (arch/x86/entry/entry_64_compat.S, `int80_emulation`).
///
/// # Safety
/// As [`syscall6`]; pointer arguments must lie below 4 GiB.
#[inline(always)]
pub unsafe fn int80(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32) -> i64 {
    let ret: i64;
    // SAFETY: rbx is reserved by LLVM, so it is swapped in and out around the
    // instruction; `int 0x80` preserves every register but rax (r8-r11 too,
    // since "x86/entry/64/compat: Preserve r8-r11 in int $0x80").
    unsafe {
        asm!(
            "xchg {b}, rbx",
            "int 0x80",
            "xchg {b}, rbx",
            b = inout(reg) a0 as u64 => _,
            inlateout("rax") nr as u64 as i64 => ret,
            in("rcx") a1 as u64, in("rdx") a2 as u64,
            in("rsi") a3 as u64, in("rdi") a4 as u64,
        );
    }
    ret
}

/// Trap into the tracer (SIGTRAP) without a system call: filters never see it.
#[inline(always)]
pub fn breakpoint() {
    // SAFETY: `int3` raises SIGTRAP; the traced child stops and is resumed by
    // the parent, registers and memory untouched.
    unsafe { asm!("int3", options(nostack)) }
}

/// Die without a system call: `ud2` raises SIGILL, whose default action ends
/// the process whatever filters are installed.
#[inline(always)]
pub fn die() -> ! {
    // SAFETY: `ud2` always faults; it never returns.
    unsafe { asm!("ud2", options(noreturn, nostack)) }
}

/// Start a thread of the calling process on `stack_top` running `f(arg)`.
/// Returns the new thread's id or `-errno`.
///
/// # Safety
/// `stack_top` must be the 16-byte aligned end of a writable region that no
/// one else uses while the thread lives; `f` must never return and must only
/// do async-signal-safe work (it shares TLS with the caller).
pub unsafe fn spawn_thread(stack_top: *mut u8, f: unsafe extern "C" fn(u64) -> !, arg: u64) -> i64 {
    let flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    let ret: i64;
    // SAFETY: the new thread starts after `syscall` with rax = 0 and rsp =
    // stack_top; r12/r13 survive the system call, so it calls f(arg) on its own
    // stack and never comes back here. The caller's path sees rax = tid.
    unsafe {
        asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r13",
            "call r12",
            "ud2",
            "2:",
            inlateout("rax") SYS_CLONE as i64 => ret,
            in("rdi") flags,
            in("rsi") stack_top,
            in("rdx") 0u64, in("r10") 0u64, in("r8") 0u64,
            in("r12") f, in("r13") arg,
            lateout("rcx") _, lateout("r11") _,
        );
    }
    ret
}

/// The register image of one probe, read by the probe loop (offsets are fixed
/// in the assembly below).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ProbeRegs {
    /// 0: `syscall` (x86_64 / x32), 1: `int 0x80` (i386).
    pub via_int80: u64,
    /// The system call number register.
    pub rax: u64,
    /// The six argument registers in ABI order.
    pub args: [u64; 6],
}

// The probe loop: stop (int3) so the tracer can place the next probe in
// `ProbeRegs`, load it, issue it from a fixed address, repeat. r15 holds the
// `ProbeRegs` pointer; both `syscall` and `int 0x80` preserve it.
// x86-64 argument registers: rdi, rsi, rdx, r10, r8, r9 (entry_SYSCALL_64);
// i386: ebx, ecx, edx, esi, edi, ebp (entry_INT80_compat). The full 64-bit
// registers are loaded: the kernel passes them to seccomp unchanged.
global_asm!(
    ".pushsection .text.seccheck_probe_loop,\"ax\",@progbits",
    ".p2align 4",
    ".globl __seccheck_probe_loop",
    ".hidden __seccheck_probe_loop",
    ".type __seccheck_probe_loop,@function",
    "__seccheck_probe_loop:",
    "mov r15, rdi",
    "2:",
    "int3",
    "cmp qword ptr [r15], 0",
    "jne 3f",
    "mov rax, qword ptr [r15 + 8]",
    "mov rdi, qword ptr [r15 + 16]",
    "mov rsi, qword ptr [r15 + 24]",
    "mov rdx, qword ptr [r15 + 32]",
    "mov r10, qword ptr [r15 + 40]",
    "mov r8, qword ptr [r15 + 48]",
    "mov r9, qword ptr [r15 + 56]",
    "syscall",
    ".globl __seccheck_probe_syscall_ip",
    ".hidden __seccheck_probe_syscall_ip",
    "__seccheck_probe_syscall_ip:",
    "jmp 2b",
    "3:",
    "mov rax, qword ptr [r15 + 8]",
    "mov rbx, qword ptr [r15 + 16]",
    "mov rcx, qword ptr [r15 + 24]",
    "mov rdx, qword ptr [r15 + 32]",
    "mov rsi, qword ptr [r15 + 40]",
    "mov rdi, qword ptr [r15 + 48]",
    "mov rbp, qword ptr [r15 + 56]",
    "int 0x80",
    ".globl __seccheck_probe_int80_ip",
    ".hidden __seccheck_probe_int80_ip",
    "__seccheck_probe_int80_ip:",
    "jmp 2b",
    ".size __seccheck_probe_loop, . - __seccheck_probe_loop",
    ".popsection",
);

extern "C" {
    fn __seccheck_probe_loop(regs: *const ProbeRegs) -> !;
    static __seccheck_probe_syscall_ip: u8;
    static __seccheck_probe_int80_ip: u8;
}

/// Run the probe loop on `regs` forever (the tracer ends the process).
///
/// # Safety
/// `regs` must stay valid for the life of the process; the caller must be
/// traced (the loop starts with `int3`).
pub unsafe fn probe_loop(regs: *const ProbeRegs) -> ! {
    // SAFETY: forwarded to the caller.
    unsafe { __seccheck_probe_loop(regs) }
}

/// The instruction pointer the kernel reports for a probe issued with
/// `syscall` (the address after the instruction, `KSTK_EIP`).
pub fn probe_syscall_ip() -> u64 {
    core::ptr::addr_of!(__seccheck_probe_syscall_ip) as u64
}

/// As [`probe_syscall_ip`] for `int 0x80`.
pub fn probe_int80_ip() -> u64 {
    core::ptr::addr_of!(__seccheck_probe_int80_ip) as u64
}

/// `struct sock_fprog` (include/uapi/linux/filter.h) for 64-bit callers.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SockFprog {
    pub len: u16,
    pub filter: u64,
}

/// `struct compat_sock_fprog` (include/linux/filter.h) for i386/x32 callers.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CompatSockFprog {
    pub len: u16,
    pub filter: u32,
}

/// `struct seccomp_notif` (include/uapi/linux/seccomp.h).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SeccompNotif {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

/// `struct seccomp_notif_resp` (include/uapi/linux/seccomp.h).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SeccompNotifResp {
    pub id: u64,
    pub val: i64,
    pub error: i32,
    pub flags: u32,
}

/// `struct ptrace_syscall_info` (include/uapi/linux/ptrace.h); the union's
/// `entry` and `seccomp` members share `nr` and `args`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct PtraceSyscallInfo {
    pub op: u8,
    pub reserved: u8,
    pub flags: u16,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    pub nr: u64,
    pub args: [u64; 6],
    pub ret_data: u32,
    pub reserved2: u32,
}

/// The start of `siginfo_t` for SIGSYS (include/uapi/asm-generic/siginfo.h):
/// `si_signo, si_errno, si_code`, then `_sigsys { _call_addr, _syscall, _arch }`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SigsysInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub pad: i32,
    pub call_addr: u64,
    pub syscall: i32,
    pub arch: u32,
    pub rest: [u64; 12],
}

/// `struct user_regs_struct` (arch/x86/include/asm/user_64.h) as raw words.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct UserRegs(pub [u64; 27]);

/// Block until `*word != val` may hold (spurious returns are possible).
///
/// # Safety
/// `word` must be valid.
#[inline(always)]
pub unsafe fn futex_wait(word: *const u32, val: u32, timeout: Option<&Timespec>) -> i64 {
    let t = timeout.map_or(0, |t| t as *const Timespec as u64);
    // SAFETY: forwarded to the caller; the timeout outlives the call.
    unsafe { syscall6(SYS_FUTEX, word as u64, FUTEX_WAIT, val as u64, t, 0, 0) }
}

/// Wake every waiter on `word`.
///
/// # Safety
/// `word` must be valid.
#[inline(always)]
pub unsafe fn futex_wake(word: *const u32) -> i64 {
    // SAFETY: forwarded to the caller.
    unsafe { syscall6(SYS_FUTEX, word as u64, FUTEX_WAKE, i32::MAX as u64, 0, 0, 0) }
}

/// `struct timespec`.
#[repr(C)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// `exit_group(code)`.
#[inline(always)]
pub fn exit_group(code: u64) -> ! {
    // SAFETY: ends the process; nothing after it runs.
    unsafe {
        syscall6(SYS_EXIT_GROUP, code, 0, 0, 0, 0, 0);
    }
    // Only reachable if a seccomp filter refused exit_group.
    die()
}

/// An anonymous mapping, optionally shared with forked children
/// (`MAP_SHARED`) or placed below 4 GiB (`MAP_32BIT`, for compat pointers).
pub struct Mapping {
    pub addr: *mut u8,
    pub len: usize,
}

// The mapping is plain memory owned by this value.
unsafe impl Send for Mapping {}

impl Mapping {
    const PROT_READ_WRITE: u64 = 0x1 | 0x2;
    const MAP_SHARED: u64 = 0x01;
    const MAP_PRIVATE: u64 = 0x02;
    const MAP_ANONYMOUS: u64 = 0x20;
    const MAP_32BIT: u64 = 0x40;

    /// A zero-filled mapping of at least `len` bytes.
    pub fn new(len: usize, shared: bool, low: bool) -> Result<Mapping, i64> {
        let len = len.max(1).div_ceil(4096) * 4096;
        let mut flags = Self::MAP_ANONYMOUS | if shared { Self::MAP_SHARED } else { Self::MAP_PRIVATE };
        if low {
            flags |= Self::MAP_32BIT;
        }
        // SAFETY: a fresh anonymous mapping aliases nothing.
        let r = unsafe { syscall6(SYS_MMAP, 0, len as u64, Self::PROT_READ_WRITE, flags, u64::MAX, 0) };
        if r < 0 {
            return Err(-r);
        }
        Ok(Mapping { addr: r as *mut u8, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no reference into it outlives `self`.
        unsafe {
            syscall6(SYS_MUNMAP, self.addr as u64, self.len as u64, 0, 0, 0, 0);
        }
    }
}

/// Wait for a state change of `pid` (`wait4(pid, &status, __WALL | extra)`),
/// retrying on EINTR. Returns the raw status, or `None` with `WNOHANG` and no
/// change.
pub fn wait(pid: i32, extra: u64) -> Result<Option<i32>, i64> {
    loop {
        let mut status: i32 = 0;
        // SAFETY: `status` is a valid out-pointer for the duration of the call.
        let r = unsafe { syscall6(SYS_WAIT4, pid as u64, &mut status as *mut i32 as u64, WALL | extra, 0, 0, 0) };
        if r == -EINTR {
            continue;
        }
        if r < 0 {
            return Err(-r);
        }
        return Ok(if r == 0 { None } else { Some(status) });
    }
}

/// `ptrace(req, pid, addr, data)` as the raw system call.
///
/// # Safety
/// `addr`/`data` must be what `req` expects.
pub unsafe fn ptrace(req: u64, pid: i32, addr: u64, data: u64) -> i64 {
    // SAFETY: forwarded to the caller.
    unsafe { syscall6(SYS_PTRACE, req, pid as u64, addr, data, 0, 0) }
}

/// Decoded `wait4` status (include/uapi/linux/wait.h, `WIFEXITED` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled(i32),
    /// Stopped with `status >> 8` (signal and ptrace event bits).
    Stopped(i32),
    Other(i32),
}

impl WaitStatus {
    pub fn from_raw(s: i32) -> WaitStatus {
        if s & 0x7f == 0 {
            WaitStatus::Exited((s >> 8) & 0xff)
        } else if s & 0xff == 0x7f {
            WaitStatus::Stopped((s >> 8) & 0xffff)
        } else if ((s & 0x7f) + 1) as i8 >> 1 > 0 {
            WaitStatus::Signaled(s & 0x7f)
        } else {
            WaitStatus::Other(s)
        }
    }
}
