//! Kubernetes `SeccompProfile` resources (Security Profiles Operator), YAML,
//! possibly several documents in one file.
//!
//! A `SeccompProfile`'s `spec` is the Docker/OCI profile format (`defaultAction`,
//! `architectures`, `syscalls`, `flags`, `listenerPath`): the operator writes it
//! as JSON into the kubelet's seccomp directory, and the container runtime
//! (containerd, CRI-O) loads it like a Docker profile and hands it to runc/crun.
//! So each `spec` is compiled by [`super::docker`] with the same options.
//! Documents of another `kind` are skipped; a profile that extends another
//! (`spec.baseProfileName`) is refused, since the operator merges the base in
//! and we do not have it.

use super::docker::{compile_profile_value, DockerOptions};
use super::{CompiledFilter, Note, SourceError};
use serde_json::Value;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::{Event, Parser};

/// Split `text` into YAML documents, each as a JSON value (what Kubernetes'
/// YAML→JSON conversion gives the Go decoder); an empty or null document is
/// `Value::Null`, so `documents(text)[i]` is document `i + 1` of the file.
///
/// The text is first checked to nest at most [`MAX_YAML_DEPTH`] levels (a
/// YAML parser's time can grow with depth times length: 100 KB of `[` took
/// serde_yaml 30 s). Values are read as YAML 1.2 core schema scalars, as
/// serde_yaml read them (`yes` and `017` are strings, `.inf` is null, a
/// repeated key keeps its last value, `<<` is an ordinary key), within a
/// budget: anchors and aliases cannot expand the text past [`expansion_limit`]
/// nodes or bytes of scalars. serde-saphyr leaves null documents out; when it
/// did, or on an error, one pass of its event parser finds where each document
/// starts, which numbers the values and the error.
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, SourceError> {
    check_depth(text)?;
    let seen = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let mut options = yaml_options(text.len());
    let report = seen.clone();
    options.budget_report_cb =
        Some(std::rc::Rc::new(std::cell::RefCell::new(move |r: serde_saphyr::budget::BudgetReport| {
            report.set(r.documents)
        })));
    let roots = serde_saphyr::from_multiple_with_options::<serde_saphyr::Spanned<Value>>(text, options);
    let roots = match roots {
        Ok(roots) if roots.len() == seen.get() => return Ok(roots.into_iter().map(|r| r.value).collect()),
        Ok(roots) => roots,
        Err(e) => {
            let starts = document_starts(text)?;
            let (line, column, message) = yaml_error(&e, text.len());
            let message = if line == 0 {
                message
            } else {
                format!("document {}: {message}", document_at(&starts, (line, column)))
            };
            return Err(SourceError::Syntax { what: "YAML", line, column, message });
        }
    };
    let starts = document_starts(text)?;
    let mut out = vec![Value::Null; starts.len()];
    for root in roots {
        let at = root.defined;
        out[document_at(&starts, (at.line() as usize, at.column() as usize)) - 1] = root.value;
    }
    Ok(out)
}

/// (line, column), both from 1, where each YAML document of `text` starts;
/// a syntax error names its document.
fn document_starts(text: &str) -> Result<Vec<(usize, usize)>, SourceError> {
    let mut starts = Vec::new();
    for event in Parser::new_from_str(text) {
        match event {
            Ok((Event::DocumentStart(..), span)) => starts.push((span.start.line(), span.start.col() + 1)),
            Ok(_) => {}
            Err(e) => {
                let m = e.marker();
                return Err(SourceError::Syntax {
                    what: "YAML",
                    line: m.line(),
                    column: m.col() + 1,
                    message: format!("document {}: {}", starts.len().max(1), e.info()),
                });
            }
        }
    }
    Ok(starts)
}

/// The number (from 1) of the document that `at` lies in.
fn document_at(starts: &[(usize, usize)], at: (usize, usize)) -> usize {
    starts.partition_point(|&s| s <= at).max(1)
}

/// Nodes, and bytes of scalars, a YAML text of `len` bytes may reach once its
/// aliases are expanded: twice its length (a text without aliases holds at
/// most about 1.5 nodes and 1.5 bytes of scalars per byte), plus room for
/// small texts. So only aliases reach it, and they at most double the text.
pub fn expansion_limit(len: usize) -> usize {
    2 * len + 4096
}

