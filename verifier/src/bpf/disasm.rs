//! The disassembler: a [`Program`] as a listing a person can read, in a
//! `bpf_asm`-like syntax that [`crate::bpf::asm`] assembles back to the same
//! bytes.
//!
//! Why it exists: a compiled filter is only reviewable when every load says which
//! `seccomp_data` field it reads, every comparison says which syscall or arch its
//! constant is, and every return says its action. Those names depend on the
//! path: `0x101` is `openat` only where the filter has already established that
//! `arch == AUDIT_ARCH_X86_64`. So the comments come from a small forward
//! dataflow over the program (classic BPF only jumps forward, so one pass in
//! index order sees every predecessor of an instruction before the instruction
//! itself). It tracks what `A`, `X` and `M[]` hold and which arch values are still
//! possible, learned from `jeq` tests of the arch word; where the arch is not
//! known, numbers stay numbers.
//!
//! The listing never depends on the program being valid: out-of-range jump
//! targets are printed as numbers, unknown opcodes in a raw form, and fields an
//! instruction ignores are printed when they are not zero, so
//! `assemble(disassemble(p)) == p` holds byte for byte for every decodable
//! program.
//!
//! # Syntax
//!
//! One instruction per line: an optional `N:` index, the instruction, an optional
//! `; comment`. Jump targets are *absolute* instruction indices (`jeq #0x1, 5, 7`
//! jumps to 5 when `A == 1`, else to 7); `#` marks an immediate. Per opcode
//! (`include/uapi/linux/filter.h`, `bpf_common.h`):
//!
//! | syntax | opcode | | syntax | opcode |
//! | --- | --- | --- | --- | --- |
//! | `ld [k]` | `LD W ABS` | | `ldx #k` | `LDX IMM` |
//! | `ldh [k]`, `ldb [k]` | `LD H/B ABS` | | `ldx #len` | `LDX W LEN` |
//! | `ld [x + k]` (also `ldh`, `ldb`) | `LD W/H/B IND` | | `ldx M[k]` | `LDX MEM` |
//! | `ld #k` | `LD IMM` | | `ldxb 4*([k]&0xf)` | `LDX B MSH` |
//! | `ld #len` | `LD W LEN` | | `st M[k]`, `stx M[k]` | `ST`, `STX` |
//! | `ld M[k]` | `LD MEM` | | `tax`, `txa` | `MISC TAX/TXA` |
//! | `add #k`, `add x` (also `sub mul div mod and or xor lsh rsh`) | `ALU op K/X` | | `neg` | `ALU NEG` |
//! | `ja T` | `JMP JA` | | `jeq #k, T, F`, `jeq x, T, F` (also `jgt jge jset`) | `JMP op K/X` |
//! | `ret #k` | `RET K` | | `ret a` | `RET A` |
//!
//! Fields an instruction does not use (for example `k` of `ret a`, `jt`/`jf` of
//! `ld`) are zero in every filter a generator emits, but the kernel accepts any
//! value there. When one is not zero it follows the instruction in braces:
//! `ret a {k=0x5}`, `tax {jt=3}`. An opcode outside `chk_code_allowed`
//! (net/core/filter.c) is printed raw: `.insn 0x000e, 0, 0, 0x0` (code, jt, jf,
//! k).

use super::insn::*;
use super::semantics::{self, jump, Alu, Src};
use super::validate::{classic_opcode_known, violations, Violation};
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::seccomp::{describe_offset, Action, AUDIT_ARCH_LE};
// `sizeof(struct seccomp_data)`: what `ld #len` loads (`seccomp_check_filter`
// rewrites `LD/LDX W LEN` to this immediate, kernel/seccomp.c).
use crate::uapi::SECCOMP_DATA_SIZE;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The operand shape of an instruction form: decides both the text and which
/// of `jt`, `jf`, `k` the instruction uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// No operand (`tax`, `txa`, `neg`).
    Bare,
    /// `[k]`: absolute load.
    Abs,
    /// `[x + k]`: indirect load.
    Ind,
    /// `#k`.
    Imm,
    /// `#len`.
    Len,
    /// `M[k]`: scratch memory cell.
    Mem,
    /// `4*([k]&0xf)`: the IP header length load.
    Msh,
    /// `x`: ALU with X.
    X,
    /// `a`: return A.
    A,
    /// `T`: unconditional jump to absolute index `T`.
    Ja,
    /// `#k, T, F`.
    CondK,
    /// `x, T, F`.
    CondX,
}

impl Shape {
    /// Which of (`jt`, `jf`, `k`) the instruction ignores; those are printed in
    /// the `{…}` suffix when non-zero.
    pub(super) fn free_fields(self) -> [bool; 3] {
        match self {
            Shape::Bare | Shape::Len | Shape::X | Shape::A => [true, true, true],
            Shape::Abs | Shape::Ind | Shape::Imm | Shape::Mem | Shape::Msh | Shape::Ja => [true, true, false],
            Shape::CondK => [false, false, false],
            Shape::CondX => [false, false, true],
        }
    }

    /// How the operand is written, for error messages.
    pub(super) fn syntax(self) -> &'static str {
        match self {
            Shape::Bare => "no operand",
            Shape::Abs => "[k]",
            Shape::Ind => "[x + k]",
            Shape::Imm => "#k",
            Shape::Len => "#len",
            Shape::Mem => "M[k]",
            Shape::Msh => "4*([k]&0xf)",
            Shape::X => "x",
            Shape::A => "a",
            Shape::Ja => "a target",
            Shape::CondK => "#k, T, F",
            Shape::CondX => "x, T, F",
        }
    }
}

/// One mnemonic + operand shape, and its opcode.
pub(super) struct Form {
    pub code: u16,
    pub mnemonic: &'static str,
    pub shape: Shape,
}

