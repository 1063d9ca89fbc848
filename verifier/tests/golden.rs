//! Golden output: every command in every format it has, on one small corpus
//! profile (`corpus/profiles/seed_backend_denylist.json`: 33 instructions
//! after libseccomp and runc, two rules runc drops silently, a policy in
//! `corpus/policies/` that it violates), snapshotted whole — exit code,
//! stdout and stderr — so any change to what seccheck prints is a reviewed
//! snapshot change. Only what truly varies is redacted: the absolute
//! working directory SARIF names as `%SRCROOT%`. Examples are not put to the
//! kernel (`--no-kernel`), whose availability varies by machine; the kernel's
//! part is tested where it is asked (json_contract.rs, cli_check.rs).
//! Every JSON snapshotted is also validated against its schema.

#[path = "common/schemas.rs"]
mod schemas;

use std::path::{Path, PathBuf};
use std::process::Command;

const PROFILE: &str = "corpus/profiles/seed_backend_denylist.json";
const POLICY: &str = "corpus/policies/seed_backend_denylist.toml";
/// A second filter for diff and stack: allows everything on x86_64.
const OTHER: &str = "corpus/compiled/spo_profile-allow-unsafe.x86_64.runc.bpf";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// `exit: N`, then stdout and stderr, with the working directory redacted.
fn golden(args: &[&str]) -> String {
    golden_in(&root(), args)
}

fn golden_in(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(dir).args(args).output().unwrap();
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    if let Some(i) = args.iter().position(|a| *a == "--format") {
        match args[i + 1] {
            "json" => {
                schemas::parse(&o.stdout);
            }
            "sarif" => {
                schemas::parse_sarif(&o.stdout);
            }
            _ => {}
        }
    }
    let cwd = format!("file://{}/", dir.display());
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().map_or("signal".to_string(), |c| c.to_string()),
        stdout.replace(&cwd, "file:///[CWD]/"),
        String::from_utf8_lossy(&o.stderr)
    )
}

macro_rules! golden {
    ($name:ident, $($arg:expr),+ $(,)?) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(golden(&[$($arg),+]));
        }
    };
}

golden!(validate_text, "validate", PROFILE);
golden!(validate_json, "validate", PROFILE, "--format", "json");
golden!(table_text, "table", PROFILE);
golden!(table_json, "table", PROFILE, "--format", "json");
golden!(table_selected_text, "table", PROFILE, "--arch", "x86_64", "--syscall", "openat,socket,clone3");
golden!(check_text, "check", PROFILE, "--policy", POLICY, "--no-kernel");
golden!(check_json, "check", PROFILE, "--policy", POLICY, "--no-kernel", "--format", "json");
golden!(check_sarif, "check", PROFILE, "--policy", POLICY, "--no-kernel", "--format", "sarif");
golden!(lint_text, "lint", PROFILE, "--no-kernel");
golden!(lint_json, "lint", PROFILE, "--no-kernel", "--format", "json");
golden!(lint_sarif, "lint", PROFILE, "--no-kernel", "--format", "sarif");
golden!(disasm_text, "disasm", PROFILE);
golden!(disasm_json, "disasm", PROFILE, "--format", "json");
golden!(emu_text, "emu", PROFILE, "--arch", "x86_64", "--syscall", "openat", "--args", "0,0x1000,0");
golden!(
    emu_json,
    "emu",
    PROFILE,
    "--arch",
    "x86_64",
    "--syscall",
    "openat",
    "--args",
    "0,0x1000,0",
    "--format",
    "json"
);
golden!(diff_text, "diff", PROFILE, OTHER, "--no-kernel");
golden!(diff_json, "diff", PROFILE, OTHER, "--no-kernel", "--format", "json");
golden!(refines_text, "diff", "--refines", PROFILE, OTHER, "--no-kernel");
golden!(refines_json, "diff", "--refines", PROFILE, OTHER, "--no-kernel", "--format", "json");
golden!(stack_text, "stack", PROFILE, OTHER, "--arch", "x86_64", "--syscall", "read,openat,ptrace");
golden!(stack_json, "stack", PROFILE, OTHER, "--arch", "x86_64", "--syscall", "read,openat,ptrace", "--format", "json");
golden!(explain_text, "explain", "SC005");
golden!(bench_predict_text, "bench", "--predict-only", PROFILE);
golden!(bench_predict_json, "bench", "--predict-only", PROFILE, "--format", "json");

/// `report` writes a file: the command's line and the file, in both formats.
#[test]
fn report_markdown_and_html() {
    let d = tempfile::tempdir().unwrap();
    for (name, out) in [("report_markdown", "r.md"), ("report_html", "r.html")] {
        let target = d.path().join(out);
        let line = golden(&["report", PROFILE, "--policy", POLICY, "--no-kernel", "-o", target.to_str().unwrap()]);
        let line = line.replace(&d.path().display().to_string(), "[TMP]");
        let page = std::fs::read_to_string(&target).unwrap();
        insta::assert_snapshot!(name, format!("{line}--- {out}\n{page}"));
    }
}

/// `asm` in each output encoding, from the listing `disasm` prints.
#[test]
fn asm_c_and_hex() {
    let d = tempfile::tempdir().unwrap();
    let o =
        Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(["disasm", PROFILE]).output().unwrap();
    std::fs::write(d.path().join("f.s"), &o.stdout).unwrap();
    for enc in ["c", "hex"] {
        let out = golden_in(d.path(), &["asm", "f.s", "-o", "-", "--output-format", enc]);
        insta::assert_snapshot!(format!("asm_{enc}"), out);
    }
    let raw = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .current_dir(d.path())
        .args(["asm", "f.s", "-o", "-"])
        .output()
        .unwrap();
    let compiled =
        Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(["validate", PROFILE]).output().unwrap();
    assert!(compiled.status.success());
    assert_eq!(raw.stdout.len(), 33 * 8, "raw: the 33 instructions as sock_filter bytes");
}
