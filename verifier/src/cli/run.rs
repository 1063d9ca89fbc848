//! `seccheck run --profile FILE -- CMD ARGS…`: run a command under a filter
//! read like every other command reads one (any input format and profile
//! option): a Docker/OCI profile compiled exactly as runc loads it, with the
//! flags runc passes (`SECCOMP_FILTER_FLAG_SPEC_ALLOW` unless the profile sets
//! `flags`), or a compiled filter installed as it is. The kernel enforces it;
//! nothing is recorded. `no_new_privs` is set first, as an unprivileged
//! runtime must. Exit status: the command's (128 + N for signal N); 2 when it
//! could not be started — including when the profile denies `execve` itself.
//! A command ended by `SIGSYS` (what seccomp sends for KILL and TRAP) is
//! explained on stderr, with the way to find the call.

use super::input::InputOptions;
use super::{CliError, Outcome};
use crate::kernel::command::resolve as command;
use crate::record::verify::load_flag_bits;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Run a command under a seccomp filter or profile (the kernel enforcing it).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The filter: a profile (Docker/OCI, seccompiler, Kubernetes) or compiled BPF, as every command reads it.
    #[arg(long)]
    pub profile: PathBuf,
    #[command(flatten)]
    pub input: InputOptions,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    let cmd = command(&args.command).map_err(|e| CliError::failed("", e))?;
    let name = args.profile.display().to_string();
    let (program, compiled) = args.input.load_valid(&args.profile)?;
    let flags = match &compiled {
        Some(c) => load_flag_bits(&c.load_flags).map_err(|flag| CliError::Input {
            file: name.clone(),
            msg: format!("its loader would install it with {flag}, which `seccheck run` does not do (a notifying profile needs a supervisor)"),
        })?,
        None => 0,
    };
    let exit = crate::kernel::supervise::enforce(&cmd, program.program(), flags)
        .map_err(|e| CliError::failed(format!("{}: ", args.command[0].to_string_lossy()), e))?;
    if exit == crate::kernel::supervise::Exit::Signal(SIGSYS) {
        eprintln!(
            "seccheck: {} was killed by SIGSYS, which seccomp sends when the filter answers a call with KILL (or TRAP, unhandled); `seccheck record --check {name} -- …` runs the command undisturbed and lists every call the filter would block",
            args.command[0].to_string_lossy()
        );
    }
    Ok(Outcome::Exit(exit.shell_status().clamp(0, 255) as u8))
}

/// `SIGSYS` on x86-64 (arch/x86/include/uapi/asm/signal.h).
const SIGSYS: i32 = 31;
