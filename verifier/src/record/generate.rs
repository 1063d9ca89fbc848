//! Traces → a Docker/OCI seccomp profile (the JSON runtimes load) and the
//! `policy.toml` that says what it must mean.
//!
//! Why it exists: the profile is the deliverable, the policy is its
//! specification, and `record::verify` proves one against the other on the
//! program libseccomp compiles. The rules, with the generator behaviour they
//! have to respect (runc `libcontainer/seccomp`, libseccomp 2.5.4):
//!
//! * **Arches.** `architectures` lists the ABIs that were recorded; x86_64 always
//!   (it is libseccomp's native arch on this host, and runc keeps the native arch
//!   in every filter). x32 and i386 calls are then killed by libseccomp's
//!   bad-arch action unless they were recorded. A Docker profile has one name
//!   list for all its arches (`includes.arches` only tests the *host* arch), so
//!   a name recorded on one recorded ABI is allowed on all of them; the policy
//!   states exactly that.
//! * **Default action** `SCMP_ACT_ERRNO` with `defaultErrnoRet` 1 (EPERM) or
//!   `SCMP_ACT_KILL_PROCESS`. No generated rule has the default's action: runc
//!   silently drops such rules and libseccomp refuses conditional ones with
//!   `-EACCES`.
//! * **Argument rules** where they tighten, each a separate rule entry so that
//!   runc gives libseccomp one rule per entry and the entries are OR'ed (runc
//!   splits one entry with two conditions on the same index into two rules,
//!   i.e. an OR as well, so an AND on one argument must be one `MASKED_EQ`):
//!   - `open`/`openat`: one `SCMP_CMP_MASKED_EQ` per recorded value of
//!     `flags & O_ACCMODE` (`--args loose`) or of `flags & (O_ACCMODE | O_CREAT
//!     | O_TRUNC | O_APPEND)` (`--args strict`). `O_RDONLY` is 0, so "read
//!     only" is `(flags & O_ACCMODE) == O_RDONLY`, never a bit test.
//!   - `socket`: one rule per recorded family, `MASKED_EQ` on the low 32 bits
//!     (an `int`: the upper half of the register is not the caller's to
//!     control — libseccomp issue 383 — so an `EQ` on all 64 bits would decide
//!     on garbage).
//!   - `clone`: without any `CLONE_NEW*` flag, unless one was recorded.
//!     `clone3` passes its flags behind a pointer no filter can read, so with
//!     `--args strict` it fails with `ENOSYS` (as in Docker's default profile),
//!     which makes glibc fall back to `clone`; with `--args loose` it stays
//!     allowed and the namespace restriction can be bypassed through it (noted).
//!   - `--args strict` also restricts `ioctl` and `fcntl` to the recorded
//!     commands and `prctl` to the recorded options (at most
//!     [`MAX_STRICT_VALUES`] each).
//!
//!   Values are compared as the kernel reads them (`record::kernel_value`).
//!   An argument whose recorded set overflowed stays unrestricted.
//! * `--base docker-default` starts from Docker's default profile (its rules
//!   verbatim; its `archMap` replaced by the recorded arches) and adds the
//!   recorded syscalls it does not mention; the policy then only requires the
//!   recorded calls (Docker's base allows more by design).

use super::{ArgValues, Trace, MAX_VALUES};
use crate::arch::Arch;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

// include/uapi/asm-generic/fcntl.h (the x86 ABIs use the generic values)
const O_ACCMODE: u64 = 0o3;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
/// Every `CLONE_NEW*` flag (include/uapi/linux/sched.h): NEWNS, NEWCGROUP,
/// NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME.
const CLONE_NEW_MASK: u64 =
    0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x80;
/// `ENOSYS` (include/uapi/asm-generic/errno.h).
pub const ENOSYS: u16 = 38;
/// At most this many recorded commands/options become rules under `--args strict`.
pub const MAX_STRICT_VALUES: usize = 32;

