//! The review: everything a reviewer reads before approving a profile, as one
//! value that the HTML ([`super::html`]) and Markdown ([`super::markdown`])
//! renderers turn into a page.
//!
//! Why it exists: "what does this profile allow, is it safe, what changed,
//! what does it cost?" is answered today by four commands (`table`, `check` /
//! `lint`, `diff`, `bench`). [`build`] runs the same analyses on one filter —
//! the exact table, the policy properties, the lints, the diff against an older
//! filter, the annotated disassembly — and keeps their results in plain,
//! serialisable structs with every label already spelled out, so neither
//! renderer computes anything and both show the same facts.
//!
//! The matrix is complete by construction: for each arch column, a named
//! syscall without a row of its own in the exact table takes the table's
//! "every other number" outcomes (the table puts every `(arch, nr)` in exactly
//! one place, see [`crate::symbolic::table`]), and the unnamed numbers that
//! behave differently are listed in one extra row per column.

use crate::arch::Arch;
use crate::bpf::{listing, validate, DisasmOptions, ValidProgram};
use crate::check::Job;
use crate::diff::{self, strictness, Diff};
use crate::finding::confirm::{KernelCheck, KernelStatus};
use crate::finding::{Counterexample, Finding, Severity};
use crate::lints::{self, LintOptions};
pub use crate::policy::verdict::LintCounts;
use crate::policy::verdict::Summary;
use crate::policy::{self, Policy};
use crate::seccomp::{Action, SeccompData};
use crate::sources::Loaded;
use crate::symbolic::cond::Condition;
use crate::symbolic::table::{ArchTable, Outcome, Row};
use crate::symbolic::{Options, TableOptions};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a review is built from.
pub struct ReviewInput<'a> {
    /// The filter as the user named it (file path).
    pub name: String,
    pub loaded: &'a Loaded,
    /// The policy file's name and the parsed policy.
    pub policy: Option<(String, &'a Policy)>,
    /// The older filter to compare with: its name and program (the kernel
    /// must accept it; the caller validates).
    pub against: Option<(String, &'a ValidProgram)>,
    /// The overhead measurement, already run by the caller (kernel I/O).
    pub bench: Option<BenchView>,
    /// The arch assumed where nothing else says which arches the filter is for.
    pub fallback_arch: Arch,
    /// What produced the report (`seccheck 0.1.0`).
    pub tool: String,
    /// Asks the running kernel about every counterexample, setting their
    /// `kernel_confirmed`, and says what became of it
    /// ([`crate::finding::confirm::ask`]). The caller does the kernel I/O;
    /// `None` here: nobody is asked.
    pub confirm: Option<Confirm<'a>>,
}

/// See [`ReviewInput::confirm`].
pub type Confirm<'a> = &'a mut dyn FnMut(Vec<&mut Counterexample>) -> KernelCheck;

/// Why a review could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The filter (or the older one) cannot be evaluated exactly.
    #[error("{file}: cannot be analysed exactly: {msg}")]
    Analysis { file: String, msg: String },
}

/// How a matrix cell, a finding's example or a diff side is shown: its colour
/// in the HTML page, its group in Markdown. Finer than
/// [`crate::seccomp::ActionClass`], which says only whether the syscall runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DisplayClass {
    /// ALLOW: the syscall runs.
    Allowed,
    /// LOG: the syscall runs and is logged.
    Logged,
    /// Different actions depending on the arguments (or instruction pointer).
    Conditional,
    /// USER_NOTIF, TRACE: a supervisor or tracer decides (and becomes part of
    /// the trusted computing base).
    Delegated,
    /// ERRNO, TRAP: the syscall fails, the process goes on.
    Denied,
    /// KILL_THREAD, KILL_PROCESS, and unknown action values (which act as
    /// KILL_PROCESS in `__seccomp_filter`, kernel/seccomp.c).
    Killed,
}

impl DisplayClass {
    pub fn of(a: Action) -> DisplayClass {
        match a.effective() {
            Action::Allow => DisplayClass::Allowed,
            Action::Log => DisplayClass::Logged,
            Action::UserNotif | Action::Trace(_) => DisplayClass::Delegated,
            Action::Errno(_) | Action::Trap(_) => DisplayClass::Denied,
            Action::KillProcess | Action::KillThread | Action::Unknown(_) => DisplayClass::Killed,
        }
    }

