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
//! 20 s) and one whose process dies. `seccheck-optimize` runs the
//! seccompiler campaign on our own compiler: seccompiler's output recompiled
//! by `seccheck optimize` without its proof, judged by the same model. Every problem is counted by known
//! issue at the end, `UNEXPLAINED` when none matches. A watchdog
//! (`--case-timeout`) ends the run, with the policy, should seccheck itself
//! or seccompiler (which run in this process) never return.
//!
//! To fuzz another build of libseccomp, point the dynamic loader at it:
//! `LD_LIBRARY_PATH=/opt/libseccomp/lib seccheck fuzz-generator --generator
//! libseccomp` (the findings name the version that ran).
//!
//! Exit 0 when nothing was found, 1 with findings (or when seccheck's own
//! judges disagreed), 2 on bad usage.

use super::{CliError, Outcome};
use crate::genfuzz::{self, Case, Event, Finding, RunReport};
use crate::output::{OutDir, Outputs};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Fuzz a filter generator: random policies, compiled, compared exactly with their documented meaning.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which generator.
    #[arg(long, value_enum)]
    pub generator: Generator,
    /// How long to run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seed of the run (case i of seed s is always the same policy).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Minimise and print at most this many findings per compiler, kind and known issue.
    #[arg(long, default_value_t = 3)]
    pub max_findings: usize,
    /// Write each finding's minimised policy to DIR/finding-N.json (and the
    /// policy of a case the watchdog gave up on to DIR/hang.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Watchdog: one compilation and comparison (or one minimisation step)
    /// that takes longer than this ends the run with exit 1 and its policy.
    /// A libseccomp compilation is stopped well before (it runs in a child
    /// process and is a `hang` finding after 20 s, or 2 s in a tight loop),
    /// so this catches seccheck itself, or seccompiler.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub case_timeout: u64,
    /// What makes the run exit 1: `unexplained` findings only (a known
    /// generator issue is expected), or `any` finding. A self-check failure
    /// (a bug in seccheck) always does.
    #[arg(long, value_enum, default_value_t = FailOn::Unexplained)]
    pub fail_on: FailOn,
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

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    if args.seconds == 0 {
        return Err(CliError::Usage("--seconds must be at least 1".into()));
    }
    if args.case_timeout == 0 {
        return Err(CliError::Usage("--case-timeout must be at least 1".into()));
    }
    let dir = args.out.as_deref().map(|d| Outputs::new().dir(d)).transpose()?;
    let budget = Duration::from_secs(args.seconds);
    match args.generator {
        Generator::Libseccomp => go(&genfuzz::libseccomp::campaign(), budget, &args, dir, out),
        Generator::Seccompiler => go(&genfuzz::seccompiler::campaign(), budget, &args, dir, out),
        Generator::SeccheckOptimize => go(&genfuzz::optimize::campaign(), budget, &args, dir, out),
    }
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
                eprintln!("fuzz-generator: {:.0} s: {}", rep.elapsed.as_secs_f64(), counters(rep).join("; "));
                Ok(())
            }
        };
        failed = r.and_then(|()| out.flush().map_err(CliError::from)).err();
    });
    current.stop();
    if let Some(e) = failed {
        return Err(e);
    }
    let secs = rep.elapsed.as_secs_f64().max(1e-9);
    writeln!(out, "{} cases in {:.1} s ({:.1} cases/s), seed {}", rep.cases, secs, rep.cases as f64 / secs, args.seed)?;
    for line in counters(&rep) {
        writeln!(out, "  {line}")?;
    }
    for ((compiler, kind, known), n) in &rep.by_issue {
        let what = match known {
            Some(k) if *k == genfuzz::NOT_MINIMISED => k.to_string(),
            Some(k) => format!("of known issue {k}"),
            None => "UNEXPLAINED".into(),
        };
        writeln!(out, "  {compiler}: {n} {} {what}", if *kind == "diverges" { "divergences" } else { kind })?;
    }
    let total: u64 = rep.by_issue.values().sum();
    let unexplained: u64 =
        rep.by_issue.iter().filter(|(k, _)| k.2.is_none_or(|k| k == genfuzz::NOT_MINIMISED)).map(|(_, n)| n).sum();
    let found = total > 0 || !rep.self_check.is_empty();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    if found {
        let known = rep.findings.iter().filter(|f| f.known.is_some()).count();
        writeln!(
            out,
            "{} finding{} shown above ({known} of a known issue) of {total} in all ({unexplained} unexplained), {} self-check failure{}",
            rep.findings.len(),
            s(rep.findings.len()),
            rep.self_check.len(),
            s(rep.self_check.len())
        )?;
    } else {
        writeln!(out, "no finding")?;
    }
    let fails = !rep.self_check.is_empty()
        || match args.fail_on {
            FailOn::Any => total > 0,
            FailOn::Unexplained => unexplained > 0,
        };
    if found && !fails {
        writeln!(out, "exit 0: every finding is of a known issue (--fail-on any makes any finding exit 1)")?;
    }
    Ok(if fails { Outcome::Findings } else { Outcome::Clean })
}

/// One line per compiler: what happened to the cases.
fn counters(rep: &RunReport) -> Vec<String> {
    rep.per_compiler
        .iter()
        .map(|c| format!("{}: {} compiled and compared exactly, {} refused by the generator, {} too large to compare exactly, {} diverged, {} slow, {} hung, {} crashed", c.name, c.compared, c.refused, c.too_large, c.diverged, c.slow, c.hung, c.died))
        .collect()
}

fn write_policy(dir: &OutDir, i: usize, f: &Finding) -> Result<(), CliError> {
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
