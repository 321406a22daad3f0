//! Newsroom listing pages without a feed, read with the source's CSS selectors (`[source.select]`)
//! into the feed model, so that normalizing, dedup and stories treat their stories as feed items.

#[path = "page_dates.rs"]
mod dates;

use super::ParseError;
use crate::config::PageSelectors;
use crate::normalize::links::{canonical, file_beside};
use chrono::{DateTime, Utc};
use dom_query::{Document, Matcher, NodeRef, Selection};
use feed_rs::model::{Entry, Feed, Link, MediaObject, Text};
use std::collections::HashMap;
use url::Url;

pub use dates::parse_date;

/// Longest text kept from one element before whitespace is collapsed: a headline or a teaser
/// is far shorter, and a hostile page must not grow a string without bound.
const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Longest link or image URL kept, as normalize keeps.
const MAX_URL_BYTES: usize = 4096;
/// What a title falls back to when no heading is in the item.
const HEADINGS: &str = "h1, h2, h3, h4";
const LINKS: &str = "a[href]";
const IMAGES: &str = "img[src], img[data-src]";

/// A listing page's stories as a feed (document order, one per article), and how many matching
/// elements were past `max_items` and not read.
#[derive(Debug)]
pub struct Page {
    pub feed: Feed,
    pub dropped: usize,
}

/// Reads the listing page `body` (served with HTTP `charset`, fetched from `url`) with `select`.
/// Each element `select.item` matches is one story, identified by its article's canonical URL;
/// an element without a usable link is skipped, and a second element linking to the same
/// article fills only what the first lacked.
pub fn parse_page(
    body: &[u8],
    charset: Option<&'static encoding_rs::Encoding>,
    url: Option<&Url>,
    select: &PageSelectors,
    max_items: usize,
) -> Result<Page, ParseError> {
    let selectors = Selectors::compile(select)?;
    let text = decode(body, charset)?;
    let doc = Document::from(text.as_str());
    let base = Base::of(&doc, url);
    let items = doc.select_matcher(&selectors.item);
    if items.is_empty() {
        return Err(ParseError::NoItems(select.item.clone()));
    }
    let mut reader = Reader { selectors: &selectors, base: &base, entries: Vec::new(), index: HashMap::new() };
    let read = items.nodes().len().min(max_items);
    for node in &items.nodes()[..read] {
        reader.read(node);
    }
    if reader.entries.is_empty() {
        return Err(ParseError::NoLinks { matched: items.nodes().len(), item: select.item.clone() });
    }
    let title = doc.select("title").nodes().first().map(|t| clean(&t.text())).filter(|t| !t.is_empty());
    let feed = Feed { title: title.and_then(|t| plain(&t)), ..to_feed(reader.entries) };
    Ok(Page { feed, dropped: items.nodes().len() - read })
}

/// The page as text, refused when building its tree would cost too much: the HTML parser's
/// work grows with nesting depth times size, as the article extractor found.
fn decode(body: &[u8], charset: Option<&'static encoding_rs::Encoding>) -> Result<String, ParseError> {
    use crate::extract::{depth, MAX_INPUT};
    if body.len() > MAX_INPUT {
        return Err(ParseError::TooComplex(format!("the page is {} bytes, more than {MAX_INPUT}", body.len())));
    }
    let text = crate::extract::decode(body, charset.map(encoding_rs::Encoding::name));
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let deep = depth::estimate(&text);
    if deep > depth::MAX_DEPTH {
        let max = depth::MAX_DEPTH;
        return Err(ParseError::TooComplex(format!("the page nests elements about {deep} deep, more than {max}")));
    }
    Ok(text.into_owned())
}

/// The source's selectors, compiled once per page.
struct Selectors {
    item: Matcher,
    title: Option<Matcher>,
    link: Option<Matcher>,
    date: Option<Matcher>,
    date_format: Option<String>,
    summary: Option<Matcher>,
    image: Option<Matcher>,
    headings: Matcher,
    links: Matcher,
    images: Matcher,
}

