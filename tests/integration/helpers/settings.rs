//! Test settings are built in code: a base loaded from a small generated file, then changed
//! through `Settings` fields, so a misspelt setting does not compile where a patched TOML string
//! would fail silently. Where a file is needed (the app's directory, `newsriver --config`), the
//! settings are written out as TOML and loaded back, and must come back unchanged.

use super::PUBLIC_URL;
use newsriver::config::{
    DatabaseUrl, ExportSettings, Grouping, HostLimits, PageSelectors, PartnerSettings, PollingSettings,
    PostgresSettings, Schedule, ServerSettings, Settings, SourceKind, SourceSettings, StoreSettings, StorySettings,
    TopicField, TopicSettings, WebSubSettings,
};
use newsriver::domain::{FeedUrl, Grant, SourceId};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Table, Value};

/// The config file's name in a test app's directory.
pub const CONFIG_FILE: &str = "newsriver.toml";

/// What a test app needs that the defaults do not give: fixture servers live on loopback, which
/// the address guard refuses by default, and polls are driven by the test, not the scheduler.
fn base_toml() -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"{PUBLIC_URL}\"\n[store]\npath = \"store\"\n\
         [polling]\nenabled = false\nconcurrency = 8\nper_host = 8\ntimeout = \"5s\"\nmin_gap = \"0s\"\n\
         allow_private_networks = true\n"
    )
}

/// The settings of a test app in `dir` (its store inside, or with `NEWSRIVER_TEST_STORE=postgres`
/// a fresh database of the tests' PostgreSQL cluster), with `polling` changed by the test and
/// `sources` (id, url) titled "Title of {id}". The sources take the changed interval and initial
/// items, as sources that set neither do in a file.
pub fn test_settings(dir: &Path, sources: &[(&str, String)], polling: impl FnOnce(&mut PollingSettings)) -> Settings {
    let mut settings = load_text(&dir.join(CONFIG_FILE), &base_toml());
    if super::postgres_selected() {
        settings.store.postgres = Some(fresh_postgres().expect("NEWSRIVER_TEST_STORE=postgres needs PostgreSQL"));
    }
    polling(&mut settings.polling);
    settings.sources = sources.iter().map(|(id, url)| source(dir, id, url, &settings.polling)).collect();
    settings
}

/// A fresh database in the tests' cluster as store settings; `None` (said loudly) without
/// PostgreSQL.
pub fn fresh_postgres() -> Option<PostgresSettings> {
    let url = DatabaseUrl::parse(&super::postgres::fresh_database()?).expect("test database URL");
    Some(PostgresSettings { url, pool: 4 })
}

fn source(dir: &Path, id: &str, url: &str, polling: &PollingSettings) -> SourceSettings {
    SourceSettings {
        id: SourceId::parse(id).unwrap_or_else(|e| panic!("source id {id:?}: {e}")),
        title: format!("Title of {id}"),
        // Relative `file:` URLs resolve against the config file's directory, as when loaded.
        url: FeedUrl::parse(url, dir).unwrap_or_else(|e| panic!("source {id}: {e}")),
        schedule: Schedule::Every(polling.every),
        initial_items: polling.initial_items,
        kind: SourceKind::Feed,
        respect_robots: polling.respect_robots,
        full_text: polling.full_text,
        article: Default::default(),
        page: None,
        private: false,
    }
}

/// Adds `[[topic]]` tables written as TOML: the one place topics come from text, so their terms
/// and sources are checked as a file's are. Changes to them are made on `settings.topics`.
pub fn add_topics(dir: &Path, settings: &mut Settings, tables: &str) {
    settings.topics = load_text(&dir.join(CONFIG_FILE), &(settings_toml(settings) + tables)).topics;
}

/// The topic `id`, to change its rules in code.
pub fn topic_mut<'a>(settings: &'a mut Settings, id: &str) -> &'a mut TopicSettings {
    settings.topics.iter_mut().find(|t| t.id.as_str() == id).unwrap_or_else(|| panic!("no topic {id}"))
}

