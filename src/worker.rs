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
    pub failures: u32,
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
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    tracker: TaskTracker,
}

impl Poller {
    /// Builds the poller and seeds each source's schedule from its stored state, so a restart
    /// neither re-polls everything at once nor forgets a failure streak.
    pub fn new(ctx: PollContext, settings: Arc<Settings>) -> Self {
        let now = Utc::now();
        let mut runtime = HashMap::new();
        for s in &settings.sources {
            let state = ctx.store.source_state(&s.id).ok().flatten().unwrap_or_default();
            let failures = state.consecutive_failures;
            let next = schedule::next_check(now, state.last_poll, s, failures, None, &settings.polling);
            let next_due = match s.schedule {
                Schedule::Cron(_) if state.last_poll.is_some() && failures == 0 => None,
                _ => Some(next),
            };
            runtime.insert(
                s.id.clone(),
                Runtime { last_attempt: state.last_poll, next_due, failures, ..Runtime::default() },
            );
        }
        let global = Semaphore::new(settings.polling.concurrency);
        let inner = Inner {
            ctx,
            settings,
            runtime: Mutex::new(runtime),
            global,
            hosts: Mutex::default(),
            tracker: TaskTracker::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    pub fn sources(&self) -> &[SourceSettings] {
        &self.inner.settings.sources
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
            .filter(|(_, r)| !r.in_flight && r.next_due.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.spawn_poll(&id, cancel, None);
        }
    }

    /// A cron source's job fired: poll it unless it is backing off after failures.
    pub fn start_cron(&self, id: &SourceId, now: DateTime<Utc>, cancel: &CancellationToken) {
        let backing_off =
            self.lock_runtime().get(id).is_some_and(|r| r.failures > 0 && r.next_due.is_some_and(|d| d > now));
        if !backing_off {
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
            r.in_flight = true;
        }
        let (this, cancel) = (self.clone(), cancel.clone());
        self.inner.tracker.spawn(async move {
            let report = this.run_guarded(&source, &cancel).await;
            this.finish(&source, &report);
            if let Some(tx) = done {
                let _ = tx.send(report);
            }
        });
        true
    }

    /// Runs a poll under the host and global limits; a panic inside becomes a failed report.
    async fn run_guarded(&self, source: &SourceSettings, cancel: &CancellationToken) -> PollReport {
        let host = self.host_semaphore(&source.url.host_key());
        let work = {
            let (ctx, source, inner) = (self.inner.ctx.clone(), source.clone(), self.inner.clone());
            async move {
                // Host first: waiting on a busy host must not hold one of the global slots.
                let _h = host.acquire_owned().await;
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

    fn host_semaphore(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.settings.polling.per_host)))
            .clone()
    }

    fn finish(&self, source: &SourceSettings, report: &PollReport) {
        log_report(report);
        let policy = &self.inner.settings.polling;
        let mut rt = self.lock_runtime();
        let r = rt.entry(source.id.clone()).or_default();
        r.in_flight = false;
        r.last_attempt = Some(report.finished);
        r.failures = if report.outcome.is_failure() { r.failures + 1 } else { 0 };
        let next =
            schedule::next_check(report.finished, r.last_attempt, source, r.failures, report.retry_after, policy);
        r.next_due = match source.schedule {
            Schedule::Cron(_) if r.failures == 0 => None,
            _ => Some(next),
        };
        r.last_report = Some(report.clone());
    }

    /// Drops near-duplicate index records older than the story window (a daily job).
    pub async fn prune_story_index(&self) {
        let (store, window) = (self.inner.ctx.store.clone(), self.inner.ctx.stories.window);
        let pruned =
            tokio::task::spawn_blocking(move || crate::maintenance::prune_near_index(&store, window, Utc::now())).await;
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
        elapsed: Default::default(),
        finished: Utc::now(),
    }
}

fn log_report(r: &PollReport) {
    let elapsed_ms = r.elapsed.as_millis() as u64;
    match &r.error {
        None => {
            tracing::info!(source = %r.source, outcome = ?r.outcome, new = r.summary.new, updated = r.summary.updated, elapsed_ms, "polled")
        }
        Some(e) => {
            tracing::warn!(source = %r.source, outcome = ?r.outcome, status = r.http_status, error = %e, elapsed_ms, "poll failed")
        }
    }
}
