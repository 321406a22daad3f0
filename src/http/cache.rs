//! Rendered channel bodies, cached per (channel, format, page) and valid while the channel's
//! version is unchanged; gzip and brotli bodies are made once per version, on first demand.

use super::encoding::{brotli, gzip, negotiate, Encoding};
use crate::domain::ChannelId;
use crate::render::Format;
use crate::runtime::{self, sendfile};
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// More distinct pages than this and the cache starts over (a bound, not an LRU: pages are cheap
/// to re-render and the working set of real readers is small).
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub channel: ChannelId,
    pub format: Format,
    pub limit: usize,
    pub before: Option<String>,
    /// The partner whose `?key=` the page's links carry (its body is theirs alone); none for
    /// the page everyone else, keyed or not, is served.
    pub links_for: Option<usize>,
}

/// One rendered representation and its validators.
#[derive(Debug)]
pub struct Rendered {
    /// Each encoding's body as a file for `sendfile` (identity, gzip, brotli), made on first use.
    /// First, so it is dropped first: a body's memory must not be freed (and reused) while its
    /// address still names its file.
    files: [OnceLock<Option<sendfile::Registered>>; 3],
    pub version: u64,
    pub body: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    /// Hex digest of the body; the ETag of each encoding is derived from it.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    pub content_type: &'static str,
    /// `X-Newsriver-Cursor`: a `since` position for partners that poll incrementally.
    pub cursor: String,
    /// How many items the body lists (what a partner is counted as having pulled).
    pub items: usize,
    /// Header values made once per render, not per request.
    prebuilt: Prebuilt,
    /// The answer's whole header map per encoding and status (200, 304), made on first use and
    /// cloned after: a clone costs a fraction of building the map (hashing and placing each name).
    heads: [OnceLock<(CacheHeaders, HeaderMap)>; 6],
    /// The same as HTTP/1.1 bytes (status line, headers, `content-length`), for the serving
    /// threads' own writer (`runtime/lane.rs`): written as they are, with no map to clone.
    wires: [OnceLock<(CacheHeaders, Bytes)>; 6],
    /// Set for a body the cache keeps: only those are worth a file to send them from.
    cached: bool,
}

#[derive(Debug)]
struct Prebuilt {
    /// ETag per encoding: identity, gzip, brotli.
    etags: [HeaderValue; 3],
    last_modified: HeaderValue,
    cursor: Option<HeaderValue>,
    /// `Link` naming the WebSub hub and the topic (`rel="self"`), when there is a hub.
    link: Option<HeaderValue>,
}

impl Rendered {
    pub fn new(version: u64, body: Vec<u8>, last_modified: DateTime<Utc>, format: Format, cursor: String) -> Self {
        let etag: String = Sha256::digest(&body)[..12].iter().map(|b| format!("{b:02x}")).collect();
        let value = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
        let prebuilt = Prebuilt {
            etags: ["", "-gz", "-br"].map(|suffix| value(&format!("\"{etag}{suffix}\""))),
            last_modified: value(&http_date(last_modified)),
            cursor: HeaderValue::from_str(&cursor).ok(),
            link: None,
        };
        Self {
            version,
            body: Bytes::from(body),
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            etag,
            last_modified,
            content_type: format.content_type(),
            cursor,
            items: 0,
            prebuilt,
            heads: Default::default(),
            wires: Default::default(),
            cached: false,
            files: Default::default(),
        }
    }

    pub fn with_items(mut self, items: usize) -> Self {
        self.items = items;
        self
    }

    /// Adds WebSub discovery (`Link: <hub>; rel="hub", <topic>; rel="self"`), made here once per
    /// render. One header with both links (RFC 8288 lists them comma-separated; two `Link` lines
    /// mean the same): two cost a cached answer 7-8 % more instructions, one about half that.
    pub fn with_links(mut self, hub: Option<&str>, topic: &str) -> Self {
        if let Some(hub) = hub {
            self.prebuilt.link = HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\", <{topic}>; rel=\"self\"")).ok();
        }
        self
    }
}

/// The caching headers of channel answers: one set for everyone, one for a partner's own.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHeaders {
    pub control: HeaderValue,
    pub vary: HeaderValue,
}

