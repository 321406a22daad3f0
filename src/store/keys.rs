//! Every sled key layout in one place. Times are big-endian so byte order is time order.
//!
//! | tree        | key                                              | value                          |
//! |-------------|--------------------------------------------------|--------------------------------|
//! | `entries`   | entry key (16 bytes, UUID)                       | v1: `0x01` + JSON `Entry`      |
//! | `timeline`  | published (8, µs, sign-flipped BE) + entry key   | source id (UTF-8)              |
//! | `by_source` | source id + `0x00` + published (8) + entry key   | empty                          |
//! | `changes`   | sequence (8, BE, from `generate_id`)             | entry key (16)                 |
//! | `sources`   | source id (UTF-8)                                | v1: `0x01` + JSON `SourceState`|
//! | `meta`      | `b"schema"`                                      | schema version (u32 BE)        |
//!
//! Source ids are slugs (no `0x00`), so the `by_source` separator cannot occur inside one.

use crate::domain::{EntryKey, SourceId};
use chrono::{DateTime, Utc};

pub const SCHEMA_VERSION: u32 = 1;
pub const TIME_LEN: usize = 8;
pub const KEY_LEN: usize = 16;

/// Microseconds since the epoch with the sign bit flipped, so that big-endian bytes sort
/// pre-1970 dates before later ones.
pub fn time_bytes(t: DateTime<Utc>) -> [u8; TIME_LEN] {
    ((t.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn timeline_key(published: DateTime<Utc>, key: &EntryKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(TIME_LEN + KEY_LEN);
    k.extend_from_slice(&time_bytes(published));
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn source_prefix(source: &SourceId) -> Vec<u8> {
    let mut k = Vec::with_capacity(source.as_str().len() + 1);
    k.extend_from_slice(source.as_str().as_bytes());
    k.push(0);
    k
}

pub fn by_source_key(source: &SourceId, published: DateTime<Utc>, key: &EntryKey) -> Vec<u8> {
    let mut k = source_prefix(source);
    k.extend_from_slice(&timeline_key(published, key));
    k
}

/// The entry key is always the last 16 bytes of a `timeline` or `by_source` key.
pub fn entry_key_suffix(k: &[u8]) -> Option<EntryKey> {
    let tail: [u8; KEY_LEN] = k.get(k.len().checked_sub(KEY_LEN)?..)?.try_into().ok()?;
    Some(EntryKey::from_bytes(tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bytes_sort_like_times() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc);
        let ts = ["1901-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-11-28T00:00:00Z"];
        let bytes: Vec<_> = ts.iter().map(|s| time_bytes(t(s))).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn suffix_round_trips() {
        let s = SourceId::parse("a").expect("slug");
        let k = EntryKey::derive(&s, "guid", "x");
        let now = Utc::now();
        assert_eq!(entry_key_suffix(&by_source_key(&s, now, &k)), Some(k));
        assert_eq!(entry_key_suffix(&timeline_key(now, &k)), Some(k));
        assert_eq!(entry_key_suffix(b"short"), None);
    }
}
