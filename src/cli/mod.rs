//! The command line: `serve`, `poll`, `check`, `reindex`, `sources`, `compact`, `migrate`, `export`, `extract`,
//! `discover`, `preview`, `import`, `add`, `export-sources`, `partner new`, `admin-key`, `reload`, `prune`. This
//! interface is a contract; change it carefully.

use crate::app::{self, Application};
use crate::config::{ConfigError, Settings};
use crate::domain::FetchOutcome;
use crate::pipeline::PollReport;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "newsriver",
    version,
    about = "Polls newsroom feeds, deduplicates them and republishes merged channels",
    after_help = "Examples:\n  \
        newsriver serve                                   poll on schedule and serve http://127.0.0.1:8080/feeds/all.atom\n  \
        newsriver check                                   list every problem of the config\n  \
        newsriver poll                                    poll every source once and print a summary\n  \
        newsriver sources                                 what every source is doing\n  \
        newsriver reload                                  the running service reads its config again\n  \
        newsriver prune --source old-wire                 remove a removed source's stored items\n  \
        newsriver export public/                          every channel as static files, for any web host\n  \
        newsriver discover https://example.org/news       find a site's feeds and sitemaps, as [[source]] tables\n  \
        newsriver preview --source press-office           what one source would bring, written nowhere\n  \
        newsriver extract https://example.org/a --json    one article page's body and metadata\n  \
        newsriver import feeds.opml                       a feed reader's subscriptions as sources (sources.d/feeds.toml)\n  \
        newsriver add https://example.org/news            a page's feed as a source, checked\n  \
        newsriver export-sources sources.opml             the configured feeds, for any feed reader\n  \
        newsriver partner new daily-planet >> newsriver.toml   a partner's key (shown once) and its table\n\n\
        The config is config/newsriver.toml unless --config or NEWSRIVER_CONFIG says otherwise."
)]
pub struct Cli {
    /// Config file (TOML).
    #[arg(long, global = true, env = "NEWSRIVER_CONFIG", default_value = "config/newsriver.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every source on its schedule and serve HTTP until SIGINT/SIGTERM.
    Serve,
    /// Poll every source once now, print a per-source summary, and exit.
    Poll,
    /// Validate the config and list every problem with its key path.
    Check,
    /// Recompute topic membership of every stored entry from the current topic rules.
    Reindex,
    /// Show what every source is doing: state, last and next poll, errors, 304 rate, interval.
    Sources {
        /// Print JSON (the `/api/sources` document) instead of a table.
        #[arg(long, conflicts_with = "watch")]
        json: bool,
        /// Keep the table on screen, refreshed every SECS seconds (2 when not given), until Ctrl-C.
        #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "2")]
        watch: Option<u64>,
    },
    /// Ask the running service to read its configuration again (as SIGHUP does) and print what
    /// changed; a configuration with problems changes nothing, and they are listed.
    Reload,
    /// Rewrite the store to reclaim disk space (stop the service first).
    Compact,
    /// Apply the PostgreSQL schema migrations not applied yet and print them (`serve` applies
    /// them too when it starts; instances starting at once wait for each other). A sled store
    /// needs none: it upgrades itself when opened.
    Migrate,
    /// Write the first page of every channel (merged, topics, sources) in every format, the OPML
    /// list and the index page into DIR, laid out like the server's URLs, for a static host or
    /// CDN; each file is replaced whole. Stop the service first, or set `[export] dir` to have
    /// `serve` keep a folder current.
    Export {
        /// The folder to write (created when missing).
        dir: PathBuf,
    },
    /// Extract the article (body and metadata) of an HTML page: a saved file, stdin, or a URL
    /// fetched with the config's `[polling]` limits (the defaults when there is no config).
    Extract {
        /// The page: a file, `-` for stdin, or an http(s) URL.
        input: String,
        /// The page's address, to resolve its relative links (a fetched page's own address
        /// after redirects when not given).
        #[arg(long)]
        url: Option<url::Url>,
        /// Print the JSON contract (every field and the rule that found it).
        #[arg(long)]
        json: bool,
    },
    /// Fetch one source once and print what it would bring (items, dates, bylines, credits, the
    /// first words of each body, and the rule that found each field); nothing is written.
    Preview {
        /// A configured source's id.
        #[arg(long, conflicts_with = "url")]
        source: Option<String>,
        /// Or a source described here: its URL ...
        #[arg(long)]
        url: Option<String>,
        /// ... its kind (`feed`, `sitemap`, `page`) ...
        #[arg(long, requires = "url")]
        kind: Option<String>,
        /// ... a page's selectors, each `KEY=CSS` (`item=li.news`, `title=h2`, `date_format=%d/%m/%Y`) ...
        #[arg(long = "select", requires = "url")]
        select: Vec<String>,
        /// ... whether article pages are read (always for pages) ...
        #[arg(long, requires = "url")]
        full_text: bool,
        /// ... and the article extractor's overrides.
        #[arg(long, requires = "url")]
        content_selector: Option<String>,
        #[arg(long, requires = "url")]
        remove: Vec<String>,
        /// Article pages read (of a full-text source's first items).
        #[arg(long, default_value_t = 5)]
        articles: usize,
        /// Items shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of the store into DIR (which must not exist or be empty), while
    /// the service runs (it makes the copy; commits wait for it) or from the store when it is
    /// stopped. The copy is a store: point `[store] path` at it to restore.
    Backup {
        /// The folder to create.
        dir: PathBuf,
    },
    /// Remove every stored item of sources no longer configured (remove them from the config,
    /// and reload the service, first): their items leave every channel, a story or event one of
    /// them stood for is shown by another outlet's report, and the source's state goes. The
    /// running service does it when it is up, else the store is opened here.
    Prune {
        /// A removed source's id; repeat for more.
        #[arg(long = "source", value_name = "ID", required = true)]
        sources: Vec<String>,
        /// Print what would be removed, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Partners' keys for private channels.
    Partner {
        #[command(subcommand)]
        action: PartnerAction,
    },
    /// Make a fresh admin key: the key once on stderr, its `admin_key_sha256` line for `[server]`
    /// on stdout.
    AdminKey,
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to stdout: `newsriver man > newsriver.1`.
    Man,
    /// List the feeds and sitemaps a page advertises or its host serves, each fetched and
    /// parsed, and print them as `[[source]]` tables ready for the config.
    Discover {
        /// The page (or feed) to look at.
        url: url::Url,
        /// Print JSON instead of the commented tables.
        #[arg(long)]
        json: bool,
    },
    /// Import the subscriptions of an OPML file (any feed reader's export) as `[[source]]`
    /// tables in a new file the config includes (`sources.d/<name>.toml`), skipping feeds
    /// already configured; then check the whole config, and keep nothing if it fails.
    Import {
        /// The OPML file.
        file: PathBuf,
        #[command(flatten)]
        into: WriteTo,
        /// Replace the file when it exists.
        #[arg(long)]
        force: bool,
        /// Print JSON (what was added and skipped, and the topics suggested) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add one source: a feed URL, or a page whose feed is found as `discover` finds it;
    /// appended to `added.toml` in the include folder, then the config is checked.
    Add {
        /// The feed, or a page that links to it.
        url: url::Url,
        /// The source's id (default: made from the title).
        #[arg(long)]
        id: Option<String>,
        /// The source's title (default: the feed's own).
        #[arg(long)]
        title: Option<String>,
        /// Which find to add, numbered as `discover` lists them, when the page leads to
        /// several feeds that differ.
        #[arg(long)]
        pick: Option<usize>,
        #[command(flatten)]
        into: WriteTo,
    },
    /// Write the configured feeds as an OPML 2.0 subscription list (for any feed reader, or
    /// `newsriver import` elsewhere); `-` writes to stdout.
    ExportSources {
        /// The OPML file to write (replaced whole), or `-`.
        file: PathBuf,
    },
}

/// Where `import` and `add` write.
#[derive(Debug, Clone, clap::Args)]
pub struct WriteTo {
    /// The file to write instead of the include folder's; it must be one the config includes
    /// (or give --add-include).
    #[arg(long = "into", id = "into", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// When the config includes no file the sources would go to, add an `include` for it to
    /// the config (instead of stopping with the line to add).
    #[arg(long)]
    pub add_include: bool,
}

/// What `newsriver partner` does.
#[derive(Debug, Subcommand)]
pub enum PartnerAction {
    /// Make a fresh key for a partner: the key once on stderr, the `[[partner]]` table (with the
    /// key's SHA-256, never the key) on stdout, ready to append to the config.
    New {
        /// The partner's id (a slug: a-z 0-9 - _).
        id: String,
        /// Its name as shown in `/api/partners` (default: the id).
        #[arg(long)]
        title: Option<String>,
        /// A channel it may read: a topic or source id, `topic:ID`, `source:ID`; repeat for
        /// more (default: `*`, every channel).
        #[arg(long = "channel")]
        channels: Vec<String>,
        /// Requests a minute its key may make (default: no limit).
        #[arg(long)]
        rate_limit: Option<u32>,
    },
}

mod add;
mod backup;
mod discover;
mod extract;
mod import;
mod keys;
mod out;
mod preview;
mod prune;
mod reload;
mod service;
mod sources;

pub use add::{add, AddSource};
pub use backup::backup;
pub use discover::discover;
pub use import::{export_sources, import};

/// `newsriver completions SHELL`: the completion script, made from the command definition.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "newsriver", &mut out);
    out::emit(&String::from_utf8_lossy(&out))
}

/// `newsriver man`: the man page, made from the command definition.
pub fn man() -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    out::emit(&String::from_utf8_lossy(&out))
}
pub use extract::extract;
pub use keys::{admin_key, partner_new, NewPartner};
use out::emit;
pub use preview::{preview, Shape as PreviewShape, Target as PreviewTarget};
pub use prune::prune;
pub use reload::reload;
pub use sources::{sources, sources_of_service};

pub fn load(cli: &Cli) -> Result<Settings, ConfigError> {
    Settings::load(&cli.config)
}

/// The fetcher of a command that only fetches: the config's `[polling]` limits and address
/// guard, or the defaults (guard on) when the config file does not exist.
fn one_off_fetcher(config: &std::path::Path) -> anyhow::Result<crate::fetch::Fetcher> {
    let (settings, found) = Settings::load_or_defaults(config)?;
    if !found {
        let _ =
            writeln!(std::io::stderr(), "note: no config at {}; fetching with the default limits", config.display());
    }
    Ok(app::fetcher(&settings.polling)?)
}

pub async fn serve(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    for warning in settings.warnings() {
        tracing::warn!(%warning, "config");
    }
    let app = Application::build(settings).await?;
    app.run_until_stopped(shutdown).await
}

pub fn check(cli: &Cli) -> anyhow::Result<()> {
    let s = load(cli)?;
    for w in s.warnings() {
        let _ = writeln!(std::io::stderr(), "warning: {w}");
    }
    emit(&check_report(&cli.config, &s))
}

/// What `check` says of a valid config: the totals, then, when files are included, what each
/// file gave.
fn check_report(path: &std::path::Path, s: &Settings) -> String {
    let mut out = format!(
        "{}: OK ({} sources, store {}, listening on {})\n",
        path.display(),
        s.sources.len(),
        s.store.location(),
        s.server.listen
    );
    let files = &s.include.files;
    if !s.include.patterns.is_empty() {
        let counted = |f: fn(&crate::config::IncludedFile) -> usize| files.iter().map(f).sum::<usize>();
        let main = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sources = s.sources.len().saturating_sub(counted(|f| f.sources));
        let topics = s.topics.len().saturating_sub(counted(|f| f.topics));
        out += &format!("  {main}: {}\n", tables(sources, topics));
        for f in files {
            out += &format!("  {}: {}\n", f.label, tables(f.sources, f.topics));
        }
    }
    out
}

fn tables(sources: usize, topics: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(sources, "source"), plural(topics, "topic"))
}

