//! Channel endpoints: merged, per-topic and per-source feeds in every format, with paging
//! (`limit`, `before`), incremental fetching (`since`), conditional GET and compression.

use super::cache::{self, CacheKey, Lookup, Rendered};
use super::cursor::{decode_before, decode_since};
use super::guard::{self, Reader};
use super::pages::{channel_max_items, channel_meta, channel_path, default_limit, render_page, render_since, Page};
use super::{ApiError, AppState};
use crate::domain::{ChannelId, SourceId, TopicId};
use crate::render::Format;
use crate::store::keys::POS_LEN;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct FeedQuery {
    pub(super) limit: Option<String>,
    before: Option<String>,
    since: Option<String>,
    /// A partner key, for readers that can send it no other way.
    key: Option<String>,
}

impl FeedQuery {
    /// The field a query parameter fills, if it is one of ours.
    pub(super) fn field(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "limit" => Some(&mut self.limit),
            "before" => Some(&mut self.before),
            "since" => Some(&mut self.since),
            "key" => Some(&mut self.key),
            _ => None,
        }
    }
}

/// `all.atom` → ("all", Atom); `all` → ("all", Html): ids are slugs, so they hold no dot.
fn split_file(file: &str) -> Result<(&str, Format), ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "no channel {file:?}; use NAME (a page), NAME.rss, NAME.atom, NAME.json or NAME.ninjs"
        ))
    };
    match file.rsplit_once('.') {
        None => Ok((file, Format::Html)),
        Some((name, ext)) => Ok((name, Format::from_extension(ext).ok_or_else(not_found)?)),
    }
}

/// The kinds of channel URL, by their first path segment.
pub const FEEDS: u8 = 0;
pub const TOPICS: u8 = 1;
pub const SOURCES: u8 = 2;

/// Every channel URL, one handler: `/feeds/all.{ext}`, `/topics/{id}.{ext}`, `/sources/{id}.{ext}`
/// (`KIND` says which; a static route per kind keeps routing and extraction as cheap as a
/// 304 needs them to be).
pub async fn channel<const KIND: u8>(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<FeedQuery>,
    // The request itself, not a `HeaderMap`: that extractor copies every header.
    req: Request,
) -> Result<Response, ApiError> {
    answer(&state, KIND, &file, q, req.headers()).await
}

/// The answer to a channel URL of `kind` for `file` (`all.atom`), whichever way the request
/// came (`channel`, or the serving threads' direct path, `Site`).
pub async fn answer(
    state: &AppState,
    kind: u8,
    file: &str,
    q: FeedQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    match begin(state, kind, file, q, headers)? {
        Begun::Answered(served) => Ok(served.response(state)),
        Begun::Render(pending) => render(state, *pending, headers).await,
    }
}

/// A channel request taken as far as it goes without rendering: a cached body answers at once
/// (no future to keep, no await), a render is left to `render`.
pub enum Begun {
    Answered(Served),
    Render(Box<Pending>),
}

/// A channel answer decided and counted, to be written as a `Response` or as bytes.
#[derive(Debug)]
pub struct Served {
    reply: cache::Reply,
    /// A partner's own answer: only its own cache may keep it (`AppState::private_cache`).
    private: bool,
}

impl Served {
    pub fn response(&self, state: &AppState) -> Response {
        self.reply.response(self.cache_headers(state))
    }

    /// The answer as HTTP/1.1 bytes: the head but `date` and its blank line, and the body.
    pub fn wire(&self, state: &AppState) -> (Bytes, Bytes) {
        self.reply.wire(self.cache_headers(state))
    }

    fn cache_headers<'s>(&self, state: &'s AppState) -> &'s cache::CacheHeaders {
        if self.private {
            &state.private_cache
        } else {
            &state.public_cache
        }
    }
}

/// What a request that must render still needs.
pub struct Pending {
    reader: Reader,
    page: Page,
    job: Job,
}

enum Job {
    Since(u64),
    Page { ticket: cache::Ticket, before: Option<[u8; POS_LEN]>, version: u64, changed: DateTime<Utc> },
}

