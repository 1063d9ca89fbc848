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
use super::{valid, Compiled, Compiler, Limits, NotCompiled, Refusal, Slow};
use crate::arch::Arch;
use crate::optimize::{compile, OptimizeOptions};
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
        let opts = OptimizeOptions::for_host(host).expect("x86_64 and aarch64 geometries are known");
        let start = std::time::Instant::now();
        let (p, _) = compile(&input.program, &opts).map_err(|e| Refusal(format!("optimize: {e}")))?;
        Ok(Compiled { program: valid(p)?, slow: Slow::of(start.elapsed(), None) })
    }
    fn reproducer(&self, file: &str, d: &SeccompData) -> String {
        format!(
            "seccheck optimize {file} --filter main --no-kernel -o opt.bpf && {}",
            SeccompilerCompiler.reproducer("opt.bpf", d).replace(" --filter main", "")
        )
    }
    fn timing_command(&self, file: &str, case: &SeccompilerCase) -> String {
        format!("time seccheck optimize {file} --filter main --host-arch {} --no-kernel -o opt.bpf", case.target.name())
    }
}

/// The seccompiler campaign with the optimiser's output compared too.
pub fn campaign() -> super::Campaign<SeccompilerCase> {
    super::Campaign {
        generate: super::seccompiler::generate,
        compilers: vec![Box::new(SeccheckOptimizeCompiler)],
        known: super::seccompiler::known,
        shared_rule_stage: false,
    }
}
