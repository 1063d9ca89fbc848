//! Arguments shared by every subcommand that reads a filter.

use super::CliError;
use crate::arch::Arch;
use crate::bpf::ByteOrder;
use crate::sources::docker::LIBSECCOMP_TIMEOUT;
use crate::sources::{
    self, CompileOptions, DockerOptions, InputFormat, KernelVersion, Loaded, Loader, Optimize, ReadOptions,
    SeccompilerOptions,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// The filter (`-`: standard input): compiled BPF (raw, hex, C array, bpf_asm
    /// decimal), an ELF binary (`BINARY#N` picks an embedded filter, `FILE.c#N` one
    /// of several C arrays), Firecracker's compiled filter file (`--filter`), or a
    /// profile (Docker/OCI JSON, seccompiler JSON, Kubernetes SeccompProfile YAML)
    /// compiled by its real generator.
    pub file: PathBuf,
    #[command(flatten)]
    pub input: InputOptions,
}

/// How to read a filter file, for subcommands that read several (`diff`, `stack`).
#[derive(clap::Args, Debug, Clone)]
pub struct InputOptions {
    /// Input encoding (detected from the content by default).
    #[arg(long = "input-format", value_enum, default_value_t = InputFormatArg(InputFormat::Auto), help_heading = "Input")]
    pub input_format: InputFormatArg,
    /// Byte order of raw sock_filter arrays (the loading machine's).
    #[arg(long, value_enum, default_value_t = Endian::Little, help_heading = "Input")]
    pub endian: Endian,
    /// Which filter of a multi-filter input: a thread category (vmm, api, vcpu) of
    /// seccompiler JSON or a Firecracker filter file, or a Kubernetes profile name.
    #[arg(long, help_heading = "Profiles")]
    pub filter: Option<String>,
    /// The host arch the profile is compiled for (Docker's archMap entry, seccompiler's target).
    // Read only through `InputOptions::host`, so every command parses it alike.
    #[arg(long = "host-arch", default_value = "x86_64", help_heading = "Profiles")]
    host_arch: String,
    /// libseccomp's output layout: runc's choice (binary tree above 32 rules), 1 = linear, 2 = binary tree.
    #[arg(long = "optimize", value_enum, default_value_t = OptimizeArg::Runc, help_heading = "Profiles")]
    pub optimize: OptimizeArg,
    /// `runc`: the program runc installs (its ENOSYS stub first); `raw`: libseccomp's export unchanged.
    #[arg(long, value_enum, default_value_t = LoaderArg::Runc, help_heading = "Profiles")]
    pub loader: LoaderArg,
    /// Container capabilities for includes/excludes (comma-separated, e.g. CAP_SYS_ADMIN);
    /// default: Docker's default set.
    #[arg(long, value_delimiter = ',', help_heading = "Profiles")]
    pub caps: Option<Vec<String>>,
    /// Kernel version for minKernel includes (e.g. 6.1); default: the running kernel.
    #[arg(long = "kernel-version", help_heading = "Profiles")]
    pub kernel_version: Option<String>,
    /// Give up (exit 2) when libseccomp has not built the filter after this
    /// many seconds, 0..=604800: some rule sets take it hours. 0 waits as
    /// long as it takes.
    #[arg(long = "libseccomp-timeout", value_name = "SECONDS", default_value_t = LIBSECCOMP_TIMEOUT.as_secs(),
          value_parser = super::numbers::count::<u64>(0, 7 * 24 * 3600), help_heading = "Profiles", allow_negative_numbers = true)]
    pub libseccomp_timeout: u64,
}

/// `--input-format`: the library's [`InputFormat`], named by its keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputFormatArg(pub InputFormat);

