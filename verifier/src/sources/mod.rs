//! Reading filters from where they live; with `kernel`, the only module that does I/O.
//!
//! [`read_file`] is the one entry point the commands use. It reads a file
//! (bounded by [`MAX_INPUT_BYTES`]), detects its encoding ([`InputFormat`]) and
//! returns one [`Loaded`] program:
//! - compiled filters: raw `sock_filter` arrays, hex, C arrays (`bpf_asm -c`,
//!   `tcpdump -dd`) and `bpf_asm` decimal text ([`text`]);
//! - filters embedded in ELF binaries ([`elf`], `BINARY#N` picks one);
//! - Firecracker's compiled filter files, bincode or bitcode ([`firecracker`],
//!   `--filter CATEGORY` picks one);
//! - profiles, compiled by the generators that really produce them (below).
//!
//! Validation is a separate, later step: a source hands over what it found,
//! even if the kernel would refuse it.
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

pub mod c;
pub mod docker;
pub mod elf;
pub mod firecracker;
pub mod k8s;
pub mod seccompiler;
pub mod text;
mod value;

use crate::arch::Arch;
use crate::bpf::{decode, validate::Violation, ByteOrder, DecodeError, Program};
use std::io::Read;
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
    /// How long the generator took to take the rules in (libseccomp's
    /// `seccomp_rule_add` calls); `None` where it is not measured separately.
    pub rule_time: Option<std::time::Duration>,
}

/// Something the generator did silently that a reader of the profile would not expect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Where in the input (JSON path), e.g. `syscalls[1].names[0]`.
    pub path: String,
    pub kind: NoteKind,
    pub message: String,
}

/// What kind of silent change a [`Note`] reports, for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A key the format does not have; the runtime ignores it.
    UnknownKey,
    /// A rule `includes`/`excludes` (arch, capability, kernel) leave out.
    RuleNotApplied,
    /// A rule runc drops because its action equals the default action.
    RuleDropped,
    /// A syscall name the generator does not know, so it is ignored.
    UnknownSyscall,
    /// The generator took long to take the rules in.
    SlowGenerator,
    /// An ABI on which no syscall of the profile exists.
    NoSyscallOnArch,
    /// A document of another kind, skipped.
    SkippedDocument,
}