/// Re-routes every stored entry with the configured topic rules (also done automatically at
/// start when the rules changed).
pub fn reindex(settings: Settings) -> anyhow::Result<()> {
    let store = crate::store::Store::open_settings(&settings.store)?;
    let router = crate::topics::TopicRouter::of(&settings).map_err(anyhow::Error::msg)?;
    let grouped = crate::events::Grouped::of(&settings.stories, &settings.topics);
    let fingerprint = crate::maintenance::routing_fingerprint(&router, &grouped, &settings.topics);
    let done = crate::maintenance::reindex_topics(&store, &router, &grouped, &fingerprint, &|| false)?;
    let checked = store.entry_count();
    store.close()?;
    emit(&format!("{checked} entries checked, {} changed topic membership\n", done.moved))
}

/// Rewrites the store in key order into a fresh one, then swaps it in.
pub fn compact(settings: Settings) -> anyhow::Result<()> {
    let c = crate::store::compact_settings(&settings.store)?;
    let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
    emit(&format!("{}: {:.1} MiB -> {:.1} MiB on disk\n", settings.store.path.display(), mib(c.before), mib(c.after)))
}

/// Applies the PostgreSQL schema migrations that are missing and says which.
pub fn migrate(settings: Settings) -> anyhow::Result<()> {
    let Some(pg) = &settings.store.postgres else {
        return emit(&format!(
            "{}: a sled store needs no migration (it upgrades itself when opened)\n",
            settings.store.location()
        ));
    };
    let applied = crate::store::Store::migrate_postgres(pg)?;
    let mut out = String::new();
    for m in &applied {
        out += &format!("applied {:04} {}\n", m.version, m.name);
    }
    out += &format!("{}: schema up to date ({} migration(s) applied now)\n", pg.url, applied.len());
    emit(&out)
}

