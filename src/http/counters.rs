//! HTTP's own counters: channel requests, render-cache hits and 304s, counted lock-free on the
//! serving threads (one atomic add each) and registered beside the poll counters at `/metrics`.

use prometheus_client::metrics::counter::{Atomic, Counter};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A counter's value on a cache line of its own (128 bytes covers adjacent-line prefetch): both
/// serving threads add to it on every request, and beside what every request reads it would
/// make those lines bounce.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct OwnLine(AtomicU64);

impl Atomic<u64> for OwnLine {
    fn inc(&self) -> u64 {
        self.0.fetch_add(1, Relaxed)
    }

    fn inc_by(&self, v: u64) -> u64 {
        self.0.fetch_add(v, Relaxed)
    }

    fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

pub type HotCounter = Counter<u64, OwnLine>;

/// Clones share the counts: a reload's new state keeps counting where the old one was.
#[derive(Debug, Clone, Default)]
pub struct ChannelCounters {
    pub requests: HotCounter,
    pub cache_hits: HotCounter,
    pub not_modified: HotCounter,
}

impl ChannelCounters {
    pub fn register(&self, reg: &mut Registry) {
        reg.register("channel_requests", "Channel (feed) requests served", self.requests.clone());
        let hits = self.cache_hits.clone();
        reg.register("channel_cache_hits", "Channel requests served from the render cache", hits);
        reg.register("channel_not_modified", "Channel requests answered 304", self.not_modified.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_counter_is_alone_on_its_line_and_clones_count_together() {
        assert_eq!(std::mem::align_of::<OwnLine>(), 128);
        let counters = ChannelCounters::default();
        let reloaded = counters.clone();
        counters.requests.inc();
        reloaded.requests.inc();
        reloaded.cache_hits.inc();
        let mut reg = crate::metrics::registry();
        counters.register(&mut reg);
        let text = crate::metrics::encode(&reg).expect("encodes");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let want = [
            "newsriver_channel_requests_total 2",
            "newsriver_channel_cache_hits_total 1",
            "newsriver_channel_not_modified_total 0",
        ];
        assert_eq!(lines, want, "{text}");
    }
}
