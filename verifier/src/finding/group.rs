//! The order and grouping every front end shows findings in: most severe
//! first (error, warning, note), then by code, the checkers' order kept within
//! a code; findings of one kind (same code, severity and policy line: one
//! deny rule's 16 syscalls, one lint on 7 syscall families) form one group, so
//! a reviewer reads one card listing the syscalls instead of 16 near-identical
//! ones. Nothing is dropped: every finding stays in its group, and JSON keeps
//! the full list beside the groups.

use super::{Finding, Severity};
use serde::Serialize;
use std::fmt::Write as _;

/// Findings of one kind, in display order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_line: Option<usize>,
    /// Indices into the findings given to [`groups`], in display order.
    pub findings: Vec<usize>,
    /// The syscalls the members' examples name, per arch in first-seen order:
    /// `x86_64: clone3, fsopen`.
    pub syscalls: Vec<String>,
}

/// Display order: severity (most severe first), then code; stable.
pub fn order(findings: &[Finding]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..findings.len()).collect();
    idx.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        fb.severity.cmp(&fa.severity).then(fa.code.cmp(fb.code))
    });
    idx
}

/// The groups of `findings`, in display order.
pub fn groups(findings: &[Finding]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for i in order(findings) {
        let f = &findings[i];
        match out.iter_mut().find(|g| g.code == f.code && g.severity == f.severity && g.policy_line == f.policy_line) {
            Some(g) => g.findings.push(i),
            None => out.push(Group {
                code: f.code,
                name: f.name,
                severity: f.severity,
                policy_line: f.policy_line,
                findings: vec![i],
                syscalls: Vec::new(),
            }),
        }
    }
    for g in &mut out {
        g.syscalls = syscalls(g.findings.iter().map(|&i| &findings[i]));
    }
    out
}

/// `x86_64: clone3, fsopen` / `i386: clone3`, from the members' examples.
fn syscalls<'a>(members: impl Iterator<Item = &'a Finding>) -> Vec<String> {
    let mut per_arch: Vec<(String, Vec<String>)> = Vec::new();
    for f in members {
        let Some(c) = &f.counterexample else { continue };
        let arch = c.arch.map_or_else(|| format!("arch {:#x}", c.input.arch), |a| a.name().to_string());
        let name = c.syscall.map_or_else(|| format!("nr {}", c.input.nr), str::to_string);
        match per_arch.iter_mut().find(|(a, _)| *a == arch) {
            Some((_, names)) if names.contains(&name) => {}
            Some((_, names)) => names.push(name),
            None => per_arch.push((arch, vec![name])),
        }
    }
    per_arch.into_iter().map(|(a, names)| format!("{a}: {}", names.join(", "))).collect()
}

/// Text for people: a group of one is the finding as it always reads; a
/// larger group is one card: the kind, how many, the syscalls, each member's
/// message on one line, the instructions of all, and the first example.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for g in groups(findings) {
        if let [i] = g.findings[..] {
            let _ = writeln!(out, "{}", findings[i]);
            continue;
        }
        let _ = write!(out, "{}[{} {}] ×{}", g.severity, g.code, g.name, g.findings.len());
        if let Some(l) = g.policy_line {
            let _ = write!(out, ", policy line {l}");
        }
        if g.syscalls.is_empty() {
            let _ = writeln!(out, ":");
        } else {
            let _ = writeln!(out, ": {}", g.syscalls.join("; "));
        }
        let mut insns: Vec<usize> = Vec::new();
        for &i in &g.findings {
            let _ = writeln!(out, "  - {}", findings[i].message);
            insns.extend(&findings[i].insns);
        }
        insns.sort_unstable();
        insns.dedup();
        if !insns.is_empty() {
            let i: Vec<String> = insns.iter().map(|i| i.to_string()).collect();
            let _ = writeln!(out, "  instructions: {}", i.join(", "));
        }
        let examples: Vec<&Finding> =
            g.findings.iter().map(|&i| &findings[i]).filter(|f| f.counterexample.is_some()).collect();
        if let Some(c) = examples.first().and_then(|f| f.counterexample.as_ref()) {
            let more = if examples.len() > 1 {
                format!(" (1 of {}; --format json has each)", examples.len())
            } else {
                String::new()
            };
            let _ = writeln!(out, "  example{more}: {c}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Counterexample;
    use crate::seccomp::{Action, SeccompData};

    fn f(code: &'static str, severity: Severity, line: Option<usize>, nr: u32) -> Finding {
        Finding {
            code,
            name: "n",
            severity,
            message: format!("x86_64 nr {nr} is not denied"),
            insns: vec![nr as usize % 5],
            policy_line: line,
            counterexample: Some(Counterexample {
                arch: Some(crate::arch::Arch::X86_64),
                syscall: crate::arch::Arch::X86_64.syscall_name(nr),
                input: SeccompData { nr, arch: 0xc000_003e, ..Default::default() },
                action: Action::Allow,
                path: vec![0],
                kernel_confirmed: None,
            }),
        }
    }

    #[test]
    fn most_severe_first_then_by_code_and_one_kind_is_one_group() {
        let fs = vec![
            f("SC009", Severity::Note, None, 1),
            f("P002", Severity::Error, Some(9), 435),
            f("SC005", Severity::Error, None, 2),
            f("P002", Severity::Error, Some(9), 428),
            f("P002", Severity::Error, Some(13), 288),
            f("SC004", Severity::Warning, None, 3),
        ];
        assert_eq!(order(&fs), vec![1, 3, 4, 2, 5, 0]);
        let g = groups(&fs);
        let members: Vec<&[usize]> = g.iter().map(|g| &g.findings[..]).collect();
        assert_eq!(members, vec![&[1, 3][..], &[4], &[2], &[5], &[0]]);
        assert_eq!(g[0].syscalls, vec!["x86_64: clone3, open_tree".to_string()]);
        let text = render_text(&fs);
        assert!(
            text.starts_with(
                "error[P002 n] ×2, policy line 9: x86_64: clone3, open_tree\n  - x86_64 nr 435 is not denied\n  - x86_64 nr 428 is not denied\n  instructions: 0, 3\n  example (1 of 2; --format json has each): x86_64 clone3("
            ),
            "{text}"
        );
        assert!(text.contains("\nerror[P002 n]: x86_64 nr 288 is not denied\n  policy line 13\n"), "{text}");
        assert_eq!(text.matches("error[").count(), 3, "{text}");
        assert!(text.ends_with("note[SC009 n]: x86_64 nr 1 is not denied\n  instructions: 1\n  example: x86_64 write(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) ip=0x0 -> ALLOW via insns 0\n"), "{text}");
    }
}
