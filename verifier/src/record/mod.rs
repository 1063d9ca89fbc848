//! What a program did, as a least-privilege profile needs it: per ABI, per
//! syscall, how often, and the argument values a profile can decide on.
//!
//! Why it exists: allow-lists built from traces (`strace -f` output turned into
//! a list of names) lose the three things that make a profile right — the ABI
//! of each call (an `int 0x80` call from a 64-bit program is an i386 syscall
//! with its own numbers), the process tree (every thread and child) and the
//! arguments (`openat` for reading is not `openat` for writing). The kernel
//! half, `kernel::supervise`, reports every call of the whole tree with its exact
//! `struct seccomp_data`; this module aggregates them with bounded memory and
//! writes the trace file (`seccheck-trace/1` JSON) that [`generate`] turns into
//! a Docker/OCI profile and [`verify`] proves.
//!
//! Bounded memory: calls are counted per `(ABI, nr)` (at most
//! [`MAX_SYSCALLS`] distinct pairs); for each argument that a profile can
//! usefully compare (selected from `arch::args` kinds: flags and modes,
//! enumerated `option`/`cmd`/`family`/`type`… values — never pointers, sizes or
//! file descriptors) at most [`MAX_VALUES`] distinct values are kept, and an
//! `overflow` mark says that more were seen (the generator then does not
//! restrict that argument). Argument values are stored as the kernel reads
//! them: 32-bit kinds masked to their low half (the upper half of the register
//! is garbage, `arch::args`), every argument of a 32-bit ABI likewise.

pub mod generate;
pub mod verify;

use crate::arch::args::{args as arg_table, ArgKind};
use crate::arch::Arch;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

/// The `format` field of a trace file.
pub const TRACE_FORMAT: &str = "seccheck-trace/1";
/// Distinct values kept per recorded argument.
pub const MAX_VALUES: usize = 64;
/// Distinct `(ABI, nr)` pairs kept; calls beyond are counted in `dropped_calls`.
pub const MAX_SYSCALLS: usize = 4096;
/// Distinct thread ids counted.
pub const MAX_TASKS: usize = 1 << 16;

/// `int` parameters whose value selects what the syscall does (as opposed to
/// pids, counts and lengths): worth recording.
const SELECTORS: &[&str] = &[
    "option",
    "cmd",
    "op",
    "family",
    "type",
    "protocol",
    "level",
    "optname",
    "which_clock",
    "clockid",
    "behavior",
    "how",
    "whence",
    "request",
    "which",
    "sig",
];

/// 32-bit multiplexers missing from `arch::args` (their first argument is the
/// call number: net/socket.c `SYSCALL_DEFINE2(socketcall)`, ipc/syscall.c).
const MULTIPLEXERS: &[&str] = &["socketcall", "ipc"];

/// One recorded syscall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallRecord {
    /// `x86_64`, `x32`, `i386`, …
    pub arch: String,
    /// As in `seccomp_data.nr` (x32 numbers include `__X32_SYSCALL_BIT`).
    pub nr: u32,
    /// The ABI's name for `nr`, if it has one.
    pub name: Option<String>,
    pub count: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgValues>,
}

/// The distinct values one argument had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgValues {
    pub index: u8,
    pub name: String,
    /// `arch::args` kind (`32-bit flags`, `int`, …).
    pub kind: String,
    /// Sorted, at most [`MAX_VALUES`].
    pub values: Vec<u64>,
    /// More distinct values were seen than are listed.
    #[serde(default)]
    pub overflow: bool,
}

/// How the command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitRecord {
    Code(i32),
    Signal(i32),
}

/// What the recorder itself did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecorderStats {
    pub mechanism: String,
    /// Notifications served (every syscall of every task).
    pub notifications: u64,
    /// Distinct thread ids seen (capped at [`MAX_TASKS`]).
    pub tasks: u64,
    #[serde(default)]
    pub tasks_capped: bool,
    /// Calls not aggregated because [`MAX_SYSCALLS`] pairs were already kept,
    /// or their arch value was none the kernel defines.
    #[serde(default)]
    pub dropped_calls: u64,
    /// Wall-clock duration of the recorded run.
    pub wall_seconds: f64,
}

/// A trace file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub format: String,
    pub command: Vec<String>,
    pub exit: ExitRecord,
    pub recorder: RecorderStats,
    pub syscalls: Vec<SyscallRecord>,
}

