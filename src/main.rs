//! The `newsriver` binary: parse the command line, set up logging, run one command.

use clap::Parser;
use newsriver::cli::{self, Cli, Command};
use std::io::Write as _;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        // Our own lines at info; other crates' (the scheduler's start-up chatter) at warn.
        Command::Serve => "warn,newsriver=info",
        Command::Poll
        | Command::Check
        | Command::Reindex
        | Command::Sources { .. }
        | Command::Reload
        | Command::Prune { .. }
        | Command::Compact
        | Command::Migrate
        | Command::CopyStore { .. }
        | Command::Export { .. }
        | Command::Backup { .. }
        | Command::Extract { .. }
        | Command::Discover { .. }
        | Command::Preview { .. }
        | Command::Completions { .. }
        | Command::Import { .. }
        | Command::Add { .. }
        | Command::ExportSources { .. }
        | Command::Partner { .. }
        | Command::AdminKey
        | Command::Man => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colour codes only where a person reads them; logs piped to files stay plain.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A log reader that goes away (`newsriver serve 2>&1 | shipper` and the shipper dies) must
    // not stop the service: by default the subscriber reports a failed write with `eprintln!`,
    // which panics on the closed pipe, inside a panic hook that logs, and the process aborts.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .init();
    newsriver::fetch::install_crypto_provider();
    // One structured log line instead of the default multi-line message: a panic inside a
    // parser is caught and recorded on its source, and must not look like a crash.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%location, %message, "panic (inside a poll it is caught and recorded on the source)");
    }));
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Check = cli.command {
        return cli::check(&cli);
    }
    match &cli.command {
        Command::Extract { input, url, json } => return cli::extract(&cli.config, input, url.as_ref(), *json).await,
        Command::Discover { url, json } => return cli::discover(&cli.config, url, *json).await,
        Command::Completions { shell } => return cli::completions(*shell),
        Command::Import { file, into, force, json } => return cli::import(&cli.config, file, into, *force, *json),
        Command::Add { url, id, title, pick, into } => {
            let source = cli::AddSource { id: id.clone(), title: title.clone(), pick: *pick };
            return cli::add(&cli.config, url, &source, into).await;
        }
        Command::ExportSources { file } => return cli::export_sources(&cli.config, file),
        Command::Man => return cli::man(),
        // The service reads the files itself: a broken config is what it answers about.
        Command::Reload => return cli::reload(&cli.config).await,
        // The running service checks its own configuration; only a stopped one needs the file.
        Command::Prune { sources, dry_run } => return cli::prune(&cli.config, sources, *dry_run).await,
        Command::Sources { json, watch: None } => {
            if let Err(e) = cli::load(&cli) {
                return cli::sources_of_service(&cli.config, e, *json).await;
            }
        }
        Command::AdminKey => return cli::admin_key(),
        Command::Partner { action: cli::PartnerAction::New { id, title, channels, rate_limit } } => {
            let p = cli::NewPartner { title: title.clone(), channels: channels.clone(), rate_limit: *rate_limit };
            return cli::partner_new(id, &p);
        }
        Command::Preview { source, url, kind, select, full_text, content_selector, remove, articles, limit, json } => {
            let target = cli::PreviewTarget {
                source: source.clone(),
                url: url.clone(),
                kind: kind.clone(),
                select: select.clone(),
                full_text: *full_text,
                content_selector: content_selector.clone(),
                remove: remove.clone(),
            };
            let shape = cli::PreviewShape { articles: *articles, limit: *limit, json: *json };
            return cli::preview(&cli.config, &target, shape).await;
        }
        _ => {}
    }
    let settings = cli::load(&cli)?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match cli.command {
        Command::Serve => cli::serve(settings, shutdown).await,
        Command::Poll => cli::poll(settings, shutdown).await,
        Command::Reindex => cli::reindex(settings),
        Command::Compact => cli::compact(settings),
        Command::Migrate => cli::migrate(settings),
        Command::CopyStore { from, to, force } => cli::copy_store(settings, from, to, force).await,
        Command::Export { dir } => cli::export(settings, dir),
        Command::Backup { dir } => cli::backup(settings, dir).await,
        Command::Sources { json, watch } => cli::sources(settings, json, watch).await,
        Command::Check
        | Command::Reload
        | Command::Prune { .. }
        | Command::Extract { .. }
        | Command::Discover { .. }
        | Command::Preview { .. }
        | Command::Completions { .. }
        | Command::Import { .. }
        | Command::Add { .. }
        | Command::ExportSources { .. }
        | Command::Partner { .. }
        | Command::AdminKey
        | Command::Man => Ok(()),
    }
}

/// SIGINT or SIGTERM cancels the token; everything long-lived watches it.
async fn stop_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
    token.cancel();
}
