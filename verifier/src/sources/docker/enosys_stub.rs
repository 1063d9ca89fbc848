//! Stage 4: runc's `-ENOSYS` stub, `libcontainer/seccomp/patchbpf/enosys_linux.go`
//! (`findLastSyscalls`, `generateEnosysStub`, `generatePatch`): unless the
//! default action is ALLOW, LOG or TRACE, runc prepends to libseccomp's program
//! a stub that returns `ERRNO(ENOSYS)` for syscall numbers above the largest
//! one the profile names on each arch, so that new syscalls fail like unknown
//! ones and libcs fall back. Assembled as golang.org/x/net/bpf does.

use super::super::value::display_path;
use super::super::{Note, NoteKind};
use super::runc::{arch_of_scmp, RuncAction, RuncConfig};
use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::bpf::Insn;
use libseccomp::{ScmpArch, ScmpSyscall};
use std::collections::BTreeMap;

/// `SCMP_ACT_ERRNO(ENOSYS)`, the stub's return value.
pub const RET_ERRNO_ENOSYS: u32 = crate::seccomp::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

/// The instructions of golang.org/x/net/bpf that the stub uses, assembled the
/// way `bpf.Assemble` does (`JumpIf` with a negated test swaps jt and jf).
pub(super) enum GoInsn {
    LoadAbs(u32),
    Ja(u32),
    Ret(u32),
    JumpIf { test: Test, val: u32, skip_true: u8, skip_false: u8 },
}

#[derive(Clone, Copy)]
pub(super) enum Test {
    Equal,
    NotEqual,
    GreaterThan,
    LessOrEqual,
    BitsSet,
    BitsNotSet,
}

pub(super) fn jump_if(test: Test, val: u32, skip_true: u8, skip_false: u8) -> GoInsn {
    GoInsn::JumpIf { test, val, skip_true, skip_false }
}

impl GoInsn {
    fn assemble(&self) -> Insn {
        match *self {
            GoInsn::LoadAbs(off) => Insn::stmt(BPF_LD | BPF_W | BPF_ABS, off),
            GoInsn::Ja(skip) => Insn::stmt(BPF_JMP | BPF_JA, skip),
            GoInsn::Ret(v) => Insn::stmt(BPF_RET | BPF_K, v),
            GoInsn::JumpIf { test, val, skip_true, skip_false } => {
                let (op, flip) = match test {
                    Test::Equal => (BPF_JEQ, false),
                    Test::NotEqual => (BPF_JEQ, true),
                    Test::GreaterThan => (BPF_JGT, false),
                    Test::LessOrEqual => (BPF_JGT, true),
                    Test::BitsSet => (BPF_JSET, false),
                    Test::BitsNotSet => (BPF_JSET, true),
                };
                let (jt, jf) = if flip { (skip_false, skip_true) } else { (skip_true, skip_false) };
                Insn::jump(BPF_JMP | op | BPF_K, val, jt, jf)
            }
        }
    }
}

