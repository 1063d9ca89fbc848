//! Lints: mistakes and bypasses a filter can have without any policy saying
//! what it should do.
//!
//! One file per lint, clippy style: each module's `//!` doc is a *What it does
//! / Why is this bad / Example* text (what `seccheck explain` prints), with a
//! stable code `SCnnn` and a kebab-case name, and a `check(&LintContext) ->
//! Vec<Finding>`. [`ALL`] lists them in code order; [`run`] runs them all.
//!
//! Every lint works on the exact [`Analysis`] (which inputs reach which
//! instruction and which exit), never on patterns in the program text alone,
//! so a finding holds for every generator's layout; the few questions the
//! sets cannot answer (which field a test reads, whether the instructions
//! before a test fix its outcome) come from the [`flow`] pass. A finding names
//! the instructions involved and, where one exists, carries a concrete input
//! picked from the offending set and run through the emulator, so what it
//! shows is the reference semantics, not the analysis' claim.
//!
//! Several lints judge the filter per architecture. Which arches a filter is
//! *meant* for is given (a compiled profile knows, `--arch` says), else
//! inferred from the program: the arches whose `AUDIT_ARCH` value it compares
//! `arch` with and lets some syscall run for (x32 when it tells x32 syscalls
//! apart), else an assumed one (the CLI's `--host-arch`).

pub mod flow;

pub mod arg_high_half_unchecked;
pub mod compat_arch_open;
pub mod contradictory_arg_check;
pub mod default_allow;
pub mod errno_out_of_range;
pub mod garbled_return_value;
pub mod missing_arch_check;
pub mod sibling_not_denied;
pub mod tautological_arg_check;
pub mod unreachable_code;
pub mod user_notif_delegation;
pub mod x32_not_blocked;

use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::bpf::validate::ValidProgram;
use crate::emu::Emulator;
use crate::finding::{Counterexample, Finding, Severity};
use crate::seccomp::ActionClass;
use crate::seccomp::{describe_offset, Action};
use crate::symbolic::vars::Field;
use crate::symbolic::{Analysis, InputSet, SymbolicError};
use serde::Serialize;
use std::cell::{RefCell, RefMut};

/// One lint: its identity, its documentation and its check.
pub struct Lint {
    /// `SC001`…
    pub code: &'static str,
    /// `missing-arch-check`…
    pub name: &'static str,
    /// The lint module's source; its leading `//!` lines are the documentation.
    source: &'static str,
    pub check: fn(&LintContext) -> Vec<Finding>,
}

impl Lint {
    /// The module documentation without the `//!` markers: what `seccheck
    /// explain` prints.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines() {
            let Some(rest) = line.strip_prefix("//!") else { break };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out
    }

    /// The first line of the documentation.
    pub fn summary(&self) -> String {
        self.doc().lines().next().unwrap_or_default().to_string()
    }
}

macro_rules! lint {
    ($m:ident) => {
        Lint { code: $m::CODE, name: $m::NAME, source: include_str!(concat!(stringify!($m), ".rs")), check: $m::check }
    };
}

/// Every lint, in code order.
pub static ALL: &[Lint] = &[
    lint!(missing_arch_check),
    lint!(x32_not_blocked),
    lint!(compat_arch_open),
    lint!(default_allow),
    lint!(sibling_not_denied),
    lint!(tautological_arg_check),
    lint!(contradictory_arg_check),
    lint!(arg_high_half_unchecked),
    lint!(unreachable_code),
    lint!(errno_out_of_range),
    lint!(user_notif_delegation),
    lint!(garbled_return_value),
];

/// The lint with this code (`SC002`, any case) or name (`x32-not-blocked`).
pub fn find(name_or_code: &str) -> Option<&'static Lint> {
    ALL.iter().find(|l| l.code.eq_ignore_ascii_case(name_or_code) || l.name == name_or_code)
}

/// Why the lints could not run exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LintError {
    #[error("symbolic analysis: {0}")]
    Symbolic(#[from] SymbolicError),
    #[error("the lints' set operations outgrew the budget of {limit} decision-diagram nodes (or the work it allows); refusing to report approximate findings (raise the node limit)")]
    NodeLimit { limit: usize },
}

