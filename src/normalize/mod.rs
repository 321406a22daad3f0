//! feed-rs items to `Entry`: absolute links, sanitized HTML, clean text, repaired dates, stable keys.

mod digest;
pub mod html;
pub mod links;

pub use digest::{byte_digests, digest_seed, guid_hash, item_digests, may_remember};

use crate::domain::{Enclosure, Entry, EntryKey, IdentityKind, SourceId};
use crate::text;
use chrono::{DateTime, Duration, Utc};
use feed_rs::model::{Entry as FeedEntry, Feed, Link, Text};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use url::Url;

/// Dates this far ahead of our clock are treated as publisher clock or timezone errors.
const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
const MAX_TITLE_CHARS: usize = 1_000;
/// Bounds on what one item may bring: an article body of 256 KiB is several novels' chapters;
/// past that a feed is hostile or broken, and the cut is made before sanitizing (which closes
/// any element the cut left open).
const MAX_BODY_BYTES: usize = 256 * 1024;
const MAX_LIST: usize = 32;
const MAX_NAME_CHARS: usize = 200;
const MAX_URL_BYTES: usize = 4096;
const MAX_ENCLOSURES: usize = 16;

/// What normalization needs besides the feed: whose it is, where it came from, and when.
#[derive(Debug, Clone, Copy)]
pub struct FeedContext<'a> {
    pub source: &'a SourceId,
    /// The URL the body was fetched from (after redirects); relative links resolve against it.
    pub fetch_url: Option<&'a Url>,
    pub now: DateTime<Utc>,
}

/// Normalizes every item of a feed. Items with nothing a reader could see are skipped.
pub fn normalize_feed(feed: &Feed, ctx: &FeedContext<'_>) -> Vec<Entry> {
    let items = normalize_items(feed, ctx, |_| None::<()>);
    items.into_iter().filter_map(|(_, i)| if let Item::Fresh(e, _) = i { Some(e) } else { None }).collect()
}

/// An item of a feed: normalized, or one the caller recognised as unchanged.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, and most items are fresh: no box per item
pub enum Item<T> {
    Known(T),
    /// A normalized item and the words of its body text (`stories::body_text`).
    Fresh(Entry, Vec<String>),
}

/// Like `normalize_feed`, but an item `known` recognises (by its position in the feed) is not
/// normalized again. Items whose GUID others share are always normalized: their identities
/// depend on their order. Each item comes with its position.
pub fn normalize_items<T>(
    feed: &Feed,
    ctx: &FeedContext<'_>,
    mut known: impl FnMut(usize) -> Option<T>,
) -> Vec<(usize, Item<T>)> {
    let base = feed_base(feed, ctx.fetch_url);
    let shared = shared_guids(feed);
    let mut seen_dups: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(feed.entries.len());
    for (i, e) in feed.entries.iter().enumerate() {
        let is_shared = shared.contains(e.id.trim());
        if let Some(t) = known(i).filter(|_| !is_shared) {
            out.push((i, Item::Known(t)));
            continue;
        }
        let Some((mut entry, words)) = normalize_entry(e, base.as_ref(), ctx) else { continue };
        if is_shared && entry.identity_kind == IdentityKind::Guid {
            disambiguate(&mut entry, &mut seen_dups, ctx.source);
        }
        out.push((i, Item::Fresh(entry, words)));
    }
    out
}

/// GUIDs more than one item of the feed carries.
pub fn shared_guids(feed: &Feed) -> HashSet<&str> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in &feed.entries {
        *counts.entry(e.id.trim()).or_default() += 1;
    }
    counts.into_iter().filter(|(_, n)| *n > 1).map(|(g, _)| g).collect()
}

/// A GUID used by several items of one feed: each becomes GUID + link, and items that share
/// the link as well are told apart by their order, so no item is lost.
fn disambiguate(entry: &mut Entry, seen: &mut HashMap<String, usize>, source: &SourceId) {
    let base = format!("{}\n{}", entry.identity, entry.link.as_deref().unwrap_or(""));
    let n = seen.entry(base.clone()).or_default();
    *n += 1;
    entry.identity = if *n == 1 { base } else { format!("{base}\n#{n}") };
    entry.identity_kind = IdentityKind::GuidDisambiguated;
    entry.key = EntryKey::derive(source, "guid+", &entry.identity);
}

/// Relative links resolve against the feed's own home page link when it has one (feeds are often
/// served from another host than the site, as Miniflux also assumes), else the fetched URL (a
/// local file's own location when it was read from disk). `xml:base` overrides both and was
/// already applied by feed-rs.
fn feed_base(feed: &Feed, fetch_url: Option<&Url>) -> Option<Url> {
    let web_fetch = fetch_url.filter(|u| matches!(u.scheme(), "http" | "https"));
    let site = feed.links.iter().filter(|l| is_alternate(l)).find_map(|l| links::resolve(&l.href, web_fetch));
    site.or_else(|| fetch_url.filter(|u| matches!(u.scheme(), "http" | "https" | "file")).cloned())
}

