//! What each source is doing, in the words an operator needs: one pure function shared by
//! `GET /api/sources` and `newsriver sources`.

use crate::config::{PollingSettings, SourceSettings};
use crate::domain::{FetchOutcome, PollSummary, SourceState};
use crate::metrics::SourceCounters;
use crate::pipeline::poll_url;
use crate::schedule;
use crate::worker::Runtime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One source as the status API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceStatus {
    pub id: String,
    pub title: String,
    /// The configured URL.
    pub url: String,
    /// The URL actually polled: differs after a confirmed permanent redirect.
    pub effective_url: String,
    /// `ok`, `polling`, `backing off`, `disabled`, `failing`, `never polled`.
    pub state: String,
    pub polling: bool,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub next_poll: Option<DateTime<Utc>>,
    pub outcome: Option<FetchOutcome>,
    pub last_error: Option<String>,
    pub disabled: Option<String>,
    pub warning: Option<String>,
    pub http_status: Option<u16>,
    pub consecutive_failures: u32,
    pub retry_not_before: Option<DateTime<Utc>>,
    /// A permanent redirect seen on this many polls in a row, not yet followed.
    pub redirect_pending: Option<String>,
    pub interval_secs: u64,
    pub interval_reason: String,
    /// Share of this process's polls answered 304 or with an unchanged body.
    pub not_modified_rate: f64,
    pub polls_since_start: u64,
    pub items_per_day: f64,
    pub entry_count: u64,
    pub last_summary: PollSummary,
}

/// Builds a source's status from its stored state, and the running poller's view when there is one.
pub fn source_status(
    source: &SourceSettings,
    stored: &SourceState,
    rt: Option<&Runtime>,
    counters: SourceCounters,
    policy: &PollingSettings,
    now: DateTime<Utc>,
) -> SourceStatus {
    let configured = source.url.to_string();
    // The in-memory report is newer than the stored state for 304s, which write nothing.
    let report = rt.and_then(|r| r.last_report.as_ref());
    let disabled =
        stored.disabled_reason(&configured).map(str::to_owned).or_else(|| rt.and_then(|r| r.disabled.clone()));
    let hint = stored.hint().map(|(secs, _)| std::time::Duration::from_secs(secs));
    let (interval, interval_reason) = schedule::interval(source, hint, policy);
    let outcome = report.map(|r| r.outcome).or(stored.outcome);
    let next_poll = rt.and_then(|r| r.next_due).filter(|_| policy.enabled && disabled.is_none());
    let failures = stored.consecutive_failures;
    let state = match () {
        _ if disabled.is_some() => "disabled",
        _ if rt.is_some_and(|r| r.in_flight) => "polling",
        _ if outcome.is_none() => "never polled",
        _ if failures > 0 && next_poll.is_some() => "backing off",
        _ if failures > 0 => "failing",
        _ => "ok",
    };
    let days = stored.first_success.map_or(1.0, |t| ((now - t).num_seconds() as f64 / 86_400.0).max(1.0));
    SourceStatus {
        id: source.id.to_string(),
        title: source.title.clone(),
        effective_url: poll_url(source, stored).to_string(),
        url: configured,
        state: state.to_owned(),
        polling: rt.is_some_and(|r| r.in_flight),
        last_poll: rt.and_then(|r| r.last_attempt).or(stored.last_poll),
        last_success: stored.last_success,
        next_poll,
        outcome,
        last_error: report.map_or(stored.last_error.clone(), |r| r.error.clone()),
        disabled,
        warning: stored.warning.clone(),
        http_status: report.and_then(|r| r.http_status).or(stored.http_status),
        consecutive_failures: failures,
        retry_not_before: stored.retry_not_before.filter(|t| *t > now),
        redirect_pending: stored.moved_to.as_ref().map(|to| format!("{to} (seen {} times)", stored.moved_streak)),
        interval_secs: interval.as_secs(),
        interval_reason,
        not_modified_rate: counters.not_modified_ratio(),
        polls_since_start: counters.polls,
        items_per_day: stored.entry_count as f64 / days,
        entry_count: stored.entry_count,
        last_summary: stored.last_summary.clone(),
    }
}
