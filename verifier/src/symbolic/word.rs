//! Symbolic 32-bit words: a constant, or 32 BDDs (one per bit) over the inputs.
//!
//! The arithmetic mirrors the kernel's 32-bit classic-BPF ALU exactly as
//! [`crate::bpf::semantics::alu`] does (wrapping `ADD`/`SUB`/`MUL`, unsigned `DIV`, shifts
//! by `X & 31`), built as circuits of BDD operations: ripple-carry adders,
//! shift-and-add multiplication by a constant, restoring division by a constant,
//! a barrel shifter for shifts by a symbolic amount. Comparisons follow
//! [`crate::bpf::semantics::jump`] (unsigned `>`/`>=`/`==`, `JSET` = `a & b != 0`).
//!
//! The common case — "a loaded word, masked or shifted, compared to a constant"
//! — is a word whose bits are constants or single literals whose levels grow as
//! significance falls ([`Word::is_simple`]). Comparing such a word with a
//! constant builds the result chain bottom-up with `mk` alone: at most 32 node
//! look-ups and no `apply` at all.

use super::bdd::{Bdd, Manager};
use crate::bpf::insn::*;
use std::rc::Rc;

/// The 32 bit functions of a symbolic word, bit 0 least significant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bits {
    pub bit: [Bdd; 32],
    /// Every bit is a constant or a literal, and literal levels strictly increase
    /// from bit 31 down to bit 0.
    pub simple: bool,
}

/// A symbolic 32-bit value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    Const(u32),
    Bits(Rc<Bits>),
}

/// A comparison that can't be done exactly (both operands input-dependent in an
/// operation we refuse to expand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

impl Word {
    pub fn from_bits(m: &Manager, bit: [Bdd; 32]) -> Word {
        if bit.iter().all(|b| b.is_const()) {
            return Word::Const(bit.iter().enumerate().fold(0u32, |v, (i, b)| v | (b.is_true() as u32) << i));
        }
        let mut simple = true;
        let mut last_level = u32::MAX; // level of the previous (less significant) literal
        for b in bit.iter() {
            if b.is_const() {
                continue;
            }
            match m.as_literal(*b) {
                Some((l, _)) if l < last_level => last_level = l,
                _ => {
                    simple = false;
                    break;
                }
            }
        }
        Word::Bits(Rc::new(Bits { bit, simple }))
    }

    /// The bits of this word (constants expanded).
    pub fn bits(&self) -> [Bdd; 32] {
        match self {
            Word::Const(c) => std::array::from_fn(|i| Manager::constant(c >> i & 1 == 1)),
            Word::Bits(b) => b.bit,
        }
    }

    pub fn as_const(&self) -> Option<u32> {
        match self {
            Word::Const(c) => Some(*c),
            Word::Bits(_) => None,
        }
    }

    pub fn is_simple(&self) -> bool {
        match self {
            Word::Const(_) => true,
            Word::Bits(b) => b.simple,
        }
    }

    /// The word whose bits are the variables at `levels[i]` for bit `i`.
    pub fn from_levels(m: &mut Manager, level_of_bit: impl Fn(u32) -> u32) -> Word {
        let bit = std::array::from_fn(|i| m.var(level_of_bit(i as u32)));
        Word::from_bits(m, bit)
    }
}

