//! Configuration: the TOML file as written (`raw`), and the validated `Settings` the service runs on.
//! Plain data only: the modules that own the runtime parts build them from it.

mod include;
mod partners;
mod problems;
mod raw;
mod raw_polling;
mod raw_source;
mod raw_topic;
mod raw_websub;
mod store;
pub mod tables;
pub mod units;
mod websub;

use crate::domain::{ChannelId, FeedUrl, Grant, KeyDigest, PartnerId, SourceId, TopicId};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

pub use raw::RawConfig;
pub use store::{DatabaseUrl, PostgresSettings, StoreSettings, DATABASE_URL_ENV};
pub use websub::{Signature, WebSubSettings};

/// Every problem found in a config file, each with the key path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config {path} is not valid TOML for newsriver:\n{message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config {path} has {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { path: PathBuf, problems: Vec<Problem> },
}

/// One validation problem: `source[3].url: unsupported scheme "ftp"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub polling: PollingSettings,
    pub sources: Vec<SourceSettings>,
    pub topics: Vec<TopicSettings>,
    pub stories: StorySettings,
    pub export: ExportSettings,
    pub include: IncludeSettings,
    /// `[[partner]]`: who may read private channels, and which.
    pub partners: Vec<PartnerSettings>,
    pub websub: WebSubSettings,
}

/// `include`: the other files `[[source]]` and `[[topic]]` tables were read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncludeSettings {
    /// The globs as written, relative to the config file's folder.
    pub patterns: Vec<String>,
    /// Every file read, in reading order, with how many tables it gave.
    pub files: Vec<IncludedFile>,
}

/// One included file, and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedFile {
    pub path: PathBuf,
    /// How problems name it: its path relative to the config file's folder when inside it.
    pub label: String,
    pub sources: usize,
    pub topics: usize,
}

/// A `[[partner]]` table: a site or agency that reads channels with a key of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSettings {
    pub id: PartnerId,
    pub title: String,
    /// The SHA-256 of the partner's key; the key itself is never configured.
    pub key_sha256: KeyDigest,
    /// The private channels it may read (every public one too).
    pub channels: Grant,
    /// Requests a minute its key may make (a token bucket: a minute's worth at once).
    pub rate_limit: Option<u32>,
}

/// `[export]`: a static copy of the channels (`newsriver export`, and kept current by `serve`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportSettings {
    /// The folder `serve` keeps current; none when not set.
    pub dir: Option<PathBuf>,
    /// Base of the exported documents' own links, when they are hosted elsewhere than
    /// `server.public_url`; no trailing slash.
    pub base_url: Option<Url>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Base of every self link and URL we publish; no trailing slash.
    pub public_url: Url,
    pub default_items: usize,
    pub max_items: usize,
    /// `Cache-Control: max-age` of channel responses.
    pub max_age: Duration,
    /// How long a connection may stay without a request arriving, being answered or sent
    /// before it is closed (`runtime::Connections`).
    pub client_timeout: Duration,
    /// When set, `/api/*` (but `/healthz`) and `/metrics` need the key with this SHA-256.
    pub admin_key_sha256: Option<KeyDigest>,
    /// This instance's name among those sharing a PostgreSQL store (who holds a lease, who
    /// polled); none: `hostname-pid`, see `lease::instance_name`.
    pub instance: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PollingSettings {
    /// When false, `serve` only serves what is stored (a read replica, or tests driving polls).
    pub enabled: bool,
    pub every: Duration,
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_body: u64,
    pub max_redirects: usize,
    /// Upper bound of the per-source schedule offset that spreads polls of one interval.
    pub jitter: Duration,
    /// Longest wait between retries of a failing source.
    pub max_backoff: Duration,
    /// On a source's first successful poll, only this many of its newest items enter channels.
    pub initial_items: usize,
    /// No `every` source is polled more often than this, whatever its config or hints say.
    pub min_every: Duration,
    /// The longest a source's hints (RSS `ttl`, `Cache-Control`, `Expires`) may stretch its interval.
    pub max_every: Duration,
    /// Items kept from one fetched document; the rest (document order) are dropped and counted.
    pub max_items: usize,
    /// Polls in a row that must see the same permanent redirect before the source follows it.
    pub redirect_confirmations: u32,
    /// Per-host budgets: `[polling] per_host` and `min_gap`, overridden by `[[host]]` tables.
    pub host_defaults: HostLimits,
    pub hosts: std::collections::HashMap<String, HostLimits>,
    /// The address guard is off entirely (a feed may be on the local network).
    pub allow_private_networks: bool,
    /// Host names or IP literals exempt from the address guard.
    pub allow_hosts: Vec<String>,
    /// Default of each source's `respect_robots`.
    pub respect_robots: bool,
    /// Default of each feed or sitemap source's `full_text` (page sources fetch articles always).
    pub full_text: bool,
    /// Article pages younger than this are fetched again (conditionally) to catch edits.
    pub recheck_for: Duration,
    /// ... at most this often each.
    pub recheck_every: Duration,
    /// Article pages one poll fetches at most (new items first, then rechecks); the rest wait
    /// for the next poll.
    pub max_articles: usize,
    /// How long a source or host lease lasts unrenewed (instances sharing a PostgreSQL store):
    /// a killed instance's sources are polled by another this long after it died.
    pub lease: Duration,
}

