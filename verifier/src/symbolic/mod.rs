//! The exact symbolic evaluator: for every reachable `RET`, the exact set of
//! `seccomp_data` inputs that reach it, as a decision diagram over the 512 input
//! bits — and, derived from it, the per-arch, per-syscall table people read.
//!
//! ## How
//!
//! - [`vars`]: one BDD variable per input bit, ordered arch, nr, arg0…arg5, ip,
//!   most significant bit first — the order filters decide in, so a filter that
//!   is a decision tree becomes a BDD of its size (justification in `vars.rs`).
//! - [`eval`]: forward evaluation over the program DAG in instruction order,
//!   merging states at join points — never path enumeration. `A`, `X`, `M[]` are
//!   symbolic 32-bit words ([`word`]) with guarded alternatives where paths with
//!   different values meet or where byte order decides which half of a 64-bit
//!   field a load reads.
//! - Every construct is exact or an explicit [`SymbolicError`] naming the
//!   instruction: the node budget ([`Options::node_limit`]), `MUL`/`DIV` of two
//!   input-dependent words, `RET A` with more than
//!   [`Options::max_return_values`] distinct values. Never an approximation.
//! - [`table`] derives the human summary; [`cond`] renders sets of argument
//!   values as `(arg2 & 0x3) == 0`, `arg1 in [0x1000, 0xffffffffffffffff]`, …
//!
//! ## Why our own BDD package
//!
//! Ours ([`bdd`]) is a single-threaded hash-consed arena with a lossy
//! operation cache, no reference counts and no garbage collection: an analysis
//! lives for milliseconds, and the node budget bounds its memory. Comparison
//! chains are built bottom-up with `mk`. `biodivine-lib-bdd` keeps every BDD as
//! its own node vector, so each `and`/`or` copies its operands ("path condition
//! ∧ 32-node comparison" costs O(|path condition|) instead of O(32), and
//! nothing is shared between the thousands of path conditions); `oxidd` is a
//! shared, hash-consed manager, but every operation goes through
//! reference-counted handles, a concurrent unique table and manager-lock
//! closures. The replayed comparison and the evaluator's speed are in
//! `reports/symbolic.md`. Ours is checked against truth tables by property
//! tests (`bdd.rs`) and, through the evaluator, against the emulator on every
//! differential test.
//!
//! ## Limits, and why
//!
//! - **Node budget** ([`Options::node_limit`], default 4 Mi nodes ≈ 160 MiB):
//!   the Docker default profile for three arches needs ~160 k. Some functions
//!   have no small BDD in *any* variable order: the sum, product or equality of
//!   two independent input words (`A = arg0; X = arg1; ADD X` or `JEQ X`) is
//!   exponential in the word width. Those stop with [`SymbolicError::NodeLimit`]
//!   naming the instruction. With our order (most significant bit first, chosen
//!   for comparisons and intervals), multiplication and division of an input
//!   word by most constants, and shifts whose amount is read after the data,
//!   can also blow up; filters do not do that, generated ALU soup does (about
//!   6 % of random soups hit the budget, see `tests/symbolic_vs_emu.rs`).
//! - **`MUL`/`DIV` by an input-dependent X** is split into X's concrete values
//!   when there are at most 64 on the current inputs (each value then is a
//!   constant operand, exact); otherwise [`SymbolicError::Unsupported`]. `DIV`
//!   by an X that may be 0 always sends those inputs to a divide-by-zero exit
//!   returning 0 first.
//! - **`RET A`** gets one input set per distinct value; more than
//!   [`Options::max_return_values`] (default 4096: every ERRNO fits) is
//!   [`SymbolicError::TooManyReturnValues`]. The per-value sets are built
//!   eagerly, which costs values × |path condition| nodes.
//! - **Rendering** never approximates: a per-argument set is written in the
//!   shortest exact form (value list, intervals, masks, or their negation); a
//!   condition larger than 256 atoms (parity of 30 bits, say) is printed as "too
//!   large to spell out", and [`Analysis::example`] still gives members.

pub mod bdd;
pub mod cond;
mod eval;
pub mod multi;
pub mod table;
pub mod vars;
pub mod word;

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::validate::ValidProgram;
use crate::seccomp::{Action, SeccompData};
use bdd::{Bdd, Manager};
use serde::Serialize;
use std::collections::HashMap;
use vars::Field;