impl clap::ValueEnum for InputFormatArg {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [InputFormatArg; InputFormat::ALL.len()] = {
            let mut all = [InputFormatArg(InputFormat::Auto); InputFormat::ALL.len()];
            let mut i = 0;
            while i < all.len() {
                all[i] = InputFormatArg(InputFormat::ALL[i]);
                i += 1;
            }
            all
        };
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.keyword()).help(self.0.description()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Endian {
    Little,
    Big,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizeArg {
    Runc,
    #[value(name = "1")]
    Linear,
    #[value(name = "2")]
    Tree,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoaderArg {
    Runc,
    Raw,
}

impl FilterArgs {
    pub fn display_name(&self) -> String {
        sources::input_name(&self.file).display().to_string()
    }

    /// Read (and, for profiles, compile) the filter; errors name the file.
    pub fn load_full(&self) -> Result<Loaded, CliError> {
        self.input.load_full(&self.file)
    }
}

impl InputOptions {
    /// The `--host-arch` arch (the arch a profile is compiled for), or a
    /// usage error naming the closest known arches.
    pub fn host(&self) -> Result<Arch, CliError> {
        arch_named(&self.host_arch, "--host-arch")
    }

    fn read_options(&self) -> Result<ReadOptions, CliError> {
        let host = self.host()?;
        let mut docker = DockerOptions { host_arch: host, ..DockerOptions::default() };
        docker.optimize = match self.optimize {
            OptimizeArg::Runc => Optimize::Runc,
            OptimizeArg::Linear => Optimize::Linear,
            OptimizeArg::Tree => Optimize::BinaryTree,
        };
        docker.loader = match self.loader {
            LoaderArg::Runc => Loader::Runc,
            LoaderArg::Raw => Loader::Raw,
        };
        docker.libseccomp_timeout = (self.libseccomp_timeout > 0).then(|| Duration::from_secs(self.libseccomp_timeout));
        if let Some(caps) = &self.caps {
            docker.capabilities = caps.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        }
        if let Some(k) = &self.kernel_version {
            docker.kernel = Some(
                KernelVersion::from_release(k)
                    .ok_or_else(|| CliError::Usage(format!("--kernel-version `{k}` is not like 6.1")))?,
            );
        }
        Ok(ReadOptions {
            format: self.input_format.0,
            byte_order: match self.endian {
                Endian::Little => ByteOrder::Little,
                Endian::Big => ByteOrder::Big,
            },
            compile: CompileOptions { docker, seccompiler: SeccompilerOptions { target: host, thread: None } },
            filter: self.filter.clone(),
        })
    }

    /// Read (and, for profiles, compile) the filter in `file`, report what
    /// its generator did silently (stderr), and validate it: a filter the
    /// kernel would refuse is bad input for a command that installs or
    /// compares it (it never runs).
    pub fn load_valid(
        &self,
        file: &Path,
    ) -> Result<(crate::bpf::ValidProgram, Option<crate::sources::CompiledFilter>), CliError> {
        let name = file.display().to_string();
        let loaded = self.load_full(file)?;
        if let Some(c) = &loaded.compiled {
            super::report_notes(Some(&name), &c.notes);
        }
        let valid =
            crate::bpf::validate(&loaded.program).map_err(|v| CliError::Input { file: name, msg: refusal(&v) })?;
        Ok((valid, loaded.compiled))
    }

    /// Read (and, for profiles, compile) the filter in `file`; errors name the file.
    pub fn load_full(&self, file: &Path) -> Result<Loaded, CliError> {
        sources::read_file(file, &self.read_options()?).map_err(|e| {
            if e.is_generator_timeout() {
                CliError::SourceHint(Box::new(e), "--libseccomp-timeout 0 waits for it")
            } else {
                e.into()
            }
        })
    }
}

/// Read and parse the policy file `path` (`--policy`): a file that is not
/// UTF-8 or does not parse is bad input, every problem with its TOML line and column.
pub fn read_policy(path: &Path) -> Result<crate::policy::Policy, CliError> {
    let pname = path.display().to_string();
    let text = sources::read_bounded(path)?;
    let text = std::str::from_utf8(&text)
        .map_err(|e| CliError::Input { file: pname.clone(), msg: format!("not UTF-8 ({e})") })?;
    crate::policy::parse(text).map_err(|errs| CliError::Input {
        file: pname,
        msg: errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  "),
    })
}

/// Parse the arch names of `flag` (`--arch`, comma-separated): an unknown name
/// is a usage error naming the closest known arches.
pub fn parse_arches(names: &[String], flag: &str) -> Result<Vec<Arch>, CliError> {
    names.iter().map(|a| arch_named(a, flag)).collect()
}

/// The arch named `name` (trimmed, any case or alias) given to `flag`; an
/// unknown name is a usage error naming the closest known arches, or all.
pub fn arch_named(name: &str, flag: &str) -> Result<Arch, CliError> {
    let a = name.trim();
    Arch::from_name(a).ok_or_else(|| {
        let near = crate::arch::closest_names(a, Arch::all().map(Arch::name));
        CliError::Usage(format!(
            "unknown arch `{a}` in {flag}{}",
            did_you_mean(&near, || Arch::all().map(Arch::name).collect())
        ))
    })
}

/// Why a command that needs a loadable filter stops (exit 2), in one wording
/// for every command: `the kernel refuses this filter: REASON; REASON…`.
pub(super) fn refusal(reasons: &[impl std::fmt::Display]) -> String {
    let all: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
    format!("the kernel refuses this filter: {}", all.join("; "))
}

/// The `--syscall` selection of a table: each entry a number (decimal or
/// `0x` hex) or the name of a syscall of at least one of `arches` (of any arch
/// when none is selected). An unknown name is a usage error naming the
/// closest syscalls, never a silently empty row.
pub fn syscall_selection(names: &[String], arches: &[Arch]) -> Result<Option<Vec<String>>, CliError> {
    if names.is_empty() {
        return Ok(None);
    }
    let scope: Vec<Arch> = if arches.is_empty() { Arch::all().collect() } else { arches.to_vec() };
    let mut out = Vec::new();
    for n in names {
        let n = n.trim();
        let numeric = match n.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).is_ok(),
            None => n.parse::<u32>().is_ok(),
        };
        if !numeric && !scope.iter().any(|a| a.syscall_nr(n).is_some()) {
            let mut all: Vec<&str> = scope.iter().flat_map(|a| a.syscalls().iter().map(|s| s.1)).collect();
            all.sort_unstable();
            all.dedup();
            let near = crate::arch::closest_names(n, all.iter().copied());
            let on = if arches.is_empty() {
                "any arch".to_string()
            } else {
                scope.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
            };
            return Err(CliError::Usage(format!(
                "unknown syscall `{n}` in --syscall: not a syscall name on {on} nor a number{}",
                did_you_mean(&near, Vec::new)
            )));
        }
        out.push(n.to_string());
    }
    Ok(Some(out))
}

/// `; did you mean `a`, `b`?` or, with no close name, the list `all` gives
/// (nothing when it is empty).
pub(super) fn did_you_mean(near: &[&str], all: impl FnOnce() -> Vec<&'static str>) -> String {
    if !near.is_empty() {
        return format!("; did you mean {}?", near.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or "));
    }
    let all = all();
    if all.is_empty() {
        String::new()
    } else {
        format!("; expected one of {}", all.join(", "))
    }
}

/// Whether the running kernel confirms the examples a command prints: one
/// default (asked, where the kernel can be asked; said when it cannot) and one
/// flag for `check`, `lint`, `diff` and `report`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct KernelArgs {
    /// Do not ask the running kernel to confirm the counterexamples (asked by
    /// default; a kernel that cannot be asked is said, not an error).
    #[arg(long = "no-kernel", help_heading = "Kernel")]
    pub no_kernel: bool,
    /// Ask the running kernel (the default; kept for old scripts).
    #[arg(long = "confirm", hide = true, conflicts_with = "no_kernel")]
    pub confirm: bool,
}
