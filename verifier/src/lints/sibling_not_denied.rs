//! SC005 `sibling-not-denied`: a syscall is denied but another one that does the same stays allowed.
//!
//! ### What it does
//!
//! Knows groups of syscalls that reach the same effect — `fork`/`vfork`/`clone`/
//! `clone3`, `execve`/`execveat`, `open`/`openat`/`openat2`/`creat`,
//! `rename`/`renameat`/`renameat2`, `link`/`linkat`, `unlink`/`unlinkat`,
//! `rmdir`/`unlinkat`, the `chmod`, `chown`, `mkdir`, `mknod`, signal, set*id
//! and `mmap`/`mmap2` families, `ptrace` and `process_vm_*`, and on
//! i386 each socket call against `socketcall` with that call number — and, for
//! every arch the filter is meant for, reports a group where one member is
//! denied for every argument value while another still runs. It also reports
//! `mount` denied while the new mount API (`open_tree` + `move_mount`, or
//! `fsopen` + `fsconfig` + `fsmount` + `move_mount`) runs, and file or network
//! syscalls denied while `io_uring_setup` runs.
//!
//! Only denials the filter states count: a member that merely gets the arch's
//! default action (an allow-list that does not name it) says nothing about the
//! effect, since the author chose to allow its siblings. A member denied by a
//! rule of its own — in a deny-list, or with another action than the default
//! (`KILL` where the default is `ERRNO`) — does.
//!
//! An error when a sibling runs for every argument value; a warning when it runs
//! only for some (the lint cannot tell whether those exclude what the denial is
//! about; the example shows one that runs).
//!
//! Denying `clone3`, `openat2` or `open_by_handle_at` alone is not taken as
//! intent: `clone3`'s flags and `openat2`'s `how` live in memory a filter cannot
//! read, so denying them (with `ENOSYS`, so libc falls back to `clone`/`openat`)
//! is how profiles filter the old call's flags, and `open_by_handle_at` is
//! denied for its handles, not for opening files. Clock setting is not a group:
//! `adjtimex` stays allowed for reading the clock in profiles that deny
//! `settimeofday`, and every way of setting it needs `CAP_SYS_TIME`
//! (kernel/time/timekeeping.c), which a filter cannot see.
//!
//! ### Why is this bad
//!
//! Denying one syscall of a group stops nothing when its sibling does the same:
//! a profile denying `execve` but not `execveat` still lets the process run any
//! program, one denying `socket` on i386 but not `socketcall(SYS_SOCKET, …)`
//! still lets it open sockets (the direct socket syscalls only exist since Linux
//! 4.3; libc uses either). io_uring executes `IORING_OP_OPENAT`, `_CONNECT`,
//! `_ACCEPT`, `_SOCKET`, `_RENAMEAT`, `_UNLINKAT`, `_MKDIRAT`, `_SYMLINKAT`,
//! `_LINKAT`, `_SENDMSG`… in the kernel (io_uring/opdef.c) without any of those
//! syscalls passing through seccomp.
//!
//! ### Example
//!
//! ```text
//! ld [0]
//! jeq #59, deny, next     ; execve
//! ret #0x7fff0000         ; execveat (322) still runs
//! deny: ret #0x50001
//! ```
//!
//! Deny every member of the group (`@exec` in a policy), and `io_uring_setup`
//! when file or network syscalls are denied.

use super::{finding, list, list_some, LintContext};
use crate::arch::Arch;
use crate::finding::{Finding, Severity};
use crate::symbolic::InputSet;
use crate::when::families::expand;
use crate::when::input_set;

pub const CODE: &str = "SC005";
pub const NAME: &str = "sibling-not-denied";

