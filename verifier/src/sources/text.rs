//! Filters written as text: hex dumps and the decimal "count,code jt jf k,…"
//! form (`bpf_asm`, `tcpdump -ddd`); C sources are read by [`super::c`].
//!
//! Each parser is total and linear in its input: malformed text gives a
//! [`TextError`] with the line and column (computed only then) and what was
//! expected.

use crate::bpf::insn::{Insn, Program};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("line {line}, column {col}: {msg}")]
    At { line: usize, col: usize, msg: String },
    #[error("{0}")]
    Whole(String),
}

fn at(text: &str, byte: usize, msg: impl Into<String>) -> TextError {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |p| before.len() - p - 1) + 1;
    TextError::At { line, col, msg: msg.into() }
}

/// Parse an unsigned integer in C syntax: `0x…` hex, `0…` octal, or decimal.
pub fn parse_c_uint(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Hex text: pairs of hex digits forming the raw little-endian `sock_filter`
/// bytes, with any white space, optional `0x` prefixes per byte group and `#`
/// comments.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, TextError> {
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut half: Option<u8> = None;
    let mut digits = 0usize;
    let mut line_start = 0usize;
    for line in text.split_inclusive('\n') {
        let content = line.split('#').next().unwrap_or("");
        for (tok_off, tok) in tokens(content) {
            let t = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
            for (i, c) in t.char_indices() {
                let Some(d) = c.to_digit(16) else {
                    return Err(at(
                        text,
                        line_start + tok_off + i + (tok.len() - t.len()),
                        format!("expected a hex digit, found {c:?}"),
                    ));
                };
                digits += 1;
                match half.take() {
                    Some(h) => bytes.push(h << 4 | d as u8),
                    None => half = Some(d as u8),
                }
            }
        }
        line_start += line.len();
    }
    if half.is_some() {
        return Err(TextError::Whole(format!("{digits} hex digits is an odd number: a byte needs two")));
    }
    Ok(bytes)
}

fn tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .scan(0usize, |pos, tok| {
            let start = *pos;
            *pos += tok.len() + 1;
            Some((start, tok))
        })
        .filter(|(_, t)| !t.is_empty())
}

/// The decimal form `N,code jt jf k,code jt jf k,…` printed by `bpf_asm` and
/// `tcpdump -ddd` (the count first; newlines may replace commas).
pub fn parse_decimal(text: &str) -> Result<Program, TextError> {
    let mut parts = text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty());
    let count_s = parts.next().ok_or_else(|| TextError::Whole("empty input".into()))?;
    let count: usize = count_s
        .parse()
        .map_err(|_| TextError::Whole(format!("expected the instruction count first, found `{count_s}`")))?;
    let mut insns = Vec::new();
    for (i, p) in parts.enumerate() {
        let f: Vec<&str> = p.split_whitespace().collect();
        let bad =
            || TextError::Whole(format!("instruction {i}: expected `code jt jf k` as decimal numbers, found `{p}`"));
        if f.len() != 4 {
            return Err(bad());
        }
        let code: u16 = f[0].parse().map_err(|_| bad())?;
        let jt: u8 = f[1].parse().map_err(|_| bad())?;
        let jf: u8 = f[2].parse().map_err(|_| bad())?;
        let k: u32 = f[3].parse().map_err(|_| bad())?;
        insns.push(Insn::new(code, jt, jf, k));
    }
    if insns.len() != count {
        return Err(TextError::Whole(format!(
            "the header says {} but {} follow",
            crate::words::count(count, "instruction"),
            insns.len()
        )));
    }
    Ok(Program::new(insns))
}

/// Is this the decimal `bpf_asm` form? (a count, then groups of 4 decimals)
pub fn looks_decimal(text: &str) -> bool {
    let t = text.trim();
    let Some((head, rest)) = t.split_once([',', '\n']) else { return false };
    head.trim().parse::<usize>().is_ok()
        && rest.split([',', '\n']).all(|g| {
            let f: Vec<_> = g.split_whitespace().collect();
            g.trim().is_empty() || (f.len() == 4 && f.iter().all(|x| x.parse::<u64>().is_ok()))
        })
}

/// Is this a hex dump (only hex digits, `0x`, separators and comments)?
pub fn looks_hex(text: &str) -> bool {
    let mut any = false;
    for line in text.lines() {
        let content = line.split('#').next().unwrap_or("");
        for (_, tok) in tokens(content) {
            let t = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
            if t.is_empty() || !t.chars().all(|c| c.is_ascii_hexdigit()) {
                return false;
            }
            any = true;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_decimal() {
        assert_eq!(parse_hex("06 00 00 00\n0000ff7f # ret allow").unwrap(), vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
        assert!(parse_hex("0g").unwrap_err().to_string().contains("column 2"));
        let p = parse_decimal("2,32 0 0 4,6 0 0 2147418112\n").unwrap();
        assert_eq!(p.insns[1], Insn::new(6, 0, 0, 0x7fff_0000));
        assert!(looks_decimal("2,32 0 0 4,6 0 0 2147418112\n"));
        assert!(parse_decimal("3,6 0 0 0").is_err());
    }
}
