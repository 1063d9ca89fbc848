//! Firecracker's compiled filter file (`firecracker --seccomp-filter FILE`,
//! what `seccompiler-bin` writes) read as an input: a map from thread category
//! to the category's BPF program, each instruction kept as the `u64` with the
//! `sock_filter`'s little-endian bytes. (Firecracker's JSON filter
//! definitions are seccompiler JSON, compiled by `sources::seccompiler`.)
//!
//! Two encodings of that map exist, and Firecracker versions read one each:
//!
//! - **bitcode** 0.6 (v1.15.0 on, commit 37480d9 "chore: migrate from bincode
//!   to bitcode"): Firecracker reads it with `bitcode::deserialize::<HashMap<String,
//!   Vec<u64>>>` (`src/vmm/src/seccomp.rs`, `deserialize_binary`), and so does
//!   this module, with the same crate: whether a file reads, and as which map,
//!   is bitcode's answer. bitcode names no position when it refuses (a release
//!   build says only "bitcode error"), so [`decode_bitcode`], a reading of its
//!   column layout (the entry count, the names' lengths, their bytes, the
//!   programs' lengths, then every instruction, lengths and integers packed:
//!   bitcode's `length.rs`, `pack.rs`, `pack_ints.rs`, `str.rs`), only says
//!   where; its tests hold it to accept exactly what bitcode accepts;
//! - **bincode** (v0.25.0 to v1.14.x): bincode 1 `DefaultOptions` with fixed-width
//!   little-endian integers (`with_fixint_encoding`), later bincode 2 with the
//!   same layout (`config::standard().with_fixed_int_encoding()`): a `u64`
//!   entry count, then per entry a `u64` byte length and the UTF-8 name, a `u64`
//!   instruction count and 8 bytes per instruction (`src/seccompiler/src/lib.rs`
//!   up to v1.10, `src/vmm/src/seccomp.rs` `deserialize_binary` after). That
//!   layout is read here by [`decode_bincode`] (tested against bincode 1 itself),
//!   into a `HashMap` as serde fills one: a key written twice keeps its last value.
//!
//! The file is held to Firecracker's `DESERIALIZATION_BYTES_LIMIT` of 100 000
//! bytes first; every length is checked against the bytes left before
//! anything is allocated, so a hostile length field costs nothing. Firecracker
//! lower-cases the names and then requires exactly the categories `vmm`, `api`
//! and `vcpu` (`src/firecracker/src/seccomp.rs`, `filter_thread_categories`);
//! two names that are one after lower-casing (Firecracker keeps whichever its
//! hash map saw last) are refused here, as is anything after the map (bincode
//! Firecracker ignores it; seccompiler-bin never writes it). An empty program
//! is a category Firecracker installs no filter for (`apply_filter`): reading
//! one as a filter is refused by the reader that selects it (`sources`).
//!
//! Every Firecracker file starts with the byte 3 (three entries: bincode's
//! `u64` 3, bitcode's length byte 3), a control character no text format
//! seccheck reads can start with, so content detection only has to tell it
//! from a raw `sock_filter` array: [`detect`] takes a file as Firecracker's
//! only if it reads completely as one of the two encodings with the three
//! categories, and a file that is also a program the kernel would accept is
//! refused as ambiguous by the reader (`sources::detect`).

use crate::bpf::{Insn, Program};
use std::collections::HashMap;

/// Firecracker's `DESERIALIZATION_BYTES_LIMIT`: a longer file is refused.
pub const MAX_BYTES: usize = 100_000;

/// The thread categories Firecracker requires, each exactly once (after lower-casing).
pub const THREAD_CATEGORIES: [&str; 3] = ["vmm", "api", "vcpu"];

/// Which encoding a file is in, and so which Firecracker versions load it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// bincode, fixed-width integers: Firecracker v0.25.0 to v1.14.x.
    Bincode,
    /// bitcode 0.6: Firecracker v1.15.0 on.
    Bitcode,
}

