//! The per-call latency tables of an overhead report ([`TailRow`]s): p50 and
//! p99 per (processes, neighbour) condition, each with its 95 % interval over
//! rounds, and under a filter their paired difference to no filter.

use crate::overhead::stats::{format_estimate, Estimate};
use crate::overhead::{Neighbour, ProbeStatus, Report, SubjectKind, TailRow};
use std::fmt::Write as _;

fn est(e: &Option<Estimate>, signed: bool) -> String {
    e.as_ref().map(|e| format_estimate(e, signed, 1.0)).unwrap_or_else(|| "—".into())
}

/// The conditions measured, in order.
fn conditions(report: &Report) -> Vec<(usize, Neighbour)> {
    let o = &report.options;
    o.threads.iter().flat_map(|&t| o.neighbours.iter().map(move |&n| (t, n))).collect()
}

fn title(report: &Report, threads: usize, nb: Neighbour) -> String {
    let calls = report
        .tails
        .iter()
        .find(|t| t.threads == threads && t.neighbour == nb && t.kind == SubjectKind::Baseline)
        .map_or(0, |t| t.calls_per_round);
    format!(
        "{threads} concurrent process{}, {}{}: per-call ns, p50 and p99 of {calls} singly timed calls per round, median [95 % interval] over {} rounds",
        if threads == 1 { "" } else { "es" },
        nb.describe(),
        if nb == Neighbour::Busy { " (a process spinning on the last CPU, the measuring ones pinned to the others)" } else { "" },
        report.options.rounds
    )
}

/// Per condition: `(title, header, rows)`, rows in subject then probe order.
pub fn tables(report: &Report) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let header: Vec<String> =
        ["filter", "syscall", "p50", "p99", "p50 vs no filter", "p99 vs no filter"].map(String::from).to_vec();
    conditions(report)
        .into_iter()
        .filter_map(|(threads, nb)| {
            let rows: Vec<Vec<String>> = report
                .tails
                .iter()
                .filter(|t| t.threads == threads && t.neighbour == nb)
                .map(|t: &TailRow| {
                    let denied = if matches!(t.verdict, ProbeStatus::Denied { .. }) { " (denied)" } else { "" };
                    vec![
                        t.subject.clone(),
                        format!("{}{denied}", t.probe.name()),
                        format_estimate(&t.p50, false, 1.0),
                        format_estimate(&t.p99, false, 1.0),
                        if t.unpaired.is_some() { "not paired".into() } else { est(&t.p50_overhead, true) },
                        if t.unpaired.is_some() { "not paired".into() } else { est(&t.p99_overhead, true) },
                    ]
                })
                .collect();
            (!rows.is_empty()).then(|| (title(report, threads, nb), header.clone(), rows))
        })
        .collect()
}

/// Per filter whose per-call differences are not given, why (once each).
fn unpaired_notes(report: &Report) -> Vec<(String, String)> {
    let mut notes: Vec<(String, String)> = Vec::new();
    for t in &report.tails {
        if let Some(why) = &t.unpaired {
            if !notes.iter().any(|(s, _)| s == &t.subject) {
                notes.push((t.subject.clone(), why.clone()));
            }
        }
    }
    notes
}

/// The tables for the terminal (empty without per-call timings).
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for (title, header, rows) in tables(report) {
        let _ = writeln!(out, "\n{title}");
        let table: Vec<Vec<String>> = std::iter::once(header).chain(rows).collect();
        out.push_str(&super::overhead::aligned(&table));
    }
    for (subject, why) in unpaired_notes(report) {
        let _ = writeln!(out, "{subject}: {why}");
    }
    out
}

/// The Markdown section (empty without per-call timings).
pub fn markdown(report: &Report) -> String {
    use super::escape;
    let tables = tables(report);
    let mut o = String::new();
    if tables.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "## Per-call latency under load\n\nEvery process of a run times {} single calls of each syscall one by one \
         (after its batches, the syscalls interleaved; each timing includes one pair of `rdtsc` reads, the same with and \
         without a filter). Per round, p50 and p99 are taken over all processes' calls; a figure is their median over \
         rounds with its 95 % interval; under a filter, the difference to the no-filter run of the same round and \
         condition, paired per round. `(denied)`: the filter answers the call with an error.\n",
        report.options.per_call
    );
    for (title, header, rows) in tables {
        let _ = writeln!(o, "### {}\n", escape::text(&title));
        let _ = writeln!(o, "| {} |\n|{}", header.join(" | "), " --- |".repeat(header.len()));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| escape::cell(c)).collect();
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(o);
    }
    for (subject, why) in unpaired_notes(report) {
        let _ = writeln!(o, "- {}: {}", escape::code(&subject), escape::text(&why));
    }
    if !unpaired_notes(report).is_empty() {
        let _ = writeln!(o);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_per_condition_with_every_tail_row() {
        let r = crate::overhead::tests::synthetic_report(&[1, 2], 7, false);
        let t = tables(&r);
        assert_eq!(t.len(), 2, "1 and 2 processes, quiet");
        for (title, header, rows) in &t {
            assert!(title.contains("p50 and p99") && title.contains("quiet"), "{title}");
            assert_eq!(header.len(), 6);
            assert!(rows.iter().all(|row| row.len() == header.len()));
        }
        assert_eq!(t.iter().map(|x| x.2.len()).sum::<usize>(), r.tails.len());
        // The filter kills write: its per-call runs interleave another mix, so
        // no difference is given, and the table says why once.
        let read = t[0].2.iter().find(|row| row[0] == "test" && row[1] == "read").unwrap();
        assert_eq!(read[4..], ["not paired", "not paired"], "{read:?}");
        let md = markdown(&r);
        assert!(md.contains("- <code>test</code>: not paired: write skipped under this filter"), "{md}");
        assert_eq!(md.matches("not paired: write skipped").count(), 1, "{md}");
        assert!(md.contains("## Per-call latency under load") && md.contains("| filter | syscall | p50 |"), "{md}");
        assert!(text(&r).contains("getpid (denied)"));
        // One round: no interval, nothing printed as resolved.
        let one = crate::overhead::tests::synthetic_report(&[1], 1, false);
        assert!(tables(&one)
            .iter()
            .flat_map(|x| &x.2)
            .all(|row| row[2..].iter().all(|c| c.starts_with("not resolved") || c == "—" || c == "not paired")));
    }
}
