//! Where two filters — or two stacks of filters — disagree, exactly.
//!
//! People change filters: a profile gains a rule, a generator is upgraded, a
//! runtime wraps the output in its own stub. The question is never "did the
//! bytes change" but "which syscalls, on which arch, with which arguments, are
//! now handled differently". Both sides are evaluated symbolically in one BDD
//! manager ([`Session`]), so the answer is the exact set of inputs, not a
//! sample.
//!
//! ## What counts as the same
//!
//! Two return values behave the same when they decode to the same [`Action`],
//! as `__seccomp_filter` (kernel/seccomp.c) decodes them: the action and the
//! data the kernel uses — the errno (capped at `MAX_ERRNO`, so `ERRNO(5000)` ≡
//! `ERRNO(4095)`), the `TRAP` and `TRACE` data. The low 16 bits of `ALLOW`,
//! `LOG`, `KILL_*` and `USER_NOTIF` are ignored by the kernel and are ignored
//! here. Unknown action values are compared by their action bits, since
//! stacking ranks them by value even though alone they act as `KILL_PROCESS`.
//! A side may be a stack (installation order, oldest first): its action is the
//! effective one ([`crate::stack`]).
//!
//! ## Difference and equivalence
//!
//! [`diff`] lists every region of inputs where the actions differ — different
//! action, or same action with different data — split by arch (known arches,
//! x32 apart, then classes of other arch values) and syscall (named from the
//! arch tables, plus ranges of unnamed numbers), with the argument conditions
//! ([`crate::symbolic::cond`]) and one concrete example that the emulator has
//! run through both sides. Equivalent ⇔ no region.
//!
//! ## Refinement
//!
//! [`refines`]`(A, B)` holds when A is at least as strict as B on every input:
//! `strictness(A(x)) <= strictness(B(x))`, where [`strictness`] is the
//! precedence `seccomp_run_filters` uses (`KILL_PROCESS` < `KILL_THREAD` <
//! `TRAP` < `ERRNO` < `USER_NOTIF` < `TRACE` < `LOG` < `ALLOW`) of the action the
//! kernel carries out — an unknown action value kills the process (the
//! `default:` case of `__seccomp_filter`), so it counts as `KILL_PROCESS`. Data
//! does not make an action stricter: `ERRNO(1)` and `ERRNO(13)` are equally
//! strict, as are `TRAP(1)` and `TRAP(2)`; use [`diff`] to see data changes.
//! Every region where A is less strict is a violation, with an example.
//! Refinement is about the filters (or stacks) as given: an unknown action
//! value kills the process when it is the final result, but stacked under a
//! filter returning a lower-ranked known action it can lose to that action
//! (`seccomp_run_filters` ranks it by its raw value), so a filter with unknown
//! actions that refines B alone need not refine B inside every stack.

use crate::arch::Arch;
use crate::bpf::validate::ValidProgram;
use crate::emu::Emulator;
use crate::finding::{Counterexample, Finding, Severity};
use crate::seccomp::{Action, SeccompData};
use crate::stack::{self, StackRun};
use crate::symbolic::cond::{num, Condition};
use crate::symbolic::multi::{ArchKey, NrRow};
use crate::symbolic::{InputSet, Options, Session, SymbolicError};
use serde::Serialize;
use std::fmt::{self, Write as _};

/// Which side of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Side {
    A,
    B,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::A => "A",
            Side::B => "B",
        })
    }
}

/// Why two filters could not be compared exactly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// One filter could not be evaluated exactly (`filter`: index in its
    /// side's installation order; 0 for a single filter).
    #[error("{side}, filter {filter}: {error}")]
    Symbolic { side: Side, filter: usize, error: SymbolicError },
    /// Combining the two sides outgrew the node budget.
    #[error("comparing the filters outgrew the budget of {limit} BDD nodes (or the work it allows); refusing to approximate (raise the node limit)")]
    NodeLimit { limit: usize },
    /// The sides return so many distinct actions (computed `RET A` values)
    /// that pairing them up would take more than [`MAX_ACTION_PAIRS`] set
    /// intersections.
    #[error("A has {a} distinct actions and B {b}: more than {max} pairs to compare; refusing", max = MAX_ACTION_PAIRS)]
    TooManyActionPairs { a: usize, b: usize },
    /// The emulator does not take an example where the symbolic evaluator says
    /// it does: a bug in seccheck, reported rather than printed as a result.
    #[error("internal error: for {input:?} side {side} is {symbolic} symbolically but {emulated} in the emulator")]
    Disagreement { side: Side, input: SeccompData, symbolic: Action, emulated: Action },
}

