//! Applying a new configuration to the running service (SIGHUP, `POST /api/reload`): load and
//! check the files, compare with what runs (`reload::diff`), then swap the poller's settings and
//! context, the cron jobs, the HTTP view and the export's, and re-route stored items in the
//! background when the topic rules moved. A configuration that does not load changes nothing.

use crate::config::{ConfigError, Settings};
use crate::domain::{ChannelId, SourceId};
use crate::events::Grouped;
use crate::export::Exporter;
use crate::http::{Handles, Live};
use crate::reload::{self, Answer, Changes, Reload};
use crate::runtime::{CpuPool, CpuShare};
use crate::schedule;
use crate::topics::TopicRouter;
use crate::worker::Poller;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Reloads the running service; one reload at a time.
#[derive(Debug)]
pub struct Reloader {
    config_path: PathBuf,
    live: Live,
    pub(super) handles: Handles,
    pub(super) poller: Poller,
    export: Option<Arc<Exporter>>,
    /// The cron jobs, once the scheduler runs (`None` with polling off, and after shutdown).
    pub(super) scheduler: Mutex<Option<schedule::Running>>,
    /// Held by a reload or a prune (`prune.rs`), so that the two never interleave.
    pub(super) current: Mutex<Current>,
    pub(super) shutdown: CancellationToken,
}

/// What runs now: the settings (restart-only keys at their running values), the routing they
/// make, and the re-routing pass in progress.
#[derive(Debug)]
pub(super) struct Current {
    pub(super) settings: Arc<Settings>,
    /// Sources a reload removed: their channels are still served (read-only) until a restart
    /// or a prune.
    pub(super) retired: Vec<crate::config::SourceSettings>,
    fingerprint: String,
    reindex: Option<(CancellationToken, JoinHandle<()>)>,
}

/// What a re-routing pass needs, and the polls it waits for.
pub(super) struct Routing {
    pub router: Arc<TopicRouter>,
    pub grouped: Arc<Grouped>,
    pub fingerprint: String,
}

impl Reloader {
    pub(super) fn new(
        settings: Arc<Settings>,
        live: Live,
        handles: Handles,
        poller: Poller,
        export: Option<Arc<Exporter>>,
        shutdown: CancellationToken,
    ) -> Self {
        let config_path = settings.config_path.clone();
        let current = Current { settings, retired: Vec::new(), fingerprint: String::new(), reindex: None };
        let scheduler = Mutex::new(None);
        Self { config_path, live, handles, poller, export, scheduler, current: Mutex::new(current), shutdown }
    }

    /// Reads the configuration files again and applies what changed; refuses (and changes
    /// nothing) when they do not load.
    pub async fn reload_now(&self) -> Answer {
        let mut cur = self.current.lock().await;
        if self.shutdown.is_cancelled() {
            return Answer::Invalid(vec!["the service is stopping".into()]);
        }
        let path = self.config_path.clone();
        let new = match tokio::task::spawn_blocking(move || Settings::load(&path)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return self.refuse(problems_of(e)),
            Err(e) => return self.refuse(vec![format!("reading the configuration failed: {e}")]),
        };
        let router = match TopicRouter::of(&new) {
            Ok(r) => Arc::new(r),
            Err(e) => return self.refuse(vec![format!("topic: {e}")]),
        };
        self.live.config_status().set(Vec::new());
        let mut changes = reload::diff(&cur.settings, &new);
        let settings = Arc::new(reload::effective(&cur.settings, new));
        let grouped = Arc::new(Grouped::of(&settings.stories, &settings.topics));
        let fingerprint = crate::maintenance::routing_fingerprint(&router, &grouped, &settings.topics);
        self.poll_under(&settings, &router, &grouped).await;
        // Every poll started under the old rules is marked in flight by now (see `spawn_poll`).
        let in_flight = self.in_flight();
        cur.retired = (cur.retired.iter().chain(&cur.settings.sources))
            .filter(|s| settings.source(&s.id).is_none())
            .cloned()
            .collect();
        if changes.touches_serving() {
            self.serve_under(&settings, &cur.retired);
        }
        if fingerprint != cur.fingerprint {
            changes.rerouting = true;
            self.start_reroute(&mut cur, Routing { router, grouped, fingerprint }, in_flight).await;
        }
        cur.settings = settings;
        log_changes(&changes);
        Answer::Applied(changes)
    }

    /// Polls started from now run under `settings`, the new routing, and the cron jobs it names.
    async fn poll_under(&self, settings: &Arc<Settings>, router: &Arc<TopicRouter>, grouped: &Arc<Grouped>) {
        let mut ctx = (*self.poller.context()).clone();
        let (old, new) = (&self.poller.settings().polling, &settings.polling);
        if crate::app::fetch_policy(old) != crate::app::fetch_policy(new) {
            match crate::fetch::Fetcher::new(crate::app::fetch_policy(new), ctx.fetcher.hosts().clone()) {
                Ok(f) => {
                    ctx.robots = Arc::new(crate::fetch::RobotsCache::new(&f));
                    ctx.fetcher = f;
                }
                Err(e) => tracing::error!(error = %e, "the fetcher keeps its old limits"),
            }
        }
        if (old.host_defaults, &old.hosts) != (new.host_defaults, &new.hosts) {
            ctx.fetcher.hosts().reconfigure(new.host_defaults, new.hosts.clone());
        }
        ctx.router = router.clone();
        ctx.deciders.grouped = grouped.clone();
        ctx.polling = Arc::new(settings.polling.clone());
        self.poller.reconfigure(settings.clone(), ctx);
        if let Some(s) = self.scheduler.lock().await.as_ref() {
            if let Err(e) = s.reschedule().await {
                tracing::error!(error = %e, "cron jobs not updated after the reload");
            }
        }
    }

