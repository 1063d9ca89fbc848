//! Checking a [`Policy`] against the exact meaning of a filter.
//!
//! Every property becomes a set of inputs that must be empty ("the inputs of
//! `openat` on x86_64 that run although `arg2 & O_ACCMODE != O_RDONLY`"); a
//! non-empty set is a violation, shown with one concrete input from it, run
//! through the emulator for its action and path. Violations are listed per arch
//! and per syscall, so a user sees every one, not the first.

use super::{ActionKind, Default, Policy, RuleKind};
use crate::arch::Arch;
use crate::emu::Emulator;
use crate::finding::{Counterexample, Finding, Severity};
use crate::seccomp::ActionClass;
use crate::seccomp::{Action, SeccompData};
use crate::symbolic::vars::Field;
use crate::symbolic::{Analysis, InputSet};
use crate::when::families::{self, Target};
use crate::when::{input_set, Expr};

/// Property codes, stable across releases.
pub mod codes {
    pub const ARCH: (&str, &str) = ("P001", "other-arch-not-denied");
    pub const DENY: (&str, &str) = ("P002", "syscall-not-denied");
    pub const ALLOW: (&str, &str) = ("P003", "syscall-not-allowed");
    pub const ONLY_IF: (&str, &str) = ("P004", "condition-not-enforced");
    pub const DEFAULT: (&str, &str) = ("P005", "runs-outside-allow-rules");
    pub const FORBID: (&str, &str) = ("P006", "forbidden-action");
}

/// The inputs of one target: its syscall number (on its arch) and condition.
fn target_set(a: &mut Analysis, arch_set: InputSet, t: &Target) -> InputSet {
    let nr = a.field_eq(Field::Nr, t.nr as u64);
    let w = input_set(a, &t.when);
    let s = a.and(nr, w);
    a.and(arch_set, s)
}

struct Classes {
    denied: InputSet,
    runs: InputSet,
    by_kind: Vec<(ActionKind, InputSet)>,
}

fn classes(a: &mut Analysis) -> Classes {
    let (mut denied, mut runs) = (a.none(), a.none());
    let mut by_kind: Vec<(ActionKind, InputSet)> = Vec::new();
    for (act, set) in a.by_action() {
        match ActionClass::of(act) {
            ActionClass::Denied => denied = a.or(denied, set),
            ActionClass::Runs => runs = a.or(runs, set),
            ActionClass::Delegated => {}
        }
        let k = ActionKind::of(act);
        match by_kind.iter_mut().find(|(kk, _)| *kk == k) {
            Some((_, s)) => *s = a.or(*s, set),
            None => by_kind.push((k, set)),
        }
    }
    Classes { denied, runs, by_kind }
}

/// Why a policy could not be checked exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The decision diagrams outgrew their budget (a huge `when` condition,
    /// e.g. a chain of 100 000 distinct values): every set built after that is
    /// meaningless, so no verdict is given.
    #[error("{}the input sets outgrew the decision-diagram budget; refusing to approximate (simplify the condition)", match .line { Some(l) => format!("policy line {l}: "), None => String::new() })]
    Budget { line: Option<usize> },
}

/// Check every property of `policy` on the analysed program. Returns every
/// violation, each with a counterexample run through `emu`.
pub fn check(policy: &Policy, a: &mut Analysis, emu: &Emulator) -> Result<Vec<Finding>, CheckError> {
    check_with(policy, a, &|d| Counterexample::from_input(emu, d))
}

/// [`check`] for any meaning `a` stands for (one filter, or the effective
/// meaning of a stack: [`crate::stack::Stack::analysis`]); `example` turns a
/// violating input into its counterexample by running it concretely.
pub fn check_with(
    policy: &Policy,
    a: &mut Analysis,
    example: &dyn Fn(SeccompData) -> Counterexample,
) -> Result<Vec<Finding>, CheckError> {
    let out = check_inner(policy, a, example)?;
    if a.exhausted() {
        return Err(CheckError::Budget { line: None });
    }
    Ok(out)
}

