//! Syscall families (`@process-create`, `@network`, …) and their expansion per arch.
//!
//! A policy names effects, not numbers; the same effect is reachable through
//! several syscalls (clone/clone3/fork/vfork; open/openat/openat2/creat) and, on
//! some 32-bit ABIs, through multiplexers: `socketcall(call, args)` and
//! `ipc(call, …)` (net/socket.c `SYSCALL_DEFINE2(socketcall)`, ipc/syscall.c
//! `ksys_ipc`). Expanding a name for an arch therefore yields *targets*: a
//! syscall number plus an optional argument condition (e.g. `socket` on i386 is
//! `socket` (359) and `socketcall` (102) with `arg0 == SYS_SOCKET`).

use super::constants::lookup;
use super::{CmpOp, Expr, Field};
use crate::arch::Arch;

/// One syscall number of one arch, restricted to the inputs where `when` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub nr: u32,
    pub name: &'static str,
    pub when: Expr,
}

/// The families a policy may name, with their members.
pub const FAMILIES: &[(&str, &str, &[&str])] = &[
    ("process-create", "new processes and programs", &["fork", "vfork", "clone", "clone3", "execve", "execveat"]),
    ("exec", "running another program", &["execve", "execveat"]),
    (
        "file-write-open",
        "opening files for writing or creating them",
        &["open", "openat", "openat2", "creat", "open_by_handle_at"],
    ),
    (
        "network",
        "sockets",
        &[
            "socket",
            "socketpair",
            "connect",
            "bind",
            "listen",
            "accept",
            "accept4",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "sendmmsg",
            "recvmmsg",
            "getsockopt",
            "setsockopt",
            "getsockname",
            "getpeername",
            "shutdown",
            "socketcall",
        ],
    ),
    ("namespaces", "creating or entering namespaces", &["unshare", "setns", "clone", "clone3"]),
    (
        "io-uring",
        "io_uring, which runs operations without further syscalls",
        &["io_uring_setup", "io_uring_enter", "io_uring_register"],
    ),
    ("ptrace", "inspecting other processes", &["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"]),
    (
        "mount",
        "mounting file systems",
        &[
            "mount",
            "umount",
            "umount2",
            "pivot_root",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "move_mount",
            "open_tree",
            "open_tree_attr",
            "mount_setattr",
        ],
    ),
    ("module", "kernel modules", &["init_module", "finit_module", "delete_module", "create_module"]),
    ("bpf", "eBPF programs", &["bpf"]),
    ("keyring", "the kernel keyring", &["add_key", "request_key", "keyctl"]),
    ("reboot", "rebooting and kexec", &["reboot", "kexec_load", "kexec_file_load"]),
    (
        "clock-set",
        "setting the clock",
        &["settimeofday", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64", "stime"],
    ),
    ("raw-io", "raw port I/O", &["iopl", "ioperm", "pciconfig_read", "pciconfig_write", "pciconfig_iobase"]),
    ("swap", "swap space", &["swapon", "swapoff"]),
    ("perf", "performance counters", &["perf_event_open"]),
    (
        "ipc",
        "System V IPC",
        &[
            "msgget",
            "msgsnd",
            "msgrcv",
            "msgctl",
            "semget",
            "semop",
            "semtimedop",
            "semtimedop_time64",
            "semctl",
            "shmget",
            "shmat",
            "shmdt",
            "shmctl",
            "ipc",
        ],
    ),
];

/// `socketcall` call numbers (include/uapi/linux/net.h).
const SOCKETCALL: &[(&str, u64)] = &[
    ("socket", 1),
    ("bind", 2),
    ("connect", 3),
    ("listen", 4),
    ("accept", 5),
    ("getsockname", 6),
    ("getpeername", 7),
    ("socketpair", 8),
    ("send", 9),
    ("recv", 10),
    ("sendto", 11),
    ("recvfrom", 12),
    ("shutdown", 13),
    ("setsockopt", 14),
    ("getsockopt", 15),
    ("sendmsg", 16),
    ("recvmsg", 17),
    ("accept4", 18),
    ("recvmmsg", 19),
    ("sendmmsg", 20),
];

/// `ipc` call numbers (include/uapi/linux/ipc.h); the kernel uses `call & 0xffff`
/// (ipc/syscall.c: `version = call >> 16; call &= 0xffff;`).
const IPC: &[(&str, u64)] = &[
    ("semop", 1),
    ("semget", 2),
    ("semctl", 3),
    ("semtimedop", 4),
    ("msgsnd", 11),
    ("msgrcv", 12),
    ("msgget", 13),
    ("msgctl", 14),
    ("shmat", 21),
    ("shmdt", 22),
    ("shmget", 23),
    ("shmctl", 24),
];

/// Why a family or name cannot be expanded exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FamilyError {
    #[error("unknown family `@{0}`; known: {1}")]
    UnknownFamily(String, String),
    #[error("family `@{family}` needs open(2) flag values for {arch}, which differ from the generic ones; list the syscalls by name for that arch")]
    ArchConstants { family: String, arch: Arch },
}

