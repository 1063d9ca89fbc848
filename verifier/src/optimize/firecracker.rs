//! Firecracker's custom seccomp filter file (`firecracker --seccomp-filter
//! FILE`), written and read exactly as Firecracker does.
//!
//! The file is what `seccompiler-bin` writes: a map from thread category to
//! the filter's instructions, each `sock_filter` as the `u64` with the same
//! bytes on the (little-endian) host, serialised with `bitcode::serialize`
//! (serde, bitcode 0.6; `src/seccompiler/src/lib.rs`, `compile_bpf`).
//! Firecracker reads it with `bitcode::deserialize::<HashMap<String,
//! Vec<u64>>>` after checking it is at most 100 000 bytes, lower-cases the
//! keys, and then requires exactly the categories `vmm`, `api` and `vcpu`
//! (`src/vmm/src/seccomp.rs` `deserialize_binary`,
//! `src/firecracker/src/seccomp.rs` `filter_thread_categories`). That is the
//! format of Firecracker v1.15.0 onwards (the move from bincode to bitcode,
//! commit 37480d9, "chore: migrate from bincode to bitcode"); v1.10–v1.14 read
//! a bincode file instead, which this module does not write.

use crate::bpf::{Insn, Program};
use std::collections::{BTreeMap, HashMap};

/// Firecracker's `DESERIALIZATION_BYTES_LIMIT`: a longer file is refused.
pub const MAX_BYTES: usize = 100_000;

/// The thread categories Firecracker requires, each exactly once (after lower-casing).
pub const THREAD_CATEGORIES: [&str; 3] = ["vmm", "api", "vcpu"];

/// Why a filter map cannot be a Firecracker filter file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FirecrackerError {
    #[error("Firecracker loads exactly the thread categories vmm, api and vcpu (lower-cased); {0}")]
    Categories(String),
    #[error("the file would be {0} bytes; Firecracker refuses more than {MAX_BYTES}")]
    TooLarge(usize),
    #[error("not a Firecracker filter file (bitcode map of thread category to u64 instructions): {0}")]
    Decode(String),
}

/// The `u64` Firecracker keeps an instruction in: the `sock_filter`'s bytes
/// on a little-endian host (the only kind Firecracker runs on).
pub fn insn_word(i: &Insn) -> u64 {
    u64::from_le_bytes(i.to_bytes())
}

fn word_insn(w: u64) -> Insn {
    let b = w.to_le_bytes();
    Insn { code: u16::from_le_bytes([b[0], b[1]]), jt: b[2], jf: b[3], k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]) }
}

/// Check that `names` are the categories Firecracker accepts.
fn check_categories<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), FirecrackerError> {
    let mut seen: Vec<String> = Vec::new();
    for n in names {
        let l = n.to_lowercase();
        if !THREAD_CATEGORIES.contains(&l.as_str()) {
            return Err(FirecrackerError::Categories(format!("`{n}` is not one")));
        }
        if seen.contains(&l) {
            return Err(FirecrackerError::Categories(format!("`{l}` occurs twice")));
        }
        seen.push(l);
    }
    match THREAD_CATEGORIES.iter().find(|c| !seen.iter().any(|s| s == *c)) {
        Some(missing) => Err(FirecrackerError::Categories(format!("`{missing}` is missing"))),
        None => Ok(()),
    }
}

/// The file for `filters` (thread category → program), as `seccompiler-bin` writes it.
pub fn encode(filters: &[(String, Program)]) -> Result<Vec<u8>, FirecrackerError> {
    check_categories(filters.iter().map(|f| f.0.as_str()))?;
    let map: BTreeMap<&str, Vec<u64>> =
        filters.iter().map(|(n, p)| (n.as_str(), p.insns.iter().map(insn_word).collect())).collect();
    let bytes = bitcode::serialize(&map).map_err(|e| FirecrackerError::Decode(e.to_string()))?;
    if bytes.len() > MAX_BYTES {
        return Err(FirecrackerError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// Read a file as Firecracker does: at most [`MAX_BYTES`], a bitcode map,
/// keys lower-cased, exactly the three categories. Sorted by category.
pub fn decode(bytes: &[u8]) -> Result<Vec<(String, Program)>, FirecrackerError> {
    if bytes.len() > MAX_BYTES {
        return Err(FirecrackerError::TooLarge(bytes.len()));
    }
    let map: HashMap<String, Vec<u64>> =
        bitcode::deserialize(bytes).map_err(|e| FirecrackerError::Decode(e.to_string()))?;
    check_categories(map.keys().map(String::as_str))?;
    let mut out: Vec<(String, Program)> = map
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), Program::new(v.into_iter().map(word_insn).collect())))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::*;

    fn prog(k: u32) -> Program {
        Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0),
        ])
    }

    #[test]
    fn an_instruction_is_kept_as_its_little_endian_bytes() {
        let i = Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 2);
        // code 0x15, jt 1, jf 2, k: the bytes `15 00 01 02 3e 00 00 c0`.
        assert_eq!(insn_word(&i), 0xc000_003e_0201_0015);
        assert_eq!(word_insn(insn_word(&i)), i);
    }

    #[test]
    fn the_file_round_trips_through_the_reader_firecracker_uses() {
        let filters = vec![("vmm".to_string(), prog(1)), ("api".to_string(), prog(2)), ("VCPU".to_string(), prog(3))];
        let bytes = encode(&filters).unwrap();
        // Firecracker's own read: bitcode into HashMap<String, Vec<u64>>.
        let raw: HashMap<String, Vec<u64>> = bitcode::deserialize(&bytes).unwrap();
        assert_eq!(raw["api"], prog(2).insns.iter().map(insn_word).collect::<Vec<_>>());
        let back = decode(&bytes).unwrap();
        let names: Vec<&str> = back.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(names, ["api", "vcpu", "vmm"], "keys lower-cased as Firecracker does");
        assert_eq!(back[1].1, prog(3));
    }

    #[test]
    fn only_the_three_categories_are_written() {
        let e = encode(&[("vmm".into(), prog(1)), ("api".into(), prog(2))]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Firecracker loads exactly the thread categories vmm, api and vcpu (lower-cased); `vcpu` is missing"
        );
        let e = encode(&[
            ("vmm".into(), prog(1)),
            ("api".into(), prog(2)),
            ("vcpu".into(), prog(3)),
            ("io".into(), prog(4)),
        ])
        .unwrap_err();
        assert!(e.to_string().ends_with("`io` is not one"), "{e}");
        let e = encode(&[("vmm".into(), prog(1)), ("VMM".into(), prog(2)), ("vcpu".into(), prog(3))]).unwrap_err();
        assert!(e.to_string().ends_with("`vmm` occurs twice"), "{e}");
        assert!(matches!(decode(b"\x01\x02garbage"), Err(FirecrackerError::Decode(_))));
        assert_eq!(decode(&vec![0; MAX_BYTES + 1]), Err(FirecrackerError::TooLarge(MAX_BYTES + 1)));
    }
}