impl NoteKind {
    /// Plural noun phrase for a count of this kind (`3 rules not applied`).
    pub fn plural(self) -> &'static str {
        match self {
            NoteKind::UnknownKey => "keys the runtime ignores",
            NoteKind::RuleNotApplied => "rules not applied (includes/excludes)",
            NoteKind::RuleDropped => "rules runc drops (action = defaultAction)",
            NoteKind::UnknownSyscall => "syscall names the generator does not know",
            NoteKind::SlowGenerator => "slow rule adding",
            NoteKind::NoSyscallOnArch => "ABIs without any of the profile's syscalls",
            NoteKind::SkippedDocument => "documents skipped",
        }
    }
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
    #[error("{file}: cannot read: {source}")]
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
    #[error(
        "empty input: expected a seccomp profile (Docker/OCI JSON, seccompiler JSON or Kubernetes SeccompProfile YAML)"
    )]
    Empty,
    /// The text is not JSON (or not YAML, for YAML inputs).
    #[error("{what} syntax error at line {line}, column {column}: {message}")]
    Syntax { what: &'static str, line: usize, column: usize, message: String },
    /// A value has the wrong type or an impossible value.
    #[error("{path}: expected {expected}, found {found}")]
    Invalid { path: String, expected: String, found: String },
    /// A known format we deliberately do not compile.
    #[error("unsupported format: {format}; {hint}")]
    Unsupported { format: &'static str, hint: &'static str },
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
    Libseccomp { path: String, operation: &'static str, message: String },
    /// The generator had not finished building the filter when its time ran
    /// out (`--libseccomp-timeout`): some rule sets take libseccomp minutes to
    /// hours, others forever, and the runtime loading the profile waits as long.
    #[error("{}{generator} had not finished building the filter after {seconds} s: some rule sets take it hours, others forever (seccheck's reports/generator-findings.md, L5 and L6), and runc would wait as long to start the container", value::path_prefix(.path))]
    GeneratorTimeout { path: String, generator: String, seconds: f64 },
    /// seccompiler refused the input.
    #[error("seccompiler: {message}")]
    Seccompiler { message: String },
    /// The requested filter (thread category / document name) is not in the input.
    #[error("no filter named `{name}`; the input has: {available}")]
    NoSuchFilter { name: String, available: String },
    /// The profile asks for no filter at all (Docker: no `defaultAction` and no `syscalls`).
    #[error("{path}: no defaultAction and no syscalls: Docker and runc install no seccomp filter for this profile")]
    NoFilter { path: String },
    /// A Firecracker filter file that Firecracker would not load (the byte
    /// offset where the read failed is in the message).
    #[error("{0}")]
    Firecracker(#[from] firecracker::FirecrackerError),
    /// A raw (or hex) `sock_filter` array that does not decode.
    #[error("raw sock_filter array: {0}")]
    Raw(DecodeError),
    /// The generator's output does not decode as `sock_filter`s.
    #[error("generator output: {0}")]
    Decode(#[from] DecodeError),
    /// A path that is neither a regular file nor a FIFO (a device, a socket),
    /// refused before it is opened.
    #[error("{file}: is {what}; seccheck reads regular files, pipes and standard input (`-`)")]
    NotAFile { file: PathBuf, what: &'static str },
    /// A directory was given where a file was expected.
    #[error("{0}: is a directory, not a filter file")]
    Directory(PathBuf),
    /// The file is larger than [`MAX_INPUT_BYTES`].
    #[error("{0}: is larger than {MAX_INPUT_BYTES} bytes; no seccomp filter or profile is that large")]
    TooLarge(PathBuf),
    /// An ELF file larger than [`MAX_ELF_BYTES`].
    #[error("{0}: is an ELF file larger than {MAX_ELF_BYTES} bytes; binaries are read up to 256 MiB")]
    ElfTooLarge(PathBuf),
    /// Text nested deeper than its reader allows.
    #[error(
        "{what} nested deeper than {limit} levels at line {line}; seccheck reads {what} up to {limit} levels deep"
    )]
    TooDeep { what: &'static str, line: usize, limit: usize },
    /// Malformed hex / C array / decimal text.
    #[error("{format} text: {err}")]
    Text { format: &'static str, err: text::TextError },
    /// The ELF file could not be scanned.
    #[error("ELF: {0}")]
    Elf(#[from] elf::ElfError),
    /// The input holds several filters (or none) and the selection does not pick one.
    #[error("{0}")]
    Select(String),
    /// The generated program would be refused by the kernel (so the runtime fails
    /// at `seccomp(2)` with `EINVAL`).
    #[error("the kernel would refuse the generated {len}-instruction program: {}", .violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    KernelWouldRefuse { len: usize, violations: Vec<Violation> },
}

impl SourceError {
    /// The generator ran out of time ([`SourceError::GeneratorTimeout`], also
    /// inside [`SourceError::InFile`]).
    pub fn is_generator_timeout(&self) -> bool {
        match self {
            SourceError::GeneratorTimeout { .. } => true,
            SourceError::InFile { source, .. } => source.is_generator_timeout(),
            _ => false,
        }
    }
}

/// The input formats [`detect_format`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileFormat {
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

impl ProfileFormat {
    pub fn name(self) -> &'static str {
        match self {
            ProfileFormat::DockerJson => "Docker/OCI seccomp JSON",
            ProfileFormat::OciConfig => "OCI runtime config.json",
            ProfileFormat::SeccompilerJson => "seccompiler JSON",
            ProfileFormat::KubernetesYaml => "Kubernetes SeccompProfile YAML",
            ProfileFormat::Kafel => "kafel policy language",
            ProfileFormat::Lxc => "LXC seccomp policy",
        }
    }
}

/// Tell which format `bytes` are in, from their content alone.
///
/// JSON objects are classified by their keys: Docker/OCI profiles have
/// `defaultAction`/`syscalls`/`architectures`/`archMap`; an OCI `config.json`
/// has `ociVersion` and `linux`; seccompiler JSON is an object of objects with
/// `default_action`/`filter_action`/`filter`; a JSON or YAML document with
/// `kind: SeccompProfile` is a Kubernetes resource. Kafel policies have
/// `POLICY name {` / `USE name DEFAULT action` statements; LXC policies start
/// with a version line `1` or `2`.
pub fn detect_format(bytes: &[u8]) -> Result<ProfileFormat, SourceError> {
    Ok(parse_profile(bytes)?.format())
}

/// A profile parsed once, by the parser of its format.
enum ParsedProfile<'a> {
    Json { text: &'a str, value: serde_json::Value, format: ProfileFormat },
    Yaml(Vec<serde_json::Value>),
    Policy(ProfileFormat),
}

impl ParsedProfile<'_> {
    fn format(&self) -> ProfileFormat {
        match self {
            ParsedProfile::Json { format, .. } => *format,
            ParsedProfile::Yaml(_) => ProfileFormat::KubernetesYaml,
            ParsedProfile::Policy(f) => *f,
        }
    }
}

fn parse_profile(bytes: &[u8]) -> Result<ParsedProfile<'_>, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); compiled BPF is read by the raw reader, not here",
            e.valid_up_to()
        ),
    })?;
    // Parse what follows a byte-order mark, so line numbers are the file's.
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(SourceError::Empty);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // serde_json refuses nesting deeper than 128 ("recursion limit
        // exceeded"), a JSON syntax error like any other.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| syntax("JSON", &e))?;
        let format = classify_json(&value)?;
        return Ok(ParsedProfile::Json { text, value, format });
    }
    if let Some(f) = policy_language(trimmed) {
        return Ok(ParsedProfile::Policy(f));
    }
    if looks_yaml(trimmed) {
        let docs = k8s::documents(text)?;
        if docs.iter().any(k8s::is_seccomp_profile) {
            return Ok(ParsedProfile::Yaml(docs));
        }
        return Err(SourceError::Unrecognised { reason: "YAML without a `kind: SeccompProfile` document".into() });
    }
    Err(SourceError::Unrecognised {
        reason: "not JSON, not a Kubernetes SeccompProfile, not kafel or LXC policy text".into(),
    })
}

