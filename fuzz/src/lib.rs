//! seccheck's fuzzing: targets (see [`targets`]) and a runner that works on
//! the stable toolchain.
//!
//! Why a runner of our own: `cargo fuzz` needs nightly and sanitizer
//! instrumentation; CI and most users have stable. The runner is
//! structure-aware random testing, not coverage-guided (coverage-guided
//! fuzzing on stable is `fuzz/libfuzzer/run`, whose entry points call
//! [`libfuzzer_one`]): every target reads its bytes through
//! `arbitrary::Unstructured` into *valid, filter-shaped* programs, policies or
//! texts, so random bytes already reach deep code. Each execution's bytes are
//! either fresh (a seeded splitmix64 stream, random length) or a mutation of a
//! corpus entry (the target's regression files plus `fuzz/corpus/TARGET/`).
//! A failure (panic or broken property) is minimised (chunk removal, byte
//! simplification, while the same failure kind persists) and saved under
//! `fuzz/regressions/TARGET/`, which `cargo test -p fuzz` replays.

pub mod targets;

use rand::{Rng, RngCore};
use seccheck::genfuzz::{rng_bytes, SplitMix64};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use targets::{Failure, Target};

/// The body of every libFuzzer entry point (`fuzz/libfuzzer/fuzz_targets/`):
/// run target `name` on `data`, and panic (a libFuzzer crash) on a failure.
/// A known generator issue is expected; a machine-dependent failure (a slow
/// generator, a kernel that cannot load filters now) is printed, not made a
/// crash whose replay would depend on this machine.
pub fn libfuzzer_one(name: &str, data: &[u8]) {
    let t = targets::target(name).expect("a libFuzzer entry point names a target");
    if let Err(f) = (t.run)(data) {
        if f.machine_dependent {
            eprintln!("{} (depends on this machine, not a crash): {}", f.kind, f.detail.lines().next().unwrap_or(""));
        } else if !f.kind.starts_with("known:") {
            panic!("{}: {}", f.kind, f.detail);
        }
    }
}

/// Run `t` once on `data`, turning a panic into a [`Failure`] of kind `panic`.
pub fn run_once(t: &Target, data: &[u8]) -> Result<(), Failure> {
    match catch_unwind(AssertUnwindSafe(|| (t.run)(data))) {
        Ok(r) => r,
        Err(e) => {
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            Err(Failure::new("panic", msg))
        }
    }
}