/// A host's default budget of polls at once (`[polling] per_host` in a file).
pub fn set_per_host(polling: &mut PollingSettings, n: usize) {
    polling.host_defaults.concurrency = n;
}

/// Writes `settings` to `path` and returns them as loaded from there. Whatever the file does not
/// say exactly as set in code fails here, instead of being lost without a word.
pub fn write_config(path: &Path, settings: &Settings) -> Settings {
    let text = settings_toml(settings);
    let loaded = load_text(path, &text);
    assert_eq!(comparable(&loaded), comparable(settings), "{} does not say what the test set:\n{text}", path.display());
    loaded
}

fn load_text(path: &Path, text: &str) -> Settings {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    Settings::load(path).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Host limits live in a map whose debug order varies between equal maps: they compare apart.
fn comparable(settings: &Settings) -> (String, Vec<(String, HostLimits)>) {
    let mut s = settings.clone();
    let mut hosts: Vec<_> = std::mem::take(&mut s.polling.hosts).into_iter().collect();
    hosts.sort_by(|a, b| a.0.cmp(&b.0));
    s.config_path = PathBuf::new();
    (format!("{s:#?}"), hosts)
}

/// `settings` as a config file; every value is written out, defaults included.
fn settings_toml(settings: &Settings) -> String {
    let s = settings;
    let mut doc = entries([
        ("server", server_table(&s.server)),
        ("store", store_table(&s.store)),
        ("polling", polling_table(&s.polling)),
        ("host", host_tables(&s.polling)),
        ("source", Value::Array(s.sources.iter().map(source_table).collect())),
        ("topic", Value::Array(s.topics.iter().map(topic_table).collect())),
        ("stories", stories_table(&s.stories)),
        ("export", export_table(&s.export)),
        ("partner", Value::Array(s.partners.iter().map(partner_table).collect())),
        ("websub", websub_table(&s.websub)),
    ]);
    // `topic = []` would be a key that `[[topic]]` tables added after it (`add_topics`) repeat.
    doc.retain(|_, v| v.as_array().is_none_or(|a| !a.is_empty()));
    toml::to_string(&doc).expect("settings serialize as TOML")
}

fn store_table(store: &StoreSettings) -> Value {
    let mut t = entries([("path", path(&store.path)), ("cache", string(store.cache_capacity.to_string()))]);
    if let Some(pg) = &store.postgres {
        t.insert("backend".into(), string("postgres"));
        t.insert("url".into(), string(pg.url.expose()));
        t.insert("pool".into(), int(pg.pool));
    }
    Value::Table(t)
}

fn server_table(server: &ServerSettings) -> Value {
    let mut t = entries([
        ("listen", string(server.listen.to_string())),
        ("public_url", string(server.public_url.as_str())),
        ("default_items", int(server.default_items)),
        ("max_items", int(server.max_items)),
        ("max_age", duration(server.max_age)),
        ("client_timeout", duration(server.client_timeout)),
    ]);
    if let Some(digest) = &server.admin_key_sha256 {
        t.insert("admin_key_sha256".into(), string(digest.to_hex()));
    }
    if let Some(instance) = &server.instance {
        t.insert("instance".into(), string(instance.as_str()));
    }
    Value::Table(t)
}

/// A `[[partner]]` table; channels as `topic:ID` / `source:ID`, or `"*"`.
fn partner_table(p: &PartnerSettings) -> Value {
    let channels = match &p.channels {
        Grant::All => string("*"),
        grant => strings(&grant.names()),
    };
    let mut t = entries([
        ("id", string(p.id.as_str())),
        ("title", string(&p.title)),
        ("key_sha256", string(p.key_sha256.to_hex())),
        ("channels", channels),
    ]);
    if let Some(n) = p.rate_limit {
        t.insert("rate_limit".into(), int(n));
    }
    Value::Table(t)
}

/// `[export]`, with only the keys that are set (neither has a default to write).
fn export_table(e: &ExportSettings) -> Value {
    let mut export = Table::new();
    if let Some(dir) = &e.dir {
        export.insert("dir".into(), path(dir));
    }
    if let Some(base) = &e.base_url {
        export.insert("base_url".into(), string(base.as_str()));
    }
    Value::Table(export)
}

fn websub_table(w: &WebSubSettings) -> Value {
    table([
        ("enabled", Value::Boolean(w.enabled)),
        ("default_lease", duration(w.default_lease)),
        ("min_lease", duration(w.min_lease)),
        ("max_lease", duration(w.max_lease)),
        ("signature", string(w.signature.as_str())),
        ("timeout", duration(w.timeout)),
        ("retry_min", duration(w.retry_min)),
        ("retry_max", duration(w.retry_max)),
        ("give_up_after", duration(w.give_up_after)),
        ("requests_per_minute", int(w.requests_per_minute)),
        ("max_per_host", int(w.max_per_host)),
        ("max_subscriptions", int(w.max_subscriptions)),
        ("max_callback_length", int(w.max_callback_length)),
        ("batch_items", int(w.batch_items)),
        ("batch_bytes", string(w.batch_bytes.to_string())),
        ("concurrency", int(w.concurrency)),
        ("per_host", int(w.per_host)),
        ("external_hubs", Value::Array(w.external_hubs.iter().map(|u| string(u.as_str())).collect())),
        ("publish_every", duration(w.publish_every)),
    ])
}

fn stories_table(st: &StorySettings) -> Value {
    table([
        ("enabled", Value::Boolean(st.enabled)),
        ("near_containment", Value::Float(st.near_containment)),
        ("near_jaccard", Value::Float(st.near_jaccard)),
        ("window", duration(st.window)),
        ("min_words", int(st.min_words)),
        ("group", string(grouping(&st.group))),
        ("event_threshold", Value::Float(st.event_threshold)),
        ("cross_language", Value::Boolean(st.cross_language)),
        ("event_window", duration(st.event_window)),
    ])
}

/// A grouping (`[stories] group`, `[[topic]] group`) as a file writes it.
fn grouping(g: &Grouping) -> &'static str {
    match g {
        Grouping::Story => "story",
        Grouping::Event => "event",
    }
}