impl Encoding {
    /// The encoding and the Firecracker versions that read it.
    pub fn describe(self) -> &'static str {
        match self {
            Encoding::Bincode => "bincode (Firecracker v0.25 to v1.14)",
            Encoding::Bitcode => "bitcode (Firecracker v1.15 on)",
        }
    }
}

/// A read that failed at `offset`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {message}")]
pub struct FormatError {
    pub offset: usize,
    pub message: String,
}

fn fail<T>(offset: usize, message: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError { offset, message: message.into() })
}

/// Why a file is not a Firecracker filter file Firecracker would load.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FirecrackerError {
    #[error("byte {MAX_BYTES}: the file is longer than {MAX_BYTES} bytes, Firecracker's DESERIALIZATION_BYTES_LIMIT")]
    TooLarge,
    /// Neither encoding reads it: where each reader stopped.
    #[error("not a Firecracker filter file (a map of thread category to u64 instructions): as {} at {bincode}; as {} at {bitcode}", Encoding::Bincode.describe(), Encoding::Bitcode.describe())]
    Neither { bincode: FormatError, bitcode: FormatError },
    /// Both encodings read it (to different maps, or seccheck cannot tell).
    #[error("the bytes read completely both as {} and as {}; seccheck does not guess which Firecracker loads them", Encoding::Bincode.describe(), Encoding::Bitcode.describe())]
    Both,
    /// It reads as a map, but not one Firecracker loads.
    #[error("{} filter file: {message}", .encoding.describe())]
    Categories { encoding: Encoding, message: String },
}

/// One thread category's filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Lower-cased, as Firecracker keys it.
    pub name: String,
    pub program: Program,
}

/// A whole file: its encoding and the three categories, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterFile {
    pub encoding: Encoding,
    pub categories: Vec<Category>,
}

/// One entry of the map as stored: the name as written and the instructions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry {
    pub name: String,
    pub words: Vec<u64>,
}

/// The instruction Firecracker keeps as `w` (its little-endian bytes).
pub fn word_insn(w: u64) -> Insn {
    let b = w.to_le_bytes();
    Insn { code: u16::from_le_bytes([b[0], b[1]]), jt: b[2], jf: b[3], k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]) }
}

/// The map as Firecracker v1.15 on reads it: `bitcode::deserialize`, or
/// where [`decode_bitcode`] stops when bitcode refuses.
fn read_bitcode(bytes: &[u8]) -> Result<HashMap<String, Vec<u64>>, FormatError> {
    bitcode::deserialize::<HashMap<String, Vec<u64>>>(bytes).map_err(|_| match decode_bitcode(bytes) {
        Err(e) => e,
        Ok(_) => FormatError { offset: 0, message: "bitcode refuses the map (it names no position)".into() },
    })
}

/// The map as Firecracker v0.25 to v1.14 reads it: bincode's fixed-width
/// layout, into a `HashMap` as serde fills one (a repeated key keeps its last
/// value).
fn read_bincode(bytes: &[u8]) -> Result<HashMap<String, Vec<u64>>, FormatError> {
    Ok(decode_bincode(bytes)?.into_iter().map(|e| (e.name, e.words)).collect())
}

/// Read `bytes` as Firecracker does, in whichever encoding they are.
pub fn read(bytes: &[u8]) -> Result<FilterFile, FirecrackerError> {
    if bytes.len() > MAX_BYTES {
        return Err(FirecrackerError::TooLarge);
    }
    let (encoding, map) = match (read_bincode(bytes), read_bitcode(bytes)) {
        (Ok(m), Err(_)) => (Encoding::Bincode, m),
        (Err(_), Ok(m)) => (Encoding::Bitcode, m),
        (Err(bincode), Err(bitcode)) => return Err(FirecrackerError::Neither { bincode, bitcode }),
        (Ok(_), Ok(_)) => return Err(FirecrackerError::Both),
    };
    let categories = categories(map).map_err(|message| FirecrackerError::Categories { encoding, message })?;
    Ok(FilterFile { encoding, categories })
}

