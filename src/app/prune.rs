//! Pruning for the running service (`POST /api/prune`): refused for a source the running
//! configuration still polls; otherwise after the source's last poll has ended, batch by batch
//! while polls go on, then the render caches of the touched channels, the event and
//! near-duplicate memories (which still hold the removed items) and the removed source's
//! read-only channel are let go.

use super::Reloader;
use crate::domain::SourceId;
use crate::prune::{self, Ask, Prune, PruneError, Pruned};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// How long a prune waits for a poll of its source that a reload let finish.
const POLL_WAIT: Duration = Duration::from_secs(120);

impl Reloader {
    /// Prunes (or, dry, says what that would do); no reload runs meanwhile.
    pub async fn prune_now(&self, ask: Ask) -> Result<Pruned, PruneError> {
        let ids = prune::parse_ids(&ask.sources)?;
        let mut cur = self.current.lock().await;
        if self.shutdown.is_cancelled() {
            return Err(PruneError::Stopping);
        }
        prune::refuse_configured(&ids, &cur.settings)?;
        if !ask.dry_run {
            self.wait_for_polls(&ids).await?;
        }
        let ctx = self.poller.context();
        let (store, deciders, stop, dry) =
            (self.handles.store.clone(), ctx.deciders.clone(), self.shutdown.clone(), ask.dry_run);
        let asked = ids.clone();
        let task = tokio::task::spawn_blocking(move || {
            let rules = prune::Rules { stories: &deciders.stories, grouped: &deciders.grouped };
            prune::run(&store, &asked, rules, dry, &|| stop.is_cancelled())
        });
        let done = task.await.map_err(|e| PruneError::Task(e.to_string()))??;
        if ask.dry_run {
            return Ok(done.summary);
        }
        ctx.deciders.events.forget();
        ctx.deciders.near.forget();
        self.handles.versions.bump(done.touched, chrono::Utc::now());
        let before = cur.retired.len();
        cur.retired.retain(|s| !ids.contains(&s.id));
        if cur.retired.len() != before {
            // The source is gone: its channel is no longer served.
            self.serve_under(&cur.settings, &cur.retired);
        }
        let s = &done.summary;
        tracing::info!(sources = %s.sources.join(","), entries = s.entries, stories_repointed = s.stories_repointed,
            events_repointed = s.events_repointed, batches = s.batches, interrupted = s.interrupted, "pruned");
        Ok(done.summary)
    }

    /// Waits until no poll of `ids` is in flight (one a reload let finish); none can start, as
    /// they are not configured.
    async fn wait_for_polls(&self, ids: &[SourceId]) -> Result<(), PruneError> {
        let started = Instant::now();
        loop {
            let busy: Vec<String> = {
                let board = self.handles.board.lock();
                ids.iter()
                    .filter(|id| board.get(id).is_some_and(|t| t.runtime.in_flight))
                    .map(|id| id.to_string())
                    .collect()
            };
            if busy.is_empty() {
                return Ok(());
            }
            if started.elapsed() > POLL_WAIT || self.shutdown.is_cancelled() {
                return Err(PruneError::Busy(busy));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Prune for Reloader {
    fn prune(&self, ask: Ask) -> Pin<Box<dyn Future<Output = Result<Pruned, PruneError>> + Send + '_>> {
        Box::pin(self.prune_now(ask))
    }
}
