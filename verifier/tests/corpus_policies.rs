//! What each corpus profile claims (`corpus/policies/*.toml`, one property per
//! claim, each quoting where the profile's docs or source make it), checked by
//! `seccheck check` on the profile as its generator compiles it.
//!
//! The verdict is asserted exactly: which properties fail and the syscall of
//! each counterexample. Claims that are false fail for the documented reason
//! (Docker's docs list process_vm_readv/writev as blocked, but the profile
//! allows them on kernels >= 4.8, and its AF_ALG/AF_VSOCK denial compares the
//! int family on 64 bits and cannot see i386 socketcall's; the seed profile misses clone3, openat2 and
//! open_by_handle_at, and runc drops its read-only open rule; the SPO
//! "block high-risk syscalls" example misses the new mount API, clone3 and
//! pidfd_getfd). The text output,
//! lints included, is snapshotted. Every compiled variant of the profile in
//! `corpus/compiled/` (other libseccomp layouts, raw export) must give the same
//! property verdict.

#[path = "common/schemas.rs"]
mod schemas;

#[path = "../examples/corpus_report.rs"]
mod corpus_report;

use corpus_report::{compiled_for, policy_checks, PolicyCheck};
use std::path::Path;
use std::process::Command;

/// `(property code, counterexample syscall)` of one violation.
type Violation = (&'static str, &'static str);

/// `(policy, exit code, violations)` in output order.
const EXPECTED: &[(&str, i32, &[Violation])] = &[
    (
        "docker_default.toml",
        1,
        &[
            ("P002", "process_vm_readv"),
            ("P002", "process_vm_writev"),
            ("P002", "process_vm_readv"),
            ("P002", "process_vm_writev"),
            ("P002", "process_vm_readv"),
            ("P002", "process_vm_writev"),
            ("P004", "socket"),
            ("P004", "socketcall"),
        ],
    ),
    ("docker_default.cap_sys_admin.toml", 0, &[]),
    ("podman_containers_common.toml", 0, &[]),
    (
        "seed_backend_denylist.toml",
        1,
        &[
            ("P002", "clone3"),
            ("P002", "clone3"),
            ("P002", "openat2"),
            ("P002", "open_by_handle_at"),
            ("P003", "socket"),
            ("P003", "open"),
            ("P003", "openat"),
        ],
    ),
    ("firecracker_x86_64.vmm.toml", 0, &[]),
    ("firecracker_x86_64.api.toml", 0, &[]),
    ("firecracker_x86_64.vcpu.toml", 0, &[]),
    (
        "docker_default.aarch64.toml",
        1,
        &[
            ("P002", "process_vm_readv"),
            ("P002", "process_vm_writev"),
            ("P002", "process_vm_readv"),
            ("P002", "process_vm_writev"),
            ("P004", "socket"),
        ],
    ),
    ("podman_containers_common.aarch64.toml", 0, &[]),
    ("firecracker_aarch64.vmm.toml", 0, &[]),
    ("firecracker_aarch64.api.toml", 0, &[]),
    ("firecracker_aarch64.vcpu.toml", 0, &[]),
    ("spo_profile-block-all.toml", 0, &[]),
    (
        "spo_profile-complain-block-high-risk.toml",
        1,
        &[
            ("P002", "fsopen"),
            ("P002", "fsconfig"),
            ("P002", "fsmount"),
            ("P002", "fspick"),
            ("P002", "move_mount"),
            ("P002", "open_tree"),
            ("P002", "open_tree_attr"),
            ("P002", "mount_setattr"),
            ("P002", "pidfd_getfd"),
            ("P002", "clone"),
            ("P002", "clone3"),
        ],
    ),
    ("spo_runc-v1.4.2.toml", 0, &[]),
];

fn check(root: &Path, input: &str, c: &PolicyCheck, json: bool) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seccheck"));
    // The snapshot must not depend on whether the kernel can be asked; the
    // kernel's word on each counterexample is the other test's job.
    cmd.current_dir(root).args(["check", "--no-kernel", input, "--policy", &format!("corpus/policies/{}", c.policy)]);
    cmd.args(["--host-arch", &c.host, "--kernel-version", "6.18"]).args(&c.options);
    if let Some(f) = &c.filter {
        cmd.args(["--filter", f]);
    }
    if json {
        cmd.args(["--format", "json", "--no-lints"]);
    }
    let o = cmd.output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

/// `(code, message, counterexample syscall)` of every property finding.
fn verdict(json: &str) -> Vec<(String, String, String)> {
    let v = schemas::parse(json.as_bytes());
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |x: &serde_json::Value| x.as_str().unwrap_or("-").to_string();
            (s(&f["code"]), s(&f["message"]), s(&f["counterexample"]["syscall"]))
        })
        .collect()
}

