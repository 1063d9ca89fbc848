//! The fuzz targets: plain functions from bytes (read through
//! [`arbitrary::Unstructured`]) to `Ok(())` or a [`Failure`]. The stable
//! runner, the libFuzzer entry points (`libfuzzer/fuzz_targets/`) and the
//! regression replay (`tests/regressions.rs`) all call these.
//!
//! Structure-aware: most targets read a seed from the bytes and build valid
//! programs with `seccheck::testgen` (filter-shaped programs, ALU/jump soup,
//! mutations), then read further choices (which rewrite, which inputs) from
//! the remaining bytes; raw-byte targets decode the bytes as they are.

use arbitrary::Unstructured;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use seccheck::bpf::insn::*;
use seccheck::bpf::{self, decode, disassemble, AsmErrorKind, ByteOrder, DisasmOptions, Program, ValidProgram};
use seccheck::emu::{CompiledEmulator, Emulator};
use seccheck::genfuzz::{self, Case, CaseOutcome};
use seccheck::seccomp::SeccompData;
use seccheck::symbolic;
use seccheck::testgen;

/// Why a target rejected an input: a panic (caught by the runner) or a broken
/// property. `kind` is stable per cause (used to deduplicate and to name
/// regression files); `known:<id>` marks a known generator issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
    /// It depends on this machine's state (how fast it is right now, whether
    /// the kernel can load filters): reported, but never minimised or saved
    /// as a regression file, whose replay would then depend on the machine.
    pub machine_dependent: bool,
}

impl Failure {
    pub fn new(kind: &str, detail: impl Into<String>) -> Failure {
        Failure { kind: kind.into(), detail: detail.into(), machine_dependent: false }
    }

    /// The same failure, marked as depending on this machine when `yes`.
    pub fn depending_on_machine(self, yes: bool) -> Failure {
        Failure { machine_dependent: yes, ..self }
    }
}

fn fail(kind: &str, detail: impl Into<String>) -> Result<(), Failure> {
    Err(Failure::new(kind, detail))
}

/// A target: name, function, what it checks, whether it needs the kernel.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> Result<(), Failure>,
    pub about: &'static str,
    pub kernel: bool,
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target { name: "decode_validate", run: decode_validate, about: "decode (both byte orders), validate, disassemble and emulate any bytes: never panics; validate() agrees with violations()", kernel: false },
    Target { name: "validate_kernel", run: validate_kernel, about: "validator's accept/reject equals the running kernel's (paced via kernel::health::pace)", kernel: true },
    Target { name: "emu_symbolic", run: emu_symbolic, about: "emulator and symbolic evaluator give the same return value on generated and boundary inputs", kernel: false },
    Target { name: "compiled_emu", run: compiled_emu, about: "the compiled emulator returns the interpreter's value on generated, mutated and raw programs, at inputs aimed at their constants, raw input bytes and both ends of every (arch, nr) interval its tables distinguish", kernel: false },
    Target { name: "asm_roundtrip", run: asm_roundtrip, about: "disasm | asm is byte-exact for every decodable program; the assembler never panics on text", kernel: false },
    Target { name: "policy_parse", run: policy_parse, about: "the policy.toml parser never panics; errors carry a line; `when` conditions built from runs of nesting and long chains stay within the depth limit, print back to the same meaning, and their errors point at the `when`", kernel: false },
    Target { name: "diff_props", run: diff_props, about: "diff(A, A) is empty; diff(A, B) and diff(B, A) agree (same regions, sides swapped); every region's example differs", kernel: false },
    Target { name: "rewrites", run: rewrites, about: "optimiser-style rewrites (jump threading, JGT/JGE k±1, jt==jf → JA, NOP insertion with relocation, swapping independent statements, reordering comparison chains) keep the program equivalent", kernel: false },
    Target { name: "gen_libseccomp", run: gen_libseccomp, about: "random Docker/OCI profiles compiled by libseccomp (optimize 1 and 2) mean what their documentation says", kernel: false },
    Target { name: "readers", run: readers, about: "every input reader (auto, hex, C, decimal, profile detection) on text built from reader-shaped pieces never panics, errs in one line, and takes time linear in the input (16x the input, < 8x the time per byte)", kernel: false },
    Target { name: "elf_scan", run: elf_scan, about: "the linear ELF region scan finds exactly what the quadratic reference scan finds, on bytes built from filter pieces", kernel: false },
    Target { name: "optimize", run: optimize, about: "seccheck optimize on generated programs: the result is proven equivalent (or an explicit refusal: budget, size), valid, and the emulator agrees on inputs aimed at both programs", kernel: false },
    Target { name: "gen_seccompiler", run: gen_seccompiler, about: "random seccompiler JSON compiled by seccompiler means what its documentation says", kernel: false },
];

