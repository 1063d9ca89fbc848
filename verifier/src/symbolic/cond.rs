//! Readable, exact conditions on input fields, read off a BDD.
//!
//! A set of inputs (below the nr levels, i.e. over arguments and ip) is written
//! as a disjunction of conjunctions of per-field conditions, walking the fields
//! in level order: the values of the first field are grouped by the sub-diagram
//! they lead to, each group is a per-field condition, and the sub-diagram is
//! rendered the same way. A per-field set is written in whichever exact form is
//! shortest — intervals (`arg1 in [0x1000, 0xffffffffffffffff]`, `arg0 == 5`),
//! masked equalities (`arg2 & 0x3 == 0`), or the negation of either — over the
//! full 64-bit value, or over one half when the set ignores the other half:
//! `arg0 & 0xffffffff == 5` says "the low half is 5, the high half is anything",
//! which is exactly the check that is bypassable with a 64-bit argument, and
//! `(arg0 >> 32) == 0` a check of the high half alone.
//!
//! Nothing is approximated: when the exact form would exceed the size caps, the
//! condition says it is too complex to spell out (and the caller can still ask
//! for examples), rather than printing something simpler that is wrong.
//!
//! Where the arch and syscall are known, [`Condition::name_values`] marks each
//! argument whose kind [`crate::arch::names`] knows there, and its values and
//! masks print as UAPI names with the number kept beside them
//! (`arg0 in {AF_ALG (0x26), AF_VSOCK (0x28)}`, `(arg0 & CLONE_NEWUSER
//! (0x10000000)) != 0`); the number is always there, names never replace it.

use super::bdd::{Bdd, Manager};
use super::vars::Field;
use crate::arch::names::ValueNames;
use crate::arch::Arch;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;

/// Atoms per field condition before we try another form.
const FIELD_CAP: usize = 32;
/// Values listed one by one before other forms are tried.
const VALUE_LIST: usize = 8;
/// Atoms per condition before we give up spelling it out.
const TOTAL_CAP: usize = 256;

/// Which bits of a field a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Full,
    /// Only bits 31..0 of a 64-bit field.
    Low32,
    /// Only bits 63..32 of a 64-bit field (values are of `field >> 32`).
    High32,
}

/// One elementary test on (part of) a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Atom {
    /// `lo <= v <= hi` (unsigned), `v` being the part's value.
    Range { lo: u64, hi: u64 },
    /// `field & mask == value`, on the full field (masks of a half are shifted
    /// into place).
    Masked { mask: u64, value: u64 },
}

/// A condition on one field: any of `atoms` holds (or, `negated`, none does).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldCond {
    pub field: Field,
    pub part: Part,
    pub negated: bool,
    pub atoms: Vec<Atom>,
    /// What the field's values are called, where its syscall and arch are
    /// known ([`Condition::name_values`]); `None` prints numbers only.
    pub names: Option<ArgNames>,
}

/// The names of one argument's values and the bits the kernel reads of it
/// (a value with other bits set is printed as a number alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgNames {
    pub names: &'static ValueNames,
    pub bits: u64,
}

/// The names printed for one atom: of its mask (a masked comparison) and of
/// its value; `None` where no name applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AtomNames {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// An exact condition on the inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    Always,
    Never,
    /// Any of the conjunctions holds.
    Any(Vec<Vec<FieldCond>>),
    /// Exact, but larger than the caps: `nodes` BDD nodes over `fields`.
    TooComplex {
        fields: Vec<Field>,
        nodes: usize,
    },
}

/// JSON: the rendered `text` beside the same condition as data (schema
/// `condition` in docs/schemas/common.v1.json): `kind` `always`, `never`,
/// `any` (a disjunction of conjunctions of per-field conditions) or
/// `too_complex` (the fields it reads and its BDD size).
impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Condition", 4)?;
        st.serialize_field("text", &self.to_string())?;
        match self {
            Condition::Always => st.serialize_field("kind", "always")?,
            Condition::Never => st.serialize_field("kind", "never")?,
            Condition::Any(terms) => {
                st.serialize_field("kind", "any")?;
                st.serialize_field("any", terms)?;
            }
            Condition::TooComplex { fields, nodes } => {
                st.serialize_field("kind", "too_complex")?;
                st.serialize_field("fields", &fields.iter().map(|f| f.name()).collect::<Vec<_>>())?;
                st.serialize_field("nodes", nodes)?;
            }
        }
        st.end()
    }
}