/// Writes the static copy of every channel from the store.
pub fn export(settings: Settings, dir: PathBuf) -> anyhow::Result<()> {
    let store = crate::store::Store::open_settings(&settings.store)?;
    // Nothing polls here: the status board, counters and channel versions start empty.
    let handles = crate::http::Handles {
        store,
        board: Default::default(),
        metrics: Default::default(),
        versions: Default::default(),
    };
    let exporter = crate::export::Exporter::new(&settings, handles, dir);
    let w = exporter.export_all()?;
    let base = settings.export_base_url().as_str().trim_end_matches('/').to_owned();
    emit(&format!(
        "{} channels, {} files written to {} (links name {base})\n",
        w.channels,
        w.files,
        exporter.dir().display()
    ))
}

/// Polls once; exits 0 even when sources failed (their failures are reported and recorded).
pub async fn poll(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let total = settings.sources.len();
    let core = app::build_core(settings, crate::runtime::CpuShare::Batch)?;
    core.reindex(&|| shutdown.is_cancelled())?;
    let (poller, store) = (core.poller, core.store);
    let tty = std::io::stderr().is_terminal();
    let mut done = 0;
    let started = std::time::Instant::now();
    let mut reports = poller
        .poll_all(&shutdown, |r| {
            done += 1;
            progress(tty, done, total, r);
        })
        .await;
    if tty {
        let _ = writeln!(std::io::stderr());
    }
    reports.sort_by(|a, b| a.source.cmp(&b.source));
    let shown = emit(&summary(&reports, started.elapsed()));
    drop(poller);
    app::close(store).await;
    shown
}

