//! What each argument of a syscall is: how many of its 64 bits the kernel reads,
//! and whether it is a pointer, a size, flags or a small number.
//!
//! Why it exists: `seccomp_data.args[i]` is always 64 bits wide, but the kernel's
//! `SYSCALL_DEFINEn` wrappers (include/linux/syscalls.h, `__SC_CAST` through
//! `__se_sys_*`) truncate an `int`/`unsigned int` parameter to its low 32 bits.
//! So on a 64-bit ABI a filter must compare
//!
//! - a 32-bit argument (fd, `int` flags, pid, signal, `unsigned int cmd`) on its
//!   low half only: the upper half of the register is whatever the caller left
//!   there, and a filter that decides on it decides on garbage (libseccomp issue
//!   383); where the garbage turns a denial into "runs", the check is bypassable;
//! - a 64-bit value (pointer, size, length, offset) on all 64 bits: a check of the
//!   low half only lets `0x1_0000_1000` through where `0x1000` was meant
//!   (firedancer issue 9185, shadow PR 3034).
//!
//! The table covers the syscalls whose arguments real profiles compare (Docker,
//! Podman, Firecracker, systemd, Chromium) and those the lints reason about. Each
//! row names the kernel file holding its `SYSCALL_DEFINE`; parameters declared
//! `unsigned long` but truncated by the kernel on their way in are marked with
//! the 32-bit kind they really are, and the reason is in the row's comment.
//! [`args`] answers `None` for a syscall it does not know: callers then know
//! nothing, rather than guess.

use super::Arch;
use serde::Serialize;

/// How the kernel reads one syscall argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgKind {
    /// A 32-bit number (`int`, `unsigned int`, `pid_t`, `uid_t`, `clockid_t`, an
    /// enumerated `option`/`cmd`/`family`). Only the low half counts.
    Int,
    /// A file descriptor (`int` or `unsigned int`): 32 bits.
    Fd,
    /// 32-bit flags or mode bits (`int flags`, `umode_t`, `unsigned int flags`).
    Flags32,
    /// A user-space address: all 64 bits select it.
    Pointer,
    /// A size, length, count or file offset (`size_t`, `loff_t`, `unsigned long
    /// len`): all 64 bits are its value.
    Size,
    /// `unsigned long` flags the kernel reads whole (unknown high bits are
    /// ignored or refused, never reinterpreted as low ones).
    Flags64,
    /// A 64-bit number compared whole by the kernel (a `long` request code).
    Long,
    /// An `unsigned long` whose meaning depends on another argument (`ioctl`'s
    /// and `fcntl`'s `arg`, `prctl`'s `arg2`…): a pointer for some commands, an
    /// `int` for others.
    Varies,
}

impl ArgKind {
    /// The bits the kernel reads on a 64-bit ABI: 32 or 64. `None` for [`ArgKind::Varies`].
    pub fn width(self) -> Option<u32> {
        match self {
            ArgKind::Int | ArgKind::Fd | ArgKind::Flags32 => Some(32),
            ArgKind::Pointer | ArgKind::Size | ArgKind::Flags64 | ArgKind::Long => Some(64),
            ArgKind::Varies => None,
        }
    }

    /// A 64-bit value whose high half changes what the syscall does to memory
    /// or files in a way a low-half check cannot see (pointers and sizes).
    pub fn is_wide_value(self) -> bool {
        matches!(self, ArgKind::Pointer | ArgKind::Size)
    }

    /// Only the low 32 bits reach the syscall.
    pub fn is_32bit(self) -> bool {
        self.width() == Some(32)
    }

    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Int => "int",
            ArgKind::Fd => "fd",
            ArgKind::Flags32 => "32-bit flags",
            ArgKind::Pointer => "pointer",
            ArgKind::Size => "size",
            ArgKind::Flags64 => "64-bit flags",
            ArgKind::Long => "long",
            ArgKind::Varies => "depends on another argument",
        }
    }
}

