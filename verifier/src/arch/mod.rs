//! Architectures seccomp knows: AUDIT_ARCH values, syscall name ⇄ number tables.
//!
//! AUDIT_ARCH values are built as in `include/uapi/linux/audit.h` from the ELF
//! machine numbers of `include/uapi/linux/elf-em.h`. x32 is not an AUDIT_ARCH of
//! its own: x32 syscalls arrive with `AUDIT_ARCH_X86_64` and `nr` carrying
//! `__X32_SYSCALL_BIT` (arch/x86/include/uapi/asm/unistd.h), so [`Arch::X32`]
//! shares x86_64's audit value and is told apart by `nr`.
//!
//! The syscall tables are generated into `syscall_names.rs`; its header gives the
//! command that regenerates it and the crate and kernel files it was made from.
//! Numbers are exactly what `seccomp_data.nr` carries: x32 numbers include
//! `__X32_SYSCALL_BIT`, MIPS numbers their `__NR_Linux` base (o32 4000, n64
//! 5000, n32 6000), arm's private calls sit at `0x0f0000 + n`.

pub mod args;
pub mod names;
mod syscall_names;

use std::sync::OnceLock;

use serde::Serialize;

pub use crate::uapi::{AUDIT_ARCH_64BIT, AUDIT_ARCH_CONVENTION_MIPS64_N32, AUDIT_ARCH_LE, X32_SYSCALL_BIT};
use crate::uapi::{
    EM_386, EM_68K, EM_AARCH64, EM_ARM, EM_LOONGARCH, EM_MIPS, EM_PARISC, EM_PPC, EM_PPC64, EM_RISCV, EM_S390,
    EM_SPARC, EM_SPARCV9, EM_X86_64,
};

/// A syscall ABI that seccomp filters can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "&'static str")]
pub enum Arch {
    X86_64,
    X32,
    I386,
    Aarch64,
    Arm,
    Riscv64,
    Riscv32,
    S390x,
    S390,
    Ppc64,
    Ppc64le,
    Ppc,
    Mips,
    Mipsel,
    Mips64,
    Mipsel64,
    Mips64n32,
    Mipsel64n32,
    Loongarch64,
    Sparc,
    Sparc64,
    Parisc,
    Parisc64,
    M68k,
}

impl From<Arch> for &'static str {
    fn from(a: Arch) -> &'static str {
        a.name()
    }
}

struct ArchInfo {
    arch: Arch,
    name: &'static str,
    aliases: &'static [&'static str],
    audit: u32,
    audit_name: &'static str,
}

const B64: u32 = AUDIT_ARCH_64BIT;
const LE: u32 = AUDIT_ARCH_LE;
const N32: u32 = AUDIT_ARCH_CONVENTION_MIPS64_N32;

