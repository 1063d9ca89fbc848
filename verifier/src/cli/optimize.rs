//! `seccheck optimize FILE -o OUT`: the same filter, faster, proven.
//!
//! Compiles the filter's exact meaning (every arch, number, argument and
//! instruction pointer) into a new program laid out for speed: arch
//! dispatch, a weighted search over syscall-number ranges, argument checks
//! from the decision diagrams with shared tails, and every syscall whose
//! action does not depend on its arguments answered through arch and nr
//! loads only, so the kernel's action cache can serve each one that allows.
//! Weights: the built-in hot-syscall mix, a `seccheck record` trace
//! (`--weights trace.json`) or a minijail frequency file (`name: count`
//! lines, `--weights-arch` names their ABI).
//!
//! Before anything is written the output is validated, proven equivalent to
//! the input on every input by the comparison `diff` uses, accepted by the
//! running kernel, and probed there on every syscall number of the x86-64,
//! x32 and i386 ABIs and on the boundaries of every argument condition with
//! both filters (`--no-kernel` skips the kernel, and says so). Anything
//! unproven: exit 2, nothing written. Prints instructions on the hot and
//! worst paths and cache coverage per ABI, before and after.
//!
//! Output forms (`--output-format`): `raw` sock_filter bytes, a `c` array,
//! an `asm` listing (`seccheck asm` reads it back), or `oci`: the OCI
//! `config.json` given with `--oci-config` with crun's
//! `run.oci.seccomp_bpf_data` annotation (base64 of the raw program; crun
//! then loads it with `seccomp(SECCOMP_SET_MODE_FILTER)` instead of
//! compiling the `linux.seccomp` section), or `firecracker`: from a
//! seccompiler JSON, every thread category optimised and proven on its own,
//! written as Firecracker's custom filter file (`firecracker --seccomp-filter`,
//! [`crate::optimize::firecracker`]).

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::arch::Arch;
use crate::bpf::{disassemble, DisasmOptions, Program};
use crate::optimize::{self, cost, kernel_check, Cost, KernelTrial, OptimizeOptions, Weights};
use crate::output::{Named, Outputs};
use crate::sources::read_bounded;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Compile a filter into a proven-equivalent faster one.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Where to write the optimised filter; `-` for standard output (the
    /// table then goes to standard error).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Encoding of the output.
    #[arg(long = "output-format", value_enum, default_value_t = OptimizeOut::Raw)]
    pub output_format: OptimizeOut,
    /// The OCI config.json to annotate (with `--output-format oci`).
    #[arg(long = "oci-config")]
    pub oci_config: Option<PathBuf>,
    /// Syscall weights: a `seccheck record` trace (JSON) or a minijail frequency file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The ABI of a frequency file's syscall names.
    #[arg(long = "weights-arch", default_value = "x86_64")]
    pub weights_arch: String,
    /// Skip the running kernel's checks (the exact proof still runs).
    #[arg(long)]
    pub no_kernel: bool,
    /// Format of the report on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizeOut {
    /// Raw sock_filter bytes (what seccomp(2) takes).
    Raw,
    /// C array text, as `bpf_asm -c` prints it.
    C,
    /// The listing `seccheck disasm` prints (assembles back with `seccheck asm`).
    Asm,
    /// An OCI config.json with crun's `run.oci.seccomp_bpf_data` annotation.
    Oci,
    /// Firecracker's custom filter file (`--seccomp-filter`, Firecracker
    /// v1.15 on: bitcode map of thread category to program), from a
    /// seccompiler JSON, every category optimised.
    Firecracker,
}

#[derive(Serialize)]
struct Report {
    input: String,
    weights: String,
    proven_equivalent: bool,
    /// Named apart from the shared `kernel` object of other documents (the
    /// kernel's confirmation of counterexamples): this is the kernel checking
    /// the optimised program itself.
    #[serde(rename = "kernel_check", skip_serializing_if = "Option::is_none")]
    kernel: Option<KernelTrial>,
    /// One filter: its figures here. Several (`--output-format
    /// firecracker`): each in `filters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<Cost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<Cost>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filters: Vec<FilterReport>,
}

/// One filter of several (a seccompiler thread category).
#[derive(Serialize)]
struct FilterReport {
    name: String,
    #[serde(rename = "kernel_check", skip_serializing_if = "Option::is_none")]
    kernel: Option<KernelTrial>,
    before: Cost,
    after: Cost,
}

/// One filter optimised, proven, checked by the kernel (unless `no_kernel`) and costed.
struct Done {
    output: crate::bpf::ValidProgram,
    kernel: Option<KernelTrial>,
    before: Cost,
    after: Cost,
}