pub use multi::{analyze_many, Session};
pub use table::{Table, TableOptions};

/// Limits of one analysis. Each limit turns into an explicit error, never into
/// an approximate answer.
#[derive(Clone, Debug)]
pub struct Options {
    /// BDD nodes the analysis may allocate (≈ 40 bytes each with tables and
    /// cache). Default 4 Mi nodes ≈ 160 MiB: 100× what the Docker default filter
    /// for three arches needs.
    pub node_limit: usize,
    /// Guarded alternatives a register may hold before they are folded into one
    /// word (exact either way; only speed differs).
    pub max_alternatives: usize,
    /// Distinct values a `RET A` may return. Each value gets its own input
    /// set, so this bounds the work too. 4096 covers every ERRNO a filter can
    /// return (`MAX_ERRNO` = 4095) and every realistic computed action; a filter
    /// returning a whole input word (`ld nr; ret a`: 2^32 values) is refused.
    pub max_return_values: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { node_limit: 1 << 22, max_alternatives: 8, max_return_values: 4096 }
    }
}

/// Why an analysis stopped. Every variant names the instruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum SymbolicError {
    #[error("insn {insn}: the decision diagrams outgrew the budget of {limit} nodes (or the work it allows); refusing to approximate (raise the node limit)")]
    NodeLimit { insn: usize, limit: usize },
    #[error("insn {insn}: {what} cannot be evaluated exactly")]
    Unsupported { insn: usize, what: &'static str },
    #[error("insn {insn}: RET A returns more than {limit} distinct values")]
    TooManyReturnValues { insn: usize, limit: usize },
}

/// How the program ends for a set of inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitKind {
    /// A `RET K` or `RET A`.
    Return,
    /// A `DIV X` with `X == 0`: the converted program returns 0
    /// (`bpf_convert_filter`, net/core/filter.c).
    DivideByZero,
}

/// A set of inputs, as a handle into its [`Analysis`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputSet(Bdd);

impl InputSet {
    /// The set's diagram, for code in this crate that walks it (`optimize`).
    pub(crate) fn bdd(self) -> Bdd {
        self.0
    }
}

/// One way out of the program: the instruction, the 32-bit return value and
/// exactly the inputs that leave there with that value.
#[derive(Clone, Copy, Debug)]
pub struct Exit {
    pub insn: usize,
    pub kind: ExitKind,
    pub ret: u32,
    pub(crate) inputs: Bdd,
}

impl Exit {
    pub fn inputs(&self) -> InputSet {
        InputSet(self.inputs)
    }
    pub fn action(&self) -> Action {
        Action::from_ret(self.ret)
    }
}

/// The exact meaning of a program: which inputs leave where, with what value.
///
/// The exits partition the input space: every `seccomp_data` is in exactly one.
pub struct Analysis {
    m: Manager,
    /// Sorted by instruction, then return value.
    exits: Vec<Exit>,
    reach: Vec<Bdd>,
    /// The value of A at each `RET A`, to find an input's exit without
    /// scanning thousands of per-value sets.
    ret_words: Vec<(usize, [Bdd; 32])>,
    branches: Vec<Option<(Bdd, Bdd)>>,
}

/// Analyse `p` exactly.
pub fn analyze(p: &ValidProgram, opts: &Options) -> Result<Analysis, SymbolicError> {
    let (m, mut ev) = eval::evaluate(p, opts, false)?;
    ev.exits.sort_by_key(|e| (e.insn, e.ret));
    Ok(Analysis { m, exits: ev.exits, reach: ev.reach, ret_words: ev.ret_words, branches: ev.branches })
}

impl Analysis {
    /// Analyse `p` and return the BDD operations the evaluation performed, in
    /// order (to replay the same workload on other BDD packages).
    pub fn trace_operations(p: &ValidProgram, opts: &Options) -> Result<Vec<bdd::TraceOp>, SymbolicError> {
        let (mut m, _) = eval::evaluate(p, opts, true)?;
        Ok(m.take_trace())
    }

    /// Every exit, in instruction order (`RET A` exits by ascending value).
    pub fn exits(&self) -> &[Exit] {
        &self.exits
    }

    /// The inputs that execute instruction `insn` (empty for dead code).
    pub fn reach(&self, insn: usize) -> InputSet {
        InputSet(self.reach.get(insn).copied().unwrap_or(Bdd::FALSE))
    }

