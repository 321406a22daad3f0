//! Build, then run: `Application::build` opens the store, builds clients and binds the listener;
//! `run_until_stopped` starts the scheduler, server, export and WebSub hub and stops them on one
//! token; `Reloader` (SIGHUP, `POST /api/reload`) applies a new configuration to them while they run,
//! and prunes removed sources' items (`POST /api/prune`).

mod prune;
mod reload;
pub use reload::Reloader;

use crate::channels::ChannelVersions;
use crate::config::PollingSettings;
use crate::config::Settings;
use crate::events::EventSettings;
use crate::export::Exporter;
use crate::fetch::{AddressGuard, FetchPolicy, Fetcher, HostBudgets};
use crate::http::{self, AppState, Handles, Live};
use crate::metrics::Metrics;
use crate::pipeline::PollContext;
use crate::runtime::{self, CpuPool, CpuShare};
use crate::schedule;
use crate::store::Store;
use crate::topics::TopicRouter;
use crate::websub::Hub;
use crate::worker::Poller;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long in-flight polls may finish after a shutdown request before they are cancelled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Application {
    live: Live,
    reloader: Arc<Reloader>,
    core: Core,
    listener: tokio::net::TcpListener,
    port: u16,
    /// `[export] dir`: the static copy `run_until_stopped` keeps current.
    export: Option<Arc<Exporter>>,
    /// The WebSub hub, unless `[websub] enabled = false`.
    hub: Option<Arc<Hub>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let core = build_core(settings.clone(), CpuShare::Serving)?;
        let listener = tokio::net::TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let port = listener.local_addr()?.port();
        let handles = Handles {
            store: core.store.clone(),
            board: core.poller.board(),
            metrics: core.poller.metrics(),
            versions: core.versions.clone(),
        };
        let export = (settings.export.dir.clone()).map(|dir| Arc::new(Exporter::new(&settings, handles.clone(), dir)));
        let settings = Arc::new(settings);
        let live = Live::new(AppState::new(settings.clone(), handles.clone()), Arc::default());
        let hub = if settings.websub.enabled { Some(Arc::new(Hub::open(live.clone())?)) } else { None };
        let (poller, stop) = (core.poller.clone(), CancellationToken::new());
        let reloader = Arc::new(Reloader::new(settings, live.clone(), handles, poller, export.clone(), stop));
        let weak: std::sync::Weak<dyn crate::reload::Reload> = Arc::downgrade(&reloader) as _;
        live.set_reloader(weak);
        let weak: std::sync::Weak<dyn crate::prune::Prune> = Arc::downgrade(&reloader) as _;
        live.set_pruner(weak);
        Ok(Self { live, reloader, core, listener, port, export, hub })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The serving state of now (a reload replaces it: see `live`).
    pub fn state(&self) -> AppState {
        self.live.load()
    }

    /// The serving state as reloads keep it current.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// What applies a new configuration (SIGHUP and `POST /api/reload` use it).
    pub fn reloader(&self) -> Arc<Reloader> {
        self.reloader.clone()
    }

    /// The poller, for callers that drive polls themselves (tests, `poll`).
    pub fn poller(&self) -> &Poller {
        &self.core.poller
    }

    /// The tasks that run beside serving, each stopping on `shutdown`. Re-routing after a rules
    /// change (in the background: a large store would otherwise keep the listener silent for as
    /// long as the pass takes). The `[export] dir` copy, written whole at start and then as
    /// channels change. The WebSub hub's verifier, delivery worker and external-hub pings.
    /// Reloading on SIGHUP. On a shared store, following other instances' commits (`coherence`).
    async fn start_background(&self, shutdown: &CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let core = &self.core;
        let routing = reload::Routing {
            router: core.router.clone(),
            grouped: core.grouped.clone(),
            fingerprint: core.fingerprint.clone(),
        };
        self.reloader.start_routing(routing, core.reindex_pending).await;
        let export = (self.export.clone()).map(|e| tokio::spawn(crate::export::keep_current(e, shutdown.clone())));
        let hub = self.hub.iter().flat_map(|h| crate::websub::start(h, shutdown));
        let hangup = tokio::spawn(self.reloader.clone().reload_on_hangup());
        let coherence = crate::coherence::start(&core.store, &core.versions, shutdown);
        export.into_iter().chain(hub).chain([hangup]).chain(coherence).collect()
    }

    /// Serves and polls until `shutdown` is cancelled; then lets polls finish (briefly),
    /// cancels the rest, flushes the store and, once every part holding it has ended, closes it.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let store = self.core.store.clone();
        self.run(shutdown).await?;
        close(store).await;
        tracing::info!("stopped");
        Ok(())
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let polls = CancellationToken::new();
        if self.core.poller.settings().polling.enabled {
            let running = schedule::start(self.core.poller.clone(), polls.clone()).await;
            *self.reloader.scheduler.lock().await = Some(running.context("cannot start the scheduler")?);
        }
        let background = self.start_background(&shutdown).await;
        let mut router = http::router(self.live.clone());
        if let Some(hub) = &self.hub {
            router = router.merge(crate::websub::router(hub.clone()));
        }
        let stop = shutdown.clone();
        let threads = runtime::default_threads();
        tracing::info!(port = self.port, threads, "serving");
        let site = http::Site::new(self.live.clone(), router);
        let connections =
            runtime::Connections { threads, client_timeout: self.live.load().settings.server.client_timeout };
        runtime::serve(self.listener, site, connections, stop).await.context("HTTP server failed")?;
        self.reloader.stop().await;
        let poller = self.core.poller.clone();
        if tokio::time::timeout(SHUTDOWN_GRACE, poller.wait_idle()).await.is_err() {
            polls.cancel();
            poller.wait_idle().await;
        }
        polls.cancel();
        for task in background {
            let _ = task.await;
        }
        self.reloader.wait_reroute().await;
        self.core.store.flush().await.context("final store flush")?;
        Ok(())
    }
}

