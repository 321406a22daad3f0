//! `newsriver sources`: the status of every source as a table. Asks the running service first
//! (it holds the store open and knows next polls and 304 rates); reads the store when it is down.
//! A service that refused its new configuration says so (`config_error`) in a line above the table.

use crate::config::Settings;
use crate::metrics::SourceCounters;
use crate::status::{source_status, SourceStatus};
use chrono::{DateTime, Utc};
use std::time::Duration;

pub async fn sources(settings: Settings, json: bool, watch: Option<u64>) -> anyhow::Result<()> {
    if let Some(secs) = watch {
        return watch_table(&settings, Duration::from_secs(secs.max(1))).await;
    }
    let (statuses, from) = statuses(&settings).await?;
    show(&statuses, &from, json)
}

/// `newsriver sources` when the config file does not load: the running service (found by
/// `server.listen` alone) still answers, on its last good configuration, and names the
/// problems; without a service, the config's problems are the error.
pub async fn sources_of_service(
    config: &std::path::Path,
    error: crate::config::ConfigError,
    json: bool,
) -> anyhow::Result<()> {
    let base = super::service::listen_of(config).and_then(super::service::base_url_of);
    match base {
        Some(base) => match from_service(&base).await? {
            Some(live) => show(&live, &format!("live from {base}"), json),
            None => Err(error.into()),
        },
        None => Err(error.into()),
    }
}

fn show(live: &Live, from: &str, json: bool) -> anyhow::Result<()> {
    let problems = if live.config_error.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = live.config_error.iter().map(|p| format!("  {p}\n")).collect();
        format!("config_error: the service runs on its last good configuration; the new one has:\n{}", list.concat())
    };
    if json {
        // The document stays `/api/sources`'s; the problems go where a person sees them.
        if !problems.is_empty() {
            eprint!("{problems}");
        }
        return super::out::emit(&format!("{}\n", serde_json::to_string_pretty(&live.statuses)?));
    }
    let n = live.statuses.len();
    super::out::emit(&format!("{problems}{}{n} sources, {from}\n", table(&live.statuses, Utc::now())))
}

/// What the service (or the store) says: every source, and the problems of a refused config.
#[derive(Debug, Default)]
struct Live {
    statuses: Vec<SourceStatus>,
    config_error: Vec<String>,
}

/// Every source's status and where it came from: the running service, else the store.
async fn statuses(settings: &Settings) -> anyhow::Result<(Live, String)> {
    let base = super::service::base_url(settings);
    let live = match &base {
        Some(base) => from_service(base).await?,
        None => None,
    };
    Ok(match live {
        Some(s) => (s, format!("live from http://{}", settings.server.listen)),
        None => {
            let statuses = from_store(settings)?;
            let from = format!("from the store {} (service not running)", settings.store.location());
            (Live { statuses, config_error: Vec::new() }, from)
        }
    })
}

/// The table redrawn in place every `every` until Ctrl-C. The store (when the service is down)
/// is opened for each refresh only, so the service can start meanwhile.
async fn watch_table(settings: &Settings, every: Duration) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    // On a terminal the screen is cleared; piped, each refresh follows the last.
    let clear = if std::io::stdout().is_terminal() { "\x1b[H\x1b[2J" } else { "\n" };
    loop {
        let shown = match statuses(settings).await {
            Ok((live, from)) => {
                let problems: String = live.config_error.iter().map(|p| format!("config_error: {p}\n")).collect();
                format!("{problems}{}{} sources, {from}", table(&live.statuses, Utc::now()), live.statuses.len())
            }
            Err(e) => format!("cannot read the sources: {e:#}"),
        };
        let when = Utc::now().format("%H:%M:%S");
        super::out::emit(&format!("{clear}{shown}\n{when}, every {} s; Ctrl-C to stop\n", every.as_secs()))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// The running service's `/api/sources`; none when no service answers. A service that wants
/// the admin key (`NEWSRIVER_ADMIN_KEY`, sent when set) and did not get it is an error: the
/// store it holds open cannot be read instead.
async fn from_service(base: &str) -> anyhow::Result<Option<Live>> {
    let Some(client) = super::service::client(Duration::from_secs(3)) else { return Ok(None) };
    let url = format!("{base}/api/sources");
    let Ok(resp) = super::service::with_admin_key(client.get(&url)).send().await else { return Ok(None) };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        anyhow::bail!("the service at {url} needs the admin key: set {}", super::service::ADMIN_KEY_ENV);
    }
    let Ok(resp) = resp.error_for_status() else { return Ok(None) };
    let Ok(body) = resp.bytes().await else { return Ok(None) };
    let Ok(statuses) = serde_json::from_slice(&body) else { return Ok(None) };
    Ok(Some(Live { statuses, config_error: config_error(&client, base).await }))
}

