//! Docker/OCI seccomp JSON, compiled the way Docker + runc + libseccomp do it.
//!
//! A profile goes through four stages, each mirrored from the code that runs it
//! (read, not copied; paths are in the upstream repositories):
//!
//! 1. **Docker's profile resolution** — moby/profiles `seccomp/seccomp_linux.go`
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
//! 2. **runc's conversion** — opencontainers/runc `libcontainer/specconv/spec_linux.go`
//!    (`SetupSeccomp`) and `libcontainer/seccomp/config.go`: action, operator,
//!    arch and flag names are looked up in runc's tables (unknown → error); each
//!    rule is split into one entry per name; no `flags` at all means
//!    `SECCOMP_FILTER_FLAG_SPEC_ALLOW` (libseccomp 2.5.4 supports it).
//! 3. **runc's rule loop** — `libcontainer/seccomp/seccomp_linux.go` (`InitSeccomp`,
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
//! 4. **runc's `-ENOSYS` stub** — `libcontainer/seccomp/patchbpf/enosys_linux.go`:
//!    unless the default action is ALLOW/LOG/TRACE, runc exports libseccomp's
//!    program and prepends a stub that returns `ERRNO(ENOSYS)` for syscall numbers
//!    above the largest one the profile names on each arch, so that new syscalls
//!    fail like unknown ones and libcs fall back. See `enosys_stub`.
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

