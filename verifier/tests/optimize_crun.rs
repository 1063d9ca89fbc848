//! A container started by crun with `seccheck optimize`'s OCI output (the
//! `run.oci.seccomp_bpf_data` annotation) behaves as with the original
//! filter: Docker's default profile as runc loads it
//! (`corpus/compiled/docker_default.x86_64.runc.bpf`), given to crun the same
//! way. The container runs a static busybox that makes a set of calls the
//! profile allows and denies; the outputs (exit status and error text per
//! call) must be identical, and differ from a run without any filter (so the
//! filter is in force). crun runs in a private mount namespace with a
//! cgroup2 mount and `--cgroup-manager=disabled` (this VM's cgroups are in
//! hybrid mode, which crun refuses). Without crun or a static busybox
//! (`.ci/install-deps --tests` installs both) the test says `CRUN UNAVAILABLE`
//! and returns.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Calls made inside the container, each printed with its status and stderr.
const SCRIPT: &str = r#"for c in "true" "mkdir /tmp/d" "unshare -U true" "swapon /nonexistent" "mount -t tmpfs none /mnt" "hostname optimised" "nice -n 1 true" "sync" "ls /proc/self/fd" "chroot / true"; do
  /bin/busybox $c >/dev/null 2>/tmp/err; s=$?; echo "$c => $s $(/bin/busybox head -c 200 /tmp/err)"
done"#;

fn static_busybox() -> Option<PathBuf> {
    let p = PathBuf::from("/bin/busybox");
    let bytes = std::fs::read(&p).ok()?;
    let elf = goblin::elf::Elf::parse(&bytes).ok()?;
    elf.interpreter.is_none().then_some(p)
}

fn crun_available() -> bool {
    Command::new("crun").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            s.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    s
}

/// Run the script in a container whose config is `config`; its stdout.
fn run_container(dir: &Path, name: &str, config: &serde_json::Value, busybox: &Path) -> String {
    let bundle = dir.join(name);
    std::fs::create_dir_all(bundle.join("rootfs/bin")).unwrap();
    std::fs::create_dir_all(bundle.join("rootfs/tmp")).unwrap();
    std::fs::create_dir_all(bundle.join("rootfs/mnt")).unwrap();
    std::fs::create_dir_all(bundle.join("rootfs/proc")).unwrap();
    std::fs::copy(busybox, bundle.join("rootfs/bin/busybox")).unwrap();
    std::fs::write(bundle.join("config.json"), serde_json::to_vec_pretty(config).unwrap()).unwrap();
    let state = dir.join("state");
    let shell = format!(
        "mount --make-rprivate / && (umount -R /sys/fs/cgroup 2>/dev/null; true) && mount -t cgroup2 none /sys/fs/cgroup && exec crun --cgroup-manager=disabled --root {} run -b {} seccheck-{name}-{}",
        state.display(),
        bundle.display(),
        std::process::id()
    );
    let o = Command::new("unshare").args(["-m", "sh", "-c", &shell]).output().unwrap();
    assert!(o.status.success(), "{name}: crun failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn crun_with_the_optimised_annotation_behaves_as_with_the_original_filter() {
    let Some(busybox) = static_busybox() else {
        eprintln!("CRUN UNAVAILABLE: no static /bin/busybox (apt-get install busybox-static)");
        return;
    };
    if !crun_available() {
        eprintln!("CRUN UNAVAILABLE: no crun (apt-get install crun)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A default OCI config with our process.
    let spec_dir = dir.path().join("spec");
    std::fs::create_dir_all(&spec_dir).unwrap();
    let s = Command::new("crun").arg("spec").current_dir(&spec_dir).output().unwrap();
    assert!(s.status.success(), "crun spec: {}", String::from_utf8_lossy(&s.stderr));
    let mut base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(spec_dir.join("config.json")).unwrap()).unwrap();
    base["process"]["args"] = serde_json::json!(["/bin/busybox", "sh", "-c", SCRIPT]);
    base["process"]["terminal"] = serde_json::json!(false);
    base["root"]["readonly"] = serde_json::json!(false);
    let base_path = dir.path().join("base.json");
    std::fs::write(&base_path, serde_json::to_vec(&base).unwrap()).unwrap();

    let input = root().join("corpus/compiled/docker_default.x86_64.runc.bpf");
    let annotated = dir.path().join("optimised.json");
    let o = Command::new(env!("CARGO_BIN_EXE_seccheck"))
        .args(["optimize", input.to_str().unwrap(), "-o", annotated.to_str().unwrap()])
        .args(["--output-format", "oci", "--oci-config", base_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let optimised: serde_json::Value = serde_json::from_slice(&std::fs::read(&annotated).unwrap()).unwrap();
    let mut original = base.clone();
    original["annotations"]["run.oci.seccomp_bpf_data"] =
        serde_json::Value::String(base64(&std::fs::read(&input).unwrap()));

    let with_original = run_container(dir.path(), "original", &original, &busybox);
    let with_optimised = run_container(dir.path(), "optimised", &optimised, &busybox);
    let unfiltered = run_container(dir.path(), "unfiltered", &base, &busybox);
    assert_eq!(with_original.lines().count(), 10, "{with_original}");
    assert_eq!(with_optimised, with_original, "the optimised filter changed what the container's calls do");
    let unshare = |out: &str| out.lines().find(|l| l.starts_with("unshare")).unwrap().to_string();
    assert!(unshare(&with_original).contains("Operation not permitted"), "{with_original}");
    assert_ne!(unshare(&unfiltered), unshare(&with_original), "the filter is in force: {unfiltered}");
}
