//! Counters for `/metrics` (Prometheus text format): polls, fetches, entries, stories and the
//! HTTP side, counted from poll reports since the process started. Counting is lock-free; only
//! per-source rows take a short lock once per poll. What outlives the process (a source's
//! failure streak) is read from the sources' model when rendering, never counted here.

use crate::domain::{FetchOutcome, PollReport, SourceId};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

const OUTCOMES: [FetchOutcome; 5] = [
    FetchOutcome::Ok,
    FetchOutcome::NotModified,
    FetchOutcome::Unchanged,
    FetchOutcome::TransientError,
    FetchOutcome::PermanentError,
];
/// Upper bounds (seconds) of the fetch latency buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

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

#[derive(Debug, Default)]
pub struct Metrics {
    polls: [AtomicU64; 5],
    latency_buckets: [AtomicU64; 10],
    latency_count: AtomicU64,
    latency_sum_ms: AtomicU64,
    bytes_fetched: AtomicU64,
    entries_new: AtomicU64,
    entries_updated: AtomicU64,
    entries_unchanged: AtomicU64,
    duplicates_merged: AtomicU64,
    sources: Mutex<BTreeMap<SourceId, SourceCounters>>,
}

/// One metric without labels, in the Prometheus text format (`newsriver_` prefixed).
pub fn write_metric(out: &mut String, name: &str, kind: &str, help: &str, value: &str) {
    let _ = writeln!(out, "# HELP newsriver_{name} {help}\n# TYPE newsriver_{name} {kind}\nnewsriver_{name} {value}");
}

/// One metric with one label, a series per value, in the Prometheus text format. Label values
/// are slugs (source and partner ids), which need no escaping.
pub fn write_labelled(out: &mut String, name: &str, kind: &str, help: &str, label: &str, values: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP newsriver_{name} {help}\n# TYPE newsriver_{name} {kind}");
    for (value, n) in values {
        let _ = writeln!(out, "newsriver_{name}{{{label}=\"{value}\"}} {n}");
    }
}

impl Metrics {
    /// Counts one finished poll.
    pub fn record_poll(&self, r: &PollReport) {
        let i = OUTCOMES.iter().position(|o| *o == r.outcome).unwrap_or(0);
        self.polls[i].fetch_add(1, Relaxed);
        let secs = r.elapsed.as_secs_f64();
        if let Some(b) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.latency_buckets[b].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ms.fetch_add(r.elapsed.as_millis() as u64, Relaxed);
        self.bytes_fetched.fetch_add(r.bytes, Relaxed);
        self.entries_new.fetch_add(r.summary.new as u64, Relaxed);
        self.entries_updated.fetch_add(r.summary.updated as u64, Relaxed);
        self.entries_unchanged.fetch_add(r.summary.unchanged as u64, Relaxed);
        self.duplicates_merged.fetch_add(r.merged as u64, Relaxed);
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let c = sources.entry(r.source.clone()).or_default();
        c.polls += 1;
        c.not_modified += u64::from(matches!(r.outcome, FetchOutcome::NotModified));
    }

    pub fn source(&self, id: &SourceId) -> SourceCounters {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner).get(id).copied().unwrap_or_default()
    }

    /// The Prometheus exposition; `store_bytes` and `entries` come from the store, and each
    /// source's failure streak from its model.
    pub fn render(&self, store_bytes: u64, entries: u64, failure_streaks: &[(SourceId, u32)]) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP newsriver_polls_total Polls finished, by outcome.\n# TYPE newsriver_polls_total counter"
        );
        for (o, n) in OUTCOMES.iter().zip(&self.polls) {
            let label = serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let _ = writeln!(out, "newsriver_polls_total{{outcome=\"{label}\"}} {}", n.load(Relaxed));
        }
        self.render_latency(&mut out);
        let polls: u64 = self.polls.iter().map(|p| p.load(Relaxed)).sum();
        let ratio = if polls == 0 { 0.0 } else { self.polls[1].load(Relaxed) as f64 / polls as f64 };
        let simple: [(&str, &str, &str, String); 8] = [
            (
                "fetched_bytes_total",
                "counter",
                "Body bytes fetched (after decompression).",
                self.bytes_fetched.load(Relaxed).to_string(),
            ),
            (
                "entries_new_total",
                "counter",
                "Entries stored for the first time.",
                self.entries_new.load(Relaxed).to_string(),
            ),
            (
                "entries_updated_total",
                "counter",
                "Entries whose title or text changed.",
                self.entries_updated.load(Relaxed).to_string(),
            ),
            (
                "entries_unchanged_total",
                "counter",
                "Items seen again unchanged.",
                self.entries_unchanged.load(Relaxed).to_string(),
            ),
            (
                "duplicates_merged_total",
                "counter",
                "New items that joined an existing story or item.",
                self.duplicates_merged.load(Relaxed).to_string(),
            ),
            ("not_modified_ratio", "gauge", "Share of polls answered 304 since start.", format!("{ratio:.4}")),
            ("store_size_bytes", "gauge", "Size of the sled store on disk.", store_bytes.to_string()),
            ("store_entries", "gauge", "Entries in the store.", entries.to_string()),
        ];
        for (name, kind, help, value) in simple {
            write_metric(&mut out, name, kind, help, &value);
        }
        let _ = writeln!(out, "# HELP newsriver_source_failure_streak Consecutive failed polls of each source.\n# TYPE newsriver_source_failure_streak gauge");
        for (id, streak) in failure_streaks {
            let _ = writeln!(out, "newsriver_source_failure_streak{{source=\"{id}\"}} {streak}");
        }
        out
    }

    fn render_latency(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP newsriver_fetch_duration_seconds Time from poll start to its durable end.\n# TYPE newsriver_fetch_duration_seconds histogram");
        let mut cumulative = 0;
        for (le, n) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "newsriver_fetch_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.latency_count.load(Relaxed);
        let sum = self.latency_sum_ms.load(Relaxed) as f64 / 1000.0;
        let _ = writeln!(out, "newsriver_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "newsriver_fetch_duration_seconds_sum {sum:.3}\nnewsriver_fetch_duration_seconds_count {count}"
        );
    }
}

