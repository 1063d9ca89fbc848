//! The JSON output contract every command keeps (`docs/json.md`): each
//! `--format json` document is one object whose first key is
//! `"schema": "seccheck/<command>/v1"`, and which follows the JSON Schema
//! `docs/schemas/<command>.v1.json`. The pieces several commands share —
//! what the kernel said about the examples, what a generator did, the input
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

/// Whether the running kernel was asked about the examples a command prints,
/// and what it said: one object in every JSON, one closing line in text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelCheck {
    pub status: KernelStatus,
    /// Examples the command printed (counterexamples, or diff regions' examples).
    pub examples: usize,
    /// Put to the kernel.
    pub asked: usize,
    /// Of those, carried out as predicted.
    pub agreed: usize,
    /// Of those, carried out otherwise: seccheck's model is wrong there.
    pub disagreed: usize,
    /// Not put to the kernel: an arch or instruction pointer this machine cannot issue.
    pub not_askable: usize,
    /// Why the kernel could not be asked (`status` `unavailable`), else null.
    pub reason: Option<String>,
}

/// What became of the question to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelStatus {
    /// Nothing to ask: the command printed no example.
    NoExamples,
    /// Not asked: `--no-kernel`.
    Skipped,
    /// The kernel could not be asked here (`reason` says why); the results stand
    /// on the exact analysis.
    Unavailable,
    /// Asked: the counts say what it answered.
    Asked,
}

/// How a command names its examples in the closing `kernel:` line.
#[derive(Clone, Copy, Debug)]
pub enum Examples {
    /// `check`, `lint`: the kernel took the predicted action.
    Counterexamples,
    /// `diff`: each example ran under both sides.
    DiffExamples,
}

impl KernelCheck {
    pub fn none() -> KernelCheck {
        KernelCheck {
            status: KernelStatus::NoExamples,
            examples: 0,
            asked: 0,
            agreed: 0,
            disagreed: 0,
            not_askable: 0,
            reason: None,
        }
    }

    pub fn skipped(examples: usize) -> KernelCheck {
        KernelCheck { status: KernelStatus::Skipped, examples, ..KernelCheck::none() }
    }

    pub fn unavailable(examples: usize, reason: String) -> KernelCheck {
        KernelCheck { status: KernelStatus::Unavailable, examples, reason: Some(reason), ..KernelCheck::none() }
    }

    pub fn asked(examples: usize, asked: usize, agreed: usize) -> KernelCheck {
        KernelCheck {
            status: KernelStatus::Asked,
            examples,
            asked,
            agreed,
            disagreed: asked - agreed,
            not_askable: examples - asked,
            reason: None,
        }
    }

    /// The closing `kernel: …` line of the text output (none without examples).
    pub fn line(&self, what: Examples) -> Option<String> {
        let noun = |n: usize| match what {
            Examples::Counterexamples => crate::words::noun(n, "counterexample", "counterexamples"),
            Examples::DiffExamples => crate::words::noun(n, "example", "examples"),
        };
        let n = self.examples;
        Some(match self.status {
            KernelStatus::NoExamples => return None,
            KernelStatus::Skipped => format!("kernel: not asked about the {n} {} (--no-kernel)", noun(n)),
            KernelStatus::Unavailable => {
                let r = self.reason.as_deref().unwrap_or("unavailable");
                match what {
                    Examples::Counterexamples => format!("kernel: counterexamples not confirmed ({r})"),
                    Examples::DiffExamples => format!("kernel: examples not confirmed ({r})"),
                }
            }
            KernelStatus::Asked => {
                let mut line = match what {
                    Examples::Counterexamples => format!(
                        "kernel: the running kernel took the predicted action for {} of {} {} it was asked about",
                        self.agreed,
                        self.asked,
                        noun(self.asked)
                    ),
                    Examples::DiffExamples => format!(
                        "kernel: the running kernel took both sides' actions for {} of {} {} it was asked about",
                        self.agreed,
                        self.asked,
                        noun(self.asked)
                    ),
                };
                if self.not_askable > 0 {
                    line += &format!("; {} {}", self.not_askable, super::NOT_ASKABLE);
                }
                line
            }
        })
    }
}

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
