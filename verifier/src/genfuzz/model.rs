//! The reference model: what a policy means per its format's documentation,
//! per ABI (syscall rules with argument conditions and actions, the default
//! and bad-arch actions), evaluated concretely ([`Model::expected`]) and as
//! exact input sets in the compiled program's own BDD manager ([`Model::sets`]).

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::seccomp::{Action, SeccompData};
use crate::symbolic::vars::Field;
use crate::symbolic::{Analysis, InputSet};
use std::collections::BTreeMap;

/// A comparison of one argument with constants, as the reference evaluates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Ge(u64),
    Gt(u64),
    /// `(arg & mask) == value`, `value` as given (a generator whose documentation
    /// says the value is masked first passes it masked).
    MaskedEq {
        mask: u64,
        value: u64,
    },
}

/// One argument condition of a reference rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    /// Argument index, 0..=5.
    pub arg: u8,
    /// Compare all 64 bits; otherwise the low 32 bits of the argument with the
    /// low 32 bits of every constant (libseccomp on 32-bit ABIs, seccompiler `dword`).
    pub wide: bool,
    pub op: CmpOp,
}

impl Cond {
    /// Does the condition hold for `args`?
    pub fn holds(&self, args: &[u64; 6]) -> bool {
        let m = if self.wide { u64::MAX } else { u64::from(u32::MAX) };
        let a = args[self.arg as usize] & m;
        match self.op {
            CmpOp::Eq(v) => a == v & m,
            CmpOp::Ne(v) => a != v & m,
            CmpOp::Lt(v) => a < v & m,
            CmpOp::Le(v) => a <= v & m,
            CmpOp::Ge(v) => a >= v & m,
            CmpOp::Gt(v) => a > v & m,
            CmpOp::MaskedEq { mask, value } => a & mask == value & m,
        }
    }

    /// The inputs where the condition holds, in `an`'s manager.
    pub fn set(&self, an: &mut Analysis) -> InputSet {
        let f = Field::Arg(self.arg);
        let m = if self.wide { u64::MAX } else { u64::from(u32::MAX) };
        match self.op {
            CmpOp::Eq(v) => an.field_masked_eq(f, m, v & m),
            CmpOp::Ne(v) => {
                let eq = an.field_masked_eq(f, m, v & m);
                an.not(eq)
            }
            CmpOp::Lt(v) if v & m == 0 => an.none(),
            CmpOp::Lt(v) => an.field_masked_range(f, m, 0, (v & m) - 1),
            CmpOp::Le(v) => an.field_masked_range(f, m, 0, v & m),
            CmpOp::Ge(v) => an.field_masked_range(f, m, v & m, m),
            CmpOp::Gt(v) if v & m == m => an.none(),
            CmpOp::Gt(v) => an.field_masked_range(f, m, (v & m) + 1, m),
            CmpOp::MaskedEq { mask, value } => an.field_masked_eq(f, mask & m, value & m),
        }
    }
}

/// One rule of the reference: this syscall number, when every condition holds
/// (none: always), takes `action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefRule {
    pub nr: u32,
    pub action: Action,
    pub conds: Vec<Cond>,
}

/// The rules of one ABI the filter is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbiModel {
    pub abi: Arch,
    pub default: Action,
    pub rules: Vec<RefRule>,
}

/// What a policy means, per its format's documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub abis: Vec<AbiModel>,
    /// The action for an arch (ABI) the filter is not for.
    pub bad_arch: Action,
    /// `AUDIT_ARCH_X86_64` is two ABIs told apart by `nr >= __X32_SYSCALL_BIT`
    /// (libseccomp, gen_bpf.c `_gen_bpf_arch`); otherwise one ABI per arch value
    /// (seccompiler checks the arch value only).
    pub x32_separate: bool,
}

/// What the reference says for one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Action(Action),
    /// Two rules with different actions match; the documentation does not say
    /// which wins.
    Unspecified,
    /// Not a syscall (`nr >= 2^31`).
    OutOfDomain,
}