/// `{field, part, negated, any: [atom…]}`: one of the atoms holds (none, when
/// `negated`) of the field's `part`; with `names: {kind, atoms: [{mask?,
/// value?}…]}` (one entry per atom, the names the text prints) where the
/// argument's kind is known.
impl Serialize for FieldCond {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FieldCond", 5)?;
        st.serialize_field("field", &self.field.name())?;
        st.serialize_field(
            "part",
            match self.part {
                Part::Full => "full",
                Part::Low32 => "low32",
                Part::High32 => "high32",
            },
        )?;
        st.serialize_field("negated", &self.negated)?;
        st.serialize_field("any", &self.atoms)?;
        if let Some(n) = self.names {
            #[derive(Serialize)]
            struct Names {
                kind: &'static str,
                atoms: Vec<AtomNames>,
            }
            let atoms = self.atoms.iter().map(|a| self.atom_names(a)).collect();
            st.serialize_field("names", &Names { kind: n.names.kind, atoms })?;
        }
        st.end()
    }
}

/// `{op: "range", lo, hi}` (`lo <= part <= hi`, unsigned, on the part's value:
/// for `high32`, of `field >> 32`) or `{op: "masked_eq", mask, value}`
/// (`field & mask == value` on the full field, a half's mask shifted into place).
impl Serialize for Atom {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Atom", 3)?;
        match *self {
            Atom::Range { lo, hi } => {
                st.serialize_field("op", "range")?;
                st.serialize_field("lo", &lo)?;
                st.serialize_field("hi", &hi)?;
            }
            Atom::Masked { mask, value } => {
                st.serialize_field("op", "masked_eq")?;
                st.serialize_field("mask", &mask)?;
                st.serialize_field("value", &value)?;
            }
        }
        st.end()
    }
}

// ---- building sets ----

/// `field & mask == value` as a chain built bottom-up.
pub fn masked_eq(m: &mut Manager, field: Field, mask: u64, value: u64) -> Bdd {
    let w = field.width();
    let fmask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let mask = mask & fmask;
    if value & !mask != 0 {
        return Bdd::FALSE;
    }
    let mut r = Bdd::TRUE;
    for b in 0..w {
        if mask >> b & 1 == 1 {
            let l = field.level(b);
            r = if value >> b & 1 == 1 { m.mk(l, Bdd::FALSE, r) } else { m.mk(l, r, Bdd::FALSE) };
        }
    }
    r
}

/// `lo <= field <= hi` (unsigned).
pub fn range(m: &mut Manager, field: Field, lo: u64, hi: u64) -> Bdd {
    if lo > hi {
        return Bdd::FALSE;
    }
    let w = field.width();
    let (mut ge, mut le) = (Bdd::TRUE, Bdd::TRUE);
    for b in 0..w {
        let l = field.level(b);
        ge = if lo >> b & 1 == 1 { m.mk(l, Bdd::FALSE, ge) } else { m.mk(l, ge, Bdd::TRUE) };
        le = if hi >> b & 1 == 1 { m.mk(l, Bdd::TRUE, le) } else { m.mk(l, le, Bdd::FALSE) };
    }
    m.and(ge, le)
}

/// `lo <= (field & mask) <= hi` (unsigned): bits outside `mask` count as 0.
pub fn masked_range(m: &mut Manager, field: Field, mask: u64, lo: u64, hi: u64) -> Bdd {
    if lo > hi {
        return Bdd::FALSE;
    }
    let w = field.width();
    let (mut ge, mut le) = (Bdd::TRUE, Bdd::TRUE);
    for b in 0..w {
        let (lo_b, hi_b) = (lo >> b & 1 == 1, hi >> b & 1 == 1);
        if mask >> b & 1 == 0 {
            // The masked bit is 0: below a 1 of `lo`, and not above any bit of `hi`.
            if lo_b {
                ge = Bdd::FALSE;
            }
            if hi_b {
                le = Bdd::TRUE;
            }
            continue;
        }
        let l = field.level(b);
        ge = if lo_b { m.mk(l, Bdd::FALSE, ge) } else { m.mk(l, ge, Bdd::TRUE) };
        le = if hi_b { m.mk(l, Bdd::TRUE, le) } else { m.mk(l, le, Bdd::FALSE) };
    }
    m.and(ge, le)
}

