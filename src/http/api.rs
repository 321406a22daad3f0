//! JSON status API: health, per-source status, single entries.

use super::{ApiError, AppState};
use crate::domain::{EntryKey, FetchOutcome, PollSummary};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "entries": state.store.entry_count(),
        "sources": state.settings.sources.len(),
    }))
}

/// One source as the status API shows it.
#[derive(Debug, Serialize)]
pub struct SourceStatus {
    pub id: String,
    pub title: String,
    pub url: String,
    pub polling: bool,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub outcome: Option<FetchOutcome>,
    pub last_error: Option<String>,
    pub http_status: Option<u16>,
    pub consecutive_failures: u32,
    pub entry_count: u64,
    pub last_summary: PollSummary,
    pub next_poll: Option<DateTime<Utc>>,
}

pub async fn sources(State(state): State<AppState>) -> Result<Json<Vec<SourceStatus>>, ApiError> {
    let runtime = state.poller.runtime();
    let mut out = Vec::with_capacity(state.settings.sources.len());
    for s in &state.settings.sources {
        let stored = state.store.source_state(&s.id)?.unwrap_or_default();
        let rt = runtime.get(&s.id).cloned().unwrap_or_default();
        // The in-memory report is newer than the stored state for 304s, which write nothing.
        let report = rt.last_report.as_ref();
        out.push(SourceStatus {
            id: s.id.to_string(),
            title: s.title.clone(),
            url: s.url.to_string(),
            polling: rt.in_flight,
            last_poll: rt.last_attempt.or(stored.last_poll),
            last_success: stored.last_success,
            outcome: report.map(|r| r.outcome).or(stored.outcome),
            last_error: report.map_or(stored.last_error.clone(), |r| r.error.clone()),
            http_status: report.and_then(|r| r.http_status).or(stored.http_status),
            consecutive_failures: stored.consecutive_failures,
            entry_count: stored.entry_count,
            last_summary: stored.last_summary,
            next_poll: rt.next_due.filter(|_| state.settings.polling.enabled),
        });
    }
    Ok(Json(out))
}

pub async fn entry(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<crate::domain::Entry>, ApiError> {
    let key = EntryKey::parse(&key).map_err(|e| ApiError::NotFound(e.to_string()))?;
    state.store.entry(&key)?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no entry {key}")))
}

/// A story with every member and why each joined.
pub async fn story(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::stories::Story>, ApiError> {
    let key = EntryKey::parse(&id).map_err(|e| ApiError::NotFound(e.to_string()))?;
    // An entry key works too: it leads to the entry's story.
    let story_id = state.store.entry(&key)?.and_then(|e| e.story).unwrap_or(key);
    state.store.story(&story_id)?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no story {id}")))
}
