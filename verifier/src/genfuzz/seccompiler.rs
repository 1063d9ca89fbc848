//! Random seccompiler JSON filters, compiled by the real `seccompiler` crate
//! for x86_64, aarch64 and riscv64, and their documented meaning.
//!
//! The reference is seccompiler's `docs/json_format.md` and the doc comments
//! of its public types:
//! - a filter has a `mismatch_action`, a `match_action` and `filter`, "an array
//!   containing multiple or-bound SyscallRule objects (if one of them matches,
//!   the corresponding action gets triggered)"; a rule's `args` are and-bound;
//!   "in the absence of the `args` property, the corresponding action will get
//!   triggered by any call that matches that name, irrespective of the argument
//!   values";
//! - `dword` compares the 4-byte argument (its low 32 bits), `qword` all 8;
//!   `masked_eq`: "masked bits of argument value are equal to masked bits of
//!   specified value";
//! - `errno`: "returns from syscall with specified error number"; the kernel
//!   caps it at MAX_ERRNO (4095), so that is what any errno above it can mean;
//! - an arch other than the target's `AUDIT_ARCH_*` value is killed
//!   (KILL_PROCESS, the arch check of seccompiler's `backend/bpf.rs`); x32
//!   calls carry `AUDIT_ARCH_X86_64`, so they are syscalls of no rule and get
//!   the mismatch action.

use super::{
    interesting_u64, valid, Case, CmpOp, Compiled, Compiler, Cond, Divergence, Limits, Model, NotCompiled, RefRule,
    Refusal, Slow, NAME_POOL,
};
use crate::arch::Arch;
use crate::bpf::validate::ValidProgram;
use crate::seccomp::{Action, SeccompData, SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE};
use crate::sources::seccompiler::{compile_seccompiler, SeccompilerOptions, SECCOMPILER_VERSION};
use arbitrary::Unstructured;
use serde_json::{json, Value};

/// A seccompiler action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SAction {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Log,
    Trace(u32),
    Trap,
}

impl SAction {
    fn to_json(self) -> Value {
        match self {
            SAction::Allow => json!("allow"),
            SAction::Errno(e) => json!({ "errno": e }),
            SAction::KillThread => json!("kill_thread"),
            SAction::KillProcess => json!("kill_process"),
            SAction::Log => json!("log"),
            SAction::Trace(t) => json!({ "trace": t }),
            SAction::Trap => json!("trap"),
        }
    }
    /// The documented action; ERRNO data above 0xffff cannot be passed in a
    /// return value, and the kernel caps anything above 4095 at 4095.
    pub fn meaning(self) -> Action {
        match self {
            SAction::Allow => Action::Allow,
            SAction::Errno(e) => Action::from_ret(SECCOMP_RET_ERRNO | e.min(0xffff)),
            SAction::KillThread => Action::KillThread,
            SAction::KillProcess => Action::KillProcess,
            SAction::Log => Action::Log,
            SAction::Trace(t) => Action::from_ret(SECCOMP_RET_TRACE | t.min(0xffff)),
            SAction::Trap => Action::Trap(0),
        }
    }
    fn arbitrary(u: &mut Unstructured) -> arbitrary::Result<SAction> {
        Ok(match u.int_in_range(0u8..=8)? {
            0 | 1 => SAction::Allow,
            2 => SAction::Errno(u.int_in_range(0u32..=4095)?),
            3 => SAction::Errno(match u.int_in_range(0u8..=3)? {
                0 => u.int_in_range(4096u32..=0xffff)?,
                1 => 0x1_0000 + u.int_in_range(0u32..=200)?,
                _ => u.int_in_range(1u32..=40)?,
            }),
            4 => SAction::KillThread,
            5 => SAction::KillProcess,
            6 => SAction::Log,
            7 => SAction::Trace(u.int_in_range(0u32..=0xffff)?),
            _ => SAction::Trap,
        })
    }
}

/// seccompiler's comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    MaskedEq(u64),
}

/// One condition object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SCond {
    pub index: u8,
    pub qword: bool,
    pub op: SOp,
    pub val: u64,
}

/// One SyscallRule object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SRule {
    pub syscall: &'static str,
    pub args: Option<Vec<SCond>>,
}

/// A seccompiler JSON file with one filter, `main`, for `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompilerCase {
    pub target: Arch,
    pub mismatch: SAction,
    pub matched: SAction,
    pub rules: Vec<SRule>,
}

pub const TARGETS: [Arch; 3] = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64];

/// Generate a filter of the default [`super::Shape`].
pub fn generate(u: &mut Unstructured) -> arbitrary::Result<SeccompilerCase> {
    generate_shaped(u, &super::Shape::default())
}

