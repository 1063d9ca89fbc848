//! The proof that a generated profile means what it should, and the CI check
//! of a recorded run against a profile.
//!
//! Why it exists: a generator's output is only a request (see `sources`); what
//! counts is the program libseccomp and runc make of it. [`compile`] builds that
//! program exactly as runc loads it (`sources::docker`); [`verify`] then checks
//! it three ways: the policy holds (`policy::check`, every violation with a
//! counterexample), no lint reports an error, and every recorded call shape gets
//! the action the generator promised (the emulator on the exact
//! `seccomp_data`). [`Blocked`] decides, for each call of a recorded run, what
//! the profile would have done with it — exactly, on the `seccomp_data` the
//! kernel reported — without disturbing the run: it runs inside the recorder's
//! notification loop for every call, so it uses the emulator's compiled fast
//! path ([`CompiledEmulator`], equal to the interpreter on every input).

use super::generate::{Expectation, Expected, ENOSYS};
use super::{add_values, recorded_params, MAX_SYSCALLS};
use crate::arch::Arch;
use crate::bpf::ValidProgram;
use crate::check::Job;
use crate::emu::{CompiledEmulator, Emulator};
use crate::finding::{Finding, Severity};
use crate::lints::LintOptions;
use crate::policy;
use crate::policy::verdict::{LintCounts, Summary};
use crate::seccomp::{Action, SeccompData};
use crate::sources::{compile_docker, DockerOptions};
use crate::symbolic::Options;
use crate::uapi;
use std::collections::{BTreeMap, BTreeSet};

/// `SECCOMP_FILTER_FLAG_*` (include/uapi/linux/seccomp.h).
const FLAGS: &[(&str, u32)] = &[
    ("SECCOMP_FILTER_FLAG_TSYNC", uapi::SECCOMP_FILTER_FLAG_TSYNC),
    ("SECCOMP_FILTER_FLAG_LOG", uapi::SECCOMP_FILTER_FLAG_LOG),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", uapi::SECCOMP_FILTER_FLAG_SPEC_ALLOW),
    ("SECCOMP_FILTER_FLAG_NEW_LISTENER", uapi::SECCOMP_FILTER_FLAG_NEW_LISTENER),
    ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", uapi::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV),
];

/// The `SECCOMP_FILTER_FLAG_*` bits for a loader's flag names; the name of
/// one seccheck cannot pass itself (`NEW_LISTENER`: a notifying profile needs
/// a supervisor) or does not know is the error.
pub fn load_flag_bits(names: &[&str]) -> Result<u32, String> {
    let mut flags = 0;
    for f in names {
        match FLAGS.iter().find(|(n, _)| n == f) {
            Some((n, _)) if *n == "SECCOMP_FILTER_FLAG_NEW_LISTENER" => return Err(n.to_string()),
            Some((_, bit)) => flags |= bit,
            None => return Err(f.to_string()),
        }
    }
    Ok(flags)
}

/// A profile compiled as runc loads it.
pub struct CompiledProfile {
    pub program: ValidProgram,
    pub generator: String,
    pub arches: Vec<Arch>,
    /// The `seccomp(2)` flags runc would pass.
    pub flags: u32,
    /// What libseccomp/runc did silently.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Source(#[from] crate::sources::SourceError),
    #[error("{file}: the kernel would refuse the compiled filter: {why}")]
    Invalid { file: String, why: String },
    #[error("{file}: runc would load it with {flag}, which `seccheck run` does not do (a notifying profile needs a supervisor)")]
    Flag { file: String, flag: String },
    #[error("{file}: cannot be analysed exactly: {msg}")]
    Analysis { file: String, msg: String },
}

