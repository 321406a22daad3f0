//! Durable storage in sled. Every poll commits all-or-nothing (`intent.rs`) and is flushed before it is
//! reported done. sled types never leave this module.

mod backup;
mod codec;
mod compact;
mod entry_codec;
mod inflight;
mod intent;
pub mod keys;
mod migrate;
mod prune;
mod read;
mod space;
mod story_index;
mod subscriptions;

pub use backup::Backup;
pub use compact::{compact, Compacted};
pub use inflight::View;
pub use prune::Removal;
pub use read::SincePage;

use crate::domain::{Change, ChannelId, Entry, EntryKey, IndexWrite, SourceId, SourceState};
use space::Space;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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

/// The store: cheap to clone (sled handles are reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    db: sled::Db,
    /// Every record, in one tree; see `keys.rs`.
    data: sled::Tree,
    /// The writes of the commit being made (`intent.rs`).
    intents: sled::Tree,
    entries: Space,
    channels: Space,
    counts: Space,
    changes: Space,
    sources: Space,
    meta: Space,
    story_idx: Space,
    subscriptions: Space,
    /// Serializes commits' decisions (story matching, sequence numbers); `inflight` then
    /// applies them in the same order, so a reader that sees sequence n can never later find a
    /// smaller one appear (`?since=` relies on it).
    commit_lock: Arc<Mutex<()>>,
    inflight: Arc<inflight::Inflight>,
    /// Durable writes made through this handle, for tests and metrics.
    writes: Arc<AtomicU64>,
    /// The last change-log sequence number given out; advanced under the commit lock and
    /// stored (`#seq`) with every commit that takes new numbers.
    seq: Arc<AtomicU64>,
}

/// What a poll commits, decided under the commit lock (the caller's decisions, e.g. story
/// matching, must see every earlier commit, or two sources carrying one new story at once would
/// found two stories).
#[derive(Debug, Default)]
pub struct Prepared {
    pub changes: Vec<Change>,
    pub index: Vec<IndexWrite>,
    pub state: SourceState,
}

/// What a commit wrote: its changes (shared with commits deciding meanwhile, which read them
/// through a `View`, instead of copied), index writes and the source's new state.
#[derive(Debug)]
pub struct Committed {
    pub changes: Arc<Vec<Change>>,
    pub index: Vec<IndexWrite>,
    pub state: SourceState,
}

/// A commit's encoded writes, and what it changes in counters.
struct Staged {
    /// Entry values first (`intent.rs`), each with whether it replaces a stored one.
    entries: Vec<(Vec<u8>, Vec<u8>, bool)>,
    batch: space::Batch,
    deltas: HashMap<Vec<u8>, i64>,
}

/// One entry write: the new version, the stored one it replaces, and whether it takes a new
/// change-log position (edits and new items do; topic re-routing does not).
struct Write<'a> {
    entry: &'a Entry,
    previous: Option<&'a Entry>,
}

