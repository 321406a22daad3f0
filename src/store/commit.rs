//! Making a commit: deciding under the commit lock, encoding the writes, and applying them with
//! the counters they change. On sled the next commit decides while this one writes (`inflight`);
//! on PostgreSQL commits decide and write in one transaction per group (`group.rs`).

use super::kv::{Kv, Serial};
use super::{codec, inflight, keys, space, story_index, Committed, Prepared, Store, StoreError, View};
use crate::domain::{Change, Entry, EntryKey, IndexWrite, SourceId, SourceState};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

/// A commit's encoded writes, and what it changes in counters.
pub(super) struct Staged {
    /// Entry values first (`intent.rs`), each with whether it replaces a stored one.
    entries: Vec<(Vec<u8>, Vec<u8>, bool)>,
    pub(super) batch: space::Batch,
    pub(super) deltas: HashMap<Vec<u8>, i64>,
}

/// One entry write: the new version, the stored one it replaces, and whether it takes a new
/// change-log position (edits and new items do; topic re-routing does not).
pub(super) struct Write<'a> {
    pub(super) entry: &'a Entry,
    pub(super) previous: Option<&'a Entry>,
}

impl Staged {
    /// Several commits' writes as one, in order (a later write of a key wins), counters summed.
    pub(super) fn merge(staged: Vec<Self>) -> Option<Self> {
        let mut all = staged.into_iter();
        let mut first = all.next()?;
        for s in all {
            first.entries.extend(s.entries);
            first.batch.0.extend(s.batch.0);
            for (name, d) in s.deltas {
                *first.deltas.entry(name).or_default() += d;
            }
        }
        Some(first)
    }
}