impl Selectors {
    /// Config checks every selector; one that does not compile here (settings built in code)
    /// is an error of the source, not a panic.
    fn compile(s: &PageSelectors) -> Result<Self, ParseError> {
        let one = |key: &'static str, css: &str| {
            Matcher::new(css).map_err(|_| ParseError::Selector { key, css: css.to_owned() })
        };
        let opt = |key: &'static str, css: &Option<String>| css.as_deref().map(|c| one(key, c)).transpose();
        Ok(Self {
            item: one("item", &s.item)?,
            title: opt("title", &s.title)?,
            link: opt("link", &s.link)?,
            date: opt("date", &s.date)?,
            date_format: s.date_format.clone(),
            summary: opt("summary", &s.summary)?,
            image: opt("image", &s.image)?,
            headings: one("title", HEADINGS)?,
            links: one("link", LINKS)?,
            images: one("image", IMAGES)?,
        })
    }
}

/// What links resolve against: the page's `<base href>` if it has one, else its own URL.
struct Base {
    url: Option<Url>,
    /// The page itself (no fragment): a link back to it is no article.
    page: Option<Url>,
    /// A page read from a file may link to files beside it; one from the web may not.
    file: Option<Url>,
}

impl Base {
    fn of(doc: &Document, url: Option<&Url>) -> Self {
        let declared = doc.select("base[href]").nodes().first().and_then(|b| b.attr("href"));
        let declared = declared.and_then(|href| match (Url::parse(href.trim()), url) {
            (Ok(u), _) => Some(u),
            (Err(url::ParseError::RelativeUrlWithoutBase), Some(page)) => page.join(href.trim()).ok(),
            _ => None,
        });
        let file = url.filter(|u| u.scheme() == "file").cloned();
        let page = url.map(|u| without_fragment(u.clone()));
        let mut base = Self { url: None, page, file };
        base.url = declared.filter(|u| base.usable(u)).or_else(|| url.cloned());
        base
    }

    /// `href` as an absolute article or image URL, without its fragment; `None` for anything
    /// not on the web (or, from a file, beside it), and for the page itself.
    fn resolve(&self, href: &str) -> Option<Url> {
        let href = href.trim();
        if href.is_empty() || href.len() > MAX_URL_BYTES {
            return None;
        }
        let url = match Url::parse(href) {
            Ok(u) => u,
            Err(url::ParseError::RelativeUrlWithoutBase) => self.url.as_ref()?.join(href).ok()?,
            Err(_) => return None,
        };
        let url = without_fragment(url);
        (self.usable(&url) && Some(&url) != self.page.as_ref()).then_some(url)
    }

    fn usable(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") || self.file.as_ref().is_some_and(|f| file_beside(url, f))
    }
}

fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// One page's stories so far, each filed under its article's canonical URL.
struct Reader<'a> {
    selectors: &'a Selectors,
    base: &'a Base,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Reader<'_> {
    fn read(&mut self, item: &NodeRef<'_>) {
        let Some(link) = self.link(item) else { return };
        let id = canonical(&link).to_string();
        let entry = self.entry(item, &link, id.clone());
        match self.index.get(&id) {
            Some(&at) => fill(&mut self.entries[at], entry),
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    /// The item's article: the first usable `href` of what `link` selects (the item itself,
    /// else inside it; a selected element that is no link lends its first link), or by default
    /// of the item if it is a link, else of its links.
    fn link(&self, item: &NodeRef<'_>) -> Option<Url> {
        let s = self.selectors;
        let candidates: Vec<NodeRef<'_>> = match &s.link {
            Some(m) => matching(item, m)
                .into_iter()
                .flat_map(|n| if n.has_attr("href") { vec![n] } else { matching(&n, &s.links) })
                .collect(),
            None => matching(item, &s.links),
        };
        candidates.iter().find_map(|a| self.base.resolve(&a.attr("href")?))
    }

    fn entry(&self, item: &NodeRef<'_>, link: &Url, id: String) -> Entry {
        let s = self.selectors;
        let title = match &s.title {
            Some(m) => first(item, m).map(|n| clean(&n.text())),
            None => first(item, &s.headings)
                .map(|n| clean(&n.text()))
                .or_else(|| matching(item, &s.links).iter().map(|n| clean(&n.text())).find(|t| !t.is_empty())),
        };
        let published = s.date.as_ref().and_then(|m| first(item, m)).and_then(|n| self.date(&n));
        let summary = s.summary.as_ref().and_then(|m| first(item, m)).and_then(|n| html(&n.inner_html()));
        let image = s.image.as_ref().and_then(|m| first(item, m)).and_then(|n| self.image(&n));
        Entry {
            id,
            title: title.filter(|t| !t.is_empty()).and_then(|t| plain(&t)),
            links: vec![web_link(link)],
            published,
            summary,
            media: image.into_iter().collect(),
            ..Entry::default()
        }
    }

    /// A date element's `datetime`, else its `content`, else its text.
    fn date(&self, node: &NodeRef<'_>) -> Option<DateTime<Utc>> {
        let attr = |name: &str| node.attr(name).filter(|v| !v.trim().is_empty());
        let raw = attr("datetime").or_else(|| attr("content")).unwrap_or_else(|| node.text());
        dates::parse_date(&clean(&raw), self.selectors.date_format.as_deref())
    }

    /// An image element's `src` or lazy `data-src`; a selected element that is no image lends
    /// its first image.
    fn image(&self, node: &NodeRef<'_>) -> Option<MediaObject> {
        let img = if node.has_attr("src") || node.has_attr("data-src") {
            *node
        } else {
            first(node, &self.selectors.images)?
        };
        let src = img.attr("src").filter(|s| !s.trim().is_empty()).or_else(|| img.attr("data-src"))?;
        let url = self.base.resolve(&src)?;
        let mut object = MediaObject::default();
        object.content = vec![super::image_of(url)];
        Some(object)
    }
}

/// A later element linking to a story already read adds what the first lacked (a teaser image
/// beside a headline link, say).
fn fill(kept: &mut Entry, later: Entry) {
    if kept.title.is_none() {
        kept.title = later.title;
    }
    if kept.published.is_none() {
        kept.published = later.published;
    }
    if kept.summary.is_none() {
        kept.summary = later.summary;
    }
    if kept.media.is_empty() {
        kept.media = later.media;
    }
}

/// The item itself when it matches, then its descendants that do, in document order.
fn matching<'a>(item: &NodeRef<'a>, m: &Matcher) -> Vec<NodeRef<'a>> {
    let own = item.is_match(m).then_some(*item);
    own.into_iter().chain(Selection::from(*item).select_matcher(m).nodes().iter().copied()).collect()
}

fn first<'a>(item: &NodeRef<'a>, m: &Matcher) -> Option<NodeRef<'a>> {
    if item.is_match(m) {
        return Some(*item);
    }
    Selection::from(*item).select_single_matcher(m).nodes().first().copied()
}

/// Text with its whitespace collapsed, cut to a bounded length first.
fn clean(text: &str) -> String {
    crate::text::collapse_ws(clip(text))
}

fn clip(s: &str) -> &str {
    let end = (0..=s.len().min(MAX_TEXT_BYTES)).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..end]
}

fn plain(text: &str) -> Option<Text> {
    Some(Text { content_type: "text/plain".parse().ok()?, src: None, content: text.to_owned() })
}

/// Markup as the page wrote it (normalize sanitizes it); `None` when it holds no text.
fn html(markup: &str) -> Option<Text> {
    let markup = clip(markup).trim();
    if crate::text::sanitized_to_text(markup).trim().is_empty() {
        return None;
    }
    Some(Text { content_type: "text/html".parse().ok()?, src: None, content: markup.to_owned() })
}

fn web_link(url: &Url) -> Link {
    super::link_of(url.to_string())
}

fn to_feed(entries: Vec<Entry>) -> Feed {
    super::feed_of(entries)
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