const fn form(code: u16, mnemonic: &'static str, shape: Shape) -> Form {
    Form { code, mnemonic, shape }
}

/// Every opcode of `chk_code_allowed` (net/core/filter.c), exactly once.
#[rustfmt::skip]
pub(super) const FORMS: &[Form] = &[
    form(BPF_LD | BPF_W | BPF_ABS, "ld", Shape::Abs),
    form(BPF_LD | BPF_H | BPF_ABS, "ldh", Shape::Abs),
    form(BPF_LD | BPF_B | BPF_ABS, "ldb", Shape::Abs),
    form(BPF_LD | BPF_W | BPF_IND, "ld", Shape::Ind),
    form(BPF_LD | BPF_H | BPF_IND, "ldh", Shape::Ind),
    form(BPF_LD | BPF_B | BPF_IND, "ldb", Shape::Ind),
    form(BPF_LD | BPF_IMM, "ld", Shape::Imm),
    form(BPF_LD | BPF_W | BPF_LEN, "ld", Shape::Len),
    form(BPF_LD | BPF_MEM, "ld", Shape::Mem),
    form(BPF_LDX | BPF_IMM, "ldx", Shape::Imm),
    form(BPF_LDX | BPF_W | BPF_LEN, "ldx", Shape::Len),
    form(BPF_LDX | BPF_MEM, "ldx", Shape::Mem),
    form(BPF_LDX | BPF_B | BPF_MSH, "ldxb", Shape::Msh),
    form(BPF_ST, "st", Shape::Mem),
    form(BPF_STX, "stx", Shape::Mem),
    form(BPF_ALU | BPF_ADD | BPF_K, "add", Shape::Imm),
    form(BPF_ALU | BPF_ADD | BPF_X, "add", Shape::X),
    form(BPF_ALU | BPF_SUB | BPF_K, "sub", Shape::Imm),
    form(BPF_ALU | BPF_SUB | BPF_X, "sub", Shape::X),
    form(BPF_ALU | BPF_MUL | BPF_K, "mul", Shape::Imm),
    form(BPF_ALU | BPF_MUL | BPF_X, "mul", Shape::X),
    form(BPF_ALU | BPF_DIV | BPF_K, "div", Shape::Imm),
    form(BPF_ALU | BPF_DIV | BPF_X, "div", Shape::X),
    form(BPF_ALU | BPF_MOD | BPF_K, "mod", Shape::Imm),
    form(BPF_ALU | BPF_MOD | BPF_X, "mod", Shape::X),
    form(BPF_ALU | BPF_AND | BPF_K, "and", Shape::Imm),
    form(BPF_ALU | BPF_AND | BPF_X, "and", Shape::X),
    form(BPF_ALU | BPF_OR | BPF_K, "or", Shape::Imm),
    form(BPF_ALU | BPF_OR | BPF_X, "or", Shape::X),
    form(BPF_ALU | BPF_XOR | BPF_K, "xor", Shape::Imm),
    form(BPF_ALU | BPF_XOR | BPF_X, "xor", Shape::X),
    form(BPF_ALU | BPF_LSH | BPF_K, "lsh", Shape::Imm),
    form(BPF_ALU | BPF_LSH | BPF_X, "lsh", Shape::X),
    form(BPF_ALU | BPF_RSH | BPF_K, "rsh", Shape::Imm),
    form(BPF_ALU | BPF_RSH | BPF_X, "rsh", Shape::X),
    form(BPF_ALU | BPF_NEG, "neg", Shape::Bare),
    form(BPF_JMP | BPF_JA, "ja", Shape::Ja),
    form(BPF_JMP | BPF_JEQ | BPF_K, "jeq", Shape::CondK),
    form(BPF_JMP | BPF_JEQ | BPF_X, "jeq", Shape::CondX),
    form(BPF_JMP | BPF_JGT | BPF_K, "jgt", Shape::CondK),
    form(BPF_JMP | BPF_JGT | BPF_X, "jgt", Shape::CondX),
    form(BPF_JMP | BPF_JGE | BPF_K, "jge", Shape::CondK),
    form(BPF_JMP | BPF_JGE | BPF_X, "jge", Shape::CondX),
    form(BPF_JMP | BPF_JSET | BPF_K, "jset", Shape::CondK),
    form(BPF_JMP | BPF_JSET | BPF_X, "jset", Shape::CondX),
    form(BPF_RET | BPF_K, "ret", Shape::Imm),
    form(BPF_RET | BPF_A, "ret", Shape::A),
    form(BPF_MISC | BPF_TAX, "tax", Shape::Bare),
    form(BPF_MISC | BPF_TXA, "txa", Shape::Bare),
];

/// The form of a classic opcode; `None` outside `chk_code_allowed`.
pub(super) fn form_of(code: u16) -> Option<&'static Form> {
    if !classic_opcode_known(code) {
        return None;
    }
    FORMS.iter().find(|f| f.code == code)
}

/// A memory offset or cell index: decimal while small, hex beyond.
fn offset(k: u32) -> String {
    if k < 0x1_0000 {
        k.to_string()
    } else {
        format!("{k:#x}")
    }
}

