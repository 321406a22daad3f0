//! The hub's one HTTP client, for callbacks and external hubs, on the fetcher's rules: the
//! address guard (IP-literal URLs here, names at connect time by the guarded resolver), no proxy,
//! a timeout per request, answers read only up to a small cap, and bounds on requests at once per
//! callback host and in total. Redirects are not followed: a subscriber must answer at the URL it
//! gave, and a redirect cannot lead the hub anywhere the guard would not let it go.

use crate::config::{HostLimits, Settings};
use crate::domain::FeedUrl;
use crate::fetch::{guard::GuardedResolver, AddressGuard, FetchError, HostBudgets};
use axum::body::Bytes;
use reqwest::header::{HeaderMap, LOCATION};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// What a callback answered: its status and the start of its body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// From the request's start (after waiting for a slot) to the end of what was read.
    pub elapsed: Duration,
}

#[derive(Debug)]
pub struct Callbacks {
    /// Built at the first request: most services never push, and building it (TLS roots) is a
    /// good part of a start's work.
    client: OnceLock<Result<reqwest::Client, String>>,
    guard: AddressGuard,
    timeout: Duration,
    hosts: HostBudgets,
    all: Arc<Semaphore>,
}

impl Callbacks {
    pub fn new(settings: &Settings) -> Self {
        let (p, w) = (&settings.polling, &settings.websub);
        let guard = AddressGuard::new(p.allow_private_networks, p.allow_hosts.iter().cloned());
        let per_host = HostLimits { concurrency: w.per_host, min_gap: Duration::ZERO };
        let hosts = HostBudgets::new(per_host, HashMap::new());
        let all = Arc::new(Semaphore::new(w.concurrency));
        Self { client: OnceLock::new(), guard, timeout: w.timeout, hosts, all }
    }

    fn client(&self) -> Result<&reqwest::Client, FetchError> {
        let built = self.client.get_or_init(|| {
            crate::fetch::install_crypto_provider();
            reqwest::Client::builder()
                .user_agent(concat!("newsriver/", env!("CARGO_PKG_VERSION"), " (WebSub hub)"))
                .timeout(self.timeout)
                .connect_timeout(self.timeout.min(Duration::from_secs(10)))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver { guard: self.guard.clone() }))
                .build()
                .map_err(|e| e.to_string())
        });
        built.as_ref().map_err(|e| FetchError::Request(e.clone()))
    }

    /// A GET (verification of intent, denial), reading at most `cap` bytes of the answer.
    pub async fn get(&self, url: &Url, cap: usize) -> Result<Reply, FetchError> {
        self.send(self.client()?.get(url.clone()), url, cap).await
    }

    /// A POST of `body` with `headers` (a delivery, a publish ping).
    pub async fn post(&self, url: &Url, headers: HeaderMap, body: Bytes) -> Result<Reply, FetchError> {
        self.send(self.client()?.post(url.clone()).headers(headers).body(body), url, 1024).await
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &Url, cap: usize) -> Result<Reply, FetchError> {
        self.guard.check_url(url)?;
        let _host = self.hosts.slot(&FeedUrl::Http(url.clone()).host_key()).await;
        let _slot = self.all.acquire().await.map_err(|e| FetchError::Request(e.to_string()))?;
        let started = Instant::now();
        let mut resp = req.send().await.map_err(|e| FetchError::from_reqwest(&e, self.timeout))?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            return Err(FetchError::Redirect(self.redirect_refused(url, status, resp.headers())));
        }
        let mut body = Vec::new();
        while body.len() < cap {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(cap - body.len())]),
                Ok(None) => break,
                // What was read is enough to judge by; an answer cut short after its status is
                // still an answer.
                Err(_) => break,
            }
        }
        Ok(Reply { status, body, elapsed: started.elapsed() })
    }

    /// Why a redirect is a failure, naming where it led and, when the guard would refuse that
    /// address, saying so too.
    fn redirect_refused(&self, from: &Url, status: u16, headers: &HeaderMap) -> String {
        let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let target = from.join(location.trim()).ok();
        let guarded = target.as_ref().and_then(|t| self.guard.check_url(t).err());
        let to = target.map_or_else(|| format!("{location:?}"), |t| t.to_string());
        match guarded {
            Some(b) => format!("the callback answered HTTP {status} redirecting to {to}, not followed ({b})"),
            None => format!("the callback answered HTTP {status} redirecting to {to}; redirects are not followed"),
        }
    }
}
