//! The PostgreSQL backend: the sled record layout in one table, `newsriver_records(k bytea
//! primary key, v bytea)` (bytea compares as memcmp, so prefix and range scans keep sled's
//! order), reached through a pool of connections.
//!
//! The store's API is synchronous and is called from blocking threads, async workers and
//! current-thread test runtimes alike, where neither `block_on` nor `block_in_place` may run. So
//! the backend owns a small runtime of its own (2 threads) holding the pool: a call spawns its
//! query there and waits on a channel for the answer. The runtime stops with the last handle.
//!
//! Commits (`commit.rs`) are serialized across every process on the database, not only inside
//! one: a commit takes `pg_advisory_xact_lock(COMMIT_LOCK)` in its own transaction before it
//! decides anything, reads the last change-log number from the database under that lock, and
//! writes everything in that same transaction. Two instances thus never give out one sequence
//! number, a commit's decisions (story matching) see every commit before it, and commits become
//! visible in sequence order (a transaction is visible before its lock is released), which
//! `?since=` cursors rely on. Schema migrations (`migrate.rs`) take another advisory lock.

mod commit;
mod lease;
mod listen;
mod migrate;
mod scan;
mod tls;

pub use commit::Txn;
pub use lease::One as LeaseClaim;
pub use listen::{Heard, LISTENER_NAME};
pub use migrate::Applied;
pub use scan::Scan;

use super::StoreError;
use crate::config::PostgresSettings;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The one table every record lives in (see `migrations/0001_records.sql`).
const TABLE: &str = "newsriver_records";

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct PgKv(Arc<Inner>);

struct Inner {
    /// `None` only while being dropped.
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// For the one connection outside the pool, which listens for other instances' commits.
    config: tokio_postgres::Config,
    /// The URL without its password, for errors.
    shown: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Does not wait: the last handle may go inside an async task, where waiting is refused.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgKv({})", self.0.shown)
    }
}

/// A failure on the way to or inside the database, before it is named with the URL.
#[derive(Debug)]
pub enum PgError {
    Db(tokio_postgres::Error),
    Pool(String),
    Other(String),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Self::Db(e),
            e => Self::Pool(e.to_string()),
        }
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A server error's own text; the driver's Display says only "db error".
            Self::Db(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}: {} ({})", db.severity(), db.message(), db.code().code()),
                None => match std::error::Error::source(e) {
                    Some(cause) => write!(f, "{e}: {cause}"),
                    None => write!(f, "{e}"),
                },
            },
            Self::Pool(e) | Self::Other(e) => f.write_str(e),
        }
    }
}

impl PgKv {
    /// Connects and brings the schema up to date.
    pub fn connect(settings: &PostgresSettings) -> Result<Self, StoreError> {
        let kv = Self::connect_only(settings)?;
        for done in kv.migrate()? {
            tracing::info!(version = done.version, name = done.name, "store: PostgreSQL schema migration applied");
        }
        Ok(kv)
    }

    /// Connects (one connection is made now, so a wrong URL or password fails here).
    pub fn connect_only(settings: &PostgresSettings) -> Result<Self, StoreError> {
        let shown = settings.url.to_string();
        let fail = |detail: String| StoreError::Postgres { url: shown.clone(), detail };
        let mut config: tokio_postgres::Config = settings.url.expose().parse().map_err(|e| fail(format!("{e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("newsriver");
        let manager = Manager::from_config(
            config.clone(),
            tls::connector().map_err(fail)?,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .post_create(deadpool_postgres::Hook::async_fn(|client, _| Box::pin(plan_each_read(client))))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("newsriver-pg")
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the database runtime: {e}")))?;
        let kv = Self(Arc::new(Inner { rt: Some(rt), pool, config, shown }));
        kv.run(|pool| async move { pool.get().await.map(drop).map_err(PgError::from) })?;
        Ok(kv)
    }

    fn error(&self, e: PgError) -> StoreError {
        StoreError::Postgres { url: self.0.shown.clone(), detail: e.to_string() }
    }

    /// Runs `f`'s future on the backend's runtime and waits for its answer.
    fn run<T, F>(&self, f: impl FnOnce(Pool) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, PgError>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let future = f(self.0.pool.clone());
        self.spawn(async move {
            let _ = tx.send(future.await);
        });
        match rx.recv() {
            Ok(answer) => answer.map_err(|e| self.error(e)),
            Err(_) => Err(self.error(PgError::Other("the database task ended without an answer".into()))),
        }
    }

    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.0.rt {
            drop(rt.spawn(future));
        }
    }

    pub fn get(&self, k: Vec<u8>) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            let st = c.prepare_cached("SELECT v FROM newsriver_records WHERE k = $1").await?;
            Ok(c.query_opt(&st, &[&k]).await?.map(|row| row.get(0)))
        })
    }

    /// The values of `keys`, in their order.
    pub fn get_many(&self, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.run(|pool| async move {
            let c = pool.get().await?;
            let st = c.prepare_cached("SELECT k, v FROM newsriver_records WHERE k = ANY($1::bytea[])").await?;
            let mut found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
                c.query(&st, &[&keys]).await?.into_iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(keys.iter().map(|k| found.remove(k)).collect())
        })
    }

    /// Writes outside a commit (source state alone, meta, maintenance), in one transaction.
    pub fn write(&self, writes: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            let tx = c.transaction().await?;
            commit::write_all(&tx, writes).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn scan(&self, from: Vec<u8>, to: std::ops::Bound<Vec<u8>>) -> Scan {
        Scan::new(self.clone(), from, to)
    }

    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            let row = c.query_one("SELECT pg_total_relation_size($1::text::regclass)", &[&TABLE]).await?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    /// How many records the table holds.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            let row = c.query_one("SELECT count(*) FROM newsriver_records", &[]).await?;
            Ok(row.get::<_, i64>(0).unsigned_abs())
        })
    }

    /// Removes every record (`copy-store --force`).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.run(|pool| async move { Ok(pool.get().await?.batch_execute("DELETE FROM newsriver_records").await?) })
    }

    /// Applies the migrations not applied yet; returns them.
    pub fn migrate(&self) -> Result<Vec<Applied>, StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            migrate::run(&mut c).await
        })?
        .map_err(|(found, supported)| StoreError::Schema { found, supported })
    }
}

/// Gives a connection whose transaction failed back as closed, never to the pool (it could be
/// left inside the transaction).
fn discard(client: Object) {
    drop(Object::take(client));
}

/// Plans every statement for its parameters. A cached generic plan is chosen by the table's
/// size when the statement is first run: on a store that starts empty, reads by key keep the
/// sequential scan planned then (until autovacuum's first analyze), and each one reads the
/// whole table, which grows with every commit. Planning a key lookup costs tens of
/// microseconds. Engines without the setting keep their own plans (the error is ignored).
async fn plan_each_read(client: &mut deadpool_postgres::ClientWrapper) -> Result<(), deadpool_postgres::HookError> {
    if let Err(e) = client.batch_execute("SET plan_cache_mode = force_custom_plan").await {
        tracing::debug!(error = %e, "store: the server keeps its own plan cache mode");
    }
    Ok(())
}
