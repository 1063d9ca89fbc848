//! Render a [`CommandReport`] (`bench --command`): a terminal summary and a
//! Markdown report, every figure with its 95 % interval or "not resolved".

use crate::output::OutDir;
use crate::overhead::command::{CommandReport, CommandRow, CommandVerdict, Outcome, SIGSYS};
use crate::overhead::stats::{format_estimate, Estimate};
use crate::overhead::Workload;
use std::fmt::Write as _;

/// The ratio `1 + relative`, three decimals or as its interval allows.
fn ratio(e: &Estimate) -> String {
    match (e.interval, e.unresolved) {
        (None, _) => format!("not resolved (n={})", e.n),
        (Some(i), None) => format!("×{:.3} [{:.3}, {:.3}]", 1.0 + e.median, 1.0 + i.lo, 1.0 + i.hi),
        (Some(i), Some(_)) => format!("not resolved [{:.3}, {:.3}]", 1.0 + i.lo, 1.0 + i.hi),
    }
}

fn us(e: &Option<Estimate>, signed: bool) -> String {
    match e {
        Some(e) => format_estimate(e, signed, 0.1),
        None => "—".into(),
    }
}

/// Why a filter has no time, in words.
pub fn verdict_text(v: &CommandVerdict) -> Option<String> {
    match v {
        CommandVerdict::Timed => None,
        CommandVerdict::Killed { outcome: Outcome::Signal(SIGSYS) } => Some(
            "killed by SIGSYS in its first run (the filter answered some call with KILL, or TRAP with no handler): not timed".into(),
        ),
        CommandVerdict::Killed { outcome } | CommandVerdict::Different { outcome } => {
            Some(format!("ends with {outcome} under the filter, not as without it: not timed"))
        }
        CommandVerdict::NotStarted { reason } => Some(format!("could not start under the filter ({reason}): not timed")),
        CommandVerdict::Unstable { differing_runs } => Some(format!(
            "{} ended otherwise than the first: the command is not deterministic, figures not resolved",
            crate::words::count(*differing_runs, "run")
        )),
    }
}

fn row_cells(r: &CommandRow) -> [String; 3] {
    [us(&r.wall, false), us(&r.difference, true), r.relative.as_ref().map(ratio).unwrap_or_else(|| "—".into())]
}

fn header(r: &CommandReport) -> String {
    format!(
        "{} rounds, each running the command without a filter and under every filter, the order rotated; wall time from the \
         fork of the command's process to the reaping of its last one (filter installation included), standard streams on \
         /dev/null; median over rounds [{}]",
        r.rounds, r.method
    )
}

/// The workload section's opening: which trace, which model, and the caveat
/// that the two figures do not price the same things.
fn workload_intro(r: &CommandReport, w: &Workload) -> Vec<String> {
    let mut lines = vec![format!(
        "workload: trace {} of `{}` ({} calls over {:.3} s); {}",
        w.trace,
        w.command.join(" "),
        w.costs.first().map_or(0, |c| c.calls),
        w.wall_seconds,
        match &r.model_from {
            Some(m) => format!("predicted with the cost model measured in {m}"),
            None =>
                "no cost model given (--model REPORT.json from a `bench --size-sweep` run), so no predicted time".into(),
        }
    )];
    if w.command != r.command {
        lines.push(format!(
            "the trace recorded `{}`, not the command timed here: its call counts may not be this command's",
            w.command.join(" ")
        ));
    }
    lines.push(format!(
        "instructions are exact for the recorded calls ({}); the prediction prices each recorded call once, while the \
         measured difference also pays installing the filter and whatever else differs between the runs",
        w.input
    ));
    lines
}

/// Per filter with a priced workload: its label, then allowed calls, calls
/// served by the cache, BPF instructions, predicted µs per run, measured
/// difference (µs) and measured ns per allowed call.
fn workload_rows<'a>(r: &'a CommandReport, w: &'a Workload) -> Vec<(&'a str, [String; 6])> {
    let per_call = |e: Option<Estimate>| e.map_or_else(|| "—".into(), |e| format_estimate(&e, true, 0.1));
    r.rows
        .iter()
        .filter_map(|row| {
            let c = w.costs.iter().find(|c| c.subject == row.label)?;
            let predicted = c.ns_per_run().map_or_else(|| "—".into(), |ns| format!("{:.1}", ns / 1000.0));
            Some((
                row.label.as_str(),
                [
                    c.allowed_calls().to_string(),
                    c.cached_calls.to_string(),
                    c.insns.to_string(),
                    predicted,
                    us(&row.difference, true),
                    per_call(r.measured_per_allowed_call(row)),
                ],
            ))
        })
        .collect()
}

