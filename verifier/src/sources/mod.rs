//! Reading filters from the formats users hold, compiled by the generators that
//! really produce them.
//!
//! A profile is only a request; what the kernel runs is what a runtime's
//! generator makes of it. So nothing here re-implements a generator:
//!
//! - Docker/OCI JSON ([`docker`]) goes through Docker's profile resolution
//!   (`archMap`, `includes`/`excludes`), runc's conversion and rule loop and the
//!   real libseccomp (the system library via the `libseccomp` crate), and then
//!   gets runc's `-ENOSYS` stub prepended, exactly as runc loads it.
//! - seccompiler JSON ([`seccompiler`]) is compiled by the `seccompiler` crate that
//!   Firecracker uses, one filter per thread category.
//! - Kubernetes `SeccompProfile` YAML ([`k8s`]) carries the Docker format in `spec`.
//!
//! Policy languages that need their own compiler (kafel, LXC, minijail) are
//! recognised by [`detect_format`] and refused with a clear
//! [`SourceError::Unsupported`].
//!
//! Every error names where in the input it comes from (a JSON path such as
//! `syscalls[3].args[0].op`, a YAML document number) and what was expected;
//! nothing here panics on bad input. Things a generator silently does that a
//! user should know about (a rule runc drops, a syscall name libseccomp does not
//! know) are returned as [`Note`]s next to the program, not hidden.

pub mod docker;
pub mod k8s;
pub mod seccompiler;
mod value;

use crate::arch::Arch;
use crate::bpf::{validate::Violation, DecodeError, Program};
use std::path::{Path, PathBuf};

pub use docker::{compile_docker, DockerOptions, KernelVersion, Loader, Optimize};
pub use k8s::compile_k8s;
pub use seccompiler::{compile_seccompiler, SeccompilerOptions};

/// One compiled filter and how it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledFilter {
    /// Which filter of the input this is: `profile` for a Docker/OCI profile, the
    /// thread category (`vmm`, `api`, `vcpu`) for seccompiler JSON, the
    /// `metadata.name` for a Kubernetes `SeccompProfile`.
    pub label: String,
    /// The instructions, in the order the kernel receives them.
    pub program: Program,
    /// The generator and its settings, e.g.
    /// `libseccomp 2.5.4 optimize=2 + runc ENOSYS stub`.
    pub generator: String,
    /// The ABIs the filter has rules for, in the generator's order. Any other
    /// ABI meets the generator's bad-arch action.
    pub arches: Vec<Arch>,
    /// `SECCOMP_FILTER_FLAG_*` names the loader passes to `seccomp(2)` with this
    /// filter (they do not change the program, but change how it is installed).
    pub load_flags: Vec<&'static str>,
    /// What the generator did that the profile does not say (rules dropped,
    /// names ignored, rules filtered out by `includes`/`excludes`).
    pub notes: Vec<Note>,
}