/// Look a target up by name.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// A valid program chosen by the bytes: one of testgen's generators (seeded
/// from the bytes), possibly mutated until valid, or the bytes decoded raw.
fn program(u: &mut Unstructured) -> arbitrary::Result<Option<(ValidProgram, SmallRng)>> {
    let seed: u64 = u.arbitrary()?;
    let mut rng = SmallRng::seed_from_u64(seed);
    let p = match u.int_in_range(0u8..=5)? {
        0 => {
            let n = u.int_in_range(1usize..=64)?;
            let bytes = u.bytes((n * 8).min(u.len() / 8 * 8))?;
            match decode(bytes, ByteOrder::Little) {
                Ok(p) => p,
                Err(_) => return Ok(None),
            }
        }
        1 => {
            let base = testgen::valid_program(&mut rng);
            testgen::mutate(&mut rng, &base)
        }
        _ => testgen::valid_program(&mut rng),
    };
    Ok(bpf::validate(&p).ok().map(|v| (v, rng)))
}

fn inputs(u: &mut Unstructured, p: &Program, rng: &mut SmallRng, n: usize) -> Vec<SeccompData> {
    let mut v = testgen::inputs_for(rng, p, n);
    while let Ok(true) = u.arbitrary::<bool>() {
        let Ok(bytes) = u.bytes(64) else { break };
        let w = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        let q = |i: usize| u64::from(w(i)) | (u64::from(w(i + 4)) << 32);
        v.push(SeccompData {
            nr: w(0),
            arch: w(4),
            instruction_pointer: q(8),
            args: [q(16), q(24), q(32), q(40), q(48), q(56)],
        });
    }
    v
}

/// Any bytes: decode, validate, disassemble, emulate. Nothing may panic, and
/// `validate` must accept exactly when `violations` finds none.
pub fn decode_validate(data: &[u8]) -> Result<(), Failure> {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let Ok(p) = decode(data, order) else { continue };
        let v = bpf::validate::violations(&p);
        let valid = bpf::validate(&p);
        if valid.is_ok() != v.is_empty() {
            return fail("validate-vs-violations", format!("validate ok={} but {} violations", valid.is_ok(), v.len()));
        }
        for x in &v {
            if x.insn.is_some_and(|i| i > p.len()) {
                return fail("violation-index-out-of-range", format!("{x} (program has {} insns)", p.len()));
            }
        }
        let _ = disassemble(&p, &DisasmOptions::default());
        if let Ok(vp) = valid {
            let emu = Emulator::new(&vp);
            let mut d = SeccompData::default();
            for (i, c) in data.chunks(4).take(16).enumerate() {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                let w = u32::from_le_bytes(w);
                match i {
                    0 => d.nr = w,
                    1 => d.arch = w,
                    2..=3 => d.instruction_pointer ^= u64::from(w) << (32 * (i - 2)),
                    _ => d.args[(i - 4) / 2] ^= u64::from(w) << (32 * ((i - 4) % 2)),
                }
            }
            let _ = emu.trace(&d);
        }
    }
    Ok(())
}

/// The validator and the running kernel agree on accept/reject. Programs are
/// generated valid, mutated (both verdicts), or the raw bytes. Each kernel
/// load is paced (`kernel::validate::accepts` calls `health::pace(1)`).
pub fn validate_kernel(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let seed: u64 = u.arbitrary().unwrap_or(0);
    let mut rng = SmallRng::seed_from_u64(seed);
    let p = match u.int_in_range(0u8..=3).unwrap_or(0) {
        0 => match decode(u.take_rest(), ByteOrder::Little) {
            Ok(p) if !p.is_empty() => p,
            _ => return Ok(()),
        },
        1 => testgen::valid_program(&mut rng),
        _ => {
            let base = testgen::valid_program(&mut rng);
            testgen::mutate(&mut rng, &base)
        }
    };
    if p.len() > 4096 {
        return Ok(());
    }
    let ours = bpf::validate(&p).is_ok();
    match seccheck::kernel::accepts(&p) {
        Ok(v) => {
            let kernel = matches!(v, seccheck::kernel::Acceptance::Accepted);
            if kernel != ours {
                return fail(
                    "validator-vs-kernel",
                    format!(
                        "validator accepts={ours}, kernel accepts={kernel}: {v:?}\n{}",
                        disassemble(&p, &DisasmOptions::default())
                    ),
                );
            }
            Ok(())
        }
        Err(e) => Err(Failure::new("kernel-oracle-unavailable", e.to_string()).depending_on_machine(true)),
    }
}

/// Emulator ≡ symbolic evaluator on every sampled input. An explicit
/// `SymbolicError` (budget, unsupported construct) is an allowed answer.
pub fn emu_symbolic(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let Ok(Some((p, mut rng))) = program(&mut u) else { return Ok(()) };
    let opts = symbolic::Options { node_limit: 1 << 18, ..Default::default() };
    let Ok(an) = symbolic::analyze(&p, &opts) else { return Ok(()) };
    let emu = Emulator::new(&p);
    for d in inputs(&mut u, p.program(), &mut rng, 48) {
        let o = emu.trace(&d);
        match an.exit_for(&d) {
            Some(e) if e.ret == o.ret && Some(&e.insn) == o.path.last() => {}
            other => {
                return fail(
                    "emu-vs-symbolic",
                    format!(
                        "{d:?}: emulator {:#x} at {:?}, symbolic {:?}",
                        o.ret,
                        o.path.last(),
                        other.map(|e| (e.ret, e.insn))
                    ),
                )
            }
        }
    }
    Ok(())
}

/// Most boundary rows checked per template input: programs with many
/// intervals would otherwise spend the run on one input.
const BOUNDARY_ROWS: usize = 2048;