/// serde-saphyr read as serde_yaml 0.9 read into a JSON value, bounded for a
/// text of `len` bytes.
fn yaml_options(len: usize) -> serde_saphyr::Options {
    let limit = expansion_limit(len);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            // `check_depth` refused deeper text already; this bounds the
            // deserializer's recursion if the two count differently.
            max_depth: 2 * MAX_YAML_DEPTH,
            max_documents: usize::MAX,
            max_events: 2 * limit,
            max_nodes: limit,
            max_total_scalar_bytes: limit,
            max_recorded_anchor_events: limit,
            max_recorded_anchor_bytes: limit,
            max_aliases: usize::MAX,
            max_anchors: usize::MAX,
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limit,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        merge_keys: serde_saphyr::MergeKeyPolicy::AsOrdinary,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        null_as_string: true,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        reject_unsupported_tags: true,
        with_snippet: false,
    }
}

/// Line, column (0 when unknown) and a one-line message for a serde-saphyr error.
fn yaml_error(e: &serde_saphyr::Error, len: usize) -> (usize, usize, String) {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
    let mut inner = e.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let limit = expansion_limit(len);
    let expanded = |n: usize, what: &str| {
        format!(
            "anchors and aliases expand these {len} bytes of YAML past {n} {what}, the most seccheck reads from them"
        )
    };
    let message = match inner {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Nodes { .. } => expanded(limit, "nodes"),
            BudgetBreach::Events { .. } => expanded(2 * limit, "events"),
            BudgetBreach::RecordedAnchorEvents { .. } => expanded(limit, "events recorded for anchors"),
            BudgetBreach::ScalarBytes { .. } => expanded(limit, "bytes of scalars"),
            BudgetBreach::RecordedAnchorBytes { .. } => expanded(limit, "bytes recorded for anchors"),
            BudgetBreach::Depth { .. } => format!("nested deeper than {} levels", 2 * MAX_YAML_DEPTH),
            other => format!("too large to read: {other:?}"),
        },
        serde_saphyr::Error::AliasReplayLimitExceeded { .. } => expanded(limit, "nodes replayed by aliases"),
        other => without_location(&other.to_string()).to_owned(),
    };
    (line, column, message)
}

/// `message` without the ` at line L, column C` serde-saphyr ends it with
/// (the error names the position already).
fn without_location(message: &str) -> &str {
    let Some(i) = message.rfind(" at line ") else { return message };
    let tail = &message[i + " at line ".len()..];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match tail.split_once(", column ") {
        Some((l, c)) if digits(l) && digits(c) => &message[..i],
        _ => message,
    }
}

/// YAML nests at most this deep (flow `[`/`{` plus block indentation levels
/// plus `- ` entries opened on one line); a `SeccompProfile` needs 6.
pub const MAX_YAML_DEPTH: usize = 100;