/// The text of instruction `insn` at index `pc`, without index or comment:
/// `jeq #0x101, 8, 6`, `ret a {k=0x5}`, `.insn 0x000e, 0, 0, 0x0`.
pub fn insn_text(pc: usize, insn: &Insn) -> String {
    let Some(f) = form_of(insn.code) else {
        return format!(".insn {:#06x}, {}, {}, {:#x}", insn.code, insn.jt, insn.jf, insn.k);
    };
    let k = insn.k;
    let target = |off: u64| pc as u64 + 1 + off;
    let mut s = String::from(f.mnemonic);
    let operand = match f.shape {
        Shape::Bare => String::new(),
        Shape::Abs => format!("[{}]", offset(k)),
        Shape::Ind => format!("[x + {}]", offset(k)),
        Shape::Imm => format!("#{k:#x}"),
        Shape::Len => "#len".into(),
        Shape::Mem => format!("M[{}]", offset(k)),
        Shape::Msh => format!("4*([{}]&0xf)", offset(k)),
        Shape::X => "x".into(),
        Shape::A => "a".into(),
        Shape::Ja => target(k as u64).to_string(),
        Shape::CondK => {
            format!("#{k:#x}, {}, {}", target(insn.jt as u64), target(insn.jf as u64))
        }
        Shape::CondX => format!("x, {}, {}", target(insn.jt as u64), target(insn.jf as u64)),
    };
    if !operand.is_empty() {
        s.push(' ');
        s.push_str(&operand);
    }
    let [jt_free, jf_free, k_free] = f.shape.free_fields();
    let mut extra = Vec::new();
    if jt_free && insn.jt != 0 {
        extra.push(format!("jt={}", insn.jt));
    }
    if jf_free && insn.jf != 0 {
        extra.push(format!("jf={}", insn.jf));
    }
    if k_free && insn.k != 0 {
        extra.push(format!("k={:#x}", insn.k));
    }
    if !extra.is_empty() {
        let _ = write!(s, " {{{}}}", extra.join(", "));
    }
    s
}

/// How to disassemble.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisasmOptions {
    /// Add the `; …` comments (field names, syscall and arch names, actions).
    pub comments: bool,
    /// Assume every syscall comes from this arch (`--arch`): syscall numbers are
    /// named even where the filter itself never checks `arch`.
    pub arch: Option<Arch>,
}

impl Default for DisasmOptions {
    fn default() -> Self {
        DisasmOptions { comments: true, arch: None }
    }
}

/// One line of a listing, as the CLI renders it or serialises it (`--format json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListingLine {
    /// Instruction index.
    pub index: usize,
    /// The raw instruction.
    pub insn: Insn,
    /// The assembler text, without index and comment.
    pub text: String,
    /// What the instruction means on the paths that reach it; `None` when there
    /// is nothing to add or comments are off.
    pub comment: Option<String>,
}

/// The listing of `p`, one [`ListingLine`] per instruction.
///
/// With comments on, an instruction the kernel refuses also says why
/// (`refused: …`, from [`violations`]), so a rejected program can be read
/// line by line.
pub fn listing(p: &Program, opts: &DisasmOptions) -> Vec<ListingLine> {
    let comments = if opts.comments { commented(p, opts) } else { vec![None; p.len()] };
    p.insns
        .iter()
        .zip(comments)
        .enumerate()
        .map(|(index, (insn, comment))| ListingLine { index, insn: *insn, text: insn_text(index, insn), comment })
        .collect()
}

/// The dataflow comments, followed by the violations of each instruction.
fn commented(p: &Program, opts: &DisasmOptions) -> Vec<Option<String>> {
    let mut comments = Dataflow::run(p, opts.arch);
    for v in violations(p) {
        let Some(c) = v.insn.and_then(|i| comments.get_mut(i)) else { continue };
        let why = Violation { insn: None, rule: v.rule }.to_string();
        *c = Some(match c.take() {
            Some(c) => format!("{c}; refused: {why}"),
            None => format!("refused: {why}"),
        });
    }
    comments
}

/// Comments line up after the longest instruction text, but no further right
/// than this (a rare long line then pushes only its own comment).
const MAX_COMMENT_COLUMN: usize = 26;

/// Render listing lines as text: `   5: jeq #0x101, 8, 6  ; openat`.
pub fn render(lines: &[ListingLine]) -> String {
    let width = lines.last().map_or(1, |l| l.index.to_string().len()).max(4);
    let column = lines
        .iter()
        .filter(|l| l.comment.is_some())
        .map(|l| l.text.len())
        .filter(|&n| n <= MAX_COMMENT_COLUMN)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        let _ = write!(out, "{:>width$}: ", l.index);
        match &l.comment {
            Some(c) => {
                let _ = writeln!(out, "{:<column$} ; {c}", l.text);
            }
            None => {
                out.push_str(&l.text);
                out.push('\n');
            }
        }
    }
    out
}

/// The text listing of `p`: [`listing`] then [`render`].
pub fn disassemble(p: &Program, opts: &DisasmOptions) -> String {
    render(&listing(p, opts))
}

// ---------------------------------------------------------------------------
// The dataflow behind the comments.

/// Longest description of a computed value before it is given up (keeps long
/// ALU chains from producing unreadable, quadratic-size comments).
const MAX_DESCRIPTION: usize = 80;

/// What a register or scratch cell holds on every path reaching a point.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Val {
    /// Different things on different paths, or something we do not describe.
    Unknown,
    Const(u32),
    /// The 32-bit `seccomp_data` word at `off` (0 = nr, 4 = arch, …), named `desc`.
    Word {
        off: u32,
        desc: String,
    },
    /// A value computed from a word, e.g. `arg2 low & 0x3`.
    Derived(String),
}

impl Val {
    /// The description of a value computed from the input, if any.
    fn input_desc(&self) -> Option<&str> {
        match self {
            Val::Word { desc, .. } | Val::Derived(desc) => Some(desc),
            _ => None,
        }
    }

    fn describe(&self) -> Option<String> {
        match self {
            Val::Const(c) => Some(format!("{c:#x}")),
            v => v.input_desc().map(str::to_owned),
        }
    }

    fn join(&self, other: &Val) -> Val {
        if self == other {
            self.clone()
        } else {
            Val::Unknown
        }
    }
}

/// The `seccomp_data.arch` values possible at a point.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ArchSet {
    /// Exactly these values (empty: no arch value leads here).
    Only(BTreeSet<u32>),
    /// Any value except these.
    AllBut(BTreeSet<u32>),
}

