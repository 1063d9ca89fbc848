//! `seccheck explain NAME|CODE`: what a finding code means: a lint's
//! documentation (What it does / Why is this bad / Example, the same text as
//! its module's doc comment), a policy property (`P001`…), a filter difference
//! (`D001`, `D002`) or a stack the kernel refuses (`S001`).
//!
//! Exit 0, or 2 for a code nothing has (the message names the closest and lists them all).

use super::{CliError, Outcome};
use crate::report::codes;
use std::io::Write;

/// Explain a finding code: `seccheck explain SC002`, `seccheck explain P004`, `seccheck explain x32-not-blocked`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The code (SC001…, P001…, D001, D002, S001) or its name (missing-arch-check…).
    pub lint: String,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let Some(doc) = codes::explain(&args.lint) else {
        let all = codes::all();
        let near = crate::arch::closest_names(&args.lint, all.iter().flat_map(|(c, n)| [*c, *n]));
        let near = if near.is_empty() {
            String::new()
        } else {
            format!("did you mean {}? ", near.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or "))
        };
        let known: Vec<String> = all.iter().map(|(c, n)| format!("{c} {n}")).collect();
        return Err(CliError::Usage(format!(
            "no finding code or name `{}`; {near}known: {}",
            args.lint,
            known.join(", ")
        )));
    };
    out.write_all(doc.as_bytes())?;
    Ok(Outcome::Clean)
}
