//! Named constants usable in `when` expressions.
//!
//! Values are those of the generic Linux UAPI headers (`include/uapi/asm-generic/fcntl.h`,
//! `include/linux/socket.h`, `include/uapi/linux/sched.h`, `include/uapi/asm-generic/mman-common.h`,
//! `include/uapi/linux/net.h`). A few architectures give some of them other values
//! (`arch/{mips,sparc,parisc,alpha,powerpc}/include/uapi/asm/fcntl.h` …); for those a
//! constant lists the arches where it differs, and a policy that uses it there is
//! refused instead of being checked with a wrong number.

use crate::arch::Arch;

pub struct Constant {
    pub name: &'static str,
    pub value: u64,
    /// Arches whose headers define a different value.
    pub differs_on: &'static [Arch],
}

const FCNTL_DIFFERS: &[Arch] = &[
    Arch::Mips,
    Arch::Mipsel,
    Arch::Mips64,
    Arch::Mipsel64,
    Arch::Mips64n32,
    Arch::Mipsel64n32,
    Arch::Sparc,
    Arch::Sparc64,
    Arch::Parisc,
    Arch::Parisc64,
];
/// arch/{arm,arm64,m68k,powerpc}/include/uapi/asm/fcntl.h renumber
/// O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE (arm64 for its AArch32
/// compat), besides mips, sparc and parisc.
const FCNTL_DIFFERS_PPC: &[Arch] = &[
    Arch::Aarch64,
    Arch::Mips,
    Arch::Mipsel,
    Arch::Mips64,
    Arch::Mipsel64,
    Arch::Mips64n32,
    Arch::Mipsel64n32,
    Arch::Sparc,
    Arch::Sparc64,
    Arch::Parisc,
    Arch::Parisc64,
    Arch::Ppc,
    Arch::Ppc64,
    Arch::Ppc64le,
    Arch::Arm,
    Arch::M68k,
];
const MMAN_DIFFERS: &[Arch] = &[
    Arch::Mips,
    Arch::Mipsel,
    Arch::Mips64,
    Arch::Mipsel64,
    Arch::Mips64n32,
    Arch::Mipsel64n32,
    Arch::Sparc,
    Arch::Sparc64,
    Arch::Parisc,
    Arch::Parisc64,
    Arch::Ppc,
    Arch::Ppc64,
    Arch::Ppc64le,
];
const NONE: &[Arch] = &[];

macro_rules! c {
    ($name:ident, $v:expr) => {
        Constant { name: stringify!($name), value: $v, differs_on: NONE }
    };
    ($name:ident, $v:expr, $d:expr) => {
        Constant { name: stringify!($name), value: $v, differs_on: $d }
    };
}