/// Something the generator did silently that a reader of the profile would not expect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Where in the input (JSON path), e.g. `syscalls[1].names[0]`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why an input could not be turned into filters.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error inside a named file (wraps the others for [`compile_file`]).
    #[error("{file}: {source}")]
    InFile {
        file: PathBuf,
        #[source]
        source: Box<SourceError>,
    },
    /// Zero bytes or only whitespace.
    #[error("empty input: expected a seccomp profile (Docker/OCI JSON, seccompiler JSON or Kubernetes SeccompProfile YAML)")]
    Empty,
    /// The text is not JSON (or not YAML, for YAML inputs).
    #[error("{what} syntax error at line {line}, column {column}: {message}")]
    Syntax {
        what: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value has the wrong type or an impossible value.
    #[error("{path}: expected {expected}, found {found}")]
    Invalid {
        path: String,
        expected: String,
        found: String,
    },
    /// A known format we deliberately do not compile.
    #[error("unsupported format: {format}; {hint}")]
    Unsupported {
        format: &'static str,
        hint: &'static str,
    },
    /// Neither a format we know nor one we recognise.
    #[error("unrecognised input: {reason}")]
    Unrecognised { reason: String },
    /// Docker or runc refuses the profile before libseccomp sees a rule. The
    /// message says what the runtime checks.
    #[error("{path}: {message}")]
    Refused { path: String, message: String },
    /// libseccomp refused a rule, so runc fails to start the container.
    #[error("{path}: libseccomp refused the {action} rule for syscall `{syscall}`: {errno} ({meaning}); runc fails with \"error adding seccomp rule for syscall {syscall}\"")]
    RuleRefused {
        path: String,
        syscall: String,
        action: String,
        /// The negative errno libseccomp returned, by name (`-EEXIST`).
        errno: String,
        /// What that errno means for this call in libseccomp 2.5.
        meaning: String,
    },
    /// Any other libseccomp failure (creating the filter, adding an arch, exporting).
    #[error("{path}: libseccomp failed to {operation}: {message}")]
    Libseccomp {
        path: String,
        operation: &'static str,
        message: String,
    },
    /// seccompiler refused the input.
    #[error("seccompiler: {message}")]
    Seccompiler { message: String },
    /// The requested filter (thread category / document name) is not in the input.
    #[error("no filter named `{name}`; the input has: {available}")]
    NoSuchFilter { name: String, available: String },
    /// The profile asks for no filter at all (Docker: no `defaultAction` and no `syscalls`).
    #[error("{path}: no defaultAction and no syscalls: Docker and runc install no seccomp filter for this profile")]
    NoFilter { path: String },
    /// The generator's output does not decode as `sock_filter`s.
    #[error("generator output: {0}")]
    Decode(#[from] DecodeError),
    /// The generated program would be refused by the kernel (so the runtime fails
    /// at `seccomp(2)` with `EINVAL`).
    #[error("the kernel would refuse the generated {len}-instruction program: {}", .violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    KernelWouldRefuse {
        len: usize,
        violations: Vec<Violation>,
    },
}

/// The input formats [`detect_format`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Docker/moby profile or OCI `linux.seccomp` object (JSON).
    DockerJson,
    /// An OCI runtime `config.json` whose `linux.seccomp` holds the profile.
    OciConfig,
    /// Firecracker's seccompiler JSON: a map of thread category to filter.
    SeccompilerJson,
    /// Kubernetes `SeccompProfile` custom resources (YAML, possibly multi-document).
    KubernetesYaml,
    /// Kafel policy language (needs kafel's compiler).
    Kafel,
    /// LXC seccomp policy text (needs LXC's parser).
    Lxc,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::DockerJson => "Docker/OCI seccomp JSON",
            Format::OciConfig => "OCI runtime config.json",
            Format::SeccompilerJson => "seccompiler JSON",
            Format::KubernetesYaml => "Kubernetes SeccompProfile YAML",
            Format::Kafel => "kafel policy language",
            Format::Lxc => "LXC seccomp policy",
        }
    }
}

/// Tell which format `bytes` are in, from their content alone.
///
/// JSON objects are classified by their keys: Docker/OCI profiles have
/// `defaultAction`/`syscalls`/`architectures`/`archMap`; an OCI `config.json`
/// has `ociVersion` and `linux`; seccompiler JSON is an object of objects with
/// `default_action`/`filter_action`/`filter`; a JSON or YAML document with
/// `kind: SeccompProfile` is a Kubernetes resource. Kafel policies use
/// `POLICY name {` / `USE name DEFAULT action` (and `#define`, `#include`); LXC
/// policies start with a version line `1` or `2`.
pub fn detect_format(bytes: &[u8]) -> Result<Format, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!("not UTF-8 text (invalid byte at offset {}); compiled BPF is read by the raw reader, not here", e.valid_up_to()),
    })?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(SourceError::Empty);
    }
    if trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| syntax("JSON", &e))?;
        return classify_json(&v);
    }
    if let Some(first) = trimmed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if first == "1" || first == "2" {
            return Ok(Format::Lxc);
        }
    }
    if looks_like_kafel(trimmed) {
        return Ok(Format::Kafel);
    }
    if trimmed.starts_with("---") || trimmed.contains("kind:") || trimmed.contains("apiVersion:") {
        for doc in k8s::documents(trimmed)? {
            if k8s::is_seccomp_profile(&doc) {
                return Ok(Format::KubernetesYaml);
            }
        }
        return Err(SourceError::Unrecognised {
            reason: "YAML without a `kind: SeccompProfile` document".into(),
        });
    }
    Err(SourceError::Unrecognised {
        reason: "not JSON, not a Kubernetes SeccompProfile, not kafel or LXC policy text".into(),
    })
}

