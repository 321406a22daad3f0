//! The command line's shape: every command and flag, as clap reads them.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
    /// Copy every record of the store into another, empty store: a PostgreSQL database
    /// (`postgres://…`) or a sled folder, e.g. to move from sled to PostgreSQL. Stop the service
    /// (every instance) first.
    CopyStore {
        /// The store to copy into: a `postgres://` URL or a sled folder.
        #[arg(long, value_name = "URL_OR_PATH")]
        to: String,
        /// The store to copy from (default: the configured store).
        #[arg(long, value_name = "URL_OR_PATH")]
        from: Option<String>,
        /// Replace whatever records the target holds.
        #[arg(long)]
        force: bool,
    },
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
