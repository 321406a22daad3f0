//! Runs polls: at most `concurrency` at once, at most `per_host` per host, never one source twice
//! at once. A failing or panicking poll is recorded on its source and never stops the others.

use crate::config::{Schedule, Settings, SourceSettings};
use crate::domain::{FetchOutcome, SourceId};
use crate::pipeline::{self, PollContext, PollReport};
use crate::schedule;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// In-memory status of one source, beside its persisted `SourceState`.
#[derive(Debug, Clone, Default)]
pub struct Runtime {
    pub in_flight: bool,
    pub last_attempt: Option<DateTime<Utc>>,
    pub next_due: Option<DateTime<Utc>>,
    pub last_report: Option<PollReport>,
    pub pacing: schedule::Pacing,
    /// Why polling stopped for good (410 Gone), until the config gives another URL.
    pub disabled: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Poller {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: PollContext,
    settings: Arc<Settings>,
    runtime: Mutex<HashMap<SourceId, Runtime>>,
    global: Semaphore,
    tracker: TaskTracker,
    /// The runtime polls run on, whichever thread asks for one (HTTP threads have their own).
    runtime_handle: Option<tokio::runtime::Handle>,
}

impl Poller {
    /// Builds the poller and seeds each source's schedule from its stored state, so a restart
    /// neither re-polls everything at once nor forgets a failure streak.
    pub fn new(ctx: PollContext, settings: Arc<Settings>) -> Self {
        let now = Utc::now();
        let mut runtime = HashMap::new();
        for s in &settings.sources {
            let state = ctx.store.source_state(&s.id).ok().flatten().unwrap_or_default();
            let pacing = schedule::Pacing {
                failures: state.consecutive_failures,
                retry_after: pipeline::retry_wait(&state, now),
                hint: state.hint().map(|(secs, _)| std::time::Duration::from_secs(secs)),
            };
            let next = schedule::next_check(now, state.last_poll, s, pacing, &settings.polling);
            let next_due = match s.schedule {
                Schedule::Cron(_) if state.last_poll.is_some() && pacing.failures == 0 => None,
                _ => Some(next),
            };
            let disabled = state.disabled_reason(&s.url.to_string()).map(str::to_owned);
            let rt = Runtime { last_attempt: state.last_poll, next_due, pacing, disabled, ..Runtime::default() };
            runtime.insert(s.id.clone(), rt);
        }
        let global = Semaphore::new(settings.polling.concurrency);
        let runtime_handle = tokio::runtime::Handle::try_current().ok();
        let inner =
            Inner { ctx, settings, runtime: Mutex::new(runtime), global, tracker: TaskTracker::new(), runtime_handle };
        Self { inner: Arc::new(inner) }
    }

    pub fn sources(&self) -> &[SourceSettings] {
        &self.inner.settings.sources
    }

    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.ctx.metrics
    }

    pub fn runtime(&self) -> HashMap<SourceId, Runtime> {
        self.lock_runtime().clone()
    }

    fn lock_runtime(&self) -> std::sync::MutexGuard<'_, HashMap<SourceId, Runtime>> {
        // A panic while holding this lock cannot leave it half-updated (each update is one
        // assignment), so a poisoned lock is still safe to use.
        self.inner.runtime.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts every source whose time has come. Called by the scheduler's tick.
    pub fn start_due(&self, now: DateTime<Utc>, cancel: &CancellationToken) {
        let due: Vec<SourceId> = self
            .lock_runtime()
            .iter()
            .filter(|(_, r)| !r.in_flight && r.disabled.is_none() && r.next_due.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.spawn_poll(&id, cancel, None);
        }
    }

    /// A cron source's job fired: poll it unless it is backing off after failures.
    pub fn start_cron(&self, id: &SourceId, now: DateTime<Utc>, cancel: &CancellationToken) {
        let skip = self
            .lock_runtime()
            .get(id)
            .is_some_and(|r| r.disabled.is_some() || (r.pacing.failures > 0 && r.next_due.is_some_and(|d| d > now)));
        if !skip {
            self.spawn_poll(id, cancel, None);
        }
    }

