//! Metadata from `<meta>` tags (Open Graph, `article:*`, `name=author|date|...`), `<html lang>` and `<time datetime>`, and the fields found so far.

use super::body::{word_count, Body};
use super::index::Index;
use super::{dates, Article, Image, Source};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::BTreeMap;
use url::Url;

/// Metadata values are short; a longer one is junk or an attack, and is cut.
const MAX_FIELD: usize = 1000;

/// Fields found so far; rules run most trusted first and only fill what is still empty.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub title: Option<(String, Source)>,
    pub byline: Option<(Vec<String>, Source)>,
    pub published: Option<(DateTime<Utc>, Source)>,
    pub modified: Option<(DateTime<Utc>, Source)>,
    pub site_name: Option<(String, Source)>,
    pub lang: Option<(String, Source)>,
    pub image: Option<(String, Source)>,
    pub caption: Option<(String, Source)>,
    pub credit: Option<(String, Source)>,
    /// Visible lines that said what a field holds (headline, dateline, byline, credit): they
    /// are page furniture, not body text.
    pub furniture: Vec<String>,
    /// The page's address, against which image URLs resolve.
    pub base: Option<Url>,
}

/// Fills `slot` unless a more trusted rule already did.
pub(super) fn fill<T>(slot: &mut Option<(T, Source)>, value: Option<T>, source: Source) {
    if slot.is_none() {
        *slot = value.map(|v| (v, source));
    }
}

/// Collapses whitespace, drops control characters, caps the length; empty becomes `None`.
pub(super) fn clean(s: &str) -> Option<String> {
    // Names and captions are text; markup in them (a JSON-LD author of `<script>...`) is dropped.
    let text = if s.contains('<') { Cow::Owned(crate::normalize::html::html_to_text(s)) } else { Cow::Borrowed(s) };
    // One pass: this runs on every candidate line of a page.
    let mut out = String::with_capacity(text.len().min(MAX_FIELD * 4));
    let (mut count, mut space) = (0, false);
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            if count + 1 >= MAX_FIELD {
                break;
            }
            out.push(' ');
            (count, space) = (count + 1, false);
        }
        if count >= MAX_FIELD {
            break;
        }
        out.push(c);
        count += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// An http(s) URL, resolved against the page; anything else (`javascript:`, `data:`) is dropped.
pub(super) fn web_url(s: &str, base: Option<&Url>) -> Option<String> {
    let s = s.trim();
    let u = match base {
        Some(b) => b.join(s).ok()?,
        None => Url::parse(s).ok()?,
    };
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// The first non-empty `content` of a `<meta>` named by one of `keys`, in the order of `keys`.
fn meta_content(ix: &Index, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| ix.metas.iter().filter(|m| m.is(k)).find_map(|m| m.content.as_deref().and_then(clean)))
}

fn meta_date(ix: &Index, keys: &[&str]) -> Option<DateTime<Utc>> {
    meta_content(ix, keys).and_then(|s| dates::parse_machine(&s))
}

/// Reads `<meta>` tags, `<html lang>` and `<time>` elements.
pub(super) fn collect(ix: &Index, f: &mut Found) {
    fill(&mut f.title, meta_content(ix, &["og:title", "twitter:title"]), Source::Meta);
    let authors = meta_content(ix, &["article:author", "author", "byl", "sailthru.author", "parsely-author"])
        .filter(|a| !a.starts_with("http"))
        .map(|a| vec![a.trim_start_matches("By ").trim_start_matches("by ").to_owned()]);
    fill(&mut f.byline, authors, Source::Meta);
    let published = ["article:published_time", "og:published_time", "datePublished", "date", "pubdate", "dc.date"];
    fill(&mut f.published, meta_date(ix, &published), Source::Meta);
    let modified = ["article:modified_time", "og:updated_time", "dateModified", "last-modified"];
    fill(&mut f.modified, meta_date(ix, &modified), Source::Meta);
    fill(&mut f.site_name, meta_content(ix, &["og:site_name", "application-name"]), Source::Meta);
    f.fill_image(meta_content(ix, &["og:image", "og:image:url", "twitter:image"]), Source::Meta);
    fill(&mut f.lang, ix.lang.as_deref().and_then(clean), Source::Selector);
    fill(&mut f.lang, meta_content(ix, &["og:locale", "content-language"]).map(|l| l.replace('_', "-")), Source::Meta);
    fill(&mut f.published, ix.times.iter().find_map(|d| dates::parse_machine(d)), Source::Time);
    let title = ix.h1.iter().find_map(|(h, _)| clean(&h.text()));
    f.furniture.extend(title.clone());
    fill(&mut f.title, title, Source::Selector);
}

impl Found {
    /// The article, with a source recorded for every field that was found.
    /// Fills the lead image with an http(s) URL only: an unusable one (`javascript:`, `data:`)
    /// leaves the slot to the next rule.
    pub(super) fn fill_image(&mut self, raw: Option<String>, source: Source) {
        let url = raw.and_then(|u| web_url(&u, self.base.as_ref()));
        fill(&mut self.image, url, source);
    }

    /// The article, with a source recorded for every field that was found.
    pub(super) fn into_article(self, body: Body) -> Article {
        let mut sources = BTreeMap::new();
        let title = take(&mut sources, "title", self.title);
        let site_name = take(&mut sources, "site_name", self.site_name);
        let lang = take(&mut sources, "lang", self.lang);
        // A figcaption that is only the credit line ("NAME / Courtesy") is the credit, not a caption.
        let caption = self.caption.filter(|(c, _)| self.credit.as_ref().is_none_or(|(credit, _)| credit != c));
        let image = take(&mut sources, "image", self.image).map(|url| Image {
            url,
            caption: take(&mut sources, "image.caption", caption),
            credit: take(&mut sources, "image.credit", self.credit),
        });
        let published = take(&mut sources, "published", self.published);
        let modified = take(&mut sources, "modified", self.modified);
        let byline = take(&mut sources, "byline", self.byline).unwrap_or_default();
        if !body.text.is_empty() {
            sources.insert("body", body.source);
        }
        Article {
            title,
            byline,
            published,
            modified,
            site_name,
            lang,
            image,
            word_count: word_count(&body.text),
            body_html: body.html,
            body_text: body.text,
            sources,
            notes: Vec::new(),
        }
    }
}

/// The value of a slot, recording which rule found it.
fn take<T>(sources: &mut BTreeMap<&'static str, Source>, name: &'static str, slot: Option<(T, Source)>) -> Option<T> {
    slot.map(|(v, s)| {
        sources.insert(name, s);
        v
    })
}
