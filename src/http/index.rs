//! The human index page and the OPML list of every channel a reader may see, served here and
//! written by the static export alike (which sees what anyone sees).

use super::pages::{channel_meta, channel_path};
use super::{guard, ApiError, AppState};
use crate::config::Settings;
use crate::domain::ChannelId;
use crate::render::Format;
use crate::text::escape;
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A channel as listed: where it lives and what it holds.
struct Listed {
    path: String,
    title: String,
    description: String,
    count: u64,
    newest: Option<String>,
}

/// Every channel, in the order they are listed: merged, then topics, then sources.
fn every_channel(settings: &Settings) -> Vec<ChannelId> {
    let mut ids = vec![ChannelId::All];
    ids.extend(settings.topics.iter().map(|t| ChannelId::Topic(t.id.clone())));
    ids.extend(settings.sources.iter().map(|s| ChannelId::Source(s.id.clone())));
    ids
}

/// Every public channel, in the order they are listed.
pub fn public_channels(settings: &Settings) -> Vec<ChannelId> {
    every_channel(settings).into_iter().filter(|ch| !settings.is_private(ch)).collect()
}

/// The channels listed for a reader: the public ones, and the private ones partner `who` may read.
fn channels(state: &AppState, who: Option<usize>) -> Result<Vec<Listed>, ApiError> {
    let ids = crate::access::listed(&state.gate.partners, every_channel(&state.settings), who);
    let mut out = Vec::with_capacity(ids.len());
    for ch in ids {
        let Some(meta) = channel_meta(state, &ch) else { continue };
        let newest = state.store.latest(&ch, 1)?.first().map(|e| e.published.format("%Y-%m-%d %H:%M UTC").to_string());
        let count = state.store.channel_count(&ch)?;
        out.push(Listed { path: channel_path(&ch), title: meta.title, description: meta.description, count, newest });
    }
    Ok(out)
}

/// `?key=` on a listing, for readers that send a key no other way.
#[derive(Debug, Default, serde::Deserialize)]
pub struct KeyQuery {
    key: Option<String>,
}

pub async fn html(
    State(state): State<AppState>,
    Query(q): Query<KeyQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let who = guard::viewer(&state, req.headers(), q.key.as_deref())?;
    let page = index_page(&state, true, who)?;
    Ok(mark(&state, who, Html(page).into_response()))
}

/// A listing made for a partner shows its private channels: theirs alone to keep.
fn mark(state: &AppState, who: Option<usize>, mut response: Response) -> Response {
    if who.is_some() {
        guard::mark_private(&mut response, state);
    }
    response
}

/// The index page for partner `who` (none: what anyone sees). Its links are relative (the page
/// lives at the root), so they resolve as well on the server as in a static copy hosted under
/// any folder. `live`: served by the running server, which has the status page and serves each
/// channel's page at its path; a static copy holds the pages as `{path}.html`.
pub fn index_page(state: &AppState, live: bool, who: Option<usize>) -> Result<String, ApiError> {
    let listed = channels(state, who)?;
    let page_suffix = if live { "" } else { ".html" };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "newsriver" }
                link rel="alternate" type="application/atom+xml" title="All newsroom sources" href="feeds/all.atom";
                style { (PreEscaped(INDEX_STYLE)) }
            }
            body {
                h1 { "newsriver" }
                table {
                    tr { th { "Channel" } th { "Items" } th { "Newest" } th { "Subscribe" } }
                    @for c in &listed { (row(c, page_suffix)) }
                }
                p {
                    a href="channels.opml" { "All channels as OPML" }
                    @if live { " · " a href="status" { "Source status" } }
                }
            }
        }
    };
    Ok(page.into_string())
}

fn row(c: &Listed, page_suffix: &str) -> Markup {
    let path = c.path.trim_start_matches('/');
    html! {
        tr {
            td {
                a.channel href=(format!("{path}{page_suffix}")) { strong { (c.title) } } br;
                small { (c.description) }
            }
            td { (c.count) }
            td { (c.newest.as_deref().unwrap_or("—")) }
            td {
                @for (i, f) in Format::ALL.iter().enumerate() {
                    @if i > 0 { " · " }
                    a href=(format!("{path}.{}", f.extension())) { (f.extension()) }
                }
            }
        }
    }
}

const INDEX_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 .8em}\
td,th{padding:.4em;text-align:left;vertical-align:top}a{color:#0645ad}";

pub async fn opml(
    State(state): State<AppState>,
    Query(q): Query<KeyQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let who = guard::viewer(&state, req.headers(), q.key.as_deref())?;
    let body = opml_document(&state, who)?;
    Ok(mark(&state, who, ([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response()))
}

/// Every channel partner `who` (none: anyone) may read as an OPML outline, each pointing at its
/// RSS under the state's base URL. Keys are never written into it: a reader subscribing to a
/// private channel is asked for one (`401` with a Basic challenge).
pub fn opml_document(state: &AppState, who: Option<usize>) -> Result<String, ApiError> {
    let base = state.base_url();
    let mut outlines = String::new();
    for c in channels(state, who)? {
        outlines.push_str(&format!(
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" description=\"{d}\" xmlUrl=\"{base}{p}.rss\" htmlUrl=\"{base}/\"/>\n",
            t = escape(&c.title),
            d = escape(&c.description),
            p = c.path
        ));
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head><title>newsriver channels</title></head>\n  <body>\n{outlines}  </body>\n</opml>\n"
    ))
}