/// `CompiledEmulator::run` ≡ `Emulator::run` (the reference) on every sampled
/// input: the aimed inputs and raw ones from the bytes, and for the first
/// two of them (their arguments and instruction pointer kept) both ends of
/// every `arch` and `nr` interval the compiled tables distinguish.
pub fn compiled_emu(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let Ok(Some((p, mut rng))) = program(&mut u) else { return Ok(()) };
    let (emu, compiled) = (Emulator::new(&p), CompiledEmulator::new(&p));
    let mut all = inputs(&mut u, p.program(), &mut rng, 48);
    let rows: Vec<SeccompData> =
        all.iter().take(2).flat_map(|d| compiled.boundary_rows(d).into_iter().take(BOUNDARY_ROWS)).collect();
    all.extend(rows);
    for d in &all {
        let (want, got) = (emu.run(d), compiled.run(d));
        if got != want {
            return fail(
                "compiled-vs-interpreter",
                format!(
                    "{d:?}: compiled {got:#x}, interpreter {want:#x} ({:?})\n{}",
                    compiled.shape(),
                    disassemble(p.program(), &DisasmOptions::default())
                ),
            );
        }
    }
    Ok(())
}

/// `optimize` on generated programs: a program comes out only proven
/// equivalent and valid (checked again here with the emulator); the only
/// refusals allowed are the explicit ones for inputs beyond the budgets.
pub fn optimize(data: &[u8]) -> Result<(), Failure> {
    use seccheck::optimize::{optimize, OptimizeError, OptimizeOptions};
    let mut u = Unstructured::new(data);
    let Ok(Some((p, mut rng))) = program(&mut u) else { return Ok(()) };
    let mut opts = OptimizeOptions::for_host(seccheck::arch::Arch::X86_64).expect("x86_64 geometry is known");
    opts.symbolic.node_limit = 1 << 18;
    let out = match optimize(&p, &opts) {
        Ok(o) => o.program,
        Err(OptimizeError::Symbolic(_) | OptimizeError::TooLarge(_) | OptimizeError::TooLong { .. }) => return Ok(()),
        Err(OptimizeError::Proof(seccheck::diff::CompareError::NodeLimit { .. })) => return Ok(()),
        Err(e) => return fail("optimize-refused", e.to_string()),
    };
    let (a, b) = (Emulator::new(&p), Emulator::new(&out));
    for d in
        inputs(&mut u, p.program(), &mut rng, 32).into_iter().chain(testgen::inputs_for(&mut rng, out.program(), 32))
    {
        let (x, y) = (a.run(&d), b.run(&d));
        if seccheck::seccomp::Action::from_ret(x) != seccheck::seccomp::Action::from_ret(y) {
            return fail("optimize-differs", format!("{d:?}: input {x:#x}, optimised {y:#x}"));
        }
    }
    Ok(())
}

/// `disasm | asm` is byte-exact for any decodable program; the assembler
/// never panics on arbitrary text.
pub fn asm_roundtrip(data: &[u8]) -> Result<(), Failure> {
    if let Some((&mode, rest)) = data.split_first() {
        if mode & 1 == 1 {
            let _ = bpf::assemble(&String::from_utf8_lossy(rest));
            return Ok(());
        }
        if let Ok(p) = decode(&rest[..rest.len() / 8 * 8], ByteOrder::Little) {
            if p.is_empty() {
                // Zero bytes decode to the empty program (the kernel refuses it,
                // `seccomp_prepare_filter`), whose listing has no instruction:
                // the assembler must refuse that listing with its explicit error.
                let text = disassemble(&p, &DisasmOptions::default());
                return match bpf::assemble(&text) {
                    Err(e) if e.iter().any(|e| e.kind == AsmErrorKind::Empty) => Ok(()),
                    other => fail("roundtrip-empty-not-refused", format!("{other:?}\n{text}")),
                };
            }
            for comments in [true, false] {
                let text = disassemble(&p, &DisasmOptions { comments, arch: None });
                match bpf::assemble(&text) {
                    Ok(q) if q.to_bytes() == p.to_bytes() => {}
                    Ok(q) => {
                        return fail("roundtrip-bytes-differ", format!("{} insns in, {} out\n{text}", p.len(), q.len()))
                    }
                    Err(e) => return fail("roundtrip-assemble-error", format!("{:?}\n{text}", e.first())),
                }
            }
        }
    }
    Ok(())
}

/// The policy parser never panics, and each error has a line number within
/// the text. Half the inputs (first byte odd) are read as raw policy text; the
/// other half build a `when` condition from runs of pieces (`(` and `not`
/// repeated up to 300 times, chains of up to 2 000 operands), so the depth
/// limit and long flat chains are reached on every few inputs.
pub fn policy_parse(data: &[u8]) -> Result<(), Failure> {
    if data.first().is_some_and(|b| b & 1 == 1) {
        return policy_when(&data[1..]);
    }
    let text = String::from_utf8_lossy(data);
    if let Err(errs) = seccheck::policy::parse(&text) {
        if errs.is_empty() {
            return fail("policy-error-list-empty", "parse failed with no error");
        }
        let lines = text.lines().count().max(1) + 1;
        if let Some(e) = errs.iter().find(|e| e.line == 0 || e.line > lines || e.col == 0) {
            return fail("policy-error-outside-text", format!("{e} (the text has {lines} lines)"));
        }
    }
    Ok(())
}

