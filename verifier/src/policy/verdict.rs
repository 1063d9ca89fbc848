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
use crate::words::{count, count_irregular, noun};
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
        self.fail_at(Severity::Warning)
    }

    /// Any lint of severity `at` or above.
    pub fn fail_at(&self, at: Severity) -> bool {
        match at {
            Severity::Error => self.errors > 0,
            Severity::Warning => self.errors + self.warnings > 0,
            Severity::Note => self.errors + self.warnings + self.notes > 0,
        }
    }

    /// `1 error, 0 warnings, 3 notes`.
    pub fn text(&self) -> String {
        format!("{}, {}, {}", count(self.errors, "error"), count(self.warnings, "warning"), count(self.notes, "note"))
    }
}

/// The counts behind one verdict line, shared by `check`, `report` and
/// `generate`: properties and their violations, lints by severity, and what
/// else the command decides on (recorded call shapes for `generate`, the
/// kernel contradicting a counterexample for `report`). Each count names
/// what it counts; the line ends by saying what decided the exit code.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Properties stated (0 without a policy).
    pub properties: usize,
    /// Properties with no violation.
    pub holding: usize,
    /// Violations, over all properties.
    pub violations: usize,
    /// `None` where no lint ran (`--no-lints`, a stack).
    pub lints: Option<LintCounts>,
    /// `generate`: recorded call shapes the profile does not give what they need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmet_shapes: Option<Shapes>,
    /// Counterexamples the running kernel contradicted (seccheck's model is
    /// wrong there, so nothing passes).
    #[serde(skip_serializing_if = "is_zero")]
    pub kernel_disagreements: usize,
    /// Exit 0 when true, 1 when false.
    pub pass: bool,
    /// Whether a policy was given (`report` runs without one).
    #[serde(skip)]
    policy: bool,
    /// The lowest lint severity that fails: warning for `check` and
    /// `report`, error for `generate` (its profiles are proven, not reviewed).
    #[serde(skip)]
    lints_fail_at: Severity,
}

