//! Differential fuzzing of filter generators: random policies are compiled by a
//! real generator (libseccomp through runc's conversion, seccompiler) and the
//! compiled BPF is compared with the policy's meaning computed *independently of
//! the BPF* — a reference semantics written from the formats' documentation.
//!
//! Why it exists: a generator that silently compiles a policy into a filter that
//! means something else is the worst kind of seccomp bug (the profile reads
//! right, the kernel enforces another thing). Reading the generator's code does
//! not find those; comparing its output with what its documentation promises
//! does.
//!
//! How:
//! - [`libseccomp`] and [`seccompiler`] generate random policies from an
//!   [`arbitrary::Unstructured`] byte stream (so the same generator serves the
//!   stable runner, `cargo fuzz` and `seccheck fuzz-generator`), render them as
//!   the generator's JSON, and state their meaning as a [`Model`].
//! - A [`Model`] is the reference: per ABI, the syscall rules with their
//!   argument conditions and actions, the default and bad-arch actions. It is
//!   evaluated concretely ([`Model::expected`]) and as exact input sets in the
//!   compiled program's own BDD manager ([`Model::sets`]).
//! - [`compare`] looks for an input where the compiled program's action differs
//!   from the model's, exactly (the symbolic set of such inputs must be empty)
//!   and on sampled inputs through the emulator; every symbolic counterexample
//!   is re-checked with the emulator and the concrete model, so a disagreement
//!   between seccheck's own judges is reported as such, never as a generator bug.
//! - Inputs the documentation leaves open are outside the comparison, counted,
//!   never guessed: where two rules of one syscall with *different* actions
//!   both match (libseccomp documents no precedence between overlapping rules),
//!   and negative syscall numbers (`nr >= 2^31`: not syscalls; libseccomp lets
//!   `-1`, the tracer's "skip", through by design).
//! - [`shrink`] minimises a diverging policy (drop rules, names, conditions,
//!   arches; simplify actions) while it still diverges.

pub mod campaign;
pub mod compare;
pub mod compile;
pub mod coverage;
pub mod known;
pub mod libseccomp;
pub mod minimise;
pub mod model;
pub mod optimize;
pub mod seccompiler;
pub mod shapes;

pub use campaign::*;
pub use compare::*;
pub use compile::*;
pub use coverage::*;
pub use known::*;
pub use minimise::*;
pub use model::*;
/// The fuzzers' one random generator, splitmix64: its stream is fixed by the
/// algorithm (`rand_xoshiro` implements it as published), so a seed names the
/// same cases on every machine and release. Case byte streams come from
/// `fill_bytes`, sampled inputs from `rand::Rng`.
pub use rand_xoshiro::SplitMix64;
pub use shapes::*;

/// A [`SplitMix64`] started at `seed`.
pub fn rng(seed: u64) -> SplitMix64 {
    <SplitMix64 as rand::SeedableRng>::seed_from_u64(seed)
}

/// `n` bytes of `rng`'s stream.
pub fn rng_bytes(rng: &mut SplitMix64, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::RngCore::fill_bytes(rng, &mut v);
    v
}
