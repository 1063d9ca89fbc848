//! The campaign loop: generate cases from a seed, compile each with every
//! compiler, compare, minimise and classify what diverges, and count it all.

use super::compare::{confirm, Divergence};
use super::compile::*;
use super::minimise::{minimise, shrink, shrink_hung, shrink_slow};
use crate::arch::Arch;
use crate::bpf::validate::ValidProgram;
use crate::seccomp::Action;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What is wrong with a generator's output.
#[derive(Clone, Debug)]
pub enum Problem {
    /// The compiled filter does something else than the policy says for this input.
    Diverges(Divergence),
    /// The generator took at least [`SLOW_COMPILE`] to compile the policy.
    Slow(Slow),
    /// The generator did not end.
    Hung(Hang),
    /// The compiling process died.
    Died(String),
}

impl Problem {
    /// `diverges`, `slow` or `hang`: findings of different kinds never
    /// share a `--max-findings` budget.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Diverges(_) => "diverges",
            Problem::Slow(_) => "slow",
            Problem::Hung(_) => "hang",
            Problem::Died(_) => "crash",
        }
    }
}

/// A generator finding: a minimised policy and what is wrong with the filter
/// a generator compiled from it (not [`crate::finding::Finding`], a problem in
/// a filter under review).
#[derive(Clone, Debug)]
pub struct GeneratorFinding {
    pub compiler: String,
    pub generator: String,
    pub policy_json: String,
    pub problem: Problem,
    /// The `seccheck` command that shows it on the policy saved as
    /// `policy.json` (`emu` for a divergence, `table` timed for a slow or
    /// hanging one).
    pub reproducer: String,
    /// The known generator issue this matches, if any (see the generator modules).
    pub known: Option<&'static str>,
    /// Which case of the run (`--seed`, case index) produced it.
    pub seed: u64,
    pub case: u64,
}

impl GeneratorFinding {
    /// Readable text block.
    pub fn render(&self) -> String {
        let policy = self.policy_json.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
        let known = self.known.map(|k| format!(", known issue: {k}")).unwrap_or_default();
        let what = match &self.problem {
            Problem::Diverges(d) => {
                let abi = Arch::from_audit(d.input.arch, d.input.nr);
                let name = abi.and_then(|a| a.syscall_name(d.input.nr)).unwrap_or("?");
                let args: Vec<String> = d.input.args.iter().map(|a| format!("{a:#x}")).collect();
                format!(
                    "input: arch {:#x} ({}), nr {} ({name}), args [{}]\n  expected {} (the policy's documented meaning), got {} ({:?} judge)",
                    d.input.arch,
                    abi.map(|a| a.name()).unwrap_or("unknown arch"),
                    d.input.nr,
                    args.join(", "),
                    action_text(d.expected),
                    action_text(d.actual),
                    d.judge,
                )
            }
            Problem::Slow(s) => format!("slow: compiling took {:.1} s (generated policies take milliseconds; reported from {} s)", s.time.as_secs_f64(), SLOW_COMPILE.as_secs()),
            Problem::Hung(h) => match &h.spinning_at {
                Some(at) => format!("hang: still compiling after {:.1} s, caught twice in a tight loop at {at} (a loop that does not end); killed", h.after.as_secs_f64()),
                None => format!("hang: still compiling after {:.1} s (not in a tight loop: maybe only very slow); killed", h.after.as_secs_f64()),
            },
            Problem::Died(status) => format!("crash: the compiling process {status}"),
        };
        format!(
            "finding ({}{known}): {}\n  {what}\n  reproduce: seed {} case {}; save the policy below as policy.json, then\n    {}\n  policy.json:\n{policy}\n",
            self.compiler, self.generator, self.seed, self.case, self.reproducer,
        )
    }
}

/// `ERRNO(13)`, `ALLOW`, …
pub fn action_text(a: Action) -> String {
    match a.data() {
        Some(d) => format!("{}({d})", a.name()),
        None => a.name().to_string(),
    }
}