/// Pairs of (A's action, B's action) a comparison intersects at most. Real
/// filters return a handful of actions; `RET A` filters that compute an errno
/// from an argument return up to 4096 each.
pub const MAX_ACTION_PAIRS: usize = 1 << 22;

/// How strict an action is, for [`refines`]: lower is stricter. The precedence
/// `seccomp_run_filters` ranks actions by, of the action the kernel carries out
/// (unknown values act as `KILL_PROCESS`); data does not count.
pub fn strictness(a: Action) -> i32 {
    a.effective().precedence()
}

/// One region of inputs: an arch entry, a set of syscall numbers and an
/// argument condition, on which A and B take one pair of actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    pub arch: ArchKey,
    /// The syscall numbers (ascending; the condition is the same for each), or
    /// with `numbers`, the named syscalls among them.
    pub syscalls: Vec<NrRow>,
    /// The numbers as an exact condition on `nr`, when they are too scattered
    /// to list as ranges (`nr & 0x1 == 0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Condition>,
    /// The argument (and ip) condition.
    pub when: Condition,
    /// A's action on the region.
    pub a: Action,
    /// B's action on the region.
    pub b: Action,
    pub example: Example,
}

/// One input of a region and what each side does with it, as the emulator
/// runs it (every filter of a stack, with its path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    pub input: SeccompData,
    /// The input's arch, if known (x32 told apart by nr).
    pub arch: Option<Arch>,
    /// The syscall's name on that arch, if it has one.
    pub syscall: Option<&'static str>,
    pub a: StackRun,
    pub b: StackRun,
    /// Whether the running kernel, asked with this input under each side,
    /// took both actions (`None`: not asked; see `finding::confirm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_confirmed: Option<bool>,
}

impl Example {
    /// The example as side A's (`a == true`) or B's counterexample.
    pub fn counterexample(&self, a: bool) -> Counterexample {
        Counterexample::from_stack_run(self.input, if a { &self.a } else { &self.b })
    }
}

/// Every region where the two sides take different actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// True exactly when `regions` is empty.
    pub equivalent: bool,
    pub regions: Vec<Region>,
}

/// Whether A is at least as strict as B everywhere, and where not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refinement {
    /// True exactly when `violations` is empty.
    pub refines: bool,
    /// Regions where A's action is less strict than B's.
    pub violations: Vec<Region>,
}

/// Compare two filters.
pub fn diff(a: &ValidProgram, b: &ValidProgram, opts: &Options) -> Result<Diff, CompareError> {
    diff_stacks(std::slice::from_ref(a), std::slice::from_ref(b), opts)
}

/// Compare two stacks of filters (each in installation order, oldest first).
pub fn diff_stacks(a: &[ValidProgram], b: &[ValidProgram], opts: &Options) -> Result<Diff, CompareError> {
    let regions = compare(a, b, opts, |x, y| x != y)?;
    Ok(Diff { equivalent: regions.is_empty(), regions })
}

/// Is filter `a` at least as strict as filter `b` on every input?
pub fn refines(a: &ValidProgram, b: &ValidProgram, opts: &Options) -> Result<Refinement, CompareError> {
    refines_stacks(std::slice::from_ref(a), std::slice::from_ref(b), opts)
}

/// [`refines`] for stacks (each in installation order, oldest first).
pub fn refines_stacks(a: &[ValidProgram], b: &[ValidProgram], opts: &Options) -> Result<Refinement, CompareError> {
    let violations = compare(a, b, opts, |x, y| strictness(x) > strictness(y))?;
    Ok(Refinement { refines: violations.is_empty(), violations })
}