    /// Every class, in legend order.
    pub const ALL: [DisplayClass; 6] = [
        DisplayClass::Allowed,
        DisplayClass::Logged,
        DisplayClass::Conditional,
        DisplayClass::Delegated,
        DisplayClass::Denied,
        DisplayClass::Killed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DisplayClass::Allowed => "allowed",
            DisplayClass::Logged => "logged",
            DisplayClass::Conditional => "conditional",
            DisplayClass::Delegated => "delegated",
            DisplayClass::Denied => "denied",
            DisplayClass::Killed => "killed",
        }
    }

    /// What the class means, for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            DisplayClass::Allowed => "ALLOW: runs",
            DisplayClass::Logged => "LOG: runs, logged",
            DisplayClass::Conditional => "depends on the arguments",
            DisplayClass::Delegated => "USER_NOTIF / TRACE: a supervisor decides",
            DisplayClass::Denied => "ERRNO / TRAP: fails",
            DisplayClass::Killed => "KILL_THREAD / KILL_PROCESS",
        }
    }
}

/// The whole page.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub tool: String,
    pub subject: Subject,
    pub verdict: Verdict,
    /// Why the kernel would refuse the filter (then there is no matrix, no
    /// findings and no diff: the filter never runs).
    pub rejection: Vec<String>,
    pub matrix: Option<Matrix>,
    /// Most severe first, then by code (`finding::group`); ids `F1`… in that order.
    pub findings: Vec<FindingView>,
    /// The findings by kind (indices into `findings`): one card each.
    pub groups: Vec<crate::finding::group::Group>,
    pub listing: Vec<ListingRow>,
    pub diff: Option<DiffView>,
    pub bench: Option<BenchView>,
}

/// The filter under review.
#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    pub file: String,
    /// How it was read (`docker`, `raw`, …).
    pub format: String,
    /// For a profile: the generator and its settings.
    pub generator: Option<String>,
    /// The arches the filter is meant for, and where that comes from.
    pub arches: Vec<String>,
    pub arch_source: String,
    pub instructions: usize,
    /// `SECCOMP_FILTER_FLAG_*` the loader passes.
    pub load_flags: Vec<String>,
    /// What the generator did silently.
    pub notes: Vec<String>,
}

/// The answer at the top of the page.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub pass: bool,
    /// One line: `PASS: every property holds, no lint warnings` / `FAIL: …`.
    pub headline: String,
    pub properties: Option<Properties>,
    pub lints: LintCounts,
    /// Per matrix column: named syscalls per action class.
    pub arch_counts: Vec<ArchCount>,
    /// With `--against`: regions changed, and how many loosen the filter.
    pub changes: Option<ChangeCount>,
    pub bench: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Properties {
    pub policy: String,
    pub total: usize,
    pub failed: usize,
    pub items: Vec<Property>,
}

