//! `optimize` on every compiled corpus filter and on generated programs: the
//! result is proven equivalent (the proof runs inside `optimize`; here the
//! emulator re-checks it on inputs aimed at both programs), valid, within
//! `BPF_MAXINSNS`, never loses a syscall the kernel's action cache served,
//! and the running kernel accepts it and takes the input's action on every
//! probed system call. The CLI writes each output form, an OCI config whose
//! annotation decodes to the program, and nothing at all when it refuses.

use crate::common::kernel_gate;

use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use seccheck::arch::Arch;
use seccheck::bpf::{decode, validate, ByteOrder, Program, ValidProgram};
use seccheck::cost::{CacheGeometry, CostTable};
use seccheck::emu::Emulator;
use seccheck::optimize::{kernel_check, optimize, OptimizeError, OptimizeOptions};
use seccheck::testgen;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("corpus/compiled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "the corpus holds its compiled filters");
    v
}

fn load(path: &PathBuf) -> ValidProgram {
    let bytes = std::fs::read(path).unwrap();
    validate(&decode(&bytes, ByteOrder::Little).unwrap()).unwrap()
}

fn opts() -> OptimizeOptions {
    OptimizeOptions::for_host(Arch::X86_64).unwrap()
}

/// The host a corpus filter was compiled for.
fn host_of(name: &str) -> Arch {
    if name.contains("aarch64") {
        Arch::Aarch64
    } else {
        Arch::X86_64
    }
}

/// Cached `(arch, nr)` rows of a filter on x86_64's geometry.
fn cached_rows(p: &ValidProgram, g: CacheGeometry) -> Vec<(Arch, u32)> {
    CostTable::compute(&[p], g).unwrap().entries.iter().filter(|e| e.cached).map(|e| (e.arch, e.nr)).collect()
}

/// The emulator agrees with itself on both programs for inputs aimed at each.
fn same_on_inputs(a: &ValidProgram, b: &ValidProgram, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let (ea, eb) = (Emulator::new(a), Emulator::new(b));
    for p in [a.program(), b.program()] {
        for d in testgen::inputs_for(&mut rng, p, 300) {
            let (x, y) = (ea.run(&d), eb.run(&d));
            assert_eq!(
                seccheck::seccomp::Action::from_ret(x),
                seccheck::seccomp::Action::from_ret(y),
                "input {d:?}: {x:#x} vs {y:#x}"
            );
        }
    }
}

#[test]
fn every_corpus_filter_optimises_to_a_proven_faster_equivalent_the_kernel_accepts() {
    let kernel = kernel_gate::kernel_usable();
    for (i, path) in corpus_files().iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let host = host_of(&name);
        let o = OptimizeOptions::for_host(host).unwrap();
        let input = load(path);
        let out = optimize(&input, &o).unwrap_or_else(|e| panic!("{name}: {e}")).program;
        assert!(out.len() <= 4096, "{name}");
        same_on_inputs(&input, &out, i as u64);
        let before = cached_rows(&input, o.geometry);
        let after = cached_rows(&out, o.geometry);
        let lost: Vec<_> = before.iter().filter(|r| !after.contains(r)).collect();
        assert!(lost.is_empty(), "{name}: the cache no longer serves {lost:?}");
        let cb = seccheck::optimize::cost(&input, o.geometry, &o.weights).unwrap();
        let ca = seccheck::optimize::cost(&out, o.geometry, &o.weights).unwrap();
        // The layout is tuned for the host's ABI (other ABIs weigh a tenth,
        // and may lose an instruction or two to it).
        let (b, a) = (&cb.abis[0], &ca.abis[0]);
        assert_eq!(b.arch, host);
        assert!(a.worst <= b.worst, "{name}: worst path {} → {}", b.worst, a.worst);
        assert!(
            a.hot_mean_uncached <= b.hot_mean_uncached,
            "{name}: {:?} → {:?}",
            b.hot_mean_uncached,
            a.hot_mean_uncached
        );
        if kernel {
            let k = kernel_check(&input, &out, o.geometry, &o.symbolic).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(k.accepted, "{name}: the kernel refuses the optimised program");
            assert!(k.disagreements.is_empty(), "{name}: {:?}", k.disagreements);
            assert!(k.probed >= 3, "{name}: rows probed ({})", k.probed);
        }
    }
}