    /// Polls every source once now, concurrently; `on_done` sees each report as it lands.
    /// Sources already being polled are skipped.
    pub async fn poll_all(&self, cancel: &CancellationToken, mut on_done: impl FnMut(&PollReport)) -> Vec<PollReport> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let started = self.sources().iter().filter(|s| self.spawn_poll(&s.id, cancel, Some(tx.clone()))).count();
        drop(tx);
        let mut reports = Vec::with_capacity(started);
        while let Some(r) = rx.recv().await {
            on_done(&r);
            reports.push(r);
        }
        reports
    }

    /// Spawns one poll unless the source is already in flight; returns whether it started.
    fn spawn_poll(
        &self,
        id: &SourceId,
        cancel: &CancellationToken,
        done: Option<mpsc::UnboundedSender<PollReport>>,
    ) -> bool {
        let Some(source) = self.inner.settings.source(id).cloned() else { return false };
        {
            let mut rt = self.lock_runtime();
            let r = rt.entry(id.clone()).or_default();
            if r.in_flight {
                return false;
            }
            if let Some(why) = &r.disabled {
                // Said once per explicit poll, so `newsriver poll` explains the silence.
                if let Some(tx) = done {
                    let _ = tx.send(PollReport {
                        outcome: FetchOutcome::PermanentError,
                        disabled: true,
                        ..failed(&source, why)
                    });
                }
                return true;
            }
            r.in_flight = true;
        }
        let (this, cancel) = (self.clone(), cancel.clone());
        let task = async move {
            let report = this.run_guarded(&source, &cancel).await;
            this.finish(&source, &report);
            if let Some(tx) = done {
                let _ = tx.send(report);
            }
        };
        match &self.inner.runtime_handle {
            Some(h) => drop(self.inner.tracker.spawn_on(task, h)),
            None => drop(self.inner.tracker.spawn(task)),
        }
        true
    }

    /// Runs a poll under the host and global limits; a panic inside becomes a failed report.
    async fn run_guarded(&self, source: &SourceSettings, cancel: &CancellationToken) -> PollReport {
        let work = {
            let (ctx, source, inner) = (self.inner.ctx.clone(), source.clone(), self.inner.clone());
            async move {
                let state = ctx.store.source_state(&source.id).ok().flatten().unwrap_or_default();
                let host = pipeline::poll_url(&source, &state).host_key();
                // Host first: waiting on a busy host must not hold one of the global slots.
                let _h = ctx.fetcher.hosts().slot(&host).await;
                let _g = inner.global.acquire().await;
                pipeline::refresh(&ctx, &source, Utc::now()).await
            }
        };
        let handle = tokio::spawn(work);
        let abort = handle.abort_handle();
        tokio::select! {
            joined = handle => joined.unwrap_or_else(|e| failed(source, if e.is_panic() { "poll panicked" } else { "poll cancelled" })),
            () = cancel.cancelled() => { abort.abort(); failed(source, "cancelled by shutdown") }
        }
    }

    fn finish(&self, source: &SourceSettings, report: &PollReport) {
        log_report(report);
        self.inner.ctx.metrics.record_poll(report);
        let policy = &self.inner.settings.polling;
        let mut rt = self.lock_runtime();
        let r = rt.entry(source.id.clone()).or_default();
        r.in_flight = false;
        r.last_attempt = Some(report.finished);
        let failures = if report.outcome.is_failure() { r.pacing.failures + 1 } else { 0 };
        r.pacing = schedule::Pacing { failures, retry_after: report.retry_after, hint: report.hint };
        if report.disabled {
            r.disabled = report.error.clone();
        }
        let next = schedule::next_check(report.finished, r.last_attempt, source, r.pacing, policy);
        r.next_due = match source.schedule {
            Schedule::Cron(_) if failures == 0 => None,
            _ => Some(next),
        };
        r.last_report = Some(report.clone());
    }

    /// Drops near-duplicate index records older than the story window (a daily job).
    pub async fn prune_story_index(&self) {
        let (store, near) = (self.inner.ctx.store.clone(), self.inner.ctx.near.clone());
        let pruned =
            tokio::task::spawn_blocking(move || crate::maintenance::prune_near_index(&store, &near, Utc::now())).await;
        match pruned {
            Ok(Ok(n)) => tracing::info!(pruned = n, "pruned near-duplicate index"),
            Ok(Err(e)) => tracing::error!(error = %e, "pruning the near-duplicate index failed"),
            Err(e) => tracing::error!(error = %e, "pruning task failed"),
        }
    }

    /// Waits for running polls to end (after `cancel` they end promptly).
    pub async fn wait_idle(&self) {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }
}

fn failed(source: &SourceSettings, why: &str) -> PollReport {
    PollReport {
        source: source.id.clone(),
        outcome: FetchOutcome::TransientError,
        summary: Default::default(),
        error: Some(why.to_owned()),
        http_status: None,
        retry_after: None,
        hint: None,
        disabled: false,
        url: source.url.to_string(),
        bytes: 0,
        merged: 0,
        elapsed: Default::default(),
        finished: Utc::now(),
    }
}

fn log_report(r: &PollReport) {
    let elapsed_ms = r.elapsed.as_millis() as u64;
    match &r.error {
        None => {
            tracing::info!(source = %r.source, url = %r.url, status = r.http_status, outcome = ?r.outcome, new = r.summary.new, updated = r.summary.updated, elapsed_ms, "polled")
        }
        Some(e) => {
            tracing::warn!(source = %r.source, url = %r.url, status = r.http_status, outcome = ?r.outcome, error = %e, elapsed_ms, "poll failed")
        }
    }
}
