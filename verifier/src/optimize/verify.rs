//! The running kernel's word on an optimised filter: its validator accepts
//! it, and on sampled system calls it takes the same action under the
//! optimised filter as under the input (and the action the emulator
//! predicts for the `seccomp_data` the kernel built).
//!
//! The samples: every syscall number of the x86-64, x32 and i386 ABIs up to
//! the cache geometry's table sizes (x32: 0..548), and, for every number whose
//! action depends on the arguments, the smallest and the largest input of
//! each action's region on that number (`Analysis::example`,
//! `Analysis::example_max`): the boundaries of every argument condition. The
//! instruction pointer is the probe site's, the same for both filters.

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::ValidProgram;
use crate::cost::{path_bounds, CacheGeometry};
use crate::emu::Emulator;
use crate::kernel::{self, Abi, OracleError, OracleInput};
use crate::seccomp::Action;
use crate::symbolic::{self, vars::Field};
use serde::Serialize;

/// What the kernel said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelCheck {
    /// The kernel's validator accepted the optimised program.
    pub accepted: bool,
    /// System calls probed under each filter.
    pub probed: usize,
    /// Of those, the ones whose action depends on the arguments.
    pub argument_samples: usize,
    /// Inputs where the two filters' actions, or the kernel and the
    /// emulator, differ (one line each).
    pub disagreements: Vec<String>,
}

impl KernelCheck {
    pub fn passed(&self) -> bool {
        self.accepted && self.disagreements.is_empty()
    }
}

/// x32 numbers probed (the x86_64 table's x32 range ends at 547).
const X32_ROWS: u32 = 548;

/// Ask the running kernel about `output` against `input`.
pub fn kernel_check(
    input: &ValidProgram,
    output: &ValidProgram,
    geometry: CacheGeometry,
    opts: &symbolic::Options,
) -> Result<KernelCheck, OracleError> {
    kernel::health::check()?;
    let accepted = kernel::accepts(output.program())?.is_accepted();
    if !accepted {
        return Ok(KernelCheck { accepted, probed: 0, argument_samples: 0, disagreements: Vec::new() });
    }
    let rows: Vec<(Abi, Arch, u32)> = (0..geometry.native.nr_syscalls)
        .map(|nr| (Abi::X86_64, Arch::X86_64, nr))
        .chain((0..X32_ROWS).map(|nr| (Abi::X32, Arch::X32, nr)))
        .chain((0..geometry.compat.map_or(0, |c| c.nr_syscalls)).map(|nr| (Abi::I386, Arch::I386, nr)))
        .collect();
    let mut an = symbolic::analyze(output, opts).map_err(|e| OracleError::Unexpected(e.to_string()))?;
    let actions = an.by_action();
    let mut inputs: Vec<OracleInput> = Vec::new();
    let mut argument_samples = 0;
    for &(abi, arch, nr) in &rows {
        let raw = if arch == Arch::X32 { nr | X32_SYSCALL_BIT } else { nr };
        inputs.push(OracleInput::new(abi, nr, [0; 6]));
        let b = path_bounds(output, arch.audit_arch(), raw).map_err(|e| OracleError::Unexpected(e.to_string()))?;
        if !(b.reads_args || b.reads_ip) {
            continue;
        }
        let a = an.arch(arch);
        let n = an.field_eq(Field::Nr, raw as u64);
        let row = an.and(a, n);
        for &(_, s) in &actions {
            let region = an.and(row, s);
            for d in [an.example(region), an.example_max(region)].into_iter().flatten() {
                inputs.push(OracleInput::new(abi, nr, d.args));
                argument_samples += 1;
            }
        }
    }
    let before = probe(input, &inputs)?;
    let after = probe(output, &inputs)?;
    let emu = Emulator::new(output);
    let mut disagreements = Vec::new();
    for ((i, x), y) in inputs.iter().zip(&before).zip(&after) {
        let model = Action::from_ret(emu.run(&y.data));
        if x.action != y.action || !y.action.agrees_with(model) {
            disagreements.push(format!(
                "{:?} nr {} args {:x?}: input {} , optimised {} (emulator: {model})",
                i.abi,
                i.nr,
                i.args,
                x.action.name(),
                y.action.name()
            ));
        }
    }
    Ok(KernelCheck { accepted, probed: inputs.len(), argument_samples, disagreements })
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn probe(p: &ValidProgram, inputs: &[OracleInput]) -> Result<Vec<kernel::KernelOutcome>, OracleError> {
    kernel::Prober::new(&[p.program().clone()])?.probe_all(inputs)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn probe(_: &ValidProgram, _: &[OracleInput]) -> Result<Vec<kernel::KernelOutcome>, OracleError> {
    Err(OracleError::Unsupported)
}
