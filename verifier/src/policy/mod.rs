//! The property language: what a filter must guarantee, written as `policy.toml`.
//!
//! ```toml
//! arches = ["x86_64", "aarch64"]   # every other arch, and x32, must be killed or denied
//! default = "deny"                  # nothing outside the allow rules may reach ALLOW
//!
//! [[deny]]
//! syscalls = ["@process-create", "ptrace"]
//!
//! [[allow]]
//! syscalls = ["read", "write", "exit_group"]
//!
//! [[allow]]                          # must run whenever `when` holds
//! syscalls = ["socket"]
//! when = "arg0 & 0xffffffff == AF_UNIX"
//!
//! [[allow_only_if]]
//! syscalls = ["openat"]
//! when = "arg2 & O_ACCMODE == O_RDONLY"
//!
//! [actions]
//! forbid = ["user_notif", "trace"]
//! ```
//!
//! Parsing resolves names (arches, syscalls per arch, families, constants) and
//! reports every problem with its TOML line and column. Action classes:
//! *denied* = KILL_PROCESS, KILL_THREAD, TRAP, ERRNO (the syscall does not run);
//! *runs* = ALLOW, LOG; *delegated* = USER_NOTIF, TRACE (a supervisor or tracer
//! decides; reported as their own class, never counted as denied or allowed).

pub mod check;
pub mod reference;
pub mod verdict;

use crate::arch::Arch;
use crate::seccomp::Action;
use crate::when::{self as expr, families, Expr};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A parsed, resolved policy.
#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    /// The arches the filter is meant for. Every other arch value (and x32 unless
    /// listed) must be denied.
    pub arches: Vec<Arch>,
    pub default: Default,
    pub rules: Vec<Rule>,
    /// Actions no input may reach.
    pub forbid: Vec<ActionKind>,
}

/// What happens to syscalls no rule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Default {
    /// Nothing outside the allow rules may run.
    Deny,
    /// No requirement (a deny-list).
    Allow,
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub kind: RuleKind,
    /// As written: names and `@families`.
    pub syscalls: Vec<String>,
    /// The condition, as written and parsed: for `allow_only_if`, where the
    /// syscalls may run; for `deny` and `allow`, where the rule applies (absent:
    /// every argument value).
    pub when: Option<(String, Expr)>,
    /// 1-based line of the rule's `syscalls` key in the policy file.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The syscalls must be denied for every argument value (where `when` holds).
    Deny,
    /// The syscalls must run for every argument value (where `when` holds).
    Allow,
    /// The syscalls may run only when `when` holds.
    AllowOnlyIf,
}

/// An action, without data, as named in `[actions] forbid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    KillProcess,
    KillThread,
    Trap,
    Errno,
    UserNotif,
    Trace,
    Log,
    Allow,
}

impl ActionKind {
    const NAMES: &'static [(&'static str, ActionKind)] = &[
        ("kill_process", ActionKind::KillProcess),
        ("kill_thread", ActionKind::KillThread),
        ("trap", ActionKind::Trap),
        ("errno", ActionKind::Errno),
        ("user_notif", ActionKind::UserNotif),
        ("trace", ActionKind::Trace),
        ("log", ActionKind::Log),
        ("allow", ActionKind::Allow),
    ];

    pub fn of(a: Action) -> ActionKind {
        match a.effective() {
            Action::KillProcess | Action::Unknown(_) => ActionKind::KillProcess,
            Action::KillThread => ActionKind::KillThread,
            Action::Trap(_) => ActionKind::Trap,
            Action::Errno(_) => ActionKind::Errno,
            Action::UserNotif => ActionKind::UserNotif,
            Action::Trace(_) => ActionKind::Trace,
            Action::Log => ActionKind::Log,
            Action::Allow => ActionKind::Allow,
        }
    }
}

