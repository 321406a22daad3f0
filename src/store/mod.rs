//! Durable storage in sled. Every poll commits in one transaction and is flushed before it is
//! reported done. sled types never leave this module.

mod codec;
pub mod keys;

use crate::dedup::Change;
use crate::domain::{Entry, EntryKey, SourceId, SourceState};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store at {path}: {detail}")]
    Open { path: String, detail: String },
    #[error("store I/O failed: {0}")]
    Io(String),
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("cannot encode value: {0}")]
    Encode(String),
    #[error("store schema version {found} is newer than this newsriver understands ({supported})")]
    Schema { found: u32, supported: u32 },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Io(e.to_string())
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

/// The store: cheap to clone (sled handles are reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    db: sled::Db,
    entries: sled::Tree,
    timeline: sled::Tree,
    by_source: sled::Tree,
    changes: sled::Tree,
    sources: sled::Tree,
    /// Durable writes made through this handle (commits and state saves), for tests and metrics.
    writes: Arc<AtomicU64>,
}

impl Store {
    pub fn open(path: &Path, cache_capacity: u64) -> Result<Self, StoreError> {
        let open_err =
            |e: &dyn std::fmt::Display| StoreError::Open { path: path.display().to_string(), detail: e.to_string() };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| open_err(&e))?;
        }
        let db = sled::Config::new().path(path).cache_capacity(cache_capacity).open().map_err(|e| open_err(&e))?;
        let tree = |name: &str| db.open_tree(name).map_err(|e| open_err(&e));
        let store = Self {
            entries: tree("entries")?,
            timeline: tree("timeline")?,
            by_source: tree("by_source")?,
            changes: tree("changes")?,
            sources: tree("sources")?,
            writes: Arc::default(),
            db,
        };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = self.db.open_tree("meta")?;
        match meta.get(b"schema")? {
            None => {
                meta.insert(b"schema", &keys::SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
            Some(v) => {
                let found = u32::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    what: "schema version",
                    detail: format!("{} bytes", v.len()),
                })?);
                if found > keys::SCHEMA_VERSION {
                    return Err(StoreError::Schema { found, supported: keys::SCHEMA_VERSION });
                }
            }
        }
        Ok(())
    }

    pub fn entry(&self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        self.entries.get(key.as_bytes())?.map(|v| codec::decode("entry", &v)).transpose()
    }

    /// The stored versions of whichever of `keys` exist.
    pub fn entries_by_key<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a EntryKey>,
    ) -> Result<HashMap<EntryKey, Entry>, StoreError> {
        let mut out = HashMap::new();
        for k in keys {
            if let Some(e) = self.entry(k)? {
                out.insert(*k, e);
            }
        }
        Ok(out)
    }

    pub fn source_state(&self, id: &SourceId) -> Result<Option<SourceState>, StoreError> {
        self.sources.get(id.as_str())?.map(|v| codec::decode("source state", &v)).transpose()
    }

    /// Saves a source's state alone (a 304, or a failure) and makes it durable.
    pub fn save_source_state(&self, id: &SourceId, state: &SourceState) -> Result<(), StoreError> {
        self.sources.insert(id.as_str(), codec::encode(state)?)?;
        self.db.flush()?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a poll's changes and the source's new state in one transaction, then flushes:
    /// when this returns Ok the poll survives `kill -9`.
    pub fn commit_poll(&self, source: &SourceId, changes: &[Change], state: &SourceState) -> Result<(), StoreError> {
        let state_bytes = codec::encode(state)?;
        let encoded: Vec<(Vec<u8>, &Change)> =
            changes.iter().map(|c| Ok((codec::encode(c.entry())?, c))).collect::<Result<_, StoreError>>()?;
        let seqs: Vec<u64> = changes.iter().map(|_| self.db.generate_id()).collect::<Result<_, _>>()?;
        (&self.entries, &self.timeline, &self.by_source, &self.changes, &self.sources).transaction(
            |(entries, timeline, by_source, log, sources)| {
                for ((bytes, change), seq) in encoded.iter().zip(&seqs) {
                    let e = change.entry();
                    if let Change::Updated { previous_published, .. } = change {
                        timeline.remove(keys::timeline_key(*previous_published, &e.key))?;
                        by_source.remove(keys::by_source_key(source, *previous_published, &e.key))?;
                    }
                    entries.insert(e.key.as_bytes(), bytes.as_slice())?;
                    timeline.insert(keys::timeline_key(e.published, &e.key), source.as_str().as_bytes())?;
                    by_source.insert(keys::by_source_key(source, e.published, &e.key), &[] as &[u8])?;
                    log.insert(&seq.to_be_bytes(), e.key.as_bytes())?;
                }
                sources.insert(source.as_str().as_bytes(), state_bytes.as_slice())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            },
        )?;
        self.db.flush()?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Newest first by published time, across all sources (or one), at most `limit`.
    pub fn latest(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let keys = match source {
            None => collect_keys(self.timeline.iter().keys().rev(), limit)?,
            Some(s) => collect_keys(self.by_source.scan_prefix(keys::source_prefix(s)).keys().rev(), limit)?,
        };
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(e) = self.entry(&k)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush()).await.map_err(|e| StoreError::Io(e.to_string()))??;
        Ok(())
    }
}

fn collect_keys(it: impl Iterator<Item = sled::Result<sled::IVec>>, limit: usize) -> Result<Vec<EntryKey>, StoreError> {
    let mut out = Vec::with_capacity(limit.min(1024));
    for k in it.take(limit) {
        let k = k?;
        let key = keys::entry_key_suffix(&k)
            .ok_or(StoreError::Corrupt { what: "index key", detail: format!("{} bytes", k.len()) })?;
        out.push(key);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