fn polling_table(p: &PollingSettings) -> Value {
    table([
        ("enabled", Value::Boolean(p.enabled)),
        ("every", duration(p.every)),
        ("min_every", duration(p.min_every)),
        ("max_every", duration(p.max_every)),
        ("concurrency", int(p.concurrency)),
        ("per_host", int(p.host_defaults.concurrency)),
        ("min_gap", duration(p.host_defaults.min_gap)),
        ("timeout", duration(p.timeout)),
        ("max_body", string(p.max_body.to_string())),
        ("max_items", int(p.max_items)),
        ("max_redirects", int(p.max_redirects)),
        ("redirect_confirmations", int(p.redirect_confirmations)),
        ("jitter", duration(p.jitter)),
        ("lease", duration(p.lease)),
        ("max_backoff", duration(p.max_backoff)),
        ("initial_items", int(p.initial_items)),
        ("allow_private_networks", Value::Boolean(p.allow_private_networks)),
        ("allow_hosts", strings(&p.allow_hosts)),
        ("respect_robots", Value::Boolean(p.respect_robots)),
        ("full_text", Value::Boolean(p.full_text)),
        ("recheck_for", duration(p.recheck_for)),
        ("recheck_every", duration(p.recheck_every)),
        ("max_articles", int(p.max_articles)),
    ])
}

