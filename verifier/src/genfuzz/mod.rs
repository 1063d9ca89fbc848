//! Differential fuzzing of filter generators: random policies are compiled by a
//! real generator (libseccomp through runc's conversion, seccompiler) and the
//! compiled BPF is compared with the policy's meaning computed *independently of
//! the BPF* — a reference semantics written from the formats' documentation.
//!
//! Why it exists: a generator that silently compiles a policy into a filter that
//! means something else is the worst kind of seccomp bug (the profile reads
//! right, the kernel enforces another thing). Reading the generator's code does
//! not find those; comparing its output with what its documentation promises
//! does.
//!
//! How:
//! - [`libseccomp`] and [`seccompiler`] generate random policies from an
//!   [`arbitrary::Unstructured`] byte stream (so the same generator serves the
//!   stable runner, `cargo fuzz` and `seccheck fuzz-generator`), render them as
//!   the generator's JSON, and state their meaning as a [`Model`].
//! - A [`Model`] is the reference: per ABI, the syscall rules with their
//!   argument conditions and actions, the default and bad-arch actions. It is
//!   evaluated concretely ([`Model::expected`]) and as exact input sets in the
//!   compiled program's own BDD manager ([`Model::sets`]).
//! - [`compare`] looks for an input where the compiled program's action differs
//!   from the model's, exactly (the symbolic set of such inputs must be empty)
//!   and on sampled inputs through the emulator; every symbolic counterexample
//!   is re-checked with the emulator and the concrete model, so a disagreement
//!   between seccheck's own judges is reported as such, never as a generator bug.
//! - Inputs the documentation leaves open are outside the comparison, counted,
//!   never guessed: where two rules of one syscall with *different* actions
//!   both match (libseccomp documents no precedence between overlapping rules),
//!   and negative syscall numbers (`nr >= 2^31`: not syscalls; libseccomp lets
//!   `-1`, the tracer's "skip", through by design).
//! - [`shrink`] minimises a diverging policy (drop rules, names, conditions,
//!   arches; simplify actions) while it still diverges.

pub mod libseccomp;
pub mod seccompiler;

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::validate::{validate, ValidProgram};
use crate::emu::Emulator;
use crate::seccomp::{Action, SeccompData};
use crate::symbolic::vars::Field;
use crate::symbolic::{self, Analysis, InputSet};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
    fn constants(&self) -> (Vec<u32>, Vec<u64>) {
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
}

/// BDD nodes one comparison may use (about 40 MiB): generated policies need
/// far less; a case that needs more is counted as too large, not guessed.
pub const GENFUZZ_NODE_LIMIT: usize = 1 << 20;

/// Compare `p` with `model`: exactly, then on `samples` (each also checked
/// against the symbolic exits). `Ok(None)`: they agree on every input of the domain.
pub fn compare(p: &ValidProgram, model: &Model, samples: &[SeccompData]) -> Result<Option<Divergence>, SelfCheckError> {
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
    let mut rng = SplitMix(seed);
    let (nrs, ks) = model.constants();
    let mut arches: Vec<(u32, bool)> = model.abis.iter().map(|a| (a.abi.audit_arch(), a.abi == Arch::X32)).collect();
    arches.extend([
        (Arch::I386.audit_arch(), false),
        (Arch::Aarch64.audit_arch(), false),
        (0, false),
        (Arch::X86_64.audit_arch(), true),
    ]);
    let near = |rng: &mut SplitMix| -> u64 {
        if ks.is_empty() || rng.below(5) == 0 {
            return rng.next_u64();
        }
        let k = ks[rng.below(ks.len() as u64) as usize];
        match rng.below(7) {
            0 => k.wrapping_sub(1),
            1 => k.wrapping_add(1),
            2 => k ^ (1 << rng.below(64)),
            3 => (k & 0xffff_ffff) | (rng.next_u64() << 32),
            4 => k & 0xffff_ffff,
            _ => k,
        }
    };
    (0..n)
        .map(|_| {
            let (arch, x32) = arches[rng.below(arches.len() as u64) as usize];
            let mut nr = if !nrs.is_empty() && rng.below(4) != 0 {
                nrs[rng.below(nrs.len() as u64) as usize]
            } else {
                rng.below(600) as u32
            };
            if x32 {
                nr |= X32_SYSCALL_BIT;
            }
            let mut args = [0u64; 6];
            for a in &mut args {
                *a = if rng.below(6) == 0 { 0 } else { near(&mut rng) };
            }
            SeccompData { nr, arch, instruction_pointer: rng.next_u64(), args }
        })
        .collect()
}

/// A small deterministic generator (splitmix64): byte streams for
/// [`arbitrary::Unstructured`] and sampled inputs, reproducible from a seed
/// without a dependency.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-enough in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// A generated policy of one format.
pub trait Case: Clone + std::fmt::Debug {
    /// The generator's input file.
    fn json(&self) -> String;
    /// Its documented meaning.
    fn model(&self) -> Model;
    /// Simpler variants, for minimisation (each strictly smaller).
    fn shrink(&self) -> Vec<Self>;
}

