//! Random Docker/OCI profiles, compiled by the real libseccomp exactly as runc
//! does ([`crate::sources::docker`], raw export, optimize 1 and 2), and their
//! documented meaning.
//!
//! The reference is written from the documentation of each layer, not from the
//! BPF:
//! - libseccomp `seccomp_init(3)`, `seccomp_rule_add(3)`, `seccomp_arch_add(3)`,
//!   `seccomp_attr_set(3)`: a syscall of an arch in the filter with no matching
//!   rule gets the default action; an arch not in the filter gets the bad-arch
//!   action (`SCMP_FLTATR_ACT_BADARCH`, default `SCMP_ACT_KILL` = KILL_THREAD);
//!   the native arch (x86_64 here) is always in the filter; x32 is its own ABI
//!   on `AUDIT_ARCH_X86_64` (`nr >= __X32_SYSCALL_BIT`); the conditions of one
//!   rule are ANDed, rules are combined into a union; `SCMP_CMP_MASKED_EQ`
//!   matches "when the masked argument value is equal to the masked datum
//!   value", `(arg & datum_a) == (datum_b & datum_a)`; on 32-bit ABIs (i386, x32, arm, mipsel o32,
//!   mips n32) libseccomp 2.5 compares the low 32 bits of the argument with
//!   the low 32 bits of the datum; a rule for a syscall an ABI does not have
//!   is not added for that ABI (the manual calls such a rule an error;
//!   libseccomp 2.5.4 and runc accept it, so that is what is compared).
//! - runc (`libcontainer/seccomp`, mirrored in `sources/docker.rs`):
//!   `SCMP_ACT_KILL` is KILL_THREAD; ERRNO/TRACE without `errnoRet` carry EPERM
//!   (1), `errnoRet` is cut to 16 bits; a rule whose action equals the default
//!   action is dropped (no effect outside overlaps); conditions on the same
//!   argument index become separate rules (ORed) instead of one.
//! - Where two rules of one syscall with different actions both match,
//!   libseccomp documents no winner: those inputs are not compared.
//!
//! Big-endian arches are not generated: libseccomp refuses to mix byte
//! orders in one filter and the native arch here is little-endian.

use super::{
    interesting_u64, valid, Case, CmpOp, Compiled, Compiler, Cond, Divergence, Hang, Limits, Model, NotCompiled,
    RefRule, Refusal, Slow, NAME_POOL,
};
use crate::arch::Arch;
use crate::bpf::validate::ValidProgram;
use crate::seccomp::{Action, SeccompData, SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE};
use crate::sources::docker::{compile_docker, DockerOptions, KernelVersion, Loader, Optimize};
use arbitrary::Unstructured;
use serde_json::{json, Value};

/// A runc action name with its `errnoRet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DAction {
    Allow,
    Errno(Option<u64>),
    Trap,
    Trace(Option<u64>),
    Log,
    Kill,
    KillThread,
    KillProcess,
}

impl DAction {
    fn name(self) -> &'static str {
        match self {
            DAction::Allow => "SCMP_ACT_ALLOW",
            DAction::Errno(_) => "SCMP_ACT_ERRNO",
            DAction::Trap => "SCMP_ACT_TRAP",
            DAction::Trace(_) => "SCMP_ACT_TRACE",
            DAction::Log => "SCMP_ACT_LOG",
            DAction::Kill => "SCMP_ACT_KILL",
            DAction::KillThread => "SCMP_ACT_KILL_THREAD",
            DAction::KillProcess => "SCMP_ACT_KILL_PROCESS",
        }
    }
    fn errno_ret(self) -> Option<u64> {
        match self {
            DAction::Errno(e) | DAction::Trace(e) => e,
            _ => None,
        }
    }
    /// The action per runc's `getAction` and libseccomp's action macros.
    pub fn meaning(self) -> Action {
        let data = |e: Option<u64>| e.map_or(1, |e| u32::from(e as u16));
        match self {
            DAction::Allow => Action::Allow,
            DAction::Errno(e) => Action::from_ret(SECCOMP_RET_ERRNO | data(e)),
            DAction::Trap => Action::Trap(0),
            DAction::Trace(e) => Action::from_ret(SECCOMP_RET_TRACE | data(e)),
            DAction::Log => Action::Log,
            DAction::Kill | DAction::KillThread => Action::KillThread,
            DAction::KillProcess => Action::KillProcess,
        }
    }
    fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<DAction> {
        let errno = |u: &mut Unstructured| -> arbitrary::Result<Option<u64>> {
            Ok(match u.int_in_range(0u8..=5)? {
                0 => None,
                1 => Some(u.int_in_range(0u64..=4095)?),
                2 => Some(u.int_in_range(4096u64..=65535)?),
                _ => Some(u.int_in_range(1u64..=40)?),
            })
        };
        Ok(match u.int_in_range(0u8..=9)? {
            0 | 1 => DAction::Allow,
            2 | 3 => DAction::Errno(errno(u)?),
            4 => DAction::Trap,
            5 => DAction::Trace(errno(u)?),
            6 => DAction::Log,
            7 => DAction::Kill,
            8 => DAction::KillThread,
            _ => DAction::KillProcess,
        })
    }
}