impl ArchSet {
    fn any() -> ArchSet {
        ArchSet::AllBut(BTreeSet::new())
    }

    fn union(&self, other: &ArchSet) -> ArchSet {
        use ArchSet::*;
        match (self, other) {
            (Only(a), Only(b)) => Only(a | b),
            (AllBut(a), AllBut(b)) => AllBut(a & b),
            (Only(a), AllBut(b)) | (AllBut(b), Only(a)) => AllBut(b - a),
        }
    }

    /// Keep only the values for which `pred` may hold; `eq` is the single value
    /// `pred` accepts when it is an equality test (the only test that narrows an
    /// open set).
    fn refine(&self, pred: impl Fn(u32) -> bool, eq: Option<(u32, bool)>) -> ArchSet {
        match (self, eq) {
            (ArchSet::Only(s), _) => ArchSet::Only(s.iter().copied().filter(|&v| pred(v)).collect()),
            (ArchSet::AllBut(s), Some((v, true))) => {
                ArchSet::Only(if s.contains(&v) { BTreeSet::new() } else { BTreeSet::from([v]) })
            }
            (ArchSet::AllBut(s), Some((v, false))) => {
                let mut s = s.clone();
                s.insert(v);
                ArchSet::AllBut(s)
            }
            (open, None) => open.clone(),
        }
    }