/// Families the policy denies when no member was recorded.
const DENY_FAMILIES: &[&str] =
    &["mount", "module", "bpf", "keyring", "reboot", "io-uring", "ptrace", "perf", "swap", "clock-set", "raw-io"];

/// Docker's default profile (moby `profiles/seccomp/default.json`, see corpus/SOURCES.md).
const DOCKER_DEFAULT: &str = include_str!("../../../corpus/profiles/docker_default.json");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Base {
    #[default]
    None,
    DockerDefault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArgMode {
    #[default]
    Strict,
    Loose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DefaultAction {
    #[default]
    Errno,
    Kill,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct GenerateOptions {
    pub base: Base,
    pub args: ArgMode,
    pub default: DefaultAction,
}

/// What a recorded call must get from the compiled profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Allow,
    /// Deliberately `ERRNO(ENOSYS)` so the C library falls back (`clone3`).
    Enosys,
}

/// A recorded call shape the profile is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub arch: Arch,
    pub nr: u32,
    pub name: String,
    pub args: [u64; 6],
    pub expected: Expected,
}

/// The generator's output.
#[derive(Clone, Debug)]
pub struct Generated {
    pub profile: Value,
    pub policy: String,
    /// Every recorded call shape, for `verify`.
    pub expectations: Vec<Expectation>,
    /// What the generator decided that a reader should know.
    pub notes: Vec<String>,
    /// Distinct syscall names allowed (with or without conditions) and how many
    /// of them have argument rules.
    pub allowed_names: usize,
    pub restricted_names: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenerateError {
    #[error("no trace given")]
    NoTrace,
    #[error("{file}: syscalls[{index}]: arch {arch} cannot be expressed here: seccheck records and generates for x86_64, x32 and i386")]
    Arch { file: String, index: usize, arch: String },
}

#[derive(Default, Clone)]
struct Merged {
    count: u64,
    /// param name → (index, values, overflow)
    args: BTreeMap<String, (u8, BTreeSet<u64>, bool)>,
}

/// How one syscall name is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Any,
    /// `arg[index] & mask == v` for any v in values.
    Masked {
        index: u8,
        mask: u64,
        values: BTreeSet<u64>,
        why: String,
    },
    /// `ERRNO(ENOSYS)`.
    Enosys,
}

fn scmp_arch(a: Arch) -> Option<&'static str> {
    Some(match a {
        Arch::X86_64 => "SCMP_ARCH_X86_64",
        Arch::X32 => "SCMP_ARCH_X32",
        Arch::I386 => "SCMP_ARCH_X86",
        _ => return None,
    })
}

fn merge_arg(m: &mut Merged, a: &ArgValues) {
    let e = m.args.entry(a.name.clone()).or_insert_with(|| (a.index, BTreeSet::new(), false));
    if e.0 != a.index {
        // The same parameter at different positions on different ABIs: unusable.
        e.2 = true;
    }
    e.2 |= a.overflow;
    for &v in &a.values {
        if e.1.len() < MAX_VALUES || e.1.contains(&v) {
            e.1.insert(v);
        } else {
            e.2 = true;
        }
    }
}

/// A restriction on one recorded parameter, or `Any` when it would not tighten.
fn masked(m: &Merged, param: &str, mask: u64, limit: usize, why: &str) -> Rule {
    let Some((index, values, overflow)) = m.args.get(param) else { return Rule::Any };
    if *overflow || values.is_empty() {
        return Rule::Any;
    }
    let keys: BTreeSet<u64> = values.iter().map(|v| v & mask).collect();
    // Every combination of the mask's bits seen: the rule would allow everything.
    if mask.count_ones() < 16 && keys.len() as u64 == 1u64 << mask.count_ones() || keys.len() > limit {
        return Rule::Any;
    }
    Rule::Masked { index: *index, mask, values: keys, why: why.to_string() }
}

