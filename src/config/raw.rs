//! The config file exactly as written (strings for every value a person types), and its validation.

use super::include::Included;
use super::problems::{Place, Problems};
use super::store::RawStore;
use super::{Checks, ExportSettings, Problem, Schedule, ServerSettings, Settings, SourceKind};
use super::{IncludeSettings, StorySettings};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use url::Url;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Globs of further files holding `[[source]]` and `[[topic]]` tables (`include`).
    #[serde(default)]
    pub include: Vec<String>,
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
    #[serde(default, rename = "partner")]
    pub partners: Vec<super::partners::RawPartner>,
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
    pub client_timeout: Option<String>,
    pub admin_key_sha256: Option<String>,
    pub instance: Option<String>,
}

impl RawConfig {
    /// Validates every value, with the tables of the included files after the main file's,
    /// leaving to `checks` what needs a runtime part; `p` holds what reading the includes found.
    pub(super) fn validate(
        self,
        config_path: &Path,
        base: &Path,
        included: Vec<Included>,
        mut p: Problems,
        checks: &dyn Checks,
    ) -> Result<Settings, Vec<Problem>> {
        let server = self.server.validate(&mut p);
        let store = self.store.validate(&mut p, base);
        let polling = self.polling.validate(&mut p, &self.hosts);
        let main = Place::main(config_path);
        let raw_sources = Place::tables(&main, &self.sources, &included, |i| &i.sources);
        let mut seen = HashMap::new();
        let sources = (raw_sources.iter())
            .filter_map(|(at, s)| Some((s.validate(&mut p, at, base_of(at, base), &mut seen, checks)?, s)))
            .map(|(s, raw)| inherit(s, raw, &polling))
            .collect::<Vec<_>>();
        let source_ids: HashSet<&str> = raw_sources.iter().map(|(_, s)| s.id.as_str()).collect();
        let mut topic_ids = HashMap::new();
        let topics = (Place::tables(&main, &self.topics, &included, |i| &i.topics).iter())
            .filter_map(|(at, t)| t.validate(&mut p, at, &source_ids, &mut topic_ids, server.default_items, checks))
            .collect();
        let stories = self.stories.validate(&mut p);
        let export = self.export.validate(&mut p, base);
        let files = included.iter().map(Included::summary).collect();
        let include = IncludeSettings { patterns: self.include, files };
        // Topics of every file, the included ones too, may be granted.
        let raw_topic_ids: HashSet<&str> = topic_ids.keys().map(String::as_str).collect();
        let known = super::partners::Known { sources: &source_ids, topics: &raw_topic_ids };
        let partners = super::partners::validate(&self.partners, &mut p, &known, server.admin_key_sha256.as_ref());
        let websub = self.websub.validate(&mut p);
        if p.0.is_empty() {
            let config_path = config_path.into();
            Ok(Settings {
                config_path,
                server,
                store,
                polling,
                sources,
                topics,
                stories,
                export,
                include,
                partners,
                websub,
            })
        } else {
            Err(p.0)
        }
    }
}

/// A source's `[polling]` defaults, filled in where its table leaves them.
fn inherit(
    mut s: super::SourceSettings,
    raw: &super::raw_source::RawSource,
    polling: &super::PollingSettings,
) -> super::SourceSettings {
    s.respect_robots = raw.respect_robots.unwrap_or(polling.respect_robots);
    s.full_text = raw.full_text.unwrap_or(polling.full_text || s.kind == SourceKind::Page);
    if s.schedule == Schedule::Every(Duration::ZERO) {
        s.schedule = Schedule::Every(polling.every);
    }
    if s.initial_items == 0 {
        s.initial_items = polling.initial_items;
    }
    s
}

/// Relative paths in an included file resolve against that file's own folder.
fn base_of<'a>(at: &'a Place, main_base: &'a Path) -> &'a Path {
    at.dir.as_deref().unwrap_or(main_base)
}

impl Place {
    fn main(config_path: &Path) -> Self {
        let file = config_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Place { file, prefix: String::new(), index: 0, dir: None }
    }

    /// The main file's tables, then every included file's, each with its place.
    fn tables<'a, T>(
        main: &Place,
        own: &'a [T],
        included: &'a [Included],
        of: impl Fn(&'a Included) -> &'a Vec<(usize, T)>,
    ) -> Vec<(Place, &'a T)> {
        let mut out: Vec<(Place, &T)> = own.iter().enumerate().map(|(i, t)| (main.at(i), t)).collect();
        for inc in included {
            let dir = inc.path.parent().map(Path::to_owned);
            let place = Place { file: inc.label.clone(), prefix: format!("{}: ", inc.label), index: 0, dir };
            out.extend(of(inc).iter().map(|(i, t)| (place.at(*i), t)));
        }
        out
    }

    fn at(&self, index: usize) -> Self {
        Place { index, ..self.clone() }
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
        let client_timeout =
            p.duration("server.client_timeout", self.client_timeout.as_deref(), Duration::from_secs(30));
        let admin_key_sha256 =
            self.admin_key_sha256.as_deref().and_then(|raw| p.digest("server.admin_key_sha256", raw));
        let instance = self.instance.as_deref().map(str::trim).map(str::to_owned);
        if instance.as_deref().is_some_and(|i| i.is_empty() || i.len() > 100 || i.chars().any(char::is_control)) {
            p.push("server.instance", "must be 1 to 100 printable characters");
        }
        ServerSettings {
            listen,
            public_url,
            default_items,
            max_items,
            max_age,
            client_timeout,
            admin_key_sha256,
            instance,
        }
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
