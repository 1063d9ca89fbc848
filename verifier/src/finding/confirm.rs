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
/// whether the kernel could be asked). Returns how many it was asked about.
#[cfg(test)]
pub(crate) fn assert_kernel_agrees(stack: &[Program], findings: &[super::Finding]) -> usize {
    let mut copies: Vec<Counterexample> = findings.iter().filter_map(|f| f.counterexample.clone()).collect();
    if copies.is_empty() {
        return 0;
    }
    if let Err(e) = crate::kernel::health::check() {
        eprintln!("KERNEL UNAVAILABLE, counterexamples not confirmed: {e}");
        return 0;
    }
    match confirm(stack, copies.iter_mut()) {
        Ok(c) => {
            let bad: Vec<&Counterexample> = copies.iter().filter(|c| c.kernel_confirmed == Some(false)).collect();
            assert!(bad.is_empty(), "the kernel disagrees with: {bad:#?}");
            c.asked
        }
        Err(OracleError::Unsupported) => 0,
        Err(e) => panic!("the kernel oracle failed: {e}"),
    }
}