/// Kafel (`POLICY name {`, `USE name DEFAULT action`, `#include "x.policy"`)
/// or LXC (a first line `1` or `2`, then rules) policy text. A `#include` of
/// anything else is C, not kafel.
fn policy_language(text: &str) -> Option<ProfileFormat> {
    let mut lines =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"));
    if matches!(lines.next(), Some("1" | "2")) {
        return Some(ProfileFormat::Lxc);
    }
    let kafel = text.lines().map(str::trim).any(|l| {
        let mut w = l.split_whitespace();
        match (w.next(), w.next(), w.next()) {
            (Some("POLICY"), Some(name), _) => name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '{'),
            (Some("USE"), Some(_), Some("DEFAULT")) => true,
            // kafel includes other policy files; C includes headers.
            (Some("#include"), Some(file), _) => file.trim_end_matches(';').trim_matches('"').ends_with(".policy"),
            _ => false,
        }
    });
    kafel.then_some(ProfileFormat::Kafel)
}

/// YAML as Kubernetes writes it: a `---` document start, or a top-level
/// `kind:` / `apiVersion:` key at the start of a line.
fn looks_yaml(text: &str) -> bool {
    text.starts_with("---") || text.lines().any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:"))
}

fn classify_json(v: &serde_json::Value) -> Result<ProfileFormat, SourceError> {
    let obj =
        v.as_object().ok_or_else(|| SourceError::Unrecognised { reason: "JSON input is not an object".into() })?;
    let has = |k: &str| obj.keys().any(|key| key.eq_ignore_ascii_case(k));
    if obj.get("kind").and_then(|k| k.as_str()) == Some("SeccompProfile") {
        return Ok(ProfileFormat::KubernetesYaml);
    }
    if has("ociVersion") && obj.contains_key("linux") {
        return Ok(ProfileFormat::OciConfig);
    }
    if ["defaultAction", "syscalls", "architectures", "archMap", "defaultErrnoRet"].iter().any(|k| has(k)) {
        return Ok(ProfileFormat::DockerJson);
    }
    let seccompiler_like = !obj.is_empty()
        && obj.values().all(|f| {
            f.as_object().is_some_and(|m| {
                m.contains_key("default_action") || m.contains_key("filter_action") || m.contains_key("filter")
            })
        });
    if seccompiler_like {
        return Ok(ProfileFormat::SeccompilerJson);
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
    SourceError::Syntax { what, line: e.line(), column: e.column(), message }
}

/// Options for [`compile`]: each format's own options.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    pub docker: DockerOptions,
    pub seccompiler: SeccompilerOptions,
}

