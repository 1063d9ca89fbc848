//! The assembler: the disassembler's text back into a [`Program`].
//!
//! Why it exists: to write test filters and to edit a real filter by hand
//! (`seccheck disasm f.bpf > f.s`, edit, `seccheck asm f.s -o f2.bpf`) without
//! losing a single bit. It accepts exactly the syntax documented in
//! [`crate::bpf::disasm`] (the `N:` index prefix optional, `;` comments ignored),
//! so `assemble(&disassemble(p, _)) == Ok(p)` for every program that
//! decodes, valid or not. Additions for people writing filters by hand:
//!
//! - labels: `name:` before an instruction (or alone on a line) names its index,
//!   and a jump target may be a label instead of an index
//!   (`jeq #0x101, allow, next`);
//! - numbers in decimal or `0x` hex anywhere;
//! - mnemonics and the register names `x`, `a`, `M`, `len` in any case;
//! - `jmp` for `ja`, `ldx 4*([k]&0xf)` for `ldxb`, and `bpf_asm`'s
//!   `jeq #k, T` meaning "else fall through".
//!
//! The assembler does not validate: a program the kernel would refuse assembles
//! when its text is well formed, like the disassembler prints it. Every line's
//! error is reported, each with its line number and what was expected; nothing
//! here panics.

use super::disasm::{Shape, FORMS};
use super::insn::{Insn, Program, BPF_B, BPF_LDX, BPF_MSH};
use std::collections::HashMap;

