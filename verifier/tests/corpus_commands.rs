//! Every corpus profile and every compiled corpus filter through every command
//! that reads a filter (`validate`, `disasm`, `table`, `check`, `lint`, `diff`,
//! `stack`, `bench --predict-only`, `emu`, and `scan`, which takes ELF files
//! only), run as a user runs them: the built binary, from the workspace root.
//!
//! Each run must end with the exit code the command documents for that input,
//! with nothing on stderr but generator notes (one `note:` summary line per
//! compiled profile); a refusal (kafel and LXC policies, a multi-filter
//! profile without `--filter`, `scan` of a non-ELF file) is exit 2 with exactly
//! one line on stderr saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The filters one input holds: `--filter` names, or one unnamed filter.
fn filters_of(name: &str) -> Vec<Option<&'static str>> {
    if name.starts_with("firecracker_") && name.ends_with(".json") {
        vec![Some("vmm"), Some("api"), Some("vcpu")]
    } else if name == "spo_seccompprofile.yaml" {
        ["profile-block-all", "profile-complain-unsafe", "profile-allow-unsafe", "profile-complain-block-high-risk"]
            .map(Some)
            .to_vec()
    } else {
        vec![None]
    }
}

/// What a profile is: compiled by a generator here, or refused as unsupported.
fn refused(name: &str) -> bool {
    name.starts_with("kafel_") || name.ends_with(".seccomp")
}

struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: Vec<String>) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(&args).output().unwrap();
    Run {
        args,
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Every command on one filter (`file` plus its selection options).
fn commands(file: &str, select: &[String], arch: &str, policy: &str) -> Vec<(Vec<String>, &'static [i32])> {
    let with = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.extend(select.iter().cloned());
        v
    };
    vec![
        (with(&["validate", file]), &[0]),
        (with(&["disasm", file]), &[0]),
        (with(&["table", file]), &[0]),
        (with(&["lint", file]), &[0, 1]),
        (with(&["check", file, "--policy", policy]), &[0, 1]),
        (with(&["diff", file, file]), &[0]),
        (with(&["stack", file, file]), &[0]),
        (with(&["emu", file, "--arch", arch, "--syscall", "read"]), &[0]),
    ]
}

/// `FILE@NAME` picks a filter for `bench`, which takes no `--filter`.
fn bench(file: &str, filter: Option<&str>, host: &str) -> Vec<String> {
    let spec = filter.map_or(file.to_string(), |f| format!("{file}@{f}"));
    ["bench", "--predict-only", "--host-arch", host, "--kernel-version", "6.18", &spec].map(str::to_string).to_vec()
}

fn host_of(name: &str) -> &'static str {
    if name.contains("aarch64") {
        "aarch64"
    } else {
        "x86_64"
    }
}