/// The regions where `keep(A's action, B's action)`.
fn compare(
    a: &[ValidProgram],
    b: &[ValidProgram],
    opts: &Options,
    keep: impl Fn(Action, Action) -> bool,
) -> Result<Vec<Region>, CompareError> {
    let mut session = Session::new(opts);
    let mut ids: [Vec<usize>; 2] = Default::default();
    for (k, side, filters) in [(0, Side::A, a), (1, Side::B, b)] {
        for (filter, p) in filters.iter().enumerate() {
            let id = session.add(p).map_err(|error| CompareError::Symbolic { side, filter, error })?;
            ids[k].push(id);
        }
    }
    let by_action = |session: &mut Session, ids: &[usize]| -> Vec<(Action, InputSet)> {
        let eff = stack::effective(session, ids);
        let sets = session.sets();
        let mut out: Vec<(Action, InputSet)> = Vec::new();
        for (r, s) in eff {
            let act = Action::from_ret(r);
            match out.iter_mut().find(|(x, _)| *x == act) {
                Some(slot) => slot.1 = sets.or(slot.1, s),
                None => out.push((act, s)),
            }
        }
        out.sort_by_key(|&(x, _)| x);
        out
    };
    let ea = by_action(&mut session, &ids[0]);
    let eb = by_action(&mut session, &ids[1]);
    if ea.len().saturating_mul(eb.len()) > MAX_ACTION_PAIRS {
        return Err(CompareError::TooManyActionPairs { a: ea.len(), b: eb.len() });
    }
    let mut labels: Vec<(Action, Action)> = Vec::new();
    let mut sets: Vec<InputSet> = Vec::new();
    for &(x, sx) in &ea {
        for &(y, sy) in &eb {
            if !keep(x, y) {
                continue;
            }
            let both = session.sets().and(sx, sy);
            if !session.sets().is_empty(both) {
                labels.push((x, y));
                sets.push(both);
            }
        }
    }
    let regions = session.regions(&sets);
    if session.exhausted() {
        return Err(CompareError::NodeLimit { limit: session.node_limit() });
    }
    let emus: [Vec<Emulator>; 2] = [a.iter().map(Emulator::new).collect(), b.iter().map(Emulator::new).collect()];
    let mut out = Vec::new();
    for ar in regions.arches {
        for class in ar.classes {
            for part in class.parts {
                let (x, y) = labels[part.label];
                let input = session.sets().example(part.inputs).expect("regions are non-empty");
                let ra = stack::run(&emus[0], &input);
                let rb = stack::run(&emus[1], &input);
                for (side, run, want) in [(Side::A, &ra, x), (Side::B, &rb, y)] {
                    if run.action != want {
                        return Err(CompareError::Disagreement { side, input, symbolic: want, emulated: run.action });
                    }
                }
                let arch = Arch::from_audit(input.arch, input.nr);
                out.push(Region {
                    arch: ar.arch.clone(),
                    syscalls: class.rows.clone(),
                    numbers: class.numbers.clone(),
                    when: part.when,
                    a: x,
                    b: y,
                    example: Example {
                        input,
                        arch,
                        syscall: arch.and_then(|a| a.syscall_name(input.nr)),
                        a: ra,
                        b: rb,
                        kernel_confirmed: None,
                    },
                });
            }
        }
    }
    if session.exhausted() {
        return Err(CompareError::NodeLimit { limit: session.node_limit() });
    }
    Ok(out)
}

// ---- findings ----

impl Diff {
    /// One `D001 filters-differ` warning per region, with A's run as the
    /// counterexample.
    pub fn findings(&self) -> Vec<Finding> {
        self.regions.iter().map(|r| finding(r, "D001", "filters-differ", Severity::Warning)).collect()
    }
}

impl Refinement {
    /// One `D002 less-strict` error per violation, with A's run as the
    /// counterexample.
    pub fn findings(&self) -> Vec<Finding> {
        self.violations.iter().map(|r| finding(r, "D002", "less-strict", Severity::Error)).collect()
    }
}

