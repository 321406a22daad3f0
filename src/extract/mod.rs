//! Article extraction: one HTML page in, its body and metadata out, each field with the rule that found it (pure, no I/O).

mod body;
mod charset;
mod dates;
pub mod depth;

#[cfg(test)]
mod hostile_tests;
mod index;
mod jsonld;
mod lean;
#[cfg(test)]
mod lean_tests;
mod meta;
mod nesting;
mod patterns;
mod rules;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use url::Url;

pub use charset::decode;
pub use rules::Options;

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
    /// What did not go as the source's rules asked (a content selector that matched nothing, a
    /// selector that does not parse); absent from the JSON when there is nothing to say.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Whether `css` is a selector the extractor can use (per-source `content_selector`, `remove`,
/// and a page source's `select.*`).
pub fn validate_selector(css: &str) -> Result<(), String> {
    dom_query::Matcher::new(css).map(drop).map_err(|_| "the selector does not parse".to_owned())
}

/// Extracts the article of one page. `url` resolves relative links; `content_type_charset`
/// is the charset of the HTTP header, used when the page declares none.
pub fn article(html: &[u8], url: Option<&Url>, content_type_charset: Option<&str>) -> Result<Article, ExtractError> {
    article_with(html, url, content_type_charset, &Options::default())
}

/// The page as text, unless it is too large or empty.
fn decode_checked<'a>(html: &'a [u8], content_type_charset: Option<&str>) -> Result<Cow<'a, str>, ExtractError> {
    if html.len() > MAX_INPUT {
        return Err(ExtractError::TooLarge(html.len()));
    }
    let text = decode(html, content_type_charset);
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(text)
}

/// Extracts the article of one page with a source's overrides (`options`) applied.
pub fn article_with(
    html: &[u8],
    url: Option<&Url>,
    content_type_charset: Option<&str>,
    options: &Options,
) -> Result<Article, ExtractError> {
    let text = decode_checked(html, content_type_charset)?;
    let lean = lean::scan(&text);
    if lean.depth > depth::MAX_DEPTH {
        return Err(ExtractError::TooDeep(lean.depth));
    }
    let doc = dom_query::Document::from(lean.text.as_ref());
    let mut notes = Vec::new();
    let removed = rules::remove(&doc, &options.remove, &mut notes);
    let mut found = meta::Found { base: url.cloned(), ..meta::Found::default() };
    let ix = index::build(&doc);
    jsonld::collect(&ix, &mut found);
    meta::collect(&ix, &mut found);
    patterns::collect(&ix, &mut found);
    let mut body = match rules::content(&doc, options.content_selector.as_deref(), url, &mut notes) {
        Some(body) => body,
        // The body extractor parses its own tree: it is handed the page as the removals left it.
        None if removed => body::extract(&doc.html(), url),
        None => body::extract(&lean.text, url),
    };
    body::strip_furniture(&mut body, &std::mem::take(&mut found.furniture));
    if found.title.is_none() {
        if let Some(t) = body.title.clone() {
            found.title = Some((t, Source::Heuristic));
        }
    }
    let mut article = found.into_article(body);
    article.notes = notes;
    Ok(article)
}
