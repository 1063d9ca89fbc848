//! The 512 input variables and their order.
//!
//! Every bit of `struct seccomp_data` (include/uapi/linux/seccomp.h) is one BDD
//! variable, named by field and bit *value* position — not by byte offset — so a
//! set means the same thing on little- and big-endian arches, and the summary can
//! say `arg0 >= 0x1000` instead of "word 16". Which 32-bit word a `LD W ABS k`
//! reads depends on the arch's byte order (`populate_seccomp_data` in
//! kernel/seccomp.c hands the filter the native in-memory struct); the evaluator
//! resolves that per load, see `eval.rs`.
//!
//! Order (level 0 is tested first):
//!
//! | levels    | field | bits |
//! |-----------|-------|------|
//! | 0..32     | arch  | 31 → 0 |
//! | 32..64    | nr    | 31 → 0 |
//! | 64..448   | arg0 … arg5, 64 levels each | 63 → 0 |
//! | 448..512  | instruction_pointer | 63 → 0 |
//!
//! Why this order: filters decide in the same order — arch first (every generator
//! emits the arch check before anything else), then the syscall number, then
//! arguments. When the BDD order follows the decision order, a filter that is a
//! decision tree becomes a BDD no larger than the tree's distinct subtrees, and
//! the summary can read "per arch, per nr, then argument conditions" straight off
//! the diagram by walking levels. Most significant bit first makes every
//! comparison with a constant (`>`, `>=`, `==`) and every interval a chain of at
//! most one node per bit, and a set of k disjoint intervals at most ~k·w nodes;
//! within a 64-bit argument the high word precedes the low word, matching how
//! libseccomp compares 64-bit values (high half first, then low half), so a 64-bit
//! comparison stays a single chain. The instruction pointer comes last because
//! filters rarely test it, and when they do it is a refinement after nr.

use crate::seccomp::AUDIT_ARCH_LE;
use serde::Serialize;
use std::fmt;

/// Total number of input variables: `sizeof(struct seccomp_data) * 8`.
pub const NUM_VARS: u32 = 512;

/// A field of `struct seccomp_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Field {
    Arch,
    Nr,
    /// `args[i]`, `i < 6`.
    Arg(u8),
    /// `instruction_pointer`.
    Ip,
}

impl Field {
    /// Every field in level order.
    pub const ALL: [Field; 9] = [
        Field::Arch,
        Field::Nr,
        Field::Arg(0),
        Field::Arg(1),
        Field::Arg(2),
        Field::Arg(3),
        Field::Arg(4),
        Field::Arg(5),
        Field::Ip,
    ];

    /// Width in bits.
    pub fn width(self) -> u32 {
        match self {
            Field::Arch | Field::Nr => 32,
            Field::Arg(_) | Field::Ip => 64,
        }
    }

    /// Level of the field's most significant bit.
    pub fn first_level(self) -> u32 {
        match self {
            Field::Arch => 0,
            Field::Nr => 32,
            Field::Arg(i) => 64 + 64 * i as u32,
            Field::Ip => 448,
        }
    }

    /// One past the level of the field's least significant bit.
    pub fn end_level(self) -> u32 {
        self.first_level() + self.width()
    }

    /// The level of bit `bit` (0 = least significant).
    pub fn level(self, bit: u32) -> u32 {
        debug_assert!(bit < self.width());
        self.first_level() + self.width() - 1 - bit
    }

    /// The field a level belongs to and the bit it stands for.
    pub fn of_level(level: u32) -> (Field, u32) {
        let f = match level {
            0..=31 => Field::Arch,
            32..=63 => Field::Nr,
            64..=447 => Field::Arg(((level - 64) / 64) as u8),
            _ => Field::Ip,
        };
        (f, f.end_level() - 1 - level)
    }

    pub fn name(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Arch => f.write_str("arch"),
            Field::Nr => f.write_str("nr"),
            Field::Arg(i) => write!(f, "arg{i}"),
            Field::Ip => f.write_str("ip"),
        }
    }
}

/// The 32 bits a `LD W ABS off` reads, as `(field, lowest bit of the word)`, for
/// a machine of the given byte order (`off` < 64, multiple of 4).
///
/// `struct seccomp_data` is `int nr; __u32 arch; __u64 instruction_pointer;
/// __u64 args[6];` (include/uapi/linux/seccomp.h): on a little-endian machine the
/// low half of a 64-bit field is at the lower offset, on a big-endian one the high
/// half is (the same rule as [`crate::seccomp::SeccompData::word`]).
pub fn word_bits(off: u32, little_endian: bool) -> (Field, u32) {
    match off {
        0 => (Field::Nr, 0),
        4 => (Field::Arch, 0),
        _ => {
            let field = (off - 8) / 8;
            let f = if field == 0 { Field::Ip } else { Field::Arg(field as u8 - 1) };
            let second = (off - 8) % 8 == 4;
            let high = second == little_endian;
            (f, if high { 32 } else { 0 })
        }
    }
}

/// Does the word at `off` depend on the byte order?
pub fn word_depends_on_endianness(off: u32) -> bool {
    off >= 8
}

/// The level of the arch bit that decides byte order (`__AUDIT_ARCH_LE`,
/// include/uapi/linux/audit.h).
pub fn endianness_level() -> u32 {
    Field::Arch.level(AUDIT_ARCH_LE.trailing_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::SeccompData;

    #[test]
    fn levels_round_trip_and_cover_512_bits() {
        let mut seen = vec![false; NUM_VARS as usize];
        for f in Field::ALL {
            for b in 0..f.width() {
                let l = f.level(b);
                assert!(!seen[l as usize]);
                seen[l as usize] = true;
                assert_eq!(Field::of_level(l), (f, b));
            }
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(endianness_level(), 1);
    }

    #[test]
    fn word_bits_agree_with_seccomp_data_word() {
        let d = SeccompData {
            nr: 0x0102_0304,
            arch: 0,
            instruction_pointer: 0x1111_2222_3333_4444,
            args: [0xa0a0_b0b0_c0c0_d0d0, 1 << 40, 3, 4 << 32, 5, 0xffff_0000_0000_ffff],
        };
        for le in [true, false] {
            let d = SeccompData { arch: if le { AUDIT_ARCH_LE } else { 0 }, ..d };
            for off in (0..64).step_by(4) {
                let (f, lo) = word_bits(off, le);
                let v = match f {
                    Field::Nr => d.nr as u64,
                    Field::Arch => d.arch as u64,
                    Field::Ip => d.instruction_pointer,
                    Field::Arg(i) => d.args[i as usize],
                };
                assert_eq!((v >> lo) as u32, d.word(off), "off {off} le {le}");
            }
        }
    }
}