/// A generator's cases and compilers, for the run loop.
pub struct Campaign<C: Case> {
    pub generate: fn(&mut arbitrary::Unstructured, &super::Shape) -> arbitrary::Result<C>,
    /// What the cases are made of.
    pub shape: super::Shape,
    /// Every arch the generator targets (the schedule cycles through them,
    /// or through `shape.arches`).
    pub targets: Vec<Arch>,
    /// The generator's filters can be for several arches at once.
    pub multi_arch: bool,
    /// Which of the seed's cases this run takes.
    pub shard: Shard,
    /// Stop after this many cases (`--cases`), if the budget has not ended
    /// the run first: the same cases in every run, however busy the machine.
    pub cases: Option<u64>,
    pub compilers: Vec<Box<dyn Compiler<C>>>,
    /// The known generator issue a (minimised) divergence matches, given the case,
    /// its compiled program and the divergence.
    pub known: fn(&C, &ValidProgram, &Divergence) -> Option<&'static str>,
    /// The compilers share the stage that takes the rules in (libseccomp at
    /// two optimisation levels): when one hangs there (a known hang), the
    /// others would too, and are counted as hung without being run.
    pub shared_rule_stage: bool,
}

/// A share of a seed's cases: case numbers `index`, `index + count`, …, so
/// `count` runs of one seed, one per index, split its cases between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Every case.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

/// What happened to one compiler's cases in a run.
#[derive(Debug, Default, Clone)]
pub struct CompilerCounts {
    pub name: String,
    /// Compiled and compared exactly (or sampled, when too large).
    pub compared: u64,
    pub refused: u64,
    /// `refused`, by [`super::Refusal::reason`].
    pub refused_because: BTreeMap<String, u64>,
    pub diverged: u64,
    /// Too large for the exact comparison (the emulator samples still ran).
    pub too_large: u64,
    /// Took at least [`SLOW_COMPILE`] (also counted as compared or too large).
    pub slow: u64,
    /// Did not end within [`LIMITS`].
    pub hung: u64,
    /// Of `slow`: not compiled, because another compiler sharing the rule
    /// stage was slow adding the same rules.
    pub slow_not_compared: u64,
    /// The compiling process died.
    pub died: u64,
    /// Started in the last seconds of the run and stopped by its end (no
    /// finding: a compilation given less than [`LIMITS`] proves nothing).
    pub cut_short: u64,
}

/// Counters and findings of a run.
#[derive(Debug, Default)]
pub struct RunReport {
    pub cases: u64,
    pub per_compiler: Vec<CompilerCounts>,
    pub findings: Vec<GeneratorFinding>,
    /// Self-check failures of seccheck itself (a bug in seccheck; printed, exit 1).
    pub self_check: Vec<String>,
    /// Every divergence, slow compilation and hang of the run (minimised or
    /// not), by compiler, kind and known issue (`None`: unexplained).
    pub by_issue: BTreeMap<(String, &'static str, Option<&'static str>), u64>,
    /// What the run reached: arches and size classes, per compiler.
    pub coverage: super::Coverage,
    /// Where the run's time went.
    pub time: StageTimes,
    pub elapsed: Duration,
}

/// Where a run's time went (measured around each stage; the rest is the
/// loop's own bookkeeping).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct StageTimes {
    /// Drawing the cases from their bytes.
    pub generating: Duration,
    /// The generators, as the caller waits for them (in a fork server for
    /// libseccomp: with the round trip).
    pub compiling: Duration,
    /// Comparing the programs with the model (samples and exact sets).
    pub comparing: Duration,
    /// Minimising what was found (its compilations and comparisons too).
    pub minimising: Duration,
}

/// Bytes of randomness each case is generated from.
/// (A rule takes about 40; a case of [`super::MAX_RULES`] rules fits.)
pub const CASE_BYTES: usize = 1 << 16;

/// The byte stream of case `i` of a run seeded with `seed`.
pub fn case_bytes(seed: u64, i: u64) -> Vec<u8> {
    super::rng_bytes(&mut super::rng(seed ^ i.wrapping_mul(0xa076_1d64_78bd_642f)), CASE_BYTES)
}

