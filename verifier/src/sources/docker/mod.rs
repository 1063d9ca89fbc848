//! Docker/OCI seccomp JSON, compiled the way Docker + runc + libseccomp do it.
//!
//! A profile is read (`profile.rs`, moby's profile types with Go `encoding/json`
//! semantics), then goes through four stages, each in the file named after what
//! it mirrors (read, not copied; paths are in the upstream repositories):
//!
//! 1. **Docker's profile resolution** (`moby.rs`) — moby/profiles `seccomp/seccomp_linux.go`
//!    (`setupSeccomp`) and `seccomp/seccomp.go` (types, `minKernel` parsing),
//!    `seccomp/kernel_linux.go` (`kernelGreaterEqualThan`):
//!    `architectures` and `archMap` are mutually exclusive; `archMap` contributes
//!    the entry whose `architecture` is the daemon host's arch plus its
//!    `subArchitectures`; a rule is dropped when `excludes.arches` contains the host
//!    arch, any `excludes.caps` is in the bounding set, or the kernel is at least
//!    `excludes.minKernel`; it is kept only when `includes.arches` contains the host
//!    arch, every `includes.caps` is in the bounding set and the kernel is at least
//!    `includes.minKernel`. `name` and `names` are mutually exclusive. Arch names
//!    in `includes`/`excludes` are Docker's libseccomp strings (`amd64`, `x32`,
//!    `x86`, `arm64`, …), and only the *host* arch is tested, so on an x86_64
//!    host a rule with `includes.arches: ["x86"]` is dropped although the filter
//!    also covers i386. Both Docker tables are mirrored literally, including their
//!    quirks: a `loong64` or `mipsle` host gets no `archMap` entry (the two tables
//!    disagree on the name), a `mips` host has no entry at all.
//! 2. **runc's conversion** (`runc.rs`) — opencontainers/runc `libcontainer/specconv/spec_linux.go`
//!    (`SetupSeccomp`) and `libcontainer/seccomp/config.go`: action, operator,
//!    arch and flag names are looked up in runc's tables (unknown → error); each
//!    rule is split into one entry per name; no `flags` at all means
//!    `SECCOMP_FILTER_FLAG_SPEC_ALLOW` (libseccomp 2.5.4 supports it).
//! 3. **runc's rule loop** (`libseccomp.rs`) — `libcontainer/seccomp/seccomp_linux.go` (`InitSeccomp`,
//!    `getAction`, `matchCall`): `SCMP_ACT_KILL` is KILL_THREAD; ERRNO and TRACE
//!    without `errnoRet` use EPERM, and `errnoRet` is cut to 16 bits (`int16(…)`)
//!    before libseccomp checks it; NOTIFY is refused as default action and for
//!    `write`; extra arches are added to the libseccomp filter in profile order;
//!    more than 32 (per-name) rules switch on the binary tree (`SetOptimize(2)`);
//!    no-new-privs is turned off in the filter context (it does not change the
//!    program). For every name in order: an empty name is an error; **a rule whose
//!    action equals the default action is skipped silently** (libseccomp would
//!    refuse it with `-EACCES`); **a name libseccomp does not know is skipped
//!    silently** (`GetSyscallFromName` fails → "unknown seccomp syscall ignored");
//!    a rule without `args` is one unconditional rule; with `args`, all conditions
//!    go into one rule unless two of them test the same argument index, in which
//!    case each condition becomes a rule of its own; an index above 5 is an
//!    error. Any libseccomp refusal aborts the container start. A profile with an
//!    `SCMP_ACT_NOTIFY` rule needs `listenerPath` (`process_linux.go`).
//! 4. **runc's `-ENOSYS` stub** (`enosys_stub.rs`) — `libcontainer/seccomp/patchbpf/enosys_linux.go`:
//!    unless the default action is ALLOW/LOG/TRACE, runc exports libseccomp's
//!    program and prepends a stub that returns `ERRNO(ENOSYS)` for syscall numbers
//!    above the largest one the profile names on each arch, so that new syscalls
//!    fail like unknown ones and libcs fall back.
//!
//! What the kernel ends up holding is stage 4's program ([`Loader::Runc`]);
//! [`Loader::Raw`] gives libseccomp's own export.
//!
//! The host arch is the machine Docker runs on. On this machine (x86_64) it is
//! libseccomp's native arch and everything above is exact. Another host arch is
//! emulated: the libseccomp filter gets the host arch added and the native arch
//! removed, and syscall names are still resolved by libseccomp (which translates
//! them per arch by name), so the result should equal a real host's, but it has
//! not been checked on one; the generator string says "emulated".

mod enosys_stub;
mod libseccomp;
mod moby;
mod profile;
mod runc;

pub use self::enosys_stub::RET_ERRNO_ENOSYS;
pub use self::libseccomp::{export_file, libseccomp_version};

