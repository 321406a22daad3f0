//! Channel endpoints: merged, per-topic and per-source feeds in every format, with paging
//! (`limit`, `before`), incremental fetching (`since`), conditional GET and compression.

use super::cache::{self, CacheKey, Lookup, Rendered};
use super::cursor::{decode_before, decode_since, encode_before, encode_since};
use super::guard::{self, Reader};
use super::{ApiError, AppState};
use crate::domain::{ChannelId, Entry, SourceId, TopicId};
use crate::render::{self, Channel, Format};
use crate::store::keys::POS_LEN;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

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

/// What a channel is called.
#[derive(Debug, Clone)]
pub struct ChannelMeta {
    pub title: String,
    pub description: String,
}

pub fn channel_meta(state: &AppState, ch: &ChannelId) -> Option<ChannelMeta> {
    Some(match ch {
        ChannelId::All => ChannelMeta {
            title: "All newsroom sources".into(),
            description: "Every newsroom source, merged, newest first".into(),
        },
        ChannelId::Source(id) => {
            let s = state.settings.source(id)?;
            ChannelMeta { title: s.title.clone(), description: format!("Items from {}", s.title) }
        }
        ChannelId::Topic(id) => {
            let t = state.settings.topic(id)?;
            let description =
                if t.description.is_empty() { format!("Stories on {}", t.title) } else { t.description.clone() };
            ChannelMeta { title: t.title.clone(), description }
        }
    })
}

/// The most items a channel lists, without making its title and description.
fn channel_max_items(state: &AppState, ch: &ChannelId) -> Option<usize> {
    let max = state.settings.server.max_items;
    match ch {
        ChannelId::All => Some(max),
        ChannelId::Source(id) => state.settings.source(id).map(|_| max),
        ChannelId::Topic(id) => state.settings.topic(id).map(|t| t.max_items.min(max)),
    }
}

/// Where a channel lives, without its extension: `/feeds/all`, `/topics/{id}`, `/sources/{id}`.
pub fn channel_path(ch: &ChannelId) -> String {
    match ch {
        ChannelId::All => "/feeds/all".to_owned(),
        ChannelId::Topic(t) => format!("/topics/{t}"),
        ChannelId::Source(s) => format!("/sources/{s}"),
    }
}

/// A channel's first page exactly as its plain URL (no query) serves it: what a static copy
/// holds. Not found for a channel the config does not have.
pub fn first_page(state: &AppState, ch: &ChannelId, format: Format) -> Result<Vec<u8>, ApiError> {
    let not_found = || ApiError::NotFound("no such channel".into());
    let max_items = channel_max_items(state, ch).ok_or_else(not_found)?;
    let meta = channel_meta(state, ch).ok_or_else(not_found)?;
    let limit = default_limit(state, max_items);
    let path = format!("{}{}", channel_path(ch), format.suffix());
    let page = Page { ch: ch.clone(), meta, format, path, limit, explicit_limit: false, key: None };
    let (version, changed) = state.versions.get(ch);
    Ok(render_page(state, &page, None, version, changed)?.body.to_vec())
}

/// How many items a page without `?limit=` lists.
fn default_limit(state: &AppState, max_items: usize) -> usize {
    state.settings.server.default_items.min(max_items)
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
        Begun::Answered(response) => Ok(response),
        Begun::Render(pending) => render(state, *pending, headers).await,
    }
}

/// A channel request taken as far as it goes without rendering: a cached body answers at once
/// (no future to keep, no await), a render is left to `render`.
pub enum Begun {
    Answered(Response),
    Render(Box<Pending>),
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
            Ok(Begun::Answered(respond(state, &reader, headers, &r)))
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
    let rendered = match job {
        Job::Since(after) => Arc::new(off_runtime(state, move |st| render_since(st, &page, after)).await?),
        Job::Page { ticket, before, version, changed } => {
            let fresh = off_runtime(state, move |st| render_page(st, &page, before, version, changed)).await?;
            state.cache.finish(ticket, fresh)
        }
    };
    Ok(respond(state, &reader, headers, &rendered))
}

/// The answer from a rendered body, counted, and marked private for a partner.
fn respond(state: &AppState, reader: &Reader, headers: &HeaderMap, rendered: &Rendered) -> Response {
    let mut response = cache::respond(headers, rendered, &state.public_cache);
    if response.status() == axum::http::StatusCode::NOT_MODIFIED {
        state.counters.not_modified.inc();
    }
    guard::served(state, reader, &response, rendered.items);
    if reader.partner.is_some() {
        guard::mark_private(&mut response, state);
    }
    response
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

struct Page {
    ch: ChannelId,
    meta: ChannelMeta,
    format: Format,
    path: String,
    limit: usize,
    explicit_limit: bool,
    /// The reader's `?key=`, kept in the page's links.
    key: Option<String>,
}

impl Page {
    /// What every link of the page starts its query with: the reader's key when it came in the
    /// URL, and the limit when one was asked.
    fn link_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(k) = &self.key {
            q.append_pair("key", k);
        }
        if self.explicit_limit {
            q.append_pair("limit", &self.limit.to_string());
        }
        q.finish()
    }
}