/// A `when` condition assembled from `data`: it parses within the limits or
/// is refused pointing inside it; what parses prints back to the same meaning.
fn policy_when(data: &[u8]) -> Result<(), Failure> {
    use seccheck::when::{self, MAX_DEPTH};
    const PIECES: &[&str] = &[
        "(",
        ")",
        "not ",
        "arg0 == 1",
        " or ",
        " and ",
        "arg1 & O_CREAT != 0",
        "ip in [1, 0x10]",
        "arg2 <= (4 | 1)",
        "arg3 > ",
        "(",
        "7",
        ")",
        "arg5 & 0xff == 0x7f",
        " or arg4 != 3",
        " and not arg0 < 2",
    ];
    let mut u = Unstructured::new(data);
    let mut when = String::new();
    while let (Ok(i), Ok(n)) = (u.choose_index(PIECES.len()), u.arbitrary::<u8>()) {
        // Mostly single pieces; sometimes long runs (nesting, chains).
        let reps = match n {
            0..=199 => 1,
            200..=239 => (n as usize - 190) * 6,
            _ => (n as usize - 239) * 125,
        };
        when.push_str(&PIECES[i].repeat(reps));
        if when.len() > 200_000 {
            break;
        }
    }
    let arches = [seccheck::arch::Arch::X86_64];
    let parsed = when::parse(&when, &arches);
    let text = format!("arches = [\"x86_64\"]\n[[allow_only_if]]\nsyscalls = [\"openat\"]\nwhen = \"{when}\"\n");
    let policy = seccheck::policy::parse(&text);
    match (&parsed, &policy) {
        (Ok(e), Ok(p)) => {
            let max = 2 * (MAX_DEPTH + 1) + 1;
            if e.depth() > max {
                return fail("policy-when-too-deep", format!("depth {} > {max}", e.depth()));
            }
            if p.rules[0].when.as_ref().map(|(_, w)| w) != Some(e) {
                return fail("policy-when-differs", "the policy's condition is not the expression parsed alone");
            }
            // Printed and read back (when the printed form, which adds
            // parentheses, is itself within the limit): the same meaning.
            match when::parse(&e.to_string(), &arches) {
                Ok(back) => {
                    for k in 0..16u64 {
                        let args = [k & 1, (k & 2) << 5, k, 0x7f * (k & 1), k + 2, 0xff * (k >> 3)];
                        if back.eval(&args, k) != e.eval(&args, k) {
                            return fail(
                                "policy-when-print",
                                format!("{e} reads back with another meaning at {args:?}"),
                            );
                        }
                    }
                }
                Err(err) if err.msg.contains("levels of parentheses") => {}
                Err(err) => return fail("policy-when-print", format!("printed form does not parse: {err}")),
            }
        }
        (Err(e), Err(errs)) => {
            if e.offset > when.len() {
                return fail("policy-when-error-offset", format!("{e} in {} bytes", when.len()));
            }
            // The condition is on line 4, starting at column 9.
            if errs.len() != 1 || errs[0].line != 4 || errs[0].col != 9 + e.offset || !errs[0].msg.ends_with(&e.msg) {
                return fail("policy-when-error-position", format!("{errs:?} for {e}"));
            }
        }
        _ => {
            return fail(
                "policy-when-disagree",
                format!("alone: {:?}, in a policy: {:?}", parsed.as_ref().err(), policy.as_ref().err()),
            )
        }
    }
    Ok(())
}

fn two_programs(u: &mut Unstructured) -> Option<(ValidProgram, ValidProgram)> {
    let (a, mut rng) = program(u).ok()??;
    let b = if u.arbitrary::<bool>().ok()? {
        bpf::validate(&testgen::mutate(&mut rng, a.program())).ok()?
    } else {
        program(u).ok()??.0
    };
    Some((a, b))
}

/// diff(A, A) is empty; diff(A, B) and diff(B, A) have the same regions with
/// the sides swapped; every region's example really differs in the emulator.
pub fn diff_props(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let Some((a, b)) = two_programs(&mut u) else { return Ok(()) };
    let opts = symbolic::Options { node_limit: 1 << 18, ..Default::default() };
    use seccheck::diff::diff;
    let Ok(aa) = diff(&a, &a, &opts) else { return Ok(()) };
    if !aa.equivalent || !aa.regions.is_empty() {
        return fail("diff-self-not-empty", format!("{} regions", aa.regions.len()));
    }
    let (Ok(ab), Ok(ba)) = (diff(&a, &b, &opts), diff(&b, &a, &opts)) else { return Ok(()) };
    let key = |d: &seccheck::diff::Diff, swap: bool| {
        let mut v: Vec<String> = d
            .regions
            .iter()
            .map(|r| {
                let (x, y) = if swap { (r.b, r.a) } else { (r.a, r.b) };
                format!("{:?} {:?} {:?} {:?} {x:?} {y:?}", r.arch, r.syscalls, r.numbers, r.when)
            })
            .collect();
        v.sort();
        v
    };
    if ab.equivalent != ba.equivalent || key(&ab, false) != key(&ba, true) {
        return fail(
            "diff-not-symmetric",
            format!("A→B {} regions, B→A {} regions", ab.regions.len(), ba.regions.len()),
        );
    }
    let (ea, eb) = (Emulator::new(&a), Emulator::new(&b));
    for r in &ab.regions {
        let d = r.example.input;
        if ea.action(&d) == eb.action(&d) {
            return fail("diff-example-does-not-differ", format!("{d:?}"));
        }
    }
    Ok(())
}

