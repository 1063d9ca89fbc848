//! Stage 0: the profile as Docker reads it. The types of moby's
//! `profiles/seccomp/seccomp.go` (`Seccomp`, `Architecture`, `Syscall`, `Arg`,
//! `Filter`), filled with Go `encoding/json` semantics (`super::super::value`):
//! key names match case-insensitively, unknown keys are ignored (and noted), a
//! missing field is its zero value; `minKernel` is parsed as moby's
//! `KernelVersion.UnmarshalJSON` does.

use super::super::value::{display_path, Child, Node};
use super::super::{Note, NoteKind, SourceError};
use super::KernelVersion;

pub(super) struct Profile {
    /// JSON path of the profile object ("" or "linux.seccomp" or "spec").
    pub(super) root: String,
    pub(super) default_action: String,
    pub(super) default_errno_ret: Option<u64>,
    pub(super) architectures: Vec<(String, String)>,
    pub(super) arch_map: Vec<ArchMapEntry>,
    pub(super) flags: Option<Vec<(String, String)>>,
    pub(super) listener_path: String,
    pub(super) syscalls: Vec<RuleSpec>,
}

pub(super) struct ArchMapEntry {
    pub(super) arch: String,
    pub(super) sub: Vec<(String, String)>,
}

pub(super) struct RuleSpec {
    pub(super) path: String,
    pub(super) name: Option<(String, String)>,
    pub(super) names: Vec<(String, String)>,
    pub(super) action: String,
    pub(super) errno_ret: Option<u64>,
    pub(super) args: Vec<ArgSpec>,
    pub(super) includes: Option<FilterSpec>,
    pub(super) excludes: Option<FilterSpec>,
}

pub(super) struct ArgSpec {
    pub(super) path: String,
    pub(super) index: u64,
    pub(super) value: u64,
    pub(super) value_two: u64,
    pub(super) op: String,
}

pub(super) struct FilterSpec {
    pub(super) path: String,
    pub(super) caps: Vec<String>,
    pub(super) arches: Vec<String>,
    pub(super) min_kernel: Option<KernelVersion>,
}

pub(super) const TOP_KEYS: &[&str] = &[
    "defaultAction",
    "defaultErrnoRet",
    "architectures",
    "archMap",
    "flags",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
];
pub(super) const RULE_KEYS: &[&str] =
    &["names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"];

pub(super) fn opt_str(n: &Node, key: &str) -> Result<String, SourceError> {
    Ok(match n.get(key)? {
        Some(c) => c.node().str()?.to_owned(),
        None => String::new(),
    })
}

pub(super) fn opt_u64(n: &Node, key: &str, what: &str) -> Result<Option<u64>, SourceError> {
    n.get(key)?.map(|c| c.node().u64(what)).transpose()
}

pub(super) fn opt_strings(n: &Node, key: &str) -> Result<Option<Vec<(String, String)>>, SourceError> {
    n.get(key)?.map(|c| c.node().strings()).transpose()
}

pub(super) fn read_filter(c: &Child) -> Result<FilterSpec, SourceError> {
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

pub(super) fn read_profile(n: Node, notes: &mut Vec<Note>) -> Result<Profile, SourceError> {
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
