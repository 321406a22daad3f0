//! What each partner took since the process started: requests, 304s, items delivered by pull
//! (in the bodies served to it) and by push (counted by whoever pushes, through
//! `Usage::record_push`), requests refused by its rate limit, and when it was last seen. In
//! memory only: a restart starts every count again.

use super::Partners;
use crate::domain::PartnerId;
use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use serde::Serialize;
use std::sync::atomic::Ordering::Relaxed;
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

/// One partner's counts. Clones share them: a scrape's registry reads them as they are.
#[derive(Debug, Clone, Default)]
struct Counts {
    requests: Counter,
    not_modified: Counter,
    pulled: Counter,
    pushed: Counter,
    limited: Counter,
    /// Unix seconds; 0 never.
    last_seen: Gauge,
}

#[derive(Debug, Default)]
struct Row {
    counts: Counts,
    bucket: Mutex<Bucket>,
}

impl Row {
    /// The row a reload carries over: the same counts, shared, so a request still answered on
    /// the old state is counted too; and a copy of the bucket.
    fn carry(&self) -> Self {
        let bucket = *self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        Self { counts: self.counts.clone(), bucket: Mutex::new(bucket) }
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
            Some(old) => old.carry(),
            None => Row::default(),
        };
        Self { rows: to.all().iter().map(row).collect() }
    }

    /// Counts a request with partner `i`'s key at `now` and takes it from the partner's rate
    /// limit; `Err` is how long until it may ask again.
    pub fn admit(&self, partners: &Partners, i: usize, now: Instant, wall: DateTime<Utc>) -> Result<(), Duration> {
        let Some(row) = self.rows.get(i) else { return Ok(()) };
        row.counts.requests.inc();
        row.counts.last_seen.inner().fetch_max(wall.timestamp(), Relaxed);
        let Some(limit) = partners.get(i).and_then(|p| p.rate_limit) else { return Ok(()) };
        let taken = row.bucket.lock().unwrap_or_else(PoisonError::into_inner).take(limit, now);
        if taken.is_err() {
            row.counts.limited.inc();
        }
        taken
    }

    /// Counts what a request of partner `i` was answered: a 304, or a body of `items` items.
    pub fn served(&self, i: usize, not_modified: bool, items: usize) {
        if let Some(row) = self.rows.get(i) {
            if not_modified {
                row.counts.not_modified.inc();
            }
            row.counts.pulled.inc_by(items as u64);
        }
    }

    /// Counts items pushed to a partner (WebSub deliveries); unknown partners are ignored.
    pub fn record_push(&self, partners: &Partners, partner: &PartnerId, items: u64) {
        if let Some(row) = partners.index_of(partner).and_then(|i| self.rows.get(i)) {
            row.counts.pushed.inc_by(items);
        }
    }

    pub fn snapshot(&self, partners: &Partners) -> Vec<PartnerUsage> {
        (partners.all().iter().zip(&self.rows))
            .map(|(p, Row { counts: c, .. })| {
                let (requests, not_modified) = (c.requests.get(), c.not_modified.get());
                let seen = c.last_seen.get();
                PartnerUsage {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    channels: p.channels.names(),
                    rate_limit: p.rate_limit,
                    requests,
                    not_modified,
                    not_modified_rate: if requests == 0 { 0.0 } else { not_modified as f64 / requests as f64 },
                    items_pulled: c.pulled.get(),
                    items_pushed: c.pushed.get(),
                    rate_limited: c.limited.get(),
                    last_seen: (seen > 0).then(|| DateTime::from_timestamp(seen, 0)).flatten(),
                }
            })
            .collect()
    }

    /// Registers one labelled series per count, each partner's read as a scrape encodes it.
    pub fn register(&self, partners: &Partners, reg: &mut Registry) {
        let ids = partners.all().iter().map(|p| p.id.to_string());
        let rows = ids.zip(self.rows.iter().map(|r| r.counts.clone())).collect();
        reg.register_collector(Box::new(PartnerSeries(rows)));
    }
}

/// Every partner's counts by its id, encoded as one family per count with a `partner` label.
#[derive(Debug)]
struct PartnerSeries(Vec<(String, Counts)>);

type Pick = fn(&Counts) -> &dyn EncodeMetric;

const SERIES: [(&str, &str, Option<Unit>, Pick); 6] = [
    ("partner_requests", "Requests made with each partner's key.", None, |c| &c.requests),
    ("partner_not_modified", "Partner requests answered 304.", None, |c| &c.not_modified),
    ("partner_items_pulled", "Items in the bodies served to each partner.", None, |c| &c.pulled),
    ("partner_items_pushed", "Items pushed to each partner.", None, |c| &c.pushed),
    ("partner_rate_limited", "Partner requests refused by the rate limit (429).", None, |c| &c.limited),
    ("partner_last_seen", "When each partner last made a request (Unix time, 0 never).", Some(Unit::Seconds), |c| {
        &c.last_seen
    }),
];

impl Collector for PartnerSeries {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let Some((_, first)) = self.0.first() else { return Ok(()) };
        for (name, help, unit, pick) in &SERIES {
            let kind = pick(first).metric_type();
            let mut family = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
            for (id, counts) in &self.0 {
                pick(counts).encode(family.encode_family(&[("partner", id.as_str())])?)?;
            }
        }
        Ok(())
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