/// Is `bytes` a Firecracker filter file (either encoding, the three categories)?
pub fn detect(bytes: &[u8]) -> bool {
    bytes.first() == Some(&3) && read(bytes).is_ok()
}

/// Lower-case the names (as `deserialize_binary` does) and require exactly
/// the three categories (as `filter_thread_categories` does).
fn categories(map: HashMap<String, Vec<u64>>) -> Result<Vec<Category>, String> {
    let mut entries: Vec<(String, Vec<u64>)> = map.into_iter().collect();
    entries.sort();
    let mut out: Vec<(Category, String)> = Vec::with_capacity(THREAD_CATEGORIES.len());
    for (written, words) in entries {
        let name = written.to_lowercase();
        if !THREAD_CATEGORIES.contains(&name.as_str()) {
            return Err(format!(
                "thread category `{}` is not one Firecracker loads (vmm, api, vcpu)",
                written.escape_debug()
            ));
        }
        if let Some((_, first)) = out.iter().find(|(c, _)| c.name == name) {
            return Err(format!(
                "thread categories `{}` and `{}` are both `{name}` once lower-cased (Firecracker would keep either one)",
                first.escape_debug(),
                written.escape_debug()
            ));
        }
        out.push((Category { name, program: Program::new(words.into_iter().map(word_insn).collect()) }, written));
    }
    if let Some(missing) = THREAD_CATEGORIES.iter().find(|c| !out.iter().any(|(o, _)| o.name == **c)) {
        return Err(format!("the map has no `{missing}` filter, which Firecracker requires"));
    }
    let mut out: Vec<Category> = out.into_iter().map(|(c, _)| c).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A position in the file, for reads that check before they take.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], FormatError> {
        if n > self.left() {
            return fail(self.pos, format!("{what}: {n} bytes needed, {} left", self.left()));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// `n` items of `size` bytes, checked without overflow.
    fn take_items(&mut self, n: usize, size: usize, what: &str) -> Result<&'a [u8], FormatError> {
        if n > self.left() / size {
            return fail(self.pos, format!("{what}: {n} of {size} bytes needed, {} bytes left", self.left()));
        }
        self.take(n * size, what)
    }

    fn byte(&mut self, what: &str) -> Result<u8, FormatError> {
        Ok(self.take(1, what)?[0])
    }

    fn u64(&mut self, what: &str) -> Result<u64, FormatError> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn end(&self) -> Result<(), FormatError> {
        match self.left() {
            0 => Ok(()),
            n => fail(self.pos, format!("{n} bytes after the map, where the file should end")),
        }
    }
}

fn utf8(bytes: &[u8], at: usize) -> Result<String, FormatError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => fail(at + e.valid_up_to(), "a thread category name that is not UTF-8"),
    }
}

/// The map in bincode's fixed-width layout.
pub fn decode_bincode(bytes: &[u8]) -> Result<Vec<RawEntry>, FormatError> {
    let mut c = Cursor { bytes, pos: 0 };
    let n = c.u64("entry count")?;
    let mut out = Vec::new();
    for _ in 0..n {
        // Each entry takes at least 16 bytes, so the loop ends with the input.
        let len = c.u64("name length")?;
        let at = c.pos;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let name = utf8(c.take(len, "thread category name")?, at)?;
        let count = c.u64("instruction count")?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let words = c.take_items(count, 8, "instructions")?;
        let words = words.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).collect();
        out.push(RawEntry { name, words });
    }
    c.end()?;
    Ok(out)
}

/// bitcode's `HUGE_LEN` (length.rs): a sum of lengths at or above it is refused.
const HUGE_LEN: u64 = 0x7FFF_FFFF_FFFF_FFFF / 4096;

