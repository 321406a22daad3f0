//! `newsriver copy-store --to <postgres://… | sled folder> [--from …] [--force]`: every record of
//! one store into another (`store::copy_store`), for moving from sled to PostgreSQL and back. URLs
//! are shown without their password.

use super::out::emit;
use crate::config::{DatabaseUrl, PostgresSettings, Settings, StoreSettings};
use anyhow::Context as _;
use std::path::PathBuf;

/// Connections a copy needs at most (reads go one page at a time, writes one batch at a time).
const POOL: usize = 2;
/// Records between two progress lines.
const PROGRESS_EVERY: u64 = 100_000;

pub async fn copy_store(settings: Settings, from: Option<String>, to: String, force: bool) -> anyhow::Result<()> {
    let source = match &from {
        Some(raw) => location(raw, &settings.store).context("--from")?,
        None => settings.store.clone(),
    };
    let target = location(&to, &settings.store).context("--to")?;
    let (shown_from, shown_to) = (source.location(), target.location());
    let done = tokio::task::spawn_blocking(move || {
        let mut last = 0;
        crate::store::copy_store(&source, &target, force, |n| {
            if n / PROGRESS_EVERY > last / PROGRESS_EVERY {
                eprintln!("copied {n} records");
            }
            last = n;
        })
    })
    .await
    .context("the copy task failed")?
    .with_context(|| format!("cannot copy {shown_from} to {shown_to}"))?;
    let mut out = format!(
        "copied {} records ({} entries) from {shown_from} to {shown_to}; counted {} records in the target\n",
        done.records, done.entries, done.records
    );
    if done.replaced > 0 {
        out += &format!("replaced the {} records the target held (--force)\n", done.replaced);
    }
    emit(&out)
}

/// A `postgres://` (or `postgresql://`) URL, or a sled folder (relative to the current folder).
fn location(raw: &str, base: &StoreSettings) -> anyhow::Result<StoreSettings> {
    let is_url = ["postgres://", "postgresql://"].iter().any(|p| raw.starts_with(p));
    if is_url {
        // The parser's errors never quote the password.
        let url = DatabaseUrl::parse(raw).map_err(anyhow::Error::msg)?;
        let postgres = Some(PostgresSettings { url, pool: POOL });
        return Ok(StoreSettings { postgres, ..base.clone() });
    }
    anyhow::ensure!(!raw.contains("://"), "a store is a postgres:// URL or a sled folder");
    Ok(StoreSettings { path: PathBuf::from(raw), postgres: None, ..base.clone() })
}
