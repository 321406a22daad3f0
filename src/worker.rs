//! Runs polls: at most `concurrency` at once, at most `per_host` per host, never one source twice
//! at once. A failing or panicking poll is recorded on its source and never stops the others.
//! Each source is tracked as its newest model plus a small runtime view (in flight, next due),
//! and when it is next due is derived from that model (`cadence::next_check`). A reload swaps
//! the settings and the poll context whole: each poll takes both as it starts and finishes
//! under them. On a PostgreSQL store a poll runs only under a lease (`shared.rs`).

mod shared;

use crate::cadence;
use crate::config::{PollingSettings, Settings, SourceSettings};
use crate::domain::{Failure, PollOutcome, PollReport, PollStats, Runtime, SourceId, SourceState, Tracked};
use crate::pipeline::{self, PollContext, Polled};
use crate::status::Board;
use arc_swap::ArcSwap;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, Clone)]
pub struct Poller {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: ArcSwap<PollContext>,
    settings: ArcSwap<Settings>,
    /// What it tracks of each source, shared with the status API.
    board: Arc<Board>,
    global: Semaphore,
    tracker: TaskTracker,
    /// The runtime polls run on, whichever thread asks for one (HTTP threads have their own).
    runtime_handle: Option<tokio::runtime::Handle>,
    /// The claiming of leases, when other instances may poll from the store too.
    sharing: shared::Sharing,
}

/// Under which lease a poll runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lease {
    /// None needed: this process alone polls from the store (sled).
    Own,
    /// Claimed already, by the tick or a cron firing.
    Held,
    /// To be claimed by the poll itself (`newsriver poll`), which skips a source held elsewhere.
    Manual,
}

/// A poller that does not keep it alive: what cron jobs hold, since the scheduler's tasks may
/// outlive its shutdown, and a live poller keeps the store open (it could not be closed).
#[derive(Debug, Clone)]
pub struct WeakPoller(std::sync::Weak<Inner>);

impl WeakPoller {
    pub fn upgrade(&self) -> Option<Poller> {
        self.0.upgrade().map(|inner| Poller { inner })
    }
}

impl Poller {
    pub fn downgrade(&self) -> WeakPoller {
        WeakPoller(Arc::downgrade(&self.inner))
    }

