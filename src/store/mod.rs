//! Durable storage in sled, or in PostgreSQL (`pg/`) through the same record layout (`kv.rs`).
//! Every poll commits all-or-nothing (`intent.rs` on sled, one transaction on PostgreSQL) and is
//! durable before it is reported done. sled and PostgreSQL types never leave this module.

mod ahead;
mod backup;
mod checkpoint;
mod codec;
mod commit;
mod compact;
mod copy;
mod entry_codec;
mod flushes;
mod group;
mod inflight;
mod intent;
pub mod keys;
mod kv;
mod leases;
mod migrate;
mod pg;
mod prune;
mod read;
mod records;
mod shared;
mod space;
mod story_index;
mod subscriptions;

pub use ahead::Ahead;
pub use backup::{on_postgres as backup_on_postgres, Backup};
pub use compact::{compact, compact_settings, Compacted};
pub use copy::{copy_store, Copied, CopyError};
pub use inflight::View;
pub use leases::LeaseRow;
pub use pg::Applied as Migration;
pub use prune::Removal;
pub use read::SincePage;
pub use shared::{Heard, LISTENER_NAME};

use crate::domain::{Change, ChannelId, IndexWrite, SourceId, SourceState};
use space::Space;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    /// A PostgreSQL failure; `url` is shown without its password.
    #[error("PostgreSQL at {url}: {detail}")]
    Postgres { url: String, detail: String },
    #[error("{what} is not available on PostgreSQL: {instead}")]
    Unsupported { what: &'static str, instead: &'static str },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// The store: cheap to clone (sled handles and the PostgreSQL pool are reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    /// Where every record lives, in one keyspace; see `keys.rs`.
    kv: kv::Kv,
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
    /// On PostgreSQL it holds the open group commit (`group.rs`), which `queued` commits join.
    commit_lock: Arc<Mutex<Option<group::Group>>>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    inflight: Arc<inflight::Inflight>,
    /// Durable writes made through this handle, for tests and metrics.
    writes: Arc<AtomicU64>,
    /// The last change-log sequence number given out; advanced under the commit lock and
    /// stored (`#seq`) with every commit that takes new numbers.
    seq: Arc<AtomicU64>,
    /// Where a sled store lives, for `close` (`checkpoint.rs`).
    place: Option<Arc<checkpoint::Place>>,
    /// Set by a PostgreSQL commit that found another instance's commits before it (`shared.rs`).
    /// The change-log positions other instances gave out between this handle's previous commit
    /// and the one deciding now: `(after, upto]` (PostgreSQL; see `shared.rs`).
    foreign: Arc<Mutex<Option<(u64, u64)>>>,
    /// The change-log positions this handle gave out lately, oldest first (PostgreSQL; see
    /// `shared.rs`).
    given: Arc<Mutex<std::collections::VecDeque<(u64, u64)>>>,
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

impl Store {
    /// Opens the store the settings name: the sled folder, or the PostgreSQL database.
    pub fn open_settings(settings: &crate::config::StoreSettings) -> Result<Self, StoreError> {
        match &settings.postgres {
            Some(pg) => Self::open_postgres(pg),
            None => Self::open(&settings.path, settings.cache_capacity),
        }
    }

    /// Opens (creating) the sled store at `path`.
    pub fn open(path: &Path, cache_capacity: u64) -> Result<Self, StoreError> {
        let open_err =
            |e: &dyn std::fmt::Display| StoreError::Open { path: path.display().to_string(), detail: e.to_string() };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| open_err(&e))?;
        }
        let db = checkpoint::open_sled(path, cache_capacity)?;
        let data = db.open_tree(keys::DATA_TREE).map_err(|e| open_err(&e))?;
        let intents = db.open_tree(keys::INTENT_TREE).map_err(|e| open_err(&e))?;
        migrate::from_trees(&db, &data)?;
        let recovered = intent::recover(&intents, &data)?;
        if let Some(done) = recovered {
            tracing::warn!("a commit interrupted by a crash was {done}");
            db.flush()?;
        }
        let wrote = Arc::new(AtomicBool::new(recovered.is_some()));
        let log_at_open = checkpoint::log_stamp(path);
        let place = checkpoint::Place { path: path.to_owned(), cache_capacity, log_at_open };
        Ok(Self {
            place: Some(Arc::new(place)),
            ..Self::on(kv::Kv::Sled { db, data, intents, wrote, flushes: Default::default() })?
        })
    }

    /// Connects to the PostgreSQL database and brings its schema up to date (`pg/migrate.rs`).
    pub fn open_postgres(options: &crate::config::PostgresSettings) -> Result<Self, StoreError> {
        Self::on(kv::Kv::Pg(pg::PgKv::connect(options)?))
    }

    /// Runs the PostgreSQL schema migrations not applied yet; returns their versions.
    pub fn migrate_postgres(options: &crate::config::PostgresSettings) -> Result<Vec<Migration>, StoreError> {
        pg::PgKv::connect_only(options)?.migrate()
    }

    fn on(kv: kv::Kv) -> Result<Self, StoreError> {
        let space = |tag: u8| Space::new(&kv, tag);
        let store = Self {
            entries: space(keys::ENTRIES),
            channels: space(keys::CHANNELS),
            counts: space(keys::COUNTS),
            changes: space(keys::CHANGES),
            sources: space(keys::SOURCES),
            meta: space(keys::META),
            story_idx: space(keys::STORY_INDEX),
            subscriptions: space(keys::SUBSCRIPTIONS),
            kv,
            commit_lock: Arc::default(),
            queued: Arc::default(),
            inflight: Arc::default(),
            writes: Arc::default(),
            seq: Arc::default(),
            place: None,
            foreign: Arc::default(),
            given: Arc::default(),
        };
        store.check_schema()?;
        store.ensure_entry_count()?;
        store.load_seq()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.meta.get(b"schema")? {
            None => {
                self.meta.insert(b"schema", keys::SCHEMA_VERSION.to_be_bytes())?;
                self.kv.flush()?;
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
        self.kv.flush()?;
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

    /// The store with the commits in flight, for reads outside a commit (which may then miss
    /// what a commit deciding meanwhile writes).
    pub fn view(&self) -> View<'_> {
        View { store: self, inflight: self.inflight.snapshot(), ahead: Default::default() }
    }

    /// The fingerprint of the topic rules the stored memberships were computed with.
    pub fn topics_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(b"topics")?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn set_topics_fingerprint(&self, fp: &str) -> Result<(), StoreError> {
        self.meta.insert(b"topics", fp.as_bytes())?;
        self.kv.flush()?;
        Ok(())
    }

    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn size_on_disk(&self) -> u64 {
        self.kv.size_on_disk()
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let kv = self.kv.clone();
        tokio::task::spawn_blocking(move || kv.flush()).await.map_err(|e| StoreError::Io(e.to_string()))?
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
mod space_reuse_tests;
#[cfg(test)]
mod test_place;
#[cfg(test)]
mod tests;