/// One way of compiling a case: a generator at one setting.
pub trait Compiler<C: Case> {
    /// Short name, e.g. `libseccomp-o2`.
    fn name(&self) -> String;
    /// The generator and its version, as it describes itself.
    fn generator(&self) -> String;
    /// The compiled program (timed: [`Compiled::slow`]), the generator's
    /// refusal (not a finding), or a compilation that did not end within
    /// `limits` (a finding).
    fn compile(&self, case: &C, limits: Limits) -> Result<Compiled, NotCompiled>;
    /// How to rerun the finding's input with `seccheck emu` once the policy is saved as `file`.
    fn reproducer(&self, file: &str, d: &SeccompData) -> String;
    /// How to time this compilation of `case` with `seccheck` once the policy is saved as `file`.
    fn timing_command(&self, file: &str, case: &C) -> String;
}

/// A compilation this slow is a finding: generated policies compile in
/// milliseconds (`reports/generator-findings.md`, L5).
pub const SLOW_COMPILE: Duration = Duration::from_secs(2);

/// How long a compilation may run (generators that can hang run in a child
/// process, `kernel::isolate`; the others ignore this).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// After this long, a generator stuck in a tight loop is given up on.
    pub spin_check: Duration,
    /// After this long, it is given up on whatever it is doing.
    pub give_up: Duration,
}

/// Limits of a fuzzing run: a loop is looked for from 1 s on (L6 is met in
/// about 1 % of generated libseccomp cases, so this decides the run's rate);
/// anything else gets 20 s (ten times slow).
pub const LIMITS: Limits = Limits { spin_check: Duration::from_secs(1), give_up: Duration::from_secs(20) };

/// Limits while minimising a hang: its variants are expected to hang too,
/// and each one that does costs this much.
pub const MINIMISE_LIMITS: Limits = Limits { spin_check: Duration::from_millis(500), give_up: Duration::from_secs(5) };

/// What a generator made of a case.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub program: ValidProgram,
    /// Set when the compilation took at least [`SLOW_COMPILE`].
    pub slow: Option<Slow>,
}

/// A compilation that took at least [`SLOW_COMPILE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slow {
    /// The whole compilation, as measured around the generator.
    pub time: Duration,
    /// The known generator issue it is, when the generator says where the
    /// time went (libseccomp: in adding the rules, L5).
    pub known: Option<&'static str>,
}

impl Slow {
    /// `Some` when `time` reaches [`SLOW_COMPILE`].
    pub fn of(time: Duration, known: Option<&'static str>) -> Option<Slow> {
        (time >= SLOW_COMPILE).then_some(Slow { time, known })
    }
}

/// A compilation that did not end within its [`Limits`]; it was killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hang {
    /// How long it ran.
    pub after: Duration,
    /// Where it was spinning (`libseccomp.so.2+0x7ec7`) when it was caught
    /// in a tight loop; `None` when it was still working at
    /// [`Limits::give_up`].
    pub spinning_at: Option<String>,
    /// The known generator issue it is.
    pub known: Option<&'static str>,
}

/// Why a generator did not produce a program for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Why there is no program to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotCompiled {
    /// The generator refused the case (not a finding).
    Refused(Refusal),
    /// It did not end within its limits (a finding).
    Hung(Hang),
    /// The compiling process died (a crash in the generator, or a panic in
    /// seccheck's conversion around it): a finding.
    Died(String),
}

impl From<Refusal> for NotCompiled {
    fn from(r: Refusal) -> Self {
        NotCompiled::Refused(r)
    }
}

/// The outcome of checking one case with one compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Refused(Refusal),
    Diverges(Divergence),
    /// The program means what the policy says (or was too large to compare
    /// exactly: `too_large`), but the generator took at least
    /// [`SLOW_COMPILE`] to make it.
    Slow {
        slow: Slow,
        too_large: bool,
    },
    /// The generator did not end (see [`Hang`]).
    Hung(Hang),
    /// The compiling process died (see [`NotCompiled::Died`]).
    Died(String),
    /// The exact comparison needed more than [`GENFUZZ_NODE_LIMIT`] nodes.
    TooLarge,
}

/// Compile and compare one case within [`LIMITS`].
pub fn check<C: Case>(compiler: &dyn Compiler<C>, case: &C, sample_seed: u64) -> Result<Verdict, SelfCheckError> {
    check_within(compiler, case, sample_seed, LIMITS).map(|(v, _)| v)
}

/// Compile and compare one case; the verdict and, when there was one to
/// compare, the compiled program.
pub fn check_within<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    sample_seed: u64,
    limits: Limits,
) -> Result<(Verdict, Option<ValidProgram>), SelfCheckError> {
    let c = match compiler.compile(case, limits) {
        Ok(c) => c,
        Err(NotCompiled::Refused(r)) => return Ok((Verdict::Refused(r), None)),
        Err(NotCompiled::Hung(h)) => return Ok((Verdict::Hung(h), None)),
        Err(NotCompiled::Died(s)) => return Ok((Verdict::Died(s), None)),
    };
    let model = case.model();
    let s = samples(&model, sample_seed, 64);
    let too_large = |e: &SelfCheckError| {
        matches!(e, SelfCheckError::Exhausted | SelfCheckError::Symbolic(symbolic::SymbolicError::NodeLimit { .. }))
    };
    let verdict = match (compare(&c.program, &model, &s), c.slow) {
        (Ok(Some(d)), _) => Verdict::Diverges(d),
        (Ok(None), Some(slow)) => Verdict::Slow { slow, too_large: false },
        (Err(e), Some(slow)) if too_large(&e) => Verdict::Slow { slow, too_large: true },
        (Ok(None), None) => Verdict::Agrees,
        (Err(e), None) if too_large(&e) => Verdict::TooLarge,
        (Err(e), _) => return Err(e),
    };
    Ok((verdict, Some(c.program)))
}

