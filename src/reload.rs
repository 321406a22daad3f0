//! Configuration without restarts, its pure part: what a new configuration changes compared with
//! the running one, which keys wait for a restart (and what runs meanwhile), and the answer a
//! reload gives. `app` applies the difference; `http` serves the answer and the last problems.

use crate::config::{PollingSettings, Settings, SourceSettings, TopicSettings};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

/// What a valid new configuration changed, as the reload answer and the log tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub sources_added: Vec<String>,
    pub sources_removed: Vec<String>,
    pub sources_changed: Vec<String>,
    pub topics_added: Vec<String>,
    pub topics_removed: Vec<String>,
    pub topics_changed: Vec<String>,
    /// Other keys that took effect (`server.public_url`, `polling.every`, `partner`).
    pub settings_changed: Vec<String>,
    /// Keys whose new value waits for a restart; the running value stays meanwhile.
    pub needs_restart: Vec<String>,
    /// Stored items are being re-routed in the background (topic rules or grouping changed).
    pub rerouting: bool,
}

impl Changes {
    /// Nothing took effect (keys waiting for a restart aside).
    pub fn is_empty(&self) -> bool {
        let lists = [
            &self.sources_added,
            &self.sources_removed,
            &self.sources_changed,
            &self.topics_added,
            &self.topics_removed,
            &self.topics_changed,
            &self.settings_changed,
        ];
        lists.iter().all(|l| l.is_empty())
    }

    /// Whether the HTTP view (titles, channels, partners, links) must be rebuilt.
    pub fn touches_serving(&self) -> bool {
        !self.is_empty()
    }
}

/// A reload's answer: what changed, or every problem of the new configuration (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Applied(Changes),
    /// Each problem with its key path (`source[3].url: unsupported scheme "ftp"`).
    Invalid(Vec<String>),
}

/// Whoever can reload the running service (`app`'s reloader), as HTTP is handed it.
pub trait Reload: Send + Sync + std::fmt::Debug {
    fn reload(&self) -> Pin<Box<dyn Future<Output = Answer> + Send + '_>>;
}

/// The problems of the last configuration that failed to load, until a valid one loads:
/// `/healthz` and `newsriver sources` show them as `config_error`.
#[derive(Debug, Default)]
pub struct ConfigStatus(Mutex<Vec<String>>);

impl ConfigStatus {
    pub fn set(&self, problems: Vec<String>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = problems;
    }

