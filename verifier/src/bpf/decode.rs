//! Total decoding of raw `struct sock_filter` arrays.
//!
//! Decoding only splits bytes into instructions; whether the kernel would accept
//! them is [`crate::bpf::validate`]'s job (zero bytes decode to the empty program,
//! which the kernel refuses like one of 4097 instructions: `seccomp_prepare_filter`).
//! Every byte string either decodes or yields a [`DecodeError`] that says why;
//! nothing here panics.

use super::insn::{Insn, Program, INSN_SIZE};

/// Byte order of the `sock_filter` array. The kernel reads `code` and `k` in the
/// byte order of the machine that loads the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ByteOrder {
    #[default]
    Little,
    Big,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The length is not a whole number of 8-byte `struct sock_filter` entries.
    #[error("{len} bytes is not a whole number of 8-byte instructions ({whole} whole, {} left over)", crate::words::count(*rest, "byte"))]
    Ragged { len: usize, whole: usize, rest: usize },
}

/// Decode a raw `sock_filter` array.
pub fn decode(bytes: &[u8], order: ByteOrder) -> Result<Program, DecodeError> {
    if !bytes.len().is_multiple_of(INSN_SIZE) {
        return Err(DecodeError::Ragged {
            len: bytes.len(),
            whole: bytes.len() / INSN_SIZE,
            rest: bytes.len() % INSN_SIZE,
        });
    }
    let insns = bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| {
            let b: [u8; INSN_SIZE] = c.try_into().expect("chunks_exact yields 8 bytes");
            match order {
                ByteOrder::Little => Insn::from_bytes(b),
                ByteOrder::Big => Insn {
                    code: u16::from_be_bytes([b[0], b[1]]),
                    jt: b[2],
                    jf: b[3],
                    k: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                },
            }
        })
        .collect();
    Ok(Program { insns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_little_endian() {
        let bytes = [0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f];
        let p = decode(&bytes, ByteOrder::Little).unwrap();
        assert_eq!(p.insns, vec![Insn::new(0x20, 0, 0, 4), Insn::new(0x06, 0, 0, 0x7fff_0000)]);
        assert_eq!(p.to_bytes(), bytes.to_vec());
    }

    #[test]
    fn decodes_big_endian() {
        let bytes = [0, 0x20, 1, 2, 0, 0, 0, 4];
        let p = decode(&bytes, ByteOrder::Big).unwrap();
        assert_eq!(p.insns, vec![Insn::new(0x20, 1, 2, 4)]);
    }

    #[test]
    fn rejects_ragged_and_reads_empty_as_no_instructions() {
        assert_eq!(decode(&[], ByteOrder::Little), Ok(Program { insns: Vec::new() }));
        assert_eq!(decode(&[0; 13], ByteOrder::Little), Err(DecodeError::Ragged { len: 13, whole: 1, rest: 5 }));
    }
}
