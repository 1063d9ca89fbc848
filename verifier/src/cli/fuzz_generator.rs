//! `seccheck fuzz-generator --generator libseccomp|seccompiler|seccheck-optimize --seconds N [--seed S]`:
//! differential fuzzing of a filter generator against its documented meaning.
//!
//! Random policies (Docker/OCI JSON for libseccomp, compiled as runc does at
//! optimize 1 and 2; seccompiler JSON for x86_64, aarch64 and riscv64) are
//! compiled by the generator linked into this binary, and the compiled BPF is
//! compared exactly with the policy's meaning computed from the formats'
//! documentation (library: `genfuzz`). Every divergence is minimised and
//! printed with the policy, the input, the expected and the actual action, the
//! generator's version and a `seccheck emu` command that reproduces it. A
//! compilation that takes seconds (generated policies take milliseconds) is
//! a finding too, minimised and printed with a command that times it, and so
//! are a libseccomp compilation that does not end (libseccomp runs in a child
//! process, `kernel::isolate`, killed when caught in a tight loop or after
//! 6 s) and one whose process dies. `seccheck-optimize` runs the
//! seccompiler campaign on our own compiler: seccompiler's output recompiled
//! by `seccheck optimize` without its proof, judged by the same model. Every problem is counted by known
//! issue at the end, `UNEXPLAINED` when none matches, and the summary says
//! what the run reached (`genfuzz::coverage`: per compiler, arch and size
//! class, and why a compiler compared none of one) and where its time went.
//! `--cases N` ends a run after N cases, the same ones however busy the
//! machine is. A watchdog
//! (`--case-timeout`) ends the run, with the policy, should seccheck itself
//! or seccompiler (which run in this process) never return.
//!
//! To fuzz another build of libseccomp, point the dynamic loader at it:
//! `LD_LIBRARY_PATH=/opt/libseccomp/lib seccheck fuzz-generator --generator
//! libseccomp` (the findings name the version that ran).
//!
//! Exit 0 when nothing was found, 1 with findings (or when seccheck's own
//! judges disagreed), 2 on bad usage.

use super::{numbers, CliError, Outcome};
use crate::arch::Arch;
use crate::genfuzz::{self, Case, Event, GeneratorFinding};
use crate::output::{OutDir, Outputs};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Fuzz a filter generator: random policies, compiled, compared exactly with their documented meaning.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which generator.
    #[arg(long, value_enum, required_unless_present = "merge")]
    pub generator: Option<Generator>,
    /// How long to run, 1..=604800 (a week).
    #[arg(long, default_value_t = 10, value_parser = numbers::count::<u64>(1, MAX_SECONDS), allow_negative_numbers = true)]
    pub seconds: u64,
    /// Stop after N cases (at least 1) even when `--seconds` has not run out: a run that
    /// takes the same cases however busy the machine is (a benchmark, a
    /// coverage check).
    #[arg(long, value_name = "N", value_parser = numbers::count::<u64>(1, u64::MAX), allow_negative_numbers = true)]
    pub cases: Option<u64>,
    /// Seed of the run (case i of seed s is always the same policy).
    #[arg(long, default_value_t = 1, value_parser = numbers::count::<u64>(0, u64::MAX), allow_negative_numbers = true)]
    pub seed: u64,
    /// Minimise and print at most this many findings per compiler, kind and
    /// known issue, 0..=1000 (0: none, only counted).
    #[arg(long, default_value_t = 3, value_parser = numbers::count::<usize>(0, MAX_SHOWN), allow_negative_numbers = true)]
    pub max_findings: usize,
    /// Write each finding's minimised policy to DIR/finding-N.json (and the
    /// policy of a case the watchdog gave up on to DIR/hang.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Watchdog: one compilation and comparison (or one minimisation step)
    /// that takes longer than this ends the run with exit 1 and its policy.
    /// A libseccomp compilation is stopped well before (it runs in a child
    /// process and is a `hang` finding after 6 s, or 2 s in a tight loop),
    /// so this catches seccheck itself, or seccompiler. 1..=86400.
    #[arg(long, default_value_t = 120, value_name = "SECONDS", value_parser = numbers::count::<u64>(1, 86_400), allow_negative_numbers = true)]
    pub case_timeout: u64,
    /// What makes the run exit 1: `unexplained` findings only (a known
    /// generator issue is expected), or `any` finding. A self-check failure
    /// (a bug in seccheck) always does.
    #[arg(long, value_enum, default_value_t = FailOn::Unexplained)]
    pub fail_on: FailOn,
    /// Every case has exactly N rules (default: a schedule from one rule to
    /// several hundred, the large sets taking most of the time); 1..=1000.
    #[arg(long, value_name = "N", value_parser = numbers::count::<usize>(1, genfuzz::MAX_PROFILE_SIZE), allow_negative_numbers = true)]
    pub profile_size: Option<usize>,
    /// Only filters for these arches (comma-separated, e.g. `s390x,ppc64`;
    /// default: every arch the generator targets). A libseccomp filter never
    /// mixes byte orders, so its arches come from one side of the list.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub arches: Option<Vec<String>>,
    /// Run only shard I of N (0 <= I < N): cases I, I+N, I+2N, … of the
    /// seed, so N machines running the N shards for the same seed split one
    /// campaign between them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Merge the findings files (`DIR/findings.json`, written by runs with
    /// `--out DIR`, e.g. one per shard) instead of running: counters summed,
    /// at most `--max-findings` findings shown per compiler, kind and known
    /// issue, the same exit code a single run would give; `--out` receives
    /// the merged file.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["generator", "shard", "profile_size", "arches", "cases"])]
    pub merge: Option<Vec<PathBuf>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Unexplained,
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    Libseccomp,
    Seccompiler,
    /// seccompiler's output recompiled by `seccheck optimize` without its proof.
    SeccheckOptimize,
}

