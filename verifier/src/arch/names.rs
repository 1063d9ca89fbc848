//! Names of the values syscall arguments take, per arch: which argument is an
//! address family, a socket type, open flags, clone flags, a `prctl` option…,
//! and the UAPI names of its values there.
//!
//! Why it exists: a condition printed as `arg0 in {0x26, 0x28}` means nothing to
//! a reviewer until it reads `AF_ALG (0x26)`. The numbers are the ABI, and some
//! differ between arches (open flags on arm/aarch64/m68k/powerpc/mips/sparc,
//! socket types on mips, signals and `fcntl` commands on mips/sparc/parisc), so
//! a name is only ever given for an arch whose headers this table transcribes:
//! [`arg_names`] answers `None` for any other (parisc open flags, whose values
//! changed between kernel releases; mips signals…) and for any syscall or
//! argument it does not know, and callers then print the number alone.
//! Argument positions come from [`super::args`] (by parameter name), so
//! `clone`'s flags are found in `arg1` on s390 as the kernel reads them there.
//!
//! Sources (Linux 6.18 UAPI unless said): include/uapi/asm-generic/fcntl.h and
//! arch/{arm,arm64,m68k,powerpc,mips,sparc}/include/uapi/asm/fcntl.h (open
//! flags, `F_*`), include/uapi/linux/fcntl.h (`F_LINUX_SPECIFIC_BASE` commands),
//! include/linux/socket.h (`AF_*`), include/linux/net.h and
//! arch/mips/include/asm/socket.h (`SOCK_*`, `SOCK_TYPE_MASK`; `SOCK_NONBLOCK`
//! and `SOCK_CLOEXEC` are the arch's `O_NONBLOCK` and `O_CLOEXEC`),
//! include/uapi/linux/sched.h (`CLONE_*`, `CSIGNAL`), include/uapi/linux/prctl.h
//! (`PR_*` options), include/uapi/linux/personality.h (`PER_*`: only those whose
//! definition is the bare number, the others include flags),
//! include/uapi/asm-generic/mman-common.h and arch/arm64/include/uapi/asm/mman.h
//! (`PROT_*`), include/uapi/asm-generic/mman.h and
//! arch/{x86,powerpc,sparc,mips}/include/uapi/asm/mman.h (`MAP_*`),
//! include/uapi/asm-generic/signal.h and arch/x86/include/uapi/asm/signal.h
//! (signals), include/uapi/asm-generic/ioctls.h (`TIOCSTI`, `TIOCLINUX`).

use super::Arch;

/// The names one argument's values have on one arch: an enumerated part
/// (`enum_mask`, e.g. `O_ACCMODE` or the low byte of a personality, the whole
/// value for an address family) and single-bit flags beside it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ValueNames {
    /// What the argument is, for JSON (`address-family`, `open-flags`…).
    pub kind: &'static str,
    /// The bits holding an enumerated value; 0 for pure flags.
    pub enum_mask: u64,
    /// The name of `enum_mask` itself, where the headers give one (`O_ACCMODE`).
    pub enum_mask_name: Option<&'static str>,
    /// Values of the enumerated part.
    pub enums: &'static [(&'static str, u64)],
    /// Flags outside `enum_mask`, one bit each.
    pub flags: &'static [(&'static str, u64)],
    /// The name of the value 0 of a pure flag word (`PROT_NONE`).
    pub zero: Option<&'static str>,
}

/// More unknown bits than this, or than names, and a value or mask is not a
/// flag word: it is printed as a number alone (`personality(0xffffffff)`
/// queries, it sets no flags; `0xf0000004` is a range check, not `PROT_EXEC`
/// and four other bits).
const MAX_UNKNOWN_BITS: u32 = 4;

fn flag_word(names: usize, rest: u64) -> bool {
    names > 0 && rest.count_ones() <= MAX_UNKNOWN_BITS.min(names as u32)
}

impl ValueNames {
    fn enum_name(&self, v: u64) -> Option<&'static str> {
        self.enums.iter().find(|e| e.1 == v).map(|e| e.0)
    }

    /// `v` as names, where `scope` holds the bits the condition compares (the
    /// mask of a masked comparison, all bits for an equality) and `whole` says
    /// whether that is every bit the kernel reads: the enumerated part is
    /// named only where all of it is compared, flags by their bits, any bit
    /// without a name as a hex number after them, and 0 of a flag word
    /// (`PROT_NONE`) only when `whole`. `None` where no name applies or the
    /// value is no flag word.
    pub fn value(&self, v: u64, scope: u64, whole: bool) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        let mut named = 0;
        let mut rest = v;
        if self.enum_mask != 0 && scope & self.enum_mask == self.enum_mask {
            let e = v & self.enum_mask;
            match self.enum_name(e) {
                Some(n) => {
                    parts.push(n.to_string());
                    named += 1;
                }
                None if e != 0 => parts.push(format!("{e:#x}")),
                None => {}
            }
            rest &= !self.enum_mask;
        }
        for &(n, bit) in self.flags {
            if rest & bit == bit {
                parts.push(n.to_string());
                named += 1;
                rest &= !bit;
            }
        }
        if v == 0 && parts.is_empty() {
            return self.zero.filter(|_| whole).map(str::to_string);
        }
        if !flag_word(named, rest) {
            return None;
        }
        if rest != 0 {
            parts.push(format!("{rest:#x}"));
        }
        Some(parts.join("|"))
    }

    /// A mask as the union of the names of its bits (`O_ACCMODE` for the whole
    /// enumerated part), unknown bits as a hex number after them.
    pub fn mask(&self, m: u64) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        let mut rest = m;
        if self.enum_mask != 0 && m & self.enum_mask == self.enum_mask {
            if let Some(n) = self.enum_mask_name {
                parts.push(n.to_string());
                rest &= !self.enum_mask;
            }
        }
        for &(n, bit) in self.flags {
            if rest & bit == bit {
                parts.push(n.to_string());
                rest &= !bit;
            }
        }
        if !flag_word(parts.len(), rest) {
            return None;
        }
        if rest != 0 {
            parts.push(format!("{rest:#x}"));
        }
        Some(parts.join("|"))
    }
}