fn rule_for(name: &str, m: &Merged, opts: &GenerateOptions) -> Rule {
    let strict = opts.args == ArgMode::Strict;
    match name {
        "open" | "openat" => {
            let (mask, why) = if strict {
                (
                    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND,
                    "only the recorded access modes and O_CREAT/O_TRUNC/O_APPEND combinations",
                )
            } else {
                (O_ACCMODE, "only the recorded access modes (flags & O_ACCMODE)")
            };
            masked(m, "flags", mask, usize::MAX, why)
        }
        "socket" => masked(m, "family", 0xffff_ffff, usize::MAX, "only the recorded address families"),
        "clone" => match m.args.get("clone_flags") {
            Some((index, values, false)) if values.iter().all(|v| v & CLONE_NEW_MASK == 0) => Rule::Masked {
                index: *index,
                mask: CLONE_NEW_MASK,
                values: [0].into(),
                why: "no CLONE_NEW* (namespace) flag".into(),
            },
            _ => Rule::Any,
        },
        "ioctl" | "fcntl" if strict => masked(m, "cmd", 0xffff_ffff, MAX_STRICT_VALUES, "only the recorded commands"),
        "prctl" if strict => masked(m, "option", 0xffff_ffff, MAX_STRICT_VALUES, "only the recorded options"),
        _ => Rule::Any,
    }
}

