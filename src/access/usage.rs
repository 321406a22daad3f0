//! What each partner took since the process started: requests, 304s, items delivered by pull
//! (in the bodies served to it) and by push (counted by whoever pushes, through
//! `Usage::record_push`), requests refused by its rate limit, and when it was last seen. In
//! memory only: a restart starts every count again.

use super::Partners;
use crate::domain::PartnerId;
use crate::metrics::write_labelled;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A token bucket: `per_minute` requests a minute, a minute's worth at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bucket {
    tokens: f64,
    at: Option<Instant>,
}

impl Bucket {
    /// Takes one request's token at `now`, or says how long until there is one.
    pub fn take(&mut self, per_minute: u32, now: Instant) -> Result<(), Duration> {
        let cap = f64::from(per_minute.max(1));
        let per_sec = cap / 60.0;
        let tokens = match self.at {
            None => cap,
            Some(t) => (self.tokens + now.saturating_duration_since(t).as_secs_f64() * per_sec).min(cap),
        };
        self.at = Some(now);
        if tokens >= 1.0 {
            self.tokens = tokens - 1.0;
            Ok(())
        } else {
            self.tokens = tokens;
            Err(Duration::from_secs_f64((1.0 - tokens) / per_sec))
        }
    }
}

#[derive(Debug, Default)]
struct Row {
    requests: AtomicU64,
    not_modified: AtomicU64,
    pulled: AtomicU64,
    pushed: AtomicU64,
    limited: AtomicU64,
    /// Unix seconds; 0 never.
    last_seen: AtomicI64,
    bucket: Mutex<Bucket>,
}

impl Row {
    fn copy(&self) -> Self {
        let bucket = *self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        Self {
            requests: self.requests.load(Relaxed).into(),
            not_modified: self.not_modified.load(Relaxed).into(),
            pulled: self.pulled.load(Relaxed).into(),
            pushed: self.pushed.load(Relaxed).into(),
            limited: self.limited.load(Relaxed).into(),
            last_seen: self.last_seen.load(Relaxed).into(),
            bucket: Mutex::new(bucket),
        }
    }
}

/// The counters of every partner, in the order of `Partners`.
#[derive(Debug)]
pub struct Usage {
    rows: Vec<Row>,
}

/// One partner's usage, as `/api/partners` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartnerUsage {
    pub id: PartnerId,
    pub title: String,
    pub channels: Vec<String>,
    pub rate_limit: Option<u32>,
    pub requests: u64,
    pub not_modified: u64,
    /// Share of its channel requests answered 304.
    pub not_modified_rate: f64,
    pub items_pulled: u64,
    pub items_pushed: u64,
    pub rate_limited: u64,
    pub last_seen: Option<DateTime<Utc>>,
}

impl Usage {
    pub fn new(partners: &Partners) -> Self {
        Self { rows: partners.all().iter().map(|_| Row::default()).collect() }
    }

    /// The counters for `to` after a reload: a partner that `from` had too (by id) keeps its
    /// counts and its rate-limit bucket, so a reload neither forgets what it took nor refills it.
    pub fn carried(&self, from: &Partners, to: &Partners) -> Self {
        let row = |p: &crate::config::PartnerSettings| match from.index_of(&p.id).and_then(|i| self.rows.get(i)) {
            Some(old) => old.copy(),
            None => Row::default(),
        };
        Self { rows: to.all().iter().map(row).collect() }
    }

    /// Counts a request with partner `i`'s key at `now` and takes it from the partner's rate
    /// limit; `Err` is how long until it may ask again.
    pub fn admit(&self, partners: &Partners, i: usize, now: Instant, wall: DateTime<Utc>) -> Result<(), Duration> {
        let Some(row) = self.rows.get(i) else { return Ok(()) };
        row.requests.fetch_add(1, Relaxed);
        row.last_seen.fetch_max(wall.timestamp(), Relaxed);
        let Some(limit) = partners.get(i).and_then(|p| p.rate_limit) else { return Ok(()) };
        let taken = row.bucket.lock().unwrap_or_else(PoisonError::into_inner).take(limit, now);
        if taken.is_err() {
            row.limited.fetch_add(1, Relaxed);
        }
        taken
    }

