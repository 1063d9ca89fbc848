//! `seccheck record [-o trace.json] -- CMD ARGS…`: run a command and record
//! every system call of its whole process tree, per ABI, with the argument
//! values a profile can decide on (see `crate::record` and `kernel::supervise`).
//!
//! `seccheck record --check FILE -- CMD`: CI mode. The command runs
//! undisturbed (every call continues); each call is decided by seccheck's
//! emulator on the filter, read as every command reads one (a Docker/OCI
//! profile compiled as runc would, a compiled filter as it is), on the exact
//! `seccomp_data` the kernel reported. Exit 1 listing every kind of call the
//! profile would have blocked (with its argument values), else the command's
//! own status (0 when it succeeded).
//!
//! Without `--check` the exit status is the command's (128 + N when it died of
//! signal N); 2 means seccheck could not run it. The summary goes to stderr,
//! since the command's output shares stdout.

use super::input::InputOptions;
use super::{CliError, Outcome};
use crate::kernel::command::resolve as command;
use crate::output::{Named, Outputs};
use crate::record::verify::Blocked;
use crate::record::{Aggregate, ExitRecord};
use crate::seccomp::SeccompData;
use crate::words::count;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Record every syscall of a command's process tree, or check it against a profile.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the trace goes (seccheck-trace/1 JSON); default trace.json (never
    /// replacing an existing one), none with --check.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// CI mode: report every call this filter or profile (any input format) would have blocked; exit 1 if any.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputOptions,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    let cmd = command(&args.command).map_err(|e| CliError::failed("", e))?;
    // The trace's file is settled before the command runs: a refusal costs
    // nothing, and `./trace.json` is never replaced unless named.
    let mut outputs = Outputs::new();
    if let Some(p) = &args.check {
        outputs.input(p);
    }
    let target =
        match (&args.output, &args.check) {
            (Some(o), _) => Some(outputs.file(o, Named::ByUser)?),
            (None, None) => Some(outputs.file(
                Path::new("trace.json"),
                Named::Default { hint: "pass -o FILE to choose where the trace goes" },
            )?),
            (None, Some(_)) => None,
        };
    let profile = match &args.check {
        Some(p) => {
            let (program, _) = args.input.load_valid(p)?;
            Some((p.display().to_string(), program))
        }
        None => None,
    };
    let mut agg = Aggregate::new();
    let mut blocked = profile.as_ref().map(|(_, p)| Blocked::new(p));
    let start = std::time::Instant::now();
    let exit = crate::kernel::supervise::record(&cmd, &mut |ev| {
        agg.add(ev.tid, ev.arch, ev.nr as u32, &ev.args);
        if let Some(b) = blocked.as_mut() {
            b.add(&SeccompData {
                nr: ev.nr as u32,
                arch: ev.arch,
                instruction_pointer: ev.instruction_pointer,
                args: ev.args,
            });
        }
    })
    .map_err(|e| CliError::failed(format!("{}: ", args.command[0].to_string_lossy()), e))?;
    let wall = start.elapsed().as_secs_f64();
    let exit_rec = match exit {
        crate::kernel::supervise::Exit::Code(c) => ExitRecord::Code(c),
        crate::kernel::supervise::Exit::Signal(s) => ExitRecord::Signal(s),
    };
    let shown: Vec<String> = args.command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let trace = agg.into_trace(shown, exit_rec, wall);
    let mut err = std::io::stderr().lock();
    let how = super::run::ended(exit);
    if let Some(t) = &target {
        let mut text = serde_json::to_vec_pretty(&trace).map_err(|e| CliError::Output(e.into()))?;
        text.push(b'\n');
        t.write(&text)?;
        writeln!(
            err,
            "seccheck: recorded {} of {} from {} in {:.3} s into {}; the command {how}",
            count(trace.recorder.notifications as usize, "call"),
            count(trace.syscalls.len(), "syscall"),
            count(trace.recorder.tasks as usize, "task"),
            wall,
            t.path().display()
        )?;
    }
    let status = exit.shell_status().clamp(0, 255) as u8;
    let (Some((pname, _)), Some(b)) = (profile, blocked) else { return Ok(Outcome::Exit(status)) };
    let results = b.results();
    if results.is_empty() {
        writeln!(
            err,
            "seccheck: {pname} allows every one of the {}; the command {how}",
            count(b.calls as usize, "call")
        )?;
        return Ok(Outcome::Exit(status));
    }
    let total: u64 = results.iter().map(|r| r.count).sum();
    writeln!(
        err,
        "seccheck: {pname} would have blocked {total} of {} ({}); the command {how}:",
        count(b.calls as usize, "call"),
        count(results.len(), "kind")
    )?;
    for r in &results {
        let name = r.name.map_or_else(|| format!("#{:#x}", r.nr), str::to_string);
        let vals: Vec<String> = r
            .values
            .iter()
            .map(|(p, v, o)| {
                let v: Vec<String> = v.iter().map(|x| format!("{x:#x}")).collect();
                format!("{p} in {{{}}}{}", v.join(", "), if *o { " and more" } else { "" })
            })
            .collect();
        let ex: Vec<String> = r.example.iter().map(|x| format!("{x:#x}")).collect();
        writeln!(
            err,
            "  {} {name} (nr {}) ×{} → {}{}; first call's args: {}",
            r.arch.name(),
            r.nr,
            r.count,
            r.action,
            if vals.is_empty() { String::new() } else { format!("; {}", vals.join("; ")) },
            ex.join(", ")
        )?;
    }
    if b.unclassified > 0 {
        writeln!(err, "  and {} of unknown arch values or beyond the limits", count(b.unclassified as usize, "call"))?;
    }
    Ok(Outcome::Findings)
}
