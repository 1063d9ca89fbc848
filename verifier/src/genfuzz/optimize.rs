//! `seccheck optimize` as a generator under the same campaign as the real
//! ones: random seccompiler JSON is compiled by seccompiler, then recompiled
//! by our optimiser *without* its proof (`optimize::compile`), and the
//! campaign compares the result with the JSON's documented meaning
//! ([`super::seccompiler`]'s model) exactly, as it does seccompiler's own
//! output. A divergence that seccompiler's output shares is seccompiler's
//! known issue (the optimiser keeps the meaning it is given); any other is a
//! bug in the optimiser that the proof in `optimize::optimize` would have
//! refused to hand out.

use super::seccompiler::{SeccompilerCase, SeccompilerCompiler};
use super::{valid, Compiled, Compiler, Limits, NotCompiled, Refusal, Slow, GENFUZZ_NODE_LIMIT};
use crate::arch::Arch;
use crate::optimize::{compile, OptimizeError, OptimizeOptions};
use crate::seccomp::SeccompData;

/// seccompiler, then `seccheck optimize`'s compiler.
pub struct SeccheckOptimizeCompiler;

impl Compiler<SeccompilerCase> for SeccheckOptimizeCompiler {
    fn name(&self) -> String {
        "seccheck-optimize".into()
    }
    fn generator(&self) -> String {
        format!("seccheck {} optimize (unproven) of {}", env!("CARGO_PKG_VERSION"), SeccompilerCompiler.generator())
    }
    fn compile(&self, case: &SeccompilerCase, limits: Limits) -> Result<Compiled, NotCompiled> {
        let input = SeccompilerCompiler.compile(case, limits)?;
        let host = if case.target == Arch::Aarch64 { Arch::Aarch64 } else { Arch::X86_64 };
        let mut opts = OptimizeOptions::for_host(host).expect("x86_64 and aarch64 geometries are known");
        // The campaign's budget, not `seccheck optimize`'s (4 Mi nodes, and
        // 256 steps per node: a minute or more on a filter that needs it
        // all): a meaning too large for the exact comparison is not first
        // analysed at four times its cost to be refused anyway.
        opts.symbolic.node_limit = GENFUZZ_NODE_LIMIT;
        let start = std::time::Instant::now();
        let (p, _) = compile(&input.program, &opts).map_err(|e| match e {
            OptimizeError::Symbolic(crate::symbolic::SymbolicError::NodeLimit { .. }) | OptimizeError::TooLarge(_) => {
                Refusal(format!("optimize: the meaning is too large to compile within {GENFUZZ_NODE_LIMIT} nodes"))
            }
            e => Refusal(format!("optimize: {e}")),
        })?;
        Ok(Compiled { program: valid(p)?, slow: Slow::of(start.elapsed(), None) })
    }
    fn reproducer(&self, file: &str, case: &SeccompilerCase, d: &SeccompData) -> String {
        format!(
            "seccheck optimize {file} --filter main --no-kernel -o opt.bpf && {}",
            SeccompilerCompiler.reproducer("opt.bpf", case, d).replace(" --filter main", "")
        )
    }
    fn timing_command(&self, file: &str, case: &SeccompilerCase) -> String {
        format!("time seccheck optimize {file} --filter main --host-arch {} --no-kernel -o opt.bpf", case.target.name())
    }
}

/// The seccompiler campaign with the optimiser's output compared too.
pub fn campaign() -> super::Campaign<SeccompilerCase> {
    super::Campaign {
        generate: super::seccompiler::generate_shaped,
        shape: Default::default(),
        targets: super::seccompiler::TARGETS.to_vec(),
        multi_arch: false,
        shard: Default::default(),
        cases: None,
        compilers: vec![Box::new(SeccheckOptimizeCompiler)],
        known: super::seccompiler::known,
        shared_rule_stage: false,
    }
}
