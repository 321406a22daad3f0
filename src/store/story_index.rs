//! The story and identity records, in one sled tree keyed by a one-byte kind:
//!
//! | key                                          | value                              |
//! |----------------------------------------------|------------------------------------|
//! | `u` + story URL (UTF-8)                      | entry key (16): first item with it |
//! | `t` + text fingerprint (16)                  | entry key (16)                     |
//! | `g` + entry key (16)                         | published (8) + MinHash signature (48 × u32 BE) |
//! | `a` + former entry key (16)                  | entry key (16) it now is           |
//! | `s` + story id (16), stories of 2+ items     | `codec`: JSON `Story`              |
//! | `v` + event id (16), events of 2+ reports    | `codec`: JSON `EventRecord`        |
//!
//! Every lookup is a point read, so its cost does not grow with the store. What the records
//! mean is decided elsewhere (`stories`); the near-duplicate band buckets built from the `g`
//! signatures live in memory there. (Stores written before that kept buckets as `l` records;
//! the first signature prune removes them.)

use super::space::{Batch, Space};
use super::{codec, keys, Store, StoreError};
use crate::domain::{EntryKey, EventRecord, IndexWrite, Signature, Story, SIGNATURE_LEN};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

pub(super) fn key_of(bytes: &[u8]) -> Option<EntryKey> {
    Some(EntryKey::from_bytes(bytes.try_into().ok()?))
}

fn time_of(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let raw = u64::from_be_bytes(bytes.try_into().ok()?) ^ (1 << 63);
    DateTime::from_timestamp_micros(raw as i64)
}

pub(super) fn story_key(id: &EntryKey) -> Vec<u8> {
    [b"s".as_slice(), id.as_bytes()].concat()
}

fn event_key(id: &EntryKey) -> Vec<u8> {
    [b"v".as_slice(), id.as_bytes()].concat()
}

pub(super) fn record_key(kind: &[u8], rest: &[u8]) -> Vec<u8> {
    [kind, rest].concat()
}

impl Store {
    /// The entry a former key of an item now lives under (after its source changed identities).
    pub fn alias(&self, key: &EntryKey) -> Result<Option<EntryKey>, StoreError> {
        Ok(self.story_idx.get(record_key(b"a", key.as_bytes()))?.and_then(|v| key_of(&v)))
    }

