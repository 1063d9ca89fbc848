//! Renderers: one data model ([`crate::finding`]), many formats.
//!
//! Every checker (policy properties, lints, diffs) returns
//! [`crate::finding::Finding`]s; the CLI decides the exit code and picks a
//! renderer: text for people, JSON for tools, SARIF 2.1.0 ([`sarif`]) for
//! code-scanning UIs. [`overhead`] renders `seccheck bench`
//! results (terminal table, Markdown + SVG report). [`review`] gathers every
//! analysis of one filter for `seccheck report`, rendered by [`html`] (one
//! self-contained page) and [`markdown`] (a pull-request comment).

pub mod codes;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod overhead;
pub mod overhead_command;
pub mod overhead_tails;
pub mod review;
pub mod sarif;

#[cfg(test)]
mod tests_hostile;
