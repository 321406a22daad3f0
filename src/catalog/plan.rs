//! What an import would add and skip: each feed outline against the configured sources and the
//! ones before it, with a readable id that is unique and comes out the same from the same file.

use super::{feed_key, feed_url, OpmlFeed};
use crate::config::{Settings, SourceKind};
use crate::discover::slug;
use crate::domain::{FeedUrl, SourceId};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use url::Url;

/// What is configured already: ids taken, feed addresses by key, topic ids taken.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    ids: HashSet<String>,
    urls: HashMap<String, String>,
    topics: HashSet<String>,
}

impl Existing {
    pub fn of(settings: &Settings) -> Self {
        let mut out = Self::default();
        for s in &settings.sources {
            out.ids.insert(s.id.as_str().to_owned());
            let key = match &s.url {
                FeedUrl::Http(url) => feed_key(url),
                FeedUrl::File(path) => format!("file:{}", path.display()),
            };
            out.urls.entry(key).or_insert_with(|| s.id.as_str().to_owned());
        }
        out.topics = settings.topics.iter().map(|t| t.id.as_str().to_owned()).collect();
        out
    }

    /// The same, as if the sources `ids` were gone (the file they are in is being replaced).
    pub fn without(mut self, ids: &HashSet<String>) -> Self {
        self.ids.retain(|id| !ids.contains(id));
        self.urls.retain(|_, id| !ids.contains(id));
        self
    }

    pub fn has_id(&self, id: &str) -> bool {
        self.ids.contains(id)
    }
}

/// A source to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSource {
    pub id: String,
    pub title: String,
    pub url: Url,
    /// The site's own page, when the list named one.
    pub html_url: Option<Url>,
    /// The folders it was in, `Outer / Inner`.
    pub folder: Option<String>,
    #[serde(serialize_with = "kind_name")]
    pub kind: SourceKind,
}

/// Why an outline was not added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// The same feed is configured (after canonicalization) as this source.
    Configured { source: String },
    /// The same feed came earlier in the list, added as this id.
    Duplicate { source: String },
    /// `xmlUrl` is not a web address.
    BadUrl { detail: String },
    /// No `xmlUrl`: a link, or an empty folder.
    NoUrl,
    /// A FreshRSS scraper (`HTML+XPath`, `JSON+DotNotation`): its address is a page or an API,
    /// not a feed.
    Scraper { kind: String },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Configured { source } => write!(f, "already configured as source {source:?}"),
            Self::Duplicate { source } => write!(f, "listed earlier in this file (added as {source:?})"),
            Self::BadUrl { detail } => write!(f, "xmlUrl is {detail}"),
            Self::NoUrl => f.write_str("no xmlUrl (a link or an empty folder, not a feed)"),
            Self::Scraper { kind } => {
                write!(f, "type {kind:?} is a FreshRSS scraper, not a feed: add it as a `kind = \"page\"` source")
            }
        }
    }
}

/// An outline that was not added, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub title: String,
    pub url: Option<String>,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// What an import adds and skips, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub added: Vec<NewSource>,
    pub skipped: Vec<Skipped>,
}

