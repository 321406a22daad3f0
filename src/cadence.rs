//! When each source is next polled, derived from its model (`SourceState`), its schedule and the
//! polling policy. Pure: the poller, the status API and the CLI all read it from here.

use crate::config::{PollingSettings, Schedule, SourceSettings};
use crate::domain::{SourceId, SourceState};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::time::Duration;

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

/// When the poller next starts a poll of `source` on its own: `now` when it was never polled;
/// none when polling stopped for its configured URL (410 Gone), or for a cron source in good
/// standing (its cron job decides); otherwise its last poll plus its interval, or plus the
/// backoff while it fails (never before a Retry-After).
pub fn next_check(
    state: &SourceState,
    source: &SourceSettings,
    policy: &PollingSettings,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if state.disabled_reason(&source.url.to_string()).is_some() {
        return None;
    }
    let Some(last) = state.last_poll else { return Some(now) };
    let failures = state.consecutive_failures;
    if matches!(source.schedule, Schedule::Cron(_)) && failures == 0 {
        return None;
    }
    let hint = state.hint().map(|(secs, _)| Duration::from_secs(secs));
    let (interval, _) = interval(source, hint, policy);
    let wait = if failures == 0 {
        interval + jitter(&source.id, interval, policy.jitter)
    } else {
        let retry_after = state.retry_not_before.and_then(|t| (t - last).to_std().ok());
        let wait = backoff(interval, failures, retry_after, policy.max_backoff);
        // Sources that failed together (one host down) must not all retry in the same second.
        wait + retry_jitter(&source.id, failures, wait)
    };
    Some(last + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
}

/// Up to a tenth of the wait, different per source and per attempt.
pub fn retry_jitter(id: &SourceId, failures: u32, wait: Duration) -> Duration {
    let h = Sha256::digest(format!("{id}#{failures}").as_bytes());
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    let cap = (wait.as_millis() / 10) as u64;
    Duration::from_millis(if cap == 0 { 0 } else { n % cap })
}

/// The polling policy of the tests: 15m, jitter 30s, backoff capped at 6h, 3 confirmations.
#[cfg(test)]
pub(crate) fn test_policy() -> PollingSettings {
    PollingSettings {
        enabled: true,
        every: Duration::from_secs(900),
        concurrency: 4,
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
        respect_robots: true,
        full_text: false,
        recheck_for: Duration::from_secs(48 * 3600),
        recheck_every: Duration::from_secs(2 * 3600),
        max_articles: 50,
        lease: Duration::from_secs(60),
    }
}

/// An `every` source named `s` on a file URL.
#[cfg(test)]
pub(crate) fn test_source(every: u64) -> SourceSettings {
    SourceSettings {
        id: SourceId::parse("s").expect("slug"),
        title: "S".into(),
        url: crate::domain::FeedUrl::File("/x".into()),
        schedule: Schedule::Every(Duration::from_secs(every)),
        initial_items: 10,
        kind: crate::config::SourceKind::Feed,
        respect_robots: true,
        full_text: false,
        article: Default::default(),
        page: None,
        private: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polled(at: DateTime<Utc>, failures: u32) -> SourceState {
        SourceState { last_poll: Some(at), consecutive_failures: failures, ..SourceState::default() }
    }

    fn wait(state: &SourceState, source: &SourceSettings, at: DateTime<Utc>) -> Duration {
        let next = next_check(state, source, &test_policy(), at).expect("scheduled");
        (next - at).to_std().expect("positive")
    }

    #[test]
    fn never_polled_is_due_now_and_success_waits_an_interval() {
        let now = Utc::now();
        let s = test_source(600);
        assert_eq!(next_check(&SourceState::default(), &s, &test_policy(), now), Some(now));
        let wait = wait(&polled(now, 0), &s, now);
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
        let p = test_policy();
        let (i, why) = interval(&test_source(600), Some(Duration::from_secs(3600)), &p);
        assert_eq!(i, Duration::from_secs(3600), "{why}");
        assert!(why.contains("asks for 1h"), "{why}");
        let (i, why) = interval(&test_source(600), Some(Duration::from_secs(7 * 24 * 3600)), &p);
        assert_eq!(i, p.max_every, "{why}");
        assert!(why.contains("max_every"), "{why}");
        assert_eq!(
            interval(&test_source(600), Some(Duration::from_secs(60)), &p).0,
            Duration::from_secs(600),
            "a hint never shortens"
        );
        assert_eq!(interval(&test_source(5), None, &p).0, p.min_every);
        let now = Utc::now();
        let hinted = SourceState { ttl_secs: Some(7200), ..polled(now, 0) };
        let wait = wait(&hinted, &test_source(600), now);
        assert!(wait >= Duration::from_secs(7200) && wait <= Duration::from_secs(7230), "{wait:?}");
    }

    #[test]
    fn retries_obey_retry_after_and_spread_out() {
        let now = Utc::now();
        let asked = SourceState { retry_not_before: Some(now + chrono::Duration::seconds(5000)), ..polled(now, 1) };
        let wait = wait(&asked, &test_source(600), now);
        assert!(wait >= Duration::from_secs(5000) && wait <= Duration::from_secs(5500), "{wait:?}");
        let ids = ["a", "b", "c", "d"]
            .map(|id| SourceSettings { id: SourceId::parse(id).expect("slug"), ..test_source(600) });
        let waits: std::collections::HashSet<_> =
            ids.iter().map(|s| next_check(&polled(now, 2), s, &test_policy(), now)).collect();
        assert!(waits.len() > 1, "sources that fail together retry at different times");
    }

    #[test]
    fn cron_sources_wait_for_their_cron_unless_failing_and_gone_sources_for_nothing() {
        let now = Utc::now();
        let cron = SourceSettings { schedule: Schedule::Cron("0 * * * * *".into()), ..test_source(600) };
        assert_eq!(next_check(&SourceState::default(), &cron, &test_policy(), now), Some(now), "first poll at start");
        assert_eq!(next_check(&polled(now, 0), &cron, &test_policy(), now), None);
        assert!(next_check(&polled(now, 1), &cron, &test_policy(), now).is_some_and(|t| t > now));
        let gone = SourceState { disabled: Some("410".into()), disabled_url: Some("file:/x".into()), ..polled(now, 1) };
        assert_eq!(next_check(&gone, &test_source(600), &test_policy(), now), None);
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let id = SourceId::parse("press-office").expect("slug");
        let j = jitter(&id, Duration::from_secs(600), Duration::from_secs(30));
        assert_eq!(j, jitter(&id, Duration::from_secs(600), Duration::from_secs(30)));
        assert!(j < Duration::from_secs(30));
        assert!(jitter(&id, Duration::from_secs(60), Duration::from_secs(30)) < Duration::from_secs(6));
    }
}
