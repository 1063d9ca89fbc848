//! The check job: do a policy's properties hold on a filter, and what do the
//! lints say? One exact analysis answers both.
//!
//! `seccheck check`, `lint`, `report` and the verification of a generated
//! profile (`record::verify`) all ask this; analysing the filter is the
//! expensive part. [`run`] analyses once, lends the [`Analysis`] to
//! `policy::check` and then to the lints ([`LintContext::from_analysis`]),
//! and hands it back for further questions (the report's syscall matrix).
//! The sets are exact whatever was built on the analysis before, so sharing
//! changes no answer; the node budget ([`crate::symbolic::Options::node_limit`])
//! is one for the whole job. [`run_stack`] checks the properties of a stack by
//! its effective action (`seccomp_run_filters`); lints look at one filter at a time.

use crate::arch::Arch;
use crate::bpf::ValidProgram;
use crate::emu::Emulator;
use crate::finding::{Counterexample, Finding};
use crate::lints::{self, ArchSource, LintContext, LintError, LintOptions};
use crate::policy::{self, Policy};
use crate::symbolic::{analyze, Analysis, Options, SymbolicError};

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct Job<'a> {
    /// The properties (none: no policy).
    pub policy: Option<&'a Policy>,
    /// Run the lints, told this (none: no lints); they work on the job's analysis.
    pub lints: Option<LintOptions>,
    /// Limits of the one analysis.
    pub symbolic: Options,
}

/// What a check found.
pub struct Checked {
    /// The policy's violations (first, in the policy's order), then the lints' findings.
    pub findings: Vec<Finding>,
    /// How many of `findings` are property violations.
    pub violations: usize,
    /// The arches the lints judged the filter for and where they come from
    /// (`None`: no lints ran).
    pub lint_arches: Option<(Vec<Arch>, ArchSource)>,
    /// The filter's analysis, with every set the job built on it.
    pub analysis: Analysis,
}

impl Checked {
    /// The property violations.
    pub fn violations(&self) -> &[Finding] {
        &self.findings[..self.violations]
    }

    /// The lints' findings.
    pub fn lint_findings(&self) -> &[Finding] {
        &self.findings[self.violations..]
    }
}

/// Why a filter could not be checked exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The filter cannot be analysed exactly.
    #[error("{0}")]
    Analysis(SymbolicError),
    /// The stack cannot be analysed exactly.
    #[error("{0}")]
    Stack(crate::stack::StackError),
    /// A property cannot be checked exactly (names its policy line).
    #[error("{0}")]
    Policy(policy::check::CheckError),
    /// The lints cannot run exactly.
    #[error("{0}")]
    Lints(LintError),
}

/// Analyse `program` once; check `job.policy`'s properties, then run the lints.
pub fn run(program: &ValidProgram, job: &Job<'_>) -> Result<Checked, CheckError> {
    let mut analysis = analyze(program, &job.symbolic).map_err(CheckError::Analysis)?;
    let mut findings = match job.policy {
        Some(pol) => policy::check::check(pol, &mut analysis, &Emulator::new(program)).map_err(CheckError::Policy)?,
        None => Vec::new(),
    };
    let violations = findings.len();
    let (lint_arches, analysis) = match &job.lints {
        None => (None, analysis),
        Some(opts) => {
            let cx = LintContext::from_analysis(program, analysis, opts).map_err(CheckError::Lints)?;
            findings.extend(lints::run(&cx).map_err(CheckError::Lints)?);
            (Some((cx.arches.clone(), cx.arch_source)), cx.into_analysis())
        }
    };
    Ok(Checked { findings, violations, lint_arches, analysis })
}

