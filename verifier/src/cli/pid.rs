//! `seccheck pid PID`: the seccomp filters of every thread of a running process.
//!
//! Threads with identical stacks (the usual case after inheritance or `TSYNC`)
//! are shown once. Each filter is named by the first 12 hex digits of the
//! SHA-256 of its raw bytes, so `--dump DIR` writes it as `DIR/<hash>.bpf`,
//! a raw `sock_filter` file every other command reads, and `sha256sum` of that
//! file starts with the same digits. Needs root (ptrace and `CAP_SYS_ADMIN`);
//! each thread is stopped only for the few system calls that read it.
//!
//! For each stack it also shows the path length `seccomp_attach_filter`
//! (kernel/seccomp.c) counts — converted (eBPF) lengths, each older filter
//! plus 4 — and the room left under `MAX_INSNS_PER_PATH`: the longest filter
//! one more `seccomp(2)` call on that thread (a container runtime's, a
//! sandbox's) can still attach.

use super::{write_json, CliError, Outcome, OutputFormat};
use crate::kernel::live::{read_process, LiveFilter, ProcessFilters, SeccompMode, Skipped};
use crate::output::{OutDir, Outputs};
use crate::seccomp::PathLength;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Read the seccomp filter stack of every thread of a running process.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Process id (a thread id names its process), 1..=2147483647.
    #[arg(value_parser = super::numbers::pid(), allow_negative_numbers = true)]
    pub pid: i32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write each distinct filter to DIR/<hash>.bpf (raw little-endian sock_filter
    /// array); DIR is created if needed.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,
    /// One entry per thread instead of one per group of threads with identical stacks.
    #[arg(long)]
    pub per_thread: bool,
}

#[derive(Serialize)]
struct Report {
    pid: i32,
    threads: usize,
    /// Threads with identical mode and stack, or one entry per thread with `--per-thread`.
    groups: Vec<GroupReport>,
    skipped: Vec<Skipped>,
}

#[derive(Serialize)]
struct GroupReport {
    tids: Vec<i32>,
    names: Vec<String>,
    mode: SeccompMode,
    /// Installation order: the first is the oldest; the kernel runs the last first.
    filters: Vec<FilterReport>,
    /// The stack's length as `seccomp_attach_filter` counts it; absent without filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length: Option<PathLength>,
}

