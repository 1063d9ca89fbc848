//! Throughput of each input reader on realistic inputs (the readers are
//! linear, tested in `tests/readers_hostile.rs`; this shows their speed in bytes per second): a 4096-instruction
//! filter as raw bytes, hex (`xxd -p` and `xxd -p -c1`), a C array, a
//! `BPF_STMT` source and `bpf_asm` decimal text; format detection of the
//! corpus Docker profile and Kubernetes YAML; the ELF scan of a binary.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seccheck::bpf::insn::*;
use seccheck::bpf::Program;
use seccheck::sources::{self, elf, InputFormat, ReadOptions};
use std::hint::black_box;

/// A filter of exactly 4096 instructions: arch check, then a chain of
/// syscall tests, ALLOW at the end.
fn filter_4096() -> Program {
    let mut v = vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0),
        Insn::stmt(BPF_RET | BPF_K, 0),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
    ];
    while v.len() < 4095 {
        v.push(Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, v.len() as u32, 0, 0));
    }
    v.push(Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000));
    Program::new(v)
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/profiles").join(name)).unwrap()
}

fn readers(c: &mut Criterion) {
    let p = filter_4096();
    let raw = p.to_bytes();
    let hex = |per_line: usize| {
        raw.chunks(per_line)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
            .collect::<String>()
    };
    let c_array: String =
        p.insns.iter().map(|i| format!("{{ 0x{:02x}, {}, {}, 0x{:08x} }},\n", i.code, i.jt, i.jf, i.k)).collect();
    let c_macros = format!(
        "#include <linux/filter.h>\nstatic struct sock_filter filter[] = {{\n{}}};\n",
        p.insns
            .iter()
            .map(|i| if i.class() == BPF_JMP {
                format!("    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, {}, {}, {}),\n", i.k, i.jt, i.jf)
            } else if i.class() == BPF_RET {
                format!("    BPF_STMT(BPF_RET | BPF_K, {:#x}),\n", i.k)
            } else {
                format!(
                    "    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, {})),\n",
                    if i.k == 0 { "nr" } else { "arch" }
                )
            })
            .collect::<String>()
    );
    let decimal = format!(
        "{}\n{}",
        p.len(),
        p.insns.iter().map(|i| format!("{} {} {} {}\n", i.code, i.jt, i.jf, i.k)).collect::<String>()
    );
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("raw", raw.clone()),
        ("hex xxd -p", hex(30).into_bytes()),
        ("hex xxd -p -c1", hex(1).into_bytes()),
        ("C array", c_array.into_bytes()),
        ("C BPF_STMT source", c_macros.into_bytes()),
        ("decimal", decimal.into_bytes()),
    ];
    let mut g = c.benchmark_group("read 4096-insn filter");
    for (name, bytes) in &inputs {
        // Every input reads back as the same program.
        assert_eq!(sources::from_bytes(bytes, &ReadOptions::default()).unwrap().program, p, "{name}");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(*name, |b| b.iter(|| sources::from_bytes(black_box(bytes), &ReadOptions::default()).unwrap()));
    }
    g.finish();

    let mut g = c.benchmark_group("detect format");
    for name in ["docker_default.json", "spo_seccompprofile.yaml"] {
        let bytes = corpus(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                assert_eq!(sources::detect(black_box(&bytes)).unwrap(), InputFormat::Profile);
                sources::detect_format(black_box(&bytes)).unwrap()
            })
        });
    }
    g.finish();

    // The ELF scan of a real binary: this bench's own executable.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let mut g = c.benchmark_group("ELF scan");
    g.throughput(Throughput::Bytes(exe.len() as u64));
    g.sample_size(10);
    g.bench_function("bench binary", |b| b.iter(|| elf::scan(black_box(&exe)).unwrap()));
    g.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
