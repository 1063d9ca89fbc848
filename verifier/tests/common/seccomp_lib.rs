//! Filters compiled by the real libseccomp (the `libseccomp` crate links the
//! system's libseccomp 2.5).

use super::docker_like;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use seccheck::bpf::{decode, validate, ByteOrder, ValidProgram};
use std::io::{Read, Seek};

/// One rule: action, syscall name, argument comparisons (ANDed).
pub type Rule = (ScmpAction, &'static str, Vec<ScmpArgCompare>);

/// Compile `rules` for `arches` with `default`, at libseccomp optimisation level
/// `optimize` (1 = linear priority order, 2 = binary tree).
pub fn compile(arches: &[ScmpArch], default: ScmpAction, rules: &[Rule], optimize: u32) -> ValidProgram {
    let mut ctx = ScmpFilterContext::new(default).expect("seccomp_init");
    ctx.remove_arch(ScmpArch::native()).expect("remove native arch");
    for &a in arches {
        ctx.add_arch(a).expect("add arch");
    }
    ctx.set_ctl_optimize(optimize).expect("optimize level");
    for (action, name, args) in rules {
        let Ok(sc) = ScmpSyscall::from_name(name) else { continue };
        let r = if args.is_empty() { ctx.add_rule(*action, sc) } else { ctx.add_rule_conditional(*action, sc, args) };
        // A syscall missing on one of the arches is skipped there by libseccomp;
        // one missing everywhere errors, as in runc, and is left out.
        let _ = r;
    }
    let mut f = tempfile::tempfile().expect("tempfile");
    ctx.export_bpf(&f).expect("seccomp_export_bpf");
    f.rewind().unwrap();
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    // libseccomp writes the filter in the byte order of its arches.
    let big = arches.iter().any(|a| {
        matches!(
            a,
            ScmpArch::S390X
                | ScmpArch::S390
                | ScmpArch::Ppc64
                | ScmpArch::Ppc
                | ScmpArch::Mips
                | ScmpArch::Mips64
                | ScmpArch::Mips64N32
                | ScmpArch::Parisc
                | ScmpArch::Parisc64
        )
    });
    let order = if big { ByteOrder::Big } else { ByteOrder::Little };
    validate(&decode(&bytes, order).expect("decodes")).expect("libseccomp output validates")
}

pub fn x86_trio() -> Vec<ScmpArch> {
    vec![ScmpArch::X8664, ScmpArch::X32, ScmpArch::X86]
}

/// Rules using every comparison operator on both halves of 64-bit arguments.
pub fn every_comparison() -> Vec<Rule> {
    use ScmpCompareOp::*;
    let c = |arg, op, v| ScmpArgCompare::new(arg, op, v);
    vec![
        (ScmpAction::Allow, "read", vec![]),
        (ScmpAction::Allow, "write", vec![c(0, LessOrEqual, 2)]),
        (ScmpAction::Allow, "close", vec![c(0, Greater, 0x1_0000_0002)]),
        (ScmpAction::Errno(9), "close", vec![c(0, Less, 3)]),
        (ScmpAction::Allow, "openat", vec![c(2, MaskedEqual(3), 0)]),
        (ScmpAction::Errno(13), "openat", vec![c(2, MaskedEqual(3), 1)]),
        (ScmpAction::Allow, "mmap", vec![c(2, MaskedEqual(0xffff_ffff_0000_0004), 0), c(3, NotEqual, 0x20)]),
        (ScmpAction::Allow, "ioctl", vec![c(1, Equal, 0x5401)]),
        (ScmpAction::Allow, "ioctl", vec![c(1, Equal, 0x8000_0000_0000_5413)]),
        (ScmpAction::Trap, "kill", vec![c(1, GreaterEqual, 0x1_0000_0000)]),
        (ScmpAction::Log, "getpid", vec![]),
        (ScmpAction::Trace(7), "ptrace", vec![]),
        (ScmpAction::KillThread, "execve", vec![]),
        (ScmpAction::Allow, "futex", vec![c(1, MaskedEqual(0x7f), 0), c(5, Less, 10)]),
    ]
}

/// The Docker-like policy (see `docker_like.rs`).
pub fn docker_like_rules() -> Vec<Rule> {
    let mut rules: Vec<Rule> = docker_like::ALLOW.iter().map(|&n| (ScmpAction::Allow, n, vec![])).collect();
    for &(name, arg, op, datum, mask) in docker_like::ARG_RULES {
        let op = match op {
            "LT" => ScmpCompareOp::Less,
            "EQ" => ScmpCompareOp::Equal,
            "GT" => ScmpCompareOp::Greater,
            "MASKED_EQ" => ScmpCompareOp::MaskedEqual(mask),
            other => panic!("op {other}"),
        };
        rules.push((ScmpAction::Allow, name, vec![ScmpArgCompare::new(arg, op, datum)]));
    }
    for &n in docker_like::ERRNO_38 {
        rules.push((ScmpAction::Errno(38), n, vec![]));
    }
    rules
}

pub fn docker_like(optimize: u32) -> ValidProgram {
    compile(&x86_trio(), ScmpAction::Errno(docker_like::DEFAULT_ERRNO as i32), &docker_like_rules(), optimize)
}
