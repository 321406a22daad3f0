//! Offline compaction: sled's log keeps superseded node versions until segments are recycled,
//! so a store that grew by random inserts can take several times its live size on disk.
//! Every record is copied into a fresh store. Not in key order: sled consolidates a leaf every
//! ten inserts and splits it at seventeen, so appending in order rewrites the last leaf over and
//! over (a test store of 200k 32-byte keys took 9.7× its live bytes written in order, 2.5×
//! written as 256 interleaved ordered streams). Each tree is copied as `STREAMS` key ranges of
//! about equal size, one record from each in turn.

use super::{kv, Store, StoreError};
use std::path::{Path, PathBuf};

/// Disk use before and after a compaction, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    pub before: u64,
    pub after: u64,
}

/// Rewrites the store at `path` (which no running service may hold open). The original is
/// replaced only after the copy is complete and flushed; until then a crash leaves it intact.
pub fn compact(path: &Path, cache_capacity: u64) -> Result<Compacted, StoreError> {
    let io = |e: std::io::Error| StoreError::Io(e.to_string());
    let fresh = sibling(path, "compact");
    let old = sibling(path, "old");
    for leftover in [&fresh, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(io)?;
        }
    }
    let before;
    {
        let store = open_when_unlocked(path, cache_capacity)?;
        before = store.size_on_disk();
        let target = sled::Config::new().path(&fresh).cache_capacity(cache_capacity).open()?;
        let kv::Kv::Sled { db, .. } = &store.kv else { return Err(on_postgres()) };
        for name in db.tree_names() {
            copy_interleaved(&db.open_tree(&name)?, &target.open_tree(&name)?)?;
        }
        target.flush()?;
    }
    std::fs::rename(path, &old).map_err(io)?;
    std::fs::rename(&fresh, path).map_err(io)?;
    std::fs::remove_dir_all(&old).map_err(io)?;
    let after = open_when_unlocked(path, cache_capacity)?.size_on_disk();
    Ok(Compacted { before, after })
}

/// What `compact` says of a PostgreSQL store.
pub fn on_postgres() -> StoreError {
    StoreError::Unsupported {
        what: "compact",
        instead: "PostgreSQL reclaims space itself (autovacuum); VACUUM FULL newsriver_records shrinks the table",
    }
}

/// Compacts the store the settings name (sled only).
pub fn compact_settings(settings: &crate::config::StoreSettings) -> Result<Compacted, StoreError> {
    match settings.postgres {
        Some(_) => Err(on_postgres()),
        None => compact(&settings.path, settings.cache_capacity),
    }
}

fn open_when_unlocked(path: &Path, cache_capacity: u64) -> Result<Store, StoreError> {
    super::checkpoint::when_unlocked(|| Store::open(path, cache_capacity))
}

/// Key ranges copied side by side.
const STREAMS: usize = 256;
/// One key in this many is kept to choose the ranges' bounds from.
const SAMPLE_EVERY: usize = 64;

/// Copies every record of `src` into the empty `dst`, `STREAMS` key ranges interleaved.
fn copy_interleaved(src: &sled::Tree, dst: &sled::Tree) -> Result<(), StoreError> {
    let samples: Vec<sled::IVec> = src.iter().keys().step_by(SAMPLE_EVERY).collect::<Result<_, _>>()?;
    let step = samples.len().div_ceil(STREAMS).max(1);
    let bounds: Vec<&[u8]> = samples.iter().step_by(step).map(AsRef::as_ref).collect();
    let mut ranges: Vec<sled::Iter> = (0..bounds.len())
        .map(|i| match bounds.get(i + 1) {
            Some(end) => src.range::<&[u8], _>(bounds[i]..*end),
            None => src.range::<&[u8], _>(bounds[i]..),
        })
        .collect();
    let mut failed = None;
    while !ranges.is_empty() && failed.is_none() {
        ranges.retain_mut(|range| match range.next() {
            Some(Ok((k, v))) => dst.insert(k, v).map_err(|e| failed = Some(e)).is_ok(),
            Some(Err(e)) => {
                failed = Some(e);
                false
            }
            None => false,
        });
    }
    failed.map_or(Ok(()), |e| Err(e.into()))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}
