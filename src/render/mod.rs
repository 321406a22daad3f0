//! Channels rendered as RSS 2.0, Atom 1.0, JSON Feed 1.1, IPTC ninjs 3.1 and an HTML page: pure functions of
//! (channel, entries) to bytes. Every item's id is its `EntryKey` URN, the same in all formats.

pub mod atom;
pub mod html;
pub mod json;
pub mod ninjs;
pub mod rss;
pub mod shown;

use crate::domain::{Entry, EntryKey, SourceId, TopicId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The output formats, named by the file extension readers fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
    /// IPTC ninjs 3.1, for agencies and partners.
    Ninjs,
    /// A page for people, at the channel's URL without an extension.
    Html,
}

impl Format {
    /// Every feed format, in the order the index page and exports offer them.
    pub const ALL: [Self; 4] = [Self::Rss, Self::Atom, Self::Json, Self::Ninjs];

    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "rss" => Some(Self::Rss),
            "atom" => Some(Self::Atom),
            "json" => Some(Self::Json),
            "ninjs" => Some(Self::Ninjs),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Rss => "rss",
            Self::Atom => "atom",
            Self::Json => "json",
            Self::Ninjs => "ninjs",
            Self::Html => "html",
        }
    }

    /// What follows the channel's path in its URL: `.rss`, … and nothing for the page.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Rss => ".rss",
            Self::Atom => ".atom",
            Self::Json => ".json",
            Self::Ninjs => ".ninjs",
            Self::Html => "",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Json => "application/feed+json; charset=utf-8",
            Self::Ninjs => "application/ninjs+json; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

/// Where an item came from, for attribution in every format.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub title: String,
    /// The source's own feed URL when it is on the web.
    pub feed_url: Option<String>,
    /// Our per-source channel, always available.
    pub channel_url: String,
}

/// Another outlet's report of the same story, listed with the story's primary item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub source: SourceId,
    pub outlet: String,
    pub title: String,
    pub link: String,
    pub published: DateTime<Utc>,
}

/// A channel's metadata: what it is and where it lives.
#[derive(Debug, Clone)]
pub struct Channel<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// The URL readers fetch this exact representation from (`rel="self"`).
    pub self_url: &'a str,
    /// The WebSub hub a reader may subscribe at (`rel="hub"`, JSON Feed `hubs`), when there is one.
    pub hub_url: Option<&'a str>,
    /// The human page of the service (`public_url`).
    pub home_url: &'a str,
    pub sources: &'a HashMap<SourceId, SourceInfo>,
    /// Topic titles, for formats that name an item's topics.
    pub topics: &'a HashMap<TopicId, String>,
    /// The channel's update time when it has no entries. Never the clock: instances behind one
    /// load balancer must render the same store into the same bytes (and ETag).
    pub empty_updated: DateTime<Utc>,
    /// RFC 5005 paging: the newest page, and the next (older) page when there is one.
    pub first_url: Option<&'a str>,
    pub next_url: Option<&'a str>,
    /// Other members of each shown item's story (merged and topic channels).
    pub related: &'a HashMap<EntryKey, Vec<Related>>,
    /// Other outlets' reports of each shown item's event (channels grouped by event).
    pub coverage: &'a HashMap<EntryKey, Vec<Related>>,
}

impl Channel<'_> {
    pub fn related_to(&self, e: &Entry) -> &[Related] {
        self.related.get(&e.key).map_or(&[], Vec::as_slice)
    }

    pub fn coverage_of(&self, e: &Entry) -> &[Related] {
        self.coverage.get(&e.key).map_or(&[], Vec::as_slice)
    }
}

/// "More coverage" (other outlets' own reports of the event) as an HTML list.
pub fn coverage_html(coverage: &[Related]) -> Option<String> {
    if coverage.is_empty() {
        return None;
    }
    let esc = crate::text::escape;
    let items: Vec<String> = coverage
        .iter()
        .map(|r| format!(r#"<li><a href="{}">{}</a> ({})</li>"#, esc(&r.link), esc(&r.title), esc(&r.outlet)))
        .collect();
    Some(format!("<p>More coverage:</p><ul>{}</ul>", items.concat()))
}

/// "Also reported by" as an HTML paragraph, for formats without a native place for it.
pub fn also_reported_html(related: &[Related]) -> Option<String> {
    if related.is_empty() {
        return None;
    }
    let esc = crate::text::escape;
    let links: Vec<String> = related
        .iter()
        .map(|r| format!(r#"<a href="{}" title="{}">{}</a>"#, esc(&r.link), esc(&r.title), esc(&r.outlet)))
        .collect();
    Some(format!("<p>Also reported by: {}</p>", links.join(", ")))
}

impl Channel<'_> {
    pub fn updated(&self, entries: &[Entry]) -> DateTime<Utc> {
        entries.iter().map(|e| e.updated).max().unwrap_or(self.empty_updated)
    }
}

pub fn render(format: Format, channel: &Channel<'_>, entries: &[Entry]) -> Vec<u8> {
    match format {
        Format::Rss => rss::render(channel, entries),
        Format::Atom => atom::render(channel, entries),
        Format::Json => json::render(channel, entries),
        Format::Ninjs => ninjs::render(channel, entries),
        Format::Html => html::render(channel, entries),
    }
}

#[cfg(test)]
mod tests;
