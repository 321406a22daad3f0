//! `newsriver copy-store`: every record of one store into another, empty one (sled to
//! PostgreSQL and back). Both backends hold the same keys and values (`kv.rs`), and everything
//! else a store has is a record too (the change-log counter, entry and channel counts, the
//! schema version, source states, subscriptions), so the copy is raw: records are streamed in
//! key order in batches of `BATCH` (memory stays bounded on any size of store), then both sides
//! are counted. What is not a record is made by the target itself: its PostgreSQL schema
//! (migrations run on connect), sled's tree of interrupted commits (empty on a store just opened).

use super::kv::Kv;
use super::{keys, pg, Store, StoreError};
use crate::config::StoreSettings;
use std::ops::Bound;

/// Records written per batch (one transaction on PostgreSQL).
const BATCH: usize = 2000;

/// What a copy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Records read from the source and counted in the target afterwards.
    pub records: u64,
    /// Stored entries (the source's entry counter, copied with it).
    pub entries: u64,
    /// Records the target held before, removed with `--force`.
    pub replaced: u64,
}

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "{target} already holds {records} records; copy only into an empty store (or pass --force to replace them)"
    )]
    NotEmpty { target: String, records: u64 },
    #[error("the source and the target are the same store ({0})")]
    Same(String),
    #[error("the copy is incomplete: {copied} records read, {counted} found in the target")]
    Mismatch { copied: u64, counted: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Copies every record of `from` into `to`; `progress` is told the records copied so far after
/// each batch. No service may be using either store meanwhile.
pub fn copy_store(
    from: &StoreSettings,
    to: &StoreSettings,
    force: bool,
    mut progress: impl FnMut(u64),
) -> Result<Copied, CopyError> {
    if from.location() == to.location() {
        return Err(CopyError::Same(to.location()));
    }
    // Opened as a store: an interrupted commit is settled and an old layout upgraded first.
    let source = Store::open_settings(from)?;
    let target = open_raw(to)?;
    let replaced = count(&target)?;
    if replaced > 0 && !force {
        return Err(CopyError::NotEmpty { target: to.location(), records: replaced });
    }
    if replaced > 0 {
        clear(&target)?;
    }
    let mut copied = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    for item in source.kv.range(Vec::new(), Bound::Unbounded) {
        let (k, v) = item?;
        batch.push((k.as_ref().to_vec(), v.as_ref().to_vec()));
        if batch.len() == BATCH {
            copied += write(&target, std::mem::take(&mut batch))?;
            progress(copied);
        }
    }
    copied += write(&target, batch)?;
    progress(copied);
    target.flush()?;
    let counted = count(&target)?;
    if counted != copied {
        return Err(CopyError::Mismatch { copied, counted });
    }
    Ok(Copied { records: copied, entries: source.entry_count() as u64, replaced })
}

/// The target's records, without making any (opening a `Store` writes its schema record).
fn open_raw(settings: &StoreSettings) -> Result<Kv, StoreError> {
    if let Some(options) = &settings.postgres {
        return Ok(Kv::Pg(pg::PgKv::connect(options)?));
    }
    let path = &settings.path;
    let open_err =
        |e: &dyn std::fmt::Display| StoreError::Open { path: path.display().to_string(), detail: e.to_string() };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| open_err(&e))?;
    }
    let db = sled::Config::new().path(path).cache_capacity(settings.cache_capacity).open().map_err(|e| open_err(&e))?;
    let data = db.open_tree(keys::DATA_TREE).map_err(|e| open_err(&e))?;
    let intents = db.open_tree(keys::INTENT_TREE).map_err(|e| open_err(&e))?;
    Ok(Kv::Sled { db, data, intents, wrote: Default::default(), flushes: Default::default() })
}

/// Records in the store: a sled store's every tree (a schema-1 store keeps its records in trees
/// of their own), a database's table.
fn count(kv: &Kv) -> Result<u64, StoreError> {
    match kv {
        Kv::Sled { db, .. } => {
            let mut n = 0;
            for name in db.tree_names() {
                n += db.open_tree(name)?.len() as u64;
            }
            Ok(n)
        }
        Kv::Pg(pg) => pg.count(),
    }
}

fn clear(kv: &Kv) -> Result<(), StoreError> {
    match kv {
        Kv::Sled { db, .. } => {
            for name in db.tree_names() {
                db.open_tree(name)?.clear()?;
            }
            db.flush()?;
            Ok(())
        }
        Kv::Pg(pg) => pg.clear(),
    }
}

/// Writes one batch; returns how many records it held.
fn write(kv: &Kv, batch: Vec<(Vec<u8>, Vec<u8>)>) -> Result<u64, StoreError> {
    let n = batch.len() as u64;
    match kv {
        Kv::Sled { data, .. } => {
            let mut b = sled::Batch::default();
            for (k, v) in batch {
                b.insert(k, v);
            }
            data.apply_batch(b)?;
        }
        Kv::Pg(pg) => pg.write(batch.into_iter().map(|(k, v)| (k, Some(v))).collect())?,
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{test_entry, Change, ChannelId, SourceId};
    use crate::store::Prepared;

    fn sled_at(path: &std::path::Path) -> StoreSettings {
        StoreSettings { path: path.to_path_buf(), cache_capacity: 1 << 20, postgres: None }
    }

    /// More records than one batch, copied whole; a second copy into the same folder is refused
    /// until it may replace what is there.
    #[test]
    fn every_record_is_copied_in_batches_and_a_used_target_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to) = (sled_at(&dir.path().join("from")), sled_at(&dir.path().join("to")));
        let n = BATCH + 300;
        {
            let store = Store::open_settings(&from).expect("store");
            let changes: Vec<Change> =
                (0..n).map(|i| Change::New(test_entry("wire", &format!("item-{i}"), "2026-11-20T10:00:00Z"))).collect();
            let source = SourceId::parse("wire").expect("slug");
            store.commit_poll_with(&source, |_| Ok(Prepared { changes, ..Prepared::default() })).expect("commit");
        }
        let mut batches = Vec::new();
        let done = copy_store(&from, &to, false, |k| batches.push(k)).expect("copy");
        assert!(batches.len() >= 3 && done.records > 3 * n as u64, "{batches:?} {done:?}");
        assert_eq!(done.entries, n as u64);
        let copy = Store::open_settings(&to).expect("the copy opens");
        assert_eq!(copy.entry_count(), n);
        assert_eq!(copy.latest(&ChannelId::All, usize::MAX).expect("read").len(), n);
        assert_eq!(copy.since(&ChannelId::All, 0, 10).expect("since").entries.len(), 10);
        drop(copy);
        let refused = copy_store(&from, &to, false, |_| {});
        assert!(matches!(refused, Err(CopyError::NotEmpty { .. })), "{refused:?}");
        let again = copy_store(&from, &to, true, |_| {}).expect("forced");
        assert_eq!(again.records, done.records);
        assert!(again.replaced >= done.records, "what the target held is counted: {again:?}");
        assert!(matches!(copy_store(&from, &from, true, |_| {}), Err(CopyError::Same(_))));
    }
}
