//! One poll of one source: fetch → parse → normalize → dedup → commit. The readable orchestration;
//! every step lives in its own module.

mod commit;
mod cpu;
mod plan;
mod source_state;

pub use cpu::{CpuPool, CpuShare, PoolError};

pub use source_state::{poll_url, retry_wait};

use crate::channels::ChannelVersions;
use crate::config::{PollingSettings, SourceSettings};
use crate::dedup::{self, Plan};
use crate::domain::FeedUrl;
use crate::domain::{EntryKey, FetchOutcome, PollSummary, SourceState};
use crate::fetch::{FetchError, FetchResult, Fetched, Fetcher, Validators};
use crate::metrics::Metrics;
use crate::parse::ParseError;
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
    /// The near-duplicate band memory story matching reads and extends.
    pub near: Arc<crate::stories::SharedNear>,
    /// Told which channels each commit touched, so render caches drop exactly those.
    pub versions: Arc<ChannelVersions>,
    pub polling: Arc<PollingSettings>,
    pub metrics: Arc<Metrics>,
    /// The threads that parse, and those that commit (at a lower priority while serving).
    pub cpu: CpuPool,
    pub commits: CpuPool,
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
    /// The wait the source asks for between polls (ttl, max-age, Expires).
    pub hint: Option<Duration>,
    /// Polling stopped for good (410 Gone) until the config names another URL.
    pub disabled: bool,
    /// The URL polled (the confirmed new home after a permanent redirect).
    pub url: String,
    pub bytes: u64,
    /// New items that joined an existing story, and items recognised under a new identity.
    pub merged: usize,
    pub elapsed: Duration,
    pub finished: DateTime<Utc>,
}

pub async fn refresh(ctx: &PollContext, source: &SourceSettings, now: DateTime<Utc>) -> PollReport {
    let started = Instant::now();
    let mut state = ctx.store.source_state(&source.id).ok().flatten().unwrap_or_default();
    let url = poll_url(source, &state);
    let mut merged = 0;
    let result = run(ctx, source, &url, &mut state, now, &mut merged).await;
    let (outcome, summary, error) = match &result {
        Ok((outcome, summary)) => (*outcome, summary.clone(), None),
        Err(e) => (e.outcome(), PollSummary::default(), Some(e.to_string())),
    };
    let http_status = match &result {
        Err(PollError::Fetch(e)) => e.http_status(),
        _ => state.http_status,
    };
    if let Err(e) = &result {
        source_state::record_failure(ctx, source, &mut state, e, now).await;
    }
    PollReport {
        source: source.id.clone(),
        outcome,
        summary,
        error,
        http_status,
        retry_after: result.as_ref().err().and_then(PollError::retry_after),
        hint: state.hint().map(|(secs, _)| Duration::from_secs(secs)),
        disabled: state.disabled_reason(&source.url.to_string()).is_some(),
        url: url.to_string(),
        bytes: state.bytes_fetched,
        merged,
        elapsed: started.elapsed(),
        finished: Utc::now(),
    }
}

async fn run(
    ctx: &PollContext,
    source: &SourceSettings,
    url: &FeedUrl,
    state: &mut SourceState,
    now: DateTime<Utc>,
    merged: &mut usize,
) -> Result<(FetchOutcome, PollSummary), PollError> {
    let validators = Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    state.bytes_fetched = 0;
    let fetched = match ctx.fetcher.fetch(url, &validators).await? {
        // A 304 costs no parse, and no store write unless the source's pacing or home changed.
        FetchResult::NotModified(answer) => {
            if source_state::note_answer(state, &answer, source, &ctx.polling, now) {
                commit::commit(ctx, source, Planned::default(), state.clone(), now).await?;
            }
            return Ok((FetchOutcome::NotModified, PollSummary::default()));
        }
        FetchResult::Fetched(f) => f,
    };
    state.bytes_fetched = fetched.body.len() as u64;
    let answer_changed = source_state::note_answer(state, &fetched.answer, source, &ctx.polling, now);
    let body_hash = hex_digest(&fetched.body);
    if state.body_hash.as_deref() == Some(body_hash.as_str()) && state.consecutive_failures == 0 {
        // Same bytes as last time from a server that ignores validators: skip the parse.
        let validators_changed =
            state.etag != fetched.validators.etag || state.last_modified != fetched.validators.last_modified;
        if validators_changed || answer_changed {
            remember_validators(state, &fetched);
            commit::commit(ctx, source, Planned::default(), state.clone(), now).await?;
        }
        return Ok((FetchOutcome::Unchanged, PollSummary::default()));
    }
    let first_poll = state.last_success.is_none();
    let mut planned = parse_and_plan(ctx, source, &fetched, state, now).await?;
    if first_poll {
        dedup::hold_back_backlog(&mut planned.plan, source.initial_items);
    }
    source_state::note_document(state, &planned.doc, &ctx.polling, now);
    remember_validators(state, &fetched);
    state.body_hash = Some(body_hash);
    state.http_status = Some(fetched.answer.status);
    source_state::note_success(state, now);
    let (summary, joined) = commit::commit(ctx, source, planned, state.clone(), now).await?;
    *merged = joined;
    Ok((FetchOutcome::Ok, summary))
}

/// A poll's plan, with what story matching needs to know about the whole feed.
#[derive(Debug, Default)]
pub struct Planned {
    pub plan: Plan,
    /// Keys of every item in the fetched feed.
    pub incoming: HashSet<EntryKey>,
    pub skip: Skip,
    pub doc: DocumentNotes,
    /// Story features of the feed's items, computed off the commit lock.
    pub features: crate::stories::FeatureMap,
    /// The document's items, for the next poll to recognise; none when no document was parsed
    /// (a 304, an unchanged body), which keeps the last document's.
    pub seen: Option<Vec<crate::domain::SeenItem>>,
}

/// What the document said about itself, beside its items.
#[derive(Debug, Default)]
pub struct DocumentNotes {
    /// RSS `<ttl>` (minutes in the feed), as a wait.
    pub ttl: Option<Duration>,
    /// Invalid bytes replaced while decoding, and items beyond `polling.max_items` dropped.
    pub replaced_bytes: bool,
    pub dropped_items: usize,
}

/// Parsing, normalizing, planning and routing are CPU work: they run off the async workers.
async fn parse_and_plan(
    ctx: &PollContext,
    source: &SourceSettings,
    fetched: &Fetched,
    state: &SourceState,
    now: DateTime<Utc>,
) -> Result<Planned, PollError> {
    let (store, router, stories) = (ctx.store.clone(), ctx.router.clone(), ctx.stories.clone());
    let doc = plan::Document {
        body: fetched.body.clone(),
        charset: fetched.content_type.as_deref().and_then(crate::parse::charset_of),
        url: fetched.final_url.clone(),
        source: source.id.clone(),
        now,
        max_items: ctx.polling.max_items,
        seen: state.seen.clone(),
    };
    ctx.cpu
        .run(move || plan::Planner { store: &store, router: &router, stories: &stories }.plan(doc))
        .await
        .map_err(|e| PollError::Task(e.to_string()))?
}

fn remember_validators(state: &mut SourceState, fetched: &Fetched) {
    state.etag = fetched.validators.etag.clone();
    state.last_modified = fetched.validators.last_modified.clone();
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