    pub fn problems(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The configuration to run on after a reload: `new`, but with the running value of every key
/// that needs a restart (the listener, the store, whether polling runs, the hub, the in-memory
/// story indexes), so what runs is what the settings say.
pub fn effective(running: &Settings, new: Settings) -> Settings {
    let mut s = new;
    s.server.listen = running.server.listen;
    // Each serving thread's connections are set up with it at start.
    s.server.client_timeout = running.server.client_timeout;
    s.store = running.store.clone();
    s.export.dir = running.export.dir.clone();
    // The hub's client, limits and queues are built at start (and its routes exist or not).
    s.websub = running.websub.clone();
    // Whether a scheduler runs at all is decided at start.
    s.polling.enabled = running.polling.enabled;
    // Grouping is routing (re-applied to stored items); the rest feeds indexes built at start.
    let group = s.stories.group;
    s.stories = crate::config::StorySettings { group, ..running.stories.clone() };
    s
}

/// What changes from `old` (running) to `new` (as read from the files).
pub fn diff(old: &Settings, new: &Settings) -> Changes {
    let mut c = Changes::default();
    let (sa, sr, sc) = by_id(&old.sources, &new.sources, |s: &SourceSettings| s.id.to_string());
    (c.sources_added, c.sources_removed, c.sources_changed) = (sa, sr, sc);
    let (ta, tr, tc) = by_id(&old.topics, &new.topics, |t: &TopicSettings| t.id.to_string());
    (c.topics_added, c.topics_removed, c.topics_changed) = (ta, tr, tc);
    let (live, restart) = (&mut c.settings_changed, &mut c.needs_restart);
    let (o, n) = (&old.server, &new.server);
    key(restart, "server.listen", &o.listen, &n.listen);
    key(restart, "server.client_timeout", &o.client_timeout, &n.client_timeout);
    key(live, "server.public_url", &o.public_url, &n.public_url);
    key(live, "server.default_items", &o.default_items, &n.default_items);
    key(live, "server.max_items", &o.max_items, &n.max_items);
    key(live, "server.max_age", &o.max_age, &n.max_age);
    key(live, "server.admin_key_sha256", &o.admin_key_sha256, &n.admin_key_sha256);
    key(restart, "store.path", &old.store.path, &new.store.path);
    key(restart, "store.cache", &old.store.cache_capacity, &new.store.cache_capacity);
    key(restart, "store.backend", &old.store.postgres, &new.store.postgres);
    key(restart, "export.dir", &old.export.dir, &new.export.dir);
    key(live, "export.base_url", &old.export.base_url, &new.export.base_url);
    key(restart, "websub", &old.websub, &new.websub);
    key(live, "partner", &old.partners, &new.partners);
    key(live, "include", &old.include.patterns, &new.include.patterns);
    key(live, "stories.group", &old.stories.group, &new.stories.group);
    let stories =
        |s: &crate::config::StorySettings| crate::config::StorySettings { group: Default::default(), ..s.clone() };
    key(restart, "stories", &stories(&old.stories), &stories(&new.stories));
    polling(&mut c, &old.polling, &new.polling);
    c
}

/// `[polling]`: whether polling runs is decided at start; the rest is read by each poll as it
/// starts (the fetcher and the slots are rebuilt or resized by the reload).
fn polling(c: &mut Changes, o: &PollingSettings, n: &PollingSettings) {
    key(&mut c.needs_restart, "polling.enabled", &o.enabled, &n.enabled);
    let live = &mut c.settings_changed;
    key(live, "polling.concurrency", &o.concurrency, &n.concurrency);
    key(live, "polling.timeout", &o.timeout, &n.timeout);
    key(live, "polling.max_body", &o.max_body, &n.max_body);
    key(live, "polling.max_redirects", &o.max_redirects, &n.max_redirects);
    key(live, "polling.per_host", &o.host_defaults.concurrency, &n.host_defaults.concurrency);
    key(live, "polling.min_gap", &o.host_defaults.min_gap, &n.host_defaults.min_gap);
    key(live, "host", &o.hosts, &n.hosts);
    key(live, "polling.allow_private_networks", &o.allow_private_networks, &n.allow_private_networks);
    key(live, "polling.allow_hosts", &o.allow_hosts, &n.allow_hosts);
    key(live, "polling.every", &o.every, &n.every);
    key(live, "polling.min_every", &o.min_every, &n.min_every);
    key(live, "polling.max_every", &o.max_every, &n.max_every);
    key(live, "polling.jitter", &o.jitter, &n.jitter);
    key(live, "polling.max_backoff", &o.max_backoff, &n.max_backoff);
    key(live, "polling.initial_items", &o.initial_items, &n.initial_items);
    key(live, "polling.max_items", &o.max_items, &n.max_items);
    key(live, "polling.redirect_confirmations", &o.redirect_confirmations, &n.redirect_confirmations);
    key(live, "polling.respect_robots", &o.respect_robots, &n.respect_robots);
    key(live, "polling.full_text", &o.full_text, &n.full_text);
    key(live, "polling.recheck_for", &o.recheck_for, &n.recheck_for);
    key(live, "polling.recheck_every", &o.recheck_every, &n.recheck_every);
    key(live, "polling.max_articles", &o.max_articles, &n.max_articles);
}

fn key<T: PartialEq>(out: &mut Vec<String>, path: &str, old: &T, new: &T) {
    if old != new {
        out.push(path.to_owned());
    }
}

/// Added, removed and changed ids, each in configuration order.
fn by_id<T: PartialEq>(old: &[T], new: &[T], id: impl Fn(&T) -> String) -> (Vec<String>, Vec<String>, Vec<String>) {
    let find = |list: &[T], wanted: &str| list.iter().position(|x| id(x) == wanted);
    let added = new.iter().filter(|n| find(old, &id(n)).is_none()).map(&id).collect();
    let removed = old.iter().filter(|o| find(new, &id(o)).is_none()).map(&id).collect();
    let changed = (new.iter()).filter(|n| find(old, &id(n)).is_some_and(|i| old[i] != **n)).map(&id).collect();
    (added, removed, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings(text: &str) -> Settings {
        Settings::from_toml_checked(text, Path::new("/srv/nr/newsriver.toml")).expect("valid config")
    }

    const BASE: &str = r#"
[[source]]
id = "a"
url = "https://a.example/feed"
[[source]]
id = "b"
url = "https://b.example/feed"
[[topic]]
id = "port"
any = ["harbour"]
"#;

    #[test]
    fn sources_and_topics_are_told_apart_by_id() {
        let old = settings(BASE);
        let new = settings(
            r#"
[[source]]
id = "a"
url = "https://a.example/other"
[[source]]
id = "c"
url = "https://c.example/feed"
[[topic]]
id = "port"
any = ["harbour", "ferry"]
[[topic]]
id = "rail"
any = ["train"]
"#,
        );
        let c = diff(&old, &new);
        assert_eq!(
            (c.sources_added, c.sources_removed, c.sources_changed),
            (vec!["c".into()], vec!["b".into()], vec!["a".into()])
        );
        assert_eq!((c.topics_added, c.topics_changed), (vec!["rail".to_owned()], vec!["port".to_owned()]));
        assert!(c.needs_restart.is_empty() && c.settings_changed.is_empty());
    }

    #[test]
    fn restart_only_keys_are_listed_and_keep_their_running_value() {
        let old = settings(BASE);
        let text = format!("[server]\nlisten = \"127.0.0.1:9999\"\nclient_timeout = \"10s\"\npublic_url = \"https://news.example\"\n[polling]\nconcurrency = 3\nevery = \"5m\"\n[stories]\nwindow = \"1d\"\ngroup = \"story\"\n{BASE}");
        let new = settings(&text);
        let c = diff(&old, &new);
        assert_eq!(c.needs_restart, ["server.listen", "server.client_timeout", "stories"]);
        assert_eq!(c.settings_changed, ["server.public_url", "stories.group", "polling.concurrency", "polling.every"]);
        let running = effective(&old, new.clone());
        assert_eq!(running.server.listen, old.server.listen);
        assert_eq!(running.server.client_timeout, old.server.client_timeout);
        assert_eq!(running.polling.concurrency, 3, "the poller's slots are resized");
        assert_eq!(running.stories.window, old.stories.window);
        assert_eq!((running.stories.group, running.polling.every), (new.stories.group, new.polling.every));
        assert_eq!(diff(&running, &new).needs_restart, c.needs_restart, "still waiting at the next reload");
        assert!(diff(&old, &old).is_empty());
    }
}