    /// Builds the poller and tracks each source from its stored state, so a restart neither
    /// re-polls everything at once nor forgets a failure streak or a Retry-After.
    pub fn new(ctx: PollContext, settings: Arc<Settings>) -> Self {
        let now = Utc::now();
        let tracked =
            (settings.sources.iter()).map(|s| (s.id.clone(), tracked_from_store(&ctx, s, &settings, now))).collect();
        shared::register(&ctx, &settings, &tracked, now);
        let global = Semaphore::new(settings.polling.concurrency);
        let runtime_handle = tokio::runtime::Handle::try_current().ok();
        let instance = crate::lease::instance_name(settings.server.instance.as_deref());
        let inner = Inner {
            ctx: ArcSwap::from_pointee(ctx),
            settings: ArcSwap::new(settings),
            board: Arc::new(Board::new(tracked, instance)),
            global,
            tracker: TaskTracker::new(),
            runtime_handle,
            sharing: shared::Sharing::default(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The settings polls start under now.
    pub fn settings(&self) -> Arc<Settings> {
        self.inner.settings.load_full()
    }

    /// The context polls start with now.
    pub fn context(&self) -> Arc<PollContext> {
        self.inner.ctx.load_full()
    }

    /// Moves the number of polls that may run at once to `to`. Fewer: the slots of polls in flight
    /// are taken back as they finish (by a task that waits for them), never from under a poll.
    fn resize(&self, to: usize) {
        let from = self.inner.settings.load().polling.concurrency;
        if to > from {
            self.inner.global.add_permits(to - from);
        } else if to < from {
            let pending = (from - to) - self.inner.global.forget_permits(from - to);
            let (Ok(n), Some(rt)) = (u32::try_from(pending), self.inner.runtime_handle.as_ref()) else { return };
            if n > 0 {
                let inner = self.inner.clone();
                rt.spawn(async move {
                    if let Ok(p) = inner.global.acquire_many(n).await {
                        p.forget();
                    }
                });
            }
        }
    }

    /// Runs every later poll under `settings` and `ctx` (polls in flight finish under theirs):
    /// added sources are tracked from their stored state, removed ones are dropped (one in
    /// flight when its poll ends), and every source's next check follows the new settings.
    pub fn reconfigure(&self, settings: Arc<Settings>, ctx: PollContext) {
        let now = Utc::now();
        let known: Vec<SourceId> = self.lock_tracked().keys().cloned().collect();
        // Stored states are read before the board is locked: the lock is the status API's too.
        let added: Vec<(SourceId, Tracked)> = (settings.sources.iter())
            .filter(|s| !known.contains(&s.id))
            .map(|s| (s.id.clone(), tracked_from_store(&ctx, s, &settings, now)))
            .collect();
        shared::register(&ctx, &settings, &added.iter().cloned().collect(), now);
        self.resize(settings.polling.concurrency);
        let mut tracked = self.lock_tracked();
        self.inner.ctx.store(Arc::new(ctx));
        self.inner.settings.store(settings.clone());
        tracked.retain(|id, t| t.runtime.in_flight || settings.source(id).is_some());
        for (id, t) in added {
            tracked.entry(id).or_insert(t);
        }
        for (id, t) in tracked.iter_mut().filter(|(_, t)| !t.runtime.in_flight) {
            if let Some(s) = settings.source(id) {
                t.runtime.next_due = cadence::next_check(&t.state, s, &settings.polling, now);
            }
        }
    }

    /// What the poller tracks of each source, for the status API and `/metrics`.
    pub fn board(&self) -> Arc<Board> {
        self.inner.board.clone()
    }

    /// Its counters, for whoever serves them.
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.inner.ctx.load().metrics.clone()
    }

    fn lock_tracked(&self) -> MutexGuard<'_, HashMap<SourceId, Tracked>> {
        self.inner.board.lock()
    }

    /// Starts every source whose time has come. Called by the scheduler's tick.
    pub fn start_due(&self, now: chrono::DateTime<Utc>, cancel: &CancellationToken) {
        if self.inner.ctx.load().store.shares_polling() {
            return self.start_claimed(cancel);
        }
        let due: Vec<SourceId> = self
            .lock_tracked()
            .iter()
            .filter(|(_, t)| !t.runtime.in_flight && t.runtime.next_due.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.spawn_poll(&id, cancel, None, Lease::Own);
        }
    }

    /// A cron source's job fired: poll it unless it is backing off after failures.
    pub fn start_cron(&self, id: &SourceId, now: chrono::DateTime<Utc>, cancel: &CancellationToken) {
        if self.inner.ctx.load().store.shares_polling() {
            return self.start_cron_claimed(id, now, cancel);
        }
        let backing_off = self
            .lock_tracked()
            .get(id)
            .is_some_and(|t| t.state.consecutive_failures > 0 && t.runtime.next_due.is_some_and(|d| d > now));
        if !backing_off {
            self.spawn_poll(id, cancel, None, Lease::Own);
        }
    }

    /// Polls every source once now, concurrently; `on_done` sees each report as it lands.
    /// Sources already being polled are skipped, here or (PostgreSQL) by another instance.
    pub async fn poll_all(&self, cancel: &CancellationToken, mut on_done: impl FnMut(&PollReport)) -> Vec<PollReport> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let settings = self.settings();
        let lease = if self.context().store.shares_polling() { Lease::Manual } else { Lease::Own };
        let started =
            settings.sources.iter().filter(|s| self.spawn_poll(&s.id, cancel, Some(tx.clone()), lease)).count();
        drop(tx);
        let mut reports = Vec::with_capacity(started);
        while let Some(r) = rx.recv().await {
            on_done(&r);
            reports.push(r);
        }
        reports
    }