/// One stated property of the policy and whether it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Property {
    /// `P002`-style code of the findings it produces.
    pub code: &'static str,
    pub label: String,
    /// Line in the policy file, where the property is one rule.
    pub line: Option<usize>,
    pub pass: bool,
    /// Ids of the findings that show it failing.
    pub findings: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ArchCount {
    pub arch: String,
    /// `(class name, count)` in legend order, zero counts left out.
    pub counts: Vec<(&'static str, usize)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChangeCount {
    pub against: String,
    pub regions: usize,
    /// Regions where this filter's action is less strict than the old one's.
    pub looser: usize,
}

/// The per-arch syscall matrix.
#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    pub arches: Vec<Column>,
    /// One row per syscall name (sorted), then one `other numbers` row.
    pub rows: Vec<MatrixRow>,
    /// Rows that are syscall names (the count a reader checks against the
    /// arch tables).
    pub syscall_rows: usize,
    /// Arch values outside the columns, with what they get.
    pub other_arches: Vec<OtherArchView>,
    /// Legend: `(class, meaning)`.
    pub legend: Vec<(&'static str, &'static str)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Column {
    pub arch: String,
    /// `AUDIT_ARCH_X86_64 0xc000003e, nr without __X32_SYSCALL_BIT`.
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MatrixRow {
    /// The syscall name, or `other numbers`.
    pub name: String,
    /// False for the `other numbers` row.
    pub named: bool,
    /// The classes of its cells, space-separated (for the filter box's class
    /// buttons).
    pub classes: String,
    /// One per column; `None` where the arch has no syscall of that name.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// The syscall number on this arch (empty for the `other numbers` row).
    pub nr: String,
    pub class: DisplayClass,
    /// The action, or for a conditional cell the distinct actions.
    pub summary: String,
    /// Each action with the condition under which it is taken (empty when
    /// one action holds for every argument value).
    pub conditions: Vec<CondLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CondLine {
    pub action: String,
    pub class: DisplayClass,
    pub when: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct OtherArchView {
    /// `any other arch value (including aarch64, arm, …)`.
    pub label: String,
    pub class: DisplayClass,
    /// `KILL_THREAD for every syscall`, or one line per row.
    pub lines: Vec<String>,
}

/// A finding as shown: a policy violation or a lint.
#[derive(Clone, Debug, Serialize)]
pub struct FindingView {
    /// Anchor id: `F1`, `F2`, …
    pub id: String,
    /// `property` or `lint`.
    pub source: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// For lints: the one-line summary `seccheck explain` starts with.
    pub explain: Option<String>,
    pub policy_line: Option<usize>,
    /// The instructions involved, with their listing text.
    pub insns: Vec<InsnRef>,
    pub example: Option<ExampleView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct InsnRef {
    pub index: usize,
    /// `jeq #0x101, 8, 6  ; openat`.
    pub text: String,
}

/// A concrete input and what the filter does with it.
#[derive(Clone, Debug, Serialize)]
pub struct ExampleView {
    /// `x86_64 openat(0x0, 0x1, …) ip=0x0`.
    pub input: String,
    pub action: String,
    pub class: DisplayClass,
    /// Instructions executed, in order.
    pub path: Vec<usize>,
    /// `agrees`, `DISAGREES`, or empty when the kernel was not asked.
    pub kernel: String,
}

/// One line of the annotated disassembly.
#[derive(Clone, Debug, Serialize)]
pub struct ListingRow {
    pub index: usize,
    pub text: String,
    pub comment: String,
    /// For `ret`: the class of the action it returns.
    pub ret: Option<DisplayClass>,
    /// Findings that name this instruction.
    pub findings: Vec<String>,
}

/// `--against OLD`: every region where the two filters differ.
#[derive(Clone, Debug, Serialize)]
pub struct DiffView {
    pub against: String,
    pub equivalent: bool,
    pub looser: usize,
    pub regions: Vec<RegionView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RegionView {
    /// `x86_64 (0xc000003e, nr without __X32_SYSCALL_BIT)`.
    pub arch: String,
    /// Syscall names and number ranges (or the condition on `nr`).
    pub syscalls: Vec<String>,
    /// The argument condition; `always` when it covers every argument value.
    pub when: String,
    /// This filter's action (A of the diff).
    pub now: String,
    pub now_class: DisplayClass,
    /// The older filter's action.
    pub before: String,
    pub before_class: DisplayClass,
    /// This filter's action is less strict than before.
    pub looser: bool,
    /// An input of the region.
    pub example: String,
    /// How each side decided it (`ALLOW via insns 0 1 4`).
    pub now_run: String,
    pub before_run: String,
    /// This filter's path for the example (links into the listing).
    pub path: Vec<usize>,
}

/// `--bench`: the overhead measurement, already rendered to cells and SVG.
#[derive(Clone, Debug, Serialize)]
pub struct BenchView {
    /// Kernel, CPU, JIT, load.
    pub environment: Vec<String>,
    pub tables: Vec<BenchTable>,
    /// `(title, SVG document)`.
    pub plots: Vec<(String, String)>,
    /// The rest of the terminal summary (model, noise, skipped probes).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchTable {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Build the review: validate, analyse, check, lint, tabulate, disassemble,
/// compare.
pub fn build(input: ReviewInput<'_>) -> Result<Review, ReviewError> {
    let program = &input.loaded.program;
    let compiled = input.loaded.compiled.as_ref();
    let mut subject = Subject {
        file: input.name.clone(),
        format: input.loaded.format.name().to_string(),
        generator: compiled.map(|c| c.generator.clone()),
        arches: compiled.map(|c| c.arches.iter().map(|a| a.name().to_string()).collect()).unwrap_or_default(),
        arch_source: if compiled.is_some() { "the profile's arches".into() } else { String::new() },
        instructions: program.len(),
        load_flags: compiled.map(|c| c.load_flags.iter().map(|f| f.to_string()).collect()).unwrap_or_default(),
        notes: compiled.map(|c| c.notes.iter().map(|n| n.to_string()).collect()).unwrap_or_default(),
    };
    let valid = match validate(program) {
        Ok(v) => v,
        Err(violations) => return Ok(rejected(input, subject, violations.iter().map(|v| v.to_string()).collect())),
    };
    let unexact = |msg: String| ReviewError::Analysis { file: input.name.clone(), msg };
    let job = Job {
        policy: input.policy.as_ref().map(|(_, p)| *p),
        lints: Some(LintOptions {
            arches: input.policy.as_ref().map(|(_, p)| p.arches.clone()).or_else(|| compiled.map(|c| c.arches.clone())),
            fallback_arch: Some(input.fallback_arch),
        }),
        symbolic: Options::default(),
    };
    let checked = crate::check::run(&valid, &job).map_err(|e| unexact(e.to_string()))?;
    let (intended, arch_source) = checked.lint_arches.expect("the lints ran");
    let mut analysis = checked.analysis;
    let mut raw: Vec<(&'static str, Finding)> = Vec::with_capacity(checked.findings.len());
    for (i, f) in checked.findings.into_iter().enumerate() {
        raw.push((if i < checked.violations { "property" } else { "lint" }, f));
    }
    if subject.arches.is_empty() || input.policy.is_some() {
        subject.arches = intended.iter().map(|a| a.name().to_string()).collect();
        subject.arch_source = match arch_source {
            lints::ArchSource::Given if input.policy.is_some() => "the policy's arches".into(),
            lints::ArchSource::Given => "the profile's arches".into(),
            lints::ArchSource::Inferred => "the arches the filter tests".into(),
            lints::ArchSource::Assumed => "assumed (--host-arch): the filter names no arch".into(),
            lints::ArchSource::Unknown => "none known".into(),
        };
    }
    // Display order (most severe first, then code), so ids F1… follow it.
    let plain: Vec<Finding> = raw.iter().map(|(_, f)| f.clone()).collect();
    let mut slots: Vec<Option<(&'static str, Finding)>> = raw.into_iter().map(Some).collect();
    let mut raw: Vec<(&'static str, Finding)> =
        crate::finding::group::order(&plain).into_iter().map(|i| slots[i].take().expect("each index once")).collect();
    // What the kernel said, when it was asked.
    let kernel: Option<KernelCheck> =
        input.confirm.map(|confirm| confirm(raw.iter_mut().filter_map(|(_, f)| f.counterexample.as_mut()).collect()));

    let lines = listing(program, &DisasmOptions::default());
    let findings: Vec<FindingView> =
        raw.iter().enumerate().map(|(i, (source, f))| finding_view(i, source, f, &lines)).collect();
    let mut refs: HashMap<usize, Vec<String>> = HashMap::new();
    for f in &findings {
        for r in &f.insns {
            refs.entry(r.index).or_default().push(f.id.clone());
        }
    }
    let listing_rows = lines
        .iter()
        .map(|l| ListingRow {
            index: l.index,
            text: l.text.clone(),
            comment: l.comment.clone().unwrap_or_default(),
            ret: (l.insn.code == crate::bpf::insn::BPF_RET | crate::bpf::insn::BPF_K)
                .then(|| DisplayClass::of(Action::from_ret(l.insn.k))),
            findings: refs.remove(&l.index).unwrap_or_default(),
        })
        .collect();

    let matrix = matrix(&mut analysis, &intended, input.fallback_arch);
    let diff = match &input.against {
        None => None,
        Some((old_name, old)) => {
            let d = diff::diff(&valid, old, &Options::default())
                .map_err(|e| unexact(format!("comparing with {old_name}: {e}")))?;
            Some(diff_view(old_name, &d))
        }
    };

    let lint_counts = count_lints(&raw);
    let properties = input.policy.as_ref().map(|(pname, pol)| properties(pname, pol, &raw, &findings));
    let violations = raw.iter().filter(|(s, _)| *s == "property").count();
    // A disagreement with the kernel is a bug in seccheck: no verdict passes on it.
    let disagree = kernel.as_ref().map_or(0, |k| k.disagreed);
    // The same verdict line as `check` and `generate` (policy::verdict::Summary),
    // with what the report adds that does not decide the exit code.
    let summary = match &properties {
        Some(p) => Summary::of_counts(p.total, p.total - p.failed, violations, Some(lint_counts)),
        None => Summary::without_policy(Some(lint_counts)),
    }
    .with_kernel_disagreements(disagree);
    let mut facts = Vec::new();
    if let Some(d) = &diff {
        facts.push(if d.equivalent {
            format!("equivalent to {}", d.against)
        } else {
            format!("{} changed from {} ({} looser)", plural(d.regions.len(), "region"), d.against, d.looser)
        });
    }
    if let Some(k) = &kernel {
        if disagree == 0 {
            facts.push(format!("the kernel agrees on {} of {} it ran", k.agreed, plural(k.asked, "counterexample")));
        }
    }
    let pass = summary.pass;
    let mut headline = summary.line_with(properties.as_ref().map(|p| p.policy.as_str()), &facts);
    // A kernel that cannot be asked is said, not an error: the findings
    // stand on the exact analysis (as in `check`, `lint` and `diff`).
    if let Some(KernelCheck { status: KernelStatus::Unavailable, reason: Some(r), .. }) = &kernel {
        headline += &format!("; the kernel could not be asked about the counterexamples ({r})");
    }
    let verdict = Verdict {
        pass,
        headline,
        properties,
        lints: lint_counts,
        arch_counts: matrix.as_ref().map(arch_counts).unwrap_or_default(),
        changes: diff.as_ref().map(|d| ChangeCount {
            against: d.against.clone(),
            regions: d.regions.len(),
            looser: d.looser,
        }),
        bench: input.bench.is_some(),
    };
    Ok(Review {
        tool: input.tool,
        subject,
        verdict,
        rejection: Vec::new(),
        matrix,
        groups: crate::finding::group::groups(&raw.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>()),
        findings,
        listing: listing_rows,
        diff,
        bench: input.bench,
    })
}

fn plural(n: usize, w: &str) -> String {
    crate::words::count(n, w)
}

/// The review of a filter the kernel refuses: the reasons and the listing
/// (whose comments say which instruction is refused and why).
fn rejected(input: ReviewInput<'_>, subject: Subject, reasons: Vec<String>) -> Review {
    let lines = listing(&input.loaded.program, &DisasmOptions::default());
    let headline = format!(
        "FAIL: the kernel refuses this filter ({}), so it never runs (exit 1)",
        plural(reasons.len(), "reason")
    );
    Review {
        tool: input.tool,
        subject,
        verdict: Verdict {
            pass: false,
            headline,
            properties: None,
            lints: LintCounts::default(),
            arch_counts: Vec::new(),
            changes: None,
            bench: false,
        },
        rejection: reasons,
        matrix: None,
        findings: Vec::new(),
        groups: Vec::new(),
        listing: lines
            .iter()
            .map(|l| ListingRow {
                index: l.index,
                text: l.text.clone(),
                comment: l.comment.clone().unwrap_or_default(),
                ret: None,
                findings: Vec::new(),
            })
            .collect(),
        diff: None,
        bench: None,
    }
}

fn count_lints(raw: &[(&str, Finding)]) -> LintCounts {
    LintCounts::of(raw.iter().filter(|(s, _)| *s == "lint").map(|(_, f)| f))
}

/// Each stated property of the policy, with the findings that show it failing
/// (matched by code, and by policy line for the per-rule properties).
fn properties(pname: &str, pol: &Policy, raw: &[(&str, Finding)], views: &[FindingView]) -> Properties {
    // Only the property findings, with their ids.
    let (found, ids): (Vec<Finding>, Vec<String>) = raw
        .iter()
        .zip(views)
        .filter(|((s, _), _)| *s == "property")
        .map(|((_, f), v)| (f.clone(), v.id.clone()))
        .unzip();
    let items: Vec<Property> = policy::verdict::properties(pol, &found)
        .into_iter()
        .map(|p| Property {
            code: p.code,
            pass: p.holds(),
            findings: p.violations.iter().map(|&i| ids[i].clone()).collect(),
            label: p.label,
            line: p.line,
        })
        .collect();
    Properties {
        policy: pname.to_string(),
        total: items.len(),
        failed: items.iter().filter(|p| !p.pass).count(),
        items,
    }
}

fn insn_line(lines: &[crate::bpf::ListingLine], i: usize) -> String {
    match lines.get(i) {
        Some(l) => match &l.comment {
            Some(c) => format!("{}  ; {c}", l.text),
            None => l.text.clone(),
        },
        None => String::new(),
    }
}

/// `x86_64 openat(0x0, 0x1, 0x2, 0x0, 0x0, 0x0) ip=0x0`.
pub fn input_text(arch: Option<Arch>, syscall: Option<&str>, d: &SeccompData) -> String {
    let mut s = match arch {
        Some(a) => format!("{a} "),
        None => format!("arch {:#x} ", d.arch),
    };
    match syscall {
        Some(n) => s.push_str(n),
        None => s.push_str(&format!("syscall {:#x}", d.nr)),
    }
    let args: Vec<String> = d.args.iter().map(|a| format!("{a:#x}")).collect();
    s.push_str(&format!("({}) ip={:#x}", args.join(", "), d.instruction_pointer));
    s
}

fn finding_view(i: usize, source: &'static str, f: &Finding, lines: &[crate::bpf::ListingLine]) -> FindingView {
    let mut insns: BTreeSet<usize> = f.insns.iter().copied().collect();
    let example = f.counterexample.as_ref().map(|c| {
        insns.extend(c.path.last());
        ExampleView {
            input: input_text(c.arch, c.syscall, &c.input),
            action: c.action.to_string(),
            class: DisplayClass::of(c.action),
            path: c.path.clone(),
            kernel: match c.kernel_confirmed {
                Some(true) => "agrees".into(),
                Some(false) => "DISAGREES".into(),
                None => String::new(),
            },
        }
    });
    FindingView {
        id: format!("F{}", i + 1),
        source,
        code: f.code,
        name: f.name,
        severity: f.severity,
        message: f.message.clone(),
        explain: (source == "lint").then(|| lints::find(f.code).map(|l| l.summary())).flatten(),
        policy_line: f.policy_line,
        insns: insns.into_iter().map(|index| InsnRef { index, text: insn_line(lines, index) }).collect(),
        example,
    }
}

fn cell_of(nr: String, outcomes: &[Outcome]) -> Cell {
    match outcomes {
        [o] if o.when == Condition::Always => {
            Cell { nr, class: DisplayClass::of(o.kind), summary: o.kind.to_string(), conditions: Vec::new() }
        }
        _ => {
            let mut distinct: Vec<String> = Vec::new();
            for o in outcomes {
                let t = o.kind.to_string();
                if !distinct.contains(&t) {
                    distinct.push(t);
                }
            }
            let classes: BTreeSet<DisplayClass> = outcomes.iter().map(|o| DisplayClass::of(o.kind)).collect();
            Cell {
                nr,
                class: if classes.len() == 1 {
                    *classes.iter().next().expect("one class")
                } else {
                    DisplayClass::Conditional
                },
                summary: distinct.join(" / "),
                conditions: outcomes
                    .iter()
                    .map(|o| CondLine {
                        action: o.kind.to_string(),
                        class: DisplayClass::of(o.kind),
                        when: o.when.to_string(),
                    })
                    .collect(),
            }
        }
    }
}

fn nr_text(a: Arch, nr: u32) -> String {
    if a == Arch::X32 {
        format!("{nr:#x}")
    } else {
        nr.to_string()
    }
}

fn row_label(r: &Row) -> String {
    let n = |v: u32| if v < 0x1_0000 { v.to_string() } else { format!("{v:#x}") };
    match (r.name, r.nr_last) {
        (Some(name), _) => name.to_string(),
        (None, None) => format!("nr {}", n(r.nr)),
        (None, Some(l)) => format!("nr {}..={}", n(r.nr), n(l)),
    }
}

fn outcomes_text(outcomes: &[Outcome]) -> String {
    match outcomes {
        [o] if o.when == Condition::Always => o.kind.to_string(),
        _ => outcomes.iter().map(|o| format!("{} when {}", o.kind, o.when)).collect::<Vec<_>>().join("; "),
    }
}

/// The `other numbers` cell of one column: the unnamed numbers with rows of
/// their own, then every other number.
fn other_numbers(t: &ArchTable) -> Cell {
    let unnamed: Vec<&Row> = t.rows.iter().filter(|r| r.name.is_none()).collect();
    let mut c = cell_of(String::new(), &t.other_nr);
    // As the table prints numbers: decimal below 0x10000, else hex.
    let n = |v: u32| if v < 0x1_0000 { v.to_string() } else { format!("{v:#x}") };
    let ranges = t
        .other_unnamed
        .iter()
        .map(|r| if r.first == r.last { n(r.first) } else { format!("{}..={}", n(r.first), n(r.last)) })
        .collect::<Vec<_>>()
        .join(", ");
    if unnamed.is_empty() {
        c.summary = format!("{} (every number without a name: {ranges})", c.summary);
        return c;
    }
    let mut classes: BTreeSet<DisplayClass> = BTreeSet::from([c.class]);
    let mut conditions: Vec<CondLine> = Vec::new();
    for r in &unnamed {
        let rc = cell_of(String::new(), &r.outcomes);
        classes.insert(rc.class);
        conditions.push(CondLine { action: outcomes_text(&r.outcomes), class: rc.class, when: row_label(r) });
    }
    conditions.push(CondLine {
        action: outcomes_text(&t.other_nr),
        class: c.class,
        when: format!("every other number without a name: {ranges}"),
    });
    Cell {
        nr: String::new(),
        class: if classes.len() == 1 { c.class } else { DisplayClass::Conditional },
        summary: format!("{} ({} unnamed ranges differ)", c.summary, unnamed.len()),
        conditions,
    }
}

fn column_detail(a: Arch) -> String {
    format!(
        "{} {:#010x}{}",
        a.audit_name(),
        a.audit_arch(),
        match a {
            Arch::X86_64 => ", nr without __X32_SYSCALL_BIT",
            Arch::X32 => ", nr with __X32_SYSCALL_BIT",
            _ => "",
        }
    )
}

/// The matrix: the columns are the arches the exact table tells apart from
/// unknown arch values (x86_64, x32, i386 for a libseccomp x86_64 profile);
/// when it tells none apart (a filter that never tests `arch`), the arches
/// the filter is meant for.
fn matrix(an: &mut crate::symbolic::Analysis, intended: &[Arch], fallback: Arch) -> Option<Matrix> {
    let full = an.table(&TableOptions::default());
    let mut arches: Vec<Arch> = full.arches.iter().map(|t| t.arch).collect();
    if arches.is_empty() {
        arches = if intended.is_empty() { vec![fallback] } else { intended.to_vec() };
    }
    let table = an.table(&TableOptions { arches: Some(arches.clone()), syscalls: None });
    // name -> per column (nr, outcomes)
    let mut by_name: BTreeMap<&'static str, Vec<Option<Cell>>> = BTreeMap::new();
    for (col, t) in table.arches.iter().enumerate() {
        let own: HashMap<u32, &Row> = t.rows.iter().filter(|r| r.name.is_some()).map(|r| (r.nr, r)).collect();
        for &(nr, name) in t.arch.syscalls() {
            let outcomes = own.get(&nr).map_or(t.other_nr.as_slice(), |r| r.outcomes.as_slice());
            let cells = by_name.entry(name).or_insert_with(|| vec![None; table.arches.len()]);
            cells[col] = Some(cell_of(nr_text(t.arch, nr), outcomes));
        }
    }
    let classes_of = |cells: &[Option<Cell>]| {
        let set: BTreeSet<&str> = cells.iter().flatten().map(|c| c.class.name()).collect();
        set.into_iter().collect::<Vec<_>>().join(" ")
    };
    let mut rows: Vec<MatrixRow> = by_name
        .into_iter()
        .map(|(name, cells)| MatrixRow { name: name.to_string(), named: true, classes: classes_of(&cells), cells })
        .collect();
    let syscall_rows = rows.len();
    let other: Vec<Option<Cell>> = table.arches.iter().map(|t| Some(other_numbers(t))).collect();
    rows.push(MatrixRow { name: "other numbers".into(), named: false, classes: classes_of(&other), cells: other });
    let other_arches = full
        .other_arch
        .iter()
        .map(|o| {
            let mut label = String::from("any other arch value");
            if o.when != Condition::Always {
                label.push_str(&format!(" where {}", o.when));
            }
            let known: Vec<&str> =
                o.known.iter().map(|a| a.name()).filter(|n| !arches.iter().any(|a| a.name() == *n)).collect();
            if !known.is_empty() {
                label.push_str(&format!(" (including {})", known.join(", ")));
            }
            let c = cell_of(String::new(), &o.other_nr);
            let mut classes: BTreeSet<DisplayClass> = BTreeSet::from([c.class]);
            let mut lines: Vec<String> = o
                .rows
                .iter()
                .map(|r| {
                    classes.insert(cell_of(String::new(), &r.outcomes).class);
                    format!("{}: {}", row_label(r), outcomes_text(&r.outcomes))
                })
                .collect();
            lines.push(format!(
                "{}: {}",
                if o.rows.is_empty() { "every syscall" } else { "every other syscall" },
                outcomes_text(&o.other_nr)
            ));
            OtherArchView { label, class: if classes.len() == 1 { c.class } else { DisplayClass::Conditional }, lines }
        })
        .collect();
    Some(Matrix {
        arches: table
            .arches
            .iter()
            .map(|t| Column { arch: t.arch.name().to_string(), detail: column_detail(t.arch) })
            .collect(),
        rows,
        syscall_rows,
        other_arches,
        legend: DisplayClass::ALL.iter().map(|c| (c.name(), c.meaning())).collect(),
    })
}

fn arch_counts(m: &Matrix) -> Vec<ArchCount> {
    m.arches
        .iter()
        .enumerate()
        .map(|(col, a)| {
            let counts = DisplayClass::ALL
                .iter()
                .map(|&c| {
                    (
                        c.name(),
                        m.rows
                            .iter()
                            .filter(|r| r.named)
                            .filter(|r| r.cells[col].as_ref().is_some_and(|x| x.class == c))
                            .count(),
                    )
                })
                .filter(|&(_, n)| n > 0)
                .collect();
            ArchCount { arch: a.arch.clone(), counts }
        })
        .collect()
}

fn diff_view(against: &str, d: &Diff) -> DiffView {
    let regions: Vec<RegionView> = d
        .regions
        .iter()
        .map(|r| {
            let e = &r.example;
            let decided = e.a.decided_by.or(if e.a.filters.len() == 1 { Some(0) } else { None });
            RegionView {
                arch: diff::arch_label(&r.arch),
                syscalls: diff::rows_text(r),
                when: r.when.to_string(),
                now: r.a.to_string(),
                now_class: DisplayClass::of(r.a),
                before: r.b.to_string(),
                before_class: DisplayClass::of(r.b),
                looser: strictness(r.a) > strictness(r.b),
                example: diff::input_text(e),
                now_run: diff::run_text(&e.a),
                before_run: diff::run_text(&e.b),
                path: decided.map(|i| e.a.filters[i].path.clone()).unwrap_or_default(),
            }
        })
        .collect();
    DiffView {
        against: against.to_string(),
        equivalent: d.equivalent,
        looser: regions.iter().filter(|r| r.looser).count(),
        regions,
    }
}

/// The overhead measurement as the review shows it: machine, tables, plots,
/// and the terminal summary's closing notes (legend, noise, model, skips).
pub fn bench_view(report: &crate::overhead::Report) -> Result<BenchView, super::overhead::ReportError> {
    let e = &report.environment;
    let l = &report.load;
    let environment = vec![
        format!("kernel {} · {} × {} · {} · BPF JIT {}", e.kernel_release, e.cpus, e.cpu_model, e.virtualization, e.bpf_jit_enable.as_deref().unwrap_or("unknown")),
        format!(
            "load while measuring: other processes {:.0}% of all CPUs, steal {:.0}%, this benchmark {:.0}% over {:.0} s",
            l.others * 100.0,
            l.steal * 100.0,
            l.own * 100.0,
            l.wall_seconds
        ),
        format!("command: {}", report.command),
    ];
    let tables = super::overhead::tables(report)
        .into_iter()
        .map(|(title, header, rows)| BenchTable { title, header, rows })
        .collect();
    let text = super::overhead::text(report);
    let notes = match text.find("\n+N = ") {
        Some(p) => text[p + 1..].lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect(),
        None => Vec::new(),
    };
    Ok(BenchView { environment, tables, plots: super::overhead::plots(report)?, notes })
}