/// Detect the format of `bytes` and compile every filter in it. The text is
/// parsed once: detection hands its parsed value to the compiler.
pub fn compile(bytes: &[u8], opts: &CompileOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    match parse_profile(bytes)? {
        ParsedProfile::Json { value, format: ProfileFormat::DockerJson | ProfileFormat::OciConfig, .. } => {
            docker::compile_docker_value(&value, &opts.docker)
        }
        ParsedProfile::Json { value, text, format: ProfileFormat::SeccompilerJson } => {
            seccompiler::compile_seccompiler_value(&value, text, &opts.seccompiler)
        }
        ParsedProfile::Json { value, .. } => k8s::compile_documents(std::slice::from_ref(&value), &opts.docker),
        ParsedProfile::Yaml(docs) => k8s::compile_documents(&docs, &opts.docker),
        ParsedProfile::Policy(ProfileFormat::Lxc) => Err(SourceError::Unsupported {
            format: "LXC seccomp policy",
            hint: "LXC compiles it with its own parser on top of libseccomp; give seccheck the filter read back from a running container instead",
        }),
        ParsedProfile::Policy(_) => Err(SourceError::Unsupported {
            format: "kafel policy language",
            hint: "compile it with kafel first (e.g. its `kafel_compile` API) and give seccheck the BPF it produces",
        }),
    }
}

/// [`compile`] a file; errors name the file.
pub fn compile_file(path: &Path, opts: &CompileOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    let bytes = read_bounded(path)?;
    compile(&bytes, opts).map_err(|e| SourceError::InFile { file: input_name(path), source: Box::new(e) })
}

/// Validate a generated program as the kernel will, so a program the runtime
/// could not install is an error here too.
pub(crate) fn check_loadable(program: &Program) -> Result<(), SourceError> {
    crate::bpf::validate(program)
        .map(|_| ())
        .map_err(|violations| SourceError::KernelWouldRefuse { len: program.len(), violations })
}

/// Inputs larger than this are refused before parsing. The largest filter the
/// kernel takes is 4096 instructions (32 KiB raw, ~150 KiB as C text); real
/// profiles are tens of KiB. (ELF binaries are read by `seccheck scan` with a
/// larger bound.)
pub const MAX_INPUT_BYTES: u64 = 4 << 20;

/// ELF binaries (read whole for `BINARY#N`) are bounded like `seccheck scan`
/// bounds them: a Rust binary with debug info is easily over [`MAX_INPUT_BYTES`].
pub const MAX_ELF_BYTES: u64 = 256 << 20;

/// How an input file is encoded; [`InputFormat::description`] says what each is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InputFormat {
    #[default]
    Auto,
    Raw,
    Hex,
    C,
    Decimal,
    Elf,
    Profile,
    Firecracker,
}

