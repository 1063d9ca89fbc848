//! The syscall tables against the real libseccomp (the system library, 2.5.4
//! here, through the `libseccomp` crate).
//!
//! Why: libseccomp is what most filters in the wild were compiled with, and
//! its tables were written independently of ours. Rules:
//!
//! * every number libseccomp resolves to a name, in the ABI's own number
//!   space, resolves to the same name in ours;
//! * every name of ours resolves in libseccomp to our number, or to a
//!   negative pseudo-number while libseccomp's number-to-name agrees with us
//!   (its convention for calls it also multiplexes through `socketcall`/`ipc`),
//!   or is a name libseccomp does not know at all, which must be one of
//!   [`LIBSECCOMP_LACKS`] (syscalls newer than its tables, and MIPS
//!   placeholder rows).
//!
//! Every other difference is listed in [`KNOWN`] with the reason. Both lists
//! must match what is observed exactly, so they cannot go stale.
//!
//! Number spaces (checked in libseccomp 2.5.4's arch-*.c): x32 numbers carry
//! `__X32_SYSCALL_BIT` both ways (its resolver also accepts them without the
//! bit, which we do not query); MIPS numbers carry the 4000/5000/6000 base;
//! arm's private calls are at 0x0f0000 + n.
//!
//! Not compared: loongarch64 and m68k (libseccomp 2.5.4 has no such arch),
//! riscv32, sparc, sparc64 (libseccomp has none of them).

use std::collections::BTreeSet;

use libseccomp::{ScmpArch, ScmpSyscall, ScmpVersion};
use seccheck::arch::{Arch, X32_SYSCALL_BIT};

/// Names libseccomp 2.5.4 does not know on any arch, though the kernel
/// tables have them: syscalls newer than its tables, and the `unusedNN` /
/// `reservedNN` placeholder rows of the MIPS tables, which have no entry
/// point (arch/mips/kernel/syscalls/syscall_*.tbl) but do get `__NR_` names.
const LIBSECCOMP_LACKS: &[&str] = &[
    // 6.4 (riscv), 6.8–6.10, 6.11–6.18, 6.19+
    "riscv_hwprobe",
    "statmount",
    "listmount",
    "lsm_get_self_attr",
    "lsm_set_self_attr",
    "lsm_list_modules",
    "mseal",
    "uretprobe",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
    "uprobe",
    "listns",
    "rseq_slice_yield",
    // MIPS placeholders
    "unused18",
    "unused28",
    "unused59",
    "reserved82",
    "unused84",
    "unused109",
    "unused150",
    "reserved221",
    "reserved177",
    "reserved193",
];

/// One difference between libseccomp and our table for one number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Diff {
    arch: Arch,
    nr: u32,
    libseccomp: Option<String>,
    ours: Option<String>,
}

/// A listed difference and why ours is the kernel's answer.
struct Known {
    arch: Arch,
    nr: u32,
    libseccomp: Option<&'static str>,
    ours: Option<&'static str>,
    reason: &'static str,
}

/// Differences we know of.
const KNOWN: &[Known] = &[
    Known {
        arch: Arch::Parisc64,
        nr: 140,
        libseccomp: Some("_llseek"),
        ours: None,
        reason: "arch/parisc/kernel/syscalls/syscall.tbl has `140 32 _llseek`, a 32-bit-only row, \
         and parisc64's unistd_64.h takes `common,64` (arch/parisc/kernel/syscalls/Makefile); \
         libseccomp 2.5.4 gives parisc64 parisc's 32-bit row",
    },
    Known {
        arch: Arch::X32,
        nr: X32_SYSCALL_BIT + 453,
        libseccomp: None,
        ours: Some("map_shadow_stack"),
        reason: "arch/x86/entry/syscalls/syscall_64.tbl has `453 common map_shadow_stack` (Linux \
         6.12.117 and 7.2.13), so unistd_x32.h defines it; libseccomp 2.5.4 treats it as \
         x86_64-only",
    },
];

fn pairs() -> Vec<(Arch, ScmpArch)> {
    vec![
        (Arch::X86_64, ScmpArch::X8664),
        (Arch::X32, ScmpArch::X32),
        (Arch::I386, ScmpArch::X86),
        (Arch::Aarch64, ScmpArch::Aarch64),
        (Arch::Arm, ScmpArch::Arm),
        (Arch::Riscv64, ScmpArch::Riscv64),
        (Arch::S390x, ScmpArch::S390X),
        (Arch::S390, ScmpArch::S390),
        (Arch::Ppc64le, ScmpArch::Ppc64Le),
        (Arch::Ppc64, ScmpArch::Ppc64),
        (Arch::Ppc, ScmpArch::Ppc),
        (Arch::Mips, ScmpArch::Mips),
        (Arch::Mipsel, ScmpArch::Mipsel),
        (Arch::Mips64, ScmpArch::Mips64),
        (Arch::Mipsel64, ScmpArch::Mipsel64),
        (Arch::Mips64n32, ScmpArch::Mips64N32),
        (Arch::Mipsel64n32, ScmpArch::Mipsel64N32),
        (Arch::Parisc, ScmpArch::Parisc),
        (Arch::Parisc64, ScmpArch::Parisc64),
    ]
}