/// Compile Docker/OCI profile `bytes` (named `file` in errors) for this x86_64
/// host with runc's loader and Docker's default capabilities.
pub fn compile(file: &str, bytes: &[u8]) -> Result<CompiledProfile, VerifyError> {
    let in_file = |e| crate::sources::SourceError::InFile { file: file.into(), source: Box::new(e) };
    let mut c = compile_docker(bytes, &DockerOptions::default()).map_err(in_file)?;
    let c = c.remove(0);
    let program = crate::bpf::validate(&c.program).map_err(|v| VerifyError::Invalid {
        file: file.into(),
        why: v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; "),
    })?;
    let flags = load_flag_bits(&c.load_flags).map_err(|flag| VerifyError::Flag { file: file.into(), flag })?;
    Ok(CompiledProfile {
        program,
        generator: c.generator,
        arches: c.arches,
        flags,
        notes: c.notes.iter().map(|n| n.to_string()).collect(),
    })
}

/// A recorded call shape the profile does not treat as promised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmet {
    pub expectation: Expectation,
    pub got: Action,
}

/// The result of [`verify`].
pub struct Verification {
    /// Policy violations and lint findings of severity warning or error.
    pub findings: Vec<Finding>,
    pub policy_violations: usize,
    pub lint_errors: usize,
    pub unmet: Vec<Unmet>,
    pub checked_shapes: usize,
    /// The verdict in `check`'s words: properties, lints (only errors fail a
    /// generated profile), recorded call shapes.
    pub summary: Summary,
}

impl Verification {
    pub fn holds(&self) -> bool {
        self.summary.pass
    }
}

/// Check `compiled` against the policy text and the recorded call shapes.
pub fn verify(
    file: &str,
    compiled: &CompiledProfile,
    policy_text: &str,
    expectations: &[Expectation],
) -> Result<Verification, VerifyError> {
    let pol = policy::parse(policy_text).map_err(|errs| VerifyError::Analysis {
        file: file.into(),
        msg: format!(
            "the generated policy does not parse: {}",
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
        ),
    })?;
    let analysis_err = |msg: String| VerifyError::Analysis { file: file.into(), msg };
    let job = Job {
        policy: Some(&pol),
        lints: Some(LintOptions { arches: Some(pol.arches.clone()), ..LintOptions::default() }),
        symbolic: Options::default(),
    };
    let checked = crate::check::run(&compiled.program, &job).map_err(|e| analysis_err(e.to_string()))?;
    let policy_violations = checked.violations;
    let props = policy::verdict::properties(&pol, checked.violations());
    let lint_errors = checked.lint_findings().iter().filter(|f| f.severity == Severity::Error).count();
    let lint_counts = LintCounts::of(checked.lint_findings());
    let mut findings = checked.findings;
    let lint = findings.split_off(policy_violations);
    findings.extend(lint.into_iter().filter(|f| f.severity >= Severity::Warning));
    let emu = Emulator::new(&compiled.program);
    let mut unmet = Vec::new();
    for e in expectations {
        let d = SeccompData { nr: e.nr, arch: e.arch.audit_arch(), instruction_pointer: 0, args: e.args };
        let got = emu.action(&d).effective();
        let ok = match e.expected {
            Expected::Allow => got == Action::Allow,
            Expected::Enosys => got == Action::Errno(ENOSYS),
        };
        if !ok {
            unmet.push(Unmet { expectation: e.clone(), got });
        }
    }
    let summary = Summary::new(&props, policy_violations, Some(lint_counts))
        .lints_fail_at(Severity::Error)
        .with_shapes(expectations.len(), unmet.len());
    debug_assert_eq!(summary.pass, policy_violations == 0 && lint_errors == 0 && unmet.is_empty());
    Ok(Verification { findings, policy_violations, lint_errors, unmet, checked_shapes: expectations.len(), summary })
}

/// One kind of call the profile would have blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedCall {
    pub arch: Arch,
    pub nr: u32,
    pub name: Option<&'static str>,
    pub action: Action,
    pub count: u64,
    /// The first such call's arguments, as the kernel passed them.
    pub example: [u64; 6],
    /// The recorded parameters' distinct values (`name`, values, overflow).
    pub values: Vec<(&'static str, Vec<u64>, bool)>,
}

/// Per blocked `(arch, nr, action)`: count, first arguments, recorded values.
type BlockedEntry = (u64, [u64; 6], Vec<(BTreeSet<u64>, bool)>);

