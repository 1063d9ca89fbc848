//! `seccheck scan` on a Rust binary built the way Firecracker ships its filters:
//! seccompiler compiles the JSON at build time and the program embeds the raw
//! `sock_filter` bytes with `include_bytes!`. The scan must find each embedded
//! filter, byte for byte the one seccompiler produced.

#[path = "common/schemas.rs"]
mod schemas;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// seccompiler's output for Firecracker's x86_64 profile: category -> raw bytes
/// (`struct sock_filter` is little-endian on x86_64).
fn compile_firecracker() -> BTreeMap<String, Vec<u8>> {
    let json = workspace_root().join("corpus/profiles/firecracker_x86_64-unknown-linux-musl.json");
    let file = std::fs::File::open(&json).unwrap();
    let map = seccompiler::compile_from_json(file, seccompiler::TargetArch::x86_64)
        .expect("seccompiler compiles the profile");
    map.into_iter()
        .map(|(name, prog)| {
            let bytes = prog
                .iter()
                .flat_map(|f| {
                    let mut b = [0u8; 8];
                    b[..2].copy_from_slice(&f.code.to_le_bytes());
                    b[2] = f.jt;
                    b[3] = f.jf;
                    b[4..].copy_from_slice(&f.k.to_le_bytes());
                    b
                })
                .collect();
            (name, bytes)
        })
        .collect()
}

fn seccheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seccheck")).args(args).output().unwrap()
}

#[test]
fn finds_seccompiler_filters_in_a_rust_binary() {
    let filters = compile_firecracker();
    assert_eq!(filters.keys().map(String::as_str).collect::<Vec<_>>(), ["api", "vcpu", "vmm"]);
    let d = tempfile::tempdir().unwrap();
    let mut src = String::new();
    for (name, bytes) in &filters {
        std::fs::write(d.path().join(format!("{name}.bpf")), bytes).unwrap();
        // A plain byte array, as `include_bytes!` gives it: no alignment promise
        // beyond 1 (the scanner must cope with where the linker puts it).
        src += &format!("static {}: [u8; {}] = *include_bytes!(\"{name}.bpf\");\n", name.to_uppercase(), bytes.len());
    }
    src += "fn main() {\n";
    for name in filters.keys() {
        src += &format!("    println!(\"{{}}\", std::hint::black_box(&{}).len());\n", name.to_uppercase());
    }
    src += "}\n";
    let main = d.path().join("main.rs");
    std::fs::write(&main, src).unwrap();
    let bin = d.path().join("embeds");
    let o = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--edition", "2021", "-C", "opt-level=2", "-o"])
        .arg(&bin)
        .arg(&main)
        .output()
        .expect("rustc runs");
    assert!(o.status.success(), "rustc: {}", String::from_utf8_lossy(&o.stderr));

    let b = bin.to_str().unwrap();
    let o = seccheck(&["scan", b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let found = schemas::parse(&o.stdout);
    let found = found["filters"].as_array().unwrap();

    // Each compiled filter is found exactly once, at a file offset holding its
    // bytes, under its static's name.
    let image = std::fs::read(&bin).unwrap();
    for (name, bytes) in &filters {
        let hits: Vec<&serde_json::Value> = found
            .iter()
            .filter(|f| {
                let off = f["file_offset"].as_u64().unwrap() as usize;
                f["instructions"].as_u64() == Some(bytes.len() as u64 / 8)
                    && image.get(off..off + bytes.len()) == Some(bytes)
            })
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "filter `{name}` ({} instructions) found {} times in {found:#?}",
            bytes.len() / 8,
            hits.len()
        );
        let symbol = hits[0]["symbol"].as_str().unwrap_or("");
        assert!(symbol.contains(&name.to_uppercase()), "filter `{name}` under symbol `{symbol}`");

        // And `BINARY#N` reads it as the same program.
        let sel = format!("{b}#{}", hits[0]["index"]);
        let o = seccheck(&["validate", &sel]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("ok: {} instructions", bytes.len() / 8)));
    }
}
