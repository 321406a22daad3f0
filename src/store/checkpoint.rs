//! Leaving a sled store that the next open reads quickly. sled 0.34 records a snapshot (its page
//! table as of a log position) only while it opens a store, and every open replays the log
//! written since the last snapshot: a process that wrote a million entries and exited left them
//! all to the next start to replay (3.7 s before the service answered). Closing the last handle
//! after writes therefore opens the store once more, which replays this process's own writes
//! and records the snapshot at the log's tip, so the next open replays nothing. Correctness
//! never depends on it: a store left without a close (a crash, `kill -9`) replays its log.

use super::{kv, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Where a sled store was opened, and with what cache, to open it again at close.
#[derive(Debug)]
pub(super) struct Place {
    pub path: PathBuf,
    pub cache_capacity: u64,
}

impl Store {
    /// Closes this handle. When it is the process's last one and something was written since
    /// the open, opens the store once more (see the module note) and says `true`: the next open
    /// then starts at once. While other handles remain the store stays open and nothing is done.
    pub fn close(self) -> Result<bool, StoreError> {
        let kv::Kv::Sled { wrote, .. } = &self.kv else { return Ok(false) };
        let Some(place) = self.place.clone() else { return Ok(false) };
        if !wrote.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if Arc::strong_count(&self.writes) > 1 {
            tracing::debug!("store still open elsewhere: the next open replays this process's writes");
            return Ok(false);
        }
        self.kv.flush()?;
        drop(self);
        let started = std::time::Instant::now();
        drop(when_unlocked(|| open_sled(&place.path, place.cache_capacity))?);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(elapsed_ms, "store closed with a snapshot at the log's tip");
        Ok(true)
    }
}

pub(super) fn open_sled(path: &Path, cache_capacity: u64) -> Result<sled::Db, StoreError> {
    sled::Config::new()
        .path(path)
        .cache_capacity(cache_capacity)
        .open()
        .map_err(|e| StoreError::Open { path: path.display().to_string(), detail: e.to_string() })
}

/// sled frees a store's file lock a moment after its last handle is dropped (its flusher thread
/// ends first): retries `open` while the lock is held, for up to 3 s.
pub(super) fn when_unlocked<T>(open: impl Fn() -> Result<T, StoreError>) -> Result<T, StoreError> {
    for _ in 0..300 {
        match open() {
            Err(StoreError::Open { detail, .. }) if detail.contains("lock") => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
    open()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Change, SourceId, SourceState};

    /// sled's snapshot files (`snap.<log position>`): an open that replays log records
    /// writes a new one.
    fn snapshots(dir: &Path) -> Vec<String> {
        let names = std::fs::read_dir(dir).expect("store dir").map(|e| e.expect("entry").file_name());
        let mut snaps: Vec<String> =
            names.map(|n| n.to_string_lossy().into_owned()).filter(|n| n.starts_with("snap.")).collect();
        snaps.sort();
        snaps
    }

    fn open(path: &Path) -> Store {
        when_unlocked(|| Store::open(path, 1 << 20)).expect("open store")
    }

    fn write_some(store: &Store, n: usize) {
        let source = SourceId::parse("wire").expect("slug");
        let mut changes: Vec<Change> = (0..n)
            .map(|i| Change::New(crate::domain::test_entry("wire", &i.to_string(), "2026-11-01T00:00:00Z")))
            .collect();
        store.commit_poll(&source, &mut changes, &SourceState::default()).expect("commit");
    }

    #[test]
    fn a_closed_store_opens_without_replaying_its_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let store = open(&path);
        write_some(&store, 200);
        assert!(store.close().expect("close"), "the last handle after writes records a snapshot");
        let at_close = snapshots(&path);
        assert_eq!(at_close.len(), 1, "{at_close:?}");
        let again = open(&path);
        assert_eq!(again.entry_count(), 200, "every write survives the close");
        drop(again);
        assert_eq!(snapshots(&path), at_close, "the open after a close had nothing to replay");
    }

    #[test]
    fn a_store_dropped_without_close_leaves_its_writes_to_the_next_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let store = open(&path);
        write_some(&store, 200);
        drop(store);
        let before = snapshots(&path);
        drop(open(&path));
        assert_ne!(snapshots(&path), before, "the next open replayed the writes and recorded a snapshot");
    }

    #[test]
    fn close_does_nothing_while_other_handles_are_open_or_nothing_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let first = open(&path);
        write_some(&first, 10);
        let second = first.clone();
        assert!(!first.close().expect("close"), "another handle is still open");
        write_some(&second, 10);
        assert!(second.close().expect("close"));
        let read_only = open(&path);
        assert_eq!(read_only.entry_count(), 20);
        assert!(!read_only.close().expect("close"), "nothing was written: nothing to record");
    }
}