/// The politeness budget of one host; `[[host]]` tables override the `[polling]` defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    pub concurrency: usize,
    pub min_gap: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Every(Duration),
    /// A 6-field cron expression (seconds first), evaluated in UTC.
    Cron(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    pub id: SourceId,
    pub title: String,
    pub url: FeedUrl,
    pub schedule: Schedule,
    pub initial_items: usize,
    pub kind: SourceKind,
    /// Whether robots.txt is asked before fetching pages, sitemaps and articles (`file:` URLs
    /// never ask).
    pub respect_robots: bool,
    /// Whether each new item's article page is fetched and its body and metadata extracted.
    pub full_text: bool,
    /// How article pages of this source are read.
    pub article: ArticleRules,
    /// How a `kind = "page"` listing is read (`Some` exactly for page sources).
    pub page: Option<PageSelectors>,
    /// Served only to partners granted it; its items stay out of merged and public channels.
    pub private: bool,
}

/// Per-source overrides of the article extractor's heuristics, for a site that needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleRules {
    /// CSS selector of the element holding the article body.
    pub content_selector: Option<String>,
    /// CSS selectors of elements removed before extraction (share bars, related links).
    pub remove: Vec<String>,
}

/// `[source.select]`: CSS selectors reading a newsroom listing page without a feed. `item`
/// selects each story's element; the others select inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSelectors {
    pub item: String,
    /// Defaults to the item's first heading.
    pub title: Option<String>,
    /// Defaults to the item's first `a[href]` (the item itself when it is a link).
    pub link: Option<String>,
    /// Its `datetime`, `content` or text is the item's date.
    pub date: Option<String>,
    /// A chrono format (`%d %B %Y`) for dates written the site's own way.
    pub date_format: Option<String>,
    pub summary: Option<String>,
    /// Its `src` (or `data-src`) is the item's image.
    pub image: Option<String>,
}

/// What a source's URL serves: a feed (RSS, Atom, JSON Feed), a sitemap (or sitemap index), or
/// an HTML listing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    #[default]
    Feed,
    Sitemap,
    /// An HTML listing page read with CSS selectors.
    Page,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Feed => "feed",
            Self::Sitemap => "sitemap",
            Self::Page => "page",
        }
    }
}

/// Where topic words are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicField {
    Title,
    Summary,
    Content,
    Categories,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSettings {
    pub id: TopicId,
    pub title: String,
    pub description: String,
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
    pub categories: Vec<String>,
    pub sources: Vec<SourceId>,
    pub fields: Vec<TopicField>,
    pub max_items: usize,
    /// `[stories] group` for this topic's channel alone.
    pub group: Option<Grouping>,
    /// Served only to partners granted it (its items, from public sources, still show elsewhere).
    pub private: bool,
}

