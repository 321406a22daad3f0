//! `[polling]` and `[[host]]` as written, and their validation.

use super::problems::Problems;
use super::{HostLimits, PollingSettings};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPolling {
    pub enabled: Option<bool>,
    pub every: Option<String>,
    pub min_every: Option<String>,
    pub max_every: Option<String>,
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    pub min_gap: Option<String>,
    pub timeout: Option<String>,
    pub max_body: Option<String>,
    pub max_items: Option<usize>,
    pub max_redirects: Option<usize>,
    pub redirect_confirmations: Option<u32>,
    pub jitter: Option<String>,
    pub max_backoff: Option<String>,
    pub initial_items: Option<usize>,
    pub allow_private_networks: Option<bool>,
    pub allow_hosts: Option<Vec<String>>,
    pub respect_robots: Option<bool>,
    pub full_text: Option<bool>,
    pub recheck_for: Option<String>,
    pub recheck_every: Option<String>,
    pub max_articles: Option<usize>,
    pub lease: Option<String>,
}

/// `[[host]]`: the politeness budget of one host.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    pub name: String,
    pub concurrency: Option<usize>,
    pub min_gap: Option<String>,
}

/// A duration where zero is allowed ("0s" turns the feature off).
fn maybe_zero(p: &mut Problems, path: &str, raw: Option<&str>, default: Duration) -> Duration {
    match raw.map(str::trim) {
        Some("0") | Some("0s") | Some("0ms") => Duration::ZERO,
        other => p.duration(path, other, default),
    }
}

impl RawPolling {
    pub(super) fn validate(&self, p: &mut Problems, hosts: &[RawHost]) -> PollingSettings {
        let every = p.duration("polling.every", self.every.as_deref(), Duration::from_secs(900));
        let min_every = p.duration("polling.min_every", self.min_every.as_deref(), Duration::from_secs(60));
        let max_every = p.duration("polling.max_every", self.max_every.as_deref(), Duration::from_secs(24 * 3600));
        if min_every > max_every {
            p.push("polling.min_every", "is longer than polling.max_every");
        }
        let max_body = p.size("polling.max_body", self.max_body.as_deref(), 10 << 20);
        if max_body == 0 {
            p.push("polling.max_body", "must be greater than zero");
        }
        let host_defaults = HostLimits {
            concurrency: p.positive("polling.per_host", self.per_host, 2),
            min_gap: maybe_zero(p, "polling.min_gap", self.min_gap.as_deref(), Duration::from_millis(250)),
        };
        let timeout = p.duration("polling.timeout", self.timeout.as_deref(), Duration::from_secs(20));
        PollingSettings {
            enabled: self.enabled.unwrap_or(true),
            every,
            min_every,
            max_every,
            concurrency: p.positive("polling.concurrency", self.concurrency, 16),
            timeout,
            max_body,
            max_items: p.positive("polling.max_items", self.max_items, 1000),
            max_redirects: self.max_redirects.unwrap_or(5),
            redirect_confirmations: self.redirect_confirmations.unwrap_or(3).max(1),
            jitter: maybe_zero(p, "polling.jitter", self.jitter.as_deref(), Duration::from_secs(30)),
            max_backoff: p.duration("polling.max_backoff", self.max_backoff.as_deref(), Duration::from_secs(6 * 3600)),
            initial_items: p.positive("polling.initial_items", self.initial_items, 10),
            host_defaults,
            hosts: validate_hosts(p, hosts, host_defaults),
            allow_private_networks: self.allow_private_networks.unwrap_or(false),
            allow_hosts: self.allow_hosts.clone().unwrap_or_default(),
            respect_robots: self.respect_robots.unwrap_or(true),
            full_text: self.full_text.unwrap_or(false),
            recheck_for: maybe_zero(
                p,
                "polling.recheck_for",
                self.recheck_for.as_deref(),
                Duration::from_secs(48 * 3600),
            ),
            recheck_every: p.duration(
                "polling.recheck_every",
                self.recheck_every.as_deref(),
                Duration::from_secs(2 * 3600),
            ),
            max_articles: p.positive("polling.max_articles", self.max_articles, 50),
            lease: self.lease(p, timeout),
        }
    }
}

impl RawPolling {
    /// `polling.lease`, by default three fetch timeouts (at least 10 s): renewed every third of
    /// it, a lease then outlives a renewal that is late by a whole fetch.
    fn lease(&self, p: &mut Problems, timeout: Duration) -> Duration {
        let default = (timeout * 3).max(Duration::from_secs(10));
        let lease = p.duration("polling.lease", self.lease.as_deref(), default);
        if lease < Duration::from_secs(1) {
            p.push("polling.lease", "must be at least 1s");
        }
        lease
    }
}

fn validate_hosts(p: &mut Problems, hosts: &[RawHost], defaults: HostLimits) -> HashMap<String, HostLimits> {
    let mut out = HashMap::new();
    for (i, h) in hosts.iter().enumerate() {
        let name = h.name.trim().to_ascii_lowercase();
        if name.is_empty() || name.contains('/') || name.contains(':') && !name.starts_with('[') {
            p.push(format!("host[{i}].name"), format!("{:?} is not a host name (no scheme, port or path)", h.name));
        }
        let limits = HostLimits {
            concurrency: p.positive(&format!("host[{i}].concurrency"), h.concurrency, defaults.concurrency),
            min_gap: maybe_zero(p, &format!("host[{i}].min_gap"), h.min_gap.as_deref(), defaults.min_gap),
        };
        if out.insert(name, limits).is_some() {
            p.push(format!("host[{i}].name"), format!("{:?} is listed twice", h.name));
        }
    }
    out
}
