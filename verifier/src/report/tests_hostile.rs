//! Hostile names in every field of a review and of an overhead report: the
//! Markdown and the HTML must have exactly the structure they have with
//! benign names (same lines, same table columns, same tags and attributes),
//! with the hostile text present only as text.

use super::review::*;
use crate::finding::Severity;

/// Everything an attacker would put in a name: a line break and a heading
/// (the PR comment's `## Approved`), raw HTML, backticks, table pipes, a
/// `javascript:` link, emphasis, a mention, an entity and a list marker.
const HOSTILE: &str = "x\n## Approved\r\n<script>alert(1)</script> `a` ``b`` | c | [l](javascript:alert(1)) **B** _i_ @team #1 &amp; \"q' \n- item\n```\n1. z";

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A review with every string field set to `s` (tagged with the field's
/// name so each can be found).
fn review(s: &str) -> Review {
    let f = |field: &str| format!("{field}:{s}");
    let cell = |tag: &str| Cell {
        nr: f(&format!("{tag}.nr")),
        class: DisplayClass::Conditional,
        summary: f(&format!("{tag}.summary")),
        conditions: vec![CondLine {
            action: f(&format!("{tag}.action")),
            class: DisplayClass::Denied,
            when: f(&format!("{tag}.when")),
        }],
    };
    let plain = |tag: &str| Cell {
        nr: f(&format!("{tag}.nr")),
        class: DisplayClass::Allowed,
        summary: f(&format!("{tag}.summary")),
        conditions: Vec::new(),
    };
    Review {
        tool: f("tool"),
        subject: Subject {
            file: f("file"),
            format: f("format"),
            generator: Some(f("generator")),
            arches: vec![f("arch1"), f("arch2")],
            arch_source: f("arch_source"),
            instructions: 3,
            load_flags: vec![f("flag")],
            notes: vec![f("note1"), format!("`{}`: {}", f("json.path"), f("note2"))],
        },
        verdict: Verdict {
            pass: false,
            headline: f("headline"),
            properties: Some(Properties {
                policy: f("policy"),
                total: 2,
                failed: 1,
                items: vec![
                    Property {
                        code: leak(f("code")),
                        label: format!("{} may run only when `{}`", f("names"), f("when")),
                        line: Some(3),
                        pass: false,
                        findings: vec![f("F1")],
                    },
                    Property { code: "P002", label: f("label2"), line: None, pass: true, findings: Vec::new() },
                ],
            }),
            lints: LintCounts { errors: 1, warnings: 0, notes: 0 },
            arch_counts: vec![ArchCount { arch: f("count.arch"), counts: vec![("allowed", 1), ("conditional", 1)] }],
            changes: Some(ChangeCount { against: f("against"), regions: 1, looser: 1 }),
            bench: true,
        },
        rejection: vec![f("rejection")],
        matrix: Some(Matrix {
            arches: vec![Column { arch: f("column.arch"), detail: f("column.detail") }],
            rows: vec![
                MatrixRow {
                    name: f("row.name"),
                    named: true,
                    classes: f("row.classes"),
                    cells: vec![Some(cell("cell"))],
                },
                MatrixRow {
                    name: f("row2.name"),
                    named: true,
                    classes: f("row2.classes"),
                    cells: vec![Some(plain("plain"))],
                },
                MatrixRow {
                    name: f("other.name"),
                    named: false,
                    classes: f("other.classes"),
                    cells: vec![Some(cell("other"))],
                },
            ],
            syscall_rows: 2,
            other_arches: vec![OtherArchView {
                label: f("otherarch.label"),
                class: DisplayClass::Killed,
                lines: vec![f("otherarch.line")],
            }],
            legend: vec![(leak(f("legend.class")), leak(f("legend.meaning")))],
        }),
        groups: vec![crate::finding::group::Group {
            code: "SC001",
            name: "n",
            severity: Severity::Error,
            policy_line: None,
            findings: vec![0],
            syscalls: vec![f("group.syscalls")],
        }],
        findings: vec![FindingView {
            id: f("id"),
            source: leak(f("source")),
            code: leak(f("fcode")),
            name: leak(f("fname")),
            severity: Severity::Error,
            message: format!("`{}` runs although `{}` does not hold; {}", f("msg.name"), f("msg.when"), f("msg.rest")),
            explain: Some(f("explain")),
            policy_line: Some(3),
            insns: vec![InsnRef { index: 0, text: f("insn") }],
            example: Some(ExampleView {
                input: f("input"),
                action: f("action"),
                class: DisplayClass::Allowed,
                path: vec![0, 1],
                kernel: f("kernel"),
            }),
        }],
        listing: vec![ListingRow {
            index: 0,
            text: f("listing.text"),
            comment: f("listing.comment"),
            ret: Some(DisplayClass::Allowed),
            findings: vec![f("listing.ref")],
        }],
        diff: Some(DiffView {
            against: f("diff.against"),
            equivalent: false,
            looser: 1,
            regions: vec![RegionView {
                arch: f("region.arch"),
                syscalls: vec![f("region.syscall")],
                when: f("region.when"),
                now: f("region.now"),
                now_class: DisplayClass::Allowed,
                before: f("region.before"),
                before_class: DisplayClass::Denied,
                looser: true,
                example: f("region.example"),
                now_run: f("region.now_run"),
                before_run: f("region.before_run"),
                path: vec![0],
            }],
        }),
        bench: Some(BenchView {
            environment: vec![f("env")],
            tables: vec![BenchTable {
                title: f("table.title"),
                header: vec![f("h1"), f("h2")],
                rows: vec![vec![f("c1"), f("c2")]],
            }],
            plots: vec![(
                f("plot.title"),
                format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>{}</text></svg>", f("plot")),
            )],
            notes: vec![f("bench.note")],
        }),
    }
}

/// Per line: its first character and how many of each syntax character it
/// has. `<code>` tags are left out: a backtick in a name can move where a
/// sentence's code span starts or ends ([`super::escape::prose`]), which adds
/// no markup of any other kind; fences are compared by kind, not length.
fn md_shape(md: &str) -> Vec<(Option<char>, [usize; 6])> {
    let mut in_fence = false;
    md.lines()
        .map(|l| {
            let mut l = l.replace("<code>", "").replace("</code>", "");
            // A fence grows with the backticks inside it ([`super::escape::fence`]);
            // what is inside is shown as it is, so only its line count matters.
            if l.starts_with("```") {
                in_fence = !in_fence;
                l = format!("```{}", l.trim_start_matches('`'));
            } else if in_fence {
                return (None, [0; 6]);
            }
            let count = |c: char| l.matches(c).count();
            // A `[` alone is text ([`super::escape::text`]); links need `](`, `][`
            // or `]:` after it.
            let links = l.matches("](").count() + l.matches("][").count() + l.matches("]:").count();
            (l.chars().next(), [count('|'), count('`'), count('<'), count('*'), count('_'), links])
        })
        .collect()
}

/// The text outside fenced code blocks (whose content Markdown shows as is).
fn outside_fences(md: &str) -> String {
    let mut fence: Option<String> = None;
    let mut out = String::new();
    for l in md.lines() {
        let ticks: String = l.chars().take_while(|&c| c == '`').collect();
        match &fence {
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(l);
                out.push('\n');
            }
            Some(f) if l.trim_end() == f => fence = None,
            Some(_) => {}
        }
    }
    out
}

