//! `seccheck report`: the HTML page's structure (every section, every anchor
//! resolving, every value escaped, nothing external), the matrix complete
//! against the arch tables, exit codes like `check`, the Markdown snapshot,
//! every bad-input path, and `--bench` on the running kernel.

use crate::common::kernel_gate;

use seccheck::arch::Arch;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn seccheck_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// x86_64 only (x32 and every other arch killed); read, write, exit_group
/// allowed, openat only read-only (low half of flags), the rest ERRNO(EPERM):
/// holds POLICY and draws no lint.
const CLEAN: &str = "
    ld [4]
    jeq #0xc000003e, arch_ok, kill
arch_ok:
    ld [0]
    jge #0x40000000, kill, nr
nr:
    jeq #0, allow, n1
n1: jeq #1, allow, n2
n2: jeq #231, allow, n3
n3: jeq #257, openat, deny
openat:
    ld [32]
    and #3
    jeq #0, allow, deny
allow:
    ret #0x7fff0000
deny:
    ret #0x50001
kill:
    ret #0x80000000
";

/// The same, but openat's flags compared on all 64 bits (SC008 warning), and
/// close allowed on top.
const OLDER: &str = "
    ld [4]
    jeq #0xc000003e, arch_ok, kill
arch_ok:
    ld [0]
    jge #0x40000000, kill, nr
nr:
    jeq #0, allow, n1
n1: jeq #1, allow, n2
n2: jeq #3, allow, n3
n3: jeq #231, allow, n4
n4: jeq #257, openat, deny
openat:
    ld [32]
    jset #3, deny, hi
hi: ld [36]
    jeq #0, allow, deny
allow:
    ret #0x7fff0000
deny:
    ret #0x50001
kill:
    ret #0x80000000
";

/// The policy of docs/design.md (shared with cli_check.rs).
const POLICY: &str = include_str!("common/design_policy.toml");

/// A temporary directory holding clean.bpf, older.bpf and policy.toml.
fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, src) in [("clean", CLEAN), ("older", OLDER)] {
        std::fs::write(d.path().join(format!("{name}.s")), src).unwrap();
        let o = seccheck_in(d.path(), &["asm", &format!("{name}.s"), "-o", &format!("{name}.bpf")]);
        assert!(o.status.success(), "{}", text(&o));
    }
    std::fs::write(d.path().join("policy.toml"), POLICY).unwrap();
    d
}

/// Every `id="…"` and every `href="#…"` of a page.
fn ids_and_links(html: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let grab = |pat: &str| -> BTreeSet<String> {
        html.match_indices(pat).map(|(i, _)| html[i + pat.len()..].split('"').next().unwrap().to_string()).collect()
    };
    (grab(" id=\""), grab("href=\"#"))
}

/// Nothing leaves the file: no external script, style, image, font or link.
fn assert_self_contained(html: &str) {
    for bad in ["http://", "https://", "<link", "@import", "url("] {
        assert!(!html.contains(bad), "the page references `{bad}`");
    }
    for (i, _) in html.match_indices(" src=\"") {
        assert!(html[i + 6..].starts_with("data:"), "a src that is not inline: {}", &html[i..i + 60]);
    }
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// The syscall names of the given arches, together.
fn names_of(arches: &[Arch]) -> BTreeSet<&'static str> {
    arches.iter().flat_map(|a| a.syscalls().iter().map(|&(_, n)| n)).collect()
}

