//! The per-arch, per-syscall summary of an [`Analysis`]: what happens to each
//! syscall number on each architecture, and under which argument conditions.
//!
//! It is read straight off the BDDs, which put arch first and nr second (see
//! `vars.rs`): walking the arch levels splits the arch values into classes with
//! identical behaviour; every known `AUDIT_ARCH` (x86_64 and x32 told apart by
//! `__X32_SYSCALL_BIT`, arch/x86/include/uapi/asm/unistd.h) whose behaviour
//! differs from that of unknown arch values gets an entry, the rest are folded
//! into "other arch". Within an arch, walking the nr levels splits the numbers
//! into intervals with identical behaviour; the largest class becomes
//! "other nr", every number outside it gets a row (named where the arch's
//! syscall table names it, else a numeric range). The table is therefore
//! complete: every `(arch, nr)` is in exactly one place.

use super::bdd::{Bdd, Manager};
use super::cond::{self, num, Condition};
use super::vars::Field;
use super::Analysis;
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::seccomp::{Action, SeccompData};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Which part of the table to build.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    /// Only these arches (and no "other arch" entry). `None`: every arch the
    /// filter distinguishes, plus other arch.
    pub arches: Option<Vec<Arch>>,
    /// Only rows for these syscalls (by name, or by number as a decimal/hex
    /// string), listed even where they behave like "other nr". The table then
    /// says nothing about any other number: `other_nr` stays empty.
    pub syscalls: Option<Vec<String>>,
}

/// The summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub arches: Vec<ArchTable>,
    /// Behaviour for arch values other than those in `arches`.
    pub other_arch: Vec<OtherArch>,
    /// The syscalls asked for ([`TableOptions::syscalls`]): the table shows
    /// their rows only and nothing about any other number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected: Option<Vec<String>>,
}

/// One architecture's syscalls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArchTable {
    pub arch: Arch,
    pub rows: Vec<Row>,
    /// Every number without a row of its own (empty in a table of selected
    /// syscalls, which says nothing about the other numbers).
    pub other_nr: Vec<Outcome>,
    /// Selected syscalls that have no number on this arch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_on_arch: Vec<String>,
    /// Numbers for which the kernel runs no filter at all, whatever the rows
    /// say ([`crate::seccomp::filters_bypassed`]: x86-64 uretprobe, uprobe).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kernel_exempt: Vec<u32>,
}

/// A class of arch values outside the listed arches that behave alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherArch {
    /// Which of the other arch values (`always` when the filter does not tell
    /// them apart).
    pub when: Condition,
    /// Known arches in this class (not listed under `arches`).
    pub known: Vec<Arch>,
    pub rows: Vec<Row>,
    pub other_nr: Vec<Outcome>,
    /// Selected syscalls given by name: an arch value no table describes has
    /// no names, so they have no row here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_on_arch: Vec<String>,
}

/// One syscall number, or a range of unnamed numbers (`nr..=nr_last`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub nr: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nr_last: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    /// For a filter that never tells arches apart (every arch is "other
    /// arch"): what this one number is on the arches users run
    /// ([`USER_ARCHES`]), so a table shows that `nr 59` denied is x86_64's
    /// `execve` but i386's `olduname`: the bypass is in the table itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub on_arches: Vec<NameOnArch>,
    pub outcomes: Vec<Outcome>,
}

/// A syscall number's name on one arch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameOnArch {
    pub arch: Arch,
    /// `None`: the number names no syscall there.
    pub name: Option<&'static str>,
}

/// The arches a number is named on in an arch-blind table: the ABIs of the
/// machines seccomp filters are mostly written for (x32 numbers carry
/// `__X32_SYSCALL_BIT`, so only numbers with that bit name an x32 syscall).
pub const USER_ARCHES: [Arch; 6] = [Arch::X86_64, Arch::I386, Arch::X32, Arch::Aarch64, Arch::Arm, Arch::Riscv64];

/// An action and the argument condition under which it is taken. The
/// conditions of one row's outcomes are disjoint and cover every input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Kernel name without `SECCOMP_RET_` (`ALLOW`, `ERRNO`, …; `UNKNOWN` for an
    /// action value the kernel does not know, which acts as `KILL_PROCESS`).
    pub action: &'static str,
    /// The data the kernel uses (errno capped at 4095, trap/trace data), 0 for
    /// actions without data; for `UNKNOWN`, the action bits.
    pub data: u32,
    pub when: Condition,
    #[serde(skip)]
    pub kind: Action,
}