impl Generator {
    fn name(self) -> &'static str {
        match self {
            Generator::Libseccomp => "libseccomp",
            Generator::Seccompiler => "seccompiler",
            Generator::SeccheckOptimize => "seccheck-optimize",
        }
    }
}

/// Longest `--seconds`: a week.
const MAX_SECONDS: u64 = 7 * 24 * 3600;

/// Most findings `--max-findings` shows per compiler, kind and known issue.
const MAX_SHOWN: usize = 1000;

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    if let Some(files) = &args.merge {
        return merge(files, &args, out);
    }
    let generator = args.generator.expect("clap requires --generator without --merge");
    let targets: Vec<Arch> = match generator {
        Generator::Libseccomp => genfuzz::libseccomp::ARCHES.iter().map(|a| a.0).collect(),
        Generator::Seccompiler | Generator::SeccheckOptimize => genfuzz::seccompiler::TARGETS.to_vec(),
    };
    let shape = genfuzz::Shape { rules: args.profile_size, arches: arches(&args, &targets)?, pick: None };
    let shard = shard(args.shard.as_deref())?;
    let cases = args.cases;
    let dir = args.out.as_deref().map(|d| Outputs::new().dir(d)).transpose()?;
    let budget = Duration::from_secs(args.seconds);
    match generator {
        Generator::Libseccomp => {
            go(&genfuzz::Campaign { shape, shard, cases, ..genfuzz::libseccomp::campaign() }, budget, &args, dir, out)
        }
        Generator::Seccompiler => {
            go(&genfuzz::Campaign { shape, shard, cases, ..genfuzz::seccompiler::campaign() }, budget, &args, dir, out)
        }
        Generator::SeccheckOptimize => {
            go(&genfuzz::Campaign { shape, shard, cases, ..genfuzz::optimize::campaign() }, budget, &args, dir, out)
        }
    }
}