#[test]
fn a_passing_filter_gets_every_section_and_exit_0() {
    let d = setup();
    let o = seccheck_in(
        d.path(),
        &["report", "clean.bpf", "--policy", "policy.toml", "--against", "older.bpf", "-o", "r.html"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("clean.bpf: PASS: 6 of 6 properties of policy.toml hold; lints: 0 errors, 0 warnings, 0 notes; 2 regions changed from older.bpf (1 looser)"), "{out}");
    assert!(out.contains("(exit 0: no property violated, no lint warning or error); r.html written"), "{out}");
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&html);
    assert!(html.contains("<body data-verdict=\"pass\">"));
    assert!(html.contains("<span class=\"badge\">PASS</span>clean.bpf"));
    for section in
        ["id=\"verdict\"", "id=\"findings\"", "id=\"matrix\"", "id=\"diff\"", "id=\"disasm\"", "id=\"properties\""]
    {
        assert!(html.contains(section), "missing {section}");
    }
    assert!(!html.contains("id=\"bench\""), "no --bench, no overhead section");
    assert_eq!(count(&html, "<tr class=\"property pass\">"), 6);
    // The filter tells x86_64 and x32 apart from other arch values; i386 is
    // one of those (killed).
    assert!(
        html.contains(
            ">x86_64</th><th title=\"AUDIT_ARCH_X86_64 0xc000003e, nr with __X32_SYSCALL_BIT\">x32</th></tr>"
        ),
        "columns"
    );
    let names = names_of(&[Arch::X86_64, Arch::X32]);
    assert_eq!(count(&html, "<tr class=\"sc\" "), names.len(), "one matrix row per syscall name");
    assert_eq!(count(&html, "<tr class=\"sc other\" "), 1);
    assert!(html.contains(&format!("data-syscall-rows=\"{}\"", names.len())));
    // read: allowed on x86_64 (nr 0), killed on x32; openat conditional with
    // its conditions behind a <details>.
    assert!(html.contains("data-name=\"read\" data-classes=\"allowed killed\" data-nrs=\"0 0x40000000 \"><td class=\"name\">read</td><td class=\"c-allowed\"><span class=\"nr\">0</span>ALLOW</td>"), "read row");
    let openat = &html[html.find("data-name=\"openat\"").unwrap()..];
    let openat = &openat[..openat.find("</tr>").unwrap()];
    assert!(openat.contains("<td class=\"c-conditional\"><span class=\"nr\">257</span><details><summary>ERRNO(1) EPERM &#x2f; ALLOW</summary>"), "{openat}");
    assert!(openat.contains("ALLOW when (arg2 &amp; O_ACCMODE (0x3)) == O_RDONLY (0)</li>"), "{openat}");
    assert!(html.contains("i386, aarch64"), "other arches listed");
    // The diff: close was allowed before (now ERRNO), openat with high flag
    // bits was denied before (now allowed: less strict).
    assert!(html.contains("2 regions where this filter"));
    assert_eq!(count(&html, "<div class=\"region looser\">"), 1);
    assert!(html.contains("before ALLOW</span></span><span class=\"arrow\">→</span><span class=\"chips\"><span class=\"c-denied\">now ERRNO(1) EPERM"));
    // Every link lands on an anchor of the page.
    let (ids, links) = ids_and_links(&html);
    assert!(links.iter().all(|l| ids.contains(l)), "dangling: {:?}", links.difference(&ids).collect::<Vec<_>>());
    assert_eq!((0..14).filter(|i| ids.contains(&format!("i{i}"))).count(), 14, "one anchor per instruction");
    assert!(!ids.contains("i14"));
}

#[test]
fn findings_carry_examples_linked_to_the_listing_and_fail_with_exit_1() {
    let d = setup();
    let o = seccheck_in(d.path(), &["report", "older.bpf", "--policy", "policy.toml", "-o", "r.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(html.contains("<body data-verdict=\"fail\">"));
    // P005: close runs but no allow rule names it; SC008: openat's flags on 64 bits.
    let f = |id: &str| {
        let s = &html[html.find(&format!("id=\"{id}\"")).unwrap()..];
        s[..s.find("</div>\n<div class=\"finding").or_else(|| s.find("</section>")).unwrap()].to_string()
    };
    let p = f("F1");
    assert!(p.contains("P005 runs-outside-allow-rules") && p.contains("x86_64 close runs"), "{p}");
    assert!(p.contains("example: <code>x86_64 close(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) ip=0x0</code>"), "{p}");
    assert!(p.contains("<span class=\"c-allowed\">ALLOW</span>"), "{p}");
    let lint = f("F2");
    assert!(lint.contains("SC008 arg-high-half-unchecked") && lint.contains("(lint)"), "{lint}");
    assert!(lint.contains("data-path=\"0 1 2 3 4 5 6 7 8 9 10 11 12 14\""), "{lint}");
    assert!(lint.contains("<a href=\"#i12\">12</a>: jeq #0x0, 13, 14  ; arg2 high == 0x0"), "{lint}");
    // The listing line names the finding back.
    assert!(html.contains("<tr id=\"i12\" class=\"ref\">"), "instruction 12 is marked");
    assert!(html.contains("<a href=\"#F2\">F2</a>"));
    assert_eq!(count(&html, "<tr class=\"property fail\">"), 1);
    let (ids, links) = ids_and_links(&html);
    assert!(links.iter().all(|l| ids.contains(l)), "dangling: {:?}", links.difference(&ids).collect::<Vec<_>>());
}