/// `a op k` for an ALU op with a constant operand (`op` is `BPF_OP(code)`).
/// `DIV` by 0 never reaches here (validation refuses `DIV K 0`; `DIV X` with
/// `X == 0` is split off by the evaluator).
pub fn alu_k(m: &mut Manager, op: u16, a: &Word, k: u32) -> Word {
    if let Word::Const(c) = a {
        return Word::Const(crate::bpf::semantics::alu_valid(op, *c, k));
    }
    let b = a.bits();
    let out: [Bdd; 32] = match op {
        BPF_AND => std::array::from_fn(|i| if k >> i & 1 == 1 { b[i] } else { Bdd::FALSE }),
        BPF_OR => std::array::from_fn(|i| if k >> i & 1 == 1 { Bdd::TRUE } else { b[i] }),
        BPF_XOR => {
            let mut o = b;
            for (i, bit) in o.iter_mut().enumerate() {
                if k >> i & 1 == 1 {
                    *bit = m.not(*bit);
                }
            }
            o
        }
        // bpf_check_classic refuses constant shifts >= 32; `& 31` mirrors the
        // kernel for the X case and is a no-op here.
        BPF_LSH => shl(&b, k & 31),
        BPF_RSH => shr(&b, k & 31),
        BPF_ADD => add(m, &b, &const_bits(k), Bdd::FALSE),
        BPF_SUB => add(m, &b, &const_bits(!k), Bdd::TRUE),
        BPF_MUL => mul_k(m, &b, k),
        BPF_DIV => {
            if k.is_power_of_two() {
                shr(&b, k.trailing_zeros())
            } else {
                div_k(m, &b, k)
            }
        }
        _ => unreachable!("ALU op {op:#x} is not in the validated seccomp subset"),
    };
    Word::from_bits(m, out)
}

/// `a op x` for an ALU op with the X operand. `DIV` by an `X` that may be 0 is
/// split off by the caller, so `x` here is nonzero wherever it matters.
pub fn alu_x(m: &mut Manager, op: u16, a: &Word, x: &Word) -> Result<Word, Unsupported> {
    if let Word::Const(k) = x {
        if op == BPF_DIV && *k == 0 {
            // Only reachable for inputs already sent to the divide-by-zero exit.
            return Ok(Word::Const(0));
        }
        return Ok(alu_k(m, op, a, *k));
    }
    if let Word::Const(c) = a {
        match op {
            // commutative: constant operand on the left is fine
            BPF_ADD | BPF_MUL | BPF_AND | BPF_OR | BPF_XOR => return Ok(alu_k(m, op, x, *c)),
            BPF_DIV if *c == 0 => return Ok(Word::Const(0)),
            _ => {}
        }
    }
    let (a, x) = (a.bits(), x.bits());
    let out: [Bdd; 32] = match op {
        BPF_AND => std::array::from_fn(|i| m.and(a[i], x[i])),
        BPF_OR => std::array::from_fn(|i| m.or(a[i], x[i])),
        BPF_XOR => std::array::from_fn(|i| m.xor(a[i], x[i])),
        BPF_ADD => add(m, &a, &x, Bdd::FALSE),
        BPF_SUB => {
            let nx: [Bdd; 32] = std::array::from_fn(|i| m.not(x[i]));
            add(m, &a, &nx, Bdd::TRUE)
        }
        // Shift amount is X & 31 (kernel/bpf/core.c masks register shifts; the
        // x86-64 JIT's shl/shr r32, cl does the same): only X's low 5 bits matter.
        BPF_LSH | BPF_RSH => {
            let mut w = a;
            for s in 0..5 {
                let by = 1u32 << s;
                let shifted = if op == BPF_LSH { shl(&w, by) } else { shr(&w, by) };
                let sel = x[s as usize];
                w = std::array::from_fn(|i| m.ite(sel, shifted[i], w[i]));
            }
            w
        }
        BPF_MUL => return Err(Unsupported("MUL of two input-dependent words")),
        BPF_DIV => return Err(Unsupported("DIV of an input-dependent word by an input-dependent X")),
        _ => unreachable!("ALU op {op:#x} is not in the validated seccomp subset"),
    };
    Ok(Word::from_bits(m, out))
}

/// `-a` (BPF_NEG), two's complement.
pub fn neg(m: &mut Manager, a: &Word) -> Word {
    if let Word::Const(c) = a {
        return Word::Const(c.wrapping_neg());
    }
    let b = a.bits();
    let nb: [Bdd; 32] = std::array::from_fn(|i| m.not(b[i]));
    let out = add(m, &nb, &const_bits(0), Bdd::TRUE);
    Word::from_bits(m, out)
}

fn const_bits(k: u32) -> [Bdd; 32] {
    std::array::from_fn(|i| Manager::constant(k >> i & 1 == 1))
}

fn shl(b: &[Bdd; 32], s: u32) -> [Bdd; 32] {
    std::array::from_fn(|i| if (i as u32) < s { Bdd::FALSE } else { b[i - s as usize] })
}