/// Instructions whose index some jump lands on (so they must stay first in place).
fn jump_targets(insns: &[Insn]) -> Vec<bool> {
    let mut t = vec![false; insns.len() + 1];
    for (pc, i) in insns.iter().enumerate() {
        if i.class() == BPF_JMP {
            for s in i.successors(pc).iter() {
                if s != pc + 1 && s <= insns.len() {
                    t[s] = true;
                }
            }
        }
    }
    t
}

/// Which of A, X, M[k] an instruction reads and writes (bit 0 = A, 1 = X,
/// 2 + k = M[k]); `None` for jumps and returns.
fn effects(i: &Insn) -> Option<(u32, u32)> {
    const A: u32 = 1;
    const X: u32 = 2;
    let m = |k: u32| 4u32 << (k & 15);
    Some(match i.class() {
        BPF_LD if i.code & 0xe0 == BPF_MEM => (m(i.k), A),
        BPF_LD => (0, A),
        BPF_LDX if i.code & 0xe0 == BPF_MEM => (m(i.k), X),
        BPF_LDX => (0, X),
        BPF_ST => (A, m(i.k)),
        BPF_STX => (X, m(i.k)),
        BPF_ALU if i.code & 0x08 == BPF_X => (A | X, A),
        BPF_ALU => (A, A),
        BPF_MISC if i.code == BPF_MISC | BPF_TAX => (A, X),
        BPF_MISC => (X, A),
        _ => return None,
    })
}

/// Insert `JA 0` before `at`, relocating every jump that crosses it. `None`
/// when an offset would overflow.
fn insert_nop(insns: &[Insn], at: usize) -> Option<Vec<Insn>> {
    let mut out = Vec::with_capacity(insns.len() + 1);
    for (pc, i) in insns.iter().enumerate() {
        if pc == at {
            out.push(Insn::stmt(BPF_JMP | BPF_JA, 0));
        }
        let mut j = *i;
        if pc < at && i.class() == BPF_JMP {
            if i.code == BPF_JMP | BPF_JA {
                if pc + 1 + i.k as usize >= at {
                    j.k = i.k.checked_add(1)?;
                }
            } else {
                if pc + 1 + i.jt as usize >= at {
                    j.jt = i.jt.checked_add(1)?;
                }
                if pc + 1 + i.jf as usize >= at {
                    j.jf = i.jf.checked_add(1)?;
                }
            }
        }
        out.push(j);
    }
    Some(out)
}

/// Apply one semantics-preserving rewrite chosen by `choice` at `at`.
/// How many kinds of rewrite [`rewrite`] knows.
const REWRITES: u8 = 6;

fn rewrite(insns: &[Insn], choice: u8, at: usize) -> Option<Vec<Insn>> {
    let mut v = insns.to_vec();
    let n = v.len();
    let i = v[at];
    match choice % REWRITES {
        // Jump threading: a branch to `JA x` goes to x directly.
        0 if i.is_cond_jump() => {
            let thread = |off: u8| -> Option<u8> {
                let t = at + 1 + off as usize;
                let ti = insns.get(t)?;
                if ti.code != BPF_JMP | BPF_JA {
                    return None;
                }
                u8::try_from(off as u64 + 1 + u64::from(ti.k)).ok()
            };
            let (jt, jf) = (thread(i.jt), thread(i.jf));
            if jt.is_none() && jf.is_none() {
                return None;
            }
            v[at].jt = jt.unwrap_or(i.jt);
            v[at].jf = jf.unwrap_or(i.jf);
        }
        // `a > k` ⇔ `a >= k + 1`, and back.
        1 if i.code == BPF_JMP | BPF_JGT | BPF_K && i.k != u32::MAX => {
            v[at] = Insn::jump(BPF_JMP | BPF_JGE | BPF_K, i.k + 1, i.jt, i.jf)
        }
        1 if i.code == BPF_JMP | BPF_JGE | BPF_K && i.k != 0 => {
            v[at] = Insn::jump(BPF_JMP | BPF_JGT | BPF_K, i.k - 1, i.jt, i.jf)
        }
        // A branch whose arms meet is an unconditional jump.
        2 if i.is_cond_jump() && i.jt == i.jf => v[at] = Insn::stmt(BPF_JMP | BPF_JA, u32::from(i.jt)),
        // A NOP, with every crossing jump relocated.
        3 => return insert_nop(insns, at),
        // Swap two adjacent independent statements when no jump lands between them.
        4 if at + 1 < n => {
            let (a, b) = (effects(&v[at])?, effects(&v[at + 1])?);
            let independent = a.1 & (b.0 | b.1) == 0 && b.1 & a.0 == 0;
            if !independent || jump_targets(insns)[at + 1] {
                return None;
            }
            v.swap(at, at + 1);
        }
        // Reorder a comparison chain: `jeq k1, T1; jeq k2, T2, M` (the first
        // test's miss falls into the second) tests A against disjoint values,
        // so `jeq k2, T2; jeq k1, T1, M` is the same when k1 != k2 (or when
        // both hit the same target). Repeated, this permutes whole chains, as
        // an optimiser that sorts or rebalances syscall dispatch does.
        5 if at + 1 < n => {
            let (a, b) = (v[at], v[at + 1]);
            let jeq = BPF_JMP | BPF_JEQ | BPF_K;
            if a.code != jeq || b.code != jeq || a.jf != 0 || a.jt == 0 || jump_targets(insns)[at + 1] {
                return None;
            }
            let (t1, t2) = (at + 1 + usize::from(a.jt), at + 2 + usize::from(b.jt));
            if a.k == b.k && t1 != t2 {
                return None;
            }
            v[at] = Insn::jump(jeq, b.k, b.jt.checked_add(1)?, 0);
            v[at + 1] = Insn::jump(jeq, a.k, a.jt - 1, b.jf);
        }
        _ => return None,
    }
    Some(v)
}

