//! `newsriver sources`: the status of every source as a table. Asks the running service first
//! (it holds the store open and knows next polls and 304 rates); reads the store when it is down.

use crate::config::Settings;
use crate::metrics::SourceCounters;
use crate::status::{source_status, SourceStatus};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The environment variable holding the admin key, for a service that needs one.
pub const ADMIN_KEY_ENV: &str = "NEWSRIVER_ADMIN_KEY";

pub async fn sources(settings: Settings, json: bool) -> anyhow::Result<()> {
    let (statuses, from) = match from_service(&settings).await? {
        Some(s) => (s, format!("live from http://{}", settings.server.listen)),
        None => {
            (from_store(&settings)?, format!("from the store {} (service not running)", settings.store.path.display()))
        }
    };
    if json {
        return super::out::emit(&format!("{}\n", serde_json::to_string_pretty(&statuses)?));
    }
    super::out::emit(&format!("{}{} sources, {from}\n", table(&statuses, Utc::now()), statuses.len()))
}

/// The running service's `/api/sources`; none when no service answers. A service that wants
/// the admin key (`NEWSRIVER_ADMIN_KEY`, sent when set) and did not get it is an error: the
/// store it holds open cannot be read instead.
async fn from_service(settings: &Settings) -> anyhow::Result<Option<Vec<SourceStatus>>> {
    let addr = settings.server.listen;
    if addr.port() == 0 {
        return Ok(None);
    }
    let ip = if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() };
    let url = format!("http://{}/api/sources", std::net::SocketAddr::new(ip, addr.port()));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).no_proxy().build()?;
    let mut request = client.get(&url);
    if let Ok(key) = std::env::var(ADMIN_KEY_ENV) {
        request = request.bearer_auth(key.trim());
    }
    let Ok(resp) = request.send().await else { return Ok(None) };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        anyhow::bail!("the service at {url} needs the admin key: set {ADMIN_KEY_ENV}");
    }
    let Ok(resp) = resp.error_for_status() else { return Ok(None) };
    let Ok(body) = resp.bytes().await else { return Ok(None) };
    Ok(serde_json::from_slice(&body).ok())
}

fn from_store(settings: &Settings) -> anyhow::Result<Vec<SourceStatus>> {
    let store = crate::store::Store::open(&settings.store.path, settings.store.cache_capacity)?;
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
