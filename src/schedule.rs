//! Drives the poller on time: a one-second tick (on tokio's clock, so tests can pause it) that
//! starts every source due by `cadence::next_check`, and with tokio-cron-scheduler one cron job
//! per `cron` source and a daily maintenance job (03:17 UTC) that prunes the near-duplicate
//! index. `validate_cron` reads cron expressions the way the scheduler will. A reload calls
//! `Running::reschedule`, which replaces the jobs of cron sources that came, went or changed.

use crate::config::Schedule;
use crate::domain::SourceId;
use crate::worker::Poller;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

/// What the tick drives: whatever starts the sources due at `now`.
pub trait DueSources: Send + Sync + 'static {
    fn start_due(&self, now: DateTime<Utc>, cancel: &CancellationToken);
}

impl DueSources for Poller {
    fn start_due(&self, now: DateTime<Utc>, cancel: &CancellationToken) {
        Poller::start_due(self, now, cancel);
    }
}

/// The running scheduler: the tick task and the cron jobs.
pub struct Running {
    tick: JoinHandle<()>,
    cron: JobScheduler,
    /// Each cron source's expression and job, so a reload replaces exactly the changed ones.
    jobs: tokio::sync::Mutex<HashMap<SourceId, (String, uuid::Uuid)>>,
    poller: Poller,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("tick", &self.tick).finish_non_exhaustive()
    }
}

impl Running {
    /// Stops the cron jobs and waits for the tick, which ends with its shutdown token.
    /// Brings the cron jobs in line with the poller's settings of now: jobs of sources gone or
    /// with another expression are removed, new ones added. Returns how many jobs changed.
    pub async fn reschedule(&self) -> Result<usize, JobSchedulerError> {
        let settings = self.poller.settings();
        let wanted: HashMap<&SourceId, &str> = (settings.sources.iter())
            .filter_map(|s| match &s.schedule {
                Schedule::Cron(expr) => Some((&s.id, expr.as_str())),
                Schedule::Every(_) => None,
            })
            .collect();
        let mut jobs = self.jobs.lock().await;
        let stale: Vec<SourceId> = (jobs.iter())
            .filter(|(id, (expr, _))| wanted.get(id) != Some(&expr.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        let mut changed = 0;
        for id in stale {
            if let Some((_, job)) = jobs.remove(&id) {
                self.cron.remove(&job).await?;
                changed += 1;
            }
        }
        for (id, expr) in wanted {
            if !jobs.contains_key(id) {
                let job = self.cron.add(cron_job(&self.poller, &self.shutdown, id, expr)?).await?;
                jobs.insert(id.clone(), (expr.to_owned(), job));
                changed += 1;
            }
        }
        Ok(changed)
    }

    pub async fn shutdown(mut self) -> Result<(), JobSchedulerError> {
        let stopped = self.cron.shutdown().await;
        self.tick.abort();
        let _ = self.tick.await;
        stopped
    }
}

/// Starts every due source once a second, at the times `now` reads, until `shutdown`. A tick
/// missed while the runtime was busy is skipped, not made up in a burst.
pub fn spawn_tick(
    due: impl DueSources,
    shutdown: CancellationToken,
    now: impl Fn() -> DateTime<Utc> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = every.tick() => due.start_due(now(), &shutdown),
            }
        }
    })
}

/// Checks a 6-field cron expression (seconds first) the way the scheduler will read it.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields != 6 {
        return Err(format!("{expr:?} has {fields} fields; use 6, seconds first, as in \"0 */10 * * * *\""));
    }
    Job::new(expr, |_, _| {}).map(|_| ()).map_err(|e| format!("{expr:?} is not a valid cron expression: {e}"))
}

/// Starts the scheduler: due sources are handed to the poller; nothing runs after `shutdown`.
pub async fn start(poller: Poller, shutdown: CancellationToken) -> Result<Running, JobSchedulerError> {
    let sched = JobScheduler::new().await?;
    let p = poller.downgrade();
    sched
        .add(Job::new_async("0 17 3 * * *", move |_, _| {
            let p = p.upgrade();
            Box::pin(async move {
                if let Some(p) = p {
                    p.prune_story_index().await;
                }
            })
        })?)
        .await?;
    let tick = spawn_tick(poller.clone(), shutdown.clone(), Utc::now);
    let running = Running { tick, cron: sched, jobs: Default::default(), poller, shutdown };
    let started = match running.reschedule().await {
        Ok(_) => running.cron.start().await,
        Err(e) => Err(e),
    };
    if let Err(e) = started {
        running.tick.abort();
        return Err(e);
    }
    Ok(running)
}

/// The job that polls cron source `id` at the times `expr` names.
fn cron_job(
    poller: &Poller,
    shutdown: &CancellationToken,
    id: &SourceId,
    expr: &str,
) -> Result<Job, JobSchedulerError> {
    let (p, token, id) = (poller.downgrade(), shutdown.clone(), id.clone());
    Job::new_async(expr, move |_, _| {
        let (p, token, id) = (p.upgrade(), token.clone(), id.clone());
        Box::pin(async move {
            if let Some(p) = p.filter(|_| !token.is_cancelled()) {
                p.start_cron(&id, Utc::now(), &token);
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Arc, Mutex};

    /// Records the times it was asked to start due sources.
    #[derive(Clone, Default)]
    struct Asked(Arc<Mutex<Vec<DateTime<Utc>>>>);

    impl DueSources for Asked {
        fn start_due(&self, now: DateTime<Utc>, _: &CancellationToken) {
            self.0.lock().expect("times").push(now);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_tick_starts_due_sources_every_second_until_shutdown() {
        let (base, start) = (Utc::now(), tokio::time::Instant::now());
        let asked = Asked::default();
        let shutdown = CancellationToken::new();
        let tick = spawn_tick(asked.clone(), shutdown.clone(), move || {
            base + chrono::Duration::from_std(start.elapsed()).expect("elapsed")
        });
        tokio::time::sleep(Duration::from_millis(5_500)).await;
        let times = asked.0.lock().expect("times").clone();
        let offsets: Vec<i64> = times.iter().map(|t| (*t - base).num_milliseconds()).collect();
        assert_eq!(offsets, [0, 1_000, 2_000, 3_000, 4_000, 5_000], "once at start, then every second");
        shutdown.cancel();
        tick.await.expect("the tick ends with its token");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(asked.0.lock().expect("times").len(), 6, "nothing starts after shutdown");
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_runtime_skips_ticks_instead_of_bursting() {
        let base = Utc::now();
        let asked = Asked::default();
        let shutdown = CancellationToken::new();
        let _tick = spawn_tick(asked.clone(), shutdown.clone(), move || base);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // 3.5 s pass at once (a runtime busy elsewhere): the ticks due meanwhile collapse into one.
        tokio::time::advance(Duration::from_millis(3_500)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(asked.0.lock().expect("times").len(), 2, "the first tick, then one for the missed ones");
        shutdown.cancel();
    }

    #[test]
    fn cron_validation() {
        assert!(validate_cron("0 */5 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * *").is_err(), "5 fields");
        assert!(validate_cron("0 99 * * * *").is_err());
    }
}
