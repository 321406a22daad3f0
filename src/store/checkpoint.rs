//! Leaving a sled store that the next open reads quickly. sled 0.34 records a snapshot (its page
//! table as of a log position) only while it opens a store, and every open replays the log
//! written since the last snapshot: a process that wrote a million entries and exited left them
//! all to the next start to replay (3.7 s before the service answered). Closing the last handle
//! after the log grew (by writes, or by sled moving pages on its own) therefore opens the store
//! once more, which replays this session's log and records the snapshot at the log's tip, so the
//! next open replays nothing. Correctness never depends on it: a store left without a close (a
//! crash, `kill -9`) replays its log.

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
    /// The log file as the open left it (`log_stamp`).
    pub log_at_open: Option<LogStamp>,
}

/// Length and modification time of sled's log file.
pub(super) type LogStamp = (u64, std::time::SystemTime);

pub(super) fn log_stamp(path: &Path) -> Option<LogStamp> {
    let meta = std::fs::metadata(path.join("db")).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

impl Store {
    /// Closes this handle. When it is the process's last one and the log grew since the open
    /// (by this process's writes or sled's own), opens the store once more (see the module note)
    /// and says `true`: the next open then starts at once. While other handles remain the store
    /// stays open and nothing is done.
    pub fn close(self) -> Result<bool, StoreError> {
        let kv::Kv::Sled { wrote, .. } = &self.kv else { return Ok(false) };
        let Some(place) = self.place.clone() else { return Ok(false) };
        if !self.last_handle_within(RELEASE_GRACE) {
            tracing::debug!("store still open elsewhere: the next open replays what this process wrote");
            return Ok(false);
        }
        self.kv.flush()?;
        // sled writes on its own too: its flusher moves pages out of sparse segments, and a read
        // that meets an oversized node splits it. On a store built by random inserts a session
        // that only read left ~600 KB of log, and the next start replayed it and rewrote the
        // 20 MB snapshot (a fifth of a first start at 1M entries).
        if !wrote.load(Ordering::Relaxed) && log_stamp(&place.path) == place.log_at_open {
            return Ok(false);
        }
        drop(self);
        let started = std::time::Instant::now();
        drop(when_unlocked(|| open_sled(&place.path, place.cache_capacity))?);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(elapsed_ms, "store closed with a snapshot at the log's tip");
        Ok(true)
    }
}

/// How long a close waits for handles that other threads are letting go of. A task that has
/// just reported its result may still hold one for a moment; a part that keeps one for good
/// costs a shutdown this much.
const RELEASE_GRACE: Duration = Duration::from_millis(500);

impl Store {
    /// Whether this is the only handle, now or once the others are dropped within `grace`.
    fn last_handle_within(&self, grace: Duration) -> bool {
        let until = std::time::Instant::now() + grace;
        while Arc::strong_count(&self.writes) > 1 {
            if std::time::Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
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

    /// A store in a fresh directory with `n` entries committed.
    fn written(n: usize) -> (tempfile::TempDir, PathBuf, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let store = open(&path);
        write_some(&store, n);
        (dir, path, store)
    }

    #[test]
    fn a_closed_store_opens_without_replaying_its_log() {
        let (_dir, path, store) = written(200);
        assert!(store.close().expect("close"), "the last handle after writes records a snapshot");
        let at_close = snapshots(&path);
        assert_eq!(at_close.len(), 1, "{at_close:?}");
        let again = open(&path);
        assert_eq!(again.entry_count(), 200, "every write survives the close");
        drop(again);
        assert_eq!(snapshots(&path), at_close, "the open after a close had nothing to replay");
    }

    #[test]
    fn a_session_in_which_only_sled_wrote_is_closed_with_a_snapshot_too() {
        let (_dir, path, store) = written(50);
        assert!(store.close().expect("close"));
        let reader = open(&path);
        assert_eq!(reader.entry_count(), 50);
        // What sled's flusher does when it moves pages: log records no commit of ours made.
        let kv::Kv::Sled { db, .. } = &reader.kv else { panic!("a sled store") };
        db.open_tree("sled-own").and_then(|t| t.insert(b"page", &[7u8; 4096][..])).expect("raw write");
        assert!(reader.close().expect("close"), "the log grew: recorded at close");
        let at_close = snapshots(&path);
        drop(open(&path));
        assert_eq!(snapshots(&path), at_close, "the next open had nothing to replay");
    }

    #[test]
    fn a_store_dropped_without_close_leaves_its_writes_to_the_next_open() {
        let (_dir, path, store) = written(200);
        drop(store);
        let before = snapshots(&path);
        drop(open(&path));
        assert_ne!(snapshots(&path), before, "the next open replayed the writes and recorded a snapshot");
    }

    #[test]
    fn close_waits_for_a_handle_another_thread_is_letting_go_of() {
        let (_dir, path, store) = written(20);
        let other = store.clone();
        let releasing = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(other);
        });
        assert!(store.close().expect("close"), "the other handle went within the grace: recorded at close");
        releasing.join().expect("join");
        let at_close = snapshots(&path);
        drop(open(&path));
        assert_eq!(snapshots(&path), at_close, "the next open had nothing to replay");
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