/// `base` with the query `common` and then `rest` (either may be empty).
fn link(base: &str, common: &str, rest: &str) -> String {
    match (common.is_empty(), rest.is_empty()) {
        (true, true) => base.to_owned(),
        (false, true) => format!("{base}?{common}"),
        (true, false) => format!("{base}?{rest}"),
        (false, false) => format!("{base}?{common}&{rest}"),
    }
}

fn render_page(
    state: &AppState,
    p: &Page,
    before: Option<[u8; POS_LEN]>,
    version: u64,
    changed: DateTime<Utc>,
) -> Result<Rendered, ApiError> {
    let entries = state.store.page(&p.ch, p.limit, before.as_ref())?;
    let base = format!("{}{}", state.base_url(), p.path);
    let common = p.link_query();
    let self_url = link(&base, &common, &before.map(|b| format!("before={}", encode_before(&b))).unwrap_or_default());
    let first_url = link(&base, &common, "");
    let next_url = (entries.len() == p.limit).then(|| entries.last()).flatten().map(|last| {
        let pos = crate::store::keys::position(last.published, &last.key);
        link(&base, &common, &format!("before={}", encode_before(&pos)))
    });
    let body = render_body(state, p, &entries, &self_url, Some(&first_url), next_url.as_deref());
    let cursor = encode_since(state.store.last_seq()?);
    Ok(Rendered::new(version, body, changed, p.format, cursor)
        .with_items(entries.len())
        .with_links(state.hub_url.as_deref(), &base))
}

/// Items added or updated after the cursor, oldest first, and the cursor to continue from.
fn render_since(state: &AppState, p: &Page, after: u64) -> Result<Rendered, ApiError> {
    let (_, changed) = state.versions.get(&p.ch);
    let page = state.store.since(&p.ch, after, p.limit)?;
    let base = format!("{}{}", state.base_url(), p.path);
    let common = p.link_query();
    let self_url = link(&base, &common, &format!("since={}", encode_since(after)));
    let next_url = link(&base, &common, &format!("since={}", encode_since(page.cursor)));
    let body = render_body(state, p, &page.entries, &self_url, None, Some(&next_url));
    let rendered = Rendered::new(0, body, changed, p.format, encode_since(page.cursor));
    Ok(rendered.with_items(page.entries.len()).with_links(state.hub_url.as_deref(), &base))
}

/// A channel's items changed after change-log position `after`, oldest first, as a document of
/// `format` whose self link is the topic (the channel's plain URL) and whose next link is the
/// `since` URL to continue from: what a WebSub delivery carries.
#[derive(Debug)]
pub struct SinceDocument {
    pub body: Vec<u8>,
    /// The position the document reaches (the `since` cursor after it).
    pub cursor: u64,
    pub items: usize,
}

/// Renders `SinceDocument` for a configured channel (not found otherwise), at most `limit` items.
pub fn since_document(
    state: &AppState,
    ch: &ChannelId,
    format: Format,
    after: u64,
    limit: usize,
) -> Result<SinceDocument, ApiError> {
    let meta = channel_meta(state, ch).ok_or_else(|| ApiError::NotFound("no such channel".into()))?;
    let path = format!("{}{}", channel_path(ch), format.suffix());
    let topic = format!("{}{path}", state.base_url());
    let page = Page { ch: ch.clone(), meta, format, path, limit, explicit_limit: false, key: None };
    let found = state.store.since(ch, after, limit.max(1))?;
    let next_url = format!("{topic}?since={}", encode_since(found.cursor));
    let body = render_body(state, &page, &found.entries, &topic, None, Some(&next_url));
    Ok(SinceDocument { body, cursor: found.cursor, items: found.entries.len() })
}

fn render_body(
    state: &AppState,
    p: &Page,
    entries: &[Entry],
    self_url: &str,
    first_url: Option<&str>,
    next_url: Option<&str>,
) -> Vec<u8> {
    let home_url = format!("{}/", state.base_url());
    let related = super::related::stories(state, entries);
    let coverage = if state.grouped.groups(&p.ch) { super::related::events(state, entries) } else { HashMap::new() };
    let topics = nameable_topics(state, &p.ch);
    let channel = Channel {
        title: &p.meta.title,
        description: &p.meta.description,
        self_url,
        hub_url: state.hub_url.as_deref(),
        home_url: &home_url,
        sources: &state.source_infos,
        topics: &topics,
        // Nothing in the store dates an empty channel; the epoch is the same on every instance.
        empty_updated: DateTime::UNIX_EPOCH,
        first_url,
        next_url,
        related: &related,
        coverage: &coverage,
    };
    render::render(p.format, &channel, entries)
}

/// The topics a channel's items may name: the public ones, and a private topic in its own
/// channel (never another private topic, which its readers may not know of).
fn nameable_topics<'a>(state: &'a AppState, ch: &ChannelId) -> Cow<'a, HashMap<TopicId, String>> {
    let own = match ch {
        ChannelId::Topic(t) => state.settings.topic(t).filter(|t| t.private),
        _ => None,
    };
    match own {
        Some(t) => {
            let mut titles = HashMap::clone(&state.topic_titles);
            titles.insert(t.id.clone(), t.title.clone());
            Cow::Owned(titles)
        }
        None => Cow::Borrowed(&state.topic_titles),
    }
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