/// Shrink `data` while `t` still fails with the same kind: remove chunks of
/// halving size, then lower bytes to 0. Bounded by `budget`.
pub fn minimise(t: &Target, data: &[u8], kind: &str, budget: Duration) -> Vec<u8> {
    let start = Instant::now();
    let same = |d: &[u8]| matches!(run_once(t, d), Err(f) if f.kind == kind);
    let mut best = data.to_vec();
    let mut chunk = best.len().max(1);
    while chunk >= 1 && start.elapsed() < budget {
        let mut i = 0;
        let mut progressed = false;
        while i < best.len() && start.elapsed() < budget {
            let mut cand = best.clone();
            cand.drain(i..(i + chunk).min(best.len()));
            if same(&cand) {
                best = cand;
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if !progressed {
            chunk /= 2;
        }
    }
    for i in 0..best.len() {
        if start.elapsed() >= budget {
            break;
        }
        if best[i] != 0 {
            let mut cand = best.clone();
            cand[i] = 0;
            if same(&cand) {
                best = cand;
            }
        }
    }
    best
}

/// Where a target's regression files live.
pub fn regression_dir(root: &Path, target: &str) -> PathBuf {
    root.join("regressions").join(target)
}

/// The regression files of a target, sorted by name.
pub fn regression_files(root: &Path, target: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(regression_dir(root, target))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// What a regression file expects: a file named `known-<id>-*.bin` must
/// still fail with kind `known:<id>` (a generator bug, until it is fixed);
/// every other file must pass.
pub fn expected_kind(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    let rest = name.strip_prefix("known-")?;
    let id = rest.rsplit_once('-')?.0;
    Some(format!("known:{id}"))
}

/// A stable FNV-1a hash, for regression file names.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Stats {
    pub execs: u64,
    pub elapsed: Duration,
    /// Failures by kind: (kind, count, saved file).
    pub failures: Vec<(String, u64, Option<PathBuf>)>,
}

impl Stats {
    pub fn execs_per_second(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// Failures that are not known generator issues.
    pub fn new_failures(&self) -> u64 {
        self.failures.iter().filter(|f| !f.0.starts_with("known:")).map(|f| f.1).sum()
    }
}

fn mutate(rng: &mut SplitMix64, d: &mut Vec<u8>) {
    for _ in 0..=rng.gen_range(0..4) {
        let n = d.len();
        match rng.gen_range(0..6) {
            0 if n > 0 => {
                let i = rng.gen_range(0..n as u64) as usize;
                d[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if n > 0 => {
                let i = rng.gen_range(0..n as u64) as usize;
                d[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = rng.gen_range(0..n as u64 + 1) as usize;
                let len = 1 + rng.gen_range(0..16) as usize;
                let extra = rng_bytes(rng, len);
                d.splice(i..i, extra);
            }
            3 if n > 1 => {
                let i = rng.gen_range(0..n as u64) as usize;
                let len = 1 + rng.gen_range(0..(n - i) as u64) as usize;
                d.drain(i..i + len.min(16));
            }
            4 if n > 8 => {
                let i = rng.gen_range(0..n as u64 - 4) as usize;
                d[i..i + 4].copy_from_slice(&(rng.gen_range(0..600) as u32).to_le_bytes());
            }
            _ => d.truncate(rng.gen_range(0..n as u64 + 1) as usize),
        }
    }
}

/// How often [`run`] prints a progress line on stderr.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// Options of one run.
pub struct RunOptions {
    pub seconds: f64,
    pub seed: u64,
    /// `fuzz/` (regressions and corpus live under it).
    pub root: PathBuf,
    /// Save minimised failures as regression files.
    pub save: bool,
    /// Time for minimising each new failure kind.
    pub minimise_budget: Duration,
}

/// Fuzz `t` for `opts.seconds`. One file is saved per new failure kind.
pub fn run(t: &Target, opts: &RunOptions) -> Stats {
    let start = Instant::now();
    let budget = Duration::from_secs_f64(opts.seconds);
    let mut rng = seccheck::genfuzz::rng(opts.seed);
    let mut corpus: Vec<Vec<u8>> =
        regression_files(&opts.root, t.name).iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let corpus_dir = opts.root.join("corpus").join(t.name);
    if let Ok(rd) = std::fs::read_dir(&corpus_dir) {
        corpus.extend(rd.filter_map(|e| e.ok()).filter_map(|e| std::fs::read(e.path()).ok()));
    }
    let mut stats = Stats::default();
    let mut next_progress = PROGRESS_EVERY;
    while start.elapsed() < budget {
        if start.elapsed() >= next_progress {
            // A run cut short (timeout, Ctrl-C) has still said how far it got;
            // failures were printed when found.
            let s = start.elapsed().as_secs_f64();
            eprintln!(
                "{}: {s:.0} s: {} execs ({:.0}/s), {} failure kind{}",
                t.name,
                stats.execs,
                stats.execs as f64 / s,
                stats.failures.len(),
                if stats.failures.len() == 1 { "" } else { "s" }
            );
            next_progress += PROGRESS_EVERY;
        }
        let data = if !corpus.is_empty() && rng.gen_range(0..2) == 0 {
            let mut d = corpus[rng.gen_range(0..corpus.len() as u64) as usize].clone();
            mutate(&mut rng, &mut d);
            d
        } else {
            let len = match rng.gen_range(0..4) {
                0 => rng.gen_range(0..64),
                1 => rng.gen_range(0..512),
                _ => rng.gen_range(0..4096),
            } as usize;
            rng_bytes(&mut rng, len)
        };
        stats.execs += 1;
        if let Err(f) = run_once(t, &data) {
            if let Some(e) = stats.failures.iter_mut().find(|e| e.0 == f.kind) {
                e.1 += 1;
                continue;
            }
            eprintln!("{}: {} after {} execs: {}", t.name, f.kind, stats.execs, f.detail.lines().next().unwrap_or(""));
            if f.machine_dependent {
                eprintln!(
                    "  depends on this machine's state: not minimised or saved\n  {}",
                    f.detail.replace('\n', "\n  ")
                );
                stats.failures.push((f.kind, 1, None));
                continue;
            }
            let small = minimise(t, &data, &f.kind, opts.minimise_budget);
            let saved = opts.save.then(|| save(opts, t, &f, &small)).flatten();
            if let Some(p) = &saved {
                eprintln!("  minimised to {} bytes: {}", small.len(), p.display());
            }
            if let Err(f2) = run_once(t, &small) {
                eprintln!("  {}", f2.detail.replace('\n', "\n  "));
            }
            stats.failures.push((f.kind, 1, saved));
        }
    }
    stats.elapsed = start.elapsed();
    stats
}

fn save(opts: &RunOptions, t: &Target, f: &Failure, data: &[u8]) -> Option<PathBuf> {
    let dir = regression_dir(&opts.root, t.name);
    std::fs::create_dir_all(&dir).ok()?;
    let kind: String = f.kind.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let name = match f.kind.strip_prefix("known:") {
        Some(id) => format!("known-{id}-{:016x}.bin", fnv(data)),
        None => format!("{kind}-{:016x}.bin", fnv(data)),
    };
    let p = dir.join(name);
    std::fs::write(&p, data).ok()?;
    Some(p)
}
