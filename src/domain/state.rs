//! The per-source model: what newsriver remembers about each source between polls (persisted),
//! and the small runtime view a running poller keeps next to it.

use super::{FeedUrl, Validators};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one poll ended, in the words the status API and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    /// New or updated items were found (or the feed parsed with nothing new).
    Ok,
    /// The server answered 304, or the file did not change: nothing parsed, nothing written.
    NotModified,
    /// The body was byte-identical to the last one: nothing parsed, nothing written.
    Unchanged,
    /// A failure that may go away by itself (timeout, 5xx, 429, connection refused).
    TransientError,
    /// A failure that needs a person (404, 410, not a feed, body too large).
    PermanentError,
}

impl FetchOutcome {
    pub fn is_failure(self) -> bool {
        matches!(self, Self::TransientError | Self::PermanentError)
    }
}

/// Counts of one poll, reported once its writes are durable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Persistent per-source state: validators for conditional GET, the last outcome, and what the
/// source told us about pacing and where it lives now. Changed only by `apply` (`apply.rs`).
/// New fields default and removed ones are ignored, so old records load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the last body parsed, to skip work when a server ignores validators.
    pub body_hash: Option<String>,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub outcome: Option<FetchOutcome>,
    pub last_error: Option<String>,
    pub http_status: Option<u16>,
    pub consecutive_failures: u32,
    pub entry_count: u64,
    pub last_summary: PollSummary,
    pub first_success: Option<DateTime<Utc>>,
    /// Waits the source asked for: RSS `ttl`, and `Cache-Control: max-age` / `Expires`.
    pub ttl_secs: Option<u64>,
    pub http_hint_secs: Option<u64>,
    /// A `Retry-After` that outlives a restart.
    pub retry_not_before: Option<DateTime<Utc>>,
    /// Why polling stopped (410 Gone), and for which configured URL: a new URL in the config
    /// enables the source again.
    pub disabled: Option<String>,
    pub disabled_url: Option<String>,
    /// A permanent redirect seen on `moved_streak` polls in a row, and the URL polled instead of
    /// `configured_url` once it was confirmed.
    pub moved_to: Option<String>,
    pub moved_streak: u32,
    pub effective_url: Option<String>,
    pub configured_url: Option<String>,
    /// Something wrong but survivable in the last document (invalid bytes, items over the limit).
    pub warning: Option<String>,
    /// A full-text source's article pages: how many were read, failed, found edited.
    #[serde(skip_serializing_if = "super::article::ArticleHealth::is_unused")]
    pub articles: super::ArticleHealth,
    /// The items of the last document parsed, so the next poll normalizes only what changed.
    /// Under a new name since records carry a GUID hash: older records (`seen`) read as none.
    #[serde(rename = "seen_items", with = "packed", skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<SeenItem>,
}

/// One item of the last document parsed: a digest of the parsed item (and of everything its
/// normalization depends on) with what matching needs from it, so an item that comes back
/// unchanged is neither normalized nor looked up again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenItem {
    pub digest: u64,
    /// The item's stored key (after any alias).
    pub key: crate::domain::EntryKey,
    /// Hash of its article URL, and its exact-text key, for the keys a feed shares.
    pub url: Option<u64>,
    pub text: Option<u128>,
    /// Hash of its GUID as parsed (`normalize::guid_hash`): an item recognised by its bytes alone
    /// must not share it with another item of the same document.
    pub guid: u64,
}

/// `seen` as one base64 string of 57-byte records (flags, digest, key, URL hash, text key, GUID
/// hash): a
/// source state is written with every poll, and as JSON objects the items tripled its size.
/// Anything else reads as no items (they are only a shortcut: the next poll normalizes all).
mod packed {
    use super::SeenItem;
    use crate::domain::EntryKey;
    use base64::{engine::general_purpose::STANDARD_NO_PAD as B64, Engine as _};
    use serde::{Deserialize, Deserializer, Serializer};

    const LEN: usize = 57;

    pub fn serialize<S: Serializer>(items: &[SeenItem], s: S) -> Result<S::Ok, S::Error> {
        let mut raw = Vec::with_capacity(items.len() * LEN);
        for i in items {
            raw.push(u8::from(i.url.is_some()) | (u8::from(i.text.is_some()) << 1));
            raw.extend_from_slice(&i.digest.to_be_bytes());
            raw.extend_from_slice(i.key.as_bytes());
            raw.extend_from_slice(&i.url.unwrap_or(0).to_be_bytes());
            raw.extend_from_slice(&i.text.unwrap_or(0).to_be_bytes());
            raw.extend_from_slice(&i.guid.to_be_bytes());
        }
        s.serialize_str(&B64.encode(raw))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Packed(String),
        Other(serde::de::IgnoredAny),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SeenItem>, D::Error> {
        let Raw::Packed(text) = Raw::deserialize(d)? else { return Ok(Vec::new()) };
        let raw = B64.decode(text).unwrap_or_default();
        Ok(raw.chunks_exact(LEN).filter_map(record).collect())
    }

    fn record(r: &[u8]) -> Option<SeenItem> {
        let flags = *r.first()?;
        let digest = u64::from_be_bytes(r.get(1..9)?.try_into().ok()?);
        let key = EntryKey::from_bytes(r.get(9..25)?.try_into().ok()?);
        let url = u64::from_be_bytes(r.get(25..33)?.try_into().ok()?);
        let text = u128::from_be_bytes(r.get(33..49)?.try_into().ok()?);
        let guid = u64::from_be_bytes(r.get(49..57)?.try_into().ok()?);
        let (url, text) = ((flags & 1 != 0).then_some(url), (flags & 2 != 0).then_some(text));
        Some(SeenItem { digest, key, url, text, guid })
    }
}

/// What only a running poller knows about a source, next to its model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Runtime {
    pub in_flight: bool,
    /// When the poller starts the next poll by itself: `cadence::next_check` of the model as of
    /// its last poll (none for a cron source in good standing, or one polling stopped for).
    pub next_due: Option<DateTime<Utc>>,
}

