//! The HTML report in a real browser: headless Chromium (Debian's `chromium`
//! package; `.ci/install-deps` installs it) opens the page from `file://`,
//! runs its script, and the test reads the DOM it leaves: the verdict is
//! there, the matrix has one row per syscall name of the filter's ABIs plus
//! the `other numbers` row, the filter box filters (`?q=`), and no script
//! error happened (the page records `window.onerror` in `data-js-errors`, and
//! Chromium's console log on stderr is empty). A screenshot is written to
//! `CARGO_TARGET_TMPDIR/report-docker_default.png` for a person to look at.
//!
//! Without a browser the test is recorded as skipped (`testgen::skip`:
//! counted by `.ci/run`, a failure under `SECCHECK_REQUIRE_BROWSER=1`).

use seccheck::arch::Arch;
use seccheck::testgen::skip::{skip, Need};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::time::{Duration, Instant};

fn browser() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("SECCHECK_BROWSER") {
        return Some(PathBuf::from(b));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Run the browser headless on `url` with `extra` flags; kill it after two
/// minutes (a hung browser must fail the test, not hang it). Its output goes
/// to files: a DOM larger than a pipe's buffer would block it otherwise.
fn headless(browser: &Path, profile: &Path, url: &str, extra: &[&str]) -> Output {
    let out_path = profile.with_extension("stdout");
    let err_path = profile.with_extension("stderr");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("browser starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Output {
                status,
                stdout: std::fs::read(&out_path).unwrap(),
                stderr: std::fs::read(&err_path).unwrap(),
            };
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the browser did not finish in 120 s on {url}: {}",
                String::from_utf8_lossy(&std::fs::read(&err_path).unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of attribute `name` on the first tag named `tag`.
fn attr(dom: &str, tag: &str, name: &str) -> Option<String> {
    let start = dom.find(&format!("<{tag} "))?;
    let end = start + dom[start..].find('>')?;
    let t = &dom[start..end];
    let i = t.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(t[i..].split('"').next()?.to_string())
}

/// Chromium prints console messages (and uncaught errors) as `CONSOLE` lines.
fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr).lines().filter(|l| l.contains("CONSOLE")).map(str::to_string).collect()
}

#[test]
fn the_report_renders_in_chromium_without_errors() {
    let Some(browser) = browser() else {
        skip(Need::Browser, "no chromium in PATH (apt-get install -y chromium, or set SECCHECK_BROWSER)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let d = tempfile::tempdir().unwrap();
    let page = d.path().join("docker_default.html");
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(root)
        .args(["report", "corpus/profiles/docker_default.json"])
        .args([
            "--policy",
            "reports/examples/docker_default.policy.toml",
            "--against",
            "corpus/profiles/podman_containers_common.json",
        ])
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!("file://{}", page.display());
    let profile = d.path().join("profile");

    // The checking is real: a page with a script error shows up on stderr.
    let broken = d.path().join("broken.html");
    std::fs::write(&broken, "<!DOCTYPE html><html><body><script>no_such_function();</script></body></html>").unwrap();
    let o = headless(&browser, &profile, &format!("file://{}", broken.display()), &["--dump-dom"]);
    assert!(
        console_lines(&o.stderr).iter().any(|l| l.contains("Uncaught ReferenceError")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = headless(&browser, &profile, &url, &["--dump-dom", "--virtual-time-budget=3000"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout);
    assert_eq!(console_lines(&o.stderr), Vec::<String>::new(), "console messages");
    assert_eq!(attr(&dom, "body", "data-ready").as_deref(), Some("1"), "the script ran to its end");
    assert_eq!(attr(&dom, "body", "data-js-errors").as_deref(), Some("0"));
    assert_eq!(attr(&dom, "body", "data-verdict").as_deref(), Some("fail"));
    assert!(dom.contains("<p class=\"headline\" id=\"headline\">FAIL: 6 of 6 properties of reports/examples/docker_default.policy.toml hold; lints: 1 error, 1 warning, 3 notes;"), "verdict");
    let names: BTreeSet<&str> =
        [Arch::X86_64, Arch::X32, Arch::I386].iter().flat_map(|a| a.syscalls().iter().map(|&(_, n)| n)).collect();
    assert_eq!(
        attr(&dom, "body", "data-matrix-rows"),
        Some((names.len() + 1).to_string()),
        "matrix rows counted by the page's script"
    );
    assert!(dom.contains(&format!("data-syscall-rows=\"{}\"", names.len())));
    assert!(dom.contains(&format!("<span id=\"matrix-shown\">{}</span>", names.len() + 1)), "nothing filtered out");

    // ?q=openat: the script filters the matrix to openat and openat2.
    let o = headless(&browser, &profile, &format!("{url}?q=openat"), &["--dump-dom", "--virtual-time-budget=3000"]);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert_eq!(console_lines(&o.stderr), Vec::<String>::new());
    let want = names.iter().filter(|n| n.contains("openat")).count();
    assert_eq!(want, 2);
    assert!(dom.contains(&format!("<span id=\"matrix-shown\">{want}</span>")), "filtered count");
    assert_eq!(
        dom.matches("class=\"sc hidden\"").count() + dom.matches("class=\"sc other hidden\"").count(),
        names.len() + 1 - want
    );

    // ?only=conditional: the class buttons filter by the cells' classes; in
    // Docker's profile clone, personality and socket depend on their arguments.
    let o =
        headless(&browser, &profile, &format!("{url}?only=conditional"), &["--dump-dom", "--virtual-time-budget=3000"]);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert_eq!(console_lines(&o.stderr), Vec::<String>::new());
    let shown: Vec<&str> = dom
        .match_indices("<tr class=\"sc\" data-name=\"")
        .map(|(i, p)| dom[i + p.len()..].split('"').next().unwrap())
        .collect();
    assert_eq!(shown, vec!["clone", "personality", "socket"], "rows left visible");
    assert!(dom.contains("<button type=\"button\" class=\"c-allowed\" data-class=\"allowed\" aria-pressed=\"false\""));

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-docker_default.png");
    let _ = std::fs::remove_file(&shot);
    let o = headless(
        &browser,
        &profile,
        &url,
        &["--hide-scrollbars", "--window-size=1280,1800", &format!("--screenshot={}", shot.display())],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height.
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 1800));
    assert!(png.len() > 50_000, "a rendered page, not a blank one: {} bytes", png.len());
    eprintln!("screenshot: {}", shot.display());
}