// ---- address families: include/linux/socket.h (the same on every arch) ----

#[rustfmt::skip]
const AF: &[(&str, u64)] = &[
    ("AF_UNSPEC", 0), ("AF_UNIX", 1), ("AF_INET", 2), ("AF_AX25", 3), ("AF_IPX", 4), ("AF_APPLETALK", 5),
    ("AF_NETROM", 6), ("AF_BRIDGE", 7), ("AF_ATMPVC", 8), ("AF_X25", 9), ("AF_INET6", 10), ("AF_ROSE", 11),
    ("AF_NETBEUI", 13), ("AF_SECURITY", 14), ("AF_KEY", 15), ("AF_NETLINK", 16), ("AF_PACKET", 17), ("AF_ASH", 18),
    ("AF_ECONET", 19), ("AF_ATMSVC", 20), ("AF_RDS", 21), ("AF_SNA", 22), ("AF_IRDA", 23), ("AF_PPPOX", 24),
    ("AF_WANPIPE", 25), ("AF_LLC", 26), ("AF_IB", 27), ("AF_MPLS", 28), ("AF_CAN", 29), ("AF_TIPC", 30),
    ("AF_BLUETOOTH", 31), ("AF_IUCV", 32), ("AF_RXRPC", 33), ("AF_ISDN", 34), ("AF_PHONET", 35),
    ("AF_IEEE802154", 36), ("AF_CAIF", 37), ("AF_ALG", 38), ("AF_NFC", 39), ("AF_VSOCK", 40), ("AF_KCM", 41),
    ("AF_QIPCRTR", 42), ("AF_SMC", 43), ("AF_XDP", 44), ("AF_MCTP", 45),
];

const ADDRESS_FAMILY: ValueNames = ValueNames {
    kind: "address-family",
    enum_mask: u32::MAX as u64,
    enum_mask_name: None,
    enums: AF,
    flags: &[],
    zero: None,
};

// ---- open flags ----

/// include/uapi/asm-generic/fcntl.h (x86, riscv, s390, loongarch): the access
/// mode, then one bit per flag (`O_SYNC` is `__O_SYNC|O_DSYNC`, `O_TMPFILE`
/// `__O_TMPFILE|O_DIRECTORY`, so their own bits are named).
#[rustfmt::skip]
const O_GENERIC: &[(&str, u64)] = &[
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000), ("FASYNC", 0o20000), ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000), ("O_DIRECTORY", 0o200000), ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000), ("__O_SYNC", 0o4000000), ("O_PATH", 0o10000000), ("__O_TMPFILE", 0o20000000),
];
/// arch/{arm,arm64,m68k}/include/uapi/asm/fcntl.h: O_DIRECTORY 040000,
/// O_NOFOLLOW 0100000, O_DIRECT 0200000, O_LARGEFILE 0400000.
#[rustfmt::skip]
const O_ARM: &[(&str, u64)] = &[
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000), ("FASYNC", 0o20000), ("O_DIRECTORY", 0o40000),
    ("O_NOFOLLOW", 0o100000), ("O_DIRECT", 0o200000), ("O_LARGEFILE", 0o400000), ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000), ("__O_SYNC", 0o4000000), ("O_PATH", 0o10000000), ("__O_TMPFILE", 0o20000000),
];
/// arch/powerpc/include/uapi/asm/fcntl.h: O_DIRECTORY 040000, O_NOFOLLOW
/// 0100000, O_LARGEFILE 0200000, O_DIRECT 0400000.
#[rustfmt::skip]
const O_PPC: &[(&str, u64)] = &[
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000), ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000), ("FASYNC", 0o20000), ("O_DIRECTORY", 0o40000),
    ("O_NOFOLLOW", 0o100000), ("O_LARGEFILE", 0o200000), ("O_DIRECT", 0o400000), ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000), ("__O_SYNC", 0o4000000), ("O_PATH", 0o10000000), ("__O_TMPFILE", 0o20000000),
];
/// arch/mips/include/uapi/asm/fcntl.h (the rest from asm-generic).
#[rustfmt::skip]
const O_MIPS: &[(&str, u64)] = &[
    ("O_APPEND", 0x8), ("O_DSYNC", 0x10), ("O_NONBLOCK", 0x80), ("O_CREAT", 0x100), ("O_TRUNC", 0x200),
    ("O_EXCL", 0x400), ("O_NOCTTY", 0x800), ("FASYNC", 0x1000), ("O_LARGEFILE", 0x2000), ("__O_SYNC", 0x4000),
    ("O_DIRECT", 0x8000), ("O_DIRECTORY", 0o200000), ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000), ("O_PATH", 0o10000000), ("__O_TMPFILE", 0o20000000),
];
/// arch/sparc/include/uapi/asm/fcntl.h (O_DIRECTORY and O_NOFOLLOW from
/// asm-generic).
#[rustfmt::skip]
const O_SPARC: &[(&str, u64)] = &[
    ("O_APPEND", 0x8), ("FASYNC", 0x40), ("O_CREAT", 0x200), ("O_TRUNC", 0x400), ("O_EXCL", 0x800),
    ("O_DSYNC", 0x2000), ("O_NONBLOCK", 0x4000), ("O_NOCTTY", 0x8000), ("O_DIRECTORY", 0o200000),
    ("O_NOFOLLOW", 0o400000), ("O_LARGEFILE", 0x40000), ("O_DIRECT", 0x100000), ("O_NOATIME", 0x200000),
    ("O_CLOEXEC", 0x400000), ("__O_SYNC", 0x800000), ("O_PATH", 0x1000000), ("__O_TMPFILE", 0x2000000),
];
const ACCMODE: &[(&str, u64)] = &[("O_RDONLY", 0), ("O_WRONLY", 1), ("O_RDWR", 2)];