impl InputFormat {
    /// Every format, in the order a user is shown them.
    pub const ALL: [InputFormat; 8] = [
        InputFormat::Auto,
        InputFormat::Raw,
        InputFormat::Hex,
        InputFormat::C,
        InputFormat::Decimal,
        InputFormat::Elf,
        InputFormat::Profile,
        InputFormat::Firecracker,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Raw => "raw",
            InputFormat::Hex => "hex",
            InputFormat::C => "C array",
            InputFormat::Decimal => "decimal bpf_asm",
            InputFormat::Elf => "ELF",
            InputFormat::Profile => "profile",
            InputFormat::Firecracker => "Firecracker filter file",
        }
    }

    /// The keyword that selects it (`--input-format raw`).
    pub fn keyword(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Raw => "raw",
            InputFormat::Hex => "hex",
            InputFormat::C => "c",
            InputFormat::Decimal => "decimal",
            InputFormat::Elf => "elf",
            InputFormat::Profile => "profile",
            InputFormat::Firecracker => "firecracker",
        }
    }

    /// One line on what it is (the variant's documentation, for help texts).
    pub fn description(self) -> &'static str {
        match self {
            InputFormat::Auto => "Detect from the content",
            InputFormat::Raw => "Raw `struct sock_filter` array, 8 bytes per instruction",
            InputFormat::Hex => "Hex digits of the raw bytes",
            InputFormat::C => "C array text: `{ 0x20, 0, 0, 0x00000004 },` as `bpf_asm -c` / `tcpdump -dd` print",
            InputFormat::Decimal => "`N,code jt jf k,…` as `bpf_asm` / `tcpdump -ddd` print",
            InputFormat::Elf => "An ELF executable or shared object with embedded filters (`FILE#N` picks one)",
            InputFormat::Profile => {
                "A profile (Docker/OCI JSON, seccompiler JSON, Kubernetes YAML), compiled by its real generator"
            }
            InputFormat::Firecracker => {
                "Firecracker's compiled filter file (`seccompiler-bin` output, bincode or bitcode; `--filter vmm|api|vcpu`)"
            }
        }
    }
}

/// Options for [`read_file`].
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub format: InputFormat,
    /// Byte order of raw (and hex) `sock_filter` arrays.
    pub byte_order: ByteOrder,
    /// How profiles are compiled.
    pub compile: CompileOptions,
    /// Which filter of a multi-filter input (seccompiler or Firecracker thread
    /// category, Kubernetes profile name).
    pub filter: Option<String>,
}

/// One program read from a file.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub program: Program,
    /// The encoding it was read as (never `Auto`).
    pub format: InputFormat,
    /// For profiles: how it was compiled, and what the generator did silently.
    pub compiled: Option<CompiledFilter>,
}

/// Read the filter in `path` (`-`: standard input). `FILE#N` selects the N-th
/// filter embedded in an ELF file (numbered as `seccheck scan` lists them) or
/// the N-th `struct sock_filter` array of a C file. Errors name the file.
pub fn read_file(path: &Path, opts: &ReadOptions) -> Result<Loaded, SourceError> {
    let (path, select) = split_selector(path);
    let in_file = |e: SourceError| match e {
        e @ (SourceError::Io { .. }
        | SourceError::Directory(_)
        | SourceError::NotAFile { .. }
        | SourceError::TooLarge(_)
        | SourceError::ElfTooLarge(_)
        | SourceError::InFile { .. }) => e,
        e => SourceError::InFile { file: input_name(&path), source: Box::new(e) },
    };
    let bytes = read_bounded(&path)?;
    from_bytes_selecting(&bytes, opts, select).map_err(in_file)
}

/// `file#3` → (`file`, Some(3)) when `file#3` itself does not exist.
fn split_selector(path: &Path) -> (PathBuf, Option<usize>) {
    if !path.exists() {
        if let Some((base, n)) = path.to_str().and_then(|s| s.rsplit_once('#')) {
            if let Ok(n) = n.parse() {
                return (base.into(), Some(n));
            }
        }
    }
    (path.to_path_buf(), None)
}

/// Is `path` the `-` that names standard input?
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How errors name an input: `-` is shown as `<stdin>`.
pub fn input_name(path: &Path) -> PathBuf {
    if is_stdin(path) {
        PathBuf::from("<stdin>")
    } else {
        path.to_owned()
    }
}

/// Standard input's bytes, once [`read_bounded`] has read them.
static STDIN: std::sync::Mutex<Option<Vec<u8>>> = std::sync::Mutex::new(None);

