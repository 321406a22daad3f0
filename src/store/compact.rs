//! Offline compaction: sled's log keeps superseded node versions until segments are recycled,
//! so a store that grew by random inserts can take several times its live size on disk.
//! Copying every record, in key order, into a fresh store writes each node once.

use super::{Store, StoreError};
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
        target.import(store.db.export());
        target.flush()?;
    }
    std::fs::rename(path, &old).map_err(io)?;
    std::fs::rename(&fresh, path).map_err(io)?;
    std::fs::remove_dir_all(&old).map_err(io)?;
    let after = open_when_unlocked(path, cache_capacity)?.size_on_disk();
    Ok(Compacted { before, after })
}

/// sled frees a store's file lock a moment after its last handle is dropped (a service that
/// just stopped, or the copy written above): wait for it, briefly.
fn open_when_unlocked(path: &Path, cache_capacity: u64) -> Result<Store, StoreError> {
    for _ in 0..300 {
        match Store::open(path, cache_capacity) {
            Err(StoreError::Open { detail, .. }) if detail.contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
    Store::open(path, cache_capacity)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}