fn progress(tty: bool, done: usize, total: usize, r: &PollReport) {
    let mut err = std::io::stderr().lock();
    if tty {
        let width = 30;
        let filled = done * width / total.max(1);
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} {:<40}",
            "#".repeat(filled),
            "-".repeat(width - filled),
            r.source.as_str()
        );
    } else {
        let _ = writeln!(err, "[{done}/{total}] {}: {}", r.source, describe(r));
    }
    let _ = err.flush();
}

fn describe(r: &PollReport) -> String {
    match (r.outcome, &r.error) {
        (FetchOutcome::NotModified, _) => "not modified".into(),
        (FetchOutcome::Unchanged, _) => "unchanged body".into(),
        (_, Some(e)) => format!("failed: {e}"),
        _ => format!("ok, {} new, {} updated, {} unchanged", r.summary.new, r.summary.updated, r.summary.unchanged),
    }
}

fn summary(reports: &[PollReport], elapsed: std::time::Duration) -> String {
    use std::fmt::Write as _;
    let w = reports.iter().map(|r| r.source.as_str().len()).max().unwrap_or(6).max(6);
    let mut out = format!(
        "{:<w$}  {:>5}  {:>7}  {:>9}  {:>12}  {:>8}  result\n",
        "source", "new", "updated", "unchanged", "not-modified", "time"
    );
    for r in reports {
        let nm = u8::from(matches!(r.outcome, FetchOutcome::NotModified | FetchOutcome::Unchanged));
        let mut result = r.error.as_deref().map_or_else(|| "ok".to_owned(), |e| format!("FAILED: {e}"));
        if r.articles.read > 0 {
            let a = &r.articles;
            let _ = write!(result, ", {} article pages read ({} failed, {} edited)", a.read, a.failed, a.edited);
        }
        let _ = writeln!(
            out,
            "{:<w$}  {:>5}  {:>7}  {:>9}  {:>12}  {:>6}ms  {result}",
            r.source.as_str(),
            r.summary.new,
            r.summary.updated,
            r.summary.unchanged,
            nm,
            r.elapsed.as_millis()
        );
    }
    let failed = reports.iter().filter(|r| r.outcome.is_failure()).count();
    let new: usize = reports.iter().map(|r| r.summary.new).sum();
    let _ = writeln!(
        out,
        "{} sources polled in {:.2}s: {new} new items, {failed} failed",
        reports.len(),
        elapsed.as_secs_f64()
    );
    out
}
