//! `newsriver backup DIR`: a consistent copy of the store, made by the running service when it is
//! up (it holds the store open), else from the store directly.

use super::out::emit;
use crate::config::Settings;
use crate::store::Backup;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A large store takes a while to copy; the service answers when the copy is flushed.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(3600);

pub async fn backup(settings: Settings, dir: PathBuf) -> anyhow::Result<()> {
    if settings.store.postgres.is_some() {
        return Err(crate::store::backup_on_postgres().into());
    }
    // The service resolves the folder itself: it must be the same folder the user named here.
    let dir = std::path::absolute(&dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let (b, by) = match ask_service(&settings, &dir).await? {
        Some(b) => (b, format!("by the service at {}", settings.server.listen)),
        None => (from_store(&settings, &dir)?, format!("from {} (service not running)", settings.store.path.display())),
    };
    let mib = b.bytes as f64 / (1024.0 * 1024.0);
    emit(&format!(
        "backed up {} entries ({} records, {mib:.1} MiB) to {} {by}\nrestore: stop the service and set [store] path = {:?}\n",
        b.entries,
        b.records,
        dir.display(),
        dir.display().to_string()
    ))
}

/// The service's answer, or none when no service listens (a refused connection).
async fn ask_service(settings: &Settings, dir: &Path) -> anyhow::Result<Option<Backup>> {
    let (Some(base), Some(client)) = (super::service::base_url(settings), super::service::client(SERVICE_TIMEOUT))
    else {
        return Ok(None);
    };
    let ask = serde_json::to_vec(&serde_json::json!({ "dir": dir }))?;
    let sent = super::service::with_admin_key(client.post(format!("{base}/api/backup")))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(ask)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e).context("asking the running service for a backup")),
    };
    let status = resp.status();
    let body: serde_json::Value =
        serde_json::from_slice(&resp.bytes().await.context("reading the service's answer")?).unwrap_or_default();
    if !status.is_success() {
        let why = body.get("error").and_then(|e| e.as_str()).unwrap_or("no reason given");
        anyhow::bail!("the service refused the backup ({status}): {why}");
    }
    Ok(Some(serde_json::from_value(body).context("the service's answer")?))
}

fn from_store(settings: &Settings, dir: &Path) -> anyhow::Result<Backup> {
    let store = crate::store::Store::open_settings(&settings.store)?;
    Ok(store.backup_to(dir)?)
}
