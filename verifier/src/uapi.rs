//! The kernel's user-space ABI numbers seccheck relies on, each written once,
//! grouped by the header it mirrors.
//!
//! Every other module imports these rather than spelling a value again (the
//! seccomp return values, filter flags, the `seccomp_data` layout, AUDIT_ARCH
//! bits, `__X32_SYSCALL_BIT`). The types are the kernel's: `__u32` values and
//! the `unsigned int` arguments of `seccomp(2)` are `u32`; callers that pass
//! them in a 64-bit register widen them with `u64::from`. BPF opcodes live with
//! the instructions (`bpf::insn`, `include/uapi/linux/filter.h`); the system
//! call numbers and other ABI the forked children use alone live in
//! `kernel::sys`.

// include/uapi/linux/seccomp.h: modes (prctl(PR_SET_SECCOMP) and
// /proc/PID/status `Seccomp:`) and seccomp(2) operations.

/// `SECCOMP_MODE_DISABLED`.
pub const SECCOMP_MODE_DISABLED: u32 = 0;
/// `SECCOMP_MODE_STRICT`.
pub const SECCOMP_MODE_STRICT: u32 = 1;
/// `SECCOMP_MODE_FILTER`.
pub const SECCOMP_MODE_FILTER: u32 = 2;
/// `SECCOMP_SET_MODE_FILTER`, the seccomp(2) operation that installs a filter.
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;

// include/uapi/linux/seccomp.h: flags of SECCOMP_SET_MODE_FILTER.

/// `SECCOMP_FILTER_FLAG_TSYNC`.
pub const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1 << 0;
/// `SECCOMP_FILTER_FLAG_LOG`.
pub const SECCOMP_FILTER_FLAG_LOG: u32 = 1 << 1;
/// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 1 << 2;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
/// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH`.
pub const SECCOMP_FILTER_FLAG_TSYNC_ESRCH: u32 = 1 << 4;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

// include/uapi/linux/seccomp.h: filter return values, most restrictive first.

/// `SECCOMP_RET_KILL_PROCESS`.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD` (= the older `SECCOMP_RET_KILL`).
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`.
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`.
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`: the action part of a return value.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_ACTION`: the action part without the KILL_PROCESS bit.
pub const SECCOMP_RET_ACTION: u32 = 0x7fff_0000;
/// `SECCOMP_RET_DATA`: the data part of a return value.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

// include/uapi/linux/seccomp.h: user notification.

/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE` (`struct seccomp_notif_resp.flags`).
pub const SECCOMP_USER_NOTIF_FLAG_CONTINUE: u32 = 1;
/// `SECCOMP_IOCTL_NOTIF_RECV = SECCOMP_IOWR(0, struct seccomp_notif)` (80 bytes).
pub const SECCOMP_IOCTL_NOTIF_RECV: u64 = 0xc050_2100;
/// `SECCOMP_IOCTL_NOTIF_SEND = SECCOMP_IOWR(1, struct seccomp_notif_resp)` (24 bytes).
pub const SECCOMP_IOCTL_NOTIF_SEND: u64 = 0xc018_2101;

// include/uapi/linux/seccomp.h: `struct seccomp_data { int nr; __u32 arch;
// __u64 instruction_pointer; __u64 args[6]; }`, byte offsets of its fields.

/// `offsetof(struct seccomp_data, nr)`.
pub const SECCOMP_DATA_NR: u32 = 0;
/// `offsetof(struct seccomp_data, arch)`.
pub const SECCOMP_DATA_ARCH: u32 = 4;
/// `offsetof(struct seccomp_data, instruction_pointer)`.
pub const SECCOMP_DATA_INSTRUCTION_POINTER: u32 = 8;
/// `offsetof(struct seccomp_data, args)`; `args[i]` is 8 bytes further per `i`.
pub const SECCOMP_DATA_ARGS: u32 = 16;
/// `sizeof(struct seccomp_data)`: what `BPF_LEN` loads, and the bound of every
/// `BPF_ABS` offset (`seccomp_check_filter`, kernel/seccomp.c).
pub const SECCOMP_DATA_SIZE: u32 = 64;

/// `AUDIT_SECCOMP` (include/uapi/linux/audit.h): the record type of a
/// logged seccomp action (`__audit_seccomp`, kernel/auditsc.c).
pub const AUDIT_SECCOMP: u32 = 1326;

/// `SIGSYS` on x86, arm, arm64, riscv, s390, powerpc (include/uapi/asm-generic/signal.h,
/// arch/x86/include/uapi/asm/signal.h): what seccomp sends for KILL and TRAP.
pub const SIGSYS: i32 = 31;

// include/uapi/linux/audit.h: the bits AUDIT_ARCH values add to an ELF machine.

/// `__AUDIT_ARCH_64BIT`.
pub const AUDIT_ARCH_64BIT: u32 = 0x8000_0000;
/// `__AUDIT_ARCH_LE`: set in every little-endian AUDIT_ARCH value.
pub const AUDIT_ARCH_LE: u32 = 0x4000_0000;
/// `__AUDIT_ARCH_CONVENTION_MIPS64_N32`.
pub const AUDIT_ARCH_CONVENTION_MIPS64_N32: u32 = 0x2000_0000;
/// `AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`.
pub const AUDIT_ARCH_X86_64: u32 = EM_X86_64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE;
/// `AUDIT_ARCH_I386 = EM_386 | __AUDIT_ARCH_LE`.
pub const AUDIT_ARCH_I386: u32 = EM_386 | AUDIT_ARCH_LE;

// include/uapi/linux/elf-em.h: ELF machine numbers.

/// `EM_SPARC`.
pub const EM_SPARC: u32 = 2;
/// `EM_386`.
pub const EM_386: u32 = 3;
/// `EM_68K`.
pub const EM_68K: u32 = 4;
/// `EM_MIPS`.
pub const EM_MIPS: u32 = 8;
/// `EM_PARISC`.
pub const EM_PARISC: u32 = 15;
/// `EM_PPC`.
pub const EM_PPC: u32 = 20;
/// `EM_PPC64`.
pub const EM_PPC64: u32 = 21;
/// `EM_S390`.
pub const EM_S390: u32 = 22;
/// `EM_ARM`.
pub const EM_ARM: u32 = 40;
/// `EM_SPARCV9`.
pub const EM_SPARCV9: u32 = 43;
/// `EM_X86_64`.
pub const EM_X86_64: u32 = 62;
/// `EM_AARCH64`.
pub const EM_AARCH64: u32 = 183;
/// `EM_RISCV`.
pub const EM_RISCV: u32 = 243;
/// `EM_LOONGARCH`.
pub const EM_LOONGARCH: u32 = 258;

// arch/x86/include/uapi/asm/unistd.h

/// `__X32_SYSCALL_BIT`: x32 system calls arrive as `AUDIT_ARCH_X86_64` with
/// this bit set in `nr`.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;
