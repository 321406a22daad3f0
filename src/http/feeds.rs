//! Channel endpoints: the merged feed and per-source feeds in every format, and the index page.

use super::{ApiError, AppState};
use crate::domain::{FeedUrl, SourceId};
use crate::normalize::html::escape;
use crate::render::{self, Channel, Format, SourceInfo};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    limit: Option<String>,
}

/// `all.atom` → ("all", Atom).
fn split_file(file: &str) -> Result<(&str, Format), ApiError> {
    let not_found = || ApiError::NotFound(format!("no channel {file:?}; use NAME.rss, NAME.atom or NAME.json"));
    let (name, ext) = file.rsplit_once('.').ok_or_else(not_found)?;
    Ok((name, Format::from_extension(ext).ok_or_else(not_found)?))
}

fn limit(state: &AppState, q: &FeedQuery) -> Result<usize, ApiError> {
    let server = &state.settings.server;
    match q.limit.as_deref() {
        None => Ok(server.default_items),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=server.max_items).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!("limit must be a number from 1 to {}", server.max_items))),
        },
    }
}

pub fn base_url(state: &AppState) -> String {
    state.settings.server.public_url.as_str().trim_end_matches('/').to_owned()
}

pub fn source_infos(state: &AppState) -> HashMap<SourceId, SourceInfo> {
    let base = base_url(state);
    (state.settings.sources.iter())
        .map(|s| {
            let feed_url = match &s.url {
                FeedUrl::Http(u) => Some(u.to_string()),
                FeedUrl::File(_) => None,
            };
            let info =
                SourceInfo { title: s.title.clone(), feed_url, channel_url: format!("{base}/sources/{}.rss", s.id) };
            (s.id.clone(), info)
        })
        .collect()
}

pub async fn merged(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, ApiError> {
    let (name, format) = split_file(&file)?;
    if name != "all" {
        return Err(ApiError::NotFound(format!("no channel {name:?}")));
    }
    let entries = state.store.latest(None, limit(&state, &q)?)?;
    let path = format!("/feeds/{file}");
    let description = "Every newsroom source, merged, newest first";
    Ok(respond(&state, format, "All newsroom sources", description, &path, &entries))
}

pub async fn per_source(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, ApiError> {
    let (name, format) = split_file(&file)?;
    let source = SourceId::parse(name).ok().and_then(|id| state.settings.source(&id).cloned());
    let source = source.ok_or_else(|| ApiError::NotFound(format!("no source {name:?}")))?;
    let entries = state.store.latest(Some(&source.id), limit(&state, &q)?)?;
    let path = format!("/sources/{file}");
    let description = format!("Items from {}", source.title);
    Ok(respond(&state, format, &source.title, &description, &path, &entries))
}

fn respond(
    state: &AppState,
    format: Format,
    title: &str,
    description: &str,
    path: &str,
    entries: &[crate::domain::Entry],
) -> Response {
    let base = base_url(state);
    let self_url = format!("{base}{path}");
    let home_url = format!("{base}/");
    let sources = source_infos(state);
    let channel =
        Channel { title, description, self_url: &self_url, home_url: &home_url, sources: &sources, now: Utc::now() };
    let body = render::render(format, &channel, entries);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

pub async fn index(State(state): State<AppState>) -> Html<String> {
    let mut rows = String::new();
    let links = |path: &str| {
        ["rss", "atom", "json"]
            .iter()
            .map(|ext| format!(r#"<a href="{path}.{ext}">{ext}</a>"#))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    rows.push_str(&format!("<li><strong>All sources</strong> — {}</li>\n", links("/feeds/all")));
    for s in &state.settings.sources {
        rows.push_str(&format!("<li>{} — {}</li>\n", escape(&s.title), links(&format!("/sources/{}", s.id))));
    }
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>newsriver</title></head>\n<body><h1>newsriver</h1>\n<ul>\n{rows}</ul>\n<p><a href=\"/api/sources\">Source status</a></p></body></html>\n"
    ))
}
