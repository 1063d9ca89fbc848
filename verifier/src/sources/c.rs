//! Filters written in C: a `struct sock_filter` array (hand-written with the
//! `BPF_STMT`/`BPF_JUMP` macros of `linux/filter.h`, or numeric
//! `{ code, jt, jf, k }` groups), or the bare `{ code, jt, jf, k },` lines that
//! `bpf_asm -c` and `tcpdump -dd` print.
//!
//! Only what is unmistakably a filter is read: the initializer of an array
//! declared `struct sock_filter NAME[…] = {…}`, or, in a file with no such
//! declaration, a file that is nothing but `{ code, jt, jf, k }` groups. Any
//! other brace group (`static const int backoff_ms[] = { 6, 0, 0, 0 };`) is
//! never taken for an instruction. Several arrays are [`Candidate`]s; the
//! caller picks one (`FILE#N`) or lists them.
//!
//! Values are C integer constant expressions (`| & ^ + - * / % << >> ~`,
//! parentheses, unsigned casts) over the constants C filters use: the
//! `BPF_*` opcode parts (`linux/bpf_common.h`, `linux/filter.h`),
//! `SECCOMP_RET_*` (`linux/seccomp.h`), `AUDIT_ARCH_*` (`linux/audit.h`),
//! `offsetof(struct seccomp_data, nr | arch | instruction_pointer | args[N])`,
//! errno names and `__NR_*`/`SYS_*` syscall numbers of the arch the source is
//! read for (numbers differ between arches: no guess is made for another).
//! Object-like `#define NAME value` lines outside `#if` blocks are expanded;
//! any other identifier or macro is an error that names it, never a guess.
//!
//! Everything is linear in the input: one tokenizer pass, one bracket-matching
//! pass with a stack, and expressions nested at most [`MAX_EXPR_DEPTH`] deep.

use super::text::TextError;
use crate::arch::Arch;
use crate::bpf::insn::*;
use crate::seccomp::*;
use crate::uapi::{
    SECCOMP_DATA_ARCH, SECCOMP_DATA_ARGS, SECCOMP_DATA_INSTRUCTION_POINTER, SECCOMP_DATA_NR, SECCOMP_RET_ACTION,
};
use std::collections::HashMap;

/// Parentheses (and `#define` expansions) nest at most this deep in one value.
pub const MAX_EXPR_DEPTH: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    Punct,
    /// A string or character literal (never part of a filter).
    Literal,
}

/// A token: where it is in the source (12 bytes, so a 4 MiB input of
/// one-character tokens stays within a few times its size).
#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    /// Byte offset in the source.
    pos: u32,
    len: u32,
}

impl Tok {
    fn at(&self) -> usize {
        self.pos as usize
    }

    fn s<'a>(&self, text: &'a str) -> &'a str {
        &text[self.at()..self.at() + self.len as usize]
    }
}

/// One array that may hold the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The array's name; `None` for the bare `{ code, jt, jf, k },` lines.
    pub name: Option<String>,
    /// 1-based line of the declaration (or of the first group).
    pub line: usize,
    /// Number of elements of the initializer.
    pub instructions: usize,
}

impl std::fmt::Display for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(n) => {
                write!(f, "`{n}` (line {}, {})", self.line, crate::words::count(self.instructions, "instruction"))
            }
            None => write!(
                f,
                "bare `{{ code, jt, jf, k }}` lines (line {}, {})",
                self.line,
                crate::words::count(self.instructions, "instruction")
            ),
        }
    }
}

/// A C source split into tokens, with its candidate arrays found.
pub struct Source<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    /// For each opening bracket token, the index of its closing one.
    close: Vec<u32>,
    /// Byte offsets of line starts (for line numbers in messages).
    lines: Vec<usize>,
    defines: HashMap<&'a str, Define>,
    /// `(candidate, token index of the initializer's `{` … its `}`)`.
    arrays: Vec<(Candidate, usize, usize)>,
    /// The arch whose syscall numbers `__NR_*` names mean.
    arch: Arch,
}

