//! `seccheck optimize`: a filter with exactly the input's meaning that runs as
//! few instructions as possible, compiled from the exact symbolic meaning and
//! proven before it is handed out.
//!
//! 1. [`mtbdd`]: the meaning as one multi-terminal decision diagram over the
//!    input bits (arch, nr, arguments, ip), one canonical return value per
//!    action as `diff` compares them.
//! 2. [`layout`]: per 32-bit word a block that loads it once and searches its
//!    value intervals (weighted optimal trees, `JEQ` chains) or tests bits;
//!    identical argument checks share one block; argument-free syscalls end
//!    in a `ret` reached through arch and nr only, so the kernel's constant
//!    action cache serves every one that allows.
//! 3. [`link`]: jump threading, `ret` sharing, dead-code removal, trampolines
//!    for branches beyond 255.
//! 4. [`optimize`]: the result is validated (`bpf::validate`), at most
//!    `BPF_MAXINSNS` long, and proven equivalent to the input by
//!    [`crate::diff::diff`] on every input; [`kernel_check`] adds the
//!    running kernel's validator and its actions on every `(arch, nr)` row
//!    this machine can issue and on the boundary inputs of every argument
//!    condition, compared between input and output.
//!
//! Nothing unproven leaves [`optimize`]: every failure is an
//! [`OptimizeError`].

pub mod anatomy;
pub mod firecracker;
pub mod layout;
pub mod link;
pub mod mtbdd;
pub mod weights;

use crate::arch::Arch;
use crate::bpf::insn::BPF_MAXINSNS;
use crate::bpf::{validate, Program, ValidProgram};
use crate::cost::{path_bounds, CacheGeometry, CostTable};
use crate::seccomp::SECCOMP_RET_ALLOW;
use crate::symbolic::{self, vars::Field};
use layout::{Layout, PointWeights};
use mtbdd::{Mt, MtTooLarge};
use serde::Serialize;
use std::collections::BTreeMap;
pub use weights::Weights;

/// How to optimise.
#[derive(Clone, Debug)]
pub struct OptimizeOptions {
    pub symbolic: symbolic::Options,
    pub weights: Weights,
    /// The cache the layout is tuned for (which syscalls never run the
    /// filter, so their weight hardly matters).
    pub geometry: CacheGeometry,
    /// Most nodes of the multi-terminal diagram.
    pub mt_limit: usize,
    /// What a call the cache serves weighs in the layout, per unit of its
    /// weight: it runs the filter only where the cache does not apply (a
    /// kernel without `CONFIG_SECCOMP_CACHE`, or under a newer filter).
    pub cached_share: f64,
}

impl OptimizeOptions {
    /// The hot mix and Linux 6.18's cache geometry for `host`.
    pub fn for_host(host: Arch) -> Option<OptimizeOptions> {
        Some(OptimizeOptions {
            symbolic: symbolic::Options::default(),
            weights: Weights::hot_mix(host),
            geometry: CacheGeometry::linux_6_18(host)?,
            mt_limit: 1 << 21,
            cached_share: CACHED_SHARE,
        })
    }
}

/// The default [`OptimizeOptions::cached_share`].
pub const CACHED_SHARE: f64 = 0.25;