use self::runc::{RuncAction, FLAG_NEW_LISTENER, FLAG_TSYNC};
use super::value::{display_path, Node};
use super::{check_loadable, syntax, CompiledFilter, SourceError};
use crate::arch::Arch;
use crate::bpf::Program;
use ::libseccomp::ScmpArch;
use std::path::Path;

/// Docker's default capability set for containers: moby `oci/caps/defaults.go`
/// (`DefaultCapabilities`), the bounding set of a container started without
/// `--cap-add`/`--cap-drop`/`--privileged`.
pub const DOCKER_DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// `<kernel>.<major>` as Docker compares it (`minKernel`; minor versions and
/// suffixes are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    pub kernel: u64,
    pub major: u64,
}

impl KernelVersion {
    /// Parse a kernel release the way Docker's `parseRelease` does
    /// (`fmt.Sscanf(release, "%d.%d")`): `6.18.0-foo` → 6.18.
    pub fn from_release(release: &str) -> Option<KernelVersion> {
        let (k, rest) = release.trim().split_once('.')?;
        let digits = |s: &str| s.chars().take_while(|c| c.is_ascii_digit()).collect::<String>();
        let m = digits(rest);
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_digit()) || m.is_empty() {
            return None;
        }
        Some(KernelVersion { kernel: k.parse().ok()?, major: m.parse().ok()? })
    }

    /// The running kernel (`/proc/sys/kernel/osrelease`, what `uname -r` prints).
    pub fn running() -> Result<KernelVersion, SourceError> {
        let path = "/proc/sys/kernel/osrelease";
        let bytes = super::read_bounded(Path::new(path))?;
        let s = String::from_utf8_lossy(&bytes);
        KernelVersion::from_release(&s).ok_or_else(|| SourceError::Invalid {
            path: path.into(),
            expected: "a kernel release like 6.18.0".into(),
            found: format!("{:?}", s.trim()),
        })
    }

    /// `minKernel` as Docker's `KernelVersion.UnmarshalJSON` accepts it: exactly
    /// two dot-separated decimal numbers, each 0..=255, not both 0; `""` means 0.0.
    pub(super) fn from_min_kernel(s: &str) -> Option<KernelVersion> {
        if s.is_empty() {
            return Some(KernelVersion { kernel: 0, major: 0 });
        }
        let parts: Vec<&str> = s.splitn(3, '.').collect();
        let num = |p: &str| -> Option<u64> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u8>().ok().map(u64::from)
        };
        match parts[..] {
            [k, m] => {
                let v = KernelVersion { kernel: num(k)?, major: num(m)? };
                (v != KernelVersion { kernel: 0, major: 0 }).then_some(v)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kernel, self.major)
    }
}

/// libseccomp's layout of the program (`SCMP_FLTATR_CTL_OPTIMIZE`, libseccomp ≥ 2.5.0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Optimize {
    /// What runc picks: the binary tree (2) when the profile has more than 32
    /// per-name rules, else libseccomp's default (1).
    #[default]
    Runc,
    /// Level 1: one linear comparison per syscall, in priority order.
    Linear,
    /// Level 2: a binary search tree over syscall numbers.
    BinaryTree,
}

/// What is done with libseccomp's export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Loader {
    /// The program runc installs: its `-ENOSYS` stub, then libseccomp's program.
    #[default]
    Runc,
    /// libseccomp's `seccomp_export_bpf` output unchanged.
    Raw,
}

/// How to resolve and compile a Docker/OCI profile.
#[derive(Clone, Debug)]
pub struct DockerOptions {
    /// The arch Docker and runc run on: selects the `archMap` entry, is the arch
    /// `includes`/`excludes.arches` test, and libseccomp's native arch.
    pub host_arch: Arch,
    /// The container's bounding capability set, for `includes`/`excludes.caps`.
    pub capabilities: Vec<String>,
    /// The kernel `minKernel` is compared with; `None` reads the running kernel.
    pub kernel: Option<KernelVersion>,
    pub optimize: Optimize,
    pub loader: Loader,
    /// How long libseccomp may take to build the filter before seccheck gives
    /// up with [`SourceError::GeneratorTimeout`]; `None` waits as long as it
    /// takes ([`LIBSECCOMP_TIMEOUT`] by default).
    pub libseccomp_timeout: Option<std::time::Duration>,
}

/// Real profiles build in milliseconds, but some rule sets take libseccomp
/// minutes to hours (`_db_tree_prune`, db.c: `reports/generator-findings.md`,
/// L5); runc spends the same time at every container start. After this long
/// seccheck says so instead of seeming to hang.
pub const LIBSECCOMP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Adding the rules took at least this long: the filter's notes say so (runc
/// pays it at every container start).
pub const SLOW_RULES_NOTE: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for DockerOptions {
    /// x86_64 host, Docker's default capabilities, the running kernel, runc's
    /// optimisation choice and runc's loader.
    fn default() -> Self {
        DockerOptions {
            host_arch: Arch::X86_64,
            capabilities: DOCKER_DEFAULT_CAPS.iter().map(|s| s.to_string()).collect(),
            kernel: None,
            optimize: Optimize::Runc,
            loader: Loader::Runc,
            libseccomp_timeout: Some(LIBSECCOMP_TIMEOUT),
        }
    }
}