fn finding(r: &Region, code: &'static str, name: &'static str, severity: Severity) -> Finding {
    let counterexample = r.example.counterexample(true);
    let mut message = format!("{}: A {}, B {}", region_label(r), r.a, r.b);
    if r.when != Condition::Always {
        let _ = write!(message, " when {}", r.when);
    }
    Finding {
        code,
        name,
        severity,
        message,
        insns: counterexample.path.last().copied().into_iter().collect(),
        policy_line: None,
        counterexample: Some(counterexample),
    }
}

// ---- text ----

fn num_nr(n: u32) -> String {
    if n < 0x1_0000 {
        n.to_string()
    } else {
        num(n as u64)
    }
}

fn row_label(r: &NrRow) -> String {
    match (r.name, r.nr_last) {
        (Some(n), _) => n.to_string(),
        (None, None) => format!("nr {}", num_nr(r.nr)),
        (None, Some(l)) => format!("nr {}..={}", num_nr(r.nr), num_nr(l)),
    }
}

pub(crate) fn arch_label(k: &ArchKey) -> String {
    match k {
        ArchKey::Known(a) => format!(
            "{a} ({:#010x}{})",
            a.audit_arch(),
            match a {
                Arch::X86_64 => ", nr without __X32_SYSCALL_BIT",
                Arch::X32 => ", nr with __X32_SYSCALL_BIT",
                _ => "",
            }
        ),
        ArchKey::Other { when, known } => {
            let mut s = String::from("any other arch");
            if *when != Condition::Always {
                let _ = write!(s, " where {when}");
            }
            if !known.is_empty() {
                let names: Vec<&str> = known.iter().map(|a| a.name()).collect();
                let _ = write!(s, " (including {})", names.join(", "));
            }
            s
        }
    }
}

pub(crate) fn rows_text(r: &Region) -> Vec<String> {
    let rows: Vec<String> = r.syscalls.iter().map(row_label).collect();
    match &r.numbers {
        None => rows,
        Some(c) if rows.is_empty() => vec![format!("numbers with {c}")],
        Some(c) => {
            let mut v = vec![format!("numbers with {c}, among them {}", rows[0])];
            v.extend(rows.into_iter().skip(1));
            v
        }
    }
}

fn region_label(r: &Region) -> String {
    let rows = rows_text(r);
    let shown =
        if rows.len() > 6 { format!("{} and {} more", rows[..5].join(", "), rows.len() - 5) } else { rows.join(", ") };
    format!("{}: {shown}", arch_label(&r.arch))
}

/// `via insns 0 1 2`, shortened in the middle past 16 instructions.
fn path_text(path: &[usize]) -> String {
    let show = |p: &[usize]| p.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
    if path.len() <= 16 {
        format!("via insns {}", show(path))
    } else {
        format!("via {} insns {} … {}", path.len(), show(&path[..8]), show(&path[path.len() - 4..]))
    }
}

pub(crate) fn run_text(r: &StackRun) -> String {
    match r.filters.len() {
        0 => format!("{} (no filter)", r.action),
        1 => format!("{} {}", r.action, path_text(&r.filters[0].path)),
        n => match r.decided_by {
            Some(i) => format!("{} from filter {i} of {n} {}", r.action, path_text(&r.filters[i].path)),
            None => format!("{} (no filter of {n} ranks below ALLOW)", r.action),
        },
    }
}

pub(crate) fn input_text(e: &Example) -> String {
    let d = &e.input;
    let mut s = match e.arch {
        Some(a) => format!("{a} "),
        None => format!("arch {:#x} ", d.arch),
    };
    match e.syscall {
        Some(n) => s.push_str(n),
        None if e.arch == Some(Arch::X32) => {
            let _ = write!(s, "syscall {:#x}", d.nr);
        }
        None => {
            let _ = write!(s, "syscall {}", num_nr(d.nr));
        }
    }
    let args: Vec<String> = d.args.iter().map(|a| format!("{a:#x}")).collect();
    let _ = write!(s, "({}) ip={:#x}", args.join(", "), d.instruction_pointer);
    s
}