/// What the lints are told about the filter.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// The arches the filter is meant for (a compiled profile's arches, `--arch`).
    pub arches: Option<Vec<Arch>>,
    /// The arch to assume when none is given and the filter never compares
    /// `arch` with a known value.
    pub fallback_arch: Option<Arch>,
}

/// Unassigned syscall numbers looked at to find an arch's default action.
const GAP_SAMPLE: usize = 256;
/// Under runc's stub, fewer numbers than this below it do not decide the default.
const MIN_GAPS: usize = 16;
/// `ENOSYS` (include/uapi/asm-generic/errno.h), runc's stub answer.
const ENOSYS: u16 = 38;

/// Where [`LintContext::arches`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchSource {
    /// Given by the caller.
    Given,
    /// The arches the filter compares `arch` with and lets syscalls run for.
    Inferred,
    /// The fallback: the filter names no arch.
    Assumed,
    /// No arch known: the per-arch lints have nothing to check.
    Unknown,
}

/// What an arch does with numbers no rule names.
#[derive(Clone, Copy, Debug)]
struct ArchDefault {
    arch: Arch,
    /// For its unassigned numbers.
    default: (Action, InputSet),
    /// For the numbers after its table.
    future: Option<(Action, InputSet)>,
}

/// For a conditional jump, the inputs that go each way.
#[derive(Clone, Copy, Debug)]
pub struct Branches {
    pub taken: InputSet,
    pub not_taken: InputSet,
}

/// Everything a lint looks at.
pub struct LintContext<'p> {
    pub program: &'p ValidProgram,
    analysis: RefCell<Analysis>,
    pub emu: Emulator,
    /// The arches the filter is meant for (see [`ArchSource`]).
    pub arches: Vec<Arch>,
    pub arch_source: ArchSource,
    pub flow: flow::Flow,
    branches: Vec<Option<Branches>>,
    /// Inputs whose action lets the syscall run (ALLOW, LOG).
    pub runs: InputSet,
    /// Inputs whose syscall does not run (KILL_*, TRAP, ERRNO, unknown actions).
    pub denied: InputSet,
    /// Inputs a supervisor or tracer decides (USER_NOTIF, TRACE).
    pub delegated: InputSet,
    /// The inputs taking each action, in [`Action`] order.
    pub actions: Vec<(Action, InputSet)>,
    /// Per arch in `arches`, its default actions.
    defaults: Vec<ArchDefault>,
    node_limit: usize,
}

