//! Reading filters from where they live. With `kernel`, the only module that does I/O.
//!
//! A file is read whole (bounded by [`MAX_INPUT_BYTES`]), its format detected
//! (or forced with [`Format`]), and decoded into a [`Program`]. Validation is a
//! separate, later step: a source hands over what it found, even if the kernel
//! would refuse it.

pub mod elf;
pub mod text;

use crate::bpf::{decode, ByteOrder, DecodeError, Program};
use std::io::Read;
use std::path::Path;

/// Inputs larger than this are refused before parsing. The largest filter the
/// kernel takes is 4096 instructions (32 KiB raw, ~150 KiB as C text); real JSON
/// profiles are tens of KiB.
pub const MAX_INPUT_BYTES: u64 = 4 << 20;

/// How the input is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Detect from the content.
    #[default]
    Auto,
    /// Raw `struct sock_filter` array, 8 bytes per instruction.
    Raw,
    /// Hex digits of the raw bytes.
    Hex,
    /// C array text: `{ 0x20, 0, 0, 0x00000004 },` as `bpf_asm -c` / `tcpdump -dd` print.
    C,
    /// `N,code jt jf k,…` as `bpf_asm` / `tcpdump -ddd` print.
    Decimal,
    /// An ELF executable or shared object with embedded filters (`FILE#N` picks one).
    Elf,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Raw => "raw",
            Format::Hex => "hex",
            Format::C => "C array",
            Format::Decimal => "decimal bpf_asm",
            Format::Elf => "ELF",
        }
    }
}

/// Options for reading a filter.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    pub format: Format,
    /// Byte order of raw (and hex) `sock_filter` arrays.
    pub byte_order: ByteOrder,
}

/// A filter read from somewhere.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub program: Program,
    /// The format it was read as (never `Auto`).
    pub format: Format,
}

/// Why an input could not be read as a filter. The CLI prefixes the file name.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("is a directory, not a filter file")]
    Directory,
    #[error("is larger than {MAX_INPUT_BYTES} bytes; no seccomp filter or profile is that large")]
    TooLarge,
    #[error("raw filter: {0}")]
    Decode(#[from] DecodeError),
    #[error("{format} text: {err}")]
    Text { format: &'static str, err: text::TextError },
    #[error("{0}")]
    Unrecognised(String),
    #[error("ELF: {0}")]
    Elf(#[from] elf::ElfError),
    #[error("{0}")]
    Select(String),
}

/// Read and decode the filter in `path`. `BINARY#N` selects the N-th filter
/// embedded in an ELF file (numbered as `seccheck scan` lists them).
pub fn read_file(path: &Path, opts: &ReadOptions) -> Result<Loaded, SourceError> {
    let (path, select) = split_selector(path);
    if path.is_dir() {
        return Err(SourceError::Directory);
    }
    let bytes = read_bounded(&path)?;
    if select.is_some() && !elf::is_elf(&bytes) {
        return Err(SourceError::Select("`#N` selects a filter embedded in an ELF binary, and this is not one".into()));
    }
    from_bytes_selecting(&bytes, opts, select)
}

/// `file#3` → (`file`, Some(3)) when `file#3` itself does not exist.
fn split_selector(path: &Path) -> (std::path::PathBuf, Option<usize>) {
    if !path.exists() {
        if let Some((base, n)) = path.to_str().and_then(|s| s.rsplit_once('#')) {
            if let Ok(n) = n.parse() {
                return (base.into(), Some(n));
            }
        }
    }
    (path.to_path_buf(), None)
}

/// Read a whole file, refusing anything over [`MAX_INPUT_BYTES`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, SourceError> {
    let f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(SourceError::TooLarge);
    }
    Ok(bytes)
}

/// Decode `bytes` in the given or detected format.
pub fn from_bytes(bytes: &[u8], opts: &ReadOptions) -> Result<Loaded, SourceError> {
    from_bytes_selecting(bytes, opts, None)
}

