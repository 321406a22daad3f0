//! Per-source overrides of the heuristics: elements removed before any rule runs, and the body read from a selector.

use super::body::Body;
use super::Source;
use crate::normalize::html::sanitize_html;
use dom_query::{Document, Matcher, NodeId, NodeRef};
use url::Url;

/// A source's overrides (its `[source.article]` rules); the default is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// CSS selector of the element holding the body; when it matches nothing, the heuristics decide.
    pub content_selector: Option<String>,
    /// CSS selectors of elements removed before body and metadata extraction (share bars,
    /// related links, newsletter boxes).
    pub remove: Vec<String>,
}

impl From<&crate::config::ArticleRules> for Options {
    /// A source's `content_selector` and `remove` from its configuration.
    fn from(rules: &crate::config::ArticleRules) -> Self {
        Options { content_selector: rules.content_selector.clone(), remove: rules.remove.clone() }
    }
}

/// Compiles `css`, noting a selector that does not parse (configuration is checked when it is
/// loaded, so this is a caller passing unchecked rules) instead of failing the page.
fn matcher(css: &str, rule: &str, notes: &mut Vec<String>) -> Option<Matcher> {
    let m = Matcher::new(css).ok();
    if m.is_none() {
        notes.push(format!("{rule} selector {css:?} does not parse; ignored"));
    }
    m
}

/// Removes every element matching one of `selectors`; says whether any was.
pub(super) fn remove(doc: &Document, selectors: &[String], notes: &mut Vec<String>) -> bool {
    let mut removed = false;
    for css in selectors {
        let Some(m) = matcher(css, "remove", notes) else { continue };
        let found = doc.select_matcher(&m);
        removed |= found.exists();
        found.remove();
    }
    removed
}

/// The body as the content selector finds it: the content of every matching element not
/// inside another match, sanitized like the heuristic body. `None` (with a note saying why)
/// leaves the body to the heuristics.
pub(super) fn content(doc: &Document, css: Option<&str>, url: Option<&Url>, notes: &mut Vec<String>) -> Option<Body> {
    let css = css?;
    let m = matcher(css, "content_selector", notes)?;
    let found = doc.select_matcher(&m);
    let html: String = outermost(found.nodes()).iter().map(|n| n.inner_html().to_string()).collect();
    let html = sanitize_html(&html, url);
    let text = Document::fragment(html.as_str()).formatted_text().trim().to_owned();
    if text.is_empty() {
        let what = if found.exists() { "only elements without text" } else { "nothing" };
        notes.push(format!("content_selector {css:?} matched {what}; body found by heuristics"));
        return None;
    }
    Some(Body { html, text, title: None, source: Source::Selector })
}

/// The nodes (in document order) that have no ancestor among the earlier ones, so that nested
/// matches are not read twice.
fn outermost<'a>(nodes: &[NodeRef<'a>]) -> Vec<NodeRef<'a>> {
    let mut kept: Vec<NodeRef<'a>> = Vec::new();
    let mut ids: Vec<NodeId> = Vec::new();
    for node in nodes {
        if node.ancestors_it(None).any(|a| ids.contains(&a.id)) {
            continue;
        }
        ids.push(node.id);
        kept.push(*node);
    }
    kept
}
