//! Fetching a feed: one shared HTTP client, conditional GET, capped bodies, classified failures.
//! `read_capped` is the only place a response body is read.

mod error;
pub mod guard;
pub mod hosts;
mod robots;

pub use error::FetchError;
pub use guard::{AddressGuard, Blocked};
pub use hosts::{HostBudgets, HostLimits};
pub use robots::{RobotsCache, RobotsError};

// Defined with the source's model, which learns from them.
pub use crate::domain::{Answer, Validators};

use crate::domain::FeedUrl;
use reqwest::header::{
    HeaderMap, CACHE_CONTROL, DATE, ETAG, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A fetched body with the validators to send next time.
#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub answer: Answer,
    pub validators: Validators,
    pub content_type: Option<String>,
    /// Where the body came from after redirects; relative links resolve against it.
    pub final_url: Option<Url>,
}

#[derive(Debug)]
pub enum FetchResult {
    NotModified(Answer),
    Fetched(Fetched),
}

/// The limits and policies of every fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchPolicy {
    pub timeout: Duration,
    pub max_body: u64,
    pub max_redirects: usize,
    pub guard: AddressGuard,
}

#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
    hosts: Arc<HostBudgets>,
}

/// rustls needs a process-wide crypto provider; installing twice is harmless, so every
/// client constructor calls this instead of relying on `main` (tests build clients too).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Fetcher {
    pub fn new(policy: FetchPolicy, hosts: Arc<HostBudgets>) -> Result<Self, FetchError> {
        install_crypto_provider();
        let resolver = guard::GuardedResolver { guard: policy.guard.clone() };
        let client = reqwest::Client::builder()
            .user_agent(concat!("newsriver/", env!("CARGO_PKG_VERSION")))
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            // Redirects are followed by hand so every hop passes the guard and the host gap.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, out of the guard's sight.
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .http1_max_headers(128)
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))?;
        Ok(Self { client, policy, hosts })
    }

    /// The same client and host budgets with another body cap (robots.txt is read with a small one).
    pub fn with_max_body(&self, max_body: u64) -> Self {
        Self { policy: FetchPolicy { max_body, ..self.policy.clone() }, ..self.clone() }
    }

    /// The per-host budgets, shared with the poller so polls and requests use one budget.
    pub fn hosts(&self) -> &Arc<HostBudgets> {
        &self.hosts
    }

    /// One unconditional GET of a page a person asked for (`discover`, `extract URL`): same
    /// guard, redirects and caps as a poll; without validators, a 304 is an odd answer.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        match self.fetch(&FeedUrl::Http(url.clone()), &Validators::default()).await? {
            FetchResult::Fetched(f) => Ok(f),
            FetchResult::NotModified(a) => Err(FetchError::Status { status: a.status, retry_after: None }),
        }
    }

    pub async fn fetch(&self, url: &FeedUrl, prev: &Validators) -> Result<FetchResult, FetchError> {
        // The client timeout covers each request; this bounds the whole exchange, redirect
        // hops and a drip-fed body included.
        let timeout = self.policy.timeout;
        let work = async {
            match url {
                FeedUrl::Http(u) => self.fetch_http(u, prev).await,
                FeedUrl::File(p) => self.fetch_file(p, prev).await,
            }
        };
        tokio::time::timeout(timeout, work).await.map_err(|_| FetchError::Timeout(timeout))?
    }

    async fn fetch_http(&self, start: &Url, prev: &Validators) -> Result<FetchResult, FetchError> {
        let mut url = start.clone();
        let mut visited: Vec<Url> = Vec::new();
        let mut all_permanent = true;
        loop {
            let resp = self.send(&url, prev).await?;
            let status = resp.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                let moved_to = (all_permanent && !visited.is_empty()).then(|| url.clone());
                return self.answer(resp, url, moved_to).await;
            }
            all_permanent &= matches!(status, 301 | 308);
            let next = redirect_target(&url, resp.headers(), status)?;
            visited.push(std::mem::replace(&mut url, next));
            if visited.contains(&url) {
                return Err(FetchError::Redirect(format!("redirect loop back to {url}")));
            }
            if visited.len() > self.policy.max_redirects {
                return Err(FetchError::Redirect(format!("more than {} redirects", self.policy.max_redirects)));
            }
        }
    }

    /// One request, after the guard and the host's gap allow it.
    async fn send(&self, url: &Url, prev: &Validators) -> Result<reqwest::Response, FetchError> {
        self.policy.guard.check_url(url).map_err(FetchError::Blocked)?;
        self.hosts.wait_turn(&FeedUrl::Http(url.clone()).host_key()).await;
        let mut req = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
        );
        if let Some(etag) = &prev.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &prev.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        req.send().await.map_err(|e| FetchError::from_reqwest(&e, self.policy.timeout))
    }

    async fn answer(
        &self,
        mut resp: reqwest::Response,
        url: Url,
        moved_to: Option<Url>,
    ) -> Result<FetchResult, FetchError> {
        let status = resp.status().as_u16();
        let answer = Answer { status, moved_to, fresh_for: fresh_for(resp.headers()) };
        if status == 304 {
            return Ok(FetchResult::NotModified(answer));
        }
        if !resp.status().is_success() {
            let retry_after = retry_after(resp.headers());
            return Err(FetchError::Status { status, retry_after });
        }
        let headers = resp.headers();
        let validators = Validators { etag: header(headers, &ETAG), last_modified: header(headers, &LAST_MODIFIED) };
        let content_type = header(headers, &reqwest::header::CONTENT_TYPE);
        let body = read_capped(&mut resp, self.policy.max_body, self.policy.timeout).await?;
        Ok(FetchResult::Fetched(Fetched { body, answer, validators, content_type, final_url: Some(url) }))
    }

    async fn fetch_file(&self, path: &std::path::Path, prev: &Validators) -> Result<FetchResult, FetchError> {
        let file_err =
            |e: std::io::Error| FetchError::File { path: path.display().to_string(), message: e.to_string() };
        let max_body = self.policy.max_body;
        let meta = tokio::fs::metadata(path).await.map_err(file_err)?;
        // A file's "ETag" is its size and modification time: cheap, and changes on every save.
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let tag = format!("\"{}-{}\"", meta.len(), mtime.map(|d| d.as_nanos()).unwrap_or_default());
        let answer = Answer { status: 200, ..Answer::default() };
        if prev.etag.as_deref() == Some(&tag) {
            return Ok(FetchResult::NotModified(Answer { status: 304, ..answer }));
        }
        if meta.len() > max_body {
            return Err(FetchError::TooLarge { limit: max_body });
        }
        let body = tokio::fs::read(path).await.map_err(file_err)?;
        if body.len() as u64 > max_body {
            return Err(FetchError::TooLarge { limit: max_body });
        }
        let validators = Validators { etag: Some(tag), last_modified: None };
        let final_url = Url::from_file_path(path).ok();
        Ok(FetchResult::Fetched(Fetched { body, answer, validators, content_type: None, final_url }))
    }
}

