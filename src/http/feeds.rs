//! Channel endpoints: merged, per-topic and per-source feeds in every format, with paging
//! (`limit`, `before`), incremental fetching (`since`), conditional GET and compression.

use super::cache::{self, CacheKey, Lookup, Rendered};
use super::{ApiError, AppState};
use crate::domain::{ChannelId, Entry, SourceId, TopicId};
use crate::render::{self, Channel, Format};
use crate::store::keys::POS_LEN;
use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

#[derive(Debug, Default, Deserialize)]
pub struct FeedQuery {
    limit: Option<String>,
    before: Option<String>,
    since: Option<String>,
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
    let path = format!("{}.{}", channel_path(ch), format.extension());
    let page = Page { ch: ch.clone(), meta, format, path, limit, explicit_limit: false };
    let (version, changed) = state.versions.get(ch);
    Ok(render_page(state, &page, None, version, changed)?.body.to_vec())
}

/// How many items a page without `?limit=` lists.
fn default_limit(state: &AppState, max_items: usize) -> usize {
    state.settings.server.default_items.min(max_items)
}

/// `all.atom` → ("all", Atom).
fn split_file(file: &str) -> Result<(&str, Format), ApiError> {
    let not_found =
        || ApiError::NotFound(format!("no channel {file:?}; use NAME.rss, NAME.atom, NAME.json or NAME.ninjs"));
    let (name, ext) = file.rsplit_once('.').ok_or_else(not_found)?;
    Ok((name, Format::from_extension(ext).ok_or_else(not_found)?))
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
    let (name, format) = split_file(&file)?;
    let ch = channel_of(&state, KIND, name)?;
    let path = format!("{}.{}", channel_path(&ch), format.extension());
    serve(&state, ch, format, path, q, req.headers()).await
}

/// The configured channel a URL names, or why there is none.
fn channel_of(state: &AppState, kind: u8, name: &str) -> Result<ChannelId, ApiError> {
    let (found, what) = match kind {
        FEEDS => ((name == "all").then_some(ChannelId::All), "channel"),
        SOURCES => {
            let id = SourceId::parse(name).ok().filter(|id| state.settings.source(id).is_some());
            (id.map(ChannelId::Source), "source")
        }
        _ => {
            let id = TopicId::parse(name).ok().filter(|id| state.settings.topic(id).is_some());
            (id.map(ChannelId::Topic), "topic")
        }
    };
    found.ok_or_else(|| ApiError::NotFound(format!("no {what} {name:?}")))
}

async fn serve(
    state: &AppState,
    ch: ChannelId,
    format: Format,
    path: String,
    q: FeedQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let max_items = channel_max_items(state, &ch).ok_or_else(|| ApiError::NotFound("no such channel".into()))?;
    let counters = &state.counters;
    counters.requests.fetch_add(1, Relaxed);
    let limit = parse_limit(q.limit.as_deref(), default_limit(state, max_items), max_items)?;
    // Titles and descriptions are only needed to render: a cached answer makes none.
    let page = |ch: ChannelId| {
        let meta = channel_meta(state, &ch).ok_or_else(|| ApiError::NotFound("no such channel".into()))?;
        Ok::<_, ApiError>(Page { ch, meta, format, path, limit, explicit_limit: q.limit.is_some() })
    };
    if let Some(raw) = q.since.as_deref() {
        let after = decode_since(raw)?;
        let page = page(ch)?;
        let rendered = off_runtime(state, move |st| render_since(st, &page, after)).await?;
        return Ok(cache::respond(headers, &rendered, &state.cache_control));
    }
    let before = q.before.as_deref().map(decode_before).transpose()?;
    // Read the version before the store: a commit racing this render bumps it, so a stale body
    // is never cached as current.
    let (version, changed) = state.versions.get(&ch);
    let key = CacheKey { channel: ch.clone(), format, limit, before: q.before.clone() };
    let rendered = match state.cache.lookup(key, version) {
        Lookup::Hit(r) | Lookup::Stale(r) => {
            counters.cache_hits.fetch_add(1, Relaxed);
            r
        }
        Lookup::Render(ticket) => {
            let page = page(ch)?;
            let fresh = off_runtime(state, move |st| render_page(st, &page, before, version, changed)).await?;
            state.cache.finish(ticket, fresh)
        }
    };
    let response = cache::respond(headers, &rendered, &state.cache_control);
    if response.status() == axum::http::StatusCode::NOT_MODIFIED {
        counters.not_modified.fetch_add(1, Relaxed);
    }
    Ok(response)
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
    let limit_q = if p.explicit_limit { format!("limit={}&", p.limit) } else { String::new() };
    let self_url = match before {
        Some(b) => format!("{base}?{limit_q}before={}", encode_before(&b)),
        None if p.explicit_limit => format!("{base}?limit={}", p.limit),
        None => base.clone(),
    };
    let first_url = if p.explicit_limit { format!("{base}?limit={}", p.limit) } else { base.clone() };
    let next_url = (entries.len() == p.limit).then(|| entries.last()).flatten().map(|last| {
        format!("{base}?{limit_q}before={}", encode_before(&crate::store::keys::position(last.published, &last.key)))
    });
    let body = render_body(state, p, &entries, &self_url, Some(&first_url), next_url.as_deref());
    let cursor = encode_since(state.store.last_seq()?);
    Ok(Rendered::new(version, body, changed, p.format, cursor).with_links(state.hub_url.as_deref(), &base))
}

