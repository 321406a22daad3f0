//! A synthetic stored entry, as the store and dedup benches commit them.

use chrono::{DateTime, Utc};
use newsriver::domain::{Entry, EntryKey, IdentityKind, SourceId};

/// What differs between synthetic entries; the rest is as a first poll stores an item.
pub struct Synthetic {
    pub source: SourceId,
    pub guid: String,
    pub title: String,
    pub link: String,
    pub body: String,
    pub published: DateTime<Utc>,
    /// Digests as normalization makes them: 32 hex digits.
    pub fingerprint: String,
}

pub fn entry(s: Synthetic) -> Entry {
    Entry {
        key: EntryKey::derive(&s.source, "guid", &s.guid),
        source: s.source,
        identity_kind: IdentityKind::Guid,
        identity: s.guid,
        title: s.title,
        story_url: None,
        link: Some(s.link),
        summary: None,
        content: Some(format!("<p>{}</p>", s.body)),
        authors: vec![],
        categories: vec![],
        enclosures: vec![],
        published: s.published,
        updated: s.published,
        first_seen: s.published,
        date_repaired: false,
        revision: s.fingerprint.clone(),
        fingerprint: s.fingerprint,
        topics: vec![],
        held_back: false,
        seq: 0,
        story: None,
        secondary: false,
        story_topics: vec![],
        event: None,
        article: None,
        private: false,
    }
}
