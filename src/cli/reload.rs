//! `newsriver reload`: asks the running service to read its configuration again (what SIGHUP
//! does), then prints what changed, or every problem of the files (and fails).

use super::out::emit;
use super::service;
use crate::reload::{Answer, Changes};
use anyhow::Context as _;
use std::path::Path;
use std::time::Duration;

pub async fn reload(config: &Path) -> anyhow::Result<()> {
    let addr =
        service::listen_of(config).with_context(|| format!("cannot read server.listen from {}", config.display()))?;
    let base = service::base_url_of(addr).context("server.listen names port 0: the service cannot be found")?;
    let client = service::client(Duration::from_secs(60)).context("cannot build an HTTP client")?;
    let url = format!("{base}/api/reload");
    let resp = match service::with_admin_key(client.post(&url)).send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => anyhow::bail!("no service answers at {base}: start it with `newsriver serve`"),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("asking {url}"))),
    };
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        anyhow::bail!("the service at {base} needs the admin key: set {}", service::ADMIN_KEY_ENV);
    }
    let status = resp.status();
    let body = resp.bytes().await.context("reading the service's answer")?;
    match serde_json::from_slice::<Answer>(&body) {
        Ok(Answer::Applied(c)) => emit(&format!("{base}: configuration reloaded\n{}", describe(&c))),
        Ok(Answer::Invalid(problems)) => {
            let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
            anyhow::bail!(
                "{base} kept its running configuration; the new one has {} problem(s):\n{}",
                problems.len(),
                list.join("\n")
            )
        }
        Err(_) => anyhow::bail!("{url} answered {status}: {}", String::from_utf8_lossy(&body)),
    }
}

/// The changes, one line per kind, only the kinds that changed.
pub fn describe(c: &Changes) -> String {
    let lines = [
        ("sources added", &c.sources_added),
        ("sources removed (their items stay until `newsriver prune --source ID`)", &c.sources_removed),
        ("sources changed", &c.sources_changed),
        ("topics added", &c.topics_added),
        ("topics removed", &c.topics_removed),
        ("topics changed", &c.topics_changed),
        ("settings changed", &c.settings_changed),
        ("needs a restart (the running value stays)", &c.needs_restart),
    ];
    let mut out: String = (lines.iter())
        .filter(|(_, l)| !l.is_empty())
        .map(|(what, l)| format!("  {what}: {}\n", l.join(", ")))
        .collect();
    if c.rerouting {
        out += "  stored items are being re-routed to topics in the background\n";
    }
    if out.is_empty() {
        out = "  nothing changed\n".into();
    }
    out
}