impl CacheHeaders {
    /// `public, max-age=…` (`server.max_age`), made once at start.
    pub fn public(max_age: Duration) -> Self {
        Self { control: max_age_value("public", max_age), vary: HeaderValue::from_static("Accept-Encoding") }
    }

    /// For keyed requests: only the partner's own cache may keep the answer.
    pub fn private(max_age: Duration) -> Self {
        Self {
            control: max_age_value("private", max_age),
            vary: HeaderValue::from_static("Accept-Encoding, Authorization"),
        }
    }
}

fn max_age_value(scope: &'static str, max_age: Duration) -> HeaderValue {
    HeaderValue::from_str(&format!("{scope}, max-age={}", max_age.as_secs())).unwrap_or(HeaderValue::from_static(scope))
}

#[derive(Debug, Default)]
pub struct RenderCache {
    inner: Mutex<Slots>,
    renders: AtomicU64,
}

/// Every cached answer hashes its key once: foldhash (seeded per process, and the map is capped
/// at `CAPACITY`) costs a fraction of SipHash's 500 instructions there.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct Slots {
    map: HashMap<CacheKey, Arc<Rendered>, Hasher>,
    /// Pages being rendered now: concurrent readers get the previous body meanwhile.
    rendering: HashSet<CacheKey, Hasher>,
}

/// What a request does for a page.
#[derive(Debug)]
pub enum Lookup {
    /// The cached body is current.
    Hit(Arc<Rendered>),
    /// The channel changed and another request is rendering it: the previous body, milliseconds
    /// old, answers meanwhile instead of queueing every reader behind one render.
    Stale(Arc<Rendered>),
    /// This request renders; hand the result to `finish`.
    Render(Ticket),
}

/// The right to render one page; dropping it unfinished (a failed render) frees the page.
#[derive(Debug)]
pub struct Ticket {
    key: CacheKey,
    cache: Arc<RenderCache>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.cache.lock().rendering.remove(&self.key);
    }
}

impl RenderCache {
    pub fn lookup(self: &Arc<Self>, key: CacheKey, version: u64) -> Lookup {
        let mut slots = self.lock();
        match slots.map.get(&key) {
            Some(r) if r.version == version => return Lookup::Hit(r.clone()),
            Some(r) if slots.rendering.contains(&key) => return Lookup::Stale(r.clone()),
            _ => {}
        }
        slots.rendering.insert(key.clone());
        Lookup::Render(Ticket { key, cache: self.clone() })
    }

    /// Stores a fresh render (unless a newer one got there first) and returns it.
    pub fn finish(&self, ticket: Ticket, fresh: Rendered) -> Arc<Rendered> {
        let fresh = Arc::new(Rendered { cached: true, ..fresh });
        self.renders.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.lock();
        if slots.map.len() >= CAPACITY {
            slots.map.clear();
        }
        let newer = slots.map.get(&ticket.key).is_some_and(|r| r.version > fresh.version);
        if !newer {
            slots.map.insert(ticket.key.clone(), fresh.clone());
        }
        // The lock first: the ticket takes it again to free the page.
        drop(slots);
        drop(ticket);
        fresh
    }

    /// How many times a channel was rendered (cache misses), for tests and metrics.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// True when the request's validators match: `If-None-Match` wins over `If-Modified-Since`.
fn not_modified(req: &HeaderMap, r: &Rendered) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return inm
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|t| t == "*" || t.strip_suffix("-gz").or_else(|| t.strip_suffix("-br")).unwrap_or(t) == r.etag);
    }
    let ims = req.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok());
    ims.and_then(|v| DateTime::parse_from_rfc2822(v).ok()).is_some_and(|since| r.last_modified <= since)
}

/// The body in `encoding`, made on first demand, and registered to be sent from a file when
/// the cache keeps it.
fn body(r: &Rendered, encoding: Encoding) -> Bytes {
    let body = match encoding {
        Encoding::Identity => r.body.clone(),
        Encoding::Gzip => r.gzip.get_or_init(|| gzip(&r.body)).clone(),
        Encoding::Brotli => r.brotli.get_or_init(|| brotli(&r.body)).clone(),
    };
    if r.cached {
        r.files[encoding as usize].get_or_init(|| sendfile::register(&body));
    }
    body
}

