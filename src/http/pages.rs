//! What a channel page is and how it is rendered: its title and description, its links, its
//! body, and the `since` documents WebSub delivers.

use super::cache::Rendered;
use super::cursor::{encode_before, encode_since};
use super::{ApiError, AppState};
use crate::domain::{ChannelId, Entry, TopicId};
use crate::render::{self, Channel, Format};
use crate::store::keys::POS_LEN;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::HashMap;

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
pub(super) fn channel_max_items(state: &AppState, ch: &ChannelId) -> Option<usize> {
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
pub(super) fn default_limit(state: &AppState, max_items: usize) -> usize {
    state.settings.server.default_items.min(max_items)
}

pub(super) struct Page {
    pub(super) ch: ChannelId,
    pub(super) meta: ChannelMeta,
    pub(super) format: Format,
    pub(super) path: String,
    pub(super) limit: usize,
    pub(super) explicit_limit: bool,
    /// The reader's `?key=`, kept in the page's links.
    pub(super) key: Option<String>,
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

pub(super) fn render_page(
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
pub(super) fn render_since(state: &AppState, p: &Page, after: u64) -> Result<Rendered, ApiError> {
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
