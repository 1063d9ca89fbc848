//! Seccomp filters embedded in ELF executables and shared objects.
//!
//! Programs ship their filters as `struct sock_filter` arrays in read-only data
//! (`static const struct sock_filter f[] = {…}` in C; `include_bytes!` of a
//! compiled filter in Rust, as Firecracker does with seccompiler's output). We
//! parse the ELF with goblin, then scan every allocated, non-executable section
//! with file contents for arrays that
//! 1. start with a load of `arch` or `nr` (`ld [4]` / `ld [0]`: every generator's
//!    first instruction, and what a filter must look at first to mean anything),
//! 2. and are accepted by the kernel-exact validator.
//!
//! From each start the longest prefix that validates is taken (the end is always
//! a `RET`); a symbol whose range covers the array names it. Scanning is at
//! 4-byte alignment (`struct sock_filter` is 4-aligned). A region inside an
//! array already found is not reported again.

use crate::bpf::insn::*;
use crate::bpf::validate::{validate, ValidProgram};
use goblin::elf::section_header::{SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS};
use goblin::elf::Elf;
use serde::Serialize;

/// One filter found in a binary.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// Position in the scan order; `BINARY#N` selects it.
    pub index: usize,
    /// Byte offset in the file.
    pub file_offset: u64,
    /// Virtual address when loaded.
    pub vaddr: u64,
    pub section: String,
    /// The symbol whose range contains the array, if the binary has one.
    pub symbol: Option<String>,
    pub instructions: usize,
    #[serde(skip)]
    pub program: ValidProgram,
}

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file: {0}")]
    Parse(String),
    #[error("big-endian ELF: scanning assumes the host's little-endian sock_filter layout")]
    BigEndian,
}

/// Is this an ELF file (by magic)?
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Every filter embedded in the ELF image `bytes`.
pub fn scan(bytes: &[u8]) -> Result<Vec<Found>, ElfError> {
    let elf = Elf::parse(bytes).map_err(|e| ElfError::Parse(e.to_string()))?;
    if !elf.little_endian {
        return Err(ElfError::BigEndian);
    }
    let mut found = Vec::new();
    for sh in &elf.section_headers {
        let data_section = sh.sh_flags & SHF_ALLOC as u64 != 0
            && sh.sh_flags & SHF_EXECINSTR as u64 == 0
            && sh.sh_type != SHT_NOBITS
            && sh.sh_size >= INSN_SIZE as u64;
        if !data_section {
            continue;
        }
        let start = sh.sh_offset as usize;
        let Some(end) = start.checked_add(sh.sh_size as usize).filter(|&e| e <= bytes.len()) else { continue };
        let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?").to_string();
        for (off, program) in scan_region(&bytes[start..end]) {
            let vaddr = sh.sh_addr + off as u64;
            let covers = |s: &goblin::elf::Sym| s.st_size > 0 && s.st_value <= vaddr && vaddr < s.st_value + s.st_size;
            let symbol = elf
                .syms
                .iter()
                .find(covers)
                .and_then(|s| elf.strtab.get_at(s.st_name))
                .or_else(|| elf.dynsyms.iter().find(covers).and_then(|s| elf.dynstrtab.get_at(s.st_name)))
                .map(str::to_string);
            found.push(Found {
                index: found.len(),
                file_offset: (start + off) as u64,
                vaddr,
                section: name.clone(),
                symbol,
                instructions: program.len(),
                program,
            });
        }
    }
    Ok(found)
}

/// Filters in one region of bytes: `(offset, program)` pairs, non-overlapping.
pub fn scan_region(region: &[u8]) -> Vec<(usize, ValidProgram)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + INSN_SIZE <= region.len() {
        if let Some(p) = filter_at(&region[pos..]) {
            let len = p.len() * INSN_SIZE;
            out.push((pos, p));
            pos += len;
        } else {
            pos += 4;
        }
    }
    out
}

fn insn_at(b: &[u8], i: usize) -> Option<Insn> {
    let s = b.get(i * INSN_SIZE..(i + 1) * INSN_SIZE)?;
    Some(Insn::from_bytes(s.try_into().ok()?))
}

/// The longest valid filter starting at `b[0]` whose first instruction loads
/// `arch` or `nr`, with at least one conditional jump (a filter that decides
/// nothing is more likely noise than a filter).
fn filter_at(b: &[u8]) -> Option<ValidProgram> {
    let first = insn_at(b, 0)?;
    if first.code != BPF_LD | BPF_W | BPF_ABS || (first.k != 0 && first.k != 4) || first.jt != 0 || first.jf != 0 {
        return None;
    }
    // Candidate ends: every RET among the run of plausible instructions.
    let mut rets = Vec::new();
    for i in 0..BPF_MAXINSNS {
        let Some(ins) = insn_at(b, i) else { break };
        if !crate::bpf::validate::classic_opcode_known(ins.code) {
            break;
        }
        if ins.class() == BPF_RET {
            rets.push(i);
        }
    }
    // Longest first: a filter's early RETs also end valid prefixes.
    let longest = rets.iter().rev().find_map(|&end| {
        let insns = (0..=end).map(|i| insn_at(b, i).expect("within run")).collect();
        validate(&Program::new(insns)).ok()
    })?;
    // Arrays placed back to back also validate together; a filter ends at its
    // last reachable instruction (always a RET), so cut the unreachable rest.
    let end = last_reachable(longest.insns());
    let cut = validate(&Program::new(longest.insns()[..=end].to_vec())).ok()?;
    cut.insns().iter().any(Insn::is_cond_jump).then_some(cut)
}

/// Index of the last instruction reachable from instruction 0 (jumps are forward).
fn last_reachable(insns: &[Insn]) -> usize {
    let mut reach = vec![false; insns.len()];
    reach[0] = true;
    let mut last = 0;
    for pc in 0..insns.len() {
        if reach[pc] {
            last = pc;
            for t in insns[pc].successors(pc).iter() {
                reach[t] = true;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_filters_in_noise() {
        let f = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
        ]);
        let mut region = vec![0xabu8; 12];
        region.extend(f.to_bytes());
        region.extend([0xffu8; 20]);
        region.extend(f.to_bytes());
        let got = scan_region(&region);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 12);
        assert_eq!(got[1].0, 12 + 32 + 20);
        assert_eq!(got[0].1.program(), &f);
    }

    #[test]
    fn rejects_non_elf() {
        assert!(matches!(scan(b"not an elf"), Err(ElfError::Parse(_))));
    }
}