/// Minimise a diverging case greedily: take the first simpler variant that
/// still diverges, until none does or `budget` runs out. Variants get
/// [`MINIMISE_LIMITS`] (one that hangs does not diverge). The minimised case,
/// its divergence and its program.
pub fn shrink<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    found: (Divergence, ValidProgram),
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, (Divergence, ValidProgram)) {
    minimise(case, found, budget, watch, |c| match check_within(compiler, c, 1, MINIMISE_LIMITS) {
        Ok((Verdict::Diverges(d), Some(p))) => Some((d, p)),
        _ => None,
    })
}

/// Minimise a slow case greedily: the first simpler variant that still takes
/// at least half as long (and at least [`SLOW_COMPILE`]) for the same known
/// reason, until none does or `budget` runs out. The margin keeps the
/// result slow on a faster or idler machine; every step costs at least
/// [`SLOW_COMPILE`].
pub fn shrink_slow<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    slow: Slow,
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, Slow) {
    let floor = (slow.time / 2).max(SLOW_COMPILE);
    // A variant that loops is given up on soon; a slow one gets its time.
    let limits = Limits { spin_check: MINIMISE_LIMITS.spin_check, give_up: LIMITS.give_up };
    minimise(case, slow, budget, watch, |c| {
        compiler.compile(c, limits).ok().and_then(|c| c.slow).filter(|s| s.known == slow.known && s.time >= floor)
    })
}

/// Minimise a hang greedily: the first simpler variant that still hangs the
/// same way (spinning or not, same known issue): a loop within
/// [`MINIMISE_LIMITS`], a hang that is not a loop within the run's own
/// [`LIMITS`] (so the result still takes that long).
pub fn shrink_hung<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    hang: Hang,
    budget: Duration,
    watch: &mut dyn FnMut(&C),
) -> (C, Hang) {
    let same = |h: &Hang, o: &Hang| h.known == o.known && h.spinning_at.is_some() == o.spinning_at.is_some();
    let limits = if hang.spinning_at.is_some() {
        MINIMISE_LIMITS
    } else {
        Limits { spin_check: MINIMISE_LIMITS.spin_check, give_up: LIMITS.give_up }
    };
    let first = hang.clone();
    minimise(case, hang, budget, watch, |c| match compiler.compile(c, limits) {
        Err(NotCompiled::Hung(h)) if same(&h, &first) => Some(h),
        _ => None,
    })
}

/// Greedy minimisation: replace `case` by its first simpler variant for which
/// `still` answers, until none does or `budget` runs out (checked before each
/// variant, so one variant's check may run past it). `watch` sees each
/// variant before it is checked.
fn minimise<C: Case, T>(
    case: &C,
    found: T,
    budget: Duration,
    watch: &mut dyn FnMut(&C),
    mut still: impl FnMut(&C) -> Option<T>,
) -> (C, T) {
    let start = Instant::now();
    let (mut best, mut what) = (case.clone(), found);
    'outer: while start.elapsed() < budget {
        for c in best.shrink() {
            if start.elapsed() >= budget {
                break 'outer;
            }
            watch(&c);
            if let Some(w) = still(&c) {
                best = c;
                what = w;
                continue 'outer;
            }
        }
        break;
    }
    (best, what)
}

/// `items` with each element left out in turn (a shrinking step).
pub(crate) fn without_each<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    (0..items.len())
        .map(|i| items.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, x)| x.clone()).collect())
        .collect()
}

/// What is wrong with a generator's output.
#[derive(Clone, Debug)]
pub enum Problem {
    /// The compiled filter does something else than the policy says for this input.
    Diverges(Divergence),
    /// The generator took at least [`SLOW_COMPILE`] to compile the policy.
    Slow(Slow),
    /// The generator did not end.
    Hung(Hang),
    /// The compiling process died.
    Died(String),
}

impl Problem {
    /// `diverges`, `slow` or `hang`: findings of different kinds never
    /// share a `--max-findings` budget.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Diverges(_) => "diverges",
            Problem::Slow(_) => "slow",
            Problem::Hung(_) => "hang",
            Problem::Died(_) => "crash",
        }
    }
}

/// A finding: a minimised policy and what is wrong with its compiled filter.
#[derive(Clone, Debug)]
pub struct Finding {
    pub compiler: String,
    pub generator: String,
    pub policy_json: String,
    pub problem: Problem,
    /// The `seccheck` command that shows it on the policy saved as
    /// `policy.json` (`emu` for a divergence, `table` timed for a slow or
    /// hanging one).
    pub reproducer: String,
    /// The known generator issue this matches, if any (see the generator modules).
    pub known: Option<&'static str>,
    /// Which case of the run (`--seed`, case index) produced it.
    pub seed: u64,
    pub case: u64,
}