/// A mistake at one line of the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct AsmError {
    /// 1-based line number.
    pub line: usize,
    pub kind: AsmErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsmErrorKind {
    /// A character that starts no token (`;` starts a comment).
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    /// Digits that do not form a number.
    #[error("`{text}` is not a number; expected decimal or 0x-prefixed hex")]
    BadNumber { text: String },
    /// A number too large for its field.
    #[error("{what} `{text}` is too large; expected at most {max:#x}")]
    OutOfRange { what: &'static str, text: String, max: u64 },
    /// Something else than the syntax allows here.
    #[error("expected {expected}, found {found}")]
    Expected { expected: String, found: String },
    #[error("unknown mnemonic `{0}`; expected an instruction such as `ld`, `jeq`, `ret`, or `.insn`")]
    UnknownMnemonic(String),
    /// A known mnemonic with an operand it does not take (`ret [4]`).
    #[error("`{mnemonic}` takes {expected}, found {found}")]
    WrongOperand { mnemonic: String, expected: String, found: String },
    /// The `N:` prefix names another index than the instruction's position.
    #[error("index prefix {written}: this is instruction {actual} (jump targets are absolute indices; renumber or use labels)")]
    IndexMismatch { written: u64, actual: usize },
    #[error("label `{name}` is already defined on line {first_line}")]
    DuplicateLabel { name: String, first_line: usize },
    #[error("label `{name}` is not defined")]
    UndefinedLabel { name: String },
    /// A target at or before the jump itself.
    #[error("jump target {target} is not after instruction {pc}; classic BPF jumps only forward")]
    BackwardJump { pc: usize, target: u64 },
    /// A target beyond what the offset field can encode.
    #[error("jump target {target} is out of reach of instruction {pc}; expected at most {max} ({field} offset)")]
    TooFar { pc: usize, target: u64, max: u64, field: &'static str },
    /// `{k=…}` on an instruction whose `k` is its operand, and the like.
    #[error("`{field}` is an operand of `{mnemonic}`: write it there, not in {{…}}")]
    FieldNotFree { field: &'static str, mnemonic: String },
    #[error("field `{field}` given twice")]
    DuplicateField { field: &'static str },
    /// A source with no instruction at all (the line is the last one).
    #[error("no instructions; a filter needs at least one")]
    Empty,
}

/// Assemble `src`; on failure return every error, in line order.
pub fn assemble(src: &str) -> Result<Program, Vec<AsmError>> {
    let mut errors = Vec::new();
    let mut labels: HashMap<String, (usize, usize)> = HashMap::new(); // name -> (index, line)
    let mut pending: Vec<Pending> = Vec::new();
    let mut last_line = 0;
    for (i, raw) in src.lines().enumerate() {
        let line = i + 1;
        last_line = line;
        let text = raw.split(';').next().unwrap_or("");
        let mut p = Parser { toks: lex(text), pos: 0 };
        let pc = pending.len();
        // Prefixes: `N:` and `label:`.
        let mut had_index = false;
        while let (Some(t), Some(Tok::Punct(':'))) = (p.peek(), p.peek_at(1)) {
            match t {
                Tok::Num(s) => {
                    had_index = true;
                    match number(s, "index prefix", u64::MAX) {
                        Ok(n) if n != pc as u64 => {
                            errors.push(AsmError { line, kind: AsmErrorKind::IndexMismatch { written: n, actual: pc } })
                        }
                        Ok(_) => {}
                        Err(kind) => errors.push(AsmError { line, kind }),
                    }
                }
                Tok::Word(name) => {
                    if let Some(&(_, first_line)) = labels.get(name) {
                        errors.push(AsmError {
                            line,
                            kind: AsmErrorKind::DuplicateLabel { name: name.into(), first_line },
                        });
                    } else {
                        labels.insert(name.into(), (pc, line));
                    }
                }
                _ => break,
            }
            p.pos += 2;
        }
        if p.at_end() {
            if had_index {
                errors.push(AsmError {
                    line,
                    kind: AsmErrorKind::Expected {
                        expected: "an instruction after the index".into(),
                        found: "end of line".into(),
                    },
                });
            }
            continue;
        }
        // Every line with more than prefixes is an instruction, even a broken
        // one, so the indices of the lines after it stay right.
        match p.instruction(pc) {
            Ok(mut ins) => {
                ins.line = line;
                pending.push(ins);
            }
            Err(kind) => {
                errors.push(AsmError { line, kind });
                pending.push(Pending { line, insn: Insn::new(0, 0, 0, 0), targets: Targets::None });
            }
        }
    }
    if pending.is_empty() && errors.is_empty() {
        errors.push(AsmError { line: last_line.max(1), kind: AsmErrorKind::Empty });
    }
    let mut insns = Vec::with_capacity(pending.len());
    for (pc, p) in pending.into_iter().enumerate() {
        let mut resolve = |t: Target, max: u64, field: &'static str| -> Option<u64> {
            let target = match t {
                Target::Index(n) => n,
                Target::Label(name) => match labels.get(&name) {
                    Some(&(index, _)) => index as u64,
                    None => {
                        errors.push(AsmError { line: p.line, kind: AsmErrorKind::UndefinedLabel { name } });
                        return None;
                    }
                },
            };
            let kind = match target.checked_sub(pc as u64 + 1) {
                Some(off) if off <= max => return Some(off),
                Some(_) => AsmErrorKind::TooFar { pc, target, max: pc as u64 + 1 + max, field },
                None => AsmErrorKind::BackwardJump { pc, target },
            };
            errors.push(AsmError { line: p.line, kind });
            None
        };
        let mut insn = p.insn;
        match p.targets {
            Targets::None => {}
            Targets::Ja(t) => insn.k = resolve(t, u32::MAX as u64, "32-bit k").unwrap_or(0) as u32,
            Targets::Cond(t, f) => {
                insn.jt = resolve(t, u8::MAX as u64, "8-bit jt").unwrap_or(0) as u8;
                insn.jf = resolve(f, u8::MAX as u64, "8-bit jf").unwrap_or(0) as u8;
            }
        }
        insns.push(insn);
    }
    if errors.is_empty() {
        Ok(Program::new(insns))
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    Word(&'a str),
    Punct(char),
    /// A character no token starts with; reported when the parser reaches it.
    Bad(char),
}

fn lex(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let run = |chars: &mut std::iter::Peekable<std::str::CharIndices>, ok: fn(char) -> bool| {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !ok(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            &text[start..end]
        };
        match c {
            c if c.is_whitespace() => {}
            '0'..='9' => out.push(Tok::Num(run(&mut chars, |d| d.is_ascii_alphanumeric() || d == '_'))),
            c if c.is_ascii_alphabetic() || c == '_' || c == '.' => {
                out.push(Tok::Word(run(&mut chars, |d| d.is_ascii_alphanumeric() || d == '_' || d == '.')))
            }
            '#' | '[' | ']' | ',' | ':' | '+' | '*' | '(' | ')' | '&' | '{' | '}' | '=' => out.push(Tok::Punct(c)),
            c => out.push(Tok::Bad(c)),
        }
    }
    out
}

/// Parse a decimal or `0x` hex number no larger than `max`.
fn number(text: &str, what: &'static str, max: u64) -> Result<u64, AsmErrorKind> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(AsmErrorKind::BadNumber { text: text.into() });
    }
    match u64::from_str_radix(digits, radix) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(AsmErrorKind::OutOfRange { what, text: text.into(), max }),
    }
}

enum Target {
    Index(u64),
    Label(String),
}

enum Targets {
    None,
    Ja(Target),
    Cond(Target, Target),
}

/// An instruction whose jump targets may still be labels.
struct Pending {
    line: usize,
    insn: Insn,
    targets: Targets,
}

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
}

fn describe(t: Option<Tok<'_>>) -> String {
    match t {
        None => "end of line".into(),
        Some(Tok::Num(s) | Tok::Word(s)) => format!("`{s}`"),
        Some(Tok::Punct(c) | Tok::Bad(c)) => format!("`{c}`"),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.peek_at(0)
    }
    fn peek_at(&self, n: usize) -> Option<Tok<'a>> {
        self.toks.get(self.pos + n).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn found(&self) -> String {
        describe(self.peek())
    }
    fn error(&self, expected: impl Into<String>) -> AsmErrorKind {
        match self.peek() {
            Some(Tok::Bad(c)) => AsmErrorKind::UnexpectedChar(c),
            _ => AsmErrorKind::Expected { expected: expected.into(), found: self.found() },
        }
    }
    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(Tok::Punct(c))
    }
    /// Is the next token the keyword `w` (any case)?
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(s)) if s.eq_ignore_ascii_case(w))
    }
    fn punct(&mut self, c: char) -> Result<(), AsmErrorKind> {
        if self.is_punct(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("`{c}`")))
        }
    }
    fn num(&mut self, what: &'static str, max: u64) -> Result<u64, AsmErrorKind> {
        match self.peek() {
            Some(Tok::Num(s)) => {
                self.pos += 1;
                number(s, what, max)
            }
            _ => Err(self.error(what)),
        }
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, AsmErrorKind> {
        self.num(what, u32::MAX as u64).map(|n| n as u32)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, AsmErrorKind> {
        self.num(what, u8::MAX as u64).map(|n| n as u8)
    }
    fn end(&self) -> Result<(), AsmErrorKind> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("end of line (or a `;` comment)"))
        }
    }

    fn target(&mut self) -> Result<Target, AsmErrorKind> {
        match self.peek() {
            Some(Tok::Num(s)) => {
                self.pos += 1;
                Ok(Target::Index(number(s, "jump target", u64::MAX)?))
            }
            Some(Tok::Word(s)) => {
                self.pos += 1;
                Ok(Target::Label(s.into()))
            }
            _ => Err(self.error("a jump target (instruction index or label)")),
        }
    }

    /// One instruction, from the mnemonic to the end of the line.
    fn instruction(&mut self, pc: usize) -> Result<Pending, AsmErrorKind> {
        let Some(Tok::Word(m)) = self.peek() else {
            return Err(self.error("an instruction mnemonic"));
        };
        self.pos += 1;
        let mnemonic = m.to_ascii_lowercase();
        if mnemonic == ".insn" {
            let code = self.num("code", u16::MAX as u64)? as u16;
            self.punct(',')?;
            let jt = self.u8("jt")?;
            self.punct(',')?;
            let jf = self.u8("jf")?;
            self.punct(',')?;
            let k = self.u32("k")?;
            self.end()?;
            return Ok(Pending { line: 0, insn: Insn::new(code, jt, jf, k), targets: Targets::None });
        }
        let mnemonic = if mnemonic == "jmp" { "ja".to_owned() } else { mnemonic };
        let forms: Vec<_> = FORMS.iter().filter(|f| f.mnemonic == mnemonic).collect();
        if forms.is_empty() {
            return Err(AsmErrorKind::UnknownMnemonic(m.into()));
        }
        let mut insn = Insn::new(0, 0, 0, 0);
        let mut targets = Targets::None;
        let shape = match forms[0].shape {
            Shape::Ja => {
                targets = Targets::Ja(self.target()?);
                Shape::Ja
            }
            Shape::CondK | Shape::CondX => {
                let shape = if self.is_punct('#') {
                    self.pos += 1;
                    insn.k = self.u32("an immediate")?;
                    Shape::CondK
                } else if self.is_word("x") {
                    self.pos += 1;
                    Shape::CondX
                } else {
                    return Err(self.error("`#k` or `x`"));
                };
                self.punct(',')?;
                let t = self.target()?;
                let f = if self.is_punct(',') {
                    self.pos += 1;
                    self.target()?
                } else {
                    Target::Index(pc as u64 + 1)
                };
                targets = Targets::Cond(t, f);
                shape
            }
            _ => {
                let start = self.pos;
                let (shape, k) = self.operand()?;
                insn.k = k;
                let alias_msh = mnemonic == "ldx" && shape == Shape::Msh;
                if !alias_msh && !forms.iter().any(|f| f.shape == shape) {
                    self.pos = start;
                    let expected: Vec<_> = forms.iter().map(|f| f.shape.syntax()).collect();
                    return Err(AsmErrorKind::WrongOperand {
                        mnemonic,
                        expected: expected.join(" or "),
                        found: describe_shape(shape, self.peek()),
                    });
                }
                shape
            }
        };
        insn.code = match FORMS.iter().find(|f| f.mnemonic == mnemonic && f.shape == shape) {
            Some(f) => f.code,
            None => BPF_LDX | BPF_B | BPF_MSH, // `ldx 4*([k]&0xf)`, checked above
        };
        if self.is_punct('{') {
            self.fields(&mnemonic, shape, &mut insn)?;
        }
        self.end()?;
        Ok(Pending { line: 0, insn, targets })
    }

    /// The operand of a non-jump instruction: its shape and `k`.
    fn operand(&mut self) -> Result<(Shape, u32), AsmErrorKind> {
        match self.peek() {
            None | Some(Tok::Punct('{')) => Ok((Shape::Bare, 0)),
            Some(Tok::Punct('#')) => {
                self.pos += 1;
                if self.is_word("len") {
                    self.pos += 1;
                    Ok((Shape::Len, 0))
                } else {
                    Ok((Shape::Imm, self.u32("an immediate or `len`")?))
                }
            }
            Some(Tok::Punct('[')) => {
                self.pos += 1;
                let shape = if self.is_word("x") {
                    self.pos += 1;
                    self.punct('+')?;
                    Shape::Ind
                } else {
                    Shape::Abs
                };
                let k = self.u32("an offset")?;
                self.punct(']')?;
                Ok((shape, k))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("m") && self.peek_at(1) == Some(Tok::Punct('[')) => {
                self.pos += 2;
                let k = self.u32("a scratch memory index")?;
                self.punct(']')?;
                Ok((Shape::Mem, k))
            }
            Some(Tok::Num(_)) if self.peek_at(1) == Some(Tok::Punct('*')) => {
                let start = self.pos;
                if self.num("4", u64::MAX)? != 4 {
                    self.pos = start;
                    return Err(self.error("`4` (as in `4*([k]&0xf)`)"));
                }
                self.punct('*')?;
                self.punct('(')?;
                self.punct('[')?;
                let k = self.u32("an offset")?;
                self.punct(']')?;
                self.punct('&')?;
                let at = self.pos;
                if self.num("0xf", u64::MAX)? != 0xf {
                    self.pos = at;
                    return Err(self.error("`0xf` (as in `4*([k]&0xf)`)"));
                }
                self.punct(')')?;
                Ok((Shape::Msh, k))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("x") => {
                self.pos += 1;
                Ok((Shape::X, 0))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("a") => {
                self.pos += 1;
                Ok((Shape::A, 0))
            }
            Some(Tok::Bad(c)) => Err(AsmErrorKind::UnexpectedChar(c)),
            _ => Err(self.error("an operand: #k, #len, [k], [x + k], M[k], 4*([k]&0xf), x or a")),
        }
    }

    /// `{jt=N, jf=N, k=N}`: values of the fields the instruction ignores.
    fn fields(&mut self, mnemonic: &str, shape: Shape, insn: &mut Insn) -> Result<(), AsmErrorKind> {
        self.punct('{')?;
        let free = shape.free_fields();
        let mut seen = [false; 3];
        loop {
            let (i, field) = match self.peek() {
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("jt") => (0, "jt"),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("jf") => (1, "jf"),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("k") => (2, "k"),
                _ => return Err(self.error("`jt`, `jf` or `k`")),
            };
            if !free[i] {
                return Err(AsmErrorKind::FieldNotFree { field, mnemonic: mnemonic.into() });
            }
            if seen[i] {
                return Err(AsmErrorKind::DuplicateField { field });
            }
            seen[i] = true;
            self.pos += 1;
            self.punct('=')?;
            match i {
                0 => insn.jt = self.u8("jt")?,
                1 => insn.jf = self.u8("jf")?,
                _ => insn.k = self.u32("k")?,
            }
            if self.is_punct(',') {
                self.pos += 1;
                continue;
            }
            return self.punct('}');
        }
    }
}

/// How a parsed operand reads in an error message.
fn describe_shape(shape: Shape, next: Option<Tok<'_>>) -> String {
    match shape {
        Shape::Bare => describe(next),
        s => format!("`{}`", s.syntax()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::bpf::decode::{decode, ByteOrder};
    use crate::bpf::disasm::{disassemble, insn_text, DisasmOptions};
    use crate::bpf::insn::*;
    use crate::testgen::strategies;
    use proptest::prelude::*;

    fn asm1(text: &str) -> Insn {
        match assemble(text) {
            Ok(p) if p.len() == 1 => p.insns[0],
            other => panic!("{text:?} -> {other:?}"),
        }
    }

    fn err(src: &str) -> Vec<(usize, AsmErrorKind)> {
        match assemble(src) {
            Ok(p) => panic!("{src:?} assembled to {p:?}"),
            Err(e) => e.into_iter().map(|e| (e.line, e.kind)).collect(),
        }
    }

    /// Every opcode of `chk_code_allowed`, its text at index 0, and back.
    #[test]
    fn every_instruction_form() {
        #[rustfmt::skip]
        let cases: &[(Insn, &str)] = &[
            (Insn::stmt(0x20, 4), "ld [4]"),
            (Insn::stmt(0x28, 2), "ldh [2]"),
            (Insn::stmt(0x30, 0x1_0000), "ldb [0x10000]"),
            (Insn::stmt(0x40, 1), "ld [x + 1]"),
            (Insn::stmt(0x48, 0), "ldh [x + 0]"),
            (Insn::stmt(0x50, 7), "ldb [x + 7]"),
            (Insn::stmt(0x00, 0xdead), "ld #0xdead"),
            (Insn::stmt(0x80, 0), "ld #len"),
            (Insn::stmt(0x60, 15), "ld M[15]"),
            (Insn::stmt(0x01, 0), "ldx #0x0"),
            (Insn::stmt(0x81, 0), "ldx #len"),
            (Insn::stmt(0x61, 3), "ldx M[3]"),
            (Insn::stmt(0xb1, 14), "ldxb 4*([14]&0xf)"),
            (Insn::stmt(0x02, 1), "st M[1]"),
            (Insn::stmt(0x03, 2), "stx M[2]"),
            (Insn::stmt(0x04, 1), "add #0x1"),
            (Insn::stmt(0x0c, 0), "add x"),
            (Insn::stmt(0x14, 1), "sub #0x1"),
            (Insn::stmt(0x1c, 0), "sub x"),
            (Insn::stmt(0x24, 3), "mul #0x3"),
            (Insn::stmt(0x2c, 0), "mul x"),
            (Insn::stmt(0x34, 2), "div #0x2"),
            (Insn::stmt(0x3c, 0), "div x"),
            (Insn::stmt(0x94, 5), "mod #0x5"),
            (Insn::stmt(0x9c, 0), "mod x"),
            (Insn::stmt(0x54, 0xff), "and #0xff"),
            (Insn::stmt(0x5c, 0), "and x"),
            (Insn::stmt(0x44, 0x10), "or #0x10"),
            (Insn::stmt(0x4c, 0), "or x"),
            (Insn::stmt(0xa4, 1), "xor #0x1"),
            (Insn::stmt(0xac, 0), "xor x"),
            (Insn::stmt(0x64, 4), "lsh #0x4"),
            (Insn::stmt(0x6c, 0), "lsh x"),
            (Insn::stmt(0x74, 31), "rsh #0x1f"),
            (Insn::stmt(0x7c, 0), "rsh x"),
            (Insn::stmt(0x84, 0), "neg"),
            (Insn::stmt(0x05, 4), "ja 5"),
            (Insn::jump(0x15, 0x101, 0, 1), "jeq #0x101, 1, 2"),
            (Insn::jump(0x1d, 0, 255, 0), "jeq x, 256, 1"),
            (Insn::jump(0x25, 7, 2, 2), "jgt #0x7, 3, 3"),
            (Insn::jump(0x2d, 0, 0, 0), "jgt x, 1, 1"),
            (Insn::jump(0x35, 0x4000_0000, 1, 0), "jge #0x40000000, 2, 1"),
            (Insn::jump(0x3d, 0, 1, 0), "jge x, 2, 1"),
            (Insn::jump(0x45, 0x8, 0, 3), "jset #0x8, 1, 4"),
            (Insn::jump(0x4d, 0, 3, 0), "jset x, 4, 1"),
            (Insn::stmt(0x06, 0x7fff_0000), "ret #0x7fff0000"),
            (Insn::stmt(0x16, 0), "ret a"),
            (Insn::stmt(0x07, 0), "tax"),
            (Insn::stmt(0x87, 0), "txa"),
            // Fields the instruction ignores, when not zero.
            (Insn::new(0x16, 0, 0, 5), "ret a {k=0x5}"),
            (Insn::new(0x07, 3, 0, 0), "tax {jt=3}"),
            (Insn::new(0x87, 1, 2, 3), "txa {jt=1, jf=2, k=0x3}"),
            (Insn::new(0x80, 0, 9, 0), "ld #len {jf=9}"),
            (Insn::new(0x0c, 0, 0, 0xffff_ffff), "add x {k=0xffffffff}"),
            (Insn::new(0x05, 255, 255, 0), "ja 1 {jt=255, jf=255}"),
            (Insn::new(0x1d, 1, 2, 3), "jeq x, 2, 3 {k=0x3}"),
            (Insn::new(0x20, 1, 1, 9), "ld [9] {jt=1, jf=1}"),
            // Opcodes outside chk_code_allowed.
            (Insn::new(0x0e, 0, 0, 0), ".insn 0x000e, 0, 0, 0x0"),
            (Insn::new(0xffff, 255, 0, 0xffff_ffff), ".insn 0xffff, 255, 0, 0xffffffff"),
            (Insn::new(0x0115, 1, 2, 3), ".insn 0x0115, 1, 2, 0x3"),
        ];
        for &(insn, text) in cases {
            assert_eq!(insn_text(0, &insn), text, "{insn:?}");
            assert_eq!(asm1(text), insn, "{text}");
            assert_eq!(asm1(&format!("0: {text} ; a comment")), insn, "{text}");
        }
        // Each classic opcode appears once in the table.
        let mut codes: Vec<u16> = cases.iter().map(|(i, _)| i.code).filter(|&c| c < 0xe).collect();
        codes.extend(cases.iter().map(|(i, _)| i.code).filter(|&c| c >= 0xe && c != 0xffff && c != 0x0115));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), crate::testgen::CLASSIC_OPCODES.len() + 1 /* 0x0e */);
    }

    /// Jump targets are absolute, so the same instruction reads differently at
    /// another index; the far ends of the offset fields are reachable.
    #[test]
    fn targets_are_absolute_indices() {
        assert_eq!(insn_text(10, &Insn::jump(0x15, 1, 0, 255)), "jeq #0x1, 11, 266");
        assert_eq!(insn_text(10, &Insn::stmt(0x05, u32::MAX)), "ja 4294967306");
        let mut src = String::from("ret #0\n").repeat(10);
        src.push_str("jeq #1, 11, 266\nja 4294967306\n");
        let p = assemble(&src).unwrap();
        assert_eq!(p.insns[10], Insn::jump(0x15, 1, 0, 255));
        assert_eq!(p.insns[11], Insn::stmt(0x05, u32::MAX - 1));
    }

    #[test]
    fn labels_hex_decimal_case_and_short_forms() {
        let src = "
            ; a hand-written filter
            start:  LD [4]
                    jeq #0xC000003E, x86, kill
            x86:    ld [0]
                    JEQ #257, deny        ; bpf_asm: else fall through
                    jmp allow
            deny:   ret #327681           ; 0x50001
            allow:  ret #0x7fff0000
            kill:   ldx 4*([0]&15)
                    ret A
        ";
        let p = assemble(src).unwrap();
        assert_eq!(
            p.insns,
            vec![
                Insn::stmt(0x20, 4),
                Insn::jump(0x15, 0xc000_003e, 0, 5),
                Insn::stmt(0x20, 0),
                Insn::jump(0x15, 257, 1, 0),
                Insn::stmt(0x05, 1),
                Insn::stmt(0x06, 0x5_0001),
                Insn::stmt(0x06, 0x7fff_0000),
                Insn::stmt(0xb1, 0),
                Insn::stmt(0x16, 0),
            ]
        );
        // A label alone on the last line names the index past the end.
        let p = assemble("jeq #1, end, end\nend:").unwrap();
        assert_eq!(p.insns, vec![Insn::jump(0x15, 1, 0, 0)]);
    }

    #[test]
    fn every_error_has_its_line_and_what_was_expected() {
        use AsmErrorKind::*;
        let e = |expected: &str, found: &str| Expected { expected: expected.into(), found: found.into() };
        assert_eq!(err(""), vec![(1, Empty)]);
        assert_eq!(err("; nothing\n\n"), vec![(2, Empty)]);
        assert_eq!(err("foo #1"), vec![(1, UnknownMnemonic("foo".into()))]);
        assert_eq!(
            err("ld"),
            vec![(
                1,
                WrongOperand {
                    mnemonic: "ld".into(),
                    expected: "[k] or [x + k] or #k or #len or M[k]".into(),
                    found: "end of line".into()
                }
            )]
        );
        assert_eq!(
            err("ret [4]"),
            vec![(1, WrongOperand { mnemonic: "ret".into(), expected: "#k or a".into(), found: "`[k]`".into() })]
        );
        assert_eq!(err("ld [4"), vec![(1, e("`]`", "end of line"))]);
        assert_eq!(err("ld [4] 5"), vec![(1, e("end of line (or a `;` comment)", "`5`"))]);
        assert_eq!(err("ld #0x1_0000_0000"), vec![(1, BadNumber { text: "0x1_0000_0000".into() })]);
        assert_eq!(
            err("ld #4294967296"),
            vec![(1, OutOfRange { what: "an immediate or `len`", text: "4294967296".into(), max: 0xffff_ffff })]
        );
        assert_eq!(err("ld #12ab"), vec![(1, BadNumber { text: "12ab".into() })]);
        assert_eq!(err("ld $4"), vec![(1, UnexpectedChar('$'))]);
        assert_eq!(err("jeq 1, 2, 3"), vec![(1, e("`#k` or `x`", "`1`"))]);
        assert_eq!(err("jeq #1 2"), vec![(1, e("`,`", "`2`"))]);
        assert_eq!(err("jeq #1, #2"), vec![(1, e("a jump target (instruction index or label)", "`#`"))]);
        assert_eq!(
            err(".insn 0x10000, 0, 0, 0"),
            vec![(1, OutOfRange { what: "code", text: "0x10000".into(), max: 0xffff })]
        );
        assert_eq!(err(".insn 6, 256, 0, 0"), vec![(1, OutOfRange { what: "jt", text: "256".into(), max: 0xff })]);
        assert_eq!(err("ret #0 {k=1}"), vec![(1, FieldNotFree { field: "k", mnemonic: "ret".into() })]);
        assert_eq!(err("ret a {k=1, k=2}"), vec![(1, DuplicateField { field: "k" })]);
        assert_eq!(err("ret a {q=1}"), vec![(1, e("`jt`, `jf` or `k`", "`q`"))]);
        assert_eq!(err("ret a {jt=256}"), vec![(1, OutOfRange { what: "jt", text: "256".into(), max: 0xff })]);
        assert_eq!(err("ldxb 5*([0]&0xf)"), vec![(1, e("`4` (as in `4*([k]&0xf)`)", "`5`"))]);
        assert_eq!(err("ldxb 4*([0]&0x7)"), vec![(1, e("`0xf` (as in `4*([k]&0xf)`)", "`0x7`"))]);
        assert_eq!(err("1: ret #0"), vec![(1, IndexMismatch { written: 1, actual: 0 })]);
        assert_eq!(err("0:"), vec![(1, e("an instruction after the index", "end of line"))]);
        // Jump range, labels; several errors at once, each on its line.
        assert_eq!(
            err("a: ja 0\nja a\njeq #1, 259, 3\nja nowhere\na: ret #0\njeq x, 100, 99999999999999999999"),
            vec![
                (1, BackwardJump { pc: 0, target: 0 }),
                (2, BackwardJump { pc: 1, target: 0 }),
                (3, TooFar { pc: 2, target: 259, max: 258, field: "8-bit jt" }),
                (4, UndefinedLabel { name: "nowhere".into() }),
                (5, DuplicateLabel { name: "a".into(), first_line: 1 }),
                (6, OutOfRange { what: "jump target", text: "99999999999999999999".into(), max: u64::MAX }),
            ]
        );
        // A broken line still counts as an instruction: later indices stay right.
        assert_eq!(err("bogus\n1: ret #0"), vec![(1, UnknownMnemonic("bogus".into()))]);
        let msg = assemble("ret #0\nld [x 4]").unwrap_err()[0].to_string();
        assert_eq!(msg, "line 2: expected `+`, found `4`");
    }

    /// Every way of disassembling must assemble back to the same bytes.
    fn round_trips(p: &Program) -> Result<(), TestCaseError> {
        let options = [
            DisasmOptions::default(),
            DisasmOptions { comments: false, arch: None },
            DisasmOptions { comments: true, arch: Some(Arch::X86_64) },
        ];
        for opts in &options {
            let text = disassemble(p, opts);
            let back = assemble(&text);
            prop_assert_eq!(back.as_ref().map(Program::to_bytes), Ok(p.to_bytes()), "{}", text);
        }
        Ok(())
    }

    #[test]
    fn real_filters_round_trip() {
        use crate::bpf::disasm::tests::{libseccomp_x86_64, libseccomp_x86_multi};
        round_trips(&libseccomp_x86_64()).unwrap();
        round_trips(&libseccomp_x86_multi()).unwrap();
    }

    /// An instruction of a classic opcode with arbitrary fields, so that every
    /// form meets non-zero ignored fields and far targets.
    fn classic_insn() -> impl Strategy<Value = Insn> {
        (
            proptest::sample::select(crate::testgen::CLASSIC_OPCODES),
            prop_oneof![Just(0u8), any::<u8>()],
            prop_oneof![Just(0u8), any::<u8>()],
            prop_oneof![Just(0u32), 0..64u32, any::<u32>()],
        )
            .prop_map(|(code, jt, jf, k)| Insn::new(code, jt, jf, k))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Raw bytes: almost every code is outside the classic set (raw `.insn`).
        #[test]
        fn arbitrary_bytes_round_trip(insns in prop::collection::vec(any::<[u8; 8]>(), 1..300)) {
            let p = decode(insns.as_flattened(), ByteOrder::Little).unwrap();
            round_trips(&p)?;
        }

        #[test]
        fn classic_instructions_with_any_fields_round_trip(insns in prop::collection::vec(classic_insn(), 1..300)) {
            round_trips(&Program::new(insns))?;
        }

        /// Filter-shaped programs, valid and mutated.
        #[test]
        fn generated_programs_round_trip(p in strategies::any_program()) {
            round_trips(&p)?;
        }

        /// Whatever the text, the assembler answers without panicking, and every
        /// error names a line of the text.
        #[test]
        fn never_panics(src in "[ -~\n]{0,200}") {
            if let Err(errors) = assemble(&src) {
                let lines = src.lines().count().max(1);
                prop_assert!(errors.iter().all(|e| e.line >= 1 && e.line <= lines));
            }
        }

        /// Listings edited at random characters: errors or a program, no panic.
        #[test]
        fn edited_listings_never_panic(p in strategies::valid_program(), at in any::<prop::sample::Index>(), c in "[ -~]") {
            let mut text = disassemble(&p, &DisasmOptions::default());
            let i = at.index(text.len());
            if text.is_char_boundary(i) {
                text.insert_str(i, &c);
            }
            let _ = assemble(&text);
        }
    }
}