/// A problem in a policy file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {msg}")]
pub struct PolicyError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    arches: Option<Spanned<Vec<Spanned<String>>>>,
    default: Option<Spanned<String>>,
    #[serde(default)]
    deny: Vec<RawRule>,
    #[serde(default)]
    allow: Vec<RawRule>,
    #[serde(default)]
    allow_only_if: Vec<RawCondRule>,
    actions: Option<RawActions>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    syscalls: Spanned<Vec<Spanned<String>>>,
    /// Restricts the rule to the inputs where it holds.
    when: Option<Spanned<String>>,
    /// Free text kept for reports.
    #[allow(dead_code)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondRule {
    syscalls: Spanned<Vec<Spanned<String>>>,
    when: Spanned<String>,
    #[allow(dead_code)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActions {
    #[serde(default)]
    forbid: Vec<Spanned<String>>,
}

/// 1-based line and column (in characters) of a byte offset of `text`; an
/// offset inside a character counts as that character. Linear in `offset`:
/// for one position. Many positions go through [`Lines`] and [`positions`].
/// Where byte `decoded` of a TOML string's value lies in its source `token`
/// (quotes included): escapes (`\u0026` is one `&`), the quotes of every
/// string form, and a multi-line basic string's line-ending backslash, which
/// drops the whitespace after it (TOML 1.0, "String"). Offsets past the value
/// map to the closing quote.
fn source_offset(token: &str, decoded: usize) -> usize {
    let (open, escapes) = match token {
        t if t.starts_with("\"\"\"") => (3, true),
        t if t.starts_with("'''") => (3, false),
        t if t.starts_with('"') => (1, true),
        t if t.starts_with('\'') => (1, false),
        _ => return decoded,
    };
    // A multi-line string drops a newline right after its opening quotes.
    let mut i = open;
    if open == 3 {
        if token[i..].starts_with("\r\n") {
            i += 2;
        } else if token[i..].starts_with('\n') {
            i += 1;
        }
    }
    let b = token.as_bytes();
    let mut out = 0;
    while i < b.len() && out < decoded {
        if escapes && b[i] == b'\\' && i + 1 < b.len() {
            let (len, produced) = match b[i + 1] {
                b'u' => (
                    6,
                    token
                        .get(i + 2..i + 6)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map_or(1, char::len_utf8),
                ),
                b'U' => (
                    10,
                    token
                        .get(i + 2..i + 10)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map_or(1, char::len_utf8),
                ),
                b'x' => (4, 1),
                b' ' | b'\t' | b'\r' | b'\n' => {
                    // Line-ending backslash: it and all whitespace up to the next non-blank vanish.
                    let mut j = i + 1;
                    while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r' | b'\n') {
                        j += 1;
                    }
                    (j - i, 0)
                }
                _ => (2, 1),
            };
            i += len;
            out += produced;
        } else {
            let n = token[i..].chars().next().map_or(1, char::len_utf8);
            i += n;
            out += n;
        }
    }
    i.min(b.len())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    positions(text, vec![offset])[0]
}

/// Line starts of a text, for line numbers by binary search.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }
    /// 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset)
    }
}

/// Line and column of each offset (any order), in one pass over the text up
/// to the last of them: linear in the text plus sorting the offsets, however
/// many errors one long line holds.
fn positions(text: &str, offsets: Vec<usize>) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![(1, 1); offsets.len()];
    let (mut line, mut col) = (1usize, 1usize);
    let mut chars = text.char_indices().peekable();
    for i in order {
        let target = offsets[i].min(text.len());
        while let Some(&(pos, c)) = chars.peek() {
            // Stop at the character holding `target`.
            if pos + c.len_utf8() > target {
                break;
            }
            chars.next();
            if c == '\n' {
                (line, col) = (line + 1, 1);
            } else {
                col += 1;
            }
        }
        out[i] = (line, col);
    }
    out
}

/// Where the key with the most dotted parts starts (a table header or the
/// key of `key = value`), when one has 64 or more: the position the TOML
/// reader's "recursion limit" (80 parts) does not give. One pass; dots in
/// quoted key parts are not counted.
fn longest_key(text: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let at = start + (line.len() - t.len());
        let key =
            if t.starts_with('[') { t.split(']').next().unwrap_or("") } else { t.split('=').next().unwrap_or("") };
        let (mut dots, mut quote) = (0, None);
        for c in key.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '.') => dots += 1,
                _ => {}
            }
        }
        if dots >= 63 && best.is_none_or(|(d, _)| dots > d) {
            best = Some((dots, at));
        }
        start += line.len();
    }
    best.map(|(_, at)| at)
}

