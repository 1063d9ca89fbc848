//! Render an [`overhead::Report`](crate::overhead::Report): a plain-text
//! table for the terminal, and a Markdown report with SVG plots for `reports/`.
//!
//! The plots use plotters' SVG backend only: text becomes `<text>` elements
//! the viewer lays out, so no font files or fontconfig are needed here.

use crate::kernel::overhead::Probe;
use crate::output::{OutDir, OutputError};
use crate::overhead::stats::{format_estimate, Estimate};
use crate::overhead::{Agreement, Param, ProbeStatus, Report, Row, SubjectKind};
use plotters::prelude::*;
use std::fmt::Write as _;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Output(#[from] OutputError),
    #[error("drawing {file}: {msg}")]
    Plot { file: String, msg: String },
}

/// A latency: its median, with its interval when there is one.
fn latency_cell(e: &Estimate) -> String {
    match e.interval {
        Some(_) => format_estimate(e, false, 1.0),
        None => format!("{:.0} (n={}, no interval)", e.median, e.n),
    }
}

fn cell(r: &Row) -> String {
    match (&r.verdict, &r.overhead_estimate) {
        (ProbeStatus::Skipped { .. }, _) => "skipped".into(),
        (_, None) => latency_cell(&r.latency_estimate),
        (v, Some(o)) => {
            let mut s = format_estimate(o, true, 1.0);
            if r.predicted_cached {
                s.push_str(" c");
            }
            if matches!(v, ProbeStatus::Denied { .. }) {
                s.push_str(" (denied)");
            }
            s
        }
    }
}

fn probes_of(report: &Report) -> Vec<Probe> {
    report.options.probes.clone()
}

/// The terminal table: per thread count, subjects × probes, overhead in ns
/// per call against the baseline of the same rounds.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let e = &report.environment;
    let _ = writeln!(
        out,
        "kernel {} · {} × {} · {} · BPF JIT {}",
        e.kernel_release,
        e.cpus,
        e.cpu_model,
        e.virtualization,
        md_cell(e.bpf_jit_enable.as_deref().unwrap_or("unknown"))
    );
    let _ = writeln!(
        out,
        "machine load during the run: others {:.0}% of all CPUs, steal {:.0}%, this benchmark {:.0}%",
        report.load.others * 100.0,
        report.load.steal * 100.0,
        report.load.own * 100.0
    );
    let probes = probes_of(report);
    for &threads in &report.options.threads {
        let _ = writeln!(
            out,
            "\n{threads} concurrent process(es): ns per call, median [95 % interval] over {} interleaved rounds",
            report.options.rounds
        );
        let mut table: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["filter".to_string()];
        head.extend(probes.iter().map(|p| p.name()));
        table.push(head);
        table.extend(subject_rows(report, threads, &probes));
        out.push_str(&aligned(&table));
    }
    let _ = writeln!(
        out,
        "\n+N = overhead vs no filter, paired per round; [lo, hi] = {}; not resolved = the interval spans zero, is wider than the value, or (for an allowed call) lies below zero; c = served by the kernel's action cache (predicted).",
        report.method
    );
    if report.options.rounds < report.min_rounds {
        let _ = writeln!(
            out,
            "{} round{} resolve{} nothing: a 95 % interval needs at least {} rounds (--rounds {}).",
            report.options.rounds,
            if report.options.rounds == 1 { "" } else { "s" },
            if report.options.rounds == 1 { "s" } else { "" },
            report.min_rounds,
            report.min_rounds
        );
    }
    let noisy: Vec<String> = report
        .noise
        .iter()
        .filter(|n| n.relative_spread > 0.05)
        .map(|n| format!("{} ({}p) ±{:.0}%", n.probe.name(), n.threads, n.relative_spread * 100.0))
        .collect();
    if !noisy.is_empty() {
        let _ = writeln!(out, "noisy baselines (spread > 5%): {}", noisy.join(", "));
    }
    for line in model_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    for line in workload_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    out.push_str(&super::overhead_tails::text(report));
    out.push_str(&super::overhead_compare::text(report));
    if let Some(b) = &report.bitmap {
        let _ = writeln!(out, "cache bitmap: {}", b.conclusion);
    }
    for s in &report.subjects {
        for d in &s.decisions {
            if let ProbeStatus::Skipped { reason } = &d.verdict {
                let _ = writeln!(out, "{}: {} not measured: {reason}", s.label, d.probe.name());
            }
        }
    }
    out
}

/// A table for the terminal, its first row the header: the first column
/// left-aligned, the others right-aligned, two spaces of indent.
pub(crate) fn aligned(table: &[Vec<String>]) -> String {
    let mut out = String::new();
    let Some(first) = table.first() else { return out };
    let widths: Vec<usize> =
        (0..first.len()).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for (i, r) in table.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| if c == 0 { format!("{v:<w$}", w = widths[c]) } else { format!("{v:>w$}", w = widths[c]) })
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  "));
        if i == 0 {
            let _ = writeln!(out, "  {}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        }
    }
    out
}

/// A parameter's figure: ns with 3 decimals for per-instruction costs.
fn param_figure(p: &Param) -> String {
    estimate_figure(p.name, &p.estimate)
}
fn estimate_figure(name: &str, e: &Estimate) -> String {
    let min_step = if matches!(name, "load" | "jump" | "alu") { 0.001 } else { 0.1 };
    format_estimate(e, false, min_step)
}

fn agreement(a: &Agreement) -> String {
    if a.points == 0 {
        return "no point".into();
    }
    format!(
        "{} point{} ({} resolved): median relative error {}, Spearman ρ {}",
        a.points,
        if a.points == 1 { "" } else { "s" },
        a.resolved_points,
        a.median_relative_error.map(|e| format!("{:.0} %", e * 100.0)).unwrap_or_else(|| "n/a".into()),
        a.spearman.map(|r| format!("{r:.2}")).unwrap_or_else(|| "n/a (fewer than 3 points)".into())
    )
}

