//! Renderers: one data model per analysis, many output formats.

pub mod overhead;