/// Optimiser-style rewrites keep the program equivalent: exactly (diff is
/// empty) and on sampled inputs (same return value).
pub fn rewrites(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let Ok(Some((p, mut rng))) = program(&mut u) else { return Ok(()) };
    let mut insns = p.insns().to_vec();
    let mut applied = Vec::new();
    for _ in 0..u.int_in_range(1u8..=8).unwrap_or(1) {
        let choice: u8 = u.arbitrary().unwrap_or(0);
        let at = u.choose_index(insns.len()).unwrap_or(0);
        if let Some(v) = rewrite(&insns, choice, at) {
            if v.len() <= 4096 {
                insns = v;
                applied.push((choice % REWRITES, at));
            }
        }
    }
    if applied.is_empty() {
        return Ok(());
    }
    let q = match bpf::validate(&Program::new(insns)) {
        Ok(q) => q,
        Err(v) => return fail("rewrite-invalid", format!("{applied:?}: {:?}", v.first())),
    };
    let (ep, eq) = (Emulator::new(&p), Emulator::new(&q));
    for d in inputs(&mut u, p.program(), &mut rng, 32) {
        if ep.run(&d) != eq.run(&d) {
            return fail("rewrite-changes-result", format!("{applied:?}: {d:?}"));
        }
    }
    let opts = symbolic::Options { node_limit: 1 << 18, ..Default::default() };
    if let Ok(d) = seccheck::diff::diff(&p, &q, &opts) {
        if !d.equivalent {
            return fail(
                "rewrite-not-equivalent",
                format!("{applied:?}: {} regions, e.g. {:?}", d.regions.len(), d.regions[0].example.input),
            );
        }
    }
    Ok(())
}

fn generator_target<C: Case>(data: &[u8], campaign: genfuzz::Campaign<C>) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let Ok(case) = (campaign.generate)(&mut u, &campaign.shape) else { return Ok(()) };
    for comp in &campaign.compilers {
        // A known issue is `known:ISSUE` (it does not fail the run), anything
        // else `WHAT:COMPILER`.
        let kind = |known: Option<&str>, what: &str| match known {
            Some(k) => format!("known:{k}"),
            None => format!("{what}:{}", comp.name()),
        };
        match genfuzz::check_within(comp.as_ref(), &case, 1, genfuzz::LIMITS) {
            Ok((CaseOutcome::Agrees | CaseOutcome::Refused(_) | CaseOutcome::TooLarge, _)) => {}
            Ok((CaseOutcome::Slow { slow, .. }, _)) => {
                return Err(Failure::new(
                    &kind(slow.known, "slow"),
                    format!("{}: compiling took {:.1} s\n{}", comp.generator(), slow.time.as_secs_f64(), case.json()),
                )
                .depending_on_machine(true));
            }
            Ok((CaseOutcome::Hung(h), _)) => {
                let at = h.spinning_at.as_deref().map(|a| format!(", spinning at {a}")).unwrap_or_default();
                let f = Failure::new(
                    &kind(h.known, "hang"),
                    format!("{}: killed after {:.1} s{at}\n{}", comp.generator(), h.after.as_secs_f64(), case.json()),
                );
                // A loop never ends on any machine; "still working" might.
                return Err(f.depending_on_machine(h.spinning_at.is_none()));
            }
            Ok((CaseOutcome::Died(status), _)) => {
                return fail(
                    &format!("crash:{}", comp.name()),
                    format!("{}: the compiling process {status}\n{}", comp.generator(), case.json()),
                )
            }
            Ok((CaseOutcome::Diverges(d), program)) => {
                let known = (campaign.known)(&case, &program.expect("a divergence has a program"), &d);
                return fail(
                    &kind(known, "divergence"),
                    format!(
                        "{}: expected {}, got {} for {:?}\n{}",
                        comp.generator(),
                        genfuzz::action_text(d.expected),
                        genfuzz::action_text(d.actual),
                        d.input,
                        case.json()
                    ),
                );
            }
            Err(e) => return fail("self-check", e.to_string()),
        }
    }
    Ok(())
}

fn gen_libseccomp(data: &[u8]) -> Result<(), Failure> {
    generator_target(data, genfuzz::libseccomp::campaign())
}