/// What [`run`] reports while it runs, so a caller can stream it: a run that
/// is cut short (a timeout, Ctrl-C) has already shown everything it found.
pub enum Event<'a> {
    /// About to compile case `case` (policy `json`) with `compiler` and
    /// compare it; `minimising` when it is about to be minimised (many
    /// compilations of smaller variants); `timing` is the command that times
    /// the compilation. A generator that never returns from this is itself a
    /// finding (`seccheck fuzz-generator` has a watchdog for it).
    Case { case: u64, compiler: &'a str, json: &'a str, timing: &'a str, minimising: bool },
    /// A minimised finding (also kept in the final [`RunReport`]).
    Finding(&'a GeneratorFinding),
    /// A self-check failure of seccheck (also kept in the report).
    SelfCheck(&'a str),
    /// Every [`PROGRESS_EVERY`]: the counters so far (`elapsed` is up to date).
    Progress(&'a RunReport),
}

/// Unexplained problems of one kind [`run`] minimises per compiler (a known
/// classifier often recognises the minimised case); later ones are counted
/// as [`NOT_MINIMISED`].
pub const MAX_UNEXPLAINED_ATTEMPTS: usize = 10;

/// The "known issue" of an unexplained problem counted without being
/// minimised (past [`MAX_UNEXPLAINED_ATTEMPTS`], or when enough have been
/// shown).
pub const NOT_MINIMISED: &str = "(not minimised, so not classified)";

/// Where a campaign's compilers share the rule stage, a slow or hanging
/// known issue is minimised and shown once for all of them (under this key).
pub const ALL_COMPILERS: &str = "all compilers";

/// The budget [`run`] gives minimising one slow or hanging compilation (each
/// step takes [`SLOW_COMPILE`] or more), past the end of its budget if need
/// be; the last variant checked may run past it.
pub const MINIMISE_SLOW_MAX: Duration = Duration::from_secs(60);

/// How often [`run`] sends [`Event::Progress`].
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// Run a campaign for `budget`: generate cases, compile each with every
/// compiler, compare, minimise the first `max_minimised` divergences (and
/// slow compilations) per compiler and known issue. `on` sees each finding as soon as it is
/// minimised and a progress report every [`PROGRESS_EVERY`].
pub fn run<C: Case>(
    campaign: &Campaign<C>,
    budget: Duration,
    seed: u64,
    max_minimised: usize,
    on: &mut dyn FnMut(Event),
) -> RunReport {
    let start = Instant::now();
    let mut rep = RunReport {
        per_compiler: campaign
            .compilers
            .iter()
            .map(|c| CompilerCounts { name: c.name(), ..Default::default() })
            .collect(),
        ..Default::default()
    };
    let mut minimised: BTreeMap<(String, &'static str, Option<&'static str>), usize> = BTreeMap::new();
    let mut attempts: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    let mut i = campaign.shard.index;
    let mut next_progress = PROGRESS_EVERY;
    let mut cut_short = false;
    while start.elapsed() < budget && campaign.cases.is_none_or(|n| rep.cases < n) {
        if start.elapsed() >= next_progress {
            rep.elapsed = start.elapsed();
            on(Event::Progress(&rep));
            next_progress += PROGRESS_EVERY;
        }
        let generating = Instant::now();
        let bytes = case_bytes(seed, i);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let shape = campaign.shape.for_case(i, &campaign.targets, campaign.multi_arch);
        let generated = (campaign.generate)(&mut u, &shape);
        rep.time.generating += generating.elapsed();
        let Ok(case) = generated else {
            i += campaign.shard.count;
            continue;
        };
        rep.cases += 1;
        let cells = super::Cell::of(&case.abis(), case.rule_count());
        rep.coverage.case(&cells, campaign.compilers.len());
        let json = case.json();
        let mut looped_adding_rules: Option<Hang> = None;
        let mut slow_adding_rules: Option<Slow> = None;
        let mut compared = Compared::default();
        let (compiling, comparing) = (rep.time.compiling, rep.time.comparing);
        for (ci, comp) in campaign.compilers.iter().enumerate() {
            let name = comp.name();
            if let Some(h) = &looped_adding_rules {
                // Same rules, same loop: counted, not run again.
                rep.per_compiler[ci].hung += 1;
                rep.coverage.outcome(&cells, ci, Some("hung"));
                *rep.by_issue.entry((name, "hang", h.known)).or_default() += 1;
                continue;
            }
            if let Some(s) = &slow_adding_rules {
                // Same rules, as slow to add: counted, not compiled again
                // (nor compared).
                rep.per_compiler[ci].slow += 1;
                rep.per_compiler[ci].slow_not_compared += 1;
                rep.coverage.outcome(
                    &cells,
                    ci,
                    Some("slow (not compiled: another compiler was as slow adding the same rules)"),
                );
                *rep.by_issue.entry((name, "slow", s.known)).or_default() += 1;
                continue;
            }
            let timing = comp.timing_command("policy.json", &case);
            on(Event::Case { case: i, compiler: &name, json: &json, timing: &timing, minimising: false });
            // `--seconds` is a promise: the run ends within 10 % of its budget
            // (aimed at 5 %, leaving room for what follows a compilation).
            // A compilation started near the end gets only what is left of that
            // window; one cut short by it is no finding but `cut_short`, as are
            // the case's compilers after it, and the run ends. (Checked per
            // compilation: one case's compilers may each take that long.)
            let window = (budget + budget / 20).saturating_sub(start.elapsed());
            let near_end = window < LIMITS.give_up;
            let limits =
                if near_end { Limits { spin_check: LIMITS.spin_check.min(window), give_up: window } } else { LIMITS };
            let checked = check_compared(comp.as_ref(), &case, i, limits, &mut compared);
            (rep.time.compiling, rep.time.comparing) = (compiling + compared.compiling, comparing + compared.comparing);
            // A loop found within the usual spin check is a finding still.
            let given_up = |h: &Hang| h.spinning_at.is_none() || window < LIMITS.spin_check;
            if near_end && matches!(&checked, Ok((CaseOutcome::Hung(h), _)) if given_up(h)) {
                for c in &mut rep.per_compiler[ci..] {
                    c.cut_short += 1;
                }
                for cj in ci..campaign.compilers.len() {
                    rep.coverage.outcome(&cells, cj, Some("cut short by the end of the run"));
                }
                cut_short = true;
                break;
            }
            let counts = &mut rep.per_compiler[ci];
            let not_compared = match &checked {
                Ok((CaseOutcome::Agrees | CaseOutcome::Diverges(_), _))
                | Ok((CaseOutcome::Slow { too_large: false, .. }, _)) => None,
                Ok((CaseOutcome::TooLarge | CaseOutcome::Slow { too_large: true, .. }, _)) => {
                    Some("too large to compare exactly".to_string())
                }
                Ok((CaseOutcome::Refused(r), _)) => Some(r.reason()),
                Ok((CaseOutcome::Hung(_), _)) => Some("hung".into()),
                Ok((CaseOutcome::Died(_), _)) => Some("crashed".into()),
                Err(_) => Some("seccheck's self-check failed".into()),
            };
            rep.coverage.outcome(&cells, ci, not_compared.as_deref());
            match &checked {
                Ok((CaseOutcome::Agrees | CaseOutcome::Diverges(_), _))
                | Ok((CaseOutcome::Slow { too_large: false, .. }, _)) => counts.compared += 1,
                Ok((CaseOutcome::TooLarge | CaseOutcome::Slow { too_large: true, .. }, _)) => counts.too_large += 1,
                Ok((CaseOutcome::Refused(r), _)) => {
                    counts.refused += 1;
                    *counts.refused_because.entry(r.reason()).or_default() += 1;
                }
                Ok((CaseOutcome::Hung(_), _)) => counts.hung += 1,
                Ok((CaseOutcome::Died(_), _)) => counts.died += 1,
                Err(_) => {}
            }
            let mut program = None;
            let (known, problem) = match checked {
                Ok((CaseOutcome::Diverges(d), Some(p))) => {
                    counts.diverged += 1;
                    let k = (campaign.known)(&case, &p, &d);
                    program = Some(p);
                    (k, Problem::Diverges(d))
                }
                Ok((CaseOutcome::Slow { slow, .. }, _)) => {
                    counts.slow += 1;
                    // A known slow compilation is slow in adding the rules.
                    if campaign.shared_rule_stage && slow.known.is_some() {
                        slow_adding_rules = Some(slow);
                    }
                    (slow.known, Problem::Slow(slow))
                }
                Ok((CaseOutcome::Hung(h), _)) => {
                    // Both known hangs are in adding the rules.
                    if campaign.shared_rule_stage && h.known.is_some() {
                        looped_adding_rules = Some(h.clone());
                    }
                    (h.known, Problem::Hung(h))
                }
                Ok((CaseOutcome::Died(s), _)) => (None, Problem::Died(s)),
                Ok(_) => continue,
                Err(e) => {
                    rep.self_check.push(format!("seed {seed} case {i} ({name}): {e}"));
                    on(Event::SelfCheck(rep.self_check.last().expect("just pushed")));
                    continue;
                }
            };
            let kind = problem.kind();
            // A slow or hanging compilation costs seconds per minimisation
            // step: one of each known issue is shown, and where the
            // compilers share the rule stage, one for all of them.
            let slow_kind = matches!(problem, Problem::Slow(_) | Problem::Hung(_));
            let (shown_as, cap) = match (slow_kind, known.is_some()) {
                (true, true) if campaign.shared_rule_stage => (ALL_COMPILERS.to_string(), max_minimised.min(1)),
                (true, true) => (name.clone(), max_minimised.min(1)),
                _ => (name.clone(), max_minimised),
            };
            // Shown enough of this issue already, or past the attempts at
            // explaining this kind: counted as it stands.
            let shown = minimised.get(&(shown_as.clone(), kind, known)).copied().unwrap_or(0);
            let tried = attempts.entry((name.clone(), kind)).or_default();
            if shown >= cap || (known.is_none() && *tried >= MAX_UNEXPLAINED_ATTEMPTS) {
                *rep.by_issue.entry((name.clone(), kind, known.or(Some(NOT_MINIMISED)))).or_default() += 1;
                continue;
            }
            if known.is_none() {
                *tried += 1;
            }
            let left = budget.saturating_sub(start.elapsed());
            // Minimising never takes the run past its budget: with less
            // than a second left the case is counted as it stands.
            if left < Duration::from_secs(1) {
                *rep.by_issue.entry((name.clone(), kind, known.or(Some(NOT_MINIMISED)))).or_default() += 1;
                continue;
            }
            let mut watch = |c: &C| {
                on(Event::Case {
                    case: i,
                    compiler: &name,
                    json: &c.json(),
                    timing: &comp.timing_command("policy.json", c),
                    minimising: true,
                })
            };
            let minimising = Instant::now();
            let (small, problem, known_small) = match problem {
                Problem::Diverges(d) => {
                    let found = (d, program.expect("a divergence has a program"));
                    let (small, (d, p)) =
                        shrink(comp.as_ref(), &case, found, left.min(Duration::from_secs(10)), &mut watch);
                    // Shown as the exact comparison sees it: confirmed by
                    // both judges, with the analysis' readable input.
                    let d = match confirm(&p, &small.model(), d) {
                        Ok(d) => d,
                        Err(e) => {
                            rep.time.minimising += minimising.elapsed();
                            rep.self_check.push(format!("seed {seed} case {i} ({name}), minimised: {e}"));
                            on(Event::SelfCheck(rep.self_check.last().expect("just pushed")));
                            continue;
                        }
                    };
                    let k = (campaign.known)(&small, &p, &d);
                    (small, Problem::Diverges(d), k)
                }
                // Each step takes SLOW_COMPILE or more; within what is left
                // of the budget (`--seconds` is a promise).
                Problem::Slow(s) => {
                    let (small, s) = shrink_slow(comp.as_ref(), &case, s, left.min(MINIMISE_SLOW_MAX), &mut watch);
                    (small, Problem::Slow(s), s.known)
                }
                Problem::Hung(h) => {
                    let (small, h) = shrink_hung(comp.as_ref(), &case, h, left.min(MINIMISE_SLOW_MAX), &mut watch);
                    let k = h.known;
                    (small, Problem::Hung(h), k)
                }
                Problem::Died(s) => {
                    let (small, s) = minimise(
                        &case,
                        s,
                        left.min(Duration::from_secs(30)),
                        MINIMISE_LIMITS.give_up,
                        &mut watch,
                        |c| match comp.compile(c, MINIMISE_LIMITS) {
                            Err(NotCompiled::Died(s)) => Some(s),
                            _ => None,
                        },
                    );
                    (small, Problem::Died(s), None)
                }
            };
            rep.time.minimising += minimising.elapsed();
            // Counted under what minimising showed it to be; shown unless
            // that issue has been shown enough.
            *rep.by_issue.entry((name.clone(), kind, known_small)).or_default() += 1;
            let n = minimised.entry((shown_as, kind, known_small)).or_default();
            if *n >= cap {
                continue;
            }
            *n += 1;
            let reproducer = match &problem {
                Problem::Diverges(d) => comp.reproducer("policy.json", &small, &d.input),
                _ => comp.timing_command("policy.json", &small),
            };
            rep.findings.push(GeneratorFinding {
                compiler: name.clone(),
                generator: comp.generator(),
                policy_json: small.json(),
                problem,
                reproducer,
                known: known_small,
                seed,
                case: i,
            });
            on(Event::Finding(rep.findings.last().expect("just pushed")));
        }
        i += campaign.shard.count;
        if cut_short {
            break;
        }
    }
    rep.elapsed = start.elapsed();
    rep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genfuzz::libseccomp;
    use crate::seccomp::SeccompData;

    /// libseccomp (optimize 1) whose compilations of cases with two or more
    /// rules naming `read` "take" 3 s, and which "hangs" (without running)
    /// on cases with a rule for `write` that has conditions: the run loop's
    /// handling of slow and hanging generators, without waiting for one.
    struct Pretend;

    impl Pretend {
        fn reads(c: &libseccomp::DockerCase) -> usize {
            c.rules.iter().filter(|r| r.names.contains(&"read")).count()
        }
        fn hangs(c: &libseccomp::DockerCase) -> bool {
            c.rules.iter().any(|r| r.names.contains(&"write") && !r.args.is_empty())
        }
    }

    impl Compiler<libseccomp::DockerCase> for Pretend {
        fn name(&self) -> String {
            "pretend".into()
        }
        fn generator(&self) -> String {
            "pretend 1".into()
        }
        fn compile(&self, case: &libseccomp::DockerCase, limits: Limits) -> Result<Compiled, NotCompiled> {
            if Pretend::hangs(case) {
                return Err(NotCompiled::Hung(Hang {
                    after: limits.spin_check,
                    spinning_at: Some("pretend.so+0x10".into()),
                    known: Some("pretend-loops"),
                }));
            }
            // Real hangs of libseccomp (L5, L6) are given up on quickly and
            // left out, so that only the pretended ones are findings.
            let quick = Limits { spin_check: Duration::from_millis(500), give_up: Duration::from_secs(3) };
            let mut c = match (libseccomp::LibseccompCompiler { optimize: crate::sources::Optimize::Linear })
                .compile(case, quick)
            {
                Err(NotCompiled::Hung(_)) => {
                    return Err(NotCompiled::Refused(Refusal("libseccomp really hangs".into())))
                }
                r => r?,
            };
            c.slow = (Pretend::reads(case) >= 2)
                .then_some(Slow { time: Duration::from_secs(3), known: Some("pretend-slow") });
            Ok(c)
        }
        fn reproducer(&self, file: &str, _: &libseccomp::DockerCase, _: &SeccompData) -> String {
            format!("emu {file}")
        }
        fn timing_command(&self, file: &str, _: &libseccomp::DockerCase) -> String {
            format!("time {file}")
        }
    }

    #[test]
    fn slow_and_hanging_cases_are_minimised_to_what_makes_them_so() {
        use libseccomp::{DAction, DRule, DockerCase};
        let rule = |name, args: usize| DRule {
            names: vec![name],
            action: DAction::Errno(None),
            args: (0..args as u8)
                .map(|i| libseccomp::DArg { index: i, op: libseccomp::DOp::Ne, value: 9, value_two: 0 })
                .collect(),
        };
        let case = DockerCase {
            default: DAction::Allow,
            host: Arch::X86_64,
            arches: vec![],
            rules: vec![rule("read", 2), rule("close", 1), rule("read", 0), rule("read", 3), rule("open", 0)],
        };
        let slow = Slow { time: Duration::from_secs(3), known: Some("pretend-slow") };
        let mut seen = 0;
        let (small, s) = shrink_slow(&Pretend, &case, slow, Duration::from_secs(60), &mut |_| seen += 1);
        assert_eq!(s, slow);
        assert_eq!((small.rules.len(), Pretend::reads(&small)), (2, 2), "{small:?}");
        assert!(small.rules.iter().all(|r| r.args.is_empty()), "{small:?}");
        assert!(seen > 0, "the watchdog sees each variant");
        let case = DockerCase { rules: vec![rule("read", 2), rule("write", 3), rule("write", 0)], ..case };
        let Err(NotCompiled::Hung(h)) = Pretend.compile(&case, LIMITS) else { panic!("pretends to hang") };
        let (small, _) = shrink_hung(&Pretend, &case, h, Duration::from_secs(60), &mut |_| ());
        assert_eq!(small.rules.len(), 1);
        assert_eq!(small.rules[0].args.len(), 1, "{small:?}");
    }

    #[test]
    fn the_run_counts_and_shows_each_kind_of_finding_on_its_own() {
        let campaign = Campaign {
            generate: libseccomp::generate_shaped,
            // Small x86 filters, where L1-L4 show within the run.
            shape: crate::genfuzz::Shape {
                rules: Some(6),
                arches: Some(vec![Arch::X86_64, Arch::X32, Arch::I386]),
                pick: None,
            },
            targets: libseccomp::ARCHES.iter().map(|a| a.0).collect(),
            multi_arch: true,
            shard: Shard::WHOLE,
            cases: None,
            compilers: vec![Box::new(Pretend), Box::new(Pretend)],
            known: libseccomp::known,
            shared_rule_stage: true,
        };
        let mut streamed = 0;
        let rep = run(&campaign, Duration::from_secs(3), 3, 1, &mut |e| {
            if let Event::Finding(_) = e {
                streamed += 1;
            }
        });
        assert_eq!(streamed, rep.findings.len());
        let count = |kind: &str| rep.findings.iter().filter(|f| f.problem.kind() == kind).count();
        // One finding per (compiler name, kind, known issue): both compilers
        // are called `pretend`, so one of each kind in all.
        assert_eq!(count("slow"), 1, "{:#?}", rep.per_compiler);
        assert_eq!(count("hang"), 1, "{:#?}", rep.per_compiler);
        assert!(
            rep.findings.iter().any(|f| f.problem.kind() == "diverges"),
            "real libseccomp divergences (L1-L4) are still shown beside them"
        );
        let (first, second) = (&rep.per_compiler[0], &rep.per_compiler[1]);
        assert!(first.slow > 1 && first.hung > 1, "{first:?}");
        // The second shares the first's rule stage: a known hang there is
        // counted, not run again.
        assert_eq!(first.hung, second.hung);
        assert_eq!(first.compared + first.too_large + first.refused + first.hung + first.cut_short, rep.cases);
        assert_eq!(first.refused_because.values().sum::<u64>(), first.refused, "{first:?}");
        for f in &rep.findings {
            match &f.problem {
                Problem::Slow(_) => {
                    assert_eq!((f.known, f.reproducer.as_str()), (Some("pretend-slow"), "time policy.json"))
                }
                Problem::Hung(_) => assert_eq!(f.known, Some("pretend-loops")),
                Problem::Diverges(_) => assert!(f.reproducer.starts_with("emu policy.json")),
                Problem::Died(s) => panic!("nothing crashes here: {s}"),
            }
        }
    }
}
