//! Render an [`overhead::Report`](crate::overhead::Report): a plain-text
//! table for the terminal, and a Markdown report with SVG plots for `reports/`.
//!
//! The plots use plotters' SVG backend only: text becomes `<text>` elements
//! the viewer lays out, so no font files or fontconfig are needed here.

use crate::overhead::stats::{format_ns, Resolution};
use crate::overhead::{Report, Row, SubjectKind, Verdict};
use crate::kernel::overhead::Probe;
use plotters::prelude::*;
use std::fmt::Write as _;
use crate::output::{OutDir, OutputError};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Output(#[from] OutputError),
    #[error("drawing {file}: {msg}")]
    Plot { file: String, msg: String },
}

fn cell(r: &Row) -> String {
    match (&r.verdict, &r.overhead) {
        (Verdict::Skipped { .. }, _) => "skipped".into(),
        (_, None) => format!("{:.0}", r.latency.median),
        (v, Some(o)) => {
            let mut s = format_ns(o, true);
            if r.predicted_cached {
                s.push_str(" c");
            }
            if matches!(v, Verdict::Denied { .. }) {
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
    let _ = writeln!(out, "kernel {} · {} × {} · {} · BPF JIT {}", e.kernel_release, e.cpus, e.cpu_model, e.virtualization, md_escape(e.bpf_jit_enable.as_deref().unwrap_or("unknown")));
    let _ = writeln!(
        out,
        "machine load during the run: others {:.0}% of all CPUs, steal {:.0}%, this benchmark {:.0}%",
        report.load.others * 100.0,
        report.load.steal * 100.0,
        report.load.own * 100.0
    );
    let probes = probes_of(report);
    for &threads in &report.options.threads {
        let _ = writeln!(out, "\n{threads} concurrent process(es): ns per call, median ± half-IQR over {} interleaved rounds", report.options.rounds);
        let mut table: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["filter".to_string()];
        head.extend(probes.iter().map(|p| p.name()));
        table.push(head);
        for s in &report.subjects {
            let mut line = vec![if s.kind == SubjectKind::Baseline { "no filter (latency)".into() } else { s.label.clone() }];
            for &p in &probes {
                line.push(
                    report
                        .rows
                        .iter()
                        .find(|r| r.subject == s.label && r.probe == p && r.threads == threads)
                        .map(cell)
                        .unwrap_or_else(|| "skipped".into()),
                );
            }
            table.push(line);
        }
        let widths: Vec<usize> = (0..table[0].len()).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        for (i, r) in table.iter().enumerate() {
            let cells: Vec<String> = r.iter().enumerate().map(|(c, v)| if c == 0 { format!("{v:<w$}", w = widths[c]) } else { format!("{v:>w$}", w = widths[c]) }).collect();
            let _ = writeln!(out, "  {}", cells.join("  "));
            if i == 0 {
                let _ = writeln!(out, "  {}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            }
        }
    }
    let _ = writeln!(out, "\n+N = overhead vs no filter; c = served by the kernel's action cache (predicted); ≈0 = within noise.");
    let noisy: Vec<String> = report
        .noise
        .iter()
        .filter(|n| n.relative_spread > 0.05)
        .map(|n| format!("{} ({}p) ±{:.0}%", n.probe.name(), n.threads, n.relative_spread * 100.0))
        .collect();
    if !noisy.is_empty() {
        let _ = writeln!(out, "noisy baselines (spread > 5%): {}", noisy.join(", "));
    }
    if let Some(m) = &report.model {
        let _ = writeln!(
            out,
            "model: entry {:.1} ns/call + {:.1} ns per filter run + {:.3} ns per instruction; r = {}, mean |error| {:.1} ns over {} points{}",
            m.entry_ns,
            m.per_filter_ns,
            m.per_insn_ns,
            m.pearson_r.map(|r| format!("{r:.3}")).unwrap_or_else(|| "n/a".into()),
            m.mean_abs_error_ns,
            m.points.len(),
            if m.full { "" } else { " (no probe ran a filter: entry cost only)" }
        );
    }
    if let Some(b) = &report.bitmap {
        let _ = writeln!(out, "cache bitmap: {}", b.conclusion);
    }
    for s in &report.subjects {
        for d in &s.decisions {
            if let Verdict::Skipped { reason } = &d.verdict {
                let _ = writeln!(out, "{}: {} not measured: {reason}", s.label, d.probe.name());
            }
        }
    }
    out
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
            .map(|h| if h.cached { format!("{} cached", h.syscall) } else if h.min == h.max { format!("{} {}", h.syscall, h.min) } else { format!("{} {}–{}", h.syscall, h.min, h.max) })
            .collect();
        let _ = writeln!(out, "  hot syscalls (instructions): {}", hot.join(", "));
        if let Some((lo, hi)) = s.hot_weighted_insns {
            let _ = writeln!(out, "  hot-syscall mean: {lo:.1}–{hi:.1} instructions");
        }
        for d in &s.decisions {
            match &d.verdict {
                Verdict::Measured => {}
                Verdict::Denied { action } => {
                    let _ = writeln!(out, "  {}: denied ({action})", d.probe.name());
                }
                Verdict::Skipped { reason } => {
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

/// Grouped bars: per probe, one bar per filter (overhead at 1 thread), with
/// quartile whiskers.
fn plot_overhead(report: &Report, file: &str, svg: &mut String) -> Result<(), ReportError> {
    let err = plot_err(file);
    let probes = probes_of(report);
    let subjects: Vec<&str> = report.subjects.iter().filter(|s| s.kind != SubjectKind::Baseline).map(|s| s.label.as_str()).collect();
    let threads = report.options.threads[0];
    let get = |s: &str, p: Probe| report.rows.iter().find(|r| r.subject == s && r.probe == p && r.threads == threads).and_then(|r| r.overhead.map(|o| (o, r)));
    let ymax = report
        .rows
        .iter()
        .filter(|r| r.threads == threads)
        .filter_map(|r| r.overhead.map(|o| o.q3.max(o.median)))
        .fold(10.0, f64::max)
        // headroom for the legend (upper left, one line per filter)
        * (1.15 + 0.07 * subjects.len() as f64);
    let ymin = report.rows.iter().filter(|r| r.threads == threads).filter_map(|r| r.overhead.map(|o| o.q1.min(0.0))).fold(0.0, f64::min) * 1.15;
    let root = SVGBackend::with_string(svg, (1100, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let n = probes.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Overhead per syscall vs no filter ({threads} process{}), ns/call", if threads == 1 { "" } else { "es" }), ("sans-serif", 22))
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
        .y_desc("ns per call (median, whiskers = quartiles)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let width = 0.8 / subjects.len().max(1) as f64;
    for (k, s) in subjects.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut first = true;
        for (i, &p) in probes.iter().enumerate() {
            let Some((o, _)) = get(s, p) else { continue };
            let x0 = i as f64 + 0.1 + k as f64 * width;
            let bar = Rectangle::new([(x0, 0.0), (x0 + width * 0.9, o.median)], color.filled());
            let whisker = PathElement::new(vec![(x0 + width * 0.45, o.q1), (x0 + width * 0.45, o.q3)], BLACK.stroke_width(1));
            let series = chart.draw_series([bar]).map_err(|e| err(e.to_string()))?;
            if first {
                series.label(*s).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
                first = false;
            }
            chart.draw_series([whisker]).map_err(|e| err(e.to_string()))?;
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
                        .filter(|r| r.subject == s.label && r.threads == t && r.verdict == Verdict::Measured)
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

/// Measured against predicted overhead, one point per (filter, syscall).
fn plot_model(report: &Report, file: &str, svg: &mut String) -> Result<(), ReportError> {
    let err = plot_err(file);
    let Some(m) = &report.model else { return Ok(()) };
    let hi = m.points.iter().map(|p| p.measured_ns.max(p.predicted_ns)).fold(10.0, f64::max) * 1.1;
    let lo = m.points.iter().map(|p| p.measured_ns.min(p.predicted_ns)).fold(0.0, f64::min) * 1.1;
    let root = SVGBackend::with_string(svg, (640, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Predicted vs measured overhead (r = {})", m.pearson_r.map(|r| format!("{r:.3}")).unwrap_or_else(|| "n/a".into())),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("predicted ns/call (entry + per filter + per instruction)")
        .y_desc("measured ns/call (1 process)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart.draw_series(LineSeries::new(vec![(lo, lo), (hi, hi)], BLACK.mix(0.4))).map_err(|e| err(e.to_string()))?;
    let subjects: Vec<&str> = report.subjects.iter().filter(|s| s.kind != SubjectKind::Baseline).map(|s| s.label.as_str()).collect();
    for (k, s) in subjects.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = m.points.iter().filter(|p| p.subject == *s).map(|p| (p.predicted_ns, p.measured_ns)).collect();
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 5, color.filled())))
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
/// report: [`super::escape::text`] (one scheme for every Markdown report).
fn md_escape(s: &str) -> String {
    super::escape::text(s)
}

/// The Markdown report (links the SVGs written next to it).
pub fn markdown(report: &Report) -> String {
    let mut o = String::new();
    let e = &report.environment;
    let _ = writeln!(o, "# Filter overhead on this kernel\n");
    let _ = writeln!(o, "Generated by seccheck; regenerate with\n\n{}", super::escape::fence("text", &super::escape::one_line(&report.command)));
    let _ = writeln!(o, "## Machine\n");
    let _ = writeln!(o, "| | |\n| --- | --- |");
    let _ = writeln!(o, "| kernel | {} ({}) |", md_escape(&e.kernel_release), md_escape(&e.kernel_version));
    let _ = writeln!(o, "| CPU | {} × {} |", e.cpus, md_escape(&e.cpu_model));
    let _ = writeln!(o, "| virtualization | {} |", md_escape(&e.virtualization));
    let _ = writeln!(o, "| BPF JIT (`bpf_jit_enable`) | {} |", md_escape(e.bpf_jit_enable.as_deref().unwrap_or("unknown")));
    let _ = writeln!(o, "| spec_store_bypass | {} |", md_escape(e.spec_store_bypass.as_deref().unwrap_or("unknown")));
    let _ = writeln!(o, "| clock | {} ({:.4} ns/tick); clocksource {} |", md_escape(report.clock.source), report.clock.ns_per_tick, md_escape(e.clocksource.as_deref().unwrap_or("unknown")));
    let _ = writeln!(o, "| `/proc/PID/seccomp_cache` | {} |", if e.seccomp_cache_debug { "present" } else { "absent (no CONFIG_SECCOMP_CACHE_DEBUG): the cache is checked by timing" });
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
         rounds of the median over processes; `±` is half the interquartile range over rounds. Overheads are paired \
         per round against the no-filter run of the same round. `≈0` means the difference is within twice its spread; \
         `noisy` means the spread is over a quarter of the value. `c` marks syscalls the kernel's action cache serves \
         without running the filter (predicted from the program, see below).\n",
        report.options.batches,
        report.iterations.iter().map(|(p, n)| format!("{} {n}", p.name())).collect::<Vec<_>>().join(", "),
        report.options.rounds,
        report.options.threads
    );
    let _ = writeln!(o, "## Filters\n");
    let _ = writeln!(o, "| filter | instructions | source | hot syscalls served by the cache | hot-syscall mean instructions (min–max) |\n| --- | --- | --- | --- | --- |");
    for s in &report.subjects {
        let cached: Vec<&str> = s.hot.iter().filter(|h| h.cached).map(|h| h.syscall.as_str()).collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md_escape(&s.label),
            s.lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" + "),
            md_escape(&s.note),
            if s.lengths.is_empty() { "—".into() } else if cached.is_empty() { "none".into() } else { md_escape(&cached.join(", ")) },
            s.hot_weighted_insns.map(|(a, b)| format!("{a:.1}–{b:.1}")).unwrap_or_else(|| "—".into())
        );
    }
    let _ = writeln!(o);
    for &threads in &report.options.threads {
        let _ = writeln!(o, "## Overhead, {threads} concurrent process{} (ns per call)\n", if threads == 1 { "" } else { "es" });
        let probes = probes_of(report);
        let _ = writeln!(o, "| filter | {} |\n| --- |{}", probes.iter().map(|p| p.name()).collect::<Vec<_>>().join(" | "), " --- |".repeat(probes.len()));
        for s in &report.subjects {
            let cells: Vec<String> = probes
                .iter()
                .map(|&p| report.rows.iter().find(|r| r.subject == s.label && r.probe == p && r.threads == threads).map(cell).unwrap_or_else(|| "skipped".into()))
                .collect();
            let name = if s.kind == SubjectKind::Baseline { "no filter (latency)".to_string() } else { md_escape(&s.label) };
            let _ = writeln!(o, "| {name} | {} |", cells.join(" | "));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "![overhead per syscall](overhead.svg)\n\n![scaling with processes](scaling.svg)\n");
    let _ = writeln!(o, "## Noise\n");
    let _ = writeln!(o, "The no-filter latency itself, over rounds (the floor under which no difference is resolved):\n");
    let _ = writeln!(o, "| syscall | processes | median ns | ± | relative |\n| --- | --- | --- | --- | --- |");
    for n in &report.noise {
        let _ = writeln!(o, "| {} | {} | {:.0} | {:.1} | {:.1}% |", n.probe.name(), n.threads, n.baseline.median, n.baseline.spread(), n.relative_spread * 100.0);
    }
    let unresolved = report.rows.iter().filter(|r| r.overhead_resolution == Some(Resolution::BelowNoise)).count();
    let noisy = report.rows.iter().filter(|r| r.overhead_resolution == Some(Resolution::Noisy)).count();
    let _ = writeln!(o, "\n{unresolved} overhead cells are within noise of zero and {noisy} are marked noisy.\n");
    let _ = writeln!(o, "## Cost model\n");
    if let Some(m) = &report.model {
        let _ = writeln!(
            o,
            "Fitted on {} single-process (filter, syscall) points: **{:.1} ns** per syscall to enter seccomp at all, \
             **{:.1} ns** per filter run (cache miss), **{:.3} ns** per BPF instruction executed. \
             Pearson r between predicted and measured: {}; mean absolute error {:.1} ns.{}\n",
            m.points.len(),
            m.entry_ns,
            m.per_filter_ns,
            m.per_insn_ns,
            m.pearson_r.map(|r| format!("{r:.3}")).unwrap_or_else(|| "n/a".into()),
            m.mean_abs_error_ns,
            if m.full { "" } else { " Only the entry term could be fitted: no measured syscall ran a filter." }
        );
        let _ = writeln!(o, "![predicted vs measured](model.svg)\n");
    } else {
        let _ = writeln!(o, "No point to fit (nothing was measured single-process).\n");
    }
    let c = &report.cache_check;
    let _ = writeln!(
        o,
        "Cache prediction against timing (single process, run cost vs the all-cacheable floor): {}/{} syscalls predicted \
         to be served by the cache cost no more than the floor, {}/{} predicted to run the filter cost measurably more.\n",
        c.cached_consistent, c.cached_predicted, c.uncached_consistent, c.uncached_predicted
    );
    if let Some(b) = &report.bitmap {
        let _ = writeln!(
            o,
            "Native bitmap size: predicted {} (`NR_syscalls`), probed with a {}-instruction all-cacheable filter: {}.\n",
            b.predicted_size, b.filter_len, b.conclusion
        );
        let _ = writeln!(o, "| nr | ns/call |\n| --- | --- |");
        for (nr, ns) in &b.latencies {
            let _ = writeln!(o, "| {nr:#x} | {ns:.0} |");
        }
        let _ = writeln!(o);
    }
    for s in report.subjects.iter().filter(|s| s.table.is_some()) {
        let _ = writeln!(o, "### {}\n", md_escape(&s.label));
        let _ = writeln!(o, "| ABI | syscall numbers | served by cache | worst path (insns) | mean path of the rest |\n| --- | --- | --- | --- | --- |");
        for a in s.table.as_ref().into_iter().flatten() {
            let _ = writeln!(o, "| {} | {} | {} | {} | {:.1} |", md_escape(&a.arch.to_string()), a.syscalls, a.cached, a.worst, a.mean_uncached_max);
        }
        let _ = writeln!(o, "\n| hot syscall | nr | cached | instructions min–max |\n| --- | --- | --- | --- |");
        for h in &s.hot {
            let _ = writeln!(o, "| {} | {} | {} | {}–{} |", md_escape(&h.syscall), h.nr, if h.cached { "yes" } else { "no" }, h.min, h.max);
        }
        for d in &s.decisions {
            if let Verdict::Skipped { reason } | Verdict::Denied { action: reason } = &d.verdict {
                let _ = writeln!(o, "\n- {}: {}", d.probe.name(), md_escape(reason));
            }
        }
        let _ = writeln!(o);
    }
    o
}

/// Write `README.md`, `overhead.svg`, `scaling.svg`, `model.svg` and
/// `report.json` into `dir`, each replaced whole (temporary file and rename,
/// never through a link: `crate::output`).
pub fn write(report: &Report, dir: &OutDir) -> Result<(), ReportError> {
    for (_, file, svg) in drawn(report)? {
        dir.write(file, svg.as_bytes())?;
    }
    dir.write("README.md", markdown(report).as_bytes())?;
    let json = serde_json::to_string_pretty(report).expect("report serializes");
    dir.write("report.json", (json + "\n").as_bytes())?;
    Ok(())
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
            let title = format!("{threads} concurrent process{}: ns per call, median ± half-IQR over {} interleaved rounds", if threads == 1 { "" } else { "es" }, report.options.rounds);
            let mut header = vec!["filter".to_string()];
            header.extend(probes.iter().map(|p| p.name()));
            let rows = report
                .subjects
                .iter()
                .map(|s| {
                    let mut line = vec![if s.kind == SubjectKind::Baseline { "no filter (latency)".into() } else { s.label.clone() }];
                    for &p in &probes {
                        line.push(report.rows.iter().find(|r| r.subject == s.label && r.probe == p && r.threads == threads).map(cell).unwrap_or_else(|| "skipped".into()));
                    }
                    line
                })
                .collect();
            (title, header, rows)
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
        let r = crate::overhead::tests::synthetic_report(&[1, 2]);
        let t = text(&r);
        assert!(t.contains("1 concurrent process(es)") && t.contains("2 concurrent process(es)"), "{t}");
        assert!(t.contains("no filter (latency)") && t.contains("ld [0]; ret ALLOW") && t.contains("test"));
        assert!(t.contains("+56 ±1") || t.contains("+56"), "read overhead 40 + 15 + 1.2: {t}");
        assert!(t.contains("write not measured: KILL_PROCESS"), "{t}");
        let md = markdown(&r);
        for needle in ["## Machine", "load while measuring", "## Noise", "## Cost model", "(overhead.svg)", "(denied)", "regenerate with"] {
            assert!(md.contains(needle), "missing {needle}:\n{md}");
        }
    }

    #[test]
    fn writes_svgs_with_text_labels() {
        let r = crate::overhead::tests::synthetic_report(&[1, 2]);
        let dir = tempfile::tempdir().unwrap();
        write(&r, &crate::output::Outputs::new().dir(dir.path()).unwrap()).unwrap();
        for f in ["overhead.svg", "scaling.svg", "model.svg"] {
            let svg = std::fs::read_to_string(dir.path().join(f)).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("<text"), "{f}");
        }
        let bars = std::fs::read_to_string(dir.path().join("overhead.svg")).unwrap();
        assert!(bars.contains("openat+close") && bars.contains("ld [0]; ret ALLOW"));
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
        assert!(json["rows"].as_array().unwrap().len() > 10);
        assert!(std::fs::read_to_string(dir.path().join("README.md")).unwrap().starts_with("# Filter overhead"));
    }
}