/// A source as a running poller tracks it: the newest model, with the runtime view next to it.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    /// Newer than the store's after a poll not worth a write; without `seen`, which only a poll
    /// reads (from the store).
    pub state: SourceState,
    pub runtime: Runtime,
}

impl SourceState {
    /// The URL to poll: the configured one, or its confirmed permanent redirect target.
    pub fn poll_url(&self, configured: &FeedUrl) -> FeedUrl {
        let moved = self.effective_url(&configured.to_string()).and_then(|u| url::Url::parse(u).ok());
        moved.map_or_else(|| configured.clone(), FeedUrl::Http)
    }

    /// The validators to send with the next request.
    pub fn validators(&self) -> Validators {
        Validators { etag: self.etag.clone(), last_modified: self.last_modified.clone() }
    }

    /// The confirmed new home if the config still names the old one.
    pub fn effective_url(&self, configured: &str) -> Option<&str> {
        (self.configured_url.as_deref() == Some(configured)).then_some(self.effective_url.as_deref()).flatten()
    }

    /// The longest wait the source asked for, and where it said so.
    pub fn hint(&self) -> Option<(u64, &'static str)> {
        let ttl = self.ttl_secs.map(|t| (t, "RSS ttl"));
        let http = self.http_hint_secs.map(|h| (h, "Cache-Control max-age / Expires"));
        match (ttl, http) {
            (Some(t), Some(h)) => Some(if t.0 > h.0 { t } else { h }),
            (t, h) => t.or(h),
        }
    }

    /// The reason polling is off, unless the config has since been given another URL.
    pub fn disabled_reason(&self, configured: &str) -> Option<&str> {
        (self.disabled_url.as_deref() == Some(configured)).then_some(self.disabled.as_deref()).flatten()
    }
}

#[cfg(test)]
mod seen_tests {
    use super::*;
    use crate::domain::{EntryKey, SourceId};

    #[test]
    fn seen_items_pack_into_one_string_and_anything_else_reads_as_none() {
        let key = |n: &str| EntryKey::derive(&SourceId::parse("s").expect("id"), "guid", n);
        let seen = vec![
            SeenItem { digest: 1, key: key("a"), url: Some(7), text: Some(u128::MAX), guid: 3 },
            SeenItem { digest: u64::MAX, key: key("b"), url: None, text: None, guid: u64::MAX },
        ];
        let state = SourceState { seen: seen.clone(), ..SourceState::default() };
        let json = serde_json::to_value(&state).expect("encode");
        assert!(json["seen_items"].is_string(), "{json}");
        let back: SourceState = serde_json::from_value(json).expect("decode");
        assert_eq!(back.seen, seen);
        for other in [serde_json::json!([{"d": 1}]), serde_json::json!("not base64!"), serde_json::json!(5)] {
            let state: SourceState =
                serde_json::from_value(serde_json::json!({ "seen_items": other })).expect("decode");
            assert!(state.seen.is_empty());
        }
        // Records of the format before GUID hashes (49 bytes) are not read as today's.
        let old = serde_json::json!({ "seen": "A".repeat(66) });
        assert!(serde_json::from_value::<SourceState>(old).expect("decode").seen.is_empty());
        let empty = serde_json::to_value(SourceState::default()).expect("encode");
        assert!(empty.get("seen_items").is_none(), "no items, no field");
    }

    #[test]
    fn records_with_removed_fields_still_load() {
        let old = serde_json::json!({
            "etag": "\"v1\"", "consecutive_failures": 2, "entry_count": 7,
            "polls": 40, "not_modified": 12, "bytes_fetched": 5120, "outcome": "not_modified",
        });
        let state: SourceState = serde_json::from_value(old).expect("decode");
        let want = SourceState {
            etag: Some("\"v1\"".into()),
            consecutive_failures: 2,
            entry_count: 7,
            outcome: Some(FetchOutcome::NotModified),
            ..SourceState::default()
        };
        assert_eq!(state, want);
    }
}
