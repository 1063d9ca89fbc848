//! Stage 2: runc's conversion of the OCI profile, `libcontainer/specconv/spec_linux.go`
//! (`SetupSeccomp`) with the tables of `libcontainer/seccomp/config.go`
//! (`archs`, `actions`, `operators`, flags): every name is looked up (unknown →
//! runc's error), each rule split into one entry per syscall name, no `flags`
//! at all means `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.

use super::super::value::display_path;
use super::super::SourceError;
use super::libseccomp::libseccomp_version;
use super::moby::Resolved;
use super::profile::Profile;
use crate::arch::Arch;
use libseccomp::{ScmpArch, ScmpArgCompare, ScmpCompareOp};

/// runc's `archs` table (`libcontainer/seccomp/config.go`) resolved through
/// libseccomp-golang's `GetArchFromString`, with the ABI each token stands for.
#[rustfmt::skip]
pub(super) const RUNC_ARCHES: &[(&str, ScmpArch, Arch)] = &[
    ("SCMP_ARCH_X86", ScmpArch::X86, Arch::I386),
    ("SCMP_ARCH_X86_64", ScmpArch::X8664, Arch::X86_64),
    ("SCMP_ARCH_X32", ScmpArch::X32, Arch::X32),
    ("SCMP_ARCH_ARM", ScmpArch::Arm, Arch::Arm),
    ("SCMP_ARCH_AARCH64", ScmpArch::Aarch64, Arch::Aarch64),
    ("SCMP_ARCH_MIPS", ScmpArch::Mips, Arch::Mips),
    ("SCMP_ARCH_MIPS64", ScmpArch::Mips64, Arch::Mips64),
    ("SCMP_ARCH_MIPS64N32", ScmpArch::Mips64N32, Arch::Mips64n32),
    ("SCMP_ARCH_MIPSEL", ScmpArch::Mipsel, Arch::Mipsel),
    ("SCMP_ARCH_MIPSEL64", ScmpArch::Mipsel64, Arch::Mipsel64),
    ("SCMP_ARCH_MIPSEL64N32", ScmpArch::Mipsel64N32, Arch::Mipsel64n32),
    ("SCMP_ARCH_PPC", ScmpArch::Ppc, Arch::Ppc),
    ("SCMP_ARCH_PPC64", ScmpArch::Ppc64, Arch::Ppc64),
    ("SCMP_ARCH_PPC64LE", ScmpArch::Ppc64Le, Arch::Ppc64le),
    ("SCMP_ARCH_RISCV64", ScmpArch::Riscv64, Arch::Riscv64),
    ("SCMP_ARCH_S390", ScmpArch::S390, Arch::S390),
    ("SCMP_ARCH_S390X", ScmpArch::S390X, Arch::S390x),
    ("SCMP_ARCH_LOONGARCH64", ScmpArch::Loongarch64, Arch::Loongarch64),
];

pub(super) fn scmp_arch_of(arch: Arch) -> Option<ScmpArch> {
    RUNC_ARCHES.iter().find(|r| r.2 == arch).map(|r| r.1)
}

pub(super) fn arch_of_scmp(arch: ScmpArch) -> Option<Arch> {
    RUNC_ARCHES.iter().find(|r| r.1 == arch).map(|r| r.2)
}

/// runc's actions (`config.go`: `actions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RuncAction {
    Kill,
    KillThread,
    KillProcess,
    Errno,
    Trap,
    Allow,
    Trace,
    Log,
    Notify,
}

pub(super) fn runc_action(s: &str) -> Option<RuncAction> {
    Some(match s {
        "SCMP_ACT_KILL" => RuncAction::Kill,
        "SCMP_ACT_ERRNO" => RuncAction::Errno,
        "SCMP_ACT_TRAP" => RuncAction::Trap,
        "SCMP_ACT_ALLOW" => RuncAction::Allow,
        "SCMP_ACT_TRACE" => RuncAction::Trace,
        "SCMP_ACT_LOG" => RuncAction::Log,
        "SCMP_ACT_NOTIFY" => RuncAction::Notify,
        "SCMP_ACT_KILL_THREAD" => RuncAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => RuncAction::KillProcess,
        _ => return None,
    })
}

/// runc's `operators` table (`config.go`) → libseccomp comparison. `value` is
/// libseccomp's `datum_a` (the mask for MASKED_EQ), `valueTwo` its `datum_b`,
/// which libseccomp reads only for MASKED_EQ (`db_col_rule_add`; checked: an EQ
/// rule exports the same bytes whatever `datum_b` is).
pub(super) fn scmp_compare(op: &str, index: u32, value: u64, value_two: u64) -> Option<ScmpArgCompare> {
    let (op, datum) = match op {
        "SCMP_CMP_NE" => (ScmpCompareOp::NotEqual, value),
        "SCMP_CMP_LT" => (ScmpCompareOp::Less, value),
        "SCMP_CMP_LE" => (ScmpCompareOp::LessOrEqual, value),
        "SCMP_CMP_EQ" => (ScmpCompareOp::Equal, value),
        "SCMP_CMP_GE" => (ScmpCompareOp::GreaterEqual, value),
        "SCMP_CMP_GT" => (ScmpCompareOp::Greater, value),
        "SCMP_CMP_MASKED_EQ" => (ScmpCompareOp::MaskedEqual(value), value_two),
        _ => return None,
    };
    Some(ScmpArgCompare::new(index, op, datum))
}