// ---- reading sets ----

fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Maximal intervals of the `w`-bit values (levels `l0..l0+w`, MSB first) in
/// `f`, ascending; `None` past `cap`. `f` must not depend on other levels.
fn intervals(m: &Manager, f: Bdd, l0: u32, w: u32, cap: usize) -> Option<Vec<(u64, u64)>> {
    fn go(m: &Manager, f: Bdd, level: u32, end: u32, prefix: u64, out: &mut Vec<(u64, u64)>, cap: usize) -> bool {
        if f.is_false() {
            return true;
        }
        if f.is_true() {
            let (lo, hi) = (prefix, prefix | low_mask(end - level));
            match out.last_mut() {
                Some(last) if last.1.wrapping_add(1) == lo && last.1 != u64::MAX => last.1 = hi,
                _ => out.push((lo, hi)),
            }
            return out.len() <= cap;
        }
        let (lo, hi) = if m.level(f) == level { (m.low(f), m.high(f)) } else { (f, f) };
        let bit = end - 1 - level;
        go(m, lo, level + 1, end, prefix, out, cap) && go(m, hi, level + 1, end, prefix | 1 << bit, out, cap)
    }
    let mut out = Vec::new();
    go(m, f, l0, l0 + w, 0, &mut out, cap).then_some(out)
}

/// Disjoint cubes (paths) of `f` as `(mask, value)` over `w` bits from `l0`.
fn cubes(m: &Manager, f: Bdd, l0: u32, w: u32, cap: usize) -> Option<Vec<(u64, u64)>> {
    #[allow(clippy::too_many_arguments)] // a recursive walk: the BDD, the field's place and the path so far
    fn go(m: &Manager, f: Bdd, l0: u32, w: u32, mask: u64, val: u64, out: &mut Vec<(u64, u64)>, cap: usize) -> bool {
        if f.is_false() {
            return true;
        }
        if f.is_true() {
            out.push((mask, val));
            return out.len() <= cap;
        }
        let bit = l0 + w - 1 - m.level(f);
        let b = 1u64 << bit;
        go(m, m.low(f), l0, w, mask | b, val, out, cap) && go(m, m.high(f), l0, w, mask | b, val | b, out, cap)
    }
    let mut out = Vec::new();
    go(m, f, l0, w, 0, 0, &mut out, cap).then_some(out)
}

/// The shortest exact per-field form of the set `s` (a BDD over `field`'s levels
/// only). `None` when every form exceeds [`FIELD_CAP`] atoms.
pub fn field_cond(m: &mut Manager, field: Field, s: Bdd) -> Option<FieldCond> {
    let (first, end) = (field.first_level(), field.end_level());
    let (part, l0, w) = if field.width() == 64 && !m.depends_on_range(s, first, first + 32) {
        (Part::Low32, first + 32, 32)
    } else if field.width() == 64 && !m.depends_on_range(s, first + 32, end) {
        (Part::High32, first, 32)
    } else {
        (Part::Full, first, field.width())
    };
    let shift = if part == Part::High32 { 32 } else { 0 };
    let ns = m.not(s);
    // A short list of values reads best of all (`arg0 in {0, 8, 0x20000}`),
    // even where a mask would be shorter.
    for (negated, set) in [(false, s), (true, ns)] {
        if let Some(iv) = intervals(m, set, l0, w, VALUE_LIST) {
            if iv.iter().all(|(lo, hi)| lo == hi) {
                let atoms = iv.into_iter().map(|(lo, hi)| Atom::Range { lo, hi }).collect();
                return Some(FieldCond { field, part, negated, atoms, names: None });
            }
        }
    }
    let mut best: Option<FieldCond> = None;
    for (negated, set) in [(false, s), (true, ns)] {
        let cap = best.as_ref().map_or(FIELD_CAP, |b| b.atoms.len().saturating_sub(1));
        if let Some(iv) = intervals(m, set, l0, w, cap) {
            let atoms = iv.into_iter().map(|(lo, hi)| Atom::Range { lo, hi }).collect::<Vec<_>>();
            if best.as_ref().is_none_or(|b| atoms.len() < b.atoms.len()) {
                best = Some(FieldCond { field, part, negated, atoms, names: None });
            }
        }
        let cap = best.as_ref().map_or(FIELD_CAP, |b| b.atoms.len().saturating_sub(1));
        if let Some(cs) = cubes(m, set, l0, w, cap) {
            let atoms = cs
                .into_iter()
                .map(|(mask, value)| Atom::Masked { mask: mask << shift, value: value << shift })
                .collect::<Vec<_>>();
            if best.as_ref().is_none_or(|b| atoms.len() < b.atoms.len()) {
                best = Some(FieldCond { field, part, negated, atoms, names: None });
            }
        }
    }
    best
}