/// The largest syscall number per (AUDIT_ARCH, libseccomp arch) — runc's
/// `findLastSyscalls`: over the configured arches plus the native one, the
/// largest number `seccomp_syscall_resolve_name_arch` gives for any name of any
/// rule (whatever its action, including rules runc skipped); names unknown on an
/// arch and negative pseudo-syscall numbers do not count; an arch with no
/// positive number is left out (runc warns "could not find any syscalls").
pub(super) fn find_last_syscalls(c: &RuncConfig, host: ScmpArch, notes: &mut Vec<Note>, root: &str) -> LastSyscalls {
    let mut set: Vec<ScmpArch> = c.architectures.iter().map(|a| a.0).collect();
    if !set.contains(&host) {
        set.push(host);
    }
    let mut out: LastSyscalls = Vec::new();
    for arch in set {
        let Some(abi) = arch_of_scmp(arch) else {
            continue;
        };
        let audit = abi.audit_arch();
        let at = match out.iter().position(|(a, _)| *a == audit) {
            Some(i) => i,
            None => {
                out.push((audit, BTreeMap::new()));
                out.len() - 1
            }
        };
        let entry = &mut out[at].1;
        let key = ScmpArchKey(abi);
        if entry.contains_key(&key) {
            continue;
        }
        let largest = c
            .syscalls
            .iter()
            .filter_map(|s| ScmpSyscall::from_name_by_arch(s.name.split('\0').next().unwrap_or(""), arch).ok())
            .map(|s| s.as_raw_syscall())
            .fold(0, i32::max);
        if largest != 0 {
            entry.insert(key, largest);
        } else {
            notes.push(Note {
                path: display_path(root),
                kind: NoteKind::NoSyscallOnArch,
                message: format!("no syscall of the profile exists on {abi}: runc's -ENOSYS stub has no section for it (runc warns \"could not find any syscalls for arch\")"),
            });
        }
    }
    out
}

/// runc's `lastSyscallMap`: AUDIT_ARCH → (ABI → largest number), in the order
/// the audit arches were first inserted (see [`enosys_stub`] for why order matters).
pub(super) type LastSyscalls = Vec<(u32, BTreeMap<ScmpArchKey, i32>)>;

/// An ABI as a map key (x86_64 and x32 share an AUDIT_ARCH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ScmpArchKey(Arch);