fn redirect_target(from: &Url, headers: &HeaderMap, status: u16) -> Result<Url, FetchError> {
    let location = header(headers, &LOCATION)
        .ok_or_else(|| FetchError::Redirect(format!("HTTP {status} without a Location header")))?;
    let next =
        from.join(location.trim()).map_err(|e| FetchError::Redirect(format!("bad Location {location:?}: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::Redirect(format!("redirect to unsupported scheme {:?}", next.scheme())));
    }
    Ok(next)
}

/// Reads a body chunk by chunk, stopping as soon as the decompressed size passes `limit`,
/// so a gzip bomb or an endless stream costs at most `limit` bytes of memory.
async fn read_capped(resp: &mut reqwest::Response, limit: u64, timeout: Duration) -> Result<Vec<u8>, FetchError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(16 * 1024).min(limit) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| FetchError::from_reqwest(&e, timeout))? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn header(headers: &HeaderMap, name: &reqwest::header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `Retry-After` as seconds or an HTTP date, relative to now.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok()
}

/// How long the response may be reused, from `Cache-Control: max-age` or else `Expires`.
fn fresh_for(headers: &HeaderMap) -> Option<Duration> {
    let cc = header(headers, &CACHE_CONTROL).unwrap_or_default().to_ascii_lowercase();
    let max_age = cc.split(',').find_map(|d| d.trim().strip_prefix("max-age=")?.trim_matches('"').parse::<u64>().ok());
    if let Some(secs) = max_age {
        return Some(Duration::from_secs(secs));
    }
    let expires = chrono::DateTime::parse_from_rfc2822(&header(headers, &EXPIRES)?).ok()?;
    // Relative to the server's own clock when it sent one, so clock skew does not count.
    let base = header(headers, &DATE)
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(&d).ok())
        .map_or_else(chrono::Utc::now, |d| d.with_timezone(&chrono::Utc));
    (expires.with_timezone(&chrono::Utc) - base).to_std().ok()
}