impl<'p> LintContext<'p> {
    /// Prepare what the lints share from `a`, the exact analysis of `program`
    /// (`crate::check::run` makes it once and shares it with the policy
    /// check): the sets built on it before are kept, and the lints' node
    /// budget is the analysis' own ([`Analysis::node_limit`]).
    pub fn from_analysis(
        program: &'p ValidProgram,
        mut a: Analysis,
        opts: &LintOptions,
    ) -> Result<LintContext<'p>, LintError> {
        debug_assert!(a.exits().iter().all(|e| e.insn < program.insns().len()), "the analysis is of another program");
        let (mut runs, mut denied, mut delegated) = (a.none(), a.none(), a.none());
        let actions = a.by_action();
        for &(action, set) in &actions {
            let slot = match ActionClass::of(action) {
                ActionClass::Runs => &mut runs,
                ActionClass::Denied => &mut denied,
                ActionClass::Delegated => &mut delegated,
            };
            *slot = a.or(*slot, set);
        }
        let insns = program.insns();
        let mut branches = vec![None; insns.len()];
        for (pc, i) in insns.iter().enumerate() {
            let r = a.reach(pc);
            if !i.is_cond_jump() || i.jt == i.jf || a.is_empty(r) {
                continue;
            }
            // Every input that executes `pc` goes one way. The way to the
            // nearer target: the inputs that also reach it (the other way only
            // leads further on, jumps being forward); the other way: the rest.
            let (t, f) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
            let near = a.reach(t.min(f));
            let near = a.and(r, near);
            let far = a.diff(r, near);
            branches[pc] = Some(if t < f {
                Branches { taken: near, not_taken: far }
            } else {
                Branches { taken: far, not_taken: near }
            });
        }
        let edge_taken = |pc: usize, target: usize| -> bool {
            let i = &insns[pc];
            match branches[pc] {
                Some(b) if i.is_cond_jump() => {
                    let s = if target == pc + 1 + i.jt as usize { b.taken } else { b.not_taken };
                    !a.is_empty(s)
                }
                _ => !a.is_empty(a.reach(pc)),
            }
        };
        let flow = flow::analyze(insns, edge_taken);
        let node_limit = a.node_limit();
        let mut cx = LintContext {
            program,
            analysis: RefCell::new(a),
            emu: Emulator::new(program),
            arches: Vec::new(),
            arch_source: ArchSource::Unknown,
            flow,
            branches,
            runs,
            denied,
            delegated,
            actions,
            defaults: Vec::new(),
            node_limit,
        };
        let (arches, source) = match &opts.arches {
            Some(given) => (given.clone(), ArchSource::Given),
            None => {
                let inferred = cx.infer_arches();
                match (inferred.is_empty(), opts.fallback_arch) {
                    (false, _) => (inferred, ArchSource::Inferred),
                    (true, Some(f)) => (vec![f], ArchSource::Assumed),
                    (true, None) => (Vec::new(), ArchSource::Unknown),
                }
            }
        };
        cx.defaults = arches.iter().filter_map(|&arch| cx.compute_default(arch)).collect();
        cx.arches = arches;
        cx.arch_source = source;
        if cx.analysis().exhausted() {
            return Err(LintError::NodeLimit { limit: cx.node_limit });
        }
        Ok(cx)
    }

    /// What `arch` does with syscall numbers no rule names: the action most of
    /// its unassigned numbers get, or, for a table without gaps, the action most
    /// of the 64 numbers after it get. Under runc's `-ENOSYS` stub, which covers
    /// every number above the profile's newest syscall (gaps included), only
    /// numbers up to the newest one the stub does not answer count, and when
    /// there are no gaps there, all of them vote. With the inputs taking that action.
    pub fn default_action(&self, arch: Arch) -> Option<(Action, InputSet)> {
        self.defaults.iter().find(|d| d.arch == arch).map(|d| d.default)
    }

    /// The inputs that get one of `arch`'s fallback actions: its default, or
    /// what the numbers after its table get (runc's `-ENOSYS` stub answers
    /// syscalls newer than the profile). A syscall denied this way has no rule
    /// of its own.
    pub fn fallback_inputs(&self, arch: Arch) -> Option<InputSet> {
        let d = self.defaults.iter().find(|d| d.arch == arch)?;
        let mut s = d.default.1;
        if let Some((_, f)) = d.future {
            s = self.analysis().or(s, f);
        }
        Some(s)
    }

    fn compute_default(&self, arch: Arch) -> Option<ArchDefault> {
        let table = arch.syscalls();
        let (&(first, _), &(last, _)) = (table.first()?, table.last()?);
        // The first unassigned numbers are enough to tell the default, and
        // some tables have vast gaps (arm's private calls at 0x0f0000).
        let future: Vec<u32> = (last + 1..=last.saturating_add(64)).collect();
        let future = self.majority(arch, &future);
        // runc's stub (sources/docker/enosys_stub.rs) answers ERRNO(ENOSYS) for every number
        // above the profile's newest syscall, gaps in the table included: then
        // only numbers below the highest one that gets something else show the
        // default. (A small allow-list naming nothing above x86_64's 335..=423
        // gap otherwise has its ERRNO(EPERM) default mistaken for the stub's
        // ENOSYS, and every unnamed syscall below its newest one for a denial
        // of its own.)
        let stub = future.is_some_and(|(a, _)| a == Action::Errno(ENOSYS));
        let boundary = match future {
            Some((_, f)) if stub => table.iter().rev().map(|&(nr, _)| nr).find(|&nr| {
                let s = self.syscall(arch, nr);
                !self.analysis().subset(s, f)
            }),
            _ => Some(last),
        };
        let below = |nr: u32| boundary.is_some_and(|b| nr <= b);
        let mut gaps: Vec<u32> = Vec::new();
        let mut next = first;
        for &(nr, _) in table.iter().take_while(|&&(nr, _)| below(nr)) {
            gaps.extend((next..nr).take(GAP_SAMPLE - gaps.len()));
            next = nr + 1;
        }
        // runc adds no stub when the default is ALLOW, LOG or TRACE
        // (`wants_stub`), so under the stub those never are the default.
        let stubbed_default = |a: Action| !matches!(a.effective(), Action::Allow | Action::Log | Action::Trace(_));
        let default = match boundary {
            _ if !stub && !gaps.is_empty() => self.majority(arch, &gaps),
            _ if stub && gaps.len() >= MIN_GAPS => self.majority_of(arch, &gaps, stubbed_default),
            // Under the stub without gaps below it (x86_64 has none below 335),
            // every number up to the boundary votes.
            Some(b) if stub && (b - first) as usize >= MIN_GAPS => {
                self.majority_of(arch, &(first..=b).take(GAP_SAMPLE * 4).collect::<Vec<u32>>(), stubbed_default)
            }
            _ => future,
        }?;
        Some(ArchDefault { arch, default, future })
    }

    /// The action most of `numbers` (for every argument value) get on `arch`.
    fn majority(&self, arch: Arch, numbers: &[u32]) -> Option<(Action, InputSet)> {
        self.majority_of(arch, numbers, |_| true)
    }

    /// As [`Self::majority`], counting only actions `eligible` accepts.
    fn majority_of(
        &self,
        arch: Arch,
        numbers: &[u32],
        eligible: impl Fn(Action) -> bool,
    ) -> Option<(Action, InputSet)> {
        let mut counts: Vec<usize> = vec![0; self.actions.len()];
        for &nr in numbers {
            let s = self.syscall(arch, nr);
            let a = self.analysis();
            if let Some(i) = self.actions.iter().position(|&(act, set)| eligible(act) && a.subset(s, set)) {
                counts[i] += 1;
            }
        }
        let (i, &n) = counts.iter().enumerate().max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))?;
        (n > 0).then(|| self.actions[i])
    }

    /// The analysis, for set operations.
    pub fn analysis(&self) -> RefMut<'_, Analysis> {
        self.analysis.borrow_mut()
    }

    /// Give the analysis back (with every set the lints built on it), for
    /// questions after the lints (the report's syscall matrix).
    pub fn into_analysis(self) -> Analysis {
        self.analysis.into_inner()
    }

    /// Which inputs go which way at conditional jump `pc` (`None` for other
    /// instructions, jumps no input reaches, and jumps whose two targets are
    /// the same).
    pub fn branches(&self, pc: usize) -> Option<Branches> {
        self.branches.get(pc).copied().flatten()
    }

    /// A concrete input from `s`, run through the emulator.
    pub fn counterexample(&self, s: InputSet) -> Option<Counterexample> {
        let d = self.analysis().example(s)?;
        Some(Counterexample::from_input(&self.emu, d))
    }

    /// The exits (`RET` instructions) some input of `s` leaves through.
    pub fn exits_meeting(&self, s: InputSet) -> Vec<usize> {
        let mut a = self.analysis();
        let exits: Vec<(usize, InputSet)> = a.exits().iter().map(|e| (e.insn, e.inputs())).collect();
        let mut out = Vec::new();
        for (insn, set) in exits {
            let meet = a.and(set, s);
            if !a.is_empty(meet) && !out.contains(&insn) {
                out.push(insn);
            }
        }
        out.sort_unstable();
        out
    }

    /// The inputs of syscall number `nr` (as `seccomp_data.nr` carries it) of `arch`.
    pub fn syscall(&self, arch: Arch, nr: u32) -> InputSet {
        let mut a = self.analysis();
        let s = a.field_eq(Field::Arch, arch.audit_arch() as u64);
        let n = a.field_eq(Field::Nr, nr as u64);
        a.and(s, n)
    }

    /// The inputs of `arch` whose nr is one of its syscalls (x32: with the x32
    /// bit; the other numbers only ever return `-ENOSYS`).
    pub fn real_syscalls(&self, arch: Arch) -> InputSet {
        let mut a = self.analysis();
        let mut nrs = a.none();
        for &(nr, _) in arch.syscalls() {
            let n = a.field_eq(Field::Nr, nr as u64);
            nrs = a.or(nrs, n);
        }
        let s = a.arch(arch);
        a.and(s, nrs)
    }

    /// Is every input reaching `pc` of a little-endian ABI (`Some(true)`), every
    /// one big-endian (`Some(false)`), or are both there?
    pub fn little_endian_at(&self, pc: usize) -> Option<bool> {
        let mut a = self.analysis();
        let r = a.reach(pc);
        let le_bit = crate::arch::AUDIT_ARCH_LE as u64;
        let le = a.field_masked_eq(Field::Arch, le_bit, le_bit);
        if a.subset(r, le) {
            return Some(true);
        }
        let be = a.not(le);
        a.subset(r, be).then_some(false)
    }

    /// The field a 32-bit word offset names for the inputs reaching `pc`
    /// (`arg1 high`; `word 24` when arches of both byte orders get there).
    pub fn word_name(&self, off: u32, pc: usize) -> String {
        match (off, self.little_endian_at(pc)) {
            (0 | 4, _) => describe_offset(off, true),
            (_, Some(le)) => describe_offset(off, le),
            _ => format!("the word at offset {off}"),
        }
    }

    /// The arch values in `s`, in words: `x86_64 and i386`, `every arch value
    /// except i386`, `x86_64, aarch64, … (20 more) and values no known ABI has`.
    pub fn describe_arches(&self, s: InputSet) -> String {
        let mut a = self.analysis();
        let total = a.arch_value_count(s);
        let (mut inside, mut outside) = (Vec::new(), Vec::new());
        for arch in Arch::all().filter(|&x| x != Arch::X32) {
            let v = a.field_eq(Field::Arch, arch.audit_arch() as u64);
            let m = a.and(v, s);
            if a.is_empty(m) {
                outside.push(arch.name());
            } else {
                inside.push(arch.name());
            }
        }
        let others = total > inside.len() as u128;
        match (others, outside.len()) {
            (true, 0) => "every arch value".into(),
            (true, n) if n <= 3 => format!("every arch value except {}", list(&outside)),
            (true, _) => format!("{} and arch values no known ABI has", list_some(&inside, 6)),
            (false, _) => list(&inside),
        }
    }

    /// The arches a filter is meant for, read off the program: every known arch
    /// whose `AUDIT_ARCH` value some reached `jeq` compares the raw `arch` word
    /// with and for which some syscall runs (all tested ones if none runs
    /// anywhere); x32 with x86_64 when the filter lets some x32 syscalls run and
    /// denies others (it has rules for x32).
    fn infer_arches(&self) -> Vec<Arch> {
        let insns = self.program.insns();
        let mut tested = Vec::new();
        for (pc, i) in insns.iter().enumerate() {
            let Some(st) = &self.flow.before[pc] else { continue };
            if i.is_cond_jump()
                && i.code & 0xf0 == BPF_JEQ
                && i.code & BPF_X == 0
                && st.a.src == 1 << 1
                && st.a.known == 0
            {
                tested.push(i.k);
            }
        }
        let tested: Vec<Arch> = Arch::all().filter(|&x| x != Arch::X32 && tested.contains(&x.audit_arch())).collect();
        let mut out: Vec<Arch> = tested
            .iter()
            .copied()
            .filter(|&arch| {
                let mut a = self.analysis();
                let s = a.arch(arch);
                let r = a.and(s, self.runs);
                !a.is_empty(r)
            })
            .collect();
        if out.is_empty() {
            // Nothing runs anywhere: every arch it tests is one it has rules for.
            out = tested;
        }
        if out.contains(&Arch::X86_64) {
            let x = self.real_syscalls(Arch::X32);
            let mut a = self.analysis();
            let r = a.and(x, self.runs);
            let d = a.and(x, self.denied);
            if !a.is_empty(r) && !a.is_empty(d) {
                let at = out.iter().position(|&a| a == Arch::X86_64).unwrap_or(0);
                out.insert(at + 1, Arch::X32);
            }
        }
        out
    }
}