/// Why no optimised program was produced.
#[derive(Debug, thiserror::Error)]
pub enum OptimizeError {
    #[error("the input cannot be evaluated exactly: {0}")]
    Symbolic(#[from] symbolic::SymbolicError),
    #[error("the input's meaning is too large to compile: {0}")]
    TooLarge(#[from] MtTooLarge),
    #[error(transparent)]
    Link(#[from] link::LinkError),
    #[error("the optimised program would have {len} instructions; the kernel takes at most {BPF_MAXINSNS}")]
    TooLong { len: usize },
    #[error("internal error: the optimised program is not valid classic BPF: {0}")]
    Invalid(String),
    #[error("the equivalence proof could not be completed: {0}")]
    Proof(#[from] crate::diff::CompareError),
    #[error("internal error: the optimised program differs from the input on {regions} region(s), e.g. {example}")]
    NotEquivalent { regions: usize, example: String },
    #[error("the path analysis failed: {0}")]
    Cost(#[from] crate::cost::paths::TooManyStates),
}

/// A proven optimisation.
pub struct Optimized {
    pub program: ValidProgram,
    /// Nodes of the decision diagram it was compiled from.
    pub diagram_nodes: usize,
}

/// Compile `p` without the proof (for benches and fuzzing the compiler
/// itself; [`optimize`] is the one that may be shown to users).
pub fn compile(p: &ValidProgram, opts: &OptimizeOptions) -> Result<(Program, usize), OptimizeError> {
    let mut an = symbolic::analyze(p, &opts.symbolic)?;
    let mt = Mt::build(&mut an, opts.mt_limit)?;
    let points = point_weights(&mt, opts);
    let mut asm = link::Asm::default();
    Layout::new(&mt, &points).emit(&mut asm);
    Ok((asm.link()?, mt.len()))
}

/// Compile `p` and prove the result: valid, short enough, and equivalent on
/// every input ([`crate::diff::diff`]).
pub fn optimize(p: &ValidProgram, opts: &OptimizeOptions) -> Result<Optimized, OptimizeError> {
    let (prog, diagram_nodes) = compile(p, opts)?;
    if prog.len() > BPF_MAXINSNS {
        return Err(OptimizeError::TooLong { len: prog.len() });
    }
    let program = validate(&prog)
        .map_err(|v| OptimizeError::Invalid(v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")))?;
    let d = crate::diff::diff(p, &program, &opts.symbolic)?;
    if !d.equivalent {
        let r = &d.regions[0];
        return Err(OptimizeError::NotEquivalent {
            regions: d.regions.len(),
            example: format!("{:?}: input {} but output {}", r.example.input, r.a, r.b),
        });
    }
    Ok(Optimized { program, diagram_nodes })
}

/// Per block node, the weight of each word value: the arch word's root gets
/// each ABI's total, each ABI's nr block its syscalls'. A syscall the
/// optimised program lets the cache serve (its `(arch, nr)` ends in `ret
/// ALLOW` before any argument load, and the geometry caches it) runs the
/// filter only where the cache does not apply, so it counts
/// [`OptimizeOptions::cached_share`] (a quarter by default).
fn point_weights(mt: &Mt, opts: &OptimizeOptions) -> PointWeights {
    let mut points: PointWeights = PointWeights::new();
    let arch_end = Field::Nr.first_level();
    let nr_end = Field::Arg(0).first_level();
    let cached_abi = |audit: u32, nr: u32| {
        let g = &opts.geometry;
        [Some(g.native), g.compat].into_iter().flatten().any(|c| c.audit_arch == audit && nr < c.nr_syscalls)
    };
    let mut add = |n: u32, v: u32, w: f64| *points.entry(n).or_default().entry(v).or_default() += w;
    let mut by_key: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for &(arch, nr, w) in &opts.weights.points {
        *by_key.entry((arch.audit_arch(), nr)).or_default() += w;
    }
    for (&(audit, nr), &w) in &by_key {
        let bit = |f: Field, v: u64| {
            move |level: u32| {
                let (field, b) = Field::of_level(level);
                debug_assert_eq!(field, f);
                v >> b & 1 == 1
            }
        };
        let root = mt.root;
        // Only the host's own ABIs reach its filters (`syscall_get_arch`):
        // a weight on another ABI lays out that ABI's block, not the arch
        // test every call of the host runs through.
        let g = &opts.geometry;
        let on_host = [Some(g.native), g.compat].into_iter().flatten().any(|c| c.audit_arch == audit);
        if mt.level(root) < arch_end && on_host {
            add(root, audit, w);
        }
        let n = mt.walk(root, arch_end, bit(Field::Arch, audit as u64));
        let end = mt.walk(n, nr_end, bit(Field::Nr, nr as u64));
        let cached = mt.leaf_value(end) == Some(SECCOMP_RET_ALLOW) && cached_abi(audit, nr);
        if mt.level(n) < nr_end {
            add(n, nr, if cached { w * opts.cached_share } else { w });
        }
    }
    points
}

/// Instructions and cache coverage of one filter on one ABI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AbiCost {
    pub arch: Arch,
    /// Syscall numbers of the ABI's table range.
    pub syscalls: usize,
    /// Served by the kernel's action cache (predicted).
    pub cached: usize,
    /// Most instructions any syscall of the ABI runs.
    pub worst: u32,
    /// Weighted mean over the weights' syscalls of this ABI of the
    /// instructions run, cached ones counting 0 (`None`: no weight here),
    /// to 6 decimals.
    pub hot_mean: Option<f64>,
    /// The same mean as if no cache served anything (a kernel without
    /// `CONFIG_SECCOMP_CACHE`, or this filter under a newer one).
    pub hot_mean_uncached: Option<f64>,
}

/// Cost of a filter: size and per-ABI figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cost {
    pub instructions: usize,
    pub abis: Vec<AbiCost>,
}

/// What `p` costs on `geometry`'s ABIs for `weights` (longest path over
/// arguments, as `cost::per_syscall`).
pub fn cost(p: &ValidProgram, geometry: CacheGeometry, weights: &Weights) -> Result<Cost, OptimizeError> {
    let t = CostTable::compute(&[p], geometry)?;
    let mut abis = Vec::new();
    for s in &t.summaries {
        let ws: Vec<(Arch, u32, f64)> = weights.points.iter().filter(|w| w.0 == s.arch).copied().collect();
        let hot_mean = t.weighted_mean(&ws).map(|(_, hi)| hi);
        let mut num = 0.0;
        let mut den = 0.0;
        for &(arch, nr, w) in &ws {
            if t.get(arch, nr).is_some() {
                num += w * path_bounds(p, arch.audit_arch(), nr)?.max as f64;
                den += w;
            }
        }
        abis.push(AbiCost {
            arch: s.arch,
            syscalls: s.syscalls,
            cached: s.cached,
            worst: t.entries.iter().filter(|e| e.arch == s.arch).map(|e| e.max).max().unwrap_or(0),
            hot_mean: hot_mean.map(micro),
            hot_mean_uncached: (den > 0.0).then(|| micro(num / den)),
        });
    }
    Ok(Cost { instructions: p.len(), abis })
}

/// A weighted mean rounded to 6 decimals: the sums are floating point, and
/// `3.000000000000001` would claim a precision no input has.
fn micro(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub mod verify;
pub use verify::{kernel_check, KernelCheck};