/// Closes the process's last store handle, so that the next start opens it at once (see
/// `Store::close`); a failure only costs the next start the time to replay the log.
pub async fn close(store: Store) {
    match tokio::task::spawn_blocking(move || store.close()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "store closed without a snapshot: the next start replays its log"),
        Err(e) => tracing::warn!(error = %e, "store close failed"),
    }
}

/// Everything but the listener: what `poll` and `reindex` need too.
#[derive(Debug, Clone)]
pub struct Core {
    pub store: Store,
    pub poller: Poller,
    pub router: Arc<TopicRouter>,
    pub versions: Arc<ChannelVersions>,
    /// Which channels group by event.
    pub grouped: Arc<crate::events::Grouped>,
    /// What stored memberships must have been computed with (`maintenance::routing_fingerprint`).
    pub fingerprint: String,
    /// The topic rules changed since the stored memberships were computed: `reindex` is due.
    pub reindex_pending: bool,
}

impl Core {
    /// Re-routes stored entries when the topic rules changed, and tells the render caches.
    pub fn reindex(&self, stop: &dyn Fn() -> bool) -> anyhow::Result<()> {
        if !self.reindex_pending {
            return Ok(());
        }
        reroute(&self.store, &self.versions, &self.router, &self.grouped, &self.fingerprint, stop)
    }
}

/// Re-routes every stored entry with `router` and `grouped`, and tells the render caches.
fn reroute(
    store: &Store,
    versions: &ChannelVersions,
    router: &TopicRouter,
    grouped: &crate::events::Grouped,
    fingerprint: &str,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let done = crate::maintenance::reindex_topics(store, router, grouped, fingerprint, stop)?;
    versions.bump(done.touched, chrono::Utc::now());
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        moved = done.moved,
        interrupted = done.interrupted,
        elapsed_ms,
        "topic rules changed: re-routed stored entries"
    );
    Ok(())
}

/// Opens the store, compiles the topic rules (noting whether stored entries need re-routing)
/// and builds the poller.
pub fn build_core(settings: Settings, share: CpuShare) -> anyhow::Result<Core> {
    let store = Store::open_settings(&settings.store)?;
    let ctx = poll_context(&settings, store.clone(), share)?;
    let (router, versions, grouped) = (ctx.router.clone(), ctx.versions.clone(), ctx.deciders.grouped.clone());
    let fingerprint = crate::maintenance::routing_fingerprint(&router, &grouped, &settings.topics);
    let reindex_pending = store.topics_fingerprint()?.as_deref() != Some(fingerprint.as_str());
    let poller = Poller::new(ctx, Arc::new(settings));
    Ok(Core { store, poller, router, versions, grouped, fingerprint, reindex_pending })
}

/// What a poll needs, over `store` (`preview` gives it a throwaway one).
pub fn poll_context(settings: &Settings, store: Store, share: CpuShare) -> anyhow::Result<PollContext> {
    let router = Arc::new(TopicRouter::of(settings).map_err(anyhow::Error::msg)?);
    let fetcher = fetcher(&settings.polling)?;
    let commits = CpuPool::for_commits(share, store.is_shared());
    Ok(PollContext {
        store,
        robots: Arc::new(crate::fetch::RobotsCache::new(&fetcher)),
        fetcher,
        router,
        deciders: crate::pipeline::Deciders {
            stories: Arc::new(settings.stories.clone()),
            near: Arc::new(crate::stories::SharedNear::new(settings.stories.window)),
            events: Arc::new(crate::events::SharedEvents::new(EventSettings::of(&settings.stories))),
            grouped: Arc::new(crate::events::Grouped::of(&settings.stories, &settings.topics)),
        },
        versions: Arc::new(ChannelVersions::default()),
        polling: Arc::new(settings.polling.clone()),
        metrics: Arc::new(Metrics::default()),
        cpu: CpuPool::per_core(share),
        commits,
    })
}

/// The fetcher the poller uses, built from `[polling]` (also for one-off fetches of the CLI).
pub fn fetcher(p: &PollingSettings) -> Result<Fetcher, crate::fetch::FetchError> {
    Fetcher::new(fetch_policy(p), Arc::new(host_budgets(p)))
}

pub(crate) fn fetch_policy(p: &PollingSettings) -> FetchPolicy {
    FetchPolicy {
        timeout: p.timeout,
        max_body: p.max_body,
        max_redirects: p.max_redirects,
        guard: AddressGuard::new(p.allow_private_networks, p.allow_hosts.iter().cloned()),
    }
}

fn host_budgets(p: &PollingSettings) -> HostBudgets {
    HostBudgets::new(p.host_defaults, p.hosts.clone())
}
