//! `seccheck completions bash|zsh|fish|elvish|powershell`: the shell's
//! completion script on stdout, generated from the clap definitions (so it
//! completes exactly the subcommands and options this binary has).
//!
//! Install, e.g.: `seccheck completions bash > ~/.local/share/bash-completion/completions/seccheck`,
//! `seccheck completions zsh > "${fpath[1]}/_seccheck"`,
//! `seccheck completions fish > ~/.config/fish/completions/seccheck.fish`.

use super::{CliError, Outcome};
use clap::CommandFactory;
use std::io::Write;

/// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "seccheck", &mut script);
    out.write_all(&script)?;
    Ok(Outcome::Clean)
}
