//! `seccheck diff A B`: where two filters take different actions, exactly.
//!
//! Lists every region of inputs — per arch (x32 apart, then other arch values),
//! per syscall (named, or ranges of unnamed numbers), with the argument
//! conditions — where A and B take a different action or the same action with
//! different data (ERRNO(1) vs ERRNO(13)), each with one concrete input that the
//! emulator has run through both. Exit 0 when they are equivalent, 1 when they
//! differ, 2 on bad input.
//!
//! `--refines`: exit 0 when A is at least as strict as B on every input (A's
//! action ranks at or below B's in the kernel's precedence KILL_PROCESS <
//! KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE < LOG < ALLOW; data does not
//! count, so ERRNO(1) and ERRNO(13) are equally strict; an unknown action value
//! counts as the KILL_PROCESS it acts as), else 1 with every region where A is
//! less strict.
//!
//! `--stack`: each side is a comma-separated list of filters, a stack in
//! installation order (oldest first), compared by its effective action, e.g.
//! `seccheck diff --stack base.bpf,extra.bpf single.bpf`. Each stack's path
//! length (`seccomp_attach_filter`'s `MAX_INSNS_PER_PATH`) is shown with the
//! room it leaves; a stack the kernel would refuse to build is not compared:
//! exit 1 with the rule and every filter's total.

use super::input::InputOptions;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::bpf::validate::ValidProgram;
use crate::bpf::Program;
use crate::diff::{diff_stacks, refines_stacks, Diff, Refinement, Region};
use crate::finding::confirm::confirm;
use crate::finding::Counterexample;
use crate::seccomp::PathLength;
use crate::symbolic::Options;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Compare two filters (or stacks of filters) exactly.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Filter A: a file in any input format (`BINARY#N` for an ELF's N-th
    /// filter); with --stack, FILE,FILE,… oldest first.
    pub a: String,
    /// Filter B, in the same forms.
    pub b: String,
    /// Exit 0 iff A is at least as strict as B on every input; list where it is not.
    #[arg(long)]
    pub refines: bool,
    /// Each side is a comma-separated stack of filters in installation order (oldest first).
    #[arg(long)]
    pub stack: bool,
    /// Do not ask the running kernel to confirm each region's example.
    #[arg(long)]
    pub no_kernel: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub input: InputOptions,
}

/// Read, compile (profiles) and validate one filter; a filter the kernel would
/// refuse is bad input (it never runs, so there is nothing to compare).
/// Returns `compiled by GENERATOR for ARCHES` for a profile with it.
pub(super) fn load_valid_compiled(
    input: &InputOptions,
    file: &Path,
) -> Result<(ValidProgram, Option<String>), CliError> {
    let (valid, compiled) = input.load_valid(file)?;
    Ok((valid, compiled.as_ref().map(super::made_by)))
}

/// `FILE: compiled by …` for every profile among the inputs, so a reader knows
/// which generator made the filter being compared.
pub(super) fn write_made_by(
    out: &mut dyn Write,
    files: &[PathBuf],
    made_by: &[Option<String>],
) -> Result<(), CliError> {
    for (f, m) in files.iter().zip(made_by) {
        if let Some(m) = m {
            writeln!(out, "{}: {m}", f.display())?;
        }
    }
    Ok(())
}

/// One side: its files (split at commas with `--stack`).
pub(super) fn side_files(arg: &str, stack: bool) -> Result<Vec<PathBuf>, CliError> {
    if !stack {
        return Ok(vec![PathBuf::from(arg)]);
    }
    let files: Vec<PathBuf> = arg.split(',').map(PathBuf::from).collect();
    if files.iter().any(|f| f.as_os_str().is_empty()) {
        return Err(CliError::Usage(format!("--stack side `{arg}` has an empty file name; expected FILE,FILE,…")));
    }
    Ok(files)
}

/// How a side is named in the report.
pub(super) fn side_name(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match names.len() {
        1 => names[0].clone(),
        _ => format!("{} (stack, oldest first)", names.join(" + ")),
    }
}

#[derive(Serialize)]
struct DiffReport<'a> {
    a: Vec<String>,
    b: Vec<String>,
    /// With `--stack`: each side's path length (`seccomp_attach_filter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_a: Option<&'a PathLength>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_b: Option<&'a PathLength>,
    #[serde(flatten)]
    diff: &'a Diff,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<String>,
}