/// A filter that the kernel accepts but whose layout is wasteful on purpose
/// must come out shorter, and a constant-ALLOW-with-data return becomes a
/// cacheable plain ALLOW (the kernel ignores ALLOW's data).
#[test]
fn allow_with_data_becomes_cacheable_and_chains_collapse() {
    // Jump targets are absolute, as `disasm` prints them.
    let src = "ld [4]\njeq #0xc000003e, 2, 8\nld [0]\njeq #39, 6, 4\njeq #1, 7, 5\njeq #2, 7, 8\nret #0x7fff0001\nret #0x50001\nret #0\n";
    let p = validate(&seccheck::bpf::assemble(src).unwrap()).unwrap();
    let o = opts();
    let out = optimize(&p, &o).unwrap().program;
    let g = o.geometry;
    assert!(!CostTable::compute(&[&p], g).unwrap().get(Arch::X86_64, 39).unwrap().cached);
    assert!(CostTable::compute(&[&out], g).unwrap().get(Arch::X86_64, 39).unwrap().cached);
    same_on_inputs(&p, &out, 7);
}

/// Programs with the same meaning compile to the same bytes: the compiler
/// reads meaning, not layout.
#[test]
fn layouts_of_one_profile_compile_to_one_program() {
    let o = opts();
    let files = ["docker_default.x86_64.opt1.bpf", "docker_default.x86_64.opt2.bpf"];
    let outs: Vec<Program> = files
        .iter()
        .map(|f| optimize(&load(&root().join("corpus/compiled").join(f)), &o).unwrap().program.into_program())
        .collect();
    assert_eq!(outs[0], outs[1]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// optimize ∘ input ≡ input on generated programs; only an input the
    /// exact analysis cannot evaluate may be refused, never with a wrong
    /// program, and the cache never serves fewer syscalls.
    #[test]
    fn generated_programs_optimise_equivalently(p in testgen::strategies::valid_program(), seed in any::<u64>()) {
        let input = validate(&p).unwrap();
        let o = opts();
        match optimize(&input, &o) {
            Ok(out) => {
                let out = out.program;
                prop_assert!(out.len() <= 4096);
                same_on_inputs(&input, &out, seed);
                let before = cached_rows(&input, o.geometry);
                let after = cached_rows(&out, o.geometry);
                prop_assert!(before.iter().all(|r| after.contains(r)), "cache coverage lost");
            }
            Err(OptimizeError::Symbolic(_)) | Err(OptimizeError::TooLarge(_)) | Err(OptimizeError::TooLong { .. }) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}

fn seccheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).current_dir(root()).args(args).output().unwrap()
}

#[test]
fn cli_writes_each_form_and_the_oci_annotation_decodes_to_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let input = "corpus/compiled/firecracker_x86_64.api.bpf";
    let raw = dir.path().join("out.bpf");
    let o = seccheck(&["optimize", input, "-o", raw.to_str().unwrap(), "--no-kernel"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("proven equivalent on every input"), "{text}");
    assert!(text.contains("kernel: not asked (--no-kernel)"), "{text}");
    let bytes = std::fs::read(&raw).unwrap();
    let prog = validate(&decode(&bytes, ByteOrder::Little).unwrap()).unwrap();
    let d = seccheck::diff::diff(&load(&root().join(input)), &prog, &Default::default()).unwrap();
    assert!(d.equivalent);

    let asm = dir.path().join("out.s");
    let o = seccheck(&["optimize", input, "-o", asm.to_str().unwrap(), "--output-format", "asm", "--no-kernel"]);
    assert_eq!(o.status.code(), Some(0));
    let back = seccheck::bpf::assemble(&std::fs::read_to_string(&asm).unwrap()).unwrap();
    assert_eq!(back.to_bytes(), bytes, "the listing assembles back to the raw output");

    let base = dir.path().join("config.json");
    std::fs::write(&base, r#"{"ociVersion":"1.0.2","process":{"args":["/bin/true"]},"annotations":{"keep":"me"}}"#)
        .unwrap();
    let oci = dir.path().join("oci.json");
    let o = seccheck(&[
        "optimize",
        input,
        "-o",
        oci.to_str().unwrap(),
        "--output-format",
        "oci",
        "--oci-config",
        base.to_str().unwrap(),
        "--no-kernel",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&oci).unwrap()).unwrap();
    assert_eq!(v["annotations"]["keep"], "me");
    assert_eq!(v["process"]["args"][0], "/bin/true");
    let b64 = v["annotations"]["run.oci.seccomp_bpf_data"].as_str().unwrap();
    assert_eq!(decode_base64(b64), bytes);
}

#[test]
fn cli_refusal_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bpf");
    // `ld [0]` alone: no ret at the end, which the kernel refuses.
    std::fs::write(&bad, [0x20u8, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let out = dir.path().join("out.bpf");
    let o = seccheck(&["optimize", bad.to_str().unwrap(), "-o", out.to_str().unwrap(), "--no-kernel"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists());
    let o = seccheck(&["optimize", "corpus/compiled/firecracker_x86_64.api.bpf", "-o", "-", "--output-format", "oci"]);
    assert_eq!(o.status.code(), Some(2), "oci without --oci-config is a usage error");
}

/// A plain decoder, independent of the encoder under test.
fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    } as u32;
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk.iter().filter(|&&c| c != b'=').fold(0u32, |n, &c| n << 6 | val(c)) << (6 * pad);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// The output is never one of the inputs (the filter, the OCI config, the
/// weights): exit 2, one line naming the path, every file as it was.
#[test]
fn cli_refuses_to_write_over_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let filter = dir.path().join("f.bpf");
    std::fs::copy(root().join("corpus/compiled/firecracker_x86_64.api.bpf"), &filter).unwrap();
    let before = std::fs::read(&filter).unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{}").unwrap();
    let weights = dir.path().join("freq.txt");
    std::fs::write(&weights, "read: 10\nfutex: 5 # hot\n").unwrap();
    let f = filter.to_str().unwrap();
    for (out, extra) in [
        (f, vec![]),
        (config.to_str().unwrap(), vec!["--output-format", "oci", "--oci-config", config.to_str().unwrap()]),
        (weights.to_str().unwrap(), vec!["--weights", weights.to_str().unwrap()]),
    ] {
        let mut args = vec!["optimize", f, "-o", out, "--no-kernel"];
        args.extend(extra);
        let o = seccheck(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(out), "{err}");
    }
    assert_eq!(std::fs::read(&filter).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "{}");
    // The frequency file is read and used.
    let out = dir.path().join("o.bpf");
    let o =
        seccheck(&["optimize", f, "-o", out.to_str().unwrap(), "--no-kernel", "--weights", weights.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("weights: frequency file"));
    std::fs::write(&weights, "no_such_call: 3\n").unwrap();
    let o =
        seccheck(&["optimize", f, "-o", out.to_str().unwrap(), "--no-kernel", "--weights", weights.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("freq.txt:1: no syscall \"no_such_call\""));
}

/// `reports/optimize.md` is what `optimize_report` writes today (instruction
/// counts and bounds only: deterministic), so its figures cannot go stale.
#[test]
fn committed_optimize_report_is_current() {
    let fresh = crate::optimize_report_example::render();
    let committed = std::fs::read_to_string(root().join("reports/optimize.md")).unwrap_or_default();
    assert!(
        committed == fresh,
        "reports/optimize.md is stale; regenerate with `cargo run --release -p seccheck --example optimize_report` and review the diff"
    );
}