/// One syscall's parameters, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallArgs {
    pub name: &'static str,
    /// `(parameter name, kind)` as in the `SYSCALL_DEFINE`.
    pub params: &'static [(&'static str, ArgKind)],
    /// The kernel source file with its `SYSCALL_DEFINE` (paths as of Linux 6.18).
    pub source: &'static str,
}

use ArgKind::*;

macro_rules! sc {
    ($name:literal, $src:literal, [$(($p:literal, $k:ident)),* $(,)?]) => {
        SyscallArgs { name: $name, params: &[$(($p, $k)),*], source: $src }
    };
}

/// The generic table (the parameters as most 64-bit ABIs see them).
pub const TABLE: &[SyscallArgs] = &[
    sc!("accept", "net/socket.c", [("fd", Fd), ("upeer_sockaddr", Pointer), ("upeer_addrlen", Pointer)]),
    sc!(
        "accept4",
        "net/socket.c",
        [("fd", Fd), ("upeer_sockaddr", Pointer), ("upeer_addrlen", Pointer), ("flags", Flags32)]
    ),
    // x86_64 only: arch/x86/kernel/process_64.c
    sc!("arch_prctl", "arch/x86/kernel/process_64.c", [("option", Int), ("arg2", Varies)]),
    sc!("bind", "net/socket.c", [("fd", Fd), ("umyaddr", Pointer), ("addrlen", Int)]),
    sc!("bpf", "kernel/bpf/syscall.c", [("cmd", Int), ("uattr", Pointer), ("size", Int)]),
    sc!("brk", "mm/mmap.c", [("brk", Pointer)]),
    sc!("chmod", "fs/open.c", [("filename", Pointer), ("mode", Flags32)]),
    sc!("clock_gettime", "kernel/time/posix-timers.c", [("which_clock", Int), ("tp", Pointer)]),
    sc!(
        "clock_nanosleep",
        "kernel/time/posix-timers.c",
        [("which_clock", Int), ("flags", Flags32), ("rqtp", Pointer), ("rmtp", Pointer)]
    ),
    // `unsigned long clone_flags`, but kernel_clone_args takes
    // `lower_32_bits(clone_flags)` (kernel/fork.c, SYSCALL_DEFINE5(clone)); the
    // order below is the default one (x86_64); arm64 selects CLONE_BACKWARDS
    // (tls before child_tidptr), s390 CLONE_BACKWARDS2 (see `args`).
    sc!(
        "clone",
        "kernel/fork.c",
        [
            ("clone_flags", Flags32),
            ("newsp", Pointer),
            ("parent_tidptr", Pointer),
            ("child_tidptr", Pointer),
            ("tls", Pointer)
        ]
    ),
    sc!("clone3", "kernel/fork.c", [("uargs", Pointer), ("size", Size)]),
    sc!("close", "fs/open.c", [("fd", Fd)]),
    sc!("connect", "net/socket.c", [("fd", Fd), ("uservaddr", Pointer), ("addrlen", Int)]),
    sc!("creat", "fs/open.c", [("pathname", Pointer), ("mode", Flags32)]),
    sc!("dup", "fs/file.c", [("fildes", Fd)]),
    sc!("dup2", "fs/file.c", [("oldfd", Fd), ("newfd", Fd)]),
    sc!("dup3", "fs/file.c", [("oldfd", Fd), ("newfd", Fd), ("flags", Flags32)]),
    sc!("epoll_ctl", "fs/eventpoll.c", [("epfd", Fd), ("op", Int), ("fd", Fd), ("event", Pointer)]),
    sc!("eventfd2", "fs/eventfd.c", [("count", Int), ("flags", Flags32)]),
    sc!("execve", "fs/exec.c", [("filename", Pointer), ("argv", Pointer), ("envp", Pointer)]),
    sc!(
        "execveat",
        "fs/exec.c",
        [("fd", Fd), ("filename", Pointer), ("argv", Pointer), ("envp", Pointer), ("flags", Flags32)]
    ),
    sc!("fallocate", "fs/open.c", [("fd", Fd), ("mode", Flags32), ("offset", Size), ("len", Size)]),
    sc!("fchmod", "fs/open.c", [("fd", Fd), ("mode", Flags32)]),
    sc!("fchmodat", "fs/open.c", [("dfd", Fd), ("filename", Pointer), ("mode", Flags32)]),
    // `arg` is an int for F_SETFD/F_SETFL/F_DUPFD… (`int argi = (int)arg` in
    // do_fcntl) and a pointer for F_SETLK…
    sc!("fcntl", "fs/fcntl.c", [("fd", Fd), ("cmd", Int), ("arg", Varies)]),
    sc!("ftruncate", "fs/open.c", [("fd", Fd), ("length", Size)]),
    // `utime` is a timeout pointer or, for some ops, the number val2.
    sc!(
        "futex",
        "kernel/futex/syscalls.c",
        [("uaddr", Pointer), ("op", Int), ("val", Int), ("utime", Varies), ("uaddr2", Pointer), ("val3", Int)]
    ),
    sc!("getrandom", "drivers/char/random.c", [("ubuf", Pointer), ("len", Size), ("flags", Flags32)]),
    sc!(
        "getsockopt",
        "net/socket.c",
        [("fd", Fd), ("level", Int), ("optname", Int), ("optval", Pointer), ("optlen", Pointer)]
    ),
    sc!("io_uring_setup", "io_uring/io_uring.c", [("entries", Int), ("params", Pointer)]),
    sc!("ioctl", "fs/ioctl.c", [("fd", Fd), ("cmd", Int), ("arg", Varies)]),
    sc!("kcmp", "kernel/kcmp.c", [("pid1", Int), ("pid2", Int), ("type", Int), ("idx1", Varies), ("idx2", Varies)]),
    sc!(
        "keyctl",
        "security/keys/keyctl.c",
        [("option", Int), ("arg2", Varies), ("arg3", Varies), ("arg4", Varies), ("arg5", Varies)]
    ),
    sc!("kill", "kernel/signal.c", [("pid", Int), ("sig", Int)]),
    sc!("listen", "net/socket.c", [("fd", Fd), ("backlog", Int)]),
    sc!("lseek", "fs/read_write.c", [("fd", Fd), ("offset", Size), ("whence", Int)]),
    sc!("madvise", "mm/madvise.c", [("start", Pointer), ("len_in", Size), ("behavior", Int)]),
    sc!("memfd_create", "mm/memfd.c", [("uname", Pointer), ("flags", Flags32)]),
    sc!("mlock", "mm/mlock.c", [("start", Pointer), ("len", Size)]),
    // x86_64: arch/x86/kernel/sys_x86_64.c, arm64: arch/arm64/kernel/sys.c, both
    // all `unsigned long`; `fd` goes through ksys_mmap_pgoff to fget(unsigned int).
    sc!(
        "mmap",
        "arch/x86/kernel/sys_x86_64.c, arch/arm64/kernel/sys.c",
        [("addr", Pointer), ("len", Size), ("prot", Flags64), ("flags", Flags64), ("fd", Fd), ("off", Size)]
    ),
    // 32-bit ABIs (arm, i386, m68k, mips o32, parisc, powerpc, riscv32,
    // sparc): the offset in 4096-byte units (m68k: in pages). mm/mmap.c
    // `SYSCALL_DEFINE6(mmap_pgoff, …, pgoff)` (i386: syscall_32.tbl names
    // sys_mmap_pgoff), arch/*/kernel `sys_mmap2`, riscv32
    // arch/riscv/kernel/sys_riscv.c. s390 is the exception, see MMAP2_S390.
    sc!(
        "mmap2",
        "mm/mmap.c (mmap_pgoff), arch/*/kernel (sys_mmap2)",
        [("addr", Pointer), ("len", Size), ("prot", Flags64), ("flags", Flags64), ("fd", Fd), ("pgoff", Size)]
    ),
    sc!(
        "mount",
        "fs/namespace.c",
        [("dev_name", Pointer), ("dir_name", Pointer), ("type", Pointer), ("flags", Flags64), ("data", Pointer)]
    ),
    sc!("mprotect", "mm/mprotect.c", [("start", Pointer), ("len", Size), ("prot", Flags64)]),
    sc!(
        "mremap",
        "mm/mremap.c",
        [("addr", Pointer), ("old_len", Size), ("new_len", Size), ("flags", Flags64), ("new_addr", Pointer)]
    ),
    sc!("msync", "mm/msync.c", [("start", Pointer), ("len", Size), ("flags", Flags32)]),
    sc!("munmap", "mm/mmap.c", [("addr", Pointer), ("len", Size)]),
    sc!("open", "fs/open.c", [("filename", Pointer), ("flags", Flags32), ("mode", Flags32)]),
    sc!("openat", "fs/open.c", [("dfd", Fd), ("filename", Pointer), ("flags", Flags32), ("mode", Flags32)]),
    sc!("openat2", "fs/open.c", [("dfd", Fd), ("filename", Pointer), ("how", Pointer), ("usize", Size)]),
    sc!(
        "perf_event_open",
        "kernel/events/core.c",
        [("attr_uptr", Pointer), ("pid", Int), ("cpu", Int), ("group_fd", Fd), ("flags", Flags64)]
    ),
    sc!("personality", "kernel/exec_domain.c", [("personality", Flags32)]),
    sc!("pipe2", "fs/pipe.c", [("fildes", Pointer), ("flags", Flags32)]),
    sc!(
        "prctl",
        "kernel/sys.c",
        [("option", Int), ("arg2", Varies), ("arg3", Varies), ("arg4", Varies), ("arg5", Varies)]
    ),
    sc!("pread64", "fs/read_write.c", [("fd", Fd), ("buf", Pointer), ("count", Size), ("pos", Size)]),
    sc!(
        "process_vm_readv",
        "mm/process_vm_access.c",
        [("pid", Int), ("lvec", Pointer), ("liovcnt", Size), ("rvec", Pointer), ("riovcnt", Size), ("flags", Flags64)]
    ),
    sc!(
        "process_vm_writev",
        "mm/process_vm_access.c",
        [("pid", Int), ("lvec", Pointer), ("liovcnt", Size), ("rvec", Pointer), ("riovcnt", Size), ("flags", Flags64)]
    ),
    // `long request` is switched on whole (kernel/ptrace.c ptrace_request);
    // `long pid` goes to find_get_task_by_vpid(pid_t).
    sc!("ptrace", "kernel/ptrace.c", [("request", Long), ("pid", Int), ("addr", Varies), ("data", Varies)]),
    sc!("pwrite64", "fs/read_write.c", [("fd", Fd), ("buf", Pointer), ("count", Size), ("pos", Size)]),
    sc!("read", "fs/read_write.c", [("fd", Fd), ("buf", Pointer), ("count", Size)]),
    // `unsigned long fd`, passed to fdget_pos(unsigned int).
    sc!("readv", "fs/read_write.c", [("fd", Fd), ("vec", Pointer), ("vlen", Size)]),
    sc!(
        "recvfrom",
        "net/socket.c",
        [("fd", Fd), ("ubuf", Pointer), ("size", Size), ("flags", Flags32), ("addr", Pointer), ("addr_len", Pointer)]
    ),
    sc!("recvmsg", "net/socket.c", [("fd", Fd), ("msg", Pointer), ("flags", Flags32)]),
    sc!("rt_sigaction", "kernel/signal.c", [("sig", Int), ("act", Pointer), ("oact", Pointer), ("sigsetsize", Size)]),
    sc!(
        "rt_sigprocmask",
        "kernel/signal.c",
        [("how", Int), ("nset", Pointer), ("oset", Pointer), ("sigsetsize", Size)]
    ),
    sc!("sched_setaffinity", "kernel/sched/syscalls.c", [("pid", Int), ("len", Int), ("user_mask_ptr", Pointer)]),
    sc!("seccomp", "kernel/seccomp.c", [("op", Int), ("flags", Flags32), ("uargs", Pointer)]),
    // x86_64's `sendfile` is sendfile64.
    sc!("sendfile", "fs/read_write.c", [("out_fd", Fd), ("in_fd", Fd), ("offset", Pointer), ("count", Size)]),
    sc!("sendmsg", "net/socket.c", [("fd", Fd), ("msg", Pointer), ("flags", Flags32)]),
    sc!(
        "sendto",
        "net/socket.c",
        [("fd", Fd), ("buff", Pointer), ("len", Size), ("flags", Flags32), ("addr", Pointer), ("addr_len", Int)]
    ),
    sc!("setgid", "kernel/sys.c", [("gid", Int)]),
    sc!("setns", "kernel/nsproxy.c", [("fd", Fd), ("flags", Flags32)]),
    sc!("setpriority", "kernel/sys.c", [("which", Int), ("who", Int), ("niceval", Int)]),
    sc!("setresuid", "kernel/sys.c", [("ruid", Int), ("euid", Int), ("suid", Int)]),
    sc!(
        "setsockopt",
        "net/socket.c",
        [("fd", Fd), ("level", Int), ("optname", Int), ("optval", Pointer), ("optlen", Int)]
    ),
    sc!("setuid", "kernel/sys.c", [("uid", Int)]),
    sc!("socket", "net/socket.c", [("family", Int), ("type", Int), ("protocol", Int)]),
    sc!("socketpair", "net/socket.c", [("family", Int), ("type", Int), ("protocol", Int), ("usockvec", Pointer)]),
    sc!(
        "statx",
        "fs/stat.c",
        [("dfd", Fd), ("filename", Pointer), ("flags", Flags32), ("mask", Flags32), ("buffer", Pointer)]
    ),
    sc!("tgkill", "kernel/signal.c", [("tgid", Int), ("pid", Int), ("sig", Int)]),
    sc!("timerfd_create", "fs/timerfd.c", [("clockid", Int), ("flags", Flags32)]),
    sc!("timerfd_settime", "fs/timerfd.c", [("ufd", Fd), ("flags", Flags32), ("utmr", Pointer), ("otmr", Pointer)]),
    sc!("tkill", "kernel/signal.c", [("pid", Int), ("sig", Int)]),
    // `int flags` (the syscall is `umount` in the kernel, `umount2` in the tables).
    sc!("umount2", "fs/namespace.c", [("name", Pointer), ("flags", Flags32)]),
    sc!("unshare", "kernel/fork.c", [("unshare_flags", Flags64)]),
    sc!("wait4", "kernel/exit.c", [("upid", Int), ("stat_addr", Pointer), ("options", Flags32), ("ru", Pointer)]),
    sc!("write", "fs/read_write.c", [("fd", Fd), ("buf", Pointer), ("count", Size)]),
    sc!("writev", "fs/read_write.c", [("fd", Fd), ("vec", Pointer), ("vlen", Size)]),
];

