//! Escaping for the Markdown reports (`seccheck report -o x.md`, the
//! `bench --report` README): everything a report did not write itself (file
//! names, profile and filter labels, generator notes and their JSON paths,
//! policy names and `when` text, messages quoting them, machine strings)
//! goes through [`text`] (or [`cell`] in a table), [`code`], [`prose`] or [`fence`], so it renders as
//! the characters it is and never as Markdown or HTML.
//!
//! The scheme: every character Markdown or HTML could read as syntax is
//! written as a numeric character reference (`<` → `&#60;`, `|` → `&#124;`,
//! `` ` `` → `&#96;`, `*`, `\`, `&`, and `_`, `]`, `#`, `@` where they could
//! be syntax; see [`text`] for the exact rules). CommonMark
//! treats a character reference as literal text that can never stand for a
//! structural character (spec 0.31, "Entity and numeric character
//! references"), GFM splits table cells only at a literal `|`, and an HTML
//! block (`<details><summary>…`) decodes the reference as plain text. Line
//! breaks (`\n`, `\r`, the only line endings CommonMark knows) and every other
//! control character become their visible Unicode control pictures (`\n` →
//! `␊`), so untrusted text never starts a line: no heading, list, fence, HTML
//! block or table row can come from it, and a table row keeps its columns.
//! Values (names, paths, conditions, inputs) sit in `<code>`, where GitHub
//! also leaves `@mentions`, `#123` references and bare URLs alone.
//!
//! The HTML report needs none of this: minijinja escapes every value
//! (`report.html` auto-escapes, no value is marked `|safe`, every attribute
//! is double-quoted).

/// Untrusted text as inline Markdown that renders exactly as these
/// characters (control characters as their control pictures), anywhere on a
/// line we wrote (after a list marker too).
///
/// Encoded everywhere: `` \ ` * < > & | ~ $ ! `` (escapes, code, emphasis,
/// images, HTML, tables, strikethrough, GitHub's math). Encoded where they
/// could start markup, and left alone where CommonMark/GFM cannot read them
/// as syntax, so names read plainly in the Markdown source too:
/// - `_` unless between two letters or digits (an intraword `_` is both
///   left- and right-flanking and can neither open nor close emphasis);
/// - `@` and `#` unless after a letter or digit (a GitHub mention or issue
///   reference needs a non-word character before it);
/// - `]` before `(`, `[` or `:` (an inline link, a full reference, a link
///   definition); a lone `[x]` is text, as nothing we write defines `x`,
///   and `[` first on a line is encoded by the next rule;
/// - first on a line, any ASCII punctuation (`-`, `+`, `=`, `:`, `[` …), and
///   the `.` or `)` after leading digits (`1.` starts an ordered list).
pub fn text(s: &str) -> String {
    encode(s, true)
}

/// Untrusted text that never starts a line: in a GFM table cell (inline
/// content only), inside `<code>`, or after our own words on a line. As
/// [`text`] without the rules for the start of a line (no list, heading or
/// link definition can start there), so `+30 [28, 34]`, `6.18.44` or
/// `/bin/ls` stay as they are.
pub fn cell(s: &str) -> String {
    encode(s, false)
}

fn encode(s: &str, line_start_rules: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut digits_so_far = true;
    let word = |i: Option<usize>| i.and_then(|i| chars.get(i)).is_some_and(|c| c.is_alphanumeric());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1);
        let encode = match c {
            '\\' | '`' | '*' | '<' | '>' | '&' | '|' | '~' | '$' | '!' => true,
            '_' => !(word(before) && word(Some(i + 1))),
            '@' | '#' => !word(before),
            ']' => matches!(chars.get(i + 1), Some('(' | '[' | ':')),
            // Not line endings for CommonMark, but some viewers break there.
            '\u{2028}' | '\u{2029}' | '\u{85}' => true,
            '.' | ')' if line_start_rules && digits_so_far && i > 0 => true,
            c if line_start_rules && i == 0 && c.is_ascii_punctuation() => true,
            _ => false,
        };
        digits_so_far &= c.is_ascii_digit();
        match c {
            // Control pictures: U+2400 + code for C0, U+2421 for DEL.
            '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).expect("control picture")),
            '\x7f' => out.push('\u{2421}'),
            _ if encode => {
                out.push_str("&#");
                out.push_str(&(c as u32).to_string());
                out.push(';');
            }
            c => out.push(c),
        }
    }
    out
}

