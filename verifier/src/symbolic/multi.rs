//! Several programs in one BDD manager, so their input sets can be combined.
//!
//! Comparing two filters (difference, refinement) or working out what a stack of
//! filters does needs their input sets in one manager: a [`Bdd`] handle means
//! something only in the manager that built it, and "equal handles ⇔ equal
//! sets" holds only there. A [`Session`] owns one manager and evaluates each
//! program into it with the same evaluator as [`analyze`](super::analyze)
//! (`eval::evaluate_in` takes the manager and hands it back). Each program's exits are kept apart;
//! [`Session::program`] shows one of them through the ordinary [`Analysis`] API
//! (`by_action`, `table`, `example`, set algebra, …), and every [`InputSet`]
//! handle stays valid whichever program is being shown. [`Session::derived`]
//! does the same for a meaning the caller built out of the programs' sets (the
//! effective return value of a stack, `crate::stack`).
//!
//! [`Session::regions`] splits labelled sets by arch and syscall number the way
//! [`table`](super::table) splits a program's actions — known arches (x86_64
//! and x32 told apart by `__X32_SYSCALL_BIT`), arch values no known arch uses,
//! syscall names from the arch tables and ranges of unnamed numbers — so that a
//! report can say *where* two meanings differ, with readable argument
//! conditions ([`cond`](super::cond)).
//!
//! The node budget ([`Options::node_limit`]) is shared by everything in the
//! session. Running out is sticky ([`Session::exhausted`]): the manager answers
//! FALSE from then on, so callers check it before trusting any result.

use super::bdd::{Bdd, Manager};
use super::cond::{self, Condition};
use super::vars::Field;
use super::{eval, Analysis, Exit, ExitKind, InputSet, Options, SymbolicError};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::validate::ValidProgram;
use serde::Serialize;
use std::collections::HashMap;

/// Which program of a session failed to evaluate, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("program {program}: {error}")]
pub struct ProgramError {
    /// Index in the order the programs were given.
    pub program: usize,
    pub error: SymbolicError,
}

/// Several programs' exact meanings in one BDD manager.
pub struct Session {
    /// The shared manager, with the exits of whichever meaning is being shown.
    an: Analysis,
    programs: Vec<Meaning>,
    opts: Options,
}

/// Ascending, disjoint `lo..=hi` intervals of one field's values.
type Intervals = Vec<(u64, u64)>;

struct Meaning {
    exits: Vec<Exit>,
    reach: Vec<Bdd>,
    ret_words: Vec<(usize, [Bdd; 32])>,
    branches: Vec<Option<(Bdd, Bdd)>>,
}

/// Evaluate every program of `programs` into one session (program `i` of the
/// session is `programs[i]`).
pub fn analyze_many(programs: &[&ValidProgram], opts: &Options) -> Result<Session, ProgramError> {
    let mut s = Session::new(opts);
    for (i, p) in programs.iter().enumerate() {
        s.add(p).map_err(|error| ProgramError { program: i, error })?;
    }
    Ok(s)
}

impl Exit {
    /// An exit of a meaning derived from a session's sets (see
    /// [`Session::derived`]): no single instruction decides it, so `insn` is
    /// [`Exit::DERIVED`].
    pub fn derived(ret: u32, inputs: InputSet) -> Exit {
        Exit { insn: Exit::DERIVED, kind: ExitKind::Return, ret, inputs: inputs.0 }
    }

    /// The `insn` of a derived exit.
    pub const DERIVED: usize = usize::MAX;
}

impl Session {
    /// An empty session with the given limits (the node limit is for the whole
    /// session).
    pub fn new(opts: &Options) -> Session {
        let m = Manager::with_limit(opts.node_limit);
        Session {
            an: Analysis { m, exits: Vec::new(), reach: Vec::new(), ret_words: Vec::new(), branches: Vec::new() },
            programs: Vec::new(),
            opts: opts.clone(),
        }
    }