#[rustfmt::skip]
const INFO: &[ArchInfo] = &[
    ArchInfo { arch: Arch::X86_64, name: "x86_64", aliases: &["amd64", "x86-64"], audit: EM_X86_64 | B64 | LE, audit_name: "AUDIT_ARCH_X86_64" },
    ArchInfo { arch: Arch::X32, name: "x32", aliases: &[], audit: EM_X86_64 | B64 | LE, audit_name: "AUDIT_ARCH_X86_64" },
    ArchInfo { arch: Arch::I386, name: "i386", aliases: &["x86", "i686", "ia32"], audit: EM_386 | LE, audit_name: "AUDIT_ARCH_I386" },
    ArchInfo { arch: Arch::Aarch64, name: "aarch64", aliases: &["arm64"], audit: EM_AARCH64 | B64 | LE, audit_name: "AUDIT_ARCH_AARCH64" },
    ArchInfo { arch: Arch::Arm, name: "arm", aliases: &["armhf", "armel"], audit: EM_ARM | LE, audit_name: "AUDIT_ARCH_ARM" },
    ArchInfo { arch: Arch::Riscv64, name: "riscv64", aliases: &[], audit: EM_RISCV | B64 | LE, audit_name: "AUDIT_ARCH_RISCV64" },
    ArchInfo { arch: Arch::Riscv32, name: "riscv32", aliases: &[], audit: EM_RISCV | LE, audit_name: "AUDIT_ARCH_RISCV32" },
    ArchInfo { arch: Arch::S390x, name: "s390x", aliases: &[], audit: EM_S390 | B64, audit_name: "AUDIT_ARCH_S390X" },
    ArchInfo { arch: Arch::S390, name: "s390", aliases: &[], audit: EM_S390, audit_name: "AUDIT_ARCH_S390" },
    ArchInfo { arch: Arch::Ppc64, name: "ppc64", aliases: &["powerpc64"], audit: EM_PPC64 | B64, audit_name: "AUDIT_ARCH_PPC64" },
    ArchInfo { arch: Arch::Ppc64le, name: "ppc64le", aliases: &["powerpc64le"], audit: EM_PPC64 | B64 | LE, audit_name: "AUDIT_ARCH_PPC64LE" },
    ArchInfo { arch: Arch::Ppc, name: "ppc", aliases: &["powerpc"], audit: EM_PPC, audit_name: "AUDIT_ARCH_PPC" },
    ArchInfo { arch: Arch::Mips, name: "mips", aliases: &[], audit: EM_MIPS, audit_name: "AUDIT_ARCH_MIPS" },
    ArchInfo { arch: Arch::Mipsel, name: "mipsel", aliases: &[], audit: EM_MIPS | LE, audit_name: "AUDIT_ARCH_MIPSEL" },
    ArchInfo { arch: Arch::Mips64, name: "mips64", aliases: &[], audit: EM_MIPS | B64, audit_name: "AUDIT_ARCH_MIPS64" },
    ArchInfo { arch: Arch::Mipsel64, name: "mipsel64", aliases: &["mips64el"], audit: EM_MIPS | B64 | LE, audit_name: "AUDIT_ARCH_MIPSEL64" },
    ArchInfo { arch: Arch::Mips64n32, name: "mips64n32", aliases: &[], audit: EM_MIPS | B64 | N32, audit_name: "AUDIT_ARCH_MIPS64N32" },
    ArchInfo { arch: Arch::Mipsel64n32, name: "mipsel64n32", aliases: &["mips64eln32"], audit: EM_MIPS | B64 | LE | N32, audit_name: "AUDIT_ARCH_MIPSEL64N32" },
    ArchInfo { arch: Arch::Loongarch64, name: "loongarch64", aliases: &[], audit: EM_LOONGARCH | B64 | LE, audit_name: "AUDIT_ARCH_LOONGARCH64" },
    ArchInfo { arch: Arch::Sparc, name: "sparc", aliases: &[], audit: EM_SPARC, audit_name: "AUDIT_ARCH_SPARC" },
    ArchInfo { arch: Arch::Sparc64, name: "sparc64", aliases: &[], audit: EM_SPARCV9 | B64, audit_name: "AUDIT_ARCH_SPARC64" },
    ArchInfo { arch: Arch::Parisc, name: "parisc", aliases: &[], audit: EM_PARISC, audit_name: "AUDIT_ARCH_PARISC" },
    ArchInfo { arch: Arch::Parisc64, name: "parisc64", aliases: &[], audit: EM_PARISC | B64, audit_name: "AUDIT_ARCH_PARISC64" },
    ArchInfo { arch: Arch::M68k, name: "m68k", aliases: &[], audit: EM_68K, audit_name: "AUDIT_ARCH_M68K" },
];

impl Arch {
    /// Every arch, in table order (x86_64 first).
    pub fn all() -> impl Iterator<Item = Arch> {
        INFO.iter().map(|i| i.arch)
    }