/// An untrusted value (a name, a path, a condition, an input) as inline
/// code: `<code>` around [`cell`]. Safe in table cells and in HTML blocks.
pub fn code(s: &str) -> String {
    format!("<code>{}</code>", cell(s))
}

/// A sentence written by seccheck that marks code with backticks and may
/// quote untrusted text there (a finding's message, a generator note): the
/// parts between backticks become [`code`], the rest [`text`]. A stray
/// backtick inside a quoted value can only move where code starts or ends;
/// nothing in it becomes markup.
pub fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        // An unpaired last backtick stays a literal character.
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str(&code(part));
        } else {
            if i % 2 == 1 {
                out.push_str("&#96;");
            }
            out.push_str(&text(part));
        }
    }
    out
}

/// `s` on one line: control characters (line breaks among them) as their
/// control pictures, nothing else changed. For a line inside a fenced block,
/// where character references are not decoded.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\0'..='\x1f' => char::from_u32(0x2400 + c as u32).expect("control picture"),
            '\x7f' => '\u{2421}',
            c => c,
        })
        .collect()
}

/// A fenced code block around `body` (any text): the fence is one backtick
/// longer than the longest run of backticks in it (at least three), so no
/// line of the body can close it; the language tag is ours.
pub fn fence(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let f = "`".repeat((longest + 1).max(3));
    // `\r` would end a line inside the block; keep the body's lines as lines.
    let body = body.replace("\r\n", "\n").replace('\r', "\u{240d}");
    let nl = if body.ends_with('\n') { "" } else { "\n" };
    format!("{f}{lang}\n{body}{nl}{f}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_of_the_input_stays_syntax() {
        assert_eq!(text("a <b> & c|d"), "a &#60;b&#62; &#38; c&#124;d");
        assert_eq!(text("x\n## Approved\r\t"), "x\u{240a}&#35;&#35; Approved\u{240d}\u{2409}");
        assert_eq!(text("[x](javascript:alert(1))"), "&#91;x&#93;(javascript:alert(1))");
        assert_eq!(
            text("a [x](javascript:alert(1)) [y][z] [w]: u"),
            "a [x&#93;(javascript:alert(1)) [y&#93;[z] [w&#93;: u"
        );
        assert_eq!(text("_a_ b_c *d* @e f@g #1 h#2"), "&#95;a&#95; b_c &#42;d&#42; &#64;e f@g &#35;1 h#2");
        assert_eq!(text("- item"), "&#45; item");
        assert_eq!(text("12. x 3. y"), "12&#46; x 3. y");
        assert_eq!(text("@team"), "&#64;team");
        assert_eq!(code("`a`"), "<code>&#96;a&#96;</code>");
        assert_eq!(text("docker-default.x86_64.json"), "docker-default.x86_64.json");
        assert_eq!(text("x_ _y"), "x&#95; &#95;y");
        assert_eq!(cell("6.18.44 +30 [28, 34] - x"), "6.18.44 +30 [28, 34] - x");
        assert_eq!(cell("a|b <i>"), "a&#124;b &#60;i&#62;");
    }

    #[test]
    fn prose_keeps_our_code_spans() {
        assert_eq!(
            prose("`openat` runs although `arg2 & 3 == 0` does not"),
            "<code>openat</code> runs although <code>arg2 &#38; 3 == 0</code> does not"
        );
        assert_eq!(prose("odd ` tick"), "odd &#96; tick");
        assert_eq!(prose("a <i>`b\n# c`"), "a &#60;i&#62;<code>b\u{240a}&#35; c</code>");
    }

    #[test]
    fn fences_outgrow_the_body() {
        assert_eq!(fence("text", "a\n"), "```text\na\n```\n");
        assert_eq!(fence("text", "a ```` b"), "`````text\na ```` b\n`````\n");
    }
}