/// Wrap `items` after `head` at about 100 columns.
fn wrap_list(out: &mut String, indent: &str, items: &[String]) {
    let mut line = indent.to_string();
    for (i, it) in items.iter().enumerate() {
        let piece = if i == 0 { it.clone() } else { format!(", {it}") };
        if i > 0 && line.len() + piece.len() > 100 {
            out.push_str(line.trim_end());
            out.push_str(",\n");
            line = format!("{indent}{it}");
        } else {
            line.push_str(&piece);
        }
    }
    out.push_str(&line);
    out.push_str(":\n");
}

/// Regions grouped by arch, then by syscall rows.
fn render_regions(out: &mut String, regions: &[Region]) {
    let mut last_arch: Option<&ArchKey> = None;
    let mut last_rows: Option<(&[NrRow], &Option<Condition>)> = None;
    for r in regions {
        if last_arch != Some(&r.arch) {
            let _ = writeln!(out, "{}:", arch_label(&r.arch));
            last_arch = Some(&r.arch);
            last_rows = None;
        }
        if last_rows != Some((r.syscalls.as_slice(), &r.numbers)) {
            wrap_list(out, "  ", &rows_text(r));
            last_rows = Some((&r.syscalls, &r.numbers));
        }
        let _ = write!(out, "    A {}, B {}", r.a, r.b);
        if r.when != Condition::Always {
            let _ = write!(out, " when {}", r.when);
        }
        let e = &r.example;
        let kernel = match e.kernel_confirmed {
            Some(true) => " [kernel agrees]",
            Some(false) => " [KERNEL DISAGREES]",
            None => "",
        };
        let _ = writeln!(out, "\n      e.g. {}{kernel}", input_text(e));
        let _ = writeln!(out, "        A: {}", run_text(&e.a));
        let _ = writeln!(out, "        B: {}", run_text(&e.b));
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Diff {
    /// Text for people: `A: …`, `B: …` (the names given), the verdict, then every
    /// region grouped by arch and syscall, each with its example.
    pub fn render_text(&self, a: &str, b: &str) -> String {
        let mut out = format!("A: {a}\nB: {b}\n");
        if self.equivalent {
            out.push_str(
                "equivalent: A and B take the same action on every input \
                 (every arch value, syscall number, argument and instruction pointer)\n",
            );
        } else {
            let _ = writeln!(
                out,
                "different: {} where A and B take different actions",
                plural(self.regions.len(), "region", "regions")
            );
            render_regions(&mut out, &self.regions);
        }
        out
    }
}

impl Refinement {
    /// Text for people, like [`Diff::render_text`].
    pub fn render_text(&self, a: &str, b: &str) -> String {
        let mut out = format!("A: {a}\nB: {b}\n");
        if self.refines {
            out.push_str("A refines B: on every input A's action is at least as strict as B's\n");
        } else {
            let _ = writeln!(
                out,
                "A does not refine B: {} where A's action is less strict than B's",
                plural(self.violations.len(), "region", "regions")
            );
            render_regions(&mut out, &self.violations);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{assemble, validate};

    fn asm(src: &str) -> ValidProgram {
        validate(&assemble(src).expect("assembles")).expect("valid")
    }

    /// x86_64: read/write allowed, getpid ERRNO(1), openat allowed read-only,
    /// everything else ERRNO(1); other arches killed.
    const OLD: &str = "
        ld [4]
        jeq #0xc000003e, x86, kill
    x86:
        ld [0]
        jeq #0, allow, n1
    n1: jeq #1, allow, n2
    n2: jeq #39, eperm, n3
    n3: jeq #257, openat, eperm
    openat:
        ld [32]
        and #3
        jeq #0, allow, eperm
    eperm: ret #0x50001
    allow: ret #0x7fff0000
    kill:  ret #0x80000000
    ";

    /// The new version: getpid allowed, openat O_WRONLY now EACCES instead of
    /// EPERM, O_RDWR still EPERM; close (3) allowed.
    const NEW: &str = "
        ld [4]
        jeq #0xc000003e, x86, kill
    x86:
        ld [0]
        jeq #0, allow, n1
    n1: jeq #1, allow, n2
    n2: jeq #39, allow, n3
    n3: jeq #3, allow, n4
    n4: jeq #257, openat, eperm
    openat:
        ld [32]
        and #3
        jeq #0, allow, n5
    n5: jeq #1, eacces, eperm
    eacces: ret #0x5000d
    eperm:  ret #0x50001
    allow:  ret #0x7fff0000
    kill:   ret #0x80000000
    ";

    #[test]
    fn diff_lists_each_changed_region_with_an_example() {
        let d = diff(&asm(OLD), &asm(NEW), &Options::default()).unwrap();
        assert!(!d.equivalent);
        insta::assert_snapshot!(d.render_text("old.s", "new.s"));
    }

    /// Every odd number: 2^30 intervals per arch entry, described by a
    /// condition instead (and found without enumerating them).
    #[test]
    fn scattered_numbers_are_a_condition() {
        let odd = asm("
            ld [4]
            jeq #0xc000003e, x86, kill
        x86:
            ld [0]
            jset #1, eperm, allow
        eperm: ret #0x50001
        allow: ret #0x7fff0000
        kill:  ret #0x80000000
        ");
        let all = asm("
            ld [4]
            jeq #0xc000003e, allow, kill
        allow: ret #0x7fff0000
        kill:  ret #0x80000000
        ");
        let d = diff(&odd, &all, &Options::default()).unwrap();
        let got: Vec<(&ArchKey, String, Action, Action)> =
            d.regions.iter().map(|r| (&r.arch, r.numbers.as_ref().unwrap().to_string(), r.a, r.b)).collect();
        let x86 = ArchKey::Known(Arch::X86_64);
        let x32 = ArchKey::Known(Arch::X32);
        assert_eq!(
            got,
            vec![
                (&x86, "(nr & 0x1) == 1".to_string(), Action::Errno(1), Action::Allow),
                (&x32, "(nr & 0x1) == 1".to_string(), Action::Errno(1), Action::Allow),
            ]
        );
        assert_eq!(d.regions[0].syscalls[0].name, Some("write"));
        assert!(d.regions.iter().all(|r| r.example.input.nr % 2 == 1 && r.syscalls.iter().all(|s| s.nr % 2 == 1)));
        let text = d.render_text("odd", "all");
        assert!(text.contains("  numbers with (nr & 0x1) == 1, among them write, close, fstat,"), "{text}");
    }

    #[test]
    fn findings_carry_side_a_as_the_counterexample() {
        let r = refines(&asm(NEW), &asm(OLD), &Options::default()).unwrap();
        let f = r.findings();
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].code, f[0].name, f[0].severity), ("D002", "less-strict", Severity::Error));
        assert_eq!(
            f[0].message,
            "x86_64 (0xc000003e, nr without __X32_SYSCALL_BIT): close, getpid: A ALLOW, B ERRNO(1) EPERM"
        );
        let c = f[0].counterexample.as_ref().unwrap();
        assert_eq!((c.syscall, c.action), (Some("close"), Action::Allow));
        assert_eq!(f[0].insns, vec![*c.path.last().unwrap()]);
        let d = diff(&asm(OLD), &asm(NEW), &Options::default()).unwrap();
        let f = d.findings();
        assert_eq!(f.iter().map(|f| (f.code, f.severity)).collect::<Vec<_>>(), vec![("D001", Severity::Warning); 2]);
        assert!(
            f[1].message
                .ends_with("A ERRNO(1) EPERM, B ERRNO(13) EACCES when (arg2 & O_ACCMODE (0x3)) == O_WRONLY (1)"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn refinement_holds_one_way_only() {
        let (old, new) = (asm(OLD), asm(NEW));
        // The old filter is stricter or as strict everywhere (ERRNO(1) and
        // ERRNO(13) are equally strict).
        let r = refines(&old, &new, &Options::default()).unwrap();
        assert!(r.refines && r.violations.is_empty());
        assert_eq!(
            r.render_text("old.s", "new.s"),
            "A: old.s\nB: new.s\nA refines B: on every input A's action is at least as strict as B's\n"
        );
        // The new one allows getpid and close where the old one denied them.
        let r = refines(&new, &old, &Options::default()).unwrap();
        assert!(!r.refines);
        insta::assert_snapshot!(r.render_text("new.s", "old.s"));
    }
}
