//! Sitemaps (sitemaps.org, with Google's news and image extensions) read by a streaming XML
//! reader: a `<urlset>` gives article URLs with their dates, a `<sitemapindex>` child sitemaps.

use super::ParseError;
use chrono::{DateTime, NaiveDate, Utc};
use feed_rs::model::{Entry, Feed, MediaContent, MediaObject, Text};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Longest text kept from one element: a URL or a title is far shorter, and a hostile
/// document must not grow a string without bound.
const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Why an HTML page is refused, in words a person can act on.
const HTML_PAGE: &str = "got an HTML page; the sitemap URL may have moved";
/// Images kept per URL.
const MAX_IMAGES: usize = 16;
/// Child sitemaps kept from one index (the caller fetches at most a few of them).
const MAX_CHILDREN: usize = 1000;

/// One sitemap document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// A `<urlset>`: its URLs in document order (at most `max_items`), and how many were dropped.
    Urls { urls: Vec<SitemapUrl>, dropped: usize },
    /// A `<sitemapindex>`: the `<loc>` of each child, as written.
    Index(Vec<String>),
}

/// One `<url>` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitemapUrl {
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
    /// `news:title`.
    pub title: Option<String>,
    /// `news:publication_date`.
    pub published: Option<DateTime<Utc>>,
    /// `news:publication`'s `news:name` and `news:language`.
    pub publication: Option<String>,
    pub language: Option<String>,
    /// `image:loc` of each `image:image`.
    pub images: Vec<String>,
}

/// Parses a sitemap whose HTTP charset (if any) is `charset`; also says whether decoding had
/// to replace invalid bytes.
pub fn parse_sitemap(
    body: &[u8],
    charset: Option<&'static encoding_rs::Encoding>,
    max_items: usize,
) -> Result<(Sitemap, bool), ParseError> {
    let (body, replaced) = super::decode::to_utf8(body, charset);
    let start = super::skip_bom_and_space(&body);
    if start.is_empty() {
        return Err(ParseError::Empty);
    }
    if start[0] != b'<' {
        return Err(ParseError::NotSitemap(format!("it starts with {}", super::describe_start(start))));
    }
    super::shape::check(start)?;
    let text = std::str::from_utf8(start).map_err(|e| ParseError::NotSitemap(e.to_string()))?;
    let mut reader = SitemapReader { max_items, ..SitemapReader::default() };
    reader.read(text).map_err(|e| {
        if super::looks_like_html(start) {
            ParseError::NotSitemap(HTML_PAGE.into())
        } else {
            e
        }
    })?;
    reader.finish().map(|s| (s, replaced))
}

/// The reader's state: the open elements (local names) and what is being collected.
#[derive(Debug, Default)]
struct SitemapReader {
    max_items: usize,
    open: Vec<String>,
    root: Option<String>,
    text: String,
    url: SitemapUrl,
    urls: Vec<SitemapUrl>,
    dropped: usize,
    children: Vec<String>,
}

impl SitemapReader {
    fn read(&mut self, text: &str) -> Result<(), ParseError> {
        let mut reader = Reader::from_str(text);
        loop {
            let event = reader.read_event().map_err(|e| ParseError::NotSitemap(e.to_string()))?;
            match event {
                Event::Start(e) => self.start(e.local_name().as_ref().to_owned())?,
                Event::Empty(e) => {
                    self.start(e.local_name().as_ref().to_owned())?;
                    self.end();
                }
                Event::End(_) => self.end(),
                Event::Text(t) => self.push_text(&t.xml10_content()),
                Event::CData(c) => self.push_text(&c),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&r.xml10_content()).map(str::to_owned),
                    };
                    self.push_text(resolved.as_deref().unwrap_or(""));
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    fn start(&mut self, name: String) -> Result<(), ParseError> {
        if self.root.is_none() {
            if name != "urlset" && name != "sitemapindex" {
                return Err(ParseError::NotSitemap(format!("the root element is <{name}>")));
            }
            self.root = Some(name.clone());
        }
        if name == "url" {
            self.url = SitemapUrl::default();
        }
        self.text.clear();
        self.open.push(name);
        Ok(())
    }

    fn push_text(&mut self, s: &str) {
        if self.text.len() + s.len() <= MAX_TEXT_BYTES {
            self.text.push_str(s);
        }
    }

    /// Files the text of the element just closed by where it sits.
    fn end(&mut self) {
        let Some(name) = self.open.pop() else { return };
        let text = std::mem::take(&mut self.text).trim().to_owned();
        let parent = self.open.last().map(String::as_str).unwrap_or("");
        let u = &mut self.url;
        match (parent, name.as_str()) {
            ("url", "loc") => u.loc = text,
            ("url", "lastmod") => u.lastmod = w3c_date(&text),
            ("news", "title") => u.title = Some(text).filter(|t| !t.is_empty()),
            ("news", "publication_date") => u.published = w3c_date(&text),
            ("publication", "name") => u.publication = Some(text).filter(|t| !t.is_empty()),
            ("publication", "language") => u.language = Some(text).filter(|t| !t.is_empty()),
            ("image", "loc") if u.images.len() < MAX_IMAGES && !text.is_empty() => u.images.push(text),
            ("urlset", "url") => self.finish_url(),
            ("sitemap", "loc") if self.children.len() < MAX_CHILDREN && !text.is_empty() => self.children.push(text),
            _ => {}
        }
    }

    fn finish_url(&mut self) {
        let url = std::mem::take(&mut self.url);
        if url.loc.is_empty() {
            return;
        }
        if self.urls.len() < self.max_items {
            self.urls.push(url);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(self) -> Result<Sitemap, ParseError> {
        match self.root.as_deref() {
            Some("urlset") => Ok(Sitemap::Urls { urls: self.urls, dropped: self.dropped }),
            Some(_) => Ok(Sitemap::Index(self.children)),
            None => Err(ParseError::NotSitemap("no root element".into())),
        }
    }
}

/// A W3C datetime as sitemaps write it: a full timestamp, one without seconds, or a date.
pub fn w3c_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z") {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_str(&s.replace('Z', "+00:00"), "%Y-%m-%dT%H:%M%:z") {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
}

/// Sitemap URLs as feed items, so that normalizing, dedup and stories treat them as any
/// other: no GUID (the canonical link is the identity), `news:title` as the title (none
/// otherwise: normalize's fallback applies), the publication date as published (none
/// otherwise: normalize dates the item by `updated`, else when first seen), `lastmod` as
/// updated, and each image as an enclosure.
pub fn to_feed(urls: &[SitemapUrl]) -> Feed {
    super::feed_of(urls.iter().map(to_entry).collect())
}

fn to_entry(u: &SitemapUrl) -> Entry {
    let title = u.title.as_ref().and_then(|t| {
        let content_type = "text/plain".parse().ok()?;
        Some(Text { content_type, src: None, content: t.clone() })
    });
    let media = (!u.images.is_empty()).then(|| {
        let mut object = MediaObject::default();
        object.content = u.images.iter().filter_map(|i| image(i)).collect();
        object
    });
    Entry {
        title,
        links: vec![super::link_of(u.loc.clone())],
        published: u.published,
        updated: u.lastmod,
        language: u.language.clone(),
        source: u.publication.clone(),
        media: media.into_iter().collect(),
        ..Entry::default()
    }
}

fn image(href: &str) -> Option<MediaContent> {
    url::Url::parse(href).ok().map(super::image_of)
}

#[cfg(test)]
#[path = "sitemap_tests.rs"]
mod tests;