/// Build the profile and policy from `traces` (`(file name, trace)`).
pub fn generate(traces: &[(String, Trace)], opts: &GenerateOptions) -> Result<Generated, GenerateError> {
    if traces.is_empty() {
        return Err(GenerateError::NoTrace);
    }
    let mut notes = Vec::new();
    let mut arches: BTreeSet<Arch> = [Arch::X86_64].into();
    // name → merged over every trace and recorded ABI
    let mut by_name: BTreeMap<String, Merged> = BTreeMap::new();
    // (arch, nr, name) → per-arch merged, for expectations
    let mut per_arch: BTreeMap<(Arch, u32), (String, Merged)> = BTreeMap::new();
    for (file, t) in traces {
        for (index, s) in t.syscalls.iter().enumerate() {
            let arch = Arch::from_name(&s.arch)
                .filter(|a| scmp_arch(*a).is_some())
                .ok_or_else(|| GenerateError::Arch { file: file.clone(), index, arch: s.arch.clone() })?;
            arches.insert(arch);
            let Some(name) = &s.name else {
                notes.push(format!(
                    "{file}: {} syscall number {:#x} has no name; a Docker profile can only name syscalls, so it stays denied",
                    arch.name(),
                    s.nr
                ));
                continue;
            };
            let m = by_name.entry(name.clone()).or_default();
            m.count += s.count;
            let pa = &mut per_arch.entry((arch, s.nr)).or_insert_with(|| (name.clone(), Merged::default())).1;
            pa.count += s.count;
            for a in &s.args {
                merge_arg(m, a);
                merge_arg(pa, a);
            }
        }
        if t.recorder.dropped_calls > 0 {
            notes.push(format!(
                "{file}: the recorder dropped {} calls (limits reached); they stay denied",
                t.recorder.dropped_calls
            ));
        }
    }
    for a in &arches {
        if *a != Arch::X86_64 {
            notes.push(format!("{} calls were recorded, so {} is allowed the same names as x86_64 (a Docker profile has one name list for all its arches)", a.name(), a.name()));
        }
    }

    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    let base_docker = opts.base == Base::DockerDefault;
    let docker: Value = serde_json::from_str(DOCKER_DEFAULT).expect("the embedded Docker profile is valid JSON");
    let docker_rules = docker["syscalls"].as_array().cloned().unwrap_or_default();
    let docker_mentions: BTreeSet<String> = docker_rules
        .iter()
        .flat_map(|r| r["names"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(str::to_string)))
        .collect();
    let docker_unconditional: BTreeSet<String> = docker_rules
        .iter()
        .filter(|r| {
            r["action"] == "SCMP_ACT_ALLOW"
                && r.get("args").is_none()
                && r.get("includes").is_none()
                && r.get("excludes").is_none()
        })
        .flat_map(|r| r["names"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(str::to_string)))
        .collect();
    for (name, m) in &by_name {
        if base_docker {
            if !docker_mentions.contains(name) {
                rules.insert(name.clone(), Rule::Any);
            }
            continue;
        }
        rules.insert(name.clone(), rule_for(name, m, opts));
    }
    if !base_docker && by_name.contains_key("clone3") {
        let clone_restricted = matches!(rules.get("clone"), Some(Rule::Masked { .. }) | None);
        if opts.args == ArgMode::Strict && clone_restricted {
            rules.insert("clone3".into(), Rule::Enosys);
            rules.entry("clone".into()).or_insert(Rule::Masked {
                index: 0,
                mask: CLONE_NEW_MASK,
                values: [0].into(),
                why: "no CLONE_NEW* (namespace) flag; the C library's fallback from clone3".into(),
            });
            notes.push("clone3 fails with ENOSYS (its flags are behind a pointer no filter can read); the C library falls back to clone, which is allowed without namespace flags".into());
        } else if matches!(rules.get("clone"), Some(Rule::Masked { .. })) {
            notes.push("--args loose: clone3 is allowed with any flags, so the namespace restriction on clone can be bypassed through clone3".into());
        }
    }

    // The profile.
    let (default_action, default_errno) = match opts.default {
        DefaultAction::Errno => ("SCMP_ACT_ERRNO", Some(1)),
        DefaultAction::Kill => ("SCMP_ACT_KILL_PROCESS", None),
    };
    let mut entries: Vec<Value> = Vec::new();
    if base_docker {
        entries.extend(docker_rules.iter().cloned());
    }
    let any: Vec<&String> = rules.iter().filter(|(_, r)| **r == Rule::Any).map(|(n, _)| n).collect();
    if !any.is_empty() {
        entries.push(json!({
            "names": any,
            "action": "SCMP_ACT_ALLOW",
            "comment": if base_docker { "recorded, not mentioned by Docker's default profile" } else { "recorded; any arguments" },
        }));
    }
    for (name, r) in &rules {
        match r {
            Rule::Any => {}
            Rule::Masked { index, mask, values, why } => {
                for v in values {
                    entries.push(json!({
                        "names": [name],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{ "index": index, "value": mask, "valueTwo": v, "op": "SCMP_CMP_MASKED_EQ" }],
                        "comment": format!("{name}: {why}"),
                    }));
                }
            }
            Rule::Enosys => entries.push(json!({
                "names": [name],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": ENOSYS,
                "comment": format!("{name}: ENOSYS so that the C library falls back to clone"),
            })),
        }
    }
    let mut profile = json!({
        "defaultAction": default_action,
        "architectures": arches.iter().filter_map(|a| scmp_arch(*a)).collect::<Vec<_>>(),
        "syscalls": entries,
    });
    if let Some(e) = default_errno {
        profile["defaultErrnoRet"] = json!(e);
    }

    // Expectations: every recorded shape, varying one recorded argument at a time.
    let mut expectations = Vec::new();
    for ((arch, nr), (name, m)) in &per_arch {
        let expected = if rules.get(name) == Some(&Rule::Enosys) { Expected::Enosys } else { Expected::Allow };
        let mut base = [0u64; 6];
        for (index, values, _) in m.args.values() {
            if let Some(v) = values.iter().next() {
                base[usize::from(*index)] = *v;
            }
        }
        expectations.push(Expectation { arch: *arch, nr: *nr, name: name.clone(), args: base, expected });
        for (index, values, _) in m.args.values() {
            for v in values.iter().skip(1) {
                let mut a = base;
                a[usize::from(*index)] = *v;
                expectations.push(Expectation { arch: *arch, nr: *nr, name: name.clone(), args: a, expected });
            }
        }
    }

    let policy = policy_text(traces, &arches, &rules, &by_name, &docker_unconditional, opts);
    let allowed_names = rules.values().filter(|r| **r != Rule::Enosys).count()
        + if base_docker { by_name.keys().filter(|n| docker_mentions.contains(*n)).count() } else { 0 };
    let restricted_names = rules.values().filter(|r| matches!(r, Rule::Masked { .. })).count();
    Ok(Generated { profile, policy, expectations, notes, allowed_names, restricted_names })
}