/// Syscalls that reach the same effect.
struct Group {
    effect: &'static str,
    members: &'static [&'static str],
    /// Members whose denial alone does not state that the effect is unwanted.
    weak: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group { effect: "create processes", members: &["fork", "vfork", "clone", "clone3"], weak: &["clone3"] },
    Group { effect: "run programs", members: &["execve", "execveat"], weak: &[] },
    Group {
        effect: "open files",
        members: &["open", "openat", "openat2", "creat", "open_by_handle_at"],
        weak: &["openat2", "open_by_handle_at"],
    },
    Group { effect: "rename files", members: &["rename", "renameat", "renameat2"], weak: &[] },
    Group { effect: "create hard links", members: &["link", "linkat"], weak: &[] },
    Group { effect: "create symbolic links", members: &["symlink", "symlinkat"], weak: &[] },
    Group { effect: "remove files", members: &["unlink", "unlinkat"], weak: &[] },
    Group { effect: "remove directories", members: &["rmdir", "unlinkat"], weak: &[] },
    Group { effect: "change file modes", members: &["chmod", "fchmod", "fchmodat", "fchmodat2"], weak: &[] },
    Group {
        effect: "change file owners",
        members: &["chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"],
        weak: &[],
    },
    Group { effect: "create directories", members: &["mkdir", "mkdirat"], weak: &[] },
    Group { effect: "create device nodes", members: &["mknod", "mknodat"], weak: &[] },
    Group {
        effect: "set extended attributes",
        members: &["setxattr", "lsetxattr", "fsetxattr", "setxattrat"],
        weak: &[],
    },
    Group {
        effect: "change timestamps",
        members: &["utime", "utimes", "futimesat", "utimensat", "utimensat_time64"],
        weak: &[],
    },
    Group { effect: "truncate files", members: &["truncate", "ftruncate", "truncate64", "ftruncate64"], weak: &[] },
    Group { effect: "create sockets", members: &["socket"], weak: &[] },
    Group { effect: "create socket pairs", members: &["socketpair"], weak: &[] },
    Group { effect: "connect sockets", members: &["connect"], weak: &[] },
    Group { effect: "bind sockets", members: &["bind"], weak: &[] },
    Group { effect: "listen on sockets", members: &["listen"], weak: &[] },
    Group { effect: "accept connections", members: &["accept", "accept4"], weak: &[] },
    Group { effect: "send on sockets", members: &["send", "sendto", "sendmsg", "sendmmsg"], weak: &[] },
    Group { effect: "receive on sockets", members: &["recv", "recvfrom", "recvmsg", "recvmmsg"], weak: &[] },
    Group { effect: "unmount file systems", members: &["umount", "umount2"], weak: &[] },
    Group {
        effect: "send signals",
        members: &["kill", "tkill", "tgkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo"],
        weak: &[],
    },
    Group {
        effect: "change user ids",
        members: &["setuid", "setreuid", "setresuid", "setuid32", "setreuid32", "setresuid32"],
        weak: &[],
    },
    Group {
        effect: "change group ids",
        members: &["setgid", "setregid", "setresgid", "setgid32", "setregid32", "setresgid32"],
        weak: &[],
    },
    Group { effect: "read other processes' memory", members: &["ptrace", "process_vm_readv"], weak: &[] },
    Group { effect: "write other processes' memory", members: &["ptrace", "process_vm_writev"], weak: &[] },
    Group { effect: "load kernel modules", members: &["init_module", "finit_module"], weak: &[] },
    Group { effect: "load a new kernel", members: &["kexec_load", "kexec_file_load"], weak: &[] },
    Group { effect: "map memory", members: &["mmap", "mmap2"], weak: &[] },
];

/// `mount`'s effect through the new mount API (fs/namespace.c, fs/fsopen.c):
/// every syscall of one of these sets must run.
const MOUNT_API: &[&[&str]] = &[&["open_tree", "move_mount"], &["fsopen", "fsconfig", "fsmount", "move_mount"]];

/// Syscalls io_uring performs as operations of its own (io_uring/opdef.c).
const IO_URING_OPS: &[(&str, &str)] = &[
    ("open", "IORING_OP_OPENAT"),
    ("openat", "IORING_OP_OPENAT"),
    ("openat2", "IORING_OP_OPENAT2"),
    ("creat", "IORING_OP_OPENAT"),
    ("socket", "IORING_OP_SOCKET"),
    ("connect", "IORING_OP_CONNECT"),
    ("accept", "IORING_OP_ACCEPT"),
    ("accept4", "IORING_OP_ACCEPT"),
    ("bind", "IORING_OP_BIND"),
    ("listen", "IORING_OP_LISTEN"),
    ("sendto", "IORING_OP_SEND"),
    ("sendmsg", "IORING_OP_SENDMSG"),
    ("recvfrom", "IORING_OP_RECV"),
    ("recvmsg", "IORING_OP_RECVMSG"),
    ("rename", "IORING_OP_RENAMEAT"),
    ("renameat", "IORING_OP_RENAMEAT"),
    ("renameat2", "IORING_OP_RENAMEAT"),
    ("unlink", "IORING_OP_UNLINKAT"),
    ("unlinkat", "IORING_OP_UNLINKAT"),
    ("rmdir", "IORING_OP_UNLINKAT"),
    ("mkdir", "IORING_OP_MKDIRAT"),
    ("mkdirat", "IORING_OP_MKDIRAT"),
    ("symlink", "IORING_OP_SYMLINKAT"),
    ("symlinkat", "IORING_OP_SYMLINKAT"),
    ("link", "IORING_OP_LINKAT"),
    ("linkat", "IORING_OP_LINKAT"),
    ("setxattr", "IORING_OP_SETXATTR"),
    ("fsetxattr", "IORING_OP_FSETXATTR"),
    ("ftruncate", "IORING_OP_FTRUNCATE"),
];

