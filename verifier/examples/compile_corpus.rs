//! Compile the corpus profiles with the real generators into `corpus/compiled/`.
//!
//! Run from the workspace root:
//!
//! ```text
//! cargo run -p seccheck --example compile_corpus
//! ```
//!
//! Every output is a raw `struct sock_filter` array (8 little-endian bytes per
//! instruction), exactly what the loader hands to `seccomp(2)`. `INDEX.tsv` lists
//! each file with its source, options, generator and length. The test
//! `corpus_compiled` recompiles everything and compares bytes, so the committed
//! files cannot drift from the generators.
//!
//! Docker/OCI/Kubernetes profiles are resolved for a container with Docker's
//! default capabilities on a Linux 6.18 kernel (fixed, not the running kernel,
//! so the output does not depend on the machine).

use seccheck::arch::Arch;
use seccheck::sources::{
    compile_docker, compile_k8s, compile_seccompiler, CompiledFilter, DockerOptions, KernelVersion, Loader, Optimize,
    SeccompilerOptions,
};
use std::path::{Path, PathBuf};

/// One generated file.
pub struct Output {
    pub file: String,
    pub source: String,
    pub options: String,
    pub filter: CompiledFilter,
}

fn docker(host: Arch, optimize: Optimize, loader: Loader) -> DockerOptions {
    DockerOptions {
        host_arch: host,
        kernel: Some(KernelVersion { kernel: 6, major: 18 }),
        optimize,
        loader,
        ..DockerOptions::default()
    }
}

/// (suffix, host, optimize, loader) variants for Docker-format profiles.
const DOCKER_VARIANTS: &[(&str, Arch, Optimize, Loader)] = &[
    ("x86_64.runc", Arch::X86_64, Optimize::Runc, Loader::Runc),
    ("x86_64.opt1", Arch::X86_64, Optimize::Linear, Loader::Raw),
    ("x86_64.opt2", Arch::X86_64, Optimize::BinaryTree, Loader::Raw),
    ("aarch64.runc", Arch::Aarch64, Optimize::Runc, Loader::Runc),
];

fn describe(o: &DockerOptions) -> String {
    format!(
        "host={} caps=docker-default kernel={} optimize={:?} loader={:?}",
        o.host_arch,
        o.kernel.expect("fixed"),
        o.optimize,
        o.loader
    )
}

/// Compile the whole corpus. `profiles` is `corpus/profiles`.
pub fn compile_all(profiles: &Path) -> Result<Vec<Output>, String> {
    let read = |name: &str| std::fs::read(profiles.join(name)).map_err(|e| format!("{name}: {e}"));
    let mut out = Vec::new();
    for stem in ["docker_default", "podman_containers_common", "seed_backend_denylist"] {
        let src = format!("{stem}.json");
        let bytes = read(&src)?;
        for (suffix, host, optimize, loader) in DOCKER_VARIANTS {
            let o = docker(*host, *optimize, *loader);
            for f in compile_docker(&bytes, &o).map_err(|e| format!("{src}: {e}"))? {
                out.push(Output {
                    file: format!("{stem}.{suffix}.bpf"),
                    source: src.clone(),
                    options: describe(&o),
                    filter: f,
                });
            }
        }
    }
    for src in ["spo_baseprofile-runc.yaml", "spo_seccompprofile.yaml"] {
        let bytes = read(src)?;
        let o = docker(Arch::X86_64, Optimize::Runc, Loader::Runc);
        for f in compile_k8s(&bytes, &o).map_err(|e| format!("{src}: {e}"))? {
            out.push(Output {
                file: format!("spo_{}.x86_64.runc.bpf", f.label),
                source: src.to_owned(),
                options: describe(&o),
                filter: f,
            });
        }
    }
    for (src, stem, target) in [
        ("firecracker_x86_64-unknown-linux-musl.json", "firecracker_x86_64", Arch::X86_64),
        ("firecracker_aarch64-unknown-linux-musl.json", "firecracker_aarch64", Arch::Aarch64),
        ("firecracker_unimplemented.json", "firecracker_unimplemented", Arch::X86_64),
    ] {
        let bytes = read(src)?;
        let o = SeccompilerOptions { target, thread: None };
        for f in compile_seccompiler(&bytes, &o).map_err(|e| format!("{src}: {e}"))? {
            out.push(Output {
                file: format!("{stem}.{}.bpf", f.label),
                source: src.to_owned(),
                options: format!("target={target}"),
                filter: f,
            });
        }
    }
    Ok(out)
}

/// `INDEX.tsv`: one line per output.
pub fn index(outputs: &[Output]) -> String {
    let mut s = String::from("file\tsource\tlabel\toptions\tgenerator\tinstructions\n");
    for o in outputs {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            o.file,
            o.source,
            o.filter.label,
            o.options,
            o.filter.generator,
            o.filter.program.len()
        ));
    }
    s
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[allow(dead_code)] // the corpus test includes this file for compile_all/index only
fn main() {
    let root = workspace_root();
    let outputs = match compile_all(&root.join("corpus/profiles")) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("compile_corpus: {e}");
            std::process::exit(2);
        }
    };
    let dir = root.join("corpus/compiled");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("compile_corpus: {}: {e}", dir.display());
        std::process::exit(2);
    }
    for o in &outputs {
        std::fs::write(dir.join(&o.file), o.filter.program.to_bytes()).expect("write output");
    }
    std::fs::write(dir.join("INDEX.tsv"), index(&outputs)).expect("write INDEX.tsv");
    println!("wrote {} filters to {}", outputs.len(), dir.display());
}
