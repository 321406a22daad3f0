//! Every sled key layout in one place. Times are big-endian so byte order is time order.
//!
//! Since schema 2 every record lives in the one tree `data`, its key starting with its kind's
//! tag byte (`space.rs`). A commit is all-or-nothing through the small tree `intent`
//! (`intent.rs`):
//!
//! | tag | kind       | key after the tag                                     | value                        |
//! |-----|------------|-------------------------------------------------------|------------------------------|
//! | `e` | entries    | entry key (16 bytes, UUID)                            | `codec`: binary `Entry` (LZ4)|
//! | `c` | channels   | channel + `0x00` + published (8, µs, sign-flipped) + entry key (16) | empty          |
//! | `n` | counts     | channel, or `#entries`                                | item count (u64 BE)          |
//! | `l` | changes    | sequence (8, BE; the last one given is `n#seq`)       | entry key (16)               |
//! | `s` | sources    | source id (UTF-8)                                     | `codec`: JSON `SourceState`  |
//! | `m` | meta       | `schema` / `topics`                                   | u32 BE / rules fingerprint   |
//! | `x` | story index| see `story_index.rs`                                  |                              |
//! | `w` | subscriptions | WebSub subscription id (UTF-8)                     | `codec`: JSON record (`websub`) |
//!
//! A channel is `a` (all), `s:<source id>` or `t:<topic id>`; ids are slugs, so `0x00` cannot
//! occur inside one. Each entry has exactly one record in `changes`, at its latest version.
//! Schema 1 kept each kind in a tree of its own; `migrate.rs` moves such stores over.

use crate::domain::{ChannelId, EntryKey};
use chrono::{DateTime, Utc};

pub const SCHEMA_VERSION: u32 = 2;
pub const DATA_TREE: &str = "data";
pub const INTENT_TREE: &str = "intent";
pub const ENTRIES: u8 = b'e';
pub const CHANNELS: u8 = b'c';
pub const COUNTS: u8 = b'n';
pub const CHANGES: u8 = b'l';
pub const SOURCES: u8 = b's';
pub const META: u8 = b'm';
pub const STORY_INDEX: u8 = b'x';
pub const SUBSCRIPTIONS: u8 = b'w';
pub const TIME_LEN: usize = 8;
pub const KEY_LEN: usize = 16;
/// A position in a channel's timeline: published time + entry key.
pub const POS_LEN: usize = TIME_LEN + KEY_LEN;

/// Microseconds since the epoch with the sign bit flipped, so that big-endian bytes sort
/// pre-1970 dates before later ones.
pub fn time_bytes(t: DateTime<Utc>) -> [u8; TIME_LEN] {
    ((t.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn position(published: DateTime<Utc>, key: &EntryKey) -> [u8; POS_LEN] {
    let mut p = [0u8; POS_LEN];
    p[..TIME_LEN].copy_from_slice(&time_bytes(published));
    p[TIME_LEN..].copy_from_slice(key.as_bytes());
    p
}

pub fn channel_name(ch: &ChannelId) -> Vec<u8> {
    match ch {
        ChannelId::All => b"a".to_vec(),
        ChannelId::Source(s) => [b"s:", s.as_str().as_bytes()].concat(),
        ChannelId::Topic(t) => [b"t:", t.as_str().as_bytes()].concat(),
    }
}

pub fn channel_prefix(ch: &ChannelId) -> Vec<u8> {
    let mut k = channel_name(ch);
    k.push(0);
    k
}

pub fn channel_key(ch: &ChannelId, published: DateTime<Utc>, key: &EntryKey) -> Vec<u8> {
    let mut k = channel_prefix(ch);
    k.extend_from_slice(&position(published, key));
    k
}

/// The entry key is always the last 16 bytes of a `channels` key.
pub fn entry_key_suffix(k: &[u8]) -> Option<EntryKey> {
    let tail: [u8; KEY_LEN] = k.get(k.len().checked_sub(KEY_LEN)?..)?.try_into().ok()?;
    Some(EntryKey::from_bytes(tail))
}

/// The timeline position at the end of a `channels` key.
pub fn position_suffix(k: &[u8]) -> Option<[u8; POS_LEN]> {
    k.get(k.len().checked_sub(POS_LEN)?..)?.try_into().ok()
}

/// The `counts` key of the number of stored entries (channel names never start with `#`).
pub const ENTRY_COUNT: &[u8] = b"#entries";
/// The `counts` key of the last change-log sequence number given out. Kept with the data (not
/// sled's id generator) so that it survives `compact`, which copies records only.
pub const LAST_SEQ: &[u8] = b"#seq";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SourceId;

    #[test]
    fn time_bytes_sort_like_times() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc);
        let ts = ["1901-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-11-28T00:00:00Z"];
        let bytes: Vec<_> = ts.iter().map(|s| time_bytes(t(s))).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn suffixes_round_trip() {
        let s = SourceId::parse("a").expect("slug");
        let k = EntryKey::derive(&s, "guid", "x");
        let now = Utc::now();
        let ck = channel_key(&ChannelId::Source(s), now, &k);
        assert_eq!(entry_key_suffix(&ck), Some(k));
        assert_eq!(position_suffix(&ck), Some(position(now, &k)));
        assert_eq!(entry_key_suffix(b"short"), None);
        assert_ne!(channel_prefix(&ChannelId::All), channel_name(&ChannelId::All));
    }
}
