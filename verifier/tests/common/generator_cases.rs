//! The policies of `reports/generator-findings.md` L5 and L6 (libseccomp
//! slow to add some rule sets, or never done), shared by the tests that
//! expect them (`crate::common::generator_cases`).
#![allow(dead_code)]

use seccheck::arch::Arch;
use seccheck::genfuzz::libseccomp::{DAction, DArg, DOp, DRule, DockerCase};

fn arg(index: u8, op: DOp, value: u64) -> DArg {
    DArg { index, op, value, value_two: 0 }
}

/// L5: `k` rules comparing ioctl's arg2 with 64-bit values whose high halves
/// differ, then one rule with two range comparisons (`arg0 >= 5 && arg1 >= 5`),
/// which takes libseccomp time growing with about k^6 to add.
pub fn slow_rule_add(k: u64) -> DockerCase {
    let mut rules: Vec<DRule> = (0..k)
        .map(|i| DRule {
            names: vec!["ioctl"],
            action: DAction::Errno(None),
            args: vec![arg(2, DOp::Eq, ((i + 1) << 32) | 7)],
        })
        .collect();
    rules.push(DRule {
        names: vec!["ioctl"],
        action: DAction::KillProcess,
        args: vec![arg(0, DOp::Ge, 5), arg(1, DOp::Ge, 5)],
    });
    DockerCase { default: DAction::Allow, host: Arch::X86_64, arches: vec![], rules }
}

/// L6: adding the second rule never returns (`access`: ALLOW when
/// `arg0 != 5 && arg1 == 5`, ALLOW when `arg2 == 5 && arg0 != 5`; default ERRNO).
pub fn loops_forever() -> DockerCase {
    DockerCase {
        default: DAction::Errno(None),
        host: Arch::X86_64,
        arches: vec![],
        rules: vec![
            DRule { names: vec!["access"], action: DAction::Allow, args: vec![arg(0, DOp::Ne, 5), arg(1, DOp::Eq, 5)] },
            DRule { names: vec!["access"], action: DAction::Allow, args: vec![arg(2, DOp::Eq, 5), arg(0, DOp::Ne, 5)] },
        ],
    }
}