pub fn is_family(name: &str) -> bool {
    name.starts_with('@')
}

fn cmp(field: Field, mask: u64, op: CmpOp, value: u64) -> Expr {
    Expr::Cmp { field, mask, op, value }
}

/// The inputs of `open`-like calls that may write: access mode not read-only, or
/// `O_CREAT`/`O_TRUNC`/`O_APPEND` set.
fn write_flags(arg: u8) -> Expr {
    let c = |n| lookup(n).expect("constant exists").value;
    Expr::Or(vec![
        cmp(Field::Arg(arg), c("O_ACCMODE"), CmpOp::Ne, c("O_RDONLY")),
        cmp(Field::Arg(arg), c("O_CREAT") | c("O_TRUNC") | c("O_APPEND"), CmpOp::Ne, 0),
    ])
}

/// The `CLONE_NEW*` flags `clone(2)` can pass (include/uapi/linux/sched.h).
/// `CLONE_NEWTIME` (0x80) is not among them: `clone` takes its flags from the low
/// 32 bits and the low byte (`CSIGNAL`) is the exit signal (kernel/fork.c
/// `SYSCALL_DEFINE5(clone)`: `.flags = lower_32_bits(clone_flags) & ~CSIGNAL`), so
/// only `clone3` and `unshare` can create a time namespace.
const CLONE_NEW_MASK: u64 =
    0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x2_0000;