/// Read a whole input, bounded whatever it is: `-` is standard input, a path
/// must be a regular file or a FIFO (anything else, a device or a socket, is
/// refused from its `stat`, before `open` could block or have an effect; a
/// directory is [`SourceError::Directory`]). A FIFO is opened `O_NONBLOCK`, so
/// `open` does not wait for a writer (with none, it reads as empty), then read
/// blocking. At most [`MAX_INPUT_BYTES`] are read ([`MAX_ELF_BYTES`] once the
/// first bytes show an ELF file), counting the bytes read rather than trusting
/// a size from `stat`, which is 0 for pipes and procfs files.
///
/// Standard input is read once: every `-` of a command line (`diff - -`,
/// `stack - -`) is the same input, as `-` is for diff(1).
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, SourceError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
    if is_stdin(path) {
        // A read that failed keeps nothing: the next `-` reads what is left.
        let mut kept = STDIN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bytes) = kept.as_ref() {
            return Ok(bytes.clone());
        }
        let bytes = read_capped(std::io::stdin().lock(), path)?;
        *kept = Some(bytes.clone());
        return Ok(bytes);
    }
    let io = |source| SourceError::Io { file: path.to_owned(), source };
    // An input path may be a link (as `/dev/stdin` is): stat what it names.
    let meta = std::fs::metadata(path).map_err(io)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(SourceError::Directory(path.to_owned()));
    }
    if !kind.is_file() && !kind.is_fifo() {
        let what = if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(SourceError::NotAFile { file: path.to_owned(), what });
    }
    // O_NONBLOCK for every kind: if the path is swapped for a FIFO after the
    // stat, `open` still returns at once (and the inode check below refuses it).
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let opened = f.metadata().map_err(io)?;
    if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
        return Err(SourceError::NotAFile { file: path.to_owned(), what: "replaced while it was being opened" });
    }
    if kind.is_fifo() {
        let flags = rustix::fs::fcntl_getfl(&f).map_err(|e| io(e.into()))?;
        rustix::fs::fcntl_setfl(&f, flags - rustix::fs::OFlags::NONBLOCK).map_err(|e| io(e.into()))?;
    }
    read_capped(f, path)
}

fn read_capped(mut r: impl Read, path: &Path) -> Result<Vec<u8>, SourceError> {
    let io = |source| SourceError::Io { file: input_name(path), source };
    let mut bytes = Vec::new();
    r.by_ref().take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        if !elf::is_elf(&bytes) {
            return Err(SourceError::TooLarge(input_name(path)));
        }
        r.take(MAX_ELF_BYTES + 1 - bytes.len() as u64).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > MAX_ELF_BYTES {
            return Err(SourceError::ElfTooLarge(input_name(path)));
        }
    }
    Ok(bytes)
}

/// Decode `bytes` in the given or detected format.
pub fn from_bytes(bytes: &[u8], opts: &ReadOptions) -> Result<Loaded, SourceError> {
    from_bytes_selecting(bytes, opts, None)
}

fn from_bytes_selecting(bytes: &[u8], opts: &ReadOptions, select: Option<usize>) -> Result<Loaded, SourceError> {
    let format = match opts.format {
        InputFormat::Auto => detect(bytes)?,
        f => f,
    };
    let text = || {
        std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
            reason: format!("{} input is not UTF-8 text ({e})", format.name()),
        })
    };
    let text_err = |err| SourceError::Text { format: format.name(), err };
    if select.is_some() && !matches!(format, InputFormat::Elf | InputFormat::C) {
        return Err(SourceError::Select(format!(
            "`#N` selects a filter embedded in an ELF binary or one array of a C file, and this is {} input",
            format.name()
        )));
    }
    let mut compiled = None;
    let program = match format {
        InputFormat::Raw => decode(bytes, opts.byte_order).map_err(SourceError::Raw)?,
        InputFormat::Hex => {
            decode(&text::parse_hex(text()?).map_err(text_err)?, opts.byte_order).map_err(SourceError::Raw)?
        }
        InputFormat::C => {
            let src = c::Source::parse(text()?, opts.compile.docker.host_arch).map_err(text_err)?;
            let index = select_array(&src.candidates(), select)?;
            src.program(index).map_err(text_err)?
        }
        InputFormat::Decimal => text::parse_decimal(text()?).map_err(text_err)?,
        InputFormat::Elf => select_embedded(elf::scan(bytes)?, select)?,
        InputFormat::Firecracker => select_category(firecracker::read(bytes)?, opts.filter.as_deref())?,
        InputFormat::Profile => {
            let c = select_compiled(compile(bytes, &opts.compile)?, opts.filter.as_deref())?;
            let p = c.program.clone();
            compiled = Some(c);
            p
        }
        InputFormat::Auto => unreachable!("detect never answers Auto"),
    };
    Ok(Loaded { program, format, compiled })
}

