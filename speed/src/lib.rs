//! `seccheck-speed`: the criterion benchmarks of seccheck's own speed
//! (emulator, symbolic evaluator, readers, …), and their shared inputs: the
//! compiled corpus filters and realistic syscall mixes. Not the `seccheck
//! bench` command, which measures what a filter costs in the kernel.

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
    let mut paths: Vec<_> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "bpf")).collect();
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

// ---- inputs for the symbolic evaluator benches ----

use seccheck::bpf::insn::*;
use seccheck::bpf::Program;

/// A filter whose decision is the parity of 30 bits of `arg0`: two interleaved
/// chains (even / odd so far), each bit test moving between them, so 2^30
/// distinct paths reach the two returns. Path enumeration would never finish;
/// the exact BDDs are 2 nodes per bit.
pub fn parity_filter(bits: u32) -> ValidProgram {
    let mut p = vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, Arch::X86_64.audit_arch(), 1, 0),
        Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_KILL_PROCESS),
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
    ];
    for i in 0..bits {
        // even chain: set bit -> odd (+2), clear -> even (+1)
        p.push(Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1 << i, 2, 1));
        // odd chain: set bit -> even (+0), clear -> odd (+1)
        p.push(Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1 << i, 0, 1));
    }
    p.push(Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_ALLOW));
    p.push(Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_ERRNO | 1));
    validate(&Program::new(p)).expect("parity filter is valid")
}

/// A 4096-instruction filter (the kernel's maximum): arch check, then a linear
/// chain of 681 syscall rules, each checking one argument against a bound.
pub fn max_length_filter() -> ValidProgram {
    let mut p = vec![
        Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, Arch::X86_64.audit_arch(), 1, 0),
        Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_KILL_PROCESS),
    ];
    let mut i = 0u32;
    while p.len() + 6 < 4096 {
        p.extend([
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, i, 0, 4),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16 + 8 * (i % 6)),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, i.wrapping_mul(0x9e37_79b9), 0, 1),
            Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_ALLOW),
            Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_ERRNO | (i & 0xfff)),
        ]);
        i += 1;
    }
    while p.len() < 4095 {
        p.push(Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0));
    }
    p.push(Insn::stmt(BPF_RET | BPF_K, seccheck::seccomp::SECCOMP_RET_ERRNO | 38));
    validate(&Program::new(p)).expect("max-length filter is valid")
}

#[path = "../../verifier/tests/common/docker_like.rs"]
pub mod docker_like;

/// Docker's default profile shape (see `docker_like`) compiled by libseccomp
/// for x86_64, x32 and i386 at optimisation level `optimize`.
pub fn docker_like_filter(optimize: u32) -> ValidProgram {
    use libseccomp::*;
    use std::io::{Read, Seek};
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(docker_like::DEFAULT_ERRNO as i32)).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for a in [ScmpArch::X8664, ScmpArch::X32, ScmpArch::X86] {
        ctx.add_arch(a).unwrap();
    }
    ctx.set_ctl_optimize(optimize).unwrap();
    let add = |ctx: &mut ScmpFilterContext, action, name: &str, args: &[ScmpArgCompare]| {
        if let Ok(sc) = ScmpSyscall::from_name(name) {
            let _ = if args.is_empty() { ctx.add_rule(action, sc) } else { ctx.add_rule_conditional(action, sc, args) };
        }
    };
    for n in docker_like::ALLOW {
        add(&mut ctx, ScmpAction::Allow, n, &[]);
    }
    for &(name, arg, op, datum, mask) in docker_like::ARG_RULES {
        let op = match op {
            "LT" => ScmpCompareOp::Less,
            "EQ" => ScmpCompareOp::Equal,
            "GT" => ScmpCompareOp::Greater,
            _ => ScmpCompareOp::MaskedEqual(mask),
        };
        add(&mut ctx, ScmpAction::Allow, name, &[ScmpArgCompare::new(arg, op, datum)]);
    }
    for n in docker_like::ERRNO_38 {
        add(&mut ctx, ScmpAction::Errno(38), n, &[]);
    }
    let mut f = tempfile::tempfile().unwrap();
    ctx.export_bpf(&f).unwrap();
    f.rewind().unwrap();
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    validate(&decode(&bytes, ByteOrder::Little).unwrap()).unwrap()
}

/// The filters the symbolic benches run on, by name.
pub fn symbolic_bench_filters() -> Vec<(String, ValidProgram)> {
    let mut v: Vec<(String, ValidProgram)> =
        compiled_corpus().into_iter().filter(|(n, _)| n.starts_with("docker_default.x86_64")).collect();
    v.push(("docker-like-libseccomp-opt1".into(), docker_like_filter(1)));
    v.push(("docker-like-libseccomp-opt2".into(), docker_like_filter(2)));
    v.push(("parity-30-bits".into(), parity_filter(30)));
    v.push(("max-length-4096".into(), max_length_filter()));
    v
}

/// A realistic x86_64 call mix for the emulator benches, `n` calls: 70 % the
/// hot syscalls `seccheck bench` times (getpid, clock_gettime, read, write,
/// futex with its private wait/wake ops, epoll_wait, openat, close), 20 %
/// uniformly random numbers of the x86_64 table with random arguments, 10 %
/// the calls Docker's default decides on an argument (clone with and without
/// namespace flags, socket by address family, personality by persona).
pub fn realistic_mix(n: usize, seed: u64) -> Vec<SeccompData> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let arch = Arch::X86_64;
    let nr = |name: &str| arch.syscall_nr(name).expect("x86_64 names its hot syscalls");
    let hot = ["getpid", "clock_gettime", "read", "write", "futex", "epoll_wait", "openat", "close"].map(nr);
    let (futex, clone, socket, personality) = (nr("futex"), nr("clone"), nr("socket"), nr("personality"));
    let table = arch.syscalls();
    (0..n)
        .map(|_| {
            let mut d = SeccompData {
                nr: 0,
                arch: arch.audit_arch(),
                instruction_pointer: 0x7f00_0000_1000 + rng.gen_range(0..0x1000),
                args: [rng.gen_range(0..64), rng.gen(), rng.gen_range(0..4096), 0, 0, 0],
            };
            match rng.gen_range(0..10) {
                0..=6 => {
                    d.nr = hot[rng.gen_range(0..hot.len())];
                    if d.nr == futex {
                        d.args[1] = [128, 129, 137, 138][rng.gen_range(0..4)];
                    }
                }
                7 | 8 => {
                    d.nr = table[rng.gen_range(0..table.len())].0;
                    d.args = [rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen(), rng.gen()];
                }
                _ => match rng.gen_range(0..3) {
                    0 => {
                        d.nr = clone;
                        d.args[0] = [0x0100_0000 | 17, 0x003d_0f00, 0x1000_0000][rng.gen_range(0..3)];
                    }
                    1 => {
                        d.nr = socket;
                        d.args[0] = rng.gen_range(0..45);
                    }
                    _ => {
                        d.nr = personality;
                        d.args[0] = [0, 8, 0x20000, 0x20008, 0xffff_ffff, 0x0040_0000][rng.gen_range(0..6)];
                    }
                },
            }
            d
        })
        .collect()
}
