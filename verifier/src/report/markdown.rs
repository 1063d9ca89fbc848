//! The review as GitHub-flavoured Markdown, for a pull-request comment.
//!
//! Why it exists next to the HTML page: a reviewer of a profile change reads
//! the PR first. The comment keeps to what fits there: the verdict and small
//! count tables in the open, everything long (findings, the per-arch syscall
//! lists, the diff regions, the overhead tables) in `<details>` sections, and
//! no full disassembly — each finding quotes the instructions it involves.
//! GitHub refuses comments over 65,536 characters; [`render`] stays well under
//! that for real profiles and says so in the comment when it had to cut.

use super::review::{Cell, DisplayClass, FindingView, Matrix, Review};
use std::fmt::Write as _;

/// Longest comment GitHub accepts (characters).
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

// Every value from the review goes through `super::escape` (see its `//!`
// for the scheme): `esc` for sentences that mark code with backticks, `code`
// for values, `text` for plain labels, `fence` and `one_line` for blocks.
use super::escape::{cell, code, fence, one_line, prose as esc, text};

/// `0 1 2 … 998 999`: at most 24 indices.
fn path_text(path: &[usize]) -> String {
    let show = |p: &[usize]| p.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
    if path.len() <= 24 {
        show(path)
    } else {
        format!("{} … {} ({} instructions)", show(&path[..12]), show(&path[path.len() - 6..]), path.len())
    }
}

fn plural(n: usize, w: &str) -> String {
    format!("{n} {w}{}", if n == 1 { "" } else { "s" })
}

fn details(out: &mut String, summary: &str, body: &str) {
    let _ = write!(out, "<details><summary>{summary}</summary>\n\n{body}\n</details>\n\n");
}

fn finding(f: &FindingView) -> String {
    let mut b = String::new();
    if let Some(e) = &f.explain {
        let _ = writeln!(b, "_{}_\n", esc(e));
    }
    if let Some(l) = f.policy_line {
        let _ = writeln!(b, "- policy line {l}");
    }
    if let Some(x) = &f.example {
        let kernel = if x.kernel.is_empty() { String::new() } else { format!(" (kernel {})", text(&x.kernel)) };
        let _ = writeln!(b, "- example: {} → **{}**{kernel}", code(&x.input), text(&x.action));
        let _ = writeln!(b, "- path: {}", path_text(&x.path));
    }
    if !f.insns.is_empty() {
        let body: String = f.insns.iter().map(|r| format!("{:>5}: {}\n", r.index, one_line(&r.text))).collect();
        let _ = write!(b, "\n{}", fence("text", &body));
    }
    b
}

fn cell_line(c: &Cell) -> String {
    c.conditions.iter().map(|l| format!("{} when {}", text(&l.action), code(&l.when))).collect::<Vec<_>>().join("; ")
}

/// Per column: syscalls grouped by their (unconditional) action, then each
/// conditional one with its conditions, then the unnamed numbers.
fn arch_section(out: &mut String, m: &Matrix, col: usize, counts: &str) {
    let mut groups: Vec<(String, DisplayClass, Vec<&str>)> = Vec::new();
    let mut conditional: Vec<(&str, &Cell)> = Vec::new();
    for r in m.rows.iter().filter(|r| r.named) {
        let Some(c) = &r.cells[col] else { continue };
        if !c.conditions.is_empty() {
            conditional.push((&r.name, c));
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == c.summary) {
            Some(g) => g.2.push(&r.name),
            None => groups.push((c.summary.clone(), c.class, vec![&r.name])),
        }
    }
    groups.sort_by_key(|g| (g.1, std::cmp::Reverse(g.2.len())));
    let mut b = String::new();
    if let ([(action, _, names)], true) = (groups.as_slice(), conditional.is_empty()) {
        let _ = writeln!(b, "**{}** for all {} syscall names\n", text(action), names.len());
        groups.clear();
    }
    for (action, _, names) in &groups {
        let _ = writeln!(b, "**{}** ({}): {}\n", text(action), names.len(), text(&names.join(", ")));
    }
    if !conditional.is_empty() {
        let _ = writeln!(b, "**depends on the arguments** ({}):\n", conditional.len());
        for (name, c) in &conditional {
            let _ = writeln!(b, "- {}: {}", code(name), cell_line(c));
        }
        b.push('\n');
    }
    if let Some(Some(c)) = m.rows.iter().find(|r| !r.named).map(|r| &r.cells[col]) {
        if c.conditions.is_empty() {
            let _ = writeln!(b, "**other numbers**: {}", text(&c.summary));
        } else {
            let _ = writeln!(b, "**other numbers**:\n");
            for l in &c.conditions {
                let _ = writeln!(b, "- {}: {}", code(&l.when), text(&l.action));
            }
        }
    }
    details(
        out,
        &format!("<b>{}</b> ({}): {}", text(&m.arches[col].arch), text(&m.arches[col].detail), text(counts)),
        &b,
    );
}