#[derive(Serialize)]
struct FilterReport {
    instructions: usize,
    sha256: String,
    /// `None` when the kernel cannot report flags (before Linux 4.16).
    flags: Option<Vec<&'static str>>,
    /// Where `--dump` wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

fn sha256_hex(f: &LiveFilter) -> String {
    Sha256::digest(f.program.to_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn short(hash: &str) -> &str {
    &hash[..12]
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let process = read_process(args.pid)?;
    let dumped = match &args.dump {
        Some(dir) => Some(dump(&process, &Outputs::new().dir(dir)?)?),
        None => None,
    };
    let report = build_report(&process, args.per_thread, args.dump.as_deref());
    match args.format {
        OutputFormat::Json => write_json(out, "pid", &report)?,
        OutputFormat::Text => write_text(out, &report)?,
    }
    if let (Some(dir), Some(n), OutputFormat::Text) = (&args.dump, dumped, args.format) {
        writeln!(out, "dumped {n} distinct filter{} to {}", if n == 1 { "" } else { "s" }, dir.display())?;
    }
    Ok(Outcome::Clean)
}

fn build_report(p: &ProcessFilters, per_thread: bool, dump: Option<&Path>) -> Report {
    let filter_report = |f: &LiveFilter| {
        let sha256 = sha256_hex(f);
        FilterReport {
            instructions: f.program.len(),
            file: dump.map(|d| d.join(format!("{}.bpf", short(&sha256))).display().to_string()),
            sha256,
            flags: f.flags.map(|_| f.flag_names()),
        }
    };
    let groups = if per_thread {
        p.threads
            .iter()
            .map(|t| GroupReport {
                tids: vec![t.tid],
                names: vec![t.name.clone()],
                mode: t.mode,
                filters: t.filters.iter().map(filter_report).collect(),
                path_length: path_length_of(&t.filters),
            })
            .collect()
    } else {
        p.groups()
            .into_iter()
            .map(|g| GroupReport {
                tids: g.tids,
                names: g.names.into_iter().map(str::to_string).collect(),
                mode: g.mode,
                filters: g.filters.iter().map(filter_report).collect(),
                path_length: path_length_of(g.filters),
            })
            .collect()
    };
    Report { pid: p.pid, threads: p.threads.len(), groups, skipped: p.skipped.clone() }
}

fn write_text(out: &mut dyn Write, r: &Report) -> Result<(), CliError> {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "process {}: {}, {}",
        r.pid,
        plural(r.threads, "thread"),
        plural(r.groups.len(), if r.groups.len() == r.threads { "seccomp state" } else { "distinct seccomp state" })
    )?;
    for g in &r.groups {
        let who = g.tids.iter().zip(&g.names).map(|(t, n)| format!("{t} ({n})")).collect::<Vec<_>>().join(", ");
        let label = if g.tids.len() == 1 { "thread" } else { "threads" };
        let state = match g.mode {
            SeccompMode::Disabled => "seccomp disabled, no filters".to_string(),
            SeccompMode::Strict => "strict mode (only read, write, _exit, sigreturn), no filters".to_string(),
            SeccompMode::Filter => format!(
                "filter mode, {}, oldest first (the kernel runs the newest first)",
                plural(g.filters.len(), "filter")
            ),
        };
        writeln!(out, "{label} {who}: {state}")?;
        for (i, f) in g.filters.iter().enumerate() {
            let flags = match &f.flags {
                None => "  flags unknown (kernel before 4.16)".to_string(),
                Some(v) if v.is_empty() => String::new(),
                Some(v) => format!("  flags {}", v.join("|")),
            };
            let file = f.file.as_deref().map(|p| format!("  -> {p}")).unwrap_or_default();
            writeln!(out, "  #{i}  {:>4} insns  sha256 {}{flags}{file}", f.instructions, short(&f.sha256))?;
        }
        write_path_length(out, g)?;
    }
    for s in &r.skipped {
        writeln!(out, "note: thread {} {}", s.tid, s.reason)?;
    }
    Ok(())
}

/// The path length of a thread's stack (oldest first); `None` without
/// filters, or if one would not validate (the kernel accepted each, so only a
/// kernel newer than seccheck's rules could produce that).
fn path_length_of(filters: &[LiveFilter]) -> Option<PathLength> {
    if filters.is_empty() {
        return None;
    }
    let lens = filters
        .iter()
        .map(|f| crate::bpf::validate(&f.program).ok().map(|v| crate::bpf::converted_len(&v)))
        .collect::<Option<Vec<_>>>()?;
    Some(PathLength::new(lens))
}

/// `  path length: …`: the stack's total and the room one more filter has.
fn write_path_length(out: &mut dyn Write, g: &GroupReport) -> std::io::Result<()> {
    if let Some(pl) = &g.path_length {
        let lens = pl.lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" + ");
        writeln!(
            out,
            "  path length {} of {} (converted lengths {lens}, each older filter + 4): one more filter may have at most {} converted instructions",
            pl.total(),
            pl.limit,
            pl.room
        )?;
    }
    Ok(())
}

/// Write every distinct filter as `DIR/<hash>.bpf` (replacing, never
/// following, whatever is there: the names are predictable); returns how many.
fn dump(p: &ProcessFilters, dir: &OutDir) -> Result<usize, CliError> {
    let distinct: Vec<&LiveFilter> = {
        // Flags do not change the program: one file per distinct program.
        let mut v: Vec<&LiveFilter> = Vec::new();
        for f in p.distinct_filters() {
            if !v.iter().any(|g| g.program == f.program) {
                v.push(f);
            }
        }
        v
    };
    for f in &distinct {
        dir.write(&format!("{}.bpf", short(&sha256_hex(f))), &f.program.to_bytes())?;
    }
    Ok(distinct.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use crate::bpf::{Insn, Program};
    use crate::kernel::live::{SkipReason, ThreadFilters};
    use seccheck::uapi::SECCOMP_FILTER_FLAG_LOG;

    fn filter(nr: u32, flags: Option<u64>) -> LiveFilter {
        LiveFilter {
            program: Program::new(vec![
                Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
                Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
                Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            ]),
            flags,
        }
    }

    /// Every case the renderer distinguishes: shared and single stacks, strict
    /// and disabled threads, the LOG flag, a kernel without flags, skipped threads.
    fn sample() -> ProcessFilters {
        let a = filter(101, Some(0));
        let b = filter(135, Some(u64::from(SECCOMP_FILTER_FLAG_LOG)));
        let t =
            |tid, name: &str, mode, filters: Vec<LiveFilter>| ThreadFilters { tid, name: name.into(), mode, filters };
        ProcessFilters {
            pid: 100,
            threads: vec![
                t(100, "main", SeccompMode::Disabled, vec![]),
                t(101, "worker", SeccompMode::Filter, vec![a.clone()]),
                t(102, "sandboxed", SeccompMode::Filter, vec![a.clone(), b]),
                t(103, "worker", SeccompMode::Filter, vec![a.clone()]),
                t(104, "strict", SeccompMode::Strict, vec![]),
                t(105, "old-kernel", SeccompMode::Filter, vec![LiveFilter { flags: None, ..a }]),
            ],
            skipped: vec![
                Skipped { tid: 106, reason: SkipReason::Exited },
                Skipped { tid: 107, reason: SkipReason::Uninterruptible },
            ],
        }
    }

    #[test]
    fn text_report() {
        let mut out = Vec::new();
        write_text(&mut out, &build_report(&sample(), false, Some(Path::new("/dump")))).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn json_report_per_thread() {
        let mut out = Vec::new();
        write_json(&mut out, "pid", &build_report(&sample(), true, None)).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn dump_writes_one_file_per_distinct_program() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("new");
        assert_eq!(dump(&sample(), &Outputs::new().dir(&dir).unwrap()).unwrap(), 2);
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        let a = sha256_hex(&filter(101, None));
        let b = sha256_hex(&filter(135, None));
        let mut expected = vec![format!("{}.bpf", short(&a)), format!("{}.bpf", short(&b))];
        expected.sort();
        assert_eq!(names, expected);
        let bytes = std::fs::read(dir.join(format!("{}.bpf", short(&a)))).unwrap();
        assert_eq!(bytes, filter(101, None).program.to_bytes());
    }
}
