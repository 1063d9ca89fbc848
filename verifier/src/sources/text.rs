//! Filters written as text: hex dumps, C arrays (`bpf_asm -c`, `tcpdump -dd`) and
//! the decimal "count,code jt jf k,…" form (`bpf_asm`, `tcpdump -ddd`).
//!
//! Each parser is total: malformed text gives a [`TextError`] with the line and
//! column and what was expected.

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
    let mut digits = Vec::new();
    let mut offsets = Vec::new();
    for (lno, line) in text.lines().enumerate() {
        let line_start = text.lines().take(lno).map(|l| l.len() + 1).sum::<usize>();
        let content = line.split('#').next().unwrap_or("");
        for (tok_off, tok) in tokens(content) {
            let t = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
            for (i, c) in t.char_indices() {
                if !c.is_ascii_hexdigit() {
                    return Err(at(text, line_start + tok_off + i + (tok.len() - t.len()), format!("expected a hex digit, found {c:?}")));
                }
                digits.push(c.to_digit(16).unwrap() as u8);
                offsets.push(line_start + tok_off);
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(TextError::Whole(format!("{} hex digits is an odd number: a byte needs two", digits.len())));
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
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

/// C array text: every `{ code, jt, jf, k }` group in order. Text outside the
/// braces (declarations, comments) is ignored; a group that is not four C
/// integers is an error.
pub fn parse_c_array(text: &str) -> Result<Program, TextError> {
    let stripped = strip_c_comments(text);
    let mut insns = Vec::new();
    let mut rest = 0usize;
    while let Some(open) = stripped[rest..].find('{') {
        let start = rest + open + 1;
        let Some(close) = stripped[start..].find('}') else {
            return Err(at(text, start - 1, "unterminated `{`: expected `{ code, jt, jf, k }`"));
        };
        let body = &stripped[start..start + close];
        rest = start + close + 1;
        if body.contains('{') {
            // An outer `{` of the array itself: continue inside it.
            rest = start;
            continue;
        }
        let fields: Vec<&str> = body.split(',').map(str::trim).collect();
        if fields.len() != 4 {
            return Err(at(text, start - 1, format!("expected 4 fields `{{ code, jt, jf, k }}`, found {}", fields.len())));
        }
        let mut vals = [0u64; 4];
        let limits = [0xffff, 0xff, 0xff, 0xffff_ffff];
        for (i, f) in fields.iter().enumerate() {
            let v = parse_c_uint(f)
                .ok_or_else(|| at(text, start, format!("field {} `{f}` is not a C integer constant", i + 1)))?;
            if v > limits[i] {
                return Err(at(text, start, format!("field {} `{f}` does not fit its {}-bit slot", i + 1, [16, 8, 8, 32][i])));
            }
            vals[i] = v;
        }
        insns.push(Insn::new(vals[0] as u16, vals[1] as u8, vals[2] as u8, vals[3] as u32));
    }
    if insns.is_empty() {
        return Err(TextError::Whole("no `{ code, jt, jf, k }` entries found".into()));
    }
    Ok(Program::new(insns))
}

/// Replace `/* */` and `//` comments by spaces, keeping byte offsets.
fn strip_c_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            out.extend(text[i..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
            i = end;
        } else if b[i..].starts_with(b"//") {
            let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
            out.extend(std::iter::repeat_n(' ', text[i..end].chars().count()));
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
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
        let bad = || TextError::Whole(format!("instruction {i}: expected `code jt jf k` as decimal numbers, found `{p}`"));
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
        return Err(TextError::Whole(format!("the header says {count} instructions but {} follow", insns.len())));
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

/// Is this a C array of `{ code, jt, jf, k }` groups?
pub fn looks_c_array(text: &str) -> bool {
    let t = strip_c_comments(text);
    t.contains('{') && t.contains('}') && t.contains(',')
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
    fn c_array_as_tcpdump_prints_it() {
        let t = "{ 0x20, 0, 0, 0x00000004 },\n{ 0x15, 1, 0, 0xc000003e },\n{ 0x6, 0, 0, 0x7fff0000 },\n";
        let p = parse_c_array(t).unwrap();
        assert_eq!(p.insns[1], Insn::new(0x15, 1, 0, 0xc000_003e));
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn c_array_with_declaration_and_comments() {
        let t = "/* generated */\nstruct sock_filter f[] = {\n  { 0x06, 0, 0, 0x7fff0000 }, // allow\n};\n";
        assert_eq!(parse_c_array(t).unwrap().insns, vec![Insn::new(6, 0, 0, 0x7fff_0000)]);
    }

    #[test]
    fn c_array_errors_name_the_place() {
        let e = parse_c_array("{ 0x06, 0, 0 },").unwrap_err();
        assert_eq!(e.to_string(), "line 1, column 1: expected 4 fields `{ code, jt, jf, k }`, found 3");
        let e = parse_c_array("\n{ 0x06, 0, 300, 1 },").unwrap_err();
        assert!(e.to_string().starts_with("line 2, column 2: field 3 `300` does not fit"), "{e}");
    }

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
