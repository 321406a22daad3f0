//! The human index page and the OPML list of every channel, served here and written by the
//! static export alike.

use super::feeds::{channel_meta, channel_path};
use super::{ApiError, AppState};
use crate::config::Settings;
use crate::domain::ChannelId;
use crate::render::Format;
use crate::text::escape;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// A channel as listed: where it lives and what it holds.
struct Listed {
    path: String,
    title: String,
    description: String,
    count: u64,
    newest: Option<String>,
}

/// Every public channel, in the order they are listed: merged, then topics, then sources.
pub fn public_channels(settings: &Settings) -> Vec<ChannelId> {
    let mut ids = vec![ChannelId::All];
    ids.extend(settings.topics.iter().map(|t| ChannelId::Topic(t.id.clone())));
    ids.extend(settings.sources.iter().map(|s| ChannelId::Source(s.id.clone())));
    ids
}

fn channels(state: &AppState) -> Result<Vec<Listed>, ApiError> {
    let ids = public_channels(&state.settings);
    let mut out = Vec::with_capacity(ids.len());
    for ch in ids {
        let Some(meta) = channel_meta(state, &ch) else { continue };
        let newest = state.store.latest(&ch, 1)?.first().map(|e| e.published.format("%Y-%m-%d %H:%M UTC").to_string());
        let count = state.store.channel_count(&ch)?;
        out.push(Listed { path: channel_path(&ch), title: meta.title, description: meta.description, count, newest });
    }
    Ok(out)
}

pub async fn html(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    Ok(Html(index_page(&state, true)?))
}

/// The index page. Its links are relative (the page lives at the root), so they resolve as
/// well on the server as in a static copy hosted under any folder; `live` adds the link to the
/// status API, which only a running server has.
pub fn index_page(state: &AppState, live: bool) -> Result<String, ApiError> {
    let mut rows = String::new();
    for c in channels(state)? {
        let path = c.path.trim_start_matches('/');
        let formats: Vec<String> =
            Format::ALL.iter().map(|f| format!(r#"<a href="{path}.{ext}">{ext}</a>"#, ext = f.extension())).collect();
        rows.push_str(&format!(
            "<tr><td><strong>{}</strong><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&c.title),
            escape(&c.description),
            c.count,
            c.newest.as_deref().unwrap_or("—"),
            formats.join(" · ")
        ));
    }
    let status = if live { " · <a href=\"api/sources\">Source status</a>" } else { "" };
    Ok(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>newsriver</title>\n\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.4em;text-align:left;vertical-align:top}}</style>\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"All newsroom sources\" href=\"feeds/all.atom\"></head>\n\
         <body><h1>newsriver</h1>\n<table>\n<tr><th>Channel</th><th>Items</th><th>Newest</th><th>Subscribe</th></tr>\n{rows}</table>\n\
         <p><a href=\"channels.opml\">All channels as OPML</a>{status}</p></body></html>\n"
    ))
}

pub async fn opml(State(state): State<AppState>) -> Result<Response, ApiError> {
    let body = opml_document(&state)?;
    Ok(([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response())
}

/// Every channel as an OPML outline, each pointing at its RSS under the state's base URL.
pub fn opml_document(state: &AppState) -> Result<String, ApiError> {
    let base = state.base_url();
    let mut outlines = String::new();
    for c in channels(state)? {
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