/// runc's comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

impl DOp {
    const ALL: [DOp; 7] = [DOp::Ne, DOp::Lt, DOp::Le, DOp::Eq, DOp::Ge, DOp::Gt, DOp::MaskedEq];
    fn name(self) -> &'static str {
        match self {
            DOp::Ne => "SCMP_CMP_NE",
            DOp::Lt => "SCMP_CMP_LT",
            DOp::Le => "SCMP_CMP_LE",
            DOp::Eq => "SCMP_CMP_EQ",
            DOp::Ge => "SCMP_CMP_GE",
            DOp::Gt => "SCMP_CMP_GT",
            DOp::MaskedEq => "SCMP_CMP_MASKED_EQ",
        }
    }
}

/// One `args` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DArg {
    pub index: u8,
    pub op: DOp,
    pub value: u64,
    pub value_two: u64,
}

/// One `syscalls` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DRule {
    pub names: Vec<&'static str>,
    pub action: DAction,
    pub args: Vec<DArg>,
}

/// A Docker/OCI profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerCase {
    pub default: DAction,
    /// `architectures` (the native x86_64 is in the filter whether listed or not).
    pub arches: Vec<Arch>,
    pub rules: Vec<DRule>,
}

/// Little-endian ABIs libseccomp 2.5.4 supports, with runc's names.
const ARCHES: &[(Arch, &str)] = &[
    (Arch::X86_64, "SCMP_ARCH_X86_64"),
    (Arch::X32, "SCMP_ARCH_X32"),
    (Arch::I386, "SCMP_ARCH_X86"),
    (Arch::Aarch64, "SCMP_ARCH_AARCH64"),
    (Arch::Arm, "SCMP_ARCH_ARM"),
    (Arch::Riscv64, "SCMP_ARCH_RISCV64"),
    (Arch::Ppc64le, "SCMP_ARCH_PPC64LE"),
    (Arch::Mipsel, "SCMP_ARCH_MIPSEL"),
    (Arch::Mipsel64, "SCMP_ARCH_MIPSEL64"),
    (Arch::Mipsel64n32, "SCMP_ARCH_MIPSEL64N32"),
];

fn arch_token(a: Arch) -> &'static str {
    ARCHES.iter().find(|x| x.0 == a).map(|x| x.1).expect("generated arches come from ARCHES")
}

/// libseccomp's `ARCH_SIZE_32` ABIs: conditions compare low halves.
fn narrow(a: Arch) -> bool {
    matches!(a, Arch::I386 | Arch::X32 | Arch::Arm | Arch::Mipsel | Arch::Mipsel64n32)
}