/// Recorded call shapes checked by `generate`, and how many are not met.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Shapes {
    pub checked: usize,
    pub unmet: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// `violations`: every property finding, whether or not it matched a
    /// stated property (so the verdict never passes over one).
    pub fn new(props: &[PropertyResult], violations: usize, lints: Option<LintCounts>) -> Summary {
        Summary::of_counts(props.len(), props.iter().filter(|p| p.holds()).count(), violations, lints)
    }

    /// The same from counts: `properties` stated, `holding` of them hold.
    pub fn of_counts(properties: usize, holding: usize, violations: usize, lints: Option<LintCounts>) -> Summary {
        let mut s = Summary {
            properties,
            holding,
            violations,
            lints,
            unmet_shapes: None,
            kernel_disagreements: 0,
            pass: true,
            policy: true,
            lints_fail_at: Severity::Warning,
        };
        s.decide();
        s
    }

    /// A verdict on lints alone (`report` without `--policy`).
    pub fn without_policy(lints: Option<LintCounts>) -> Summary {
        let mut s = Summary::new(&[], 0, lints);
        s.policy = false;
        s
    }

    /// Only lint errors fail (`generate`).
    pub fn lints_fail_at(mut self, at: Severity) -> Summary {
        self.lints_fail_at = at;
        self.decide();
        self
    }

    /// `generate`: `unmet` of the `checked` recorded call shapes do not get what they need.
    pub fn with_shapes(mut self, checked: usize, unmet: usize) -> Summary {
        self.unmet_shapes = Some(Shapes { checked, unmet });
        self.decide();
        self
    }

    /// `report --confirm`: the kernel contradicted `n` counterexamples.
    pub fn with_kernel_disagreements(mut self, n: usize) -> Summary {
        self.kernel_disagreements = n;
        self.decide();
        self
    }

    fn lints_fail(&self) -> bool {
        self.lints.is_some_and(|l| l.fail_at(self.lints_fail_at))
    }

    fn decide(&mut self) {
        self.pass = self.violations == 0
            && !self.lints_fail()
            && self.unmet_shapes.is_none_or(|u| u.unmet == 0)
            && self.kernel_disagreements == 0;
    }

    /// `PASS: 6 of 6 properties hold; lints: 0 errors, 0 warnings, 2 notes (exit 0: …)` /
    /// `FAIL: 5 of 6 properties hold, 2 violations; lints: 1 error, … (exit 1: a property is violated and …)`.
    pub fn line(&self) -> String {
        self.line_with(None, &[])
    }

    /// The line with the policy's name in the property count and `facts`
    /// that do not decide the exit code (a diff, the kernel agreeing) before
    /// the closing exit clause.
    pub fn line_with(&self, policy: Option<&str>, facts: &[String]) -> String {
        let mut parts = Vec::new();
        if self.policy {
            let of = policy.map(|p| format!(" of {p}")).unwrap_or_default();
            let mut props = format!(
                "{} of {}{of} {}",
                self.holding,
                count_irregular(self.properties, "property", "properties"),
                noun(self.properties, "holds", "hold")
            );
            if self.violations > 0 {
                props += &format!(", {}", count(self.violations, "violation"));
            }
            parts.push(props);
        } else {
            parts.push("no policy".to_string());
        }
        parts.push(match self.lints {
            Some(l) => format!("lints: {}", l.text()),
            None => "lints not run".into(),
        });
        if let Some(u) = self.unmet_shapes {
            parts.push(format!("{} of {} met", u.checked - u.unmet, count(u.checked, "recorded call shape")));
        }
        if self.kernel_disagreements > 0 {
            parts.push(format!(
                "the kernel DISAGREES on {} (a seccheck bug)",
                count(self.kernel_disagreements, "counterexample")
            ));
        }
        parts.extend(facts.iter().cloned());
        let lint_words = match self.lints_fail_at {
            Severity::Error => "a lint error",
            Severity::Warning => "a lint warning or error",
            Severity::Note => "a lint finding",
        };
        let exit = if self.pass {
            let mut none = Vec::new();
            if self.policy {
                none.push("no property violated".to_string());
            }
            if self.lints.is_some() {
                none.push(format!("no {}", lint_words.trim_start_matches("a ")));
            }
            if self.unmet_shapes.is_some() {
                none.push("every recorded call shape met".to_string());
            }
            if none.is_empty() {
                "exit 0".to_string()
            } else {
                format!("exit 0: {}", none.join(", "))
            }
        } else {
            let mut why = Vec::new();
            if self.violations > 0 {
                why.push("a property is violated".to_string());
            }
            if self.lints_fail() {
                why.push(format!("{} was reported", lint_words));
            }
            if self.unmet_shapes.is_some_and(|u| u.unmet > 0) {
                why.push("a recorded call shape is not met".to_string());
            }
            if self.kernel_disagreements > 0 {
                why.push("the kernel contradicted seccheck".to_string());
            }
            format!("exit 1: {}", why.join(" and "))
        };
        format!("{}: {} ({exit})", if self.pass { "PASS" } else { "FAIL" }, parts.join("; "))
    }
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
        assert_eq!(s.line(), "FAIL: 1 of 2 properties hold, 2 violations; lints: 1 error, 0 warnings, 0 notes (exit 1: a property is violated and a lint warning or error was reported)");
        let s = Summary::new(&properties(&pol, &findings[2..]), 0, Some(LintCounts::of(&findings[2..])));
        assert_eq!(s.line(), "FAIL: 2 of 2 properties hold; lints: 1 error, 0 warnings, 0 notes (exit 1: a lint warning or error was reported)");
        let s = Summary::new(&properties(&pol, &[]), 0, None);
        assert_eq!(s.line(), "PASS: 2 of 2 properties hold; lints not run (exit 0: no property violated)");
        let one = crate::policy::parse("arches = [\"x86_64\"]\n").unwrap();
        let s = Summary::new(&properties(&one, &[]), 0, Some(LintCounts { notes: 2, ..LintCounts::default() }));
        assert_eq!(
            s.line_with(Some("p.toml"), &["equivalent to old.bpf".into()]),
            "PASS: 1 of 1 property of p.toml holds; lints: 0 errors, 0 warnings, 2 notes; equivalent to old.bpf (exit 0: no property violated, no lint warning or error)"
        );
    }

    #[test]
    fn generate_fails_on_lint_errors_and_unmet_shapes_only() {
        let pol = crate::policy::parse("arches = [\"x86_64\"]\n").unwrap();
        let warn = LintCounts { warnings: 1, ..LintCounts::default() };
        let s = Summary::new(&properties(&pol, &[]), 0, Some(warn)).lints_fail_at(Severity::Error).with_shapes(12, 0);
        assert!(s.pass);
        assert_eq!(s.line(), "PASS: 1 of 1 property holds; lints: 0 errors, 1 warning, 0 notes; 12 of 12 recorded call shapes met (exit 0: no property violated, no lint error, every recorded call shape met)");
        let s = s.with_shapes(12, 1);
        assert_eq!(s.line(), "FAIL: 1 of 1 property holds; lints: 0 errors, 1 warning, 0 notes; 11 of 12 recorded call shapes met (exit 1: a recorded call shape is not met)");
    }

    #[test]
    fn without_a_policy_only_lints_and_the_kernel_decide() {
        let s = Summary::without_policy(Some(LintCounts::default()));
        assert_eq!(
            s.line(),
            "PASS: no policy; lints: 0 errors, 0 warnings, 0 notes (exit 0: no lint warning or error)"
        );
        let s = s.with_kernel_disagreements(1);
        assert_eq!(s.line(), "FAIL: no policy; lints: 0 errors, 0 warnings, 0 notes; the kernel DISAGREES on 1 counterexample (a seccheck bug) (exit 1: the kernel contradicted seccheck)");
    }
}