/// The exact condition for the set `f`, whose support lies in `fields` levels
/// (the caller restricts arch and nr away first, or includes them).
pub fn render(m: &mut Manager, f: Bdd) -> Condition {
    let mut memo = HashMap::new();
    match render_rec(m, f, &mut memo) {
        Some(c) => c,
        None => {
            let mut fields: Vec<Field> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut stack = vec![f];
            while let Some(n) = stack.pop() {
                if n.is_const() || !seen.insert(n) {
                    continue;
                }
                let (fl, _) = Field::of_level(m.level(n));
                if !fields.contains(&fl) {
                    fields.push(fl);
                }
                stack.push(m.low(n));
                stack.push(m.high(n));
            }
            fields.sort();
            Condition::TooComplex { fields, nodes: seen.len() }
        }
    }
}

fn atoms_in(c: &Condition) -> usize {
    match c {
        Condition::Any(terms) => terms.iter().flatten().map(|fc| fc.atoms.len()).sum(),
        _ => 0,
    }
}

fn render_rec(m: &mut Manager, f: Bdd, memo: &mut HashMap<Bdd, Option<Condition>>) -> Option<Condition> {
    if f.is_true() {
        return Some(Condition::Always);
    }
    if f.is_false() {
        return Some(Condition::Never);
    }
    if let Some(c) = memo.get(&f) {
        return c.clone();
    }
    let (field, _) = Field::of_level(m.level(f));
    let end = field.end_level();
    // The sub-diagrams below this field, in order of first appearance.
    let mut exits: Vec<Bdd> = Vec::new();
    {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![f];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            if n.is_const() || m.level(n) >= end {
                if !exits.contains(&n) {
                    exits.push(n);
                }
                continue;
            }
            stack.push(m.high(n));
            stack.push(m.low(n));
        }
    }
    let true_set = exits.contains(&Bdd::TRUE).then(|| select(m, f, end, Bdd::TRUE));
    // (first value, field condition or None for "any value", sub-diagram)
    let mut groups: Vec<(u64, Option<FieldCond>, Bdd)> = Vec::new();
    for &e in exits.iter().filter(|e| !e.is_false()) {
        let s = select(m, f, end, e);
        let Some(mut fc) = field_cond(m, field, s).map(Some) else {
            memo.insert(f, None);
            return None;
        };
        // Where the TRUE exit is taken anyway, this group's field test is a
        // don't-care: widen it when that reads shorter (possibly to no test).
        if let (Some(t), false) = (true_set, e.is_true()) {
            let wider = m.or(s, t);
            if wider.is_true() {
                fc = None;
            } else if let Some(w) = field_cond(m, field, wider) {
                if fc.as_ref().is_none_or(|c| w.atoms.len() < c.atoms.len()) {
                    fc = Some(w);
                }
            }
        }
        let first = m.pick_min(s).map_or(0, |ones| ones.iter().fold(0u64, |v, &l| v | 1 << Field::of_level(l).1));
        groups.push((first, fc, e));
    }
    groups.sort_by_key(|g| g.0);
    let mut terms: Vec<Vec<FieldCond>> = Vec::new();
    for (_, fc, e) in groups {
        let sub = render_rec(m, e, memo)?;
        let sub_terms = match sub {
            Condition::Always => vec![vec![]],
            Condition::Any(t) => t,
            Condition::Never => vec![],
            Condition::TooComplex { .. } => {
                memo.insert(f, None);
                return None;
            }
        };
        for mut t in sub_terms {
            if let Some(fc) = &fc {
                t.insert(0, fc.clone());
            }
            terms.push(t);
        }
    }
    let c = if terms.iter().any(|t| t.is_empty()) { Condition::Always } else { Condition::Any(terms) };
    let c = if atoms_in(&c) > TOTAL_CAP { None } else { Some(c) };
    memo.insert(f, c.clone());
    c
}