impl Outcome {
    fn new(kind: Action, when: Condition) -> Outcome {
        let data = match kind {
            Action::Unknown(v) => v,
            a => a.data().unwrap_or(0) as u32,
        };
        Outcome { action: kind.name(), data, when, kind }
    }
}

/// The distinct arch values (x32 shares x86_64's).
fn known_audits() -> Vec<u32> {
    let mut v: Vec<u32> = Arch::all().map(|a| a.audit_arch()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Walk the levels of one 32-bit `field` for a tuple of diagrams and return the
/// maximal intervals of field values with the tuple of sub-diagrams below.
fn partition(m: &Manager, field: Field, tuple: &[Bdd]) -> Vec<(u64, u64, Vec<Bdd>)> {
    fn go(m: &Manager, field: Field, level: u32, prefix: u64, tuple: Vec<Bdd>, out: &mut Vec<(u64, u64, Vec<Bdd>)>) {
        let end = field.end_level();
        if level == end || tuple.iter().all(|&f| f.is_const() || m.level(f) >= end) {
            let hi = prefix | ((1u64 << (end - level)) - 1);
            match out.last_mut() {
                Some(last) if last.2 == tuple && last.1 + 1 == prefix => last.1 = hi,
                _ => out.push((prefix, hi, tuple)),
            }
            return;
        }
        let split = |f: Bdd, one: bool| {
            if !f.is_const() && m.level(f) == level {
                if one {
                    m.high(f)
                } else {
                    m.low(f)
                }
            } else {
                f
            }
        };
        let bit = end - 1 - level;
        let lo: Vec<Bdd> = tuple.iter().map(|&f| split(f, false)).collect();
        let hi: Vec<Bdd> = tuple.iter().map(|&f| split(f, true)).collect();
        go(m, field, level + 1, prefix, lo, out);
        go(m, field, level + 1, prefix | 1 << bit, hi, out);
    }
    let mut out = Vec::new();
    go(m, field, field.first_level(), 0, tuple.to_vec(), &mut out);
    out
}

struct Builder<'a> {
    m: &'a mut Manager,
    actions: Vec<Action>,
    rendered: HashMap<Bdd, Condition>,
    wanted: Option<Vec<String>>,
}

impl Builder<'_> {
    fn outcomes(&mut self, tuple: &[Bdd]) -> Vec<Outcome> {
        let mut out = Vec::new();
        for (i, &f) in tuple.iter().enumerate() {
            if f.is_false() {
                continue;
            }
            let when = match self.rendered.get(&f) {
                Some(c) => c.clone(),
                None => {
                    let c = cond::render(self.m, f);
                    self.rendered.insert(f, c.clone());
                    c
                }
            };
            out.push(Outcome::new(self.actions[i], when));
        }
        out
    }

    /// Rows and other-nr outcomes for nr values in `domain` (intervals).
    fn arch_rows(
        &mut self,
        arch: Option<Arch>,
        tuple: &[Bdd],
        domain: &[(u64, u64)],
    ) -> (Vec<Row>, Vec<Outcome>, Vec<String>) {
        let parts = partition(self.m, Field::Nr, tuple);
        // Clip to the domain.
        let mut pieces: Vec<(u64, u64, usize)> = Vec::new();
        let mut classes: Vec<Vec<Bdd>> = Vec::new();
        let mut class_of: HashMap<Vec<Bdd>, usize> = HashMap::new();
        for (lo, hi, t) in parts {
            let ci = *class_of.entry(t.clone()).or_insert_with(|| {
                classes.push(t);
                classes.len() - 1
            });
            for &(dlo, dhi) in domain {
                let (a, b) = (lo.max(dlo), hi.min(dhi));
                if a <= b {
                    pieces.push((a, b, ci));
                }
            }
        }
        pieces.sort_by_key(|p| p.0);
        let mut counts = vec![0u64; classes.len()];
        for &(a, b, c) in &pieces {
            counts[c] += b - a + 1;
        }
        let other = (0..classes.len()).max_by_key(|&c| (counts[c], std::cmp::Reverse(c))).unwrap_or(0);
        let table: &[(u32, &'static str)] = arch.map_or(&[], |a| a.syscalls());
        let mut rows = Vec::new();
        let mut absent = Vec::new();
        if let Some(wanted) = self.wanted.clone() {
            for w in &wanted {
                let nr = match arch.and_then(|a| a.syscall_nr(w)) {
                    Some(nr) => Some(nr),
                    None => parse_nr(w),
                };
                // A number outside this arch's domain (an x32 number under
                // x86_64, or the reverse) is not this arch's either.
                match nr.and_then(|nr| pieces.iter().find(|p| p.0 <= nr as u64 && nr as u64 <= p.1).map(|p| (nr, p.2)))
                {
                    Some((nr, c)) => {
                        let t = classes[c].clone();
                        let name = arch.and_then(|a| a.syscall_name(nr));
                        rows.push(Row { nr, nr_last: None, name, on_arches: Vec::new(), outcomes: self.outcomes(&t) });
                    }
                    None => absent.push(w.clone()),
                }
            }
            return (rows, Vec::new(), absent);
        } else {
            for &(a, b, c) in &pieces {
                if c == other {
                    continue;
                }
                let t = classes[c].clone();
                let outcomes = self.outcomes(&t);
                let mut next = a;
                let start = table.partition_point(|&(n, _)| (n as u64) < a);
                for &(n, name) in table[start..].iter().take_while(|&&(n, _)| n as u64 <= b) {
                    if next < n as u64 {
                        rows.push(Row {
                            nr: next as u32,
                            nr_last: Some(n - 1).filter(|&l| l as u64 != next),
                            name: None,
                            on_arches: Vec::new(),
                            outcomes: outcomes.clone(),
                        });
                    }
                    rows.push(Row {
                        nr: n,
                        nr_last: None,
                        name: Some(name),
                        on_arches: Vec::new(),
                        outcomes: outcomes.clone(),
                    });
                    next = n as u64 + 1;
                }
                if next <= b {
                    rows.push(Row {
                        nr: next as u32,
                        nr_last: Some(b as u32).filter(|&l| l as u64 != next),
                        name: None,
                        on_arches: Vec::new(),
                        outcomes: outcomes.clone(),
                    });
                }
            }
        }
        let other_nr = match classes.get(other) {
            Some(t) => {
                let t = t.clone();
                self.outcomes(&t)
            }
            None => Vec::new(),
        };
        (rows, other_nr, absent)
    }
}

fn parse_nr(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

const ALL_NR: [(u64, u64); 1] = [(0, u32::MAX as u64)];
/// x86_64 numbers have `__X32_SYSCALL_BIT` clear, x32 numbers have it set;
/// each is two intervals, below and above bit 31.
const X32_BIT: u64 = X32_SYSCALL_BIT as u64;
const X86_64_NR: [(u64, u64); 2] = [(0, X32_BIT - 1), (0x8000_0000, 0x8000_0000 + X32_BIT - 1)];
const X32_NR: [(u64, u64); 2] = [(X32_BIT, 0x7fff_ffff), (0x8000_0000 + X32_BIT, 0xffff_ffff)];

fn nr_domain(a: Arch) -> &'static [(u64, u64)] {
    match a {
        Arch::X86_64 => &X86_64_NR,
        Arch::X32 => &X32_NR,
        _ => &ALL_NR,
    }
}

pub(super) fn build(an: &mut Analysis, opts: &TableOptions) -> Table {
    let by_action = an.by_action();
    let actions: Vec<Action> = by_action.iter().map(|(a, _)| *a).collect();
    let sets: Vec<Bdd> = by_action.iter().map(|(_, s)| s.0).collect();
    let m = an.manager();
    let arch_parts = partition(m, Field::Arch, &sets);
    let known = known_audits();
    // Classes of arch values: the tuple of diagrams, its intervals, and
    // whether they contain values no known arch uses.
    type ArchClass = (Vec<Bdd>, Vec<(u64, u64)>, bool);
    let mut classes: Vec<ArchClass> = Vec::new();
    for (lo, hi, t) in arch_parts {
        let known_inside = known.iter().filter(|&&k| lo <= k as u64 && k as u64 <= hi).count() as u64;
        let has_unknown = hi - lo + 1 > known_inside;
        match classes.iter_mut().find(|c| c.0 == t) {
            Some(c) => {
                c.1.push((lo, hi));
                c.2 |= has_unknown;
            }
            None => classes.push((t, vec![(lo, hi)], has_unknown)),
        }
    }
    let tuple_of = |audit: u32| -> usize {
        classes
            .iter()
            .position(|c| c.1.iter().any(|&(lo, hi)| lo <= audit as u64 && audit as u64 <= hi))
            .expect("partition covers every arch value")
    };
    let mut b = Builder { m, actions, rendered: HashMap::new(), wanted: opts.syscalls.clone() };
    let mut arches = Vec::new();
    let mut folded: Vec<(usize, Arch)> = Vec::new();
    let listed: Vec<Arch> = match &opts.arches {
        Some(list) => list.clone(),
        None => Arch::all().collect(),
    };
    for &a in &listed {
        let ci = tuple_of(a.audit_arch());
        if opts.arches.is_none() && classes[ci].2 {
            folded.push((ci, a));
            continue;
        }
        let t = classes[ci].0.clone();
        let (rows, other_nr, not_on_arch) = b.arch_rows(Some(a), &t, nr_domain(a));
        let kernel_exempt = crate::seccomp::X86_64_UPROBE_SYSCALLS
            .into_iter()
            .filter(|&nr| {
                crate::seccomp::filters_bypassed(&SeccompData { nr, arch: a.audit_arch(), ..Default::default() })
                    && a != Arch::X32
            })
            .collect();
        arches.push(ArchTable { arch: a, rows, other_nr, not_on_arch, kernel_exempt });
    }
    let mut other_arch = Vec::new();
    if opts.arches.is_none() {
        let unknown_classes: Vec<usize> = (0..classes.len()).filter(|&c| classes[c].2).collect();
        // A known audit value is a don't-care in "other arch" conditions.
        let mut known_set = Bdd::FALSE;
        for &k in &known {
            let e = cond::masked_eq(b.m, Field::Arch, u32::MAX as u64, k as u64);
            known_set = b.m.or(known_set, e);
        }
        for &ci in &unknown_classes {
            let when = if unknown_classes.len() == 1 {
                Condition::Always
            } else {
                let mut s = Bdd::FALSE;
                for &(lo, hi) in &classes[ci].1 {
                    let r = cond::range(b.m, Field::Arch, lo, hi);
                    s = b.m.or(s, r);
                }
                let exact = b.m.diff(s, known_set);
                let wide = b.m.or(s, known_set);
                let c1 = cond::render(b.m, exact);
                let c2 = cond::render(b.m, wide);
                let c3 = cond::render(b.m, s);
                [c1, c2, c3].into_iter().min_by_key(|c| c.to_string().len()).unwrap()
            };
            let t = classes[ci].0.clone();
            let (rows, other_nr, not_on_arch) = b.arch_rows(None, &t, &ALL_NR);
            let known = folded.iter().filter(|f| f.0 == ci).map(|f| f.1).collect();
            other_arch.push(OtherArch { when, known, rows, other_nr, not_on_arch });
        }
    }
    // A filter that never tells arches apart: every number row says what it
    // is on the arches users run.
    if arches.is_empty() && opts.arches.is_none() {
        for o in &mut other_arch {
            for r in o.rows.iter_mut().filter(|r| r.nr_last.is_none()) {
                r.on_arches = USER_ARCHES
                    .iter()
                    .filter(|a| match a {
                        Arch::X86_64 => r.nr & X32_SYSCALL_BIT == 0,
                        Arch::X32 => r.nr & X32_SYSCALL_BIT != 0,
                        _ => true,
                    })
                    .map(|&arch| NameOnArch { arch, name: arch.syscall_name(r.nr) })
                    .collect();
            }
        }
    }
    Table { arches, other_arch, selected: opts.syscalls.clone() }
}

// ---- text ----

fn row_label(r: &Row) -> String {
    let mut label = match (r.name, r.nr_last) {
        (Some(n), _) => n.to_string(),
        (None, None) => format!("nr {}", num_nr(r.nr)),
        (None, Some(l)) => format!("nr {}..={}", num_nr(r.nr), num_nr(l)),
    };
    if !r.on_arches.is_empty() {
        let names: Vec<String> =
            r.on_arches.iter().map(|n| format!("{}: {}", n.arch, n.name.unwrap_or("none"))).collect();
        let _ = write!(label, " [{}]", names.join(", "));
    }
    label
}

fn num_nr(n: u32) -> String {
    if n < 0x1_0000 {
        n.to_string()
    } else {
        num(n as u64)
    }
}

fn action_text(o: &Outcome) -> String {
    o.kind.to_string()
}

fn unconditional(outcomes: &[Outcome]) -> Option<&Outcome> {
    match outcomes {
        [o] if o.when == Condition::Always => Some(o),
        _ => None,
    }
}

fn wrap_list(out: &mut String, head: &str, items: &[String]) {
    let indent = " ".repeat(head.len() + 4);
    let mut line = format!("  {head}: ");
    let mut first = true;
    for it in items {
        let piece = if first { it.clone() } else { format!(", {it}") };
        if !first && line.len() + piece.len() > 100 {
            out.push_str(line.trim_end());
            out.push_str(",\n");
            line = format!("{indent}{it}");
        } else {
            line.push_str(&piece);
        }
        first = false;
    }
    out.push_str(&line);
    out.push('\n');
}

fn render_rows(out: &mut String, rows: &[Row], other_nr: &[Outcome]) {
    // Group rows with identical outcomes, in order of first appearance.
    let mut groups: Vec<(&[Outcome], Vec<String>)> = Vec::new();
    for r in rows {
        match groups.iter_mut().find(|g| g.0 == r.outcomes.as_slice()) {
            Some(g) => g.1.push(row_label(r)),
            None => groups.push((&r.outcomes, vec![row_label(r)])),
        }
    }
    for (outcomes, labels) in &groups {
        match unconditional(outcomes) {
            Some(o) => wrap_list(out, &action_text(o), labels),
            None => {
                let _ = writeln!(out, "  {}:", labels.join(", "));
                for o in outcomes.iter() {
                    let _ = writeln!(out, "      {} when {}", action_text(o), o.when);
                }
            }
        }
    }
    // Every number of the arch without a row above: named or not.
    let else_label = if rows.is_empty() { "every syscall number" } else { "every other syscall number" };
    match unconditional(other_nr) {
        Some(o) => {
            let _ = writeln!(out, "  {}: {else_label}", action_text(o));
        }
        None if other_nr.is_empty() => {}
        None => {
            let _ = writeln!(out, "  {else_label}:");
            for o in other_nr {
                let _ = writeln!(out, "      {} when {}", action_text(o), o.when);
            }
        }
    }
}

impl Table {
    /// Human-readable text: per arch, rows with the same outcomes grouped
    /// ("ALLOW: read, write, …"), then what every other number does.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for a in &self.arches {
            let _ = writeln!(
                out,
                "{} ({:#010x}{}):",
                a.arch,
                a.arch.audit_arch(),
                match a.arch {
                    Arch::X86_64 => ", nr without __X32_SYSCALL_BIT",
                    Arch::X32 => ", nr with __X32_SYSCALL_BIT",
                    _ => "",
                }
            );
            render_rows(&mut out, &a.rows, &a.other_nr);
            if !a.not_on_arch.is_empty() {
                let _ = writeln!(out, "  not a syscall of {}: {}", a.arch, a.not_on_arch.join(", "));
            }
            if !a.kernel_exempt.is_empty() {
                let names: Vec<String> = a
                    .kernel_exempt
                    .iter()
                    .map(|&nr| format!("{} ({nr})", a.arch.syscall_name(nr).unwrap_or("?")))
                    .collect();
                let _ = writeln!(
                    out,
                    "  note: {} run even where this table denies them: the kernel runs no seccomp filter for them \
                     (seccomp_uprobe_exception, Linux 6.14+/6.18+); outside a uprobe trampoline they only \
                     raise SIGILL or return ENXIO",
                    names.join(" and ")
                );
            }
        }
        for o in &self.other_arch {
            let mut head = String::from("any other arch");
            if o.when != Condition::Always {
                let _ = write!(head, " where {}", o.when);
            }
            if !o.known.is_empty() {
                let names: Vec<&str> = o.known.iter().map(|a| a.name()).collect();
                let _ = write!(head, " (including {})", names.join(", "));
            }
            let _ = writeln!(out, "{head}:");
            if o.rows.iter().any(|r| !r.on_arches.is_empty()) {
                let _ = writeln!(
                    out,
                    "  note: this filter never tells arches apart, so one number is a different syscall on each arch \
                     ([arch: name] beside each number): a rule written for one arch's number applies to another \
                     arch's syscall"
                );
            }
            render_rows(&mut out, &o.rows, &o.other_nr);
            if !o.not_on_arch.is_empty() {
                let _ = writeln!(
                    out,
                    "  no number for {} (an unknown arch has no syscall names; select by number)",
                    o.not_on_arch.join(", ")
                );
            }
        }
        if let Some(sel) = &self.selected {
            let _ = writeln!(
                out,
                "only the rows selected with --syscall ({}) are shown; other syscall numbers are not",
                sel.join(", ")
            );
        }
        out
    }
}
