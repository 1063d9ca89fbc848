//! `when` expressions: conditions on the full 64-bit syscall arguments and the
//! instruction pointer, the named constants they may use ([`constants`]), the
//! syscall families they come with ([`families`]) and their exact input sets
//! ([`input_set`]). Shared by the policy language (`crate::policy`) and the
//! lints, which both sit above this module.
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
//!
//! Policy files come from strangers, so every walk over an expression is
//! bounded: `and`/`or` are n-ary ([`Expr::And`], [`Expr::Or`] hold a `Vec`), so
//! a flat chain of any length is a loop everywhere (parser, [`fmt::Display`],
//! [`Expr::eval`], the set compiler [`input_set`], and the
//! derived `Clone`/`Drop`/`PartialEq`/`Hash`/`Serialize`), and nesting (`(`
//! and `not`, in conditions and in values) is refused beyond [`MAX_DEPTH`]
//! levels, so no recursion over an expression goes deeper than that. Lexing
//! and parsing are linear in the text.

pub mod constants;
pub mod families;
mod set;

use crate::arch::Arch;
use serde::Serialize;
pub use set::input_set;
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

/// How deeply parentheses and `not` may nest in a `when` expression (each `(`
/// and each `not` is one level; a flat `a or b or …` chain is one level
/// whatever its length).
///
/// Why 64: conditions people write, and the ones `seccheck generate` writes,
/// nest 2 or 3 levels (the corpus policies: 1); 64 leaves room for generated
/// conditions while every recursive walk over an [`Expr`] stays within a few
/// hundred stack frames, a few tens of KiB, even on a spawned thread's 2 MiB
/// stack. Deeper input is an error naming this limit, never a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// A parsed condition. Constants are already resolved to numbers.
///
/// `And` and `Or` are n-ary (at least two operands when built by [`parse`]),
/// so flat chains never recurse per operand; nesting is bounded by
/// [`MAX_DEPTH`] for parsed expressions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Expr {
    True,
    Not(Box<Expr>),
    /// Every operand holds.
    And(Vec<Expr>),
    /// Some operand holds.
    Or(Vec<Expr>),
    /// `(field & mask) op value`; `mask` is all ones when absent.
    Cmp {
        field: Field,
        mask: u64,
        op: CmpOp,
        value: u64,
    },
    /// `(field & mask) in [lo, hi]`, inclusive.
    In {
        field: Field,
        mask: u64,
        lo: u64,
        hi: u64,
    },
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
            Expr::And(es) => es.iter().all(|e| e.eval(args, ip)),
            Expr::Or(es) => es.iter().any(|e| e.eval(args, ip)),
            Expr::Cmp { field, mask, op, value } => op.eval(get(field) & mask, *value),
            Expr::In { field, mask, lo, hi } => (lo..=hi).contains(&&(get(field) & mask)),
        }
    }

    /// `a and b`, without `True` operands; an `And` operand's operands are
    /// taken in (the result is no deeper than its operands).
    pub fn and(a: Expr, b: Expr) -> Expr {
        match (a, b) {
            (Expr::True, e) | (e, Expr::True) => e,
            (a, b) => {
                let mut v = Vec::new();
                for e in [a, b] {
                    match e {
                        Expr::And(es) => v.extend(es),
                        e => v.push(e),
                    }
                }
                Expr::And(v)
            }
        }
    }

    /// Nesting depth: 1 for a comparison, +1 for each `not` and each
    /// `and`/`or` (of any length) around it. Iterative. A parsed expression is
    /// at most 2 × ([`MAX_DEPTH`] + 1) + 1 deep (a redundant `(...)` adds
    /// nothing; within one level of parentheses an `and` inside an `or` adds
    /// a second).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut todo = vec![(self, 1)];
        while let Some((e, d)) = todo.pop() {
            deepest = deepest.max(d);
            match e {
                Expr::Not(x) => todo.push((x, d + 1)),
                Expr::And(es) | Expr::Or(es) => todo.extend(es.iter().map(|x| (x, d + 1))),
                _ => {}
            }
        }
        deepest
    }

    /// Does `e` look at a syscall argument (not only at `ip`)? Iterative: no
    /// recursion whatever the shape.
    pub fn mentions_args(&self) -> bool {
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            match e {
                Expr::True => {}
                Expr::Not(x) => todo.push(x),
                Expr::And(es) | Expr::Or(es) => todo.extend(es),
                Expr::Cmp { field, .. } | Expr::In { field, .. } => {
                    if matches!(field, Field::Arg(_)) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let term = |f: &mut fmt::Formatter<'_>, field: &Field, mask: u64| {
            if mask == u64::MAX {
                write!(f, "{field}")
            } else {
                write!(f, "{field} & {mask:#x}")
            }
        };
        match self {
            Expr::True => f.write_str("true"),
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::And(es) | Expr::Or(es) => {
                let word = if matches!(self, Expr::And(_)) { " and " } else { " or " };
                for (i, e) in es.iter().enumerate() {
                    if i > 0 {
                        f.write_str(word)?;
                    }
                    write!(f, "({e})")?;
                }
                Ok(())
            }
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
            let v =
                v.map_err(|_| ExprError { offset: start, msg: format!("`{}` is not a 64-bit number", &s[start..i]) })?;
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
    /// Open `(` and `not` around the current token (at most [`MAX_DEPTH`]).
    depth: usize,
}

/// Parse `text`. Constants are checked against every arch in `arches`: one whose
/// value differs on any of them is an error.
pub fn parse(text: &str, arches: &[Arch]) -> Result<Expr, ExprError> {
    let mut p = Parser { toks: lex(text)?, pos: 0, len: text.len(), arches, depth: 0 };
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
    /// Enter one level of nesting (the token at `pos` is the `(` or `not`).
    fn enter(&mut self) -> Result<(), ExprError> {
        if self.depth == MAX_DEPTH {
            let what = show(self.peek().expect("enter is called at a token"));
            return Err(ExprError {
                offset: self.offset(),
                msg: format!("{what} nests deeper than {MAX_DEPTH} levels of parentheses and `not` (the limit); write the condition flatter"),
            });
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }
    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn at_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == w)
    }
    fn or(&mut self) -> Result<Expr, ExprError> {
        let first = self.and()?;
        if !self.at_word("or") {
            return Ok(first);
        }
        let mut es = vec![first];
        while self.eat_word("or") {
            es.push(self.and()?);
        }
        Ok(Expr::Or(es))
    }
    fn and(&mut self) -> Result<Expr, ExprError> {
        let first = self.unary()?;
        if !self.at_word("and") {
            return Ok(first);
        }
        let mut es = vec![first];
        while self.eat_word("and") {
            es.push(self.unary()?);
        }
        Ok(Expr::And(es))
    }
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.at_word("not") {
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.at_op("(") {
            self.enter()?;
            let e = self.or()?;
            if !self.eat_op(")") {
                return self.err("expected `)`");
            }
            self.depth -= 1;
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
                return Err(ExprError {
                    offset: self.offset(),
                    msg: format!("empty range [{lo:#x}, {hi:#x}]: the low bound is above the high bound"),
                });
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
                        msg: format!(
                            "`{name}` has a different value on {a}; write the number for that arch in a separate rule"
                        ),
                    });
                }
                self.pos += 1;
                Ok(c.value)
            }
            Some(Tok::Op("(")) => {
                self.enter()?;
                let v = self.value()?;
                if !self.eat_op(")") {
                    return self.err("expected `)`");
                }
                self.depth -= 1;
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
        assert_eq!(
            p("arg1 & (O_CREAT | O_TRUNC) != 0"),
            Expr::Cmp { field: Field::Arg(1), mask: 0x240, op: CmpOp::Ne, value: 0 }
        );
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

#[cfg(test)]
mod hostile {
    //! Hostile shapes: depth limits at their exact edge, flat chains far
    //! longer than any stack would allow recursion for, time per byte.
    use super::*;
    use std::time::Instant;

    /// Run `f` on a thread with a 256 KiB stack: a walk that recursed once
    /// per operand of a 100 000-long chain would overflow it many times over.
    fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(256 << 10).spawn(f).unwrap().join().unwrap()
    }

    #[test]
    fn nesting_up_to_the_limit_parses_and_one_more_is_refused_where_it_starts() {
        // (opening text, repetitions reaching exactly MAX_DEPTH, offset of the
        // first token past the limit when repeated once more)
        for (open, close, k, at) in [
            ("(", ")", MAX_DEPTH, MAX_DEPTH),
            ("not ", "", MAX_DEPTH, 4 * MAX_DEPTH),
            ("not (", ")", MAX_DEPTH / 2, 5 * MAX_DEPTH / 2),
        ] {
            let ok = format!("{}arg0 == 1{}", open.repeat(k), close.repeat(k));
            let e = small_stack(move || parse(&ok, &[]).map(|e| e.depth()));
            assert!(e.is_ok(), "{open:?} x {k}: {e:?}");
            let bad = format!("{}arg0 == 1{}", open.repeat(k + 1), close.repeat(k + 1));
            let err = parse(&bad, &[]).unwrap_err();
            assert_eq!(err.offset, at, "{open:?}: {err}");
            assert!(err.msg.contains("deeper than 64 levels of parentheses and `not` (the limit)"), "{err}");
        }
        // Parentheses in values count too.
        let ok = format!("arg0 == {}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(
            parse(&ok, &[]).unwrap(),
            Expr::Cmp { field: Field::Arg(0), mask: u64::MAX, op: CmpOp::Eq, value: 1 }
        );
        let bad = format!("arg0 == {}1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let err = parse(&bad, &[]).unwrap_err();
        assert_eq!(err.offset, 8 + MAX_DEPTH, "{err}");
        assert!(
            err.to_string().starts_with(&format!("at character {}: `(` nests deeper than 64 levels", 9 + MAX_DEPTH)),
            "{err}"
        );
        // The issue's reproducers: refused at once, no stack overflow.
        for text in [
            format!("{}arg0 == 1{}", "(".repeat(20_000), ")".repeat(20_000)),
            format!("{}arg0 == 1", "not ".repeat(50_000)),
        ] {
            let r = small_stack(move || parse(&text, &[]).map(|_| ()));
            assert!(r.unwrap_err().msg.contains("64 levels"));
        }
    }

    #[test]
    fn flat_chains_of_any_length_never_recurse_per_operand() {
        let n = 100_000u64;
        let r = small_stack(move || {
            let or = (0..n).map(|i| format!("arg0 == {i}")).collect::<Vec<_>>().join(" or ");
            let and = (0..n).map(|i| format!("arg1 != {}", i + 1)).collect::<Vec<_>>().join(" and ");
            let both = format!("({or}) and not ({and})");
            let e = parse(&both, &[]).unwrap();
            let Expr::And(parts) = &e else { panic!("{:?}", e.depth()) };
            assert!(matches!(&parts[0], Expr::Or(es) if es.len() == n as usize));
            assert!(matches!(&parts[1], Expr::Not(x) if matches!(&**x, Expr::And(es) if es.len() == n as usize)));
            assert_eq!(e.depth(), 4);
            // eval, Display, Clone, PartialEq, Hash, Debug and Drop all walk it.
            // arg1 == 1 makes one `!=` of the `and` false, so `not (…)` holds.
            assert!(e.eval(&[n - 1, 1, 0, 0, 0, 0], 0));
            assert!(!e.eval(&[n, 1, 0, 0, 0, 0], 0));
            assert!(!e.eval(&[0, n + 1, 0, 0, 0, 0], 0));
            let shown = e.to_string();
            let back = parse(&shown, &[]).unwrap();
            assert_eq!(back, e.clone());
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&back, &mut h);
            assert!(format!("{e:?}").len() > shown.len() / 2);
            assert!(e.mentions_args());
            drop(back);
            shown.len()
        });
        assert!(r > 1_000_000);
    }

    /// Time per byte of a 16x longer input stays within a generous factor of
    /// a short one's (a quadratic parser would be ~16x worse). Best of three
    /// runs each, so a busy neighbour on this 2-core machine does not decide.
    #[test]
    fn time_per_byte_stays_bounded() {
        let chain =
            |n: usize| (0..n).map(|i| format!("arg{} & O_ACCMODE == {i}", i % 6)).collect::<Vec<_>>().join(" or ");
        let nested = |n: usize| {
            (0..n)
                .map(|i| format!("not (arg0 == {i} and (ip < 7 or arg1 in [1, (2 | 4)]))"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        for shape in [chain as fn(usize) -> String, nested] {
            let per_byte = |text: &str| {
                (0..3)
                    .map(|_| {
                        let t = Instant::now();
                        let e = parse(text, &[Arch::X86_64]).unwrap();
                        let shown = e.to_string();
                        std::hint::black_box((e, shown));
                        t.elapsed().as_secs_f64() / text.len() as f64
                    })
                    .fold(f64::MAX, f64::min)
            };
            let (small, large) = (shape(4_000), shape(64_000));
            let (a, b) = (per_byte(&small), per_byte(&large));
            assert!(
                b < 6.0 * a + 50e-9,
                "{} bytes: {:.1} ns/byte, {} bytes: {:.1} ns/byte",
                small.len(),
                a * 1e9,
                large.len(),
                b * 1e9
            );
        }
    }
}
