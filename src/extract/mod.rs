//! Article extraction: one HTML page in, its body and metadata out, each field with the rule that found it (pure, no I/O).

mod body;
mod charset;
mod dates;
pub mod depth;

#[cfg(test)]
mod hostile_tests;
mod jsonld;
mod meta;
mod patterns;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use url::Url;

pub use charset::decode;

/// Larger pages are refused: real articles are well under a megabyte, and parsing cost grows
/// with the input; the same cap as the default `polling.max_body`.
pub const MAX_INPUT: usize = 10 * 1024 * 1024;

/// Why a page yields no article.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("page is {0} bytes, more than the {MAX_INPUT} bytes accepted")]
    TooLarge(usize),
    #[error("page is empty")]
    Empty,
    #[error("page nests elements about {0} deep, more than the {max} accepted", max = depth::MAX_DEPTH)]
    TooDeep(usize),
}

/// The rule that found a field, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    JsonLd,
    Meta,
    Time,
    TextPattern,
    Selector,
    Heuristic,
}

/// The lead image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Image {
    pub url: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
}

/// One extracted article; its JSON form (`newsriver extract --json`) is a stable contract.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Article {
    pub title: Option<String>,
    pub byline: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub site_name: Option<String>,
    pub lang: Option<String>,
    pub image: Option<Image>,
    pub body_html: String,
    pub body_text: String,
    pub word_count: usize,
    /// Field name (`title`, `byline`, `image.credit`, ...) to the rule that found it.
    pub sources: BTreeMap<&'static str, Source>,
}

/// Whether `css` is a selector the extractor can use (per-source `content_selector`, `remove`,
/// and a page source's `select.*`).
pub fn validate_selector(css: &str) -> Result<(), String> {
    dom_query::Matcher::new(css).map(drop).map_err(|_| "the selector does not parse".to_owned())
}

/// Extracts the article of one page. `url` resolves relative links; `content_type_charset`
/// is the charset of the HTTP header, used when the page declares none.
pub fn article(html: &[u8], url: Option<&Url>, content_type_charset: Option<&str>) -> Result<Article, ExtractError> {
    if html.len() > MAX_INPUT {
        return Err(ExtractError::TooLarge(html.len()));
    }
    let text = decode(html, content_type_charset);
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    let depth = depth::estimate(&text);
    if depth > depth::MAX_DEPTH {
        return Err(ExtractError::TooDeep(depth));
    }
    let mut found = meta::Found { base: url.cloned(), ..meta::Found::default() };
    let doc = dom_query::Document::from(text.as_ref());
    jsonld::collect(&doc, &mut found);
    meta::collect(&doc, &mut found);
    patterns::collect(&doc, &mut found);
    let mut body = body::extract(&text, url);
    body::strip_furniture(&mut body, &std::mem::take(&mut found.furniture));
    if found.title.is_none() {
        if let Some(t) = body.title.clone() {
            found.title = Some((t, Source::Heuristic));
        }
    }
    Ok(found.into_article(body))
}