/// bitcode's `unpack_bytes` (pack.rs): up to 2 bytes as they are, else a
/// packing byte (factor and whether a minimum is added), the minimum, and
/// the bytes packed `divisor` to a byte, least significant digit first.
fn unpack_bytes(c: &mut Cursor, length: usize, what: &str) -> Result<Vec<u8>, FormatError> {
    if length <= 2 {
        return Ok(c.take(length, what)?.to_vec());
    }
    let at = c.pos;
    let v = c.byte(what)?;
    let offset_by_min = v & 1 != 0;
    let (factor, divisor): (u8, usize) = match v.div_ceil(2) {
        0 => return Ok(c.take(length, what)?.to_vec()),
        1 => (16, 2),
        2 => (6, 3),
        3 => (4, 4),
        4 => (3, 5),
        5 => (2, 8),
        _ => return fail(at, format!("{what}: invalid packing byte {v}")),
    };
    let min = if offset_by_min { c.byte(what)? } else { 0 };
    let packed = c.take(length.div_ceil(divisor), what)?;
    let mut out = Vec::with_capacity(length);
    for &p in packed {
        let mut p = p;
        for _ in 0..divisor {
            if out.len() == length {
                break;
            }
            out.push((p % factor).wrapping_add(min));
            p /= factor;
        }
    }
    Ok(out)
}

/// bitcode's `unpack_ints::<u64>` (pack_ints.rs): nothing for none, else a
/// packing byte (width 8, 4, 2 or packed bytes, and whether a minimum is
/// added), the minimum, and the values.
fn unpack_u64s(c: &mut Cursor, length: usize, what: &str) -> Result<Vec<u64>, FormatError> {
    if length == 0 {
        return Ok(Vec::new());
    }
    let at = c.pos;
    let v = c.byte(what)?;
    let offset_by_min = v & 1 != 0;
    let width = match v.div_ceil(2) {
        0 => 8,
        1 => 4,
        2 => 2,
        3 => 1,
        _ => return fail(at, format!("{what}: invalid packing byte {v}")),
    };
    let min = if offset_by_min { c.u64(what)? } else { 0 };
    let values: Vec<u64> = if width == 1 {
        unpack_bytes(c, length, what)?.into_iter().map(u64::from).collect()
    } else {
        let b = c.take_items(length, width, what)?;
        b.chunks_exact(width)
            .map(|w| {
                let mut x = [0u8; 8];
                x[..width].copy_from_slice(w);
                u64::from_le_bytes(x)
            })
            .collect()
    };
    Ok(values.into_iter().map(|x| x.wrapping_add(min)).collect())
}

/// bitcode's `LengthDecoder::populate` (length.rs): a byte per length, 255
/// meaning the length follows among the large ones.
fn lengths(c: &mut Cursor, n: usize, what: &str) -> Result<(Vec<usize>, usize), FormatError> {
    let at = c.pos;
    let small = unpack_bytes(c, n, what)?;
    let sum: u64 = small.iter().map(|&v| u64::from(v)).sum();
    if sum < 255 {
        return Ok((small.into_iter().map(usize::from).collect(), sum as usize));
    }
    let large_count = small.iter().filter(|&&v| v == 255).count();
    let large = unpack_u64s(c, large_count, what)?;
    let mut sum = sum - large_count as u64 * 255;
    for &v in &large {
        sum = match sum.checked_add(v) {
            Some(s) => s,
            None => return fail(at, format!("{what}: the lengths overflow")),
        };
    }
    if sum >= HUGE_LEN {
        return fail(at, format!("{what}: the lengths add up to {sum}, more than bitcode reads"));
    }
    let mut large = large.into_iter();
    let all = small
        .into_iter()
        .map(|v| if v == 255 { large.next().expect("one large length per 255") as usize } else { usize::from(v) })
        .collect();
    Ok((all, sum as usize))
}

