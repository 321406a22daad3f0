//! Versioned schema migrations, embedded in the binary and applied in order on open (and by
//! `newsriver migrate`). Each runs in its own transaction with its row in
//! `newsriver_schema_migrations`; all of them under a session advisory lock, so instances that
//! start at once wait for each other instead of applying one twice.

use super::PgError;
use deadpool_postgres::Object;

/// The advisory lock migrations run under ("nrmigrat"), distinct from the commit lock.
const MIGRATE_LOCK: i64 = 0x6e72_6d69_6772_6174;

/// (version, name, SQL), in order.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "records", include_str!("migrations/0001_records.sql")),
    (2, "leases", include_str!("migrations/0002_leases.sql")),
];

/// A migration this run applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i32,
    pub name: &'static str,
}

/// Applies what is missing. The inner error is a database schema newer than this binary's:
/// (found, supported).
pub async fn run(client: &mut Object) -> Result<Result<Vec<Applied>, (u32, u32)>, PgError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK]).await?;
    let outcome = apply_missing(client).await;
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]).await;
    let outcome = outcome?;
    unlocked?;
    Ok(outcome)
}

async fn apply_missing(client: &mut Object) -> Result<Result<Vec<Applied>, (u32, u32)>, PgError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS newsriver_schema_migrations (\
             version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let rows = client.query("SELECT version FROM newsriver_schema_migrations", &[]).await?;
    let done: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let supported = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
    if let Some(newer) = done.iter().copied().filter(|v| *v > supported).max() {
        return Ok(Err((newer.unsigned_abs(), supported.unsigned_abs())));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| !done.contains(&m.0)) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO newsriver_schema_migrations (version) VALUES ($1)", &[version]).await?;
        tx.commit().await?;
        applied.push(Applied { version: *version, name });
    }
    Ok(Ok(applied))
}
