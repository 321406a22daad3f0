//! The story indexes, in one sled tree keyed by a one-byte kind:
//!
//! | key                                          | value                              |
//! |----------------------------------------------|------------------------------------|
//! | `u` + story URL (UTF-8)                      | entry key (16): first item with it |
//! | `t` + text fingerprint (16)                  | entry key (16)                     |
//! | `g` + entry key (16)                         | published (8) + MinHash signature (48 × u32 BE) |
//! | `a` + former entry key (16)                  | entry key (16) it now is           |
//! | `s` + story id (16), stories of 2+ items     | `codec`: JSON `Story`              |
//!
//! Every lookup is a point read, so its cost does not grow with the store. The near-duplicate
//! band buckets live in memory (`near.rs`), rebuilt from the `g` signatures, which are pruned
//! once older than the matching window. (Stores written before that kept buckets as `l`
//! records; the first prune removes them.)

use super::near::NearIndex;
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

fn story_key(id: &EntryKey) -> Vec<u8> {
    [b"s".as_slice(), id.as_bytes()].concat()
}

impl Store {
    /// The entry a former key of an item now lives under (after its source changed identities).
    pub fn alias(&self, key: &EntryKey) -> Result<Option<EntryKey>, StoreError> {
        Ok(self.story_idx.get([b"a".as_slice(), key.as_bytes()].concat())?.and_then(|v| key_of(&v)))
    }

    /// A story by id; a story of one item has no record and is made up from its entry.
    pub fn story(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        if let Some(st) = self.story_record(id)? {
            return Ok(Some(st));
        }
        Ok(self.entry(id)?.filter(|e| e.story.unwrap_or(e.key) == *id).map(|e| crate::stories::singleton(&e)))
    }

    fn story_record(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        self.story_idx.get(story_key(id))?.map(|v| codec::decode("story", &v)).transpose()
    }

    /// Drops the signatures of items published before `before` (they can no longer match) and
    /// any legacy band records; the in-memory index is rebuilt on next use.
    pub fn prune_near_index(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let _serial = self.commit_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for item in self.story_idx.scan_prefix(b"l") {
            self.story_idx.remove(item?.0)?;
        }
        let mut dropped = 0;
        for item in self.story_idx.scan_prefix(b"g") {
            let (k, v) = item?;
            if v.get(..8).and_then(time_of).is_some_and(|t| t < before) {
                self.story_idx.remove(k)?;
                dropped += 1;
            }
        }
        *self.near.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(dropped)
    }

    /// How far back near-duplicates can match (`stories.window`): older signatures stay out of memory.
    pub fn set_near_window(&self, window: std::time::Duration) {
        self.near_window_secs.store(window.as_secs(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `f` on the in-memory band index, loading it from the stored signatures first if needed.
    fn with_near<T>(&self, f: impl FnOnce(&mut NearIndex) -> T) -> Result<T, StoreError> {
        let mut guard = self.near.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            let mut idx = NearIndex::default();
            let window = self.near_window_secs.load(std::sync::atomic::Ordering::Relaxed);
            let since = Utc::now() - chrono::Duration::seconds(i64::try_from(window).unwrap_or(i64::MAX / 2_000_000));
            for item in self.story_idx.scan_prefix(b"g") {
                let (k, v) = item?;
                let (Some(key), Some(t), Some(sig)) = (key_of(&k[1..]), v.get(..8).and_then(time_of), decode_sig(&v))
                else {
                    continue;
                };
                if t < since {
                    continue;
                }
                for (band, hash) in sketch::bands(&sig).iter().enumerate() {
                    idx.add(key, t, band, *hash);
                }
            }
            tracing::debug!(items = idx.len(), "near-duplicate index loaded");
            *guard = Some(idx);
        }
        Ok(f(guard.as_mut().expect("loaded above")))
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
        self.with_near(|idx| idx.near(bands)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "near-duplicate index unavailable");
            Vec::new()
        })
    }

    fn entry(&self, key: &EntryKey) -> Option<Entry> {
        self.log_err(Store::entry(self, key))
    }

    fn story(&self, id: &EntryKey) -> Option<Story> {
        self.log_err(self.story_record(id))
    }

    fn signature(&self, key: &EntryKey) -> Option<[u32; sketch::HASHES]> {
        let v =
            self.log_err(self.story_idx.get([b"g".as_slice(), key.as_bytes()].concat()).map_err(StoreError::from))?;
        decode_sig(&v)
    }
}

/// The signature of a `g` record: published (8) + 48 × u32 BE.
fn decode_sig(v: &[u8]) -> Option<[u32; sketch::HASHES]> {
    let body = v.get(8..).filter(|b| b.len() == 4 * sketch::HASHES)?;
    let mut sig = [0u32; sketch::HASHES];
    for (slot, chunk) in sig.iter_mut().zip(body.chunks_exact(4)) {
        *slot = u32::from_be_bytes(chunk.try_into().ok()?);
    }
    Some(sig)
}

/// One index operation, encoded before the transaction (encoding can fail; a transaction
/// closure may be retried and must not).
pub(super) enum Op {
    Put(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
    /// Add an item to a band bucket of the in-memory index.
    Band(u8, u64, EntryKey, DateTime<Utc>),
}

impl Op {
    /// Identity records (URL, text, alias, story) commit with the entries; sketches after.
    pub(super) fn is_exact(&self) -> bool {
        match self {
            Op::Band(..) => false,
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
                IndexWrite::Band(b, h, key, t) => Op::Band(*b, *h, *key, *t),
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
            // Sketches are applied after the transaction (`apply_sketches`).
            Op::Band(..) => {}
        }
    }
    Ok(())
}

impl Store {
    /// Stores signatures in one batch, then adds the band records to the in-memory index.
    /// Callers hold the commit lock.
    pub(super) fn apply_sketches(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                Op::Put(k, v) => batch.insert(k.as_slice(), v.as_slice()),
                Op::Del(k) => batch.remove(k.as_slice()),
                Op::Band(..) => {}
            }
        }
        self.story_idx.apply_batch(batch)?;
        self.with_near(|idx| {
            for op in ops {
                if let Op::Band(b, h, key, t) = op {
                    idx.add(*key, *t, usize::from(*b), *h);
                }
            }
        })
    }
}