    /// For a conditional jump that executes: the inputs that take it and those
    /// that fall through (either may be empty: a jump decided in advance).
    pub fn branch(&self, insn: usize) -> Option<(InputSet, InputSet)> {
        self.branches.get(insn).copied().flatten().map(|(t, f)| (InputSet(t), InputSet(f)))
    }

    /// Per distinct return value, the inputs producing it (ascending by value).
    pub fn by_return_value(&mut self) -> Vec<(u32, InputSet)> {
        let mut v: Vec<(u32, Bdd)> = self.exits.iter().map(|e| (e.ret, e.inputs)).collect();
        v.sort_by_key(|&(r, _)| r);
        let mut out: Vec<(u32, InputSet)> = Vec::new();
        for (r, b) in v {
            match out.last_mut() {
                Some((r2, s)) if *r2 == r => s.0 = self.m.or(s.0, b),
                _ => out.push((r, InputSet(b))),
            }
        }
        out
    }

    /// Per action (as `__seccomp_filter` decodes the return value, ERRNO data
    /// capped), the inputs taking it, in [`Action`] order.
    pub fn by_action(&mut self) -> Vec<(Action, InputSet)> {
        let mut v: Vec<(Action, Bdd)> = self.exits.iter().map(|e| (e.action(), e.inputs)).collect();
        v.sort_by_key(|&(a, _)| a);
        let mut out: Vec<(Action, InputSet)> = Vec::new();
        for (a, b) in v {
            match out.last_mut() {
                Some((a2, s)) if *a2 == a => s.0 = self.m.or(s.0, b),
                _ => out.push((a, InputSet(b))),
            }
        }
        out
    }

    /// The exit `d` takes (the symbolic counterpart of [`crate::emu::Emulator::trace`]).
    pub fn exit_for(&self, d: &SeccompData) -> Option<&Exit> {
        for (insn, bits) in &self.ret_words {
            if self.contains(InputSet(self.reach[*insn]), d) {
                let v = (0..32).fold(0u32, |v, i| v | (self.contains(InputSet(bits[i]), d) as u32) << i);
                let i = self.exits.binary_search_by_key(&(*insn, v), |e| (e.insn, e.ret)).ok()?;
                return Some(&self.exits[i]);
            }
        }
        self.exits
            .iter()
            .filter(|e| !self.ret_words.iter().any(|(i, _)| *i == e.insn))
            .find(|e| self.contains(InputSet(e.inputs), d))
    }

    /// Is `d` in `s`?
    pub fn contains(&self, s: InputSet, d: &SeccompData) -> bool {
        let mut f = s.0;
        while !f.is_const() {
            let (field, bit) = Field::of_level(self.m.level(f));
            f = if field_value(d, field) >> bit & 1 == 1 { self.m.high(f) } else { self.m.low(f) };
        }
        f.is_true()
    }

    /// One concrete input in `s`, chosen to read well: the first known arch (in
    /// [`Arch::all`] order) the set admits, then the smallest value of every field
    /// in order (nr, arguments, ip), with free bits 0. `None` for the empty set.
    pub fn example(&mut self, s: InputSet) -> Option<SeccompData> {
        if s.0.is_false() {
            return None;
        }
        let mut seen = Vec::new();
        for a in Arch::all() {
            let audit = a.audit_arch();
            if seen.contains(&audit) {
                continue;
            }
            seen.push(audit);
            let r = self.restrict_field(s.0, Field::Arch, audit as u64);
            if let Some(ones) = self.m.pick_min(r) {
                let mut d = from_ones(&ones);
                d.arch = audit;
                return Some(d);
            }
        }
        self.m.pick_min(s.0).map(|ones| from_ones(&ones))
    }

    /// The largest input in `s` in variable order (arch, nr, args, ip; every
    /// free bit 1): with [`Analysis::example`], the two ends of a set, which is
    /// where off-by-one errors live.
    pub fn example_max(&self, s: InputSet) -> Option<SeccompData> {
        let ones = self.m.pick_max(s.0)?;
        // pick_max lists only the levels it decided; free levels are 1.
        let mut decided = vec![false; vars::NUM_VARS as usize];
        let mut f = s.0;
        while !f.is_true() {
            decided[self.m.level(f) as usize] = true;
            f = if self.m.high(f).is_false() { self.m.low(f) } else { self.m.high(f) };
        }
        let mut all: Vec<u32> = ones;
        all.extend((0..vars::NUM_VARS).filter(|&l| !decided[l as usize]));
        Some(from_ones(&all))
    }