/// Parse and resolve a policy file's text. Returns every problem found.
///
/// Linear in the text: the TOML reader limits nesting itself (the `toml`
/// crate stops arrays, inline tables and dotted keys at 80 levels; we say so
/// in the error), `when` conditions are linear and nest at most
/// [`expr::MAX_DEPTH`] levels, and positions are computed in one pass.
pub fn parse(text: &str) -> Result<Policy, Vec<PolicyError>> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim();
        let deep = msg.contains("recursion limit") || msg.contains("max recursion depth");
        // The reader gives no position for a key too long; find its line.
        let at = e.span().map(|s| s.start).or_else(|| deep.then(|| longest_key(text)).flatten());
        let (line, col) = at.map_or((1, 1), |o| line_col(text, o));
        let msg = if deep {
            format!("nested deeper than the TOML reader allows (80 levels of arrays, inline tables or dotted keys; a policy needs 2) ({msg})")
        } else {
            msg.to_string()
        };
        vec![PolicyError { line, col, msg }]
    })?;
    let lines = Lines::new(text);
    // (byte offset, message); positions are computed once at the end.
    let mut errors: Vec<(usize, String)> = Vec::new();
    let err_at = |errors: &mut Vec<(usize, String)>, offset: usize, msg: String| {
        errors.push((offset, msg));
    };

    let mut arches = Vec::new();
    match &raw.arches {
        None => err_at(&mut errors, 0, "missing `arches = [...]`: the arches this filter is meant for".into()),
        Some(list) if list.get_ref().is_empty() => err_at(&mut errors, list.span().start, "`arches` is empty".into()),
        Some(list) => {
            for a in list.get_ref() {
                match Arch::from_name(a.get_ref()) {
                    Some(x) if !arches.contains(&x) => arches.push(x),
                    Some(_) => err_at(&mut errors, a.span().start, format!("arch `{}` is listed twice", a.get_ref())),
                    None => err_at(
                        &mut errors,
                        a.span().start,
                        format!(
                            "unknown arch `{}`; expected one of {}",
                            a.get_ref(),
                            Arch::all().map(|a| a.name()).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
        }
    }

    let default = match &raw.default {
        None => Default::Allow,
        Some(d) => match d.get_ref().as_str() {
            "deny" => Default::Deny,
            "allow" => Default::Allow,
            other => {
                err_at(&mut errors, d.span().start, format!("`default` is \"deny\" or \"allow\", not {other:?}"));
                Default::Allow
            }
        },
    };

    let mut rules = Vec::new();
    let check_names = |errors: &mut Vec<(usize, String)>, list: &Spanned<Vec<Spanned<String>>>| -> Vec<String> {
        if list.get_ref().is_empty() {
            err_at(errors, list.span().start, "`syscalls` is empty".into());
        }
        for s in list.get_ref() {
            let name = s.get_ref();
            let mut known = false;
            for &a in &arches {
                match families::expand(name, a) {
                    Ok(t) => known |= !t.is_empty() || families::is_family(name),
                    Err(e) => {
                        err_at(errors, s.span().start, e.to_string());
                        known = true;
                        break;
                    }
                }
            }
            if !known && !arches.is_empty() {
                let on = Arch::all().filter(|a| a.syscall_nr(name).is_some()).map(|a| a.name()).collect::<Vec<_>>();
                let hint = if on.is_empty() { String::new() } else { format!(" (it exists on {})", on.join(", ")) };
                err_at(
                    errors,
                    s.span().start,
                    format!(
                        "`{name}` is not a syscall of {}{hint}",
                        arches.iter().map(|a| a.name()).collect::<Vec<_>>().join(" or ")
                    ),
                );
            }
        }
        list.get_ref().iter().map(|s| s.get_ref().clone()).collect()
    };
    let parse_when = |errors: &mut Vec<(usize, String)>, w: &Spanned<String>| match expr::parse(w.get_ref(), &arches) {
        Ok(e) => Some((w.get_ref().clone(), e)),
        Err(e) => {
            let token = text.get(w.span()).unwrap_or("");
            err_at(errors, w.span().start + source_offset(token, e.offset), format!("in `when`: {}", e.msg));
            None
        }
    };
    for (kind, list) in [(RuleKind::Deny, &raw.deny), (RuleKind::Allow, &raw.allow)] {
        for r in list {
            let syscalls = check_names(&mut errors, &r.syscalls);
            let when = r.when.as_ref().and_then(|w| parse_when(&mut errors, w));
            rules.push(Rule { kind, syscalls, when, line: lines.line(r.syscalls.span().start) });
        }
    }
    for r in &raw.allow_only_if {
        let syscalls = check_names(&mut errors, &r.syscalls);
        let when = parse_when(&mut errors, &r.when);
        rules.push(Rule { kind: RuleKind::AllowOnlyIf, syscalls, when, line: lines.line(r.syscalls.span().start) });
    }

    let mut forbid = Vec::new();
    for f in raw.actions.iter().flat_map(|a| &a.forbid) {
        match ActionKind::NAMES.iter().find(|(n, _)| n == f.get_ref()) {
            Some(&(_, k)) => forbid.push(k),
            None => err_at(
                &mut errors,
                f.span().start,
                format!(
                    "unknown action `{}`; expected one of {}",
                    f.get_ref(),
                    ActionKind::NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }

    if errors.is_empty() {
        Ok(Policy { arches, default, rules, forbid })
    } else {
        let at = positions(text, errors.iter().map(|(o, _)| *o).collect());
        let mut errors: Vec<PolicyError> =
            errors.into_iter().zip(at).map(|((_, msg), (line, col))| PolicyError { line, col, msg }).collect();
        errors.sort_by_key(|e| (e.line, e.col));
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN_EXAMPLE: &str = r#"arches = ["x86_64", "aarch64"]   # every other arch, and x32, must be killed or denied
default = "deny"                  # nothing outside the allow rules may reach ALLOW

[[deny]]
syscalls = ["@process-create", "ptrace"]

[[allow]]
syscalls = ["read", "write", "exit_group"]

[[allow_only_if]]
syscalls = ["openat"]
when = "arg2 & O_ACCMODE == O_RDONLY"

[actions]
forbid = ["user_notif", "trace"]
"#;

    #[test]
    fn parses_the_design_example_as_written() {
        let p = parse(DESIGN_EXAMPLE).unwrap();
        assert_eq!(p.arches, vec![Arch::X86_64, Arch::Aarch64]);
        assert_eq!(p.default, Default::Deny);
        assert_eq!(p.rules.len(), 3);
        assert_eq!(p.rules[2].kind, RuleKind::AllowOnlyIf);
        assert_eq!(p.rules[2].line, 11);
        assert_eq!(p.forbid, vec![ActionKind::UserNotif, ActionKind::Trace]);
    }

    #[test]
    fn when_columns_count_the_source_not_the_decoded_string() {
        let col = |when: &str| {
            let text = format!("arches = [\"x86_64\"]\n[[allow_only_if]]\nsyscalls = [\"openat\"]\nwhen = {when}\n");
            let errs = parse(&text).unwrap_err();
            let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            let (line, col) = line_col(&text, text.find("zz").expect("the test puts zz in"));
            let want = format!("line {line}, column {col}: in `when`: unknown constant `zz`");
            assert!(shown.contains(&want), "{when}: {shown:?}, want {want}");
        };
        col(r#""arg2 & O_ACCMODE == zz""#);
        col(r#""arg2 \u0026 O_ACCMODE == zz""#);
        col(r#""arg2 \U00000026 O_ACCMODE \u003d= zz""#);
        col(r#""arg2\t&\tO_ACCMODE == zz""#);
        col(r#"'arg2 & O_ACCMODE == zz'"#);
        col("\"\"\"\narg2 & \\\n   O_ACCMODE == zz\"\"\"");
        col("\'\'\'\narg2 & O_ACCMODE\t== zz\'\'\'");
    }

    #[test]
    fn every_error_has_a_position() {
        let text = "arches = [\"x86_64\", \"vax\"]\ndefault = \"maybe\"\n[[deny]]\nsyscalls = [\"nosuch\", \"@bogus\"]\n[[allow_only_if]]\nsyscalls = [\"openat\"]\nwhen = \"arg2 == O_NOPE\"\n[actions]\nforbid = [\"explode\"]\n";
        let errs = parse(text).unwrap_err();
        let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 6, "{shown:#?}");
        assert!(shown[0].starts_with("line 1, column 21: unknown arch `vax`"), "{}", shown[0]);
        assert!(shown[1].starts_with("line 2, column 11: `default` is \"deny\" or \"allow\""), "{}", shown[1]);
        assert!(shown[2].starts_with("line 4, column 13: `nosuch` is not a syscall of x86_64"), "{}", shown[2]);
        assert!(shown[3].starts_with("line 4, column 23: unknown family `@bogus`"), "{}", shown[3]);
        assert_eq!(shown[4], "line 7, column 17: in `when`: unknown constant `O_NOPE`");
        assert!(shown[5].starts_with("line 9, column 11: unknown action `explode`"), "{}", shown[5]);
    }

    #[test]
    fn toml_syntax_errors_have_positions() {
        let errs = parse("arches = [\"x86_64\"\n[[deny]]\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 2, "{}", errs[0]);
        let errs = parse("arches = [\"x86_64\"]\nbogus = 1\n").unwrap_err();
        assert!(errs[0].msg.contains("unknown field `bogus`"), "{}", errs[0]);
        assert_eq!(errs[0].line, 2);
    }

    #[test]
    fn positions_count_characters_and_cost_one_pass() {
        let text = "ab\né\u{1F600}x\n\ny";
        assert_eq!(
            positions(text, vec![0, 1, 3, 5, 9, 10, 12, 99]),
            vec![(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (2, 4), (4, 1), (4, 2)]
        );
        // Inside a character: that character's column.
        assert_eq!(line_col(text, 6), (2, 2));
        assert_eq!((Lines::new(text).line(0), Lines::new(text).line(3), Lines::new(text).line(12)), (1, 2, 4));
        // 200 000 errors on one 1.4 MB line: each column right, at once.
        let names = vec!["\"nope\""; 200_000].join(",");
        let text = format!("arches = [\"x86_64\"]\n[[deny]]\nsyscalls = [{names}]\n");
        let errs = parse(&text).unwrap_err();
        assert_eq!(errs.len(), 200_000);
        assert_eq!((errs[0].line, errs[0].col), (3, 13));
        assert_eq!((errs[199_999].line, errs[199_999].col), (3, 13 + 199_999 * 7));
    }

    #[test]
    fn deep_toml_is_refused_by_the_reader_with_a_clear_error() {
        let n = 100_000;
        for text in [
            format!("x = {}{}", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1{}", "{a=".repeat(n), "}".repeat(n)),
            format!("arches = []\n{} = 1", vec!["a"; n].join(".")),
            format!("arches = []\n[{}]", vec!["a"; n].join(".")),
        ] {
            let errs = parse(&text).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert!(errs[0].msg.starts_with("nested deeper than the TOML reader allows (80 levels"), "{}", errs[0]);
            // Arrays and inline tables: where the reader stopped (past the 80th
            // level); keys: the start of the key's line.
            if text.starts_with("arches") {
                assert_eq!((errs[0].line, errs[0].col), (2, 1), "{}", errs[0]);
            } else {
                assert!(errs[0].line == 1 && errs[0].col > 80, "{}", errs[0]);
            }
        }
        // 80 levels are within the reader's limit: the error is then ours.
        let errs = parse(&format!("arches = {}\"x86_64\"{}", "[".repeat(79), "]".repeat(79))).unwrap_err();
        assert!(!errs[0].msg.contains("nested deeper"), "{}", errs[0]);
    }
}
