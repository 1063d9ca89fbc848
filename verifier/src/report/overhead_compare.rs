//! The generator comparison of an overhead report
//! ([`Comparison`](crate::overhead::compare::Comparison)): per syscall and
//! filter, the exact instruction count, its bounds over arguments, the cache
//! prediction and its check, and the measured overhead with its interval;
//! with `--compare-optimized`, each input next to its optimised program.

use crate::overhead::compare::{CacheChecked, Comparison, ComparisonCell, OptimizedPair};
use crate::overhead::stats::format_estimate;
use crate::overhead::{ProbeStatus, Report};
use std::fmt::Write as _;

fn cache(c: &ComparisonCell) -> String {
    let predicted = if c.cached_predicted { "cached" } else { "runs" };
    let checked = match c.cache_check {
        CacheChecked::Consistent => "confirmed",
        CacheChecked::NotShown => "not shown",
        CacheChecked::Contradicted => "CONTRADICTED",
        CacheChecked::Unmeasured => "not measured",
    };
    format!("{predicted}, {checked}")
}

fn cells(c: &ComparisonCell) -> Vec<String> {
    let bounds = match c.bounds {
        Some((lo, hi)) if lo == hi => format!("{lo}"),
        Some((lo, hi)) => format!("{lo}–{hi}"),
        None => "—".into(),
    };
    let overhead = match (&c.verdict, &c.overhead) {
        (ProbeStatus::Skipped { reason }, _) => format!("skipped: {reason}"),
        (_, None) => "—".into(),
        (v, Some(e)) => {
            let denied = if matches!(v, ProbeStatus::Denied { .. }) { " (denied)" } else { "" };
            format!("{}{denied}", format_estimate(e, true, 1.0))
        }
    };
    vec![c.insns.to_string(), bounds, cache(c), overhead]
}

const HEADER: [&str; 6] =
    ["syscall", "filter", "instructions", "over all arguments", "action cache (predicted, measured)", "overhead ns"];

fn rows(c: &Comparison) -> Vec<Vec<String>> {
    c.rows
        .iter()
        .flat_map(|r| {
            r.cells.iter().map(move |cell| {
                let mut row = vec![r.probe.name(), cell.subject.clone()];
                row.extend(cells(cell));
                row
            })
        })
        .collect()
}

fn title(c: &Comparison, rounds: usize) -> String {
    format!(
        "Filters compared on the same syscalls ({} process{}): instructions executed for the probe's input (0: served by \
         the kernel's action cache), their bounds over all argument values, the cache prediction and whether the run \
         cost against the entry floor confirms it, overhead vs no filter, median [95 % interval] over {rounds} rounds",
        c.threads,
        if c.threads == 1 { "" } else { "es" }
    )
}

const OPT_HEADER: [&str; 5] = ["syscall", "filter → optimised", "instructions", "action cache", "optimised − input ns"];

fn opt_rows(p: &OptimizedPair) -> Vec<Vec<String>> {
    let cached = |c: bool| if c { "cached" } else { "runs" };
    p.rows
        .iter()
        .map(|r| {
            vec![
                r.probe.name(),
                format!("{} → {}", p.input, p.output),
                format!("{} → {}", r.input_insns, r.output_insns),
                format!("{} → {}", cached(r.input_cached), cached(r.output_cached)),
                match &r.difference {
                    Some(e) => format_estimate(e, true, 1.0),
                    None => "not measured".into(),
                },
            ]
        })
        .collect()
}

fn opt_title(c: &Comparison, rounds: usize) -> String {
    format!(
        "Each filter next to the program `seccheck optimize` compiled from it (proven equivalent on every input), \
         measured in the same rounds ({} process{}): instructions executed for the probe's input, input → optimised \
         (0: served by the action cache), and the optimised program's time minus its input's, paired per round, \
         median [95 % interval] over {rounds} rounds (negative: faster)",
        c.threads,
        if c.threads == 1 { "" } else { "es" }
    )
}