fn gen_seccompiler(data: &[u8]) -> Result<(), Failure> {
    generator_target(data, genfuzz::seccompiler::campaign())
}

/// Text made of pieces every reader cares about (braces, brackets, newlines,
/// hex digits, macro names, quotes, comments), chosen by the bytes.
fn reader_text(u: &mut Unstructured) -> String {
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ",",
        ";",
        "\n",
        " ",
        "0x20",
        "6",
        "0",
        "ff",
        "#",
        "//",
        "/*",
        "*/",
        "\"",
        "'",
        ":",
        "- ",
        "struct sock_filter f[] = ",
        "BPF_STMT(",
        "BPF_JUMP(",
        "BPF_LD|BPF_W|BPF_ABS",
        "SECCOMP_RET_ALLOW",
        "__NR_read",
        "offsetof(struct seccomp_data, args[1])",
        "#define X ",
        "#include <x.h>\n",
        "{ 0x06, 0, 0, 0x7fff0000 },\n",
        "kind: SeccompProfile\n",
        "---\n",
        "\"defaultAction\": \"SCMP_ACT_ALLOW\"",
        "POLICY p {",
        "USE p DEFAULT KILL",
        "2\n",
        "32 0 0 4\n",
        "20000000",
        "<<",
        "|",
        "~",
        "-",
    ];
    let mut t = String::new();
    while let Ok(i) =
        u.choose_index(PIECES.len())
            .and_then(|i| if u.is_empty() { Err(arbitrary::Error::NotEnoughData) } else { Ok(i) })
    {
        let times = u.int_in_range(1..=4u8).unwrap_or(1);
        for _ in 0..times {
            t.push_str(PIECES[i]);
        }
        if t.len() > 4096 {
            break;
        }
    }
    t
}

fn read_all(bytes: &[u8]) -> Result<(), Failure> {
    use seccheck::sources::{self, InputFormat, ReadOptions};
    for format in [InputFormat::Auto, InputFormat::Hex, InputFormat::C, InputFormat::Decimal] {
        if let Err(e) = sources::from_bytes(bytes, &ReadOptions { format, ..ReadOptions::default() }) {
            if e.to_string().contains('\n') {
                return fail("reader-error-not-one-line", format!("{}: {e}", format.name()));
            }
        }
    }
    let _ = sources::detect_format(bytes);
    Ok(())
}

/// Every reader on reader-shaped text: no panic, one-line errors, and time
/// per byte on the text repeated 16 times within 8x of the text's own (a
/// quadratic reader shows 16x; timing depends on this machine, so a slow
/// case is reported but never saved as a regression).
pub fn readers(data: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(data);
    let text = reader_text(&mut u);
    if text.len() < 64 {
        return read_all(text.as_bytes());
    }
    let time = |bytes: &[u8]| -> Result<f64, Failure> {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            read_all(bytes)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok(best / bytes.len() as f64)
    };
    let small = time(text.as_bytes())?;
    let big = text.repeat(16);
    let large = time(big.as_bytes())?;
    // Only a large absolute time counts: tiny inputs are all noise.
    if large / small > 8.0 && large * big.len() as f64 > 0.05 {
        return Err(Failure::new(
            "reader-superlinear",
            format!("{:.1}x time per byte at 16x the input: {text:?}", large / small),
        )
        .depending_on_machine(true));
    }
    Ok(())
}

