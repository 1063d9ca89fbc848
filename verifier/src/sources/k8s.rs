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
use serde::Deserialize;
use serde_json::Value;

/// Split `text` into YAML documents, each as a JSON value (what Kubernetes'
/// YAML→JSON conversion gives the Go decoder).
///
/// The text is first checked to nest at most [`MAX_YAML_DEPTH`] levels: the
/// YAML parser's time grows with depth times length (100 KB of `[` took 30 s).
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, SourceError> {
    check_depth(text)?;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            SourceError::Syntax { what: "YAML", line, column, message: format!("document {}: {e}", i + 1) }
        })?;
        out.push(v);
    }
    Ok(out)
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
