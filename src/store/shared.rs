//! What instances sharing one database tell each other, through the store: notifications of
//! commits (`pg/listen.rs` on PostgreSQL; nothing on sled, where one process owns the store), the
//! shared change-log counter, and the entries the change log names past a position. What to send
//! and what a message means is `coherence.rs`'s business.

use super::kv::Kv;
use super::{codec, keys, Store, StoreError};
use crate::domain::{Entry, EntryKey};
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;

pub use super::pg::Heard;
pub use super::pg::LISTENER_NAME;

/// The notification channel every instance listens on.
const CHANNEL: &str = "newsriver_commits";

impl Store {
    /// Whether other processes may commit to this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.kv, Kv::Pg(_))
    }

    /// Tells every listening instance `payload` (nothing on sled).
    pub fn announce(&self, payload: String) -> Result<(), StoreError> {
        match &self.kv {
            Kv::Pg(pg) => pg.announce(CHANNEL, payload),
            Kv::Sled { .. } => Ok(()),
        }
    }

    /// What other instances announce, until `stop`; `None` on sled.
    pub fn listen(&self, stop: CancellationToken) -> Option<tokio::sync::mpsc::Receiver<Heard>> {
        match &self.kv {
            Kv::Pg(pg) => Some(pg.listen(CHANNEL, stop)),
            Kv::Sled { .. } => None,
        }
    }

    /// The last change-log number any instance gave out, as stored (one point read).
    pub fn stored_last_seq(&self) -> Result<u64, StoreError> {
        let stored = self.counts.get(keys::LAST_SEQ)?;
        Ok(stored.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes))
    }

    /// The entries the change log names after `after`, at most `limit` log records read, and the
    /// last position read (`after` when there was none).
    pub fn changed_after(&self, after: u64, limit: usize) -> Result<(Vec<Entry>, u64), StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut last = after;
        let mut wanted = Vec::new();
        for item in self.changes.range(&start, None).take(limit) {
            let (seq, key) = item?;
            last = seq.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(last);
            let key: [u8; 16] = key
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt { what: "change log", detail: "malformed record".into() })?;
            wanted.push(EntryKey::from_bytes(key).as_bytes().to_vec());
        }
        let values = self.entries.get_many(&wanted)?;
        let entries = values.into_iter().flatten().map(|v| codec::decode_entry(&v)).collect::<Result<_, _>>()?;
        Ok((entries, last))
    }

    /// Notes that this handle gave out positions `first..=last` (a commit's), so that the
    /// change-log check can tell them from other instances'. The newest 4,096 commits are kept.
    pub(super) fn note_given(&self, first: u64, last: u64) {
        let mut given = self.given.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if given.len() == 4_096 {
            given.pop_front();
        }
        given.push_back((first, last));
    }

    /// Whether this handle gave out change-log position `seq` (in one of its latest commits).
    pub fn gave_out(&self, seq: u64) -> bool {
        let given = self.given.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        given.iter().rev().any(|(first, last)| (*first..=*last).contains(&seq))
    }

    /// Notes which change-log positions other instances gave out between this handle's previous
    /// commit and the one deciding now (none on sled). In-memory indexes built from earlier reads
    /// (the near-duplicate and event indexes) must then take those entries in.
    pub(super) fn note_foreign(&self, last_seq_in_db: u64) {
        let mine = self.seq.load(Ordering::Relaxed);
        let range = (last_seq_in_db > mine).then_some((mine, last_seq_in_db));
        *self.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = range;
    }
}