fn kind_name<S: serde::Serializer>(kind: &SourceKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// Decides each feed in order: skipped (with the reason) or added with a fresh id.
pub fn plan(feeds: &[OpmlFeed], existing: &Existing) -> Plan {
    let mut out = Plan::default();
    let mut taken = existing.ids.clone();
    let mut listed: HashMap<String, String> = HashMap::new();
    for feed in feeds {
        match decide(feed, existing, &listed) {
            Ok((url, key)) => {
                let source = new_source(feed, url, &mut taken);
                listed.insert(key, source.id.clone());
                out.added.push(source);
            }
            Err(reason) => {
                let title = feed.title.clone();
                out.skipped.push(Skipped { title, url: feed.xml_url.clone(), reason });
            }
        }
    }
    out
}

/// The feed's URL and key when it is to be added, the reason otherwise.
fn decide(feed: &OpmlFeed, existing: &Existing, listed: &HashMap<String, String>) -> Result<(Url, String), SkipReason> {
    let raw = feed.xml_url.as_deref().ok_or(SkipReason::NoUrl)?;
    if let Some(kind) = feed.kind.as_deref().filter(|k| k.contains("xpath") || k.contains("dotnotation")) {
        return Err(SkipReason::Scraper { kind: kind.to_owned() });
    }
    let url = feed_url(raw).map_err(|detail| SkipReason::BadUrl { detail })?;
    let key = feed_key(&url);
    if let Some(source) = existing.urls.get(&key) {
        return Err(SkipReason::Configured { source: source.clone() });
    }
    if let Some(source) = listed.get(&key) {
        return Err(SkipReason::Duplicate { source: source.clone() });
    }
    Ok((url, key))
}

fn new_source(feed: &OpmlFeed, url: Url, taken: &mut HashSet<String>) -> NewSource {
    let host = url.host_str().unwrap_or_default().trim_start_matches("www.").to_owned();
    let title = if feed.title.is_empty() { host.clone() } else { feed.title.clone() };
    let own = feed.id.as_deref().filter(|id| SourceId::parse(id).is_ok() && !taken.contains(*id));
    let id = match own {
        Some(id) => id.to_owned(),
        None => unique([slug(&title), slug(&host)], "source", taken),
    };
    taken.insert(id.clone());
    let kind = if feed.source_kind.as_deref() == Some("sitemap") { SourceKind::Sitemap } else { SourceKind::Feed };
    let html_url = feed.html_url.as_deref().and_then(|h| feed_url(h).ok());
    let folder = (!feed.folders.is_empty()).then(|| feed.folders.join(" / "));
    NewSource { id, title, url, html_url, folder, kind }
}

/// The first non-empty name (else `fallback`), with `-2`, `-3` ... until it is not taken.
fn unique<const N: usize>(names: [String; N], fallback: &str, taken: &HashSet<String>) -> String {
    let base = names.into_iter().find(|s| !s.is_empty()).unwrap_or_else(|| fallback.to_owned());
    let mut id = base.clone();
    let mut n = 1;
    while taken.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

/// A `[[topic]]` an editor may want for one folder: every source imported from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSuggestion {
    pub id: String,
    pub title: String,
    pub sources: Vec<String>,
}

/// One suggested topic per folder, in the order folders first appear, ids unique against the
/// configured topics.
pub fn suggest_topics(added: &[NewSource], existing: &Existing) -> Vec<TopicSuggestion> {
    let mut out: Vec<TopicSuggestion> = Vec::new();
    for s in added {
        let Some(folder) = &s.folder else { continue };
        match out.iter_mut().find(|t| &t.title == folder) {
            Some(t) => t.sources.push(s.id.clone()),
            None => {
                let mut taken = existing.topics.clone();
                taken.extend(out.iter().map(|t| t.id.clone()));
                let id = unique([slug(folder)], "folder", &taken);
                out.push(TopicSuggestion { id, title: folder.clone(), sources: vec![s.id.clone()] });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(title: &str, url: &str, folders: &[&str]) -> OpmlFeed {
        let folders = folders.iter().map(|f| f.to_string()).collect();
        OpmlFeed { title: title.into(), xml_url: Some(url.into()), folders, ..OpmlFeed::default() }
    }

    #[test]
    fn ids_are_readable_unique_and_the_same_every_time() {
        let mut existing = Existing::default();
        existing.ids.insert("city-news".into());
        existing.urls.insert("configured.example/rss".into(), "old".into());
        let feeds = [
            feed("City News", "https://city.example/rss", &["Local"]),
            feed("City News", "https://city.example/atom", &["Local"]),
            feed("", "https://www.blank.example/feed", &[]),
            feed("新闻", "https://zh.example/rss", &["World", "Asia"]),
            feed("Again", "http://configured.example/rss/", &[]),
            feed("Repeat", "https://CITY.example/rss#x", &[]),
            feed("Mail", "mailto:x@example.org", &[]),
            OpmlFeed {
                title: "Scraped".into(),
                kind: Some("html+xpath".into()),
                ..feed("", "https://s.example/", &[])
            },
            OpmlFeed { title: "Folder".into(), ..OpmlFeed::default() },
            OpmlFeed { id: Some("kept-id".into()), ..feed("Renamed", "https://k.example/rss", &[]) },
        ];
        let first = plan(&feeds, &existing);
        assert_eq!(first, plan(&feeds, &existing), "the same list gives the same plan");
        let ids: Vec<&str> = first.added.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["city-news-2", "city-news-3", "blank-example", "zh-example", "kept-id"]);
        assert_eq!(first.added[2].title, "blank.example");
        let reasons: Vec<String> = first.skipped.iter().map(|s| s.reason.to_string()).collect();
        assert_eq!(reasons[0], "already configured as source \"old\"");
        assert_eq!(reasons[1], "listed earlier in this file (added as \"city-news-2\")");
        assert!(reasons[2].starts_with("xmlUrl is not an http(s) URL"), "{}", reasons[2]);
        assert!(reasons[3].contains("FreshRSS scraper"), "{}", reasons[3]);
        assert!(reasons[4].starts_with("no xmlUrl"), "{}", reasons[4]);
        let topics = suggest_topics(&first.added, &existing);
        let topics: Vec<(&str, &str, usize)> =
            topics.iter().map(|t| (t.id.as_str(), t.title.as_str(), t.sources.len())).collect();
        assert_eq!(topics, [("local", "Local", 2), ("world-asia", "World / Asia", 1)]);
    }
}
