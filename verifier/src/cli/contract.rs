//! The JSON output contract every command keeps (`docs/json.md`): each
//! `--format json` document is one object whose first key is
//! `"schema": "seccheck/<command>/v1"`, and which follows the JSON Schema
//! `docs/schemas/<command>.v1.json`. The pieces several commands share —
//! what the kernel said about the examples (the library's
//! [`KernelCheck`], which `report` shows too), what a generator did, the input
//! an evaluation ran on — are built here, once, so they have one shape.

use super::CliError;
use crate::arch::Arch;
use crate::seccomp::SeccompData;
use crate::sources::{CompiledFilter, NoteKind};
use serde::Serialize;
use std::io::Write;

/// The version of every schema this build writes. A change that removes or
/// retypes a field, or adds a required one, is a new version (docs/json.md).
pub const SCHEMA_VERSION: u32 = 1;

/// `seccheck/<command>/v1`: the `schema` value of `command`'s JSON.
pub fn schema_id(command: &str) -> String {
    format!("seccheck/{command}/v{SCHEMA_VERSION}")
}

/// The document: `schema` first, then the command's fields (`body` must
/// serialize as a map).
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema: String,
    #[serde(flatten)]
    body: &'a T,
}

/// Write `body` as `command`'s JSON document, pretty-printed, with its `schema`.
pub fn write_json(out: &mut dyn Write, command: &str, body: &impl Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, &Envelope { schema: schema_id(command), body })
        .map_err(|e| CliError::Output(e.into()))?;
    writeln!(out)?;
    Ok(())
}

pub use crate::finding::confirm::{Examples, KernelCheck};

/// What a generator made of a profile: which generator, for which arches,
/// how the loader installs it, and what it did that the profile does not say.
/// `null` in JSON for a compiled filter.
#[derive(Clone, Debug, Serialize)]
pub struct Generated {
    /// Which filter of the input (`profile`, a seccompiler thread category, a Kubernetes profile name).
    pub label: String,
    pub generator: String,
    pub arches: Vec<&'static str>,
    pub load_flags: Vec<&'static str>,
    pub notes: Vec<GeneratorNote>,
}

/// One thing the generator did silently.
#[derive(Clone, Debug, Serialize)]
pub struct GeneratorNote {
    /// Where in the profile (JSON path), e.g. `syscalls[1].names[0]`.
    pub path: String,
    pub kind: &'static str,
    pub message: String,
}

/// The stable JSON name of a note kind.
pub fn note_kind(k: NoteKind) -> &'static str {
    match k {
        NoteKind::UnknownKey => "unknown_key",
        NoteKind::RuleNotApplied => "rule_not_applied",
        NoteKind::RuleDropped => "rule_dropped",
        NoteKind::UnknownSyscall => "unknown_syscall",
        NoteKind::SlowGenerator => "slow_generator",
        NoteKind::NoSyscallOnArch => "no_syscall_on_arch",
        NoteKind::SkippedDocument => "skipped_document",
    }
}

impl Generated {
    pub fn of(c: &CompiledFilter) -> Generated {
        Generated {
            label: c.label.clone(),
            generator: c.generator.clone(),
            arches: c.arches.iter().map(|a| a.name()).collect(),
            load_flags: c.load_flags.clone(),
            notes: c
                .notes
                .iter()
                .map(|n| GeneratorNote { path: n.path.clone(), kind: note_kind(n.kind), message: n.message.clone() })
                .collect(),
        }
    }

    pub fn of_option(c: &Option<CompiledFilter>) -> Option<Generated> {
        c.as_ref().map(Generated::of)
    }

    /// `compiled by GENERATOR for ARCHES` (as [`super::made_by`]).
    pub fn made_by(&self) -> String {
        format!("compiled by {} for {}", self.generator, self.arches.join(", "))
    }
}

/// The `seccomp_data` an evaluation ran on, with the names seccheck knows for it.
#[derive(Clone, Debug, Serialize)]
pub struct InputView {
    /// The AUDIT_ARCH value.
    pub arch: u32,
    /// Its name (x32 told apart by nr), or null for a value no arch has.
    pub arch_name: Option<&'static str>,
    pub nr: u32,
    /// The syscall's name on that arch, or null.
    pub syscall: Option<&'static str>,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl InputView {
    pub fn of(d: &SeccompData) -> InputView {
        let arch = Arch::from_audit(d.arch, d.nr);
        InputView {
            arch: d.arch,
            arch_name: arch.map(|a| a.name()),
            nr: d.nr,
            syscall: arch.and_then(|a| a.syscall_name(d.nr)),
            instruction_pointer: d.instruction_pointer,
            args: d.args,
        }
    }
}