    /// The known arch values, when the set is closed and not empty.
    fn known(&self) -> Option<&BTreeSet<u32>> {
        match self {
            ArchSet::Only(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// Byte order of the arguments when every possible arch agrees on it.
    fn little_endian(&self) -> Option<bool> {
        let s = self.known()?;
        let le = s.first()? & AUDIT_ARCH_LE != 0;
        s.iter().all(|&a| (a & AUDIT_ARCH_LE != 0) == le).then_some(le)
    }
}

/// The abstract machine state at an instruction.
#[derive(Clone, Debug)]
struct State {
    a: Val,
    x: Val,
    mem: Vec<Val>,
    arch: ArchSet,
}

impl State {
    fn join(&self, o: &State) -> State {
        State {
            a: self.a.join(&o.a),
            x: self.x.join(&o.x),
            mem: self.mem.iter().zip(&o.mem).map(|(a, b)| a.join(b)).collect(),
            arch: self.arch.union(&o.arch),
        }
    }
}

struct Dataflow {
    states: Vec<Option<State>>,
}

impl Dataflow {
    /// The comment of every instruction.
    fn run(p: &Program, arch: Option<Arch>) -> Vec<Option<String>> {
        let n = p.len();
        let mut df = Dataflow { states: vec![None; n] };
        if n == 0 {
            return Vec::new();
        }
        // A and X start at 0 (bpf_convert_filter clears them, net/core/filter.c);
        // M[] is uninitialised.
        df.states[0] = Some(State {
            a: Val::Const(0),
            x: Val::Const(0),
            mem: vec![Val::Unknown; BPF_MEMWORDS as usize],
            arch: match arch {
                Some(a) => ArchSet::Only(BTreeSet::from([a.audit_arch()])),
                None => ArchSet::any(),
            },
        });
        let mut out = Vec::with_capacity(n);
        for (pc, insn) in p.insns.iter().enumerate() {
            let Some(st) = df.states[pc].take() else {
                out.push(Some("unreachable".into()));
                continue;
            };
            out.push(comment(insn, &st));
            df.step(pc, insn, st);
        }
        out
    }

    fn flow(&mut self, target: u64, st: State) {
        if let Some(slot) = usize::try_from(target).ok().and_then(|t| self.states.get_mut(t)) {
            *slot = Some(match slot.take() {
                Some(old) => old.join(&st),
                None => st,
            });
        }
    }

    /// Apply `insn` to `st` and pass the result to its successors.
    fn step(&mut self, pc: usize, insn: &Insn, mut st: State) {
        let next = pc as u64 + 1;
        let Some(f) = form_of(insn.code) else {
            // Not classic BPF: the kernel refuses the program. Describe what
            // follows as if it fell through, knowing nothing about registers.
            st.a = Val::Unknown;
            st.x = Val::Unknown;
            st.mem.iter_mut().for_each(|m| *m = Val::Unknown);
            return self.flow(next, st);
        };
        let k = insn.k;
        let code = insn.code;
        let cell = |st: &State| st.mem.get(k as usize).cloned().unwrap_or(Val::Unknown);
        match code & 0x07 {
            BPF_LD => {
                st.a = match f.shape {
                    Shape::Abs if code & 0x18 == BPF_W => word(k, &st.arch),
                    Shape::Imm => Val::Const(k),
                    Shape::Len => Val::Const(SECCOMP_DATA_SIZE),
                    Shape::Mem => cell(&st),
                    _ => Val::Unknown,
                }
            }
            BPF_LDX => {
                st.x = match f.shape {
                    Shape::Imm => Val::Const(k),
                    Shape::Len => Val::Const(SECCOMP_DATA_SIZE),
                    Shape::Mem => cell(&st),
                    _ => Val::Unknown,
                }
            }
            BPF_ST | BPF_STX => {
                let v = if code == BPF_ST { st.a.clone() } else { st.x.clone() };
                if let Some(m) = st.mem.get_mut(k as usize) {
                    *m = v;
                }
            }
            BPF_ALU => {
                let operand = if f.shape == Shape::X { st.x.clone() } else { Val::Const(k) };
                st.a = alu(code, &st.a, &operand);
            }
            BPF_MISC => {
                if code == BPF_MISC | BPF_TAX {
                    st.x = st.a.clone();
                } else {
                    st.a = st.x.clone();
                }
            }
            BPF_RET => return,
            BPF_JMP if f.shape == Shape::Ja => return self.flow(next + k as u64, st),
            _ => {
                let (t, e) = (next + insn.jt as u64, next + insn.jf as u64);
                let operand = if f.shape == Shape::CondX { st.x.clone() } else { Val::Const(k) };
                let (mut taken, mut not_taken) = (st.clone(), st);
                if let (Val::Word { off: 4, .. }, Val::Const(c)) = (&taken.a, &operand) {
                    // What this test tells us about the arch word.
                    let c = *c;
                    let op = code & 0xf0;
                    let eq = (op == BPF_JEQ).then_some(c);
                    taken.arch = taken.arch.refine(|v| jump(op, v, c), eq.map(|v| (v, true)));
                    not_taken.arch = not_taken.arch.refine(|v| !jump(op, v, c), eq.map(|v| (v, false)));
                }
                self.flow(t, taken);
                self.flow(e, not_taken);
                return;
            }
        }
        self.flow(next, st);
    }
}

/// What `ld [k]` loads: a named word of `seccomp_data`, if `k` is one.
fn word(k: u32, arch: &ArchSet) -> Val {
    match word_name(k, arch) {
        Some(desc) => Val::Word { off: k, desc },
        None => Val::Unknown,
    }
}

/// The name of the `seccomp_data` word at `k`; for argument and instruction
/// pointer halves it depends on the byte order, which is only known once the arch is.
fn word_name(k: u32, arch: &ArchSet) -> Option<String> {
    if !k.is_multiple_of(4) || k >= SECCOMP_DATA_SIZE {
        return None;
    }
    Some(match (k, arch.little_endian()) {
        (0 | 4, _) => describe_offset(k, true),
        (_, Some(le)) => describe_offset(k, le),
        (_, None) => {
            let le = describe_offset(k, true);
            let be = describe_offset(k, false);
            let half = be.rsplit(' ').next().unwrap_or("");
            format!("{le} (LE) / {half} (BE)")
        }
    })
}

/// The value of `A op operand` (`op` from `code`), exactly as the kernel computes
/// it for constants ([`semantics::alu`]; a division by zero or a refused shift
/// has no value), and as a description when `A` comes from the input.
fn alu(code: u16, a: &Val, operand: &Val) -> Val {
    let op = code & 0xf0;
    if let (Val::Const(a), Val::Const(b)) = (a, operand) {
        let src = if code & BPF_X != 0 { Src::X } else { Src::K };
        return match semantics::alu(op, src, *a, *b) {
            Alu::Value(v) => Val::Const(v),
            Alu::ReturnsZero | Alu::Refused => Val::Unknown,
        };
    }
    if a.input_desc().is_none() {
        return Val::Unknown;
    }
    // Absorbing constants make the result independent of the input.
    match (op, operand) {
        (BPF_AND | BPF_MUL, Val::Const(0)) => return Val::Const(0),
        (BPF_OR, Val::Const(u32::MAX)) => return Val::Const(u32::MAX),
        _ => {}
    }
    match alu_expr(code, a, operand) {
        Some(text) if text.len() <= MAX_DESCRIPTION => Val::Derived(text),
        _ => Val::Unknown,
    }
}

/// `A op operand` as text, when `A` comes from the input: `arg2 low & 0x3`.
fn alu_expr(code: u16, a: &Val, operand: &Val) -> Option<String> {
    let base = match a {
        Val::Derived(d) => format!("({d})"),
        a => a.input_desc()?.to_owned(),
    };
    let sym = match code & 0xf0 {
        BPF_ADD => "+",
        BPF_SUB => "-",
        BPF_MUL => "*",
        BPF_DIV => "/",
        BPF_MOD => "%",
        BPF_AND => "&",
        BPF_OR => "|",
        BPF_XOR => "^",
        BPF_LSH => "<<",
        BPF_RSH => ">>",
        _ => return Some(format!("-{base}")), // BPF_NEG
    };
    Some(format!("{base} {sym} {}", operand_text(operand)?))
}

/// The comment for `insn` given the state on entry.
fn comment(insn: &Insn, st: &State) -> Option<String> {
    let Some(f) = form_of(insn.code) else {
        return None; // the validator's violation says what is wrong
    };
    let code = insn.code;
    let k = insn.k;
    let assigns = |what: &str, v: &Val| v.input_desc().map(|d| format!("{what} = {d}"));
    match code & 0x07 {
        BPF_LD | BPF_LDX => match f.shape {
            Shape::Abs if code & 0x18 == BPF_W => word_name(k, &st.arch),
            Shape::Len => Some("sizeof(seccomp_data) = 64".into()),
            Shape::Mem => {
                let v = st.mem.get(k as usize).unwrap_or(&Val::Unknown);
                assigns(if code & 0x07 == BPF_LD { "A" } else { "X" }, v)
            }
            _ => None,
        },
        BPF_ST => assigns(&format!("M[{k}]"), &st.a),
        BPF_STX => assigns(&format!("M[{k}]"), &st.x),
        BPF_ALU => {
            let operand = if f.shape == Shape::X { st.x.clone() } else { Val::Const(k) };
            match alu(code, &st.a, &operand) {
                Val::Const(c) => alu_expr(code, &st.a, &operand).map(|e| format!("{e} = {c:#x}")),
                v => v.input_desc().map(str::to_owned),
            }
        }
        BPF_MISC if code == BPF_MISC | BPF_TAX => assigns("X", &st.a),
        BPF_MISC => assigns("A", &st.x),
        BPF_RET if f.shape == Shape::Imm => Some(Action::from_ret(k).to_string()),
        BPF_RET => match &st.a {
            Val::Const(c) => Some(format!("A = {c:#x}: {}", Action::from_ret(*c))),
            v => v.input_desc().map(|d| format!("returns {d}")),
        },
        _ if f.shape == Shape::Ja => None,
        _ => {
            let operand = if f.shape == Shape::CondX { st.x.clone() } else { Val::Const(k) };
            jump_comment(code & 0xf0, &st.a, &operand, &st.arch)
        }
    }
}

fn op_symbol(op: u16) -> &'static str {
    match op {
        BPF_JEQ => "==",
        BPF_JGT => ">",
        BPF_JGE => ">=",
        _ => "&",
    }
}

fn jump_comment(op: u16, a: &Val, operand: &Val, arch: &ArchSet) -> Option<String> {
    match (a, operand) {
        (Val::Const(a), Val::Const(c)) => {
            let taken = if jump(op, *a, *c) { "always taken" } else { "never taken" };
            Some(format!("{a:#x} {} {c:#x}: {taken}", op_symbol(op)))
        }
        (Val::Word { off: 4, .. }, Val::Const(c)) if op == BPF_JEQ => {
            Some(Arch::audit_name_of(*c).map_or_else(|| format!("arch {c:#x}: not an AUDIT_ARCH value"), str::to_owned))
        }
        (Val::Word { off: 0, .. }, Val::Const(c)) => Some(nr_comment(op, *c, arch)),
        (a, x) => {
            let a = operand_text(a)?;
            let x = operand_text(x).unwrap_or_else(|| "X".into());
            Some(format!("{a} {} {x}", op_symbol(op)))
        }
    }
}

/// A value as an operand of a comparison in a comment: input words by name,
/// computed values in parentheses, constants in hex.
fn operand_text(v: &Val) -> Option<String> {
    match v {
        Val::Derived(d) => Some(format!("({d})")),
        v => v.describe(),
    }
}

/// A comparison of `nr` with `c`: name `c` per the arch on this path.
fn nr_comment(op: u16, c: u32, arch: &ArchSet) -> String {
    let x86_64 = Arch::X86_64.audit_arch();
    let x32_test = matches!((op, c), (BPF_JGE | BPF_JSET, X32_SYSCALL_BIT) | (BPF_JGT, 0x3fff_ffff));
    let Some(arches) = arch.known() else {
        return format!("nr {} {c:#x} (arch unknown)", op_symbol(op));
    };
    if x32_test && arches.contains(&x86_64) {
        let on = if arches.len() > 1 { " on x86_64" } else { "" };
        return format!("x32 syscalls{on} (__X32_SYSCALL_BIT)");
    }
    match op {
        // `syscall(-1)` reaches seccomp with nr == -1, on every arch.
        BPF_JEQ if c == u32::MAX => "nr == -1 (no syscall)".into(),
        BPF_JEQ => syscall_names(c, arches),
        BPF_JSET => format!("nr & {c:#x}"),
        _ => format!("nr {} {}", op_symbol(op), syscall_names(c, arches)),
    }
}

/// The syscall numbered `nr` on each of `arches` (AUDIT_ARCH values):
/// `openat`, `write (x32)`, `openat (x86_64) / none (i386)`.
fn syscall_names(nr: u32, arches: &BTreeSet<u32>) -> String {
    // Table order (x86_64 first), unknown arch values last.
    let mut per_arch: Vec<(usize, String, Option<&str>, bool)> = arches
        .iter()
        .map(|&audit| match Arch::from_audit(audit, nr) {
            Some(a) => {
                let pos = Arch::all().position(|b| b == a).unwrap_or(usize::MAX);
                (pos, a.name().to_owned(), a.syscall_name(nr), a == Arch::X32)
            }
            None => (usize::MAX, format!("arch {audit:#x}"), None, false),
        })
        .collect();
    per_arch.sort();
    if let [(_, arch, name, x32)] = per_arch.as_slice() {
        return match (name, x32) {
            (Some(n), false) => (*n).to_owned(),
            (Some(n), true) => format!("{n} ({arch})"),
            (None, _) => format!("no {arch} syscall"),
        };
    }
    let first = per_arch[0].2;
    if first.is_some() && per_arch.iter().all(|(_, _, n, x32)| *n == first && !x32) {
        return first.unwrap_or_default().to_owned();
    }
    per_arch
        .iter()
        .map(|(_, arch, name, _)| format!("{} ({arch})", name.unwrap_or("none")))
        .collect::<Vec<_>>()
        .join(" / ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// libseccomp 2.5.4, `seccomp_export_bpf` of (native arch x86_64 only):
    /// ```c
    /// ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    /// seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 0);
    /// seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0);
    /// seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
    /// seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getpid), 0);
    /// seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
    ///                  SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDONLY));
    /// seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
    ///                  SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY));
    /// ```
    /// It refuses x32 numbers (`jge #0x40000000`) and checks both halves of arg2.
    pub(crate) fn libseccomp_x86_64() -> Program {
        Program::new(vec![
            Insn::new(0x0020, 0, 0, 0x4),
            Insn::new(0x0015, 0, 19, 0xc000003e),
            Insn::new(0x0020, 0, 0, 0x0),
            Insn::new(0x0035, 0, 1, 0x40000000),
            Insn::new(0x0015, 0, 16, 0xffffffff),
            Insn::new(0x0015, 13, 0, 0x0),
            Insn::new(0x0015, 12, 0, 0x1),
            Insn::new(0x0015, 0, 1, 0x27),
            Insn::new(0x0006, 0, 0, 0x50001),
            Insn::new(0x0015, 9, 0, 0xe7),
            Insn::new(0x0015, 0, 7, 0x101),
            Insn::new(0x0020, 0, 0, 0x24),
            Insn::new(0x0054, 0, 0, 0x0),
            Insn::new(0x0015, 0, 4, 0x0),
            Insn::new(0x0020, 0, 0, 0x20),
            Insn::new(0x0054, 0, 0, 0x3),
            Insn::new(0x0015, 3, 0, 0x1),
            Insn::new(0x0015, 1, 0, 0x0),
            Insn::new(0x0006, 0, 0, 0x80000000),
            Insn::new(0x0006, 0, 0, 0x7fff0000),
            Insn::new(0x0006, 0, 0, 0x5000d),
            Insn::new(0x0006, 0, 0, 0x0),
        ])
    }

    /// The same rules with `seccomp_arch_add(ctx, SCMP_ARCH_X32)` and
    /// `SCMP_ARCH_X86`: one block for x86_64 and x32 numbers, one for i386.
    pub(crate) fn libseccomp_x86_multi() -> Program {
        Program::new(vec![
            Insn::new(0x0020, 0, 0, 0x4),
            Insn::new(0x0015, 0, 14, 0xc000003e),
            Insn::new(0x0020, 0, 0, 0x0),
            Insn::new(0x0015, 25, 0, 0x0),
            Insn::new(0x0015, 24, 0, 0x1),
            Insn::new(0x0015, 15, 0, 0x27),
            Insn::new(0x0015, 22, 0, 0xe7),
            Insn::new(0x0015, 21, 0, 0x40000000),
            Insn::new(0x0015, 20, 0, 0x40000001),
            Insn::new(0x0015, 11, 0, 0x40000027),
            Insn::new(0x0015, 18, 0, 0x400000e7),
            Insn::new(0x0015, 12, 0, 0x40000101),
            Insn::new(0x0015, 0, 15, 0x101),
            Insn::new(0x0020, 0, 0, 0x24),
            Insn::new(0x0054, 0, 0, 0x0),
            Insn::new(0x0015, 8, 12, 0x0),
            Insn::new(0x0015, 0, 14, 0x40000003),
            Insn::new(0x0020, 0, 0, 0x0),
            Insn::new(0x0015, 10, 0, 0x3),
            Insn::new(0x0015, 9, 0, 0x4),
            Insn::new(0x0015, 0, 1, 0x14),
            Insn::new(0x0006, 0, 0, 0x50001),
            Insn::new(0x0015, 6, 0, 0xfc),
            Insn::new(0x0015, 0, 4, 0x127),
            Insn::new(0x0020, 0, 0, 0x20),
            Insn::new(0x0054, 0, 0, 0x3),
            Insn::new(0x0015, 3, 0, 0x1),
            Insn::new(0x0015, 1, 0, 0x0),
            Insn::new(0x0006, 0, 0, 0x80000000),
            Insn::new(0x0006, 0, 0, 0x7fff0000),
            Insn::new(0x0006, 0, 0, 0x5000d),
            Insn::new(0x0006, 0, 0, 0x0),
        ])
    }

    fn opts() -> DisasmOptions {
        DisasmOptions::default()
    }

    fn comments(p: &Program, opts: &DisasmOptions) -> Vec<Option<String>> {
        listing(p, opts).into_iter().map(|l| l.comment).collect()
    }

    #[test]
    fn libseccomp_x86_64_listing() {
        insta::assert_snapshot!(disassemble(&libseccomp_x86_64(), &opts()));
    }

    /// The names of the x32 and i386 numbers come from the syscall tables: this
    /// snapshot changes (for the better) when they grow.
    #[test]
    fn libseccomp_x86_multi_arch_listing() {
        insta::assert_snapshot!(disassemble(&libseccomp_x86_multi(), &opts()));
    }

    /// The example of the design brief, line for line.
    #[test]
    fn reads_like_the_brief() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 1, 0),
            Insn::stmt(BPF_RET | BPF_K, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 4, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0x101, 2, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0x0, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::stmt(BPF_RET | BPF_K, 0x5_0001),
            Insn::stmt(BPF_RET | BPF_K, 0x8000_0000),
        ]);
        let text = disassemble(&p, &opts());
        let expected = [
            "   0: ld [4]                ; arch",
            "   1: jeq #0xc000003e, 3, 2 ; AUDIT_ARCH_X86_64",
            "   2: ret #0x0              ; KILL_THREAD",
            "   3: ld [0]                ; nr",
            "   4: jge #0x40000000, 9, 5 ; x32 syscalls (__X32_SYSCALL_BIT)",
            "   5: jeq #0x101, 8, 6      ; openat",
            "   6: jeq #0x0, 7, 8        ; read",
            "   7: ret #0x7fff0000       ; ALLOW",
            "   8: ret #0x50001          ; ERRNO(1) EPERM",
            "   9: ret #0x80000000       ; KILL_PROCESS",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected, "\n{text}");
    }

