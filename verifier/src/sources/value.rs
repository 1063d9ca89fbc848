//! Typed reads from a parsed JSON value that know their JSON path, so every
//! type error says where it is and what was expected (`syscalls[3].args[0].op:
//! expected a string, found the number 5`).
//!
//! The Docker/OCI readers follow Go's `encoding/json` (what Docker and runc
//! decode profiles with): object keys match case-insensitively when no key
//! matches exactly, `null` means "absent", unknown keys are ignored, and a
//! number must fit the Go field's integer type exactly.

use super::SourceError;
use serde_json::Value;

/// A value and the JSON path that leads to it.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    pub v: &'a Value,
    path: &'a str,
}

/// Owned path + value, for children (paths are built as strings).
pub(crate) struct Child<'a> {
    pub v: &'a Value,
    pub path: String,
}

impl<'a> Child<'a> {
    pub fn node(&self) -> Node<'_> {
        Node { v: self.v, path: &self.path }
    }
}

pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("an array of {} elements", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Value, path: &'a str) -> Self {
        Node { v, path }
    }

    pub fn path(&self) -> &str {
        self.path
    }

    pub fn invalid(&self, expected: impl Into<String>) -> SourceError {
        SourceError::Invalid { path: display_path(self.path), expected: expected.into(), found: describe(self.v) }
    }

    /// The object's member `key` (Go's matching), or `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Result<Option<Child<'a>>, SourceError> {
        let obj = self.v.as_object().ok_or_else(|| self.invalid("an object"))?;
        let found = obj.get_key_value(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)));
        Ok(match found {
            Some((_, Value::Null)) | None => None,
            Some((_, v)) => Some(Child { v, path: join(self.path, key) }),
        })
    }

    /// Keys of this object that none of `known` matches (for notes).
    pub fn unknown_keys(&self, known: &[&str]) -> Vec<String> {
        self.v
            .as_object()
            .map(|o| o.keys().filter(|k| !known.iter().any(|n| n.eq_ignore_ascii_case(k))).cloned().collect())
            .unwrap_or_default()
    }

    pub fn str(&self) -> Result<&'a str, SourceError> {
        self.v.as_str().ok_or_else(|| self.invalid("a string"))
    }

    pub fn u64(&self, what: &str) -> Result<u64, SourceError> {
        self.v.as_u64().ok_or_else(|| self.invalid(format!("{what} (an integer from 0 to {})", u64::MAX)))
    }

    pub fn array(&self) -> Result<Vec<Child<'a>>, SourceError> {
        let a = self.v.as_array().ok_or_else(|| self.invalid("an array"))?;
        Ok(a.iter().enumerate().map(|(i, v)| Child { v, path: format!("{}[{i}]", self.path) }).collect())
    }

    /// An array of strings (`null` elements read as "" as in Go).
    pub fn strings(&self) -> Result<Vec<(String, String)>, SourceError> {
        self.array()?
            .into_iter()
            .map(|c| match c.v {
                Value::Null => Ok((String::new(), c.path)),
                _ => c.node().str().map(|s| (s.to_owned(), c.path.clone())),
            })
            .collect()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `PATH: ` before a message about the input at `path`, nothing for the
/// whole input (the file name already says where).
pub(crate) fn path_prefix(path: &str) -> String {
    if path.is_empty() || path == "(top level)" {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// The path as shown to users: the document root is `(top level)`.
pub(crate) fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(top level)".into()
    } else {
        path.to_owned()
    }
}