impl Finding {
    /// Readable text block.
    pub fn render(&self) -> String {
        let policy = self.policy_json.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
        let known = self.known.map(|k| format!(", known issue: {k}")).unwrap_or_default();
        let what = match &self.problem {
            Problem::Diverges(d) => {
                let abi = Arch::from_audit(d.input.arch, d.input.nr);
                let name = abi.and_then(|a| a.syscall_name(d.input.nr)).unwrap_or("?");
                let args: Vec<String> = d.input.args.iter().map(|a| format!("{a:#x}")).collect();
                format!(
                    "input: arch {:#x} ({}), nr {} ({name}), args [{}]\n  expected {} (the policy's documented meaning), got {} ({:?} judge)",
                    d.input.arch,
                    abi.map(|a| a.name()).unwrap_or("unknown arch"),
                    d.input.nr,
                    args.join(", "),
                    action_text(d.expected),
                    action_text(d.actual),
                    d.judge,
                )
            }
            Problem::Slow(s) => format!("slow: compiling took {:.1} s (generated policies take milliseconds; reported from {} s)", s.time.as_secs_f64(), SLOW_COMPILE.as_secs()),
            Problem::Hung(h) => match &h.spinning_at {
                Some(at) => format!("hang: still compiling after {:.1} s, caught twice in a tight loop at {at} (a loop that does not end); killed", h.after.as_secs_f64()),
                None => format!("hang: still compiling after {:.1} s (not in a tight loop: maybe only very slow); killed", h.after.as_secs_f64()),
            },
            Problem::Died(status) => format!("crash: the compiling process {status}"),
        };
        format!(
            "finding ({}{known}): {}\n  {what}\n  reproduce: seed {} case {}; save the policy below as policy.json, then\n    {}\n  policy.json:\n{policy}\n",
            self.compiler, self.generator, self.seed, self.case, self.reproducer,
        )
    }
}

/// `ERRNO(13)`, `ALLOW`, …
pub fn action_text(a: Action) -> String {
    match a.data() {
        Some(d) => format!("{}({d})", a.name()),
        None => a.name().to_string(),
    }
}

/// A generator's cases and compilers, for the run loop.
pub struct Campaign<C: Case> {
    pub generate: fn(&mut arbitrary::Unstructured) -> arbitrary::Result<C>,
    pub compilers: Vec<Box<dyn Compiler<C>>>,
    /// The known generator issue a (minimised) divergence matches, given the case,
    /// its compiled program and the divergence.
    pub known: fn(&C, &ValidProgram, &Divergence) -> Option<&'static str>,
    /// The compilers share the stage that takes the rules in (libseccomp at
    /// two optimisation levels): when one hangs there (a known hang), the
    /// others would too, and are counted as hung without being run.
    pub shared_rule_stage: bool,
}

/// What happened to one compiler's cases in a run.
#[derive(Debug, Default, Clone)]
pub struct CompilerCounts {
    pub name: String,
    /// Compiled and compared exactly (or sampled, when too large).
    pub compared: u64,
    pub refused: u64,
    pub diverged: u64,
    /// Too large for the exact comparison (the emulator samples still ran).
    pub too_large: u64,
    /// Took at least [`SLOW_COMPILE`] (also counted as compared or too large).
    pub slow: u64,
    /// Did not end within [`LIMITS`].
    pub hung: u64,
    /// The compiling process died.
    pub died: u64,
}

/// Counters and findings of a run.
#[derive(Debug, Default)]
pub struct RunReport {
    pub cases: u64,
    pub per_compiler: Vec<CompilerCounts>,
    pub findings: Vec<Finding>,
    /// Self-check failures of seccheck itself (a bug in seccheck; printed, exit 1).
    pub self_check: Vec<String>,
    /// Every divergence, slow compilation and hang of the run (minimised or
    /// not), by compiler, kind and known issue (`None`: unexplained).
    pub by_issue: BTreeMap<(String, &'static str, Option<&'static str>), u64>,
    pub elapsed: Duration,
}

/// Bytes of randomness each case is generated from.
pub const CASE_BYTES: usize = 4096;

/// The byte stream of case `i` of a run seeded with `seed`.
pub fn case_bytes(seed: u64, i: u64) -> Vec<u8> {
    SplitMix(seed ^ i.wrapping_mul(0xa076_1d64_78bd_642f)).bytes(CASE_BYTES)
}