/// Tuning of story matching (`[stories]`).
#[derive(Debug, Clone, PartialEq)]
pub struct StorySettings {
    pub enabled: bool,
    /// Near-duplicates: the smaller text's shingles contained in the larger at least this much.
    pub near_containment: f64,
    /// ... and shingle Jaccard similarity at least this much (guards against shared boilerplate).
    pub near_jaccard: f64,
    /// Near-duplicates must be published this close together.
    pub window: Duration,
    /// Texts shorter than this (in words) get no text fingerprint or near-duplicate sketch.
    pub min_words: usize,
    /// What merged and topic channels show one item per: a story (copies) or an event
    /// (independent reports of one happening, grouped above stories). Topics may say otherwise.
    pub group: Grouping,
    /// The score an item must reach to join an event (`events::EventSettings::threshold`,
    /// where the measured trade-off is tabled): higher merges less and splits more.
    pub event_threshold: f64,
    /// Group reports in different languages into one event.
    pub cross_language: bool,
    /// Reports join events whose members were published this close.
    pub event_window: Duration,
}

/// One item per story, or one per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    Story,
    #[default]
    Event,
}

impl Grouping {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "story" => Ok(Self::Story),
            "event" => Ok(Self::Event),
            other => Err(format!("{other:?} is neither \"story\" nor \"event\"")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Story => "story",
            Self::Event => "event",
        }
    }
}

impl Default for StorySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            near_containment: 0.8,
            near_jaccard: 0.5,
            window: Duration::from_secs(7 * 86_400),
            min_words: 30,
            group: Grouping::default(),
            event_threshold: 1.5,
            cross_language: false,
            event_window: Duration::from_secs(3 * 86_400),
        }
    }
}

/// The checks config cannot make itself, because only a runtime part can answer them: does a
/// topic term compile, does the scheduler read a cron expression. The modules owning those parts
/// answer (see `crate::load`); a refusal is reported like any other problem, under the value's
/// key path, so `check` still lists everything in one pass and in file order.
pub trait Checks {
    fn term(&self, term: &str) -> Result<(), String>;
    fn cron(&self, expr: &str) -> Result<(), String>;
    /// Does a CSS selector parse.
    fn selector(&self, css: &str) -> Result<(), String>;
}

// `Settings::load`, which passes the real `Checks`, is defined in `crate::load`, above config.
impl Settings {
    /// Reads and validates a config file; relative paths inside resolve against its directory.
    pub fn load_with(path: &Path, checks: &dyn Checks) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::from_toml(&text, path, checks)
    }

    /// Validates config text; `path` names it and anchors its relative paths and `include`
    /// globs (the included files are read from disk).
    pub fn from_toml(text: &str, path: &Path, checks: &dyn Checks) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax { path: path.into(), message: e.to_string() })?;
        let base = config_dir(path);
        let mut problems = problems::Problems::default();
        let included = include::read_all(&raw.include, base, path, &mut problems);
        raw.validate(path, base, included, problems, checks)
            .map_err(|problems| ConfigError::Invalid { path: path.into(), problems })
    }

    /// The settings with `NEWSRIVER_DATABASE_URL`'s value (`value`, when set) as the store.
    pub fn with_database_url(mut self, value: Option<&str>) -> Result<Self, ConfigError> {
        store::apply_env_url(&mut self.store, value).map_err(|message| ConfigError::Invalid {
            path: self.config_path.clone(),
            problems: vec![Problem { path: DATABASE_URL_ENV.into(), message }],
        })?;
        Ok(self)
    }

    /// The folder relative paths in the config resolve against.
    pub fn config_dir(&self) -> &Path {
        config_dir(&self.config_path)
    }

    pub fn source(&self, id: &SourceId) -> Option<&SourceSettings> {
        self.sources.iter().find(|s| &s.id == id)
    }

    pub fn topic(&self, id: &TopicId) -> Option<&TopicSettings> {
        self.topics.iter().find(|t| &t.id == id)
    }

    /// Whether a channel is served only to partners granted it. The merged channel never is.
    pub fn is_private(&self, ch: &ChannelId) -> bool {
        match ch {
            ChannelId::All => false,
            ChannelId::Source(id) => self.source(id).is_some_and(|s| s.private),
            ChannelId::Topic(id) => self.topic(id).is_some_and(|t| t.private),
        }
    }

    /// Where exported documents say they live: `[export] base_url`, else `server.public_url`.
    pub fn export_base_url(&self) -> &Url {
        self.export.base_url.as_ref().unwrap_or(&self.server.public_url)
    }
}

fn config_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests;