#[test]
fn every_corpus_input_through_every_command() {
    let root = root();
    let d = tempfile::tempdir().unwrap();
    let policy = |arch: &str| {
        let p = d.path().join(format!("{arch}.toml"));
        std::fs::write(&p, format!("arches = [\"{arch}\"]\n")).unwrap();
        p.display().to_string()
    };
    let policies = [("x86_64", policy("x86_64")), ("aarch64", policy("aarch64"))];
    let policy_for = |arch: &str| policies.iter().find(|(a, _)| *a == arch).unwrap().1.clone();

    // (args, allowed exit codes, expected stderr substring for exit 2)
    let mut jobs: Vec<(Vec<String>, &'static [i32], Option<&'static str>)> = Vec::new();
    let mut profiles: Vec<String> = Vec::new();
    for e in std::fs::read_dir(root.join("corpus/profiles")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                profiles.push(e.unwrap().path().strip_prefix(&root).unwrap().display().to_string());
            }
        } else {
            profiles.push(p.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    profiles.sort();
    assert!(profiles.len() >= 30, "{profiles:?}");
    for file in &profiles {
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        let host = host_of(name);
        if refused(file.rsplit('/').next().unwrap()) || file.contains("kafel_testdata/") {
            for (args, _) in commands(file, &[], host, &policy_for(host)) {
                jobs.push((args, &[2], Some("unsupported format: ")));
            }
            jobs.push((bench(file, None, host), &[2], Some("unsupported format: ")));
            continue;
        }
        let filters = filters_of(name);
        if filters.len() > 1 {
            jobs.push((vec!["table".into(), file.clone()], &[2], Some("pick one with --filter NAME")));
        }
        for f in filters {
            let mut select =
                vec!["--host-arch".to_string(), host.to_string(), "--kernel-version".into(), "6.18".into()];
            if let Some(f) = f {
                select.extend(["--filter".to_string(), f.to_string()]);
            }
            for (args, codes) in commands(file, &select, host, &policy_for(host)) {
                jobs.push((args, codes, None));
            }
            jobs.push((bench(file, f, host), &[0], None));
        }
        jobs.push((vec!["scan".into(), file.clone()], &[2], Some("not an ELF file")));
    }
    // Compiled filters, and the filters read back from containers real runc started.
    let mut compiled: Vec<String> = ["corpus/compiled", "corpus/runc-readback"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    compiled.sort();
    assert!(compiled.len() >= 22, "{compiled:?}");
    // The OCI seccomp objects those containers were started with.
    for e in std::fs::read_dir(root.join("corpus/runc-readback")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".oci.json") {
            let file = p.strip_prefix(&root).unwrap().display().to_string();
            let select = ["--kernel-version", "6.18", "--optimize", "1"].map(str::to_string);
            for (args, codes) in commands(&file, &select, "x86_64", &policy_for("x86_64")) {
                jobs.push((args, codes, None));
            }
        }
    }
    for file in &compiled {
        let host = host_of(file);
        for (args, codes) in commands(file, &[], host, &policy_for(host)) {
            jobs.push((args, codes, None));
        }
        jobs.push((bench(file, None, host), &[0], None));
    }

    // Two workers: the machine has two cores.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Vec<(usize, Run)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((args, _, _)) = jobs.get(i) else { break };
                        out.push((i, run(args.clone())));
                    }
                    out
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    let mut ran = 0;
    for (i, r) in results.into_iter().flatten() {
        ran += 1;
        let (_, codes, needle) = &jobs[i];
        let shown = format!("seccheck {}", r.args.join(" "));
        if !codes.contains(&r.code) {
            failures.push(format!("{shown}: exit {} (expected {codes:?}); stderr: {}", r.code, r.stderr.trim()));
            continue;
        }
        if r.code == 2 {
            let lines: Vec<&str> = r.stderr.lines().collect();
            if lines.len() != 1 || !lines[0].starts_with("seccheck: error: ") {
                failures
                    .push(format!("{shown}: exit 2 must give one `seccheck: error:` line on stderr, got {lines:?}"));
            }
            if let Some(n) = needle {
                if !r.stderr.contains(n) {
                    failures.push(format!("{shown}: stderr {:?} does not say {n:?}", r.stderr.trim()));
                }
            }
            if !r.stdout.is_empty() {
                failures
                    .push(format!("{shown}: exit 2 with output on stdout: {:?}", &r.stdout[..r.stdout.len().min(200)]));
            }
        } else {
            if r.stderr.lines().any(|l| !(l.starts_with("note: ") && l.ends_with("; -v lists them"))) {
                failures.push(format!(
                    "{shown}: exit {} with stderr other than generator notes: {}",
                    r.code,
                    r.stderr.trim()
                ));
            }
            if r.stdout.is_empty() {
                failures.push(format!("{shown}: exit {} without output", r.code));
            }
            // Profiles: the text names the generator.
            let is_profile = r.args.iter().any(|f| f.starts_with("corpus/profiles/") || f.ends_with(".oci.json"));
            let names_generator = if r.args[0] == "bench" {
                r.stdout.contains("; libseccomp 2.5.4 ") || r.stdout.contains("; seccompiler 0.5.0 ")
            } else {
                r.stdout.contains("compiled by ")
            };
            if is_profile && !names_generator {
                failures.push(format!("{shown}: the output does not say which generator compiled the filter"));
            }
            if r.args[0] == "validate" {
                if let Err(e) = check_converted_length(&r) {
                    failures.push(format!("{shown}: {e}"));
                }
            }
        }
    }
    assert_eq!(ran, jobs.len());
    assert!(failures.is_empty(), "{} of {} runs failed:\n{}", failures.len(), jobs.len(), failures.join("\n"));
}

