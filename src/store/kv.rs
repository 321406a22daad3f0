//! The two places records can live behind `Space`: sled's one tree (with the small tree of
//! `intent.rs`), or PostgreSQL's one table (`pg/`). Both hold the same keys and values in the
//! same byte order, so every reader and writer above works on either through one `match`: no
//! allocation or dynamic call is added to sled's reads.

use super::flushes::Flushes;
use super::pg::{self, PgKv};
use super::records::{Batch, Bytes, Item};
use super::StoreError;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where records live; cheap to clone.
#[derive(Clone, Debug)]
pub(super) enum Kv {
    /// `wrote`: whether anything was written through these handles since the open (a clean
    /// close then leaves a snapshot: `checkpoint.rs`); `flushes`: the flushes commits share.
    Sled {
        db: sled::Db,
        data: sled::Tree,
        intents: sled::Tree,
        wrote: Arc<AtomicBool>,
        flushes: Arc<Flushes>,
    },
    Pg(PgKv),
}

/// The right to decide and write a commit, taken before its decisions: on sled the caller's
/// commit lock is all it needs; on PostgreSQL, an open transaction holding the cluster-wide commit
/// lock, and the last change-log number any instance gave out.
pub(super) enum Serial {
    Local,
    Pg { txn: Box<pg::Txn>, last_seq: u64 },
}

impl Kv {
    pub(super) fn get(&self, k: &[u8]) -> Result<Option<Bytes>, StoreError> {
        match self {
            Self::Sled { data, .. } => Ok(data.get(k)?.map(Bytes::Sled)),
            Self::Pg(pg) => Ok(pg.get(k.to_vec())?.map(Bytes::Owned)),
        }
    }

    /// The values of `keys`, in their order: one query on PostgreSQL.
    pub(super) fn get_many(&self, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Bytes>>, StoreError> {
        match self {
            Self::Sled { data, .. } => keys.iter().map(|k| Ok(data.get(k)?.map(Bytes::Sled))).collect(),
            Self::Pg(pg) => Ok(pg.get_many(keys)?.into_iter().map(|v| v.map(Bytes::Owned)).collect()),
        }
    }

    /// Whether every read is a round trip to a server (worth batching).
    pub(super) fn is_remote(&self) -> bool {
        matches!(self, Self::Pg(_))
    }

    pub(super) fn insert(&self, k: Vec<u8>, v: &[u8]) -> Result<(), StoreError> {
        match self {
            Self::Sled { data, wrote, .. } => {
                wrote.store(true, Ordering::Relaxed);
                data.insert(k, v).map(drop).map_err(StoreError::from)
            }
            Self::Pg(pg) => pg.write(vec![(k, Some(v.to_vec()))]),
        }
    }

    pub(super) fn remove(&self, k: Vec<u8>) -> Result<(), StoreError> {
        match self {
            Self::Sled { data, wrote, .. } => {
                wrote.store(true, Ordering::Relaxed);
                data.remove(k).map(drop).map_err(StoreError::from)
            }
            Self::Pg(pg) => pg.write(vec![(k, None)]),
        }
    }

    /// Records with `from <= key < to`, lazily, from either end.
    pub(super) fn range(&self, from: Vec<u8>, to: Bound<Vec<u8>>) -> Scan {
        match self {
            Self::Sled { data, .. } => Scan::Sled(data.range((Bound::Included(from), to))),
            Self::Pg(pg) => Scan::Pg(pg.scan(from, to)),
        }
    }

    /// Makes every write so far durable (a committed PostgreSQL transaction already is).
    pub(super) fn flush(&self) -> Result<(), StoreError> {
        match self {
            Self::Sled { db, flushes, .. } => flushes.run(|| db.flush().map(drop).map_err(StoreError::from)),
            Self::Pg(_) => Ok(()),
        }
    }

    pub(super) fn size_on_disk(&self) -> u64 {
        match self {
            Self::Sled { db, .. } => db.size_on_disk().unwrap_or(0),
            Self::Pg(pg) => pg.size_on_disk().unwrap_or(0),
        }
    }

    /// Begins a commit's decisions; see `Serial`.
    pub(super) fn serial(&self) -> Result<Serial, StoreError> {
        match self {
            Self::Sled { .. } => Ok(Serial::Local),
            Self::Pg(pg) => pg.begin_serial().map(|(txn, last_seq)| Serial::Pg { txn: Box::new(txn), last_seq }),
        }
    }

    /// Writes a commit all-or-nothing: `entries` as (key, value, replaces a stored value), then
    /// `rest`, in the transaction `serial` opened.
    pub(super) fn commit(
        &self,
        serial: Serial,
        entries: Vec<(Vec<u8>, Vec<u8>, bool)>,
        rest: Batch,
    ) -> Result<(), StoreError> {
        match (self, serial) {
            (Self::Sled { data, intents, wrote, .. }, _) => {
                wrote.store(true, Ordering::Relaxed);
                super::intent::commit(intents, data, entries, rest)
            }
            (Self::Pg(pg), Serial::Pg { txn, .. }) => pg.commit(*txn, entries, rest),
            (Self::Pg(pg), Serial::Local) => pg.commit(pg.begin_serial()?.0, entries, rest),
        }
    }
}

/// A lazy scan over either backend, reversible.
pub(super) enum Scan {
    Sled(sled::Iter),
    Pg(pg::Scan),
}

fn sled_item(item: sled::Result<(sled::IVec, sled::IVec)>) -> Item {
    item.map(|(k, v)| (Bytes::Sled(k), Bytes::Sled(v))).map_err(StoreError::from)
}

impl Iterator for Scan {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        match self {
            Self::Sled(it) => it.next().map(sled_item),
            Self::Pg(it) => it.next(),
        }
    }
}

impl DoubleEndedIterator for Scan {
    fn next_back(&mut self) -> Option<Item> {
        match self {
            Self::Sled(it) => it.next_back().map(sled_item),
            Self::Pg(it) => it.next_back(),
        }
    }
}