    /// Names follow the arch known on each path: both arches after a join, none
    /// where only "not x86_64" is known, x32 names for x32 numbers.
    #[test]
    fn names_syscalls_per_arch_on_the_path() {
        let x86 = Arch::X86_64.audit_arch();
        let i386 = Arch::I386.audit_arch();
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),                  // 0
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, x86, 2, 0),         // 1: x86_64 -> 4
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, i386, 1, 0),        // 2: i386 -> 4
            Insn::stmt(BPF_JMP | BPF_JA, 4),                          // 3: other -> 8
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),                  // 4
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 257, 0, 0),         // 5
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),                  // 6
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, x86, 0, 6),         // 7: x86_64 -> 8
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),                  // 8: x86_64 or not i386/x86_64
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 257, 0, 0),         // 9
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),                  // 10
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, x86, 0, 2),         // 11
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),                  // 12: x86_64
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0x4000_0001, 0, 0), // 13
            Insn::stmt(BPF_RET | BPF_K, 0),                           // 14
        ]);
        let c = comments(&p, &opts());
        let i386_257 = Arch::I386.syscall_name(257).unwrap_or("none");
        assert_eq!(c[5].as_deref(), Some(format!("openat (x86_64) / {i386_257} (i386)").as_str()));
        // 8 is reached from 3 (arch neither x86_64 nor i386) and from 7: unknown.
        assert_eq!(c[9].as_deref(), Some("nr == 0x101 (arch unknown)"));
        let x32 = Arch::X32.syscall_name(0x4000_0001).map_or("no x32 syscall".into(), |n| format!("{n} (x32)"));
        assert_eq!(c[13].as_deref(), Some(x32.as_str()));
    }

    #[test]
    fn fixed_arch_names_numbers_and_argument_halves() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0),
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 16),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let none = comments(&p, &opts());
        assert_eq!(none[1].as_deref(), Some("nr == 0x1 (arch unknown)"));
        assert_eq!(none[2].as_deref(), Some("arg0 low (LE) / high (BE)"));
        assert_eq!(none[3].as_deref(), Some("returns arg0 low (LE) / high (BE)"));
        let x86 = comments(&p, &DisasmOptions { arch: Some(Arch::X86_64), ..opts() });
        assert_eq!(x86[1].as_deref(), Some("write"));
        assert_eq!(x86[2].as_deref(), Some("arg0 low"));
        let s390x = comments(&p, &DisasmOptions { arch: Some(Arch::S390x), ..opts() });
        assert_eq!(s390x[2].as_deref(), Some("arg0 high"));
    }

    #[test]
    fn tracks_values_through_x_and_scratch_memory() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),        // 0
            Insn::stmt(BPF_ST, 2),                          // 1: M[2] = arch
            Insn::stmt(BPF_LDX | BPF_IMM, 0xc000_003e),     // 2
            Insn::stmt(BPF_LD | BPF_MEM, 2),                // 3: A = arch
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 4), // 4: arch == X86_64
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 20),       // 5
            Insn::stmt(BPF_MISC | BPF_TAX, 0),              // 6: X = arg0 high
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 0),        // 7
            Insn::jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 0), // 8: nr > arg0 high
            Insn::stmt(BPF_LD | BPF_IMM, 0x7fff_0000),      // 9
            Insn::stmt(BPF_RET | BPF_A, 0),                 // 10
        ]);
        let c = comments(&p, &opts());
        assert_eq!(c[1].as_deref(), Some("M[2] = arch"));
        assert_eq!(c[3].as_deref(), Some("A = arch"));
        assert_eq!(c[4].as_deref(), Some("AUDIT_ARCH_X86_64"));
        assert_eq!(c[5].as_deref(), Some("arg0 high"), "the arch is known here: x86_64 is little-endian");
        assert_eq!(c[6].as_deref(), Some("X = arg0 high"));
        assert_eq!(c[8].as_deref(), Some("nr > arg0 high"));
        assert_eq!(c[9], None);
        assert_eq!(c[10].as_deref(), Some("A = 0x7fff0000: ALLOW"));
    }

    #[test]
    fn constant_comparisons_and_alu_are_evaluated() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 24), // arg1 (LE/BE unknown)
            Insn::stmt(BPF_ALU | BPF_RSH | BPF_K, 4),
            Insn::stmt(BPF_ALU | BPF_AND | BPF_K, 0xf),
            Insn::jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 0),
            Insn::stmt(BPF_ALU | BPF_MUL | BPF_K, 0),
            Insn::jump(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 0),
            Insn::stmt(BPF_RET | BPF_A, 0),
        ]);
        let c = comments(&p, &DisasmOptions { arch: Some(Arch::Aarch64), ..opts() });
        assert_eq!(c[1].as_deref(), Some("arg1 low >> 0x4"));
        assert_eq!(c[2].as_deref(), Some("(arg1 low >> 0x4) & 0xf"));
        assert_eq!(c[3].as_deref(), Some("((arg1 low >> 0x4) & 0xf) & 0x1"));
        assert_eq!(c[4].as_deref(), Some("((arg1 low >> 0x4) & 0xf) * 0x0 = 0x0"));
        assert_eq!(c[5].as_deref(), Some("0x0 >= 0x1: never taken"));
        assert_eq!(c[6].as_deref(), Some("A = 0x0: KILL_THREAD"));
    }

    /// A program the kernel refuses is listed completely: targets past the end
    /// as numbers, unknown opcodes raw, ignored fields in braces, dead code marked.
    #[test]
    fn invalid_program_listing() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 66),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 200, 0),
            Insn::stmt(BPF_LD | BPF_H | BPF_ABS, 2),
            Insn::new(BPF_RET | BPF_A, 3, 0, 5),
            Insn::new(0x000e, 1, 2, 3),
            Insn::new(BPF_MISC | BPF_TAX, 3, 0, 0),
            Insn::stmt(BPF_JMP | BPF_JA, u32::MAX),
            Insn::new(BPF_LD | BPF_W | BPF_ABS, 1, 1, 9),
        ]);
        insta::assert_snapshot!(disassemble(&p, &opts()));
    }

    #[test]
    fn comments_can_be_left_out() {
        let text = disassemble(&libseccomp_x86_64(), &DisasmOptions { comments: false, ..opts() });
        assert!(!text.contains(';'));
        assert!(text.starts_with("   0: ld [4]\n   1: jeq #0xc000003e, 2, 21\n"), "{text}");
    }

    #[test]
    fn json_listing() {
        let p = Program::new(vec![
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 1),
            Insn::stmt(BPF_RET | BPF_K, 0x7fff_0000),
            Insn::new(BPF_RET | BPF_A, 0, 0, 0),
        ]);
        insta::assert_json_snapshot!(listing(&p, &opts()));
    }

    /// Index column widens past 9999 instructions (decodable, not loadable).
    #[test]
    fn wide_programs_keep_aligned_indices() {
        let p = Program::new(vec![Insn::stmt(BPF_RET | BPF_K, 0); 10_001]);
        let text = disassemble(&p, &DisasmOptions { comments: false, ..opts() });
        assert!(text.starts_with("    0: ret #0x0\n"));
        assert!(text.ends_with("10000: ret #0x0\n"));
    }
}