const NEGATIVE_NR: u64 = 0x8000_0000;

impl Model {
    fn abi_of(&self, d: &SeccompData) -> Option<&AbiModel> {
        let want = if self.x32_separate && d.arch == Arch::X86_64.audit_arch() {
            Some(if d.nr >= X32_SYSCALL_BIT { Arch::X32 } else { Arch::X86_64 })
        } else {
            None
        };
        self.abis.iter().find(|a| match want {
            Some(w) => a.abi == w,
            None => a.abi.audit_arch() == d.arch,
        })
    }

    /// The reference answer for `d`.
    pub fn expected(&self, d: &SeccompData) -> Expect {
        if u64::from(d.nr) >= NEGATIVE_NR {
            return Expect::OutOfDomain;
        }
        let Some(abi) = self.abi_of(d) else { return Expect::Action(self.bad_arch) };
        let mut matched: Vec<Action> = abi
            .rules
            .iter()
            .filter(|r| r.nr == d.nr && r.conds.iter().all(|c| c.holds(&d.args)))
            .map(|r| r.action)
            .collect();
        matched.sort();
        matched.dedup();
        match matched[..] {
            [] => Expect::Action(abi.default),
            [a] => Expect::Action(a),
            _ => Expect::Unspecified,
        }
    }

    fn abi_set(&self, an: &mut Analysis, abi: Arch) -> InputSet {
        if self.x32_separate && matches!(abi, Arch::X86_64 | Arch::X32) {
            // Within the domain (nr < 2^31), `nr & X32_SYSCALL_BIT` is `nr >= X32_SYSCALL_BIT`.
            an.arch(abi)
        } else {
            an.field_eq(Field::Arch, u64::from(abi.audit_arch()))
        }
    }

    /// The reference as exact input sets in `an`'s manager.
    pub fn sets(&self, an: &mut Analysis) -> RefSets {
        let mut expected: BTreeMap<Action, InputSet> = BTreeMap::new();
        let mut add = |an: &mut Analysis, a: Action, s: InputSet| {
            let cur = expected.get(&a).copied().unwrap_or(an.none());
            let u = an.or(cur, s);
            expected.insert(a, u);
        };
        let mut unspecified = an.none();
        let mut covered = an.none();
        for abi in &self.abis {
            let abi_set = self.abi_set(an, abi.abi);
            covered = an.or(covered, abi_set);
            let mut by_nr: BTreeMap<u32, Vec<&RefRule>> = BTreeMap::new();
            for r in &abi.rules {
                by_nr.entry(r.nr).or_default().push(r);
            }
            let mut ruled = an.none();
            for (nr, rules) in by_nr {
                let nr_eq = an.field_eq(Field::Nr, u64::from(nr));
                let nr_set = an.and(abi_set, nr_eq);
                ruled = an.or(ruled, nr_set);
                let mut per_action: BTreeMap<Action, InputSet> = BTreeMap::new();
                for r in rules {
                    let mut s = nr_set;
                    for c in &r.conds {
                        let cs = c.set(an);
                        s = an.and(s, cs);
                    }
                    let cur = per_action.get(&r.action).copied().unwrap_or(an.none());
                    let u = an.or(cur, s);
                    per_action.insert(r.action, u);
                }
                let mut any = an.none();
                let acts: Vec<(Action, InputSet)> = per_action.into_iter().collect();
                for (i, &(a, s)) in acts.iter().enumerate() {
                    for &(_, t) in &acts[i + 1..] {
                        let both = an.and(s, t);
                        unspecified = an.or(unspecified, both);
                    }
                    any = an.or(any, s);
                    add(an, a, s);
                }
                let rest = an.diff(nr_set, any);
                add(an, abi.default, rest);
            }
            let rest = an.diff(abi_set, ruled);
            add(an, abi.default, rest);
        }
        let bad = an.not(covered);
        add(an, self.bad_arch, bad);
        let domain = an.field_masked_eq(Field::Nr, NEGATIVE_NR, 0);
        RefSets { expected, unspecified, domain }
    }

