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
}