/// The comment.
pub fn render(r: &Review) -> String {
    let v = &r.verdict;
    let mut out = String::new();
    let _ = writeln!(out, "## {} seccheck: {}\n", if v.pass { "✅ PASS" } else { "❌ FAIL" }, code(&r.subject.file));
    let _ = writeln!(out, "**{}**\n", esc(&v.headline));
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| format | {} |", esc(&r.subject.format));
    if let Some(g) = &r.subject.generator {
        let _ = writeln!(out, "| generator | {} |", esc(g));
    }
    let arches = if r.subject.arches.is_empty() { "—".to_string() } else { r.subject.arches.join(", ") };
    let arches = text(&arches);
    let _ = writeln!(out, "| arches | {arches} ({}) |", esc(&r.subject.arch_source));
    let _ = writeln!(out, "| instructions | {} |", r.subject.instructions);
    if let Some(c) = &v.changes {
        let _ = writeln!(
            out,
            "| changes | {} region{} differ from {}, {} less strict |",
            c.regions,
            if c.regions == 1 { "" } else { "s" },
            code(&c.against),
            c.looser
        );
    }
    let _ = writeln!(
        out,
        "| lints | {}, {}, {} |\n",
        plural(v.lints.errors, "error"),
        plural(v.lints.warnings, "warning"),
        plural(v.lints.notes, "note")
    );
    if !r.subject.notes.is_empty() {
        let body: String = r.subject.notes.iter().map(|n| format!("- {}\n", esc(n))).collect();
        details(&mut out, &format!("What the generator did silently ({})", r.subject.notes.len()), &body);
    }
    if !r.rejection.is_empty() {
        let _ = writeln!(out, "### The kernel refuses this filter\n");
        for x in &r.rejection {
            let _ = writeln!(out, "- {}", esc(x));
        }
        out.push('\n');
    }
    if let Some(p) = &v.properties {
        let mut b = String::from("| property | policy line | result |\n| --- | --- | --- |\n");
        for it in &p.items {
            let res =
                if it.pass { "holds".to_string() } else { format!("**fails**: {}", text(&it.findings.join(", "))) };
            let _ = writeln!(
                b,
                "| {} ({}) | {} | {res} |",
                esc(&it.label),
                text(it.code),
                it.line.map(|l| l.to_string()).unwrap_or_default()
            );
        }
        details(
            &mut out,
            &format!("Properties of {}: {} of {} hold", code(&p.policy), p.total - p.failed, p.total),
            &b,
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "### Findings ({})\n", r.findings.len());
        // Most severe first; one entry per kind (finding::group).
        for g in &r.groups {
            if let [i] = g.findings[..] {
                let f = &r.findings[i];
                let summary = format!(
                    "{} {} {}: {}",
                    text(&f.severity.to_string()),
                    text(&f.id),
                    code(&format!("{} {}", f.code, f.name)),
                    esc(&f.message)
                );
                details(&mut out, &summary, &finding(f));
                continue;
            }
            let line = g.policy_line.map(|l| format!(", policy line {l}")).unwrap_or_default();
            let summary = format!(
                "{} ×{} {}{}: {}",
                text(&g.severity.to_string()),
                g.findings.len(),
                code(&format!("{} {}", g.code, g.name)),
                text(&line),
                esc(&g.syscalls.join("; "))
            );
            let mut body = String::new();
            for &i in &g.findings {
                let f = &r.findings[i];
                let _ = writeln!(body, "- {}: {}", text(&f.id), esc(&f.message));
            }
            let _ = writeln!(body);
            body += &finding(&r.findings[g.findings[0]]);
            details(&mut out, &summary, &body);
        }
    }
    if let Some(m) = &r.matrix {
        let _ = writeln!(out, "### Syscalls ({} names; exact, for every argument value)\n", m.syscall_rows);
        let classes: Vec<DisplayClass> = DisplayClass::ALL.to_vec();
        let _ = writeln!(
            out,
            "| arch | {} |\n| --- |{}",
            classes.iter().map(|c| c.name()).collect::<Vec<_>>().join(" | "),
            " ---: |".repeat(classes.len())
        );
        for a in &v.arch_counts {
            let cells: Vec<String> = classes
                .iter()
                .map(|c| a.counts.iter().find(|x| x.0 == c.name()).map_or(0, |x| x.1).to_string())
                .collect();
            let _ = writeln!(out, "| {} | {} |", text(&a.arch), cells.join(" | "));
        }
        out.push('\n');
        for (col, a) in v.arch_counts.iter().enumerate() {
            let counts = a.counts.iter().map(|(c, n)| format!("{n} {c}")).collect::<Vec<_>>().join(", ");
            arch_section(&mut out, m, col, &counts);
        }
        for o in &m.other_arches {
            let _ = writeln!(out, "- **{}** ({}): {}", text(&o.label), o.class.name(), text(&o.lines.join("; ")));
        }
        if !m.other_arches.is_empty() {
            out.push('\n');
        }
    }
    if let Some(d) = &r.diff {
        let _ = writeln!(out, "### Changes against {}\n", code(&d.against));
        if d.equivalent {
            let _ = writeln!(out, "Equivalent: the same action on every input.\n");
        } else {
            let mut b = String::new();
            for g in &d.regions {
                let names = if g.syscalls.len() > 12 {
                    format!("{} and {} more", g.syscalls[..12].join(", "), g.syscalls.len() - 12)
                } else {
                    g.syscalls.join(", ")
                };
                let when = if g.when == "always" { String::new() } else { format!(" when {}", code(&g.when)) };
                let _ = writeln!(
                    b,
                    "- {}**{}**: {}{when}: {} → **{}** — e.g. {}",
                    if g.looser { "⚠️ less strict: " } else { "" },
                    text(&g.arch),
                    text(&names),
                    text(&g.before),
                    text(&g.now),
                    code(&g.example)
                );
            }
            details(
                &mut out,
                &format!("{} differ, {} less strict now", plural(d.regions.len(), "region"), d.looser),
                &b,
            );
        }
    }
    if let Some(bv) = &r.bench {
        let mut b = String::new();
        for e in &bv.environment {
            let _ = writeln!(b, "- {}", text(e));
        }
        for t in &bv.tables {
            let _ = writeln!(b, "\n**{}**\n", text(&t.title));
            let _ = writeln!(
                b,
                "| {} |\n|{}",
                t.header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "),
                " --- |".repeat(t.header.len())
            );
            for row in &t.rows {
                let _ = writeln!(b, "| {} |", row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
            }
        }
        for n in &bv.notes {
            let _ = writeln!(b, "\n{}", esc(n));
        }
        details(&mut out, "Overhead on this kernel (plots in the HTML report)", &b);
    }
    let _ = writeln!(
        out,
        "<sub>{} · the HTML report has the searchable matrix and the annotated disassembly</sub>",
        esc(&r.tool)
    );
    if out.chars().count() > GITHUB_COMMENT_LIMIT {
        let mut cut: String = out.chars().take(GITHUB_COMMENT_LIMIT - 300).collect();
        if let Some(p) = cut.rfind("\n<details>") {
            cut.truncate(p);
        }
        let _ = write!(cut, "\n\n**Cut here: the full comment would exceed GitHub's {GITHUB_COMMENT_LIMIT}-character limit; see the HTML report.**\n");
        return cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_are_shortened() {
        let p: Vec<usize> = (0..30).collect();
        assert_eq!(path_text(&p), "0 1 2 3 4 5 6 7 8 9 10 11 … 24 25 26 27 28 29 (30 instructions)");
        assert_eq!(path_text(&[1, 2]), "1 2");
    }
}
