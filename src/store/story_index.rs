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
use super::space::Batch;
use super::space::Space;
use super::{codec, keys, Store, StoreError};
use crate::domain::{Entry, EntryKey};
use crate::stories::{sketch, IndexWrite, Story, StoryIndex};
use chrono::{DateTime, Utc};

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

    /// A story's stored record: stories of one item have none.
    pub fn story_record(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        self.story_idx.get(story_key(id))?.map(|v| codec::decode("story", &v)).transpose()
    }

    /// Drops the signatures of items published before `before` (they can no longer match) and
    /// any legacy band records; the in-memory index is rebuilt on next use.
    pub fn prune_near_index(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let _serial = self.commit_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inflight.drain();
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
                idx.add(key, t, sketch::bands(&sig).into_iter().enumerate());
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

/// A band bucket membership for the in-memory near-duplicate index.
pub(super) type Band = (u8, u64, EntryKey, DateTime<Utc>);

/// Adds a commit's index records to its batch; returns the band memberships, which go to
/// memory once the batch is applied.
pub(super) fn stage(space: &Space, batch: &mut Batch, writes: &[IndexWrite]) -> Result<Vec<Band>, StoreError> {
    let mut bands = Vec::new();
    for w in writes {
        match w {
            IndexWrite::Url(url, key) => space.put(batch, [b"u".as_slice(), url.as_bytes()].concat(), key.as_bytes()),
            IndexWrite::Text(fp, key) => space.put(batch, [b"t".as_slice(), fp.as_slice()].concat(), key.as_bytes()),
            IndexWrite::Band(b, h, key, t) => bands.push((*b, *h, *key, *t)),
            IndexWrite::Sig(key, t, sig) => {
                let mut v = keys::time_bytes(*t).to_vec();
                v.extend(sig.iter().flat_map(|x| x.to_be_bytes()));
                space.put(batch, [b"g".as_slice(), key.as_bytes()].concat(), v);
            }
            IndexWrite::Alias(from, to) => space.put(batch, [b"a".as_slice(), from.as_bytes()].concat(), to.as_bytes()),
            IndexWrite::Story(st) => space.put(batch, story_key(&st.id), codec::encode(st)?),
            IndexWrite::DropStory(id) => space.del(batch, story_key(id)),
        }
    }
    Ok(bands)
}

impl Store {
    /// Adds band memberships to the in-memory index. Callers hold the commit lock.
    pub(super) fn add_bands(&self, bands: &[Band]) -> Result<(), StoreError> {
        if bands.is_empty() {
            return Ok(());
        }
        self.with_near(|idx| {
            // An item's bands come one after another: its id is looked up once.
            for item in bands.chunk_by(|a, b| a.2 == b.2) {
                let (_, _, key, t) = item[item.len() - 1];
                idx.add(key, t, item.iter().map(|(b, h, ..)| (usize::from(*b), *h)));
            }
        })
    }
}
