//! `.clusterfuzzlite/build.sh` builds every libFuzzer target: its target list
//! equals the `[[bin]]`s of `fuzz/libfuzzer/Cargo.toml` (each of which is a
//! file of `fuzz_targets/`, and every file there is one), and run against a
//! stand-in `cargo` (cargo-fuzz and the OSS-Fuzz image are not needed) in a
//! copy of the tree, it asks cargo-fuzz for an optimised build, links
//! libseccomp statically and leaves every target in `$OUT`, with the seed
//! corpora and options `fuzz/libfuzzer/run` would use. A target missing from
//! the script fails both the static check and the script itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `[[bin]]`s of a cargo-fuzz manifest: (name, path).
fn manifest_targets(manifest: &str) -> Vec<(String, String)> {
    let v: toml::Value = toml::from_str(manifest).expect("fuzz/libfuzzer/Cargo.toml parses");
    let bins = v.get("bin").and_then(|b| b.as_array()).expect("fuzz/libfuzzer/Cargo.toml has [[bin]] entries");
    bins.iter()
        .map(|b| {
            let s = |k: &str| b.get(k).and_then(|x| x.as_str()).unwrap_or_else(|| panic!("[[bin]] without {k}: {b}"));
            (s("name").to_string(), s("path").to_string())
        })
        .collect()
}

/// The `TARGETS=( … )` list of build.sh, one name per line.
fn script_targets(script: &str) -> Vec<String> {
    let start = script.find("TARGETS=(").expect("build.sh has a TARGETS=( … ) list") + "TARGETS=(".len();
    let end = start + script[start..].find(')').expect("the TARGETS list is closed");
    script[start..end].split_whitespace().map(str::to_string).collect()
}

/// What is wrong with `script`'s target list against `manifest`'s (empty: nothing).
fn coverage_problems(script: &str, manifest: &str) -> Vec<String> {
    let want: BTreeSet<String> = manifest_targets(manifest).into_iter().map(|(n, _)| n).collect();
    let listed = script_targets(script);
    let have: BTreeSet<String> = listed.iter().cloned().collect();
    let mut p: Vec<String> = want.difference(&have).map(|t| format!("`{t}` is not built by build.sh")).collect();
    p.extend(have.difference(&want).map(|t| format!("`{t}` is in build.sh but not a [[bin]]")));
    if have.len() != listed.len() {
        p.push("build.sh lists a target twice".into());
    }
    p
}

#[test]
fn build_script_lists_every_fuzz_target() {
    let manifest = read(&root().join("fuzz/libfuzzer/Cargo.toml"));
    let script = read(&root().join(".clusterfuzzlite/build.sh"));
    let targets = manifest_targets(&manifest);
    assert!(targets.len() >= 12, "fewer [[bin]]s than the twelve targets: {targets:?}");
    // Every [[bin]] is a file of fuzz_targets/, and every file there a [[bin]].
    let files: BTreeSet<String> = std::fs::read_dir(root().join("fuzz/libfuzzer/fuzz_targets"))
        .expect("fuzz_targets/ is there")
        .map(|e| format!("fuzz_targets/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let paths: BTreeSet<String> = targets.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(files, paths, "fuzz_targets/ files and [[bin]] paths differ");
    assert_eq!(coverage_problems(&script, &manifest), Vec::<String>::new());
    // The check sees a target left out, or one that is not a target.
    for (name, _) in &targets {
        let dropped = script.replacen(&format!("\n  {name}\n"), "\n", 1);
        assert_ne!(dropped, script, "build.sh lists `{name}` on a line of its own");
        assert_eq!(coverage_problems(&dropped, &manifest), vec![format!("`{name}` is not built by build.sh")]);
    }
    let extra = script.replacen("TARGETS=(", "TARGETS=(\n  no_such_target", 1);
    assert_eq!(coverage_problems(&extra, &manifest), vec!["`no_such_target` is in build.sh but not a [[bin]]"]);
}

#[test]
fn project_files_name_rust_and_the_rust_builder_image() {
    let project = read(&root().join(".clusterfuzzlite/project.yaml"));
    assert!(project.lines().any(|l| l.trim() == "language: rust"), "{project}");
    let docker = read(&root().join(".clusterfuzzlite/Dockerfile"));
    let from = docker.lines().find(|l| l.starts_with("FROM ")).expect("a FROM line");
    assert_eq!(from, "FROM gcr.io/oss-fuzz-base/base-builder-rust");
    assert!(docker.contains("libseccomp-dev"), "{docker}");
    assert!(docker.contains("COPY .clusterfuzzlite/build.sh $SRC/"), "{docker}");
}

/// A copy of what build.sh reads, with `TARGETS` as `script` says, and a
/// stand-in `cargo` on `PATH` that logs its arguments and environment and
/// acts as cargo-fuzz on the manifest: `fuzz list` prints its targets, `fuzz
/// build` writes a file per target where cargo-fuzz puts the binaries.
/// Runs the script; its exit status, stderr, `$OUT` and the log.
fn run_script(script: &str) -> (Option<i32>, String, tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let (tree, out, bin) = (tmp.path().join("src"), tmp.path().join("out"), tmp.path().join("bin"));
    for d in [tree.join(".clusterfuzzlite"), tree.join("fuzz/libfuzzer"), out.clone(), bin.clone()] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(tree.join(".clusterfuzzlite/build.sh"), script).unwrap();
    let manifest = read(&root().join("fuzz/libfuzzer/Cargo.toml"));
    std::fs::write(tree.join("fuzz/libfuzzer/Cargo.toml"), &manifest).unwrap();
    let regressions = root().join("fuzz/regressions");
    for target in std::fs::read_dir(&regressions).unwrap() {
        let target = target.unwrap().path();
        let to = tree.join("fuzz/regressions").join(target.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&target).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    }
    let names: Vec<String> = manifest_targets(&manifest).into_iter().map(|(n, _)| n).collect();
    let log = tmp.path().join("cargo.log");
    let cargo = format!(
        r#"#!/bin/bash
set -eu
echo "$* LINK=${{LIBSECCOMP_LINK_TYPE:-}} LIB=${{LIBSECCOMP_LIB_PATH:-}}" >>'{log}'
case "$1 $2" in
  "fuzz list") printf '%s\n' {names} ;;
  "fuzz build")
    dir='{tree}/fuzz/libfuzzer/target/x86_64-unknown-linux-gnu/release'
    mkdir -p "$dir"
    for t in {names}; do echo "fuzzer $t" >"$dir/$t"; chmod +x "$dir/$t"; done ;;
  *) echo "stand-in cargo: unexpected $*" >&2; exit 3 ;;
esac
"#,
        log = log.display(),
        tree = tree.display(),
        names = names.join(" "),
    );
    std::fs::write(bin.join("cargo"), cargo).unwrap();
    Command::new("chmod").arg("+x").arg(bin.join("cargo")).status().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("bash")
        .arg(tree.join(".clusterfuzzlite/build.sh"))
        .env("PATH", path)
        .env("OUT", &out)
        .env("SRC", tmp.path())
        .env("LIBSECCOMP_LIB_PATH", "/usr/lib/x86_64-linux-gnu")
        .output()
        .expect("bash runs");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned(), tmp, logged)
}