/// `--arches`, each an arch the generator targets.
fn arches(args: &Args, targets: &[Arch]) -> Result<Option<Vec<Arch>>, CliError> {
    let Some(names) = &args.arches else { return Ok(None) };
    let mut out = Vec::new();
    for n in names {
        let a = Arch::from_name(n.trim()).filter(|a| targets.contains(a)).ok_or_else(|| {
            CliError::Usage(format!(
                "--arches: `{n}` is not an arch {} targets (it targets {})",
                args.generator.map_or("", Generator::name),
                targets.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(Some(out))
}

/// `--shard I/N` as (I, N).
fn shard(s: Option<&str>) -> Result<genfuzz::Shard, CliError> {
    let Some(s) = s else { return Ok(genfuzz::Shard::WHOLE) };
    let bad = || CliError::Usage(format!("--shard must be I/N with 0 <= I < N (`{s}` given)"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count) = (i.trim().parse::<u64>().map_err(|_| bad())?, n.trim().parse::<u64>().map_err(|_| bad())?);
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(genfuzz::Shard { index, count })
}

/// Run the campaign, printing each finding as soon as it is minimised (and
/// a progress line on stderr every [`genfuzz::PROGRESS_EVERY`]), so a run
/// that is cut short has shown what it found; the counters close the output.
fn go<C: Case>(
    c: &genfuzz::Campaign<C>,
    budget: Duration,
    args: &Args,
    dir: Option<OutDir>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let mut failed: Option<CliError> = None;
    let mut written = 0usize;
    let current = Watchdog::start(Duration::from_secs(args.case_timeout), args.seed, dir.clone());
    let rep = genfuzz::run(c, budget, args.seed, args.max_findings, &mut |e| {
        let r = match e {
            Event::Case { case, compiler, json, timing, minimising } => {
                current.set(case, compiler, json, timing, minimising);
                return;
            }
            _ if failed.is_some() => return,
            Event::Finding(f) => {
                let r = writeln!(out, "{}", f.render()).map_err(CliError::from).and_then(|()| match &dir {
                    Some(dir) => write_policy(dir, written, f),
                    None => Ok(()),
                });
                written += 1;
                r
            }
            Event::SelfCheck(s) => {
                writeln!(out, "seccheck self-check failed (a bug in seccheck, not in the generator): {s}\n")
                    .map_err(CliError::from)
            }
            Event::Progress(rep) => {
                eprintln!(
                    "fuzz-generator: {:.0} s: {}",
                    rep.elapsed.as_secs_f64(),
                    counters(&rep.per_compiler.iter().map(Counts::of).collect::<Vec<_>>()).join("; ")
                );
                Ok(())
            }
        };
        failed = r.and_then(|()| out.flush().map_err(CliError::from)).err();
    });
    current.stop();
    if let Some(e) = failed {
        return Err(e);
    }
    let file = FindingsFile {
        schema: schema_id(),
        generator: args.generator.map_or("", Generator::name).to_string(),
        seed: args.seed,
        shard: (c.shard != genfuzz::Shard::WHOLE).then_some((c.shard.index, c.shard.count)),
        runs: 1,
        cases: rep.cases,
        elapsed_s: rep.elapsed.as_secs_f64(),
        per_compiler: rep.per_compiler.iter().map(Counts::of).collect(),
        by_issue: rep
            .by_issue
            .iter()
            .map(|((compiler, kind, known), n)| Issue {
                compiler: compiler.clone(),
                kind: kind.to_string(),
                known: known.map(str::to_string),
                count: *n,
            })
            .collect(),
        findings: rep
            .findings
            .iter()
            .map(|f| Shown {
                compiler: f.compiler.clone(),
                kind: f.problem.kind().to_string(),
                known: f.known.map(str::to_string),
                seed: f.seed,
                case: f.case,
                policy: f.policy_json.clone(),
                text: f.render(),
            })
            .collect(),
        self_check: rep.self_check.clone(),
        coverage: coverage_cells(c, &rep),
        time: Some(Times::of(&rep.time)),
    };
    if let Some(dir) = &dir {
        let json = serde_json::to_string_pretty(&file).expect("plain data serialises");
        dir.write(FINDINGS_FILE, json.as_bytes())?;
    }
    summary(&file, args.fail_on, out)
}

/// The name of a run's findings file in its `--out` directory.
pub const FINDINGS_FILE: &str = "findings.json";

/// The `schema` of a findings file (`docs/schemas/fuzz-generator.v1.json`).
const SCHEMA: &str = "seccheck/fuzz-generator/v1";

fn schema_id() -> String {
    SCHEMA.to_string()
}

/// What a run found, as `--out DIR` saves it and `--merge` reads it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct FindingsFile {
    /// [`SCHEMA`]; absent from files written before it was added (read as v1).
    #[serde(default = "schema_id")]
    schema: String,
    generator: String,
    seed: u64,
    /// `(I, N)` of `--shard I/N`; absent for a whole run or a merge.
    shard: Option<(u64, u64)>,
    /// Runs merged into this file (1 for a run).
    runs: u64,
    cases: u64,
    elapsed_s: f64,
    per_compiler: Vec<Counts>,
    by_issue: Vec<Issue>,
    findings: Vec<Shown>,
    self_check: Vec<String>,
    /// What the run reached (absent from files written before it was counted).
    #[serde(default)]
    coverage: Vec<CoverageCell>,
    /// Where the run's time went (summed over merged runs).
    #[serde(default)]
    time: Option<Times>,
}

/// One coverage cell (`genfuzz::Cell`) as a findings file keeps it: an arch,
/// a size class or both, alone or with other arches.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct CoverageCell {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<genfuzz::SizeClass>,
    with_others: bool,
    /// Cases generated in the cell.
    cases: u64,
    /// Per compiler: cases compiled and compared.
    compared: BTreeMap<String, u64>,
    /// Per compiler: the cases not compared, by why.
    not_compared: BTreeMap<String, BTreeMap<String, u64>>,
}

impl CoverageCell {
    fn key(&self) -> (Option<genfuzz::SizeClass>, Option<String>, bool) {
        (self.size, self.arch.clone(), self.with_others)
    }
    fn label(&self) -> String {
        let what = match (&self.arch, self.size) {
            (Some(a), Some(c)) => format!("{a}, {}", c.label()),
            (Some(a), None) => a.clone(),
            (None, Some(c)) => c.label(),
            (None, None) => "every case".into(),
        };
        format!("{what} {}", if self.with_others { "with other arches" } else { "alone" })
    }
    /// One arch or one size class (not a pair of them).
    fn is_marginal(&self) -> bool {
        self.arch.is_none() || self.size.is_none()
    }
}

/// Where a run's time went, in seconds (`genfuzz::StageTimes`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Default)]
struct Times {
    generating_s: f64,
    compiling_s: f64,
    comparing_s: f64,
    minimising_s: f64,
}

impl Times {
    fn of(t: &genfuzz::StageTimes) -> Times {
        Times {
            generating_s: t.generating.as_secs_f64(),
            compiling_s: t.compiling.as_secs_f64(),
            comparing_s: t.comparing.as_secs_f64(),
            minimising_s: t.minimising.as_secs_f64(),
        }
    }
}

/// The run's coverage: every cell the campaign aims at (those it never
/// generated a case for too), then any other it met.
fn coverage_cells<C: Case>(c: &genfuzz::Campaign<C>, rep: &genfuzz::RunReport) -> Vec<CoverageCell> {
    let targets = c.shape.arches.clone().unwrap_or_else(|| c.targets.clone());
    let mut cells = genfuzz::Coverage::expected(&targets, c.multi_arch, c.shape.rules);
    for k in rep.coverage.cells.keys() {
        if !cells.contains(k) {
            cells.push(*k);
        }
    }
    // Arches first, in the generator's order, then size classes, then pairs.
    cells.sort_by_key(|c| (c.size.is_some() && c.arch.is_some(), c.arch.is_none(), c.arch, c.size, c.with_others));
    let names: Vec<String> = rep.per_compiler.iter().map(|c| c.name.clone()).collect();
    cells
        .into_iter()
        .map(|cell| {
            let counts = rep.coverage.cells.get(&cell);
            CoverageCell {
                arch: cell.arch.map(|a| a.name().to_string()),
                size: cell.size,
                with_others: cell.with_others,
                cases: counts.map_or(0, |c| c.cases),
                compared: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), counts.map_or(0, |c| c.compared[i])))
                    .collect(),
                not_compared: names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, n)| {
                        counts.filter(|c| !c.not_compared[i].is_empty()).map(|c| (n.clone(), c.not_compared[i].clone()))
                    })
                    .collect(),
            }
        })
        .collect()
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Default)]
struct Counts {
    name: String,
    compared: u64,
    refused: u64,
    diverged: u64,
    too_large: u64,
    slow: u64,
    hung: u64,
    died: u64,
    #[serde(default)]
    slow_not_compared: u64,
    /// Stopped by the end of the run (`--seconds`), no finding.
    #[serde(default, skip_serializing_if = "is_zero")]
    cut_short: u64,
    /// `refused`, by reason ([`genfuzz::Refusal::reason`]).
    #[serde(default)]
    refused_because: BTreeMap<String, u64>,
}