/// Generate a filter: a target (the schedule's lead arch, else of
/// `shape.arches` when given), two actions,
/// a rule count from `shape`'s schedule (syscalls repeat, with and without
/// `args`; the name set grows with the rules), 0–6 conditions each, `dword`
/// values within 32 bits (the documented argument size), `qword` any.
pub fn generate_shaped(u: &mut Unstructured, shape: &super::Shape) -> arbitrary::Result<SeccompilerCase> {
    let targets: Vec<Arch> =
        TARGETS.iter().copied().filter(|a| shape.arches.as_ref().is_none_or(|s| s.contains(a))).collect();
    let target = match shape.pick {
        Some(p) => p.lead,
        None => *u.choose(&targets)?,
    };
    let mismatch = SAction::arbitrary(u)?;
    let matched = SAction::arbitrary(u)?;
    let names: Vec<&'static str> = NAME_POOL.iter().copied().filter(|n| target.syscall_nr(n).is_some()).collect();
    let n_rules = shape.rules(u)?;
    let mut pool = Vec::new();
    for _ in 0..u.int_in_range(1..=(n_rules / 4).clamp(8, names.len()))? {
        pool.push(*u.choose(&names)?);
    }
    let mut rules = Vec::new();
    for _ in 0..n_rules {
        let syscall = *u.choose(&pool)?;
        let args = if u.ratio(1u8, 3)? {
            None
        } else {
            let mut v = Vec::new();
            for _ in 0..u.int_in_range(1u8..=6)? {
                let qword = u.ratio(1u8, 2)?;
                let fit = |x: u64| if qword { x } else { x & 0xffff_ffff };
                let op = match u.int_in_range(0u8..=6)? {
                    0 => SOp::Eq,
                    1 => SOp::Ne,
                    2 => SOp::Lt,
                    3 => SOp::Le,
                    4 => SOp::Gt,
                    5 => SOp::Ge,
                    _ => SOp::MaskedEq(fit(interesting_u64(u)?)),
                };
                v.push(SCond { index: u.int_in_range(0u8..=5)?, qword, op, val: fit(interesting_u64(u)?) });
            }
            Some(v)
        };
        rules.push(SRule { syscall, args });
    }
    Ok(SeccompilerCase { target, mismatch, matched, rules })
}

impl Case for SeccompilerCase {
    fn abis(&self) -> Vec<Arch> {
        vec![self.target]
    }
    fn rule_count(&self) -> usize {
        self.rules.len()
    }
    fn json(&self) -> String {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                o.insert("syscall".into(), json!(r.syscall));
                if let Some(args) = &r.args {
                    let a: Vec<Value> = args
                        .iter()
                        .map(|c| {
                            let op = match c.op {
                                SOp::Eq => json!("eq"),
                                SOp::Ne => json!("ne"),
                                SOp::Lt => json!("lt"),
                                SOp::Le => json!("le"),
                                SOp::Gt => json!("gt"),
                                SOp::Ge => json!("ge"),
                                SOp::MaskedEq(m) => json!({ "masked_eq": m }),
                            };
                            json!({"index": c.index, "type": if c.qword { "qword" } else { "dword" }, "op": op, "val": c.val})
                        })
                        .collect();
                    o.insert("args".into(), Value::Array(a));
                }
                Value::Object(o)
            })
            .collect();
        let f = json!({
            "main": {
                "mismatch_action": self.mismatch.to_json(),
                "match_action": self.matched.to_json(),
                "filter": rules,
            }
        });
        serde_json::to_string_pretty(&f).expect("JSON values serialise")
    }

    fn model(&self) -> Model {
        let mut rules = Vec::new();
        for r in &self.rules {
            let Some(nr) = self.target.syscall_nr(r.syscall) else { continue };
            let conds = r
                .args
                .iter()
                .flatten()
                .map(|c| {
                    let op = match c.op {
                        SOp::Eq => CmpOp::Eq(c.val),
                        SOp::Ne => CmpOp::Ne(c.val),
                        SOp::Lt => CmpOp::Lt(c.val),
                        SOp::Le => CmpOp::Le(c.val),
                        SOp::Gt => CmpOp::Gt(c.val),
                        SOp::Ge => CmpOp::Ge(c.val),
                        SOp::MaskedEq(m) => CmpOp::MaskedEq { mask: m, value: c.val & m },
                    };
                    Cond { arg: c.index, wide: c.qword, op }
                })
                .collect();
            rules.push(RefRule { nr, action: self.matched.meaning(), conds });
        }
        Model {
            abis: vec![super::AbiModel { abi: self.target, default: self.mismatch.meaning(), rules }],
            bad_arch: Action::KillProcess,
            x32_separate: false,
        }
    }

    fn shrink(&self) -> Vec<SeccompilerCase> {
        let mut out: Vec<SeccompilerCase> = super::without_each(&self.rules)
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|rules| SeccompilerCase { rules, ..self.clone() })
            .collect();
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(args) = &r.args {
                for j in 0..args.len() {
                    if args.len() > 1 {
                        let mut c = self.clone();
                        c.rules[i].args.as_mut().expect("has args").remove(j);
                        out.push(c);
                    }
                }
                for (j, a) in args.iter().enumerate() {
                    if a.val != 0 {
                        let mut c = self.clone();
                        c.rules[i].args.as_mut().expect("has args")[j].val = 0;
                        out.push(c);
                    }
                }
            }
        }
        if self.target != Arch::X86_64 {
            let mut c = self.clone();
            c.target = Arch::X86_64;
            out.push(c);
        }
        out
    }
}