pub(super) const FLAG_TSYNC: &str = "SECCOMP_FILTER_FLAG_TSYNC";
pub(super) const FLAG_SPEC_ALLOW: &str = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
pub(super) const FLAG_LOG: &str = "SECCOMP_FILTER_FLAG_LOG";
pub(super) const FLAG_WAIT_KILLABLE_RECV: &str = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
pub(super) const FLAG_NEW_LISTENER: &str = "SECCOMP_FILTER_FLAG_NEW_LISTENER";

pub(super) struct RuncConfig {
    pub(super) default_action: RuncAction,
    pub(super) default_errno_ret: Option<u64>,
    /// (libseccomp token, ABI, JSON path)
    pub(super) architectures: Vec<(ScmpArch, Arch, String)>,
    pub(super) flags: Vec<&'static str>,
    pub(super) listener_path: String,
    pub(super) syscalls: Vec<RuncSyscall>,
}

pub(super) struct RuncSyscall {
    pub(super) rule_path: String,
    pub(super) name_path: String,
    pub(super) name: String,
    pub(super) action: RuncAction,
    pub(super) action_name: String,
    pub(super) errno_ret: Option<u64>,
    pub(super) args: Vec<(String, u64, u64, u64, String)>,
}

pub(super) fn runc_specconv(p: &Profile, r: &Resolved) -> Result<RuncConfig, SourceError> {
    let root = display_path(&p.root);
    let flags = match &p.flags {
        None => vec![FLAG_SPEC_ALLOW],
        Some(fl) => {
            let mut out = Vec::new();
            for (f, path) in fl {
                out.push(match f.as_str() {
                    FLAG_TSYNC => FLAG_TSYNC,
                    FLAG_SPEC_ALLOW => FLAG_SPEC_ALLOW,
                    FLAG_LOG => FLAG_LOG,
                    FLAG_WAIT_KILLABLE_RECV => {
                        return Err(SourceError::Refused {
                            path: path.clone(),
                            message: format!(
                                "seccomp flag {f} needs libseccomp >= 2.6.0 (API level 7); with libseccomp {} runc refuses it",
                                libseccomp_version()
                            ),
                        })
                    }
                    _ => {
                        return Err(SourceError::Refused {
                            path: path.clone(),
                            message: format!("seccomp flag {f:?} is not known to runc (known: {FLAG_TSYNC}, {FLAG_SPEC_ALLOW}, {FLAG_LOG}, {FLAG_WAIT_KILLABLE_RECV})"),
                        })
                    }
                });
            }
            out
        }
    };
    let mut architectures = Vec::new();
    for (a, path) in &r.architectures {
        let (_, tok, arch) = RUNC_ARCHES.iter().find(|x| x.0 == a).ok_or_else(|| SourceError::Refused {
            path: path.clone(),
            message: format!(
                "string {a:?} is not a valid arch for runc (known: {})",
                RUNC_ARCHES.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")
            ),
        })?;
        architectures.push((*tok, *arch, path.clone()));
    }
    let bad_action = |path: String, a: &str| {
        SourceError::Refused {
        path,
        message: format!(
            "string {a:?} is not a valid seccomp action for runc (known: SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY, SCMP_ACT_ALLOW)"
        ),
    }
    };
    let default_action = runc_action(&p.default_action).ok_or_else(|| {
        let path = if p.root.is_empty() { "defaultAction".into() } else { format!("{}.defaultAction", p.root) };
        bad_action(path, &p.default_action)
    })?;
    let mut syscalls = Vec::new();
    for s in &r.syscalls {
        let action =
            runc_action(&s.rule.action).ok_or_else(|| bad_action(format!("{}.action", s.rule.path), &s.rule.action))?;
        for (name, name_path) in &s.names {
            let mut args = Vec::new();
            for a in &s.rule.args {
                if scmp_compare(&a.op, 0, 0, 0).is_none() {
                    return Err(SourceError::Refused {
                        path: format!("{}.op", a.path),
                        message: format!("string {:?} is not a valid operator for runc (known: SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)", a.op),
                    });
                }
                args.push((a.path.clone(), a.index, a.value, a.value_two, a.op.clone()));
            }
            syscalls.push(RuncSyscall {
                rule_path: s.rule.path.clone(),
                name_path: name_path.clone(),
                name: name.clone(),
                action,
                action_name: s.rule.action.clone(),
                errno_ret: s.rule.errno_ret,
                args,
            });
        }
    }
    let _ = root;
    Ok(RuncConfig {
        default_action,
        default_errno_ret: p.default_errno_ret,
        architectures,
        flags,
        listener_path: p.listener_path.clone(),
        syscalls,
    })
}
