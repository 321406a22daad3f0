//! Fetching a feed: one shared HTTP client, conditional GET, capped bodies, classified failures.
//! `read_capped` is the only place a response body is read.

mod error;

pub use error::FetchError;

use crate::config::PollingSettings;
use crate::domain::FeedUrl;
use reqwest::header::{HeaderMap, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};
use std::time::Duration;

/// Validators from the previous successful fetch, sent back so an unchanged feed costs a 304.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched body with the validators to send next time.
#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub status: u16,
    pub validators: Validators,
    pub content_type: Option<String>,
    /// Where the body came from after redirects; relative links resolve against it.
    pub final_url: Option<url::Url>,
}

#[derive(Debug)]
pub enum FetchResult {
    NotModified { status: u16 },
    Fetched(Fetched),
}

#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
}

/// rustls needs a process-wide crypto provider; installing twice is harmless, so every
/// client constructor calls this instead of relying on `main` (tests build clients too).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Fetcher {
    pub fn new(polling: &PollingSettings) -> Result<Self, FetchError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("newsriver/", env!("CARGO_PKG_VERSION")))
            .timeout(polling.timeout)
            .connect_timeout(polling.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(polling.max_redirects))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))?;
        Ok(Self { client, max_body: polling.max_body, timeout: polling.timeout })
    }

    pub async fn fetch(&self, url: &FeedUrl, prev: &Validators) -> Result<FetchResult, FetchError> {
        // The client timeout covers the body too, but a drip-feeding server must not outlive
        // the bound even if a future reqwest changes that, so bound the whole exchange here.
        let work = async {
            match url {
                FeedUrl::Http(u) => self.fetch_http(u, prev).await,
                FeedUrl::File(p) => self.fetch_file(p, prev).await,
            }
        };
        tokio::time::timeout(self.timeout, work).await.map_err(|_| FetchError::Timeout(self.timeout))?
    }

    async fn fetch_http(&self, url: &url::Url, prev: &Validators) -> Result<FetchResult, FetchError> {
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
        let mut resp = req.send().await.map_err(|e| FetchError::from_reqwest(&e, self.timeout))?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(FetchResult::NotModified { status });
        }
        if !resp.status().is_success() {
            let retry_after = retry_after(resp.headers());
            return Err(FetchError::Status { status, retry_after });
        }
        let headers = resp.headers();
        let validators = Validators { etag: header(headers, &ETAG), last_modified: header(headers, &LAST_MODIFIED) };
        let content_type = header(headers, &reqwest::header::CONTENT_TYPE);
        let final_url = Some(resp.url().clone());
        let body = read_capped(&mut resp, self.max_body, self.timeout).await?;
        Ok(FetchResult::Fetched(Fetched { body, status, validators, content_type, final_url }))
    }

    async fn fetch_file(&self, path: &std::path::Path, prev: &Validators) -> Result<FetchResult, FetchError> {
        let file_err =
            |e: std::io::Error| FetchError::File { path: path.display().to_string(), message: e.to_string() };
        let meta = tokio::fs::metadata(path).await.map_err(file_err)?;
        // A file's "ETag" is its size and modification time: cheap, and changes on every save.
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let tag = format!("\"{}-{}\"", meta.len(), mtime.map(|d| d.as_nanos()).unwrap_or_default());
        if prev.etag.as_deref() == Some(&tag) {
            return Ok(FetchResult::NotModified { status: 304 });
        }
        if meta.len() > self.max_body {
            return Err(FetchError::TooLarge { limit: self.max_body });
        }
        let body = tokio::fs::read(path).await.map_err(file_err)?;
        if body.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge { limit: self.max_body });
        }
        let validators = Validators { etag: Some(tag), last_modified: None };
        let final_url = url::Url::from_file_path(path).ok();
        Ok(FetchResult::Fetched(Fetched { body, status: 200, validators, content_type: None, final_url }))
    }
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
