//! One generator at one setting ([`Compiler`]) applied to one generated
//! policy ([`Case`]): the compiled program, the generator's refusal, or a
//! compilation that was slow, hung or died; and [`check_within`], which
//! compiles and compares one case.

use super::compare::{compare, samples, Divergence, SelfCheckError};
use super::model::Model;
use crate::bpf::validate::{validate, ValidProgram};
use crate::seccomp::SeccompData;
use crate::symbolic;
use std::time::Duration;

/// A generated policy of one format.
pub trait Case: Clone + std::fmt::Debug {
    /// The generator's input file.
    fn json(&self) -> String;
    /// Its documented meaning.
    fn model(&self) -> Model;
    /// Simpler variants, for minimisation (each strictly smaller).
    fn shrink(&self) -> Vec<Self>;
    /// The arches (ABIs) the filter is for, its lead (host or target) first.
    fn abis(&self) -> Vec<crate::arch::Arch>;
    /// How many rules the policy has (the size its class is judged by).
    fn rule_count(&self) -> usize;
}

/// One way of compiling a case: a generator at one setting.
pub trait Compiler<C: Case> {
    /// Short name, e.g. `libseccomp-o2`.
    fn name(&self) -> String;
    /// The generator and its version, as it describes itself.
    fn generator(&self) -> String;
    /// The compiled program (timed: [`Compiled::slow`]), the generator's
    /// refusal (not a finding), or a compilation that did not end within
    /// `limits` (a finding).
    fn compile(&self, case: &C, limits: Limits) -> Result<Compiled, NotCompiled>;
    /// How to rerun the finding's input with `seccheck emu` once the policy is saved as `file`.
    fn reproducer(&self, file: &str, case: &C, d: &SeccompData) -> String;
    /// How to time this compilation of `case` with `seccheck` once the policy is saved as `file`.
    fn timing_command(&self, file: &str, case: &C) -> String;
}

/// A compilation this slow is a finding: generated policies compile in
/// milliseconds (`reports/generator-findings.md`, L5).
pub const SLOW_COMPILE: Duration = Duration::from_secs(2);

/// How long a compilation may run (generators that can hang run in a child
/// process, `kernel::isolate`; the others ignore this).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// After this long, a generator stuck in a tight loop is given up on.
    pub spin_check: Duration,
    /// After this long, it is given up on whatever it is doing.
    pub give_up: Duration,
}

/// Limits of a fuzzing run: a loop is looked for from 1 s on (L6 is met in
/// about 1 % of generated libseccomp cases, so this decides the run's rate);
/// anything else gets 6 s (three times slow: a compilation still running
/// then is a finding whatever it would have taken, and large rule sets meet
/// L5 often enough that waiting longer would decide the run's rate).
pub const LIMITS: Limits = Limits { spin_check: Duration::from_secs(1), give_up: Duration::from_secs(6) };

/// Limits while minimising a hang: its variants are expected to hang too,
/// and each one that does costs this much.
pub const MINIMISE_LIMITS: Limits = Limits { spin_check: Duration::from_millis(500), give_up: Duration::from_secs(5) };

/// What a generator made of a case.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub program: ValidProgram,
    /// Set when the compilation took at least [`SLOW_COMPILE`].
    pub slow: Option<Slow>,
}

/// A compilation that took at least [`SLOW_COMPILE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slow {
    /// The whole compilation, as measured around the generator.
    pub time: Duration,
    /// The known generator issue it is, when the generator says where the
    /// time went (libseccomp: in adding the rules, L5).
    pub known: Option<&'static str>,
}

impl Slow {
    /// `Some` when `time` reaches [`SLOW_COMPILE`].
    pub fn of(time: Duration, known: Option<&'static str>) -> Option<Slow> {
        (time >= SLOW_COMPILE).then_some(Slow { time, known })
    }
}

/// A compilation that did not end within its [`Limits`]; it was killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hang {
    /// How long it ran.
    pub after: Duration,
    /// Where it was spinning (`libseccomp.so.2+0x7ec7`) when it was caught
    /// in a tight loop; `None` when it was still working at
    /// [`Limits::give_up`].
    pub spinning_at: Option<String>,
    /// The known generator issue it is.
    pub known: Option<&'static str>,
}