/// A rendered body's answer to one request, decided: 304 when the validators match, else the
/// body in the best encoding the client accepts, with caching headers either way. Written as a
/// `Response` (hyper) or as bytes (`wire`).
#[derive(Debug)]
pub struct Reply {
    rendered: Arc<Rendered>,
    encoding: Encoding,
    fresh: bool,
}

pub fn reply(req: &HeaderMap, rendered: Arc<Rendered>) -> Reply {
    let encoding = negotiate(req);
    let fresh = !not_modified(req, &rendered);
    Reply { rendered, encoding, fresh }
}

impl Reply {
    pub fn not_modified(&self) -> bool {
        !self.fresh
    }

    /// How many items the answer lists (none for a 304).
    pub fn items(&self) -> usize {
        if self.fresh {
            self.rendered.items
        } else {
            0
        }
    }

    pub fn response(&self, cache: &CacheHeaders) -> Response {
        let r = &self.rendered;
        let body = if self.fresh { body(r, self.encoding).into() } else { axum::body::Body::empty() };
        let mut response = Response::new(body);
        *response.headers_mut() = r.heads(self.encoding, self.fresh, cache);
        if !self.fresh {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
        }
        response
    }

    /// The answer as HTTP/1.1: its head without `date` and the blank line that ends it
    /// (`runtime::head_lines`), and its body (empty for a 304).
    pub fn wire(&self, cache: &CacheHeaders) -> (Bytes, Bytes) {
        let r = &self.rendered;
        let body = if self.fresh { body(r, self.encoding) } else { Bytes::new() };
        let slot = &r.wires[self.encoding as usize * 2 + usize::from(self.fresh)];
        let (made_for, head) = slot.get_or_init(|| (cache.clone(), self.head(cache, body.len())));
        let head = if made_for == cache { head.clone() } else { self.head(cache, body.len()) };
        (head, body)
    }

    fn head(&self, cache: &CacheHeaders, len: usize) -> Bytes {
        let status = if self.fresh { StatusCode::OK } else { StatusCode::NOT_MODIFIED };
        let mut out = Vec::with_capacity(512);
        let heads = self.rendered.heads(self.encoding, self.fresh, cache);
        runtime::head_lines(&mut out, status, &heads, self.fresh.then_some(len));
        Bytes::from(out)
    }
}

impl Rendered {
    /// The headers of an answer in `encoding`, a 304 unless `fresh`, with the caching headers
    /// `cache`: a copy of the map made for the first such answer (made anew in the rare case of
    /// another `cache`, as the slot keeps the first).
    fn heads(&self, encoding: Encoding, fresh: bool, cache: &CacheHeaders) -> HeaderMap {
        let slot = &self.heads[encoding as usize * 2 + usize::from(fresh)];
        let (made_for, heads) = slot.get_or_init(|| (cache.clone(), self.make_heads(encoding, fresh, cache)));
        if made_for == cache {
            heads.clone()
        } else {
            self.make_heads(encoding, fresh, cache)
        }
    }

    fn make_heads(&self, encoding: Encoding, fresh: bool, cache: &CacheHeaders) -> HeaderMap {
        let p = &self.prebuilt;
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(header::ETAG, p.etags[encoding as usize].clone());
        headers.insert(header::LAST_MODIFIED, p.last_modified.clone());
        headers.insert(header::CACHE_CONTROL, cache.control.clone());
        headers.insert(header::VARY, cache.vary.clone());
        if let Some(c) = &p.cursor {
            headers.insert(header::HeaderName::from_static("x-newsriver-cursor"), c.clone());
        }
        if !fresh {
            return headers;
        }
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        if let Some(link) = &p.link {
            headers.insert(header::LINK, link.clone());
        }
        match encoding {
            Encoding::Identity => {}
            Encoding::Gzip => drop(headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))),
            Encoding::Brotli => drop(headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"))),
        }
        headers
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
