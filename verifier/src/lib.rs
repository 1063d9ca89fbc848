//! seccheck: verify, compare and benchmark compiled seccomp-BPF filters exactly
//! as the kernel runs them.
//!
//! Data flows one way (see `ARCHITECTURE.md`): [`sources`] read bytes into a
//! [`bpf::Program`], [`bpf::validate`] turns it into a [`bpf::ValidProgram`]
//! exactly when the kernel would accept it, and the analyses ([`emu`], …) take
//! that. Only `sources` and `kernel` do I/O; only `kernel` has `unsafe`.
#![deny(unsafe_code)]
// The validator's and the evaluators' match arms mirror the kernel's `switch`
// cases one to one (a guard per opcode, the check inside); folding the check
// into the guard would make a failed check fall through to later arms.
#![allow(clippy::collapsible_match)]

pub mod arch;
pub mod bpf;
pub mod check;
pub mod cost;
pub mod diff;
pub mod emu;
pub mod finding;
pub mod genfuzz;
pub mod kernel;
pub mod lints;
pub mod optimize;
pub mod output;
pub mod overhead;
pub mod policy;
pub mod record;
pub mod report;
pub mod seccomp;
pub mod sources;
pub mod stack;
pub mod symbolic;
#[cfg(any(test, feature = "testgen"))]
pub mod testgen;
#[cfg(test)]
mod tidy;
pub mod uapi;
pub mod when;
pub mod words;