    /// Spawns one poll unless the source is already in flight, or polling stopped for it;
    /// returns whether it was taken care of.
    fn spawn_poll(
        &self,
        id: &SourceId,
        cancel: &CancellationToken,
        done: Option<mpsc::UnboundedSender<PollReport>>,
        lease: Lease,
    ) -> bool {
        let (settings, ctx, source, url) = {
            let mut tracked = self.lock_tracked();
            // What the poll runs under, taken once and under the board's lock, which a reload
            // swaps them under: a poll on the old settings is marked in flight before the swap.
            let (settings, ctx) = (self.settings(), self.context());
            let Some(source) = settings.source(id).cloned() else { return false };
            let Some(t) = tracked.get_mut(id) else { return false };
            if t.runtime.in_flight {
                return false;
            }
            if let Some(why) = t.state.disabled_reason(&source.url.to_string()) {
                // Said once per explicit poll, so `newsriver poll` explains the silence.
                if let Some(tx) = done {
                    let _ = tx.send(stopped(&source, &t.state, why));
                }
                if lease == Lease::Held {
                    self.release_unpolled(&ctx, &source, t.state.poll_url(&source.url).host_key());
                }
                return true;
            }
            t.runtime.in_flight = true;
            let url = t.state.poll_url(&source.url);
            (settings, ctx, source, url)
        };
        let (this, cancel) = (self.clone(), cancel.clone());
        let task = async move {
            let Some(host) = this.before_poll(&ctx, &source, url.host_key(), lease, done.as_ref()).await else {
                return;
            };
            let polled = this.run_renewing(ctx.clone(), &source, host.clone(), lease, &cancel).await;
            let (report, next_due) = this.finish(&source, &settings.polling, polled);
            this.after_poll(&ctx, &source, &host, lease, next_due, report.finished).await;
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

    /// Runs a poll under the host and global limits; a panic inside, or a shutdown, ends it
    /// without a state, and says why.
    async fn run_guarded(
        &self,
        ctx: Arc<PollContext>,
        source: &SourceSettings,
        host: String,
        cancel: &CancellationToken,
    ) -> Result<Polled, &'static str> {
        let work = {
            let (source, inner) = (source.clone(), self.inner.clone());
            async move {
                // Host first: waiting on a busy host must not hold one of the global slots.
                let _h = ctx.fetcher.hosts().slot(&host).await;
                let _g = inner.global.acquire().await;
                pipeline::refresh(&ctx, &source, Utc::now()).await
            }
        };
        let handle = tokio::spawn(work);
        let abort = handle.abort_handle();
        tokio::select! {
            joined = handle => joined.map_err(|e| if e.is_panic() { "poll panicked" } else { "poll cancelled" }),
            () = cancel.cancelled() => { abort.abort(); Err("cancelled by shutdown") }
        }
    }

    /// Takes a finished poll into its source's model, derives the next check (under the
    /// settings of now), and counts it. A source a reload removed meanwhile leaves the board.
    /// Returns the report and the next check.
    fn finish(
        &self,
        source: &SourceSettings,
        policy: &PollingSettings,
        polled: Result<Polled, &str>,
    ) -> (PollReport, Option<chrono::DateTime<Utc>>) {
        let report = {
            let mut tracked = self.lock_tracked();
            let now_settings = self.settings();
            let mut removed = Tracked::default();
            let t = match now_settings.source(&source.id) {
                Some(_) => tracked.entry(source.id.clone()).or_default(),
                None => {
                    tracked.remove(&source.id);
                    &mut removed
                }
            };
            let report = match polled {
                Ok(Polled { report, mut state }) => {
                    state.seen = Vec::new();
                    t.state = state;
                    report
                }
                // Nothing was recorded: the failure counts in memory (backing off), and the next
                // poll starts from the stored state, as a restart would.
                Err(why) => {
                    let outcome = PollOutcome::failed(source.url.to_string(), Failure::transient(why));
                    let now = Utc::now();
                    t.state.apply(&outcome, &pipeline::rules(policy), now);
                    let stats = PollStats { merged: 0, elapsed: Duration::ZERO, finished: now };
                    PollReport::new(&source.id, &source.url.to_string(), &outcome, &t.state, stats)
                }
            };
            let current = now_settings.source(&source.id).unwrap_or(source);
            let next_due = cadence::next_check(&t.state, current, &now_settings.polling, report.finished);
            t.runtime = Runtime { in_flight: false, next_due };
            (report, next_due)
        };
        log_report(&report.0);
        self.inner.ctx.load().metrics.record_poll(&report.0);
        report
    }

    /// Drops near-duplicate index records older than the story window (a daily job).
    pub async fn prune_story_index(&self) {
        let ctx = self.context();
        let (store, near) = (ctx.store.clone(), ctx.deciders.near.clone());
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

/// A source as a start (or a reload that adds it) finds it: its stored model, and when it is due.
fn tracked_from_store(
    ctx: &PollContext,
    s: &SourceSettings,
    settings: &Settings,
    now: chrono::DateTime<Utc>,
) -> Tracked {
    let mut state = ctx.store.source_state(&s.id).ok().flatten().unwrap_or_default();
    state.seen = Vec::new();
    let next_due = cadence::next_check(&state, s, &settings.polling, now);
    Tracked { state, runtime: Runtime { in_flight: false, next_due } }
}

/// The report of a poll that did not run because polling stopped for the source (410 Gone).
fn stopped(source: &SourceSettings, state: &SourceState, why: &str) -> PollReport {
    let failure = Failure { transient: false, error: why.to_owned(), ..Failure::default() };
    let outcome = PollOutcome::failed(source.url.to_string(), failure);
    let stats = PollStats { merged: 0, elapsed: Duration::ZERO, finished: Utc::now() };
    PollReport::new(&source.id, &source.url.to_string(), &outcome, state, stats)
}

fn log_report(r: &PollReport) {
    let elapsed_ms = r.elapsed.as_millis() as u64;
    match &r.error {
        None => {
            tracing::info!(source = %r.source, url = %r.url, status = r.http_status, outcome = ?r.outcome, new = r.summary.new, updated = r.summary.updated, elapsed_ms, "polled");
            let a = &r.articles;
            if a.read > 0 {
                tracing::info!(source = %r.source, read = a.read, failed = a.failed, edited = a.edited, last_failure = a.last_failure.as_deref(), "article pages read");
            }
        }
        Some(e) => {
            tracing::warn!(source = %r.source, url = %r.url, status = r.http_status, outcome = ?r.outcome, error = %e, elapsed_ms, "poll failed")
        }
    }
}
