//! `seccheck run --profile profile.json -- CMD ARGS…`: run a command under a
//! Docker/OCI profile, compiled exactly as runc loads it, with the flags runc
//! passes (`SECCOMP_FILTER_FLAG_SPEC_ALLOW` unless the profile sets `flags`).
//! The kernel enforces it; nothing is recorded. `no_new_privs` is set first, as
//! an unprivileged runtime must. Exit status: the command's (128 + N for signal
//! N); 2 when it could not be started — including when the profile denies
//! `execve` itself.

use super::{CliError, Outcome};
use crate::record::command;
use crate::record::verify::compile;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Run a command under a Docker/OCI seccomp profile (the kernel enforcing it).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Docker/OCI profile.
    #[arg(long)]
    pub profile: PathBuf,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    let cmd = command(&args.command).map_err(|e| CliError::Usage(e.to_string()))?;
    let name = args.profile.display().to_string();
    let bytes = crate::sources::read_bounded(&args.profile)?;
    let c = compile(&name, &bytes).map_err(|e| CliError::Usage(e.to_string()))?;
    let exit = crate::kernel::record::enforce(&cmd, c.program.program(), c.flags)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.command[0].to_string_lossy())))?;
    Ok(Outcome::Exit(exit.shell_status().clamp(0, 255) as u8))
}