fn looks_like_kafel(text: &str) -> bool {
    text.lines().map(str::trim).any(|l| {
        l.starts_with("POLICY ")
            || l.starts_with("USE ")
            || l.starts_with("#include")
            || l.starts_with("#define")
    })
}

fn classify_json(v: &serde_json::Value) -> Result<Format, SourceError> {
    let obj = v.as_object().ok_or_else(|| SourceError::Unrecognised {
        reason: "JSON input is not an object".into(),
    })?;
    let has = |k: &str| obj.keys().any(|key| key.eq_ignore_ascii_case(k));
    if obj.get("kind").and_then(|k| k.as_str()) == Some("SeccompProfile") {
        return Ok(Format::KubernetesYaml);
    }
    if has("ociVersion") && obj.contains_key("linux") {
        return Ok(Format::OciConfig);
    }
    if [
        "defaultAction",
        "syscalls",
        "architectures",
        "archMap",
        "defaultErrnoRet",
    ]
    .iter()
    .any(|k| has(k))
    {
        return Ok(Format::DockerJson);
    }
    let seccompiler_like = !obj.is_empty()
        && obj.values().all(|f| {
            f.as_object().is_some_and(|m| {
                m.contains_key("default_action")
                    || m.contains_key("filter_action")
                    || m.contains_key("filter")
            })
        });
    if seccompiler_like {
        return Ok(Format::SeccompilerJson);
    }
    Err(SourceError::Unrecognised {
        reason: format!(
            "a JSON object with keys {} is neither a Docker/OCI profile (defaultAction, syscalls), an OCI config.json (ociVersion, linux) nor seccompiler JSON (thread name → {{default_action, filter_action, filter}})",
            obj.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
    })
}

pub(crate) fn syntax(what: &'static str, e: &serde_json::Error) -> SourceError {
    let full = e.to_string();
    // serde_json appends " at line L column C", which the variant already says.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    };
    SourceError::Syntax {
        what,
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Options for [`compile`]: each format's own options.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    pub docker: DockerOptions,
    pub seccompiler: SeccompilerOptions,
}

/// Detect the format of `bytes` and compile every filter in it.
pub fn compile(bytes: &[u8], opts: &CompileOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    match detect_format(bytes)? {
        Format::DockerJson | Format::OciConfig => compile_docker(bytes, &opts.docker),
        Format::SeccompilerJson => compile_seccompiler(bytes, &opts.seccompiler),
        Format::KubernetesYaml => compile_k8s(bytes, &opts.docker),
        Format::Kafel => Err(SourceError::Unsupported {
            format: "kafel policy language",
            hint: "compile it with kafel first (e.g. its `kafel_compile` API) and give seccheck the BPF it produces",
        }),
        Format::Lxc => Err(SourceError::Unsupported {
            format: "LXC seccomp policy",
            hint: "LXC compiles it with its own parser on top of libseccomp; give seccheck the filter read back from a running container instead",
        }),
    }
}

/// [`compile`] a file; errors name the file.
pub fn compile_file(
    path: &Path,
    opts: &CompileOptions,
) -> Result<Vec<CompiledFilter>, SourceError> {
    let bytes = std::fs::read(path).map_err(|source| SourceError::Io {
        file: path.to_owned(),
        source,
    })?;
    compile(&bytes, opts).map_err(|e| SourceError::InFile {
        file: path.to_owned(),
        source: Box::new(e),
    })
}

/// Validate a generated program as the kernel will, so a program the runtime
/// could not install is an error here too.
pub(crate) fn check_loadable(program: &Program) -> Result<(), SourceError> {
    crate::bpf::validate(program)
        .map(|_| ())
        .map_err(|violations| SourceError::KernelWouldRefuse {
            len: program.len(),
            violations,
        })
}
