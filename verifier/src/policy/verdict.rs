//! What a policy check concluded, counted the way every front end prints it.
//!
//! A policy states properties (the arch rule, one per deny/allow/allow_only_if
//! rule, the default, the forbidden actions); checking yields violations
//! ([`Finding`]s with a `P00n` code and, for per-rule properties, the policy
//! line). A property can be violated many times (once per arch and syscall),
//! so "properties that fail" and "violations" are different counts, and the
//! lints that run beside the properties are a third. `check`, `report` and
//! `generate` all say them with [`Summary`] so that no count names the wrong
//! thing.

use super::check::codes;
use super::{Policy, RuleKind};
use crate::finding::{Finding, Severity};
use serde::Serialize;

/// One stated property of a policy and the violations found for it.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyResult {
    /// `P002`-style code of the findings it produces.
    pub code: &'static str,
    pub label: String,
    /// Line in the policy file, where the property is one rule.
    pub line: Option<usize>,
    /// Indices into the findings given to [`properties`] that violate it.
    #[serde(skip)]
    pub violations: Vec<usize>,
}

impl PropertyResult {
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Every property `pol` states, in the policy's order, each with the indices of
/// the findings in `findings` that violate it (matched by code, and by policy
/// line for the per-rule properties). Findings that are not policy
/// violations (lints) match none.
pub fn properties(pol: &Policy, findings: &[Finding]) -> Vec<PropertyResult> {
    let mut items = Vec::new();
    let arches: Vec<&str> = pol.arches.iter().map(|a| a.name()).collect();
    items.push((
        codes::ARCH.0,
        format!("arches = [{}]: every other arch value (x32 unless listed) is denied", arches.join(", ")),
        None,
    ));
    for r in &pol.rules {
        let names = r.syscalls.join(", ");
        let (code, label) = match r.kind {
            RuleKind::Deny => (codes::DENY.0, format!("deny {names} for every argument value")),
            RuleKind::Allow => (codes::ALLOW.0, format!("allow {names} for every argument value")),
            RuleKind::AllowOnlyIf => {
                let when = r.when.as_ref().map(|(t, _)| t.as_str()).unwrap_or("");
                (codes::ONLY_IF.0, format!("{names} may run only when `{when}`"))
            }
        };
        items.push((code, label, Some(r.line)));
    }
    if pol.default == super::Default::Deny {
        items.push((codes::DEFAULT.0, "default = \"deny\": nothing outside the allow rules runs".to_string(), None));
    }
    if !pol.forbid.is_empty() {
        // The names the policy file uses (`user_notif`), from ActionKind's serde names.
        let names: Vec<String> = pol
            .forbid
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{k:?}"))
            })
            .collect();
        items.push((codes::FORBID.0, format!("no input reaches {}", names.join(", ")), None));
    }
    items
        .into_iter()
        .map(|(code, label, line)| {
            let violations = findings
                .iter()
                .enumerate()
                .filter(|(_, f)| f.code == code && (line.is_none() || f.policy_line == line))
                .map(|(i, _)| i)
                .collect();
            PropertyResult { code, label, line, violations }
        })
        .collect()
}

/// Lint findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LintCounts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl LintCounts {
    pub fn of<'a>(lints: impl IntoIterator<Item = &'a Finding>) -> LintCounts {
        let mut c = LintCounts::default();
        for f in lints {
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Note => c.notes += 1,
            }
        }
        c
    }

    /// Errors or warnings: what makes a check fail.
    pub fn fail(&self) -> bool {
        self.errors + self.warnings > 0
    }
}

/// The counts behind one verdict line.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Properties stated.
    pub properties: usize,
    /// Properties with no violation.
    pub holding: usize,
    /// Violations, over all properties.
    pub violations: usize,
    /// `None` where no lint ran (`--no-lints`, a stack).
    pub lints: Option<LintCounts>,
    /// Exit 1: a property is violated or a lint reported a warning or error.
    pub pass: bool,
}

impl Summary {
    /// `violations`: every property finding, whether or not it matched a
    /// stated property (so the verdict never passes over one).
    pub fn new(props: &[PropertyResult], violations: usize, lints: Option<LintCounts>) -> Summary {
        let holding = props.iter().filter(|p| p.holds()).count();
        let pass = violations == 0 && !lints.is_some_and(|l| l.fail());
        Summary { properties: props.len(), holding, violations, lints, pass }
    }

    /// `PASS: 6 of 6 properties hold; lints: 0 errors, 0 warnings, 2 notes` /
    /// `FAIL: 5 of 6 properties hold (2 violations); lints: 1 error, … — fails on the property and the lint`.
    pub fn line(&self) -> String {
        let props = format!(
            "{} of {} {} hold{}",
            self.holding,
            self.properties,
            if self.properties == 1 { "property" } else { "properties" },
            match self.violations {
                0 => String::new(),
                1 => " (1 violation)".into(),
                n => format!(" ({n} violations)"),
            }
        );
        let lints = match self.lints {
            Some(l) => format!(
                "; lints: {}, {}, {}",
                plural(l.errors, "error"),
                plural(l.warnings, "warning"),
                plural(l.notes, "note")
            ),
            None => "; lints not run".into(),
        };
        if self.pass {
            return format!("PASS: {props}{lints}");
        }
        let mut why = Vec::new();
        if self.violations > 0 {
            why.push("a property is violated");
        }
        if self.lints.is_some_and(|l| l.fail()) {
            why.push("a lint reported a warning or error");
        }
        format!("FAIL: {props}{lints} (exit 1: {})", why.join(" and "))
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &'static str, severity: Severity, policy_line: Option<usize>) -> Finding {
        Finding {
            code,
            name: "test",
            severity,
            message: String::new(),
            insns: Vec::new(),
            policy_line,
            counterexample: None,
        }
    }

    #[test]
    fn the_line_counts_properties_violations_and_lints_apart() {
        let pol = crate::policy::parse("arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"ptrace\"]\n").unwrap();
        let v = finding(codes::DENY.0, Severity::Error, Some(pol.rules[0].line));
        let findings = vec![v.clone(), v, finding("SC004", Severity::Error, None)];
        let props = properties(&pol, &findings);
        assert_eq!(props.len(), 2);
        assert_eq!(props[1].violations, vec![0, 1]);
        let s = Summary::new(&props, 2, Some(LintCounts::of(&findings[2..])));
        assert_eq!(s.line(), "FAIL: 1 of 2 properties hold (2 violations); lints: 1 error, 0 warnings, 0 notes (exit 1: a property is violated and a lint reported a warning or error)");
        let s = Summary::new(&properties(&pol, &findings[2..]), 0, Some(LintCounts::of(&findings[2..])));
        assert_eq!(s.line(), "FAIL: 2 of 2 properties hold; lints: 1 error, 0 warnings, 0 notes (exit 1: a lint reported a warning or error)");
        let s = Summary::new(&properties(&pol, &[]), 0, None);
        assert_eq!(s.line(), "PASS: 2 of 2 properties hold; lints not run");
    }
}
