//! The review as one self-contained HTML page: inline CSS and JS, SVG plots as
//! `data:` URIs, no network access and no external assets, so it works from
//! `file://` and as a CI artifact.
//!
//! Why a template (`verifier/templates/report.html`, embedded at build time
//! with `include_str!`) rendered by minijinja: the page's structure stays
//! readable as HTML, and every value is HTML-escaped on the way in (the
//! template's `.html` name turns auto-escaping on), so a syscall name, a file
//! name or a generator note can never become markup. The renderer computes
//! nothing; [`super::review`] has already spelled out every label.

use super::review::Review;
use minijinja::Environment;

const TEMPLATE: &str = include_str!("../../templates/report.html");
const CSS: &str = include_str!("../../templates/report.css");
const JS: &str = include_str!("../../templates/report.js");

/// Why the page could not be rendered (a template error: a bug in seccheck).
#[derive(Debug, thiserror::Error)]
#[error("internal error rendering the HTML report: {0}")]
pub struct HtmlError(String);

/// `data:image/svg+xml,…` with every byte outside the URI's unreserved set
/// percent-encoded, so the SVG can sit in an `<img src>` (where it cannot run
/// scripts) without base64.
pub fn svg_data_uri(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() * 3 / 2 + 24);
    out.push_str("data:image/svg+xml;charset=utf-8,");
    for &b in svg.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=:;,/()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn environment() -> Result<Environment<'static>, HtmlError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE).map_err(|e| HtmlError(e.to_string()))?;
    env.add_template("report.css", CSS).map_err(|e| HtmlError(e.to_string()))?;
    env.add_template("report.js", JS).map_err(|e| HtmlError(e.to_string()))?;
    env.add_filter("svg_data_uri", |s: String| svg_data_uri(&s));
    Ok(env)
}

/// The page.
pub fn render(review: &Review) -> Result<String, HtmlError> {
    let env = environment()?;
    let t = env.get_template("report.html").map_err(|e| HtmlError(e.to_string()))?;
    t.render(review).map_err(|e| HtmlError(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_data_uri_encodes_what_a_url_cannot_hold() {
        let uri = svg_data_uri("<svg a=\"1\"># %</svg>");
        assert_eq!(uri, "data:image/svg+xml;charset=utf-8,%3Csvg%20a=%221%22%3E%23%20%25%3C/svg%3E");
    }

    #[test]
    fn the_template_compiles() {
        let env = environment().unwrap();
        assert!(env.get_template("report.html").is_ok());
    }
}