/// How syscalls of ABI `other` fare on a filter meant for `native` (x32 on
/// x86_64, a compat ABI on its 64-bit one): `None` when none of them runs, or
/// when `native` denies nothing (then `other` bypasses nothing).
pub(crate) struct AbiBypass {
    /// `other`'s syscalls that run.
    pub open: InputSet,
    /// How many of `other`'s syscalls run, of how many.
    pub running: usize,
    pub total: usize,
    /// Syscalls `native` denies (for some arguments at least) that run on `other`.
    pub denied_on_native: Vec<&'static str>,
    /// The input to show: one of those, preferring the best known.
    pub example: InputSet,
}

/// Syscalls whose bypass makes the clearest example.
pub(crate) const TELLING: &[&str] = &[
    "execve", "execveat", "ptrace", "mount", "open", "openat", "socket", "connect", "clone", "unshare", "setns", "bpf",
];

pub(crate) fn abi_bypass(cx: &LintContext, native: Arch, other: Arch) -> Option<AbiBypass> {
    let all = cx.real_syscalls(other);
    let open = {
        let mut a = cx.analysis();
        a.and(all, cx.runs)
    };
    if cx.analysis().is_empty(open) {
        return None;
    }
    let native_denies = {
        let n = cx.real_syscalls(native);
        let mut a = cx.analysis();
        let d = a.and(n, cx.denied);
        !a.is_empty(d)
    };
    if !native_denies {
        return None;
    }
    let mut running = 0;
    let mut denied_on_native = Vec::new();
    let mut example = open;
    let mut best = usize::MAX;
    for &(nr, name) in other.syscalls() {
        let s = cx.syscall(other, nr);
        let r = {
            let mut a = cx.analysis();
            a.and(s, open)
        };
        if cx.analysis().is_empty(r) {
            continue;
        }
        running += 1;
        let Some(nnr) = native.syscall_nr(name) else { continue };
        let n = cx.syscall(native, nnr);
        let mut a = cx.analysis();
        let d = a.and(n, cx.denied);
        if a.is_empty(d) {
            continue;
        }
        denied_on_native.push(name);
        let rank = TELLING.iter().position(|&t| t == name).unwrap_or(TELLING.len());
        if rank < best {
            best = rank;
            example = r;
        }
    }
    Some(AbiBypass { open, running, total: other.syscalls().len(), denied_on_native, example })
}