    /// Evaluate `p` into the session; returns its index. After an error the
    /// session keeps what it had, but a `NodeLimit` error leaves the manager
    /// [`exhausted`](Session::exhausted) for any further work.
    pub fn add(&mut self, p: &ValidProgram) -> Result<usize, SymbolicError> {
        let (m, r) = eval::evaluate_in(std::mem::take(&mut self.an.m), p, &self.opts);
        self.an.m = m;
        let mut ev = r?;
        // Sorted as `analyze` sorts them (`Analysis::exit_for` searches them).
        ev.exits.sort_by_key(|e| (e.insn, e.ret));
        self.programs.push(Meaning {
            exits: ev.exits,
            reach: ev.reach,
            ret_words: ev.ret_words,
            branches: ev.branches,
        });
        Ok(self.programs.len() - 1)
    }

    /// Number of programs evaluated.
    pub fn len(&self) -> usize {
        self.programs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }

    /// The exits of program `program` (as [`Analysis::exits`]).
    pub fn exits(&self, program: usize) -> &[Exit] {
        &self.programs[program].exits
    }

    /// Program `program` through the [`Analysis`] API. Sets from any view of
    /// this session may be mixed freely.
    pub fn program(&mut self, program: usize) -> &mut Analysis {
        let p = &self.programs[program];
        self.an.exits.clone_from(&p.exits);
        self.an.reach.clone_from(&p.reach);
        self.an.ret_words.clone_from(&p.ret_words);
        self.an.branches.clone_from(&p.branches);
        &mut self.an
    }

    /// A meaning built from this session's sets, through the [`Analysis`] API
    /// (for its table, examples, `by_action`). The exits must partition the
    /// input space (every input in exactly one), as a program's do; `reach` is
    /// empty for a derived meaning.
    pub fn derived(&mut self, exits: Vec<Exit>) -> &mut Analysis {
        debug_assert!(exits.iter().all(|e| (e.inputs.index() as usize) < self.an.m.node_count()));
        self.an.exits = exits;
        self.an.reach = Vec::new();
        self.an.ret_words = Vec::new();
        self.an.branches = Vec::new();
        &mut self.an
    }

    /// The set algebra of the session (whichever meaning is being shown).
    pub fn sets(&mut self) -> &mut Analysis {
        &mut self.an
    }

    /// Did any operation run out of nodes? Sticky; results computed since are
    /// wrong and must not be used.
    pub fn exhausted(&self) -> bool {
        self.an.m.exhausted()
    }

    /// The session's node budget.
    pub fn node_limit(&self) -> usize {
        self.an.m.limit()
    }

