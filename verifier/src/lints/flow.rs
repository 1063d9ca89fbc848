//! What every register holds before each instruction, as far as the program text
//! alone says: which input words it was computed from, and which of its bits
//! are the same on every path.
//!
//! The symbolic evaluator knows exactly which inputs reach an instruction; this
//! pass answers the questions it does not: *which field* a test looks at (an
//! arch test, a test of `arg1`'s high half), and whether a test's outcome is
//! fixed by the instructions before it regardless of the input (`and #0; jeq
//! #0`). It is a forward pass over the DAG in instruction order
//! (`bpf_check_classic` allows only forward jumps, net/core/filter.c), merging
//! at joins, over the edges some input really takes (edges from the symbolic
//! reach sets), so an unreachable predecessor never blurs a value.
//!
//! Known bits are sound: a bit reported known has that value on every path and
//! for every input. Sources are a set of 32-bit word offsets (`LD W ABS k`,
//! `k / 4`): a value computed from no input word has none.

use crate::bpf::insn::*;
use crate::bpf::semantics::alu_valid as alu;

/// An abstract 32-bit register value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// Bits whose value is known.
    pub known: u32,
    /// Their values (zero outside `known`).
    pub bits: u32,
    /// Input words (bit `i` = the word at offset `4 * i`) the value depends on.
    pub src: u16,
}

impl Value {
    pub const fn konst(c: u32) -> Value {
        Value { known: u32::MAX, bits: c, src: 0 }
    }
    fn word(off: u32) -> Value {
        Value { known: 0, bits: 0, src: 1 << (off / 4) }
    }
    /// The constant, if every bit is known.
    pub fn as_const(self) -> Option<u32> {
        (self.known == u32::MAX).then_some(self.bits)
    }
    fn join(self, o: Value) -> Value {
        let known = self.known & o.known & !(self.bits ^ o.bits);
        Value { known, bits: self.bits & known, src: self.src | o.src }
    }
    fn min(self) -> u32 {
        self.bits
    }
    fn max(self) -> u32 {
        self.bits | !self.known
    }
    /// The single input word offset this value comes from, if exactly one.
    pub fn single_word(self) -> Option<u32> {
        (self.src.count_ones() == 1).then(|| self.src.trailing_zeros() * 4)
    }
}

/// Register state before an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub a: Value,
    pub x: Value,
    pub mem: [Value; BPF_MEMWORDS as usize],
}

impl State {
    fn join(&self, o: &State) -> State {
        State { a: self.a.join(o.a), x: self.x.join(o.x), mem: std::array::from_fn(|i| self.mem[i].join(o.mem[i])) }
    }
}

/// The state before each instruction (`None` where no input arrives).
pub struct Flow {
    pub before: Vec<Option<State>>,
}

/// Run the pass. `edge_taken(pc, target)` says whether some input goes from
/// `pc` to `target`.
pub fn analyze(insns: &[Insn], edge_taken: impl Fn(usize, usize) -> bool) -> Flow {
    let mut before: Vec<Option<State>> = vec![None; insns.len()];
    // bpf_convert_filter (net/core/filter.c) starts with A = X = 0; M[] is
    // never read before a store (seccomp_check_filter via bpf_check_classic's
    // check_load_and_stores), so its start value is never observed.
    before[0] = Some(State { a: Value::konst(0), x: Value::konst(0), mem: [Value::konst(0); BPF_MEMWORDS as usize] });
    for pc in 0..insns.len() {
        let Some(st) = before[pc].clone() else { continue };
        let insn = &insns[pc];
        let out = step(insn, st);
        for t in insn.successors(pc).iter() {
            if t < insns.len() && edge_taken(pc, t) {
                before[t] = Some(match before[t].take() {
                    None => out.clone(),
                    Some(prev) => prev.join(&out),
                });
            }
        }
    }
    Flow { before }
}