/// Decides every call of a run with the profile's compiled emulator; keeps what it blocks.
pub struct Blocked {
    emu: CompiledEmulator,
    map: BTreeMap<(Arch, u32, Action), BlockedEntry>,
    pub calls: u64,
    /// Calls of an arch value the kernel does not define, or beyond the limits.
    pub unclassified: u64,
}

impl Blocked {
    pub fn new(program: &ValidProgram) -> Blocked {
        Blocked { emu: CompiledEmulator::new(program), map: BTreeMap::new(), calls: 0, unclassified: 0 }
    }

    /// Decide one call (its exact `seccomp_data`).
    pub fn add(&mut self, d: &SeccompData) {
        self.calls += 1;
        let action = self.emu.action(d);
        if matches!(action.effective(), Action::Allow | Action::Log) {
            return;
        }
        let Some(arch) = Arch::from_audit(d.arch, d.nr) else {
            self.unclassified += 1;
            return;
        };
        let key = (arch, d.nr, action);
        if !self.map.contains_key(&key) && self.map.len() >= MAX_SYSCALLS {
            self.unclassified += 1;
            return;
        }
        let params = arch.syscall_name(d.nr).map(|n| recorded_params(arch, n)).unwrap_or_default();
        let e = self.map.entry(key).or_insert_with(|| (0, d.args, vec![(BTreeSet::new(), false); params.len()]));
        e.0 += 1;
        add_values(&mut e.2, &params, arch, &d.args);
    }