    /// Split the sets `labelled[i]` (label `i`) by arch and syscall number.
    ///
    /// Every input of every labelled set lands in exactly one [`LabelPart`];
    /// inputs in no labelled set appear nowhere. Arch values split into classes
    /// that the sets treat alike; a known arch gets its own entry unless its
    /// class also holds arch values no known arch uses, in which case it is
    /// folded into that [`ArchKey::Other`] entry (as [`Analysis::table`] does).
    /// Within an entry, syscall numbers split into classes with identical
    /// argument conditions per label; each class lists its numbers as rows
    /// (named where the arch's table names them, else ranges), or, when they
    /// form more than [`MAX_ROW_INTERVALS`] intervals (`nr & 1 == 0`), as an
    /// exact condition plus the named syscalls in it.
    ///
    /// Classes are found on the diagrams' nodes (memoised on tuples of nodes),
    /// never by enumerating values, so sets like "every even number" cost what
    /// their diagrams cost.
    pub fn regions(&mut self, labelled: &[InputSet]) -> Regions {
        let tuple: Vec<Bdd> = labelled.iter().map(|s| s.0).collect();
        let arch_sets: Vec<(Arch, Bdd)> = Arch::all().map(|a| (a, self.an.arch(a).0)).collect();
        let m = &mut self.an.m;
        let mut audits: Vec<u32> = Arch::all().map(|a| a.audit_arch()).collect();
        audits.sort_unstable();
        audits.dedup();
        let mut known_set = Bdd::FALSE;
        for &k in &audits {
            let e = cond::masked_eq(m, Field::Arch, u32::MAX as u64, k as u64);
            known_set = m.or(known_set, e);
        }
        // (sub-diagrams below arch, arch values, holds unknown values)
        let mut classes: Vec<(Vec<Bdd>, Bdd, bool)> = Vec::new();
        for (t, values) in classes_below(m, Field::Arch, &tuple) {
            let unknown = !m.diff(values, known_set).is_false();
            classes.push((t, values, unknown));
        }
        classes.sort_by_key(|c| min_value(m, c.1));
        let mut rendered = HashMap::new();
        let mut arches = Vec::new();
        let mut folded: Vec<(usize, Arch)> = Vec::new();
        for &(a, arch_set) in &arch_sets {
            let Some(ci) = classes.iter().position(|c| member(m, c.1, a.audit_arch() as u64)) else { continue };
            if classes[ci].2 {
                folded.push((ci, a));
                continue;
            }
            let x32 = X32_SYSCALL_BIT as u64;
            let domain = match a {
                Arch::X86_64 => cond::masked_eq(m, Field::Nr, x32, 0),
                Arch::X32 => cond::masked_eq(m, Field::Nr, x32, x32),
                _ => Bdd::TRUE,
            };
            let nr = nr_classes(m, Some(a), &classes[ci].0, domain, &tuple, arch_set, &mut rendered);
            if !nr.is_empty() {
                arches.push(ArchRegions { arch: ArchKey::Known(a), classes: nr });
            }
        }
        let unknown: Vec<usize> = (0..classes.len()).filter(|&c| classes[c].2).collect();
        for ci in unknown {
            let s = classes[ci].1;
            // `always` when the class holds every unknown arch value.
            let outside = m.or(s, known_set);
            let when = if outside.is_true() {
                Condition::Always
            } else {
                let exact = m.diff(s, known_set);
                let candidates = [cond::render(m, exact), cond::render(m, outside), cond::render(m, s)];
                candidates.into_iter().min_by_key(|c| c.to_string().len()).expect("three candidates")
            };
            let t = classes[ci].0.clone();
            let nr = nr_classes(m, None, &t, Bdd::TRUE, &tuple, s, &mut rendered);
            let known = folded.iter().filter(|f| f.0 == ci).map(|f| f.1).collect();
            arches.push(ArchRegions { arch: ArchKey::Other { when, known }, classes: nr });
        }
        Regions { arches }
    }
}

/// A class of syscall numbers with more intervals than this is described by
/// an exact condition on `nr` instead of rows.
pub const MAX_ROW_INTERVALS: usize = 4096;

