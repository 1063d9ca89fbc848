//! `seccheck explain NAME|CODE`: print a lint's documentation (What it does /
//! Why is this bad / Example), the same text as its module's doc comment.
//!
//! Exit 0, or 2 for a name no lint has (the message lists them all).

use super::{CliError, Outcome};
use crate::lints;
use std::io::Write;

/// Explain a lint: `seccheck explain SC002` or `seccheck explain x32-not-blocked`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The lint's code (SC001…) or name (missing-arch-check…).
    pub lint: String,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let Some(l) = lints::find(&args.lint) else {
        let known: Vec<String> = lints::ALL.iter().map(|l| format!("{} {}", l.code, l.name)).collect();
        return Err(CliError::Usage(format!("no lint is called `{}`; known lints: {}", args.lint, known.join(", "))));
    };
    out.write_all(l.doc().as_bytes())?;
    Ok(Outcome::Clean)
}
