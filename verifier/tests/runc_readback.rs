//! Golden files from the real runtime: filters that runc 1.1.5 + libseccomp
//! 2.5.4 installed in running containers (see corpus/runc-readback/README.md)
//! equal what seccheck compiles for the same OCI profiles.

use seccheck::sources::{compile_docker, DockerOptions, Optimize};
use std::path::PathBuf;

fn check(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/runc-readback");
    let profile = std::fs::read(dir.join(format!("{name}.oci.json"))).unwrap();
    let held = std::fs::read(dir.join(format!("{name}.runc-1.1.5.bpf"))).unwrap();
    // runc 1.1.5 predates SetOptimize(2): libseccomp's default, linear, layout.
    let o = DockerOptions { optimize: Optimize::Linear, ..DockerOptions::default() };
    let f = compile_docker(&profile, &o).unwrap();
    assert_eq!(f.len(), 1);
    assert!(f[0].program.to_bytes() == held, "{name}: seccheck's program differs from the one runc loaded");
}

#[test]
fn docker_default_equals_runc_loaded_filter() {
    check("docker_default");
}

#[test]
fn mixed_rules_equal_runc_loaded_filter() {
    check("mixed_rules");
}