impl Counts {
    fn of(c: &genfuzz::CompilerCounts) -> Counts {
        Counts {
            name: c.name.clone(),
            compared: c.compared,
            refused: c.refused,
            diverged: c.diverged,
            too_large: c.too_large,
            slow: c.slow,
            hung: c.hung,
            died: c.died,
            slow_not_compared: c.slow_not_compared,
            cut_short: c.cut_short,
            refused_because: c.refused_because.clone(),
        }
    }
    fn add(&mut self, o: &Counts) {
        self.compared += o.compared;
        self.refused += o.refused;
        self.diverged += o.diverged;
        self.too_large += o.too_large;
        self.slow += o.slow;
        self.hung += o.hung;
        self.died += o.died;
        self.slow_not_compared += o.slow_not_compared;
        self.cut_short += o.cut_short;
        for (why, n) in &o.refused_because {
            *self.refused_because.entry(why.clone()).or_default() += n;
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct Issue {
    compiler: String,
    kind: String,
    /// `None`: unexplained.
    known: Option<String>,
    count: u64,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct Shown {
    compiler: String,
    kind: String,
    known: Option<String>,
    seed: u64,
    case: u64,
    policy: String,
    /// The finding as the run printed it.
    text: String,
}

/// The closing counters, totals and the exit code of a run or a merge.
fn summary(f: &FindingsFile, fail_on: FailOn, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let secs = f.elapsed_s.max(1e-9);
    let shard = f.shard.map(|(i, n)| format!(", shard {i}/{n}")).unwrap_or_default();
    let runs = if f.runs > 1 { format!(" ({} runs merged)", f.runs) } else { String::new() };
    writeln!(
        out,
        "{} cases in {:.1} s ({:.1} cases/s), seed {}{shard}{runs}",
        f.cases,
        secs,
        f.cases as f64 / secs,
        f.seed
    )?;
    if let Some(t) = &f.time {
        writeln!(
            out,
            "  time: {:.1} s compiling, {:.1} s comparing, {:.1} s minimising, {:.1} s generating",
            t.compiling_s, t.comparing_s, t.minimising_s, t.generating_s
        )?;
    }
    for (line, c) in counters(&f.per_compiler).iter().zip(&f.per_compiler) {
        writeln!(out, "  {line}")?;
        if c.refused > 0 {
            writeln!(out, "    {} refused {}, because:", c.name, c.refused)?;
            let mut why: Vec<(&String, &u64)> = c.refused_because.iter().collect();
            why.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (reason, n) in why {
                writeln!(out, "      {n} {reason}")?;
            }
            let told: u64 = c.refused_because.values().sum();
            if told < c.refused {
                // A findings file written before reasons were counted.
                writeln!(out, "      {} for reasons not recorded", c.refused - told)?;
            }
        }
    }
    for i in &f.by_issue {
        let what = match &i.known {
            Some(k) if k == genfuzz::NOT_MINIMISED => k.to_string(),
            Some(k) => format!("of known issue {k}"),
            None => "UNEXPLAINED".into(),
        };
        let kind = if i.kind == "diverges" {
            crate::words::noun(i.count as usize, "divergence", "divergences")
        } else {
            &i.kind
        };
        writeln!(out, "  {}: {} {kind} {what}", i.compiler, i.count)?;
    }
    coverage(f, out)?;
    let total: u64 = f.by_issue.iter().map(|i| i.count).sum();
    let unexplained: u64 = f
        .by_issue
        .iter()
        .filter(|i| i.known.as_deref().is_none_or(|k| k == genfuzz::NOT_MINIMISED))
        .map(|i| i.count)
        .sum();
    let found = total > 0 || !f.self_check.is_empty();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    if found {
        let known = f.findings.iter().filter(|x| x.known.is_some()).count();
        writeln!(
            out,
            "{} finding{} shown above ({known} of a known issue) of {total} in all ({unexplained} unexplained), {} self-check failure{}",
            f.findings.len(),
            s(f.findings.len()),
            f.self_check.len(),
            s(f.self_check.len())
        )?;
    } else {
        writeln!(out, "no finding")?;
    }
    let fails = !f.self_check.is_empty()
        || match fail_on {
            FailOn::Any => total > 0,
            FailOn::Unexplained => unexplained > 0,
        };
    if found && !fails {
        writeln!(out, "exit 0: every finding is of a known issue (--fail-on any makes any finding exit 1)")?;
    }
    Ok(if fails { Outcome::Findings } else { Outcome::Clean })
}

/// What the run reached: per arch and size class, alone and with other
/// arches, the cases generated and how many each compiler compared; each
/// such cell a compiler compared none of, with why; then how many of the
/// pairs of an arch and a size class were reached, and the cells no
/// compiler compared.
fn coverage(f: &FindingsFile, out: &mut dyn Write) -> std::io::Result<()> {
    if f.coverage.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = f.per_compiler.iter().map(|c| c.name.as_str()).collect();
    writeln!(out, "  coverage (cases, then compiled and compared by {}):", names.join(", "))?;
    let compared = |c: &CoverageCell| c.compared.values().any(|&n| n > 0);
    // One line per arch or size class: alone, then with other arches.
    let mut rows: Vec<(String, Vec<&CoverageCell>)> = Vec::new();
    for cell in f.coverage.iter().filter(|c| c.is_marginal()) {
        let row = match (&cell.arch, cell.size) {
            (Some(a), _) => a.clone(),
            (None, Some(c)) => c.label(),
            (None, None) => continue,
        };
        match rows.iter_mut().find(|r| r.0 == row) {
            Some(r) => r.1.push(cell),
            None => rows.push((row, vec![cell])),
        }
    }
    for (row, cells) in &rows {
        let parts: Vec<String> = cells
            .iter()
            .map(|c| {
                let per: Vec<String> =
                    names.iter().map(|n| c.compared.get(*n).copied().unwrap_or(0).to_string()).collect();
                format!(
                    "{} {} ({})",
                    if c.with_others { "with other arches" } else { "alone" },
                    c.cases,
                    per.join(", ")
                )
            })
            .collect();
        writeln!(out, "    {row}: {}", parts.join("; "))?;
    }
    let mut unreached = Vec::new();
    for cell in f.coverage.iter().filter(|c| c.is_marginal()) {
        if cell.cases == 0 {
            unreached.push(format!("{} (no case generated)", cell.label()));
            continue;
        }
        if !compared(cell) {
            unreached.push(format!("{} ({} cases, none compared)", cell.label(), cell.cases));
        }
        for n in &names {
            if cell.compared.get(*n).copied().unwrap_or(0) > 0 {
                continue;
            }
            let why: Vec<String> = cell
                .not_compared
                .get(*n)
                .map(|w| w.iter().map(|(why, k)| format!("{k} {why}")).collect())
                .unwrap_or_default();
            writeln!(
                out,
                "    {n} compared no case of {} ({} {}: {})",
                cell.label(),
                cell.cases,
                crate::words::noun(cell.cases as usize, "case", "cases"),
                why.join("; ")
            )?;
        }
    }
    let pairs: Vec<&CoverageCell> = f.coverage.iter().filter(|c| !c.is_marginal()).collect();
    if !pairs.is_empty() {
        let missing: Vec<String> = pairs.iter().filter(|c| !compared(c)).map(|c| c.label()).collect();
        write!(
            out,
            "  arch and size class pairs: {} of {} compared by at least one compiler",
            pairs.len() - missing.len(),
            pairs.len()
        )?;
        match missing.len() {
            0 => writeln!(out)?,
            1..=8 => writeln!(out, " (none: {})", missing.join(", "))?,
            _ => writeln!(out, " (every pair is scheduled within 24 passes over the arches)")?,
        }
    }
    if unreached.is_empty() {
        writeln!(
            out,
            "  reached: every arch and size class the run aims at{}, compiled and compared by at least one compiler",
            if f.coverage.iter().any(|c| c.with_others) { ", alone and with other arches" } else { "" }
        )
    } else {
        writeln!(out, "  not reached: {}", unreached.join(", "))
    }
}

/// `--merge`: the findings files of several runs as one run's output.
fn merge(files: &[PathBuf], args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut merged: Option<FindingsFile> = None;
    for path in files {
        let bytes = crate::sources::read_bounded(path)?;
        let f: FindingsFile = serde_json::from_slice(&bytes).map_err(|e| {
            CliError::Usage(format!("{}: not a fuzz-generator findings file ({FINDINGS_FILE}): {e}", path.display()))
        })?;
        if f.schema != SCHEMA {
            return Err(CliError::Usage(format!(
                "{}: a findings file of schema `{}`; this seccheck reads `{SCHEMA}`",
                path.display(),
                f.schema
            )));
        }
        let Some(m) = &mut merged else {
            merged = Some(FindingsFile { shard: None, ..f });
            continue;
        };
        if (f.generator.as_str(), f.seed) != (m.generator.as_str(), m.seed) {
            return Err(CliError::Usage(format!(
                "{}: a {} run of seed {}, not {} seed {} like the files before it (merge the shards of one campaign)",
                path.display(),
                f.generator,
                f.seed,
                m.generator,
                m.seed
            )));
        }
        m.runs += f.runs;
        m.cases += f.cases;
        m.elapsed_s = m.elapsed_s.max(f.elapsed_s);
        for c in &f.per_compiler {
            match m.per_compiler.iter_mut().find(|x| x.name == c.name) {
                Some(x) => x.add(c),
                None => m.per_compiler.push(c.clone()),
            }
        }
        for i in f.by_issue {
            match m.by_issue.iter_mut().find(|x| (&x.compiler, &x.kind, &x.known) == (&i.compiler, &i.kind, &i.known)) {
                Some(x) => x.count += i.count,
                None => m.by_issue.push(i),
            }
        }
        m.findings.extend(f.findings);
        m.self_check.extend(f.self_check);
        for cell in f.coverage {
            match m.coverage.iter_mut().find(|x| x.key() == cell.key()) {
                Some(x) => {
                    x.cases += cell.cases;
                    for (n, k) in cell.compared {
                        *x.compared.entry(n).or_default() += k;
                    }
                    for (n, why) in cell.not_compared {
                        let into = x.not_compared.entry(n).or_default();
                        for (w, k) in why {
                            *into.entry(w).or_default() += k;
                        }
                    }
                }
                None => m.coverage.push(cell),
            }
        }
        m.time = match (m.time, f.time) {
            (Some(a), Some(b)) => Some(Times {
                generating_s: a.generating_s + b.generating_s,
                compiling_s: a.compiling_s + b.compiling_s,
                comparing_s: a.comparing_s + b.comparing_s,
                minimising_s: a.minimising_s + b.minimising_s,
            }),
            _ => None,
        };
    }
    let Some(mut m) = merged else { return Err(CliError::Usage("--merge needs at least one file".into())) };
    m.by_issue.sort_by(|a, b| (&a.compiler, &a.kind, &a.known).cmp(&(&b.compiler, &b.kind, &b.known)));
    // Cells stay in the first file's order (a run's: arches, then size
    // classes, then pairs), cells only later files have after them.
    // As many of each issue as one run would show.
    let mut shown: std::collections::BTreeMap<(String, String, Option<String>), usize> = Default::default();
    m.findings.retain(|f| {
        let n = shown.entry((f.compiler.clone(), f.kind.clone(), f.known.clone())).or_default();
        *n += 1;
        *n <= args.max_findings
    });
    for f in &m.findings {
        writeln!(out, "{}", f.text)?;
    }
    for s in &m.self_check {
        writeln!(out, "seccheck self-check failed (a bug in seccheck, not in the generator): {s}\n")?;
    }
    if let Some(d) = &args.out {
        let dir = Outputs::new().dir(d)?;
        for (i, f) in m.findings.iter().enumerate() {
            dir.write(&format!("finding-{i}.json"), f.policy.as_bytes())?;
        }
        dir.write(FINDINGS_FILE, serde_json::to_string_pretty(&m).expect("plain data serialises").as_bytes())?;
    }
    summary(&m, args.fail_on, out)
}

/// One line per compiler: what happened to the cases.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn counters(per_compiler: &[Counts]) -> Vec<String> {
    per_compiler
        .iter()
        .map(|c| {
            let shared = match c.slow_not_compared {
                0 => String::new(),
                n => format!(" ({n} not compiled: another compiler was as slow adding the same rules)"),
            };
            let cut = match c.cut_short {
                0 => String::new(),
                n => format!(", {n} cut short by the end of the run (no finding)"),
            };
            format!("{}: {} compiled and compared exactly, {} refused by the generator, {} too large to compare exactly, {} diverged, {} slow{shared}, {} hung, {} crashed{cut}", c.name, c.compared, c.refused, c.too_large, c.diverged, c.slow, c.hung, c.died)
        })
        .collect()
}

fn write_policy(dir: &OutDir, i: usize, f: &GeneratorFinding) -> Result<(), CliError> {
    Ok(dir.write(&format!("finding-{i}.json"), f.policy_json.as_bytes())?)
}

/// The case being compiled, watched by a thread: a generator call that never
/// returns cannot be interrupted from inside the process, so the watchdog
/// reports the policy and ends the process.
struct Watchdog {
    state: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    since: Option<Instant>,
    case: u64,
    compiler: String,
    json: String,
    timing: String,
    minimising: bool,
    done: bool,
}

impl Watchdog {
    fn start(limit: Duration, seed: u64, dir: Option<OutDir>) -> Watchdog {
        let state = Arc::new(Mutex::new(Watched::default()));
        let watched = Arc::clone(&state);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200).min(limit));
            let w = watched.lock().unwrap_or_else(|e| e.into_inner());
            if w.done {
                return;
            }
            if w.since.is_some_and(|t| t.elapsed() >= limit) {
                report_hang(&w, limit, seed, dir.as_ref());
                std::process::exit(1);
            }
        });
        Watchdog { state }
    }

    fn set(&self, case: u64, compiler: &str, json: &str, timing: &str, minimising: bool) {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        w.since = Some(Instant::now());
        w.case = case;
        w.minimising = minimising;
        if w.compiler != compiler {
            w.compiler = compiler.to_string();
        }
        w.json.clear();
        w.json.push_str(json);
        w.timing.clear();
        w.timing.push_str(timing);
    }

    fn stop(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).done = true;
    }
}

