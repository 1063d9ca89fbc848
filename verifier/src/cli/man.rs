//! `seccheck man DIR`: one roff man page per command (`seccheck.1`,
//! `seccheck-table.1`, …) generated from the clap definitions with
//! `clap_mangen`, written with `crate::output`'s rules. The committed pages in
//! `docs/man/` are these, and a test fails when they are stale.

use super::{CliError, Outcome};
use crate::output::Outputs;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

/// Write the man pages (section 1) of seccheck and every subcommand into DIR.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The directory (created if missing); existing pages there are replaced.
    pub dir: PathBuf,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let dir = Outputs::new().dir(&args.dir)?;
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    // Subcommands get their display names (`seccheck-table`) from build().
    cmd.build();
    let mut pages = Vec::new();
    render(&cmd, &mut pages)?;
    for (name, roff) in &pages {
        dir.write(name, roff)?;
    }
    writeln!(out, "{}: {} written", args.dir.display(), crate::words::count(pages.len(), "man page"))?;
    Ok(Outcome::Clean)
}

/// The page of `cmd` and, before it, those of its visible subcommands.
fn render(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<(), CliError> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render(sub, pages)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    pages.push((man.get_filename(), roff));
    Ok(())
}
