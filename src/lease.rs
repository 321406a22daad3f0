//! The timing of leases, pure: this instance's name, how often a poll renews its lease, how a
//! next check becomes a due time on the database's clock, when a cron job fired. The claims
//! themselves are the store's (`store/leases.rs`, where the design is); the poller drives them.

use chrono::{DateTime, DurationRound, Utc};
use std::time::Duration;

/// This instance's name: the configured one, or `hostname-pid` (stable for the process life,
/// distinct between processes on one machine).
pub fn instance_name(configured: Option<&str>) -> String {
    if let Some(name) = configured {
        return name.to_owned();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "newsriver".to_owned());
    format!("{host}-{}", std::process::id())
}

/// How often a poll in flight renews its lease: three times per lease, so two renewals in a row
/// may fail or run late before another instance could take the source.
pub fn renew_every(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(100))
}

/// How long from `now` until `next` (none stays none; a time past is due at once). The store
/// adds this to the database's `now()`, so no instance's clock is compared with another's.
pub fn due_in(next: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<Duration> {
    next.map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))
}

/// The second a cron job fired for, the same on every instance whose clock is within a second.
pub fn fire_time(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(chrono::Duration::seconds(1)).unwrap_or(now)
}

/// How many due sources one tick claims: enough to fill the free slots twice over (claimed
/// sources wait for a slot under a renewed lease), at least one.
pub fn claim_limit(concurrency: usize, in_flight: usize) -> usize {
    (2 * concurrency).saturating_sub(in_flight).max(1)
}

/// From when the next refresh asks for rows polled: a little before the last refresh, since a
/// poll released just before it may commit just after.
pub fn refresh_since(last_refresh: DateTime<Utc>) -> DateTime<Utc> {
    last_refresh - chrono::Duration::seconds(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn a_lease_is_renewed_three_times_per_length() {
        assert_eq!(renew_every(Duration::from_secs(120)), Duration::from_secs(40));
        assert_eq!(renew_every(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(renew_every(Duration::from_millis(10)), Duration::from_millis(100), "never a busy loop");
    }

    #[test]
    fn next_checks_become_delays_never_negative() {
        let now = t("2026-01-01T00:00:00Z");
        assert_eq!(due_in(Some(t("2026-01-01T00:01:30Z")), now), Some(Duration::from_secs(90)));
        assert_eq!(due_in(Some(t("2025-12-31T23:59:00Z")), now), Some(Duration::ZERO), "overdue: due now");
        assert_eq!(due_in(None, now), None, "not due by interval");
    }

    #[test]
    fn instances_agree_on_a_cron_firing() {
        let a = fire_time(t("2026-01-01T00:10:00.004Z"));
        let b = fire_time(t("2026-01-01T00:10:00.870Z"));
        assert_eq!(a, b);
        assert_eq!(a, t("2026-01-01T00:10:00Z"));
    }

    #[test]
    fn a_tick_claims_twice_the_free_slots() {
        assert_eq!(claim_limit(16, 0), 32);
        assert_eq!(claim_limit(16, 30), 2);
        assert_eq!(claim_limit(16, 40), 1, "always at least one");
    }

    #[test]
    fn the_configured_name_wins_and_the_default_is_stable() {
        assert_eq!(instance_name(Some("east-1")), "east-1");
        let name = instance_name(None);
        assert!(name.ends_with(&format!("-{}", std::process::id())), "{name}");
        assert_eq!(name, instance_name(None));
    }
}