/// Largest deviation of a parameter's value across repeated runs from their
/// median, relative to it; `None` with fewer than 2 runs.
fn repeat_spread(report: &Report, name: &str) -> Option<(Vec<f64>, f64)> {
    // A deviation relative to a value the first run did not resolve means nothing.
    if !report.model.get(name)?.estimate.resolved() {
        return None;
    }
    let mut v: Vec<f64> = report.model.get(name).map(|p| p.estimate.median).into_iter().collect();
    v.extend(report.repeats.iter().filter_map(|ps| ps.iter().find(|p| p.name == name).map(|p| p.estimate.median)));
    let med = crate::overhead::stats::median(&v)?;
    (v.len() >= 2 && med != 0.0).then(|| {
        let dev = v.iter().map(|x| ((x - med) / med).abs()).fold(0.0, f64::max);
        (v, dev)
    })
}

/// Of the further `--repeat` runs, how many have a 95 % interval for `name`
/// that overlaps the first run's: `(overlapping, compared)`; runs without an
/// interval are not compared.
fn repeat_agreement(report: &Report, name: &str) -> Option<(usize, usize)> {
    let first = report.model.get(name)?.estimate.interval?;
    let others: Vec<_> =
        report.repeats.iter().filter_map(|ps| ps.iter().find(|p| p.name == name)?.estimate.interval).collect();
    let overlapping = others.iter().filter(|i| i.lo <= first.hi && first.lo <= i.hi).count();
    Some((overlapping, others.len()))
}

/// Per filter, the workload's predicted cost (text and Markdown share it).
fn workload_lines(report: &Report) -> Vec<String> {
    let Some(w) = &report.workload else { return Vec::new() };
    let mut out = vec![format!(
        "workload {} ({}, {} calls over {:.3} s; predicted from the model's parameter medians, not measured; {}):",
        w.trace,
        w.command.join(" "),
        w.costs.first().map(|c| c.calls).unwrap_or(0),
        w.wall_seconds,
        w.input
    )];
    for c in &w.costs {
        let figures = match (c.ns_per_call, c.ns_per_second) {
            (Some(call), Some(sec)) => {
                format!("{call:.1} ns per allowed call, {:.3} ms of filter time per second of the run", sec / 1e6)
            }
            (Some(call), None) => format!("{call:.1} ns per allowed call"),
            _ => "not priced: calls the cache does not serve need the sweep parameters (--size-sweep)".into(),
        };
        out.push(format!(
            "  {}: {figures} ({} of {} calls served by the cache, {} not allowed)",
            c.subject, c.cached_calls, c.calls, c.not_allowed_calls
        ));
    }
    out
}

/// The fit and validation lines of the Markdown report.
fn fit_line(a: &Agreement) -> String {
    format!("- Fit, on the sweep filters the parameters come from: {}.", agreement(a))
}
fn validation_line(a: &Agreement) -> String {
    format!("- **Validation**, on the filters under test, syscalls that run a filter (the model was not fitted on them): {}.", agreement(a))
}

/// The claims of a Markdown report ([`markdown`]) that its `report.json` does
/// not support, recomputed from the raw values rather than read from the
/// stored summaries: each cost-model parameter's row from its per-round
/// values, the fit and validation lines from the model's points; and no
/// Pearson correlation (the report measures Spearman on real filters).
/// Empty when every claim holds.
pub fn unsupported_claims(md: &str, json: &serde_json::Value) -> Vec<String> {
    let mut bad = Vec::new();
    if md.contains("Pearson") {
        bad.push("claims a Pearson correlation".to_string());
    }
    let model = &json["model"];
    let Some(params) = model["params"].as_array() else {
        bad.push("report.json has no model.params (made by an older seccheck: regenerate)".into());
        return bad;
    };
    for p in params {
        let name = p["name"].as_str().unwrap_or("?");
        let per_round: Option<Vec<f64>> =
            p["per_round"].as_array().map(|v| v.iter().filter_map(|x| x.as_f64()).collect());
        let Some(e) = per_round.and_then(|v| Estimate::of(&v, true)) else {
            bad.push(format!("parameter {name} has no per-round values"));
            continue;
        };
        let row = format!("| `{name}` | {} | {} |", estimate_figure(name, &e), e.n);
        if !md.contains(&row) {
            bad.push(format!("parameter row for {name} is not `{row}`"));
        }
    }
    let points: Vec<&serde_json::Value> = model["points"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
    let values = |keep: &dyn Fn(&serde_json::Value) -> bool| -> Vec<(f64, f64, bool)> {
        points
            .iter()
            .filter(|p| keep(p))
            .map(|p| {
                (
                    p["predicted_ns"].as_f64().unwrap_or(f64::NAN),
                    p["measured_ns"].as_f64().unwrap_or(f64::NAN),
                    p["measured_resolved"] == true,
                )
            })
            .collect()
    };
    let fit = Agreement::from_values(&values(&|p| p["kind"] == "sweep"));
    let validation = Agreement::from_values(&values(&|p| p["kind"] == "under_test" && p["uncached"] == true));
    if !params.iter().any(|p| p["name"] == "jump") {
        if md.contains("- Fit, on") || md.contains("**Validation**") {
            bad.push("claims a fit or validation without the sweep parameters".into());
        }
    } else {
        for line in [fit_line(&fit), validation_line(&validation)] {
            if !md.contains(&line) {
                bad.push(format!("does not say what report.json gives: `{line}`"));
            }
        }
    }
    bad
}

/// The model's terminal lines: each parameter with its interval, the fit and
/// the validation, the spread across `--repeat` runs.
fn model_lines(report: &Report) -> Vec<String> {
    let m = &report.model;
    let mut out = Vec::new();
    if m.params.is_empty() {
        out.push("cost model: nothing measured to price it (no entry floor)".into());
        return out;
    }
    let figures: Vec<String> = m.params.iter().map(|p| format!("{} {}", p.name, param_figure(p))).collect();
    out.push(format!(
        "cost model, ns ({} process, each parameter from its own measurement, 95 % interval over rounds): {}",
        m.threads,
        figures.join("; ")
    ));
    if m.get("jump").is_none() {
        out.push("cost model: per-filter and per-instruction costs not measured (they need the sweep filters of `seccheck bench --size-sweep`); only cached calls are predicted".into());
    } else {
        out.push(format!("  fit on the sweep filters: {}", agreement(&m.fit)));
        out.push(format!(
            "  validation on the filters under test, uncached syscalls (not fitted): {}",
            agreement(&m.validation)
        ));
    }
    if !report.repeats.is_empty() {
        let spreads: Vec<String> = m
            .params
            .iter()
            .filter_map(|p| {
                let (_, d) = repeat_spread(report, p.name)?;
                let agree = repeat_agreement(report, p.name)
                    .map(|(a, n)| format!(" ({a}/{n} intervals overlap the first run's)"))
                    .unwrap_or_default();
                Some(format!("{} ±{:.1} %{agree}", p.name, d * 100.0))
            })
            .collect();
        out.push(format!(
            "  across {} runs, largest deviation from the median: {}",
            report.repeats.len() + 1,
            spreads.join(", ")
        ));
        out.extend(cell_agreement_lines(report).into_iter().map(|l| format!("  {l}")));
    }
    out
}

/// Per later `--repeat` run: how many overhead cells agree with the first
/// run's within their intervals, and which do not.
fn cell_agreement_lines(report: &Report) -> Vec<String> {
    report
        .repeat_cells
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut l = format!(
                "Run {} against run 1: {}/{} overhead cells with a 95 % interval in both runs have overlapping intervals",
                i + 2,
                a.overlapping,
                a.cells
            );
            if !a.disjoint.is_empty() {
                l.push_str(&format!("; disjoint: {}", a.disjoint.join(", ")));
            }
            l
        })
        .collect()
}

