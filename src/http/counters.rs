//! HTTP's own counters: channel requests, render-cache hits and 304s, counted lock-free on the
//! serving threads and shown beside the poll counters at `/metrics`.

use crate::metrics::write_metric;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// On cache lines of their own (128 bytes covers adjacent-line prefetch), away from what every
/// request reads.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct ChannelCounters {
    pub requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub not_modified: AtomicU64,
}

impl ChannelCounters {
    /// Appends the counters to a Prometheus text exposition.
    pub fn render(&self, out: &mut String) {
        let rows = [
            ("channel_requests_total", "Channel (feed) requests served.", &self.requests),
            ("channel_cache_hits_total", "Channel requests served from the render cache.", &self.cache_hits),
            ("channel_not_modified_total", "Channel requests answered 304.", &self.not_modified),
        ];
        for (name, help, n) in rows {
            write_metric(out, name, "counter", help, &n.load(Relaxed).to_string());
        }
    }
}
