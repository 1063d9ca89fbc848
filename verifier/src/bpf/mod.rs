//! Classic BPF as seccomp sees it: instructions, decoding, kernel-exact
//! validation, the disassembler and the assembler.

pub mod asm;
pub mod convert;
pub mod decode;
pub mod disasm;
pub mod insn;
pub mod semantics;
pub mod validate;

pub use asm::{assemble, AsmError, AsmErrorKind};
pub use convert::converted_len;
pub use decode::{decode, ByteOrder, DecodeError};
pub use disasm::{disassemble, listing, DisasmOptions, ListingLine};
pub use insn::{Insn, Program};
pub use validate::{validate, ValidProgram, Violation};
