//! What one poll teaches about its source: pacing hints, a confirmed move, a feed that is gone,
//! warnings about the document. Pure updates of `SourceState`, plus saving it on failure.

use super::{DocumentNotes, PollContext, PollError};
use crate::config::{PollingSettings, SourceSettings};
use crate::domain::{FeedUrl, FetchOutcome, SourceState};
use crate::fetch::{Answer, FetchError};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The URL to poll: the configured one, or its confirmed permanent redirect target.
pub fn poll_url(source: &SourceSettings, state: &SourceState) -> FeedUrl {
    let moved = state.effective_url(&source.url.to_string()).and_then(|u| url::Url::parse(u).ok());
    moved.map_or_else(|| source.url.clone(), FeedUrl::Http)
}

/// Records an answer's freshness hint and redirect; true when the state changed in a way worth
/// a write even though the feed did not change.
pub(super) fn note_answer(
    state: &mut SourceState,
    answer: &Answer,
    source: &SourceSettings,
    policy: &PollingSettings,
    now: DateTime<Utc>,
) -> bool {
    let before = (state.http_hint_secs, state.moved_streak, state.effective_url.clone());
    state.retry_not_before = None;
    state.http_hint_secs = answer.fresh_for.map(|d| d.as_secs()).filter(|s| *s > 0);
    let configured = source.url.to_string();
    match &answer.moved_to {
        Some(to) if state.moved_to.as_deref() == Some(to.as_str()) => state.moved_streak += 1,
        Some(to) => (state.moved_to, state.moved_streak) = (Some(to.to_string()), 1),
        None => (state.moved_to, state.moved_streak) = (None, 0),
    }
    if let Some(to) = state.moved_to.clone().filter(|_| state.moved_streak >= policy.redirect_confirmations) {
        tracing::warn!(source = %source.id, url = %configured, moved_to = %to, "source moved permanently; polling the new URL");
        state.effective_url = Some(to);
        state.configured_url = Some(configured);
        (state.moved_to, state.moved_streak) = (None, 0);
    }
    state.last_poll = Some(now);
    before != (state.http_hint_secs, state.moved_streak, state.effective_url.clone())
}

/// Records what the parsed document said about itself.
pub(super) fn note_document(
    state: &mut SourceState,
    doc: &DocumentNotes,
    policy: &PollingSettings,
    now: DateTime<Utc>,
) {
    state.ttl_secs = doc.ttl.map(|d| d.as_secs()).filter(|s| *s > 0);
    let mut warnings = Vec::new();
    if doc.replaced_bytes {
        warnings.push("invalid bytes in the document were replaced (check its encoding)".to_owned());
    }
    if doc.dropped_items > 0 {
        warnings.push(format!(
            "{} items over the polling.max_items limit ({}) were dropped",
            doc.dropped_items, policy.max_items
        ));
    }
    state.warning = (!warnings.is_empty()).then(|| warnings.join("; "));
    state.last_poll = Some(now);
}

pub(super) fn note_success(state: &mut SourceState, now: DateTime<Utc>) {
    state.last_poll = Some(now);
    state.last_success = Some(now);
    state.first_success.get_or_insert(now);
    state.outcome = Some(FetchOutcome::Ok);
    state.last_error = None;
    state.consecutive_failures = 0;
}

/// Saves a failed poll on its source: the error in plain words, the streak, a Retry-After that
/// must survive a restart, and a 410 that stops polling.
pub(super) async fn record_failure(
    ctx: &PollContext,
    source: &SourceSettings,
    state: &mut SourceState,
    e: &PollError,
    now: DateTime<Utc>,
) {
    state.last_poll = Some(now);
    state.outcome = Some(e.outcome());
    state.last_error = Some(e.to_string());
    state.consecutive_failures += 1;
    if let PollError::Fetch(f) = e {
        state.http_status = f.http_status().or(state.http_status);
        state.retry_not_before = e.retry_after().and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| now + d);
        if let FetchError::Status { status: 410, .. } = f {
            let url = source.url.to_string();
            tracing::warn!(source = %source.id, url = %url, status = 410, "feed is gone; polling stopped");
            state.disabled = Some(format!(
                "HTTP 410 Gone on {now}: the publisher removed this feed; give the source a new url to poll it again"
            ));
            state.disabled_url = Some(url);
        }
    }
    let store = ctx.store.clone();
    let (id, st) = (source.id.clone(), state.clone());
    if let Ok(Err(err)) = tokio::task::spawn_blocking(move || store.save_source_state(&id, &st)).await {
        tracing::error!(source = %source.id, error = %err, "cannot record poll failure");
    }
}

/// How long to wait after a restart because the server asked for it.
pub fn retry_wait(state: &SourceState, now: DateTime<Utc>) -> Option<Duration> {
    state.retry_not_before.and_then(|t| (t - now).to_std().ok())
}
