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
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, SourceError> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            SourceError::Syntax {
                what: "YAML",
                line,
                column,
                message: format!("document {}: {e}", i + 1),
            }
        })?;
        out.push(v);
    }
    Ok(out)
}

pub(crate) fn is_seccomp_profile(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("SeccompProfile")
}

/// Compile every `SeccompProfile` document; labels are `metadata.name`
/// (or `document N` without one).
pub fn compile_k8s(bytes: &[u8], opts: &DockerOptions) -> Result<Vec<CompiledFilter>, SourceError> {
    let text = std::str::from_utf8(bytes).map_err(|e| SourceError::Unrecognised {
        reason: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ),
    })?;
    if text.trim().is_empty() {
        return Err(SourceError::Empty);
    }
    let docs = documents(text)?;
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
                    doc.get("kind")
                        .map_or("(none)".to_owned(), |k| k.to_string())
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
        return Err(SourceError::Unrecognised {
            reason: "no document has kind: SeccompProfile".into(),
        });
    }
    if let Some(first) = out.first_mut() {
        first.notes.extend(skipped);
    }
    Ok(out)
}
