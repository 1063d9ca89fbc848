//! The committed syscall tables against the `syscalls` crate they were
//! generated from (examples/gen_arch_tables.rs).
//!
//! Why: CI has no Linux tree to rerun the generator, but it has the crate, so
//! this pins the crate-sourced tables to the crate row for row, and pins the
//! places where we deliberately took the kernel tree instead (crate bugs found
//! against the kernel's own header rules, plus rows newer than the crate's
//! Linux v6.18) to an explicit list, so neither side can drift unseen.

use std::collections::BTreeMap;

use seccheck::arch::Arch;

type Rows = BTreeMap<u32, String>;
/// Rows only on one side.
type Only = Vec<(u32, String)>;

macro_rules! crate_rows {
    ($arch:ident) => {{
        use syscalls::$arch::Sysno;
        let mut rows = Rows::new();
        for id in Sysno::first().id()..=Sysno::last().id() {
            if let Some(s) = Sysno::new(id as usize) {
                rows.insert(id as u32, s.name().trim_start_matches("r#").to_string());
            }
        }
        rows
    }};
}

fn ours(arch: Arch) -> Rows {
    arch.syscalls().iter().map(|&(nr, name)| (nr, name.to_string())).collect()
}

/// Rows only in `a`, and rows only in `b` (a changed name counts on both sides).
fn diff(a: &Rows, b: &Rows) -> (Only, Only) {
    let only = |x: &Rows, y: &Rows| {
        x.iter().filter(|(nr, name)| y.get(nr) != Some(name)).map(|(nr, name)| (*nr, name.clone())).collect()
    };
    (only(a, b), only(b, a))
}

fn rows(list: &[(u32, &str)]) -> Only {
    list.iter().map(|&(nr, name)| (nr, name.to_string())).collect()
}

#[test]
fn crate_sourced_tables_equal_the_crate() {
    let cases: Vec<(Arch, Rows)> = vec![
        (Arch::X86_64, crate_rows!(x86_64)),
        (Arch::I386, crate_rows!(x86)),
        (Arch::Riscv64, crate_rows!(riscv64)),
        (Arch::S390x, crate_rows!(s390x)),
        (Arch::Ppc64, crate_rows!(powerpc64)),
        (Arch::Ppc64le, crate_rows!(powerpc64)),
        (Arch::Ppc, crate_rows!(powerpc)),
        (Arch::Mips, crate_rows!(mips)),
        (Arch::Mipsel, crate_rows!(mips)),
        (Arch::Sparc, crate_rows!(sparc)),
        (Arch::Sparc64, crate_rows!(sparc64)),
    ];
    for (arch, krate) in cases {
        assert!(!krate.is_empty());
        assert_eq!(ours(arch), krate, "{arch}");
        assert!(arch.syscall_table_source().starts_with("syscalls 0.8.1"), "{arch}");
    }
}

/// arm: the crate's EABI table plus arm's private calls, which the crate does
/// not list (arch/arm/include/uapi/asm/unistd.h, `__ARM_NR_BASE` 0x0f0000).
#[test]
fn arm_is_the_crate_plus_private_calls() {
    let (only_crate, only_ours) = diff(&crate_rows!(arm), &ours(Arch::Arm));
    assert_eq!(only_crate, rows(&[]));
    assert_eq!(
        only_ours,
        rows(&[
            (0x0f_0001, "breakpoint"),
            (0x0f_0002, "cacheflush"),
            (0x0f_0003, "usr26"),
            (0x0f_0004, "usr32"),
            (0x0f_0005, "set_tls"),
            (0x0f_0006, "get_tls"),
        ])
    );
}

/// The `*_time64` calls are `32`-ABI rows of scripts/syscall.tbl; 64-bit ABIs
/// do not have them. The crate lists them because it reads
/// asm-generic/unistd.h without its `#if __BITS_PER_LONG == 32`.
const TIME64_32BIT_ONLY: &[(u32, &str)] = &[
    (403, "clock_gettime64"),
    (404, "clock_settime64"),
    (405, "clock_adjtime64"),
    (406, "clock_getres_time64"),
    (407, "clock_nanosleep_time64"),
    (408, "timer_gettime64"),
    (409, "timer_settime64"),
    (410, "timerfd_gettime64"),
    (411, "timerfd_settime64"),
    (412, "utimensat_time64"),
    (413, "pselect6_time64"),
    (414, "ppoll_time64"),
    (416, "io_pgetevents_time64"),
    (417, "recvmmsg_time64"),
    (418, "mq_timedsend_time64"),
    (419, "mq_timedreceive_time64"),
    (420, "semtimedop_time64"),
    (421, "rt_sigtimedwait_time64"),
    (422, "futex_time64"),
    (423, "sched_rr_get_interval_time64"),
];

/// Rows Linux 7.2.13 has that the crate's v6.18 does not (scripts/syscall.tbl
/// and every arch table: 470 listns, 471 rseq_slice_yield).
fn newer_than_crate(base: u32) -> Only {
    rows(&[(base + 470, "listns"), (base + 471, "rseq_slice_yield")])
}

#[test]
fn tree_sourced_tables_differ_from_the_crate_exactly_where_the_crate_is_wrong() {
    // aarch64: 79 is `newfstatat` (scripts/syscall.tbl `79 64 newfstatat`;
    // the crate keeps asm-generic's `__NR3264_fstatat` spelling).
    let mut crate_wrong = rows(TIME64_32BIT_ONLY);
    crate_wrong.push((79, "fstatat".into()));
    crate_wrong.sort();
    let mut kernel = newer_than_crate(0);
    kernel.push((79, "newfstatat".into()));
    kernel.sort();
    assert_eq!(diff(&crate_rows!(aarch64), &ours(Arch::Aarch64)), (crate_wrong.clone(), kernel.clone()));

    // loongarch64 as aarch64, and also no `renameat` or `rlimit` ABI rows
    // (arch/loongarch/kernel/Makefile.syscalls adds only memfd_secret).
    let mut loong_wrong = crate_wrong;
    loong_wrong.extend(rows(&[(38, "renameat"), (163, "getrlimit"), (164, "setrlimit")]));
    loong_wrong.sort();
    assert_eq!(diff(&crate_rows!(loongarch64), &ours(Arch::Loongarch64)), (loong_wrong, kernel));

    // riscv32: no `rlimit` ABI (arch/riscv/kernel/Makefile.syscalls:
    // `syscall_abis_32 += riscv memfd_secret`).
    assert_eq!(
        diff(&crate_rows!(riscv32), &ours(Arch::Riscv32)),
        (rows(&[(163, "getrlimit"), (164, "setrlimit")]), newer_than_crate(0))
    );

    // mips n64: `450 common set_mempolicy_home_node` in syscall_n64.tbl is
    // taken by the kernel (arch/mips/kernel/syscalls/Makefile runs
    // syscallhdr.sh without --abis); the crate keeps only `n64` rows.
    let mut n64 = newer_than_crate(5000);
    n64.push((5450, "set_mempolicy_home_node".into()));
    n64.sort();
    for arch in [Arch::Mips64, Arch::Mipsel64] {
        assert_eq!(diff(&crate_rows!(mips64), &ours(arch)), (vec![], n64.clone()), "{arch}");
    }
}