const fn open_flags(flags: &'static [(&'static str, u64)]) -> ValueNames {
    ValueNames {
        kind: "open-flags",
        enum_mask: 3,
        enum_mask_name: Some("O_ACCMODE"),
        enums: ACCMODE,
        flags,
        zero: None,
    }
}
const OPEN_GENERIC: ValueNames = open_flags(O_GENERIC);
const OPEN_ARM: ValueNames = open_flags(O_ARM);
const OPEN_PPC: ValueNames = open_flags(O_PPC);
const OPEN_MIPS: ValueNames = open_flags(O_MIPS);
const OPEN_SPARC: ValueNames = open_flags(O_SPARC);

fn open_names(arch: Arch) -> Option<&'static ValueNames> {
    use Arch::*;
    Some(match arch {
        X86_64 | X32 | I386 | Riscv64 | Riscv32 | S390x | S390 | Loongarch64 => &OPEN_GENERIC,
        Aarch64 | Arm | M68k => &OPEN_ARM,
        Ppc64 | Ppc64le | Ppc => &OPEN_PPC,
        Mips | Mipsel | Mips64 | Mipsel64 | Mips64n32 | Mipsel64n32 => &OPEN_MIPS,
        Sparc | Sparc64 => &OPEN_SPARC,
        // parisc's open flags were renumbered in the 6.x series: no one table is true.
        Parisc | Parisc64 => return None,
    })
}

// ---- socket types: include/linux/net.h, arch/mips/include/asm/socket.h ----

#[rustfmt::skip]
const SOCK_GENERIC: &[(&str, u64)] = &[
    ("SOCK_STREAM", 1), ("SOCK_DGRAM", 2), ("SOCK_RAW", 3), ("SOCK_RDM", 4), ("SOCK_SEQPACKET", 5),
    ("SOCK_DCCP", 6), ("SOCK_PACKET", 10),
];
#[rustfmt::skip]
const SOCK_MIPS: &[(&str, u64)] = &[
    ("SOCK_DGRAM", 1), ("SOCK_STREAM", 2), ("SOCK_RAW", 3), ("SOCK_RDM", 4), ("SOCK_SEQPACKET", 5),
    ("SOCK_DCCP", 6), ("SOCK_PACKET", 10),
];
const fn socket_type(enums: &'static [(&'static str, u64)], flags: &'static [(&'static str, u64)]) -> ValueNames {
    ValueNames { kind: "socket-type", enum_mask: 0xf, enum_mask_name: Some("SOCK_TYPE_MASK"), enums, flags, zero: None }
}
const SOCKET_TYPE_GENERIC: ValueNames =
    socket_type(SOCK_GENERIC, &[("SOCK_NONBLOCK", 0o4000), ("SOCK_CLOEXEC", 0o2000000)]);
const SOCKET_TYPE_MIPS: ValueNames = socket_type(SOCK_MIPS, &[("SOCK_NONBLOCK", 0x80), ("SOCK_CLOEXEC", 0o2000000)]);
const SOCKET_TYPE_SPARC: ValueNames =
    socket_type(SOCK_GENERIC, &[("SOCK_NONBLOCK", 0x4000), ("SOCK_CLOEXEC", 0x400000)]);

fn socket_type_names(arch: Arch) -> Option<&'static ValueNames> {
    use Arch::*;
    Some(match arch {
        Mips | Mipsel | Mips64 | Mipsel64 | Mips64n32 | Mipsel64n32 => &SOCKET_TYPE_MIPS,
        Sparc | Sparc64 => &SOCKET_TYPE_SPARC,
        // parisc: SOCK_NONBLOCK follows its renumbered O_NONBLOCK (see open_names).
        Parisc | Parisc64 => return None,
        _ => &SOCKET_TYPE_GENERIC,
    })
}

// ---- clone, unshare, setns: include/uapi/linux/sched.h (every arch) ----

#[rustfmt::skip]
const CLONE_FLAGS: &[(&str, u64)] = &[
    ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400), ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000), ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000), ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000), ("CLONE_DETACHED", 0x400000),
    ("CLONE_UNTRACED", 0x800000), ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000),
];
/// unshare(2) and setns(2) flags: the clone flags and CLONE_NEWTIME (0x80, in
/// clone(2)'s CSIGNAL byte, so only these two read it as a flag).
#[rustfmt::skip]
const NS_FLAGS: &[(&str, u64)] = &[
    ("CLONE_NEWTIME", 0x80),
    ("CLONE_VM", 0x100), ("CLONE_FS", 0x200), ("CLONE_FILES", 0x400), ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000), ("CLONE_PTRACE", 0x2000), ("CLONE_VFORK", 0x4000), ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000), ("CLONE_NEWNS", 0x20000), ("CLONE_SYSVSEM", 0x40000), ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000), ("CLONE_CHILD_CLEARTID", 0x200000), ("CLONE_DETACHED", 0x400000),
    ("CLONE_UNTRACED", 0x800000), ("CLONE_CHILD_SETTID", 0x1000000), ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000), ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000), ("CLONE_NEWNET", 0x40000000), ("CLONE_IO", 0x80000000),
];
/// clone(2): the low byte (CSIGNAL) is the exit signal, named where the
/// arch's signals are known.
const CLONE_GENERIC: ValueNames = ValueNames {
    kind: "clone-flags",
    enum_mask: 0xff,
    enum_mask_name: Some("CSIGNAL"),
    enums: SIGNALS,
    flags: CLONE_FLAGS,
    zero: None,
};
const CLONE_OTHER_SIGNALS: ValueNames = ValueNames {
    kind: "clone-flags",
    enum_mask: 0xff,
    enum_mask_name: Some("CSIGNAL"),
    enums: &[],
    flags: CLONE_FLAGS,
    zero: None,
};
const NAMESPACE_FLAGS: ValueNames =
    ValueNames { kind: "namespace-flags", enum_mask: 0, enum_mask_name: None, enums: &[], flags: NS_FLAGS, zero: None };

