//! When each source is next polled. `next_check` is pure; `start` wires it to tokio-cron-scheduler:
//! a one-second tick for `every` sources, one cron job per `cron` source, and a daily
//! maintenance job (03:17 UTC) that prunes the near-duplicate index.

use crate::config::{PollingSettings, Schedule, SourceSettings};
use crate::domain::SourceId;
use crate::worker::Poller;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::time::Duration;
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

/// A stable offset per source in `[0, min(jitter, interval/10))`, so sources that share an
/// interval do not all hit the network in the same second, and restarts keep each source's slot.
pub fn jitter(id: &SourceId, interval: Duration, max: Duration) -> Duration {
    let cap = max.min(interval / 10).as_millis() as u64;
    if cap == 0 {
        return Duration::ZERO;
    }
    let h = Sha256::digest(id.as_str().as_bytes());
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    Duration::from_millis(n % cap)
}

/// The wait before the next poll after a failure streak of `failures`: the interval doubled per
/// failure, capped at `max_backoff`, and never shorter than what the server asked for.
pub fn backoff(interval: Duration, failures: u32, retry_after: Option<Duration>, max_backoff: Duration) -> Duration {
    let factor = 1u32 << failures.min(16);
    let wait = interval.saturating_mul(factor).min(max_backoff.max(interval));
    retry_after.map_or(wait, |ra| wait.max(ra.min(max_backoff)))
}

/// What a source has told us about pacing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pacing {
    pub failures: u32,
    pub retry_after: Option<Duration>,
    /// RSS `ttl`, `Cache-Control: max-age` or `Expires` of the last answer.
    pub hint: Option<Duration>,
}