fn toml_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("[{}]", q.join(", "))
}

fn policy_text(
    traces: &[(String, Trace)],
    arches: &BTreeSet<Arch>,
    rules: &BTreeMap<String, Rule>,
    recorded: &BTreeMap<String, Merged>,
    docker_unconditional: &BTreeSet<String>,
    opts: &GenerateOptions,
) -> String {
    let base_docker = opts.base == Base::DockerDefault;
    let mut s = String::new();
    let files: Vec<&str> = traces.iter().map(|(f, _)| f.as_str()).collect();
    let _ = writeln!(s, "# Generated by `seccheck generate` from {}.", files.join(", "));
    let _ = writeln!(s, "# What the generated profile must mean; prove it with");
    let _ = writeln!(s, "#   seccheck check PROFILE --policy THIS_FILE");
    let arch_names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
    let _ = writeln!(s, "arches = {}", toml_list(&arch_names));
    if base_docker {
        let _ = writeln!(s, "# --base docker-default allows what Docker's default profile allows, recorded or not");
        let _ = writeln!(s, "default = \"allow\"");
    } else {
        let _ = writeln!(s, "# nothing that was not recorded may run");
        let _ = writeln!(s, "default = \"deny\"");
    }
    let any: Vec<&str> = rules
        .iter()
        .filter(|(n, r)| **r == Rule::Any && (!base_docker || recorded.contains_key(*n)))
        .map(|(n, _)| n.as_str())
        .chain(if base_docker {
            recorded.keys().filter(|n| docker_unconditional.contains(*n)).map(|n| n.as_str()).collect::<Vec<_>>()
        } else {
            Vec::new()
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !any.is_empty() {
        let _ = writeln!(s, "\n# recorded; must run with any arguments\n[[allow]]\nsyscalls = {}", toml_list(&any));
    }
    for (name, r) in rules {
        match r {
            Rule::Masked { index, mask, values, why } => {
                let cond: Vec<String> = values.iter().map(|v| format!("arg{index} & {mask:#x} == {v:#x}")).collect();
                let _ = writeln!(
                    s,
                    "\n# {name}: {why}\n[[allow_only_if]]\nsyscalls = [{name:?}]\nwhen = {:?}",
                    cond.join(" or ")
                );
            }
            Rule::Enosys => {
                let _ = writeln!(s, "\n# {name} fails with ENOSYS\n[[deny]]\nsyscalls = [{name:?}]");
            }
            Rule::Any => {}
        }
    }
    if !base_docker {
        let unused: Vec<String> = DENY_FAMILIES
            .iter()
            .filter(|f| {
                let members =
                    crate::when::families::FAMILIES.iter().find(|(n, _, _)| n == *f).map(|(_, _, m)| *m).unwrap_or(&[]);
                !members.iter().any(|m| rules.contains_key(*m))
            })
            .map(|f| format!("@{f}"))
            .collect();
        if !unused.is_empty() {
            let u: Vec<&str> = unused.iter().map(String::as_str).collect();
            let _ = writeln!(s, "\n# families nothing recorded belongs to\n[[deny]]\nsyscalls = {}", toml_list(&u));
        }
    }
    let _ = writeln!(s, "\n[actions]\nforbid = [\"user_notif\", \"trace\", \"log\"]");
    s
}

#[cfg(test)]
mod tests {
    use super::super::{Aggregate, ExitRecord};
    use super::*;

    const X86: u32 = 0xc000_003e;

    fn trace(calls: &[(&str, [u64; 6])]) -> Vec<(String, Trace)> {
        let mut a = Aggregate::new();
        for (name, args) in calls {
            a.add(1, X86, Arch::X86_64.syscall_nr(name).unwrap(), args);
        }
        vec![("t.json".into(), a.into_trace(vec!["t".into()], ExitRecord::Code(0), 0.0))]
    }

    #[test]
    fn openat_is_restricted_to_the_recorded_access_modes() {
        // O_RDONLY|O_CLOEXEC and O_WRONLY|O_CREAT|O_TRUNC
        let t =
            trace(&[("openat", [0, 0, 0x8_0000, 0, 0, 0]), ("openat", [0, 0, 0x241, 0o644, 0, 0]), ("read", [0; 6])]);
        let loose = generate(&t, &GenerateOptions { args: ArgMode::Loose, ..Default::default() }).unwrap();
        let rules: Vec<&Value> =
            loose.profile["syscalls"].as_array().unwrap().iter().filter(|r| r["names"][0] == "openat").collect();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["args"][0], json!({"index": 2, "value": 3, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}));
        assert_eq!(rules[1]["args"][0]["valueTwo"], 1);
        assert!(loose.policy.contains("when = \"arg2 & 0x3 == 0x0 or arg2 & 0x3 == 0x1\""), "{}", loose.policy);
        let strict = generate(&t, &GenerateOptions::default()).unwrap();
        assert!(strict.policy.contains("when = \"arg2 & 0x643 == 0x0 or arg2 & 0x643 == 0x241\""), "{}", strict.policy);
        assert_eq!(strict.profile["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(strict.profile["defaultErrnoRet"], 1);
        assert_eq!(strict.profile["architectures"], json!(["SCMP_ARCH_X86_64"]));
    }

    #[test]
    fn clone_loses_namespace_flags_and_clone3_falls_back() {
        let t = trace(&[("clone3", [0, 88, 0, 0, 0, 0]), ("exit_group", [0; 6])]);
        let g = generate(&t, &GenerateOptions { default: DefaultAction::Kill, ..Default::default() }).unwrap();
        let r = g.profile["syscalls"].as_array().unwrap();
        assert!(r.iter().any(|e| e["names"][0] == "clone3" && e["action"] == "SCMP_ACT_ERRNO" && e["errnoRet"] == 38));
        assert!(r.iter().any(|e| e["names"][0] == "clone" && e["args"][0]["value"] == CLONE_NEW_MASK));
        assert_eq!(g.profile["defaultAction"], "SCMP_ACT_KILL_PROCESS");
        assert!(g.profile.get("defaultErrnoRet").is_none());
        assert_eq!(g.expectations.iter().find(|e| e.name == "clone3").unwrap().expected, Expected::Enosys);
        // a recorded namespace flag leaves clone unconditional
        let t = trace(&[("clone", [0x1000_0000 | 17, 0, 0, 0, 0, 0])]);
        let g = generate(&t, &GenerateOptions::default()).unwrap();
        assert!(g.profile["syscalls"][0]["names"].as_array().unwrap().contains(&json!("clone")));
        assert_eq!(g.restricted_names, 0);
    }

    #[test]
    fn sockets_only_for_recorded_families_compared_on_the_low_half() {
        let t = trace(&[("socket", [1, 1, 0, 0, 0, 0]), ("socket", [0xffff_ffff_0000_000a, 2, 0, 0, 0, 0])]);
        let g = generate(&t, &GenerateOptions::default()).unwrap();
        let fams: Vec<&Value> = g.profile["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["args"][0]["valueTwo"])
            .filter(|v| !v.is_null())
            .collect();
        assert_eq!(fams, vec![&json!(1), &json!(10)]);
        assert!(g.policy.contains("arg0 & 0xffffffff == 0x1 or arg0 & 0xffffffff == 0xa"), "{}", g.policy);
    }

    #[test]
    fn unknown_arches_and_empty_input_are_errors() {
        assert_eq!(generate(&[], &GenerateOptions::default()).unwrap_err(), GenerateError::NoTrace);
        let mut t = trace(&[("read", [0; 6])]);
        t[0].1.syscalls[0].arch = "aarch64".into();
        let e = generate(&t, &GenerateOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "t.json: syscalls[0]: arch aarch64 cannot be expressed here: seccheck records and generates for x86_64, x32 and i386");
    }
}