/// `validate` prints `ok: N instructions (M after the kernel's conversion to
/// eBPF)`: every instruction converts to 1..=5, after a prologue of 3; for a
/// raw `.bpf` file M is exactly `bpf::converted_len` of its bytes.
fn check_converted_length(r: &Run) -> Result<(), String> {
    let line = r.stdout.lines().next().unwrap_or("");
    let after = line.split("ok: ").nth(1).ok_or_else(|| format!("no `ok: ` in {line:?}"))?;
    let n: usize =
        after.split(' ').next().and_then(|x| x.parse().ok()).ok_or_else(|| format!("no count in {line:?}"))?;
    let m: usize = after
        .split('(')
        .nth(1)
        .and_then(|x| x.strip_suffix(" after the kernel's conversion to eBPF); the kernel accepts this filter"))
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("no converted length in {line:?}"))?;
    if !(n + 3..=5 * n + 3).contains(&m) {
        return Err(format!("{m} converted instructions for {n} classic ones"));
    }
    if r.args.len() == 2 && r.args[1].ends_with(".bpf") {
        let bytes = std::fs::read(root().join(&r.args[1])).map_err(|e| e.to_string())?;
        let p = seccheck::bpf::decode(&bytes, seccheck::bpf::ByteOrder::Little).map_err(|e| e.to_string())?;
        let v = seccheck::bpf::validate(&p).map_err(|e| format!("{e:?}"))?;
        if seccheck::bpf::converted_len(&v) != m {
            return Err(format!(
                "prints {m} converted instructions, bpf::converted_len says {}",
                seccheck::bpf::converted_len(&v)
            ));
        }
    }
    Ok(())
}

/// `bench` compiles profiles with the same `--caps` / `--kernel-version` as the
/// other commands, so its numbers are for the filter they describe.
#[test]
fn bench_compiles_profiles_with_the_given_capabilities() {
    let count = |out: &str, marker: &str| -> usize {
        let line = out.lines().find(|l| l.contains(marker)).unwrap_or_else(|| panic!("no {marker:?} in {out}"));
        let n = line.split(marker).nth(1).unwrap().split_whitespace().next().unwrap();
        n.parse().unwrap_or_else(|_| panic!("{line}"))
    };
    let profile = "corpus/profiles/docker_default.json";
    let mut sizes = Vec::new();
    for caps in [None, Some("CAP_SYS_ADMIN")] {
        let mut extra = vec!["--kernel-version".to_string(), "6.18".to_string()];
        if let Some(c) = caps {
            extra.extend(["--caps".to_string(), c.to_string()]);
        }
        let bench = run(["bench", "--predict-only"]
            .iter()
            .map(|s| s.to_string())
            .chain(extra.clone())
            .chain([profile.to_string()])
            .collect());
        assert_eq!(bench.code, 0, "{}", bench.stderr);
        let table = run(["table", profile].iter().map(|s| s.to_string()).chain(extra).collect());
        assert_eq!(table.code, 0, "{}", table.stderr);
        let n = count(&bench.stdout, "docker_default.json (");
        assert_eq!(n, count(&table.stdout, "docker_default.json: "), "bench and table compile the same filter");
        sizes.push(n);
    }
    assert_ne!(sizes[0], sizes[1], "CAP_SYS_ADMIN changes Docker's filter");
    let bad = run(["bench", "--predict-only", "--kernel-version", "6.x", profile].map(str::to_string).to_vec());
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr, "seccheck: error: --kernel-version `6.x` is not like 6.1\n");
}
