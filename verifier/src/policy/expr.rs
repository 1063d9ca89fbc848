//! `when` expressions: conditions on the full 64-bit syscall arguments and the
//! instruction pointer.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | compare
//! compare := term ("==" | "!=" | "<" | "<=" | ">" | ">=") value
//!          | term "in" "[" value "," value "]"
//! term    := field ("&" value)?
//! field   := "arg0" … "arg5" | "ip"
//! value   := atom ("|" atom)*           (flags: O_CREAT | O_TRUNC)
//! atom    := number | CONSTANT | "(" value ")"
//! ```
//! `&` binds tighter than comparisons (`arg2 & O_ACCMODE == O_RDONLY` is
//! `(arg2 & O_ACCMODE) == O_RDONLY`), unlike C. Comparisons are unsigned 64-bit.

use super::constants;
use crate::arch::Arch;
use serde::Serialize;
use std::fmt;

/// What a condition looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Field {
    Arg(u8),
    Ip,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Arg(i) => write!(f, "arg{i}"),
            Field::Ip => f.write_str("ip"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn eval(self, a: u64, b: u64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A parsed condition. Constants are already resolved to numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Expr {
    True,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `(field & mask) op value`; `mask` is all ones when absent.
    Cmp { field: Field, mask: u64, op: CmpOp, value: u64 },
    /// `(field & mask) in [lo, hi]`, inclusive.
    In { field: Field, mask: u64, lo: u64, hi: u64 },
}

impl Expr {
    /// Evaluate on concrete values (`args`, `ip`): the reference semantics the
    /// symbolic compilation of an expression is tested against.
    pub fn eval(&self, args: &[u64; 6], ip: u64) -> bool {
        let get = |f: &Field| match f {
            Field::Arg(i) => args[*i as usize],
            Field::Ip => ip,
        };
        match self {
            Expr::True => true,
            Expr::Not(e) => !e.eval(args, ip),
            Expr::And(a, b) => a.eval(args, ip) && b.eval(args, ip),
            Expr::Or(a, b) => a.eval(args, ip) || b.eval(args, ip),
            Expr::Cmp { field, mask, op, value } => op.eval(get(field) & mask, *value),
            Expr::In { field, mask, lo, hi } => (lo..=hi).contains(&&(get(field) & mask)),
        }
    }

    pub fn and(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::True, e) | (e, Expr::True) => e,
            (a, b) => Expr::And(Box::new(a), Box::new(b)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let term = |f: &mut fmt::Formatter<'_>, field: &Field, mask: u64| {
            if mask == u64::MAX { write!(f, "{field}") } else { write!(f, "{field} & {mask:#x}") }
        };
        match self {
            Expr::True => f.write_str("true"),
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::And(a, b) => write!(f, "({a}) and ({b})"),
            Expr::Or(a, b) => write!(f, "({a}) or ({b})"),
            Expr::Cmp { field, mask, op, value } => {
                term(f, field, *mask)?;
                write!(f, " {} {value:#x}", op.symbol())
            }
            Expr::In { field, mask, lo, hi } => {
                term(f, field, *mask)?;
                write!(f, " in [{lo:#x}, {hi:#x}]")
            }
        }
    }
}

/// A parse error at a byte offset of the expression text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {}: {msg}", .offset + 1)]
pub struct ExprError {
    pub offset: usize,
    pub msg: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(u64),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let text = s[start..i].replace('_', "");
            let v = if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                u64::from_str_radix(h, 16)
            } else if let Some(o) = text.strip_prefix("0o") {
                u64::from_str_radix(o, 8)
            } else if let Some(bb) = text.strip_prefix("0b") {
                u64::from_str_radix(bb, 2)
            } else {
                text.parse()
            };
            let v = v.map_err(|_| ExprError { offset: start, msg: format!("`{}` is not a 64-bit number", &s[start..i]) })?;
            out.push((start, Tok::Num(v)));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((start, Tok::Ident(s[start..i].to_string())));
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            let op = ["==", "!=", "<=", ">="].into_iter().find(|o| *o == two);
            let (op, len) = match op {
                Some(o) => (o, 2),
                None => match c {
                    b'<' => ("<", 1),
                    b'>' => (">", 1),
                    b'&' => ("&", 1),
                    b'|' => ("|", 1),
                    b'(' => ("(", 1),
                    b')' => (")", 1),
                    b'[' => ("[", 1),
                    b']' => ("]", 1),
                    b',' => (",", 1),
                    _ => {
                        let ch = s[i..].chars().next().unwrap();
                        return Err(ExprError { offset: i, msg: format!("unexpected character {ch:?}") });
                    }
                },
            };
            out.push((i, Tok::Op(op)));
            i += len;
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
    arches: &'a [Arch],
}

