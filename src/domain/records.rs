//! The records a poll writes: its entry writes (new, edited, refreshed), stories, and the
//! identity index (article URL, text fingerprint, MinHash signature, alias). Plain data: the
//! identity step decides them, the store stores them.

use super::{Entry, EntryKey, SourceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Length of an item's MinHash signature.
pub const SIGNATURE_LEN: usize = 48;
/// An item's MinHash signature, stored to pre-screen near-duplicate candidates.
pub type Signature = [u32; SIGNATURE_LEN];

/// A write a poll makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    New(Entry),
    /// A new version of a stored item; the stored version's index keys must go. `edited` is
    /// false when only metadata or markup changed: then `updated` and the change-log position stay.
    Updated {
        previous: Box<Entry>,
        entry: Entry,
        edited: bool,
    },
}

impl Change {
    pub fn entry(&self) -> &Entry {
        match self {
            Self::New(e) | Self::Updated { entry: e, .. } => e,
        }
    }

    pub fn entry_mut(&mut self) -> &mut Entry {
        match self {
            Self::New(e) | Self::Updated { entry: e, .. } => e,
        }
    }

    pub fn into_entry(self) -> Entry {
        match self {
            Self::New(e) | Self::Updated { entry: e, .. } => e,
        }
    }

    /// The entry of a new item.
    pub fn as_new(&self) -> Option<&Entry> {
        match self {
            Self::New(e) => Some(e),
            Self::Updated { .. } => None,
        }
    }

    pub fn previous(&self) -> Option<&Entry> {
        match self {
            Self::New(_) => None,
            Self::Updated { previous, .. } => Some(previous),
        }
    }
}

/// A story: every member item with its source, link and why it joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    pub id: EntryKey,
    /// The member channels show: the earliest published.
    pub primary: EntryKey,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub key: EntryKey,
    pub source: SourceId,
    pub title: String,
    pub link: Option<String>,
    pub published: DateTime<Utc>,
    /// `first`, `url`, `text`, `title+text` or `near`.
    pub rule: String,
    /// 1.0 for exact rules; shingle containment for `near`.
    pub score: f64,
}

impl Story {
    /// The story of an entry no other item has joined (such stories have no record).
    pub fn single(e: &Entry) -> Self {
        Self { id: e.story.unwrap_or(e.key), primary: e.key, members: vec![Member::of(e, "first", 1.0)] }
    }
}

impl Member {
    pub fn of(e: &Entry, rule: &str, score: f64) -> Self {
        Self {
            key: e.key,
            source: e.source.clone(),
            title: e.title.clone(),
            link: e.link.clone(),
            published: e.published,
            rule: rule.to_owned(),
            score,
        }
    }
}

/// A write to the story indexes, committed with the poll.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexWrite {
    Url(String, EntryKey),
    Text([u8; 16], EntryKey),
    /// An item's MinHash signature, to pre-screen near-duplicate candidates.
    Sig(EntryKey, DateTime<Utc>, Signature),
    /// A key an item had before its source changed identities, pointing at its stored entry.
    Alias(EntryKey, EntryKey),
    Story(Story),
    /// A story merged into another.
    DropStory(EntryKey),
    Event(EventRecord),
    /// An event merged into another.
    DropEvent(EntryKey),
    /// The article URL, text fingerprint or former key of an item that was removed (`prune`),
    /// when no other item takes its place.
    DropUrl(String),
    DropText([u8; 16]),
    DropAlias(EntryKey),
}

/// Where an item of an event of 2+ reports shows. Decided when the event changes and stored on
/// the entry, so its channels follow from the entry alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPlace {
    /// The event: the key of its first report.
    pub id: EntryKey,
    /// The event's primary (shown for it), or another report (listed under the primary).
    pub primary: bool,
    /// Channels grouped by event in which another report shows for this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<super::ChannelId>,
    /// On the primary: topic channels grouped by event where only other reports were routed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<super::TopicId>,
}

/// An event: independent reports of one happening, each with why it joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: EntryKey,
    /// The report channels show: the earliest published visible one.
    pub primary: EntryKey,
    pub members: Vec<EventMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMember {
    pub key: EntryKey,
    pub source: SourceId,
    pub title: String,
    pub link: Option<String>,
    pub published: DateTime<Utc>,
    /// `first` (opened the event), `event` (joined it) or `merge` (came with an event merged in).
    pub joined: String,
    /// The log-odds score it joined with (against the event's recent members).
    pub score: f64,
    /// The names, numbers and dates it shares with its closest member.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub numbers: Vec<String>,
    #[serde(default)]
    pub dates: Vec<String>,
    /// The pair features with its closest member, by name (what the score weighed).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub features: std::collections::BTreeMap<String, f64>,
}

impl EventMember {
    pub fn of(e: &Entry, joined: &str, score: f64) -> Self {
        Self {
            key: e.key,
            source: e.source.clone(),
            title: e.title.clone(),
            link: e.link.clone(),
            published: e.published,
            joined: joined.to_owned(),
            score,
            names: Vec::new(),
            numbers: Vec::new(),
            dates: Vec::new(),
            features: std::collections::BTreeMap::new(),
        }
    }
}

impl EventRecord {
    /// The event of an item no other report has joined (such events have no record).
    pub fn single(e: &Entry) -> Self {
        Self { id: e.key, primary: e.key, members: vec![EventMember::of(e, "first", 0.0)] }
    }
}