    fn info(self) -> &'static ArchInfo {
        INFO.iter().find(|i| i.arch == self).expect("every Arch has an INFO row")
    }

    /// Short lower-case name (`x86_64`, `x32`, `i386`, `aarch64`, …).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Other names accepted for it (`amd64`, `arm64`, …).
    pub fn aliases(self) -> &'static [&'static str] {
        self.info().aliases
    }

    /// The `seccomp_data.arch` value syscalls of this ABI carry.
    pub fn audit_arch(self) -> u32 {
        self.info().audit
    }

    /// The `AUDIT_ARCH_*` constant name for [`Arch::audit_arch`].
    pub fn audit_name(self) -> &'static str {
        self.info().audit_name
    }

    /// Parse a name or alias, case-insensitively.
    pub fn from_name(s: &str) -> Option<Arch> {
        let s = s.to_ascii_lowercase();
        INFO.iter().find(|i| i.name == s || i.aliases.contains(&s.as_str())).map(|i| i.arch)
    }

    /// The arch a `(seccomp_data.arch, nr)` pair belongs to: x86_64 numbers with
    /// `__X32_SYSCALL_BIT` set are x32.
    pub fn from_audit(audit: u32, nr: u32) -> Option<Arch> {
        if audit == Arch::X86_64.audit_arch() {
            return Some(if nr & X32_SYSCALL_BIT != 0 { Arch::X32 } else { Arch::X86_64 });
        }
        INFO.iter().find(|i| i.audit == audit).map(|i| i.arch)
    }

    /// The `AUDIT_ARCH_*` name of a raw arch value, if it is one the kernel defines.
    pub fn audit_name_of(audit: u32) -> Option<&'static str> {
        INFO.iter().find(|i| i.audit == audit).map(|i| i.audit_name)
    }

    /// Little-endian ABI (`__AUDIT_ARCH_LE` set)?
    pub fn little_endian(self) -> bool {
        self.audit_arch() & AUDIT_ARCH_LE != 0
    }

    /// 64-bit ABI registers (`__AUDIT_ARCH_64BIT` set)? x32 and mips n32 pass
    /// 64-bit registers too.
    pub fn is_64bit(self) -> bool {
        self.audit_arch() & AUDIT_ARCH_64BIT != 0
    }

    /// Every `(nr, name)` of this ABI as the kernel numbers it (x32 numbers include
    /// `__X32_SYSCALL_BIT`; MIPS numbers include their 4000/5000/6000 base),
    /// sorted by number; numbers and names are unique. Empty only for an ABI
    /// we have no data for (see [`Arch::syscall_table_source`]).
    pub fn syscalls(self) -> &'static [(u32, &'static str)] {
        syscall_names::table(self).by_nr
    }

    /// The syscall name for `nr`, if this ABI has one (binary search).
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let t = self.syscalls();
        t.binary_search_by_key(&nr, |&(n, _)| n).ok().map(|i| t[i].1)
    }

    /// The number of syscall `name` in this ABI (binary search on a by-name
    /// index built on first use).
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        let t = syscall_names::table(self);
        let idx = t.by_name();
        idx.binary_search_by(|&i| t.by_nr[usize::from(i)].1.cmp(name)).ok().map(|k| t.by_nr[usize::from(idx[k])].0)
    }

    /// Where this ABI's table comes from: the crate or kernel file, the ABI
    /// selection and the kernel version, or why it is empty.
    pub fn syscall_table_source(self) -> &'static str {
        syscall_names::table(self).source
    }
}

/// The names in `known` closest to `wanted`, best first (at most three), for a
/// "did you mean" after an unknown name: case-insensitive edit distance of at
/// most a third of the name's length (at least 1, at most 3).
pub fn closest_names<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let w: Vec<char> = wanted.to_lowercase().chars().collect();
    let limit = (w.len() / 3).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .filter_map(|k| {
            let d = edit_distance(&w, &k.to_lowercase().chars().collect::<Vec<_>>());
            (d <= limit).then_some((d, k))
        })
        .collect();
    scored.sort_unstable();
    scored.dedup_by_key(|s| s.1);
    scored.into_iter().take(3).map(|s| s.1).collect()
}

