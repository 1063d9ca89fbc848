//! SC012 `garbled-return-value`: a return value that looks like a generator's byte-order or copy error.
//!
//! ### What it does
//!
//! Looks at every return value some input gets (`RET K`, and each value of a
//! `RET A`) and reports two shapes no filter author writes on purpose:
//! `KILL_THREAD` or `KILL_PROCESS` with data bits set, and an action value
//! the kernel does not know whose bytes, read the other way round, are a
//! well-formed action (`0x01000500` is `ERRNO(1)`, `0x00050001`, reversed).
//! Each finding names the action the bytes would mean the other way round.
//!
//! ### Why is this bad
//!
//! `__seccomp_filter` (kernel/seccomp.c) takes the action from the top 16
//! bits and ignores the data of the kill actions, so `ret #0xff7f` kills the
//! thread exactly as `ret #0` does; and any action value it does not know
//! kills the process (its `default:` case). Nobody writes either: they are
//! what a generator emits when it writes a constant in the wrong byte order
//! (`SECCOMP_RET_ALLOW`, `0x7fff0000`, stored little-endian and read
//! big-endian is `0x0000ff7f`, a `KILL_THREAD`) or copies a return
//! instruction with the wrong operand. The filter then kills where its
//! policy allows, or answers with the wrong action, and looks plausible in a
//! disassembly.
//!
//! ### Example
//!
//! ```text
//! ret #0x0000ff7f    ; KILL_THREAD with data 0xff7f: ALLOW (0x7fff0000) byte-swapped
//! ret #0x01000500    ; unknown action 0x01000000: ERRNO(1) (0x00050001) byte-swapped
//! ```
//!
//! Check the generator's byte order (`seccomp_export_bpf` writes the host's
//! `struct sock_filter`s) and the instruction it copied.

use super::{finding, LintContext};
use crate::finding::{Finding, Severity};
use crate::seccomp::{Action, MAX_ERRNO, SECCOMP_RET_DATA};

pub const CODE: &str = "SC012";
pub const NAME: &str = "garbled-return-value";

/// The well-formed action `ret` is, if any: a known action whose data is
/// zero where the kernel ignores it, and an errno in `1..=MAX_ERRNO`.
fn well_formed(ret: u32) -> Option<Action> {
    let data = ret & SECCOMP_RET_DATA;
    let a = Action::from_ret(ret);
    let ok = match a {
        Action::Unknown(_) => false,
        Action::Errno(_) => (1..=MAX_ERRNO).contains(&data),
        Action::Trap(_) | Action::Trace(_) => true,
        _ => data == 0,
    };
    ok.then_some(a)
}

/// Why `ret` looks garbled, naming what its bytes reversed would mean; `None`
/// when it does not.
pub fn garbled(ret: u32) -> Option<String> {
    let a = Action::from_ret(ret);
    let data = ret & SECCOMP_RET_DATA;
    let swapped = well_formed(ret.swap_bytes()).filter(|_| ret.swap_bytes() != ret);
    let other_way = |s: Action| format!("byte-swapped it is {:#010x}, {}", ret.swap_bytes(), action_text(s));
    match a {
        Action::KillThread | Action::KillProcess if data != 0 => Some(match swapped {
            Some(s) => format!("{} with data {data:#x} (the kernel ignores a kill's data); {}", a.name(), other_way(s)),
            None => format!("{} with data {data:#x} (the kernel ignores a kill's data)", a.name()),
        }),
        Action::Unknown(v) => {
            swapped.map(|s| format!("unknown action {v:#010x} (the kernel kills the process); {}", other_way(s)))
        }
        _ => None,
    }
}

fn action_text(a: Action) -> String {
    match a.data() {
        Some(d) => format!("{}({d})", a.name()),
        None => a.name().to_string(),
    }
}

pub fn check(cx: &LintContext) -> Vec<Finding> {
    let exits: Vec<_> = cx.analysis().exits().iter().map(|e| (e.insn, e.ret, e.inputs())).collect();
    let mut out = Vec::new();
    for (insn, ret, inputs) in exits {
        let Some(why) = garbled(ret) else { continue };
        out.push(finding(
            CODE,
            NAME,
            Severity::Warning,
            format!("insn {insn} returns {ret:#010x}: {why}; likely a generator's byte-order or copy error"),
            vec![insn],
            cx.counterexample(inputs),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_data_and_swapped_actions_are_named_the_other_way_round() {
        assert_eq!(
            garbled(0x0000_ff7f).unwrap(),
            "KILL_THREAD with data 0xff7f (the kernel ignores a kill's data); byte-swapped it is 0x7fff0000, ALLOW"
        );
        assert_eq!(
            garbled(0x0100_0500).unwrap(),
            "unknown action 0x01000000 (the kernel kills the process); byte-swapped it is 0x00050001, ERRNO(1)"
        );
        assert_eq!(garbled(0x8000_0007).unwrap(), "KILL_PROCESS with data 0x7 (the kernel ignores a kill's data)");
        assert_eq!(
            garbled(0x0000_0080).unwrap(),
            "KILL_THREAD with data 0x80 (the kernel ignores a kill's data); byte-swapped it is 0x80000000, KILL_PROCESS"
        );
        // Well-formed values, and unknown ones that mean nothing reversed.
        for ok in [0, 0x8000_0000, 0x7fff_0000, 0x0005_0001, 0x0005_0000, 0x7ff0_0005, 0x7fc0_0000, 0x1234_0000] {
            assert_eq!(garbled(ok), None, "{ok:#x}");
        }
    }
}