impl Store {
    pub fn open(path: &Path, cache_capacity: u64) -> Result<Self, StoreError> {
        let open_err =
            |e: &dyn std::fmt::Display| StoreError::Open { path: path.display().to_string(), detail: e.to_string() };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| open_err(&e))?;
        }
        let db = sled::Config::new().path(path).cache_capacity(cache_capacity).open().map_err(|e| open_err(&e))?;
        let data = db.open_tree(keys::DATA_TREE).map_err(|e| open_err(&e))?;
        let intents = db.open_tree(keys::INTENT_TREE).map_err(|e| open_err(&e))?;
        let space = |tag: u8| Space::new(&data, tag);
        let store = Self {
            entries: space(keys::ENTRIES),
            channels: space(keys::CHANNELS),
            counts: space(keys::COUNTS),
            changes: space(keys::CHANGES),
            sources: space(keys::SOURCES),
            meta: space(keys::META),
            story_idx: space(keys::STORY_INDEX),
            subscriptions: space(keys::SUBSCRIPTIONS),
            data,
            intents,
            commit_lock: Arc::default(),
            inflight: Arc::default(),
            writes: Arc::default(),
            seq: Arc::default(),
            db,
        };
        migrate::from_trees(&store.db, &store.data)?;
        if let Some(done) = intent::recover(&store.intents, &store.data)? {
            tracing::warn!("a commit interrupted by a crash was {done}");
            store.db.flush()?;
        }
        store.check_schema()?;
        store.ensure_entry_count()?;
        store.load_seq()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.meta.get(b"schema")? {
            None => {
                self.meta.insert(b"schema", keys::SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
            Some(v) => {
                let bytes: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    what: "schema version",
                    detail: format!("{} bytes", v.len()),
                })?;
                let found = u32::from_be_bytes(bytes);
                if found > keys::SCHEMA_VERSION {
                    return Err(StoreError::Schema { found, supported: keys::SCHEMA_VERSION });
                }
            }
        }
        Ok(())
    }

    /// Saves a source's state alone (a failure, or new validators) and makes it durable.
    pub fn save_source_state(&self, id: &SourceId, state: &SourceState) -> Result<(), StoreError> {
        self.sources.insert(id.as_str(), codec::encode(state)?)?;
        self.db.flush()?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a poll's changes and the source's new state in one transaction, then flushes:
    /// when this returns Ok the poll survives `kill -9`. Each written entry gets a new
    /// change-log sequence number (stored in `Entry::seq`).
    pub fn commit_poll(
        &self,
        source: &SourceId,
        changes: &mut Vec<Change>,
        state: &SourceState,
    ) -> Result<(), StoreError> {
        let taken = std::mem::take(changes);
        let done =
            self.commit_poll_with(source, |_| Ok(Prepared { changes: taken, index: vec![], state: state.clone() }))?;
        // A commit deciding meanwhile may still share the changes: then they are copied.
        *changes = Arc::try_unwrap(done.changes).unwrap_or_else(|shared| shared.as_ref().clone());
        Ok(())
    }

    /// Like `commit_poll`, with the writes decided by `prepare` while no other commit decides.
    /// `prepare` sees the store with the writes of earlier commits still being applied.
    pub fn commit_poll_with(
        &self,
        source: &SourceId,
        prepare: impl FnOnce(&View<'_>) -> Result<Prepared, StoreError>,
    ) -> Result<Committed, StoreError> {
        let (p, changes, ticket) = {
            let _decide = self.commit_lock.lock().unwrap_or_else(PoisonError::into_inner);
            let mut p = prepare(&View { store: self, inflight: self.inflight.snapshot() })?;
            self.number(&mut p.changes);
            let changes = Arc::new(std::mem::take(&mut p.changes));
            let ticket = self.inflight.register(inflight::Pending::of(changes.clone(), &p.index));
            (p, changes, ticket)
        };
        // The next commit decides meanwhile; this one encodes, then applies in its turn.
        let turn = inflight::Turn::new(&self.inflight, ticket);
        let writes: Vec<Write<'_>> =
            changes.iter().map(|c| Write { entry: c.entry(), previous: c.previous() }).collect();
        let staged = self.stage(&writes, &p.index, Some((source, &p.state)))?;
        drop(writes);
        turn.wait()?;
        self.apply(staged)?;
        turn.applied();
        // Flushed after the turn ends: polls that commit meanwhile share one fsync instead of
        // queueing behind each other's, and none is acknowledged before it is durable.
        self.db.flush()?;
        Ok(Committed { changes, index: p.index, state: p.state })
    }

    /// Gives each change its change-log position. Callers hold the commit lock.
    fn number(&self, changes: &mut [Change]) {
        for c in changes.iter_mut() {
            // A metadata-only refresh keeps its place in the change log: partners polling
            // `since` have nothing new to fetch.
            if !matches!(c, Change::Updated { edited: false, .. }) {
                c.entry_mut().seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            }
        }
    }

    /// The store with the commits in flight, for reads outside a commit (which may then miss
    /// what a commit deciding meanwhile writes).
    pub fn view(&self) -> View<'_> {
        View { store: self, inflight: self.inflight.snapshot() }
    }

    /// Re-routes the entries under `keys`: `route` sees each one as stored now (polls may run
    /// meanwhile) and returns its new version when membership changed. Change-log positions
    /// stay. Returns the entries rewritten, as (before, after).
    pub fn retopic(
        &self,
        keys: &[EntryKey],
        route: impl Fn(&Entry) -> Option<Entry>,
    ) -> Result<Vec<(Entry, Entry)>, StoreError> {
        let serial = self.commit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.inflight.drain();
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
        self.apply(staged)?;
        drop(serial);
        self.db.flush()?;
        Ok(updates)
    }

    /// Encodes writes into a batch; counters are added in `apply`, in the commit's turn.
    fn stage(
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
    fn apply(&self, staged: Staged) -> Result<(), StoreError> {
        let Staged { entries, mut batch, deltas } = staged;
        // Counters are read here and written in the batch: applies run one at a time, and are
        // the only writers of counters.
        for (name, delta) in deltas.iter().filter(|(_, d)| **d != 0) {
            let now = self.counts.get(name)?.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes);
            self.counts.put(&mut batch, name, now.saturating_add_signed(*delta).to_be_bytes());
        }
        self.counts.put(&mut batch, keys::LAST_SEQ, self.seq.load(Ordering::Relaxed).to_be_bytes());
        intent::commit(&self.intents, &self.data, entries, batch)?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The fingerprint of the topic rules the stored memberships were computed with.
    pub fn topics_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(b"topics")?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn set_topics_fingerprint(&self, fp: &str) -> Result<(), StoreError> {
        self.meta.insert(b"topics", fp.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush()).await.map_err(|e| StoreError::Io(e.to_string()))??;
        Ok(())
    }

    /// The stored sequence counter, or for stores from before it (which used sled's id
    /// generator) the newest change-log position.
    fn load_seq(&self) -> Result<(), StoreError> {
        let stored = self.counts.get(keys::LAST_SEQ)?.and_then(|v| v.as_ref().try_into().ok()).map(u64::from_be_bytes);
        let last = stored.unwrap_or(0).max(self.last_seq()?);
        self.seq.store(last, Ordering::Relaxed);
        Ok(())
    }

    /// Stores from before the entry counter get it once, from one count of the entries.
    fn ensure_entry_count(&self) -> Result<(), StoreError> {
        if self.counts.get(keys::ENTRY_COUNT)?.is_none() {
            let n = self.entries.scan_prefix([]).count() as u64;
            self.counts.insert(keys::ENTRY_COUNT, n.to_be_bytes())?;
        }
        Ok(())
    }

    pub fn channel_count(&self, ch: &ChannelId) -> Result<u64, StoreError> {
        Ok(self
            .counts
            .get(keys::channel_name(ch))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }
}

#[cfg(test)]
mod tests;