fn from_bytes_selecting(bytes: &[u8], opts: &ReadOptions, select: Option<usize>) -> Result<Loaded, SourceError> {
    let format = match opts.format {
        Format::Auto => detect(bytes)?,
        f => f,
    };
    let text = || {
        std::str::from_utf8(bytes)
            .map_err(|e| SourceError::Unrecognised(format!("{} input is not UTF-8 text ({e})", format.name())))
    };
    let text_err = |err| SourceError::Text { format: format.name(), err };
    let program = match format {
        Format::Raw => decode(bytes, opts.byte_order)?,
        Format::Hex => decode(&text::parse_hex(text()?).map_err(text_err)?, opts.byte_order)?,
        Format::C => text::parse_c_array(text()?).map_err(text_err)?,
        Format::Decimal => text::parse_decimal(text()?).map_err(text_err)?,
        Format::Elf => select_embedded(elf::scan(bytes)?, select)?,
        Format::Auto => unreachable!("detect never answers Auto"),
    };
    Ok(Loaded { program, format })
}

fn select_embedded(found: Vec<elf::Found>, select: Option<usize>) -> Result<Program, SourceError> {
    match (select, found.len()) {
        (_, 0) => Err(SourceError::Select("no seccomp filter found in this binary".into())),
        (None, 1) => Ok(found.into_iter().next().unwrap().program.into_program()),
        (None, n) => Err(SourceError::Select(format!(
            "contains {n} filters; pick one with FILE#N (N from 0 to {}; `seccheck scan FILE` lists them)",
            n - 1
        ))),
        (Some(i), n) if i >= n => Err(SourceError::Select(format!("#{i}: the binary has {n} filter(s), numbered from 0"))),
        (Some(i), _) => Ok(found.into_iter().nth(i).unwrap().program.into_program()),
    }
}

/// Tell the encoding from the content. Binary data (a NUL byte or invalid
/// UTF-8) is a raw array; text is matched against the text forms.
pub fn detect(bytes: &[u8]) -> Result<Format, SourceError> {
    if bytes.is_empty() {
        return Err(SourceError::Decode(DecodeError::Empty));
    }
    if elf::is_elf(bytes) {
        return Ok(Format::Elf);
    }
    let Ok(t) = std::str::from_utf8(bytes) else { return Ok(Format::Raw) };
    if t.contains('\0') {
        return Ok(Format::Raw);
    }
    if t.trim().is_empty() {
        return Err(SourceError::Unrecognised("contains only white space".into()));
    }
    let first = t.trim_start().chars().next().unwrap_or(' ');
    if (first == '{' || first == '[') && serde_json::from_str::<serde_json::Value>(t).is_ok() {
        return Err(SourceError::Unrecognised(
            "is JSON: profile formats (Docker/OCI, seccompiler) are not supported by this build".into(),
        ));
    }
    if text::looks_decimal(t) {
        Ok(Format::Decimal)
    } else if text::looks_c_array(t) {
        Ok(Format::C)
    } else if text::looks_hex(t) {
        Ok(Format::Hex)
    } else {
        Err(SourceError::Unrecognised(
            "is text but neither a C array (`{ 0x20, 0, 0, 0x4 },`), a hex dump, nor bpf_asm decimal output; use --format to force one".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(&[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap(), Format::Raw);
        assert_eq!(detect(b"{ 0x06, 0, 0, 0x7fff0000 },\n").unwrap(), Format::C);
        assert_eq!(detect(b"0600000000 00ff7f\n").unwrap(), Format::Hex);
        assert_eq!(detect(b"1,6 0 0 2147418112\n").unwrap(), Format::Decimal);
        assert!(matches!(detect(b"   \n"), Err(SourceError::Unrecognised(_))));
        assert!(matches!(detect(b""), Err(SourceError::Decode(DecodeError::Empty))));
    }

    #[test]
    fn all_forms_give_the_same_program() {
        let raw = from_bytes(&[0x20, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f], &ReadOptions::default()).unwrap();
        for t in ["{ 0x20, 0, 0, 0x00000004 },\n{ 0x06, 0, 0, 0x7fff0000 },", "2000000004000000\n060000000000ff7f", "2,32 0 0 4,6 0 0 2147418112"] {
            assert_eq!(from_bytes(t.as_bytes(), &ReadOptions::default()).unwrap().program, raw.program, "{t}");
        }
    }
}
