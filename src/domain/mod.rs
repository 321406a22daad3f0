//! Domain types: identifiers parsed once at the edges, the normalized `Entry`, per-source state.

mod ids;
mod state;

pub use ids::{EntryKey, FeedUrl, IdError, SourceId, TopicId};
pub use state::{FetchOutcome, PollSummary, SourceState};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an item's identity was derived from, kept so an operator can see why two items are one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Guid,
    /// A GUID shared by several items of one feed, disambiguated by link or position.
    GuidDisambiguated,
    Link,
    ContentHash,
}

/// A media attachment (RSS enclosure, media:content, JSON Feed image/attachment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    pub url: String,
    pub mime_type: Option<String>,
    pub length: Option<u64>,
    /// Photo credit (media:credit), when the source gives one.
    pub credit: Option<String>,
}

/// Membership of an entry in a topic channel, with the rule that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMatch {
    pub topic: TopicId,
    /// e.g. `any:"Karabakh"`, `category:"Diplomacy"`, `source:press-office`.
    pub rule: String,
}

/// A channel newsriver publishes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelId {
    All,
    Source(SourceId),
    Topic(TopicId),
}

/// One normalized item: every URL absolute, every HTML field sanitized, dates repaired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: EntryKey,
    pub source: SourceId,
    pub identity_kind: IdentityKind,
    /// The raw value the key was hashed from (GUID, canonical link or content digest).
    pub identity: String,
    pub title: String,
    pub link: Option<String>,
    /// Sanitized HTML.
    pub summary: Option<String>,
    /// Sanitized HTML.
    pub content: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    /// True when `published` was missing or in the future and replaced by the first-seen time.
    pub date_repaired: bool,
    /// Digest of the reader-visible fields; a change means the item was edited.
    pub fingerprint: String,
    /// Topic channels this entry belongs to (set at ingest, recomputed when rules change).
    #[serde(default)]
    pub topics: Vec<TopicMatch>,
    /// Part of a new source's backlog beyond `initial_items`: stored, but kept out of channels.
    #[serde(default)]
    pub held_back: bool,
    /// Position in the change log of the entry's latest version (what `?since=` pages over).
    #[serde(default)]
    pub seq: u64,
}

impl Entry {
    /// The channels this entry appears in.
    pub fn channels(&self) -> Vec<ChannelId> {
        if self.held_back {
            return Vec::new();
        }
        let mut out = vec![ChannelId::All, ChannelId::Source(self.source.clone())];
        out.extend(self.topics.iter().map(|t| ChannelId::Topic(t.topic.clone())));
        out
    }
}