fn check_inner(
    policy: &Policy,
    a: &mut Analysis,
    example: &dyn Fn(SeccompData) -> Counterexample,
) -> Result<Vec<Finding>, CheckError> {
    let cls = classes(a);
    let mut out = Vec::new();
    let mut listed = a.none();
    for &arch in &policy.arches {
        let s = a.arch(arch);
        listed = a.or(listed, s);
    }
    // Unlisted arches, x32 included unless listed: must be denied.
    let unlisted = a.not(listed);
    let not_denied = a.not(cls.denied);
    let mut bad = a.and(unlisted, not_denied);
    if !policy.arches.contains(&Arch::X32) {
        // An x32-bit number that names no x32 syscall (-1 among them, which
        // libseccomp lets through on purpose) runs nothing: do_syscall_x32
        // (arch/x86/entry/syscall_64.c) returns -ENOSYS for it. Only the x32
        // table's numbers are syscalls a filter must deny (as lint SC002 counts).
        let x32 = a.arch(Arch::X32);
        let mut named = a.none();
        for &(nr, _) in Arch::X32.syscalls() {
            let n = a.field_eq(Field::Nr, nr as u64);
            named = a.or(named, n);
        }
        let named = a.and(x32, named);
        let harmless = a.diff(x32, named);
        bad = a.diff(bad, harmless);
    }
    for (scope, set) in split_by_arch(a, bad) {
        let msg = format!(
            "{scope} syscalls are not denied, but the policy lists only {}",
            policy.arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
        );
        out.push(finding(a, example, codes::ARCH, msg, None, set));
    }

    let mut allowed_region = a.none();
    for rule in &policy.rules {
        let when = rule.when.as_ref().map(|(_, e)| input_set(a, e));
        if a.exhausted() {
            return Err(CheckError::Budget { line: Some(rule.line) });
        }
        // Where a deny or allow rule applies, as said in its message.
        let scope = match (&rule.kind, &rule.when) {
            (RuleKind::Deny | RuleKind::Allow, Some((t, _))) => format!(" where `{t}`"),
            _ => String::new(),
        };
        // A name listed twice in a rule says nothing new: checked once, so the
        // work per rule is bounded by the distinct names, not the list's length.
        let mut seen = std::collections::HashSet::new();
        let names: Vec<&String> = rule.syscalls.iter().filter(|n| seen.insert(n.as_str())).collect();
        for &arch in &policy.arches {
            let arch_set = a.arch(arch);
            for name in names.iter().copied() {
                let Ok(targets) = families::expand(name, arch) else { continue };
                for t in &targets {
                    let ts = target_set(a, arch_set, t);
                    let mut what = target_label(name, t, arch);
                    // A call routed through a multiplexer carries its arguments
                    // elsewhere, so a condition on them cannot be decided here.
                    let unreadable = routed(t) && rule.when.as_ref().is_some_and(|(_, e)| e.mentions_args());
                    let when = match (unreadable, &rule.kind) {
                        (false, _) => when,
                        // The rule must hold for every such call: any of them may
                        // carry arguments where it applies.
                        (true, RuleKind::Deny | RuleKind::Allow) => None,
                        // Any such call that runs may carry arguments outside the condition.
                        (true, RuleKind::AllowOnlyIf) => Some(a.none()),
                    };
                    if unreadable {
                        what.push_str(&format!(" ({})", routed_note(t)));
                    }
                    match rule.kind {
                        RuleKind::Deny => {
                            let ts = when.map_or(ts, |w| a.and(ts, w));
                            let bad = a.and(ts, not_denied);
                            if !a.is_empty(bad) {
                                out.push(finding(
                                    a,
                                    example,
                                    codes::DENY,
                                    format!("{what}{scope} is not denied"),
                                    Some(rule.line),
                                    bad,
                                ));
                            }
                        }
                        RuleKind::Allow => {
                            let ts = when.map_or(ts, |w| a.and(ts, w));
                            allowed_region = a.or(allowed_region, ts);
                            let not_runs = a.not(cls.runs);
                            let bad = a.and(ts, not_runs);
                            if !a.is_empty(bad) {
                                out.push(finding(
                                    a,
                                    example,
                                    codes::ALLOW,
                                    format!("{what}{scope} does not always run"),
                                    Some(rule.line),
                                    bad,
                                ));
                            }
                        }
                        RuleKind::AllowOnlyIf => {
                            let w = when.expect("allow_only_if has a parsed condition");
                            // The whole target is named by a rule: its violations are
                            // this rule's (P004), not the default's.
                            allowed_region = a.or(allowed_region, ts);
                            let not_w = a.not(w);
                            let outside = a.and(ts, not_w);
                            let bad = a.and(outside, cls.runs);
                            if !a.is_empty(bad) {
                                let cond = rule.when.as_ref().map(|(t, _)| t.as_str()).unwrap_or("");
                                let msg = if unreadable {
                                    format!("{what} runs, so `{cond}` is not enforced")
                                } else {
                                    format!("{what} runs although `{cond}` does not hold")
                                };
                                out.push(finding(a, example, codes::ONLY_IF, msg, Some(rule.line), bad));
                            }
                        }
                    }
                }
            }
        }
    }

    if policy.default == Default::Deny {
        let outside = a.not(allowed_region);
        let in_scope = a.and(listed, outside);
        let bad = a.and(in_scope, cls.runs);
        for arch in policy.arches.iter().copied() {
            let arch_set = a.arch(arch);
            let bad_arch = a.and(bad, arch_set);
            for (label, set) in split_by_syscall(a, arch, bad_arch) {
                out.push(finding(
                    a,
                    example,
                    codes::DEFAULT,
                    format!("{label} runs, but no allow rule names it (default = \"deny\")"),
                    None,
                    set,
                ));
            }
        }
    }

    for k in &policy.forbid {
        if let Some((_, set)) = cls.by_kind.iter().find(|(kk, _)| kk == k) {
            for (scope, s) in split_by_arch(a, *set) {
                out.push(finding(
                    a,
                    example,
                    codes::FORBID,
                    format!("{scope} inputs reach the forbidden action {k:?}"),
                    None,
                    s,
                ));
            }
        }
    }
    Ok(out)
}

