//! The comparison of a compiled program with its [`Model`]: on sampled
//! inputs through the emulator first (a disagreement there is a concrete
//! counterexample, found without building a decision diagram), then exactly
//! (the symbolic set of inputs whose action differs must be empty), so
//! agreement is always proven. Every counterexample is re-checked with the
//! emulator and the concrete model, and a shown one with the exact
//! comparison too ([`confirm`]), so a disagreement between seccheck's own
//! judges is a [`SelfCheckError`], never a generator finding.

use super::model::{Expect, Model};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::validate::ValidProgram;
use crate::emu::Emulator;
use crate::seccomp::{Action, SeccompData};
use crate::symbolic;
use rand::{Rng, RngCore};

/// How a divergence was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judge {
    /// The exact comparison: the set of inputs whose action differs is not empty.
    Symbolic,
    /// A sampled input run through the emulator.
    Sampled,
}

/// An input where the compiled filter and the policy's documented meaning differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub input: SeccompData,
    pub expected: Action,
    pub actual: Action,
    pub judge: Judge,
}

/// seccheck's own judges disagreed, or could not answer: a bug or limit of
/// seccheck, never reported as a generator finding.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelfCheckError {
    #[error("symbolic evaluation failed: {0}")]
    Symbolic(#[from] symbolic::SymbolicError),
    #[error("the BDD node budget ran out while building the reference sets")]
    Exhausted,
    #[error("symbolic exit says {symbolic:?} but the emulator says {emulator:?} for {input:?}")]
    EmuVsSymbolic { input: SeccompData, symbolic: Action, emulator: Action },
    #[error("the symbolic reference says {input:?} should not get {actual:?}, the concrete reference says it should")]
    ReferenceVsReference { input: SeccompData, actual: Action },
    #[error("on {input:?} the emulator gives {actual:?} where the concrete reference expects {expected:?}, but the exact comparison finds no divergence")]
    SampledNotExact { input: SeccompData, expected: Action, actual: Action },
}

/// BDD nodes one comparison may use (about 40 MiB): generated policies need
/// far less; a case that needs more is counted as too large, not guessed.
pub const GENFUZZ_NODE_LIMIT: usize = 1 << 20;

/// Compare `p` with `model`. First on `samples`, concretely: an input on
/// which the emulator (the kernel's interpreter, `emu`) and the concrete
/// reference ([`Model::expected`]) disagree is a counterexample as it stands
/// ([`Judge::Sampled`]), and the exact analysis is skipped: most diverging
/// cases are caught by the aimed samples, and building the program's decision
/// diagram is most of a comparison's time. Otherwise exactly
/// ([`compare_exact`]). `Ok(None)`: they agree on every input of the domain,
/// always decided exactly. [`confirm`] turns a sampled divergence into an
/// exact one (two judges, and the analysis' readable input) where it is shown.
pub fn compare(p: &ValidProgram, model: &Model, samples: &[SeccompData]) -> Result<Option<Divergence>, SelfCheckError> {
    let emu = Emulator::new(p);
    for d in samples {
        if let Expect::Action(expected) = model.expected(d) {
            let actual = emu.action(d);
            if expected != actual {
                return Ok(Some(Divergence { input: *d, expected, actual, judge: Judge::Sampled }));
            }
        }
    }
    compare_exact(p, model, samples)
}

/// A divergence [`compare`] found on a sample, confirmed by the exact
/// comparison: the analysis' own counterexample ([`Judge::Symbolic`], chosen
/// to read well, re-checked with the emulator and the concrete model), or a
/// [`SelfCheckError`] when the exact comparison sees none. A symbolic
/// divergence is returned as it is.
pub fn confirm(p: &ValidProgram, model: &Model, found: Divergence) -> Result<Divergence, SelfCheckError> {
    if found.judge == Judge::Symbolic {
        return Ok(found);
    }
    compare_exact(p, model, &[])?.ok_or(SelfCheckError::SampledNotExact {
        input: found.input,
        expected: found.expected,
        actual: found.actual,
    })
}

/// Compare `p` with `model` exactly, then on `samples` (each also checked
/// against the symbolic exits). `Ok(None)`: they agree on every input of the domain.
pub fn compare_exact(
    p: &ValidProgram,
    model: &Model,
    samples: &[SeccompData],
) -> Result<Option<Divergence>, SelfCheckError> {
    let emu = Emulator::new(p);
    let opts = symbolic::Options { node_limit: GENFUZZ_NODE_LIMIT, ..Default::default() };
    let mut an = symbolic::analyze(p, &opts)?;
    let refs = model.sets(&mut an);
    if an.exhausted() {
        return Err(SelfCheckError::Exhausted);
    }
    let open = an.not(refs.unspecified);
    let compared = an.and(refs.domain, open);
    let mut first: Option<Divergence> = None;
    for (action, inputs) in an.by_action() {
        let want = refs.expected.get(&action).copied().unwrap_or(an.none());
        let inside = an.and(inputs, compared);
        let wrong = an.diff(inside, want);
        if an.is_empty(wrong) {
            continue;
        }
        let d = an.example(wrong).expect("non-empty set has an example");
        let got = emu.action(&d);
        if got != action {
            return Err(SelfCheckError::EmuVsSymbolic { input: d, symbolic: action, emulator: got });
        }
        match model.expected(&d) {
            Expect::Action(e) if e != got => {
                if first.is_none() {
                    first = Some(Divergence { input: d, expected: e, actual: got, judge: Judge::Symbolic });
                }
            }
            _ => return Err(SelfCheckError::ReferenceVsReference { input: d, actual: got }),
        }
    }
    if an.exhausted() {
        return Err(SelfCheckError::Exhausted);
    }
    for d in samples {
        let got = emu.action(d);
        if let Some(exit) = an.exit_for(d) {
            if exit.action() != got {
                return Err(SelfCheckError::EmuVsSymbolic { input: *d, symbolic: exit.action(), emulator: got });
            }
        }
        if let Expect::Action(e) = model.expected(d) {
            if e != got {
                // The exact comparison must have seen it.
                if first.is_none() {
                    return Err(SelfCheckError::ReferenceVsReference { input: *d, actual: got });
                }
            }
        }
    }
    Ok(first)
}