/// What [`run`] reports while it runs, so a caller can stream it: a run that
/// is cut short (a timeout, Ctrl-C) has already shown everything it found.
pub enum Event<'a> {
    /// About to compile case `case` (policy `json`) with `compiler` and
    /// compare it; `minimising` when it is about to be minimised (many
    /// compilations of smaller variants); `timing` is the command that times
    /// the compilation. A generator that never returns from this is itself a
    /// finding (`seccheck fuzz-generator` has a watchdog for it).
    Case { case: u64, compiler: &'a str, json: &'a str, timing: &'a str, minimising: bool },
    /// A minimised finding (also kept in the final [`RunReport`]).
    Finding(&'a Finding),
    /// A self-check failure of seccheck (also kept in the report).
    SelfCheck(&'a str),
    /// Every [`PROGRESS_EVERY`]: the counters so far (`elapsed` is up to date).
    Progress(&'a RunReport),
}

/// Unexplained problems of one kind [`run`] minimises per compiler (a known
/// classifier often recognises the minimised case); later ones are counted
/// as [`NOT_MINIMISED`].
pub const MAX_UNEXPLAINED_ATTEMPTS: usize = 10;

/// The "known issue" of an unexplained problem counted without being
/// minimised (past [`MAX_UNEXPLAINED_ATTEMPTS`], or when enough have been
/// shown).
pub const NOT_MINIMISED: &str = "(not minimised, so not classified)";

/// Where a campaign's compilers share the rule stage, a slow or hanging
/// known issue is minimised and shown once for all of them (under this key).
pub const ALL_COMPILERS: &str = "all compilers";

/// The budget [`run`] gives minimising one slow or hanging compilation (each
/// step takes [`SLOW_COMPILE`] or more), past the end of its budget if need
/// be; the last variant checked may run past it.
pub const MINIMISE_SLOW_MAX: Duration = Duration::from_secs(60);

/// How often [`run`] sends [`Event::Progress`].
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// Run a campaign for `budget`: generate cases, compile each with every
/// compiler, compare, minimise the first `max_minimised` divergences (and
/// slow compilations) per compiler and known issue. `on` sees each finding as soon as it is
/// minimised and a progress report every [`PROGRESS_EVERY`].
pub fn run<C: Case>(
    campaign: &Campaign<C>,
    budget: Duration,
    seed: u64,
    max_minimised: usize,
    on: &mut dyn FnMut(Event),
) -> RunReport {
    let start = Instant::now();
    let mut rep = RunReport {
        per_compiler: campaign
            .compilers
            .iter()
            .map(|c| CompilerCounts { name: c.name(), ..Default::default() })
            .collect(),
        ..Default::default()
    };
    let mut minimised: BTreeMap<(String, &'static str, Option<&'static str>), usize> = BTreeMap::new();
    let mut attempts: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    let mut i = 0u64;
    let mut next_progress = PROGRESS_EVERY;
    while start.elapsed() < budget {
        if start.elapsed() >= next_progress {
            rep.elapsed = start.elapsed();
            on(Event::Progress(&rep));
            next_progress += PROGRESS_EVERY;
        }
        let bytes = case_bytes(seed, i);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let Ok(case) = (campaign.generate)(&mut u) else {
            i += 1;
            continue;
        };
        rep.cases += 1;
        let json = case.json();
        let mut looped_adding_rules: Option<Hang> = None;
        for (ci, comp) in campaign.compilers.iter().enumerate() {
            let name = comp.name();
            if let Some(h) = &looped_adding_rules {
                // Same rules, same loop: counted, not run again.
                rep.per_compiler[ci].hung += 1;
                *rep.by_issue.entry((name, "hang", h.known)).or_default() += 1;
                continue;
            }
            let timing = comp.timing_command("policy.json", &case);
            on(Event::Case { case: i, compiler: &name, json: &json, timing: &timing, minimising: false });
            let counts = &mut rep.per_compiler[ci];
            let checked = check_within(comp.as_ref(), &case, i, LIMITS);
            match &checked {
                Ok((Verdict::Agrees | Verdict::Diverges(_), _)) | Ok((Verdict::Slow { too_large: false, .. }, _)) => {
                    counts.compared += 1
                }
                Ok((Verdict::TooLarge | Verdict::Slow { too_large: true, .. }, _)) => counts.too_large += 1,
                Ok((Verdict::Refused(_), _)) => counts.refused += 1,
                Ok((Verdict::Hung(_), _)) => counts.hung += 1,
                Ok((Verdict::Died(_), _)) => counts.died += 1,
                Err(_) => {}
            }
            let mut program = None;
            let (known, problem) = match checked {
                Ok((Verdict::Diverges(d), Some(p))) => {
                    counts.diverged += 1;
                    let k = (campaign.known)(&case, &p, &d);
                    program = Some(p);
                    (k, Problem::Diverges(d))
                }
                Ok((Verdict::Slow { slow, .. }, _)) => {
                    counts.slow += 1;
                    (slow.known, Problem::Slow(slow))
                }
                Ok((Verdict::Hung(h), _)) => {
                    if campaign.shared_rule_stage && h.known.is_some() && h.spinning_at.is_some() {
                        looped_adding_rules = Some(h.clone());
                    }
                    (h.known, Problem::Hung(h))
                }
                Ok((Verdict::Died(s), _)) => (None, Problem::Died(s)),
                Ok(_) => continue,
                Err(e) => {
                    rep.self_check.push(format!("seed {seed} case {i} ({name}): {e}"));
                    on(Event::SelfCheck(rep.self_check.last().expect("just pushed")));
                    continue;
                }
            };
            let kind = problem.kind();
            // A slow or hanging compilation costs seconds per minimisation
            // step: one of each known issue is shown, and where the
            // compilers share the rule stage, one for all of them.
            let slow_kind = matches!(problem, Problem::Slow(_) | Problem::Hung(_));
            let (shown_as, cap) = match (slow_kind, known.is_some()) {
                (true, true) if campaign.shared_rule_stage => (ALL_COMPILERS.to_string(), 1),
                (true, true) => (name.clone(), 1),
                _ => (name.clone(), max_minimised),
            };
            // Shown enough of this issue already, or past the attempts at
            // explaining this kind: counted as it stands.
            let shown = minimised.get(&(shown_as.clone(), kind, known)).copied().unwrap_or(0);
            let tried = attempts.entry((name.clone(), kind)).or_default();
            if shown >= cap || (known.is_none() && *tried >= MAX_UNEXPLAINED_ATTEMPTS) {
                *rep.by_issue.entry((name.clone(), kind, known.or(Some(NOT_MINIMISED)))).or_default() += 1;
                continue;
            }
            if known.is_none() {
                *tried += 1;
            }
            let left = budget.saturating_sub(start.elapsed());
            // Minimising never takes the run past its budget: with less
            // than a second left the case is counted as it stands.
            if left < Duration::from_secs(1) {
                *rep.by_issue.entry((name.clone(), kind, known.or(Some(NOT_MINIMISED)))).or_default() += 1;
                continue;
            }
            let mut watch = |c: &C| {
                on(Event::Case {
                    case: i,
                    compiler: &name,
                    json: &c.json(),
                    timing: &comp.timing_command("policy.json", c),
                    minimising: true,
                })
            };
            let (small, problem, known_small) = match problem {
                Problem::Diverges(d) => {
                    let found = (d, program.expect("a divergence has a program"));
                    let (small, (d, p)) =
                        shrink(comp.as_ref(), &case, found, left.min(Duration::from_secs(10)), &mut watch);
                    let k = (campaign.known)(&small, &p, &d);
                    (small, Problem::Diverges(d), k)
                }
                // Each step takes SLOW_COMPILE or more; within what is left
                // of the budget (`--seconds` is a promise).
                Problem::Slow(s) => {
                    let (small, s) = shrink_slow(comp.as_ref(), &case, s, left.min(MINIMISE_SLOW_MAX), &mut watch);
                    (small, Problem::Slow(s), s.known)
                }
                Problem::Hung(h) => {
                    let (small, h) = shrink_hung(comp.as_ref(), &case, h, left.min(MINIMISE_SLOW_MAX), &mut watch);
                    let k = h.known;
                    (small, Problem::Hung(h), k)
                }
                Problem::Died(s) => {
                    let (small, s) = minimise(&case, s, left.min(Duration::from_secs(30)), &mut watch, |c| match comp
                        .compile(c, MINIMISE_LIMITS)
                    {
                        Err(NotCompiled::Died(s)) => Some(s),
                        _ => None,
                    });
                    (small, Problem::Died(s), None)
                }
            };
            // Counted under what minimising showed it to be; shown unless
            // that issue has been shown enough.
            *rep.by_issue.entry((name.clone(), kind, known_small)).or_default() += 1;
            let n = minimised.entry((shown_as, kind, known_small)).or_default();
            if *n >= cap {
                continue;
            }
            *n += 1;
            let reproducer = match &problem {
                Problem::Diverges(d) => comp.reproducer("policy.json", &d.input),
                _ => comp.timing_command("policy.json", &small),
            };
            rep.findings.push(Finding {
                compiler: name.clone(),
                generator: comp.generator(),
                policy_json: small.json(),
                problem,
                reproducer,
                known: known_small,
                seed,
                case: i,
            });
            on(Event::Finding(rep.findings.last().expect("just pushed")));
        }
        i += 1;
    }
    rep.elapsed = start.elapsed();
    rep
}

/// Validate a generator's output (the generator already checked it is loadable;
/// a failure here is a refusal with the validator's reasons).
fn valid(p: crate::bpf::Program) -> Result<ValidProgram, Refusal> {
    validate(&p).map_err(|v| {
        Refusal(format!(
            "the kernel would refuse the output: {}",
            v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
        ))
    })
}

/// A value that is often interesting for argument comparisons: 0, small,
/// powers of two and their neighbours, the 32-bit boundary, high-half values,
/// all ones.
pub(crate) fn interesting_u64(u: &mut arbitrary::Unstructured) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=10)? {
        0 => 0,
        1 => u.int_in_range(0u64..=16)?,
        2 => 1u64 << u.int_in_range(0u32..=63)?,
        3 => (1u64 << u.int_in_range(1u32..=63)?) - 1,
        4 => u64::from(u32::MAX) - u.int_in_range(0u64..=2)?,
        5 => 0x1_0000_0000 + u.int_in_range(0u64..=5)?,
        6 => u64::MAX - u.int_in_range(0u64..=2)?,
        7 => u64::from(u.arbitrary::<u32>()?),
        8 => (u64::from(u.int_in_range(1u32..=3)?) << 32) | u64::from(u.int_in_range(0u32..=8)?),
        _ => u.arbitrary::<u64>()?,
    })
}

