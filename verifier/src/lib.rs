//! seccheck: verify, compare and benchmark compiled seccomp-BPF filters exactly
//! as the kernel runs them.
//!
//! Data flows one way (see `ARCHITECTURE.md`): [`sources`] read bytes into a
//! [`bpf::Program`], [`bpf::validate`] turns it into a [`bpf::ValidProgram`]
//! exactly when the kernel would accept it, and the analyses ([`emu`], …) take
//! that. Only `sources` and `kernel` do I/O; only `kernel` has `unsafe`.
#![deny(unsafe_code)]

pub mod arch;
pub mod bpf;
pub mod cli;
pub mod cost;
pub mod diff;
pub mod emu;
pub mod genfuzz;
pub mod kernel;
pub mod lints;
pub mod output;
pub mod policy;
pub mod overhead;
pub mod record;
pub mod report;
pub mod seccomp;
pub mod symbolic;
pub mod sources;
pub mod stack;
#[cfg(any(test, feature = "testgen"))]
pub mod testgen;