/// s390 selects CONFIG_CLONE_BACKWARDS2: `clone(newsp, clone_flags, …)`
/// (kernel/fork.c).
const CLONE_S390: SyscallArgs = sc!(
    "clone",
    "kernel/fork.c (CONFIG_CLONE_BACKWARDS2)",
    [
        ("newsp", Pointer),
        ("clone_flags", Flags32),
        ("parent_tidptr", Pointer),
        ("child_tidptr", Pointer),
        ("tls", Pointer)
    ]
);

/// `mmap` (nr 90) of i386, m68k and s390x is `old_mmap` (mm/mmap.c,
/// `SYSCALL_DEFINE1(old_mmap, struct mmap_arg_struct __user *, arg)` under
/// `__ARCH_WANT_SYS_OLD_MMAP`; arch/x86/entry/syscalls/syscall_32.tbl,
/// arch/m68k/kernel/syscalls/syscall.tbl and arch/s390/kernel/syscalls/syscall.tbl
/// name `sys_old_mmap`), 31-bit s390's is `compat_sys_s390_old_mmap`
/// (arch/s390/kernel/compat_linux.c, `struct mmap_arg_struct_emu31`): one
/// pointer to a struct holding the six values, so the filter sees none of them.
const MMAP_STRUCT: SyscallArgs =
    sc!("mmap", "mm/mmap.c (old_mmap), arch/s390/kernel/compat_linux.c (s390_old_mmap)", [("arg", Pointer)]);