/// Generate a profile: 1–4 arches, up to 12 rules of 1–4 names each (names
/// repeat across rules), 0–6 conditions per rule (any index, so the same
/// index twice happens), every operator, 32- and 64-bit values.
pub fn generate(u: &mut Unstructured) -> arbitrary::Result<DockerCase> {
    let default = DAction::arbitrary(u)?;
    let mut arches = Vec::new();
    for _ in 0..u.int_in_range(0u8..=3)? {
        let a = u.choose(ARCHES)?.0;
        if !arches.contains(&a) {
            arches.push(a);
        }
    }
    let mut rules = Vec::new();
    // A small name set per profile so that rules overlap on syscalls.
    let mut pool = Vec::new();
    for _ in 0..u.int_in_range(1u8..=8)? {
        pool.push(*u.choose(NAME_POOL)?);
    }
    for _ in 0..u.int_in_range(1u8..=12)? {
        let mut names = Vec::new();
        for _ in 0..u.int_in_range(1u8..=4)? {
            let n = *u.choose(&pool)?;
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let action = DAction::arbitrary(u)?;
        let mut args = Vec::new();
        let n_args = match u.int_in_range(0u8..=9)? {
            0..=2 => 0,
            3..=5 => 1,
            6 | 7 => 2,
            _ => u.int_in_range(3u8..=6)?,
        };
        for _ in 0..n_args {
            let op = *u.choose(&DOp::ALL)?;
            let value = interesting_u64(u)?;
            let value_two = if op == DOp::MaskedEq && u.ratio(3u8, 4)? {
                // Mostly inside the mask (it can match), sometimes not.
                value & interesting_u64(u)?
            } else {
                interesting_u64(u)?
            };
            args.push(DArg { index: u.int_in_range(0u8..=5)?, op, value, value_two });
        }
        rules.push(DRule { names, action, args });
    }
    Ok(DockerCase { default, arches, rules })
}

impl DockerCase {
    fn abis(&self) -> Vec<Arch> {
        let mut v = vec![Arch::X86_64];
        for &a in &self.arches {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    }
}

fn cond_of(a: &DArg, wide: bool) -> Cond {
    let op = match a.op {
        DOp::Ne => CmpOp::Ne(a.value),
        DOp::Lt => CmpOp::Lt(a.value),
        DOp::Le => CmpOp::Le(a.value),
        DOp::Eq => CmpOp::Eq(a.value),
        DOp::Ge => CmpOp::Ge(a.value),
        DOp::Gt => CmpOp::Gt(a.value),
        // runc: `value` is libseccomp's datum_a (the mask), `valueTwo` datum_b;
        // seccomp_rule_add(3): "matches when the masked argument value is equal
        // to the masked datum value".
        DOp::MaskedEq => CmpOp::MaskedEq { mask: a.value, value: a.value_two & a.value },
    };
    Cond { arg: a.index, wide, op }
}

impl Case for DockerCase {
    fn json(&self) -> String {
        let mut top = serde_json::Map::new();
        top.insert("defaultAction".into(), json!(self.default.name()));
        if let Some(e) = self.default.errno_ret() {
            top.insert("defaultErrnoRet".into(), json!(e));
        }
        if !self.arches.is_empty() {
            top.insert("architectures".into(), json!(self.arches.iter().map(|&a| arch_token(a)).collect::<Vec<_>>()));
        }
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                o.insert("names".into(), json!(r.names));
                o.insert("action".into(), json!(r.action.name()));
                if let Some(e) = r.action.errno_ret() {
                    o.insert("errnoRet".into(), json!(e));
                }
                if !r.args.is_empty() {
                    let args: Vec<Value> = r
                        .args
                        .iter()
                        .map(
                            |a| json!({"index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op.name()}),
                        )
                        .collect();
                    o.insert("args".into(), Value::Array(args));
                }
                Value::Object(o)
            })
            .collect();
        top.insert("syscalls".into(), Value::Array(rules));
        serde_json::to_string_pretty(&Value::Object(top)).expect("JSON values serialise")
    }

    fn model(&self) -> Model {
        let default = self.default.meaning();
        let abis = self
            .abis()
            .into_iter()
            .map(|abi| {
                let wide = !narrow(abi);
                let mut rules = Vec::new();
                for r in &self.rules {
                    // runc: conditions on a repeated index become one rule each.
                    let mut seen = [false; 6];
                    let repeated = r.args.iter().any(|a| std::mem::replace(&mut seen[a.index as usize], true));
                    let groups: Vec<Vec<Cond>> = if repeated {
                        r.args.iter().map(|a| vec![cond_of(a, wide)]).collect()
                    } else {
                        vec![r.args.iter().map(|a| cond_of(a, wide)).collect()]
                    };
                    for name in &r.names {
                        let Some(nr) = abi.syscall_nr(name) else { continue };
                        for g in &groups {
                            rules.push(RefRule { nr, action: r.action.meaning(), conds: g.clone() });
                        }
                    }
                }
                super::AbiModel { abi, default, rules }
            })
            .collect();
        Model { abis, bad_arch: Action::KillThread, x32_separate: true }
    }

    fn shrink(&self) -> Vec<DockerCase> {
        let mut out: Vec<DockerCase> = super::without_each(&self.rules)
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|rules| DockerCase { rules, ..self.clone() })
            .collect();
        for i in 0..self.arches.len() {
            let mut c = self.clone();
            c.arches.remove(i);
            out.push(c);
        }
        for (i, r) in self.rules.iter().enumerate() {
            for j in 0..r.names.len() {
                if r.names.len() > 1 {
                    let mut c = self.clone();
                    c.rules[i].names.remove(j);
                    out.push(c);
                }
            }
            for j in 0..r.args.len() {
                let mut c = self.clone();
                c.rules[i].args.remove(j);
                out.push(c);
            }
            for (j, a) in r.args.iter().enumerate() {
                for (v, v2) in [(0, a.value_two), (a.value, 0), (a.value & 0xffff_ffff, a.value_two & 0xffff_ffff)] {
                    if (v, v2) != (a.value, a.value_two) {
                        let mut c = self.clone();
                        c.rules[i].args[j].value = v;
                        c.rules[i].args[j].value_two = v2;
                        out.push(c);
                    }
                }
            }
            if let Some(e) = r.action.errno_ret() {
                let mut c = self.clone();
                c.rules[i].action = match r.action {
                    DAction::Errno(_) => DAction::Errno(None),
                    _ => DAction::Trace(None),
                };
                if e != 1 {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// libseccomp through runc's conversion at one optimisation level, raw export.
pub struct LibseccompCompiler {
    pub optimize: Optimize,
}

impl LibseccompCompiler {
    fn options(&self) -> DockerOptions {
        DockerOptions {
            host_arch: Arch::X86_64,
            kernel: Some(KernelVersion { kernel: 6, major: 18 }),
            optimize: self.optimize,
            loader: Loader::Raw,
            // Timed by `compile`; a generator that never returns is caught
            // by `seccheck fuzz-generator`'s watchdog.
            libseccomp_timeout: None,
            ..DockerOptions::default()
        }
    }
    fn level_byte(&self) -> u8 {
        match self.optimize {
            Optimize::BinaryTree => 2,
            _ => 1,
        }
    }
    fn level(&self) -> &'static str {
        match self.optimize {
            Optimize::BinaryTree => "2",
            _ => "1",
        }
    }
}

impl Compiler<DockerCase> for LibseccompCompiler {
    fn name(&self) -> String {
        format!("libseccomp-o{}", self.level())
    }
    fn generator(&self) -> String {
        format!(
            "libseccomp {} optimize={} (runc conversion, raw export)",
            crate::sources::docker::libseccomp_version(),
            self.level()
        )
    }
    /// In a forked child (`kernel::isolate`): libseccomp loops forever on
    /// some rule sets (L6), and a call into C cannot be interrupted.
    fn compile(&self, case: &DockerCase, limits: Limits) -> Result<Compiled, NotCompiled> {
        let request = [&[RUNC, self.level_byte()][..], case.json().as_bytes()].concat();
        let start = std::time::Instant::now();
        let answer = isolated(limits, &request)?;
        let time = start.elapsed();
        let (program, rule_time) = decode(&answer)?;
        // Known when the time went into adding the rules (fork and export
        // take milliseconds).
        let in_rules = rule_time >= time / 2;
        Ok(Compiled { program: valid(program)?, slow: Slow::of(time, in_rules.then_some(SLOW_RULE_ADD)) })
    }
    fn timing_command(&self, file: &str, _case: &DockerCase) -> String {
        format!("time seccheck table {file} --optimize {} --loader raw --libseccomp-timeout 0", self.level())
    }
    fn reproducer(&self, file: &str, d: &SeccompData) -> String {
        format!(
            "seccheck emu {file} --optimize {} --loader raw --arch {:#x} --syscall {} --args {}",
            self.level(),
            d.arch,
            d.nr,
            d.args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>().join(",")
        )
    }
}

/// The campaign `seccheck fuzz-generator --generator libseccomp` runs.
pub fn campaign() -> super::Campaign<DockerCase> {
    super::Campaign {
        generate,
        compilers: vec![
            Box::new(LibseccompCompiler { optimize: Optimize::Linear }),
            Box::new(LibseccompCompiler { optimize: Optimize::BinaryTree }),
        ],
        known,
        shared_rule_stage: true,
    }
}

/// libseccomp 2.5.4's BPF generator jumps into a comparison of one argument
/// word from a path where the accumulator holds another word (the reload is
/// skipped), so a rule's condition is tested on the wrong argument. Its own
/// PFC export of the same filter is right. See `reports/generator-findings.md`.
pub const STALE_ACCUMULATOR: &str = "libseccomp-stale-accumulator";

/// libseccomp takes time growing with about the sixth power of the rules on
/// one syscall to add some rule sets (`_db_tree_prune`, db.c, restarts each
/// level of the existing rule tree for every node of the new rule's chain),
/// so the container runtime does too. Recognised by where the time goes: in
/// the `seccomp_rule_add` calls, not in the BPF export. See
/// `reports/generator-findings.md`, L5.
pub const SLOW_RULE_ADD: &str = "libseccomp-slow-rule-add";

/// libseccomp spins forever in a tight loop while adding the rules of some
/// rule sets: a node of the new rule's chain gets linked into a level of the
/// existing rule tree as its own predecessor, and `_db_level_clean` (db.c)
/// walks that list forever. Recognised by the compiling child being caught
/// spinning inside libseccomp. See `reports/generator-findings.md`, L6.
pub const LOOPS_FOREVER: &str = "libseccomp-loops-forever";

/// The compiler's answer as bytes: `0`, the rule time in nanoseconds, the
/// program's `sock_filter`s; or `1` and the refusal.
fn encode(r: Result<Vec<crate::sources::CompiledFilter>, crate::sources::SourceError>) -> Vec<u8> {
    match r.map(|v| v.into_iter().next()) {
        Ok(Some(f)) => {
            let nanos = f.rule_time.unwrap_or_default().as_nanos() as u64;
            [&[0u8][..], &nanos.to_le_bytes(), &f.program.to_bytes()].concat()
        }
        Ok(None) => [&[1u8][..], b"no filter"].concat(),
        Err(e) => [&[1u8][..], e.to_string().as_bytes()].concat(),
    }
}

fn decode(bytes: &[u8]) -> Result<(crate::bpf::Program, std::time::Duration), NotCompiled> {
    let garbled = || {
        NotCompiled::Refused(Refusal(format!(
            "seccheck: the compiling child's answer is garbled ({} bytes)",
            bytes.len()
        )))
    };
    match bytes.split_first() {
        Some((0, rest)) if rest.len() >= 8 => {
            let nanos = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
            let program = crate::bpf::decode(&rest[8..], crate::bpf::ByteOrder::Little).map_err(|_| garbled())?;
            Ok((program, std::time::Duration::from_nanos(nanos)))
        }
        Some((1, msg)) => Err(NotCompiled::Refused(Refusal(String::from_utf8_lossy(msg).into_owned()))),
        _ => Err(garbled()),
    }
}

/// Request tag: a Docker/OCI profile through runc's conversion; then the
/// optimisation level (1 or 2) and the profile's JSON.
const RUNC: u8 = 0;

/// The fork server's side: answer one compilation request ([`encode`]d).
fn serve(request: &[u8]) -> Vec<u8> {
    match request {
        [RUNC, level, json @ ..] => {
            let optimize = if *level == 2 { Optimize::BinaryTree } else { Optimize::Linear };
            let opts = LibseccompCompiler { optimize }.options();
            encode(compile_docker(json, &opts))
        }
        _ => [&[1u8][..], b"seccheck: unknown compilation request"].concat(),
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
thread_local! {
    /// This thread's fork server (`kernel::isolate::Worker`): libseccomp
    /// compiles in it, one request after another.
    static WORKER: std::cell::RefCell<crate::kernel::isolate::Worker> =
        std::cell::RefCell::new(crate::kernel::isolate::Worker::new(serve));
}

/// Children this thread's fork server has forked so far (one, plus one per
/// compilation that hung or died).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn worker_forks() -> u64 {
    WORKER.with(|w| w.borrow().forks)
}

/// `request` answered by this thread's fork server within `limits`: libseccomp
/// loops forever on some rule sets (L6) and a call into C cannot be
/// interrupted, so it runs in a child process; one caught spinning inside
/// libseccomp is [`LOOPS_FOREVER`], and is replaced for the next request.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn isolated(limits: Limits, request: &[u8]) -> Result<Vec<u8>, NotCompiled> {
    use crate::kernel::isolate::{self, Isolated, Stuck};
    let l = isolate::Limits { spin_check: limits.spin_check, give_up: limits.give_up };
    match WORKER.with(|w| w.borrow_mut().call(request, l)) {
        Ok(Isolated::Done(bytes)) => Ok(bytes),
        Ok(Isolated::TimedOut { after, stuck }) => {
            let in_libseccomp =
                |ip: u64| isolate::describe_address(ip).is_some_and(|at| at.starts_with("libseccomp.so"));
            let (spinning_at, known) = match stuck {
                Stuck::Spinning { ip } => (
                    Some(isolate::describe_address(ip).unwrap_or_else(|| format!("{ip:#x}"))),
                    in_libseccomp(ip).then_some(LOOPS_FOREVER),
                ),
                // Busy mostly inside libseccomp (the rest in libc's malloc,
                // say): the slow class (every such case looked at was in
                // `_db_tree_prune`).
                Stuck::Working { ips } => (
                    None,
                    (!ips.is_empty() && 2 * ips.iter().filter(|&&ip| in_libseccomp(ip)).count() > ips.len())
                        .then_some(SLOW_RULE_ADD),
                ),
            };
            Err(NotCompiled::Hung(Hang { after, spinning_at, known }))
        }
        Ok(Isolated::Died { status }) => Err(NotCompiled::Died(status)),
        Err(e) => Err(NotCompiled::Died(format!("could not be started: {e}"))),
    }
}

/// Without `kernel::isolate`, in this process (a hang hangs the caller).
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn isolated(_: Limits, request: &[u8]) -> Result<Vec<u8>, NotCompiled> {
    Ok(serve(request))
}

/// Known libseccomp/runc issues a divergence matches (see
/// `reports/generator-findings.md`).
pub fn known(case: &DockerCase, p: &ValidProgram, d: &Divergence) -> Option<&'static str> {
    if super::jump_with_mixed_accumulator(p, &d.input).is_some() {
        return Some(STALE_ACCUMULATOR);
    }
    if super::arch_word_compared_with_non_arch(p, &d.input).is_some() {
        return Some(ARCH_BLOCK_WITHOUT_NR_LOAD);
    }
    if narrow_abi_block_wrong(case, p, d) {
        return Some(NARROW_ABI_RULE_LOST);
    }
    if range_comparisons_merged(case, d) {
        return Some(RANGE_COMPARISONS_MERGED);
    }
    if eq_ne_rule_lost(case, d) {
        return Some(EQ_NE_RULE_LOST);
    }
    None
}

/// Of two rules of a syscall that test the same argument and value, one with
/// `EQ` and one with `NE`, one is lost from libseccomp's rule database (its
/// PFC export lacks it too). Minimised: add_key with `arg2 != 0` KILL_THREAD,
/// `arg5 == K` KILL_PROCESS, `arg5 != K && arg0 != 0` ERRNO loses the ERRNO
/// rule; write with `arg2 & ~1 == 0 && arg5 == 0` TRAP, `arg5 != 0` TRAP loses
/// the first. On a 32-bit ABI the values compare by their low halves (L3 is
/// the same shape there and may share the cause). See
/// `reports/generator-findings.md`, L7.
pub const EQ_NE_RULE_LOST: &str = "libseccomp-eq-ne-rule-lost";

/// Two rules of the input's syscall test one argument and value with `EQ`
/// and `NE` (values by their low halves on a 32-bit ABI), and one of them
/// has the expected action.
fn eq_ne_rule_lost(case: &DockerCase, d: &Divergence) -> bool {
    let Some(abi) = Arch::from_audit(d.input.arch, d.input.nr) else { return false };
    let Some(name) = abi.syscall_name(d.input.nr) else { return false };
    let width = if narrow(abi) { 0xffff_ffff } else { u64::MAX };
    let rules: Vec<&DRule> = case.rules.iter().filter(|r| r.names.contains(&name)).collect();
    let tests = |r: &DRule, op: DOp| -> Vec<(u8, u64)> {
        r.args.iter().filter(|a| a.op == op).map(|a| (a.index, a.value & width)).collect()
    };
    rules.iter().enumerate().any(|(i, a)| {
        rules.iter().enumerate().any(|(j, b)| {
            i != j
                && (a.action.meaning() == d.expected || b.action.meaning() == d.expected)
                && tests(a, DOp::Eq).iter().any(|t| tests(b, DOp::Ne).contains(t))
        })
    })
}

/// Two rules of the diverging syscall compare the same argument with range
/// operators (`LT`/`LE`/`GT`/`GE`) against different constants, and the filter
/// treats them as one comparison: libseccomp 2.5.4's rule tree drops a rule
/// or hangs one rule's remaining conditions under the other's comparison.
/// Minimised: `brk` with `arg0 >= 4` and `arg5 == 7 && arg0 >= 0`, both TRAP:
/// the second rule is gone, from the PFC export too. See
/// `reports/generator-findings.md`.
pub const RANGE_COMPARISONS_MERGED: &str = "libseccomp-range-comparisons-merged";

fn range_comparisons_merged(case: &DockerCase, d: &Divergence) -> bool {
    let Some(abi) = Arch::from_audit(d.input.arch, d.input.nr) else { return false };
    let Some(name) = abi.syscall_name(d.input.nr) else { return false };
    let ranges: Vec<(usize, u8, DOp, u64)> = case
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.names.contains(&name))
        .flat_map(|(i, r)| {
            r.args
                .iter()
                .filter(|a| matches!(a.op, DOp::Lt | DOp::Le | DOp::Gt | DOp::Ge))
                .map(move |a| (i, a.index, a.op, a.value))
        })
        .collect();
    ranges.iter().any(|x| ranges.iter().any(|y| x.0 != y.0 && x.1 == y.1 && (x.2, x.3) != (y.2, y.3)))
}

/// On a 32-bit ABI, libseccomp 2.5.4 can lose a rule whose conditions the
/// x86_64 block of the same filter implements correctly (seen: a rule with an
/// always-true `GE 0` and an `NE` on the argument another rule tests with
/// `EQ`). See `reports/generator-findings.md`.
pub const NARROW_ABI_RULE_LOST: &str = "libseccomp-32bit-abi-rule-lost";

/// The divergence is on a 32-bit ABI, and the same syscall with the same
/// (32-bit) arguments on x86_64 gets the expected action from the same program.
fn narrow_abi_block_wrong(case: &DockerCase, p: &ValidProgram, d: &Divergence) -> bool {
    let Some(abi) = Arch::from_audit(d.input.arch, d.input.nr) else { return false };
    if !narrow(abi) || !case.abis().contains(&abi) {
        return false;
    }
    let Some(nr) = abi.syscall_name(d.input.nr).and_then(|n| Arch::X86_64.syscall_nr(n)) else { return false };
    let mut x = d.input;
    x.arch = Arch::X86_64.audit_arch();
    x.nr = nr;
    for a in &mut x.args {
        *a &= 0xffff_ffff;
    }
    let want = super::Expect::Action(d.expected);
    case.model().expected(&x) == want && crate::emu::Emulator::new(p).action(&x) == d.expected
}

/// With several arches, when a rule names a syscall one arch lacks (the manual
/// calls that an error; libseccomp 2.5.4 accepts it), that arch's block can
/// lose its `ld nr`: the syscall numbers are compared with the arch value and
/// no rule applies on that arch. See `reports/generator-findings.md`.
pub const ARCH_BLOCK_WITHOUT_NR_LOAD: &str = "libseccomp-arch-block-without-nr-load";