/// seccompiler for the case's target.
pub struct SeccompilerCompiler;

impl Compiler<SeccompilerCase> for SeccompilerCompiler {
    fn name(&self) -> String {
        "seccompiler".into()
    }
    fn generator(&self) -> String {
        format!("seccompiler {SECCOMPILER_VERSION}")
    }
    /// In this process (pure Rust; `fuzz-generator`'s watchdog catches a hang).
    fn compile(&self, case: &SeccompilerCase, _: Limits) -> Result<Compiled, NotCompiled> {
        let opts = SeccompilerOptions { target: case.target, thread: Some("main".into()) };
        let start = std::time::Instant::now();
        let out = compile_seccompiler(case.json().as_bytes(), &opts).map_err(|e| Refusal(e.to_string()))?;
        let time = start.elapsed();
        let f = out.into_iter().next().ok_or_else(|| Refusal("no filter".into()))?;
        Ok(Compiled { program: valid(f.program)?, slow: Slow::of(time, None) })
    }
    fn timing_command(&self, file: &str, case: &SeccompilerCase) -> String {
        format!("time seccheck table {file} --filter main --host-arch {}", case.target.name())
    }
    fn reproducer(&self, file: &str, _: &SeccompilerCase, d: &SeccompData) -> String {
        let target = Arch::from_audit(d.arch, 0).filter(|a| TARGETS.contains(a)).unwrap_or(Arch::X86_64);
        format!(
            "seccheck emu {file} --filter main --host-arch {} --arch {:#x} --syscall {} --args {}",
            target.name(),
            d.arch,
            d.nr,
            d.args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>().join(",")
        )
    }
}

/// The campaign `seccheck fuzz-generator --generator seccompiler` runs.
pub fn campaign() -> super::Campaign<SeccompilerCase> {
    super::Campaign {
        generate: generate_shaped,
        shape: Default::default(),
        targets: TARGETS.to_vec(),
        multi_arch: false,
        shard: Default::default(),
        cases: None,
        compilers: vec![Box::new(SeccompilerCompiler)],
        known,
        shared_rule_stage: false,
    }
}

/// A rule without `args` is dropped when the same syscall also has a rule with
/// `args`: the syscall then matches only when some conditions hold
/// (`frontend/json.rs` `make_seccomp_filter` creates the syscall's rule list for
/// the argument-less rule but pushes nothing into it, and a non-empty list
/// means "one of these rules"). See `reports/generator-findings.md`.
pub const UNCONDITIONAL_RULE_DROPPED: &str = "seccompiler-unconditional-rule-dropped";
/// `{"errno": N}` with N > 0xffff is compiled as `N & 0xffff` (`backend/mod.rs`:
/// `SECCOMP_RET_ERRNO | (x & SECCOMP_RET_DATA)`), silently: 65536 becomes
/// errno 0, a syscall that "succeeds" without running.
pub const ERRNO_TRUNCATED: &str = "seccompiler-errno-truncated";

/// Known seccompiler issues a divergence matches (`reports/generator-findings.md`).
pub fn known(case: &SeccompilerCase, _p: &ValidProgram, d: &Divergence) -> Option<&'static str> {
    let big_errno = |a: SAction| matches!(a, SAction::Errno(e) if e > 0xffff);
    if (big_errno(case.matched) || big_errno(case.mismatch))
        && matches!(d.expected, Action::Errno(_)) | matches!(d.actual, Action::Errno(_))
    {
        return Some(ERRNO_TRUNCATED);
    }
    let on_nr = |r: &&SRule| case.target.syscall_nr(r.syscall) == Some(d.input.nr);
    let unconditional = case.rules.iter().filter(on_nr).any(|r| r.args.is_none());
    let conditional = case.rules.iter().filter(on_nr).any(|r| r.args.is_some());
    if unconditional && conditional && d.expected == case.matched.meaning() && d.actual == case.mismatch.meaning() {
        return Some(UNCONDITIONAL_RULE_DROPPED);
    }
    None
}