/// The numbers to ask libseccomp about, as `[lo, hi)` pairs: the ABI's own
/// number space, wide enough to cover every table (asserted below).
fn ranges(arch: Arch) -> Vec<(u32, u32)> {
    match arch {
        Arch::X32 => vec![(X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1024)],
        Arch::Mips | Arch::Mipsel => vec![(4000, 5000)],
        Arch::Mips64 | Arch::Mipsel64 => vec![(5000, 6000)],
        Arch::Mips64n32 | Arch::Mipsel64n32 => vec![(6000, 7000)],
        Arch::Arm => vec![(0, 1024), (0x0f_0000, 0x0f_0100)],
        _ => vec![(0, 1024)],
    }
}

#[test]
fn every_number_libseccomp_knows_matches_our_tables() {
    let ScmpVersion { major, minor, micro } = ScmpVersion::current().expect("libseccomp version");
    let version = format!("{major}.{minor}.{micro}");
    let mut observed = BTreeSet::new();
    let mut unknown_names = BTreeSet::new();
    let mut report = Vec::new();
    for (arch, scmp) in pairs() {
        let mut known_by_lib = 0;
        for (lo, hi) in ranges(arch) {
            for nr in lo..hi {
                let raw = i32::try_from(nr).unwrap();
                let lib = ScmpSyscall::from(raw).get_name_by_arch(scmp).ok();
                let ours = arch.syscall_name(nr).map(str::to_string);
                if lib.is_some() {
                    known_by_lib += 1;
                }
                if lib.is_some() && lib != ours {
                    observed.insert(Diff { arch, nr, libseccomp: lib, ours });
                }
            }
        }
        let (mut lacks, mut multiplexed) = (0, 0);
        for &(nr, name) in arch.syscalls() {
            assert!(
                ranges(arch).iter().any(|&(lo, hi)| (lo..hi).contains(&nr)),
                "{arch}: {name} = {nr:#x} outside the queried ranges"
            );
            let raw = i32::try_from(nr).unwrap();
            match ScmpSyscall::from_name_by_arch(name, scmp).map(|s| s.as_raw_syscall()) {
                Ok(n) if n == raw => {}
                Ok(n) if n < 0 => {
                    if ScmpSyscall::from(raw).get_name_by_arch(scmp).ok().as_deref() == Some(name) {
                        multiplexed += 1;
                    } else {
                        observed.insert(Diff { arch, nr, libseccomp: None, ours: Some(name.to_string()) });
                    }
                }
                Ok(n) => {
                    let n = u32::try_from(n).unwrap();
                    let ours = arch.syscall_name(n).map(str::to_string);
                    observed.insert(Diff { arch, nr: n, libseccomp: Some(name.to_string()), ours });
                }
                Err(_) => {
                    lacks += 1;
                    unknown_names.insert(name);
                }
            }
        }
        assert!(known_by_lib > 250, "{arch}: libseccomp {version} resolved only {known_by_lib} numbers");
        report.push(format!(
            "{arch}: libseccomp {version} resolves {known_by_lib} numbers; of our {} names it lacks {lacks}, \
             gives {multiplexed} a multiplexer pseudo-number",
            arch.syscalls().len()
        ));
    }
    let expected: BTreeSet<Diff> = KNOWN
        .iter()
        .map(|k| {
            assert!(!k.reason.is_empty());
            Diff {
                arch: k.arch,
                nr: k.nr,
                libseccomp: k.libseccomp.map(str::to_string),
                ours: k.ours.map(str::to_string),
            }
        })
        .collect();
    let unexplained: Vec<_> = observed.difference(&expected).collect();
    let not_seen: Vec<_> = expected.difference(&observed).collect();
    let lacks: BTreeSet<&str> = LIBSECCOMP_LACKS.iter().copied().collect();
    let unlisted_unknown: Vec<_> = unknown_names.difference(&lacks).collect();
    let listed_known: Vec<_> = lacks.difference(&unknown_names).collect();
    assert!(
        unexplained.is_empty() && not_seen.is_empty() && unlisted_unknown.is_empty() && listed_known.is_empty(),
        "libseccomp {version}\nunexplained differences: {unexplained:#?}\nin KNOWN but not seen: {not_seen:#?}\n\
         names libseccomp lacks, not in LIBSECCOMP_LACKS: {unlisted_unknown:?}\n\
         in LIBSECCOMP_LACKS but libseccomp knows them: {listed_known:?}\n{}",
        report.join("\n")
    );
    eprintln!("{}", report.join("\n"));
}
