//! Architectures seccomp knows: AUDIT_ARCH values, syscall name ⇄ number tables.
//!
//! AUDIT_ARCH values are built as in `include/uapi/linux/audit.h` from the ELF
//! machine numbers of `include/uapi/linux/elf-em.h`. x32 is not an AUDIT_ARCH of
//! its own: x32 syscalls arrive with `AUDIT_ARCH_X86_64` and `nr` carrying
//! `__X32_SYSCALL_BIT` (arch/x86/include/uapi/asm/unistd.h), so [`Arch::X32`]
//! shares x86_64's audit value and is told apart by `nr`.

mod tables;

use serde::Serialize;

/// `__AUDIT_ARCH_64BIT` (include/uapi/linux/audit.h).
pub const AUDIT_ARCH_64BIT: u32 = 0x8000_0000;
/// `__AUDIT_ARCH_LE` (include/uapi/linux/audit.h).
pub const AUDIT_ARCH_LE: u32 = 0x4000_0000;
/// `__AUDIT_ARCH_CONVENTION_MIPS64_N32` (include/uapi/linux/audit.h).
pub const AUDIT_ARCH_CONVENTION_MIPS64_N32: u32 = 0x2000_0000;
/// `__X32_SYSCALL_BIT` (arch/x86/include/uapi/asm/unistd.h).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

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

// ELF machine numbers (include/uapi/linux/elf-em.h).
const EM_386: u32 = 3;
const EM_68K: u32 = 4;
const EM_MIPS: u32 = 8;
const EM_PARISC: u32 = 15;
const EM_PPC: u32 = 20;
const EM_PPC64: u32 = 21;
const EM_S390: u32 = 22;
const EM_ARM: u32 = 40;
const EM_SPARC: u32 = 2;
const EM_SPARCV9: u32 = 43;
const EM_X86_64: u32 = 62;
const EM_AARCH64: u32 = 183;
const EM_RISCV: u32 = 243;
const EM_LOONGARCH: u32 = 258;

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
    /// `__X32_SYSCALL_BIT`; MIPS numbers include their 4000/5000/6000 base).
    pub fn syscalls(self) -> &'static [(u32, &'static str)] {
        tables::syscalls(self)
    }

    /// The syscall name for `nr`, if this ABI has one.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let t = self.syscalls();
        t.binary_search_by_key(&nr, |&(n, _)| n).ok().map(|i| t[i].1)
    }

    /// The number of syscall `name` in this ABI.
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        self.syscalls().iter().find(|&&(_, n)| n == name).map(|&(nr, _)| nr)
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
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
    }
}