    /// Counts what a request of partner `i` was answered: a 304, or a body of `items` items.
    pub fn served(&self, i: usize, not_modified: bool, items: usize) {
        if let Some(row) = self.rows.get(i) {
            if not_modified {
                row.not_modified.fetch_add(1, Relaxed);
            }
            row.pulled.fetch_add(items as u64, Relaxed);
        }
    }

    /// Counts items pushed to a partner (WebSub deliveries); unknown partners are ignored.
    pub fn record_push(&self, partners: &Partners, partner: &PartnerId, items: u64) {
        if let Some(row) = partners.index_of(partner).and_then(|i| self.rows.get(i)) {
            row.pushed.fetch_add(items, Relaxed);
        }
    }

    pub fn snapshot(&self, partners: &Partners) -> Vec<PartnerUsage> {
        (partners.all().iter().zip(&self.rows))
            .map(|(p, r)| {
                let (requests, not_modified) = (r.requests.load(Relaxed), r.not_modified.load(Relaxed));
                let seen = r.last_seen.load(Relaxed);
                PartnerUsage {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    channels: p.channels.names(),
                    rate_limit: p.rate_limit,
                    requests,
                    not_modified,
                    not_modified_rate: if requests == 0 { 0.0 } else { not_modified as f64 / requests as f64 },
                    items_pulled: r.pulled.load(Relaxed),
                    items_pushed: r.pushed.load(Relaxed),
                    rate_limited: r.limited.load(Relaxed),
                    last_seen: (seen > 0).then(|| DateTime::from_timestamp(seen, 0)).flatten(),
                }
            })
            .collect()
    }

    /// Appends one labelled series per counter to a Prometheus text exposition.
    pub fn render(&self, partners: &Partners, out: &mut String) {
        let rows = self.snapshot(partners);
        type Pick = fn(&PartnerUsage) -> u64;
        let series: [(&str, &str, &str, Pick); 6] = [
            ("partner_requests_total", "counter", "Requests made with each partner's key.", |u| u.requests),
            ("partner_not_modified_total", "counter", "Partner requests answered 304.", |u| u.not_modified),
            ("partner_items_pulled_total", "counter", "Items in the bodies served to each partner.", |u| {
                u.items_pulled
            }),
            ("partner_items_pushed_total", "counter", "Items pushed to each partner.", |u| u.items_pushed),
            ("partner_rate_limited_total", "counter", "Partner requests refused by the rate limit (429).", |u| {
                u.rate_limited
            }),
            (
                "partner_last_seen_seconds",
                "gauge",
                "When each partner last made a request (Unix time, 0 never).",
                |u| u.last_seen.map_or(0, |t| t.timestamp().max(0) as u64),
            ),
        ];
        for (name, kind, help, pick) in series {
            let values: Vec<(&str, u64)> = rows.iter().map(|u| (u.id.as_str(), pick(u))).collect();
            write_labelled(out, name, kind, help, "partner", &values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_minutes_worth_then_one_per_share_of_the_minute() {
        let (mut b, t0) = (Bucket::default(), Instant::now());
        for i in 0..3 {
            assert!(b.take(3, t0).is_ok(), "request {i} of the first minute's worth");
        }
        let wait = b.take(3, t0).expect_err("the fourth at once is refused");
        assert!((19.9..=20.1).contains(&wait.as_secs_f64()), "{wait:?}: one token every 20 s");
        assert!(b.take(3, t0 + Duration::from_secs(10)).is_err(), "half a token is not one");
        assert!(b.take(3, t0 + Duration::from_secs(21)).is_ok(), "a token came back");
        assert!(b.take(3, t0 + Duration::from_secs(21)).is_err());
        // An idle hour does not bank more than a minute's worth.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!((0..5).filter(|_| b.take(3, later).is_ok()).count(), 3);
    }
}