/// Check `policy`'s properties on the stack `filters` (installation order,
/// oldest first) by its effective action; each violation's counterexample is
/// run through every filter. Returns the violations.
pub fn run_stack(filters: &[ValidProgram], policy: &Policy, symbolic: &Options) -> Result<Vec<Finding>, CheckError> {
    let mut stack = crate::stack::analyze(filters, symbolic).map_err(CheckError::Stack)?;
    let emus: Vec<Emulator> = filters.iter().map(Emulator::new).collect();
    policy::check::check_with(policy, stack.analysis(), &|d| {
        Counterexample::from_stack_run(d, &crate::stack::run(&emus, &d))
    })
    .map_err(CheckError::Policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{asm::assemble, validate};

    /// x86_64 only: `execve` killed, everything else (`ptrace`, x32 calls) allowed.
    const FILTER: &str = "ld [4]\n jeq #0xc000003e, nr, kill\n nr: ld [0]\n jeq #59, kill, allow\n allow: ret #0x7fff0000\n kill: ret #0";
    /// As [`FILTER`], x32 calls killed.
    const NO_X32: &str = "ld [4]\n jeq #0xc000003e, nr, kill\n nr: ld [0]\n jge #0x40000000, kill, e\n e: jeq #59, kill, allow\n allow: ret #0x7fff0000\n kill: ret #0";

    fn policy() -> Policy {
        policy::parse("arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"ptrace\", \"execve\"]\n").unwrap()
    }

    #[test]
    fn one_analysis_gives_what_the_separate_steps_give() {
        let v = validate(&assemble(FILTER).unwrap()).unwrap();
        let pol = policy();
        let opts = LintOptions { arches: Some(vec![Arch::X86_64]), ..LintOptions::default() };
        let job = Job { policy: Some(&pol), lints: Some(opts.clone()), symbolic: Options::default() };
        let got = run(&v, &job).unwrap();
        // Each step on its own analysis, as the front ends did before.
        let mut a = analyze(&v, &Options::default()).unwrap();
        let props = policy::check::check(&pol, &mut a, &Emulator::new(&v)).unwrap();
        let cx = LintContext::from_analysis(&v, analyze(&v, &Options::default()).unwrap(), &opts).unwrap();
        let lint = lints::run(&cx).unwrap();
        assert!(!props.is_empty(), "ptrace runs: the policy is violated");
        assert!(!lint.is_empty());
        assert_eq!(got.violations(), &props[..]);
        assert_eq!(got.lint_findings(), &lint[..]);
        assert_eq!(got.lint_arches, Some((cx.arches.clone(), ArchSource::Given)));
        // The analysis given back still answers for the filter.
        let mut back = got.analysis;
        let runs = back.by_action();
        assert_eq!(runs.len(), 2);
    }

    #[test]
    fn without_lints_or_policy_nothing_is_run() {
        let v = validate(&assemble(FILTER).unwrap()).unwrap();
        let got = run(&v, &Job::default()).unwrap();
        assert!(got.findings.is_empty());
        assert_eq!((got.violations, got.lint_arches), (0, None));
        let pol = policy();
        let got = run(&v, &Job { policy: Some(&pol), ..Job::default() }).unwrap();
        assert_eq!(got.violations, got.findings.len());
        assert!(got.violations > 0 && got.lint_arches.is_none());
    }

    #[test]
    fn a_stack_is_checked_by_its_effective_action() {
        let v = validate(&assemble(NO_X32).unwrap()).unwrap();
        let deny_ptrace = validate(
            &assemble("ld [0]\n jeq #101, kill, allow\n allow: ret #0x7fff0000\n kill: ret #0x80000000").unwrap(),
        )
        .unwrap();
        let pol = policy();
        let alone = run_stack(std::slice::from_ref(&v), &pol, &Options::default()).unwrap();
        assert!(!alone.is_empty());
        let both = run_stack(&[v, deny_ptrace], &pol, &Options::default()).unwrap();
        assert!(both.is_empty(), "{both:?}");
    }

    #[test]
    fn a_budget_too_small_is_an_error() {
        let v = validate(&assemble(FILTER).unwrap()).unwrap();
        let job = Job { symbolic: Options { node_limit: 4, ..Options::default() }, ..Job::default() };
        assert!(matches!(run(&v, &job), Err(CheckError::Analysis(_))));
    }
}
