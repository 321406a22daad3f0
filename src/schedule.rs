//! Drives the poller on time with tokio-cron-scheduler: a one-second tick that starts every
//! source due by `cadence::next_check`, one cron job per `cron` source, and a daily maintenance
//! job (03:17 UTC) that prunes the near-duplicate index. `validate_cron` reads cron expressions
//! the way the scheduler will.

use crate::config::Schedule;
use crate::worker::Poller;
use chrono::Utc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

/// Checks a 6-field cron expression (seconds first) the way the scheduler will read it.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields != 6 {
        return Err(format!("{expr:?} has {fields} fields; use 6, seconds first, as in \"0 */10 * * * *\""));
    }
    Job::new(expr, |_, _| {}).map(|_| ()).map_err(|e| format!("{expr:?} is not a valid cron expression: {e}"))
}

/// Starts the scheduler: due sources are handed to the poller; nothing runs after `shutdown`.
pub async fn start(poller: Poller, shutdown: CancellationToken) -> Result<JobScheduler, JobSchedulerError> {
    let sched = JobScheduler::new().await?;
    let (p, token) = (poller.clone(), shutdown.clone());
    sched
        .add(Job::new_async("* * * * * *", move |_, _| {
            let (p, token) = (p.clone(), token.clone());
            Box::pin(async move {
                if !token.is_cancelled() {
                    p.start_due(Utc::now(), &token);
                }
            })
        })?)
        .await?;
    let p = poller.clone();
    sched
        .add(Job::new_async("0 17 3 * * *", move |_, _| {
            let p = p.clone();
            Box::pin(async move { p.prune_story_index().await })
        })?)
        .await?;
    for source in poller.sources() {
        let Schedule::Cron(expr) = &source.schedule else { continue };
        let (p, token, id) = (poller.clone(), shutdown.clone(), source.id.clone());
        sched
            .add(Job::new_async(expr.as_str(), move |_, _| {
                let (p, token, id) = (p.clone(), token.clone(), id.clone());
                Box::pin(async move {
                    if !token.is_cancelled() {
                        p.start_cron(&id, Utc::now(), &token);
                    }
                })
            })?)
            .await?;
    }
    sched.start().await?;
    Ok(sched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_validation() {
        assert!(validate_cron("0 */5 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * *").is_err(), "5 fields");
        assert!(validate_cron("0 99 * * * *").is_err());
    }
}
