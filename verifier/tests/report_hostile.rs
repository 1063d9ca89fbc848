//! `seccheck report` on inputs named by an attacker: the filter's file name,
//! the policy's and the older filter's carry a line break with a `## Approved`
//! heading, raw HTML, backticks, table pipes and a `javascript:` link. The
//! PR comment keeps its headings, tables and HTML; the page shows the names
//! as text. (Before, the name's line break ended the code span and the
//! heading and `<script>` landed in the comment.)

use std::path::Path;
use std::process::Command;

/// A file name cannot hold `/`, so the script tag stays open.
const HOSTILE: &str = "x\n## Approved\n<script>alert(1) `a` | b | [l](javascript:alert(1)) @team";

const FILTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/compiled/docker_default.x86_64.opt1.bpf");
const OLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/compiled/docker_default.x86_64.opt2.bpf");
const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/policies/docker_default.toml");

fn report(dir: &Path, filter: &str, policy: &str, older: &str, out: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(dir)
        .args(["report", filter, "--policy", policy, "--against", older, "-o", out])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(dir.join(out)).unwrap()
}

#[test]
fn hostile_file_names_stay_text_in_markdown_and_html() {
    let d = tempfile::tempdir().unwrap();
    for (name, from) in [("f", FILTER), ("p", POLICY), ("o", OLDER)] {
        std::fs::copy(from, d.path().join(format!("{name}{HOSTILE}"))).unwrap();
        std::fs::copy(from, d.path().join(format!("{name}-plain"))).unwrap();
    }
    let [f, p, o] = ["f", "p", "o"].map(|n| format!("{n}{HOSTILE}"));
    let md = report(d.path(), &f, &p, &o, "hostile.md");
    let plain = report(d.path(), "f-plain", "p-plain", "o-plain", "plain.md");
    // The same lines, each with the same table columns and headings.
    assert_eq!(md.lines().count(), plain.lines().count(), "{md}");
    for (h, b) in md.lines().zip(plain.lines()) {
        assert_eq!(h.matches('|').count(), b.matches('|').count(), "{h}\n{b}");
        assert_eq!(h.starts_with('#'), b.starts_with('#'), "{h}\n{b}");
    }
    assert!(!md.contains("<script") && !md.contains("](javascript") && !md.contains("@team"), "{md}");
    assert!(md.starts_with("## ❌ FAIL seccheck: <code>fx\u{240a}&#35;&#35; Approved\u{240a}&#60;script&#62;"), "{md}");

    let html = report(d.path(), &f, &p, &o, "hostile.html");
    assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
    assert!(
        html.contains("fx\n## Approved\n&lt;script&gt;alert(1) `a` | b | [l](javascript:alert(1)) @team"),
        "the name as text"
    );
    assert!(!html.contains("href=\"javascript"));
}
