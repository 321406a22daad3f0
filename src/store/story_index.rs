//! The story indexes, in one sled tree keyed by a one-byte kind:
//!
//! | key                                          | value                              |
//! |----------------------------------------------|------------------------------------|
//! | `u` + story URL (UTF-8)                      | entry key (16): first item with it |
//! | `t` + text fingerprint (16)                  | entry key (16)                     |
//! | `l` + band (1) + band hash (8, BE)           | records: entry key (16) + published (8) |
//! | `g` + entry key (16)                         | published (8) + MinHash signature (48 × u32 BE) |
//! | `a` + former entry key (16)                  | entry key (16) it now is           |
//! | `s` + story id (16)                          | v1: `0x01` + JSON `Story`          |
//!
//! Every lookup is a point read, so its cost does not grow with the store; near-duplicate (`l`)
//! records older than the matching window are pruned.

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

const RECORD: usize = 24;
/// A band bucket this full holds a phrase common to many items (boilerplate, a template): it no
/// longer tells items apart, so it takes no more records and lookups skip it.
const BUCKET_CAP: usize = 48;

fn band_key(band: u8, hash: u64) -> Vec<u8> {
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
        // Buckets are rewritten read-modify-write: no commit may append meanwhile.
        let _serial = self.commit_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut dropped = 0;
        for item in self.story_idx.scan_prefix(b"l") {
            let (k, v) = item?;
            let kept: Vec<u8> = records(&v)
                .filter(|(_, t)| *t >= before)
                .flat_map(|(key, t)| [key.as_bytes().as_slice(), &keys::time_bytes(t)].concat())
                .collect();
            dropped += (v.len() - kept.len()) / RECORD;
            if kept.is_empty() {
                self.story_idx.remove(k)?;
            } else if kept.len() != v.len() {
                self.story_idx.insert(k, kept)?;
            }
        }
        for item in self.story_idx.scan_prefix(b"g") {
            let (k, v) = item?;
            if v.get(..8).and_then(time_of).is_some_and(|t| t < before) {
                self.story_idx.remove(k)?;
            }
        }
        Ok(dropped)
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
            if let Ok(Some(v)) = self.story_idx.get(band_key(b as u8, *h)) {
                if v.len() < BUCKET_CAP * RECORD {
                    out.extend(records(&v));
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

    fn signature(&self, key: &EntryKey) -> Option<[u32; sketch::HASHES]> {
        let v =
            self.log_err(self.story_idx.get([b"g".as_slice(), key.as_bytes()].concat()).map_err(StoreError::from))?;
        let body = v.get(8..).filter(|b| b.len() == 4 * sketch::HASHES)?;
        let mut sig = [0u32; sketch::HASHES];
        for (slot, chunk) in sig.iter_mut().zip(body.chunks_exact(4)) {
            *slot = u32::from_be_bytes(chunk.try_into().ok()?);
        }
        Some(sig)
    }
}

/// The (entry, published) records of one band bucket.
fn records(v: &[u8]) -> impl Iterator<Item = (EntryKey, DateTime<Utc>)> + '_ {
    v.chunks_exact(RECORD).filter_map(|r| Some((key_of(&r[..16])?, time_of(&r[16..])?)))
}

/// One index operation, encoded before the transaction (encoding can fail; a transaction
/// closure may be retried and must not).
pub(super) enum Op {
    Put(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
    /// Add a record to a band bucket unless it is there already.
    Append(Vec<u8>, [u8; RECORD]),
}

impl Op {
    /// Identity records (URL, text, alias, story) commit with the entries; sketches after.
    pub(super) fn is_exact(&self) -> bool {
        match self {
            Op::Append(..) => false,
            Op::Put(k, _) | Op::Del(k) => k.first() != Some(&b'g'),
        }
    }
}

pub(super) fn encode(writes: &[IndexWrite]) -> Result<Vec<Op>, StoreError> {
    writes
        .iter()
        .map(|w| {
            Ok(match w {
                IndexWrite::Url(url, key) => {
                    Op::Put([b"u".as_slice(), url.as_bytes()].concat(), key.as_bytes().to_vec())
                }
                IndexWrite::Text(fp, key) => {
                    Op::Put([b"t".as_slice(), fp.as_slice()].concat(), key.as_bytes().to_vec())
                }
                IndexWrite::Band(b, h, key, t) => {
                    let mut rec = [0u8; RECORD];
                    rec[..16].copy_from_slice(key.as_bytes());
                    rec[16..].copy_from_slice(&keys::time_bytes(*t));
                    Op::Append(band_key(*b, *h), rec)
                }
                IndexWrite::Sig(key, t, sig) => {
                    let mut v = keys::time_bytes(*t).to_vec();
                    v.extend(sig.iter().flat_map(|x| x.to_be_bytes()));
                    Op::Put([b"g".as_slice(), key.as_bytes()].concat(), v)
                }
                IndexWrite::Alias(from, to) => {
                    Op::Put([b"a".as_slice(), from.as_bytes()].concat(), to.as_bytes().to_vec())
                }
                IndexWrite::Story(st) => Op::Put(story_key(&st.id), codec::encode(st)?),
                IndexWrite::DropStory(id) => Op::Del(story_key(id)),
            })
        })
        .collect()
}

pub(super) fn apply(tree: &TransactionalTree, ops: &[Op]) -> Result<(), ConflictableTransactionError<StoreError>> {
    for op in ops {
        match op {
            Op::Put(k, v) => drop(tree.insert(k.as_slice(), v.as_slice())?),
            Op::Del(k) => drop(tree.remove(k.as_slice())?),
            Op::Append(k, rec) => {
                let mut v = tree.get(k)?.map(|v| v.to_vec()).unwrap_or_default();
                if v.len() < BUCKET_CAP * RECORD && !v.chunks_exact(RECORD).any(|r| r[..16] == rec[..16]) {
                    v.extend_from_slice(rec);
                    tree.insert(k.as_slice(), v)?;
                }
            }
        }
    }
    Ok(())
}

/// Appends band records and stores signatures in one batch. Callers hold the commit lock, so
/// nothing else writes these keys meanwhile.
pub(super) fn apply_sketches(tree: &sled::Tree, ops: &[Op]) -> Result<(), StoreError> {
    let mut buckets: std::collections::HashMap<&[u8], Vec<u8>> = std::collections::HashMap::new();
    let mut batch = sled::Batch::default();
    for op in ops {
        match op {
            Op::Append(k, rec) => {
                let v = match buckets.entry(k.as_slice()) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(tree.get(k)?.map(|v| v.to_vec()).unwrap_or_default())
                    }
                };
                if v.len() < BUCKET_CAP * RECORD && !v.chunks_exact(RECORD).any(|r| r[..16] == rec[..16]) {
                    v.extend_from_slice(rec);
                }
            }
            Op::Put(k, v) => batch.insert(k.as_slice(), v.as_slice()),
            Op::Del(k) => batch.remove(k.as_slice()),
        }
    }
    for (k, v) in buckets {
        batch.insert(k, v);
    }
    tree.apply_batch(batch)?;
    Ok(())
}