    /// `alias` of each of `keys`, in one query on a remote store; only keys with an alias.
    pub fn aliases<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a EntryKey>,
    ) -> Result<std::collections::HashMap<EntryKey, EntryKey>, StoreError> {
        let keys: Vec<EntryKey> = keys.into_iter().copied().collect();
        let records: Vec<Vec<u8>> = keys.iter().map(|k| record_key(b"a", k.as_bytes())).collect();
        let found = self.story_idx.get_many(&records)?;
        Ok(keys.into_iter().zip(found).filter_map(|(k, v)| Some((k, key_of(&v?)?))).collect())
    }

    /// The first stored item with this article URL.
    pub fn url_owner(&self, url: &str) -> Result<Option<EntryKey>, StoreError> {
        Ok(self.story_idx.get(record_key(b"u", url.as_bytes()))?.and_then(|v| key_of(&v)))
    }

    /// The first stored item with this text fingerprint.
    pub fn text_owner(&self, fp: &[u8; 16]) -> Result<Option<EntryKey>, StoreError> {
        Ok(self.story_idx.get(record_key(b"t", fp))?.and_then(|v| key_of(&v)))
    }

    /// An item's stored MinHash signature.
    pub fn signature(&self, key: &EntryKey) -> Result<Option<Signature>, StoreError> {
        Ok(self.story_idx.get(record_key(b"g", key.as_bytes()))?.and_then(|v| decode_sig(&v)))
    }

    /// Every stored signature of an item published at `since` or later, with its time.
    pub fn signatures_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(EntryKey, DateTime<Utc>, Signature)>, StoreError> {
        let mut out = Vec::new();
        for item in self.story_idx.scan_prefix(b"g") {
            let (k, v) = item?;
            let (Some(key), Some(t), Some(sig)) = (key_of(&k[1..]), v.get(..8).and_then(time_of), decode_sig(&v))
            else {
                continue;
            };
            if t >= since {
                out.push((key, t, sig));
            }
        }
        Ok(out)
    }

    /// The identity records that point at one of `keys`, as the writes that made them: article
    /// URLs (`Url`), text fingerprints (`Text`) and former keys (`Alias`). One pass over them.
    pub fn index_refs(&self, keys: &HashSet<EntryKey>) -> Result<Vec<IndexWrite>, StoreError> {
        let mut out = Vec::new();
        for kind in [b"u", b"t", b"a"] {
            for item in self.story_idx.scan_prefix(kind) {
                let (k, v) = item?;
                let Some(to) = key_of(&v).filter(|to| keys.contains(to)) else { continue };
                let rest = &k[1..];
                out.extend(match kind {
                    b"u" => Some(IndexWrite::Url(String::from_utf8_lossy(rest).into_owned(), to)),
                    b"t" => rest.try_into().ok().map(|fp| IndexWrite::Text(fp, to)),
                    _ => key_of(rest).map(|from| IndexWrite::Alias(from, to)),
                });
            }
        }
        Ok(out)
    }

    /// A story by id; a story of one item has no record and is made up from its entry.
    pub fn story(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        if let Some(st) = self.story_record(id)? {
            return Ok(Some(st));
        }
        Ok(self.entry(id)?.filter(|e| e.story.unwrap_or(e.key) == *id).map(|e| Story::single(&e)))
    }

    /// A story's stored record: stories of one item have none.
    pub fn story_record(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        self.story_idx.get(story_key(id))?.map(|v| codec::decode("story", &v)).transpose()
    }

    /// An event's stored record: events of one report have none.
    pub fn event_record(&self, id: &EntryKey) -> Result<Option<EventRecord>, StoreError> {
        self.story_idx.get(event_key(id))?.map(|v| codec::decode("event", &v)).transpose()
    }

    /// Every stored event (of 2+ reports), until `f` breaks.
    pub fn for_each_event(
        &self,
        mut f: impl FnMut(EventRecord) -> Result<std::ops::ControlFlow<()>, StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.story_idx.scan_prefix(b"v") {
            if f(codec::decode("event", &item?.1)?)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// An event by id, or the event of an entry or story with this key; an event of one
    /// report has no record and is made up from its entry.
    pub fn event_of(&self, id: &EntryKey) -> Result<Option<EventRecord>, StoreError> {
        if let Some(ev) = self.event_record(id)? {
            return Ok(Some(ev));
        }
        let entry = match self.entry(id)? {
            Some(e) => Some(e),
            None => self.story_record(id)?.map(|st| st.primary).map(|k| self.entry(&k)).transpose()?.flatten(),
        };
        let Some(e) = entry else { return Ok(None) };
        let primary = match e.story.filter(|_| e.secondary) {
            Some(story) => self.story_record(&story)?.and_then(|st| self.entry(&st.primary).ok().flatten()),
            None => None,
        };
        let e = primary.unwrap_or(e);
        match &e.event {
            Some(place) => self.event_record(&place.id),
            None => Ok(Some(EventRecord::single(&e))),
        }
    }

    /// Drops the signatures of items published before `before` and any legacy band records.
    /// `then` runs before any commit decides again (e.g. to forget what memory derived from
    /// them); returns how many signatures were dropped.
    pub fn drop_signatures_before(&self, before: DateTime<Utc>, then: impl FnOnce()) -> Result<usize, StoreError> {
        let _serial = self.serialize()?;
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
        then();
        Ok(dropped)
    }
}

/// The signature of a `g` record: published (8) + 48 × u32 BE.
pub(super) fn decode_sig(v: &[u8]) -> Option<Signature> {
    let body = v.get(8..).filter(|b| b.len() == 4 * SIGNATURE_LEN)?;
    let mut sig = [0u32; SIGNATURE_LEN];
    for (slot, chunk) in sig.iter_mut().zip(body.chunks_exact(4)) {
        *slot = u32::from_be_bytes(chunk.try_into().ok()?);
    }
    Some(sig)
}

/// Adds the deletion of an entry's own records (its signature) to a batch.
pub(super) fn unstage(space: &Space, batch: &mut Batch, key: &EntryKey) {
    space.del(batch, record_key(b"g", key.as_bytes()));
}

/// Adds a commit's index records to its batch.
pub(super) fn stage(space: &Space, batch: &mut Batch, writes: &[IndexWrite]) -> Result<(), StoreError> {
    for w in writes {
        match w {
            IndexWrite::Url(url, key) => space.put(batch, record_key(b"u", url.as_bytes()), key.as_bytes()),
            IndexWrite::Text(fp, key) => space.put(batch, record_key(b"t", fp), key.as_bytes()),
            IndexWrite::Sig(key, t, sig) => {
                let mut v = keys::time_bytes(*t).to_vec();
                v.extend(sig.iter().flat_map(|x| x.to_be_bytes()));
                space.put(batch, record_key(b"g", key.as_bytes()), v);
            }
            IndexWrite::Alias(from, to) => space.put(batch, record_key(b"a", from.as_bytes()), to.as_bytes()),
            IndexWrite::Story(st) => space.put(batch, story_key(&st.id), codec::encode(st)?),
            IndexWrite::DropStory(id) => space.del(batch, story_key(id)),
            IndexWrite::Event(ev) => space.put(batch, event_key(&ev.id), codec::encode(ev)?),
            IndexWrite::DropEvent(id) => space.del(batch, event_key(id)),
            IndexWrite::DropUrl(url) => space.del(batch, record_key(b"u", url.as_bytes())),
            IndexWrite::DropText(fp) => space.del(batch, record_key(b"t", fp)),
            IndexWrite::DropAlias(from) => space.del(batch, record_key(b"a", from.as_bytes())),
        }
    }
    Ok(())
}
