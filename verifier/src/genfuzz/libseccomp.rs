//! Random Docker/OCI profiles and their documented meaning, compiled by the
//! real libseccomp two ways at optimize 1 and 2: exactly as runc does
//! ([`crate::sources::docker`], raw export), and through libseccomp's own API
//! ([`ApiCompiler`]: `seccomp_init`, `seccomp_arch_add`/`_remove`,
//! `seccomp_rule_add`, `SCMP_FLTATR_CTL_OPTIMIZE`, `seccomp_export_bpf`).
//! Each case's filter is for a host arch ([`DockerCase::host`], the arch
//! runc would run on: its native arch replaces this machine's) and 0–3 more
//! arches of the same byte order, drawn from all 19 arches libseccomp 2.5.4
//! targets, big-endian ones included (s390x, s390, ppc64, ppc, mips, mips64,
//! mips64n32, parisc, parisc64).
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
//! - runc (`libcontainer/seccomp`, mirrored in `sources/docker/`):
//!   `SCMP_ACT_KILL` is KILL_THREAD; ERRNO/TRACE without `errnoRet` carry EPERM
//!   (1), `errnoRet` is cut to 16 bits; a rule whose action equals the default
//!   action is dropped (no effect outside overlaps); conditions on the same
//!   argument index become separate rules (ORed) instead of one.
//! - Where two rules of one syscall with different actions both match,
//!   libseccomp documents no winner: those inputs are not compared.
//!
//! One filter never mixes byte orders: libseccomp refuses that
//! (`seccomp_arch_add` fails with `EEXIST`... of a different endianness), so a
//! case's arches all share its host's.

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
    /// A random action; with `any_errno`, also errnos libseccomp refuses
    /// (4095 and up, which runc cuts to 16 bits and passes on), else only
    /// valid ones (a large rule set would almost always have one, and be
    /// refused whole).
    fn arbitrary(u: &mut Unstructured, any_errno: bool) -> arbitrary::Result<DAction> {
        let errno = |u: &mut Unstructured| -> arbitrary::Result<Option<u64>> {
            Ok(match u.int_in_range(0u8..=5)? {
                0 => None,
                1 if any_errno => Some(u.int_in_range(0u64..=4095)?),
                2 if any_errno => Some(u.int_in_range(4096u64..=65535)?),
                1 | 2 => Some(u.int_in_range(0u64..=4094)?),
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
    /// The arch runc runs on: its native arch is in the filter whether listed
    /// or not (`--host-arch` of `seccheck`; x86_64 is this machine's).
    pub host: Arch,
    /// `architectures`.
    pub arches: Vec<Arch>,
    pub rules: Vec<DRule>,
}

/// Every ABI libseccomp 2.5.4 targets, with runc's names (little-endian
/// first, then big-endian).
pub const ARCHES: &[(Arch, &str)] = &[
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
    (Arch::S390x, "SCMP_ARCH_S390X"),
    (Arch::S390, "SCMP_ARCH_S390"),
    (Arch::Ppc64, "SCMP_ARCH_PPC64"),
    (Arch::Ppc, "SCMP_ARCH_PPC"),
    (Arch::Mips, "SCMP_ARCH_MIPS"),
    (Arch::Mips64, "SCMP_ARCH_MIPS64"),
    (Arch::Mips64n32, "SCMP_ARCH_MIPS64N32"),
    (Arch::Parisc, "SCMP_ARCH_PARISC"),
    (Arch::Parisc64, "SCMP_ARCH_PARISC64"),
];

fn arch_token(a: Arch) -> &'static str {
    ARCHES.iter().find(|x| x.0 == a).map(|x| x.1).expect("generated arches come from ARCHES")
}

/// libseccomp's `ARCH_SIZE_32` ABIs (`.size` in its arch-*.c): conditions
/// compare low halves.
fn narrow(a: Arch) -> bool {
    matches!(
        a,
        Arch::I386
            | Arch::X32
            | Arch::Arm
            | Arch::Mipsel
            | Arch::Mipsel64n32
            | Arch::Mips
            | Arch::Mips64n32
            | Arch::Ppc
            | Arch::S390
            | Arch::Parisc
    )
}

/// Generate a profile of the default [`Shape`].
pub fn generate(u: &mut Unstructured) -> arbitrary::Result<DockerCase> {
    generate_shaped(u, &super::Shape::default())
}

/// Generate a profile: a host arch and 0–3 more of its byte order (from
/// `shape.arches` when given, else from every arch libseccomp targets;
/// the schedule's lead arch, alone or with 1–3 others, when `shape` has a
/// [`super::Pick`]; else x86_64, this machine's, as host in a third of the
/// cases), a rule count
/// from `shape`'s schedule, 1–4 names per rule (names repeat across rules,
/// so some syscalls get many rules), 0–6 conditions per rule (any index, so
/// the same index twice happens), every operator, 32- and 64-bit values.
pub fn generate_shaped(u: &mut Unstructured, shape: &super::Shape) -> arbitrary::Result<DockerCase> {
    let default = DAction::arbitrary(u, true)?;
    let pool_arches: Vec<Arch> = match &shape.arches {
        Some(a) => a.clone(),
        None => ARCHES.iter().map(|a| a.0).collect(),
    };
    let host = match shape.pick {
        Some(p) => p.lead,
        None if pool_arches.contains(&Arch::X86_64) && u.ratio(1u8, 3)? => Arch::X86_64,
        None => *u.choose(&pool_arches)?,
    };
    let same_order: Vec<Arch> =
        pool_arches.iter().copied().filter(|a| a.little_endian() == host.little_endian()).collect();
    let mut arches = Vec::new();
    match shape.pick {
        // Scheduled: the host alone, or with 1-3 other arches of its byte order.
        Some(p) => {
            let others: Vec<Arch> = same_order.iter().copied().filter(|&a| a != host).collect();
            if p.with_others && !others.is_empty() {
                for _ in 0..u.int_in_range(1u8..=3)? {
                    let a = *u.choose(&others)?;
                    if !arches.contains(&a) {
                        arches.push(a);
                    }
                }
            }
        }
        None => {
            for _ in 0..u.int_in_range(0u8..=3)? {
                let a = *u.choose(&same_order)?;
                if !arches.contains(&a) {
                    arches.push(a);
                }
            }
        }
    }
    let n_rules = shape.rules(u)?;
    // A name set per profile that grows with the rules, so that rules
    // overlap on syscalls (and large sets also span many syscalls).
    let mut pool = Vec::new();
    let names = (n_rules / 4).clamp(1, NAME_POOL.len());
    for _ in 0..u.int_in_range(1..=names.max(8))? {
        pool.push(*u.choose(NAME_POOL)?);
    }
    let mut rules = Vec::new();
    let mut taken: std::collections::BTreeSet<(&'static str, RuleKey)> = Default::default();
    // A rule all of whose names are taken is drawn again (a few times), so
    // the case has the size its class promises.
    for _ in 0..4 * n_rules {
        if rules.len() == n_rules {
            break;
        }
        let mut names = Vec::new();
        for _ in 0..u.int_in_range(1u8..=4)? {
            let n = *u.choose(&pool)?;
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let action = DAction::arbitrary(u, n_rules <= 12)?;
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
        // libseccomp refuses a rule it already has (`EEXIST`), and with it
        // the whole profile: a name whose rule (each rule runc makes of it)
        // is already there is left out.
        let keys = rule_keys(&args);
        names.retain(|n| keys.iter().all(|k| !taken.contains(&(*n, k.clone()))));
        if names.is_empty() {
            continue;
        }
        for n in &names {
            taken.extend(keys.iter().map(|k| (*n, k.clone())));
        }
        rules.push(DRule { names, action, args });
    }
    Ok(DockerCase { default, host, arches, rules })
}

/// One rule's conditions, sorted: (index, operator, value, value two).
type RuleKey = Vec<(u8, u8, u64, u64)>;

/// The rules runc makes of one entry's `args` (conditions on a repeated
/// index become one rule each), each as its sorted conditions.
fn rule_keys(args: &[DArg]) -> Vec<RuleKey> {
    let key = |a: &DArg| (a.index, a.op as u8, a.value, a.value_two);
    let mut seen = [false; 6];
    let repeated = args.iter().any(|a| std::mem::replace(&mut seen[usize::from(a.index)], true));
    if repeated {
        args.iter().map(|a| vec![key(a)]).collect()
    } else {
        let mut v: Vec<_> = args.iter().map(key).collect();
        v.sort_unstable();
        vec![v]
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
    fn abis(&self) -> Vec<Arch> {
        let mut v = vec![self.host];
        for &a in &self.arches {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    }
    fn rule_count(&self) -> usize {
        self.rules.len()
    }
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
        let host = ARCHES.iter().position(|a| a.0 == case.host).expect("generated hosts come from ARCHES") as u8;
        let request = [&[RUNC, self.level_byte(), host][..], case.json().as_bytes()].concat();
        let start = std::time::Instant::now();
        let answer = isolated(limits, &request)?;
        let time = start.elapsed();
        let (program, rule_time) = decode(&answer)?;
        // Known when the time went into adding the rules (fork and export
        // take milliseconds).
        let in_rules = rule_time >= time / 2;
        Ok(Compiled { program: valid(program)?, slow: Slow::of(time, in_rules.then_some(SLOW_RULE_ADD)) })
    }
    fn timing_command(&self, file: &str, case: &DockerCase) -> String {
        format!(
            "time seccheck table {file}{} --optimize {} --loader raw --libseccomp-timeout 0",
            host_option(case),
            self.level()
        )
    }
    fn reproducer(&self, file: &str, case: &DockerCase, d: &SeccompData) -> String {
        format!(
            "seccheck emu {file}{} --optimize {} --loader raw --arch {:#x} --syscall {} --args {}",
            host_option(case),
            self.level(),
            d.arch,
            d.nr,
            d.args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>().join(",")
        )
    }
}

/// ` --host-arch A` when the case's host is not x86_64.
fn host_option(case: &DockerCase) -> String {
    if case.host == Arch::X86_64 {
        String::new()
    } else {
        format!(" --host-arch {}", case.host.name())
    }
}

/// libseccomp through its own API at one optimisation level: the filter is
/// created for the case's host arch (this machine's native arch removed
/// first when it is another, so that a big-endian host can be added), its
/// other arches added, and each rule added with `seccomp_rule_add` as runc
/// would (a rule whose action is the default skipped, conditions on a
/// repeated argument index as separate rules), then `seccomp_export_bpf`.
/// The same profile, saved as Docker JSON, compiles the same way with
/// `seccheck … --host-arch HOST --loader raw`.
pub struct ApiCompiler {
    pub optimize: Optimize,
}

impl ApiCompiler {
    fn level(&self) -> u8 {
        match self.optimize {
            Optimize::BinaryTree => 2,
            _ => 1,
        }
    }
}

impl Compiler<DockerCase> for ApiCompiler {
    fn name(&self) -> String {
        format!("libseccomp-api-o{}", self.level())
    }
    fn generator(&self) -> String {
        format!(
            "libseccomp {} optimize={} (its API, raw export)",
            crate::sources::docker::libseccomp_version(),
            self.level()
        )
    }
    /// In this thread's fork server, as [`LibseccompCompiler`].
    fn compile(&self, case: &DockerCase, limits: Limits) -> Result<Compiled, NotCompiled> {
        let request = [&[API, self.level()][..], &ApiRequest::encode(case)].concat();
        let start = std::time::Instant::now();
        let answer = isolated(limits, &request)?;
        let time = start.elapsed();
        let (program, rule_time) = decode(&answer)?;
        let in_rules = rule_time >= time / 2;
        Ok(Compiled { program: valid(program)?, slow: Slow::of(time, in_rules.then_some(SLOW_RULE_ADD)) })
    }
    fn timing_command(&self, file: &str, case: &DockerCase) -> String {
        LibseccompCompiler { optimize: self.optimize }.timing_command(file, case)
    }
    fn reproducer(&self, file: &str, case: &DockerCase, d: &SeccompData) -> String {
        LibseccompCompiler { optimize: self.optimize }.reproducer(file, case, d)
    }
}

/// A [`DockerCase`] as bytes for the fork server: indices into [`ARCHES`],
/// [`NAME_POOL`] and [`DOp::ALL`], actions and values little-endian.
struct ApiRequest;

impl ApiRequest {
    fn action(a: DAction, out: &mut Vec<u8>) {
        let (tag, e) = match a {
            DAction::Allow => (0, None),
            DAction::Errno(e) => (1, e),
            DAction::Trap => (2, None),
            DAction::Trace(e) => (3, e),
            DAction::Log => (4, None),
            DAction::Kill => (5, None),
            DAction::KillThread => (6, None),
            DAction::KillProcess => (7, None),
        };
        out.push(tag);
        out.push(u8::from(e.is_some()));
        out.extend_from_slice(&e.unwrap_or(0).to_le_bytes());
    }

    fn encode(c: &DockerCase) -> Vec<u8> {
        let arch = |a: Arch| ARCHES.iter().position(|x| x.0 == a).expect("generated arches come from ARCHES") as u8;
        let mut out = vec![arch(c.host), c.arches.len() as u8];
        out.extend(c.arches.iter().map(|&a| arch(a)));
        Self::action(c.default, &mut out);
        out.extend_from_slice(&(c.rules.len() as u32).to_le_bytes());
        for r in &c.rules {
            out.push(r.names.len() as u8);
            for n in &r.names {
                out.push(NAME_POOL.iter().position(|x| x == n).expect("generated names come from NAME_POOL") as u8);
            }
            Self::action(r.action, &mut out);
            out.push(r.args.len() as u8);
            for a in &r.args {
                out.push(a.index);
                out.push(DOp::ALL.iter().position(|&o| o == a.op).expect("every operator is in ALL") as u8);
                out.extend_from_slice(&a.value.to_le_bytes());
                out.extend_from_slice(&a.value_two.to_le_bytes());
            }
        }
        out
    }

    fn decode(b: &[u8]) -> Option<DockerCase> {
        let mut r = Reader(b);
        let host = ARCHES.get(usize::from(r.u8()?))?.0;
        let mut arches = Vec::new();
        for _ in 0..r.u8()? {
            arches.push(ARCHES.get(usize::from(r.u8()?))?.0);
        }
        let default = r.action()?;
        let n = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
        let mut rules = Vec::new();
        for _ in 0..n {
            let mut names = Vec::new();
            for _ in 0..r.u8()? {
                names.push(*NAME_POOL.get(usize::from(r.u8()?))?);
            }
            let action = r.action()?;
            let mut args = Vec::new();
            for _ in 0..r.u8()? {
                let index = r.u8()?;
                let op = *DOp::ALL.get(usize::from(r.u8()?))?;
                let (value, value_two) = (r.u64()?, r.u64()?);
                args.push(DArg { index, op, value, value_two });
            }
            rules.push(DRule { names, action, args });
        }
        r.0.is_empty().then_some(DockerCase { default, host, arches, rules })
    }
}

/// A cursor over a request's bytes.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn action(&mut self) -> Option<DAction> {
        let (tag, has) = (self.u8()?, self.u8()?);
        let v = self.u64()?;
        let e = (has == 1).then_some(v);
        Some(match tag {
            0 => DAction::Allow,
            1 => DAction::Errno(e),
            2 => DAction::Trap,
            3 => DAction::Trace(e),
            4 => DAction::Log,
            5 => DAction::Kill,
            6 => DAction::KillThread,
            7 => DAction::KillProcess,
            _ => return None,
        })
    }
}

/// The libseccomp action for `a`, as runc's `getAction` makes it.
fn scmp_action(a: DAction) -> libseccomp::ScmpAction {
    use libseccomp::ScmpAction as S;
    match a.meaning() {
        Action::Allow => S::Allow,
        Action::Errno(e) => S::Errno(i32::from(e)),
        Action::Trap(_) => S::Trap,
        Action::Trace(t) => S::Trace(t),
        Action::Log => S::Log,
        Action::KillProcess => S::KillProcess,
        _ => S::KillThread,
    }
}

/// The libseccomp arch of `a` (every arch of [`ARCHES`] has one).
fn scmp_arch(a: Arch) -> libseccomp::ScmpArch {
    use libseccomp::ScmpArch as S;
    match a {
        Arch::X86_64 => S::X8664,
        Arch::X32 => S::X32,
        Arch::I386 => S::X86,
        Arch::Aarch64 => S::Aarch64,
        Arch::Arm => S::Arm,
        Arch::Riscv64 => S::Riscv64,
        Arch::Ppc64le => S::Ppc64Le,
        Arch::Mipsel => S::Mipsel,
        Arch::Mipsel64 => S::Mipsel64,
        Arch::Mipsel64n32 => S::Mipsel64N32,
        Arch::S390x => S::S390X,
        Arch::S390 => S::S390,
        Arch::Ppc64 => S::Ppc64,
        Arch::Ppc => S::Ppc,
        Arch::Mips => S::Mips,
        Arch::Mips64 => S::Mips64,
        Arch::Mips64n32 => S::Mips64N32,
        Arch::Parisc => S::Parisc,
        _ => S::Parisc64,
    }
}

thread_local! {
    /// The fork server's last filter built through the API, by its request
    /// bytes, with the time adding its rules took: asked for the same case
    /// at another level, it only sets the level and exports again (the
    /// optimisation level is read at export, gen_bpf.c), so adding the rules
    /// (most of libseccomp's time) is done once per case.
    static LAST_API: std::cell::RefCell<Option<(Vec<u8>, libseccomp::ScmpFilterContext, std::time::Duration)>> =
        const { std::cell::RefCell::new(None) };
}

/// Build `case` (request bytes `key`) through libseccomp's API at
/// optimisation `level`: the raw program and the time adding the rules
/// took, or the failing call.
fn build_api(case: &DockerCase, key: &[u8], level: u32) -> Result<(crate::bpf::Program, std::time::Duration), String> {
    let fail = |what: &str, e: libseccomp::error::SeccompError| format!("libseccomp refused to {what}: {e}");
    LAST_API.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_none_or(|(k, _, _)| k.as_slice() != key) {
            *last = None;
            let (ctx, rule_time) = add_rules(case)?;
            *last = Some((key.to_vec(), ctx, rule_time));
        }
        let (_, ctx, rule_time) = last.as_mut().expect("just built");
        ctx.set_ctl_optimize(level).map_err(|e| fail("set SCMP_FLTATR_CTL_OPTIMIZE", e))?;
        Ok((export(ctx, case)?, *rule_time))
    })
}

/// `case`'s filter with its rules added, and the time adding them took.
fn add_rules(case: &DockerCase) -> Result<(libseccomp::ScmpFilterContext, std::time::Duration), String> {
    use libseccomp::{ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
    let fail = |what: &str, e: libseccomp::error::SeccompError| format!("libseccomp refused to {what}: {e}");
    let default = scmp_action(case.default);
    let mut ctx =
        ScmpFilterContext::new(default).map_err(|e| fail(&format!("create the filter with default {default:?}"), e))?;
    let host = scmp_arch(case.host);
    if host != ScmpArch::native() {
        // Native first: libseccomp refuses a second byte order in one filter.
        ctx.remove_arch(ScmpArch::Native).map_err(|e| fail("remove the native arch", e))?;
        ctx.add_arch(host).map_err(|e| fail("add the host arch", e))?;
    }
    for &a in &case.arches {
        ctx.add_arch(scmp_arch(a)).map_err(|e| fail(&format!("add {a}"), e))?;
    }
    let adding = std::time::Instant::now();
    for r in &case.rules {
        let act = scmp_action(r.action);
        if act == default {
            continue;
        }
        let conds: Vec<ScmpArgCompare> = r
            .args
            .iter()
            .map(|a| {
                let (op, datum) = match a.op {
                    DOp::Ne => (ScmpCompareOp::NotEqual, a.value),
                    DOp::Lt => (ScmpCompareOp::Less, a.value),
                    DOp::Le => (ScmpCompareOp::LessOrEqual, a.value),
                    DOp::Eq => (ScmpCompareOp::Equal, a.value),
                    DOp::Ge => (ScmpCompareOp::GreaterEqual, a.value),
                    DOp::Gt => (ScmpCompareOp::Greater, a.value),
                    DOp::MaskedEq => (ScmpCompareOp::MaskedEqual(a.value), a.value_two),
                };
                ScmpArgCompare::new(u32::from(a.index), op, datum)
            })
            .collect();
        let mut seen = [false; 6];
        let repeated = r.args.iter().any(|a| std::mem::replace(&mut seen[usize::from(a.index)], true));
        for name in &r.names {
            let Ok(nr) = ScmpSyscall::from_name(name) else { continue };
            let added = if conds.is_empty() {
                ctx.add_rule(act, nr).map(|_| ())
            } else if repeated {
                conds.iter().try_for_each(|c| ctx.add_rule_conditional(act, nr, std::slice::from_ref(c)).map(|_| ()))
            } else {
                ctx.add_rule_conditional(act, nr, &conds).map(|_| ())
            };
            added.map_err(|e| fail(&format!("add the {act:?} rule for {name} with {:?}", r.args), e))?;
        }
    }
    Ok((ctx, adding.elapsed()))
}

/// The filter's program, as `seccomp_export_bpf` writes it.
fn export(ctx: &libseccomp::ScmpFilterContext, case: &DockerCase) -> Result<crate::bpf::Program, String> {
    use std::io::{Read, Seek};
    let fail = |what: &str, e: libseccomp::error::SeccompError| format!("libseccomp refused to {what}: {e}");
    let mut file = crate::sources::docker::export_file().map_err(|e| format!("memory file: {e}"))?;
    ctx.export_bpf(&file).map_err(|e| fail("export the BPF program", e))?;
    let mut bytes = Vec::new();
    file.rewind().and_then(|_| file.read_to_end(&mut bytes)).map_err(|e| format!("memory file: {e}"))?;
    // seccomp_export_bpf writes `struct sock_filter`s in the filter's byte
    // order (gen_bpf.c `_htot16`/`_htot32`), the host arch's.
    let order = if case.host.little_endian() { crate::bpf::ByteOrder::Little } else { crate::bpf::ByteOrder::Big };
    crate::bpf::decode(&bytes, order).map_err(|e| e.to_string())
}

/// [`build_api`]'s answer in [`encode`]'s form.
fn encode_api(r: Result<(crate::bpf::Program, std::time::Duration), String>) -> Vec<u8> {
    match r {
        Ok((p, t)) => [&[0u8][..], &(t.as_nanos() as u64).to_le_bytes(), &p.to_bytes()].concat(),
        Err(e) => [&[1u8][..], e.as_bytes()].concat(),
    }
}

/// The campaign `seccheck fuzz-generator --generator libseccomp` runs.
pub fn campaign() -> super::Campaign<DockerCase> {
    super::Campaign {
        generate: generate_shaped,
        shape: Default::default(),
        targets: ARCHES.iter().map(|a| a.0).collect(),
        multi_arch: true,
        shard: Default::default(),
        cases: None,
        compilers: vec![
            Box::new(LibseccompCompiler { optimize: Optimize::Linear }),
            Box::new(LibseccompCompiler { optimize: Optimize::BinaryTree }),
            Box::new(ApiCompiler { optimize: Optimize::Linear }),
            Box::new(ApiCompiler { optimize: Optimize::BinaryTree }),
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

/// Request tag: a case for libseccomp's API ([`ApiRequest`]).
const API: u8 = 1;

/// The fork server's side: answer one compilation request ([`encode`]d).
fn serve(request: &[u8]) -> Vec<u8> {
    match request {
        [RUNC, level, host, json @ ..] => {
            let optimize = if *level == 2 { Optimize::BinaryTree } else { Optimize::Linear };
            let Some(&(host_arch, _)) = ARCHES.get(usize::from(*host)) else {
                return [&[1u8][..], b"seccheck: bad host arch in request"].concat();
            };
            let opts = DockerOptions { host_arch, ..LibseccompCompiler { optimize }.options() };
            encode(compile_docker(json, &opts))
        }
        [API, level, bytes @ ..] => match ApiRequest::decode(bytes) {
            Some(case) => encode_api(build_api(&case, bytes, u32::from(*level))),
            None => [&[1u8][..], b"seccheck: garbled API request"].concat(),
        },
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
    let answered = if isolate::fork_server_disabled() {
        isolate::run(l, || serve(request))
    } else {
        WORKER.with(|w| w.borrow_mut().call(request, l))
    };
    match answered {
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
    let cross_endian = case.host.little_endian() != cfg!(target_endian = "little");
    if cross_endian && super::ret_constant_byte_swapped(p, &d.input, d.expected).is_some() {
        return Some(RET_BYTE_SWAPPED);
    }
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

/// Exporting a filter of the other byte order than this machine's (a
/// big-endian host arch here), a `RET` that libseccomp duplicates because a
/// jump to a return is too far (gen_bpf.c `_gen_bpf_build_jmp_ret`:
/// `_gen_bpf_action(state, NULL, blk_ret->blks[0].k.tgt.imm_k)` converts the
/// already converted constant again, `_htot32`) returns its action with the
/// bytes reversed: ALLOW `0x7fff0000` becomes `0x0000ff7f`, KILL_THREAD.
/// Harmless when libseccomp runs on the filter's own byte order (the
/// conversion is then the identity). See `reports/generator-findings.md`, L8.
pub const RET_BYTE_SWAPPED: &str = "libseccomp-ret-byte-swapped";

/// With several arches, when a rule names a syscall one arch lacks (the manual
/// calls that an error; libseccomp 2.5.4 accepts it), that arch's block can
/// lose its `ld nr`: the syscall numbers are compared with the arch value and
/// no rule applies on that arch. See `reports/generator-findings.md`.
pub const ARCH_BLOCK_WITHOUT_NR_LOAD: &str = "libseccomp-arch-block-without-nr-load";