/// Upper bounds (seconds) of the WebSub delivery latency buckets.
const DELIVERY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The WebSub hub's counters: deliveries by outcome, retries, their latency, and subscriptions by
/// state (set by the delivery worker whenever they change).
#[derive(Debug, Default)]
pub struct WebSubMetrics {
    ok: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_us: AtomicU64,
    active: AtomicU64,
    suspended: AtomicU64,
    renders: AtomicU64,
}

impl WebSubMetrics {
    /// One `since` page read (and rendered, when it had items) for a group of subscribers.
    pub fn record_render(&self) {
        self.renders.fetch_add(1, Relaxed);
    }

    /// One delivery attempt: answered 2xx or not, and whether it retried an earlier failure.
    pub fn record_delivery(&self, ok: bool, retry: bool, elapsed: std::time::Duration) {
        (if ok { &self.ok } else { &self.failed }).fetch_add(1, Relaxed);
        if retry {
            self.retried.fetch_add(1, Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        if let Some(b) = DELIVERY_BUCKETS.iter().position(|le| secs <= *le) {
            self.buckets[b].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn set_subscriptions(&self, active: u64, suspended: u64) {
        self.active.store(active, Relaxed);
        self.suspended.store(suspended, Relaxed);
    }

    /// Appends the hub's metrics to a Prometheus text exposition.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP newsriver_websub_deliveries_total WebSub delivery attempts, by outcome.\n# TYPE newsriver_websub_deliveries_total counter");
        for (label, n) in [("ok", &self.ok), ("failed", &self.failed)] {
            let _ = writeln!(out, "newsriver_websub_deliveries_total{{outcome=\"{label}\"}} {}", n.load(Relaxed));
        }
        let renders = self.renders.load(Relaxed).to_string();
        write_metric(
            out,
            "websub_renders_total",
            "counter",
            "Since pages read for deliveries, one per (topic, position).",
            &renders,
        );
        let retried = self.retried.load(Relaxed).to_string();
        write_metric(
            out,
            "websub_delivery_retries_total",
            "counter",
            "Delivery attempts that retried a failed one.",
            &retried,
        );
        let _ = writeln!(out, "# HELP newsriver_websub_delivery_duration_seconds Time from sending a delivery to its answer.\n# TYPE newsriver_websub_delivery_duration_seconds histogram");
        let mut cumulative = 0;
        for (le, n) in DELIVERY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "newsriver_websub_delivery_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "newsriver_websub_delivery_duration_seconds_bucket{{le=\"+Inf\"}} {count}\nnewsriver_websub_delivery_duration_seconds_sum {sum:.6}\nnewsriver_websub_delivery_duration_seconds_count {count}");
        let _ = writeln!(out, "# HELP newsriver_websub_subscriptions WebSub subscriptions, by state.\n# TYPE newsriver_websub_subscriptions gauge");
        for (label, n) in [("active", &self.active), ("suspended", &self.suspended)] {
            let _ = writeln!(out, "newsriver_websub_subscriptions{{state=\"{label}\"}} {}", n.load(Relaxed));
        }
    }
}