#[derive(Serialize)]
struct RefinesReport<'a> {
    a: Vec<String>,
    b: Vec<String>,
    /// With `--stack`: each side's path length (`seccomp_attach_filter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_a: Option<&'a PathLength>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_b: Option<&'a PathLength>,
    #[serde(flatten)]
    refinement: &'a Refinement,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<String>,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let fa = side_files(&args.a, args.stack)?;
    let fb = side_files(&args.b, args.stack)?;
    let (pa, ma): (Vec<_>, Vec<_>) =
        fa.iter().map(|f| load_valid_compiled(&args.input, f)).collect::<Result<Vec<_>, _>>()?.into_iter().unzip();
    let (pb, mb): (Vec<_>, Vec<_>) =
        fb.iter().map(|f| load_valid_compiled(&args.input, f)).collect::<Result<Vec<_>, _>>()?.into_iter().unzip();
    let (la, lb) = (super::path_length::of(&pa), super::path_length::of(&pb));
    if la.refused.is_some() || lb.refused.is_some() {
        refused_sides(out, args.format, [("A", &fa, &la), ("B", &fb, &lb)])?;
        return Ok(Outcome::Findings);
    }
    let made_by = |out: &mut dyn Write| -> Result<(), CliError> {
        write_made_by(out, &fa, &ma)?;
        write_made_by(out, &fb, &mb)?;
        if args.stack {
            writeln!(out, "A: {}", la.summary())?;
            writeln!(out, "B: {}", lb.summary())?;
        }
        Ok(())
    };
    let (pla, plb) = if args.stack { (Some(&la), Some(&lb)) } else { (None, None) };
    let unexact = |e: crate::diff::CompareError| CliError::Input {
        file: format!("{} vs {}", side_name(&fa), side_name(&fb)),
        msg: e.to_string(),
    };
    let strings = |fs: &[PathBuf]| fs.iter().map(|f| f.display().to_string()).collect::<Vec<_>>();
    let (na, nb) = (side_name(&fa), side_name(&fb));
    let opts = Options::default();
    let progs = |v: &[ValidProgram]| v.iter().map(|p| p.program().clone()).collect::<Vec<_>>();
    let (sa, sb) = (progs(&pa), progs(&pb));
    if args.refines {
        let mut r = refines_stacks(&pa, &pb, &opts).map_err(unexact)?;
        let kernel = confirm_regions(&sa, &sb, &mut r.violations, args.no_kernel);
        let report = RefinesReport {
            a: strings(&fa),
            b: strings(&fb),
            path_length_a: pla,
            path_length_b: plb,
            refinement: &r,
            kernel: kernel.clone(),
        };
        emit(out, args.format, &report, &made_by, &r.render_text(&na, &nb), &kernel)?;
        super::kernel_disagreed(confirmed_of(&r.violations))?;
        return Ok(if r.refines { Outcome::Clean } else { Outcome::Findings });
    }
    let mut d = diff_stacks(&pa, &pb, &opts).map_err(unexact)?;
    let kernel = confirm_regions(&sa, &sb, &mut d.regions, args.no_kernel);
    let report = DiffReport {
        a: strings(&fa),
        b: strings(&fb),
        path_length_a: pla,
        path_length_b: plb,
        diff: &d,
        kernel: kernel.clone(),
    };
    emit(out, args.format, &report, &made_by, &d.render_text(&na, &nb), &kernel)?;
    super::kernel_disagreed(confirmed_of(&d.regions))?;
    Ok(if d.equivalent { Outcome::Clean } else { Outcome::Findings })
}

/// A side the kernel would refuse to build: nothing to compare (the caller exits 1).
fn refused_sides(
    out: &mut dyn Write,
    format: OutputFormat,
    sides: [(&str, &[PathBuf], &PathLength); 2],
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let side = |(_, files, pl): (&str, &[PathBuf], &PathLength)| {
                serde_json::json!({
                    "filters": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                    "path_length": pl,
                    "refused": super::path_length::refusal(pl),
                })
            };
            super::path_length::write_json(out, &serde_json::json!({ "a": side(sides[0]), "b": side(sides[1]) }))
        }
        OutputFormat::Text => {
            for (label, files, pl) in sides {
                if pl.refused.is_some() {
                    write!(out, "{label} ({}): ", side_name(files))?;
                    super::path_length::write_if_refused(out, pl, files)?;
                }
            }
            Ok(())
        }
    }
}

/// The report as JSON, or as text: the "compiled by" lines, the regions and
/// what the kernel said.
fn emit(
    out: &mut dyn Write,
    format: OutputFormat,
    json: &impl Serialize,
    made_by: &dyn Fn(&mut dyn Write) -> Result<(), CliError>,
    text: &str,
    kernel: &Option<String>,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => write_json(out, json)?,
        OutputFormat::Text => {
            made_by(out)?;
            write!(out, "{text}")?;
            if let Some(k) = kernel {
                writeln!(out, "{k}")?;
            }
        }
    }
    Ok(())
}

/// Ask the kernel, for each region's example, whether side A's stack takes
/// A's action and side B's stack B's; the line that says what was asked.
fn confirm_regions(a: &[Program], b: &[Program], regions: &mut [Region], skip: bool) -> Option<String> {
    if regions.is_empty() {
        return None;
    }
    if skip {
        return Some(format!("kernel: not asked about the {} example(s) (--no-kernel)", regions.len()));
    }
    let mut ca: Vec<Counterexample> = regions.iter().map(|r| r.example.counterexample(true)).collect();
    let mut cb: Vec<Counterexample> = regions.iter().map(|r| r.example.counterexample(false)).collect();
    let asked = confirm(a, ca.iter_mut()).and_then(|x| Ok((x, confirm(b, cb.iter_mut())?)));
    if let Err(e) = asked {
        return Some(format!("kernel: examples not confirmed ({e})"));
    }
    let (mut both, mut asked) = (0, 0);
    for ((r, x), y) in regions.iter_mut().zip(&ca).zip(&cb) {
        r.example.kernel_confirmed = match (x.kernel_confirmed, y.kernel_confirmed) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
        asked += r.example.kernel_confirmed.is_some() as usize;
        both += (r.example.kernel_confirmed == Some(true)) as usize;
    }
    let mut line = format!(
        "kernel: the running kernel took both sides' actions for {both} of {asked} example(s) it was asked about"
    );
    if asked < regions.len() {
        line += &format!("; {} {}", regions.len() - asked, super::NOT_ASKABLE);
    }
    Some(line)
}

/// The `kernel_confirmed` of each region's example.
fn confirmed_of(regions: &[Region]) -> impl Iterator<Item = Option<bool>> + '_ {
    regions.iter().map(|r| r.example.kernel_confirmed)
}