/// Admits the reader (before any cache: a body cached for a partner must never reach anyone
/// else), then answers from the cache or says what to render.
pub fn begin(state: &AppState, kind: u8, file: &str, q: FeedQuery, headers: &HeaderMap) -> Result<Begun, ApiError> {
    let (name, format) = split_file(file)?;
    let ch = channel_of(state, kind, name)?;
    let reader = guard::admit(state, &ch, headers, q.key.as_deref(), || unknown(kind, name))?;
    let max_items = channel_max_items(state, &ch).ok_or_else(|| ApiError::NotFound("no such channel".into()))?;
    state.counters.requests.inc();
    let limit = parse_limit(q.limit.as_deref(), default_limit(state, max_items), max_items)?;
    // Titles, descriptions and the page's path are only needed to render: a cached answer
    // makes none of them.
    let page = |ch: ChannelId| {
        let meta = channel_meta(state, &ch).ok_or_else(|| ApiError::NotFound("no such channel".into()))?;
        let path = format!("{}{}", channel_path(&ch), format.suffix());
        let key = reader.link_key.clone();
        Ok::<_, ApiError>(Page { ch, meta, format, path, limit, explicit_limit: q.limit.is_some(), key })
    };
    if let Some(raw) = q.since.as_deref() {
        let job = Job::Since(decode_since(raw)?);
        return Ok(Begun::Render(Box::new(Pending { page: page(ch)?, reader, job })));
    }
    let before = q.before.as_deref().map(decode_before).transpose()?;
    // Read the version before the store: a commit racing this render bumps it, so a stale body
    // is never cached as current.
    let (version, changed) = state.versions.get(&ch);
    let links_for = reader.link_key.as_ref().and(reader.partner);
    let cache_key = CacheKey { channel: ch.clone(), format, limit, before: q.before.clone(), links_for };
    match state.cache.lookup(cache_key, version) {
        Lookup::Hit(r) | Lookup::Stale(r) => {
            state.counters.cache_hits.inc();
            Ok(Begun::Answered(serve(state, &reader, headers, r)))
        }
        Lookup::Render(ticket) => {
            let job = Job::Page { ticket, before, version, changed };
            Ok(Begun::Render(Box::new(Pending { page: page(ch)?, reader, job })))
        }
    }
}

/// Renders what `begin` left (off the runtime), caches a page, and answers.
pub async fn render(state: &AppState, pending: Pending, headers: &HeaderMap) -> Result<Response, ApiError> {
    let Pending { reader, page, job } = pending;
    match job {
        // A `since` page is the reader's own: answered, never cached.
        Job::Since(after) => {
            let rendered = off_runtime(state, move |st| render_since(st, &page, after)).await?;
            Ok(serve(state, &reader, headers, std::sync::Arc::new(rendered)).response(state))
        }
        Job::Page { ticket, before, version, changed } => {
            let fresh = off_runtime(state, move |st| render_page(st, &page, before, version, changed)).await?;
            Ok(serve(state, &reader, headers, state.cache.finish(ticket, fresh)).response(state))
        }
    }
}

/// The answer from a rendered body, decided and counted; a partner's is marked private.
fn serve(state: &AppState, reader: &Reader, headers: &HeaderMap, rendered: std::sync::Arc<Rendered>) -> Served {
    let reply = cache::reply(headers, rendered);
    if reply.not_modified() {
        state.counters.not_modified.inc();
    }
    guard::served(state, reader, reply.not_modified(), reply.items());
    Served { reply, private: reader.partner.is_some() }
}

/// The answer for a channel the config does not have (and for a private one the reader's key
/// does not grant: the same words, so the answer says nothing of what exists).
fn unknown(kind: u8, name: &str) -> ApiError {
    let what = match kind {
        FEEDS => "channel",
        SOURCES => "source",
        _ => "topic",
    };
    ApiError::NotFound(format!("no {what} {name:?}"))
}

/// The configured channel a URL names, or why there is none.
fn channel_of(state: &AppState, kind: u8, name: &str) -> Result<ChannelId, ApiError> {
    let found = match kind {
        FEEDS => (name == "all").then_some(ChannelId::All),
        SOURCES => {
            let id = SourceId::parse(name).ok().filter(|id| state.settings.source(id).is_some());
            id.map(ChannelId::Source)
        }
        _ => {
            let id = TopicId::parse(name).ok().filter(|id| state.settings.topic(id).is_some());
            id.map(ChannelId::Topic)
        }
    };
    found.ok_or_else(|| unknown(kind, name))
}

/// Renders on a blocking thread: a render reads up to hundreds of entries, and cached answers
/// must not queue behind it on the async workers.
async fn off_runtime(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<Rendered, ApiError> + Send + 'static,
) -> Result<Rendered, ApiError> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || f(&st)).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

/// `?limit=`: a count above the channel's cap is served at the cap (as large APIs do: the items
/// say how many); only a count that is malformed or not positive is refused.
fn parse_limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(default) };
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    if !digits || raw.bytes().all(|b| b == b'0') {
        return Err(ApiError::BadRequest(format!("limit must be a positive whole number (at most {max} are served)")));
    }
    // Too many digits for usize is still a positive count: the cap.
    Ok(raw.parse::<usize>().map_or(max, |n| n.min(max)))
}
