//! One subscription: who (callback), to what (topic), until when (lease), and how far it has been
//! delivered (a `since` change-log position). Every change is a pure transition with `now` given.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// A subscriber's secret or partner key: stored, used, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Active,
    /// The callback failed for longer than `give_up_after`: nothing is sent until it subscribes
    /// again.
    Suspended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// From (callback, topic), the subscription's identity (§5.1): re-subscribing finds it.
    pub id: String,
    pub callback: String,
    /// The topic's path under the public URL (`/topics/health.atom`).
    pub topic: String,
    pub secret: Option<Secret>,
    /// The partner key it subscribed with, if any.
    pub key: Option<Secret>,
    pub created: DateTime<Utc>,
    pub lease_end: DateTime<Utc>,
    pub state: State,
    /// The change-log position delivered and acknowledged (a `since` cursor).
    pub position: u64,
    /// Failed attempts in a row, since `failing_since`.
    pub failures: u32,
    pub failing_since: Option<DateTime<Utc>>,
    /// When a failed delivery is tried again.
    pub next_attempt: Option<DateTime<Utc>>,
    pub last_delivery: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Items acknowledged in total.
    pub delivered: u64,
}

/// How failed deliveries are retried (`[websub] retry_min`, `retry_max`, `give_up_after`).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

/// The identity of (callback, topic): the same pair always gives the same id.
pub fn id_of(callback: &str, topic: &str) -> String {
    let digest = Sha256::digest([callback.as_bytes(), b"\n", topic.as_bytes()].concat());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d).ok().and_then(|d| now.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Subscription {
    /// A verified new subscription, delivered from `position` on (what is new from now).
    pub fn activate(callback: &str, topic: &str, now: DateTime<Utc>, lease: Duration, position: u64) -> Self {
        Self {
            id: id_of(callback, topic),
            callback: callback.to_owned(),
            topic: topic.to_owned(),
            secret: None,
            key: None,
            created: now,
            lease_end: after(now, lease),
            state: State::Active,
            position,
            failures: 0,
            failing_since: None,
            next_attempt: None,
            last_delivery: None,
            last_error: None,
            delivered: 0,
        }
    }

    /// A verified re-subscription: new secret, key and lease, the same position (so nothing is
    /// delivered twice); a suspended one is tried again.
    pub fn renew(&mut self, secret: Option<Secret>, key: Option<Secret>, now: DateTime<Utc>, lease: Duration) {
        self.secret = secret;
        self.key = key;
        self.lease_end = after(now, lease);
        if self.state == State::Suspended {
            self.state = State::Active;
            self.failures = 0;
            self.failing_since = None;
            self.next_attempt = None;
        }
    }

    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.lease_end <= now
    }

    /// May be delivered to now.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        self.state == State::Active && !self.expired(now) && self.next_attempt.is_none_or(|t| t <= now)
    }

    /// The callback acknowledged everything up to `cursor` (`items` of them).
    pub fn delivered(&mut self, now: DateTime<Utc>, cursor: u64, items: usize) {
        self.advance(cursor);
        self.delivered += items as u64;
        self.last_delivery = Some(now);
        self.failures = 0;
        self.failing_since = None;
        self.next_attempt = None;
        self.last_error = None;
    }

    /// Nothing of the topic's between the position and `cursor`: moves on without a delivery.
    pub fn advance(&mut self, cursor: u64) {
        self.position = self.position.max(cursor);
    }

    /// A failed attempt: retried after an exponential backoff (`jitter` in 0..1 spreads callbacks
    /// that failed together by up to a quarter), or suspended once failing for `give_up_after`.
    pub fn failed(&mut self, now: DateTime<Utc>, error: String, retry: &Retry, jitter: f64) {
        self.failures = self.failures.saturating_add(1);
        let since = *self.failing_since.get_or_insert(now);
        self.last_error = Some(error);
        let failing_for = (now - since).to_std().unwrap_or_default();
        if failing_for >= retry.give_up_after {
            self.state = State::Suspended;
            self.next_attempt = None;
            return;
        }
        let doubled = retry.first.saturating_mul(1u32 << self.failures.saturating_sub(1).min(20));
        let wait = doubled.min(retry.max).mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 4.0);
        self.next_attempt = Some(after(now, wait));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
    }

    fn sub() -> Subscription {
        Subscription::activate("https://p.example/cb", "/feeds/all.atom", t(0), Duration::from_secs(100), 7)
    }

    const RETRY: Retry =
        Retry { first: Duration::from_secs(10), max: Duration::from_secs(60), give_up_after: Duration::from_secs(300) };

    #[test]
    fn identity_is_callback_and_topic() {
        assert_eq!(id_of("https://p.example/cb", "/a.atom"), id_of("https://p.example/cb", "/a.atom"));
        assert_ne!(id_of("https://p.example/cb", "/a.atom"), id_of("https://p.example/cb", "/a.rss"));
        assert_eq!(sub().id.len(), 24);
    }

    #[test]
    fn leases_end_and_renewal_keeps_the_position() {
        let mut s = sub();
        assert!(s.due(t(99)) && !s.expired(t(99)));
        assert!(s.expired(t(100)) && !s.due(t(100)));
        s.delivered(t(50), 12, 5);
        s.renew(Some(Secret("new".into())), None, t(90), Duration::from_secs(100));
        assert_eq!((s.position, s.delivered, s.lease_end), (12, 5, t(190)));
        assert_eq!(s.secret, Some(Secret("new".into())));
        assert_eq!(format!("{:?}", s.secret), "Some([redacted])");
        s.advance(3);
        assert_eq!(s.position, 12, "positions never move back");
    }

    #[test]
    fn failures_back_off_exponentially_then_suspend() {
        let mut s = sub();
        s.failed(t(0), "HTTP 500".into(), &RETRY, 0.0);
        assert_eq!((s.failures, s.next_attempt), (1, Some(t(10))));
        assert!(!s.due(t(9)) && s.due(t(10)));
        s.failed(t(10), "HTTP 500".into(), &RETRY, 0.0);
        assert_eq!(s.next_attempt, Some(t(30)));
        s.failed(t(30), "HTTP 500".into(), &RETRY, 1.0);
        assert_eq!(s.next_attempt, Some(t(80)), "40 s plus a quarter of jitter");
        for n in [80, 140, 200] {
            s.failed(t(n), "timed out".into(), &RETRY, 0.0);
            assert_eq!(s.next_attempt, Some(t(n + 60)), "capped at retry_max");
        }
        s.failed(t(300), "timed out".into(), &RETRY, 0.0);
        assert_eq!((s.state, s.next_attempt), (State::Suspended, None));
        assert!(!s.due(t(400)));
        s.renew(None, None, t(400), Duration::from_secs(100));
        assert_eq!((s.state, s.failures, s.failing_since), (State::Active, 0, None));
        assert!(s.due(t(400)));
    }

    #[test]
    fn a_delivery_clears_the_failures() {
        let mut s = sub();
        s.failed(t(0), "HTTP 500".into(), &RETRY, 0.0);
        s.delivered(t(20), 9, 2);
        assert_eq!((s.failures, s.next_attempt, s.last_error.clone()), (0, None, None));
        assert_eq!((s.position, s.last_delivery), (9, Some(t(20))));
        let json = serde_json::to_string(&s).expect("json");
        assert_eq!(serde_json::from_str::<Subscription>(&json).expect("back"), s);
    }
}