#[test]
fn every_profile_against_its_claims() {
    let root = corpus_report::workspace_root();
    let checks = policy_checks(&root).expect("corpus/policies/INDEX.tsv");
    let listed: Vec<&str> = checks.iter().map(|c| c.policy.as_str()).collect();
    assert_eq!(
        listed,
        EXPECTED.iter().map(|e| e.0).collect::<Vec<_>>(),
        "INDEX.tsv and EXPECTED list the same policies"
    );
    let on_disk = std::fs::read_dir(root.join("corpus/policies"))
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml"))
        .count();
    assert_eq!(on_disk, checks.len(), "every policy file is in INDEX.tsv");

    for (c, &(policy, exit, want)) in checks.iter().zip(EXPECTED) {
        let profile = format!("corpus/profiles/{}", c.profile);
        let (code, json, err) = check(&root, &profile, c, true);
        assert_eq!(code, exit, "{policy}: {json}{err}");
        let got = verdict(&json);
        let short: Vec<(&str, &str)> = got.iter().map(|(c, _, s)| (c.as_str(), s.as_str())).collect();
        assert_eq!(short, want, "{policy}: {got:#?}");

        let (code, text, err) = check(&root, &profile, c, false);
        assert!(code == 0 || code == 1, "{policy}: {err}");
        assert!(text.contains("compiled by "), "{policy}: the text names the generator\n{text}");
        insta::assert_snapshot!(policy.trim_end_matches(".toml"), text);

        // The same claims on every other compiled form of the profile (the
        // compiled corpus uses the default options only).
        let variants = compiled_for(&root, c).unwrap();
        assert_eq!(
            variants.is_empty(),
            !c.options.is_empty(),
            "{policy}: compiled variants in corpus/compiled/INDEX.tsv: {variants:?}"
        );
        for v in variants {
            let (vcode, vjson, verr) = check(&root, &format!("corpus/compiled/{}", v.file), c, true);
            assert_eq!(vcode, exit, "{policy} on {}: {verr}", v.file);
            let vgot: Vec<(String, String)> = verdict(&vjson).into_iter().map(|(c, m, _)| (c, m)).collect();
            let want: Vec<(String, String)> = got.iter().map(|(c, m, _)| (c.clone(), m.clone())).collect();
            assert_eq!(vgot, want, "{policy}: {} ({}) differs from the profile's verdict", v.file, v.generator);
        }
    }
}

#[path = "common/kernel_gate.rs"]
mod kernel_gate;

/// Every counterexample of a failing claim is what the running kernel does:
/// each compiled form of the profile is installed in a probe child and the
/// counterexample's syscall is issued through its ABI (x86_64, x32, i386).
#[test]
fn counterexamples_are_what_the_kernel_does() {
    use seccheck::bpf::{decode, validate, ByteOrder};
    use seccheck::emu::Emulator;
    use seccheck::kernel::Prober;
    use seccheck::kernel::{Abi, OracleInput};
    use seccheck::seccomp::{Action, SeccompData};

    if !kernel_gate::kernel_usable() {
        return;
    }
    let root = corpus_report::workspace_root();
    let mut probed = 0;
    // This machine issues x86_64, x32 and i386 syscalls only.
    for c in policy_checks(&root).unwrap().into_iter().filter(|c| c.host == "x86_64") {
        let (_, json, err) = check(&root, &format!("corpus/profiles/{}", c.profile), &c, true);
        assert!(json.starts_with('{'), "{err}");
        let v = schemas::parse(json.as_bytes());
        let examples: Vec<(SeccompData, serde_json::Value)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let cx = &f["counterexample"];
                (
                    serde_json::from_value(cx["input"].clone()).unwrap(),
                    serde_json::json!({ "action": cx["action"], "data": cx["data"] }),
                )
            })
            .collect();
        if examples.is_empty() {
            continue;
        }
        for variant in compiled_for(&root, &c).unwrap() {
            let bytes = std::fs::read(root.join("corpus/compiled").join(&variant.file)).unwrap();
            let program = decode(&bytes, ByteOrder::Little).unwrap();
            let valid = validate(&program).unwrap();
            let emu = Emulator::new(&valid);
            let mut prober =
                Prober::new(std::slice::from_ref(&program)).unwrap_or_else(|e| panic!("{}: {e}", variant.file));
            for (d, shown) in &examples {
                let (abi, nr) = match d.arch {
                    0xc000_003e if d.nr & 0x4000_0000 != 0 => (Abi::X32, d.nr & !0x4000_0000),
                    0xc000_003e => (Abi::X86_64, d.nr),
                    0x4000_0003 => (Abi::I386, d.nr),
                    other => {
                        panic!("{}: counterexample for arch {other:#x}, which this machine cannot issue", c.policy)
                    }
                };
                let out = prober
                    .probe(&OracleInput::new(abi, nr, d.args))
                    .unwrap_or_else(|e| panic!("{}: {e}", variant.file));
                assert_eq!(
                    (out.data.nr, out.data.arch, out.data.args),
                    (d.nr, d.arch, d.args),
                    "{}: the kernel saw another input",
                    variant.file
                );
                let model = Action::from_ret(emu.run(&out.data));
                assert!(
                    out.action.agrees_with(model),
                    "{} {:?}: kernel {:?}, emulator {model}",
                    variant.file,
                    d,
                    out.action
                );
                assert_eq!(&serde_json::to_value(model).unwrap(), shown, "{}: the reported action", variant.file);
                probed += 1;
            }
        }
    }
    // docker: 8 examples on 3 x86_64 forms; seed: 7 on 3; SPO high-risk: 11 on 1.
    assert_eq!(probed, 56);
}