/// Syscall names the generators draw from: long-standing syscalls (every
/// libseccomp 2.5.4 table knows them where the kernel has them), some missing
/// on some ABIs (`open`, `fork`, `time`, the x86-only ones), none multiplexed
/// through i386/ppc/mips `socketcall`/`ipc` (libseccomp rewrites those rules;
/// out of scope for this reference).
pub const NAME_POOL: &[&str] = &[
    "read",
    "write",
    "close",
    "openat",
    "open",
    "lseek",
    "mmap",
    "mprotect",
    "munmap",
    "brk",
    "ioctl",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "access",
    "pipe2",
    "dup",
    "dup3",
    "nanosleep",
    "getpid",
    "gettid",
    "kill",
    "tkill",
    "tgkill",
    "exit",
    "exit_group",
    "futex",
    "clone",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "fcntl",
    "flock",
    "fsync",
    "ftruncate",
    "getcwd",
    "chdir",
    "fchdir",
    "renameat",
    "mkdirat",
    "unlinkat",
    "prctl",
    "getuid",
    "setuid",
    "umask",
    "madvise",
    "mremap",
    "ptrace",
    "personality",
    "mount",
    "umount2",
    "chroot",
    "pivot_root",
    "reboot",
    "setns",
    "unshare",
    "bpf",
    "perf_event_open",
    "memfd_create",
    "getrandom",
    "statx",
    "epoll_create1",
    "eventfd2",
    "prlimit64",
    "seccomp",
    "userfaultfd",
    "kexec_load",
    "init_module",
    "finit_module",
    "time",
    "alarm",
    "pause",
    "poll",
    "uname",
    "ioperm",
    "iopl",
    "modify_ldt",
    "arch_prctl",
    "clone3",
    "pidfd_open",
    "io_uring_setup",
    "process_vm_readv",
    "keyctl",
    "add_key",
];

