//! What `/metrics` shows, as prometheus-client's typed metrics: the poller's counters (polls,
//! fetches, entries, stories) and the WebSub hub's, kept since the process started, and the
//! registry and encoding the other parts (HTTP's counters, partners' usage) register with too.
//! Counting is lock-free but for the per-poll latency histogram (the crate's own short lock) and
//! the per-source rows (a short lock once per poll). What outlives the process (a source's
//! failure streak) or lives in the store is read when a scrape builds its registry, never
//! counted here.

use crate::domain::{FetchOutcome, PollReport, SourceId};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

/// What the encoder writes: OpenMetrics text, which Prometheus scrapes natively.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const OUTCOMES: [FetchOutcome; 5] = [
    FetchOutcome::Ok,
    FetchOutcome::NotModified,
    FetchOutcome::Unchanged,
    FetchOutcome::TransientError,
    FetchOutcome::PermanentError,
];
/// Upper bounds (seconds) of the fetch latency buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds (seconds) of the WebSub delivery latency buckets.
const DELIVERY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// An empty registry whose every name starts `newsriver_`.
pub fn registry() -> Registry {
    Registry::with_prefix("newsriver")
}

/// The registry's text exposition, ending `# EOF`.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::with_capacity(8192);
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

/// A family whose label values are all known up front, with each value's metric kept aside:
/// counting indexes an array (no lock, no hashing) while the family encodes them all, zeros too.
fn fixed<const N: usize, L, M>(labels: [L; N]) -> (Family<L, M>, [M; N])
where
    L: Clone + Hash + Eq,
    M: Clone + Default,
{
    let family = Family::<L, M>::default();
    let metrics = labels.map(|l| family.get_or_create_owned(&l));
    (family, metrics)
}

/// Per-source counters since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounters {
    pub polls: u64,
    pub not_modified: u64,
}

impl SourceCounters {
    /// Share of polls answered by 304 (or an unchanged file), 0 when never polled.
    pub fn not_modified_ratio(&self) -> f64 {
        if self.polls == 0 {
            0.0
        } else {
            self.not_modified as f64 / self.polls as f64
        }
    }
}

/// What a scrape reads from elsewhere: the store's size and entries, and each source's failure
/// streak from its model.
#[derive(Debug, Clone, Default)]
pub struct Scraped {
    pub store_bytes: u64,
    pub entries: u64,
    pub failure_streaks: Vec<(SourceId, u32)>,
}

#[derive(Debug)]
pub struct Metrics {
    polls: Family<OutcomeLabel, Counter>,
    /// `polls`' counters in `OUTCOMES` order.
    by_outcome: [Counter; 5],
    fetch_duration: Histogram,
    fetched_bytes: Counter,
    entries_new: Counter,
    entries_updated: Counter,
    entries_unchanged: Counter,
    duplicates_merged: Counter,
    sources: Mutex<BTreeMap<SourceId, SourceCounters>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let (polls, by_outcome) = fixed(OUTCOMES.map(|o| OutcomeLabel { outcome: outcome_word(o) }));
        Self {
            polls,
            by_outcome,
            fetch_duration: Histogram::new(LATENCY_BUCKETS),
            fetched_bytes: Counter::default(),
            entries_new: Counter::default(),
            entries_updated: Counter::default(),
            entries_unchanged: Counter::default(),
            duplicates_merged: Counter::default(),
            sources: Mutex::default(),
        }
    }
}