fn select_embedded(found: Vec<elf::Found>, select: Option<usize>) -> Result<Program, SourceError> {
    match (select, found.len()) {
        (_, 0) => Err(SourceError::Select("no seccomp filter found in this binary".into())),
        (None, 1) => Ok(found.into_iter().next().unwrap().program.into_program()),
        (None, n) => Err(SourceError::Select(format!(
            "contains {n} filters; pick one with FILE#N (N from 0 to {}; `seccheck scan FILE` lists them)",
            n - 1
        ))),
        (Some(i), n) if i >= n => {
            Err(SourceError::Select(format!("#{i}: the binary has {n} filter(s), numbered from 0")))
        }
        (Some(i), _) => Ok(found.into_iter().nth(i).unwrap().program.into_program()),
    }
}

fn select_category(file: firecracker::FilterFile, name: Option<&str>) -> Result<Program, SourceError> {
    let names = || file.categories.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => {
            let available = names();
            let c = file
                .categories
                .into_iter()
                .find(|c| c.name == n)
                .ok_or(SourceError::NoSuchFilter { name: n.to_string(), available })?;
            if c.program.is_empty() {
                // `apply_filter` installs nothing for an empty program.
                return Err(SourceError::Refused {
                    path: c.name,
                    message: "an empty program: Firecracker installs no seccomp filter on this thread category".into(),
                });
            }
            Ok(c.program)
        }
        None => Err(SourceError::Select(format!(
            "a Firecracker filter file in {} holds one filter per thread category ({}); pick one with --filter NAME",
            file.encoding.describe(),
            names()
        ))),
    }
}

fn select_array(found: &[c::Candidate], select: Option<usize>) -> Result<usize, SourceError> {
    let list = || found.iter().enumerate().map(|(i, c)| format!("#{i} {c}")).collect::<Vec<_>>().join(", ");
    match (select, found.len()) {
        (_, 0) => Err(SourceError::Select(
            "C text without a filter: no `struct sock_filter NAME[] = {…}` array, and not only `{ code, jt, jf, k }` lines (other arrays are never read as instructions)".into(),
        )),
        (None, 1) => Ok(0),
        (None, n) => Err(SourceError::Select(format!("holds {n} sock_filter arrays: {}; pick one with FILE#N", list()))),
        (Some(i), n) if i >= n => Err(SourceError::Select(format!("#{i}: the C text has {n} sock_filter array(s), numbered from 0: {}", list()))),
        (Some(i), _) => Ok(i),
    }
}

fn select_compiled(all: Vec<CompiledFilter>, name: Option<&str>) -> Result<CompiledFilter, SourceError> {
    let labels = || all.iter().map(|c| c.label.clone()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => {
            let available = labels();
            all.into_iter().find(|c| c.label == n).ok_or(SourceError::NoSuchFilter { name: n.to_string(), available })
        }
        None if all.len() == 1 => Ok(all.into_iter().next().unwrap()),
        None if all.is_empty() => Err(SourceError::Select("the profile yields no filter".into())),
        None => {
            Err(SourceError::Select(format!("holds {} filters ({}); pick one with --filter NAME", all.len(), labels())))
        }
    }
}