fn shr(b: &[Bdd; 32], s: u32) -> [Bdd; 32] {
    std::array::from_fn(|i| if i as u32 + s > 31 { Bdd::FALSE } else { b[i + s as usize] })
}

/// Ripple-carry `a + b + cin` modulo 2^32.
fn add(m: &mut Manager, a: &[Bdd; 32], b: &[Bdd; 32], cin: Bdd) -> [Bdd; 32] {
    let mut c = cin;
    let mut out = [Bdd::FALSE; 32];
    for i in 0..32 {
        let t = m.xor(a[i], b[i]);
        out[i] = m.xor(t, c);
        if i < 31 {
            // carry = majority(a, b, c) = a&b | c&(a^b)
            let ab = m.and(a[i], b[i]);
            let ct = m.and(c, t);
            c = m.or(ab, ct);
        }
    }
    out
}

/// `a * k` modulo 2^32 as a sum of shifted copies.
fn mul_k(m: &mut Manager, a: &[Bdd; 32], k: u32) -> [Bdd; 32] {
    let mut acc = const_bits(0);
    for j in 0..32 {
        if k >> j & 1 == 1 {
            let s = shl(a, j);
            acc = add(m, &acc, &s, Bdd::FALSE);
        }
    }
    acc
}

/// Unsigned `a / k` for a constant `k > 0` by restoring division.
fn div_k(m: &mut Manager, a: &[Bdd; 32], k: u32) -> [Bdd; 32] {
    debug_assert!(k > 0);
    // The partial remainder stays below 2k < 2^33.
    const W: usize = 33;
    let kb: [bool; W] = std::array::from_fn(|i| i < 32 && k >> i & 1 == 1);
    let mut r = [Bdd::FALSE; W];
    let mut q = [Bdd::FALSE; 32];
    for i in (0..32).rev() {
        // r = r << 1 | a_i
        for j in (1..W).rev() {
            r[j] = r[j - 1];
        }
        r[0] = a[i];
        // ge = r >= k, computed from the least significant bit up
        let mut ge = Bdd::TRUE;
        for j in 0..W {
            ge = if kb[j] { m.and(r[j], ge) } else { m.or(r[j], ge) };
        }
        q[i] = ge;
        // r = ge ? r - k : r
        let mut c = Bdd::TRUE; // r + !k + 1
        let mut diff = [Bdd::FALSE; W];
        for j in 0..W {
            let nk = Manager::constant(!kb[j]);
            let t = m.xor(r[j], nk);
            diff[j] = m.xor(t, c);
            let ab = m.and(r[j], nk);
            let ct = m.and(c, t);
            c = m.or(ab, ct);
        }
        for j in 0..W {
            r[j] = m.ite(ge, diff[j], r[j]);
        }
    }
    q
}

/// The inputs for which `a op k` holds (`op` is `BPF_OP` of a conditional jump).
pub fn cmp_k(m: &mut Manager, op: u16, a: &Word, k: u32) -> Bdd {
    match a {
        Word::Const(c) => Manager::constant(crate::bpf::semantics::jump(op, *c, k)),
        Word::Bits(b) if b.simple => cmp_simple(m, op, &b.bit, k),
        Word::Bits(b) => {
            let b = &b.bit;
            match op {
                BPF_JEQ => {
                    let mut acc = Bdd::TRUE;
                    for i in (0..32).rev() {
                        acc = if k >> i & 1 == 1 { m.and(acc, b[i]) } else { m.diff(acc, b[i]) };
                    }
                    acc
                }
                BPF_JGT | BPF_JGE => {
                    let mut g = Manager::constant(op == BPF_JGE);
                    for (i, &bi) in b.iter().enumerate() {
                        g = if k >> i & 1 == 1 { m.and(bi, g) } else { m.or(bi, g) };
                    }
                    g
                }
                _ => {
                    let mut acc = Bdd::FALSE;
                    for (i, &bi) in b.iter().enumerate() {
                        if k >> i & 1 == 1 {
                            acc = m.or(acc, bi);
                        }
                    }
                    acc
                }
            }
        }
    }
}