/// The status API's word for an outcome (`not_modified`), so both name it alike.
fn outcome_word(o: FetchOutcome) -> String {
    serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Metrics {
    /// Counts one finished poll.
    pub fn record_poll(&self, r: &PollReport) {
        let i = OUTCOMES.iter().position(|o| *o == r.outcome).unwrap_or(0);
        self.by_outcome[i].inc();
        self.fetch_duration.observe(r.elapsed.as_secs_f64());
        self.fetched_bytes.inc_by(r.bytes);
        self.entries_new.inc_by(r.summary.new as u64);
        self.entries_updated.inc_by(r.summary.updated as u64);
        self.entries_unchanged.inc_by(r.summary.unchanged as u64);
        self.duplicates_merged.inc_by(r.merged as u64);
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let c = sources.entry(r.source.clone()).or_default();
        c.polls += 1;
        c.not_modified += u64::from(matches!(r.outcome, FetchOutcome::NotModified));
    }

    pub fn source(&self, id: &SourceId) -> SourceCounters {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner).get(id).copied().unwrap_or_default()
    }

    /// Share of all polls answered 304 since start, 0 before the first.
    fn not_modified_ratio(&self) -> f64 {
        let polls: u64 = self.by_outcome.iter().map(Counter::get).sum();
        let not_modified = self.by_outcome[1].get();
        if polls == 0 {
            0.0
        } else {
            not_modified as f64 / polls as f64
        }
    }

    /// Registers the poller's metrics, and what the scrape read from the store and the
    /// sources' model.
    pub fn register(&self, reg: &mut Registry, scraped: &Scraped) {
        reg.register("polls", "Polls finished, by outcome", self.polls.clone());
        let latency = self.fetch_duration.clone();
        reg.register_with_unit("fetch_duration", "Time from poll start to its durable end", Unit::Seconds, latency);
        let bytes = self.fetched_bytes.clone();
        reg.register_with_unit("fetched", "Body bytes fetched (after decompression)", Unit::Bytes, bytes);
        reg.register("entries_new", "Entries stored for the first time", self.entries_new.clone());
        reg.register("entries_updated", "Entries whose title or text changed", self.entries_updated.clone());
        reg.register("entries_unchanged", "Items seen again unchanged", self.entries_unchanged.clone());
        let merged = self.duplicates_merged.clone();
        reg.register("duplicates_merged", "New items that joined an existing story or item", merged);
        let ratio = ConstGauge::new(self.not_modified_ratio());
        reg.register("not_modified_ratio", "Share of polls answered 304 since start", ratio);
        let size = ConstGauge::new(scraped.store_bytes);
        reg.register_with_unit("store_size", "Size of the sled store on disk", Unit::Bytes, size);
        reg.register("store_entries", "Entries in the store", ConstGauge::new(scraped.entries));
        let streaks = Family::<SourceLabel, Gauge>::default();
        for (id, streak) in &scraped.failure_streaks {
            streaks.get_or_create(&SourceLabel { source: id.to_string() }).set(i64::from(*streak));
        }
        reg.register("source_failure_streak", "Consecutive failed polls of each source", streaks);
    }
}

/// The WebSub hub's metrics: deliveries by outcome, retries, their latency, and subscriptions by
/// state (set by the delivery worker whenever they change).
#[derive(Debug)]
pub struct WebSubMetrics {
    deliveries: Family<OutcomeLabel, Counter>,
    /// `deliveries`' counters: answered 2xx, and not.
    ok_failed: [Counter; 2],
    retries: Counter,
    renders: Counter,
    delivery_duration: Histogram,
    subscriptions: Family<StateLabel, Gauge>,
    /// `subscriptions`' gauges: active, suspended.
    active_suspended: [Gauge; 2],
}

impl Default for WebSubMetrics {
    fn default() -> Self {
        let (deliveries, ok_failed) = fixed(["ok", "failed"].map(|o| OutcomeLabel { outcome: o.into() }));
        let (subscriptions, active_suspended) = fixed(["active", "suspended"].map(|s| StateLabel { state: s.into() }));
        Self {
            deliveries,
            ok_failed,
            retries: Counter::default(),
            renders: Counter::default(),
            delivery_duration: Histogram::new(DELIVERY_BUCKETS),
            subscriptions,
            active_suspended,
        }
    }
}

impl WebSubMetrics {
    /// One `since` page read (and rendered, when it had items) for a group of subscribers.
    pub fn record_render(&self) {
        self.renders.inc();
    }

    /// One delivery attempt: answered 2xx or not, and whether it retried an earlier failure.
    pub fn record_delivery(&self, ok: bool, retry: bool, elapsed: std::time::Duration) {
        self.ok_failed[usize::from(!ok)].inc();
        if retry {
            self.retries.inc();
        }
        self.delivery_duration.observe(elapsed.as_secs_f64());
    }

    pub fn set_subscriptions(&self, active: u64, suspended: u64) {
        for (gauge, n) in self.active_suspended.iter().zip([active, suspended]) {
            gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Registers the hub's metrics.
    pub fn register(&self, reg: &mut Registry) {
        let deliveries = self.deliveries.clone();
        reg.register("websub_deliveries", "WebSub delivery attempts, by outcome", deliveries);
        let renders = self.renders.clone();
        reg.register("websub_renders", "Since pages read for deliveries, one per (topic, position)", renders);
        let retries = self.retries.clone();
        reg.register("websub_delivery_retries", "Delivery attempts that retried a failed one", retries);
        let latency = self.delivery_duration.clone();
        let help = "Time from sending a delivery to its answer";
        reg.register_with_unit("websub_delivery_duration", help, Unit::Seconds, latency);
        let subscriptions = self.subscriptions.clone();
        reg.register("websub_subscriptions", "WebSub subscriptions, by state", subscriptions);
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