/// Parse `text`. Constants are checked against every arch in `arches`: one whose
/// value differs on any of them is an error.
pub fn parse(text: &str, arches: &[Arch]) -> Result<Expr, ExprError> {
    let mut p = Parser { toks: lex(text)?, pos: 0, len: text.len(), arches };
    if p.toks.is_empty() {
        return Err(ExprError { offset: 0, msg: "empty condition".into() });
    }
    let e = p.or()?;
    if let Some((off, t)) = p.toks.get(p.pos) {
        return Err(ExprError { offset: *off, msg: format!("expected `and`, `or` or the end, found {}", show(t)) });
    }
    Ok(e)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Op(o) => format!("`{o}`"),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |(o, _)| *o)
    }
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ExprError> {
        let found = self.peek().map_or("the end".to_string(), show);
        Err(ExprError { offset: self.offset(), msg: format!("{}, found {found}", msg.into()) })
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.and()?;
        while self.eat_word("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.unary()?;
        while self.eat_word("and") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat_op("(") {
            let e = self.or()?;
            if !self.eat_op(")") {
                return self.err("expected `)`");
            }
            return Ok(e);
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, ExprError> {
        let field = match self.peek() {
            Some(Tok::Ident(s)) if s == "ip" => Field::Ip,
            Some(Tok::Ident(s)) if s.len() == 4 && s.starts_with("arg") && (b'0'..=b'5').contains(&s.as_bytes()[3]) => {
                Field::Arg(s.as_bytes()[3] - b'0')
            }
            _ => return self.err("expected `arg0`…`arg5`, `ip`, `not` or `(`"),
        };
        self.pos += 1;
        let mask = if self.eat_op("&") { self.value()? } else { u64::MAX };
        if self.eat_word("in") {
            if !self.eat_op("[") {
                return self.err("expected `[` after `in`");
            }
            let lo = self.value()?;
            if !self.eat_op(",") {
                return self.err("expected `,` between the bounds");
            }
            let hi = self.value()?;
            if !self.eat_op("]") {
                return self.err("expected `]`");
            }
            if lo > hi {
                return Err(ExprError { offset: self.offset(), msg: format!("empty range [{lo:#x}, {hi:#x}]: the low bound is above the high bound") });
            }
            return Ok(Expr::In { field, mask, lo, hi });
        }
        let op = match self.peek() {
            Some(Tok::Op("==")) => CmpOp::Eq,
            Some(Tok::Op("!=")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            _ => return self.err("expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`), `in` or `&`"),
        };
        self.pos += 1;
        let value = self.value()?;
        Ok(Expr::Cmp { field, mask, op, value })
    }
    fn value(&mut self) -> Result<u64, ExprError> {
        let mut v = self.atom()?;
        while self.eat_op("|") {
            v |= self.atom()?;
        }
        Ok(v)
    }
    fn atom(&mut self) -> Result<u64, ExprError> {
        let off = self.offset();
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(Tok::Ident(name)) => {
                let Some(c) = constants::lookup(&name) else {
                    return Err(ExprError { offset: off, msg: format!("unknown constant `{name}`") });
                };
                if let Some(a) = self.arches.iter().find(|a| c.differs_on.contains(a)) {
                    return Err(ExprError {
                        offset: off,
                        msg: format!("`{name}` has a different value on {a}; write the number for that arch in a separate rule"),
                    });
                }
                self.pos += 1;
                Ok(c.value)
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let v = self.value()?;
                if !self.eat_op(")") {
                    return self.err("expected `)`");
                }
                Ok(v)
            }
            _ => self.err("expected a number or a constant"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s, &[Arch::X86_64]).unwrap()
    }

    #[test]
    fn design_example() {
        let e = p("arg2 & O_ACCMODE == O_RDONLY");
        assert_eq!(e, Expr::Cmp { field: Field::Arg(2), mask: 3, op: CmpOp::Eq, value: 0 });
        assert!(e.eval(&[0, 0, 0o100, 0, 0, 0], 0));
        assert!(!e.eval(&[0, 0, 0o2, 0, 0, 0], 0));
    }

    #[test]
    fn precedence_and_forms() {
        let e = p("not arg0 & CLONE_NEWUSER != 0 and (arg1 in [0x1000, 0xffffffffffffffff] or ip == 7)");
        assert!(e.eval(&[0, 0x1000, 0, 0, 0, 0], 0));
        assert!(!e.eval(&[0x1000_0000, 0x1000, 0, 0, 0, 0], 0));
        assert!(e.eval(&[0, 5, 0, 0, 0, 0], 7));
        assert!(!e.eval(&[0, 5, 0, 0, 0, 0], 8));
        assert_eq!(p("arg1 & (O_CREAT | O_TRUNC) != 0"), Expr::Cmp { field: Field::Arg(1), mask: 0x240, op: CmpOp::Ne, value: 0 });
        assert_eq!(p("arg0 == 1_000"), Expr::Cmp { field: Field::Arg(0), mask: u64::MAX, op: CmpOp::Eq, value: 1000 });
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("arg2 & O_BOGUS == 0", &[Arch::X86_64]).unwrap_err();
        assert_eq!(e.to_string(), "at character 8: unknown constant `O_BOGUS`");
        let e = parse("arg6 == 0", &[]).unwrap_err();
        assert!(e.to_string().starts_with("at character 1: expected `arg0`…`arg5`"), "{e}");
        let e = parse("arg0 == ", &[]).unwrap_err();
        assert_eq!(e.to_string(), "at character 9: expected a number or a constant, found the end");
        let e = parse("arg0 & O_CREAT != 0", &[Arch::Mips]).unwrap_err();
        assert!(e.to_string().contains("different value on mips"), "{e}");
        let e = parse("arg0 == 0x1ffffffffffffffff", &[]).unwrap_err();
        assert!(e.to_string().contains("not a 64-bit number"), "{e}");
        assert!(parse("arg0 in [5, 1]", &[]).is_err());
        assert!(parse("", &[]).is_err());
        assert!(parse("arg0 == 1 arg1 == 2", &[]).unwrap_err().to_string().contains("expected `and`, `or` or the end"));
    }
}
