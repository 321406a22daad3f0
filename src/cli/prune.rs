//! `newsriver prune --source ID`: removes a source's stored items once it is no longer
//! configured. The running service does it when it is up (it holds the store open), else the
//! store is opened here; then a summary is printed.

use super::out::emit;
use super::service;
use crate::prune::{self, Ask, Pruned};
use anyhow::Context as _;
use std::path::Path;
use std::time::Duration;

/// A large source takes a while; the service answers when the last batch is flushed.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(3600);

pub async fn prune(config: &Path, sources: &[String], dry_run: bool) -> anyhow::Result<()> {
    let ask = Ask { sources: sources.to_vec(), dry_run };
    prune::parse_ids(&ask.sources)?;
    let (done, by) = match ask_service(config, &ask).await? {
        Some((done, base)) => (done, format!("by the service at {base}")),
        None => {
            let settings = crate::config::Settings::load(config)?;
            let by = format!("in {} (service not running)", settings.store.location());
            (in_store(&settings, &ask)?, by)
        }
    };
    emit(&describe(&done, &by))
}

/// The service's answer and where it listens, or none when no service listens there.
async fn ask_service(config: &Path, ask: &Ask) -> anyhow::Result<Option<(Pruned, String)>> {
    let Some(base) = service::listen_of(config).and_then(service::base_url_of) else { return Ok(None) };
    let client = service::client(SERVICE_TIMEOUT).context("cannot build an HTTP client")?;
    let url = format!("{base}/api/prune");
    let resp = match service::with_admin_key(client.post(&url)).json(ask).send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("asking {url}"))),
    };
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        anyhow::bail!("the service at {base} needs the admin key: set {}", service::ADMIN_KEY_ENV);
    }
    let body = resp.bytes().await.context("reading the service's answer")?;
    if !status.is_success() {
        let said: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let why = said
            .get("error")
            .and_then(|e| e.as_str())
            .map_or_else(|| String::from_utf8_lossy(&body).into_owned(), str::to_owned);
        anyhow::bail!("the service at {base} did not prune ({status}): {why}");
    }
    Ok(Some((serde_json::from_slice(&body).context("the service's answer")?, base)))
}

fn in_store(settings: &crate::config::Settings, ask: &Ask) -> anyhow::Result<Pruned> {
    let ids = prune::parse_ids(&ask.sources)?;
    prune::refuse_configured(&ids, settings)?;
    let store = crate::store::Store::open_settings(&settings.store)?;
    let grouped = crate::events::Grouped::of(&settings.stories, &settings.topics);
    let rules = prune::Rules { stories: &settings.stories, grouped: &grouped };
    let pruned = prune::run(&store, &ids, rules, ask.dry_run, &|| false)?.summary;
    store.close()?;
    Ok(pruned)
}

/// The summary: what went (or would), what stands for the stories and events it was in, and
/// the channels that changed.
pub fn describe(p: &Pruned, by: &str) -> String {
    let head = if p.dry_run { "dry run, nothing written: pruning" } else { "pruned" };
    let would = |done: &str, dry: &str| if p.dry_run { dry.to_owned() } else { done.to_owned() };
    let mut out = format!("{head} {} {by}\n", p.sources.join(", "));
    out += &format!("  {}: {}\n", would("entries removed", "entries it would remove"), p.entries);
    out += &format!(
        "  {}: {}\n",
        would("stories re-pointed to another outlet's copy", "stories it would re-point"),
        p.stories_repointed
    );
    out += &format!(
        "  {}: {}\n",
        would("events re-pointed to another report", "events it would re-point"),
        p.events_repointed
    );
    let channels = if p.channels.is_empty() { "none".to_owned() } else { p.channels.join(", ") };
    out += &format!("  channels touched ({}): {channels}\n", p.channels.len());
    if p.interrupted {
        out += "  interrupted (the service is stopping): run it again to finish\n";
    }
    out
}