/// Expand `@family` or a plain syscall name for `arch`. Names the arch does not
/// have expand to nothing (the caller reports names that exist on no arch).
pub fn expand(name: &str, arch: Arch) -> Result<Vec<Target>, FamilyError> {
    let Some(fam) = name.strip_prefix('@') else { return Ok(expand_name(name, arch, Expr::True)) };
    let Some((_, _, members)) = FAMILIES.iter().find(|(n, _, _)| *n == fam) else {
        let known = FAMILIES.iter().map(|(n, _, _)| format!("@{n}")).collect::<Vec<_>>().join(", ");
        return Err(FamilyError::UnknownFamily(fam.to_string(), known));
    };
    let mut out: Vec<Target> = Vec::new();
    for m in *members {
        let when = match (fam, *m) {
            ("file-write-open", "open") => Some(write_flags(1)),
            ("file-write-open", "openat") | ("file-write-open", "open_by_handle_at") => Some(write_flags(2)),
            ("namespaces", "clone") => Some(cmp(Field::Arg(0), CLONE_NEW_MASK, CmpOp::Ne, 0)),
            _ => None,
        };
        if when.is_some() && fam == "file-write-open" && lookup("O_CREAT").unwrap().differs_on.contains(&arch) {
            return Err(FamilyError::ArchConstants { family: fam.to_string(), arch });
        }
        for t in expand_name(m, arch, when.unwrap_or(Expr::True)) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// A plain name: its own number if the arch has it, plus the multiplexer entry
/// when the arch routes it through `socketcall` or `ipc`.
fn expand_name(name: &str, arch: Arch, when: Expr) -> Vec<Target> {
    let mut out = Vec::new();
    if let Some(nr) = arch.syscall_nr(name) {
        let canonical = arch.syscall_name(nr).unwrap_or("?");
        out.push(Target { nr, name: canonical, when: when.clone() });
    }
    let mux = |mux_name: &'static str, table: &[(&str, u64)], mask: u64| {
        let call = table.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)?;
        let nr = arch.syscall_nr(mux_name)?;
        Some(Target { nr, name: mux_name, when: Expr::and(cmp(Field::Arg(0), mask, CmpOp::Eq, call), when.clone()) })
    };
    out.extend(mux("socketcall", SOCKETCALL, u64::MAX));
    out.extend(mux("ipc", IPC, 0xffff));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_family_lists_known_ones() {
        let e = expand("@nope", Arch::X86_64).unwrap_err();
        assert!(e.to_string().contains("@process-create"), "{e}");
    }

    #[test]
    fn multiplexers_are_expanded_on_i386() {
        let t = expand("socket", Arch::I386).unwrap();
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!((t[0].nr, t[0].name, &t[0].when), (359, "socket", &Expr::True));
        assert_eq!((t[1].nr, t[1].name), (102, "socketcall"));
        assert!(t[1].when.eval(&[1, 0, 0, 0, 0, 0], 0));
        assert!(!t[1].when.eval(&[2, 0, 0, 0, 0, 0], 0));
        // ipc uses `call & 0xffff` (the high half is a version)
        let t = expand("msgget", Arch::I386).unwrap();
        let ipc = t.iter().find(|t| t.name == "ipc").unwrap();
        assert!(ipc.when.eval(&[0x1_000d, 0, 0, 0, 0, 0], 0));
        // x86_64 has no multiplexers
        assert_eq!(expand("socket", Arch::X86_64).unwrap().len(), 1);
        let net = expand("@network", Arch::I386).unwrap();
        assert!(
            net.iter().any(|t| t.name == "socketcall" && t.when == Expr::True),
            "the whole multiplexer is in @network"
        );
    }

    #[test]
    fn file_write_open_is_conditional_per_syscall() {
        let t = expand("@file-write-open", Arch::X86_64).unwrap();
        let open = t.iter().find(|t| t.name == "open").expect("x86_64 has open");
        assert!(open.when.eval(&[0, 0o1, 0, 0, 0, 0], 0)); // O_WRONLY
        assert!(open.when.eval(&[0, 0o100, 0, 0, 0, 0], 0)); // O_CREAT
        assert!(!open.when.eval(&[0, 0o2000000, 0, 0, 0, 0], 0)); // O_RDONLY|O_CLOEXEC
        let creat = t.iter().find(|t| t.name == "creat").unwrap();
        assert_eq!(creat.when, Expr::True);
        assert!(matches!(expand("@file-write-open", Arch::Mips), Err(FamilyError::ArchConstants { .. })));
    }

    #[test]
    fn clone_namespace_flags_leave_out_the_exit_signal_byte() {
        let t = expand("@namespaces", Arch::X86_64).unwrap();
        let clone = t.iter().find(|t| t.name == "clone").unwrap();
        // 0x80 is CLONE_NEWTIME for clone3, but an exit signal for clone.
        assert!(!clone.when.eval(&[0x80 | 17, 0, 0, 0, 0, 0], 0));
        assert!(clone.when.eval(&[0x1000_0000, 0, 0, 0, 0, 0], 0)); // CLONE_NEWUSER
        assert!(!clone.when.eval(&[0x1_0000_0000, 0, 0, 0, 0, 0], 0)); // above the 32 bits clone reads
        let clone3 = t.iter().find(|t| t.name == "clone3").unwrap();
        assert_eq!(clone3.when, Expr::True);
    }
}