/// Why a generator did not produce a program for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    /// The refusal without what is particular to the case, so a run can
    /// count its refusals by reason: the JSON path it starts with, the
    /// action and syscall of a refused rule (libseccomp's errno and its
    /// meaning stay), the list of arches runc knows. A message of another
    /// shape is its own reason.
    pub fn reason(&self) -> String {
        let mut m = self.0.as_str();
        // `syscalls[3]: `, `architectures[0]: `, `defaultAction: `, `(top level): `.
        if let Some((at, rest)) = m.split_once(": ") {
            let path = at == "(top level)"
                || (!at.is_empty() && at.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c)));
            if path && !at.starts_with("seccompiler") && !at.starts_with("optimize") {
                m = rest;
            }
        }
        let after = |m: &str, sep: &str| m.split_once(sep).map(|(_, e)| e.to_string());
        if m.starts_with("libseccomp refused the ") && m.contains(" rule for syscall `") {
            // `… rule for syscall `read`: -EEXIST (…); runc fails with "…"`
            if let Some(e) = after(m, "`: ") {
                return format!("libseccomp refused a rule: {}", e.split("; runc fails").next().unwrap_or(&e));
            }
        }
        if m.starts_with("libseccomp refused to add the ") {
            // `… rule for NAME with [ARGS]: ERROR` (the API's message).
            if let Some(e) = m.rsplit_once("]: ").map(|(_, e)| e) {
                return format!("libseccomp refused a rule: {e}");
            }
        }
        if m.starts_with("libseccomp refused to create the filter with default ")
            || m.starts_with("libseccomp failed to create the filter (seccomp_init)")
        {
            if let Some(e) = m.rsplit_once(": ").map(|(_, e)| e) {
                return format!("libseccomp refused the default action: {e}");
            }
        }
        if let Some((head, _)) = m.split_once(" (known: ") {
            return head.to_string();
        }
        if let Some((head, _)) = m.split_once("too many BPF instructions: ") {
            // seccompiler: `… too many BPF instructions: 4111. Max length is 4096.`
            return format!("{head}too many BPF instructions (more than 4096)");
        }
        if let Some((head, _)) = m.split_once("the kernel would refuse the output: ") {
            return format!("{head}the kernel would refuse the output");
        }
        m.to_string()
    }
}

/// Why there is no program to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotCompiled {
    /// The generator refused the case (not a finding).
    Refused(Refusal),
    /// It did not end within its limits (a finding).
    Hung(Hang),
    /// The compiling process died (a crash in the generator, or a panic in
    /// seccheck's conversion around it): a finding.
    Died(String),
}

impl From<Refusal> for NotCompiled {
    fn from(r: Refusal) -> Self {
        NotCompiled::Refused(r)
    }
}

/// The outcome of checking one case with one compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    Agrees,
    Refused(Refusal),
    Diverges(Divergence),
    /// The program means what the policy says (or was too large to compare
    /// exactly: `too_large`), but the generator took at least
    /// [`SLOW_COMPILE`] to make it.
    Slow {
        slow: Slow,
        too_large: bool,
    },
    /// The generator did not end (see [`Hang`]).
    Hung(Hang),
    /// The compiling process died (see [`NotCompiled::Died`]).
    Died(String),
    /// The exact comparison needed more than [`GENFUZZ_NODE_LIMIT`] nodes.
    TooLarge,
}

/// Compile and compare one case within [`LIMITS`].
pub fn check<C: Case>(compiler: &dyn Compiler<C>, case: &C, sample_seed: u64) -> Result<CaseOutcome, SelfCheckError> {
    check_within(compiler, case, sample_seed, LIMITS).map(|(v, _)| v)
}

/// Compile and compare one case; the verdict and, when there was one to
/// compare, the compiled program.
pub fn check_within<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    sample_seed: u64,
    limits: Limits,
) -> Result<(CaseOutcome, Option<ValidProgram>), SelfCheckError> {
    check_compared(compiler, case, sample_seed, limits, &mut Compared::default())
}

/// Comparisons of one case's programs already made: a compiler whose
/// program equals an earlier one's (libseccomp through runc and through its
/// API) gets the earlier comparison, not a second one. With the time its
/// compilations and comparisons took.
#[derive(Default)]
pub struct Compared {
    seen: Vec<(ValidProgram, Result<Option<Divergence>, SelfCheckError>)>,
    /// Time spent compiling, as the caller waited for the generator.
    pub compiling: std::time::Duration,
    /// Time spent comparing with the model.
    pub comparing: std::time::Duration,
}

/// Sampled inputs a comparison starts with: a few per rule of the model
/// (an emulator run and a concrete evaluation of the model each, far
/// cheaper than the exact sets, and most divergences show on them), at
/// least 64, at most 2048.
pub fn sample_count(model: &Model) -> usize {
    let rules: usize = model.abis.iter().map(|a| a.rules.len()).sum();
    (64 + 8 * rules).min(2048)
}

