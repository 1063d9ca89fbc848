//! Heuristics that recognise known generator issues in a diverging program
//! (used by the generators' `known` classifiers).

use crate::arch::Arch;
use crate::bpf::validate::ValidProgram;
use crate::emu::Emulator;
use crate::seccomp::{Action, SeccompData};

/// masked comparison) and execute, for `d`, with it holding a different
/// input word (or a computed value) than on another path into the same
/// instruction: the comparison then tests a word it was not written for.
/// Returns the first such instruction on `d`'s path.
///
/// A forward pass over the program DAG records, per instruction, which
/// `LD W ABS` offsets the accumulator may come from (`None`: not a plain
/// load, e.g. after ALU). Used to recognise a known libseccomp issue.
pub fn jump_with_mixed_accumulator(p: &ValidProgram, d: &SeccompData) -> Option<usize> {
    use crate::bpf::insn::*;
    let insns = p.insns();
    let mut src: Vec<Vec<Option<u32>>> = vec![Vec::new(); insns.len() + 1];
    let mut reached = vec![false; insns.len()];
    if !insns.is_empty() {
        reached[0] = true;
        src[0].push(None);
    }
    for pc in 0..insns.len() {
        if !reached[pc] {
            continue;
        }
        let i = insns[pc];
        let out: Vec<Option<u32>> = if i.code == BPF_LD | BPF_W | BPF_ABS {
            vec![Some(i.k)]
        } else if matches!(i.class(), BPF_LD | BPF_ALU) || i.code == BPF_MISC | BPF_TXA {
            vec![None]
        } else {
            src[pc].clone()
        };
        for t in i.successors(pc).iter() {
            if t < insns.len() {
                reached[t] = true;
                for o in &out {
                    if !src[t].contains(o) {
                        src[t].push(*o);
                    }
                }
            }
        }
    }
    let path = Emulator::new(p).trace(d).path;
    let reads_a = |i: crate::bpf::Insn| i.is_cond_jump() || i.class() == BPF_ALU;
    path.into_iter().find(|&pc| reads_a(insns[pc]) && src[pc].len() > 1 && src[pc].iter().any(|o| o.is_some()))
}

/// A `JEQ K` on `d`'s path that compares the arch word (`ld [4]`, reloaded
/// nowhere since) with a value that is no `AUDIT_ARCH_*`, or again after an
/// earlier `JEQ` on it matched (its value is then known, so a generator meant
/// another word: libseccomp's nr test, whose value can happen to be an
/// `AUDIT_ARCH_*` too, e.g. aarch64's nr 20 = `AUDIT_ARCH_PPC`). Used to
/// recognise a known libseccomp issue.
pub fn arch_word_compared_with_non_arch(p: &ValidProgram, d: &SeccompData) -> Option<usize> {
    use crate::bpf::insn::*;
    let insns = p.insns();
    let path = Emulator::new(p).trace(d).path;
    let (mut a_is_arch, mut matched) = (false, false);
    for (n, &pc) in path.iter().enumerate() {
        let i = insns[pc];
        if i.class() == BPF_LD || i.class() == BPF_ALU || i.code == BPF_MISC | BPF_TXA {
            a_is_arch = i.code == BPF_LD | BPF_W | BPF_ABS && i.k == 4;
            matched = false;
        } else if a_is_arch && i.code == BPF_JMP | BPF_JEQ | BPF_K {
            if matched || Arch::audit_name_of(i.k).is_none() {
                return Some(pc);
            }
            let taken = path.get(n + 1) == Some(&(pc + 1 + usize::from(i.jt)));
            matched = taken && i.jt != i.jf;
        }
    }
    None
}

/// The `RET K` that ends `d`'s path, when its constant, as it stands, is not
/// `want` but with its four bytes reversed is: the generator wrote that one
/// constant in the other byte order. Returns the `RET`'s index. Used to
/// recognise a known libseccomp issue (a return duplicated near a far jump,
/// its constant converted to the filter's byte order twice).
pub fn ret_constant_byte_swapped(p: &ValidProgram, d: &SeccompData, want: Action) -> Option<usize> {
    use crate::bpf::insn::*;
    let pc = *Emulator::new(p).trace(d).path.last()?;
    let i = p.insns()[pc];
    let swapped =
        i.code == BPF_RET | BPF_K && Action::from_ret(i.k) != want && Action::from_ret(i.k.swap_bytes()) == want;
    swapped.then_some(pc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use crate::bpf::{validate, Insn, Program};

    fn data(nr: u32) -> SeccompData {
        SeccompData { nr, arch: Arch::Ppc64.audit_arch(), instruction_pointer: 0, args: [0; 6] }
    }

    #[test]
    fn finds_a_return_constant_in_the_other_byte_order() {
        // nr 250 returns ALLOW written byte-swapped (0x0000ff7f, which the
        // kernel reads as KILL_THREAD); nr 3 returns ALLOW as it should.
        let p = validate(&Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 250, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x0000_ff7f),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]))
        .unwrap();
        assert_eq!(ret_constant_byte_swapped(&p, &data(250), Action::Allow), Some(2));
        assert_eq!(ret_constant_byte_swapped(&p, &data(3), Action::Allow), None);
        assert_eq!(ret_constant_byte_swapped(&p, &data(250), Action::Log), None);
    }
}