/// A target that is a multiplexer entry for another call (`socketcall` with
/// `arg0 == SYS_SOCKET`), not the multiplexer named for itself.
fn routed(t: &Target) -> bool {
    matches!(t.name, "socketcall" | "ipc") && t.when != Expr::True
}

fn routed_note(t: &Target) -> &'static str {
    if t.name == "socketcall" {
        // net/socket.c SYSCALL_DEFINE2(socketcall): copy_from_user(a, args, ...)
        "socketcall passes the call's arguments in memory, which a seccomp filter cannot read, so the condition is taken as unknown"
    } else {
        // ipc/syscall.c ksys_ipc: the call's arguments arrive shifted, per call
        "ipc passes the call's arguments in other positions; the condition is not translated, so it is taken as unknown"
    }
}

fn target_label(name: &str, t: &Target, arch: Arch) -> String {
    let base = if name.starts_with('@') { format!("{} (from {name})", t.name) } else { t.name.to_string() };
    let cond = if t.when == Expr::True { String::new() } else { format!(" when {}", t.when) };
    format!("{arch} {base}{cond}")
}

/// Split a set by known arch (x32 apart), then "other arch values".
fn split_by_arch(a: &mut Analysis, set: InputSet) -> Vec<(String, InputSet)> {
    let mut out = Vec::new();
    let mut rest = set;
    for arch in Arch::all() {
        let s = a.arch(arch);
        let part = a.and(rest, s);
        if !a.is_empty(part) {
            out.push((arch.name().to_string(), part));
            rest = a.diff(rest, s);
        }
    }
    if !a.is_empty(rest) {
        out.push(("other arch value".to_string(), rest));
    }
    out
}

/// Split an arch's set by syscall number (named ones from the arch's table),
/// then the numbers the table does not name.
fn split_by_syscall(a: &mut Analysis, arch: Arch, set: InputSet) -> Vec<(String, InputSet)> {
    let mut out = Vec::new();
    let mut rest = set;
    for &(nr, name) in arch.syscalls() {
        if a.is_empty(rest) {
            break;
        }
        let n = a.field_eq(Field::Nr, nr as u64);
        let part = a.and(rest, n);
        if !a.is_empty(part) {
            out.push((format!("{arch} {name}"), part));
            rest = a.diff(rest, n);
        }
    }
    if !a.is_empty(rest) {
        out.push((format!("{arch} syscall numbers without a name"), rest));
    }
    out
}

fn finding(
    a: &mut Analysis,
    example: &dyn Fn(SeccompData) -> Counterexample,
    code: (&'static str, &'static str),
    message: String,
    policy_line: Option<usize>,
    set: InputSet,
) -> Finding {
    let counterexample = a.example(set).map(example);
    let insns = counterexample.as_ref().map(|c| c.path.last().copied().into_iter().collect()).unwrap_or_default();
    Finding { code: code.0, name: code.1, severity: Severity::Error, message, insns, policy_line, counterexample }
}

/// The class of action `a` (for callers rendering counterexamples).
pub fn class_of(a: Action) -> ActionClass {
    ActionClass::of(a)
}