use super::value::{display_path, Child, Node};
use super::{check_loadable, syntax, CompiledFilter, Note, NoteKind, SourceError};
use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::bpf::{decode, ByteOrder, Insn, Program};
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use std::collections::BTreeMap;
use std::io::{Read, Seek};
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
    fn from_min_kernel(s: &str) -> Option<KernelVersion> {
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

// ---------------------------------------------------------------------------
// Tables

/// Docker's host tables (moby/profiles `seccomp_linux.go`): our arch → GOARCH →
/// `goToNative` string → `nativeToSeccomp` entry (None where Docker's two tables
/// do not connect).
#[rustfmt::skip]
const DOCKER_HOSTS: &[(Arch, &str, &str, Option<&str>)] = &[
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

/// runc's `archs` table (`libcontainer/seccomp/config.go`) resolved through
/// libseccomp-golang's `GetArchFromString`, with the ABI each token stands for.
#[rustfmt::skip]
const RUNC_ARCHES: &[(&str, ScmpArch, Arch)] = &[
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

fn scmp_arch_of(arch: Arch) -> Option<ScmpArch> {
    RUNC_ARCHES.iter().find(|r| r.2 == arch).map(|r| r.1)
}

fn arch_of_scmp(arch: ScmpArch) -> Option<Arch> {
    RUNC_ARCHES.iter().find(|r| r.1 == arch).map(|r| r.2)
}

/// runc's actions (`config.go`: `actions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuncAction {
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

fn runc_action(s: &str) -> Option<RuncAction> {
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

/// runc's `getAction`: ERRNO/TRACE data is `int16(*errnoRet)` or EPERM.
fn scmp_action(a: RuncAction, errno_ret: Option<u64>) -> ScmpAction {
    let data = errno_ret.map_or(libc::EPERM as u16, |e| e as u16);
    match a {
        RuncAction::Kill | RuncAction::KillThread => ScmpAction::KillThread,
        RuncAction::KillProcess => ScmpAction::KillProcess,
        RuncAction::Errno => ScmpAction::Errno(i32::from(data)),
        RuncAction::Trap => ScmpAction::Trap,
        RuncAction::Allow => ScmpAction::Allow,
        RuncAction::Trace => ScmpAction::Trace(data),
        RuncAction::Log => ScmpAction::Log,
        RuncAction::Notify => ScmpAction::Notify,
    }
}

/// runc's `operators` table (`config.go`) → libseccomp comparison. `value` is
/// libseccomp's `datum_a` (the mask for MASKED_EQ), `valueTwo` its `datum_b`,
/// which libseccomp reads only for MASKED_EQ (`db_col_rule_add`; checked: an EQ
/// rule exports the same bytes whatever `datum_b` is).
fn scmp_compare(op: &str, index: u32, value: u64, value_two: u64) -> Option<ScmpArgCompare> {
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

const FLAG_TSYNC: &str = "SECCOMP_FILTER_FLAG_TSYNC";
const FLAG_SPEC_ALLOW: &str = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
const FLAG_LOG: &str = "SECCOMP_FILTER_FLAG_LOG";
const FLAG_WAIT_KILLABLE_RECV: &str = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
const FLAG_NEW_LISTENER: &str = "SECCOMP_FILTER_FLAG_NEW_LISTENER";

// ---------------------------------------------------------------------------
// Stage 0: reading the JSON (Go encoding/json semantics, see value.rs)

struct Profile {
    /// JSON path of the profile object ("" or "linux.seccomp" or "spec").
    root: String,
    default_action: String,
    default_errno_ret: Option<u64>,
    architectures: Vec<(String, String)>,
    arch_map: Vec<ArchMapEntry>,
    flags: Option<Vec<(String, String)>>,
    listener_path: String,
    syscalls: Vec<RuleSpec>,
}

struct ArchMapEntry {
    arch: String,
    sub: Vec<(String, String)>,
}

struct RuleSpec {
    path: String,
    name: Option<(String, String)>,
    names: Vec<(String, String)>,
    action: String,
    errno_ret: Option<u64>,
    args: Vec<ArgSpec>,
    includes: Option<FilterSpec>,
    excludes: Option<FilterSpec>,
}

struct ArgSpec {
    path: String,
    index: u64,
    value: u64,
    value_two: u64,
    op: String,
}

struct FilterSpec {
    path: String,
    caps: Vec<String>,
    arches: Vec<String>,
    min_kernel: Option<KernelVersion>,
}

const TOP_KEYS: &[&str] = &[
    "defaultAction",
    "defaultErrnoRet",
    "architectures",
    "archMap",
    "flags",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
];
const RULE_KEYS: &[&str] = &["names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"];

fn opt_str(n: &Node, key: &str) -> Result<String, SourceError> {
    Ok(match n.get(key)? {
        Some(c) => c.node().str()?.to_owned(),
        None => String::new(),
    })
}

fn opt_u64(n: &Node, key: &str, what: &str) -> Result<Option<u64>, SourceError> {
    n.get(key)?.map(|c| c.node().u64(what)).transpose()
}

fn opt_strings(n: &Node, key: &str) -> Result<Option<Vec<(String, String)>>, SourceError> {
    n.get(key)?.map(|c| c.node().strings()).transpose()
}

fn read_filter(c: &Child) -> Result<FilterSpec, SourceError> {
    let n = c.node();
    n.get("caps")?; // type check: must be an object
    let min_kernel = match n.get("minKernel")? {
        None => None,
        Some(k) => {
            let s = k.node().str().map_err(|_| k.node().invalid("a kernel version string \"<kernel>.<major>\""))?;
            Some(KernelVersion::from_min_kernel(s).ok_or_else(|| {
                k.node().invalid(
                    "a kernel version \"<kernel>.<major>\" with numbers 0..=255, not 0.0 (Docker's KernelVersion)",
                )
            })?)
        }
    };
    Ok(FilterSpec {
        path: c.path.clone(),
        caps: opt_strings(&n, "caps")?.unwrap_or_default().into_iter().map(|s| s.0).collect(),
        arches: opt_strings(&n, "arches")?.unwrap_or_default().into_iter().map(|s| s.0).collect(),
        min_kernel,
    })
}

fn read_profile(n: Node, notes: &mut Vec<Note>) -> Result<Profile, SourceError> {
    if !n.v.is_object() {
        return Err(n.invalid("a seccomp profile object"));
    }
    let root = n.path().to_owned();
    for k in n.unknown_keys(TOP_KEYS) {
        notes.push(Note {
            path: display_path(&root),
            kind: NoteKind::UnknownKey,
            message: format!("key `{k}` is not part of the Docker/OCI profile format; Docker and runc ignore it"),
        });
    }
    let mut arch_map = Vec::new();
    if let Some(am) = n.get("archMap")? {
        for e in am.node().array()? {
            let en = e.node();
            if !en.v.is_object() {
                return Err(en.invalid("an object {architecture, subArchitectures}"));
            }
            arch_map.push(ArchMapEntry {
                arch: opt_str(&en, "architecture")?,
                sub: opt_strings(&en, "subArchitectures")?.unwrap_or_default(),
            });
        }
    }
    let mut syscalls = Vec::new();
    if let Some(sc) = n.get("syscalls")? {
        for r in sc.node().array()? {
            let rn = r.node();
            if !rn.v.is_object() {
                return Err(rn.invalid("a syscall rule object {names, action, args, …}"));
            }
            for k in rn.unknown_keys(RULE_KEYS) {
                notes.push(Note {
                    path: r.path.clone(),
                    kind: NoteKind::UnknownKey,
                    message: format!("key `{k}` is not part of the Docker/OCI rule format; Docker and runc ignore it"),
                });
            }
            let mut args = Vec::new();
            if let Some(a) = rn.get("args")? {
                for arg in a.node().array()? {
                    let an = arg.node();
                    if !an.v.is_object() {
                        return Err(an.invalid("an argument condition object {index, value, valueTwo, op}"));
                    }
                    args.push(ArgSpec {
                        path: arg.path.clone(),
                        index: opt_u64(&an, "index", "an argument index")?.unwrap_or(0),
                        value: opt_u64(&an, "value", "a 64-bit value")?.unwrap_or(0),
                        value_two: opt_u64(&an, "valueTwo", "a 64-bit value")?.unwrap_or(0),
                        op: opt_str(&an, "op")?,
                    });
                }
            }
            let name = match rn.get("name")? {
                Some(c) => Some((c.node().str()?.to_owned(), c.path.clone())),
                None => None,
            };
            syscalls.push(RuleSpec {
                path: r.path.clone(),
                name: name.filter(|(s, _)| !s.is_empty()),
                names: opt_strings(&rn, "names")?.unwrap_or_default(),
                action: opt_str(&rn, "action")?,
                errno_ret: opt_u64(&rn, "errnoRet", "an errno number")?,
                args,
                includes: rn.get("includes")?.map(|c| read_filter(&c)).transpose()?,
                excludes: rn.get("excludes")?.map(|c| read_filter(&c)).transpose()?,
            });
        }
    }
    Ok(Profile {
        default_action: opt_str(&n, "defaultAction")?,
        default_errno_ret: opt_u64(&n, "defaultErrnoRet", "an errno number")?,
        architectures: opt_strings(&n, "architectures")?.unwrap_or_default(),
        arch_map,
        flags: opt_strings(&n, "flags")?,
        listener_path: opt_str(&n, "listenerPath")?,
        syscalls,
        root,
    })
}

// ---------------------------------------------------------------------------
// Stage 1: Docker's setupSeccomp

/// One OCI `LinuxSyscall` after Docker's filtering.
struct OciSyscall<'p> {
    rule: &'p RuleSpec,
    names: Vec<(String, String)>,
}

struct Resolved<'p> {
    architectures: Vec<(String, String)>,
    syscalls: Vec<OciSyscall<'p>>,
}

fn docker_setup<'p>(
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

// ---------------------------------------------------------------------------
// Stage 2: runc's specconv

struct RuncConfig {
    default_action: RuncAction,
    default_errno_ret: Option<u64>,
    /// (libseccomp token, ABI, JSON path)
    architectures: Vec<(ScmpArch, Arch, String)>,
    flags: Vec<&'static str>,
    listener_path: String,
    syscalls: Vec<RuncSyscall>,
}

struct RuncSyscall {
    rule_path: String,
    name_path: String,
    name: String,
    action: RuncAction,
    action_name: String,
    errno_ret: Option<u64>,
    args: Vec<(String, u64, u64, u64, String)>,
}

fn runc_specconv(p: &Profile, r: &Resolved) -> Result<RuncConfig, SourceError> {
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

// ---------------------------------------------------------------------------
// Stage 3: runc's InitSeccomp with the real libseccomp

/// The linked libseccomp's version, as it reports it (`seccomp_version`).
pub fn libseccomp_version() -> String {
    match libseccomp::ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "(unknown version)".into(),
    }
}

fn errno_name_meaning(e: &libseccomp::error::SeccompError) -> (String, String) {
    use libseccomp::error::SeccompErrno as E;
    match e.errno() {
        Some(E::EEXIST) => ("-EEXIST".into(), "a rule for the same syscall with the same argument conditions and a different action already exists".into()),
        Some(E::EACCES) => ("-EACCES".into(), "the rule's action is the filter's default action".into()),
        Some(E::EINVAL) => ("-EINVAL".into(), "libseccomp finds the action, the syscall or a condition invalid (e.g. an errno of 4095 or more, or two conditions on one argument)".into()),
        Some(E::EDOM) => ("-EDOM".into(), "the syscall cannot be filtered on one of the filter's architectures".into()),
        Some(E::EFAULT) => ("-EFAULT".into(), "the syscall number is not known on one of the filter's architectures".into()),
        Some(E::ENOMEM) => ("-ENOMEM".into(), "libseccomp ran out of memory".into()),
        Some(other) => (format!("-{other:?}"), other.to_string()),
        None => ("error".into(), e.to_string()),
    }
}

fn lib_err(path: &str, operation: &'static str, e: impl std::fmt::Display) -> SourceError {
    SourceError::Libseccomp { path: display_path(path), operation, message: e.to_string() }
}

struct Built {
    raw: Program,
    /// How long the `seccomp_rule_add` calls took.
    rule_time: std::time::Duration,
    /// ABIs in the filter, in the order they were added.
    arches: Vec<Arch>,
    optimize: u32,
}

/// [`build_libseccomp`], on a worker thread when `opts.libseccomp_timeout`
/// is set, waiting at most that long. A libseccomp call cannot be
/// interrupted, so on a timeout the worker is left running: the caller
/// reports the error and ends (the CLI exits 2).
fn build_within_deadline(
    config: RuncConfig,
    path: &str,
    opts: &DockerOptions,
    notes: &mut Vec<Note>,
) -> Result<(RuncConfig, Built), SourceError> {
    let Some(limit) = opts.libseccomp_timeout else {
        let built = build_libseccomp(&config, path, opts, notes)?;
        return Ok((config, built));
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (root, o) = (path.to_owned(), opts.clone());
    let worker = std::thread::Builder::new()
        .name("libseccomp".into())
        // libseccomp recurses over its rule trees: give it what the main
        // thread would have (its default is 2 MiB).
        .stack_size(64 << 20)
        .spawn(move || {
            let mut notes = Vec::new();
            let built = build_libseccomp(&config, &root, &o, &mut notes);
            // The receiver is gone only after a timeout; nothing to tell then.
            let _ = tx.send((config, notes, built));
        })
        .map_err(|e| SourceError::Libseccomp {
            path: display_path(path),
            operation: "start building the filter",
            message: e.to_string(),
        })?;
    match rx.recv_timeout(limit) {
        Ok((config, more, built)) => {
            let _ = worker.join();
            notes.extend(more);
            Ok((config, built?))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(SourceError::GeneratorTimeout {
            path: path.to_owned(),
            generator: format!("libseccomp {}", libseccomp_version()),
            seconds: limit.as_secs_f64(),
        }),
        // The worker panicked (a bug in seccheck, not bad input): go on
        // panicking here.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}

fn build_libseccomp(
    c: &RuncConfig,
    root: &str,
    opts: &DockerOptions,
    notes: &mut Vec<Note>,
) -> Result<Built, SourceError> {
    let path_of = |k: &str| {
        if root.is_empty() {
            k.to_owned()
        } else {
            format!("{root}.{k}")
        }
    };
    let def_act = scmp_action(c.default_action, c.default_errno_ret);
    for s in &c.syscalls {
        if s.action == RuncAction::Notify && s.name == "write" {
            return Err(SourceError::Refused {
                path: s.name_path.clone(),
                message: "SCMP_ACT_NOTIFY cannot be used for the write syscall (runc: it needs write to hand the listener fd over)".into(),
            });
        }
    }
    if def_act == ScmpAction::Notify {
        return Err(SourceError::Refused {
            path: path_of("defaultAction"),
            message: "SCMP_ACT_NOTIFY cannot be used as default action (runc)".into(),
        });
    }
    let mut ctx = ScmpFilterContext::new(def_act).map_err(|e| {
        lib_err(&path_of("defaultAction"), "create the filter (seccomp_init) with this default action", e)
    })?;
    let mut arches = vec![opts.host_arch];
    let host_scmp = scmp_arch_of(opts.host_arch).ok_or_else(|| SourceError::Refused {
        path: display_path(root),
        message: format!("{} is not an arch runc supports", opts.host_arch),
    })?;
    if host_scmp != ScmpArch::native() {
        // The real native arch goes first: libseccomp refuses an arch of the
        // other byte order beside it (a big-endian host on this machine).
        ctx.remove_arch(ScmpArch::Native).map_err(|e| lib_err(root, "remove the real native arch", e))?;
        ctx.add_arch(host_scmp).map_err(|e| lib_err(root, "add the emulated host arch", e))?;
    }
    for (tok, arch, path) in &c.architectures {
        ctx.add_arch(*tok).map_err(|e| lib_err(path, "add this architecture", e))?;
        if !arches.contains(arch) {
            arches.push(*arch);
        }
    }
    for f in &c.flags {
        let r = match *f {
            FLAG_LOG => ctx.set_ctl_log(true).map(|_| ()),
            FLAG_SPEC_ALLOW => ctx.set_ctl_ssb(true).map(|_| ()),
            _ => Ok(()),
        };
        r.map_err(|e| lib_err(&path_of("flags"), "set the filter flag", e))?;
    }
    let optimize = match opts.optimize {
        Optimize::Runc if c.syscalls.len() > 32 => 2,
        Optimize::Runc | Optimize::Linear => 1,
        Optimize::BinaryTree => 2,
    };
    if optimize != 1 || opts.optimize == Optimize::Linear {
        ctx.set_ctl_optimize(optimize).map_err(|e| lib_err(root, "set SCMP_FLTATR_CTL_OPTIMIZE", e))?;
    }
    ctx.set_ctl_nnp(false).map_err(|e| lib_err(root, "clear the no-new-privs attribute", e))?;

    let adding = std::time::Instant::now();
    for s in &c.syscalls {
        if s.name.is_empty() {
            return Err(SourceError::Refused {
                path: s.name_path.clone(),
                message: "empty string is not a valid syscall (runc)".into(),
            });
        }
        let act = scmp_action(s.action, s.errno_ret);
        if act == def_act {
            notes.push(Note {
                path: s.name_path.clone(),
                kind: NoteKind::RuleDropped,
                message: format!(
                    "`{}` {} rule dropped: its action equals defaultAction, and runc skips such rules silently{}",
                    s.name,
                    s.action_name,
                    if s.args.is_empty() {
                        String::new()
                    } else {
                        " (its argument conditions are lost with it)".into()
                    }
                ),
            });
            continue;
        }
        // libseccomp-golang passes the name as a C string: it ends at a NUL.
        let cname = s.name.split('\0').next().unwrap_or("");
        let Ok(nr) = ScmpSyscall::from_name(cname) else {
            notes.push(Note {
                path: s.name_path.clone(),
                kind: NoteKind::UnknownSyscall,
                message: format!(
                    "`{}` is not a syscall libseccomp {} knows: runc ignores it",
                    s.name,
                    libseccomp_version()
                ),
            });
            continue;
        };
        let refused = |e: libseccomp::error::SeccompError| {
            let (errno, meaning) = errno_name_meaning(&e);
            SourceError::RuleRefused {
                path: s.rule_path.clone(),
                syscall: s.name.clone(),
                action: s.action_name.clone(),
                errno,
                meaning,
            }
        };
        if s.args.is_empty() {
            ctx.add_rule(act, nr).map_err(refused)?;
            continue;
        }
        let mut counts = [0u32; 6];
        let mut conds = Vec::new();
        for (path, index, value, value_two, op) in &s.args {
            if *index > 5 {
                return Err(SourceError::Refused {
                    path: format!("{path}.index"),
                    message: format!(
                        "syscalls only have up to 6 arguments (index {index} given); runc refuses the rule for `{}`",
                        s.name
                    ),
                });
            }
            counts[*index as usize] += 1;
            conds.push(scmp_compare(op, *index as u32, *value, *value_two).expect("operator checked in specconv"));
        }
        if counts.iter().any(|&n| n > 1) {
            for cond in conds {
                ctx.add_rule_conditional(act, nr, &[cond]).map_err(refused)?;
            }
        } else {
            ctx.add_rule_conditional(act, nr, &conds).map_err(refused)?;
        }
    }
    let rule_time = adding.elapsed();
    if rule_time >= SLOW_RULES_NOTE {
        notes.push(Note {
            path: display_path(root),
            kind: NoteKind::SlowGenerator,
                message: format!(
                "libseccomp {} took {:.1} s to add these rules, and runc spends as long at every container start (some rule sets take it hours: seccheck's reports/generator-findings.md, L5)",
                libseccomp_version(),
                rule_time.as_secs_f64()
            ),
        });
    }
    if c.syscalls.iter().any(|s| s.action == RuncAction::Notify) && c.listener_path.is_empty() {
        return Err(SourceError::Refused {
            path: path_of("listenerPath"),
            message: "the profile has SCMP_ACT_NOTIFY rules but no listenerPath: runc fails with \"seccomp listenerPath is not set\"".into(),
        });
    }
    let mut file =
        tempfile::tempfile().map_err(|source| SourceError::Io { file: "(temporary file)".into(), source })?;
    ctx.export_bpf(&file).map_err(|e| lib_err(root, "export the BPF program", e))?;
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|source| SourceError::Io { file: "(temporary file)".into(), source })?;
    // seccomp_export_bpf writes `struct sock_filter`s in the filter's byte
    // order, the arches' (gen_bpf.c converts every field with `_htot16`/
    // `_htot32`), so that the target can load them as they are.
    let order = if opts.host_arch.little_endian() { ByteOrder::Little } else { ByteOrder::Big };
    let raw = decode(&bytes, order)?;
    Ok(Built { raw, rule_time, arches, optimize })
}

// ---------------------------------------------------------------------------
// Stage 4: runc's -ENOSYS stub

/// `SCMP_ACT_ERRNO(ENOSYS)`, the stub's return value.
pub const RET_ERRNO_ENOSYS: u32 = crate::seccomp::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

/// The instructions of golang.org/x/net/bpf that the stub uses, assembled the
/// way `bpf.Assemble` does (`JumpIf` with a negated test swaps jt and jf).
enum GoInsn {
    LoadAbs(u32),
    Ja(u32),
    Ret(u32),
    JumpIf { test: Test, val: u32, skip_true: u8, skip_false: u8 },
}

#[derive(Clone, Copy)]
enum Test {
    Equal,
    NotEqual,
    GreaterThan,
    LessOrEqual,
    BitsSet,
    BitsNotSet,
}

fn jump_if(test: Test, val: u32, skip_true: u8, skip_false: u8) -> GoInsn {
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
fn find_last_syscalls(c: &RuncConfig, host: ScmpArch, notes: &mut Vec<Note>, root: &str) -> LastSyscalls {
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
type LastSyscalls = Vec<(u32, BTreeMap<ScmpArchKey, i32>)>;

/// An ABI as a map key (x86_64 and x32 share an AUDIT_ARCH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ScmpArchKey(Arch);

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
fn enosys_stub(last: &LastSyscalls) -> Result<Vec<Insn>, String> {
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
fn wants_stub(c: &RuncConfig) -> bool {
    if c.default_errno_ret == Some(u64::from(RET_ERRNO_ENOSYS)) {
        return false;
    }
    !matches!(c.default_action, RuncAction::Allow | RuncAction::Log | RuncAction::Trace)
}

// ---------------------------------------------------------------------------

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
    let profile = read_profile(Node::root(v, path), &mut notes)?;
    let resolved = docker_setup(&profile, opts, docker_layer, &mut notes)?;
    let config = runc_specconv(&profile, &resolved)?;
    let (config, built) = build_within_deadline(config, path, opts, &mut notes)?;
    let host_scmp = scmp_arch_of(opts.host_arch).expect("checked in build_libseccomp");
    let (program, stub_desc) = match opts.loader {
        Loader::Raw => (built.raw, " (raw export)".to_owned()),
        Loader::Runc if !wants_stub(&config) => {
            (built.raw, " (runc adds no ENOSYS stub for this default action)".to_owned())
        }
        Loader::Runc => {
            let last = find_last_syscalls(&config, host_scmp, &mut notes, path);
            let mut insns = enosys_stub(&last).map_err(|message| SourceError::Refused {
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

    #[test]
    fn go_bpf_assembly_swaps_negated_tests() {
        assert_eq!(jump_if(Test::NotEqual, 7, 1, 0).assemble(), Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1));
        assert_eq!(jump_if(Test::LessOrEqual, 7, 1, 0).assemble(), Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 7, 0, 1));
        assert_eq!(jump_if(Test::BitsNotSet, 8, 2, 0).assemble(), Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 8, 0, 2));
        assert_eq!(GoInsn::Ja(3).assemble(), Insn::stmt(BPF_JMP | BPF_JA, 3));
    }
}