/// Syscall-number classes of one arch entry. `t`: the labelled sets below the
/// arch levels; `domain`: the numbers of the entry (x86_64 and x32 split by
/// `__X32_SYSCALL_BIT`); `arch_set`: the arch values (and x32 bit) of the entry.
fn nr_classes(
    m: &mut Manager,
    arch: Option<Arch>,
    t: &[Bdd],
    domain: Bdd,
    labelled: &[Bdd],
    arch_set: Bdd,
    rendered: &mut HashMap<Bdd, Condition>,
) -> Vec<NrClass> {
    let names: &[(u32, &'static str)] = arch.map_or(&[], |a| a.syscalls());
    let mut out: Vec<(u64, NrClass)> = Vec::new();
    for (sub, numbers) in classes_below(m, Field::Nr, t) {
        let numbers = m.and(numbers, domain);
        if numbers.is_false() {
            continue;
        }
        let mut rows = Vec::new();
        let condition = match intervals(m, Field::Nr, numbers, MAX_ROW_INTERVALS) {
            Some(iv) => {
                for (a, b) in iv {
                    named_rows(names, a, b, &mut rows);
                }
                None
            }
            None => {
                rows.extend(names.iter().filter(|&&(n, _)| member(m, numbers, n as u64)).map(|&(nr, name)| NrRow {
                    nr,
                    nr_last: None,
                    name: Some(name),
                }));
                // Within x86_64 or x32, the state of __X32_SYSCALL_BIT goes
                // without saying (the entry's header says it).
                let plain = cond::render(m, numbers);
                let x32_bit = Field::Nr.level(X32_SYSCALL_BIT.trailing_zeros());
                let in_domain = match arch {
                    Some(Arch::X86_64) => Some(m.restrict(numbers, &[(x32_bit, false)])),
                    Some(Arch::X32) => Some(m.restrict(numbers, &[(x32_bit, true)])),
                    _ => None,
                };
                match in_domain.map(|f| cond::render(m, f)) {
                    Some(c) if c.to_string().len() < plain.to_string().len() => Some(c),
                    _ => Some(plain),
                }
            }
        };
        let where_ = m.and(arch_set, numbers);
        let mut parts = Vec::new();
        for (label, &f) in sub.iter().enumerate() {
            if f.is_false() {
                continue;
            }
            let when = rendered.entry(f).or_insert_with(|| cond::render(m, f)).clone();
            let inputs = InputSet(m.and(labelled[label], where_));
            parts.push(LabelPart { label, when, inputs });
        }
        // One syscall of a known arch: its argument values get their names.
        if let (Some(a), [NrRow { name: Some(name), nr_last: None, .. }]) = (arch, rows.as_slice()) {
            for p in &mut parts {
                p.when.name_values(a, name);
            }
        }
        out.push((min_value(m, numbers), NrClass { rows, numbers: condition, parts }));
    }
    out.sort_by_key(|c| c.0);
    out.into_iter().map(|c| c.1).collect()
}

/// The distinct tuples of sub-diagrams that `tuple` leads to below `field`
/// (except the all-empty one), each with exactly the values of the field that
/// lead there (a set over the field's levels). Walks tuples of nodes, memoised;
/// never enumerates values.
fn classes_below(m: &mut Manager, field: Field, tuple: &[Bdd]) -> Vec<(Vec<Bdd>, Bdd)> {
    let w = FieldWalk { end: field.end_level() };
    let mut exits: Vec<Vec<Bdd>> = Vec::new();
    let mut seen: std::collections::HashSet<Vec<Bdd>> = std::collections::HashSet::new();
    let mut stack = vec![tuple.to_vec()];
    while let Some(t) = stack.pop() {
        if seen.contains(&t) {
            continue;
        }
        seen.insert(t.clone());
        match w.top(m, &t) {
            None if t.iter().any(|f| !f.is_false()) => exits.push(t),
            None => {}
            Some(l) => {
                let (lo, hi) = w.cofactors(m, &t, l);
                stack.push(hi);
                stack.push(lo);
            }
        }
    }
    exits
        .into_iter()
        .map(|e| {
            let values = w.select(m, tuple.to_vec(), &e, &mut HashMap::new());
            (e, values)
        })
        .collect()
}

/// Walking tuples of diagrams down to the end of one field.
struct FieldWalk {
    end: u32,
}

impl FieldWalk {
    /// The highest level of the field the tuple tests, if any.
    fn top(&self, m: &Manager, t: &[Bdd]) -> Option<u32> {
        t.iter().filter(|f| !f.is_const() && m.level(**f) < self.end).map(|&f| m.level(f)).min()
    }

    /// The tuple with the variable at `l` set to 0, and to 1.
    fn cofactors(&self, m: &Manager, t: &[Bdd], l: u32) -> (Vec<Bdd>, Vec<Bdd>) {
        let at = |f: Bdd| !f.is_const() && m.level(f) == l;
        let lo = t.iter().map(|&f| if at(f) { m.low(f) } else { f }).collect();
        let hi = t.iter().map(|&f| if at(f) { m.high(f) } else { f }).collect();
        (lo, hi)
    }

    /// The field values under which `t` leads to `exit`.
    fn select(&self, m: &mut Manager, t: Vec<Bdd>, exit: &[Bdd], memo: &mut HashMap<Vec<Bdd>, Bdd>) -> Bdd {
        let Some(l) = self.top(m, &t) else { return Manager::constant(t == exit) };
        if let Some(&r) = memo.get(&t) {
            return r;
        }
        let (lo, hi) = self.cofactors(m, &t, l);
        let (l0, h0) = (self.select(m, lo, exit, memo), self.select(m, hi, exit, memo));
        let r = m.mk(l, l0, h0);
        memo.insert(t, r);
        r
    }
}

/// Is `value` in `s`, a set over `field`'s levels (or constant)?
fn member(m: &Manager, s: Bdd, value: u64) -> bool {
    let mut f = s;
    while !f.is_const() {
        let (_, bit) = Field::of_level(m.level(f));
        f = if value >> bit & 1 == 1 { m.high(f) } else { m.low(f) };
    }
    f.is_true()
}

/// The smallest value in `s`, a non-empty set over one field's levels.
fn min_value(m: &Manager, s: Bdd) -> u64 {
    m.pick_min(s).map_or(0, |ones| ones.iter().fold(0u64, |v, &l| v | 1 << Field::of_level(l).1))
}

/// The maximal intervals of `field` values in `s` (a set over its levels),
/// ascending; `None` past `cap` intervals.
fn intervals(m: &Manager, field: Field, s: Bdd, cap: usize) -> Option<Intervals> {
    fn go(m: &Manager, f: Bdd, level: u32, end: u32, prefix: u64, out: &mut Intervals, cap: usize) -> bool {
        if f.is_false() {
            return true;
        }
        if f.is_true() {
            let hi = prefix | ((1u64 << (end - level)) - 1);
            match out.last_mut() {
                Some(last) if last.1 + 1 == prefix => last.1 = hi,
                _ => out.push((prefix, hi)),
            }
            return out.len() <= cap;
        }
        let (lo, hi) = if m.level(f) == level { (m.low(f), m.high(f)) } else { (f, f) };
        let bit = end - 1 - level;
        go(m, lo, level + 1, end, prefix, out, cap) && go(m, hi, level + 1, end, prefix | 1 << bit, out, cap)
    }
    debug_assert_eq!(field.width(), 32);
    let mut out = Vec::new();
    go(m, s, field.first_level(), field.end_level(), 0, &mut out, cap).then_some(out)
}

/// Rows for the numbers `a..=b`: each named number alone, the unnamed numbers
/// between them as ranges.
fn named_rows(names: &[(u32, &'static str)], a: u64, b: u64, rows: &mut Vec<NrRow>) {
    let unnamed = |lo: u64, hi: u64| NrRow { nr: lo as u32, nr_last: (hi != lo).then_some(hi as u32), name: None };
    let mut next = a;
    let start = names.partition_point(|&(n, _)| (n as u64) < a);
    for &(n, name) in names[start..].iter().take_while(|&&(n, _)| n as u64 <= b) {
        if next < n as u64 {
            rows.push(unnamed(next, n as u64 - 1));
        }
        rows.push(NrRow { nr: n, nr_last: None, name: Some(name) });
        next = n as u64 + 1;
    }
    if next <= b {
        rows.push(unnamed(next, b));
    }
}

/// Labelled sets split by arch and syscall number ([`Session::regions`]).
#[derive(Clone, Debug)]
pub struct Regions {
    /// Known arches in [`Arch::all`] order, then classes of other arch values.
    pub arches: Vec<ArchRegions>,
}

/// One arch entry.
#[derive(Clone, Debug)]
pub struct ArchRegions {
    pub arch: ArchKey,
    /// Ascending by first number.
    pub classes: Vec<NrClass>,
}

/// A known arch, or a class of arch values no known arch uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchKey {
    Known(Arch),
    /// Arch values outside the known ones (`when` says which; `always`: all of
    /// them), plus the known arches in `known` that behave like them.
    Other {
        when: Condition,
        known: Vec<Arch>,
    },
}

/// Syscall numbers whose labelled argument conditions are identical.
#[derive(Clone, Debug)]
pub struct NrClass {
    /// Ascending: every number of the class, or, when `numbers` is set, only
    /// the named syscalls among them.
    pub rows: Vec<NrRow>,
    /// The class's numbers as an exact condition on `nr`, when they form more
    /// than [`MAX_ROW_INTERVALS`] intervals.
    pub numbers: Option<Condition>,
    /// Per label meeting these numbers, ascending by label.
    pub parts: Vec<LabelPart>,
}

/// One syscall number, or a range of unnamed numbers `nr..=nr_last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct NrRow {
    pub nr: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nr_last: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
}

/// The part of labelled set `label` on one arch entry and number class.
#[derive(Clone, Debug)]
pub struct LabelPart {
    pub label: usize,
    /// The argument (and ip) condition, the same for every number of the class.
    pub when: Condition,
    /// Exactly the inputs of the set on these arch values and numbers.
    pub inputs: InputSet,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use crate::bpf::validate::validate;
    use crate::seccomp::{Action, SeccompData};

    fn prog(insns: &[Insn]) -> ValidProgram {
        validate(&Program::new(insns.to_vec())).unwrap()
    }

    #[test]
    fn programs_share_one_manager() {
        let allow = prog(&[Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000)]);
        let getpid_eperm = prog(&[
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let mut s = analyze_many(&[&allow, &getpid_eperm, &getpid_eperm], &Options::default()).unwrap();
        assert_eq!(s.len(), 3);
        let a = s.program(0).by_action();
        let b = s.program(1).by_action();
        let c = s.program(2).by_action();
        // Same program twice: the very same handles.
        assert_eq!(b, c);
        assert_eq!(a, vec![(Action::Allow, s.sets().all())]);
        let (eperm, allow_b) = (b[0].1, b[1].1);
        assert_eq!(b[0].0, Action::Errno(1));
        let sets = s.sets();
        let both = sets.and(a[0].1, allow_b);
        assert_eq!(both, allow_b);
        let nr39 = sets.field_eq(Field::Nr, 39);
        assert_eq!(eperm, nr39);
        let d = SeccompData { nr: 39, ..Default::default() };
        assert!(s.program(1).exit_for(&d).is_some_and(|e| e.action() == Action::Errno(1)));
        assert!(!s.exhausted());
    }

    #[test]
    fn regions_split_by_arch_and_number() {
        // x86_64: getpid → label 0; every other arch value with nr 1 → label 1.
        let mut s = Session::new(&Options::default());
        let sets = s.sets();
        let x86 = sets.arch(Arch::X86_64);
        let getpid = sets.field_eq(Field::Nr, 39);
        let l0 = sets.and(x86, getpid);
        let x86_audit = sets.field_eq(Field::Arch, Arch::X86_64.audit_arch() as u64);
        let other = sets.not(x86_audit);
        let one = sets.field_eq(Field::Nr, 1);
        let l1 = sets.and(other, one);
        let r = s.regions(&[l0, l1]);
        let keys: Vec<&ArchKey> = r.arches.iter().map(|a| &a.arch).collect();
        assert_eq!(keys[0], &ArchKey::Known(Arch::X86_64));
        assert!(matches!(keys[1], ArchKey::Other { known, .. } if known.len() == Arch::all().count() - 2));
        assert_eq!(keys.len(), 2);
        let c = &r.arches[0].classes;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].rows, vec![NrRow { nr: 39, nr_last: None, name: Some("getpid") }]);
        assert_eq!(c[0].parts.len(), 1);
        assert_eq!((c[0].parts[0].label, &c[0].parts[0].when), (0, &Condition::Always));
        assert_eq!(c[0].parts[0].inputs, l0);
        let o = &r.arches[1].classes;
        assert_eq!(o[0].rows, vec![NrRow { nr: 1, nr_last: None, name: None }]);
        assert_eq!(o[0].parts[0].inputs, l1);
    }

    /// Scattered numbers (every even nr: 2^31 intervals) are described by a
    /// condition, found without enumerating them.
    #[test]
    fn scattered_numbers_become_a_condition() {
        let mut s = Session::new(&Options::default());
        let sets = s.sets();
        let x86 = sets.arch(Arch::X86_64);
        let even = sets.field_masked_eq(Field::Nr, 1, 0);
        let l0 = sets.and(x86, even);
        let r = s.regions(&[l0]);
        assert_eq!(r.arches.len(), 1);
        let c = &r.arches[0].classes;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].numbers.as_ref().map(|c| c.to_string()).as_deref(), Some("(nr & 0x1) == 0"));
        let names: Vec<&str> = c[0].rows.iter().filter_map(|r| r.name).collect();
        assert_eq!(&names[..3], ["read", "open", "stat"]);
        assert!(c[0].rows.iter().all(|r| r.nr % 2 == 0 && r.nr_last.is_none()));
        assert_eq!(c[0].parts[0].inputs, l0);
    }
}