/// The arguments recorded for `name` on `arch`: `(index, name, kind)`.
pub fn recorded_params(arch: Arch, name: &str) -> Vec<(u8, &'static str, ArgKind)> {
    if MULTIPLEXERS.contains(&name) && arch.syscall_nr(name).is_some() {
        return vec![(0, "call", ArgKind::Int)];
    }
    let Some(t) = arg_table(arch, name) else { return Vec::new() };
    t.params
        .iter()
        .enumerate()
        .filter(|(_, (p, k))| match k {
            ArgKind::Flags32 | ArgKind::Flags64 | ArgKind::Long => true,
            ArgKind::Int => SELECTORS.contains(p),
            _ => false,
        })
        .map(|(i, (p, k))| (i as u8, *p, *k))
        .collect()
}

/// The value the kernel reads: 32-bit kinds and 32-bit ABIs use the low half.
pub fn kernel_value(arch: Arch, kind: ArgKind, v: u64) -> u64 {
    if kind.is_32bit() || !arch.is_64bit() {
        v & 0xffff_ffff
    } else {
        v
    }
}

/// Add one call's values of `params` to their bounded sets (`(values,
/// overflowed)` per parameter).
pub(crate) fn add_values(
    slots: &mut [(BTreeSet<u64>, bool)],
    params: &[(u8, &'static str, ArgKind)],
    arch: Arch,
    args: &[u64; 6],
) {
    for (slot, (i, _, kind)) in slots.iter_mut().zip(params) {
        let v = kernel_value(arch, *kind, args[usize::from(*i)]);
        if slot.0.len() < MAX_VALUES {
            slot.0.insert(v);
        } else if !slot.0.contains(&v) {
            slot.1 = true;
        }
    }
}

#[derive(Default, Clone)]
struct Entry {
    count: u64,
    /// Per recorded parameter: values and overflow.
    values: Vec<(BTreeSet<u64>, bool)>,
}

/// Aggregates calls with bounded memory.
#[derive(Default)]
pub struct Aggregate {
    map: BTreeMap<(Arch, u32), Entry>,
    tasks: HashSet<u32>,
    tasks_capped: bool,
    notifications: u64,
    dropped: u64,
}

impl Aggregate {
    pub fn new() -> Aggregate {
        Aggregate::default()
    }

    /// Count one call.
    pub fn add(&mut self, tid: u32, audit: u32, nr: u32, args: &[u64; 6]) {
        self.notifications += 1;
        if self.tasks.len() < MAX_TASKS {
            self.tasks.insert(tid);
        } else if !self.tasks.contains(&tid) {
            self.tasks_capped = true;
        }
        let Some(arch) = Arch::from_audit(audit, nr) else {
            self.dropped += 1;
            return;
        };
        if !self.map.contains_key(&(arch, nr)) && self.map.len() >= MAX_SYSCALLS {
            self.dropped += 1;
            return;
        }
        let e = self.map.entry((arch, nr)).or_default();
        e.count += 1;
        let params = arch.syscall_name(nr).map(|n| recorded_params(arch, n)).unwrap_or_default();
        if e.values.len() != params.len() {
            e.values = vec![(BTreeSet::new(), false); params.len()];
        }
        add_values(&mut e.values, &params, arch, args);
    }

    pub fn notifications(&self) -> u64 {
        self.notifications
    }

    /// The per-syscall records, by ABI then number.
    pub fn records(&self) -> Vec<SyscallRecord> {
        self.map
            .iter()
            .map(|(&(arch, nr), e)| {
                let name = arch.syscall_name(nr);
                let params = name.map(|n| recorded_params(arch, n)).unwrap_or_default();
                SyscallRecord {
                    arch: arch.name().to_string(),
                    nr,
                    name: name.map(str::to_string),
                    count: e.count,
                    args: params
                        .iter()
                        .zip(&e.values)
                        .map(|((i, p, k), (vals, over))| ArgValues {
                            index: *i,
                            name: p.to_string(),
                            kind: k.name().to_string(),
                            values: vals.iter().copied().collect(),
                            overflow: *over,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The trace file for a finished run.
    pub fn into_trace(self, command: Vec<String>, exit: ExitRecord, wall_seconds: f64) -> Trace {
        Trace {
            format: TRACE_FORMAT.to_string(),
            command,
            exit,
            recorder: RecorderStats {
                mechanism: "seccomp user notification (SECCOMP_RET_USER_NOTIF, SECCOMP_USER_NOTIF_FLAG_CONTINUE)"
                    .into(),
                notifications: self.notifications,
                tasks: self.tasks.len() as u64,
                tasks_capped: self.tasks_capped,
                dropped_calls: self.dropped,
                wall_seconds,
            },
            syscalls: self.records(),
        }
    }
}

/// Why a trace file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{file}: cannot read: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: not a seccheck trace: {msg}")]
    Format { file: String, msg: String },
    #[error("{file}: syscalls[{index}]: {msg}")]
    Entry { file: String, index: usize, msg: String },
}

/// Read and check a trace file: the format tag, known arches, numbers that
/// match their names.
pub fn read_trace(path: &Path) -> Result<Trace, TraceError> {
    let file = path.display().to_string();
    let bytes = crate::sources::read_bounded(path)
        .map_err(|e| TraceError::Format { file: file.clone(), msg: e.to_string() })?;
    let t: Trace = serde_json::from_slice(&bytes).map_err(|e| TraceError::Format {
        file: file.clone(),
        msg: format!("JSON line {}, column {}: {e}", e.line(), e.column()),
    })?;
    if t.format != TRACE_FORMAT {
        return Err(TraceError::Format { file, msg: format!("`format` is {:?}, expected {TRACE_FORMAT:?}", t.format) });
    }
    for (index, s) in t.syscalls.iter().enumerate() {
        let err = |msg: String| TraceError::Entry { file: file.clone(), index, msg };
        let arch = Arch::from_name(&s.arch).ok_or_else(|| err(format!("unknown arch {:?}", s.arch)))?;
        let known = arch.syscall_name(s.nr);
        if s.name.as_deref() != known {
            return Err(err(format!("nr {} is {:?} on {}, the trace says {:?}", s.nr, known, arch.name(), s.name)));
        }
        for a in &s.args {
            if a.index > 5 {
                return Err(err(format!("argument index {} (0..=5)", a.index)));
            }
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: u32 = 0xc000_003e;
    const I386: u32 = 0x4000_0003;

    #[test]
    fn calls_are_aggregated_per_abi_with_the_values_the_kernel_reads() {
        let mut a = Aggregate::new();
        let openat = Arch::X86_64.syscall_nr("openat").unwrap();
        // O_RDONLY|O_CLOEXEC with garbage in the upper half of the register
        a.add(10, X86, openat, &[0, 0, 0xdead_0000_0008_0000, 0, 0, 0]);
        a.add(11, X86, openat, &[0, 0, 0x241, 0o644, 0, 0]);
        a.add(11, X86, 0x4000_0000 | 257, &[0; 6]);
        let getpid32 = Arch::I386.syscall_nr("getpid").unwrap();
        a.add(12, I386, getpid32, &[0; 6]);
        let r = a.records();
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!((r[0].arch.as_str(), r[0].name.as_deref(), r[0].count), ("x86_64", Some("openat"), 2));
        let flags = r[0].args.iter().find(|v| v.name == "flags").unwrap();
        assert_eq!(flags.values, vec![0x241, 0x8_0000]);
        // the mode is recorded too (32-bit flags), the path pointer is not
        assert!(r[0].args.iter().any(|v| v.name == "mode"));
        assert!(!r[0].args.iter().any(|v| v.name == "filename"));
        assert_eq!((r[1].arch.as_str(), r[1].nr, r[1].name.as_deref()), ("x32", 0x4000_0101, Some("openat")));
        assert_eq!((r[2].arch.as_str(), r[2].name.as_deref()), ("i386", Some("getpid")));
        let t = a.into_trace(vec!["x".into()], ExitRecord::Code(0), 0.0);
        assert_eq!(t.recorder.tasks, 3);
        assert_eq!(t.recorder.notifications, 4);
    }

    #[test]
    fn value_sets_are_capped_and_marked() {
        let mut a = Aggregate::new();
        let ioctl = Arch::X86_64.syscall_nr("ioctl").unwrap();
        for cmd in 0..(MAX_VALUES as u64 + 10) {
            a.add(1, X86, ioctl, &[1, cmd, 0, 0, 0, 0]);
        }
        let r = a.records();
        let cmd = &r[0].args[0];
        assert_eq!((cmd.name.as_str(), cmd.values.len(), cmd.overflow), ("cmd", MAX_VALUES, true));
        assert_eq!(r[0].count, MAX_VALUES as u64 + 10);
    }

    #[test]
    fn distinct_syscalls_are_capped() {
        let mut a = Aggregate::new();
        for nr in 0..(MAX_SYSCALLS as u32 + 5) {
            a.add(1, X86, 100_000 + nr, &[0; 6]);
        }
        a.add(1, 0x1234, 0, &[0; 6]);
        let t = a.into_trace(vec![], ExitRecord::Code(0), 0.0);
        assert_eq!(t.syscalls.len(), MAX_SYSCALLS);
        assert_eq!(t.recorder.dropped_calls, 6);
    }
}