/// Inputs aimed at a model: its ABIs and a few others, its syscall numbers and
/// their neighbours, arguments at and around its constants in both halves.
pub fn samples(model: &Model, seed: u64, n: usize) -> Vec<SeccompData> {
    let mut rng = super::rng(seed);
    let (nrs, ks) = model.constants();
    let mut arches: Vec<(u32, bool)> = model.abis.iter().map(|a| (a.abi.audit_arch(), a.abi == Arch::X32)).collect();
    arches.extend([
        (Arch::I386.audit_arch(), false),
        (Arch::Aarch64.audit_arch(), false),
        (0, false),
        (Arch::X86_64.audit_arch(), true),
    ]);
    let near = |rng: &mut super::SplitMix64| -> u64 {
        if ks.is_empty() || rng.gen_range(0..5) == 0 {
            return rng.next_u64();
        }
        let k = ks[rng.gen_range(0..ks.len() as u64) as usize];
        match rng.gen_range(0..7) {
            0 => k.wrapping_sub(1),
            1 => k.wrapping_add(1),
            2 => k ^ (1 << rng.gen_range(0..64)),
            3 => (k & 0xffff_ffff) | (rng.next_u64() << 32),
            4 => k & 0xffff_ffff,
            _ => k,
        }
    };
    (0..n)
        .map(|_| {
            let (arch, x32) = arches[rng.gen_range(0..arches.len() as u64) as usize];
            let mut nr = if !nrs.is_empty() && rng.gen_range(0..4) != 0 {
                nrs[rng.gen_range(0..nrs.len() as u64) as usize]
            } else {
                rng.gen_range(0..600) as u32
            };
            if x32 {
                nr |= X32_SYSCALL_BIT;
            }
            let mut args = [0u64; 6];
            for a in &mut args {
                *a = if rng.gen_range(0..6) == 0 { 0 } else { near(&mut rng) };
            }
            SeccompData { nr, arch, instruction_pointer: rng.next_u64(), args }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::validate::validate;
    use crate::genfuzz::model::{AbiModel, CmpOp, Cond, Expect, RefRule};

    #[test]
    fn symbolic_and_concrete_reference_agree_on_samples() {
        // A hand-written filter that implements the model exactly must compare clean,
        // and one with a changed constant must diverge.
        use crate::bpf::insn::*;
        let prog = |k: u32| {
            validate(&crate::bpf::Program::new(vec![
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, Arch::Aarch64.audit_arch(), 1, 0),
                Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_KILL_PROCESS),
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 63, 0, 3),
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
                Insn::jump(BPF_JMP | BPF_JGE | BPF_K, k, 0, 1),
                Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ERRNO | 13),
                Insn::stmt(BPF_RET | BPF_K, crate::seccomp::SECCOMP_RET_ALLOW),
            ]))
            .unwrap()
        };
        let model = Model {
            abis: vec![AbiModel {
                abi: Arch::Aarch64,
                default: Action::Allow,
                rules: vec![RefRule {
                    nr: 63,
                    action: Action::Errno(13),
                    conds: vec![Cond { arg: 0, wide: false, op: CmpOp::Ge(100) }],
                }],
            }],
            bad_arch: Action::KillProcess,
            x32_separate: false,
        };
        let s = samples(&model, 7, 500);
        assert_eq!(compare(&prog(100), &model, &s).unwrap(), None);
        let d = compare_exact(&prog(101), &model, &s).unwrap().expect("off by one must diverge");
        assert_eq!(d.judge, Judge::Symbolic);
        assert_eq!(d.input.args[0] & 0xffff_ffff, 100);
        assert_eq!((d.expected, d.actual), (Action::Errno(13), Action::Allow));
        // Without samples, compare is the exact comparison.
        assert_eq!(compare(&prog(101), &model, &[]).unwrap(), Some(d));
        // The samples aimed at the constant 100 catch it without the analysis,
        // on an input where the emulator and the concrete reference disagree,
        // and confirm gives the exact comparison's answer for it.
        let fast = compare(&prog(101), &model, &s).unwrap().expect("a sample at 100 diverges");
        assert_eq!(fast.judge, Judge::Sampled);
        assert_eq!(fast.input.args[0] & 0xffff_ffff, 100);
        assert_eq!(Expect::Action(fast.expected), model.expected(&fast.input));
        assert_eq!(fast.actual, Emulator::new(&prog(101)).action(&fast.input));
        assert_eq!(confirm(&prog(101), &model, fast).unwrap(), d);
        // A sampled divergence the exact comparison does not see is seccheck's
        // own error, never a finding.
        assert!(matches!(confirm(&prog(100), &model, fast), Err(SelfCheckError::SampledNotExact { .. })));
    }
}
