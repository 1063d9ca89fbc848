//! `seccheck emu FILE --arch A --syscall S [--args …] [--ip N]`: run the filter
//! on one concrete syscall and print the action first, then the path taken.

use super::input::FilterArgs;
use super::{write_json, CliError, Outcome, OutputFormat};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::emu::Emulator;
use crate::seccomp::SeccompData;
use crate::sources::text::parse_c_uint;
use std::io::Write;

/// Evaluate the filter for one syscall, as the kernel would.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Architecture: a name (x86_64, x32, i386, aarch64, arm, riscv64, …) or a raw
    /// AUDIT_ARCH number. `x32` means AUDIT_ARCH_X86_64 with the x32 bit set in nr.
    #[arg(long)]
    pub arch: String,
    /// Syscall name for that arch, or its number.
    #[arg(long)]
    pub syscall: String,
    /// Up to six arguments, comma-separated, each the 64 bits the filter
    /// reads: decimal, 0x-hex, or 0-octal as in C (`010` is 8).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// Instruction pointer: decimal, 0x-hex, or 0-octal as in C.
    #[arg(long, default_value = "0", allow_negative_numbers = true)]
    pub ip: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// The JSON document: the input evaluated, then what the filter did with it.
#[derive(serde::Serialize)]
struct Report<'a> {
    file: String,
    compiled: Option<super::contract::Generated>,
    /// The `seccomp_data` evaluated.
    input: super::contract::InputView,
    /// `action`, `data` (and `value` for an unknown action), `ret`, `path`.
    #[serde(flatten)]
    outcome: &'a crate::emu::Outcome,
    /// The action as text prints it (`ERRNO(1) EPERM`).
    action_text: String,
    /// The kernel runs no filter for this call ([`crate::seccomp::filters_bypassed`]).
    filters_bypassed: bool,
    /// Why, when it does not.
    bypass_note: Option<&'static str>,
}

/// A 64-bit value as C writes it, or a usage error saying what is wrong
/// with it: not a number, negative (which 64 bits it stands for depends on
/// how the caller extended it), or wider than the 64 bits the filter reads.
fn number(what: &str, s: &str) -> Result<u64, CliError> {
    if let Some(v) = parse_c_uint(s) {
        return Ok(v);
    }
    let t = s.trim();
    let digits = |t: &str| {
        let (d, hex) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(h) => (h, true),
            None => (t, false),
        };
        !d.is_empty() && d.chars().all(|c| if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() })
    };
    let why = match t.strip_prefix('-') {
        Some(m) if digits(m) => {
            "is negative; give the 64 bits the filter reads \
                                 (-1 sign-extended is 0xffffffffffffffff, as a 32-bit int 0xffffffff)"
        }
        _ if digits(t) => "does not fit in 64 bits (at most 0xffffffffffffffff)",
        _ => "is not a number (decimal, 0x-hex, or 0-octal as in C)",
    };
    Err(CliError::Usage(format!("{what} `{s}` {why}")))
}

/// Parse `--arch`: a known name, or a raw AUDIT_ARCH value.
pub fn parse_arch(s: &str) -> Result<(u32, Option<Arch>), CliError> {
    if let Some(a) = Arch::from_name(s) {
        return Ok((a.audit_arch(), Some(a)));
    }
    match parse_c_uint(s) {
        Some(v) if v <= u32::MAX as u64 => Ok((v as u32, Arch::from_audit(v as u32, 0))),
        _ => {
            let near = crate::arch::closest_names(s, Arch::all().map(|a| a.name()));
            Err(CliError::Usage(format!(
                "unknown arch `{s}`: neither an arch name nor a 32-bit AUDIT_ARCH number{}",
                super::input::did_you_mean(&near, || Arch::all().map(|a| a.name()).collect())
            )))
        }
    }
}

