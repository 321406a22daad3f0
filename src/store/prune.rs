//! Removing entries (`newsriver prune`): every record keyed by an entry goes with it (its value,
//! its places in channels and their counts, its change-log record, its signature), together with
//! the caller's rewrites of what referred to it (other entries, stories, events, identity
//! records), as one all-or-nothing commit (`intent.rs`, or one transaction on PostgreSQL). What changes is the caller's decision.

use super::{Store, StoreError, View};
use crate::domain::{Change, Entry, IndexWrite, SourceId};

/// What one removal writes, decided by the caller while no commit decides or applies.
#[derive(Debug, Default)]
pub struct Removal {
    /// Entries to delete, as stored (their channels say which places go).
    pub entries: Vec<Entry>,
    /// Entries rewritten because of it; an edited one takes a new change-log position, so
    /// `?since=` readers get it again.
    pub changes: Vec<Change>,
    /// Story, event and identity records written or dropped.
    pub index: Vec<IndexWrite>,
    /// Sources whose state record goes.
    pub sources: Vec<SourceId>,
}

impl Store {
    /// Deletes and rewrites what `prepare` decides, reading the store with no commit in flight
    /// (commits wait meanwhile), then flushes: when this returns Ok the removal survives
    /// `kill -9`, and a crash before leaves the store as it was. Returns the removal with the
    /// change-log positions its rewrites took.
    pub fn remove_with(
        &self,
        prepare: impl FnOnce(&View<'_>) -> Result<Removal, StoreError>,
    ) -> Result<Removal, StoreError> {
        let serial = self.serialize()?;
        let decided = self.kv.serial()?;
        self.resume_seq(&decided);
        let mut r = prepare(&View { store: self, inflight: Vec::new(), ahead: Default::default() })?;
        self.number(&mut r.changes);
        let mut staged = self.stage_changes(&r.changes, &r.index, None)?;
        for e in &r.entries {
            let b = &mut staged.batch;
            self.entries.del(b, e.key.as_bytes());
            for ch in e.channels() {
                self.channels.del(b, super::keys::channel_key(&ch, e.published, &e.key));
                *staged.deltas.entry(super::keys::channel_name(&ch)).or_default() -= 1;
            }
            self.changes.del(b, e.seq.to_be_bytes());
            super::story_index::unstage(&self.story_idx, b, &e.key);
        }
        if !r.entries.is_empty() {
            *staged.deltas.entry(super::keys::ENTRY_COUNT.to_vec()).or_default() -= r.entries.len() as i64;
        }
        for id in &r.sources {
            self.sources.del(&mut staged.batch, id.as_str());
        }
        self.apply(staged, decided)?;
        drop(serial);
        self.kv.flush()?;
        Ok(r)
    }
}