    pub fn results(&self) -> Vec<BlockedCall> {
        self.map
            .iter()
            .map(|(&(arch, nr, action), (count, example, vals))| {
                let name = arch.syscall_name(nr);
                let params = name.map(|n| recorded_params(arch, n)).unwrap_or_default();
                BlockedCall {
                    arch,
                    nr,
                    name,
                    action,
                    count: *count,
                    example: *example,
                    values: params
                        .iter()
                        .zip(vals)
                        .map(|((_, p, _), (v, o))| (*p, v.iter().copied().collect(), *o))
                        .collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::generate::{generate, GenerateOptions};
    use crate::record::{Aggregate, ExitRecord};

    const X86: u32 = 0xc000_003e;

    #[test]
    fn a_generated_profile_compiles_and_proves_its_policy() {
        let mut a = Aggregate::new();
        let nr = |n| Arch::X86_64.syscall_nr(n).unwrap();
        for (n, args) in [
            ("openat", [0, 0, 0x8_0000, 0, 0, 0]),
            ("read", [0; 6]),
            ("socket", [1, 0x80001, 0, 0, 0, 0]),
            ("clone3", [0, 88, 0, 0, 0, 0]),
            ("exit_group", [0; 6]),
        ] {
            a.add(1, X86, nr(n), &args);
        }
        let t = vec![("t.json".to_string(), a.into_trace(vec![], ExitRecord::Code(0), 0.0))];
        let g = generate(&t, &GenerateOptions::default()).unwrap();
        let bytes = serde_json::to_vec(&g.profile).unwrap();
        let c = compile("profile.json", &bytes).unwrap();
        assert!(c.generator.contains("runc ENOSYS stub"), "{}", c.generator);
        assert_eq!(c.flags, 1 << 2, "runc's default SPEC_ALLOW");
        let v = verify("profile.json", &c, &g.policy, &g.expectations).unwrap();
        assert!(v.holds(), "{:?}\n{:?}\n{}", v.findings, v.unmet, g.policy);
        assert_eq!(v.checked_shapes, 5);

        // The emulator decides single calls: a write-open and AF_INET are blocked.
        let mut b = Blocked::new(&c.program);
        let d = |n, args| SeccompData { nr: nr(n), arch: X86, instruction_pointer: 0, args };
        b.add(&d("openat", [0, 0, 0x8_0000, 0, 0, 0]));
        b.add(&d("openat", [0, 0, 0x241, 0, 0, 0]));
        b.add(&d("socket", [2, 1, 0, 0, 0, 0]));
        b.add(&d("socket", [1, 1, 0, 0, 0, 0]));
        let r = b.results();
        assert_eq!(b.calls, 4);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!((r[0].name, r[0].action, r[0].count), (Some("socket"), Action::Errno(1), 1));
        assert_eq!((r[1].name, r[1].example[2]), (Some("openat"), 0x241));

        // A policy the profile does not meet is reported, not hidden.
        let bad = g.policy.replace("default = \"deny\"", "default = \"deny\"\n[[allow]]\nsyscalls = [\"ptrace\"]");
        let v = verify("profile.json", &c, &bad, &g.expectations).unwrap();
        assert!(!v.holds() && v.policy_violations > 0);
    }

    /// `Blocked` decides with the compiled emulator: on every call of a
    /// dense sweep (every x86-64, x32, i386 and aarch64 number below 400 and
    /// u32::MAX, arguments at a generated profile's constants and around them)
    /// it keeps exactly the calls, counts and actions the interpreter gives.
    #[test]
    fn blocked_decides_as_the_interpreter_does() {
        let mut a = Aggregate::new();
        for (n, args) in [("openat", [0, 0, 0x8_0000, 0, 0, 0]), ("socket", [1, 0x80001, 0, 0, 0, 0]), ("read", [0; 6])]
        {
            a.add(1, X86, Arch::X86_64.syscall_nr(n).unwrap(), &args);
        }
        let t = vec![("t.json".to_string(), a.into_trace(vec![], ExitRecord::Code(0), 0.0))];
        let g = generate(&t, &GenerateOptions::default()).unwrap();
        let c = compile("p.json", &serde_json::to_vec(&g.profile).unwrap()).unwrap();
        let emu = Emulator::new(&c.program);
        let mut b = Blocked::new(&c.program);
        let mut want: BTreeMap<(u32, u32, Action), u64> = BTreeMap::new();
        let values = [0, 1, 2, 0x241, 0x8_0000, 0x8_0001, 0x80001, u64::from(u32::MAX), 1 << 32, u64::MAX];
        let mut calls = 0;
        for arch in [X86, 0x4000_0003, 0xc000_00b7] {
            for nr in (0..400).chain((0..400).map(|n| n | 0x4000_0000)).chain([u32::MAX]) {
                for (i, &v) in values.iter().enumerate() {
                    let d =
                        SeccompData { nr, arch, instruction_pointer: 0, args: [v, values[(i + 3) % 10], v, 0, 0, v] };
                    b.add(&d);
                    calls += 1;
                    let action = emu.action(&d);
                    if !matches!(action.effective(), Action::Allow | Action::Log) {
                        *want.entry((arch, nr, action)).or_default() += 1;
                    }
                }
            }
        }
        assert_eq!(b.calls, calls);
        let got: BTreeMap<(u32, u32, Action), u64> =
            b.results().iter().map(|r| ((r.arch.audit_arch(), r.nr, r.action), r.count)).collect();
        // What `Blocked` could not classify (an arch value the kernel does
        // not define) is counted, not kept; the rest must match exactly.
        want.retain(|&(arch, nr, _), _| Arch::from_audit(arch, nr).is_some());
        assert!(!want.is_empty());
        assert_eq!(got, want);
    }

    /// A small allow-list whose newest syscall (rseq, 334) is below x86_64's 335..=423 gap:
    /// runc's ENOSYS stub covers the gap, and SC005 used to take the profile's
    /// EPERM for a stated denial of `execveat` (regression test for the
    /// default-action detection in `lints`).
    #[test]
    fn a_small_allow_list_under_the_runc_stub_has_no_lint_error() {
        let mut a = Aggregate::new();
        for n in ["execve", "read", "openat", "exit_group", "close", "rseq"] {
            a.add(1, X86, Arch::X86_64.syscall_nr(n).unwrap(), &[0; 6]);
        }
        let t = vec![("t.json".to_string(), a.into_trace(vec![], ExitRecord::Code(0), 0.0))];
        let g = generate(&t, &GenerateOptions::default()).unwrap();
        let c = compile("p.json", &serde_json::to_vec(&g.profile).unwrap()).unwrap();
        let v = verify("p.json", &c, &g.policy, &g.expectations).unwrap();
        assert_eq!(v.lint_errors, 0, "{:#?}", v.findings);
        assert!(v.holds());
    }
}
