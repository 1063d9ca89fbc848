//! What generated policies are made of, shared by the generators: how many
//! rules and which arches ([`Shape`]), argument values that sit at
//! comparison boundaries, and the syscall names drawn from.

use crate::arch::Arch;

/// The rule counts and arches a campaign's cases are drawn from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Every case has exactly this many rules (`--profile-size`); `None`:
    /// [`Shape::rules`]'s schedule.
    pub rules: Option<usize>,
    /// The arches filters are for (`--arches`); `None`: every arch the
    /// generator targets.
    pub arches: Option<Vec<Arch>>,
}

/// The largest rule set the default schedule draws (a few hundred rules: a
/// filter of thousands of instructions, with jumps far past the 255 a
/// conditional jump can span, so generators must emit trampolines).
pub const MAX_RULES: usize = 400;

/// The most rules `--profile-size` asks for (a case's random bytes run out
/// past that: [`super::CASE_BYTES`]).
pub const MAX_PROFILE_SIZE: usize = 1000;

impl Shape {
    /// How many rules the next case has: the fixed count, or the default
    /// schedule, by case count half small sets (1–12 rules: the shapes of the
    /// known issues, cheap), a quarter medium (13–64), a sixth large
    /// (65–255) and the rest very large (256–[`MAX_RULES`]); the large ones
    /// take most of a run's time.
    pub fn rules(&self, u: &mut arbitrary::Unstructured) -> arbitrary::Result<usize> {
        if let Some(n) = self.rules {
            return Ok(n);
        }
        Ok(match u.int_in_range(0u8..=11)? {
            0..=5 => u.int_in_range(1..=12)?,
            6..=8 => u.int_in_range(13..=64)?,
            9 | 10 => u.int_in_range(65..=255)?,
            _ => u.int_in_range(256..=MAX_RULES)?,
        })
    }
}

/// A value that is often interesting for argument comparisons: 0, small,
/// powers of two and their neighbours, the 32-bit boundary, high-half values,
/// all ones.
pub(crate) fn interesting_u64(u: &mut arbitrary::Unstructured) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=10)? {
        0 => 0,
        1 => u.int_in_range(0u64..=16)?,
        2 => 1u64 << u.int_in_range(0u32..=63)?,
        3 => (1u64 << u.int_in_range(1u32..=63)?) - 1,
        4 => u64::from(u32::MAX) - u.int_in_range(0u64..=2)?,
        5 => 0x1_0000_0000 + u.int_in_range(0u64..=5)?,
        6 => u64::MAX - u.int_in_range(0u64..=2)?,
        7 => u64::from(u.arbitrary::<u32>()?),
        8 => (u64::from(u.int_in_range(1u32..=3)?) << 32) | u64::from(u.int_in_range(0u32..=8)?),
        _ => u.arbitrary::<u64>()?,
    })
}

/// Syscall names the generators draw from: long-standing syscalls (every
/// libseccomp 2.5.4 table knows them where the kernel has them), some missing
/// on some ABIs (`open`, `fork`, `time`, the x86-only ones), none multiplexed
/// through i386/ppc/mips `socketcall`/`ipc` (libseccomp rewrites those rules;
/// out of scope for this reference).
pub const NAME_POOL: &[&str] = &[
    "read",
    "write",
    "close",
    "openat",
    "open",
    "lseek",
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "access",
    "pipe2",
    "dup",
    "dup3",
    "nanosleep",
    "getpid",
    "gettid",
    "kill",
    "tkill",
    "tgkill",
    "exit",
    "exit_group",
    "futex",
    "clone",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "fcntl",
    "flock",
    "fsync",
    "ftruncate",
    "getcwd",
    "chdir",
    "fchdir",
    "renameat",
    "mkdirat",
    "unlinkat",
    "prctl",
    "getuid",
    "setuid",
    "umask",
    "madvise",
    "mremap",
    "ptrace",
    "personality",
    "mount",
    "umount2",
    "chroot",
    "pivot_root",
    "reboot",
    "setns",
    "unshare",
    "bpf",
    "perf_event_open",
    "memfd_create",
    "getrandom",
    "statx",
    "epoll_create1",
    "eventfd2",
    "prlimit64",
    "seccomp",
    "userfaultfd",
    "kexec_load",
    "init_module",
    "finit_module",
    "time",
    "alarm",
    "pause",
    "poll",
    "uname",
    "ioperm",
    "iopl",
    "modify_ldt",
    "arch_prctl",
    "clone3",
    "pidfd_open",
    "io_uring_setup",
    "process_vm_readv",
    "keyctl",
    "add_key",
];
