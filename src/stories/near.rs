//! The near-duplicate band index, in memory. Its buckets are read and extended for every new
//! item; kept in sled they cost a read-modify-write of a random page per band (a third of
//! ingest CPU). Only the MinHash signatures are stored; the index is rebuilt from them on first
//! use after a start, extended as commits decide, and forgotten when old signatures are pruned.

use super::sketch::{self, Prehashed};
use super::BandHit;
use crate::domain::EntryKey;
use crate::store::{StoreError, View};
use chrono::{DateTime, Utc};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The band index of one store, shared by every commit.
#[derive(Debug)]
pub struct SharedNear {
    index: Mutex<Option<NearIndex>>,
    /// Signatures older than this are not loaded: they can no longer match a new item.
    window: Duration,
}

impl SharedNear {
    pub fn new(window: Duration) -> Self {
        Self { index: Mutex::new(None), window }
    }

    /// Runs `f` on the index, loading it from the stored signatures first if needed. Called
    /// while deciding a commit, so no other commit changes the index meanwhile.
    pub(super) fn with<T>(
        &self,
        view: &View<'_>,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut NearIndex) -> T,
    ) -> Result<T, StoreError> {
        let mut guard = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            let since = self.since(now);
            let mut idx = NearIndex::default();
            for (key, t, sig) in view.signatures_since(since)? {
                idx.add(key, t, sketch::bands(&sig).into_iter().enumerate());
            }
            tracing::debug!(items = idx.len(), "near-duplicate index loaded");
            *guard = Some(idx);
        }
        Ok(f(guard.get_or_insert_with(NearIndex::default)))
    }

    /// Signatures of items published before this are not loaded.
    fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        now.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// How far back near-duplicates can match (`stories.window`).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Takes in items other instances committed (`View::foreign_entries`): their stored
    /// signatures, read in one go, join the index if it is loaded (else its load reads them).
    pub fn take_in(
        &self,
        view: &View<'_>,
        entries: &[crate::domain::Entry],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut guard = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(idx) = guard.as_mut() else { return Ok(()) };
        let since = self.since(now);
        let recent: Vec<&crate::domain::Entry> = entries.iter().filter(|e| e.published >= since).collect();
        view.read_ahead(recent.iter().map(|e| crate::store::Ahead::Signature(&e.key)))?;
        for e in recent {
            if let Some(sig) = view.signature(&e.key)? {
                idx.add(e.key, e.published, sketch::bands(&sig).into_iter().enumerate());
            }
        }
        Ok(())
    }

    /// Drops the index; the next commit rebuilds it from the signatures still stored.
    pub fn forget(&self) {
        *self.index.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Keys here are hashes already (band hashes, entry keys): SipHash on them cost more than the
/// rest of an insert.
type Map<K, V> = HashMap<K, V, BuildHasherDefault<Prehashed>>;

/// A band bucket this full holds a phrase common to many items (boilerplate, a template): it no
/// longer tells items apart, so it takes no more members and lookups skip it.
pub const BUCKET_CAP: usize = 48;

/// Most buckets hold one item: no allocation for those.
#[derive(Debug)]
enum Bucket {
    One(u32),
    Many(Vec<u32>),
}

#[derive(Debug, Default)]
pub struct NearIndex {
    items: Vec<BandHit>,
    ids: Map<EntryKey, u32>,
    buckets: Map<u64, Bucket>,
}

/// One key per (band, hash); a collision only adds a candidate, which the exact check rejects.
fn slot(band: usize, hash: u64) -> u64 {
    hash.rotate_left(7) ^ (band as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl NearIndex {
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    /// Adds an item to its band buckets, `(band, hash)` each (once, however often it is re-added).
    pub(super) fn add(
        &mut self,
        key: EntryKey,
        published: DateTime<Utc>,
        bands: impl IntoIterator<Item = (usize, u64)>,
    ) {
        let next = self.items.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.items.push((key, published));
        } else {
            self.items[id as usize].1 = published;
        }
        for (band, hash) in bands {
            self.add_to_bucket(slot(band, hash), id);
        }
    }

    fn add_to_bucket(&mut self, slot: u64, id: u32) {
        match self.buckets.entry(slot) {
            Entry::Vacant(v) => drop(v.insert(Bucket::One(id))),
            Entry::Occupied(mut o) => match o.get_mut() {
                Bucket::One(other) if *other != id => {
                    let other = *other;
                    *o.get_mut() = Bucket::Many(vec![other, id]);
                }
                Bucket::Many(v) if v.len() < BUCKET_CAP && !v.contains(&id) => v.push(id),
                _ => {}
            },
        }
    }

    /// Items sharing at least one band, with their published times; full buckets are skipped.
    pub(super) fn near(&self, bands: &[u64; sketch::BANDS]) -> Vec<BandHit> {
        let mut out = Vec::new();
        for (b, h) in bands.iter().enumerate() {
            match self.buckets.get(&slot(b, *h)) {
                Some(Bucket::One(id)) => out.push(self.items[*id as usize]),
                Some(Bucket::Many(v)) if v.len() < BUCKET_CAP => {
                    out.extend(v.iter().map(|id| self.items[*id as usize]))
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_find_shared_bands_and_saturate() {
        let t = Utc::now();
        let key = |n: u8| EntryKey::from_bytes([n; 16]);
        let mut idx = NearIndex::default();
        let mut a = [0u64; sketch::BANDS];
        a.iter_mut().enumerate().for_each(|(i, h)| *h = i as u64 * 1000);
        let mut b = [7u64; sketch::BANDS];
        b[3] = a[3];
        let add =
            |idx: &mut NearIndex, k, bands: &[u64; sketch::BANDS]| idx.add(k, t, bands.iter().copied().enumerate());
        add(&mut idx, key(1), &a);
        add(&mut idx, key(2), &b);
        add(&mut idx, key(1), &a);
        assert_eq!(idx.len(), 2, "re-adding an item does not duplicate it");
        assert_eq!(idx.near(&a), vec![(key(1), t), (key(2), t)]);
        assert_eq!(idx.near(&[99; sketch::BANDS]), vec![]);
        for n in 10..10 + BUCKET_CAP as u8 {
            add(&mut idx, key(n), &[5; sketch::BANDS]);
        }
        assert!(idx.near(&[5; sketch::BANDS]).is_empty(), "a saturated bucket tells nothing apart");
    }

    /// The band memory of one store, read through the same commit path the pipeline takes.
    fn hits(store: &crate::store::Store, near: &SharedNear, bands: &[u64; sketch::BANDS]) -> Vec<BandHit> {
        let source = crate::domain::SourceId::parse("probe").expect("slug");
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().expect("now");
        let mut out = Vec::new();
        store
            .commit_poll_with(&source, |view| {
                out = near.with(view, now, |idx| idx.near(bands))?;
                Ok(crate::store::Prepared::default())
            })
            .expect("commit");
        out
    }

    #[test]
    fn the_memory_is_rebuilt_from_stored_signatures_within_the_window() {
        use crate::domain::{Change, IndexWrite, SourceId};
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let a = SourceId::parse("a").expect("slug");
        let old = crate::domain::test_entry("a", "old", "2026-01-01T00:00:00Z");
        let new = crate::domain::test_entry("a", "new", "2026-11-27T00:00:00Z");
        let sig: crate::domain::Signature = std::array::from_fn(|i| i as u32 * 7919);
        let bands = sketch::bands(&sig);
        let index = [&old, &new].iter().map(|e| IndexWrite::Sig(e.key, e.published, sig)).collect();
        let changes = vec![Change::New(old.clone()), Change::New(new.clone())];
        store
            .commit_poll_with(&a, |_| Ok(crate::store::Prepared { changes, index, ..Default::default() }))
            .expect("commit");
        let year = SharedNear::new(Duration::from_secs(365 * 86_400));
        assert_eq!(hits(&store, &year, &bands), vec![(old.key, old.published), (new.key, new.published)]);
        let week = SharedNear::new(Duration::from_secs(7 * 86_400));
        assert_eq!(hits(&store, &week, &bands), vec![(new.key, new.published)], "older signatures stay out");
        let cutoff = "2026-11-20T00:00:00Z".parse().expect("cutoff");
        assert_eq!(store.drop_signatures_before(cutoff, || year.forget()).expect("prune"), 1);
        assert_eq!(hits(&store, &year, &bands), vec![(new.key, new.published)], "rebuilt after the prune");
        assert!(hits(&store, &year, &[1; sketch::BANDS]).is_empty());
    }
}
