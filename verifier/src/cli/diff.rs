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

use super::contract::{Examples, Generated, KernelCheck};
use super::input::{InputOptions, KernelArgs};
use super::stackio::{load_valid_compiled, side_files, side_name, stack_json, write_made_by};
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::bpf::validate::ValidProgram;
use crate::bpf::Program;
use crate::diff::{diff_stacks, refines_stacks, Diff, Refinement, Region};
use crate::finding::confirm::{confirm, Confirmation};
use crate::finding::Counterexample;
use crate::seccomp::PathLength;
use crate::symbolic::Options;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

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
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub input: InputOptions,
}

#[derive(Serialize)]
struct DiffReport<'a> {
    /// `diff`: every region where the sides differ.
    mode: &'static str,
    a: serde_json::Value,
    b: serde_json::Value,
    /// With `--stack`: each side's path length (`seccomp_attach_filter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_a: Option<&'a PathLength>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_b: Option<&'a PathLength>,
    #[serde(flatten)]
    diff: &'a Diff,
    kernel: &'a KernelCheck,
}

#[derive(Serialize)]
struct RefinesReport<'a> {
    /// `refines`: every region where A is less strict than B.
    mode: &'static str,
    a: serde_json::Value,
    b: serde_json::Value,
    /// With `--stack`: each side's path length (`seccomp_attach_filter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_a: Option<&'a PathLength>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_length_b: Option<&'a PathLength>,
    #[serde(flatten)]
    refinement: &'a Refinement,
    kernel: &'a KernelCheck,
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
        refused_sides(out, args.format, args.refines, [("A", &fa, &ma, &la), ("B", &fb, &mb, &lb)])?;
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
    let (na, nb) = (side_name(&fa), side_name(&fb));
    let opts = Options::default();
    let progs = |v: &[ValidProgram]| v.iter().map(|p| p.program().clone()).collect::<Vec<_>>();
    let (sa, sb) = (progs(&pa), progs(&pb));
    if args.refines {
        let mut r = refines_stacks(&pa, &pb, &opts).map_err(unexact)?;
        let kernel = confirm_regions(&sa, &sb, &mut r.violations, args.kernel.no_kernel);
        let report = RefinesReport {
            mode: "refines",
            a: stack_json(&fa, &ma),
            b: stack_json(&fb, &mb),
            path_length_a: pla,
            path_length_b: plb,
            refinement: &r,
            kernel: &kernel,
        };
        emit(out, args.format, &report, &made_by, &r.render_text(&na, &nb), &kernel)?;
        super::kernel_disagreed(confirmed_of(&r.violations))?;
        return Ok(if r.refines { Outcome::Clean } else { Outcome::Findings });
    }
    let mut d = diff_stacks(&pa, &pb, &opts).map_err(unexact)?;
    let kernel = confirm_regions(&sa, &sb, &mut d.regions, args.kernel.no_kernel);
    let report = DiffReport {
        mode: "diff",
        a: stack_json(&fa, &ma),
        b: stack_json(&fb, &mb),
        path_length_a: pla,
        path_length_b: plb,
        diff: &d,
        kernel: &kernel,
    };
    emit(out, args.format, &report, &made_by, &d.render_text(&na, &nb), &kernel)?;
    super::kernel_disagreed(confirmed_of(&d.regions))?;
    Ok(if d.equivalent { Outcome::Clean } else { Outcome::Findings })
}

/// A side the kernel would refuse to build: nothing to compare (the caller exits 1).
type RefusedSide<'a> = (&'a str, &'a [PathBuf], &'a [Option<Generated>], &'a PathLength);

fn refused_sides(
    out: &mut dyn Write,
    format: OutputFormat,
    refines: bool,
    sides: [RefusedSide<'_>; 2],
) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => {
            let pl = |(_, _, _, pl): RefusedSide<'_>| serde_json::json!({ "path_length": pl, "refused": super::path_length::refusal(pl) });
            write_json(
                out,
                "diff",
                &serde_json::json!({
                    "mode": if refines { "refines" } else { "diff" },
                    "a": stack_json(sides[0].1, sides[0].2),
                    "b": stack_json(sides[1].1, sides[1].2),
                    "refused_a": pl(sides[0]),
                    "refused_b": pl(sides[1]),
                }),
            )
        }
        OutputFormat::Text => {
            for (label, files, _, pl) in sides {
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
    kernel: &KernelCheck,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => write_json(out, "diff", json)?,
        OutputFormat::Text => {
            made_by(out)?;
            write!(out, "{text}")?;
            if let Some(k) = kernel.line(Examples::DiffExamples) {
                writeln!(out, "{k}")?;
            }
        }
    }
    Ok(())
}

/// Ask the kernel, for each region's example, whether side A's stack takes
/// A's action and side B's stack B's.
fn confirm_regions(a: &[Program], b: &[Program], regions: &mut [Region], skip: bool) -> KernelCheck {
    crate::finding::confirm::summarise(regions.len(), skip, || {
        let mut ca: Vec<Counterexample> = regions.iter().map(|r| r.example.counterexample(true)).collect();
        let mut cb: Vec<Counterexample> = regions.iter().map(|r| r.example.counterexample(false)).collect();
        confirm(a, ca.iter_mut())?;
        confirm(b, cb.iter_mut())?;
        let mut sum = Confirmation::default();
        for ((r, x), y) in regions.iter_mut().zip(&ca).zip(&cb) {
            r.example.kernel_confirmed = match (x.kernel_confirmed, y.kernel_confirmed) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            match r.example.kernel_confirmed {
                Some(agrees) => {
                    sum.asked += 1;
                    sum.agreed += agrees as usize;
                }
                None => sum.not_askable += 1,
            }
        }
        Ok(sum)
    })
}

/// The `kernel_confirmed` of each region's example.
fn confirmed_of(regions: &[Region]) -> impl Iterator<Item = Option<bool>> + '_ {
    regions.iter().map(|r| r.example.kernel_confirmed)
}
