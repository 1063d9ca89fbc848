//! seccompiler JSON (Firecracker's filter format), compiled by the real
//! `seccompiler` crate (the version Firecracker builds its filters with).
//!
//! The file maps a thread category (`vmm`, `api`, `vcpu`, …) to one filter;
//! `seccompiler::compile_from_json` compiles all of them for one target arch
//! (`x86_64`, `aarch64` or `riscv64`: seccompiler's own arch check and syscall
//! table are per target). Each category becomes one [`CompiledFilter`], sorted
//! by name. seccompiler's programs are installed as they are
//! (`seccomp(SECCOMP_SET_MODE_FILTER, 0, …)`, no flags).

use super::value::{display_path, Node};
use super::{check_loadable, syntax, CompiledFilter, SourceError};
use crate::arch::Arch;
use crate::bpf::{Insn, Program};
use seccompiler::TargetArch;

/// Which filters to compile, for which arch.
#[derive(Clone, Debug)]
pub struct SeccompilerOptions {
    /// seccompiler's target: x86_64, aarch64 or riscv64.
    pub target: Arch,
    /// Compile only this thread category (e.g. `vmm`); `None` compiles all.
    pub thread: Option<String>,
}

impl Default for SeccompilerOptions {
    fn default() -> Self {
        SeccompilerOptions { target: Arch::X86_64, thread: None }
    }
}

/// The version of the `seccompiler` crate linked in (keep in step with Cargo.toml).
pub const SECCOMPILER_VERSION: &str = "0.5.0";

fn target_arch(a: Arch) -> Result<TargetArch, SourceError> {
    match a {
        Arch::X86_64 => Ok(TargetArch::x86_64),
        Arch::Aarch64 => Ok(TargetArch::aarch64),
        Arch::Riscv64 => Ok(TargetArch::riscv64),
        other => Err(SourceError::Refused {
            path: "(target arch)".into(),
            message: format!("seccompiler compiles for x86_64, aarch64 and riscv64 only, not {other}"),
        }),
    }
}

/// Compile seccompiler JSON for `opts.target`; one filter per thread category.
pub fn compile_seccompiler(bytes: &[u8], opts: &SeccompilerOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    target_arch(opts.target)?;
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    // Read it ourselves first so structural errors carry a JSON path.
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| syntax("JSON", &e))?;
    compile_seccompiler_value(&v, text, opts)
}

/// [`compile_seccompiler`] of JSON already parsed as `v` from `text` (which the
/// seccompiler crate then reads itself, as Firecracker does).
pub(crate) fn compile_seccompiler_value(
    v: &serde_json::Value,
    text: &str,
    opts: &SeccompilerOptions,
) -> Result<Vec<CompiledFilter>, SourceError> {
    let target = target_arch(opts.target)?;
    let top = Node::root(v, "");
    let obj = v.as_object().ok_or_else(|| top.invalid("an object mapping thread names to filters"))?;
    for (name, f) in obj {
        let n = Node::root(f, name);
        if !f.is_object() {
            return Err(n.invalid("a filter object {default_action, filter_action, filter}"));
        }
    }
    let names: Vec<&String> = obj.keys().collect();
    if let Some(t) = &opts.thread {
        if !obj.contains_key(t) {
            return Err(SourceError::NoSuchFilter {
                name: t.clone(),
                available: names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            });
        }
    }
    let map = seccompiler::compile_from_json(text.as_bytes(), target)
        .map_err(|e| SourceError::Seccompiler { message: e.to_string() })?;
    let mut labels: Vec<&String> = map.keys().collect();
    labels.sort();
    let mut out = Vec::new();
    for label in labels {
        if opts.thread.as_ref().is_some_and(|t| t != label) {
            continue;
        }
        let program =
            Program::new(map[label].iter().map(|f| Insn { code: f.code, jt: f.jt, jf: f.jf, k: f.k }).collect());
        check_loadable(&program).map_err(|e| match e {
            SourceError::KernelWouldRefuse { .. } => {
                SourceError::Refused { path: display_path(label), message: e.to_string() }
            }
            e => e,
        })?;
        out.push(CompiledFilter {
            label: label.clone(),
            program,
            generator: format!("seccompiler {SECCOMPILER_VERSION} target={}", opts.target),
            arches: vec![opts.target],
            load_flags: Vec::new(),
            notes: Vec::new(),
            rule_time: None,
        });
    }
    Ok(out)
}