// ---- signals ----

/// include/uapi/asm-generic/signal.h, arch/x86/include/uapi/asm/signal.h
/// (arm, powerpc and s390 use the same numbers); mips, sparc and parisc
/// number them differently and get no names.
#[rustfmt::skip]
const SIGNALS: &[(&str, u64)] = &[
    ("SIGHUP", 1), ("SIGINT", 2), ("SIGQUIT", 3), ("SIGILL", 4), ("SIGTRAP", 5), ("SIGABRT", 6), ("SIGBUS", 7),
    ("SIGFPE", 8), ("SIGKILL", 9), ("SIGUSR1", 10), ("SIGSEGV", 11), ("SIGUSR2", 12), ("SIGPIPE", 13),
    ("SIGALRM", 14), ("SIGTERM", 15), ("SIGSTKFLT", 16), ("SIGCHLD", 17), ("SIGCONT", 18), ("SIGSTOP", 19),
    ("SIGTSTP", 20), ("SIGTTIN", 21), ("SIGTTOU", 22), ("SIGURG", 23), ("SIGXCPU", 24), ("SIGXFSZ", 25),
    ("SIGVTALRM", 26), ("SIGPROF", 27), ("SIGWINCH", 28), ("SIGIO", 29), ("SIGPWR", 30), ("SIGSYS", 31),
];
const SIGNAL: ValueNames = ValueNames {
    kind: "signal",
    enum_mask: u32::MAX as u64,
    enum_mask_name: None,
    enums: SIGNALS,
    flags: &[],
    zero: None,
};

/// Arches whose signal numbers are those of [`SIGNALS`].
fn generic_signals(arch: Arch) -> bool {
    use Arch::*;
    matches!(
        arch,
        X86_64 | X32 | I386 | Aarch64 | Arm | Riscv64 | Riscv32 | S390x | S390 | Ppc64 | Ppc64le | Ppc | Loongarch64
    )
}

// ---- prctl options: include/uapi/linux/prctl.h (every arch) ----

/// Every option of Linux 6.18: 1 to 78 (17, 18, 48 and 49 were never
/// assigned), `PR_SET_PTRACER`, `PR_SET_VMA` and `PR_GET_AUXV`. A number names
/// the one option on every arch; where an arch does not implement it
/// (`PR_RISCV_*`, `PR_PPC_*`, `PR_SME_*` elsewhere), `prctl` fails with
/// EINVAL (kernel/sys.c: the arch hooks' defaults).
#[rustfmt::skip]
const PR: &[(&str, u64)] = &[
    ("PR_SET_PDEATHSIG", 1), ("PR_GET_PDEATHSIG", 2), ("PR_GET_DUMPABLE", 3), ("PR_SET_DUMPABLE", 4),
    ("PR_GET_UNALIGN", 5), ("PR_SET_UNALIGN", 6), ("PR_GET_KEEPCAPS", 7), ("PR_SET_KEEPCAPS", 8),
    ("PR_GET_FPEMU", 9), ("PR_SET_FPEMU", 10), ("PR_GET_FPEXC", 11), ("PR_SET_FPEXC", 12), ("PR_GET_TIMING", 13),
    ("PR_SET_TIMING", 14), ("PR_SET_NAME", 15), ("PR_GET_NAME", 16), ("PR_GET_ENDIAN", 19), ("PR_SET_ENDIAN", 20),
    ("PR_GET_SECCOMP", 21), ("PR_SET_SECCOMP", 22), ("PR_CAPBSET_READ", 23), ("PR_CAPBSET_DROP", 24),
    ("PR_GET_TSC", 25), ("PR_SET_TSC", 26), ("PR_GET_SECUREBITS", 27), ("PR_SET_SECUREBITS", 28),
    ("PR_SET_TIMERSLACK", 29), ("PR_GET_TIMERSLACK", 30), ("PR_TASK_PERF_EVENTS_DISABLE", 31),
    ("PR_TASK_PERF_EVENTS_ENABLE", 32), ("PR_MCE_KILL", 33), ("PR_MCE_KILL_GET", 34), ("PR_SET_MM", 35),
    ("PR_SET_PTRACER", 0x59616d61), ("PR_SET_CHILD_SUBREAPER", 36), ("PR_GET_CHILD_SUBREAPER", 37),
    ("PR_SET_NO_NEW_PRIVS", 38), ("PR_GET_NO_NEW_PRIVS", 39), ("PR_GET_TID_ADDRESS", 40), ("PR_SET_THP_DISABLE", 41),
    ("PR_GET_THP_DISABLE", 42), ("PR_MPX_ENABLE_MANAGEMENT", 43), ("PR_MPX_DISABLE_MANAGEMENT", 44),
    ("PR_SET_FP_MODE", 45), ("PR_GET_FP_MODE", 46), ("PR_CAP_AMBIENT", 47), ("PR_SVE_SET_VL", 50),
    ("PR_SVE_GET_VL", 51), ("PR_GET_SPECULATION_CTRL", 52), ("PR_SET_SPECULATION_CTRL", 53),
    ("PR_PAC_RESET_KEYS", 54), ("PR_SET_TAGGED_ADDR_CTRL", 55), ("PR_GET_TAGGED_ADDR_CTRL", 56),
    ("PR_SET_IO_FLUSHER", 57), ("PR_GET_IO_FLUSHER", 58), ("PR_SET_SYSCALL_USER_DISPATCH", 59),
    ("PR_PAC_SET_ENABLED_KEYS", 60), ("PR_PAC_GET_ENABLED_KEYS", 61), ("PR_SCHED_CORE", 62), ("PR_SME_SET_VL", 63),
    ("PR_SME_GET_VL", 64), ("PR_SET_VMA", 0x53564d41), ("PR_SET_MDWE", 65), ("PR_GET_MDWE", 66),
    ("PR_SET_MEMORY_MERGE", 67), ("PR_GET_MEMORY_MERGE", 68), ("PR_RISCV_V_SET_CONTROL", 69),
    ("PR_RISCV_V_GET_CONTROL", 70), ("PR_RISCV_SET_ICACHE_FLUSH_CTX", 71), ("PR_PPC_GET_DEXCR", 72),
    ("PR_PPC_SET_DEXCR", 73), ("PR_GET_SHADOW_STACK_STATUS", 74), ("PR_SET_SHADOW_STACK_STATUS", 75),
    ("PR_LOCK_SHADOW_STACK_STATUS", 76), ("PR_TIMER_CREATE_RESTORE_IDS", 77), ("PR_FUTEX_HASH", 78),
    ("PR_GET_AUXV", 0x41555856),
];
const PRCTL_OPTION: ValueNames = ValueNames {
    kind: "prctl-option",
    enum_mask: u32::MAX as u64,
    enum_mask_name: None,
    enums: PR,
    flags: &[],
    zero: None,
};