    // ---- building sets (for policies and tests) ----

    pub fn all(&self) -> InputSet {
        InputSet(Bdd::TRUE)
    }
    pub fn none(&self) -> InputSet {
        InputSet(Bdd::FALSE)
    }
    pub fn is_empty(&self, s: InputSet) -> bool {
        s.0.is_false()
    }
    pub fn and(&mut self, a: InputSet, b: InputSet) -> InputSet {
        InputSet(self.m.and(a.0, b.0))
    }
    pub fn or(&mut self, a: InputSet, b: InputSet) -> InputSet {
        InputSet(self.m.or(a.0, b.0))
    }
    /// `a \ b`.
    pub fn diff(&mut self, a: InputSet, b: InputSet) -> InputSet {
        InputSet(self.m.diff(a.0, b.0))
    }
    pub fn not(&mut self, a: InputSet) -> InputSet {
        InputSet(self.m.not(a.0))
    }
    pub fn subset(&self, a: InputSet, b: InputSet) -> bool {
        self.m.implies(a.0, b.0)
    }

    /// Inputs with `field & mask == value` (`value` outside `mask` gives the empty set).
    pub fn field_masked_eq(&mut self, field: Field, mask: u64, value: u64) -> InputSet {
        InputSet(cond::masked_eq(&mut self.m, field, mask, value))
    }
    /// Inputs with `lo <= (field & mask) <= hi` (unsigned).
    pub fn field_masked_range(&mut self, field: Field, mask: u64, lo: u64, hi: u64) -> InputSet {
        InputSet(cond::masked_range(&mut self.m, field, mask, lo, hi))
    }
    /// Inputs with `field == value`.
    pub fn field_eq(&mut self, field: Field, value: u64) -> InputSet {
        self.field_masked_eq(field, u64::MAX, value)
    }
    /// Inputs with `lo <= field <= hi` (unsigned).
    pub fn field_range(&mut self, field: Field, lo: u64, hi: u64) -> InputSet {
        InputSet(cond::range(&mut self.m, field, lo, hi))
    }
    /// Syscalls of `arch`: its AUDIT_ARCH value, and for x86_64 / x32 the state of
    /// `__X32_SYSCALL_BIT` in nr (arch/x86/include/uapi/asm/unistd.h).
    pub fn arch(&mut self, arch: Arch) -> InputSet {
        let a = self.field_eq(Field::Arch, arch.audit_arch() as u64);
        let x32 = X32_SYSCALL_BIT as u64;
        match arch {
            Arch::X86_64 => {
                let n = self.field_masked_eq(Field::Nr, x32, 0);
                self.and(a, n)
            }
            Arch::X32 => {
                let n = self.field_masked_eq(Field::Nr, x32, x32);
                self.and(a, n)
            }
            _ => a,
        }
    }
    /// The set `s` of another analysis, as a set of this one (both use the same
    /// variables), so results of two programs can be compared exactly.
    pub fn import(&mut self, other: &Analysis, s: InputSet) -> InputSet {
        fn go(m: &mut Manager, o: &Manager, f: Bdd, memo: &mut std::collections::HashMap<Bdd, Bdd>) -> Bdd {
            if f.is_const() {
                return f;
            }
            if let Some(&r) = memo.get(&f) {
                return r;
            }
            let lo = go(m, o, o.low(f), memo);
            let hi = go(m, o, o.high(f), memo);
            let r = m.mk(o.level(f), lo, hi);
            memo.insert(f, r);
            r
        }
        InputSet(go(&mut self.m, &other.m, s.0, &mut Default::default()))
    }

    /// Number of BDD nodes of `s` (a size measure for reports and tests).
    pub fn set_size(&self, s: InputSet) -> usize {
        self.m.size(s.0)
    }
    /// Nodes allocated by the analysis so far.
    pub fn node_count(&self) -> usize {
        self.m.node_count()
    }

    /// The node budget the analysis was made with ([`Options::node_limit`]),
    /// shared by every set built on it afterwards.
    pub fn node_limit(&self) -> usize {
        self.m.limit()
    }

    /// The per-arch, per-syscall summary.
    pub fn table(&mut self, opts: &TableOptions) -> Table {
        table::build(self, opts)
    }