/// A source's polling interval and why it is that long, as the status API shows it.
pub fn interval(source: &SourceSettings, hint: Option<Duration>, policy: &PollingSettings) -> (Duration, String) {
    let every = match source.schedule {
        Schedule::Every(d) => d,
        Schedule::Cron(ref c) => return (policy.every, format!("cron {c:?}")),
    };
    let hinted = hint.filter(|h| *h > every).map(|h| h.min(policy.max_every.max(every)));
    match hinted {
        Some(h) if h >= policy.min_every => {
            let capped = if Some(h) == hint { "" } else { ", capped at polling.max_every" };
            (h, format!("the source asks for {}{capped}", human(h)))
        }
        _ if every < policy.min_every => (policy.min_every, "raised to polling.min_every".to_owned()),
        _ => (every, format!("every {} as configured", human(every))),
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        _ if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// Next poll time of an `every` source, from its last attempt and pacing.
pub fn next_check(
    now: DateTime<Utc>,
    last_attempt: Option<DateTime<Utc>>,
    source: &SourceSettings,
    pacing: Pacing,
    policy: &PollingSettings,
) -> DateTime<Utc> {
    let Some(last) = last_attempt else { return now };
    let (interval, _) = interval(source, pacing.hint, policy);
    let wait = if pacing.failures == 0 {
        interval + jitter(&source.id, interval, policy.jitter)
    } else {
        let wait = backoff(interval, pacing.failures, pacing.retry_after, policy.max_backoff);
        // Sources that failed together (one host down) must not all retry in the same second.
        wait + retry_jitter(&source.id, pacing.failures, wait)
    };
    last + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

/// Up to a tenth of the wait, different per source and per attempt.
fn retry_jitter(id: &SourceId, failures: u32, wait: Duration) -> Duration {
    let h = Sha256::digest(format!("{id}#{failures}").as_bytes());
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let cap = (wait.as_millis() / 10) as u64;
    Duration::from_millis(if cap == 0 { 0 } else { n % cap })
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
    use crate::domain::FeedUrl;

    fn policy() -> PollingSettings {
        PollingSettings {
            enabled: true,
            every: Duration::from_secs(900),
            concurrency: 4,
            per_host: 2,
            timeout: Duration::from_secs(20),
            max_body: 1 << 20,
            max_redirects: 5,
            jitter: Duration::from_secs(30),
            max_backoff: Duration::from_secs(6 * 3600),
            initial_items: 10,
            min_every: Duration::from_secs(60),
            max_every: Duration::from_secs(6 * 3600),
            max_items: 1000,
            redirect_confirmations: 3,
            host_defaults: crate::fetch::HostLimits { concurrency: 2, min_gap: Duration::ZERO },
            hosts: Default::default(),
            allow_private_networks: false,
            allow_hosts: vec![],
        }
    }

    fn source(every: u64) -> SourceSettings {
        SourceSettings {
            id: SourceId::parse("s").expect("slug"),
            title: "S".into(),
            url: FeedUrl::File("/x".into()),
            schedule: Schedule::Every(Duration::from_secs(every)),
            initial_items: 10,
        }
    }

    #[test]
    fn never_polled_is_due_now_and_success_waits_an_interval() {
        let now = Utc::now();
        let s = source(600);
        assert_eq!(next_check(now, None, &s, Pacing::default(), &policy()), now);
        let next = next_check(now, Some(now), &s, Pacing::default(), &policy());
        let wait = (next - now).to_std().expect("positive");
        assert!(wait >= Duration::from_secs(600) && wait < Duration::from_secs(630), "{wait:?}");
    }

    #[test]
    fn failures_back_off_to_a_cap_and_obey_retry_after() {
        let i = Duration::from_secs(600);
        let cap = Duration::from_secs(3600);
        assert_eq!(backoff(i, 1, None, cap), Duration::from_secs(1200));
        assert_eq!(backoff(i, 2, None, cap), Duration::from_secs(2400));
        assert_eq!(backoff(i, 30, None, cap), cap);
        assert_eq!(backoff(i, 1, Some(Duration::from_secs(3000)), cap), Duration::from_secs(3000));
        assert_eq!(backoff(i, 1, Some(Duration::from_secs(99_999)), cap), cap);
    }

    #[test]
    fn hints_stretch_the_interval_within_bounds() {
        let p = policy();
        let (i, why) = interval(&source(600), Some(Duration::from_secs(3600)), &p);
        assert_eq!(i, Duration::from_secs(3600), "{why}");
        assert!(why.contains("asks for 1h"), "{why}");
        let (i, why) = interval(&source(600), Some(Duration::from_secs(7 * 24 * 3600)), &p);
        assert_eq!(i, p.max_every, "{why}");
        assert!(why.contains("max_every"), "{why}");
        assert_eq!(
            interval(&source(600), Some(Duration::from_secs(60)), &p).0,
            Duration::from_secs(600),
            "a hint never shortens"
        );
        assert_eq!(interval(&source(5), None, &p).0, p.min_every);
        let now = Utc::now();
        let pacing = Pacing { hint: Some(Duration::from_secs(7200)), ..Pacing::default() };
        let wait = (next_check(now, Some(now), &source(600), pacing, &p) - now).to_std().expect("positive");
        assert!(wait >= Duration::from_secs(7200) && wait <= Duration::from_secs(7230), "{wait:?}");
    }

    #[test]
    fn retries_obey_retry_after_and_spread_out() {
        let (p, now) = (policy(), Utc::now());
        let pacing = Pacing { failures: 1, retry_after: Some(Duration::from_secs(5000)), hint: None };
        let wait = (next_check(now, Some(now), &source(600), pacing, &p) - now).to_std().expect("positive");
        assert!(wait >= Duration::from_secs(5000) && wait <= Duration::from_secs(5500), "{wait:?}");
        let ids =
            ["a", "b", "c", "d"].map(|id| SourceSettings { id: SourceId::parse(id).expect("slug"), ..source(600) });
        let waits: std::collections::HashSet<_> = ids
            .iter()
            .map(|s| next_check(now, Some(now), s, Pacing { failures: 2, ..Pacing::default() }, &p))
            .collect();
        assert!(waits.len() > 1, "sources that fail together retry at different times");
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let id = SourceId::parse("press-office").expect("slug");
        let j = jitter(&id, Duration::from_secs(600), Duration::from_secs(30));
        assert_eq!(j, jitter(&id, Duration::from_secs(600), Duration::from_secs(30)));
        assert!(j < Duration::from_secs(30));
        assert!(jitter(&id, Duration::from_secs(60), Duration::from_secs(30)) < Duration::from_secs(6));
    }

    #[test]
    fn cron_validation() {
        assert!(validate_cron("0 */5 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * *").is_err(), "5 fields");
        assert!(validate_cron("0 99 * * * *").is_err());
    }
}