fn optimize_one(
    input: &crate::bpf::ValidProgram,
    opts: &OptimizeOptions,
    no_kernel: bool,
    name: &str,
) -> Result<Done, CliError> {
    let fail = |msg: String| CliError::Input { file: name.to_string(), msg };
    let optimized = optimize::optimize(input, opts).map_err(|e| fail(format!("not optimised: {e}")))?;
    let output = optimized.program;
    let kernel = if no_kernel {
        None
    } else {
        let k = kernel_check(input, &output, opts.geometry, &opts.symbolic).map_err(|e| {
            fail(format!("not optimised: the running kernel could not check the result ({e}); --no-kernel skips it"))
        })?;
        if !k.accepted {
            return Err(fail("not optimised: internal error: the running kernel refuses the optimised program".into()));
        }
        if let Some(d) = k.disagreements.first() {
            return Err(fail(format!(
                "not optimised: internal error: the running kernel disagrees on {} input(s), e.g. {d}",
                k.disagreements.len()
            )));
        }
        Some(k)
    };
    let before = cost(input, opts.geometry, &opts.weights).map_err(|e| fail(e.to_string()))?;
    let after = cost(&output, opts.geometry, &opts.weights).map_err(|e| fail(e.to_string()))?;
    Ok(Done { output, kernel, before, after })
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let name = args.filter.display_name();
    if args.output_format == OptimizeOut::Oci && args.oci_config.is_none() {
        return Err(CliError::Usage("--output-format oci needs --oci-config CONFIG.json to annotate".into()));
    }
    let mut outputs = Outputs::new();
    outputs.input(&args.filter.file);
    if let Some(c) = &args.oci_config {
        outputs.input(c);
    }
    if let Some(w) = &args.weights {
        outputs.input(w);
    }
    let target = if args.output.as_os_str() == "-" { None } else { Some(outputs.file(&args.output, Named::ByUser)?) };
    // The host whose cache and ABIs the layout and the table are for.
    let host = args.filter.input.host()?;
    let mut opts = OptimizeOptions::for_host(host).ok_or_else(|| {
        CliError::Usage(format!(
            "--host-arch {}: its kernel's cache geometry is not known (x86_64, aarch64)",
            host.name()
        ))
    })?;
    if let Some(w) = &args.weights {
        opts.weights = read_weights(w, &args.weights_arch)?;
    }
    let (bytes, report) = if args.output_format == OptimizeOut::Firecracker {
        let mut filters = Vec::new();
        let mut programs = Vec::new();
        for (label, input) in seccompiler_filters(&args.filter, host)? {
            let d = optimize_one(&input, &opts, args.no_kernel, &format!("{name}@{label}"))?;
            programs.push((label.clone(), d.output.program().clone()));
            filters.push(FilterReport { name: label, kernel: d.kernel, before: d.before, after: d.after });
        }
        let bytes = crate::optimize::firecracker::encode(&programs)
            .map_err(|e| CliError::Input { file: name.clone(), msg: format!("not written: {e}") })?;
        let report = Report {
            input: name,
            weights: opts.weights.source.clone(),
            proven_equivalent: true,
            kernel: None,
            before: None,
            after: None,
            filters,
        };
        (bytes, report)
    } else {
        let (input, _) = args.filter.input.load_valid(&args.filter.file)?;
        let d = optimize_one(&input, &opts, args.no_kernel, &name)?;
        let bytes = encode(d.output.program(), args.output_format, args.oci_config.as_ref())?;
        let report = Report {
            input: name,
            weights: opts.weights.source.clone(),
            proven_equivalent: true,
            kernel: d.kernel,
            before: Some(d.before),
            after: Some(d.after),
            filters: Vec::new(),
        };
        (bytes, report)
    };
    // The table goes where the program does not.
    let mut stderr = std::io::stderr();
    let table_out: &mut dyn Write = if target.is_none() { &mut stderr } else { out };
    match args.format {
        OutputFormat::Json => write_json(table_out, "optimize", &report)?,
        OutputFormat::Text => write_text(table_out, &report)?,
    }
    match target {
        None => out.write_all(&bytes)?,
        Some(t) => t.write(&bytes)?,
    }
    Ok(Outcome::Clean)
}

/// Every thread category of the seccompiler JSON `f` names, compiled for
/// `host` (seccompiler's target) and valid, sorted by category.
fn seccompiler_filters(f: &FilterArgs, host: Arch) -> Result<Vec<(String, crate::bpf::ValidProgram)>, CliError> {
    use crate::sources::{seccompiler, ProfileFormat};
    let name = f.display_name();
    let usage = |why: &str| {
        CliError::Usage(format!(
            "--output-format firecracker {why}: it writes every thread category of a seccompiler JSON (Firecracker's filter source), each optimised"
        ))
    };
    if f.input.filter.is_some() {
        return Err(usage("takes no --filter"));
    }
    let bytes = read_bounded(&f.file)?;
    match crate::sources::detect_format(&bytes) {
        Ok(ProfileFormat::SeccompilerJson) => {}
        Ok(other) => return Err(usage(&format!("cannot take {name}, a {}", other.name()))),
        Err(_) => return Err(usage(&format!("cannot take {name}, which is not a profile"))),
    }
    let compiled =
        seccompiler::compile_seccompiler(&bytes, &seccompiler::SeccompilerOptions { target: host, thread: None })
            .map_err(|e| CliError::Input { file: name.clone(), msg: e.to_string() })?;
    compiled
        .into_iter()
        .map(|c| {
            super::report_notes(Some(&name), &c.notes);
            let v = crate::bpf::validate(&c.program)
                .map_err(|v| CliError::Input { file: format!("{name}@{}", c.label), msg: super::input::refusal(&v) })?;
            Ok((c.label, v))
        })
        .collect()
}