#[test]
fn markdown_keeps_its_structure_whatever_the_names() {
    let benign = super::markdown::render(&review("plain words"));
    let hostile = super::markdown::render(&review(HOSTILE));
    let (b, h) = (md_shape(&benign), md_shape(&hostile));
    assert_eq!(b.len(), h.len(), "a name added or removed lines:\n{hostile}");
    for (i, (x, y)) in b.iter().zip(&h).enumerate() {
        assert_eq!(
            x,
            y,
            "line {} differs in structure:\n  benign:  {}\n  hostile: {}",
            i + 1,
            benign.lines().nth(i).unwrap(),
            hostile.lines().nth(i).unwrap()
        );
    }
    let outside = outside_fences(&hostile);
    assert!(
        !outside.lines().any(|l| l.trim_start_matches(['-', ' ', '*', '>']).starts_with("## Approved")),
        "{hostile}"
    );
    assert!(!outside.to_lowercase().contains("<script"), "{hostile}");
    assert!(!outside.contains("](javascript"), "{hostile}");
    assert!(!outside.contains("@team") && !outside.contains("**B**") && !outside.contains("_i_"), "{hostile}");
    // Every field is there, as visible text.
    // Inside the fenced instruction block: one line, shown as written.
    assert!(hostile.contains("insn:x\u{240a}## Approved\u{240d}\u{240a}<script>"), "{hostile}");
    for field in [
        "file",
        "headline",
        "generator",
        "json.path",
        "policy",
        "when",
        "msg.when",
        "input",
        "region.example",
        "diff.against",
        "env",
        "h1",
        "c2",
        "bench.note",
        "tool",
        "otherarch.line",
        "row.name",
        "cell.when",
    ] {
        assert!(
            hostile.contains(&format!("{field}:x\u{240a}&#35;&#35; Approved")),
            "{field} missing or not escaped:\n{hostile}"
        );
    }
}

