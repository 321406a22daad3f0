//! robots.txt through the fetcher: read once per host (same address guard and timeout, a
//! 512 KiB cap), kept a day, and asked before a fetch that must honour it.

use super::{FetchError, FetchResult, Fetcher, Validators};
use crate::domain::FeedUrl;
use crate::robots::{Rules, MAX_BYTES, PRODUCT};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// How long a host's rules are trusted before they are read again.
const KEEP: Duration = Duration::from_secs(24 * 3600);

/// Why robots.txt stands between us and a URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RobotsError {
    /// The site asks us not to: permanent until its robots.txt or our config changes.
    #[error("disallowed by robots.txt: {0}")]
    Disallowed(String),
    /// robots.txt did not answer (5xx, 429, timeout): nothing is fetched until it does.
    #[error("robots.txt of {url} unavailable ({reason}); not fetching until it answers")]
    Unavailable { url: String, reason: String },
}

impl RobotsError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// A host's rules when last read. Behind an async lock, so that polls asking one host at
/// once wait for a single read instead of each reading robots.txt.
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<Rules>)>>>;

/// The rules of every host asked lately, in memory.
#[derive(Debug)]
pub struct RobotsCache {
    fetcher: Fetcher,
    hosts: Mutex<HashMap<String, Slot>>,
}

impl RobotsCache {
    pub fn new(fetcher: &Fetcher) -> Self {
        Self { fetcher: fetcher.with_max_body(MAX_BYTES), hosts: Mutex::default() }
    }

    /// Whether `url` may be fetched; `file:` URLs have no robots.txt.
    pub async fn check(&self, url: &FeedUrl) -> Result<(), RobotsError> {
        let FeedUrl::Http(url) = url else { return Ok(()) };
        let Some(origin) = origin(url) else { return Ok(()) };
        let slot = self.slot(&origin);
        let mut kept = slot.lock().await;
        let rules = match kept.as_ref().filter(|(at, _)| at.elapsed() < KEEP) {
            Some((_, rules)) => rules.clone(),
            None => {
                let rules = Arc::new(self.read(&origin).await?);
                *kept = Some((Instant::now(), rules.clone()));
                rules
            }
        };
        drop(kept);
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        if rules.allowed(&path) {
            Ok(())
        } else {
            Err(RobotsError::Disallowed(url.to_string()))
        }
    }

    fn slot(&self, origin: &str) -> Slot {
        let mut hosts = self.hosts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        hosts.entry(origin.to_owned()).or_default().clone()
    }

    /// Reads a host's robots.txt; an answer that does not settle the question is an error,
    /// and is not kept.
    async fn read(&self, origin: &str) -> Result<Rules, RobotsError> {
        let url = format!("{origin}/robots.txt");
        let unavailable = |reason: String| RobotsError::Unavailable { url: url.clone(), reason };
        let target = Url::parse(&url).map_err(|e| unavailable(e.to_string()))?;
        let rules = match self.fetcher.fetch(&FeedUrl::Http(target), &Validators::default()).await {
            Ok(FetchResult::Fetched(f)) => Rules::parse(&String::from_utf8_lossy(&f.body), PRODUCT),
            Err(e @ FetchError::Status { status: 429, .. }) => return Err(unavailable(e.to_string())),
            // Google: any other 4xx means there are no rules; so does a redirect that fails.
            Err(FetchError::Status { status: 400..=499, .. } | FetchError::Redirect(_)) => Rules::allow_all(),
            Ok(FetchResult::NotModified(_)) => return Err(unavailable("HTTP 304 without validators".into())),
            Err(e) => return Err(unavailable(e.to_string())),
        };
        Ok(rules)
    }
}

/// `scheme://host[:port]`, the unit robots.txt applies to.
fn origin(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}
