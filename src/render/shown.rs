//! What an item shows in every format: its article page's reading where one was made (full
//! body, byline, lead image with credit), its feed's otherwise. The feed's summary stays the
//! summary.

use crate::domain::{ArticleImage, Entry};

/// Media RSS, which RSS and Atom readers know for an image's credit and caption.
pub const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// The item's full text: the article body when the page gave one, else the feed's content.
pub fn content(e: &Entry) -> Option<&str> {
    let article = e.article.as_deref().filter(|a| a.has_body()).and_then(|a| a.body_html.as_deref());
    article.or(e.content.as_deref())
}

/// The item's short text: the feed's summary; when the feed gave only one text and the article
/// page gave the body, that one text.
pub fn summary(e: &Entry) -> Option<&str> {
    match (&e.summary, content(e) != e.content.as_deref()) {
        (Some(s), _) => Some(s),
        (None, true) => e.content.as_deref(),
        (None, false) => None,
    }
}

/// The people who wrote it: the article page's byline, else the feed's authors.
pub fn authors(e: &Entry) -> &[String] {
    match e.article.as_deref() {
        Some(a) if !a.byline.is_empty() => &a.byline,
        _ => &e.authors,
    }
}

/// The lead image: the article page's, else the feed's first image with a credit.
pub fn image(e: &Entry) -> Option<ArticleImage> {
    if let Some(i) = e.article.as_deref().and_then(|a| a.image.clone()) {
        return Some(i);
    }
    let x = e.enclosures.iter().find(|x| x.credit.is_some())?;
    Some(ArticleImage { url: x.url.clone(), caption: None, credit: x.credit.clone() })
}

/// Whether any item needs the Media RSS namespace.
pub fn any_image(entries: &[Entry]) -> bool {
    entries.iter().any(|e| image(e).is_some())
}

/// The parts of a `media:content` element: (qualified name, text) children of one image.
pub fn media_children(i: &ArticleImage) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(c) = &i.credit {
        out.push(("media:credit", c.clone()));
    }
    if let Some(c) = &i.caption {
        out.push(("media:description", c.clone()));
    }
    out
}

/// The article's language (its page's, else its news sitemap's), when known.
pub fn language(e: &Entry) -> Option<&str> {
    e.article.as_deref().and_then(|a| a.lang.as_deref())
}

/// The publication that put the article out (its page's site name, else its news sitemap's
/// `news:name`), when known.
pub fn site_name(e: &Entry) -> Option<&str> {
    e.article.as_deref().and_then(|a| a.site_name.as_deref())
}