fn is_alternate(l: &Link) -> bool {
    matches!(l.rel.as_deref(), None | Some("alternate"))
}

fn normalize_entry(e: &FeedEntry, feed_base: Option<&Url>, ctx: &FeedContext<'_>) -> Option<(Entry, Vec<String>)> {
    let base = e.base.as_deref().and_then(|b| links::resolve(b, feed_base)).or_else(|| feed_base.cloned());
    let link = (e.links.iter().filter(|l| is_alternate(l) && l.href.len() <= MAX_URL_BYTES))
        .find_map(|l| item_link(&l.href, base.as_ref(), ctx.fetch_url));
    let html_base = link.as_ref().or(base.as_ref());
    let content = e.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        Some(body_html(body, c.content_type.essence().to_string().as_str(), html_base))
    });
    let summary = e.summary.as_ref().map(|t| text_html(t, html_base));
    let content = content.filter(|c| !c.is_empty() && Some(c) != summary.as_ref());
    let title = entry_title(e.title.as_ref(), content.as_deref().or(summary.as_deref()));
    if title.is_none() && link.is_none() && content.is_none() && summary.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let title = title.unwrap_or_else(|| "(untitled)".to_owned());
    let (published, updated, date_repaired) = repair_dates(e.published, e.updated, ctx.now);
    let (identity_kind, identity) = identity(e, link.as_ref(), &title, content.as_deref().or(summary.as_deref()));
    let kind_tag = match identity_kind {
        IdentityKind::Guid => "guid",
        IdentityKind::Link => "link",
        _ => "hash",
    };
    let mut entry = Entry {
        key: EntryKey::derive(ctx.source, kind_tag, &identity),
        source: ctx.source.clone(),
        identity_kind,
        identity,
        title,
        story_url: link.as_ref().and_then(links::story_url),
        link: link.map(String::from),
        summary: summary.filter(|s| !s.is_empty()),
        content,
        authors: dedup_strings(e.authors.iter().filter_map(|p| p.name.as_deref())),
        categories: dedup_strings(e.categories.iter().map(|c| c.label.as_deref().unwrap_or(&c.term))),
        enclosures: enclosures(e, base.as_ref()),
        published,
        updated,
        first_seen: ctx.now,
        date_repaired,
        fingerprint: String::new(),
        revision: String::new(),
        topics: Vec::new(),
        held_back: false,
        seq: 0,
        story: None,
        secondary: false,
        story_topics: vec![],
        event: None,
        article: None,
        // Set at routing, with the topics.
        private: false,
    };
    let (fingerprint, body_words) = fingerprint_and_body_words(&entry);
    entry.fingerprint = fingerprint;
    entry.revision = revision(&entry);
    Some((entry, body_words))
}

/// A web link; or, in a document read from a file, a file beside it (an absolute `file:` link
/// too, whatever the feed names as its site): a document from the web never reaches a file.
fn item_link(href: &str, base: Option<&Url>, fetch_url: Option<&Url>) -> Option<Url> {
    links::resolve(href, base).or_else(|| {
        let doc = fetch_url?;
        Url::parse(href.trim()).ok().filter(|u| links::file_beside(u, doc))
    })
}

fn body_html(body: &str, mime: &str, base: Option<&Url>) -> String {
    let body = clip(body, MAX_BODY_BYTES);
    if mime.contains("html") || mime.contains("xml") {
        html::sanitize_html(body, base)
    } else {
        html::text_to_html(body)
    }
}

fn text_html(t: &Text, base: Option<&Url>) -> String {
    body_html(&t.content, t.content_type.essence().to_string().as_str(), base)
}

fn entry_title(title: Option<&Text>, body: Option<&str>) -> Option<String> {
    let from_title = title.map(|t| {
        let mime = t.content_type.essence().to_string();
        if mime.contains("html") {
            html::html_to_text(&t.content)
        } else {
            text::collapse_ws(&t.content)
        }
    });
    let t = from_title.filter(|t| !t.is_empty()).or_else(|| {
        let text = text::sanitized_to_text(body?);
        (!text.is_empty()).then(|| text::excerpt(&text, 80))
    })?;
    Some(text::excerpt(&t, MAX_TITLE_CHARS))
}

/// Missing or future publication dates become the first-seen time; `updated` never precedes
/// `published` and never lies in the future.
fn repair_dates(
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, bool) {
    let sane = |d: Option<DateTime<Utc>>| d.filter(|d| *d <= now + FUTURE_TOLERANCE);
    let (published, repaired) = match sane(published).or(sane(updated)) {
        Some(p) => (p, false),
        None => (now, true),
    };
    let updated = sane(updated).unwrap_or(published).max(published);
    (published, updated, repaired)
}