impl AbiBypass {
    /// `, among them N the filter denies on x86_64 (execve, …)`.
    pub fn denied_clause(&self, native: Arch) -> String {
        if self.denied_on_native.is_empty() {
            format!("; the filter denies syscalls on {native}, and none of its rules apply to these")
        } else {
            format!(
                ", among them {} that it denies on {native} ({})",
                self.denied_on_native.len(),
                list_some(&self.denied_on_native, 6)
            )
        }
    }
}

/// Run every lint. Findings come in lint order.
pub fn run(cx: &LintContext) -> Result<Vec<Finding>, LintError> {
    let mut out = Vec::new();
    for l in ALL {
        out.extend((l.check)(cx));
        if cx.analysis().exhausted() {
            return Err(LintError::NodeLimit { limit: cx.node_limit });
        }
    }
    Ok(out)
}

/// A finding of lint `code`/`name`.
pub(crate) fn finding(
    code: &'static str,
    name: &'static str,
    severity: Severity,
    message: String,
    insns: Vec<usize>,
    counterexample: Option<Counterexample>,
) -> Finding {
    Finding { code, name, severity, message, insns, policy_line: None, counterexample }
}

/// `a, b and c`.
pub(crate) fn list(items: &[impl AsRef<str>]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            format!("{} and {}", init.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", "), last.as_ref())
        }
    }
}

/// At most `n` items, then `… (k more)`.
pub(crate) fn list_some(items: &[impl AsRef<str>], n: usize) -> String {
    if items.len() <= n {
        list(items)
    } else {
        format!("{} … ({} more)", items[..n].iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", "), items.len() - n)
    }
}

#[cfg(test)]
mod tests;