fn read_weights(path: &std::path::Path, arch: &str) -> Result<Weights, CliError> {
    let file = path.display().to_string();
    let bytes = read_bounded(path)?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let t = crate::record::read_trace(path).map_err(|e| CliError::failed("", e))?;
        return Ok(Weights::from_trace(&t, &file));
    }
    let arch = super::input::arch_named(arch, "--weights-arch")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::Input { file: file.clone(), msg: "not UTF-8 text".into() })?;
    Weights::from_frequency(text, arch, &file).map_err(CliError::Usage)
}

fn encode(p: &Program, form: OptimizeOut, oci: Option<&PathBuf>) -> Result<Vec<u8>, CliError> {
    Ok(match form {
        OptimizeOut::Raw => p.to_bytes(),
        OptimizeOut::C => p
            .insns
            .iter()
            .map(|i| format!("{{ 0x{:02x}, {}, {}, 0x{:08x} }},\n", i.code, i.jt, i.jf, i.k))
            .collect::<String>()
            .into_bytes(),
        OptimizeOut::Firecracker => unreachable!("written by run"),
        OptimizeOut::Asm => disassemble(p, &DisasmOptions { comments: true, arch: None }).into_bytes(),
        OptimizeOut::Oci => {
            let path = oci.expect("checked by run");
            let file = path.display().to_string();
            let bytes = read_bounded(path)?;
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| CliError::Input {
                file: file.clone(),
                msg: format!("not JSON (line {}, column {}): {e}", e.line(), e.column()),
            })?;
            let obj = v.as_object_mut().ok_or_else(|| CliError::Input {
                file: file.clone(),
                msg: "expected a JSON object (an OCI config.json)".into(),
            })?;
            let ann = obj.entry("annotations").or_insert_with(|| serde_json::json!({}));
            let ann = ann
                .as_object_mut()
                .ok_or_else(|| CliError::Input { file: file.clone(), msg: "`annotations` is not an object".into() })?;
            ann.insert(CRUN_ANNOTATION.into(), serde_json::Value::String(base64(&p.to_bytes())));
            let mut s = serde_json::to_vec_pretty(&v).map_err(|e| CliError::Output(e.into()))?;
            s.push(b'\n');
            s
        }
    })
}

/// crun's annotation (src/libcrun/container.c, `find_annotation (container,
/// "run.oci.seccomp_bpf_data")`; crun.1: "Data must be base64 encoded").
pub const CRUN_ANNOTATION: &str = "run.oci.seccomp_bpf_data";

/// Standard base64 with padding (RFC 4648 section 4), as crun decodes it.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn write_text(out: &mut dyn Write, r: &Report) -> Result<(), CliError> {
    if let (Some(before), Some(after)) = (&r.before, &r.after) {
        write_filter(out, &r.input, r.kernel.as_ref(), Some(&r.weights), before, after)?;
    }
    if !r.filters.is_empty() {
        writeln!(out, "weights: {}", r.weights)?;
    }
    for f in &r.filters {
        write_filter(out, &format!("{}@{}", r.input, f.name), f.kernel.as_ref(), None, &f.before, &f.after)?;
    }
    Ok(())
}

fn write_filter(
    out: &mut dyn Write,
    input: &str,
    kernel: Option<&KernelTrial>,
    weights: Option<&str>,
    before: &Cost,
    after: &Cost,
) -> Result<(), CliError> {
    writeln!(
        out,
        "{input}: {} → {} instructions, proven equivalent on every input (arch, nr, args, ip)",
        before.instructions, after.instructions
    )?;
    match kernel {
        Some(k) => writeln!(
            out,
            "kernel: accepted; {} system calls probed under both filters ({} at argument boundaries), same action on each",
            k.probed, k.argument_samples
        )?,
        None => writeln!(out, "kernel: not asked (--no-kernel)")?,
    }
    if let Some(w) = weights {
        writeln!(out, "weights: {w}")?;
    }
    writeln!(
        out,
        "instructions run per syscall (hot: weighted mean over the weights; cached calls run 0), before → after"
    )?;
    writeln!(out, "{:<8} {:>15} {:>11} {:>15} {:>19}", "ABI", "cached", "worst", "hot", "hot without cache")?;
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1}"));
    for (b, a) in before.abis.iter().zip(&after.abis) {
        writeln!(
            out,
            "{:<8} {:>15} {:>11} {:>15} {:>19}",
            b.arch.name(),
            format!("{}/{} → {}", b.cached, b.syscalls, a.cached),
            format!("{} → {}", b.worst, a.worst),
            format!("{} → {}", f(b.hot_mean), f(a.hot_mean)),
            format!("{} → {}", f(b.hot_mean_uncached), f(a.hot_mean_uncached)),
        )?;
    }
    Ok(())
}