impl Store {
    /// Like `commit_poll`, with the writes decided by `prepare` while no other commit decides.
    /// `prepare` sees the store with the writes of earlier commits still being applied.
    pub fn commit_poll_with(
        &self,
        source: &SourceId,
        prepare: impl FnOnce(&View<'_>) -> Result<Prepared, StoreError>,
    ) -> Result<Committed, StoreError> {
        if matches!(self.kv, Kv::Pg(_)) {
            return self.commit_in_group(source, prepare);
        }
        let (p, changes, ticket) = {
            let _decide = self.commit_lock.lock().unwrap_or_else(PoisonError::into_inner);
            let mut p = prepare(&View { store: self, inflight: self.inflight.snapshot(), ahead: Default::default() })?;
            self.number(&mut p.changes);
            let changes = Arc::new(std::mem::take(&mut p.changes));
            let ticket = self.inflight.register(inflight::Pending::of(changes.clone(), &p.index));
            (p, changes, ticket)
        };
        // The next commit decides meanwhile; this one encodes, then applies in its turn.
        let turn = inflight::Turn::new(&self.inflight, ticket);
        let staged = self.stage_changes(&changes, &p.index, Some((source, &p.state)))?;
        turn.wait()?;
        self.apply(staged, Serial::Local)?;
        turn.applied();
        // Flushed after the turn ends: polls that commit meanwhile share one fsync instead of
        // queueing behind each other's, and none is acknowledged before it is durable.
        self.kv.flush()?;
        Ok(Committed { changes, index: p.index, state: p.state })
    }

    /// Re-routes the entries under `keys`: `route` sees each one as stored now (polls may run
    /// meanwhile) and returns its new version when membership changed. Change-log positions
    /// stay. Returns the entries rewritten, as (before, after).
    pub fn retopic(
        &self,
        keys: &[EntryKey],
        route: impl Fn(&Entry) -> Option<Entry>,
    ) -> Result<Vec<(Entry, Entry)>, StoreError> {
        let serial = self.serialize()?;
        let decided = self.kv.serial()?;
        self.resume_seq(&decided);
        let mut updates = Vec::new();
        for key in keys {
            if let Some(current) = self.entry(key)? {
                if let Some(new) = route(&current) {
                    updates.push((current, new));
                }
            }
        }
        let writes: Vec<Write<'_>> =
            updates.iter().map(|(old, new)| Write { entry: new, previous: Some(old) }).collect();
        let staged = self.stage(&writes, &[], None)?;
        drop(writes);
        self.apply(staged, decided)?;
        drop(serial);
        self.kv.flush()?;
        Ok(updates)
    }

    /// Encodes a commit's changes, each replacing the version it was decided against.
    pub(super) fn stage_changes(
        &self,
        changes: &[Change],
        index: &[IndexWrite],
        state: Option<(&SourceId, &SourceState)>,
    ) -> Result<Staged, StoreError> {
        let writes: Vec<Write<'_>> =
            changes.iter().map(|c| Write { entry: c.entry(), previous: c.previous() }).collect();
        self.stage(&writes, index, state)
    }

    /// Encodes writes into a batch; counters are added in `apply`, in the commit's turn.
    pub(super) fn stage(
        &self,
        writes: &[Write<'_>],
        index: &[IndexWrite],
        state: Option<(&SourceId, &SourceState)>,
    ) -> Result<Staged, StoreError> {
        let mut batch = space::Batch::default();
        let mut entries = Vec::with_capacity(writes.len());
        story_index::stage(&self.story_idx, &mut batch, index)?;
        let mut deltas: HashMap<Vec<u8>, i64> = HashMap::new();
        let added = writes.iter().filter(|w| w.previous.is_none()).count() as i64;
        if added > 0 {
            deltas.insert(keys::ENTRY_COUNT.to_vec(), added);
        }
        for w in writes {
            let e = w.entry;
            if let Some(old) = w.previous {
                for ch in old.channels() {
                    self.channels.del(&mut batch, keys::channel_key(&ch, old.published, &old.key));
                    *deltas.entry(keys::channel_name(&ch)).or_default() -= 1;
                }
                if old.seq != e.seq {
                    self.changes.del(&mut batch, old.seq.to_be_bytes());
                }
            }
            entries.push((self.entries.key(e.key.as_bytes()), codec::encode_entry(e), w.previous.is_some()));
            for ch in e.channels() {
                self.channels.put(&mut batch, keys::channel_key(&ch, e.published, &e.key), []);
                *deltas.entry(keys::channel_name(&ch)).or_default() += 1;
            }
            self.changes.put(&mut batch, e.seq.to_be_bytes(), e.key.as_bytes());
        }
        if let Some((id, st)) = state {
            self.sources.put(&mut batch, id.as_str(), codec::encode(st)?);
        }
        Ok(Staged { entries, batch, deltas })
    }

    /// Applies a staged batch with its counters. Callers hold the commit lock or the turn.
    pub(super) fn apply(&self, staged: Staged, serial: Serial) -> Result<(), StoreError> {
        let Staged { entries, mut batch, deltas } = staged;
        // Counters are read here and written in the batch: applies run one at a time, and are
        // the only writers of counters.
        let moved: Vec<(&Vec<u8>, i64)> = deltas.iter().filter(|(_, d)| **d != 0).map(|(n, d)| (n, *d)).collect();
        let names: Vec<Vec<u8>> = moved.iter().map(|(n, _)| n.to_vec()).collect();
        for ((name, delta), value) in moved.into_iter().zip(self.counts.get_many(&names)?) {
            let now = value.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes);
            self.counts.put(&mut batch, name, now.saturating_add_signed(delta).to_be_bytes());
        }
        self.counts.put(&mut batch, keys::LAST_SEQ, self.seq.load(Ordering::Relaxed).to_be_bytes());
        self.kv.commit(serial, entries, batch)?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Gives each change that takes a new change-log position its number.
    pub(super) fn number(&self, changes: &mut [Change]) {
        for c in changes.iter_mut() {
            // A metadata-only refresh keeps its place in the change log: partners polling
            // `since` have nothing new to fetch.
            if !matches!(c, Change::Updated { edited: false, .. }) {
                c.entry_mut().seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            }
        }
    }

    /// Continues numbering after the last number any instance gave out (PostgreSQL).
    pub(super) fn resume_seq(&self, serial: &Serial) {
        if let Serial::Pg { last_seq, .. } = serial {
            self.seq.store(*last_seq, Ordering::Relaxed);
        }
    }
}
