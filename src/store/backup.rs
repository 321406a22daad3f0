//! A consistent copy of the whole store in another folder, made while the service runs: commits
//! wait for the copy (polls keep fetching meanwhile), so it holds every acknowledged commit
//! whole and none in part. The copy is itself a store: point `[store] path` at it to restore.

use super::{kv, Store, StoreError};
use std::path::Path;

/// What a backup wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backup {
    pub entries: u64,
    pub records: u64,
    pub bytes: u64,
}

/// What `backup` says of a PostgreSQL store.
pub fn on_postgres() -> StoreError {
    StoreError::Unsupported {
        what: "backup",
        instead: "back the database up with pg_dump (e.g. pg_dump -Fc -t 'newsriver_*' DBNAME)",
    }
}

impl Store {
    /// Copies every tree into a new store at `dir`, which must not exist or be empty (a backup
    /// never mixes with older data). The copy is flushed before this returns.
    pub fn backup_to(&self, dir: &Path) -> Result<Backup, StoreError> {
        let kv::Kv::Sled { db, .. } = &self.kv else { return Err(on_postgres()) };
        let refuse = |detail: String| StoreError::Open { path: dir.display().to_string(), detail };
        if dir.exists() && std::fs::read_dir(dir).map_err(|e| refuse(e.to_string()))?.next().is_some() {
            return Err(refuse("the backup folder exists and is not empty".into()));
        }
        let copy = sled::Config::new().path(dir).open().map_err(|e| refuse(e.to_string()))?;
        // No commit may decide or apply while the trees are read: a half-applied one would be
        // copied in part (and its intent record, which would finish it, maybe not).
        let serial = self.serialize()?;
        db.flush()?;
        let mut records = 0u64;
        for name in db.tree_names() {
            let (from, to) = (db.open_tree(&name)?, copy.open_tree(&name)?);
            for kv in from.iter() {
                let (k, v) = kv?;
                to.insert(k, v)?;
                records += 1;
            }
        }
        let entries = self.entry_count() as u64;
        drop(serial);
        copy.flush()?;
        let bytes = copy.size_on_disk().unwrap_or(0);
        Ok(Backup { entries, records, bytes })
    }
}