/// The map in bitcode 0.6's serde layout.
pub fn decode_bitcode(bytes: &[u8]) -> Result<Vec<RawEntry>, FormatError> {
    let mut c = Cursor { bytes, pos: 0 };
    let (_, n) = lengths(&mut c, 1, "entry count")?;
    if n == 0 {
        c.end()?;
        return Ok(Vec::new());
    }
    let (name_lens, total) = lengths(&mut c, n, "name lengths")?;
    let at = c.pos;
    let names = c.take(total, "thread category names")?;
    let (counts, total) = lengths(&mut c, n, "instruction counts")?;
    let words = unpack_u64s(&mut c, total, "instructions")?;
    c.end()?;
    let mut out = Vec::with_capacity(n);
    let (mut from, mut w) = (0, 0);
    for (len, count) in name_lens.into_iter().zip(counts) {
        let name = utf8(&names[from..from + len], at + from)?;
        out.push(RawEntry { name, words: words[w..w + count].to_vec() });
        from += len;
        w += count;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    fn prog(k: u32) -> Vec<u64> {
        [
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ]
        .iter()
        .map(|i| u64::from_le_bytes(i.to_bytes()))
        .collect()
    }

    fn three() -> BTreeMap<String, Vec<u64>> {
        [("vmm", prog(1)), ("api", prog(2)), ("VCPU", prog(3))].into_iter().map(|(n, p)| (n.to_string(), p)).collect()
    }

    fn as_map(entries: Vec<RawEntry>) -> HashMap<String, Vec<u64>> {
        entries.into_iter().map(|e| (e.name, e.words)).collect()
    }

    /// bincode 1 with fixed-width integers, as Firecracker v0.25 to v1.11 configured it.
    fn bincode(map: &BTreeMap<String, Vec<u64>>) -> Vec<u8> {
        use bincode::Options;
        bincode::DefaultOptions::new().with_fixint_encoding().allow_trailing_bytes().serialize(map).unwrap()
    }

    #[test]
    fn both_encodings_read_to_the_same_categories() {
        let a = read(&bincode(&three())).unwrap();
        let b = read(&bitcode::serialize(&three()).unwrap()).unwrap();
        assert_eq!((a.encoding, b.encoding), (Encoding::Bincode, Encoding::Bitcode));
        assert_eq!(a.categories, b.categories);
        let names: Vec<&str> = a.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["api", "vcpu", "vmm"], "lower-cased and sorted");
        assert_eq!(a.categories[1].program.insns[1].k, 3);
        assert!(detect(&bincode(&three())) && detect(&bitcode::serialize(&three()).unwrap()));
    }

    #[test]
    fn every_refusal_says_what_firecracker_would_not_load() {
        let mut m = three();
        m.insert("io".into(), prog(4));
        let e = read(&bincode(&m)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bincode (Firecracker v0.25 to v1.14) filter file: thread category `io` is not one Firecracker loads (vmm, api, vcpu)"
        );
        let mut m = three();
        m.remove("vmm");
        let e = read(&bitcode::serialize(&m).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bitcode (Firecracker v1.15 on) filter file: the map has no `vmm` filter, which Firecracker requires"
        );
        let mut m = three();
        m.insert("VMM".into(), prog(5));
        assert_eq!(
            read(&bitcode::serialize(&m).unwrap()).unwrap_err().to_string(),
            "bitcode (Firecracker v1.15 on) filter file: thread categories `VMM` and `vmm` are both `vmm` once lower-cased (Firecracker would keep either one)"
        );
        // A length field that claims more than the file holds.
        let mut b = bincode(&three());
        b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            decode_bincode(&b).unwrap_err(),
            FormatError {
                offset: 16,
                message: format!("thread category name: {} bytes needed, {} left", usize::MAX, b.len() - 16)
            }
        );
        let mut b = bincode(&three());
        b.push(0);
        assert_eq!(decode_bincode(&b).unwrap_err().message, "1 bytes after the map, where the file should end");
        assert_eq!(read(&vec![3; MAX_BYTES + 1]), Err(FirecrackerError::TooLarge));
        let e = read(b"\x03garbage").unwrap_err();
        assert!(matches!(e, FirecrackerError::Neither { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "not a Firecracker filter file (a map of thread category to u64 instructions): as bincode (Firecracker v0.25 to v1.14) at byte 8: name length: 8 bytes needed, 0 left; as bitcode (Firecracker v1.15 on) at byte 1: name lengths: invalid packing byte 103"
        );
        // A bitcode file cut short: bitcode refuses it; where is ours to say.
        let b = bitcode::serialize(&three()).unwrap();
        let e = read(&b[..b.len() - 1]).unwrap_err();
        let FirecrackerError::Neither { bitcode, .. } = &e else { panic!("{e}") };
        assert!(bitcode.offset > 0 && bitcode.offset <= b.len(), "{e}");
    }

    /// bincode: a name written twice keeps its last program, as serde's
    /// `HashMap` does when Firecracker reads it.
    #[test]
    fn a_repeated_name_keeps_its_last_program() {
        let mut b = Vec::new();
        b.extend_from_slice(&4u64.to_le_bytes());
        for (name, k) in [("vmm", 1), ("api", 2), ("vcpu", 3), ("vmm", 9)] {
            b.extend_from_slice(&(name.len() as u64).to_le_bytes());
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&4u64.to_le_bytes());
            for w in prog(k) {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        let f = read(&b).unwrap();
        assert_eq!(f.encoding, Encoding::Bincode);
        assert_eq!(f.categories[2].name, "vmm");
        assert_eq!(f.categories[2].program.insns[1].k, 9);
    }

    #[test]
    fn hostile_lengths_cost_no_memory() {
        // bincode: 2^64-1 entries of 2^64-1 instructions.
        let mut b = vec![0xff; 8];
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(b"vmm");
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode_bincode(&b).unwrap_err().offset, 27);
        assert!(read(&b).is_err());
        // bitcode: an entry count of 2^62 (255, then a u64 packing and value).
        let mut b = vec![255, 0];
        b.extend_from_slice(&(1u64 << 62).to_le_bytes());
        assert!(decode_bitcode(&b).unwrap_err().message.contains("more than bitcode reads"));
        assert!(read(&b).is_err());
        let mut b = vec![255, 0];
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let e = decode_bitcode(&b).unwrap_err();
        assert_eq!(e.offset, 10, "{e}");
        assert!(read(&b).is_err());
    }

    fn map_strategy() -> impl Strategy<Value = BTreeMap<String, Vec<u64>>> {
        let word = prop_oneof![any::<u64>(), 0u64..300, Just(0x7fff_0000_0000_0006)];
        proptest::collection::btree_map("[a-zA-Z]{0,6}|[\\PC]{0,300}", proptest::collection::vec(word, 0..300), 0..8)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// What bitcode writes, this reads back; what bincode writes too.
        #[test]
        fn reads_what_the_encoders_write(m in map_strategy()) {
            let want: HashMap<String, Vec<u64>> = m.clone().into_iter().collect();
            prop_assert_eq!(as_map(decode_bitcode(&bitcode::serialize(&m).unwrap()).unwrap()), want.clone());
            prop_assert_eq!(as_map(decode_bincode(&bincode(&m)).unwrap()), want);
        }

        /// On damaged files (a byte changed, the end cut or extended) this
        /// reader accepts exactly what bitcode's own accepts, with the same map.
        #[test]
        fn accepts_exactly_what_bitcode_accepts(m in map_strategy(), at in any::<usize>(), byte in any::<u8>(), how in 0u8..3) {
            let mut b = bitcode::serialize(&m).unwrap();
            match how {
                0 if !b.is_empty() => { let i = at % b.len(); b[i] = byte; }
                1 => b.truncate(at % (b.len() + 1)),
                _ => b.push(byte),
            }
            let theirs = bitcode::deserialize::<HashMap<String, Vec<u64>>>(&b);
            let ours = decode_bitcode(&b).map(as_map);
            prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "ours {:?}", ours);
            if let (Ok(o), Ok(t)) = (ours, theirs) {
                prop_assert_eq!(o, t);
            }
        }
    }
}