// ---- personality: include/uapi/linux/personality.h (every arch) ----

#[rustfmt::skip]
const PERSONALITY: ValueNames = ValueNames {
    kind: "personality",
    enum_mask: 0xff,
    enum_mask_name: Some("PER_MASK"),
    enums: &[("PER_LINUX", 0), ("PER_BSD", 6), ("PER_LINUX32", 8), ("PER_RISCOS", 0xc), ("PER_OSF4", 0xf), ("PER_HPUX", 0x10)],
    flags: &[
        ("UNAME26", 0x20000), ("ADDR_NO_RANDOMIZE", 0x40000), ("FDPIC_FUNCPTRS", 0x80000), ("MMAP_PAGE_ZERO", 0x100000),
        ("ADDR_COMPAT_LAYOUT", 0x200000), ("READ_IMPLIES_EXEC", 0x400000), ("ADDR_LIMIT_32BIT", 0x800000),
        ("SHORT_INODE", 0x1000000), ("WHOLE_SECONDS", 0x2000000), ("STICKY_TIMEOUTS", 0x4000000),
        ("ADDR_LIMIT_3GB", 0x8000000),
    ],
    zero: None,
};

// ---- fcntl commands: include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h ----

/// The generic numbering (not mips, sparc, parisc, whose `F_GETLK`… differ);
/// the `*64` commands only 32-bit ABIs have are left out.
#[rustfmt::skip]
const FCNTL_CMDS: &[(&str, u64)] = &[
    ("F_DUPFD", 0), ("F_GETFD", 1), ("F_SETFD", 2), ("F_GETFL", 3), ("F_SETFL", 4), ("F_GETLK", 5), ("F_SETLK", 6),
    ("F_SETLKW", 7), ("F_SETOWN", 8), ("F_GETOWN", 9), ("F_SETSIG", 10), ("F_GETSIG", 11), ("F_SETOWN_EX", 15),
    ("F_GETOWN_EX", 16), ("F_GETOWNER_UIDS", 17), ("F_OFD_GETLK", 36), ("F_OFD_SETLK", 37), ("F_OFD_SETLKW", 38),
    ("F_SETLEASE", 1024), ("F_GETLEASE", 1025), ("F_NOTIFY", 1026), ("F_CANCELLK", 1029), ("F_DUPFD_CLOEXEC", 1030),
    ("F_SETPIPE_SZ", 1031), ("F_GETPIPE_SZ", 1032), ("F_ADD_SEALS", 1033), ("F_GET_SEALS", 1034),
    ("F_GET_RW_HINT", 1035), ("F_SET_RW_HINT", 1036), ("F_GET_FILE_RW_HINT", 1037), ("F_SET_FILE_RW_HINT", 1038),
];
const FCNTL_CMD: ValueNames = ValueNames {
    kind: "fcntl-cmd",
    enum_mask: u32::MAX as u64,
    enum_mask_name: None,
    enums: FCNTL_CMDS,
    flags: &[],
    zero: None,
};

// ---- mmap/mprotect prot ----