/// The set of values of the field above level `end` under which `f` leads to
/// the sub-diagram `exit`.
fn select(m: &mut Manager, f: Bdd, end: u32, exit: Bdd) -> Bdd {
    fn go(m: &mut Manager, f: Bdd, end: u32, exit: Bdd, memo: &mut HashMap<Bdd, Bdd>) -> Bdd {
        if f.is_const() || m.level(f) >= end {
            return Manager::constant(f == exit);
        }
        if let Some(&r) = memo.get(&f) {
            return r;
        }
        let (lo, hi) = (m.low(f), m.high(f));
        let l = go(m, lo, end, exit, memo);
        let h = go(m, hi, end, exit, memo);
        let r = m.mk(m.level(f), l, h);
        memo.insert(f, r);
        r
    }
    go(m, f, end, exit, &mut HashMap::new())
}

// ---- text ----

/// A number the way people write it in a filter: decimal below 10, else hex.
pub fn num(v: u64) -> String {
    if v < 10 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn subject(field: Field, part: Part) -> String {
    match part {
        Part::Full => field.to_string(),
        Part::Low32 => format!("({field} & 0xffffffff)"),
        Part::High32 => format!("({field} >> 32)"),
    }
}

fn arch_name(field: Field, v: u64) -> String {
    if field == Field::Arch {
        if let Some(n) = crate::arch::Arch::audit_name_of(v as u32) {
            return n.to_string();
        }
    }
    num(v)
}

/// `NAME (number)`, or the number alone.
fn named(name: Option<&str>, v: u64) -> String {
    match name {
        Some(n) => format!("{n} ({})", num(v)),
        None => num(v),
    }
}

/// A mask as `(A|B) (number)`: parenthesised so `&` applies to the union.
fn named_mask(name: Option<&str>, m: u64) -> String {
    match name {
        Some(n) if n.contains('|') => format!("({n}) ({m:#x})"),
        Some(n) => format!("{n} ({m:#x})"),
        None => format!("{m:#x}"),
    }
}

impl FieldCond {
    /// The names of one atom's mask and value (see [`ArgNames`]).
    pub fn atom_names(&self, a: &Atom) -> AtomNames {
        let Some(n) = self.names else { return AtomNames::default() };
        let width = low_mask(self.field.width());
        let value = |v: u64, scope: u64| {
            if v & !n.bits == 0 {
                n.names.value(v, scope, scope & n.bits == n.bits)
            } else {
                None
            }
        };
        match (*a, self.part) {
            (_, Part::High32) => AtomNames::default(),
            (Atom::Range { lo, hi }, part) if lo == hi => {
                let scope = if part == Part::Low32 { u32::MAX as u64 } else { width };
                AtomNames { mask: None, value: value(lo, scope) }
            }
            (Atom::Range { .. }, _) => AtomNames::default(),
            (Atom::Masked { mask, value: v }, _) if mask == width => AtomNames { mask: None, value: value(v, width) },
            (Atom::Masked { mask, value: v }, _) => AtomNames { mask: n.names.mask(mask), value: value(v, mask) },
        }
    }

    fn value_text(&self, a: &Atom, v: u64) -> String {
        if self.field == Field::Arch {
            return arch_name(self.field, v);
        }
        named(self.atom_names(a).value.as_deref(), v)
    }

    fn atom_text(&self, a: &Atom, negated: bool) -> String {
        let (field, part) = (self.field, self.part);
        let max = if part == Part::Full { low_mask(field.width()) } else { u32::MAX as u64 };
        match *a {
            Atom::Masked { mask, value } => {
                let op = if negated { "!=" } else { "==" };
                if mask == low_mask(field.width()) {
                    format!("{field} {op} {}", self.value_text(a, value))
                } else {
                    // C precedence: `==` binds tighter than `&`, so the mask is parenthesised.
                    let names = self.atom_names(a);
                    format!(
                        "({field} & {}) {op} {}",
                        named_mask(names.mask.as_deref(), mask),
                        named(names.value.as_deref(), value)
                    )
                }
            }
            Atom::Range { lo, hi } => {
                if lo == hi && part == Part::Low32 {
                    // the masked form reads best for "low half equals"
                    let op = if negated { "!=" } else { "==" };
                    return format!("({field} & 0xffffffff) {op} {}", self.value_text(a, lo));
                }
                let s = subject(field, part);
                match (lo == hi, lo == 0, hi == max, negated) {
                    (true, _, _, false) => format!("{s} == {}", self.value_text(a, lo)),
                    (true, _, _, true) => format!("{s} != {}", self.value_text(a, lo)),
                    (false, true, _, false) => format!("{s} <= {}", num(hi)),
                    (false, true, _, true) => format!("{s} > {}", num(hi)),
                    (false, _, true, false) => format!("{s} >= {}", num(lo)),
                    (false, _, true, true) => format!("{s} < {}", num(lo)),
                    (false, false, false, false) => format!("{s} in [{}, {}]", num(lo), num(hi)),
                    (false, false, false, true) => format!("{s} not in [{}, {}]", num(lo), num(hi)),
                }
            }
        }
    }
}

impl fmt::Display for FieldCond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.atoms.len() == 1 {
            return f.write_str(&self.atom_text(&self.atoms[0], self.negated));
        }
        let singles: Option<Vec<(u64, &Atom)>> = self
            .atoms
            .iter()
            .map(|a| match *a {
                Atom::Range { lo, hi } if lo == hi => Some((lo, a)),
                _ => None,
            })
            .collect();
        if let Some(vals) = singles {
            let list = vals.iter().map(|&(v, a)| self.value_text(a, v)).collect::<Vec<_>>().join(", ");
            let op = if self.negated { "not in" } else { "in" };
            return write!(f, "{} {op} {{{list}}}", subject(self.field, self.part));
        }
        let parts: Vec<String> = self.atoms.iter().map(|a| self.atom_text(a, false)).collect();
        if self.negated {
            write!(f, "!({})", parts.join(" || "))
        } else {
            write!(f, "({})", parts.join(" || "))
        }
    }
}

