//! Placeholder until the generated tables land: a handful of x86_64 numbers
//! (arch/x86/entry/syscalls/syscall_64.tbl).
use super::Arch;

pub(super) fn syscalls(arch: Arch) -> &'static [(u32, &'static str)] {
    match arch {
        Arch::X86_64 => &[(0, "read"), (1, "write"), (2, "open"), (39, "getpid"), (60, "exit"), (231, "exit_group"), (257, "openat")],
        _ => &[],
    }
}
