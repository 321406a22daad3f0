//! The story indexes, in one sled tree keyed by a one-byte kind:
//!
//! | key                                          | value                              |
//! |----------------------------------------------|------------------------------------|
//! | `u` + story URL (UTF-8)                      | entry key (16): first item with it |
//! | `t` + text fingerprint (16)                  | entry key (16)                     |
//! | `l` + band (1) + band hash (8, BE) + key (16)| published (8, as in `keys`)        |
//! | `a` + former entry key (16)                  | entry key (16) it now is           |
//! | `s` + story id (16)                          | v1: `0x01` + JSON `Story`          |
//!
//! Lookups are point reads or short prefix scans, so their cost does not grow with the store;
//! near-duplicate (`l`) records older than the matching window are pruned.

use super::{codec, keys, Store, StoreError};
use crate::domain::{Entry, EntryKey};
use crate::stories::{sketch, IndexWrite, Story, StoryIndex};
use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

fn key_of(bytes: &[u8]) -> Option<EntryKey> {
    Some(EntryKey::from_bytes(bytes.try_into().ok()?))
}

fn time_of(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let raw = u64::from_be_bytes(bytes.try_into().ok()?) ^ (1 << 63);
    DateTime::from_timestamp_micros(raw as i64)
}

fn band_prefix(band: u8, hash: u64) -> Vec<u8> {
    let mut k = vec![b'l', band];
    k.extend_from_slice(&hash.to_be_bytes());
    k
}

fn story_key(id: &EntryKey) -> Vec<u8> {
    [b"s".as_slice(), id.as_bytes()].concat()
}

impl Store {
    /// The entry a former key of an item now lives under (after its source changed identities).
    pub fn alias(&self, key: &EntryKey) -> Result<Option<EntryKey>, StoreError> {
        Ok(self.story_idx.get([b"a".as_slice(), key.as_bytes()].concat())?.and_then(|v| key_of(&v)))
    }

    pub fn story(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        self.story_idx.get(story_key(id))?.map(|v| codec::decode("story", &v)).transpose()
    }

    /// Drops near-duplicate records of items published before `before`; they can no longer match.
    pub fn prune_near_index(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut old = Vec::new();
        for item in self.story_idx.scan_prefix(b"l") {
            let (k, v) = item?;
            if time_of(&v).is_some_and(|t| t < before) {
                old.push(k);
            }
        }
        for k in &old {
            self.story_idx.remove(k)?;
        }
        Ok(old.len())
    }

    fn log_err<T>(&self, r: Result<Option<T>, StoreError>) -> Option<T> {
        r.unwrap_or_else(|e| {
            tracing::error!(error = %e, "story index read failed");
            None
        })
    }
}

impl StoryIndex for Store {
    fn by_url(&self, url: &str) -> Option<EntryKey> {
        let r = self.story_idx.get([b"u".as_slice(), url.as_bytes()].concat()).map_err(StoreError::from);
        self.log_err(r.map(|v| v.and_then(|v| key_of(&v))))
    }

    fn by_text(&self, fp: &[u8; 16]) -> Option<EntryKey> {
        let r = self.story_idx.get([b"t".as_slice(), fp.as_slice()].concat()).map_err(StoreError::from);
        self.log_err(r.map(|v| v.and_then(|v| key_of(&v))))
    }

    fn near(&self, bands: &[u64; sketch::BANDS]) -> Vec<crate::stories::BandHit> {
        let mut out = Vec::new();
        for (b, h) in bands.iter().enumerate() {
            for (k, v) in self.story_idx.scan_prefix(band_prefix(b as u8, *h)).flatten() {
                if let (Some(key), Some(t)) = (keys::entry_key_suffix(&k), time_of(&v)) {
                    out.push((key, t));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn entry(&self, key: &EntryKey) -> Option<Entry> {
        self.log_err(Store::entry(self, key))
    }

    fn story(&self, id: &EntryKey) -> Option<Story> {
        self.log_err(Store::story(self, id))
    }
}

/// Encodes index writes before a transaction (encoding can fail; the transaction cannot retry it).
/// Encoded (key, value) pairs.
pub(super) type Encoded = Vec<(Vec<u8>, Vec<u8>)>;

pub(super) fn encode(writes: &[IndexWrite]) -> Result<Encoded, StoreError> {
    writes
        .iter()
        .map(|w| {
            Ok(match w {
                IndexWrite::Url(url, key) => ([b"u".as_slice(), url.as_bytes()].concat(), key.as_bytes().to_vec()),
                IndexWrite::Text(fp, key) => ([b"t".as_slice(), fp.as_slice()].concat(), key.as_bytes().to_vec()),
                IndexWrite::Band(b, h, key, t) => {
                    ([band_prefix(*b, *h).as_slice(), key.as_bytes()].concat(), keys::time_bytes(*t).to_vec())
                }
                IndexWrite::Alias(from, to) => ([b"a".as_slice(), from.as_bytes()].concat(), to.as_bytes().to_vec()),
                IndexWrite::Story(st) => (story_key(&st.id), codec::encode(st)?),
                // An empty value marks a removal.
                IndexWrite::DropStory(id) => (story_key(id), Vec::new()),
            })
        })
        .collect()
}

pub(super) fn apply(
    tree: &TransactionalTree,
    encoded: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), ConflictableTransactionError<StoreError>> {
    for (k, v) in encoded {
        if v.is_empty() {
            tree.remove(k.as_slice())?;
        } else {
            tree.insert(k.as_slice(), v.as_slice())?;
        }
    }
    Ok(())
}