enum Define {
    /// `#define NAME tokens` at top level, seen once.
    Value(Vec<Tok>),
    /// Defined under `#if`/`#ifdef`, twice, or as a function-like macro.
    Unusable(&'static str),
}

/// Is this C source rather than another text format? (`struct sock_filter`,
/// the `BPF_STMT`/`BPF_JUMP` macros, a `#include`, or braces.)
pub fn looks_c(text: &str) -> bool {
    text.contains("sock_filter")
        || text.contains("BPF_STMT")
        || text.contains("BPF_JUMP")
        || text.lines().any(|l| l.trim_start().starts_with("#include"))
        || text.trim_start().starts_with('{')
        || (text.contains('{') && text.contains('}'))
}

impl<'a> Source<'a> {
    /// Tokenize `text` and find its candidate arrays. `arch` is the arch the
    /// source is compiled for (what `__NR_read` means).
    pub fn parse(text: &'a str, arch: Arch) -> Result<Source<'a>, TextError> {
        let mut lines = vec![0];
        lines.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        let mut s = Source {
            text,
            toks: Vec::new(),
            close: Vec::new(),
            lines,
            defines: HashMap::new(),
            arrays: Vec::new(),
            arch,
        };
        s.tokenize()?;
        s.match_brackets()?;
        s.find_arrays()?;
        Ok(s)
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> TextError {
        let line = self.lines.partition_point(|&s| s <= at);
        let col = self.text[self.lines[line - 1]..at.min(self.text.len())].chars().count() + 1;
        TextError::At { line, col, msg: msg.into() }
    }

    fn line_of(&self, at: usize) -> usize {
        self.lines.partition_point(|&s| s <= at)
    }

    fn tokenize(&mut self) -> Result<(), TextError> {
        let text = self.text;
        let b = text.as_bytes();
        let mut i = 0;
        let mut line_start = true;
        let mut if_depth = 0usize;
        while i < b.len() {
            let c = b[i];
            if c == b'\n' {
                line_start = true;
                i += 1;
                continue;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b[i..].starts_with(b"/*") {
                i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                continue;
            }
            if b[i..].starts_with(b"//") {
                i = text[i..].find('\n').map_or(b.len(), |e| i + e);
                continue;
            }
            if c == b'#' && line_start {
                // A preprocessor line, with its backslash continuations.
                let start = i;
                let mut end = i;
                loop {
                    let e = text[end..].find('\n').map_or(b.len(), |e| end + e);
                    if e > start && text[..e].trim_end_matches('\r').ends_with('\\') && e < b.len() {
                        end = e + 1;
                    } else {
                        end = e;
                        break;
                    }
                }
                self.directive(start, end, &mut if_depth)?;
                i = end;
                continue;
            }
            line_start = false;
            let start = i;
            let kind = if c.is_ascii_alphabetic() || c == b'_' {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                Kind::Ident
            } else if c.is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                Kind::Number
            } else if c == b'"' || c == b'\'' {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                Kind::Literal
            } else {
                let two = &b[i..(i + 2).min(b.len())];
                i += if matches!(two, b"<<" | b">>" | b"&&" | b"||" | b"->" | b"==" | b"!=" | b"<=" | b">=") {
                    2
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
                Kind::Punct
            };
            self.toks.push(Tok { kind, pos: start as u32, len: (i - start) as u32 });
        }
        Ok(())
    }

    /// Record object-like `#define`s (top level only) and track `#if` nesting.
    fn directive(&mut self, start: usize, end: usize, if_depth: &mut usize) -> Result<(), TextError> {
        let text: &'a str = self.text;
        let body = text[start + 1..end].trim_start();
        let word_end = body.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(body.len());
        let (word, rest) = body.split_at(word_end);
        let rest = rest.trim_start();
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
        let name = &rest[..name_len];
        match word {
            "if" | "ifdef" | "ifndef" => *if_depth += 1,
            "endif" => *if_depth = if_depth.saturating_sub(1),
            "undef" if !name.is_empty() => {
                self.defines.insert(name, Define::Unusable("#undef'd"));
            }
            "define" if !name.is_empty() => {
                let def = if rest[name_len..].starts_with('(') {
                    Define::Unusable("a function-like macro")
                } else if *if_depth > 0 {
                    Define::Unusable("defined under #if, which seccheck does not evaluate")
                } else if self.defines.contains_key(name) {
                    Define::Unusable("defined more than once")
                } else {
                    let value_start = end - (rest.len() - name_len);
                    let mut sub = Source {
                        text,
                        toks: Vec::new(),
                        close: Vec::new(),
                        lines: Vec::new(),
                        defines: HashMap::new(),
                        arrays: Vec::new(),
                        arch: self.arch,
                    };
                    sub.tokenize_range(value_start, end);
                    Define::Value(sub.toks)
                };
                self.defines.insert(name, def);
            }
            _ => {}
        }
        Ok(())
    }

    fn tokenize_range(&mut self, start: usize, end: usize) {
        let text = self.text;
        let b = text.as_bytes();
        let mut i = start;
        while i < end {
            let c = b[i];
            if c.is_ascii_whitespace() || c == b'\\' {
                i += 1;
                continue;
            }
            if b[i..end].starts_with(b"/*") {
                i = text[i + 2..end].find("*/").map_or(end, |e| i + 2 + e + 2);
                continue;
            }
            if b[i..end].starts_with(b"//") {
                break;
            }
            let s = i;
            let kind = if c.is_ascii_alphanumeric() || c == b'_' {
                while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                    i += 1;
                }
                if c.is_ascii_digit() {
                    Kind::Number
                } else {
                    Kind::Ident
                }
            } else {
                let two = &b[i..(i + 2).min(end)];
                i += if matches!(two, b"<<" | b">>" | b"&&" | b"||") {
                    2
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
                Kind::Punct
            };
            self.toks.push(Tok { kind, pos: s as u32, len: (i - s) as u32 });
        }
    }

    fn match_brackets(&mut self) -> Result<(), TextError> {
        self.close = vec![u32::MAX; self.toks.len()];
        let mut stack: Vec<u32> = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            if t.kind != Kind::Punct {
                continue;
            }
            match t.s(self.text) {
                "{" | "(" | "[" => stack.push(i as u32),
                "}" | ")" | "]" => {
                    let Some(o) = stack.pop().map(|o| o as usize) else {
                        return Err(self.err(t.at(), format!("`{}` closes nothing", t.s(self.text))));
                    };
                    let want = match self.toks[o].s(self.text) {
                        "{" => "}",
                        "(" => ")",
                        _ => "]",
                    };
                    if t.s(self.text) != want {
                        return Err(self.err(
                            t.at(),
                            format!(
                                "`{}` where `{want}` closes the `{}` of line {}",
                                t.s(self.text),
                                self.toks[o].s(self.text),
                                self.line_of(self.toks[o].at())
                            ),
                        ));
                    }
                    self.close[o] = i as u32;
                }
                _ => {}
            }
        }
        if let Some(o) = stack.last().map(|&o| o as usize) {
            return Err(self.err(self.toks[o].at(), format!("unterminated `{}`", self.toks[o].s(self.text))));
        }
        Ok(())
    }

    fn is(&self, i: usize, kind: Kind, text: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == kind && t.s(self.text) == text)
    }

    /// Find `struct sock_filter NAME [ … ] = { … }` declarations; without any,
    /// the whole file as bare `{ code, jt, jf, k }` groups.
    fn find_arrays(&mut self) -> Result<(), TextError> {
        let mut i = 0;
        while i + 2 < self.toks.len() {
            if !(self.is(i, Kind::Ident, "struct")
                && self.is(i + 1, Kind::Ident, "sock_filter")
                && self.toks[i + 2].kind == Kind::Ident)
            {
                i += 1;
                continue;
            }
            let name = self.toks[i + 2];
            let mut j = i + 3;
            if !self.is(j, Kind::Punct, "[") {
                i = j; // a pointer or a single instruction, not an array
                continue;
            }
            j = self.close[j] as usize + 1;
            if !self.is(j, Kind::Punct, "=") {
                i = j; // a declaration without an initializer
                continue;
            }
            if !self.is(j + 1, Kind::Punct, "{") {
                return Err(self.err(
                    self.toks.get(j + 1).map_or(self.text.len(), |t| t.at()),
                    format!("`{}`: expected `{{` after `=`", name.s(self.text)),
                ));
            }
            let open = j + 1;
            let end = self.close[open] as usize;
            let count = self.elements(open, end).len();
            self.arrays.push((
                Candidate {
                    name: Some(name.s(self.text).to_string()),
                    line: self.line_of(self.toks[i].at()),
                    instructions: count,
                },
                open,
                end,
            ));
            i = end + 1;
        }
        if self.arrays.is_empty() && self.bare_groups() {
            let first = &self.toks[0];
            let count = self.toks.iter().filter(|t| t.kind == Kind::Punct && t.s(self.text) == "{").count();
            self.arrays.push((
                Candidate { name: None, line: self.line_of(first.at()), instructions: count },
                usize::MAX,
                usize::MAX,
            ));
        }
        Ok(())
    }

    /// Is the file nothing but `{ … }` groups (not nested) separated by commas
    /// (an optional trailing `,` or `;`)?
    fn bare_groups(&self) -> bool {
        let n = self.toks.len();
        let mut i = 0;
        if n == 0 {
            return false;
        }
        while i < n {
            if !self.is(i, Kind::Punct, "{") {
                return false;
            }
            let end = self.close[i] as usize;
            // No nested group (a group with the wrong number of fields is
            // still this form: reading it says what is wrong).
            let inner = &self.toks[i + 1..end];
            if inner.iter().any(|t| t.kind == Kind::Punct && t.s(self.text) == "{") {
                return false;
            }
            i = end + 1;
            if i < n && (self.is(i, Kind::Punct, ",") || self.is(i, Kind::Punct, ";")) {
                i += 1;
            }
        }
        true
    }

    /// The top-level elements of the initializer between tokens `open` and
    /// `end` (`{` and its `}`), as token ranges.
    fn elements(&self, open: usize, end: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = open + 1;
        let mut start = i;
        while i < end {
            let t = &self.toks[i];
            if t.kind == Kind::Punct && matches!(t.s(self.text), "{" | "(" | "[") {
                i = self.close[i] as usize + 1;
                continue;
            }
            if t.kind == Kind::Punct && t.s(self.text) == "," {
                out.push((start, i));
                start = i + 1;
            }
            i += 1;
        }
        if start < end {
            out.push((start, end));
        }
        out
    }

    /// The candidate arrays, in source order.
    pub fn candidates(&self) -> Vec<Candidate> {
        self.arrays.iter().map(|(c, _, _)| c.clone()).collect()
    }

    /// Read candidate `index` as a program.
    pub fn program(&self, index: usize) -> Result<Program, TextError> {
        let (cand, open, end) = &self.arrays[index];
        let mut insns = Vec::with_capacity(cand.instructions.min(BPF_MAXINSNS + 1));
        let elements: Vec<(usize, usize)> = if cand.name.is_none() {
            let mut v = Vec::new();
            let mut i = 0;
            while i < self.toks.len() {
                let e = self.close[i] as usize;
                v.push((i, e + 1));
                i = e + 1;
                if i < self.toks.len() && matches!(self.toks[i].s(self.text), "," | ";") {
                    i += 1;
                }
            }
            v
        } else {
            self.elements(*open, *end)
        };
        for (n, &(s, e)) in elements.iter().enumerate() {
            insns.push(self.element(n, s, e)?);
        }
        if insns.is_empty() {
            let at = if *open == usize::MAX { 0 } else { self.toks[*open].at() };
            return Err(self.err(at, "the array has no instructions"));
        }
        Ok(Program::new(insns))
    }

    /// One element: `{ code, jt, jf, k }`, `{ .code = …, … }`, `BPF_STMT(code, k)`
    /// or `BPF_JUMP(code, k, jt, jf)`.
    fn element(&self, n: usize, s: usize, e: usize) -> Result<Insn, TextError> {
        let t = self.toks[s];
        let args = |open: usize, close: usize| -> Vec<(usize, usize)> {
            let mut v = Vec::new();
            let mut i = open + 1;
            let mut start = i;
            while i < close {
                let t = &self.toks[i];
                if t.kind == Kind::Punct && matches!(t.s(self.text), "{" | "(" | "[") {
                    i = self.close[i] as usize + 1;
                    continue;
                }
                if t.kind == Kind::Punct && t.s(self.text) == "," {
                    v.push((start, i));
                    start = i + 1;
                }
                i += 1;
            }
            v.push((start, close));
            v
        };
        let fields: [(usize, usize); 4];
        if t.kind == Kind::Punct && t.s(self.text) == "{" && self.close[s] as usize + 1 == e {
            let a = args(s, e - 1);
            if a.first().is_some_and(|&(x, _)| self.is(x, Kind::Punct, ".")) {
                return self.designated(n, &a);
            }
            if a.len() != 4 {
                return Err(self.err(
                    t.at(),
                    format!("expected 4 fields `{{ code, jt, jf, k }}` in instruction {n}, found {}", a.len()),
                ));
            }
            fields = [a[0], a[1], a[2], a[3]];
        } else if t.kind == Kind::Ident && self.is(s + 1, Kind::Punct, "(") && self.close[s + 1] as usize + 1 == e {
            let a = args(s + 1, e - 1);
            match t.s(self.text) {
                "BPF_STMT" if a.len() == 2 => {
                    let code = self.field(n, "code", a[0], 0xffff)?;
                    let k = self.field(n, "k", a[1], 0xffff_ffff)?;
                    return Ok(Insn::new(code as u16, 0, 0, k as u32));
                }
                "BPF_JUMP" if a.len() == 4 => fields = [a[0], a[2], a[3], a[1]],
                "BPF_STMT" | "BPF_JUMP" => {
                    return Err(self.err(t.at(), format!("instruction {n}: {} takes {} arguments, found {}", t.s(self.text), if t.s(self.text) == "BPF_STMT" { 2 } else { 4 }, a.len())))
                }
                m => {
                    return Err(self.err(t.at(), format!("instruction {n}: `{m}(…)` is a macro seccheck does not expand; only BPF_STMT and BPF_JUMP (linux/filter.h) and `{{ code, jt, jf, k }}` are read")))
                }
            }
        } else {
            let what = format!("`{}`", t.s(self.text));
            return Err(self.err(
                t.at(),
                format!(
                    "instruction {n}: expected `{{ code, jt, jf, k }}`, BPF_STMT(…) or BPF_JUMP(…), found {what}{}",
                    if t.kind == Kind::Ident { " (a macro seccheck does not expand?)" } else { "" }
                ),
            ));
        }
        let code = self.field(n, "code", fields[0], 0xffff)?;
        let jt = self.field(n, "jt", fields[1], 0xff)?;
        let jf = self.field(n, "jf", fields[2], 0xff)?;
        let k = self.field(n, "k", fields[3], 0xffff_ffff)?;
        Ok(Insn::new(code as u16, jt as u8, jf as u8, k as u32))
    }

    fn designated(&self, n: usize, a: &[(usize, usize)]) -> Result<Insn, TextError> {
        let mut vals: [Option<u64>; 4] = [None; 4];
        for &(s, e) in a {
            if s == e {
                continue;
            }
            let ok = self.is(s, Kind::Punct, ".")
                && self.toks.get(s + 1).is_some_and(|t| t.kind == Kind::Ident)
                && self.is(s + 2, Kind::Punct, "=");
            let name = if ok { self.toks[s + 1].s(self.text) } else { "" };
            let Some(slot) = ["code", "jt", "jf", "k"].iter().position(|&f| f == name) else {
                return Err(self.err(
                    self.toks[s].at(),
                    format!("instruction {n}: expected `.code`, `.jt`, `.jf` or `.k = value`"),
                ));
            };
            vals[slot] = Some(self.field(n, name, (s + 3, e), [0xffff, 0xff, 0xff, 0xffff_ffff][slot])?);
        }
        let v = |i: usize| vals[i].unwrap_or(0);
        Ok(Insn::new(v(0) as u16, v(1) as u8, v(2) as u8, v(3) as u32))
    }

    /// Evaluate one field and check it fits its slot.
    fn field(&self, n: usize, name: &str, (s, e): (usize, usize), max: u64) -> Result<u64, TextError> {
        let at = self.toks.get(s).map_or(self.text.len(), |t| t.at());
        if s >= e {
            return Err(self.err(at, format!("instruction {n}: field `{name}` is empty")));
        }
        let mut p = Expr { src: self, toks: &self.toks[s..e], pos: 0, depth: 0, n };
        let v = p.expr(0)?;
        if p.pos != p.toks.len() {
            let t = p.toks[p.pos];
            return Err(self.err(t.at(), format!("instruction {n}: unexpected `{}` in field `{name}`", t.s(self.text))));
        }
        if v < 0 || v as u128 > max as u128 {
            return Err(self.err(
                at,
                format!(
                    "instruction {n}: field `{name}` is {v}, which does not fit its {}-bit slot",
                    (max.count_ones())
                ),
            ));
        }
        Ok(v as u64)
    }

    /// The value of a named constant.
    fn constant(&self, name: &str) -> Option<i128> {
        let bpf: &[(&str, u16)] = &[
            ("BPF_LD", BPF_LD),
            ("BPF_LDX", BPF_LDX),
            ("BPF_ST", BPF_ST),
            ("BPF_STX", BPF_STX),
            ("BPF_ALU", BPF_ALU),
            ("BPF_JMP", BPF_JMP),
            ("BPF_RET", BPF_RET),
            ("BPF_MISC", BPF_MISC),
            ("BPF_W", BPF_W),
            ("BPF_H", BPF_H),
            ("BPF_B", BPF_B),
            ("BPF_IMM", BPF_IMM),
            ("BPF_ABS", BPF_ABS),
            ("BPF_IND", BPF_IND),
            ("BPF_MEM", BPF_MEM),
            ("BPF_LEN", BPF_LEN),
            ("BPF_MSH", BPF_MSH),
            ("BPF_ADD", BPF_ADD),
            ("BPF_SUB", BPF_SUB),
            ("BPF_MUL", BPF_MUL),
            ("BPF_DIV", BPF_DIV),
            ("BPF_OR", BPF_OR),
            ("BPF_AND", BPF_AND),
            ("BPF_LSH", BPF_LSH),
            ("BPF_RSH", BPF_RSH),
            ("BPF_NEG", BPF_NEG),
            ("BPF_MOD", BPF_MOD),
            ("BPF_XOR", BPF_XOR),
            ("BPF_JA", BPF_JA),
            ("BPF_JEQ", BPF_JEQ),
            ("BPF_JGT", BPF_JGT),
            ("BPF_JGE", BPF_JGE),
            ("BPF_JSET", BPF_JSET),
            ("BPF_K", BPF_K),
            ("BPF_X", BPF_X),
            ("BPF_A", BPF_A),
            ("BPF_TAX", BPF_TAX),
            ("BPF_TXA", BPF_TXA),
        ];
        if let Some(&(_, v)) = bpf.iter().find(|(n, _)| *n == name) {
            return Some(v.into());
        }
        let ret: &[(&str, u32)] = &[
            ("SECCOMP_RET_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS),
            ("SECCOMP_RET_KILL_THREAD", SECCOMP_RET_KILL_THREAD),
            ("SECCOMP_RET_KILL", SECCOMP_RET_KILL_THREAD),
            ("SECCOMP_RET_TRAP", SECCOMP_RET_TRAP),
            ("SECCOMP_RET_ERRNO", SECCOMP_RET_ERRNO),
            ("SECCOMP_RET_USER_NOTIF", SECCOMP_RET_USER_NOTIF),
            ("SECCOMP_RET_TRACE", SECCOMP_RET_TRACE),
            ("SECCOMP_RET_LOG", SECCOMP_RET_LOG),
            ("SECCOMP_RET_ALLOW", SECCOMP_RET_ALLOW),
            ("SECCOMP_RET_ACTION_FULL", SECCOMP_RET_ACTION_FULL),
            ("SECCOMP_RET_ACTION", SECCOMP_RET_ACTION),
            ("SECCOMP_RET_DATA", SECCOMP_RET_DATA),
            ("BPF_MAXINSNS", BPF_MAXINSNS as u32),
            ("BPF_MEMWORDS", BPF_MEMWORDS),
        ];
        if let Some(&(_, v)) = ret.iter().find(|(n, _)| *n == name) {
            return Some(v.into());
        }
        if name.starts_with("AUDIT_ARCH_") {
            return Arch::all().find(|a| a.audit_name() == name).map(|a| a.audit_arch().into());
        }
        None
    }
}

/// A precedence-climbing evaluator over one field's tokens.
struct Expr<'s, 'a> {
    src: &'s Source<'a>,
    toks: &'s [Tok],
    pos: usize,
    depth: usize,
    n: usize,
}

impl<'s> Expr<'s, '_> {
    fn err(&self, msg: impl Into<String>) -> TextError {
        let at = self.toks.get(self.pos).or(self.toks.last()).map_or(self.src.text.len(), |t| t.at());
        self.src.err(at, format!("instruction {}: {}", self.n, msg.into()))
    }

    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.peek().is_some_and(|t| t.kind == Kind::Punct && t.s(self.src.text) == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), TextError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.err(format!("expected `{p}`")))
        }
    }

    fn expr(&mut self, min_prec: u8) -> Result<i128, TextError> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.err(format!("expression nested deeper than {MAX_EXPR_DEPTH} levels")));
        }
        let mut lhs = self.unary()?;
        while let Some(t) = self.peek() {
            let prec = match (t.kind, t.s(self.src.text)) {
                (Kind::Punct, "*" | "/" | "%") => 10,
                (Kind::Punct, "+" | "-") => 9,
                (Kind::Punct, "<<" | ">>") => 8,
                (Kind::Punct, "&") => 5,
                (Kind::Punct, "^") => 4,
                (Kind::Punct, "|") => 3,
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(prec + 1)?;
            let overflow = || self.err(format!("`{}` overflows", t.s(self.src.text)));
            lhs = match t.s(self.src.text) {
                "*" => lhs.checked_mul(rhs).ok_or_else(overflow)?,
                "/" | "%" if rhs == 0 => return Err(self.err("division by zero")),
                "/" => lhs / rhs,
                "%" => lhs % rhs,
                "+" => lhs.checked_add(rhs).ok_or_else(overflow)?,
                "-" => lhs.checked_sub(rhs).ok_or_else(overflow)?,
                "<<" | ">>" if !(0..64).contains(&rhs) => return Err(self.err(format!("shift by {rhs}"))),
                "<<" => lhs.checked_mul(1i128 << rhs).filter(|v| v.unsigned_abs() < 1 << 64).ok_or_else(overflow)?,
                ">>" => lhs >> rhs,
                "&" => lhs & rhs,
                "^" => lhs ^ rhs,
                _ => lhs | rhs,
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<i128, TextError> {
        let Some(t) = self.peek() else { return Err(self.err("expected a value")) };
        self.pos += 1;
        match (t.kind, t.s(self.src.text)) {
            (Kind::Punct, "-") => Ok(-self.nested_unary()?),
            (Kind::Punct, "+") => self.nested_unary(),
            (Kind::Punct, "~") => {
                // `~` on an unsigned 32-bit constant (the only width filters use).
                let v = self.nested_unary()?;
                if !(0..=u32::MAX as i128).contains(&v) {
                    return Err(self.err("`~` of a value that is not a 32-bit unsigned constant"));
                }
                Ok(!(v as u32) as i128)
            }
            (Kind::Punct, "(") => {
                if let Some(bits) = self.cast() {
                    let v = self.nested_unary()?;
                    return Ok(v.rem_euclid(1i128 << bits));
                }
                self.depth += 1;
                let v = self.expr(0)?;
                self.depth -= 1;
                self.expect(")")?;
                Ok(v)
            }
            (Kind::Number, s) => super::text::parse_c_uint(s).map(i128::from).ok_or_else(|| {
                self.pos -= 1;
                self.err(format!("`{s}` is not a C integer constant"))
            }),
            (Kind::Ident, "offsetof") => self.offsetof(),
            (Kind::Ident, name) => self.ident(name),
            (_, s) => {
                self.pos -= 1;
                Err(self.err(format!("unexpected `{s}`")))
            }
        }
    }

    fn nested_unary(&mut self) -> Result<i128, TextError> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.err(format!("expression nested deeper than {MAX_EXPR_DEPTH} levels")));
        }
        let v = self.unary();
        self.depth -= 1;
        v
    }

    /// After `(`: an unsigned type and `)`: a cast to that many bits.
    fn cast(&mut self) -> Option<u32> {
        let words: Vec<&str> = self.toks[self.pos..]
            .iter()
            .take_while(|t| t.kind == Kind::Ident)
            .take(3)
            .map(|t| t.s(self.src.text))
            .collect();
        let (n, bits) = match words.as_slice() {
            ["unsigned", "short", ..] => (2, 16),
            ["unsigned", "char", ..] => (2, 8),
            ["unsigned", "int", ..] => (2, 32),
            ["unsigned", ..] => (1, 32),
            ["__u8" | "uint8_t" | "u8", ..] => (1, 8),
            ["__u16" | "uint16_t" | "u16", ..] => (1, 16),
            ["__u32" | "uint32_t" | "u32", ..] => (1, 32),
            _ => return None,
        };
        let close = self.toks.get(self.pos + n)?;
        (close.kind == Kind::Punct && close.s(self.src.text) == ")").then(|| {
            self.pos += n + 1;
            bits
        })
    }

    fn offsetof(&mut self) -> Result<i128, TextError> {
        self.expect("(")?;
        let ok = self.peek().is_some_and(|t| t.s(self.src.text) == "struct")
            && self.toks.get(self.pos + 1).is_some_and(|t| t.s(self.src.text) == "seccomp_data");
        if !ok {
            return Err(self.err("offsetof is read for `struct seccomp_data` only"));
        }
        self.pos += 2;
        self.expect(",")?;
        let Some(member) = self.peek() else { return Err(self.err("expected a member of struct seccomp_data")) };
        self.pos += 1;
        let off = match member.s(self.src.text) {
            "nr" => SECCOMP_DATA_NR.into(),
            "arch" => SECCOMP_DATA_ARCH.into(),
            "instruction_pointer" => SECCOMP_DATA_INSTRUCTION_POINTER.into(),
            "args" => {
                if self.eat("[") {
                    let i = self.expr(0)?;
                    self.expect("]")?;
                    if !(0..6).contains(&i) {
                        return Err(self.err(format!("args[{i}]: struct seccomp_data has args[0] to args[5]")));
                    }
                    i128::from(SECCOMP_DATA_ARGS) + 8 * i
                } else {
                    SECCOMP_DATA_ARGS.into()
                }
            }
            m => {
                return Err(self
                    .err(format!("struct seccomp_data has no member `{m}` (nr, arch, instruction_pointer, args[N])")))
            }
        };
        self.expect(")")?;
        Ok(off)
    }

    fn ident(&mut self, name: &str) -> Result<i128, TextError> {
        if let Some(v) = self.src.constant(name) {
            return Ok(v);
        }
        let arch = self.src.arch;
        if let Some(sys) = name.strip_prefix("__NR_").or_else(|| name.strip_prefix("SYS_")) {
            return arch.syscall_nr(sys).map(i128::from).ok_or_else(|| {
                self.pos -= 1;
                self.err(format!(
                    "`{name}`: {} has no syscall `{sys}` (C sources are read for --host-arch {0})",
                    arch.name()
                ))
            });
        }
        if let Some(e) = crate::seccomp::errno_from_name(name) {
            // errno-base.h numbers are the same everywhere; the rest differ on
            // alpha, mips, parisc and sparc.
            let generic = !["mips", "sparc", "alpha", "parisc"].iter().any(|a| arch.name().starts_with(a));
            if e <= 34 || generic {
                return Ok(e.into());
            }
        }
        match self.src.defines.get(name) {
            Some(Define::Value(toks)) => {
                self.depth += 1;
                if self.depth > MAX_EXPR_DEPTH {
                    return Err(self.err(format!("#define `{name}` expands deeper than {MAX_EXPR_DEPTH} levels")));
                }
                let mut sub = Expr { src: self.src, toks, pos: 0, depth: self.depth, n: self.n };
                let v = sub.expr(0)?;
                if sub.pos != toks.len() {
                    return Err(sub.err(format!("#define `{name}`: unexpected `{}`", toks[sub.pos].s(self.src.text))));
                }
                self.depth -= 1;
                Ok(v)
            }
            Some(Define::Unusable(why)) => {
                self.pos -= 1;
                Err(self.err(format!("`{name}` is {why}; seccheck reads only top-level object-like #defines")))
            }
            None => {
                self.pos -= 1;
                let what = if self.peek().is_some()
                    && self.toks.get(self.pos + 1).is_some_and(|t| t.s(self.src.text) == "(")
                {
                    "a macro seccheck does not expand"
                } else {
                    "an identifier seccheck does not know"
                };
                Err(self.err(format!("`{name}` is {what} (known: BPF_*, SECCOMP_RET_*, AUDIT_ARCH_*, offsetof(struct seccomp_data, …), __NR_*/SYS_*, errno names, top-level #defines)")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Program, TextError> {
        let s = Source::parse(text, Arch::X86_64)?;
        match s.candidates().len() {
            1 => s.program(0),
            n => Err(TextError::Whole(format!("{n} candidates"))),
        }
    }

    #[test]
    fn other_brace_groups_are_not_instructions() {
        let t = "static const int backoff_ms[] = { 6, 0, 0, 0 };\nstruct sock_filter f[] = {\n { 0x06, 0, 0, 0x7fff0000 },\n};\n";
        assert_eq!(read(t).unwrap().insns, vec![Insn::new(6, 0, 0, 0x7fff_0000)]);
        let e = read("static const int backoff_ms[] = { 6, 0, 0, 0 };\n").unwrap_err();
        assert_eq!(e.to_string(), "0 candidates");
    }

    #[test]
    fn macros_and_symbolic_constants() {
        let t = r#"
#include <linux/filter.h>
#include <linux/seccomp.h>
#define ARCH AUDIT_ARCH_X86_64
static struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (offsetof(struct seccomp_data, arch))),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD+BPF_W+BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4),
    BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, __NR_openat, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    { .code = BPF_RET | BPF_K, .k = SECCOMP_RET_ALLOW },
};
"#;
        let p = read(t).unwrap();
        assert_eq!(
            p.insns,
            vec![
                Insn::new(0x20, 0, 0, 4),
                Insn::new(0x15, 1, 0, 0xc000_003e),
                Insn::new(6, 0, 0, 0x8000_0000),
                Insn::new(0x20, 0, 0, 28),
                Insn::new(0x15, 0, 1, 257),
                Insn::new(6, 0, 0, 0x0005_0001),
                Insn::new(6, 0, 0, 0x7fff_0000),
            ]
        );
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        let e = read("struct sock_filter f[] = { BPF_STMT(BPF_RET|BPF_K, MY_ACTION) };").unwrap_err().to_string();
        assert!(e.contains("`MY_ACTION` is an identifier seccheck does not know"), "{e}");
        let e = read("struct sock_filter f[] = { VALIDATE_ARCHITECTURE, BPF_STMT(BPF_RET|BPF_K, 0) };")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`VALIDATE_ARCHITECTURE`"), "{e}");
        let e = read("struct sock_filter f[] = { ALLOW(read), BPF_STMT(BPF_RET|BPF_K, 0) };").unwrap_err().to_string();
        assert!(e.contains("`ALLOW(…)` is a macro seccheck does not expand"), "{e}");
        let e = read("struct sock_filter f[] = { BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, __NR_nosuch, 0, 1) };")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x86_64 has no syscall `nosuch`"), "{e}");
        let e = read("#ifdef X\n#define A 1\n#endif\nstruct sock_filter f[] = { BPF_STMT(BPF_RET|BPF_K, A) };")
            .unwrap_err()
            .to_string();
        assert!(e.contains("defined under #if"), "{e}");
    }

    #[test]
    fn several_arrays_are_candidates() {
        let t = "struct sock_filter a[] = { { 6, 0, 0, 0 } };\n\nstruct sock_filter b[2] = { { 6, 0, 0, 1 }, { 6, 0, 0, 2 }, };\n";
        let s = Source::parse(t, Arch::X86_64).unwrap();
        let c = s.candidates();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1], Candidate { name: Some("b".into()), line: 3, instructions: 2 });
        assert_eq!(s.program(1).unwrap().insns[1], Insn::new(6, 0, 0, 2));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep =
            format!("struct sock_filter f[] = {{ BPF_STMT(6, {}0{}) }};", "(".repeat(10_000), ")".repeat(10_000));
        let e = read(&deep).unwrap_err().to_string();
        assert!(e.contains("nested deeper than 64 levels"), "{e}");
        let e = read(&"{".repeat(100_000)).unwrap_err().to_string();
        assert!(e.contains("unterminated `{`"), "{e}");
    }
}
