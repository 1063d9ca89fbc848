//! The running kernel's word on an optimised filter: its validator accepts
//! it, and on sampled system calls it takes the same action under the
//! optimised filter as under the input (and the action the emulator
//! predicts for the `seccomp_data` the kernel built).
//!
//! The samples: every syscall number of the x86-64, x32 and i386 ABIs up to
//! the cache geometry's table sizes (x32: 0..548) — except that of the
//! numbers the input kills the caller on (with zero arguments) only
//! [`KILL_ROWS_PER_ABI`] per ABI are probed, evenly spread from the first to
//! the last, because each kill costs the oracle a fresh child process (a
//! thousand took minutes on this VM) — and, for every number whose
//! action depends on the arguments, the smallest and the largest input of
//! each action's region on that number (`Analysis::example`,
//! `Analysis::example_max`): the boundaries of every argument condition
//! (of those whose action kills, [`KILL_ARGUMENT_SAMPLES`] in all). The
//! instruction pointer is the probe site's, the same for both filters.

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::ValidProgram;
use crate::cost::{path_bounds, CacheGeometry};
use crate::emu::Emulator;
use crate::kernel::{self, Abi, KernelAction, OracleError, OracleInput};
use crate::seccomp::{filters_bypassed, Action, SeccompData};
use crate::symbolic::{self, vars::Field};
use serde::Serialize;

/// What the kernel did with the optimised program and its input (not
/// [`crate::finding::confirm::KernelCheck`], the confirmation of printed examples).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelTrial {
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

impl KernelTrial {
    pub fn passed(&self) -> bool {
        self.accepted && self.disagreements.is_empty()
    }
}

/// x32 numbers probed (the x86_64 table's x32 range ends at 547).
const X32_ROWS: u32 = 548;

/// Numbers probed per ABI among those the input kills the caller on.
pub const KILL_ROWS_PER_ABI: usize = 8;
/// Argument boundary inputs probed, in all, among those the optimised
/// program kills the caller on.
pub const KILL_ARGUMENT_SAMPLES: usize = 32;

/// Ask the running kernel about `output` against `input`.
pub fn kernel_check(
    input: &ValidProgram,
    output: &ValidProgram,
    geometry: CacheGeometry,
    opts: &symbolic::Options,
) -> Result<KernelTrial, OracleError> {
    kernel::health::check()?;
    let accepted = kernel::accepts(output.program())?.is_accepted();
    if !accepted {
        return Ok(KernelTrial { accepted, probed: 0, argument_samples: 0, disagreements: Vec::new() });
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
    let input_emu = Emulator::new(input);
    let kills = |arch: Arch, raw: u32| {
        let d = SeccompData { nr: raw, arch: arch.audit_arch(), ..SeccompData::default() };
        matches!(Action::from_ret(input_emu.run(&d)).effective(), Action::KillProcess | Action::KillThread)
    };
    let mut kill_rows: Vec<(Abi, u32)> = Vec::new();
    let mut kill_args: Vec<OracleInput> = Vec::new();
    for &(abi, arch, nr) in &rows {
        let raw = if arch == Arch::X32 { nr | X32_SYSCALL_BIT } else { nr };
        if kills(arch, raw) {
            kill_rows.push((abi, nr));
        } else {
            inputs.push(OracleInput::new(abi, nr, [0; 6]));
        }
        let b = path_bounds(output, arch.audit_arch(), raw).map_err(|e| OracleError::Unexpected(e.to_string()))?;
        if !(b.reads_args || b.reads_ip) {
            continue;
        }
        let a = an.arch(arch);
        let n = an.field_eq(Field::Nr, raw as u64);
        let row = an.and(a, n);
        for &(action, s) in &actions {
            let region = an.and(row, s);
            for d in [an.example(region), an.example_max(region)].into_iter().flatten() {
                if matches!(action.effective(), Action::KillProcess | Action::KillThread) {
                    kill_args.push(OracleInput::new(abi, nr, d.args));
                } else {
                    inputs.push(OracleInput::new(abi, nr, d.args));
                    argument_samples += 1;
                }
            }
        }
    }
    for abi in [Abi::X86_64, Abi::X32, Abi::I386] {
        let of: Vec<u32> = kill_rows.iter().filter(|r| r.0 == abi).map(|r| r.1).collect();
        let n = of.len().min(KILL_ROWS_PER_ABI);
        for i in 0..n {
            let at = if n == 1 { 0 } else { i * (of.len() - 1) / (n - 1) };
            inputs.push(OracleInput::new(abi, of[at], [0; 6]));
        }
    }
    let n = kill_args.len().min(KILL_ARGUMENT_SAMPLES);
    for i in 0..n {
        let at = if n == 1 { 0 } else { i * (kill_args.len() - 1) / (n - 1) };
        inputs.push(kill_args[at]);
        argument_samples += 1;
    }
    let before = probe(input, &inputs)?;
    let after = probe(output, &inputs)?;
    let emu = Emulator::new(output);
    let mut disagreements = Vec::new();
    for ((i, x), y) in inputs.iter().zip(&before).zip(&after) {
        let model = Action::from_ret(emu.run(&y.data));
        // x86-64 uretprobe/uprobe run no filter at all (`seccomp_uprobe_exception`).
        let agrees =
            if filters_bypassed(&y.data) { y.action == KernelAction::Bypassed } else { y.action.agrees_with(model) };
        if x.action != y.action || !agrees {
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
    Ok(KernelTrial { accepted, probed: inputs.len(), argument_samples, disagreements })
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn probe(p: &ValidProgram, inputs: &[OracleInput]) -> Result<Vec<kernel::KernelOutcome>, OracleError> {
    kernel::Prober::new(&[p.program().clone()])?.probe_all(inputs)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn probe(_: &ValidProgram, _: &[OracleInput]) -> Result<Vec<kernel::KernelOutcome>, OracleError> {
    Err(OracleError::Unsupported)
}