#[test]
fn build_script_puts_every_target_in_out() {
    // The Dockerfile installs zip for build.sh; here the test needs it too.
    Command::new("zip").arg("-v").output().expect("zip is needed to run build.sh (apt-get install zip)");
    let script = read(&root().join(".clusterfuzzlite/build.sh"));
    let (code, err, tmp, log) = run_script(&script);
    assert_eq!(code, Some(0), "build.sh failed:\n{err}\ncargo log:\n{log}");
    let builds: Vec<&str> = log.lines().filter(|l| l.starts_with("fuzz build")).collect();
    assert_eq!(builds.len(), 1, "one cargo-fuzz build of every target:\n{log}");
    assert!(builds[0].starts_with("fuzz build -O "), "{log}");
    assert!(builds[0].ends_with(" LINK=static LIB=/usr/lib/x86_64-linux-gnu"), "{log}");
    let out = tmp.path().join("out");
    let manifest = read(&root().join("fuzz/libfuzzer/Cargo.toml"));
    for (name, _) in manifest_targets(&manifest) {
        let built = std::fs::read_to_string(out.join(&name)).unwrap_or_else(|e| panic!("$OUT/{name}: {e}"));
        assert_eq!(built, format!("fuzzer {name}\n"));
        let options = out.join(format!("{name}.options"));
        assert_eq!(options.exists(), name.starts_with("gen_"), "{}", options.display());
        // A seed corpus exactly where the target has regression inputs other than known-*.
        let seeds: Vec<String> = std::fs::read_dir(root().join("fuzz/regressions").join(&name))
            .map(|d| d.map(|f| f.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let seeds: BTreeSet<String> = seeds.into_iter().filter(|f| !f.starts_with("known-")).collect();
        let zip = out.join(format!("{name}_seed_corpus.zip"));
        assert_eq!(zip.exists(), !seeds.is_empty(), "{}", zip.display());
        if zip.exists() {
            let listing = Command::new("unzip").arg("-Z1").arg(&zip).output().expect("unzip runs");
            let inside: BTreeSet<String> =
                String::from_utf8_lossy(&listing.stdout).lines().map(str::to_string).collect();
            assert_eq!(inside, seeds, "{}", zip.display());
        }
    }
    // The script refuses to build when its list and the manifest disagree.
    let name = &manifest_targets(&manifest)[0].0;
    let (code, err, tmp, log) = run_script(&script.replacen(&format!("\n  {name}\n"), "\n", 1));
    assert_eq!(code, Some(1), "{err}\n{log}");
    assert!(err.contains("TARGETS does not match") && err.contains(name.as_str()), "{err}");
    assert!(!log.contains("fuzz build"), "{log}");
    assert_eq!(std::fs::read_dir(tmp.path().join("out")).unwrap().count(), 0);
}