/// The problems of a configuration the service refused (`/healthz` `config_error`).
async fn config_error(client: &reqwest::Client, base: &str) -> Vec<String> {
    let Ok(resp) = client.get(format!("{base}/healthz")).send().await else { return Vec::new() };
    let Ok(body) = resp.bytes().await else { return Vec::new() };
    let Ok(health) = serde_json::from_slice::<serde_json::Value>(&body) else { return Vec::new() };
    let list = health.get("config_error").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    list.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect()
}

fn from_store(settings: &Settings) -> anyhow::Result<Vec<SourceStatus>> {
    let store = crate::store::Store::open_settings(&settings.store)?;
    let now = Utc::now();
    let mut out = Vec::new();
    for s in &settings.sources {
        let stored = store.source_state(&s.id)?.unwrap_or_default();
        out.push(source_status(s, &stored, None, SourceCounters::default(), &settings.polling, now));
    }
    Ok(out)
}

/// The table; the last column says in words what needs attention.
pub fn table(statuses: &[SourceStatus], now: DateTime<Utc>) -> String {
    let w = statuses.iter().map(|s| s.id.len()).max().unwrap_or(6).max(6);
    let mut out = format!(
        "{:<w$}  {:<9}  {:<12}  {:>9}  {:>9}  {:>4}  {:>5}  {:>8}  {:>8}  note\n",
        "source", "kind", "state", "last", "next", "http", "304%", "items/d", "interval"
    );
    for s in statuses {
        let note = s
            .disabled
            .clone()
            .or_else(|| s.last_error.clone())
            .or_else(|| s.warning.clone())
            .or_else(|| article_note(s))
            .or_else(|| (s.effective_url != s.url).then(|| format!("moved to {}", s.effective_url)))
            .or_else(|| s.redirect_pending.as_ref().map(|r| format!("permanent redirect to {r}")))
            .unwrap_or_else(|| s.interval_reason.clone());
        out.push_str(&format!(
            "{:<w$}  {:<9}  {:<12}  {:>9}  {:>9}  {:>4}  {:>4.0}%  {:>8.1}  {:>8}  {note}\n",
            s.id,
            if s.full_text { format!("{}+text", s.kind) } else { s.kind.clone() },
            s.state,
            ago(s.last_poll, now),
            until(s.next_poll, now),
            s.http_status.map_or("-".to_owned(), |c| c.to_string()),
            s.not_modified_rate * 100.0,
            s.items_per_day,
            short(Duration::from_secs(s.interval_secs)),
        ));
    }
    out
}

/// Article pages that failed, when some did: the source works, but its items lack full text.
fn article_note(s: &SourceStatus) -> Option<String> {
    let a = s.articles.as_ref().filter(|a| a.failed > 0)?;
    let last = a.last_failure.as_deref().unwrap_or("");
    Some(format!("{} of {} article pages not read; last: {last}", a.failed, a.read))
}

fn ago(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map_or("never".into(), |t| format!("{} ago", short((now - t).to_std().unwrap_or_default())))
}

fn until(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map_or("-".into(), |t| format!("in {}", short((t - now).to_std().unwrap_or_default())))
}

fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}