/// [`check_within`], reusing the comparison of an identical program of the
/// same case from `seen` (and adding this one's).
pub fn check_compared<C: Case>(
    compiler: &dyn Compiler<C>,
    case: &C,
    sample_seed: u64,
    limits: Limits,
    seen: &mut Compared,
) -> Result<(CaseOutcome, Option<ValidProgram>), SelfCheckError> {
    let compiling = std::time::Instant::now();
    let compiled = compiler.compile(case, limits);
    seen.compiling += compiling.elapsed();
    let c = match compiled {
        Ok(c) => c,
        Err(NotCompiled::Refused(r)) => return Ok((CaseOutcome::Refused(r), None)),
        Err(NotCompiled::Hung(h)) => return Ok((CaseOutcome::Hung(h), None)),
        Err(NotCompiled::Died(s)) => return Ok((CaseOutcome::Died(s), None)),
    };
    let comparing = std::time::Instant::now();
    let compared = match seen.seen.iter().find(|(p, _)| p.insns() == c.program.insns()) {
        Some((_, r)) => r.clone(),
        None => {
            let model = case.model();
            let s = samples(&model, sample_seed, sample_count(&model));
            let r = compare(&c.program, &model, &s);
            seen.seen.push((c.program.clone(), r.clone()));
            r
        }
    };
    seen.comparing += comparing.elapsed();
    let too_large = |e: &SelfCheckError| {
        matches!(e, SelfCheckError::Exhausted | SelfCheckError::Symbolic(symbolic::SymbolicError::NodeLimit { .. }))
    };
    let verdict = match (compared, c.slow) {
        (Ok(Some(d)), _) => CaseOutcome::Diverges(d),
        (Ok(None), Some(slow)) => CaseOutcome::Slow { slow, too_large: false },
        (Err(e), Some(slow)) if too_large(&e) => CaseOutcome::Slow { slow, too_large: true },
        (Ok(None), None) => CaseOutcome::Agrees,
        (Err(e), None) if too_large(&e) => CaseOutcome::TooLarge,
        (Err(e), _) => return Err(e),
    };
    Ok((verdict, Some(c.program)))
}

/// Validate a generator's output (the generator already checked it is loadable;
/// a failure here is a refusal with the validator's reasons).
pub(crate) fn valid(p: crate::bpf::Program) -> Result<ValidProgram, Refusal> {
    validate(&p).map_err(|v| {
        Refusal(format!(
            "the kernel would refuse the output: {}",
            v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::Refusal;

    #[test]
    fn refusals_are_counted_without_what_is_particular_to_the_case() {
        let reason = |m: &str| Refusal(m.into()).reason();
        let exists = "-EEXIST (a rule for the same syscall with the same argument conditions and a different action already exists)";
        assert_eq!(
            reason(&format!("syscalls[3]: libseccomp refused the SCMP_ACT_TRACE rule for syscall `reboot`: {exists}; runc fails with \"error adding seccomp rule for syscall reboot\"")),
            format!("libseccomp refused a rule: {exists}")
        );
        assert_eq!(
            reason(&format!("syscalls[12]: libseccomp refused the SCMP_ACT_LOG rule for syscall `mount`: {exists}; runc fails with \"error adding seccomp rule for syscall mount\"")),
            format!("libseccomp refused a rule: {exists}")
        );
        assert_eq!(
            reason("libseccomp refused to add the Trace(3) rule for reboot with [DArg { index: 0, op: Gt, value: 7, value_two: 0 }]: Failure regarding the existence of argument"),
            "libseccomp refused a rule: Failure regarding the existence of argument"
        );
        assert_eq!(
            reason("libseccomp refused to create the filter with default Errno(4095): Could not create new filter"),
            "libseccomp refused the default action: Could not create new filter"
        );
        assert_eq!(
            reason("defaultAction: libseccomp failed to create the filter (seccomp_init) with this default action: Could not create new filter"),
            "libseccomp refused the default action: Could not create new filter"
        );
        assert_eq!(
            reason("architectures[1]: string \"SCMP_ARCH_PARISC\" is not a valid arch for runc (known: SCMP_ARCH_X86, SCMP_ARCH_ARM)"),
            "string \"SCMP_ARCH_PARISC\" is not a valid arch for runc"
        );
        assert_eq!(
            reason("(top level): parisc64 is not an arch Docker runs on"),
            "parisc64 is not an arch Docker runs on"
        );
        let equal = "seccompiler: Json Frontend error: `match_action` and `mismatch_action` are equal.";
        assert_eq!(reason(equal), equal);
        assert_eq!(
            reason("the kernel would refuse the output: insn 3: jump out of range; insn 9: no RET at the end"),
            "the kernel would refuse the output"
        );
        assert_eq!(reason("optimize: over budget: 3 nodes"), "optimize: over budget: 3 nodes");
        assert_eq!(
            reason("seccompiler: Backend error: The seccomp filter contains too many BPF instructions: 4111. Max length is 4096."),
            "seccompiler: Backend error: The seccomp filter contains too many BPF instructions (more than 4096)"
        );
    }
}