    /// Every syscall number and argument constant the model mentions, to aim
    /// sampled inputs at.
    pub(crate) fn constants(&self) -> (Vec<u32>, Vec<u64>) {
        let mut nrs = Vec::new();
        let mut ks = Vec::new();
        for abi in &self.abis {
            for r in &abi.rules {
                nrs.push(r.nr);
                for c in &r.conds {
                    match c.op {
                        CmpOp::Eq(v) | CmpOp::Ne(v) | CmpOp::Lt(v) | CmpOp::Le(v) | CmpOp::Ge(v) | CmpOp::Gt(v) => {
                            ks.push(v)
                        }
                        CmpOp::MaskedEq { mask, value } => ks.extend([mask, value, value | !mask]),
                    }
                }
            }
        }
        nrs.sort_unstable();
        nrs.dedup();
        ks.sort_unstable();
        ks.dedup();
        (nrs, ks)
    }
}

/// The reference as sets: per action the inputs that must get it, the inputs
/// left open by the documentation, and the domain compared.
pub struct RefSets {
    pub expected: BTreeMap<Action, InputSet>,
    pub unspecified: InputSet,
    pub domain: InputSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(nr: u32, arch: Arch, args: [u64; 6]) -> SeccompData {
        SeccompData { nr, arch: arch.audit_arch(), instruction_pointer: 0, args }
    }

    #[test]
    fn narrow_conditions_compare_low_halves_only() {
        let c = Cond { arg: 1, wide: false, op: CmpOp::Eq(0x1_0000_0005) };
        assert!(c.holds(&[0, 5, 0, 0, 0, 0]));
        assert!(c.holds(&[0, 0xdead_0000_0005, 0, 0, 0, 0]));
        assert!(!c.holds(&[0, 6, 0, 0, 0, 0]));
        let w = Cond { wide: true, ..c };
        assert!(!w.holds(&[0, 5, 0, 0, 0, 0]));
        assert!(w.holds(&[0, 0x1_0000_0005, 0, 0, 0, 0]));
        let m = Cond { arg: 0, wide: true, op: CmpOp::MaskedEq { mask: 0xff, value: 0x107 } };
        assert!(!m.holds(&[0x107, 0, 0, 0, 0, 0]), "value outside the mask never matches");
    }

    #[test]
    fn overlapping_rules_with_different_actions_are_unspecified() {
        let model = Model {
            abis: vec![AbiModel {
                abi: Arch::X86_64,
                default: Action::Allow,
                rules: vec![
                    RefRule {
                        nr: 0,
                        action: Action::Errno(1),
                        conds: vec![Cond { arg: 0, wide: true, op: CmpOp::Gt(5) }],
                    },
                    RefRule {
                        nr: 0,
                        action: Action::Trap(0),
                        conds: vec![Cond { arg: 1, wide: true, op: CmpOp::Lt(5) }],
                    },
                ],
            }],
            bad_arch: Action::KillThread,
            x32_separate: true,
        };
        assert_eq!(model.expected(&data(0, Arch::X86_64, [6, 9, 0, 0, 0, 0])), Expect::Action(Action::Errno(1)));
        assert_eq!(model.expected(&data(0, Arch::X86_64, [6, 1, 0, 0, 0, 0])), Expect::Unspecified);
        assert_eq!(model.expected(&data(0, Arch::X86_64, [1, 9, 0, 0, 0, 0])), Expect::Action(Action::Allow));
        assert_eq!(model.expected(&data(0x4000_0000, Arch::X86_64, [0; 6])), Expect::Action(Action::KillThread));
        assert_eq!(model.expected(&data(0xffff_ffff, Arch::X86_64, [0; 6])), Expect::OutOfDomain);
        assert_eq!(model.expected(&data(0, Arch::Aarch64, [0; 6])), Expect::Action(Action::KillThread));
    }
}