/// Compile a Docker/moby seccomp profile, an OCI `linux.seccomp` object or an OCI
/// runtime `config.json` into the program runc loads (see the module docs).
/// Returns one filter, labelled `profile`.
pub fn compile_docker(bytes: &[u8], opts: &DockerOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| syntax("JSON", &e))?;
    compile_docker_value(&v, opts)
}

/// [`compile_docker`] of JSON already parsed (format detection parses once).
pub(crate) fn compile_docker_value(
    v: &serde_json::Value,
    opts: &DockerOptions,
) -> Result<Vec<CompiledFilter>, SourceError> {
    let top = Node::root(v, "");
    if !v.is_object() {
        return Err(top.invalid("a JSON object (a seccomp profile)"));
    }
    let is_oci_config = top.get("ociVersion")?.is_some() && top.get("linux")?.is_some();
    if is_oci_config {
        let linux = top.get("linux")?.expect("checked");
        let Some(sec) = linux.node().get("seccomp")? else {
            return Err(SourceError::NoFilter { path: "linux.seccomp".into() });
        };
        let path = sec.path.clone();
        return compile_profile_value(sec.v, &path, "profile", opts, false);
    }
    compile_profile_value(v, "", "profile", opts, true)
}

/// Compile one profile object found at JSON path `path` (used for Kubernetes
/// `spec` too). `docker_layer` applies Docker's `archMap`/`includes`/`excludes`
/// resolution (Docker profiles, Kubernetes profiles); an OCI `config.json`'s
/// `linux.seccomp` goes to runc as is.
pub(crate) fn compile_profile_value(
    v: &serde_json::Value,
    path: &str,
    label: &str,
    opts: &DockerOptions,
    docker_layer: bool,
) -> Result<Vec<CompiledFilter>, SourceError> {
    let mut notes = Vec::new();
    let profile = profile::read_profile(Node::root(v, path), &mut notes)?;
    let resolved = moby::docker_setup(&profile, opts, docker_layer, &mut notes)?;
    let config = runc::runc_specconv(&profile, &resolved)?;
    let (config, built) = libseccomp::build_within_deadline(config, path, opts, &mut notes)?;
    let host_scmp = runc::scmp_arch_of(opts.host_arch).expect("checked in build_libseccomp");
    let (program, stub_desc) = match opts.loader {
        Loader::Raw => (built.raw, " (raw export)".to_owned()),
        Loader::Runc if !enosys_stub::wants_stub(&config) => {
            (built.raw, " (runc adds no ENOSYS stub for this default action)".to_owned())
        }
        Loader::Runc => {
            let last = enosys_stub::find_last_syscalls(&config, host_scmp, &mut notes, path);
            let mut insns = enosys_stub::enosys_stub(&last).map_err(|message| SourceError::Refused {
                path: display_path(path),
                message: format!("runc cannot generate its -ENOSYS stub: {message}"),
            })?;
            insns.extend(built.raw.insns);
            (Program::new(insns), " + runc ENOSYS stub".to_owned())
        }
    };
    check_loadable(&program)?;
    let mut load_flags: Vec<&'static str> = config.flags.iter().copied().filter(|f| *f != FLAG_TSYNC).collect();
    if config.syscalls.iter().any(|s| s.action == RuncAction::Notify) {
        load_flags.push(FLAG_NEW_LISTENER);
    }
    let emulated =
        if host_scmp == ScmpArch::native() { String::new() } else { format!(", host {} emulated", opts.host_arch) };
    Ok(vec![CompiledFilter {
        label: label.to_owned(),
        program,
        generator: format!("libseccomp {} optimize={}{stub_desc}{emulated}", libseccomp_version(), built.optimize),
        arches: built.arches,
        load_flags,
        notes,
        rule_time: Some(built.rule_time),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_kernel_parses_like_docker() {
        let k = KernelVersion::from_min_kernel;
        assert_eq!(k("4.8"), Some(KernelVersion { kernel: 4, major: 8 }));
        assert_eq!(k(""), Some(KernelVersion { kernel: 0, major: 0 }));
        assert_eq!(k("0.0"), None);
        assert_eq!(k("4.8.1"), None);
        assert_eq!(k("256.1"), None);
        assert_eq!(k("+4.8"), None);
        assert_eq!(k("4"), None);
        assert_eq!(KernelVersion::from_release("6.18.0-1-amd64"), Some(KernelVersion { kernel: 6, major: 18 }));
        assert_eq!(KernelVersion::from_release("3.12-rc5"), Some(KernelVersion { kernel: 3, major: 12 }));
    }
}
