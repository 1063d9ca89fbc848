//! The `seccheck` binary: argument parsing and rendering (`cli/`) over the
//! `seccheck` library.
#![deny(unsafe_code)]
#![allow(clippy::collapsible_match)]

mod cli;

// The library's modules at this crate's root, so the command modules name
// them as `crate::bpf`, `crate::sources`, … as the library itself does.
use seccheck::{
    arch, bpf, check, cost, diff, emu, finding, genfuzz, kernel, lints, optimize, output, overhead, policy, record,
    report, seccomp, sources, stack, symbolic, uapi, words,
};

fn main() -> std::process::ExitCode {
    cli::main()
}