fn host_tables(p: &PollingSettings) -> Value {
    let mut names: Vec<&String> = p.hosts.keys().collect();
    names.sort();
    let host = |name: &String| {
        let limits = p.hosts[name];
        table([("name", string(name)), ("concurrency", int(limits.concurrency)), ("min_gap", duration(limits.min_gap))])
    };
    Value::Array(names.into_iter().map(host).collect())
}

fn source_table(s: &SourceSettings) -> Value {
    let url = match &s.url {
        FeedUrl::Http(url) => string(url.as_str()),
        FeedUrl::File(file) => string(format!("file:{}", file.display())),
    };
    let schedule = match &s.schedule {
        Schedule::Every(every) => ("every", duration(*every)),
        Schedule::Cron(cron) => ("cron", string(cron)),
    };
    let (id, title) = (string(s.id.as_str()), string(&s.title));
    let (kind, robots) = (string(s.kind.as_str()), Value::Boolean(s.respect_robots));
    let initial = int(s.initial_items);
    let mut source = entries([
        ("id", id),
        ("title", title),
        ("url", url),
        schedule,
        ("initial_items", initial),
        ("kind", kind),
        ("respect_robots", robots),
        ("full_text", Value::Boolean(s.full_text)),
        ("remove", strings(&s.article.remove)),
        ("private", Value::Boolean(s.private)),
    ]);
    if let Some(css) = &s.article.content_selector {
        source.insert("content_selector".into(), string(css));
    }
    if let Some(select) = &s.page {
        source.insert("select".into(), select_table(select));
    }
    Value::Table(source)
}

/// `[source.select]`, the selectors set.
fn select_table(p: &PageSelectors) -> Value {
    let optional = [
        ("title", &p.title),
        ("link", &p.link),
        ("date", &p.date),
        ("date_format", &p.date_format),
        ("summary", &p.summary),
        ("image", &p.image),
    ];
    let mut select = entries([("item", string(&p.item))]);
    select.extend(optional.into_iter().filter_map(|(k, v)| Some((k.to_owned(), string(v.as_deref()?)))));
    Value::Table(select)
}

fn topic_table(t: &TopicSettings) -> Value {
    let field = |f: &TopicField| match f {
        TopicField::Title => "title",
        TopicField::Summary => "summary",
        TopicField::Content => "content",
        TopicField::Categories => "categories",
    };
    let mut topic = entries([
        ("id", string(t.id.as_str())),
        ("title", string(&t.title)),
        ("description", string(&t.description)),
        ("any", strings(&t.any)),
        ("all", strings(&t.all)),
        ("none", strings(&t.none)),
        ("categories", strings(&t.categories)),
        ("sources", Value::Array(t.sources.iter().map(|s| string(s.as_str())).collect())),
        ("fields", Value::Array(t.fields.iter().map(|f| string(field(f))).collect())),
        ("max_items", int(t.max_items)),
        ("private", Value::Boolean(t.private)),
    ]);
    if let Some(group) = &t.group {
        topic.insert("group".into(), string(grouping(group)));
    }
    Value::Table(topic)
}

fn entries<const N: usize>(pairs: [(&str, Value); N]) -> Table {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn table<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Table(entries(pairs))
}

fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().map(string).collect())
}

fn path(p: &Path) -> Value {
    string(p.to_str().unwrap_or_else(|| panic!("{} is not UTF-8", p.display())))
}

fn int<N: TryInto<i64>>(n: N) -> Value {
    Value::Integer(n.try_into().unwrap_or_else(|_| panic!("a setting does not fit a TOML integer")))
}

/// In the largest unit that is exact, down to milliseconds, the finest a config file has; "0s"
/// is how a file turns a gap off.
fn duration(d: Duration) -> Value {
    let ms = d.as_millis();
    let units = [(3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")];
    let (n, unit) = units.into_iter().find(|(n, _)| ms % n == 0).unwrap_or((1, "ms"));
    string(if ms == 0 { "0s".to_owned() } else { format!("{}{unit}", ms / n) })
}
