//! `[websub]` as written, and its validation.

use super::problems::Problems;
use super::{Signature, WebSubSettings};
use serde::Deserialize;
use std::time::Duration;
use url::Url;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWebSub {
    pub enabled: Option<bool>,
    pub default_lease: Option<String>,
    pub min_lease: Option<String>,
    pub max_lease: Option<String>,
    pub signature: Option<String>,
    pub timeout: Option<String>,
    pub retry_min: Option<String>,
    pub retry_max: Option<String>,
    pub give_up_after: Option<String>,
    pub requests_per_minute: Option<usize>,
    pub max_per_host: Option<usize>,
    pub max_subscriptions: Option<usize>,
    pub max_callback_length: Option<usize>,
    pub batch_items: Option<usize>,
    pub batch_bytes: Option<String>,
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    pub external_hubs: Option<Vec<String>>,
    pub publish_every: Option<String>,
}

impl RawWebSub {
    pub(super) fn validate(&self, p: &mut Problems) -> WebSubSettings {
        let d = WebSubSettings::default();
        let dur = |p: &mut Problems, key: &str, raw: &Option<String>, default: Duration| {
            p.duration(&format!("websub.{key}"), raw.as_deref(), default)
        };
        let min_lease = dur(p, "min_lease", &self.min_lease, d.min_lease);
        let max_lease = dur(p, "max_lease", &self.max_lease, d.max_lease);
        let default_lease = dur(p, "default_lease", &self.default_lease, d.default_lease);
        if min_lease > max_lease {
            p.push("websub.min_lease", "is longer than websub.max_lease");
        } else if !(min_lease..=max_lease).contains(&default_lease) {
            p.push("websub.default_lease", "must lie between websub.min_lease and websub.max_lease");
        }
        let retry_min = dur(p, "retry_min", &self.retry_min, d.retry_min);
        let retry_max = dur(p, "retry_max", &self.retry_max, d.retry_max);
        if retry_min > retry_max {
            p.push("websub.retry_min", "is longer than websub.retry_max");
        }
        let batch_bytes = p.size("websub.batch_bytes", self.batch_bytes.as_deref(), d.batch_bytes);
        if batch_bytes < 1024 {
            p.push("websub.batch_bytes", "must be at least 1KiB");
        }
        WebSubSettings {
            enabled: self.enabled.unwrap_or(d.enabled),
            default_lease,
            min_lease,
            max_lease,
            signature: self.signature(p).unwrap_or(d.signature),
            timeout: dur(p, "timeout", &self.timeout, d.timeout),
            retry_min,
            retry_max,
            give_up_after: dur(p, "give_up_after", &self.give_up_after, d.give_up_after),
            requests_per_minute: p.positive(
                "websub.requests_per_minute",
                self.requests_per_minute,
                d.requests_per_minute,
            ),
            max_per_host: p.positive("websub.max_per_host", self.max_per_host, d.max_per_host),
            max_subscriptions: p.positive("websub.max_subscriptions", self.max_subscriptions, d.max_subscriptions),
            max_callback_length: self.callback_length(p).unwrap_or(d.max_callback_length),
            batch_items: p.positive("websub.batch_items", self.batch_items, d.batch_items),
            batch_bytes,
            concurrency: p.positive("websub.concurrency", self.concurrency, d.concurrency),
            per_host: p.positive("websub.per_host", self.per_host, d.per_host),
            external_hubs: self.external_hubs(p),
            publish_every: dur(p, "publish_every", &self.publish_every, d.publish_every),
        }
    }

    fn signature(&self, p: &mut Problems) -> Option<Signature> {
        let raw = self.signature.as_deref()?;
        Signature::parse(raw).map_err(|e| p.push("websub.signature", e)).ok()
    }

    /// A callback must at least hold `https://h/`; URLs past 8 KiB break common servers.
    fn callback_length(&self, p: &mut Problems) -> Option<usize> {
        match self.max_callback_length? {
            n @ 16..=8192 => Some(n),
            n => {
                p.push("websub.max_callback_length", format!("{n} is not between 16 and 8192"));
                None
            }
        }
    }

    fn external_hubs(&self, p: &mut Problems) -> Vec<Url> {
        let hubs = self.external_hubs.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(hubs.len());
        for (i, raw) in hubs.iter().enumerate() {
            match Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => out.push(u),
                Ok(_) => p.push(format!("websub.external_hubs[{i}]"), "must be an absolute http(s) URL"),
                Err(e) => p.push(format!("websub.external_hubs[{i}]"), format!("{raw:?}: {e}")),
            }
        }
        out
    }
}