/// PROT_READ/WRITE/EXEC are 1/2/4 on every arch; the rest as in
/// asm-generic/mman-common.h on the arches that use it unchanged.
const PROT_GENERIC: ValueNames = ValueNames {
    kind: "prot",
    enum_mask: 0,
    enum_mask_name: None,
    enums: &[],
    flags: &[
        ("PROT_READ", 1),
        ("PROT_WRITE", 2),
        ("PROT_EXEC", 4),
        ("PROT_SEM", 8),
        ("PROT_GROWSDOWN", 0x1000000),
        ("PROT_GROWSUP", 0x2000000),
    ],
    zero: Some("PROT_NONE"),
};
/// arch/arm64/include/uapi/asm/mman.h adds PROT_BTI and PROT_MTE.
const PROT_ARM64: ValueNames = ValueNames {
    kind: "prot",
    enum_mask: 0,
    enum_mask_name: None,
    enums: &[],
    flags: &[
        ("PROT_READ", 1),
        ("PROT_WRITE", 2),
        ("PROT_EXEC", 4),
        ("PROT_SEM", 8),
        ("PROT_BTI", 0x10),
        ("PROT_MTE", 0x20),
        ("PROT_GROWSDOWN", 0x1000000),
        ("PROT_GROWSUP", 0x2000000),
    ],
    zero: Some("PROT_NONE"),
};
const PROT_BASIC: ValueNames = ValueNames {
    kind: "prot",
    enum_mask: 0,
    enum_mask_name: None,
    enums: &[],
    flags: &[("PROT_READ", 1), ("PROT_WRITE", 2), ("PROT_EXEC", 4)],
    zero: Some("PROT_NONE"),
};

fn prot_names(arch: Arch) -> &'static ValueNames {
    use Arch::*;
    match arch {
        X86_64 | X32 | I386 | Arm | Riscv64 | Riscv32 | S390x | S390 | Loongarch64 | M68k => &PROT_GENERIC,
        Aarch64 => &PROT_ARM64,
        _ => &PROT_BASIC,
    }
}

// ---- mmap flags: include/uapi/asm-generic/mman-common.h, mman.h, arch/*/include/uapi/asm/mman.h ----

/// The mapping type (`MAP_TYPE`, the low four bits), the same on every arch.
#[rustfmt::skip]
const MAP_TYPES: &[(&str, u64)] = &[("MAP_SHARED", 1), ("MAP_PRIVATE", 2), ("MAP_SHARED_VALIDATE", 3), ("MAP_DROPPABLE", 8)];

/// asm-generic/mman.h and mman-common.h (arm, arm64, riscv, s390, loongarch,
/// m68k). Bits 26–31 are left as numbers: with `MAP_HUGETLB` they hold the
/// page size (`MAP_HUGE_SHIFT`), and bit 26 is also `MAP_UNINITIALIZED`.
#[rustfmt::skip]
const MAP_GENERIC_FLAGS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800),
    ("MAP_EXECUTABLE", 0x1000), ("MAP_LOCKED", 0x2000), ("MAP_NORESERVE", 0x4000), ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000), ("MAP_SYNC", 0x80000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
];
/// arch/x86/include/uapi/asm/mman.h adds MAP_32BIT and MAP_ABOVE4G to the generic ones.
#[rustfmt::skip]
const MAP_X86_FLAGS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_32BIT", 0x40), ("MAP_ABOVE4G", 0x80),
    ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000), ("MAP_LOCKED", 0x2000),
    ("MAP_NORESERVE", 0x4000), ("MAP_POPULATE", 0x8000), ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000),
    ("MAP_HUGETLB", 0x40000), ("MAP_SYNC", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000),
];
/// arch/powerpc/include/uapi/asm/mman.h (MAP_RENAME is MAP_ANONYMOUS there).
#[rustfmt::skip]
const MAP_PPC_FLAGS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_NORESERVE", 0x40), ("MAP_LOCKED", 0x80),
    ("MAP_GROWSDOWN", 0x100), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000), ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000), ("MAP_SYNC", 0x80000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
];
/// arch/sparc/include/uapi/asm/mman.h (MAP_RENAME is MAP_ANONYMOUS there).
#[rustfmt::skip]
const MAP_SPARC_FLAGS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10), ("MAP_ANONYMOUS", 0x20), ("MAP_NORESERVE", 0x40), ("MAP_INHERIT", 0x80),
    ("MAP_LOCKED", 0x100), ("MAP_GROWSDOWN", 0x200), ("MAP_DENYWRITE", 0x800), ("MAP_EXECUTABLE", 0x1000),
    ("MAP_POPULATE", 0x8000), ("MAP_NONBLOCK", 0x10000), ("MAP_STACK", 0x20000), ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000),
];
/// arch/mips/include/uapi/asm/mman.h (no MAP_SYNC).
#[rustfmt::skip]
const MAP_MIPS_FLAGS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10), ("MAP_RENAME", 0x20), ("MAP_AUTOGROW", 0x40), ("MAP_LOCAL", 0x80), ("MAP_AUTORSRV", 0x100),
    ("MAP_NORESERVE", 0x400), ("MAP_ANONYMOUS", 0x800), ("MAP_GROWSDOWN", 0x1000), ("MAP_DENYWRITE", 0x2000),
    ("MAP_EXECUTABLE", 0x4000), ("MAP_LOCKED", 0x8000), ("MAP_POPULATE", 0x10000), ("MAP_NONBLOCK", 0x20000),
    ("MAP_STACK", 0x40000), ("MAP_HUGETLB", 0x80000), ("MAP_FIXED_NOREPLACE", 0x100000),
];
const fn map_flags(flags: &'static [(&'static str, u64)]) -> ValueNames {
    ValueNames {
        kind: "mmap-flags",
        enum_mask: 0xf,
        enum_mask_name: Some("MAP_TYPE"),
        enums: MAP_TYPES,
        flags,
        zero: None,
    }
}
const MAP_GENERIC: ValueNames = map_flags(MAP_GENERIC_FLAGS);
const MAP_X86: ValueNames = map_flags(MAP_X86_FLAGS);
const MAP_PPC: ValueNames = map_flags(MAP_PPC_FLAGS);
const MAP_SPARC: ValueNames = map_flags(MAP_SPARC_FLAGS);
const MAP_MIPS: ValueNames = map_flags(MAP_MIPS_FLAGS);