fn identity(e: &FeedEntry, link: Option<&Url>, title: &str, body: Option<&str>) -> (IdentityKind, String) {
    let guid = text::strip_controls(e.id.trim());
    if !guid.is_empty() {
        return (IdentityKind::Guid, guid);
    }
    if let Some(link) = link {
        return (IdentityKind::Link, links::canonical(link).into());
    }
    let text = format!("{}\n{}", text::collapse_ws(title), text::sanitized_to_text(body.unwrap_or("")));
    (IdentityKind::ContentHash, crate::domain::hex(&Sha256::digest(text.as_bytes())[..16]))
}

fn enclosures(e: &FeedEntry, base: Option<&Url>) -> Vec<Enclosure> {
    let mut out: Vec<Enclosure> = Vec::new();
    for m in &e.media {
        let credit = m
            .credits
            .first()
            .map(|c| text::excerpt(&text::collapse_ws(clip(&c.entity, 4 * MAX_NAME_CHARS)), MAX_NAME_CHARS))
            .filter(|c| !c.is_empty());
        for c in &m.content {
            let Some(url) = c.url.as_ref().and_then(|u| links::resolve(u.as_str(), base)) else { continue };
            if out.len() == MAX_ENCLOSURES || url.as_str().len() > MAX_URL_BYTES {
                return out;
            }
            if out.iter().any(|x| x.url == url.as_str()) {
                continue;
            }
            out.push(Enclosure {
                url: url.into(),
                mime_type: c.content_type.as_ref().map(|m| m.to_string()),
                length: c.size,
                credit: credit.clone(),
            });
        }
    }
    out
}

/// The longest prefix of `s` within `max` bytes that ends on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let end = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..end]
}

fn dedup_strings<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let names = items
        .take(MAX_LIST * 4)
        .map(|s| text::excerpt(&text::collapse_ws(clip(s, 4 * MAX_NAME_CHARS)), MAX_NAME_CHARS));
    for s in names.filter(|s| !s.is_empty()) {
        if out.len() == MAX_LIST {
            break;
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    }
    out
}

/// Digest of what makes an edit: the words of the title and the text. Whitespace,
/// punctuation, case, markup (an ad block, a changed image), links (tracking parameters, a
/// domain move) and metadata do not count; they are kept in step by `revision` without moving
/// `updated`.
pub fn fingerprint(e: &Entry) -> String {
    fingerprint_and_body_words(e).0
}

/// The fingerprint, and the words of the body text stories compare (`stories::body_text`:
/// the longer of content and summary), which it has to compute anyway.
fn fingerprint_and_body_words(e: &Entry) -> (String, Vec<String>) {
    let words = crate::text::words;
    let summary = text::sanitized_to_text(e.summary.as_deref().unwrap_or(""));
    let content = text::sanitized_to_text(e.content.as_deref().unwrap_or(""));
    let (summary_words, content_words) = (words(&summary), words(&content));
    let fp = digest(&[&words(&e.title).join(" "), &summary_words.join(" "), &content_words.join(" ")]);
    (fp, if content.len() >= summary.len() { content_words } else { summary_words })
}

/// Digest of every stored field a reader can see: any change is stored.
pub fn revision(e: &Entry) -> String {
    let enclosures = e.enclosures.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join("\u{1f}");
    digest(&[
        &e.title,
        e.link.as_deref().unwrap_or_default(),
        e.summary.as_deref().unwrap_or_default(),
        e.content.as_deref().unwrap_or_default(),
        &e.authors.join("\u{1f}"),
        &e.categories.join("\u{1f}"),
        &enclosures,
    ])
}

/// For documents whose only sign of a change is a date (sitemaps): the item's `updated`, as the
/// document gave it, becomes part of what makes an edit. A published time taken from `updated`
/// counts as repaired, so that an edit keeps the first one instead of moving the item up.
pub fn date_only_edits(e: &mut Entry, item: &FeedEntry) {
    if let Some(updated) = item.updated {
        e.fingerprint = digest(&[&e.fingerprint, &updated.to_rfc3339()]);
    }
    if item.published.is_none() {
        e.date_repaired = true;
    }
}

/// A news sitemap's `news:name` and `news:language` (feed-rs's `source` and `language` as the
/// sitemap reader fills them): kept as what is known of the article before its page is read,
/// each field credited to the sitemap.
pub fn sitemap_metadata(e: &mut Entry, item: &FeedEntry, now: chrono::DateTime<Utc>) {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(MAX_NAME_CHARS).collect::<String>())
    };
    let (site_name, lang) = (clean(&item.source), clean(&item.language));
    if site_name.is_none() && lang.is_none() {
        return;
    }
    let mut sources = std::collections::BTreeMap::new();
    for (field, v) in [("site_name", &site_name), ("lang", &lang)] {
        if v.is_some() {
            sources.insert(field.to_owned(), "sitemap".to_owned());
        }
    }
    let url = e.link.clone().unwrap_or_default();
    e.article = Some(Box::new(crate::domain::ArticleRecord {
        url,
        checked: now,
        site_name,
        lang,
        sources,
        ..Default::default()
    }));
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    crate::domain::hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests;