#[rustfmt::skip]
pub const CONSTANTS: &[Constant] = &[
    // open(2) flags: include/uapi/asm-generic/fcntl.h
    c!(O_ACCMODE, 0o3), c!(O_RDONLY, 0), c!(O_WRONLY, 0o1), c!(O_RDWR, 0o2),
    c!(O_CREAT, 0o100, FCNTL_DIFFERS), c!(O_EXCL, 0o200, FCNTL_DIFFERS), c!(O_NOCTTY, 0o400, FCNTL_DIFFERS),
    c!(O_TRUNC, 0o1000, FCNTL_DIFFERS), c!(O_APPEND, 0o2000, FCNTL_DIFFERS), c!(O_NONBLOCK, 0o4000, FCNTL_DIFFERS),
    c!(O_DSYNC, 0o10000, FCNTL_DIFFERS), c!(O_DIRECT, 0o40000, FCNTL_DIFFERS_PPC),
    c!(O_LARGEFILE, 0o100000, FCNTL_DIFFERS_PPC), c!(O_DIRECTORY, 0o200000, FCNTL_DIFFERS_PPC),
    c!(O_NOFOLLOW, 0o400000, FCNTL_DIFFERS_PPC), c!(O_NOATIME, 0o1000000, FCNTL_DIFFERS),
    c!(O_CLOEXEC, 0o2000000, FCNTL_DIFFERS), c!(O_PATH, 0o10000000, FCNTL_DIFFERS),
    c!(O_TMPFILE, 0o20200000, FCNTL_DIFFERS_PPC),
    // address families: include/linux/socket.h
    c!(AF_UNSPEC, 0), c!(AF_UNIX, 1), c!(AF_LOCAL, 1), c!(AF_INET, 2), c!(AF_AX25, 3), c!(AF_IPX, 4),
    c!(AF_APPLETALK, 5), c!(AF_NETROM, 6), c!(AF_BRIDGE, 7), c!(AF_X25, 9), c!(AF_INET6, 10),
    c!(AF_KEY, 15), c!(AF_NETLINK, 16), c!(AF_PACKET, 17), c!(AF_RDS, 21), c!(AF_CAN, 29),
    c!(AF_BLUETOOTH, 31), c!(AF_ALG, 38), c!(AF_VSOCK, 40), c!(AF_XDP, 44), c!(AF_MAX, 46),
    // socket types: include/linux/net.h (mips swaps DGRAM/STREAM: arch/mips/include/asm/socket.h)
    c!(SOCK_STREAM, 1, &[Arch::Mips, Arch::Mipsel, Arch::Mips64, Arch::Mipsel64, Arch::Mips64n32, Arch::Mipsel64n32]),
    c!(SOCK_DGRAM, 2, &[Arch::Mips, Arch::Mipsel, Arch::Mips64, Arch::Mipsel64, Arch::Mips64n32, Arch::Mipsel64n32]),
    c!(SOCK_RAW, 3), c!(SOCK_SEQPACKET, 5),
    c!(SOCK_NONBLOCK, 0o4000, FCNTL_DIFFERS), c!(SOCK_CLOEXEC, 0o2000000, FCNTL_DIFFERS),
    // clone(2) flags: include/uapi/linux/sched.h
    c!(CSIGNAL, 0xff), c!(CLONE_VM, 0x100), c!(CLONE_FS, 0x200), c!(CLONE_FILES, 0x400),
    c!(CLONE_SIGHAND, 0x800), c!(CLONE_PIDFD, 0x1000), c!(CLONE_PTRACE, 0x2000), c!(CLONE_VFORK, 0x4000),
    c!(CLONE_PARENT, 0x8000), c!(CLONE_THREAD, 0x10000), c!(CLONE_NEWNS, 0x20000), c!(CLONE_SYSVSEM, 0x40000),
    c!(CLONE_SETTLS, 0x80000), c!(CLONE_PARENT_SETTID, 0x100000), c!(CLONE_CHILD_CLEARTID, 0x200000),
    c!(CLONE_DETACHED, 0x400000), c!(CLONE_UNTRACED, 0x800000), c!(CLONE_CHILD_SETTID, 0x1000000),
    c!(CLONE_NEWCGROUP, 0x2000000), c!(CLONE_NEWUTS, 0x4000000), c!(CLONE_NEWIPC, 0x8000000),
    c!(CLONE_NEWUSER, 0x10000000), c!(CLONE_NEWPID, 0x20000000), c!(CLONE_NEWNET, 0x40000000),
    c!(CLONE_IO, 0x80000000), c!(CLONE_NEWTIME, 0x80),
    // mmap/mprotect: include/uapi/asm-generic/mman-common.h
    c!(PROT_NONE, 0), c!(PROT_READ, 1), c!(PROT_WRITE, 2), c!(PROT_EXEC, 4),
    c!(MAP_SHARED, 1), c!(MAP_PRIVATE, 2), c!(MAP_FIXED, 0x10), c!(MAP_ANONYMOUS, 0x20, MMAN_DIFFERS),
    // socketcall(2) call numbers: include/uapi/linux/net.h
    c!(SYS_SOCKET, 1), c!(SYS_BIND, 2), c!(SYS_CONNECT, 3), c!(SYS_LISTEN, 4), c!(SYS_ACCEPT, 5),
    c!(SYS_SOCKETPAIR, 8), c!(SYS_SENDTO, 11), c!(SYS_RECVFROM, 12), c!(SYS_SENDMSG, 16),
    c!(SYS_RECVMSG, 17), c!(SYS_ACCEPT4, 18), c!(SYS_SENDMMSG, 20),
    // personality(2): include/uapi/linux/personality.h
    c!(PER_LINUX, 0), c!(PER_LINUX32, 8), c!(ADDR_NO_RANDOMIZE, 0x0040000),
    // ioctl requests often filtered: include/uapi/asm-generic/ioctls.h
    c!(TIOCSTI, 0x5412, &[Arch::Mips, Arch::Mipsel, Arch::Mips64, Arch::Mipsel64, Arch::Mips64n32, Arch::Mipsel64n32, Arch::Sparc, Arch::Sparc64, Arch::Ppc, Arch::Ppc64, Arch::Ppc64le, Arch::Parisc, Arch::Parisc64]),
];

/// Look a constant up by name.
pub fn lookup(name: &str) -> Option<&'static Constant> {
    CONSTANTS.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn values_match_headers() {
        assert_eq!(lookup("O_CREAT").unwrap().value, 0x40);
        assert_eq!(lookup("O_TRUNC").unwrap().value, 0x200);
        assert_eq!(lookup("O_CLOEXEC").unwrap().value, 0x80000);
        assert_eq!(lookup("CLONE_NEWUSER").unwrap().value, 0x1000_0000);
        assert_eq!(lookup("AF_INET6").unwrap().value, 10);
        let mut names: Vec<_> = CONSTANTS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CONSTANTS.len(), "duplicate constant");
    }

    /// Where a constant is said to have its generic value on an arch, the
    /// per-arch names the table renderer prints (arch/names.rs) agree.
    #[test]
    fn constants_agree_with_the_per_arch_argument_names() {
        let args = [("openat", 2), ("socket", 0), ("socket", 1), ("clone", 0), ("unshare", 0), ("personality", 0)];
        let mut checked = 0;
        for arch in Arch::all() {
            for (sc, i) in args {
                let Some(n) = crate::arch::names::arg_names(arch, sc, i) else { continue };
                let named = n.enums.iter().chain(n.flags).copied().chain(n.enum_mask_name.map(|m| (m, n.enum_mask)));
                for (name, v) in named {
                    if let Some(c) = lookup(name).filter(|c| !c.differs_on.contains(&arch)) {
                        assert_eq!(c.value, v, "{name} on {arch}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }
}
