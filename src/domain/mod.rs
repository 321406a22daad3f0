//! Domain types: identifiers parsed once at the edges, the normalized `Entry`, and the per-source
//! model (`SourceState`) with the one transition a poll's `PollOutcome` makes in it.

mod apply;
mod article;
mod ids;
mod partner;
mod poll;
mod state;

pub use article::{ArticleHealth, ArticleImage, ArticleRecord, ArticleTally};
pub use ids::{EntryKey, FeedUrl, IdError, SourceId, TopicId};
pub use partner::{channel_name, Grant, KeyDigest, PartnerId};
pub use poll::{
    Answer, DocumentNotes, Ending, Failure, Parsed, PollOutcome, PollReport, PollRules, PollStats, Validators,
};
pub use state::{FetchOutcome, PollSummary, Runtime, SeenItem, SourceState, Tracked};

// Records a poll writes beside its entries.
mod records;
pub use records::{Change, EventMember, EventPlace, EventRecord, IndexWrite, Member, Signature, Story, SIGNATURE_LEN};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// The link as used to recognise the same article anywhere (`links::story_url`).
    #[serde(default)]
    pub story_url: Option<String>,
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
    /// Digest of title, article link and text; a change means the item was edited.
    pub fingerprint: String,
    /// Digest of every reader-visible field; a change alone is stored without counting as an edit.
    #[serde(default)]
    pub revision: String,
    /// Topic channels this entry belongs to (set at ingest, recomputed when rules change).
    #[serde(default)]
    pub topics: Vec<TopicMatch>,
    /// Part of a new source's backlog beyond `initial_items`: stored, but kept out of channels.
    #[serde(default)]
    pub held_back: bool,
    /// Position in the change log of the entry's latest version (what `?since=` pages over).
    #[serde(default)]
    pub seq: u64,
    /// The story this item belongs to (the key of the story's first item).
    #[serde(default)]
    pub story: Option<EntryKey>,
    /// A story member other than its primary: shown in its source's channel only.
    #[serde(default)]
    pub secondary: bool,
    /// On a story's primary: topics of other members, so the story shows in those topics too.
    #[serde(default)]
    pub story_topics: Vec<TopicId>,
    /// The item's article page, when its source fetches full text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<Box<ArticleRecord>>,
    /// The event of 2+ reports this item is one of, and where it shows for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventPlace>,
    /// From a private source (set at routing, like `topics`): shown only in its source's
    /// channel and the private topics it was routed to, never in merged or public channels.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

impl Entry {
    /// The channels this entry appears in.
    /// Merged and topic channels show one item per story, its primary (and, where they group
    /// by event, one per event); a source's channel shows all of that source's items.
    pub fn channels(&self) -> Vec<ChannelId> {
        if self.held_back {
            return Vec::new();
        }
        let mut out = vec![ChannelId::Source(self.source.clone())];
        if self.secondary {
            return out;
        }
        if self.private {
            // Routing gave it private topics only; what a story or event lent it (stored
            // before its source was made private) is not its own.
            out.extend(self.topics.iter().map(|t| ChannelId::Topic(t.topic.clone())));
            return out;
        }
        out.push(ChannelId::All);
        let shown = self.event.as_ref().map_or(&[][..], |p| p.topics.as_slice());
        for t in self.topics.iter().map(|t| &t.topic).chain(&self.story_topics).chain(shown) {
            let ch = ChannelId::Topic(t.clone());
            if !out.contains(&ch) {
                out.push(ch);
            }
        }
        if let Some(place) = &self.event {
            out.retain(|ch| !place.hidden.contains(ch));
        }
        out
    }

    /// The topics this item is routed to itself or for its story's other members.
    pub fn own_topics(&self) -> impl Iterator<Item = &TopicId> {
        self.topics.iter().map(|t| &t.topic).chain(&self.story_topics)
    }
}

/// Lowercase hex of `bytes` (digests, fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// A plain entry for unit tests, to be adjusted with struct update syntax.
#[cfg(test)]
pub(crate) fn test_entry(source: &str, id: &str, published: &str) -> Entry {
    let source = SourceId::parse(source).expect("slug");
    let at = DateTime::parse_from_rfc3339(published).expect("date").with_timezone(&Utc);
    Entry {
        key: EntryKey::derive(&source, "guid", id),
        source,
        identity_kind: IdentityKind::Guid,
        identity: id.into(),
        title: format!("title {id}"),
        link: None,
        story_url: None,
        summary: None,
        content: None,
        authors: vec![],
        categories: vec![],
        enclosures: vec![],
        published: at,
        updated: at,
        first_seen: at,
        date_repaired: false,
        fingerprint: id.into(),
        revision: id.into(),
        topics: vec![],
        held_back: false,
        seq: 0,
        story: None,
        secondary: false,
        story_topics: vec![],
        article: None,
        event: None,
        private: false,
    }
}

#[cfg(test)]
mod tests;
