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
//! From each start the longest prefix that validates is taken, cut after its
//! last reachable instruction (always a `RET`: arrays placed back to back
//! validate together); a symbol whose range covers the array names it.
//! Scanning is at 4-byte alignment (`struct sock_filter` is 4-aligned). A
//! region inside an array already found is not reported again.
//!
//! The scan is linear in the region: re-validating a prefix for every `RET`
//! after every start took 30 s on 80 KB of `ld [0]; ld [2]; ret`. Whether the
//! prefix `[s..=e]` validates splits into facts that do not depend on `s`
//! (each instruction's own checks, [`locally_acceptable`]; every jump of
//! `[s..=e]` lands at or before `e`; the last reachable instruction from each
//! index, since jumps only go forward) and one that does (a scratch-memory
//! read before any write, found per scratch cell by one backward pass over the
//! store-free paths). Each is computed once per region in one or two passes
//! (at most 16 passes for scratch cells that are read), so a region of `n`
//! bytes costs O(n) however it is built; [`scan_region`] then decides each
//! start in O(1), plus the length of each filter it returns (and skips).

use crate::bpf::insn::*;
use crate::bpf::validate::{locally_acceptable, validate, ValidProgram};
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
    #[error("more than {MAX_FOUND} filter-shaped arrays: this is not a binary that embeds a few filters; give seccheck the filter itself")]
    TooMany,
}

/// Is this an ELF file (by magic)?
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// A binary embeds a few filters (one per thread kind, per sandbox level);
/// more than this many is data that looks like filters, refused rather than
/// listed (each costs memory as it is kept).
pub const MAX_FOUND: usize = 10_000;

