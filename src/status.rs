//! What each source is doing, in the words an operator needs: one pure view of its model, shared
//! by `GET /api/sources` (the running poller's model) and `newsriver sources` (the stored one).

use crate::cadence;
use crate::config::{PollingSettings, SourceSettings};
use crate::domain::{FetchOutcome, PollSummary, Runtime, SourceId, SourceState, Tracked};
use crate::metrics::SourceCounters;
use crate::store::LeaseRow;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Every source as the running poller tracks it, shared with what reports on it (the status
/// API, `/metrics`): the poller writes, readers take snapshots.
#[derive(Debug, Default)]
pub struct Board {
    tracked: Mutex<HashMap<SourceId, Tracked>>,
    /// The instance whose poller this is (`server.instance`).
    instance: String,
    /// Who polled each source and who holds its lease, as last read (the database's clock then).
    leases: Mutex<(DateTime<Utc>, HashMap<SourceId, LeaseRow>)>,
}

impl Board {
    pub fn new(tracked: HashMap<SourceId, Tracked>, instance: String) -> Self {
        Self { tracked: Mutex::new(tracked), instance, leases: Mutex::default() }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn lock_leases(&self) -> MutexGuard<'_, (DateTime<Utc>, HashMap<SourceId, LeaseRow>)> {
        self.leases.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes in the lease rows read at `now`: every row held or polled lately; a source not
    /// among them holds no lease (its `polled_*` are unchanged).
    pub fn set_leases(&self, now: DateTime<Utc>, rows: Vec<LeaseRow>) {
        let mut leases = self.lock_leases();
        for row in leases.1.values_mut() {
            (row.holder, row.until) = (None, None);
        }
        for row in rows {
            leases.1.insert(row.source.clone(), row);
        }
        leases.0 = now;
    }

    /// Notes this instance's poll of `id` at `at`, before the next read of the rows shows it.
    pub fn note_poll(&self, id: &SourceId, at: DateTime<Utc>) {
        let mut leases = self.lock_leases();
        let row = leases.1.entry(id.clone()).or_insert_with(|| LeaseRow {
            source: id.clone(),
            holder: None,
            until: None,
            due: None,
            polled_by: None,
            polled_at: None,
        });
        (row.polled_by, row.polled_at, row.holder, row.until) = (Some(self.instance.clone()), Some(at), None, None);
    }

    /// Each source's lease row as last read, and the database's clock then.
    pub fn leases(&self) -> (DateTime<Utc>, HashMap<SourceId, LeaseRow>) {
        self.lock_leases().clone()
    }

    /// How many source leases this instance held at the last read.
    pub fn leases_held(&self) -> usize {
        let leases = self.lock_leases();
        leases.1.values().filter(|r| r.held_by(leases.0) == Some(self.instance.as_str())).count()
    }

    /// For the poller, which alone changes the board.
    pub fn lock(&self) -> MutexGuard<'_, HashMap<SourceId, Tracked>> {
        // Each update is one assignment: a panic while holding the lock cannot leave it
        // half-updated, so a poisoned lock is still safe to use.
        self.tracked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every source as tracked now: its newest model and runtime view.
    pub fn snapshot(&self) -> HashMap<SourceId, Tracked> {
        self.lock().clone()
    }

    /// Each source's failure streak, by id, for `/metrics`.
    pub fn failure_streaks(&self) -> Vec<(SourceId, u32)> {
        let mut streaks: Vec<_> =
            self.lock().iter().map(|(id, t)| (id.clone(), t.state.consecutive_failures)).collect();
        streaks.sort();
        streaks
    }
}

/// One source as the status API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceStatus {
    pub id: String,
    pub title: String,
    /// `feed`, `sitemap` or `page`.
    #[serde(default)]
    pub kind: String,
    /// Whether each new item's article page is read.
    #[serde(default)]
    pub full_text: bool,
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
    /// A full-text source's article pages: read, failed, found edited, and the last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub articles: Option<crate::domain::ArticleHealth>,
    /// The instance that polled it last, and when (PostgreSQL: any instance on the database).
    #[serde(default)]
    pub polled_by: Option<String>,
    #[serde(default)]
    pub polled_at: Option<DateTime<Utc>>,
    /// The lease of the instance polling it now, when one holds it.
    #[serde(default)]
    pub lease: Option<LeaseStatus>,
}

/// A source's running lease: which instance holds it, until when (the database's clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseStatus {
    pub holder: String,
    pub until: DateTime<Utc>,
}

impl SourceStatus {
    /// Adds who polled the source and who holds its lease, from its row read at `now`.
    pub fn with_lease(mut self, row: Option<&LeaseRow>, now: DateTime<Utc>) -> Self {
        let Some(row) = row else { return self };
        (self.polled_by, self.polled_at) = (row.polled_by.clone(), row.polled_at);
        self.lease = row.held_by(now).zip(row.until).map(|(h, until)| LeaseStatus { holder: h.to_owned(), until });
        self
    }
}

/// Builds a source's status from its model, with the running poller's view when there is one.
pub fn source_status(
    source: &SourceSettings,
    state: &SourceState,
    rt: Option<&Runtime>,
    counters: SourceCounters,
    policy: &PollingSettings,
    now: DateTime<Utc>,
) -> SourceStatus {
    let configured = source.url.to_string();
    let disabled = state.disabled_reason(&configured).map(str::to_owned);
    let hint = state.hint().map(|(secs, _)| std::time::Duration::from_secs(secs));
    let (interval, interval_reason) = cadence::interval(source, hint, policy);
    let polling = rt.is_some_and(|r| r.in_flight);
    let next_poll = rt.and_then(|r| r.next_due).filter(|_| policy.enabled && disabled.is_none());
    let words = condition(state, disabled.is_some(), polling, next_poll.is_some());
    let days = state.first_success.map_or(1.0, |t| ((now - t).num_seconds() as f64 / 86_400.0).max(1.0));
    SourceStatus {
        id: source.id.to_string(),
        title: source.title.clone(),
        kind: source.kind.as_str().to_owned(),
        full_text: source.full_text,
        effective_url: state.poll_url(&source.url).to_string(),
        url: configured,
        state: words.to_owned(),
        polling,
        last_poll: state.last_poll,
        last_success: state.last_success,
        next_poll,
        outcome: state.outcome,
        last_error: state.last_error.clone(),
        disabled,
        warning: state.warning.clone(),
        http_status: state.http_status,
        consecutive_failures: state.consecutive_failures,
        retry_not_before: state.retry_not_before.filter(|t| *t > now),
        redirect_pending: state.moved_to.as_ref().map(|to| format!("{to} (seen {} times)", state.moved_streak)),
        interval_secs: interval.as_secs(),
        interval_reason,
        not_modified_rate: counters.not_modified_ratio(),
        polls_since_start: counters.polls,
        items_per_day: state.entry_count as f64 / days,
        entry_count: state.entry_count,
        last_summary: state.last_summary.clone(),
        articles: source.full_text.then(|| state.articles.clone()),
        polled_by: None,
        polled_at: None,
        lease: None,
    }
}

/// The source's condition, in the words of `SourceStatus::state`.
fn condition(state: &SourceState, disabled: bool, polling: bool, scheduled: bool) -> &'static str {
    let failing = state.consecutive_failures > 0;
    match () {
        _ if disabled => "disabled",
        _ if polling => "polling",
        _ if state.outcome.is_none() => "never polled",
        _ if failing && scheduled => "backing off",
        _ if failing => "failing",
        _ => "ok",
    }
}