    /// Requests from now are answered under `settings` (removed sources' channels still served);
    /// every channel's version moves, so no reader keeps a 304 for a title or link that changed.
    pub(super) fn serve_under(&self, settings: &Settings, retired: &[crate::config::SourceSettings]) {
        let mut http = settings.clone();
        http.sources.extend(retired.iter().cloned());
        self.live.store(self.live.load().reconfigured(Arc::new(http.clone())));
        if let Some(e) = &self.export {
            e.reconfigure(&http);
        }
        let topics = http.topics.iter().map(|t| ChannelId::Topic(t.id.clone()));
        let sources = http.sources.iter().map(|s| ChannelId::Source(s.id.clone()));
        let channels: Vec<ChannelId> = std::iter::once(ChannelId::All).chain(topics).chain(sources).collect();
        self.handles.versions.bump(channels, chrono::Utc::now());
    }

    /// Re-routes stored items with `routing` in the background, after the polls in `wait_for`
    /// (started under the old rules, whose items they route by them) have committed. A pass
    /// still running for older rules is stopped first: two passes must never interleave.
    async fn start_reroute(&self, cur: &mut Current, routing: Routing, wait_for: Vec<SourceId>) {
        if let Some((stop, task)) = cur.reindex.take() {
            stop.cancel();
            let _ = task.await;
        }
        cur.fingerprint = routing.fingerprint.clone();
        let stop = self.shutdown.child_token();
        let (handles, token) = (self.handles.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while wait_for.iter().any(|id| handles.board.lock().get(id).is_some_and(|t| t.runtime.in_flight)) {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
            // Below the serving threads: a first start that re-routes a million entries must
            // not hold back its first answers.
            let background = CpuPool::background(CpuShare::Serving);
            let pass = background.run(move || {
                let r = &routing;
                super::reroute(&handles.store, &handles.versions, &r.router, &r.grouped, &r.fingerprint, &|| {
                    token.is_cancelled()
                })
            });
            match pass.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "re-routing stored entries failed"),
                Err(e) => tracing::error!(error = %e, "re-routing task failed"),
            }
        });
        cur.reindex = Some((stop, task));
    }

    /// The routing the service started with (stored memberships may predate it).
    pub(super) async fn start_routing(&self, routing: Routing, pending: bool) {
        let mut cur = self.current.lock().await;
        if pending {
            tracing::info!("topic rules changed since the store was last routed: re-routing stored entries meanwhile");
            self.start_reroute(&mut cur, routing, Vec::new()).await;
        } else {
            cur.fingerprint = routing.fingerprint;
        }
    }

    /// Refuses reloads from now, stops the re-routing pass and the cron jobs.
    pub(super) async fn stop(&self) {
        self.shutdown.cancel();
        if let Some(s) = self.scheduler.lock().await.take() {
            if let Err(e) = s.shutdown().await {
                tracing::warn!(error = %e, "scheduler shutdown");
            }
        }
    }

    /// Waits for the re-routing pass to end (after a shutdown it ends promptly).
    pub(super) async fn wait_reroute(&self) {
        let task = self.current.lock().await.reindex.take();
        if let Some((_, task)) = task {
            let _ = task.await;
        }
    }

    /// Reloads on every SIGHUP until `shutdown`.
    pub async fn reload_on_hangup(self: Arc<Self>) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
            loop {
                tokio::select! {
                    () = self.shutdown.cancelled() => return,
                    got = hup.recv() => if got.is_none() { return },
                }
                tracing::info!("SIGHUP: reloading the configuration");
                let _ = self.reload_now().await;
            }
        }
    }

    fn in_flight(&self) -> Vec<SourceId> {
        self.handles.board.lock().iter().filter(|(_, t)| t.runtime.in_flight).map(|(id, _)| id.clone()).collect()
    }

    fn refuse(&self, problems: Vec<String>) -> Answer {
        for problem in &problems {
            tracing::error!(%problem, "configuration not reloaded: the running one stays");
        }
        self.live.config_status().set(problems.clone());
        Answer::Invalid(problems)
    }
}

impl Reload for Reloader {
    fn reload(&self) -> Pin<Box<dyn Future<Output = Answer> + Send + '_>> {
        Box::pin(self.reload_now())
    }
}

/// Every problem, each with its key path where it has one.
fn problems_of(e: ConfigError) -> Vec<String> {
    match e {
        ConfigError::Invalid { problems, .. } => problems.iter().map(ToString::to_string).collect(),
        other => vec![other.to_string()],
    }
}

fn log_changes(c: &Changes) {
    let list = |l: &[String]| l.join(",");
    tracing::info!(
        sources_added = %list(&c.sources_added),
        sources_removed = %list(&c.sources_removed),
        sources_changed = %list(&c.sources_changed),
        topics_added = %list(&c.topics_added),
        topics_removed = %list(&c.topics_removed),
        topics_changed = %list(&c.topics_changed),
        settings = %list(&c.settings_changed),
        rerouting = c.rerouting,
        "configuration reloaded"
    );
    for key in &c.needs_restart {
        tracing::warn!(%key, "configuration: this change needs a restart; the running value stays");
    }
}
