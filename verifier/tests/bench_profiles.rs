//! The generator comparison in `seccheck bench` is fair only if the Docker and
//! seccompiler versions of `bench/profiles/hot_server` mean the same thing:
//! every compiled variant gives the same action for every x86_64 syscall
//! number with the arguments the benchmark's probes use (and with zeros).

use seccheck::bpf::validate;
use seccheck::emu::Emulator;
use seccheck::kernel::overhead::{Probe, ProbeContext};
use seccheck::seccomp::{Action, SeccompData};
use seccheck::sources::{read_file, DockerOptions, Loader, Optimize, ReadOptions};
use std::path::Path;

fn load(file: &str, optimize: Optimize, loader: Loader, filter: Option<&str>) -> Emulator {
    let mut opts = ReadOptions::default();
    opts.compile.docker = DockerOptions { optimize, loader, ..DockerOptions::default() };
    opts.filter = filter.map(str::to_string);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/profiles").join(file);
    let loaded = read_file(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
    Emulator::new(&validate(&loaded.program).unwrap())
}

#[test]
fn hot_server_variants_agree_on_x86_64() {
    let variants = [
        ("opt1", load("hot_server.docker.json", Optimize::Linear, Loader::Raw, None)),
        ("opt2", load("hot_server.docker.json", Optimize::BinaryTree, Loader::Raw, None)),
        ("seccompiler", load("hot_server.seccompiler.json", Optimize::Runc, Loader::Runc, Some("server"))),
    ];
    let ctx = ProbeContext::new();
    let mut inputs: Vec<SeccompData> = Probe::HOT.iter().flat_map(|&p| ctx.inputs(p)).collect();
    inputs.extend((0..470).map(|nr| SeccompData { nr, arch: 0xc000_003e, ..Default::default() }));
    // futex with each allowed op and a denied one
    for op in [128u64, 129, 137, 138, 0, 1] {
        inputs.push(SeccompData { nr: 202, arch: 0xc000_003e, args: [0, op, 1, 0, 0, 0], ..Default::default() });
    }
    let mut allowed = 0;
    for d in &inputs {
        let want = variants[0].1.action(d);
        for (name, e) in &variants[1..] {
            assert_eq!(e.action(d), want, "{name} differs from opt1 on {d:?}");
        }
        allowed += usize::from(want == Action::Allow);
    }
    assert!(allowed > 50, "the profile allows its hot syscalls ({allowed})");
    let futex_wait_shared = SeccompData { nr: 202, arch: 0xc000_003e, args: [0, 0, 1, 0, 0, 0], ..Default::default() };
    assert_eq!(variants[0].1.action(&futex_wait_shared), Action::Errno(1));
}