/// Instructions that read the accumulator (a comparison, or the `AND` of a
/// masked comparison) and execute, for `d`, with it holding a different
/// input word (or a computed value) than on another path into the same
/// instruction: the comparison then tests a word it was not written for.
/// Returns the first such instruction on `d`'s path.
///
/// A forward pass over the program DAG records, per instruction, which
/// `LD W ABS` offsets the accumulator may come from (`None`: not a plain
/// load, e.g. after ALU). Used to recognise a known libseccomp issue.
pub fn jump_with_mixed_accumulator(p: &ValidProgram, d: &SeccompData) -> Option<usize> {
    use crate::bpf::insn::*;
    let insns = p.insns();
    let mut src: Vec<Vec<Option<u32>>> = vec![Vec::new(); insns.len() + 1];
    let mut reached = vec![false; insns.len()];
    if !insns.is_empty() {
        reached[0] = true;
        src[0].push(None);
    }
    for pc in 0..insns.len() {
        if !reached[pc] {
            continue;
        }
        let i = insns[pc];
        let out: Vec<Option<u32>> = if i.code == BPF_LD | BPF_W | BPF_ABS {
            vec![Some(i.k)]
        } else if matches!(i.class(), BPF_LD | BPF_ALU) || i.code == BPF_MISC | BPF_TXA {
            vec![None]
        } else {
            src[pc].clone()
        };
        for t in i.successors(pc).iter() {
            if t < insns.len() {
                reached[t] = true;
                for o in &out {
                    if !src[t].contains(o) {
                        src[t].push(*o);
                    }
                }
            }
        }
    }
    let path = Emulator::new(p).trace(d).path;
    let reads_a = |i: crate::bpf::Insn| i.is_cond_jump() || i.class() == BPF_ALU;
    path.into_iter().find(|&pc| reads_a(insns[pc]) && src[pc].len() > 1 && src[pc].iter().any(|o| o.is_some()))
}