#[test]
fn every_value_is_escaped() {
    let d = setup();
    let evil = "a<b>&\"x'.bpf";
    std::fs::copy(d.path().join("clean.bpf"), d.path().join(evil)).unwrap();
    let o = seccheck_in(d.path(), &["report", evil, "-o", "r.html"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(html.contains("a&lt;b&gt;&amp;&quot;x&#x27;.bpf"), "escaped name");
    assert!(!html.contains(evil) && !html.contains("a<b>"));
}

#[test]
fn a_filter_the_kernel_refuses_is_reported_as_such() {
    let d = tempfile::tempdir().unwrap();
    // ld [0] without a return: the last instruction must be a RET.
    std::fs::write(d.path().join("bad.bpf"), [0x20u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let o = seccheck_in(d.path(), &["report", "bad.bpf", "-o", "r.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL: the kernel refuses this filter (1 reason)"));
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(html.contains("<h2>The kernel refuses this filter</h2>"));
    assert!(html.contains("refused:"), "the listing says which instruction and why");
    assert!(!html.contains("id=\"matrix\""));
}

#[test]
fn markdown_for_a_pull_request() {
    let d = setup();
    let o = seccheck_in(
        d.path(),
        &["report", "older.bpf", "--policy", "policy.toml", "--against", "clean.bpf", "--no-kernel", "-o", "r.md"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let md = std::fs::read_to_string(d.path().join("r.md")).unwrap();
    assert!(!md.contains("kernel agrees"), "--no-kernel: not asked");
    // Long parts are collapsible; the open part is the verdict and two small tables.
    let open: String = md
        .split("<details>")
        .enumerate()
        .map(|(i, part)| if i == 0 { part } else { part.split("</details>").nth(1).unwrap_or("") })
        .collect();
    assert!(open.lines().filter(|l| l.starts_with('|')).count() <= 12, "{open}");
    assert_eq!(count(&md, "<details>"), count(&md, "</details>"));
    insta::assert_snapshot!(md);
}

#[test]
fn bad_input_is_one_line_exit_2_and_writes_nothing() {
    let d = setup();
    let run = |args: &[&str], needle: &str| {
        let o = seccheck_in(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.starts_with("seccheck: error: ") && e.contains(needle), "{args:?}: {e}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
        for f in ["r.txt", "r.html", "r.md"] {
            assert!(!d.path().join(f).exists(), "{args:?} wrote {f}");
        }
    };
    run(&["report", "clean.bpf", "-o", "r.txt"], "-o r.txt: cannot tell the format from the extension; expected .html, .htm or .md, or give --format html|markdown");
    run(&["report", "missing.bpf", "-o", "r.html"], "missing.bpf");
    std::fs::write(d.path().join("bad.toml"), "arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [\"nosuchcall\"]\n")
        .unwrap();
    run(&["report", "clean.bpf", "--policy", "bad.toml", "-o", "r.html"], "bad.toml: line 3, column");
    std::fs::write(d.path().join("refused.bpf"), [0x20u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    run(
        &["report", "clean.bpf", "--against", "refused.bpf", "-o", "r.html"],
        "refused.bpf: the kernel refuses this filter",
    );
    run(
        &["report", "clean.bpf", "--host-arch", "vax", "-o", "r.md"],
        "unknown arch `vax` in --host-arch; expected one of x86_64",
    );
    // Bench options without --bench are a usage error (clap's, several lines).
    let o = seccheck_in(d.path(), &["report", "clean.bpf", "--bench-rounds", "3", "-o", "r.html"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bench"), "{}", text(&o));
    assert!(!d.path().join("r.html").exists());
    // --format overrides the extension.
    let o = seccheck_in(d.path(), &["report", "clean.bpf", "-o", "r.txt", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(d.path().join("r.txt"))
        .unwrap()
        .starts_with("## ✅ PASS seccheck: <code>clean.bpf</code>"));
}

#[test]
fn docker_default_matrix_has_every_syscall_of_its_three_abis() {
    let d = tempfile::tempdir().unwrap();
    let profile = root().join("corpus/profiles/docker_default.json");
    let out = d.path().join("docker.html");
    let o = seccheck_in(d.path(), &["report", profile.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    // The lints find arguments compared on the wrong width (SC008), so it fails.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("<dt>generator</dt><dd>libseccomp 2.5.4 optimize=2 + runc ENOSYS stub</dd>"));
    assert!(html.contains("<dt>arches</dt><dd>x86_64, i386, x32"));
    let names = names_of(&[Arch::X86_64, Arch::X32, Arch::I386]);
    assert_eq!(count(&html, "<tr class=\"sc\" "), names.len());
    // clone is allowed only without namespace flags, on every ABI.
    let clone = &html[html.find("data-name=\"clone\"").unwrap()..];
    assert_eq!(count(&clone[..clone.find("</tr>").unwrap()], "class=\"c-conditional\""), 3);
    // Every instruction has its anchor; the page stays small enough to open at once.
    assert_eq!(count(&html, "<tr id=\"i"), 1260);
    assert!(html.len() < 1 << 20, "{} bytes", html.len());
}

#[test]
fn bench_puts_the_overhead_table_and_plots_in_the_page() {
    if !kernel_gate::kernel_usable() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    // Everything allowed on x86_64: the hot syscalls run and are measured.
    std::fs::write(
        d.path().join("allow.s"),
        "ld [4]\njeq #0xc000003e, ok, kill\nok: ret #0x7fff0000\nkill: ret #0x80000000\n",
    )
    .unwrap();
    let o = seccheck_in(d.path(), &["asm", "allow.s", "-o", "allow.bpf"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = seccheck_in(
        d.path(),
        &["report", "allow.bpf", "--bench", "--bench-threads", "1", "--bench-rounds", "2", "-o", "r.html"],
    );
    // SC002/SC004: x32 is open and everything is allowed; the verdict fails, the page is written.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert_self_contained(&html);
    let bench = &html[html.find("<section id=\"bench\">").expect("bench section")..];
    let bench = &bench[..bench.find("</section>").unwrap()];
    assert!(bench.contains("<th>filter</th><th>getpid</th>"), "{bench}");
    assert!(bench.contains("<td>no filter (latency)</td>") && bench.contains("<td>allow.bpf</td>"), "{bench}");
    assert!(
        count(bench, "<img alt=") >= 2 && bench.contains("src=\"data:image&#x2f;svg+xml;charset=utf-8,%3Csvg"),
        "{bench}"
    );
    assert!(bench.contains("kernel ") && bench.contains("load while measuring"), "{bench}");
}

/// The committed examples (reports/examples/, regenerate.sh) open offline and
/// show every section they were made with.
#[test]
fn committed_examples_show_every_section() {
    let dir = root().join("reports/examples");
    for (name, sections) in [
        ("docker_default", &["verdict", "properties", "findings", "matrix", "diff", "disasm"][..]),
        ("seed_backend_denylist", &["verdict", "properties", "findings", "matrix", "disasm"][..]),
    ] {
        let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap();
        assert_self_contained(&html);
        for s in sections {
            assert!(html.contains(&format!(" id=\"{s}\"")), "{name}.html: no {s}");
        }
        assert!(html.contains("<body data-verdict=\"fail\">"), "{name}.html");
        let (ids, links) = ids_and_links(&html);
        assert!(links.iter().all(|l| ids.contains(l)), "{name}.html");
        let md = std::fs::read_to_string(dir.join(format!("{name}.md"))).unwrap();
        let file = seccheck::report::escape::code(&format!("corpus/profiles/{name}.json"));
        assert!(md.starts_with(&format!("## ❌ FAIL seccheck: {file}")), "{name}.md");
        assert!(md.len() < 65_536 && md.contains("### Findings") && md.contains("### Syscalls"), "{name}.md");
    }
}

/// Each action lands in its class; a filter that never tests `arch` gets the
/// arch it is assumed to be for (--host-arch) as its column, the rest listed
/// below the matrix.
#[test]
fn cells_are_coloured_by_action_class() {
    let d = tempfile::tempdir().unwrap();
    let src = "ld [0]\njeq #0, log, n1\nn1: jeq #1, notif, n2\nn2: jeq #39, trace, n3\nn3: jeq #3, trap, n4\nn4: jeq #60, allow, kill\n\
               log: ret #0x7ffc0000\nnotif: ret #0x7fc00000\ntrace: ret #0x7ff00007\ntrap: ret #0x00030002\nallow: ret #0x7fff0000\nkill: ret #0\n";
    std::fs::write(d.path().join("c.s"), src).unwrap();
    assert!(seccheck_in(d.path(), &["asm", "c.s", "-o", "c.bpf"]).status.success());
    let o = seccheck_in(d.path(), &["report", "c.bpf", "-o", "r.html"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(
        html.contains("<th title=\"AUDIT_ARCH_X86_64 0xc000003e, nr without __X32_SYSCALL_BIT\">x86_64</th></tr>"),
        "one column"
    );
    for (name, nr, class, action) in [
        ("read", 0, "logged", "LOG"),
        ("write", 1, "delegated", "USER_NOTIF"),
        ("getpid", 39, "delegated", "TRACE(7)"),
        ("close", 3, "denied", "TRAP(2)"),
        ("exit", 60, "allowed", "ALLOW"),
        ("mmap", 9, "killed", "KILL_THREAD"),
    ] {
        let want = format!("data-name=\"{name}\" data-classes=\"{class}\" data-nrs=\"{nr} \"><td class=\"name\">{name}</td><td class=\"c-{class}\"><span class=\"nr\">{nr}</span>{action}</td>");
        assert!(html.contains(&want), "{want}");
    }
    assert!(html.contains("<b>any other arch value (including x32, i386, aarch64"), "the other arches are listed");
    assert!(html.contains(
        "nr 1: USER_NOTIF; nr 3: TRAP(2); nr 39: TRACE(7); nr 60: ALLOW; every other syscall: KILL_THREAD</li>"
    ));
}

/// By default (as in check, lint and diff) the running kernel runs every
/// counterexample and agrees; `--confirm`, the old opt-in, is still accepted.
#[test]
fn confirm_asks_the_kernel_about_every_counterexample() {
    if !kernel_gate::kernel_usable() {
        return;
    }
    let d = setup();
    let o = seccheck_in(d.path(), &["report", "older.bpf", "--policy", "policy.toml", "-o", "r.md"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("; the kernel agrees on 2 of 2 counterexamples it ran"),
        "{}",
        text(&o)
    );
    let md = std::fs::read_to_string(d.path().join("r.md")).unwrap();
    let examples: Vec<&str> = md.lines().filter(|l| l.starts_with("- example: ")).collect();
    assert_eq!(examples.len(), 2, "{md}");
    assert!(examples.iter().all(|l| l.ends_with("(kernel agrees)")), "{examples:?}");
    let o = seccheck_in(d.path(), &["report", "older.bpf", "--confirm", "-o", "r.html"]);
    let html = std::fs::read_to_string(d.path().join("r.html")).unwrap();
    assert!(html.contains("<span class=\"count\">kernel agrees</span>"), "{}", text(&o));
}