impl Condition {
    /// Mark every argument condition with the names its values have as
    /// argument of `syscall` on `arch` ([`crate::arch::names::arg_names`]);
    /// arguments of unknown kind stay numbers.
    pub fn name_values(&mut self, arch: Arch, syscall: &str) {
        let Condition::Any(terms) = self else { return };
        for fc in terms.iter_mut().flatten() {
            if let Field::Arg(i) = fc.field {
                fc.names = crate::arch::names::arg_names(arch, syscall, i as usize).map(|names| {
                    let bits = crate::arch::args::args(arch, syscall)
                        .and_then(|s| s.params.get(i as usize))
                        .and_then(|p| p.1.width())
                        .map_or(u64::MAX, low_mask);
                    ArgNames { names, bits }
                });
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Always => f.write_str("always"),
            Condition::Never => f.write_str("never"),
            Condition::Any(terms) => {
                let many = terms.len() > 1;
                let text: Vec<String> = terms
                    .iter()
                    .map(|t| {
                        let s = t.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" && ");
                        if many && t.len() > 1 {
                            format!("({s})")
                        } else {
                            s
                        }
                    })
                    .collect();
                f.write_str(&text.join(" || "))
            }
            Condition::TooComplex { fields, nodes } => {
                let names = fields.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ");
                write!(f, "a condition on {names} too large to spell out ({nodes} BDD nodes); ask for examples")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &mut Manager, f: Bdd) -> String {
        render(m, f).to_string()
    }

    #[test]
    fn reads_back_the_usual_argument_checks() {
        let mut m = Manager::default();
        let a0 = Field::Arg(0);
        let a1 = Field::Arg(1);
        let a2 = Field::Arg(2);
        let f = masked_eq(&mut m, a2, 3, 0);
        assert_eq!(text(&mut m, f), "(arg2 & 0x3) == 0");
        let f = range(&mut m, a1, 0x1000, u64::MAX);
        assert_eq!(text(&mut m, f), "arg1 >= 0x1000");
        let f = range(&mut m, a1, 0x1000, 0x2000);
        assert_eq!(text(&mut m, f), "arg1 in [0x1000, 0x2000]");
        let f = masked_eq(&mut m, a0, u64::MAX, 5);
        assert_eq!(text(&mut m, f), "arg0 == 5");
        let f = masked_eq(&mut m, a0, 0xffff_ffff, 5);
        assert_eq!(text(&mut m, f), "(arg0 & 0xffffffff) == 5");
        let f = masked_eq(&mut m, a0, 0xffff_ffff_0000_0000, 0);
        assert_eq!(text(&mut m, f), "(arg0 >> 32) == 0");
        let f = masked_eq(&mut m, a0, u64::MAX, 5);
        let f = m.not(f);
        assert_eq!(text(&mut m, f), "arg0 != 5");
        // JSET-style: any of the bits set
        let f = masked_eq(&mut m, a2, 0x3, 0);
        let f = m.not(f);
        assert_eq!(text(&mut m, f), "(arg2 & 0x3) != 0");
        // two arguments
        let x = masked_eq(&mut m, a0, u64::MAX, 1);
        let y = masked_eq(&mut m, a1, u64::MAX, 2);
        let f = m.and(x, y);
        assert_eq!(text(&mut m, f), "arg0 == 1 && arg1 == 2");
        let g = m.not(f);
        assert_eq!(text(&mut m, g), "arg0 != 1 || arg1 != 2");
        let small = range(&mut m, a0, 0, 0x3f);
        assert_eq!(text(&mut m, small), "arg0 <= 0x3f");
        let lo_range = range(&mut m, Field::Arg(3), 0x10, 0x20);
        let hi_any = masked_eq(&mut m, Field::Arg(3), 0xffff_ffff, 0); // placeholder for shape
        let _ = hi_any;
        assert_eq!(text(&mut m, lo_range), "arg3 in [0x10, 0x20]");
        let ip = masked_eq(&mut m, Field::Ip, u64::MAX, 0x7f00_0000_1000);
        assert_eq!(text(&mut m, ip), "ip == 0x7f0000001000");
        let three = {
            let a = masked_eq(&mut m, a0, u64::MAX, 1);
            let b = masked_eq(&mut m, a0, u64::MAX, 7);
            let c = masked_eq(&mut m, a0, u64::MAX, 9);
            let ab = m.or(a, b);
            m.or(ab, c)
        };
        assert_eq!(text(&mut m, three), "arg0 in {1, 7, 9}");
    }

    #[test]
    fn low_half_ranges_say_so() {
        let mut m = Manager::default();
        // (arg0 & 0xffffffff) in [0x10, 0x20], any high half
        let mut f = Bdd::FALSE;
        for v in 0x10..=0x20u64 {
            let t = masked_eq(&mut m, Field::Arg(0), 0xffff_ffff, v);
            f = m.or(f, t);
        }
        assert_eq!(render(&mut m, f).to_string(), "(arg0 & 0xffffffff) in [0x10, 0x20]");
    }

    #[test]
    fn known_arguments_print_names_beside_numbers() {
        let mut m = Manager::default();
        let named = |m: &mut Manager, f: Bdd, arch: Arch, sc: &str| {
            let mut c = render(m, f);
            c.name_values(arch, sc);
            c.to_string()
        };
        // docker's socket rule
        let alg = masked_eq(&mut m, Field::Arg(0), u64::MAX, 38);
        let vsock = masked_eq(&mut m, Field::Arg(0), u64::MAX, 40);
        let f = m.or(alg, vsock);
        assert_eq!(named(&mut m, f, Arch::X86_64, "socket"), "arg0 in {AF_ALG (0x26), AF_VSOCK (0x28)}");
        let g = m.not(f);
        assert_eq!(named(&mut m, g, Arch::X86_64, "socket"), "arg0 not in {AF_ALG (0x26), AF_VSOCK (0x28)}");
        // the same numbers under a syscall whose argument 0 has no names
        assert_eq!(named(&mut m, f, Arch::X86_64, "read"), "arg0 in {0x26, 0x28}");
        // docker's clone rule: the mask is the union of the namespace flags
        let ns = masked_eq(&mut m, Field::Arg(0), 0x7e02_0000, 0);
        let ns = m.not(ns);
        assert_eq!(
            named(&mut m, ns, Arch::X86_64, "clone"),
            "(arg0 & (CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET) \
             (0x7e020000)) != 0"
        );
        // a mask with a bit no flag has: the bit stays a number
        let odd = masked_eq(&mut m, Field::Arg(0), 0x1000_0001, 0x1000_0000);
        assert_eq!(
            named(&mut m, odd, Arch::X86_64, "unshare"),
            "(arg0 & (CLONE_NEWUSER|0x1) (0x10000001)) == CLONE_NEWUSER (0x10000000)"
        );
        // read-only openat: the access mode under O_ACCMODE
        let ro = masked_eq(&mut m, Field::Arg(2), 3, 0);
        assert_eq!(named(&mut m, ro, Arch::X86_64, "openat"), "(arg2 & O_ACCMODE (0x3)) == O_RDONLY (0)");
        // O_DIRECTORY is 0o200000 on x86_64 but 0o40000 on aarch64
        let dir = masked_eq(&mut m, Field::Arg(2), 0o200000, 0o200000);
        assert_eq!(
            named(&mut m, dir, Arch::X86_64, "openat"),
            "(arg2 & O_DIRECTORY (0x10000)) == O_DIRECTORY (0x10000)"
        );
        assert_eq!(named(&mut m, dir, Arch::Aarch64, "openat"), "(arg2 & O_DIRECT (0x10000)) == O_DIRECT (0x10000)");
        // parisc: no names, the numbers alone
        assert_eq!(named(&mut m, dir, Arch::Parisc, "openat"), "(arg2 & 0x10000) == 0x10000");
        // a value above the 32 bits the kernel reads of an int is not a family
        let wide = masked_eq(&mut m, Field::Arg(0), u64::MAX, 0x1_0000_0026);
        assert_eq!(named(&mut m, wide, Arch::X86_64, "socket"), "arg0 == 0x100000026");
        // the low-half form names its value too
        let low = masked_eq(&mut m, Field::Arg(0), 0xffff_ffff, 38);
        assert_eq!(named(&mut m, low, Arch::X86_64, "socket"), "(arg0 & 0xffffffff) == AF_ALG (0x26)");
        // a masked 0 is not PROT_NONE: the other bits are not compared
        let noexec = masked_eq(&mut m, Field::Arg(2), 4, 0);
        assert_eq!(named(&mut m, noexec, Arch::X86_64, "mprotect"), "(arg2 & PROT_EXEC (0x4)) == 0");
        let none = masked_eq(&mut m, Field::Arg(2), u64::MAX, 0);
        assert_eq!(named(&mut m, none, Arch::X86_64, "mprotect"), "arg2 == PROT_NONE (0)");
        // ranges stay numbers
        let r = range(&mut m, Field::Arg(0), 0, 0x3f);
        assert_eq!(named(&mut m, r, Arch::X86_64, "socket"), "arg0 <= 0x3f");
    }

    #[test]
    fn names_are_structured_in_json() {
        let mut m = Manager::default();
        let alg = masked_eq(&mut m, Field::Arg(0), u64::MAX, 38);
        let mut c = render(&mut m, alg);
        let plain = serde_json::to_value(&c).unwrap();
        assert!(plain["any"][0][0].get("names").is_none());
        c.name_values(Arch::X86_64, "socket");
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["text"], "arg0 == AF_ALG (0x26)");
        assert_eq!(
            v["any"][0][0]["names"],
            serde_json::json!({"kind": "address-family", "atoms": [{"value": "AF_ALG"}]})
        );
    }

    #[test]
    fn parity_is_reported_as_too_complex_not_approximated() {
        let mut m = Manager::default();
        let mut f = Bdd::FALSE;
        for b in 0..30 {
            let v = m.var(Field::Arg(0).level(b));
            f = m.xor(f, v);
        }
        match render(&mut m, f) {
            Condition::TooComplex { fields, .. } => assert_eq!(fields, vec![Field::Arg(0)]),
            c => panic!("expected TooComplex, got {c}"),
        }
    }
}