/// The cost model's predictions per filter, without measurements.
pub fn predictions_text(subjects: &[crate::overhead::SubjectInfo]) -> String {
    let mut out = String::new();
    for s in subjects.iter().filter(|s| !s.lengths.is_empty()) {
        let _ = writeln!(
            out,
            "{} ({} instructions; {})",
            s.label,
            s.lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" + "),
            s.note
        );
        for a in s.table.iter().flatten() {
            let _ = writeln!(
                out,
                "  {:<7} {:>4} numbers, {:>4} served by the action cache, worst path {} insns, mean of the rest {:.1}",
                a.arch.name(),
                a.syscalls,
                a.cached,
                a.worst,
                a.mean_uncached_max
            );
        }
        let hot: Vec<String> = s
            .hot
            .iter()
            .map(|h| {
                if h.cached {
                    format!("{} cached", h.syscall)
                } else if h.min == h.max {
                    format!("{} {}", h.syscall, h.min)
                } else {
                    format!("{} {}–{}", h.syscall, h.min, h.max)
                }
            })
            .collect();
        let _ = writeln!(out, "  hot syscalls (instructions): {}", hot.join(", "));
        if let Some((lo, hi)) = s.hot_weighted_insns {
            let _ = writeln!(out, "  hot-syscall mean: {lo:.1}–{hi:.1} instructions");
        }
        for d in &s.decisions {
            match &d.verdict {
                ProbeStatus::Measured => {}
                ProbeStatus::Denied { action } => {
                    let _ = writeln!(out, "  {}: denied ({action})", d.probe.name());
                }
                ProbeStatus::Skipped { reason } => {
                    let _ = writeln!(out, "  {}: not measurable ({reason})", d.probe.name());
                }
            }
        }
    }
    out
}