/// 31-bit s390's `mmap2` takes a pointer to the same struct
/// (arch/s390/kernel/syscalls/syscall.tbl: `compat_sys_s390_mmap2`,
/// arch/s390/kernel/compat_linux.c).
const MMAP2_S390: SyscallArgs = sc!("mmap2", "arch/s390/kernel/compat_linux.c (s390_mmap2)", [("arg", Pointer)]);

/// The parameters of syscall `name` on `arch`, if the table knows them and the
/// arch has the syscall.
pub fn args(arch: Arch, name: &str) -> Option<&'static SyscallArgs> {
    arch.syscall_nr(name)?;
    if name == "clone" && matches!(arch, Arch::S390 | Arch::S390x) {
        return Some(&CLONE_S390);
    }
    if name == "mmap" && matches!(arch, Arch::I386 | Arch::M68k | Arch::S390 | Arch::S390x) {
        return Some(&MMAP_STRUCT);
    }
    if name == "mmap2" && arch == Arch::S390 {
        return Some(&MMAP2_S390);
    }
    TABLE.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_names_real_syscalls() {
        for w in TABLE.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for s in TABLE {
            assert!(s.params.len() <= 6, "{}", s.name);
            assert!(Arch::all().any(|a| a.syscall_nr(s.name).is_some()), "{} is a syscall of no arch", s.name);
        }
    }

    #[test]
    fn kinds_follow_the_kernel_signatures() {
        let k = |arch, name, i: usize| args(arch, name).map(|s| s.params[i].1);
        // SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)
        assert_eq!(k(Arch::X86_64, "socket", 0), Some(Int));
        // SYSCALL_DEFINE3(mprotect, unsigned long, start, size_t, len, unsigned long, prot)
        assert_eq!(k(Arch::X86_64, "mprotect", 1), Some(Size));
        assert!(Size.is_wide_value() && Pointer.is_wide_value() && !Flags64.is_wide_value());
        assert!(Fd.is_32bit() && !Varies.is_32bit() && Varies.width().is_none());
        // clone's flags move on s390
        assert_eq!(k(Arch::X86_64, "clone", 0), Some(Flags32));
        assert_eq!(k(Arch::S390x, "clone", 1), Some(Flags32));
        // mmap's six values, or one pointer to a struct holding them
        for a in [Arch::X86_64, Arch::X32, Arch::Aarch64, Arch::Riscv64, Arch::Ppc64le, Arch::Mips, Arch::Sparc64] {
            assert_eq!(args(a, "mmap").map(|s| s.params[2]), Some(("prot", Flags64)), "{a}");
        }
        for a in [Arch::I386, Arch::M68k, Arch::S390, Arch::S390x] {
            assert_eq!(args(a, "mmap").map(|s| s.params), Some(&[("arg", Pointer)][..]), "{a}");
        }
        for a in [Arch::I386, Arch::Arm, Arch::M68k, Arch::Ppc, Arch::Riscv32, Arch::Mips, Arch::Sparc, Arch::Parisc] {
            assert_eq!(args(a, "mmap2").map(|s| s.params[3]), Some(("flags", Flags64)), "{a}");
        }
        assert_eq!(args(Arch::S390, "mmap2").map(|s| s.params.len()), Some(1));
        assert_eq!(args(Arch::Arm, "mmap"), None, "EABI has only mmap2");
        assert_eq!(args(Arch::X86_64, "mmap2"), None);
        // an arch without the syscall, a syscall the table does not know
        assert_eq!(args(Arch::Aarch64, "open"), None);
        assert_eq!(args(Arch::X86_64, "getpid"), None);
    }
}