/// Every filter embedded in the ELF image `bytes`.
pub fn scan(bytes: &[u8]) -> Result<Vec<Found>, ElfError> {
    let elf = Elf::parse(bytes).map_err(|e| ElfError::Parse(e.to_string()))?;
    if !elf.little_endian {
        return Err(ElfError::BigEndian);
    }
    let syms =
        SymbolIndex::new(elf.syms.iter().filter_map(|s| Some((s.st_value, s.st_size, elf.strtab.get_at(s.st_name)?))));
    let dynsyms = SymbolIndex::new(
        elf.dynsyms.iter().filter_map(|s| Some((s.st_value, s.st_size, elf.dynstrtab.get_at(s.st_name)?))),
    );
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
            if found.len() == MAX_FOUND {
                return Err(ElfError::TooMany);
            }
            let vaddr = sh.sh_addr.wrapping_add(off as u64);
            let symbol = syms.covering(vaddr).or_else(|| dynsyms.covering(vaddr)).map(str::to_string);
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

/// Symbols with a size, sorted by address, to find the first one (in table
/// order) whose range covers an address without walking the whole table.
struct SymbolIndex<'a> {
    /// `(start, end, table position, name)` sorted by start.
    syms: Vec<(u64, u64, usize, &'a str)>,
    /// `max_end[i]`: the largest end among `syms[..=i]`.
    max_end: Vec<u64>,
}

impl<'a> SymbolIndex<'a> {
    fn new(syms: impl Iterator<Item = (u64, u64, &'a str)>) -> Self {
        let mut v: Vec<_> = syms
            .enumerate()
            .filter(|(_, (_, size, _))| *size > 0)
            .map(|(i, (a, size, n))| (a, a.saturating_add(size), i, n))
            .collect();
        v.sort_unstable_by_key(|s| (s.0, s.2));
        let max_end = v
            .iter()
            .scan(0u64, |m, s| {
                *m = (*m).max(s.1);
                Some(*m)
            })
            .collect();
        SymbolIndex { syms: v, max_end }
    }

    /// The covering symbol that comes first in the table (as a linear search
    /// of the table would find it). Walks back only over symbols that start
    /// at or before `addr` and while some of them still reaches past it.
    fn covering(&self, addr: u64) -> Option<&'a str> {
        let mut i = self.syms.partition_point(|s| s.0 <= addr);
        let mut best: Option<(usize, &'a str)> = None;
        while i > 0 && self.max_end[i - 1] > addr {
            i -= 1;
            let (_, end, pos, name) = self.syms[i];
            if end > addr && best.is_none_or(|(b, _)| pos < b) {
                best = Some((pos, name));
            }
        }
        best.map(|(_, n)| n)
    }
}

/// Offsets beyond this from a start cannot be part of a filter starting there.
const FAR: u16 = BPF_MAXINSNS as u16;

/// Per-start facts for one phase (instructions at `phase + 8 j`).
struct Phase {
    /// `len[j]`: the length of the filter starting at `j` if every check that
    /// does not need the end's jump closure passes, else 0.
    len: Vec<u16>,
    /// `back[e]`: `e + 1 - lo(e)` capped at [`FAR`], where `lo(e)` is one past
    /// the last `i <= e` whose jump lands beyond `e`: `[s..=e]` has every jump
    /// in range exactly when `e + 1 - s <= back[e]`.
    back: Vec<u16>,
}

fn rel(from: usize, to: usize) -> u16 {
    to.checked_sub(from).map_or(FAR, |d| d.min(FAR as usize) as u16)
}

impl Phase {
    fn new(insns: &[Insn]) -> Phase {
        let m = insns.len();
        let ok: Vec<bool> = insns.iter().map(locally_acceptable).collect();
        // Successor indices (None: leaves the region or is too far to matter).
        let target = |j: usize, off: u64| -> Option<usize> {
            let t = j as u64 + 1 + off;
            (t < m as u64 && t - j as u64 <= FAR as u64).then_some(t as usize)
        };
        // 1. limit[j]: how far from j a filter starting at j may extend: up to
        //    the first instruction failing its own checks, or the first scratch
        //    read not preceded by a write on every path (kernel order).
        let mut limit = vec![FAR; m];
        let mut next_bad = usize::MAX;
        for j in (0..m).rev() {
            if !ok[j] {
                next_bad = j;
            }
            limit[j] = rel(j, next_bad);
        }
        let read = |i: &Insn, cell: u32| (i.code == BPF_LD | BPF_MEM || i.code == BPF_LDX | BPF_MEM) && i.k == cell;
        let write = |i: &Insn, cell: u32| (i.code == BPF_ST || i.code == BPF_STX) && i.k == cell;
        let mut first_read = vec![FAR; m];
        for cell in 0..BPF_MEMWORDS {
            if !insns.iter().zip(&ok).any(|(i, &ok)| ok && read(i, cell)) {
                continue;
            }
            // first_read[j]: nearest read of `cell` reachable from j along
            // check_load_and_stores' edges (a jump to its targets, anything
            // else, RET included, to the next instruction) with no write of
            // `cell` before it.
            for j in (0..m).rev() {
                let ins = &insns[j];
                let via = |t: Option<usize>| t.map_or(FAR, |t| rel(j, t + first_read[t] as usize));
                first_read[j] = if write(ins, cell) {
                    FAR
                } else if read(ins, cell) {
                    0
                } else if ins.class() == BPF_JMP && ins.code & 0xf0 == BPF_JA {
                    via(target(j, ins.k as u64))
                } else if ins.is_cond_jump() {
                    via(target(j, ins.jt as u64)).min(via(target(j, ins.jf as u64)))
                } else {
                    via(target(j, 0))
                };
                limit[j] = limit[j].min(first_read[j]);
            }
        }
        // 2. Right to left: the last instruction reachable from j (`reach`,
        //    relative), and the nearest conditional jump; fold into len[j].
        let mut reach = first_read; // reused: every entry is rewritten
        let mut len = limit;
        let mut next_cond = usize::MAX;
        for j in (0..m).rev() {
            let ins = &insns[j];
            if ins.is_cond_jump() {
                next_cond = j;
            }
            let via = |t: Option<usize>| t.map_or(FAR, |t| rel(j, t + reach[t] as usize));
            reach[j] = match ins.class() {
                BPF_RET => 0,
                BPF_JMP if ins.code & 0xf0 == BPF_JA => via(target(j, ins.k as u64)),
                BPF_JMP => via(target(j, ins.jt as u64)).max(via(target(j, ins.jf as u64))),
                _ => via(target(j, 0)),
            };
            let last = reach[j] as usize; // offset of the last reachable instruction
            let is_start =
                ins.code == BPF_LD | BPF_W | BPF_ABS && (ins.k == 0 || ins.k == 4) && ins.jt == 0 && ins.jf == 0;
            let fits = last < FAR as usize && last < len[j] as usize && insns[j + last].class() == BPF_RET;
            let decides = next_cond != usize::MAX && next_cond <= j + last;
            len[j] = if is_start && fits && decides { last as u16 + 1 } else { 0 };
        }
        // 3. Left to right: back[e], with a stack of jumps still open at e
        //    (indices increasing, landing points decreasing; a jump further
        //    than FAR never closes).
        let mut back = reach; // reused again
        let mut open: Vec<(usize, u64)> = Vec::new();
        for (e, ins) in insns.iter().enumerate() {
            let lands = match ins.class() {
                BPF_JMP if ins.code & 0xf0 == BPF_JA => Some(e as u64 + 1 + ins.k as u64),
                BPF_JMP => Some(e as u64 + 1 + ins.jt.max(ins.jf) as u64),
                _ => None,
            }
            .map(|t| if t - e as u64 > FAR as u64 { u64::MAX } else { t });
            if let Some(t) = lands {
                while open.last().is_some_and(|&(_, u)| u <= t) {
                    open.pop();
                }
                open.push((e, t));
            }
            while open.last().is_some_and(|&(_, u)| u <= e as u64) {
                open.pop();
            }
            let lo = open.last().map_or(0, |&(i, _)| i + 1);
            back[e] = (e + 1 - lo).min(FAR as usize + 1) as u16;
        }
        Phase { len, back }
    }

    /// The length of the filter starting at instruction `j`, if there is one.
    fn filter_len(&self, j: usize) -> Option<usize> {
        let n = self.len[j] as usize;
        (n > 0 && self.back[j + n - 1] as usize >= n).then_some(n)
    }
}

/// Filters in one region of bytes: `(offset, program)` pairs, non-overlapping.
pub fn scan_region(region: &[u8]) -> Vec<(usize, ValidProgram)> {
    let decode = |phase: usize| -> Vec<Insn> {
        region
            .get(phase..)
            .unwrap_or(&[])
            .chunks_exact(INSN_SIZE)
            .map(|c| Insn::from_bytes(c.try_into().expect("8 bytes")))
            .collect()
    };
    let phases: Vec<(Vec<Insn>, Phase)> = [0, 4]
        .into_iter()
        .map(|p| {
            let insns = decode(p);
            let facts = Phase::new(&insns);
            (insns, facts)
        })
        .collect();
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + INSN_SIZE <= region.len() {
        let (insns, facts) = &phases[(pos / 4) % 2];
        let j = pos / INSN_SIZE;
        let found = facts.filter_len(j).and_then(|n| validate(&Program::new(insns[j..j + n].to_vec())).ok());
        match found {
            Some(p) => {
                pos += p.len() * INSN_SIZE;
                out.push((pos - p.len() * INSN_SIZE, p));
            }
            None => pos += 4,
        }
    }
    out
}

/// The scan as first written (quadratic, kept as the reference the linear
/// [`scan_region`] is tested against): from each start, validate the prefix
/// ending at every `RET`, longest first, then cut after the last reachable
/// instruction.
#[cfg(any(test, feature = "testgen"))]
pub fn scan_region_reference(region: &[u8]) -> Vec<(usize, ValidProgram)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + INSN_SIZE <= region.len() {
        if let Some(p) = reference_filter_at(&region[pos..]) {
            let len = p.len() * INSN_SIZE;
            out.push((pos, p));
            pos += len;
        } else {
            pos += 4;
        }
    }
    out
}

#[cfg(any(test, feature = "testgen"))]
fn reference_filter_at(b: &[u8]) -> Option<ValidProgram> {
    let insn_at = |i: usize| -> Option<Insn> {
        Some(Insn::from_bytes(b.get(i * INSN_SIZE..(i + 1) * INSN_SIZE)?.try_into().ok()?))
    };
    let first = insn_at(0)?;
    if first.code != BPF_LD | BPF_W | BPF_ABS || (first.k != 0 && first.k != 4) || first.jt != 0 || first.jf != 0 {
        return None;
    }
    let mut rets = Vec::new();
    for i in 0..BPF_MAXINSNS {
        let Some(ins) = insn_at(i) else { break };
        if !crate::bpf::validate::classic_opcode_known(ins.code) {
            break;
        }
        if ins.class() == BPF_RET {
            rets.push(i);
        }
    }
    let longest = rets.iter().rev().find_map(|&end| {
        let insns = (0..=end).map(|i| insn_at(i).expect("within run")).collect();
        validate(&Program::new(insns)).ok()
    })?;
    let insns = longest.insns();
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
    let cut = validate(&Program::new(insns[..=last].to_vec())).ok()?;
    cut.insns().iter().any(Insn::is_cond_jump).then_some(cut)
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

    /// Regions built from filter-shaped pieces, garbage and misaligned bytes:
    /// the linear scan finds exactly what the reference scan finds.
    #[test]
    fn linear_scan_equals_reference() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let pieces = [
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 2),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0),
            Insn::jump(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 2),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 3, 1),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 255, 0),
            Insn::stmt(BPF_JMP | BPF_JA, 1),
            Insn::stmt(BPF_JMP | BPF_JA, 0xffff_fff0),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
            Insn::stmt(BPF_ST, 0),
            Insn::stmt(BPF_STX, 1),
            Insn::stmt(BPF_LD | BPF_MEM, 0),
            Insn::stmt(BPF_LDX | BPF_MEM, 1),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 7),
            Insn::stmt(BPF_ALU | BPF_DIV | BPF_K, 0),
            Insn::stmt(0xffff, 0),
        ];
        let mut found = 0;
        for case in 0..3000 {
            let n = rnd(80) as usize;
            let mut region = Vec::new();
            for _ in 0..n {
                match rnd(20) {
                    0 => region.extend([0xabu8; 4]),
                    1 => region.push(rnd(256) as u8),
                    2 | 3 => {
                        // A small filter: load, one test, two returns.
                        for i in [pieces[rnd(2) as usize], pieces[3 + rnd(3) as usize], pieces[10], pieces[11]] {
                            region.extend(i.to_bytes());
                        }
                    }
                    _ => region.extend(pieces[rnd(pieces.len() as u64) as usize].to_bytes()),
                }
            }
            let got: Vec<_> = scan_region(&region).into_iter().map(|(o, p)| (o, p.into_program())).collect();
            let want: Vec<_> = scan_region_reference(&region).into_iter().map(|(o, p)| (o, p.into_program())).collect();
            assert_eq!(got, want, "case {case}: region {region:02x?}");
            found += want.len();
        }
        assert!(found > 2000, "the cases must find filters to compare: {found}");
    }

    #[test]
    fn rejects_non_elf() {
        assert!(matches!(scan(b"not an elf"), Err(ElfError::Parse(_))));
    }
}
