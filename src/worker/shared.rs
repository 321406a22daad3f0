//! Polling shared with other instances on a PostgreSQL store (the design is in
//! `store/leases.rs`): the tick claims due sources instead of reading its own board, a cron
//! firing claims its source once for all instances, a manual poll claims each source itself.
//! A claimed poll starts from the source's stored state (another instance may have polled it
//! since; `pipeline::refresh` reads it), renews its lease every third of its length while it runs, and after its commit
//! writes the next check (`cadence::next_check`, via `finish`) as the row's due time and
//! releases the lease.
//!
//! The release follows the commit in its own transaction. A crash between the two leaves the
//! lease to run out; another instance then polls the source again, which costs a conditional
//! GET, and the dedup of the commit re-adds nothing of what was already committed.

use super::{Lease, Poller};
use crate::config::{Settings, SourceSettings};
use crate::domain::{PollReport, SourceId, Tracked};
use crate::lease;
use crate::pipeline::{PollContext, Polled};
use crate::store::LeaseRow;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// What the claiming tick keeps between ticks.
#[derive(Debug, Default)]
pub(super) struct Sharing {
    /// A claim is running: a slow database makes ticks skip, never pile up.
    claiming: AtomicBool,
    /// The database's clock at the last read of the lease rows.
    refreshed: Mutex<Option<DateTime<Utc>>>,
}

/// Gives `tracked` sources their lease rows (PostgreSQL), due when their stored state says.
pub(super) fn register(
    ctx: &PollContext,
    settings: &Settings,
    tracked: &HashMap<SourceId, Tracked>,
    now: DateTime<Utc>,
) {
    if !ctx.store.shares_polling() || tracked.is_empty() {
        return;
    }
    let rows: Vec<_> = (settings.sources.iter())
        .filter_map(|s| tracked.get(&s.id).map(|t| (s, t)))
        .map(|(s, t)| (s.id.clone(), t.state.poll_url(&s.url).host_key(), lease::due_in(t.runtime.next_due, now)))
        .collect();
    if let Err(e) = ctx.store.lease_register(&rows) {
        tracing::error!(error = %e, "cannot register the sources' leases; they are claimed once registered");
    }
}

/// Runs `f` on a blocking thread (the store's calls wait on the database).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

impl Poller {
    fn instance(&self) -> String {
        self.inner.board.instance().to_owned()
    }

    /// The tick on a shared store: reads who polled what, claims the due sources, polls them.
    pub(super) fn start_claimed(&self, cancel: &CancellationToken) {
        if self.inner.sharing.claiming.swap(true, Ordering::SeqCst) {
            return;
        }
        let (this, cancel) = (self.clone(), cancel.clone());
        self.spawn_detached(async move {
            let worker = this.clone();
            let claimed = blocking(move || worker.claim_tick()).await;
            this.inner.sharing.claiming.store(false, Ordering::SeqCst);
            match claimed {
                // A claimed source that does not start (removed meanwhile) keeps its lease until it
                // runs out: a reload's edge, not worth a release.
                Some(Ok(ids)) => ids.iter().for_each(|id| _ = this.spawn_poll(id, &cancel, None, Lease::Held)),
                Some(Err(e)) => tracing::warn!(error = %e, "claiming due sources failed; the next tick tries again"),
                None => {}
            }
        });
    }

    fn claim_tick(&self) -> Result<Vec<SourceId>, crate::store::StoreError> {
        let (ctx, settings) = (self.context(), self.settings());
        let known: Vec<SourceId> = settings.sources.iter().map(|s| s.id.clone()).collect();
        self.refresh_board(&ctx, &known)?;
        let (free, busy): (Vec<_>, Vec<_>) = {
            let tracked = self.lock_tracked();
            known.into_iter().partition(|id| tracked.get(id).is_some_and(|t| !t.runtime.in_flight))
        };
        let limit = lease::claim_limit(settings.polling.concurrency, busy.len());
        ctx.store.claim_due(&self.instance(), settings.polling.lease, &free, limit)
    }

    /// Takes in the lease rows changed since the last read: sources another instance polled
    /// meanwhile get their stored state and its due time on this board.
    fn refresh_board(&self, ctx: &PollContext, known: &[SourceId]) -> Result<(), crate::store::StoreError> {
        let since = *self.inner.sharing.refreshed.lock().unwrap_or_else(|e| e.into_inner());
        let (now, rows) = ctx.store.lease_rows(known, since.map(lease::refresh_since))?;
        let (me, (_, seen)) = (self.instance(), self.inner.board.leases());
        let polled_elsewhere = |r: &&LeaseRow| {
            r.polled_by.as_deref().is_some_and(|by| by != me)
                && seen.get(&r.source).map(|s| s.polled_at) != Some(r.polled_at)
        };
        let changed: HashMap<SourceId, Option<DateTime<Utc>>> =
            rows.iter().filter(polled_elsewhere).map(|r| (r.source.clone(), r.due)).collect();
        let ids: Vec<SourceId> = changed.keys().cloned().collect();
        let fresh = if ids.is_empty() { Vec::new() } else { ctx.store.source_states(&ids)? };
        {
            let mut tracked = self.lock_tracked();
            for (id, mut state) in fresh {
                state.seen = Vec::new();
                if let Some(t) = tracked.get_mut(&id).filter(|t| !t.runtime.in_flight) {
                    (t.state, t.runtime.next_due) = (state, changed.get(&id).copied().flatten());
                }
            }
        }
        self.inner.board.set_leases(now, rows);
        *self.inner.sharing.refreshed.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
        Ok(())
    }