fn map_names(arch: Arch) -> Option<&'static ValueNames> {
    use Arch::*;
    Some(match arch {
        X86_64 | X32 | I386 => &MAP_X86,
        Aarch64 | Arm | Riscv64 | Riscv32 | S390x | S390 | Loongarch64 | M68k => &MAP_GENERIC,
        Ppc64 | Ppc64le | Ppc => &MAP_PPC,
        Sparc | Sparc64 => &MAP_SPARC,
        Mips | Mipsel | Mips64 | Mipsel64 | Mips64n32 | Mipsel64n32 => &MAP_MIPS,
        // parisc's mman.h is not transcribed here.
        Parisc | Parisc64 => return None,
    })
}

// ---- ioctl requests: include/uapi/asm-generic/ioctls.h ----

const IOCTL_TTY: ValueNames = ValueNames {
    kind: "ioctl-request",
    enum_mask: u32::MAX as u64,
    enum_mask_name: None,
    enums: &[("TIOCSTI", 0x5412), ("TIOCLINUX", 0x541c)],
    flags: &[],
    zero: None,
};

/// Arches whose tty ioctls are asm-generic's (x86, arm, arm64, riscv, s390 and
/// loongarch include it unchanged).
fn generic_ioctls(arch: Arch) -> bool {
    use Arch::*;
    matches!(arch, X86_64 | X32 | I386 | Aarch64 | Arm | Riscv64 | Riscv32 | S390x | S390 | Loongarch64)
}