/// Levenshtein distance (insert, delete, substitute), one row of memory.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// One ABI's syscall table; the data is generated into `syscall_names.rs`.
struct Table {
    source: &'static str,
    /// `(nr, name)` sorted by `nr`.
    by_nr: &'static [(u32, &'static str)],
    /// Indices into `by_nr` sorted by name, built on first use.
    by_name: OnceLock<Box<[u16]>>,
}

impl Table {
    const fn new(source: &'static str, by_nr: &'static [(u32, &'static str)]) -> Table {
        Table { source, by_nr, by_name: OnceLock::new() }
    }

    fn by_name(&self) -> &[u16] {
        self.by_name.get_or_init(|| {
            let mut idx: Vec<u16> = (0..self.by_nr.len())
                .map(|i| u16::try_from(i).expect("a syscall table has fewer than 65536 rows"))
                .collect();
            idx.sort_unstable_by_key(|&i| self.by_nr[usize::from(i)].1);
            idx.into_boxed_slice()
        })
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn closest_names_suggest_typos_and_case() {
        let known = ["ptrace", "read", "readv", "pread64", "write"];
        assert_eq!(super::closest_names("ptrase", known), vec!["ptrace"]);
        assert_eq!(super::closest_names("READ", known), vec!["read", "readv"]);
        assert!(super::closest_names("zzzzzz", known).is_empty());
    }

    use super::*;

    #[test]
    fn audit_values_match_the_uapi_header() {
        assert_eq!(Arch::X86_64.audit_arch(), 0xc000_003e);
        assert_eq!(Arch::I386.audit_arch(), 0x4000_0003);
        assert_eq!(Arch::Aarch64.audit_arch(), 0xc000_00b7);
        assert_eq!(Arch::Arm.audit_arch(), 0x4000_0028);
        assert_eq!(Arch::Riscv64.audit_arch(), 0xc000_00f3);
        assert_eq!(Arch::S390x.audit_arch(), 0x8000_0016);
        assert_eq!(Arch::Ppc64le.audit_arch(), 0xc000_0015);
        assert_eq!(Arch::Mipsel64n32.audit_arch(), 0xe000_0008);
        assert_eq!(Arch::Loongarch64.audit_arch(), 0xc000_0102);
        assert_eq!(Arch::from_audit(0xc000_003e, 0x4000_0001), Some(Arch::X32));
        assert_eq!(Arch::from_name("ARM64"), Some(Arch::Aarch64));
        assert_eq!(Arch::X86_64.audit_arch(), crate::uapi::AUDIT_ARCH_X86_64);
        assert_eq!(Arch::I386.audit_arch(), crate::uapi::AUDIT_ARCH_I386);
    }

    /// Every table is non-empty, strictly sorted by number, has unique names,
    /// and both lookups invert each other on every row.
    #[test]
    fn tables_are_sorted_unique_and_lookups_invert() {
        for arch in Arch::all() {
            let t = arch.syscalls();
            assert!(!t.is_empty(), "{arch}: empty table ({})", arch.syscall_table_source());
            assert!(!arch.syscall_table_source().is_empty(), "{arch}: no source");
            for w in t.windows(2) {
                assert!(w[0].0 < w[1].0, "{arch}: {:?} before {:?}", w[0], w[1]);
            }
            let mut names: Vec<&str> = t.iter().map(|&(_, n)| n).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), t.len(), "{arch}: duplicate names");
            for &(nr, name) in t {
                assert_eq!(arch.syscall_name(nr), Some(name), "{arch} {nr}");
                assert_eq!(arch.syscall_nr(name), Some(nr), "{arch} {name}");
            }
            assert_eq!(arch.syscall_nr("no_such_syscall"), None);
            assert_eq!(arch.syscall_nr(""), None);
        }
    }

    /// Numbers sit where `seccomp_data.nr` puts them: x32 with
    /// `__X32_SYSCALL_BIT`, MIPS above `__NR_Linux`
    /// (arch/mips/include/uapi/asm/unistd.h), arm's private calls at
    /// `__ARM_NR_BASE` 0x0f0000 (arch/arm/include/uapi/asm/unistd.h), the rest
    /// below 1024.
    #[test]
    fn numbers_carry_their_abi_base() {
        for arch in Arch::all() {
            let (lo, hi) = match arch {
                Arch::X32 => (X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1024),
                Arch::Mips | Arch::Mipsel => (4000, 5000),
                Arch::Mips64 | Arch::Mipsel64 => (5000, 6000),
                Arch::Mips64n32 | Arch::Mipsel64n32 => (6000, 7000),
                Arch::Arm => (0, 0x0f_0100),
                _ => (0, 1024),
            };
            for &(nr, name) in arch.syscalls() {
                assert!((lo..hi).contains(&nr), "{arch}: {name} = {nr:#x} outside {lo:#x}..{hi:#x}");
                if arch == Arch::Arm && nr >= 1024 {
                    assert!((0x0f_0001..0x0f_0100).contains(&nr), "arm: {name} = {nr:#x}");
                }
            }
        }
    }

    /// Spot checks against numbers in the kernel's tables (the file each
    /// comes from is named per arch).
    #[test]
    fn known_numbers() {
        let cases: &[(Arch, &str, u32)] = &[
            // arch/x86/entry/syscalls/syscall_64.tbl
            (Arch::X86_64, "read", 0),
            (Arch::X86_64, "execve", 59),
            (Arch::X86_64, "openat", 257),
            (Arch::X86_64, "clone3", 435),
            (Arch::X86_64, "rt_sigaction", 13),
            (Arch::X86_64, "uprobe", 336),
            // x32: the same file's common and x32 rows, with __X32_SYSCALL_BIT
            (Arch::X32, "read", X32_SYSCALL_BIT),
            (Arch::X32, "openat", X32_SYSCALL_BIT + 257),
            (Arch::X32, "rt_sigaction", X32_SYSCALL_BIT + 512),
            (Arch::X32, "readv", X32_SYSCALL_BIT + 515),
            (Arch::X32, "execve", X32_SYSCALL_BIT + 520),
            (Arch::X32, "pwritev2", X32_SYSCALL_BIT + 547),
            // arch/x86/entry/syscalls/syscall_32.tbl
            (Arch::I386, "read", 3),
            (Arch::I386, "execve", 11),
            (Arch::I386, "break", 17),
            (Arch::I386, "socketcall", 102),
            (Arch::I386, "clock_gettime64", 403),
            // the generic table (scripts/syscall.tbl, arch/arm64/tools/syscall_64.tbl)
            (Arch::Aarch64, "openat", 56),
            (Arch::Aarch64, "read", 63),
            (Arch::Aarch64, "newfstatat", 79),
            (Arch::Aarch64, "renameat", 38),
            (Arch::Riscv64, "openat", 56),
            (Arch::Riscv64, "riscv_flush_icache", 259),
            (Arch::Riscv32, "clock_gettime64", 403),
            (Arch::Loongarch64, "openat", 56),
            // arch/arm/tools/syscall.tbl and arch/arm/include/uapi/asm/unistd.h
            (Arch::Arm, "read", 3),
            (Arch::Arm, "socket", 281),
            (Arch::Arm, "cacheflush", 0x0f_0002),
            (Arch::Arm, "set_tls", 0x0f_0005),
            // arch/mips/kernel/syscalls/syscall_{o32,n64,n32}.tbl + __NR_Linux
            (Arch::Mips, "read", 4003),
            (Arch::Mipsel, "syscall", 4000),
            (Arch::Mips64, "read", 5000),
            (Arch::Mips64, "set_mempolicy_home_node", 5450),
            (Arch::Mips64n32, "read", 6000),
            (Arch::Mipsel64n32, "clone3", 6435),
            // arch/s390/kernel/syscalls/syscall.tbl
            (Arch::S390x, "read", 3),
            (Arch::S390x, "socketcall", 102),
            (Arch::S390, "_llseek", 140),
            // arch/powerpc/kernel/syscalls/syscall.tbl
            (Arch::Ppc64le, "read", 3),
            (Arch::Ppc64, "openat", 286),
            (Arch::Ppc, "mmap2", 192),
            // arch/sparc/kernel/syscalls/syscall.tbl
            (Arch::Sparc64, "read", 3),
            (Arch::Sparc, "openat", 284),
            // arch/parisc/kernel/syscalls/syscall.tbl
            (Arch::Parisc, "_llseek", 140),
            (Arch::Parisc64, "openat", 275),
            // arch/m68k/kernel/syscalls/syscall.tbl
            (Arch::M68k, "read", 3),
            (Arch::M68k, "atomic_barrier", 336),
        ];
        for &(arch, name, nr) in cases {
            assert_eq!(arch.syscall_nr(name), Some(nr), "{arch} {name}");
            assert_eq!(arch.syscall_name(nr), Some(name), "{arch} {nr:#x}");
        }
    }

    /// Rows one ABI of a shared table has and another lacks.
    #[test]
    fn abi_specific_rows_stay_in_their_abi() {
        // syscall_64.tbl: `64` rows are not x32, `x32` rows (512..=547) not x86_64.
        assert_eq!(Arch::X32.syscall_name(X32_SYSCALL_BIT + 13), None); // 13 64 rt_sigaction
        assert_eq!(Arch::X32.syscall_name(X32_SYSCALL_BIT + 19), None); // 19 64 readv
        assert_eq!(Arch::X86_64.syscall_name(515), None);
        assert_eq!(Arch::X32.syscall_nr("uselib"), None); // 134 64 uselib
                                                          // arch/arm/tools/syscall.tbl: `oabi` rows are not EABI.
        assert_eq!(Arch::Arm.syscall_name(13), None); // 13 oabi time
        assert_eq!(Arch::Arm.syscall_nr("socketcall"), None); // 102 oabi socketcall
                                                              // scripts/syscall.tbl: `32` and `time32` rows are not 64-bit, `rlimit`
                                                              // is not riscv32 (arch/riscv/kernel/Makefile.syscalls).
        assert_eq!(Arch::Aarch64.syscall_name(403), None);
        assert_eq!(Arch::Loongarch64.syscall_nr("renameat"), None);
        assert_eq!(Arch::Loongarch64.syscall_nr("getrlimit"), None);
        assert_eq!(Arch::Riscv32.syscall_nr("getrlimit"), None);
        assert_eq!(Arch::Riscv32.syscall_nr("futex"), None);
        assert_eq!(Arch::Riscv32.syscall_nr("futex_time64"), Some(422));
        // parisc: 140 is `32` _llseek; s390x lacks the `32` rows.
        assert_eq!(Arch::Parisc64.syscall_name(140), None);
        assert_eq!(Arch::S390x.syscall_nr("_llseek"), None);
    }

    #[test]
    fn shared_tables_are_shared() {
        assert_eq!(Arch::Mips.syscalls(), Arch::Mipsel.syscalls());
        assert_eq!(Arch::Mips64.syscalls(), Arch::Mipsel64.syscalls());
        assert_eq!(Arch::Mips64n32.syscalls(), Arch::Mipsel64n32.syscalls());
        assert_eq!(Arch::Ppc64.syscalls(), Arch::Ppc64le.syscalls());
    }
}