fn step(i: &Insn, mut st: State) -> State {
    let c = i.code;
    match i.class() {
        BPF_LD => {
            st.a = match c & 0xe0 {
                BPF_IMM => Value::konst(i.k),
                BPF_ABS => Value::word(i.k),
                BPF_MEM => st.mem[i.k as usize],
                // seccomp_check_filter turns `LD W LEN` into `LD IMM
                // sizeof(struct seccomp_data)`.
                _ => Value::konst(64),
            }
        }
        BPF_LDX => {
            st.x = match c & 0xe0 {
                BPF_IMM => Value::konst(i.k),
                BPF_MEM => st.mem[i.k as usize],
                _ => Value::konst(64),
            }
        }
        BPF_ST => st.mem[i.k as usize] = st.a,
        BPF_STX => st.mem[i.k as usize] = st.x,
        BPF_ALU => {
            let op = c & 0xf0;
            st.a = if op == BPF_NEG {
                match st.a.as_const() {
                    Some(v) => Value { src: st.a.src, ..Value::konst(v.wrapping_neg()) },
                    None => Value { known: 0, bits: 0, src: st.a.src },
                }
            } else {
                let b = if c & BPF_X != 0 { st.x } else { Value::konst(i.k) };
                alu_abs(op, st.a, b)
            };
        }
        BPF_MISC => {
            if c & 0xf8 == BPF_TXA {
                st.a = st.x;
            } else {
                st.x = st.a;
            }
        }
        _ => {}
    }
    st
}

fn alu_abs(op: u16, a: Value, b: Value) -> Value {
    let src = a.src | b.src;
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        if !(op == BPF_DIV && y == 0) {
            return Value { src, ..Value::konst(alu(op, x, y)) };
        }
    }
    let (known, bits) = match (op, b.as_const()) {
        (BPF_AND, _) => {
            // a bit is known 0 if known 0 on either side, known 1 if known 1 on both
            let zero = (a.known & !a.bits) | (b.known & !b.bits);
            let one = a.known & a.bits & b.known & b.bits;
            (zero | one, one)
        }
        (BPF_OR, _) => {
            let one = (a.known & a.bits) | (b.known & b.bits);
            let zero = a.known & !a.bits & b.known & !b.bits;
            (zero | one, one)
        }
        (BPF_XOR, _) => {
            let known = a.known & b.known;
            (known, (a.bits ^ b.bits) & known)
        }
        (BPF_LSH, Some(s)) => {
            let s = s & 31;
            ((a.known << s) | ((1u32 << s) - 1), a.bits << s)
        }
        (BPF_RSH, Some(s)) => {
            let s = s & 31;
            ((a.known >> s) | !(u32::MAX >> s), a.bits >> s)
        }
        _ => (0, 0),
    };
    Value { known, bits: bits & known, src }
}

/// The outcome of a conditional jump `A op operand`, if the known bits fix it.
pub fn decided(op: u16, a: Value, b: Value) -> Option<bool> {
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        return Some(crate::bpf::semantics::jump(op, x, y));
    }
    let k = b.as_const()?;
    match op {
        BPF_JEQ => {
            if (k ^ a.bits) & a.known != 0 {
                Some(false)
            } else {
                None
            }
        }
        BPF_JGT => {
            if a.min() > k {
                Some(true)
            } else if a.max() <= k {
                Some(false)
            } else {
                None
            }
        }
        BPF_JGE => {
            if a.min() >= k {
                Some(true)
            } else if a.max() < k {
                Some(false)
            } else {
                None
            }
        }
        _ => {
            // JSET: a & k != 0
            if k & a.known & a.bits != 0 {
                Some(true)
            } else if k & !(a.known & !a.bits) == 0 {
                Some(false)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_zero_fixes_the_test() {
        let w = Value::word(20);
        let z = alu_abs(BPF_AND, w, Value::konst(0));
        assert_eq!((z.as_const(), z.single_word()), (Some(0), Some(20)));
        assert_eq!(decided(BPF_JEQ, z, Value::konst(0)), Some(true));
        let m = alu_abs(BPF_AND, w, Value::konst(0xff));
        assert_eq!(decided(BPF_JEQ, m, Value::konst(0x100)), Some(false));
        assert_eq!(decided(BPF_JEQ, m, Value::konst(0x10)), None);
        assert_eq!(decided(BPF_JGT, m, Value::konst(0xff)), Some(false));
        assert_eq!(decided(BPF_JGE, w, Value::konst(0)), Some(true));
        assert_eq!(decided(BPF_JSET, m, Value::konst(0xff00)), Some(false));
        let o = alu_abs(BPF_OR, w, Value::konst(1));
        assert_eq!(decided(BPF_JSET, o, Value::konst(1)), Some(true));
        let s = alu_abs(BPF_RSH, w, Value::konst(28));
        assert_eq!(decided(BPF_JGT, s, Value::konst(15)), Some(false));
    }

    #[test]
    fn joins_keep_only_agreeing_bits() {
        let a = Value::konst(0b1100);
        let b = Value::konst(0b1010);
        let j = a.join(b);
        assert_eq!((j.known & 0xf, j.bits & 0xf), (0b1001, 0b1000));
    }
}