/// A `JEQ K` on `d`'s path that compares the arch word (`ld [4]`, reloaded
/// nowhere since) with a value that is no `AUDIT_ARCH_*`, or again after an
/// earlier `JEQ` on it matched (its value is then known, so a generator meant
/// another word: libseccomp's nr test, whose value can happen to be an
/// `AUDIT_ARCH_*` too, e.g. aarch64's nr 20 = `AUDIT_ARCH_PPC`). Used to
/// recognise a known libseccomp issue.
pub fn arch_word_compared_with_non_arch(p: &ValidProgram, d: &SeccompData) -> Option<usize> {
    use crate::bpf::insn::*;
    let insns = p.insns();
    let path = Emulator::new(p).trace(d).path;
    let (mut a_is_arch, mut matched) = (false, false);
    for (n, &pc) in path.iter().enumerate() {
        let i = insns[pc];
        if i.class() == BPF_LD || i.class() == BPF_ALU || i.code == BPF_MISC | BPF_TXA {
            a_is_arch = i.code == BPF_LD | BPF_W | BPF_ABS && i.k == 4;
            matched = false;
        } else if a_is_arch && i.code == BPF_JMP | BPF_JEQ | BPF_K {
            if matched || Arch::audit_name_of(i.k).is_none() {
                return Some(pc);
            }
            let taken = path.get(n + 1) == Some(&(pc + 1 + usize::from(i.jt)));
            matched = taken && i.jt != i.jf;
        }
    }
    None
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
        let d = compare(&prog(101), &model, &s).unwrap().expect("off by one must diverge");
        assert_eq!(d.judge, Judge::Symbolic);
        assert_eq!(d.input.args[0] & 0xffff_ffff, 100);
        assert_eq!((d.expected, d.actual), (Action::Errno(13), Action::Allow));
    }

    /// libseccomp (optimize 1) whose compilations of cases with two or more
    /// rules naming `read` "take" 3 s, and which "hangs" (without running)
    /// on cases with a rule for `write` that has conditions: the run loop's
    /// handling of slow and hanging generators, without waiting for one.
    struct Pretend;

    impl Pretend {
        fn reads(c: &libseccomp::DockerCase) -> usize {
            c.rules.iter().filter(|r| r.names.contains(&"read")).count()
        }
        fn hangs(c: &libseccomp::DockerCase) -> bool {
            c.rules.iter().any(|r| r.names.contains(&"write") && !r.args.is_empty())
        }
    }

    impl Compiler<libseccomp::DockerCase> for Pretend {
        fn name(&self) -> String {
            "pretend".into()
        }
        fn generator(&self) -> String {
            "pretend 1".into()
        }
        fn compile(&self, case: &libseccomp::DockerCase, limits: Limits) -> Result<Compiled, NotCompiled> {
            if Pretend::hangs(case) {
                return Err(NotCompiled::Hung(Hang {
                    after: limits.spin_check,
                    spinning_at: Some("pretend.so+0x10".into()),
                    known: Some("pretend-loops"),
                }));
            }
            // Real hangs of libseccomp (L5, L6) are given up on quickly and
            // left out, so that only the pretended ones are findings.
            let quick = Limits { spin_check: Duration::from_millis(500), give_up: Duration::from_secs(3) };
            let mut c = match (libseccomp::LibseccompCompiler { optimize: crate::sources::Optimize::Linear })
                .compile(case, quick)
            {
                Err(NotCompiled::Hung(_)) => {
                    return Err(NotCompiled::Refused(Refusal("libseccomp really hangs".into())))
                }
                r => r?,
            };
            c.slow = (Pretend::reads(case) >= 2)
                .then_some(Slow { time: Duration::from_secs(3), known: Some("pretend-slow") });
            Ok(c)
        }
        fn reproducer(&self, file: &str, _: &SeccompData) -> String {
            format!("emu {file}")
        }
        fn timing_command(&self, file: &str, _: &libseccomp::DockerCase) -> String {
            format!("time {file}")
        }
    }

    #[test]
    fn slow_and_hanging_cases_are_minimised_to_what_makes_them_so() {
        use super::libseccomp::{DAction, DRule, DockerCase};
        let rule = |name, args: usize| DRule {
            names: vec![name],
            action: DAction::Errno(None),
            args: (0..args as u8)
                .map(|i| libseccomp::DArg { index: i, op: libseccomp::DOp::Ne, value: 9, value_two: 0 })
                .collect(),
        };
        let case = DockerCase {
            default: DAction::Allow,
            arches: vec![],
            rules: vec![rule("read", 2), rule("close", 1), rule("read", 0), rule("read", 3), rule("open", 0)],
        };
        let slow = Slow { time: Duration::from_secs(3), known: Some("pretend-slow") };
        let mut seen = 0;
        let (small, s) = shrink_slow(&Pretend, &case, slow, Duration::from_secs(60), &mut |_| seen += 1);
        assert_eq!(s, slow);
        assert_eq!((small.rules.len(), Pretend::reads(&small)), (2, 2), "{small:?}");
        assert!(small.rules.iter().all(|r| r.args.is_empty()), "{small:?}");
        assert!(seen > 0, "the watchdog sees each variant");
        let case = DockerCase { rules: vec![rule("read", 2), rule("write", 3), rule("write", 0)], ..case };
        let Err(NotCompiled::Hung(h)) = Pretend.compile(&case, LIMITS) else { panic!("pretends to hang") };
        let (small, _) = shrink_hung(&Pretend, &case, h, Duration::from_secs(60), &mut |_| ());
        assert_eq!(small.rules.len(), 1);
        assert_eq!(small.rules[0].args.len(), 1, "{small:?}");
    }

    #[test]
    fn the_run_counts_and_shows_each_kind_of_finding_on_its_own() {
        let campaign = Campaign {
            generate: libseccomp::generate,
            compilers: vec![Box::new(Pretend), Box::new(Pretend)],
            known: libseccomp::known,
            shared_rule_stage: true,
        };
        let mut streamed = 0;
        let rep = run(&campaign, Duration::from_secs(3), 3, 1, &mut |e| {
            if let Event::Finding(_) = e {
                streamed += 1;
            }
        });
        assert_eq!(streamed, rep.findings.len());
        let count = |kind: &str| rep.findings.iter().filter(|f| f.problem.kind() == kind).count();
        // One finding per (compiler name, kind, known issue): both compilers
        // are called `pretend`, so one of each kind in all.
        assert_eq!(count("slow"), 1, "{:#?}", rep.per_compiler);
        assert_eq!(count("hang"), 1, "{:#?}", rep.per_compiler);
        assert!(
            rep.findings.iter().any(|f| f.problem.kind() == "diverges"),
            "real libseccomp divergences (L1-L4) are still shown beside them"
        );
        let (first, second) = (&rep.per_compiler[0], &rep.per_compiler[1]);
        assert!(first.slow > 1 && first.hung > 1, "{first:?}");
        // The second shares the first's rule stage: a known hang there is
        // counted, not run again.
        assert_eq!(first.hung, second.hung);
        assert_eq!(first.compared + first.too_large + first.refused + first.hung, rep.cases);
        for f in &rep.findings {
            match &f.problem {
                Problem::Slow(_) => {
                    assert_eq!((f.known, f.reproducer.as_str()), (Some("pretend-slow"), "time policy.json"))
                }
                Problem::Hung(_) => assert_eq!(f.known, Some("pretend-loops")),
                Problem::Diverges(_) => assert!(f.reproducer.starts_with("emu policy.json")),
                Problem::Died(s) => panic!("nothing crashes here: {s}"),
            }
        }
    }
}