    /// A cron job fired on a shared store: the one instance that claims this firing polls.
    pub(super) fn start_cron_claimed(&self, id: &SourceId, now: DateTime<Utc>, cancel: &CancellationToken) {
        let (this, cancel, id) = (self.clone(), cancel.clone(), id.clone());
        let (store, me, length) = (self.context().store.clone(), self.instance(), self.settings().polling.lease);
        self.spawn_detached(async move {
            let which = id.clone();
            match blocking(move || store.claim_cron(&me, length, &which, lease::fire_time(now))).await {
                Some(Ok(true)) => _ = this.spawn_poll(&id, &cancel, None, Lease::Held),
                Some(Ok(false)) | None => {}
                Some(Err(e)) => tracing::warn!(source = %id, error = %e, "claiming a cron firing failed"),
            }
        });
    }

    /// Before a poll: on a shared store claims it (a manual poll); returns the host the poll
    /// fetches from, or none when it must not run. The poll itself starts from the stored state
    /// (`pipeline::refresh` reads it), so what another instance's poll changed (validators,
    /// backoff, Retry-After, a move) holds; the board's copy, whose host this is, was refreshed
    /// by the tick that claimed it.
    pub(super) async fn before_poll(
        &self,
        ctx: &Arc<PollContext>,
        source: &SourceSettings,
        host: String,
        lease: Lease,
        done: Option<&UnboundedSender<PollReport>>,
    ) -> Option<String> {
        if lease != Lease::Manual {
            return Some(host);
        }
        let (store, me, length, id) =
            (ctx.store.clone(), self.instance(), self.settings().polling.lease, source.id.clone());
        match blocking(move || store.claim_now(&me, length, &id)).await {
            Some(Ok(true)) => Some(host),
            Some(Ok(false)) => self.skip(source, "being polled by another instance", done),
            Some(Err(e)) => self.skip(source, &format!("cannot claim its lease: {e}"), done),
            None => self.skip(source, "cannot claim its lease", done),
        }
    }

    /// A poll that does not run: off the board's in-flight list, and said to whoever asked.
    fn skip(&self, source: &SourceSettings, why: &str, done: Option<&UnboundedSender<PollReport>>) -> Option<String> {
        let state = {
            let mut tracked = self.lock_tracked();
            let t = tracked.get_mut(&source.id)?;
            t.runtime.in_flight = false;
            t.state.clone()
        };
        tracing::info!(source = %source.id, why, "poll skipped");
        if let Some(tx) = done {
            let _ = tx.send(super::stopped(source, &state, why));
        }
        None
    }

    /// Runs the poll; under a lease, renews it every third of its length until the poll ends.
    pub(super) async fn run_renewing(
        &self,
        ctx: Arc<PollContext>,
        source: &SourceSettings,
        host: String,
        lease: Lease,
        cancel: &CancellationToken,
    ) -> Result<Polled, &'static str> {
        let (store, me, length, id) =
            (ctx.store.clone(), self.instance(), self.settings().polling.lease, source.id.clone());
        let run = self.run_guarded(ctx, source, host, cancel);
        if lease == Lease::Own {
            return run.await;
        }
        let renew = async move {
            let every = lease::renew_every(length);
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                ticks.tick().await;
                let (store, me, ids) = (store.clone(), me.clone(), vec![id.clone()]);
                if let Some(Err(e)) = blocking(move || store.renew_leases(&me, length, &ids)).await {
                    tracing::warn!(source = %id, error = %e, "renewing a lease failed; trying again");
                }
            }
        };
        tokio::select! {
            polled = run => polled,
            () = renew => Err("lease renewal ended"),
        }
    }

    /// After a poll: notes who polled it, and (under a lease) writes its next check as the due
    /// time and releases the lease.
    pub(super) async fn after_poll(
        &self,
        ctx: &PollContext,
        source: &SourceSettings,
        host: &str,
        lease: Lease,
        next_due: Option<DateTime<Utc>>,
        finished: DateTime<Utc>,
    ) {
        self.inner.board.note_poll(&source.id, finished);
        if lease == Lease::Own {
            return;
        }
        let gap = ctx.fetcher.hosts().limits(host).min_gap;
        let due_in = lease::due_in(next_due, Utc::now().max(finished));
        let (store, me, id, host) = (ctx.store.clone(), self.instance(), source.id.clone(), host.to_owned());
        if let Some(Err(e)) = blocking(move || store.release_lease(&me, &id, &host, due_in, gap)).await {
            tracing::warn!(source = %source.id, error = %e, "releasing a lease failed; it runs out by itself");
        }
    }

    /// Hands back a claimed source that will not be polled (polling stopped for it).
    pub(super) fn release_unpolled(&self, ctx: &PollContext, source: &SourceSettings, host: String) {
        let (store, me, id) = (ctx.store.clone(), self.instance(), source.id.clone());
        self.spawn_detached(async move {
            blocking(move || store.release_lease(&me, &id, &host, None, Duration::ZERO)).await;
        });
    }

    fn spawn_detached(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.inner.runtime_handle {
            Some(h) => drop(h.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }
}
