//! The kernel's word on every counterexample seccheck prints.
//!
//! A finding says "this input gets this action"; [`confirm`] issues that very
//! system call under the same filter stack through the oracle ([`crate::kernel::Prober`],
//! which never lets the call run) and records in
//! [`Counterexample::kernel_confirmed`] whether the kernel took the action the
//! emulator predicted. Only inputs this machine can issue are asked: the
//! x86-64, x32 and i386 ABIs. A counterexample on another arch, or one whose
//! action depends on an instruction pointer the probe cannot reproduce (the
//! kernel reports the probe site's address, not the example's), stays `None`,
//! and the [`Confirmation`] counts it as not askable, so nothing is claimed that
//! was not asked.
//!
//! No code here is `unsafe`: the oracle does the kernel work.

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::Program;
use crate::emu::{run_stack, Emulator};
use crate::kernel::{Abi, KernelAction, OracleError, OracleInput};
use crate::seccomp::{filters_bypassed, Action, SECCOMP_RET_TRACE};
use serde::Serialize;

use super::Counterexample;

/// What asking the kernel came to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    /// Counterexamples the kernel was asked about.
    pub asked: usize,
    /// Of those, how many it carried out as predicted.
    pub agreed: usize,
    /// Counterexamples on arches this machine cannot issue, or that need an
    /// instruction pointer the probe cannot have.
    pub not_askable: usize,
}

impl Confirmation {
    /// Did the kernel contradict any prediction?
    pub fn disagreements(&self) -> usize {
        self.asked - self.agreed
    }
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
                    line += &format!("; {} {NOT_ASKABLE}", self.not_askable);
                }
                line
            }
        })
    }
}

/// Why a counterexample was not put to the kernel, for the closing `kernel:` line.
pub const NOT_ASKABLE: &str = "not askable here (an arch or instruction pointer this machine cannot issue)";

/// Ask the kernel about `examples` under `stack` (unless `skip`) with
/// [`confirm`], and say what became of it. The oracle being unavailable (not
/// Linux x86-64, no privileges, a kernel that cannot load filters) is said,
/// not an error: the findings stand on the exact analysis.
pub fn ask<'a>(stack: &[Program], examples: Vec<&'a mut Counterexample>, skip: bool) -> KernelCheck {
    let n = examples.len();
    summarise(n, skip, || confirm(stack, examples))
}

/// What became of asking the kernel about `examples` examples with `ask`
/// (not called when there are none, or with `skip`): the one summary `check`,
/// `lint`, `diff` and `report` give.
pub fn summarise(examples: usize, skip: bool, ask: impl FnOnce() -> Result<Confirmation, OracleError>) -> KernelCheck {
    if examples == 0 {
        return KernelCheck::none();
    }
    if skip {
        return KernelCheck::skipped(examples);
    }
    match ask() {
        Ok(c) => KernelCheck::asked(examples, c.asked, c.agreed),
        Err(e) => KernelCheck::unavailable(examples, e.to_string()),
    }
}

/// The oracle input for a counterexample's arch and number, if this machine
/// can issue it.
fn oracle_input(c: &Counterexample) -> Option<OracleInput> {
    let d = &c.input;
    let (abi, nr) = match Arch::from_audit(d.arch, d.nr)? {
        Arch::X86_64 => (Abi::X86_64, d.nr),
        Arch::X32 => (Abi::X32, d.nr & !X32_SYSCALL_BIT),
        Arch::I386 => (Abi::I386, d.nr),
        _ => return None,
    };
    Some(OracleInput::new(abi, nr, d.args))
}

/// Ask the kernel about each of `examples` under `stack` (installation order,
/// oldest first) and set their `kernel_confirmed`. Each counterexample's
/// `action` must be the stack's effective action for its input (what
/// [`crate::emu::run_stack`] computes).
pub fn confirm<'a>(
    stack: &[Program],
    examples: impl IntoIterator<Item = &'a mut Counterexample>,
) -> Result<Confirmation, OracleError> {
    let emus: Vec<Emulator> = stack
        .iter()
        .map(|p| crate::bpf::validate(p).map(|v| Emulator::new(&v)))
        .collect::<Result<_, _>>()
        .map_err(|v| OracleError::Unexpected(format!("a filter of the stack is invalid: {v:?}")))?;
    let mut todo: Vec<(&'a mut Counterexample, OracleInput)> = Vec::new();
    let mut sum = Confirmation::default();
    for c in examples {
        match oracle_input(c) {
            Some(i) => todo.push((c, i)),
            None => sum.not_askable += 1,
        }
    }
    if todo.is_empty() {
        return Ok(sum);
    }
    let mut prober = new_prober(stack)?;
    for (c, input) in todo {
        let out = prober.probe(&input)?;
        let model = Action::from_ret(run_stack(&emus, &out.data));
        // The probe's instruction pointer is the probe site: if the stack's
        // answer changes with it, this input cannot be reproduced here.
        if model != c.action {
            sum.not_askable += 1;
            continue;
        }
        let agrees = if filters_bypassed(&out.data) {
            // No filter runs; the call runs, which only an action above
            // TRACE would also allow.
            out.action == KernelAction::Bypassed && model.precedence() > SECCOMP_RET_TRACE as i32
        } else {
            out.action.agrees_with(model)
        };
        c.kernel_confirmed = Some(agrees);
        sum.asked += 1;
        sum.agreed += agrees as usize;
    }
    Ok(sum)
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn new_prober(stack: &[Program]) -> Result<crate::kernel::Prober, OracleError> {
    crate::kernel::Prober::new(stack)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn new_prober(_: &[Program]) -> Result<Never, OracleError> {
    Err(OracleError::Unsupported)
}

/// Stand-in prober type where there is no oracle; never constructed.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
enum Never {}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
impl Never {
    fn probe(&mut self, _: &OracleInput) -> Result<crate::kernel::KernelOutcome, OracleError> {
        match *self {}
    }
}

/// For unit tests that print findings: the kernel must take every
/// counterexample's action (on a copy, so printed snapshots do not depend on
/// whether the kernel could be asked). Returns how many it was asked about;
/// a kernel that cannot be asked is a recorded skip (`testgen::skip`), never
/// a silent pass.
#[cfg(test)]
pub(crate) fn assert_kernel_agrees(stack: &[Program], findings: &[super::Finding]) -> usize {
    let mut copies: Vec<Counterexample> = findings.iter().filter_map(|f| f.counterexample.clone()).collect();
    if copies.is_empty() {
        return 0;
    }
    use crate::testgen::skip::{skip, Need};
    if let Err(e) = crate::kernel::health::check() {
        skip(Need::Kernel, &format!("counterexamples not confirmed: {e}"));
        return 0;
    }
    match confirm(stack, copies.iter_mut()) {
        Ok(c) => {
            let bad: Vec<&Counterexample> = copies.iter().filter(|c| c.kernel_confirmed == Some(false)).collect();
            assert!(bad.is_empty(), "the kernel disagrees with: {bad:#?}");
            c.asked
        }
        Err(e @ OracleError::Unsupported) => {
            skip(Need::Kernel, &format!("counterexamples not confirmed: {e}"));
            0
        }
        Err(e) => panic!("the kernel oracle failed: {e}"),
    }
}
