//! The command line: `serve`, `poll`, `check`, `reindex`, `sources`, `compact`, `migrate`, `copy-store`, `export`, `extract`,
//! `discover`, `preview`, `import`, `add`, `export-sources`, `partner new`, `admin-key`, `reload`, `prune`. This
//! interface is a contract; change it carefully.

use crate::app::{self, Application};
use crate::config::{ConfigError, Settings};
use crate::domain::FetchOutcome;
use crate::pipeline::PollReport;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

mod add;
mod args;
mod backup;
mod copy_store;
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
pub use args::{Cli, Command, PartnerAction, WriteTo};
pub use backup::backup;
pub use copy_store::copy_store;
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
    // A poll's report is sent before its task has dropped its handles on the store: without the
    // wait, the close below raced them and, when it lost, skipped its snapshot.
    poller.wait_idle().await;
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