/// Resolve `--syscall` for `arch`. Numbers are taken as given, except that x32
/// numbers get `__X32_SYSCALL_BIT` when it is missing.
pub fn parse_syscall(s: &str, arch: Option<Arch>) -> Result<u32, CliError> {
    if let Some(v) = parse_c_uint(s) {
        let v = u32::try_from(v).map_err(|_| CliError::Usage(format!("syscall number `{s}` does not fit 32 bits")))?;
        return Ok(if arch == Some(Arch::X32) { v | X32_SYSCALL_BIT } else { v });
    }
    let Some(a) = arch else {
        return Err(CliError::Usage(format!("syscall `{s}` given by name needs a known --arch; use its number")));
    };
    a.syscall_nr(s).ok_or_else(|| {
        let near = crate::arch::closest_names(s, a.syscalls().iter().map(|s| s.1));
        CliError::Usage(format!("{a} has no syscall named `{s}`{}", super::input::did_you_mean(&near, Vec::new)))
    })
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let (audit, arch) = parse_arch(&args.arch)?;
    let nr = parse_syscall(&args.syscall, arch)?;
    if args.args.len() > 6 {
        return Err(CliError::Usage(format!("--args takes at most 6 values, got {}", args.args.len())));
    }
    let mut argv = [0u64; 6];
    for (i, a) in args.args.iter().enumerate() {
        argv[i] = number(&format!("--args value {i}"), a.trim())?;
    }
    let data = SeccompData { nr, arch: audit, instruction_pointer: number("--ip", &args.ip)?, args: argv };
    let loaded = args.filter.load_full()?;
    let name = args.filter.display_name();
    let Some(valid) = super::accepted(out, args.format.rendering("emu"), &name, &loaded.program)? else {
        return Ok(Outcome::Findings);
    };
    let outcome = Emulator::new(&valid).trace(&data);
    // The filter's answer is shown either way; the kernel may not ask for it.
    let bypassed = crate::seccomp::filters_bypassed(&data);
    const BYPASS_NOTE: &str = "the kernel runs no filter for this call (seccomp_uprobe_exception, kernel/seccomp.c, \
                               Linux 6.14+ for uretprobe, 6.18+ for uprobe): it runs whatever the filter says";
    match args.format {
        OutputFormat::Json => write_json(
            out,
            "emu",
            &Report {
                file: name,
                compiled: super::contract::Generated::of_option(&loaded.compiled),
                input: super::contract::InputView::of(&data),
                outcome: &outcome,
                action_text: outcome.action.to_string(),
                filters_bypassed: bypassed,
                bypass_note: bypassed.then_some(BYPASS_NOTE),
            },
        )?,
        OutputFormat::Text => {
            writeln!(out, "{}", outcome.action)?;
            if bypassed {
                writeln!(out, "note: {BYPASS_NOTE}")?;
            }
            let name = arch.and_then(|a| a.syscall_name(nr)).map(|n| format!(" ({n})")).unwrap_or_default();
            writeln!(
                out,
                "input: arch {audit:#x}{} nr {nr}{name} ip {:#x} args [{}]",
                arch.map(|a| format!(" ({a})")).unwrap_or_default(),
                data.instruction_pointer,
                argv.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>().join(", ")
            )?;
            super::write_compile_notes(out, &loaded.compiled)?;
            writeln!(
                out,
                "return value {:#010x} after {}:",
                outcome.ret,
                crate::words::count(outcome.path.len(), "instruction")
            )?;
            let lines = crate::bpf::listing(valid.program(), &crate::bpf::DisasmOptions { comments: true, arch });
            let width = outcome.path.iter().map(|&pc| lines[pc].text.len()).max().unwrap_or(0);
            for &pc in &outcome.path {
                let l = &lines[pc];
                match &l.comment {
                    Some(c) => writeln!(out, "  {pc:4}: {:width$} ; {c}", l.text)?,
                    None => writeln!(out, "  {pc:4}: {}", l.text)?,
                }
            }
        }
    }
    Ok(Outcome::Clean)
}