/// runc's `generateEnosysStub`. runc walks its `lastSyscallMap` twice (to emit
/// the per-arch sections, then the arch jump table) with Go `range` over a
/// map, whose order Go randomises per loop: every order means the same, and the
/// kernel holds whichever one that run produced. Go's iterator starts a small
/// map (one bucket) at a random one of 8 slots and wraps around, so the
/// insertion order (the order of `architectures`, native arch last) comes out
/// in most runs (6 or 7 times in 8 per loop). We always take the insertion order
/// for both loops: checked against runc 1.1.5 + libseccomp 2.5.4 on this machine,
/// whose loaded Docker-default filter (read back from the container process) is
/// byte-identical to ours in 7 of 7 runs.
pub(super) fn enosys_stub(last: &LastSyscalls) -> Result<Vec<Insn>, String> {
    let x86_64 = Arch::X86_64.audit_arch();
    let mut tail: Vec<GoInsn> = vec![GoInsn::Ja(1), GoInsn::Ret(RET_ERRNO_ENOSYS)];
    let mut jump_table: BTreeMap<u32, u32> = BTreeMap::new();
    let prepend = |tail: &mut Vec<GoInsn>, mut head: Vec<GoInsn>| {
        head.append(tail);
        *tail = head;
    };
    for (audit, maxes) in last {
        let audit = *audit;
        let base_enosys = (tail.len() - 1) as u32;
        let base_filter = base_enosys + 1;
        let mut section = vec![GoInsn::LoadAbs(0)];
        match maxes.len() {
            0 => continue,
            1 => {
                let (&ScmpArchKey(abi), &sysno) = maxes.iter().next().expect("one entry");
                let sysno = sysno as u32;
                if matches!(abi, Arch::S390 | Arch::S390x) {
                    // s390's multiplexer syscall 0 carries unknown large numbers.
                    section.push(jump_if(Test::NotEqual, 0, 1, 0));
                    section.push(GoInsn::Ret(RET_ERRNO_ENOSYS));
                }
                let mut section_tail = if base_enosys < 255 {
                    // runc: baseJumpEnosys+1 <= 255 (the jump fits in jt)
                    vec![jump_if(Test::GreaterThan, sysno, (base_enosys + 1) as u8, 0), GoInsn::Ja(base_filter)]
                } else {
                    vec![
                        jump_if(Test::LessOrEqual, sysno, 1, 0),
                        GoInsn::Ret(RET_ERRNO_ENOSYS),
                        GoInsn::Ja(base_filter),
                    ]
                };
                if audit == x86_64 {
                    let skip = (section_tail.len() - 1) as u8;
                    let check = match abi {
                        Arch::X86_64 => jump_if(Test::BitsSet, 1 << 30, skip, 0),
                        Arch::X32 => jump_if(Test::BitsNotSet, 1 << 30, skip, 0),
                        other => return Err(format!("unknown amd64 native architecture {other}")),
                    };
                    section_tail.insert(0, check);
                }
                section.extend(section_tail);
            }
            2 => {
                if audit != x86_64 {
                    return Err(format!("unknown architecture overlap on native arch {audit:#x}"));
                }
                let x32 = *maxes.get(&ScmpArchKey(Arch::X32)).ok_or("missing x32 in overlapping x86_64 arch")? as u32;
                let x86 =
                    *maxes.get(&ScmpArchKey(Arch::X86_64)).ok_or("missing amd64 in overlapping x86_64 arch")? as u32;
                if base_enosys < 254 {
                    // runc: baseJumpEnosys+2 <= 255
                    section.extend([
                        jump_if(Test::BitsSet, 1 << 30, 1, 0),
                        jump_if(Test::GreaterThan, x86, (base_enosys + 2) as u8, 1),
                        jump_if(Test::GreaterThan, x32, (base_enosys + 1) as u8, 0),
                        GoInsn::Ja(base_filter),
                    ]);
                } else {
                    section.extend([
                        jump_if(Test::BitsSet, 1 << 30, 1, 0),
                        jump_if(Test::GreaterThan, x86, 1, 2),
                        jump_if(Test::LessOrEqual, x32, 1, 0),
                        GoInsn::Ret(RET_ERRNO_ENOSYS),
                        GoInsn::Ja(base_filter),
                    ]);
                }
            }
            n => return Err(format!("invalid number of architecture overlaps: {n}")),
        }
        prepend(&mut tail, section);
        jump_table.insert(audit, tail.len() as u32);
    }
    let len = tail.len() as u32;
    prepend(&mut tail, vec![GoInsn::Ja(len)]);
    for &(audit, _) in last {
        let jump = tail.len() as u32 - jump_table.get(&audit).copied().unwrap_or(0);
        if jump <= 255 {
            prepend(&mut tail, vec![jump_if(Test::Equal, audit, jump as u8, 0)]);
        } else {
            prepend(&mut tail, vec![jump_if(Test::NotEqual, audit, 1, 0), GoInsn::Ja(jump)]);
        }
    }
    prepend(&mut tail, vec![GoInsn::LoadAbs(4)]);
    Ok(tail.iter().map(GoInsn::assemble).collect())
}

/// runc's `generatePatch`: no stub when the default action is ALLOW, LOG or
/// TRACE. (runc also means to skip it when `defaultErrnoRet` is ENOSYS, but
/// compares the errno with the whole `SCMP_ACT_ERRNO(ENOSYS)` value 0x50026, which
/// no accepted errno equals, so the stub is always added; mirrored.)
pub(super) fn wants_stub(c: &RuncConfig) -> bool {
    if c.default_errno_ret == Some(u64::from(RET_ERRNO_ENOSYS)) {
        return false;
    }
    !matches!(c.default_action, RuncAction::Allow | RuncAction::Log | RuncAction::Trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bpf_assembly_swaps_negated_tests() {
        assert_eq!(jump_if(Test::NotEqual, 7, 1, 0).assemble(), Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1));
        assert_eq!(jump_if(Test::LessOrEqual, 7, 1, 0).assemble(), Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 7, 0, 1));
        assert_eq!(jump_if(Test::BitsNotSet, 8, 2, 0).assemble(), Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 8, 0, 2));
        assert_eq!(GoInsn::Ja(3).assemble(), Insn::stmt(BPF_JMP | BPF_JA, 3));
    }
}
