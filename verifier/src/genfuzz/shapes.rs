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
    /// This case's place in the campaign's schedule ([`Shape::for_case`]);
    /// `None` (a fuzz target's input): drawn from the bytes.
    pub pick: Option<Pick>,
}

/// What the schedule fixes for one case: its size class, the arch its
/// filter is for first, and whether the filter is for other arches too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub class: SizeClass,
    pub lead: Arch,
    /// 1–3 more arches (of the lead's byte order, where the generator's
    /// filters can have several); `false`: the lead alone.
    pub with_others: bool,
}

/// Rule-set sizes, by what they make a generator do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SizeClass {
    /// 1–12 rules: the shapes of the known issues, cheap.
    Small,
    /// 13–64 rules.
    Medium,
    /// 65–255 rules: jumps past the 255 a conditional jump can span.
    Large,
    /// 256–[`MAX_RULES`] rules: filters of thousands of instructions
    /// (trampolines, copied returns).
    VeryLarge,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [SizeClass::Small, SizeClass::Medium, SizeClass::Large, SizeClass::VeryLarge];

    /// The rule counts of the class.
    pub fn range(self) -> std::ops::RangeInclusive<usize> {
        match self {
            SizeClass::Small => 1..=12,
            SizeClass::Medium => 13..=64,
            SizeClass::Large => 65..=255,
            SizeClass::VeryLarge => 256..=MAX_RULES,
        }
    }

    /// The class a rule count falls in (counts past [`MAX_RULES`], from
    /// `--profile-size`, are very large).
    pub fn of(rules: usize) -> SizeClass {
        SizeClass::ALL.into_iter().find(|c| rules <= *c.range().end()).unwrap_or(SizeClass::VeryLarge)
    }

    /// `1-12 rules`.
    pub fn label(self) -> String {
        format!("{}-{} rules", self.range().start(), self.range().end())
    }
}

/// The size classes of the default schedule ([`Shape::for_case`]), 24
/// slots: half small, a quarter medium, a sixth large, the rest very large;
/// each class within the first four slots, so that a short run reaches them
/// all, and among the even and the odd slots alike.
pub const SIZE_SCHEDULE: [SizeClass; 24] = {
    use SizeClass::*;
    [
        Small, Medium, Large, VeryLarge, Small, Small, Medium, Small, Small, Large, Medium, Small, Small, Medium,
        Large, Small, VeryLarge, Small, Medium, Small, Small, Large, Medium, Small,
    ]
};

/// The largest rule set the default schedule draws (a few hundred rules: a
/// filter of thousands of instructions, with jumps far past the 255 a
/// conditional jump can span, so generators must emit trampolines).
pub const MAX_RULES: usize = 400;

/// The most rules `--profile-size` asks for (a case's random bytes run out
/// past that: [`super::CASE_BYTES`]).
pub const MAX_PROFILE_SIZE: usize = 1000;

impl Shape {
    /// The shape of case `i` of a campaign whose generator targets `targets`
    /// (`multi_arch`: its filters can be for several arches). Case `i` is in
    /// pass `i / n` over the `n` arches (`--arches`, else `targets`): its
    /// lead arch is the pass's `i % n`-th, with other arches in odd passes,
    /// and its size class is [`SIZE_SCHEDULE`]'s slot `pass + i % n`, so
    /// that each pass has consecutive slots (every class once it is four
    /// arches long) and each arch meets every slot, on both sides, in turn.
    /// A fixed schedule rather than a random one: two passes reach every
    /// arch, alone and with others, and every size class; every pair of
    /// them follows; and a seed's case `i` is the same policy in every run
    /// and shard.
    pub fn for_case(&self, i: u64, targets: &[Arch], multi_arch: bool) -> Shape {
        let pool: &[Arch] = self.arches.as_deref().unwrap_or(targets);
        let pick = (!pool.is_empty()).then(|| {
            let n = pool.len() as u64;
            let (pass, at) = (i / n, i % n);
            Pick {
                class: SIZE_SCHEDULE[((pass + at) % SIZE_SCHEDULE.len() as u64) as usize],
                lead: pool[at as usize],
                with_others: multi_arch && pass % 2 == 1,
            }
        });
        Shape { pick, ..self.clone() }
    }

    /// How many rules the next case has: the fixed count, the scheduled
    /// class's range, or else (no schedule) by case count half small sets,
    /// a quarter medium, a sixth large and the rest very large
    /// ([`SizeClass`]); the large ones take most of a run's time.
    pub fn rules(&self, u: &mut arbitrary::Unstructured) -> arbitrary::Result<usize> {
        if let Some(n) = self.rules {
            return Ok(n);
        }
        let class = match self.pick {
            Some(p) => p.class,
            None => match u.int_in_range(0u8..=11)? {
                0..=5 => SizeClass::Small,
                6..=8 => SizeClass::Medium,
                9 | 10 => SizeClass::Large,
                _ => SizeClass::VeryLarge,
            },
        };
        u.int_in_range(class.range())
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