/// Print the hang on standard output. The main thread holds the stdout lock
/// (it is stuck inside the generator), so this writes through a second
/// handle on file descriptor 1, appending after what was already flushed;
/// standard error gets one line too.
fn report_hang(w: &Watched, limit: Duration, seed: u64, dir: Option<&OutDir>) {
    let what = if w.minimising { "minimising case" } else { "case" };
    let mut text = format!(
        "hang ({}): {what} {} of seed {seed} has not finished after {} s: the generator (or seccheck's comparison) is stuck on this policy\n  reproduce: save it as policy.json, then\n    {}\n  policy.json:\n{}\n",
        w.compiler,
        w.case,
        limit.as_secs(),
        w.timing,
        w.json.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"),
    );
    if let Some(dir) = dir {
        match dir.write("hang.json", w.json.as_bytes()) {
            Ok(()) => text.push_str(&format!("  saved as {}\n", dir.shown("hang.json").display())),
            Err(e) => text.push_str(&format!("  could not save {e}\n")),
        }
    }
    let stdout = std::fs::OpenOptions::new().append(true).open("/proc/self/fd/1");
    let printed = stdout.and_then(|mut f| f.write_all(text.as_bytes()));
    eprintln!(
        "seccheck fuzz-generator: {what} {} hung in {} for {} s{}",
        w.case,
        w.compiler,
        limit.as_secs(),
        if printed.is_ok() { " (policy on stdout)" } else { "" }
    );
    if printed.is_err() {
        eprint!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_why_cases_were_refused() {
        let counts = |refused, why: &[(&str, u64)]| Counts {
            name: "libseccomp-o1".into(),
            compared: 5,
            refused,
            refused_because: why.iter().map(|(w, n)| (w.to_string(), *n)).collect(),
            ..Default::default()
        };
        let file = |c: Counts| FindingsFile {
            schema: schema_id(),
            generator: "libseccomp".into(),
            seed: 1,
            shard: None,
            runs: 1,
            cases: 12,
            elapsed_s: 1.0,
            per_compiler: vec![c],
            by_issue: vec![],
            findings: vec![],
            self_check: vec![],
            coverage: vec![],
            time: None,
        };
        let text = |f: &FindingsFile| {
            let mut out = Vec::new();
            summary(f, FailOn::Unexplained, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let why = [("x32 is not an arch Docker runs on", 2), ("libseccomp refused a rule: -EEXIST (…)", 5)];
        let out = text(&file(counts(7, &why)));
        assert!(
            out.contains(
                "    libseccomp-o1 refused 7, because:\n      5 libseccomp refused a rule: -EEXIST (…)\n      2 x32 is not an arch Docker runs on\n"
            ),
            "{out}"
        );
        // A file written before reasons were counted says so, without inventing them.
        let out = text(&file(counts(7, &[])));
        assert!(out.contains("    libseccomp-o1 refused 7, because:\n      7 for reasons not recorded\n"), "{out}");
        // Nothing refused: no such lines.
        assert!(!text(&file(counts(0, &[]))).contains("because"));
        // Merged counters add the reasons.
        let mut a = counts(7, &why);
        a.add(&counts(1, &[("x32 is not an arch Docker runs on", 1)]));
        assert_eq!((a.refused, a.refused_because["x32 is not an arch Docker runs on"]), (8, 3));
    }
}