/// [`cmp_k`] for a simple word: the result chain built bottom-up with `mk`.
fn cmp_simple(m: &mut Manager, op: u16, b: &[Bdd; 32], k: u32) -> Bdd {
    let lit = |m: &Manager, f: Bdd| m.as_literal(f);
    match op {
        BPF_JEQ => {
            let mut r = Bdd::TRUE;
            for (i, &bi) in b.iter().enumerate() {
                let ki = k >> i & 1 == 1;
                match lit(m, bi) {
                    None => {
                        if bi.is_true() != ki {
                            return Bdd::FALSE;
                        }
                    }
                    Some((l, pos)) => {
                        // the variable value that makes this bit equal k_i
                        r = if ki == pos { m.mk(l, Bdd::FALSE, r) } else { m.mk(l, r, Bdd::FALSE) };
                    }
                }
            }
            r
        }
        BPF_JGT | BPF_JGE => {
            // g = "bits i..0 of a > (>=) bits i..0 of k"
            let mut g = Manager::constant(op == BPF_JGE);
            for (i, &bi) in b.iter().enumerate() {
                let ki = k >> i & 1 == 1;
                let if_one = if ki { g } else { Bdd::TRUE };
                let if_zero = if ki { Bdd::FALSE } else { g };
                g = match lit(m, bi) {
                    None => {
                        if bi.is_true() {
                            if_one
                        } else {
                            if_zero
                        }
                    }
                    Some((l, true)) => m.mk(l, if_zero, if_one),
                    Some((l, false)) => m.mk(l, if_one, if_zero),
                };
            }
            g
        }
        _ => {
            let mut r = Bdd::FALSE;
            for (i, &bi) in b.iter().enumerate() {
                if k >> i & 1 == 0 {
                    continue;
                }
                r = match lit(m, bi) {
                    None => {
                        if bi.is_true() {
                            Bdd::TRUE
                        } else {
                            r
                        }
                    }
                    Some((l, true)) => m.mk(l, r, Bdd::TRUE),
                    Some((l, false)) => m.mk(l, Bdd::TRUE, r),
                };
            }
            r
        }
    }
}