/// Items added or updated after the cursor, oldest first, and the cursor to continue from.
fn render_since(state: &AppState, p: &Page, after: u64) -> Result<Rendered, ApiError> {
    let (_, changed) = state.versions.get(&p.ch);
    let page = state.store.since(&p.ch, after, p.limit)?;
    let base = format!("{}{}", state.base_url(), p.path);
    let limit_q = if p.explicit_limit { format!("limit={}&", p.limit) } else { String::new() };
    let self_url = format!("{base}?{limit_q}since={}", encode_since(after));
    let next_url = format!("{base}?{limit_q}since={}", encode_since(page.cursor));
    let body = render_body(state, p, &page.entries, &self_url, None, Some(&next_url));
    let rendered = Rendered::new(0, body, changed, p.format, encode_since(page.cursor));
    Ok(rendered.with_links(state.hub_url.as_deref(), &base))
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
    let path = format!("{}.{}", channel_path(ch), format.extension());
    let topic = format!("{}{path}", state.base_url());
    let page = Page { ch: ch.clone(), meta, format, path, limit, explicit_limit: false };
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
    let channel = Channel {
        title: &p.meta.title,
        description: &p.meta.description,
        self_url,
        hub_url: state.hub_url.as_deref(),
        home_url: &home_url,
        sources: &state.source_infos,
        topics: &state.topic_titles,
        now: Utc::now(),
        first_url,
        next_url,
        related: &related,
        coverage: &coverage,
    };
    render::render(p.format, &channel, entries)
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

/// Cursors are opaque to clients: `p` + hex position for pages, `c` + hex sequence for `since`.
fn encode_before(pos: &[u8; POS_LEN]) -> String {
    format!("p{}", hex(pos))
}

fn decode_before(raw: &str) -> Result<[u8; POS_LEN], ApiError> {
    let bad = || ApiError::BadRequest(format!("invalid before cursor {raw:?}"));
    let bytes = unhex(raw.strip_prefix('p').ok_or_else(bad)?).ok_or_else(bad)?;
    bytes.try_into().map_err(|_| bad())
}

pub fn encode_since(seq: u64) -> String {
    format!("c{seq:016x}")
}

fn decode_since(raw: &str) -> Result<u64, ApiError> {
    if raw == "0" || raw.is_empty() {
        return Ok(0);
    }
    let bad = || ApiError::BadRequest(format!("invalid since cursor {raw:?}"));
    let hexpart = raw.strip_prefix('c').filter(|h| h.len() == 16).ok_or_else(bad)?;
    u64::from_str_radix(hexpart, 16).map_err(|_| bad())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let pos = [7u8; POS_LEN];
        assert_eq!(decode_before(&encode_before(&pos)).ok(), Some(pos));
        assert!(decode_before("p12").is_err());
        assert!(decode_before("zz").is_err());
        assert_eq!(decode_since(&encode_since(42)).ok(), Some(42));
        assert_eq!(decode_since("0").ok(), Some(0));
        assert!(decode_since("c12").is_err());
        assert!(decode_since("cxxxxxxxxxxxxxxxx").is_err());
    }
}