/// For the terminal (empty without a comparison).
pub fn text(report: &Report) -> String {
    let Some(c) = &report.comparison else { return String::new() };
    let mut out = format!("\n{}\n", title(c, report.options.rounds));
    let table: Vec<Vec<String>> = std::iter::once(HEADER.map(String::from).to_vec()).chain(rows(c)).collect();
    out.push_str(&super::overhead::aligned(&table));
    if !c.optimized.is_empty() {
        out.push_str(&format!("\n{}\n", opt_title(c, report.options.rounds)));
        let table: Vec<Vec<String>> = std::iter::once(OPT_HEADER.map(String::from).to_vec())
            .chain(c.optimized.iter().flat_map(opt_rows))
            .collect();
        out.push_str(&super::overhead::aligned(&table));
    }
    out
}

/// The Markdown section (empty without a comparison).
pub fn markdown(report: &Report) -> String {
    use super::escape;
    let Some(c) = &report.comparison else { return String::new() };
    let mut o = String::new();
    let _ = writeln!(o, "## Filters compared\n\n{}.\n", escape::text(&title(c, report.options.rounds)));
    let _ = writeln!(o, "| {} |\n|{}", HEADER.join(" | "), " --- |".repeat(HEADER.len()));
    for r in rows(c) {
        let _ = writeln!(o, "| {} |", r.iter().map(|x| escape::cell(x)).collect::<Vec<_>>().join(" | "));
    }
    let _ = writeln!(o);
    if !c.optimized.is_empty() {
        let _ = writeln!(
            o,
            "## Filters and their optimised programs\n\n{}.\n",
            escape::text(&opt_title(c, report.options.rounds))
        );
        let _ = writeln!(o, "| {} |\n|{}", OPT_HEADER.join(" | "), " --- |".repeat(OPT_HEADER.len()));
        for r in c.optimized.iter().flat_map(opt_rows) {
            let _ = writeln!(o, "| {} |", r.iter().map(|x| escape::cell(x)).collect::<Vec<_>>().join(" | "));
        }
        let _ = writeln!(o);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overhead::tests::{subject2, synthetic_measurements, synthetic_report, synthetic_report_with};

    #[test]
    fn one_row_per_syscall_and_filter_saying_what_was_checked() {
        assert!(text(&synthetic_report(&[1], 7, false)).is_empty(), "one filter: no comparison");
        let r = synthetic_report_with(&[1], 7, true, vec![subject2()]);
        let rows = rows(r.comparison.as_ref().unwrap());
        assert_eq!(rows.len(), 2 * r.options.probes.len());
        let read2 = rows.iter().find(|x| x[0] == "read" && x[1] == "test2").unwrap();
        assert_eq!(read2[2..5], ["8", "8", "runs, confirmed"]);
        assert!(read2[5].starts_with('+'), "{read2:?}");
        let futex2 = rows.iter().find(|x| x[0] == "futex" && x[1] == "test2").unwrap();
        assert_eq!(futex2[2..4], ["10", "9–10"]);
        let write = rows.iter().find(|x| x[0] == "write" && x[1] == "test").unwrap();
        assert!(write[5].starts_with("skipped: KILL_PROCESS"), "{write:?}");
        assert!(markdown(&r).contains("## Filters compared"));
        let t = text(&r);
        assert!(
            t.lines().any(|l| l.trim_start().starts_with("epoll_wait")
                && l.contains("test2")
                && l.contains("cached, confirmed")),
            "{t}"
        );
    }

    #[test]
    fn each_input_is_shown_next_to_its_optimised_program() {
        let m = synthetic_measurements(&[1], 7, false, vec![subject2()]);
        let pairs = crate::overhead::compare::optimized(&m, &[("test".into(), "test2".into())]);
        let mut r = crate::overhead::analyze(m, "seccheck bench test".into());
        assert!(!text(&r).contains("seccheck optimize"), "no pairs: no section");
        r.comparison.as_mut().unwrap().optimized = pairs;
        let t = text(&r);
        assert!(t.contains("`seccheck optimize` compiled from it"), "{t}");
        let read = t.lines().find(|l| l.trim_start().starts_with("read") && l.contains("test → test2")).expect(&t);
        assert!(read.contains("6 → 8") && read.contains("runs → runs"), "{read}");
        let write = t.lines().find(|l| l.trim_start().starts_with("write") && l.contains("test → test2")).expect(&t);
        assert!(write.contains("not measured"), "{write}");
        assert!(markdown(&r).contains("## Filters and their optimised programs"));
    }
}