/// The inputs for which `a op x` holds, both operands symbolic words.
pub fn cmp_x(m: &mut Manager, op: u16, a: &Word, x: &Word) -> Bdd {
    if let Word::Const(k) = x {
        return cmp_k(m, op, a, *k);
    }
    let (a, x) = (a.bits(), x.bits());
    match op {
        BPF_JEQ => {
            let mut acc = Bdd::TRUE;
            for i in (0..32).rev() {
                let d = m.xor(a[i], x[i]);
                acc = m.diff(acc, d);
            }
            acc
        }
        BPF_JGT | BPF_JGE => {
            let mut g = Manager::constant(op == BPF_JGE);
            for i in 0..32 {
                // a_i > x_i → true; a_i < x_i → false; equal → g
                let nx_or_g = {
                    let nx = m.not(x[i]);
                    m.or(nx, g)
                };
                let g_and_nx = m.diff(g, x[i]);
                g = m.ite(a[i], nx_or_g, g_and_nx);
            }
            g
        }
        _ => {
            let mut acc = Bdd::FALSE;
            for i in 0..32 {
                let t = m.and(a[i], x[i]);
                acc = m.or(acc, t);
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Words over 8 input bits (levels 0..8, bit value 7-level): small enough to
    /// check every assignment.
    fn eval_bit(m: &Manager, mut f: Bdd, x: u8) -> bool {
        while !f.is_const() {
            let l = m.level(f);
            f = if x >> (7 - l) & 1 == 1 { m.high(f) } else { m.low(f) };
        }
        f.is_true()
    }
    fn eval_word(m: &Manager, w: &Word, x: u8) -> u32 {
        let b = w.bits();
        (0..32).fold(0, |v, i| v | (eval_bit(m, b[i], x) as u32) << i)
    }

    /// A word from the 8-bit input: `(x * mul) ^ xor`, shifted, plus const — so bits
    /// are arbitrary functions, not only literals.
    fn input_word(m: &mut Manager, shape: u8, k: u32) -> (Word, Box<dyn Fn(u8) -> u32>) {
        let lit = Word::from_levels(m, |i| if i < 8 { 7 - i } else { 0 });
        // bits above 7 of `lit` are all var(0) = the input's bit 7: a sign-extension
        let sext = |x: u8| x as i8 as i32 as u32;
        match shape % 4 {
            0 => (lit, Box::new(sext)),
            1 => (alu_k(m, BPF_AND, &lit, 0xff), Box::new(|x| x as u32)),
            2 => {
                let w = alu_k(m, BPF_MUL, &lit, k | 1);
                (w, Box::new(move |x| sext(x).wrapping_mul(k | 1)))
            }
            _ => {
                let w = alu_k(m, BPF_XOR, &lit, k);
                let w = alu_k(m, BPF_LSH, &w, k % 7);
                (w, Box::new(move |x| (sext(x) ^ k) << (k % 7)))
            }
        }
    }

    const ALU: [u16; 9] = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_XOR];
    const JMP: [u16; 4] = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn alu_and_compare_with_constants_match_the_emulator(
            shape in 0u8..4, k0 in any::<u32>(), op in 0usize..9, k in prop_oneof![any::<u32>(), 0u32..40, Just(0xffff_ffff)], j in 0usize..4,
        ) {
            let mut m = Manager::default();
            let (w, f) = input_word(&mut m, shape, k0);
            let op = ALU[op];
            let k = match op { BPF_DIV if k == 0 => 7, BPF_LSH | BPF_RSH => k & 31, _ => k };
            let r = alu_k(&mut m, op, &w, k);
            let c = cmp_k(&mut m, JMP[j], &r, k0);
            for x in 0..=255u8 {
                let want = crate::bpf::semantics::alu_valid(op, f(x), k);
                prop_assert_eq!(eval_word(&m, &r, x), want);
                prop_assert_eq!(eval_bit(&m, c, x), crate::bpf::semantics::jump(JMP[j], want, k0));
            }
        }

        #[test]
        fn alu_and_compare_between_words_match_the_emulator(
            s1 in 0u8..4, s2 in 0u8..4, k1 in any::<u32>(), k2 in any::<u32>(), op in 0usize..9, j in 0usize..4,
        ) {
            let mut m = Manager::default();
            let (a, fa) = input_word(&mut m, s1, k1);
            let (x, fx) = input_word(&mut m, s2, k2);
            let op = ALU[op];
            let c = cmp_x(&mut m, JMP[j], &a, &x);
            for xv in 0..=255u8 {
                prop_assert_eq!(eval_bit(&m, c, xv), crate::bpf::semantics::jump(JMP[j], fa(xv), fx(xv)));
            }
            match alu_x(&mut m, op, &a, &x) {
                Ok(r) => for xv in 0..=255u8 {
                    prop_assert_eq!(eval_word(&m, &r, xv), crate::bpf::semantics::alu_valid(op, fa(xv), fx(xv)));
                },
                Err(_) => prop_assert!(op == BPF_MUL || op == BPF_DIV),
            }
            let n = neg(&mut m, &a);
            for xv in 0..=255u8 {
                prop_assert_eq!(eval_word(&m, &n, xv), fa(xv).wrapping_neg());
            }
        }
    }

    #[test]
    fn loaded_words_are_simple_and_stay_simple_when_masked_and_shifted() {
        let mut m = Manager::default();
        let w = Word::from_levels(&mut m, |i| 100 - i);
        assert!(w.is_simple());
        let masked = alu_k(&mut m, BPF_AND, &w, 0xf0);
        let w2 = alu_k(&mut m, BPF_RSH, &masked, 4);
        assert!(w2.is_simple());
        let w3 = alu_k(&mut m, BPF_ADD, &w, 1);
        assert!(!w3.is_simple());
        // Simple compare builds a 32-node chain and nothing else.
        let before = m.node_count();
        let eq = cmp_k(&mut m, BPF_JEQ, &w, 0x1234_5678);
        assert_eq!(m.size(eq), 32 + 2);
        assert!(m.node_count() - before <= 32);
    }
}
