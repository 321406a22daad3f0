//! The one index view identity decisions read through: the store's records, then the writes of
//! commits still in flight (`store::View`), the near-duplicate band memory, and last this poll's
//! own writes so far, so items of one poll see each other.

use super::near::NearIndex;
use super::{features, sketch, Assigned, BandHit, BandMap, FeatureMap, Features, StorySettings};
use crate::domain::{Entry, EntryKey, Signature, Story};
use crate::store::{StoreError, View};
use std::collections::{HashMap, HashSet};

pub(super) struct Layered<'a> {
    view: &'a View<'a>,
    near: &'a NearIndex,
    pub(super) urls: HashMap<String, EntryKey>,
    pub(super) texts: HashMap<[u8; 16], EntryKey>,
    pub(super) bands: BandMap,
    pub(super) sigs: HashMap<EntryKey, Signature>,
    pub(super) stories: HashMap<EntryKey, Story>,
    pub(super) dropped: HashSet<EntryKey>,
    pub(super) out: Assigned,
    /// Position in `out.changes` of each entry this poll writes.
    pub(super) pending: HashMap<EntryKey, usize>,
    /// Features computed before the commit lock; taken as items are assigned.
    pre: FeatureMap,
}

/// A failed read is logged and treated as "not found": an item then founds its own story,
/// which is the safe side (a missed merge, never a wrong one).
fn logged<T>(read: Result<Option<T>, StoreError>) -> Option<T> {
    read.unwrap_or_else(|e| {
        tracing::error!(error = %e, "story index read failed");
        None
    })
}

impl<'a> Layered<'a> {
    pub(super) fn new(view: &'a View<'a>, near: &'a NearIndex, pre: FeatureMap) -> Self {
        Self {
            view,
            near,
            urls: HashMap::new(),
            texts: HashMap::new(),
            bands: HashMap::new(),
            sigs: HashMap::new(),
            stories: HashMap::new(),
            dropped: HashSet::new(),
            out: Assigned::default(),
            pending: HashMap::new(),
            pre,
        }
    }

    /// The item's features: computed before the commit lock when it could be, else now.
    pub(super) fn features_of(&mut self, e: &Entry, s: &StorySettings) -> Features {
        self.pre.remove(&e.key).unwrap_or_else(|| features(e, s))
    }

    pub(super) fn by_url(&self, url: &str) -> Option<EntryKey> {
        self.urls.get(url).copied().or_else(|| logged(self.view.url_owner(url)))
    }

    pub(super) fn by_text(&self, fp: &[u8; 16]) -> Option<EntryKey> {
        self.texts.get(fp).copied().or_else(|| logged(self.view.text_owner(fp)))
    }

    /// Entries sharing at least one band, with their published times.
    pub(super) fn near(&self, bands: &[u64; sketch::BANDS]) -> Vec<BandHit> {
        let mut out = self.near.near(bands);
        for (b, h) in bands.iter().enumerate() {
            out.extend(self.bands.get(&(b as u8, *h)).into_iter().flatten().copied());
        }
        out.sort();
        out.dedup();
        out
    }

    pub(super) fn entry(&self, key: &EntryKey) -> Option<Entry> {
        match self.pending.get(key) {
            Some(&i) => Some(self.out.changes[i].entry().clone()),
            None => logged(self.view.entry(key)),
        }
    }

    /// The MinHash signature stored with an item's near-duplicate records.
    pub(super) fn signature(&self, key: &EntryKey) -> Option<Signature> {
        self.sigs.get(key).copied().or_else(|| logged(self.view.signature(key)))
    }

    /// A story by id; a story of one item has no record: its founding entry stands for it.
    pub(super) fn story(&self, id: &EntryKey) -> Option<Story> {
        if self.dropped.contains(id) {
            return None;
        }
        self.stories
            .get(id)
            .cloned()
            .or_else(|| logged(self.view.story_record(id)))
            .or_else(|| self.entry(id).filter(|e| e.story.unwrap_or(e.key) == *id).map(|e| Story::single(&e)))
    }
}