/// One syscall number of a group on one arch (a multiplexer call counts as its own).
struct Member {
    label: String,
    /// The group member it stands for.
    of: &'static str,
    inputs: InputSet,
    /// Denied for every argument value, by a rule of its own (not by the
    /// arch's default action).
    denied: bool,
    /// Inputs that run.
    runs: InputSet,
    /// Runs for every argument value.
    always: bool,
}

fn members(cx: &LintContext, arch: Arch, names: &[&'static str]) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    let default = cx.fallback_inputs(arch);
    for &name in names {
        let Ok(targets) = expand(name, arch) else { continue };
        for t in targets {
            let inputs = {
                let s = cx.syscall(arch, t.nr);
                let mut a = cx.analysis();
                let when = input_set(&mut a, &t.when);
                a.and(s, when)
            };
            let label = if t.name == name { name.to_string() } else { format!("{} for {name}", t.name) };
            if out.iter().any(|m| m.label == label) {
                continue;
            }
            let mut a = cx.analysis();
            if a.is_empty(inputs) {
                continue;
            }
            let runs = a.and(inputs, cx.runs);
            out.push(Member {
                label,
                of: name,
                inputs,
                denied: a.subset(inputs, cx.denied) && !default.is_some_and(|d| a.subset(inputs, d)),
                always: a.subset(inputs, cx.runs),
                runs,
            });
        }
    }
    out
}

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for &arch in &cx.arches {
        for g in GROUPS {
            let ms = members(cx, arch, g.members);
            let denied: Vec<&Member> = ms.iter().filter(|m| m.denied && !g.weak.contains(&m.of)).collect();
            let running: Vec<&Member> = ms.iter().filter(|m| !cx.analysis().is_empty(m.runs)).collect();
            if denied.is_empty() || running.is_empty() {
                continue;
            }
            out.push(report(cx, arch, g.effect, &denied, &running, None));
        }
        // mount against the new mount API
        let mount = members(cx, arch, &["mount"]);
        if mount.iter().any(|m| m.denied) {
            for via in MOUNT_API {
                let ms = members(cx, arch, via);
                if ms.len() == via.len() && ms.iter().all(|m| !cx.analysis().is_empty(m.runs)) {
                    let denied: Vec<&Member> = mount.iter().collect();
                    let running: Vec<&Member> = ms.iter().collect();
                    out.push(report(
                        cx,
                        arch,
                        "mount file systems",
                        &denied,
                        &running,
                        Some("together they mount a file system (fs/namespace.c)"),
                    ));
                    break;
                }
            }
        }
        // file and network syscalls against io_uring
        let ring = members(cx, arch, &["io_uring_setup"]);
        if ring.iter().any(|m| !cx.analysis().is_empty(m.runs)) {
            let names: Vec<&'static str> = IO_URING_OPS.iter().map(|(n, _)| *n).collect();
            let ms = members(cx, arch, &names);
            let denied: Vec<&Member> = ms.iter().filter(|m| m.denied && m.label == m.of).collect();
            if !denied.is_empty() {
                let mut ops: Vec<&str> = Vec::new();
                for d in &denied {
                    if let Some((_, op)) = IO_URING_OPS.iter().find(|(n, _)| *n == d.of) {
                        if !ops.contains(op) {
                            ops.push(op);
                        }
                    }
                }
                let why = format!("io_uring performs {} without those syscalls (io_uring/opdef.c)", list_some(&ops, 6));
                let running: Vec<&Member> = ring.iter().collect();
                out.push(report(cx, arch, "reach their effects", &denied, &running, Some(&why)));
            }
        }
    }
    out
}

fn report(
    cx: &LintContext,
    arch: Arch,
    effect: &str,
    denied: &[&Member],
    running: &[&Member],
    why: Option<&str>,
) -> Finding {
    let d: Vec<&str> = denied.iter().map(|m| m.label.as_str()).collect();
    let r: Vec<String> = running
        .iter()
        .map(|m| format!("{} ({})", m.label, if m.always { "always" } else { "for some arguments" }))
        .collect();
    let every = running.iter().all(|m| m.always);
    // An error when the bypass needs no particular arguments: for a single
    // sibling, that one runs always; for a combination, all of them do.
    let severity = if (why.is_none() && running.iter().any(|m| m.always)) || (why.is_some() && every) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let shown = running.iter().find(|m| m.always).unwrap_or(&running[0]);
    let mut insns = cx.exits_meeting(shown.runs);
    for m in denied {
        insns.extend(cx.exits_meeting(m.inputs));
    }
    insns.sort_unstable();
    insns.dedup();
    let verb = if d.len() == 1 { "is" } else { "are" };
    let mut message = format!(
        "{arch}: {} {verb} denied for every argument, but {} still run{}: the process can still {effect}",
        list(&d),
        list(&r),
        if r.len() == 1 { "s" } else { "" }
    );
    if let Some(w) = why {
        message.push_str(&format!("; {w}"));
    }
    finding(CODE, NAME, severity, message, insns, cx.counterexample(shown.runs))
}
