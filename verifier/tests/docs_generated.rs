//! Files generated from seccheck itself and committed: the man pages in
//! `docs/man/` (`seccheck man`, from the clap definitions) and the example
//! reports in `reports/examples/` (the commands of its `regenerate.sh`). Each
//! test regenerates into a temporary directory and fails when a committed
//! file differs; `SECCHECK_UPDATE_DOCS=1 cargo test --release -p seccheck --test it docs_generated`
//! rewrites them. The shell completions are generated too, and each shell
//! that is installed parses its script.

use crate::common::kernel_gate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seccheck_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().expect("run seccheck")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn update() -> bool {
    std::env::var_os("SECCHECK_UPDATE_DOCS").is_some()
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// The committed `wanted` files equal the regenerated `got` ones (same names,
/// same bytes), or, when updating, are replaced by them.
fn same_or_update(committed: &Path, got: &BTreeMap<String, Vec<u8>>, keep: impl Fn(&str) -> bool, how: &str) {
    let have: BTreeMap<String, Vec<u8>> = files(committed).into_iter().filter(|(n, _)| keep(n)).collect();
    if update() {
        for n in have.keys().filter(|n| !got.contains_key(*n)) {
            std::fs::remove_file(committed.join(n)).unwrap();
        }
        for (n, b) in got {
            std::fs::write(committed.join(n), b).unwrap();
        }
        return;
    }
    let stale: std::collections::BTreeSet<&String> =
        got.keys().chain(have.keys()).filter(|n| got.get(*n) != have.get(*n)).collect();
    assert!(
        stale.is_empty(),
        "{} is stale ({stale:?} differ, are missing or are extra): regenerate with SECCHECK_UPDATE_DOCS=1 cargo test --release -p seccheck --test it docs_generated ({how})",
        committed.display()
    );
}

#[test]
fn the_man_pages_are_current() {
    let d = tempfile::tempdir().unwrap();
    let o = seccheck_in(d.path(), &["man", "pages"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let got = files(&d.path().join("pages"));
    // One page per command, each naming its options.
    assert!(got.len() >= 20, "{:?}", got.keys());
    let table = String::from_utf8(got["seccheck-table.1"].clone()).unwrap();
    assert!(table.contains(".TH seccheck-table 1") && table.contains("\\-\\-syscall"), "{table}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), format!("pages: {} man pages written", got.len()));
    same_or_update(&root().join("docs/man"), &got, |n| n.ends_with(".1"), "seccheck man docs/man");
}

#[test]
fn completions_cover_every_subcommand_and_parse_in_their_shell() {
    let d = tempfile::tempdir().unwrap();
    for (shell, check) in [("bash", &["-n"][..]), ("zsh", &["-n"][..]), ("fish", &["--no-execute"][..])] {
        let o = seccheck_in(d.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        for word in ["fuzz-generator", "completions", "syscall", "allow-invalid"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        let file = d.path().join(format!("seccheck.{shell}"));
        std::fs::write(&file, &script).unwrap();
        match Command::new(shell).args(check).arg(&file).output() {
            Ok(r) => assert!(r.status.success(), "{shell} does not parse its script: {}", text(&r)),
            Err(_) => eprintln!("{shell} not installed: its script is not parsed"),
        }
    }
    let o = seccheck_in(d.path(), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `reports/examples/regenerate.sh`, run here: the committed examples are
/// what the current seccheck writes for them.
#[test]
fn the_example_reports_are_current() {
    // --confirm puts every counterexample to the kernel; its answers are in the pages.
    if !kernel_gate::kernel_usable() {
        return;
    }
    let root = root();
    let script = std::fs::read_to_string(root.join("reports/examples/regenerate.sh")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().to_str().unwrap();
    let mut got = BTreeMap::new();
    for fmt in ["html", "md"] {
        for (name, extra) in [
            ("docker_default", &["--against", "corpus/profiles/podman_containers_common.json"][..]),
            ("seed_backend_denylist", &[][..]),
        ] {
            let policy = format!("reports/examples/{name}.policy.toml");
            assert!(script.contains(&format!("--policy {policy}")), "regenerate.sh no longer makes {name}");
            let file = format!("{name}.{fmt}");
            let target = format!("{out}/{file}");
            let mut args = vec!["-q", "report", &*format!("corpus/profiles/{name}.json")]
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>();
            args.extend(["--policy".into(), policy.clone()]);
            args.extend(extra.iter().map(|s| s.to_string()));
            args.extend(["--confirm".into(), "-o".into(), target.clone()]);
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = seccheck_in(&root, &a);
            // Both examples show failing verdicts.
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            got.insert(file, std::fs::read(&target).unwrap());
        }
    }
    same_or_update(
        &root.join("reports/examples"),
        &got,
        |n| n.ends_with(".html") || n.ends_with(".md"),
        "or bash reports/examples/regenerate.sh",
    );
}

/// A shell whose PATH finds this build's `seccheck` first, in `dir`.
fn sh_in(dir: &Path, script: &str, args: &[&str]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_seccheck")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    Command::new("sh").current_dir(dir).env("PATH", path).arg("-c").arg(script).arg("--").args(args).output().unwrap()
}

/// Every hook of `.pre-commit-hooks.yaml` runs, as pre-commit would run it
/// (entry, then args, then the staged files), and its exit code is seccheck's.
#[test]
fn the_pre_commit_hooks_run_and_fail_on_findings() {
    let root = root();
    let hooks: Vec<serde_json::Value> =
        serde_saphyr::from_str(&std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap()).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ok.bpf"), [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
    std::fs::write(d.path().join("bad.bpf"), [0x20, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let docker = root.join("corpus/profiles/docker_default.json");
    let policy = root.join("reports/examples/docker_default.policy.toml");
    let (docker, policy) = (docker.to_str().unwrap(), policy.to_str().unwrap());
    let mut ran = 0;
    for h in &hooks {
        let id = h["id"].as_str().unwrap();
        let entry = h["entry"].as_str().unwrap();
        assert_eq!(h["language"].as_str(), Some("system"), "{id}");
        // (files, exit code): a staged filter the kernel accepts, then one it refuses.
        let cases: Vec<(Vec<&str>, i32)> = match id {
            "seccheck-validate" => vec![(vec!["ok.bpf"], 0), (vec!["ok.bpf", "bad.bpf"], 1)],
            // Allow-everything: SC001 default-allow is an error.
            "seccheck-lint" => vec![(vec!["ok.bpf", "bad.bpf"], 1), (vec![docker], 1)],
            "seccheck-check" => vec![(vec![docker, "--policy", policy, "--no-kernel"], 1)],
            other => panic!("a hook this test does not know: {other}"),
        };
        for (files, code) in cases {
            let o = match entry.strip_prefix("sh -c '") {
                Some(rest) => sh_in(d.path(), &rest[..rest.rfind("' --").unwrap()], &files),
                None => sh_in(d.path(), &format!("{entry} \"$@\""), &files),
            };
            assert_eq!(o.status.code(), Some(code), "{id} {files:?}: {}", text(&o));
            ran += 1;
        }
    }
    assert_eq!(ran, 5);
}

/// docs/ci.md's workflow is valid YAML and its two `seccheck check` lines
/// work on a real profile: the verdict in the log, SARIF 2.1.0 on stdout.
#[test]
fn the_ci_workflow_runs_its_commands() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("docs/ci.md")).unwrap();
    let block = doc.split("```yaml\n").nth(1).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&block[..block.find("```").unwrap()]).unwrap();
    let steps = workflow["jobs"]["seccheck"]["steps"].as_array().unwrap();
    let script = steps.iter().find(|s| s["id"].as_str() == Some("check")).unwrap()["run"].as_str().unwrap();
    let lines: Vec<&str> = script.lines().map(str::trim).filter(|l| l.starts_with("seccheck check")).collect();
    assert_eq!(lines.len(), 2, "{script}");
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("seccomp")).unwrap();
    std::fs::copy(root.join("corpus/profiles/docker_default.json"), d.path().join("seccomp/app.json")).unwrap();
    std::fs::copy(root.join("reports/examples/docker_default.policy.toml"), d.path().join("seccomp/app.policy.toml"))
        .unwrap();
    let verdict = sh_in(d.path(), lines[0], &[]);
    assert_eq!(verdict.status.code(), Some(1), "{}", text(&verdict));
    assert!(text(&verdict).contains("FAIL: 6 of 6 properties hold; lints: 1 error"), "{}", text(&verdict));
    let sarif = sh_in(d.path(), lines[1].split(" > ").next().unwrap(), &[]);
    assert_eq!(sarif.status.code(), Some(1), "{}", text(&sarif));
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
}