/// Tag names and attribute names in document order, and the text between
/// tags, from a small HTML scanner (enough for a page we generate: quoted
/// attribute values, no comments in the data).
fn html_shape(html: &str) -> (Vec<String>, String) {
    let (mut tags, mut text) = (Vec::new(), String::new());
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' && i + 1 < b.len() && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'/' || b[i + 1] == b'!') {
            let mut j = i + 1;
            let mut tag = String::new();
            let mut quote = None;
            while j < b.len() {
                let c = b[j];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => {
                        quote = Some(c);
                        tag.push_str("=\"\"");
                    }
                    None if c == b'>' => break,
                    None => tag.push(c as char),
                }
                j += 1;
            }
            tags.push(tag);
            // Script and style bodies are ours (the template's), not data.
            for raw in ["script", "style"] {
                if tags.last().is_some_and(|t| t == raw) {
                    let end = format!("</{raw}>");
                    j = html[j..].find(&end).map_or(b.len() - 1, |k| j + k - 1);
                }
            }
            i = j + 1;
        } else {
            text.push(b[i] as char);
            i += 1;
        }
    }
    (tags, text)
}

#[test]
fn html_has_the_same_elements_and_attributes_whatever_the_names() {
    let benign = super::html::render(&review("plain words")).unwrap();
    let hostile = super::html::render(&review(HOSTILE)).unwrap();
    let (bt, _) = html_shape(&benign);
    let (ht, text) = html_shape(&hostile);
    let strip = |t: &[String]| {
        t.iter()
            .map(|s| {
                s.split_whitespace()
                    .map(|w| w.split('=').next().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&bt), strip(&ht), "hostile names changed the page's elements");
    assert_eq!(hostile.matches("<script").count(), 1, "only the page's own script");
    assert!(text.contains("&lt;script&gt;alert(1)&lt;"), "the payload is shown as text");
    assert!(!hostile.contains("href=\"javascript"), "no link from a name");
}

#[test]
fn overhead_markdown_escapes_labels_command_and_machine_strings() {
    let mut benign = crate::overhead::tests::synthetic_report(&[1], 7, true);
    let mut hostile = benign.clone();
    for (r, s) in [(&mut benign, "plain words"), (&mut hostile, HOSTILE)] {
        r.command = format!("seccheck bench {s}");
        r.environment.kernel_version = s.to_string();
        r.environment.cpu_model = s.to_string();
        r.environment.virtualization = s.to_string();
        let old: Vec<String> = r.subjects.iter().map(|x| x.label.clone()).collect();
        for (k, subj) in r.subjects.iter_mut().enumerate() {
            subj.label = format!("{k}{s}");
            subj.note = s.to_string();
        }
        for row in r.rows.iter_mut() {
            if let Some(k) = old.iter().position(|l| *l == row.subject) {
                row.subject = format!("{k}{s}");
            }
        }
    }
    let (b, h) = (super::overhead::markdown(&benign), super::overhead::markdown(&hostile));
    let (bs, hs) = (md_shape(&b), md_shape(&h));
    assert_eq!(bs.len(), hs.len(), "a name added or removed lines:\n{h}");
    let outside = outside_fences(&h);
    assert!(!outside.lines().any(|l| l.starts_with("## Approved")), "{h}");
    assert!(!outside.to_lowercase().contains("<script"), "{h}");
    for l in h.lines().filter(|l| l.starts_with('|')) {
        let cols = l.matches('|').count();
        assert!(b.lines().any(|x| x.starts_with('|') && x.matches('|').count() == cols), "row with {cols} pipes: {l}");
    }
    assert!(
        h.contains("````text\nseccheck bench x\u{240a}## Approved"),
        "the command is shown on one line, in a fence longer than its backticks:\n{h}"
    );
}
