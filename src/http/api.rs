//! JSON status API: health, per-source status, partners' usage, single entries.

use super::{ApiError, AppState, Live};
use crate::domain::EntryKey;
use crate::metrics::Scraped;
use crate::status::{source_status, SourceStatus};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use prometheus_client::registry::Registry;

/// Still `ok` (and 200) while a broken configuration is refused: the service runs on the last
/// good one, and `config_error` lists the problems until a valid one loads.
pub async fn health(State(state): State<AppState>, State(live): State<Live>) -> Json<serde_json::Value> {
    let mut body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "entries": state.store.entry_count(),
        "sources": state.settings.sources.len(),
        "instance": state.board.instance(),
    });
    if state.store.shares_polling() {
        body["leases"] = serde_json::json!(state.board.leases_held());
    }
    let problems = live.config_status().problems();
    if !problems.is_empty() {
        body["config_error"] = serde_json::json!(problems);
    }
    Json(body)
}

pub async fn sources(State(state): State<AppState>) -> Result<Json<Vec<SourceStatus>>, ApiError> {
    Ok(Json(source_statuses(&state)?))
}

/// Every configured source's status, in config order: the running poller's view where it has
/// one, else the stored model.
pub fn source_statuses(state: &AppState) -> Result<Vec<SourceStatus>, ApiError> {
    let tracked = state.board.snapshot();
    let (leases_at, leases) = state.board.leases();
    let metrics = &state.metrics;
    let now = Utc::now();
    let mut out = Vec::with_capacity(state.settings.sources.len());
    for s in &state.settings.sources {
        let (model, rt) = match tracked.get(&s.id) {
            Some(t) => (t.state.clone(), Some(t.runtime)),
            None => (state.store.source_state(&s.id)?.unwrap_or_default(), None),
        };
        let status = source_status(s, &model, rt.as_ref(), metrics.source(&s.id), &state.settings.polling, now);
        out.push(status.with_lease(leases.get(&s.id), leases_at));
    }
    Ok(out)
}

/// The OpenMetrics exposition: a registry of every part's metrics, with what the store and
/// the sources' model say now, built for each scrape (a reload's partners and hub show at once).
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let store = state.store.clone();
    let sizes = tokio::task::spawn_blocking(move || (store.size_on_disk(), store.entry_count() as u64)).await;
    let (store_bytes, entries) = sizes.unwrap_or_default();
    let scraped = Scraped { store_bytes, entries, failure_streaks: state.board.failure_streaks() };
    let body = crate::metrics::encode(&registry(&state, &scraped)).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body))
}

fn registry(state: &AppState, scraped: &Scraped) -> Registry {
    let mut reg = crate::metrics::registry();
    state.metrics.register(&mut reg, scraped);
    state.counters.register(&mut reg);
    state.gate.usage.register(&state.gate.partners, &mut reg);
    if state.hub_url.is_some() {
        state.websub.register(&mut reg);
    }
    reg
}

/// Every partner with what it took since the process started.
pub async fn partners(State(state): State<AppState>) -> Json<Vec<crate::access::PartnerUsage>> {
    Json(state.gate.usage.snapshot(&state.gate.partners))
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
) -> Result<Json<crate::domain::Story>, ApiError> {
    let key = EntryKey::parse(&id).map_err(|e| ApiError::NotFound(e.to_string()))?;
    // An entry key works too: it leads to the entry's story.
    let story_id = state.store.entry(&key)?.and_then(|e| e.story).unwrap_or(key);
    state.store.story(&story_id)?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no story {id}")))
}

/// An event with every report, why each joined and with what score. An entry key or a story id
/// works too: it leads to that item's event (an item alone is an event of one report).
pub async fn event(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::domain::EventRecord>, ApiError> {
    let key = EntryKey::parse(&id).map_err(|e| ApiError::NotFound(e.to_string()))?;
    state.store.event_of(&key)?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no event {id}")))
}