/// The linear ELF region scan equals the reference scan on bytes built from
/// filter pieces (loads of nr/arch and misaligned ones, jumps near and far,
/// returns, scratch stores and loads, garbage).
pub fn elf_scan(data: &[u8]) -> Result<(), Failure> {
    use seccheck::sources::elf::{scan_region, scan_region_reference};
    let mut u = Unstructured::new(data);
    let mut region = Vec::new();
    // `int_in_range` answers the minimum once the bytes run out: stop there.
    while !u.is_empty() && region.len() < 64 * 1024 {
        let choice = u.int_in_range(0..=15u8).unwrap_or(0);
        let byte = u.arbitrary::<u8>().unwrap_or(0);
        let ins = match choice {
            0 => Insn::stmt(BPF_LD | BPF_W | BPF_ABS, [0, 4, 2, 64][byte as usize % 4]),
            1 => Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, byte.into(), byte % 4, byte / 64),
            2 => Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 0, byte, 0),
            3 => Insn::stmt(BPF_JMP | BPF_JA, [0, 1, 2, 0xffff_ffff][byte as usize % 4]),
            4 | 5 => Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            6 => Insn::stmt(BPF_RET | BPF_A, 0),
            7 => Insn::stmt(BPF_ST, (byte % 17).into()),
            8 => Insn::stmt(BPF_LD | BPF_MEM, (byte % 17).into()),
            9 => Insn::stmt(BPF_LDX | BPF_MEM, (byte % 17).into()),
            10 => Insn::stmt(BPF_ALU | BPF_DIV | BPF_K, (byte % 2).into()),
            11 => Insn::stmt(BPF_MISC | BPF_TAX, 0),
            12 => {
                region.push(byte);
                continue;
            }
            13 => {
                region.extend([byte; 4]);
                continue;
            }
            _ => Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, byte % 3, byte % 5),
        };
        region.extend(ins.to_bytes());
    }
    let got: Vec<_> = scan_region(&region).into_iter().map(|(o, p)| (o, p.into_program())).collect();
    let want: Vec<_> = scan_region_reference(&region).into_iter().map(|(o, p)| (o, p.into_program())).collect();
    if got != want {
        return fail(
            "elf-scan-differs-from-reference",
            format!(
                "linear {:?} vs reference {:?} on {region:02x?}",
                got.iter().map(|g| (g.0, g.1.len())).collect::<Vec<_>>(),
                want.iter().map(|g| (g.0, g.1.len())).collect::<Vec<_>>()
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nop_insertion_relocates_crossing_jumps() {
        let p = vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, 1),
        ];
        let q = insert_nop(&p, 3).unwrap();
        assert_eq!(q[1], Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 2, 0));
        assert_eq!(q[3], Insn::stmt(BPF_JMP | BPF_JA, 0));
    }

    #[test]
    fn jgt_and_jge_rewrite_into_each_other() {
        let p = [
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 7, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, 1),
        ];
        assert_eq!(rewrite(&p, 1, 0).unwrap()[0], Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 8, 0, 1));
        let q = [
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, 1),
        ];
        assert!(rewrite(&q, 1, 0).is_none(), "JGE 0 has no JGT form");
    }

    #[test]
    fn a_runaway_division_is_refused_by_the_work_budget() {
        // libFuzzer's emu_symbolic run spent 124 s on this input (15 s in a
        // release build): `div #0xf` of an argument word at insn 2 took
        // millions of decision-diagram steps before the node budget noticed,
        // at insn 139. The step budget (bdd::STEPS_PER_NODE) stops it there.
        let data = include_bytes!("../regressions/emu_symbolic/slow-analysis-bb624ef189d49739.bin");
        let (p, _) = program(&mut Unstructured::new(data)).unwrap().unwrap();
        let opts = symbolic::Options { node_limit: 1 << 18, ..Default::default() };
        assert_eq!(
            symbolic::analyze(&p, &opts).err(),
            Some(symbolic::SymbolicError::NodeLimit { insn: 2, limit: 1 << 18 })
        );
        assert_eq!(emu_symbolic(data), Ok(()), "an explicit refusal is an allowed answer");
    }

    #[test]
    fn comparison_chains_are_reordered_only_when_the_tests_are_disjoint() {
        let ret = |k| Insn::stmt(BPF_RET | BPF_K, k);
        let jeq = |k, jt, jf| Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
        // 0: jeq 1 → 3; 1: jeq 2 → 4 else 5
        let p = [jeq(1, 2, 0), jeq(2, 2, 3), ret(0), ret(10), ret(20), ret(30)];
        let q = rewrite(&p, 5, 0).unwrap();
        assert_eq!(&q[..2], &[jeq(2, 3, 0), jeq(1, 1, 3)], "targets kept: 2 → 4, 1 → 3, else 5");
        for a in 0..4u32 {
            let run = |prog: &[Insn]| {
                let mut pc = 0;
                loop {
                    let i = prog[pc];
                    if i.class() == BPF_RET {
                        return i.k;
                    }
                    pc += 1 + usize::from(if a == i.k { i.jt } else { i.jf });
                }
            };
            assert_eq!(run(&p), run(&q), "A = {a}");
        }
        // The same value twice with different targets: the order decides.
        assert!(rewrite(&[jeq(1, 2, 0), jeq(1, 2, 3), ret(0), ret(10), ret(20), ret(30)], 5, 0).is_none());
        // Another jump lands on the second test: it cannot move.
        let entered = [
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 9, 1, 0),
            jeq(1, 2, 0),
            jeq(2, 2, 3),
            ret(0),
            ret(10),
            ret(20),
            ret(30),
        ];
        assert!(rewrite(&entered, 5, 1).is_none());
    }

    #[test]
    fn every_rewrite_applies_to_generated_programs() {
        // Otherwise the target would test nothing for that rewrite.
        let mut applies = [0u32; REWRITES as usize];
        for seed in 0..300u64 {
            let bytes = seccheck::genfuzz::rng_bytes(&mut seccheck::genfuzz::rng(seed), 64);
            let Ok(Some((p, _))) = program(&mut Unstructured::new(&bytes)) else { continue };
            for choice in 0..REWRITES {
                applies[usize::from(choice)] +=
                    (0..p.insns().len()).filter(|&at| rewrite(p.insns(), choice, at).is_some()).count() as u32;
            }
        }
        assert!(applies.iter().all(|&n| n > 0), "{applies:?}");
    }

    #[test]
    fn a_broken_rewrite_is_caught() {
        // Swapping a store with the load it depends on is not independent.
        assert!(rewrite(
            &[Insn::stmt(BPF_LD | BPF_IMM, 1), Insn::stmt(BPF_ST, 0), Insn::stmt(BPF_RET | BPF_A, 0)],
            4,
            0
        )
        .is_none());
        assert!(rewrite(
            &[Insn::stmt(BPF_LD | BPF_IMM, 1), Insn::stmt(BPF_LDX | BPF_IMM, 2), Insn::stmt(BPF_RET | BPF_A, 0)],
            4,
            0
        )
        .is_some());
    }
}