/// One linear pass: flow brackets outside quoted scalars and comments, block
/// levels from the indentation of each line, compact `- - -` entries.
/// Deeper text is refused with [`SourceError::TooDeep`] before the YAML parser sees it.
fn check_depth(text: &str) -> Result<(), SourceError> {
    let too_deep = |line: usize| SourceError::TooDeep { what: "YAML", line, limit: MAX_YAML_DEPTH };
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (lno, line) in text.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if flow == 0 && !content.is_empty() && !content.starts_with('#') {
            let indent = line.len() - content.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
            let mut dashes = 0;
            let mut rest = content;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
                dashes += 1;
                rest = r.trim_start();
            }
            if indents.len() + dashes > MAX_YAML_DEPTH {
                return Err(too_deep(lno + 1));
            }
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let starts_token = i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'[' | b'{' | b',' | b':');
            match b[i] {
                b'#' if starts_token => break,
                q @ (b'"' | b'\'') if starts_token => {
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'[' | b'{' => {
                    flow += 1;
                    if indents.len() + flow > MAX_YAML_DEPTH {
                        return Err(too_deep(lno + 1));
                    }
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
    Ok(())
}

pub(crate) fn is_seccomp_profile(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("SeccompProfile")
}

/// Compile every `SeccompProfile` document; labels are `metadata.name`
/// (or `document N` without one).
pub fn compile_k8s(bytes: &[u8], opts: &DockerOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    compile_documents(&documents(text)?, opts)
}

/// [`compile_k8s`] of documents already parsed (format detection parses once).
pub(crate) fn compile_documents(docs: &[Value], opts: &DockerOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let prefix = format!("document[{}]", i + 1);
        if doc.is_null() {
            continue;
        }
        if !is_seccomp_profile(doc) {
            skipped.push(Note {
                path: prefix,
                kind: super::NoteKind::SkippedDocument,
                message: format!(
                    "kind {} is not SeccompProfile: skipped",
                    doc.get("kind").map_or("(none)".to_owned(), |k| k.to_string())
                ),
            });
            continue;
        }
        let label = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("document {}", i + 1), str::to_owned);
        let spec_path = format!("{prefix}.spec");
        let Some(spec) = doc.get("spec").filter(|s| !s.is_null()) else {
            return Err(SourceError::NoFilter { path: spec_path });
        };
        if let Some(base) = spec.get("baseProfileName").filter(|b| !b.is_null()) {
            return Err(SourceError::Refused {
                path: format!("{spec_path}.baseProfileName"),
                message: format!(
                    "this profile extends SeccompProfile {base}, which the operator merges in before loading; compile the merged profile instead"
                ),
            });
        }
        out.extend(compile_profile_value(spec, &spec_path, &label, opts, true)?);
    }
    if out.is_empty() {
        return Err(SourceError::Unrecognised { reason: "no document has kind: SeccompProfile".into() });
    }
    if let Some(first) = out.first_mut() {
        first.notes.extend(skipped);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_documents_keep_their_place() {
        assert_eq!(documents("a: 1\n---\n~\n---\nb: 2\n").unwrap(), [json!({"a": 1}), Value::Null, json!({"b": 2})]);
        assert_eq!(documents("---\n---\na: 1\n").unwrap(), [Value::Null, json!({"a": 1})]);
        assert_eq!(documents("--- a\n--- b\n---\n--- c\n").unwrap(), [json!("a"), json!("b"), Value::Null, json!("c")]);
        assert_eq!(
            documents("# c\n---\n[1]\n...\n---\n{a: 1}\n---\n").unwrap(),
            [json!([1]), json!({"a": 1}), Value::Null]
        );
    }

    #[test]
    fn scalars_read_as_yaml_1_2_core_schema() {
        let v =
            documents("a: yes\nb: 017\nc: 1_000\nd: .inf\ne: 0x1F\nf: TRUE\ng: ~\n~: h\n<<: i\nj: 1\nj: 2\n").unwrap();
        assert_eq!(
            v,
            [
                json!({"a": "yes", "b": "017", "c": "1_000", "d": null, "e": 31, "f": true, "g": null, "~": "h", "<<": "i", "j": 2})
            ]
        );
    }

    #[test]
    fn errors_name_their_document_and_position() {
        let e = documents("a: 1\n---\nb: [\n").unwrap_err().to_string();
        assert!(e.starts_with("YAML syntax error at line 3, column 4: document 2: "), "{e}");
        let e = documents("a: 1\n---\nb: !custom 1\n").unwrap_err().to_string();
        assert_eq!(e, "YAML syntax error at line 3, column 12: document 2: unsupported tag `!custom`");
        assert_eq!(without_location("x at line 3, column 4"), "x");
        assert_eq!(without_location("x at line 3, column 4 (used)"), "x at line 3, column 4 (used)");
    }

    #[test]
    fn aliases_expand_only_so_far() {
        // A billion laughs: ten levels of ten aliases each.
        let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            bomb += &format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", "));
        }
        let e = documents(&bomb).unwrap_err().to_string();
        assert!(e.contains("anchors and aliases expand these"), "{e}");
        // A long scalar repeated by aliases.
        let long = format!("a: &a {}\nb: [{}]\n", "x".repeat(1 << 20), vec!["*a"; 100].join(","));
        let e = documents(&long).unwrap_err().to_string();
        assert!(e.contains("bytes of scalars"), "{e}");
        // Without aliases no text reaches the limit, however dense.
        let dense = format!("a: [{}]\nb: \"{}\"\n", "1,".repeat(500_000), "\\L".repeat(500_000));
        assert_eq!(documents(&dense).unwrap()[0]["a"].as_array().unwrap().len(), 500_000);
        // A few aliases are read as the values they stand for.
        assert_eq!(documents("a: &x [1, 2]\nb: *x\n").unwrap(), [json!({"a": [1, 2], "b": [1, 2]})]);
    }
}