fn plot_err(file: &str) -> impl Fn(String) -> ReportError + '_ {
    move |msg| ReportError::Plot { file: file.to_string(), msg }
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Grouped bars: per probe, one bar per filter (overhead at 1 thread), the
/// whisker its 95 % interval; unresolved figures pale. Denied calls are not
/// overheads (the syscall's work is skipped): no bar, a "denied" label.
fn plot_overhead(report: &Report, file: &str, svg: &mut String) -> Result<(), ReportError> {
    let err = plot_err(file);
    let probes = probes_of(report);
    let subjects: Vec<&str> =
        report.subjects.iter().filter(|s| s.kind != SubjectKind::Baseline).map(|s| s.label.as_str()).collect();
    let threads = report.options.threads[0];
    let get = |s: &str, p: Probe| {
        report
            .rows
            .iter()
            .find(|r| r.subject == s && r.probe == p && r.threads == threads)
            .and_then(|r| r.overhead_estimate.map(|o| (o, r)))
    };
    let bars = || {
        report
            .rows
            .iter()
            .filter(|r| r.threads == threads && r.verdict == ProbeStatus::Measured)
            .filter_map(|r| r.overhead_estimate)
    };
    let top = |o: Estimate| o.interval.map(|i| i.hi).unwrap_or(o.median).max(o.median);
    let bottom = |o: Estimate| o.interval.map(|i| i.lo).unwrap_or(o.median).min(o.median).min(0.0);
    // headroom for the legend (upper left, one line per filter)
    let ymax = bars().map(top).fold(10.0, f64::max) * (1.15 + 0.07 * subjects.len() as f64);
    let ymin = bars().map(bottom).fold(0.0, f64::min) * 1.15;
    let root = SVGBackend::with_string(svg, (1100, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let n = probes.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Overhead per syscall vs no filter ({threads} process{}), ns/call",
                if threads == 1 { "" } else { "es" }
            ),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n, ymin..ymax)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(probes.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = (x - 0.5).round();
            if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < probes.len() {
                probes[i as usize].name()
            } else {
                String::new()
            }
        })
        .y_desc("ns per call (median, whisker = 95 % interval; pale = not resolved)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let width = 0.8 / subjects.len().max(1) as f64;
    for (k, s) in subjects.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut first = true;
        for (i, &p) in probes.iter().enumerate() {
            let Some((o, row)) = get(s, p) else { continue };
            let x0 = i as f64 + 0.1 + k as f64 * width;
            if matches!(row.verdict, ProbeStatus::Denied { .. }) {
                let label = Text::new(
                    "denied",
                    (x0, 0.0),
                    ("sans-serif", 11).into_font().transform(FontTransform::Rotate270).color(&color),
                );
                chart.draw_series([label]).map_err(|e| err(e.to_string()))?;
                continue;
            }
            let fill = if o.resolved() { color.filled() } else { color.mix(0.3).filled() };
            let bar = Rectangle::new([(x0, 0.0), (x0 + width * 0.9, o.median)], fill);
            let series = chart.draw_series([bar]).map_err(|e| err(e.to_string()))?;
            if first {
                series.label(*s).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
                first = false;
            }
            if let Some(ci) = o.interval {
                let whisker = PathElement::new(
                    vec![(x0 + width * 0.45, ci.lo), (x0 + width * 0.45, ci.hi)],
                    BLACK.stroke_width(1),
                );
                chart.draw_series([whisker]).map_err(|e| err(e.to_string()))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// Per subject, the mean overhead over the probes it measured, against the
/// number of concurrent processes.
fn plot_scaling(report: &Report, file: &str, svg: &mut String) -> Result<(), ReportError> {
    let err = plot_err(file);
    let threads = &report.options.threads;
    // Overheads only: the baseline's latency (hundreds of ns) would flatten them.
    let series: Vec<(String, Vec<(f64, f64)>)> = report
        .subjects
        .iter()
        .filter(|s| s.kind != SubjectKind::Baseline)
        .map(|s| {
            let pts = threads
                .iter()
                .filter_map(|&t| {
                    let v: Vec<f64> = report
                        .rows
                        .iter()
                        .filter(|r| r.subject == s.label && r.threads == t && r.verdict == ProbeStatus::Measured)
                        .map(|r| r.overhead.map(|o| o.median).unwrap_or(f64::NAN))
                        .filter(|v| v.is_finite())
                        .collect();
                    (!v.is_empty()).then(|| (t as f64, v.iter().sum::<f64>() / v.len() as f64))
                })
                .collect();
            (s.label.clone(), pts)
        })
        .collect();
    let ymax = series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(10.0, f64::max) * 1.15;
    let ymin = series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(0.0, f64::min) * 1.15;
    let tmax = *threads.iter().max().unwrap_or(&1) as f64;
    let root = SVGBackend::with_string(svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Scaling with concurrent filtered processes (mean over measured syscalls)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..tmax + 0.5, ymin..ymax)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_labels(threads.len().max(2))
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-6 { format!("{:.0}", x) } else { String::new() })
        .x_desc("concurrent processes, each with its own filter")
        .y_desc("overhead vs no filter, ns per call")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (k, (label, pts)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(|e| err(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// The model's validation: predicted against measured overhead for the
/// filters under test (not fitted on), one point per (filter, syscall); hollow
/// points are served by the cache (entry cost only), filled ones run a filter.
fn plot_model(report: &Report, file: &str, svg: &mut String) -> Result<(), ReportError> {
    let err = plot_err(file);
    let m = &report.model;
    let points: Vec<_> = m.points.iter().filter(|p| p.kind == SubjectKind::UnderTest).collect();
    if points.is_empty() {
        return Ok(());
    }
    let hi = points.iter().map(|p| p.measured_ns.max(p.predicted_ns)).fold(10.0, f64::max) * 1.1;
    let lo = points.iter().map(|p| p.measured_ns.min(p.predicted_ns)).fold(0.0, f64::min) * 1.1;
    let root = SVGBackend::with_string(svg, (640, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let v = &m.validation;
    let caption = format!(
        "Model validation on real filters (uncached: median rel. error {}, Spearman {})",
        v.median_relative_error.map(|e| format!("{:.0} %", e * 100.0)).unwrap_or_else(|| "n/a".into()),
        v.spearman.map(|r| format!("{r:.2}")).unwrap_or_else(|| "n/a".into())
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("predicted ns/call (model priced on the sweeps only)")
        .y_desc(format!("measured ns/call ({} process)", m.threads))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart.draw_series(LineSeries::new(vec![(lo, lo), (hi, hi)], BLACK.mix(0.4))).map_err(|e| err(e.to_string()))?;
    let subjects: Vec<&str> =
        report.subjects.iter().filter(|s| s.kind == SubjectKind::UnderTest).map(|s| s.label.as_str()).collect();
    for (k, s) in subjects.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mine: Vec<_> = points.iter().filter(|p| p.subject == *s).collect();
        if mine.is_empty() {
            continue;
        }
        chart
            .draw_series(mine.iter().map(|p| {
                let style = if p.uncached { color.filled() } else { color.stroke_width(2) };
                Circle::new((p.predicted_ns, p.measured_ns), 5, style)
            }))
            .map_err(|e| err(e.to_string()))?
            .label(*s)
            .legend(move |(x, y)| Circle::new((x + 6, y), 5, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// Machine strings, filter labels (file names) and reasons in the Markdown
/// report's table cells: [`super::escape::cell`] (one scheme for every
/// Markdown report; lines and headings use [`super::escape::text`]).
fn md_cell(s: &str) -> String {
    super::escape::cell(s)
}

/// The Markdown report (links the SVGs written next to it).
pub fn markdown(report: &Report) -> String {
    let mut o = String::new();
    let e = &report.environment;
    let _ = writeln!(o, "# Filter overhead on this kernel\n");
    let _ = writeln!(
        o,
        "Generated by seccheck; regenerate with\n\n{}",
        super::escape::fence("text", &super::escape::one_line(&report.command))
    );
    let _ = writeln!(o, "## Machine\n");
    let _ = writeln!(o, "| | |\n| --- | --- |");
    let _ = writeln!(o, "| kernel | {} ({}) |", md_cell(&e.kernel_release), md_cell(&e.kernel_version));
    let _ = writeln!(o, "| CPU | {} × {} |", e.cpus, md_cell(&e.cpu_model));
    let _ = writeln!(o, "| virtualization | {} |", md_cell(&e.virtualization));
    let _ =
        writeln!(o, "| BPF JIT (`bpf_jit_enable`) | {} |", md_cell(e.bpf_jit_enable.as_deref().unwrap_or("unknown")));
    let _ = writeln!(o, "| spec_store_bypass | {} |", md_cell(e.spec_store_bypass.as_deref().unwrap_or("unknown")));
    let _ = writeln!(
        o,
        "| clock | {} ({:.4} ns/tick); clocksource {} |",
        md_cell(report.clock.source),
        report.clock.ns_per_tick,
        md_cell(e.clocksource.as_deref().unwrap_or("unknown"))
    );
    let _ = writeln!(
        o,
        "| `/proc/PID/seccomp_cache` | {} |",
        if e.seccomp_cache_debug {
            "present"
        } else {
            "absent (no CONFIG_SECCOMP_CACHE_DEBUG): the cache is checked by timing"
        }
    );
    let l = &report.load;
    let _ = writeln!(
        o,
        "| load while measuring | other processes used {:.0}% of all CPU time, the hypervisor stole {:.0}%, this benchmark {:.0}% (load average {} → {}) over {:.0} s |\n",
        l.others * 100.0,
        l.steal * 100.0,
        l.own * 100.0,
        l.loadavg1_start.map(|v| format!("{v:.1}")).unwrap_or_default(),
        l.loadavg1_end.map(|v| format!("{v:.1}")).unwrap_or_default(),
        l.wall_seconds
    );
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(
        o,
        "Every run forks fresh processes that install the filter stack and time each syscall in {} batches \
         (iterations per batch: {}). Rounds: {}, with the order of filters rotated every round so that filtered and \
         unfiltered runs interleave; thread counts {:?}, each process with its own filter. A number is the median over \
         rounds of the median over processes; `[lo, hi]` is its {}. Overheads are paired per round against the \
         no-filter run of the same round. A figure is **not resolved** when there are fewer than {} rounds (no 95 % interval \
         exists), when its interval spans zero or is wider than the value, or when an allowed call's interval lies below zero \
         (a filter cannot make a call cheaper). `c` marks syscalls the kernel's action cache serves without running \
         the filter (predicted from the program, see below); `(denied)` marks calls the filter answers with an error, \
         whose difference is the denial's cost against the full syscall, not an overhead.\n",
        report.options.batches,
        report.iterations.iter().map(|(p, n)| format!("{} {n}", p.name())).collect::<Vec<_>>().join(", "),
        report.options.rounds,
        report.options.threads,
        report.method,
        report.min_rounds
    );
    if let Some(p) = report.options.probes.iter().find(|p| matches!(p, Probe::Raw(_))) {
        let _ = writeln!(
            o,
            "`{}` is a number no syscall has: the kernel's cache never serves it and without a filter it does no work (`ENOSYS`), \
             so a filter that allows it or answers `ERRNO` costs there its full run on its default path (give or take the \
             few ns by which returning `ERRNO` and dispatching `ENOSYS` differ); the model is validated on it too (its \
             `(denied)` cells included).\n",
            p.name()
        );
    }
    if report.options.rounds < report.min_rounds {
        let _ = writeln!(
            o,
            "**With {} this report resolves nothing**: a 95 % interval needs at least {} rounds.\n",
            crate::words::count(report.options.rounds, "round"),
            report.min_rounds
        );
    }
    let _ = writeln!(o, "## Filters\n");
    let _ = writeln!(o, "| filter | instructions | source | hot syscalls served by the cache | hot-syscall mean instructions (min–max) |\n| --- | --- | --- | --- | --- |");
    for s in &report.subjects {
        let cached: Vec<&str> = s.hot.iter().filter(|h| h.cached).map(|h| h.syscall.as_str()).collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md_cell(&s.label),
            s.lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" + "),
            md_cell(&s.note),
            if s.lengths.is_empty() {
                "—".into()
            } else if cached.is_empty() {
                "none".into()
            } else {
                md_cell(&cached.join(", "))
            },
            s.hot_weighted_insns.map(|(a, b)| format!("{a:.1}–{b:.1}")).unwrap_or_else(|| "—".into())
        );
    }
    let _ = writeln!(o);
    for &threads in &report.options.threads {
        let _ = writeln!(
            o,
            "## Overhead, {threads} concurrent process{} (ns per call)\n",
            if threads == 1 { "" } else { "es" }
        );
        let probes = probes_of(report);
        let _ = writeln!(
            o,
            "| filter | {} |\n| --- |{}",
            probes.iter().map(|p| p.name()).collect::<Vec<_>>().join(" | "),
            " --- |".repeat(probes.len())
        );
        for s in &report.subjects {
            let cells: Vec<String> = probes
                .iter()
                .map(|&p| {
                    report
                        .rows
                        .iter()
                        .find(|r| r.subject == s.label && r.probe == p && r.threads == threads)
                        .map(cell)
                        .unwrap_or_else(|| "skipped".into())
                })
                .collect();
            let name =
                if s.kind == SubjectKind::Baseline { "no filter (latency)".to_string() } else { md_cell(&s.label) };
            let _ = writeln!(o, "| {name} | {} |", cells.join(" | "));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "![overhead per syscall](overhead.svg)\n\n![scaling with processes](scaling.svg)\n");
    o.push_str(&super::overhead_tails::markdown(report));
    o.push_str(&super::overhead_compare::markdown(report));
    let _ = writeln!(o, "## Noise\n");
    let _ =
        writeln!(o, "The no-filter latency itself, over rounds (the floor under which no difference is resolved):\n");
    let _ = writeln!(
        o,
        "| syscall | processes | median ns | ± (half IQR over rounds) | relative |\n| --- | --- | --- | --- | --- |"
    );
    for n in &report.noise {
        let _ = writeln!(
            o,
            "| {} | {} | {:.0} | {:.1} | {:.1}% |",
            n.probe.name(),
            n.threads,
            n.baseline.median,
            n.baseline.spread(),
            n.relative_spread * 100.0
        );
    }
    let cells: Vec<&Row> = report.rows.iter().filter(|r| r.overhead_estimate.is_some()).collect();
    let unresolved = cells.iter().filter(|r| r.overhead_estimate.is_some_and(|e| !e.resolved())).count();
    let _ = writeln!(o, "\n{unresolved} of {} overhead cells are not resolved.\n", cells.len());
    let _ = writeln!(o, "## Cost model\n");
    let m = &report.model;
    if m.params.is_empty() {
        let _ = writeln!(o, "Nothing to price it with (the entry floor was not measured).\n");
    } else {
        let _ = writeln!(
            o,
            "A call the kernel's action cache serves costs `entry`; one it does not costs \
             `entry + miss + per_filter × filters + load × loads + jump × jumps + alu × ALU instructions`, \
             the counts exact from the emulator's path. Each parameter comes from its own sweep filter, paired \
             against the all-cacheable floor within each round ({} process); the interval is over the per-round values.\n",
            m.threads
        );
        let _ = writeln!(
            o,
            "| parameter | ns, median [95 % interval] | rounds | what it prices |\n| --- | --- | --- | --- |"
        );
        for p in &m.params {
            let _ = writeln!(o, "| `{}` | {} | {} | {} |", p.name, param_figure(p), p.estimate.n, p.what);
        }
        let _ = writeln!(o);
        if m.get("jump").is_none() {
            let _ = writeln!(o, "The per-filter and per-instruction costs were not measured (run with `--size-sweep`): only cached calls are predicted.\n");
        } else {
            let _ = writeln!(o, "{}", fit_line(&m.fit));
            let _ = writeln!(o, "{}\n", validation_line(&m.validation));
            let _ = writeln!(o, "![model validation on real filters](model.svg)\n");
        }
        if !report.repeats.is_empty() {
            let _ = writeln!(o, "Across {} runs of the suite (`--repeat`), each parameter's median per run and the largest deviation from their median:\n", report.repeats.len() + 1);
            let _ = writeln!(o, "| parameter | per run | largest deviation | later runs whose 95 % interval overlaps the first run's |\n| --- | --- | --- | --- |");
            for p in &m.params {
                if let Some((v, dev)) = repeat_spread(report, p.name) {
                    let digits = if matches!(p.name, "load" | "jump" | "alu") { 3 } else { 1 };
                    let agree = repeat_agreement(report, p.name)
                        .map(|(a, n)| format!("{a}/{n}"))
                        .unwrap_or_else(|| "no interval".into());
                    let _ = writeln!(
                        o,
                        "| `{}` | {} | ±{:.1} % | {agree} |",
                        p.name,
                        v.iter().map(|x| format!("{x:.digits$}")).collect::<Vec<_>>().join(", "),
                        dev * 100.0
                    );
                }
            }
            let _ = writeln!(o);
            for line in cell_agreement_lines(report) {
                let _ = writeln!(o, "- {}", super::escape::text(&line));
            }
            if !report.repeat_cells.is_empty() {
                let _ = writeln!(o);
            }
        }
    }
    if report.workload.is_some() {
        let _ = writeln!(o, "## Workload\n");
        for (i, line) in workload_lines(report).iter().enumerate() {
            let line = super::escape::text(line.trim_start());
            let _ = if i == 0 { writeln!(o, "{line}\n") } else { writeln!(o, "- {line}") };
        }
        let _ = writeln!(o);
    }
    let c = &report.cache_check;
    if !c.resolvable {
        let _ = writeln!(o, "Cache prediction against timing: not checked, too few rounds for intervals.\n");
    }
    if c.resolvable {
        let _ = writeln!(
            o,
            "Cache prediction against timing (single process, run cost vs the all-cacheable floor): {}/{} syscalls predicted \
             to be served by the cache cost no resolved amount more than the floor, {}/{} predicted to run the filter cost a \
             resolved amount more.\n",
            c.cached_consistent, c.cached_predicted, c.uncached_consistent, c.uncached_predicted
        );
    }
    if let Some(b) = &report.bitmap {
        let _ = writeln!(
            o,
            "Native bitmap size: predicted {} (`NR_syscalls`), probed with a {}-instruction all-cacheable filter: {}.\n",
            b.predicted_size, b.filter_len, b.conclusion
        );
        let _ = writeln!(
            o,
            "| nr | ns/call under the filter | without a filter | the filter's cost |\n| --- | --- | --- | --- |"
        );
        for ((nr, ns), (_, bare)) in b.latencies.iter().zip(&b.without_filter) {
            let _ = writeln!(o, "| {nr:#x} | {ns:.0} | {bare:.0} | {:+.0} |", ns - bare);
        }
        let _ = writeln!(o);
    }
    for s in report.subjects.iter().filter(|s| s.table.is_some()) {
        let _ = writeln!(o, "### {}\n", super::escape::text(&s.label));
        let _ = writeln!(o, "| ABI | syscall numbers | served by cache | worst path (insns) | mean path of the rest |\n| --- | --- | --- | --- | --- |");
        for a in s.table.as_ref().into_iter().flatten() {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {:.1} |",
                md_cell(&a.arch.to_string()),
                a.syscalls,
                a.cached,
                a.worst,
                a.mean_uncached_max
            );
        }
        let _ = writeln!(o, "\n| hot syscall | nr | cached | instructions min–max |\n| --- | --- | --- | --- |");
        for h in &s.hot {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {}–{} |",
                md_cell(&h.syscall),
                h.nr,
                if h.cached { "yes" } else { "no" },
                h.min,
                h.max
            );
        }
        for d in &s.decisions {
            if let ProbeStatus::Skipped { reason } | ProbeStatus::Denied { action: reason } = &d.verdict {
                let _ = writeln!(o, "\n- {}: {}", d.probe.name(), super::escape::text(reason));
            }
        }
        let _ = writeln!(o);
    }
    o
}

/// A report's `report.json`: the document `bench --format json` prints for
/// it, `"schema": "seccheck/<kind>/v1"` first (docs/json.md).
pub(crate) fn json_document(kind: &str, body: &impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Document<'a, T: serde::Serialize> {
        schema: String,
        #[serde(flatten)]
        body: &'a T,
    }
    let doc = Document { schema: format!("seccheck/{kind}/v1"), body };
    serde_json::to_string_pretty(&doc).expect("report serializes") + "\n"
}

/// Write `README.md`, `overhead.svg`, `scaling.svg`, `model.svg` and
/// `report.json` (the `bench` JSON document) into `dir`, each replaced whole
/// (temporary file and rename, never through a link: `crate::output`).
pub fn write(report: &Report, dir: &OutDir) -> Result<(), ReportError> {
    for (_, file, svg) in drawn(report)? {
        dir.write(file, svg.as_bytes())?;
    }
    dir.write("README.md", markdown(report).as_bytes())?;
    dir.write("report.json", json_document("bench", report).as_bytes())?;
    Ok(())
}

/// One table row per filter at `threads` processes: its name, then a
/// [`cell`] per probe (`skipped` where it was not measured).
fn subject_rows(report: &Report, threads: usize, probes: &[Probe]) -> Vec<Vec<String>> {
    report
        .subjects
        .iter()
        .map(|s| {
            let name = if s.kind == SubjectKind::Baseline { "no filter (latency)".into() } else { s.label.clone() };
            std::iter::once(name)
                .chain(probes.iter().map(|&p| {
                    report
                        .rows
                        .iter()
                        .find(|r| r.subject == s.label && r.probe == p && r.threads == threads)
                        .map(cell)
                        .unwrap_or_else(|| "skipped".into())
                }))
                .collect()
        })
        .collect()
}

/// Per thread count, the overhead table of [`text`] as `(title, header,
/// rows)`, for reports that lay it out themselves (`seccheck report`).
pub fn tables(report: &Report) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let probes = probes_of(report);
    report
        .options
        .threads
        .iter()
        .map(|&threads| {
            let title = format!(
                "{threads} concurrent process{}: ns per call, median [95 % interval] over {} interleaved rounds",
                if threads == 1 { "" } else { "es" },
                report.options.rounds
            );
            let mut header = vec!["filter".to_string()];
            header.extend(probes.iter().map(|p| p.name()));
            (title, header, subject_rows(report, threads, &probes))
        })
        .collect()
}

/// Every plot as `(title, file name, SVG document)`; a plot without data
/// (no fitted model) is left out.
fn drawn(report: &Report) -> Result<Vec<(&'static str, &'static str, String)>, ReportError> {
    type Draw = fn(&Report, &str, &mut String) -> Result<(), ReportError>;
    let plots: [(&str, &str, Draw); 3] = [
        ("overhead per syscall", "overhead.svg", plot_overhead),
        ("scaling with processes", "scaling.svg", plot_scaling),
        ("predicted vs measured", "model.svg", plot_model),
    ];
    let mut out = Vec::new();
    for (title, file, draw) in plots {
        let mut svg = String::new();
        draw(report, file, &mut svg)?;
        if !svg.is_empty() {
            out.push((title, file, svg));
        }
    }
    Ok(out)
}

/// The plots of [`write`] as `(title, SVG document)`, for reports that embed them.
pub fn plots(report: &Report) -> Result<Vec<(String, String)>, ReportError> {
    Ok(drawn(report)?.into_iter().map(|(title, _, svg)| (title.to_string(), svg)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_markdown_name_machine_noise_and_every_filter() {
        let r = crate::overhead::tests::synthetic_report(&[1, 2], 7, true);
        let t = text(&r);
        assert!(t.contains("1 concurrent process(es)") && t.contains("2 concurrent process(es)"), "{t}");
        assert!(t.contains("no filter (latency)") && t.contains("ld [0]; ret ALLOW") && t.contains("test"));
        assert!(t.contains("+56 [56, 56]"), "read overhead 40 + 10 + 5 + 0.6 + 0.51: {t}");
        assert!(t.contains("write not measured: KILL_PROCESS"), "{t}");
        assert!(t.contains("jump 0.170 [0.170, 0.170]") && t.contains("entry 40.0 [40.0, 40.0]"), "{t}");
        assert!(t.contains("validation on the filters under test") && !t.contains("no probe ran a filter"), "{t}");
        assert!(!t.contains("±0") && !t.contains("resolves nothing"), "{t}");
        let md = markdown(&r);
        for needle in [
            "## Machine",
            "load while measuring",
            "## Noise",
            "## Cost model",
            "(overhead.svg)",
            "(denied)",
            "regenerate with",
            "**Validation**",
            "order-statistics",
            "| `jump` | 0.170 [0.170, 0.170] | 7 |",
        ] {
            assert!(md.contains(needle), "missing {needle}:\n{md}");
        }
    }

    #[test]
    fn a_claim_the_json_does_not_show_is_found() {
        let r = crate::overhead::tests::synthetic_report(&[1], 7, true);
        let md = markdown(&r);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(unsupported_claims(&md, &json), Vec::<String>::new(), "{md}");
        // A better validation figure than measured.
        let v = validation_line(&r.model.validation);
        let tampered = md.replace(&v, &v.replace("Spearman ρ 1.00", "Spearman ρ 0.99"));
        assert_ne!(tampered, md);
        assert_eq!(unsupported_claims(&tampered, &json).len(), 1);
        // A Pearson claim, as the old report made.
        assert_eq!(unsupported_claims(&format!("{md}\nPearson r 0.991"), &json).len(), 1);
        // A parameter whose per-round values say otherwise.
        let mut j2 = json.clone();
        let jump = j2["model"]["params"].as_array_mut().unwrap().iter_mut().find(|p| p["name"] == "jump").unwrap();
        jump["per_round"] = serde_json::json!([0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
        let bad = unsupported_claims(&md, &j2);
        assert!(bad.len() == 1 && bad[0].contains("jump"), "{bad:?}");
        // A validation point that moved.
        let mut j3 = json.clone();
        let p = j3["model"]["points"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|p| p["kind"] == "under_test" && p["uncached"] == true)
            .unwrap();
        p["measured_ns"] = serde_json::json!(1000.0);
        assert_eq!(unsupported_claims(&md, &j3).len(), 1);
        // An older report.json is named as such.
        assert!(
            unsupported_claims(&md, &serde_json::json!({"model": {"pearson_r": 0.991}}))[0].contains("older seccheck")
        );
    }

    #[test]
    fn repeated_runs_show_spread_and_overlap() {
        let mut r = crate::overhead::tests::synthetic_report(&[1], 7, true);
        let mut second = r.model.params.clone();
        for p in second.iter_mut() {
            // jump 10 % higher and its interval clear of the first run's (which is a point).
            let k = if p.name == "jump" { 1.1 } else { 1.0 };
            p.estimate.median *= k;
            if let Some(i) = p.estimate.interval.as_mut() {
                (i.lo, i.hi) = (i.lo * k, i.hi * k);
            }
        }
        r.repeats = vec![second];
        let t = text(&r);
        assert!(
            t.contains("across 2 runs")
                && t.contains("jump ±4.8 % (0/1 intervals overlap")
                && t.contains("entry ±0.0 % (1/1 intervals overlap"),
            "{t}"
        );
        let md = markdown(&r);
        assert!(md.contains("| `jump` | 0.170, 0.187 | ±4.8 % | 0/1 |"), "{md}");
        // Cells: a second run identical to the first agrees everywhere; one
        // whose read cell moved clear of its interval is named.
        let mut later = r.clone();
        let all = crate::overhead::cell_agreement(&r, &later);
        assert!(all.cells > 0 && all.overlapping == all.cells && all.disjoint.is_empty(), "{all:?}");
        let row = later.rows.iter_mut().find(|x| x.subject == "test" && x.probe == Probe::Read).unwrap();
        let e = row.overhead_estimate.as_mut().unwrap();
        let i = e.interval.as_mut().unwrap();
        (i.lo, i.hi) = (i.hi + 1.0, i.hi + 2.0);
        r.repeat_cells = vec![crate::overhead::cell_agreement(&r, &later)];
        let t = text(&r);
        let want = format!("Run 2 against run 1: {}/{} overhead cells", all.cells - 1, all.cells);
        assert!(t.contains(&want) && t.contains("disjoint: test / read / 1 process"), "{t}");
        assert!(markdown(&r).contains(&format!("- {want}")));
    }

    #[test]
    fn one_round_prints_no_figure_as_resolved() {
        let r = crate::overhead::tests::synthetic_report(&[1], 1, true);
        let t = text(&r);
        assert!(t.contains("1 round resolves nothing: a 95 % interval needs at least 6 rounds"), "{t}");
        assert!(t.contains("not resolved (n=1)") && t.contains("(n=1, no interval)"), "{t}");
        assert!(!t.contains("±0") && !t.contains(" +56"), "no overhead printed as a number: {t}");
        let md = markdown(&r);
        assert!(md.contains("resolves nothing") && md.contains("Cache prediction against timing: not checked"), "{md}");
    }

    #[test]
    fn without_sweeps_the_model_says_what_it_did_not_measure() {
        let r = crate::overhead::tests::synthetic_report(&[1], 7, false);
        let t = text(&r);
        assert!(t.contains("entry 40.0") && t.contains("per-filter and per-instruction costs not measured (they need the sweep filters of `seccheck bench --size-sweep`)"), "{t}");
    }

    #[test]
    fn denied_calls_are_labelled_not_drawn_as_bars() {
        let r = crate::overhead::tests::synthetic_report(&[1], 7, false);
        let mut svg = String::new();
        plot_overhead(&r, "o.svg", &mut svg).unwrap();
        assert_eq!(svg.matches("denied").count(), 1, "getpid under the test filter is denied: {svg}");
        // Only the floor and the test filter have bars: 7 + 4 allowed measured probes
        // (getpid denied, write skipped), plus one legend swatch per filter.
        // Were getpid allowed, it would be one more bar and no label.
        let mut allowed = r.clone();
        for row in allowed.rows.iter_mut().filter(|x| x.subject == "test" && x.probe == Probe::Getpid) {
            row.verdict = ProbeStatus::Measured;
        }
        let mut svg2 = String::new();
        plot_overhead(&allowed, "o.svg", &mut svg2).unwrap();
        assert!(!svg2.contains("denied"));
        assert_eq!(svg2.matches("<rect").count(), svg.matches("<rect").count() + 1);
    }

    #[test]
    fn writes_svgs_with_text_labels() {
        let r = crate::overhead::tests::synthetic_report(&[1, 2], 7, true);
        let dir = tempfile::tempdir().unwrap();
        write(&r, &crate::output::Outputs::new().dir(dir.path()).unwrap()).unwrap();
        for f in ["overhead.svg", "scaling.svg", "model.svg"] {
            let svg = std::fs::read_to_string(dir.path().join(f)).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("<text"), "{f}");
        }
        let bars = std::fs::read_to_string(dir.path().join("overhead.svg")).unwrap();
        assert!(bars.contains("openat+close") && bars.contains("ld [0]; ret ALLOW"));
        let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
        assert!(text.starts_with("{\n  \"schema\": \"seccheck/bench/v1\",\n"), "{}", &text[..80]);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(json["rows"].as_array().unwrap().len() > 10);
        assert!(std::fs::read_to_string(dir.path().join("README.md")).unwrap().starts_with("# Filter overhead"));
    }
}
