//! Stage 1: Docker's profile resolution, moby's `profiles/seccomp/seccomp_linux.go`
//! (`setupSeccomp`) and `kernel_linux.go` (`kernelGreaterEqualThan`): the
//! `archMap` entry of the daemon's host arch, and the rules whose
//! `includes`/`excludes` hold for the host arch, the capability set and the
//! kernel. What comes out is the OCI `LinuxSeccomp` runc receives.

use super::super::value::display_path;
use super::super::{Note, NoteKind, SourceError};
use super::profile::{Profile, RuleSpec};
use super::{DockerOptions, KernelVersion};
use crate::arch::Arch;

/// Docker's host tables (moby/profiles `seccomp_linux.go`): our arch → GOARCH →
/// `goToNative` string → `nativeToSeccomp` entry (None where Docker's two tables
/// do not connect).
#[rustfmt::skip]
pub(super) const DOCKER_HOSTS: &[(Arch, &str, &str, Option<&str>)] = &[
    (Arch::I386, "386", "x86", Some("SCMP_ARCH_X86")),
    (Arch::X86_64, "amd64", "amd64", Some("SCMP_ARCH_X86_64")),
    (Arch::Arm, "arm", "arm", Some("SCMP_ARCH_ARM")),
    (Arch::Aarch64, "arm64", "arm64", Some("SCMP_ARCH_AARCH64")),
    // goToNative gives "loongarch64" but nativeToSeccomp's key is "loong64".
    (Arch::Loongarch64, "loong64", "loongarch64", None),
    (Arch::Mips64, "mips64", "mips64", Some("SCMP_ARCH_MIPS64")),
    (Arch::Mips64n32, "mips64p32", "mips64n32", Some("SCMP_ARCH_MIPS64N32")),
    (Arch::Mipsel64, "mips64le", "mipsel64", Some("SCMP_ARCH_MIPSEL64")),
    (Arch::Mipsel64n32, "mips64p32le", "mips3l64n32", Some("SCMP_ARCH_MIPSEL64N32")),
    // goToNative gives "mipsel" but nativeToSeccomp's key is "mipsle".
    (Arch::Mipsel, "mipsle", "mipsel", None),
    // GOARCH "mips" is in neither table.
    (Arch::Mips, "mips", "", None),
    (Arch::Ppc, "ppc", "ppc", Some("SCMP_ARCH_PPC")),
    (Arch::Ppc64, "ppc64", "ppc64", Some("SCMP_ARCH_PPC64")),
    (Arch::Ppc64le, "ppc64le", "ppc64le", Some("SCMP_ARCH_PPC64LE")),
    (Arch::Riscv64, "riscv64", "riscv64", Some("SCMP_ARCH_RISCV64")),
    (Arch::S390, "s390", "s390", Some("SCMP_ARCH_S390")),
    (Arch::S390x, "s390x", "s390x", Some("SCMP_ARCH_S390X")),
];

/// One OCI `LinuxSyscall` after Docker's filtering.
pub(super) struct OciSyscall<'p> {
    pub(super) rule: &'p RuleSpec,
    pub(super) names: Vec<(String, String)>,
}

pub(super) struct Resolved<'p> {
    pub(super) architectures: Vec<(String, String)>,
    pub(super) syscalls: Vec<OciSyscall<'p>>,
}

pub(super) fn docker_setup<'p>(
    p: &'p Profile,
    opts: &DockerOptions,
    docker_layer: bool,
    notes: &mut Vec<Note>,
) -> Result<Resolved<'p>, SourceError> {
    let root = display_path(&p.root);
    if p.default_action.is_empty() && p.syscalls.is_empty() {
        return Err(SourceError::NoFilter { path: root });
    }
    if !docker_layer {
        // An OCI config.json: runc reads linux.seccomp as is.
        return Ok(Resolved {
            architectures: p.architectures.clone(),
            syscalls: p.syscalls.iter().map(|r| OciSyscall { rule: r, names: r.names.clone() }).collect(),
        });
    }
    if !p.architectures.is_empty() && !p.arch_map.is_empty() {
        return Err(SourceError::Refused {
            path: root,
            message: "both 'architectures' and 'archMap' are specified; Docker refuses the profile (use either)".into(),
        });
    }
    let host = DOCKER_HOSTS.iter().find(|h| h.0 == opts.host_arch).ok_or_else(|| SourceError::Refused {
        path: root.clone(),
        message: format!("{} is not an arch Docker runs on", opts.host_arch),
    })?;
    let host_native = host.2;
    let mut architectures = p.architectures.clone();
    if let Some(seccomp_arch) = host.3 {
        let am_path = if p.root.is_empty() { "archMap".to_owned() } else { format!("{}.archMap", p.root) };
        for (i, e) in p.arch_map.iter().enumerate() {
            if e.arch == seccomp_arch {
                architectures.push((e.arch.clone(), format!("{am_path}[{i}].architecture")));
                architectures.extend(e.sub.iter().cloned());
                break;
            }
        }
    }
    let kernel = match opts.kernel {
        Some(k) => k,
        None if p.syscalls.iter().any(|r| {
            r.includes.as_ref().is_some_and(|f| f.min_kernel.is_some())
                || r.excludes.as_ref().is_some_and(|f| f.min_kernel.is_some())
        }) =>
        {
            KernelVersion::running()?
        }
        None => KernelVersion { kernel: 0, major: 0 },
    };
    let has_cap = |c: &String| opts.capabilities.iter().any(|x| x == c);
    let mut syscalls = Vec::new();
    for r in &p.syscalls {
        let names = match &r.name {
            Some(n) if !r.names.is_empty() => {
                return Err(SourceError::Refused {
                    path: r.path.clone(),
                    message: format!(
                        "both 'name' ({:?}) and 'names' are specified; Docker refuses the profile (use either)",
                        n.0
                    ),
                })
            }
            Some(n) => vec![n.clone()],
            None => r.names.clone(),
        };
        let why_not = (|| {
            if let Some(x) = &r.excludes {
                if x.arches.iter().any(|a| a == host_native) {
                    return Some(format!("{}.arches contains the host arch `{host_native}`", x.path));
                }
                if let Some(c) = x.caps.iter().find(|c| has_cap(c)) {
                    return Some(format!("{}.caps: {c} is in the capability set", x.path));
                }
                if let Some(k) = x.min_kernel.filter(|k| kernel >= *k) {
                    return Some(format!("{}.minKernel {k}: kernel {kernel} is not older", x.path));
                }
            }
            if let Some(i) = &r.includes {
                if !i.arches.is_empty() && !i.arches.iter().any(|a| a == host_native) {
                    return Some(format!(
                        "{}.arches {:?} does not contain the host arch `{host_native}`",
                        i.path, i.arches
                    ));
                }
                if let Some(c) = i.caps.iter().find(|c| !has_cap(c)) {
                    return Some(format!("{}.caps: {c} is not in the capability set", i.path));
                }
                if let Some(k) = i.min_kernel.filter(|k| kernel < *k) {
                    return Some(format!("{}.minKernel {k}: kernel {kernel} is older", i.path));
                }
            }
            None
        })();
        match why_not {
            Some(reason) => notes.push(Note {
                path: r.path.clone(),
                kind: NoteKind::RuleNotApplied,
                message: format!("rule not applied: {reason}"),
            }),
            None => syscalls.push(OciSyscall { rule: r, names }),
        }
    }
    Ok(Resolved { architectures, syscalls })
}