/// Tell the encoding from the content: ELF by its magic, a Firecracker filter
/// file by reading it whole ([`firecracker::detect`]; refused as ambiguous if
/// the same bytes are also a raw program the kernel accepts), binary data (a NUL
/// byte or invalid UTF-8) as a raw array, text by its shape, without parsing
/// it (the chosen reader parses once and reports its own errors). A first `{`
/// followed by `"` or `}` is JSON, by anything else a C group; a text is
/// decimal `bpf_asm` output, then a policy language or YAML, then C, then hex.
pub fn detect(bytes: &[u8]) -> Result<InputFormat, SourceError> {
    // Zero bytes are a raw array of zero instructions: the validator then says
    // the kernel refuses it (`len == 0`, seccomp_prepare_filter), as it says
    // for 4097, and every command gives it the same exit code.
    if bytes.is_empty() {
        return Ok(InputFormat::Raw);
    }
    if elf::is_elf(bytes) {
        return Ok(InputFormat::Elf);
    }
    if firecracker::detect(bytes) {
        let raw_too = decode(bytes, ByteOrder::Little).is_ok_and(|p| crate::bpf::validate(&p).is_ok());
        if raw_too {
            return Err(SourceError::Unrecognised {
                reason: "the bytes are both a Firecracker filter file and a raw sock_filter array the kernel accepts; use --input-format firecracker or raw".into(),
            });
        }
        return Ok(InputFormat::Firecracker);
    }
    let Ok(t) = std::str::from_utf8(bytes) else { return Ok(InputFormat::Raw) };
    if t.contains('\0') {
        return Ok(InputFormat::Raw);
    }
    let t = t.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Err(SourceError::Unrecognised { reason: "the file contains only white space".into() });
    }
    if let Some(rest) = t.strip_prefix('{') {
        let next = rest.trim_start().chars().next();
        return Ok(if matches!(next, Some('"' | '}')) { InputFormat::Profile } else { InputFormat::C });
    }
    if t.starts_with('[') {
        return Ok(InputFormat::Profile);
    }
    if text::looks_decimal(t) {
        Ok(InputFormat::Decimal)
    } else if policy_language(t).is_some() || looks_yaml(t) {
        Ok(InputFormat::Profile)
    } else if c::looks_c(t) {
        Ok(InputFormat::C)
    } else if text::looks_hex(t) {
        Ok(InputFormat::Hex)
    } else {
        Err(SourceError::Unrecognised {
            reason: "text that is neither a C array (`{ 0x20, 0, 0, 0x4 },`), a hex dump, bpf_asm decimal output, nor a profile (Docker/OCI or seccompiler JSON, Kubernetes YAML); use --input-format to force one".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(&[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap(), InputFormat::Raw);
        assert_eq!(detect(b"{ 0x06, 0, 0, 0x7fff0000 },\n").unwrap(), InputFormat::C);
        assert_eq!(detect(b"0600000000 00ff7f\n").unwrap(), InputFormat::Hex);
        assert_eq!(detect(b"1,6 0 0 2147418112\n").unwrap(), InputFormat::Decimal);
        assert_eq!(detect(b"2\n32 0 0 4\n6 0 0 2147418112\n").unwrap(), InputFormat::Decimal);
        assert_eq!(detect(br#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap(), InputFormat::Profile);
        assert_eq!(
            detect(b"POLICY p {\n  ALLOW { read, write }\n}\nUSE p DEFAULT KILL\n").unwrap(),
            InputFormat::Profile
        );
        assert!(matches!(detect(b"   \n"), Err(SourceError::Unrecognised { .. })));
        assert_eq!(detect(b"").unwrap(), InputFormat::Raw);
    }

    #[test]
    fn all_encodings_give_the_same_program() {
        let raw =
            from_bytes(&[0x20, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f], &ReadOptions::default()).unwrap();
        for t in [
            "{ 0x20, 0, 0, 0x00000004 },\n{ 0x06, 0, 0, 0x7fff0000 },",
            "2000000004000000\n060000000000ff7f",
            "2,32 0 0 4,6 0 0 2147418112",
        ] {
            assert_eq!(from_bytes(t.as_bytes(), &ReadOptions::default()).unwrap().program, raw.program, "{t}");
        }
    }
}