/// The names of the values of argument `arg` (0-based) of syscall `syscall`
/// on `arch`; `None` where the argument's kind is not known there.
pub fn arg_names(arch: Arch, syscall: &str, arg: usize) -> Option<&'static ValueNames> {
    use Arch::*;
    let sig = super::args::args(arch, syscall)?;
    let &(param, _) = sig.params.get(arg)?;
    match (syscall, param) {
        ("socket" | "socketpair", "family") => Some(&ADDRESS_FAMILY),
        ("socket" | "socketpair", "type") => socket_type_names(arch),
        ("open" | "openat", "flags") => open_names(arch),
        ("clone", "clone_flags") => Some(if generic_signals(arch) { &CLONE_GENERIC } else { &CLONE_OTHER_SIGNALS }),
        ("unshare", "unshare_flags") | ("setns", "flags") => Some(&NAMESPACE_FLAGS),
        ("prctl", "option") => Some(&PRCTL_OPTION),
        ("personality", "personality") => Some(&PERSONALITY),
        ("fcntl", "cmd") => matches!(
            arch,
            X86_64
                | X32
                | I386
                | Aarch64
                | Arm
                | Riscv64
                | Riscv32
                | S390x
                | S390
                | Ppc64
                | Ppc64le
                | Ppc
                | Loongarch64
                | M68k
        )
        .then_some(&FCNTL_CMD),
        // Where `mmap`/`mmap2` take one pointer to a struct (i386, m68k,
        // s390, s390x: `super::args`), no argument is named "prot" or "flags".
        ("mmap" | "mmap2" | "mprotect", "prot") => Some(prot_names(arch)),
        ("mmap" | "mmap2", "flags") => map_names(arch),
        ("ioctl", "cmd") => generic_ioctls(arch).then_some(&IOCTL_TTY),
        ("kill" | "tkill" | "tgkill", "sig") => generic_signals(arch).then_some(&SIGNAL),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_arch() {
        let open = |a| arg_names(a, "openat", 2).unwrap();
        assert_eq!(open(Arch::X86_64).value(0o200000 | 2, u64::MAX, true).as_deref(), Some("O_RDWR|O_DIRECTORY"));
        assert_eq!(open(Arch::Aarch64).value(0o40000, u64::MAX, true).as_deref(), Some("O_RDONLY|O_DIRECTORY"));
        assert_eq!(open(Arch::Aarch64).value(0o200000, u64::MAX, true).as_deref(), Some("O_RDONLY|O_DIRECT"));
        assert_eq!(open(Arch::Mips).value(0x100 | 1, u64::MAX, true).as_deref(), Some("O_WRONLY|O_CREAT"));
        assert_eq!(open(Arch::X86_64).mask(3).as_deref(), Some("O_ACCMODE"));
        // the access mode is named only where the mask compares all of it
        assert_eq!(open(Arch::X86_64).value(0, 0o100, true).as_deref(), None);
        assert_eq!(open(Arch::X86_64).value(0, 3, true).as_deref(), Some("O_RDONLY"));
        assert_eq!(arg_names(Arch::Parisc, "openat", 2), None);
        // clone's flags are arg1 on s390 (CONFIG_CLONE_BACKWARDS2)
        assert_eq!(arg_names(Arch::S390x, "clone", 1).map(|n| n.kind), Some("clone-flags"));
        assert_eq!(arg_names(Arch::S390x, "clone", 0), None);
        let clone = arg_names(Arch::X86_64, "clone", 0).unwrap();
        assert_eq!(
            clone.mask(0x7e020000).as_deref(),
            Some("CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET")
        );
        assert_eq!(clone.value(0x11 | 0x100, u64::MAX, true).as_deref(), Some("SIGCHLD|CLONE_VM"));
        // unknown bits stay visible
        assert_eq!(clone.mask(0x10000000 | 0x1_0000_0000).as_deref(), Some("CLONE_NEWUSER|0x100000000"));
        let fam = arg_names(Arch::X86_64, "socket", 0).unwrap();
        assert_eq!(fam.value(38, u64::MAX, true).as_deref(), Some("AF_ALG"));
        assert_eq!(fam.value(12, u64::MAX, true), None);
        let ty = |a| arg_names(a, "socket", 1).unwrap();
        assert_eq!(ty(Arch::X86_64).value(1 | 0o2000000, u64::MAX, true).as_deref(), Some("SOCK_STREAM|SOCK_CLOEXEC"));
        assert_eq!(ty(Arch::Mips).value(1, u64::MAX, true).as_deref(), Some("SOCK_DGRAM"));
        let per = arg_names(Arch::X86_64, "personality", 0).unwrap();
        assert_eq!(per.value(0x20008, u64::MAX, true).as_deref(), Some("PER_LINUX32|UNAME26"));
        assert_eq!(per.value(0xffff_ffff, u64::MAX, true), None, "a query, not a flag word");
        assert_eq!(
            arg_names(Arch::X86_64, "mprotect", 2).unwrap().value(0, u64::MAX, true).as_deref(),
            Some("PROT_NONE")
        );
        // 0 is PROT_NONE only where every bit is compared
        let prot = arg_names(Arch::X86_64, "mprotect", 2).unwrap();
        assert_eq!(prot.value(0, 4, false), None);
        // a mask mostly of bits without names is a number
        assert_eq!(prot.mask(0xffc0_0004), None);
        assert_eq!(prot.mask(0xf000_0004), None);
        assert_eq!(prot.mask(0x1_0000_0004).as_deref(), Some("PROT_EXEC|0x100000000"));
        for a in [Arch::I386, Arch::M68k, Arch::S390, Arch::S390x] {
            assert!((0..6).all(|i| arg_names(a, "mmap", i).is_none()), "{a}: old_mmap takes a pointer");
        }
        assert!((0..6).all(|i| arg_names(Arch::S390, "mmap2", i).is_none()), "s390 mmap2 takes a pointer");
        assert_eq!(arg_names(Arch::I386, "mmap2", 2).map(|n| n.kind), Some("prot"));
        let map = |a, name, i| arg_names(a, name, i).unwrap();
        assert_eq!(
            map(Arch::X86_64, "mmap", 3).value(0x22 | 0x40, u64::MAX, true).as_deref(),
            Some("MAP_PRIVATE|MAP_ANONYMOUS|MAP_32BIT")
        );
        assert_eq!(map(Arch::Aarch64, "mmap", 3).value(0x40, u64::MAX, true).as_deref(), None, "no name for 0x40");
        assert_eq!(
            map(Arch::Mips, "mmap", 3).value(0x802, u64::MAX, true).as_deref(),
            Some("MAP_PRIVATE|MAP_ANONYMOUS")
        );
        assert_eq!(map(Arch::Ppc64le, "mmap", 3).mask(0x40).as_deref(), Some("MAP_NORESERVE"));
        assert_eq!(map(Arch::Arm, "mmap2", 3).mask(0x20).as_deref(), Some("MAP_ANONYMOUS"));
        // the huge page size bits stay a number
        assert_eq!(
            map(Arch::X86_64, "mmap", 3).value(0x40000 | (1 << 26) | 0x22, u64::MAX, true).as_deref(),
            Some("MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|0x4000000")
        );
        let pr = arg_names(Arch::X86_64, "prctl", 0).unwrap();
        assert_eq!(pr.value(78, u64::MAX, true).as_deref(), Some("PR_FUTEX_HASH"));
        assert_eq!(pr.value(71, u64::MAX, true).as_deref(), Some("PR_RISCV_SET_ICACHE_FLUSH_CTX"));
        assert_eq!(pr.value(0x41555856, u64::MAX, true).as_deref(), Some("PR_GET_AUXV"));
        assert_eq!(pr.value(79, u64::MAX, true), None, "not an option of Linux 6.18");
        assert_eq!(arg_names(Arch::Mips, "kill", 1), None);
        assert_eq!(arg_names(Arch::X86_64, "getpid", 0), None);
    }

    #[test]
    fn tables_have_one_bit_per_flag_and_no_duplicates() {
        let all = [
            &ADDRESS_FAMILY,
            &OPEN_GENERIC,
            &OPEN_ARM,
            &OPEN_PPC,
            &OPEN_MIPS,
            &OPEN_SPARC,
            &SOCKET_TYPE_GENERIC,
            &SOCKET_TYPE_MIPS,
            &SOCKET_TYPE_SPARC,
            &CLONE_GENERIC,
            &CLONE_OTHER_SIGNALS,
            &NAMESPACE_FLAGS,
            &SIGNAL,
            &PRCTL_OPTION,
            &PERSONALITY,
            &FCNTL_CMD,
            &PROT_GENERIC,
            &PROT_ARM64,
            &PROT_BASIC,
            &MAP_GENERIC,
            &MAP_X86,
            &MAP_PPC,
            &MAP_SPARC,
            &MAP_MIPS,
            &IOCTL_TTY,
        ];
        for n in all {
            let mut seen = 0u64;
            for &(name, bit) in n.flags {
                assert_eq!(bit.count_ones(), 1, "{name}");
                assert_eq!(bit & n.enum_mask, 0, "{name} inside the enumerated part");
                assert_eq!(seen & bit, 0, "{name} twice");
                seen |= bit;
            }
            for (i, e) in n.enums.iter().enumerate() {
                assert_eq!(e.1 & !n.enum_mask, 0, "{}", e.0);
                assert!(n.enums[..i].iter().all(|o| o.1 != e.1 && o.0 != e.0), "{} twice", e.0);
            }
        }
    }
}
