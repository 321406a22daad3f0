//! The config file exactly as written (strings for every value a person types), and its validation.

use super::problems::Problems;
use super::StorySettings;
use super::{Checks, ExportSettings, Problem, Schedule, ServerSettings, Settings, SourceKind, StoreSettings};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use url::Url;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub polling: super::raw_polling::RawPolling,
    #[serde(default, rename = "host")]
    pub hosts: Vec<super::raw_polling::RawHost>,
    #[serde(default, rename = "source")]
    pub sources: Vec<super::raw_source::RawSource>,
    #[serde(default, rename = "topic")]
    pub topics: Vec<super::raw_topic::RawTopic>,
    #[serde(default)]
    pub stories: RawStories,
    #[serde(default)]
    pub export: RawExport,
    #[serde(default)]
    pub websub: super::raw_websub::RawWebSub,
}

/// `[export]`: where `serve` keeps a static copy of the channels, and the base its links name.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawExport {
    pub dir: Option<String>,
    pub base_url: Option<String>,
}

impl RawExport {
    fn validate(&self, p: &mut Problems, base: &Path) -> ExportSettings {
        let dir = match self.dir.as_deref() {
            Some("") => {
                p.push("export.dir", "must name a folder (leave the key out for no export)");
                None
            }
            d => d.map(|d| base.join(d)),
        };
        let base_url = self.base_url.as_deref().and_then(|raw| http_url(p, "export.base_url", raw));
        ExportSettings { dir, base_url }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStories {
    pub enabled: Option<bool>,
    pub near_containment: Option<f64>,
    pub near_jaccard: Option<f64>,
    pub window: Option<String>,
    pub min_words: Option<usize>,
    pub group: Option<String>,
    pub event_threshold: Option<f64>,
    pub cross_language: Option<bool>,
    pub event_window: Option<String>,
}

impl RawStories {
    fn validate(&self, p: &mut Problems) -> StorySettings {
        let d = StorySettings::default();
        let mut ratio = |key: &str, v: Option<f64>, default: f64| match v {
            Some(x) if (0.0..=1.0).contains(&x) => x,
            Some(x) => {
                p.push(format!("stories.{key}"), format!("{x} is not between 0 and 1"));
                default
            }
            None => default,
        };
        let near_containment = ratio("near_containment", self.near_containment, d.near_containment);
        let near_jaccard = ratio("near_jaccard", self.near_jaccard, d.near_jaccard);
        StorySettings {
            enabled: self.enabled.unwrap_or(d.enabled),
            near_containment,
            near_jaccard,
            window: p.duration("stories.window", self.window.as_deref(), d.window),
            min_words: p.positive("stories.min_words", self.min_words, d.min_words),
            group: p.grouping("stories.group", self.group.as_deref()).unwrap_or(d.group),
            event_threshold: match self.event_threshold {
                Some(x) if x.is_finite() && x > 0.0 && x <= 10.0 => x,
                Some(x) => {
                    p.push(
                        "stories.event_threshold",
                        format!("{x} must be above 0 and at most 10 (1.5 is the default)"),
                    );
                    d.event_threshold
                }
                None => d.event_threshold,
            },
            cross_language: self.cross_language.unwrap_or(d.cross_language),
            event_window: p.duration("stories.event_window", self.event_window.as_deref(), d.event_window),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub default_items: Option<usize>,
    pub max_items: Option<usize>,
    pub max_age: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<String>,
    pub cache: Option<String>,
}

impl RawConfig {
    /// Validates every value, leaving to `checks` what needs a runtime part.
    pub fn validate(self, config_path: &Path, base: &Path, checks: &dyn Checks) -> Result<Settings, Vec<Problem>> {
        let mut p = Problems::default();
        let server = self.server.validate(&mut p);
        let store = self.store.validate(&mut p, base);
        let polling = self.polling.validate(&mut p, &self.hosts);
        let mut seen = HashSet::new();
        let sources = (self.sources.iter().enumerate())
            .filter_map(|(i, s)| Some((s.validate(&mut p, i, base, &mut seen, checks)?, s)))
            .map(|(mut s, raw)| {
                s.respect_robots = raw.respect_robots.unwrap_or(polling.respect_robots);
                s.full_text = raw.full_text.unwrap_or(polling.full_text || s.kind == SourceKind::Page);
                if s.schedule == Schedule::Every(Duration::ZERO) {
                    s.schedule = Schedule::Every(polling.every);
                }
                if s.initial_items == 0 {
                    s.initial_items = polling.initial_items;
                }
                s
            })
            .collect::<Vec<_>>();
        let source_ids: HashSet<&str> = self.sources.iter().map(|s| s.id.as_str()).collect();
        let mut topic_ids = HashSet::new();
        let topics = (self.topics.iter().enumerate())
            .filter_map(|(i, t)| t.validate(&mut p, i, &source_ids, &mut topic_ids, server.default_items, checks))
            .collect();
        let stories = self.stories.validate(&mut p);
        let export = self.export.validate(&mut p, base);
        let websub = self.websub.validate(&mut p);
        if p.0.is_empty() {
            let config_path = config_path.into();
            Ok(Settings { config_path, server, store, polling, sources, topics, stories, export, websub })
        } else {
            Err(p.0)
        }
    }
}

impl RawServer {
    fn validate(&self, p: &mut Problems) -> ServerSettings {
        let listen_raw = self.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen = listen_raw.parse().unwrap_or_else(|e| {
            p.push("server.listen", format!("{listen_raw:?} is not an address:port ({e})"));
            ([127, 0, 0, 1], 8080).into()
        });
        let default_public = format!("http://{listen}");
        let public_raw = self.public_url.as_deref().unwrap_or(&default_public);
        let public_url = http_url(p, "server.public_url", public_raw).unwrap_or_else(fallback_url);
        let max_items = p.positive("server.max_items", self.max_items, 500);
        let default_items = p.positive("server.default_items", self.default_items, 50);
        if default_items > max_items {
            p.push("server.default_items", format!("{default_items} is above server.max_items ({max_items})"));
        }
        let max_age = p.duration("server.max_age", self.max_age.as_deref(), Duration::from_secs(60));
        ServerSettings { listen, public_url, default_items, max_items, max_age }
    }
}

/// An absolute http(s) URL without a trailing slash, or a problem under `key`.
fn http_url(p: &mut Problems, key: &str, raw: &str) -> Option<Url> {
    match Url::parse(raw.trim_end_matches('/')) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
        Ok(_) => {
            p.push(key, "must be an absolute http(s) URL");
            None
        }
        Err(e) => {
            p.push(key, format!("{raw:?}: {e}"));
            None
        }
    }
}

fn fallback_url() -> Url {
    Url::parse("http://127.0.0.1:8080").expect("constant URL parses")
}

impl RawStore {
    fn validate(&self, p: &mut Problems, base: &Path) -> StoreSettings {
        let path = base.join(self.path.as_deref().unwrap_or("data/newsriver.db"));
        let cache_capacity = p.size("store.cache", self.cache.as_deref(), 128 << 20);
        StoreSettings { path, cache_capacity }
    }
}