/// The terminal summary.
pub fn text(r: &CommandReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "command: {}", r.command.join(" "));
    let _ = writeln!(o, "{}", header(r));
    if r.rounds < r.min_rounds {
        let _ = writeln!(
            o,
            "with {} nothing is resolved: a 95 % interval needs at least {}",
            crate::words::count(r.rounds, "round"),
            r.min_rounds
        );
    }
    let _ = writeln!(o, "no filter: {} µs ({})", us(&r.baseline, false), r.baseline_outcome);
    for row in &r.rows {
        match verdict_text(&row.verdict) {
            Some(why) if row.wall.is_none() => {
                let _ = writeln!(o, "{}: {why}", row.label);
            }
            why => {
                let [wall, diff, q] = row_cells(row);
                let _ = writeln!(o, "{}: {wall} µs; difference {diff} µs; ratio {q}", row.label);
                if let Some(why) = why {
                    let _ = writeln!(o, "  {why}");
                }
            }
        }
    }
    if let Some(w) = &r.workload {
        for line in workload_intro(r, w) {
            let _ = writeln!(o, "{line}");
        }
        for (label, [allowed, cached, insns, predicted, measured, per]) in workload_rows(r, w) {
            let _ = writeln!(
                o,
                "  {label}: {allowed} allowed calls, {cached} served by the cache, {insns} BPF instructions; predicted {predicted} µs per run; measured {measured} µs, {per} ns per allowed call",
            );
        }
    }
    let l = &r.load;
    let _ = writeln!(
        o,
        "load: other processes {:.0}% of all CPU time, steal {:.0}%, over {:.1} s",
        l.others * 100.0,
        l.steal * 100.0,
        l.wall_seconds
    );
    o
}

/// The Markdown report.
pub fn markdown(r: &CommandReport) -> String {
    use super::escape;
    let mut o = String::new();
    let _ = writeln!(o, "# A command's time under each filter\n");
    let _ = writeln!(
        o,
        "Generated by seccheck; regenerate with\n\n{}",
        escape::fence("text", &escape::one_line(&r.invocation))
    );
    let e = &r.environment;
    let l = &r.load;
    let _ = writeln!(
        o,
        "Kernel {} on {} × {} ({}); while measuring, other processes used {:.0}% of all CPU time and the hypervisor stole {:.0}%, over {:.0} s.\n",
        escape::cell(&e.kernel_release),
        e.cpus,
        escape::cell(&e.cpu_model),
        escape::cell(&e.virtualization),
        l.others * 100.0,
        l.steal * 100.0,
        l.wall_seconds
    );
    let _ = writeln!(o, "Command: {}\n", escape::code(&r.command.join(" ")));
    let _ = writeln!(o, "{}.\n", escape::text(&header(r)));
    if r.rounds < r.min_rounds {
        let _ = writeln!(
            o,
            "**With {} this report resolves nothing**: a 95 % interval needs at least {} rounds.\n",
            crate::words::count(r.rounds, "round"),
            r.min_rounds
        );
    }
    let _ = writeln!(o, "| filter | wall time, µs | difference, µs | ratio | note |\n| --- | --- | --- | --- | --- |");
    let _ = writeln!(
        o,
        "| no filter | {} | — | — | {} |",
        us(&r.baseline, false),
        escape::cell(&r.baseline_outcome.to_string())
    );
    for row in &r.rows {
        let [wall, diff, q] = row_cells(row);
        let note = verdict_text(&row.verdict).unwrap_or_else(|| row.note.clone());
        let _ = writeln!(o, "| {} | {wall} | {diff} | {q} | {} |", escape::cell(&row.label), escape::cell(&note));
    }
    if let Some(w) = &r.workload {
        let _ = writeln!(o, "\n## The recorded workload under each filter\n");
        for line in workload_intro(r, w) {
            let _ = writeln!(o, "{}.\n", escape::prose(&line));
        }
        let _ = writeln!(
            o,
            "| filter | allowed calls | served by the cache | BPF instructions | predicted, µs per run | measured difference, µs | measured, ns per allowed call |\n| --- | --- | --- | --- | --- | --- | --- |"
        );
        for (label, cells) in workload_rows(r, w) {
            let _ = writeln!(o, "| {} | {} |", escape::cell(label), cells.join(" | "));
        }
    }
    o
}

/// Write `README.md` and `report.json` (the `bench-command` JSON document)
/// into `dir` (through [`crate::output`]).
pub fn write(r: &CommandReport, dir: &OutDir) -> Result<(), super::overhead::ReportError> {
    dir.write("README.md", markdown(r).as_bytes())?;
    dir.write("report.json", super::overhead::json_document("bench-command", r).as_bytes())?;
    Ok(())
}
