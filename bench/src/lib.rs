//! Shared inputs for the criterion benches: the compiled corpus filters and
//! realistic syscall mixes. (The kernel overhead suite arrives with issue 7.)

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use seccheck::arch::Arch;
use seccheck::bpf::{decode, validate, ByteOrder, ValidProgram};
use seccheck::seccomp::SeccompData;
use std::path::{Path, PathBuf};

/// The workspace's `corpus/compiled/` directory.
pub fn compiled_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/compiled")
}

/// Every `*.bpf` file in `corpus/compiled/`, decoded and validated, by file stem.
pub fn compiled_corpus() -> Vec<(String, ValidProgram)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(compiled_dir()) else { return out };
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "bpf")).collect();
    paths.sort();
    for p in paths {
        let bytes = std::fs::read(&p).expect("read corpus filter");
        let prog = decode(&bytes, ByteOrder::Little).expect("corpus filter decodes");
        let valid = validate(&prog).unwrap_or_else(|v| panic!("{}: {v:?}", p.display()));
        out.push((p.file_stem().unwrap().to_string_lossy().into_owned(), valid));
    }
    out
}

/// `n` syscalls of `arch`, numbers drawn uniformly from its table, random arguments.
pub fn syscall_mix(arch: Arch, n: usize, seed: u64) -> Vec<SeccompData> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let table = arch.syscalls();
    (0..n)
        .map(|_| SeccompData {
            nr: if table.is_empty() { rng.gen_range(0..450) } else { table[rng.gen_range(0..table.len())].0 },
            arch: arch.audit_arch(),
            instruction_pointer: 0x7f00_0000_1000,
            args: [rng.gen::<u8>() as u64, rng.gen(), rng.gen::<u16>() as u64, rng.gen(), 0, 0],
        })
        .collect()
}
