//! Findings: what every checker (policy properties, lints, diffs, the stack
//! length check) returns, and the concrete input that shows each one.
//!
//! The model sits below every checker and every renderer: `policy`, `lints`,
//! `diff` and `record` build [`Finding`]s, `report` and the CLI render them.
//! [`confirm`] asks the running kernel about each [`Counterexample`].

pub mod confirm;
pub mod group;

use crate::arch::Arch;
use crate::emu::Emulator;
use crate::seccomp::{Action, SeccompData};
use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a check.
    Note,
    /// Probably a mistake.
    Warning,
    /// A stated property fails, or the filter can be bypassed.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One concrete input that shows a finding, with what the filter does with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// The arch the input belongs to, if it is a known one (x32 is told apart by nr).
    pub arch: Option<Arch>,
    /// The syscall's name on that arch, if it has one.
    pub syscall: Option<&'static str>,
    pub input: SeccompData,
    /// What the filter (or the stack) does with `input`.
    #[serde(flatten)]
    pub action: Action,
    /// Instructions executed, in order (for a stack: of the filter that decided).
    pub path: Vec<usize>,
    /// Whether the running kernel was asked and agreed (`None`: not asked).
    pub kernel_confirmed: Option<bool>,
}

impl Counterexample {
    /// Build one by running `input` through the emulator (the reference semantics).
    pub fn from_input(emu: &Emulator, input: SeccompData) -> Counterexample {
        let out = emu.trace(&input);
        let arch = Arch::from_audit(input.arch, input.nr);
        Counterexample {
            arch,
            syscall: arch.and_then(|a| a.syscall_name(input.nr)),
            input,
            action: out.action,
            path: out.path,
            kernel_confirmed: None,
        }
    }
}

impl Counterexample {
    /// One for a stack of filters: the stack's effective action for `input`,
    /// with the path of the filter that decided it (none when no filter ranked
    /// below ALLOW).
    pub fn from_stack_run(input: SeccompData, run: &crate::stack::StackRun) -> Counterexample {
        let arch = Arch::from_audit(input.arch, input.nr);
        let decided = run.decided_by.or(if run.filters.len() == 1 { Some(0) } else { None });
        Counterexample {
            arch,
            syscall: arch.and_then(|a| a.syscall_name(input.nr)),
            input,
            action: run.action,
            path: decided.map(|i| run.filters[i].path.clone()).unwrap_or_default(),
            kernel_confirmed: None,
        }
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.input;
        match self.arch {
            Some(a) => write!(f, "{a} ")?,
            None => write!(f, "arch {:#x} ", d.arch)?,
        }
        match self.syscall {
            Some(s) => write!(f, "{s}(")?,
            None => write!(f, "syscall {}(", d.nr)?,
        }
        let args: Vec<String> = d.args.iter().map(|a| format!("{a:#x}")).collect();
        write!(f, "{}) ip={:#x} -> {}", args.join(", "), d.instruction_pointer, self.action)?;
        if !self.path.is_empty() {
            let p: Vec<String> = self.path.iter().map(|i| i.to_string()).collect();
            write!(f, " via insns {}", p.join(" "))?;
        }
        match self.kernel_confirmed {
            Some(true) => write!(f, " [kernel agrees]"),
            Some(false) => write!(f, " [KERNEL DISAGREES]"),
            None => Ok(()),
        }
    }
}

/// A problem found in a filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code: `SC001`… for lints, `P001`… for policy properties, `D001`… for diffs, `S001` for a stack the kernel would not install (`cli/path_length.rs`).
    pub code: &'static str,
    /// Stable kebab-case name (`x32-not-blocked`).
    pub name: &'static str,
    pub severity: Severity,
    /// One sentence a user can act on.
    pub message: String,
    /// Instructions involved.
    pub insns: Vec<usize>,
    /// Line in the policy file, for property findings.
    pub policy_line: Option<usize>,
    /// A concrete input showing it, where one exists.
    pub counterexample: Option<Counterexample>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{} {}]: {}", self.severity, self.code, self.name, self.message)?;
        if let Some(l) = self.policy_line {
            write!(f, "\n  policy line {l}")?;
        }
        if !self.insns.is_empty() {
            let i: Vec<String> = self.insns.iter().map(|i| i.to_string()).collect();
            write!(f, "\n  instructions: {}", i.join(", "))?;
        }
        if let Some(c) = &self.counterexample {
            write!(f, "\n  example: {c}")?;
        }
        Ok(())
    }
}

/// Exit code for a set of findings: 1 if any is a warning or an error, else 0.
pub fn fails(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity >= Severity::Warning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use crate::bpf::validate;

    #[test]
    fn counterexample_reads_well() {
        let p = validate(&Program::new(vec![Insn::stmt(BPF_RET | BPF_K, 0x0005_0001)])).unwrap();
        let emu = Emulator::new(&p);
        let d = SeccompData { nr: 257, arch: 0xc000_003e, instruction_pointer: 0x1000, args: [0, 1, 2, 0, 0, 0] };
        let c = Counterexample::from_input(&emu, d);
        assert_eq!(
            c.to_string(),
            "x86_64 openat(0x0, 0x1, 0x2, 0x0, 0x0, 0x0) ip=0x1000 -> ERRNO(1) EPERM via insns 0"
        );
        let f = Finding {
            code: "SC002",
            name: "x32-not-blocked",
            severity: Severity::Error,
            message: "x32 syscalls reach ALLOW".into(),
            insns: vec![0],
            policy_line: None,
            counterexample: Some(c),
        };
        assert!(f.to_string().starts_with(
            "error[SC002 x32-not-blocked]: x32 syscalls reach ALLOW\n  instructions: 0\n  example: x86_64 openat"
        ));
        assert!(fails(&[f]));
    }
}