    pub(crate) fn manager(&mut self) -> &mut Manager {
        &mut self.m
    }

    fn restrict_field(&mut self, f: Bdd, field: Field, value: u64) -> Bdd {
        let asg: Vec<(u32, bool)> = (0..field.width()).rev().map(|b| (field.level(b), value >> b & 1 == 1)).collect();
        self.m.restrict(f, &asg)
    }

    // ---- for the lints (`crate::lints`) ----

    /// The arch values of `s`: `∃ nr, args, ip. s`, a set that constrains arch only.
    pub fn project_arch(&mut self, s: InputSet) -> InputSet {
        fn go(m: &mut Manager, f: Bdd, memo: &mut HashMap<Bdd, Bdd>) -> Bdd {
            if f.is_const() {
                return f;
            }
            let level = m.level(f);
            if level >= Field::Nr.first_level() {
                // A reduced diagram other than FALSE has a satisfying assignment.
                return Bdd::TRUE;
            }
            if let Some(&r) = memo.get(&f) {
                return r;
            }
            let (lo, hi) = (m.low(f), m.high(f));
            let (lo, hi) = (go(m, lo, memo), go(m, hi, memo));
            let r = m.mk(level, lo, hi);
            memo.insert(f, r);
            r
        }
        InputSet(go(&mut self.m, s.0, &mut HashMap::new()))
    }

    /// How many distinct `arch` values the inputs in `s` carry.
    pub fn arch_value_count(&mut self, s: InputSet) -> u128 {
        let p = self.project_arch(s);
        self.m.count(p.0, Field::Arch.first_level(), Field::Arch.width())
    }

    /// Does membership in `s` depend on any of the bits `bits` (0 = least
    /// significant) of `field`?
    pub fn depends_on(&self, s: InputSet, field: Field, bits: std::ops::Range<u32>) -> bool {
        if bits.is_empty() {
            return false;
        }
        // Higher bits sit at lower levels (vars.rs).
        self.m.depends_on_range(s.0, field.level(bits.end - 1), field.level(bits.start) + 1)
    }

    /// `∃ bits of field. s`: the inputs that are in `s` once those bits are
    /// changed to some value.
    pub fn exists(&mut self, s: InputSet, field: Field, bits: std::ops::Range<u32>) -> InputSet {
        if bits.is_empty() {
            return s;
        }
        let (from, to) = (field.level(bits.end - 1), field.level(bits.start) + 1);
        fn go(m: &mut Manager, f: Bdd, from: u32, to: u32, memo: &mut HashMap<Bdd, Bdd>) -> Bdd {
            if f.is_const() || m.level(f) >= to {
                return f;
            }
            if let Some(&r) = memo.get(&f) {
                return r;
            }
            let level = m.level(f);
            let (lo, hi) = (m.low(f), m.high(f));
            let (lo, hi) = (go(m, lo, from, to, memo), go(m, hi, from, to, memo));
            let r = if level >= from { m.or(lo, hi) } else { m.mk(level, lo, hi) };
            memo.insert(f, r);
            r
        }
        InputSet(go(&mut self.m, s.0, from, to, &mut HashMap::new()))
    }

    /// Did a set operation outgrow the node budget? Sticky; every set built
    /// after it is meaningless, so a caller must turn this into an error.
    pub fn exhausted(&self) -> bool {
        self.m.exhausted()
    }

    /// Decision-diagram work per node so far; the budget allows
    /// [`bdd::STEPS_PER_NODE`] per node of the node limit.
    pub fn steps_per_node(&self) -> f64 {
        self.m.steps_per_node()
    }
}

/// The value of `field` in `d`.
pub fn field_value(d: &SeccompData, field: Field) -> u64 {
    match field {
        Field::Arch => d.arch as u64,
        Field::Nr => d.nr as u64,
        Field::Arg(i) => d.args[i as usize],
        Field::Ip => d.instruction_pointer,
    }
}

fn from_ones(ones: &[u32]) -> SeccompData {
    let mut d = SeccompData::default();
    for &l in ones {
        let (field, bit) = Field::of_level(l);
        match field {
            Field::Arch => d.arch |= 1 << bit,
            Field::Nr => d.nr |= 1 << bit,
            Field::Arg(i) => d.args[i as usize] |= 1 << bit,
            Field::Ip => d.instruction_pointer |= 1 << bit,
        }
    }
    d
}
