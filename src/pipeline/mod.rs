//! One poll of one source: fetch → parse → normalize → dedup → commit. The readable orchestration;
//! every step lives in its own module.

mod commit;

use crate::channels::ChannelVersions;
use crate::config::SourceSettings;
use crate::dedup::{self, Plan};
use crate::domain::{EntryKey, FetchOutcome, PollSummary, SourceState};
use crate::fetch::{FetchError, FetchResult, Fetched, Fetcher, Validators};
use crate::normalize::{normalize_feed, FeedContext};
use crate::parse::{parse_feed, ParseError};
use crate::store::{Store, StoreError};
use crate::stories::{Skip, StorySettings};
use crate::topics::TopicRouter;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a poll needs from the rest of the service.
#[derive(Debug, Clone)]
pub struct PollContext {
    pub store: Store,
    pub fetcher: Fetcher,
    pub router: Arc<TopicRouter>,
    pub stories: Arc<StorySettings>,
    /// Told which channels each commit touched, so render caches drop exactly those.
    pub versions: Arc<ChannelVersions>,
}

/// Why a poll failed, by stage.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("poll task failed: {0}")]
    Task(String),
}

impl PollError {
    pub fn outcome(&self) -> FetchOutcome {
        match self {
            Self::Fetch(e) if !e.is_transient() => FetchOutcome::PermanentError,
            Self::Parse(_) => FetchOutcome::PermanentError,
            _ => FetchOutcome::TransientError,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Fetch(FetchError::Status { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }
}

/// The result of one poll, reported only after its writes are durable.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub source: crate::domain::SourceId,
    pub outcome: FetchOutcome,
    pub summary: PollSummary,
    pub error: Option<String>,
    pub http_status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub elapsed: Duration,
    pub finished: DateTime<Utc>,
}

pub async fn refresh(ctx: &PollContext, source: &SourceSettings, now: DateTime<Utc>) -> PollReport {
    let started = Instant::now();
    let mut state = ctx.store.source_state(&source.id).ok().flatten().unwrap_or_default();
    let result = run(ctx, source, &mut state, now).await;
    let (outcome, summary, error) = match &result {
        Ok((outcome, summary)) => (*outcome, summary.clone(), None),
        Err(e) => (e.outcome(), PollSummary::default(), Some(e.to_string())),
    };
    let http_status = match &result {
        Err(PollError::Fetch(e)) => e.http_status(),
        _ => state.http_status,
    };
    if let Err(e) = &result {
        record_failure(ctx, source, &mut state, e, now).await;
    }
    let retry_after = result.as_ref().err().and_then(PollError::retry_after);
    PollReport {
        source: source.id.clone(),
        outcome,
        summary,
        error,
        http_status,
        retry_after,
        elapsed: started.elapsed(),
        finished: Utc::now(),
    }
}

async fn run(
    ctx: &PollContext,
    source: &SourceSettings,
    state: &mut SourceState,
    now: DateTime<Utc>,
) -> Result<(FetchOutcome, PollSummary), PollError> {
    let validators = Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    let fetched = match ctx.fetcher.fetch(&source.url, &validators).await? {
        // A 304 costs no parse and no store write.
        FetchResult::NotModified { .. } => return Ok((FetchOutcome::NotModified, PollSummary::default())),
        FetchResult::Fetched(f) => f,
    };
    let body_hash = hex_digest(&fetched.body);
    if state.body_hash.as_deref() == Some(body_hash.as_str()) && state.consecutive_failures == 0 {
        // Same bytes as last time from a server that ignores validators: skip the parse.
        if state.etag != fetched.validators.etag || state.last_modified != fetched.validators.last_modified {
            remember_validators(state, &fetched);
            commit::commit(ctx, source, Planned::default(), state.clone(), now).await?;
        }
        return Ok((FetchOutcome::Unchanged, PollSummary::default()));
    }
    let first_poll = state.last_success.is_none();
    let mut planned = parse_and_plan(ctx, source, fetched.body.clone(), fetched.final_url.clone(), now).await?;
    if first_poll {
        dedup::hold_back_backlog(&mut planned.plan, source.initial_items);
    }
    remember_validators(state, &fetched);
    state.body_hash = Some(body_hash);
    state.last_poll = Some(now);
    state.last_success = Some(now);
    state.outcome = Some(FetchOutcome::Ok);
    state.last_error = None;
    state.http_status = Some(fetched.status);
    state.consecutive_failures = 0;
    let summary = commit::commit(ctx, source, planned, state.clone(), now).await?;
    Ok((FetchOutcome::Ok, summary))
}

/// A poll's plan, with what story matching needs to know about the whole feed.
#[derive(Debug, Default)]
pub struct Planned {
    pub plan: Plan,
    /// Keys of every item in the fetched feed.
    pub incoming: HashSet<EntryKey>,
    pub skip: Skip,
}

/// Parsing, normalizing, planning and routing are CPU work: they run off the async workers.
async fn parse_and_plan(
    ctx: &PollContext,
    source: &SourceSettings,
    body: Vec<u8>,
    url: Option<url::Url>,
    now: DateTime<Utc>,
) -> Result<Planned, PollError> {
    let (store, router, stories) = (ctx.store.clone(), ctx.router.clone(), ctx.stories.clone());
    let id = source.id.clone();
    tokio::task::spawn_blocking(move || {
        let feed = parse_feed(&body)?;
        let mut entries = normalize_feed(&feed, &FeedContext { source: &id, fetch_url: url.as_ref(), now });
        for e in &mut entries {
            // An item seen before under another identity keeps its stored entry.
            if let Some(canonical) = store.alias(&e.key)? {
                e.key = canonical;
            }
        }
        let incoming = entries.iter().map(|e| e.key).collect();
        let skip = Skip::of(&entries, &stories);
        let existing = store.entries_by_key(entries.iter().map(|e| &e.key))?;
        let mut plan = dedup::plan(entries, &existing, now);
        for c in &mut plan.changes {
            let topics = router.route(c.entry());
            c.entry_mut().topics = topics;
        }
        Ok(Planned { plan, incoming, skip })
    })
    .await
    .map_err(|e| PollError::Task(e.to_string()))?
}

async fn record_failure(
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
    }
    let store = ctx.store.clone();
    let (id, st) = (source.id.clone(), state.clone());
    if let Ok(Err(err)) = tokio::task::spawn_blocking(move || store.save_source_state(&id, &st)).await {
        tracing::error!(source = %source.id, error = %err, "cannot record poll failure");
    }
}

fn remember_validators(state: &mut SourceState, fetched: &Fetched) {
    state.etag = fetched.validators.etag.clone();
    state.last_modified = fetched.validators.last_modified.clone();
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
