//! One poll of one source: fetch → parse → normalize → dedup → commit. The readable orchestration;
//! every step lives in its own module. What the poll teaches about its source is one
//! `PollOutcome`, applied to the source's model by `SourceState::apply`.

mod articles;
mod commit;
pub use commit::Deciders;
pub mod items;
mod page;
mod plan;
mod preview;
mod recheck;
mod sitemap;

pub use crate::domain::PollReport;
pub use preview::{preview, Preview};

use crate::channels::ChannelVersions;
use crate::config::{PollingSettings, SourceKind, SourceSettings};
use crate::dedup::{self, Plan};
use crate::domain::{Answer, DocumentNotes, Ending, EntryKey, Failure, FeedUrl, Parsed, PollOutcome};
use crate::domain::{PollRules, PollStats, SourceState};
use crate::fetch::{FetchError, FetchResult, Fetcher, RobotsCache, RobotsError, Validators};
use crate::metrics::Metrics;
use crate::parse::ParseError;
use crate::runtime::CpuPool;
use crate::store::{Store, StoreError};
use crate::stories::Skip;
use crate::topics::TopicRouter;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// What a poll needs from the rest of the service.
#[derive(Debug, Clone)]
pub struct PollContext {
    pub store: Store,
    pub fetcher: Fetcher,
    /// robots.txt of every host asked lately (sitemap and page sources ask it).
    pub robots: Arc<RobotsCache>,
    pub router: Arc<TopicRouter>,
    /// Story and event assignment: their settings and the memories they read and extend.
    pub deciders: commit::Deciders,
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
    Robots(#[from] RobotsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("poll task failed: {0}")]
    Task(String),
}

impl PollError {
    /// The failure as the source's model records it: a document that is not a feed, and a
    /// fetch failure that will not heal, need a person; the rest may go away by itself.
    pub fn failure(&self) -> Failure {
        let transient = match self {
            Self::Fetch(e) => e.is_transient(),
            Self::Parse(_) => false,
            Self::Robots(e) => e.is_transient(),
            Self::Store(_) | Self::Task(_) => true,
        };
        let (http_status, retry_after) = match self {
            Self::Fetch(FetchError::Status { status, retry_after }) => (Some(*status), *retry_after),
            _ => (None, None),
        };
        Failure { transient, error: self.to_string(), http_status, retry_after }
    }
}

/// The polling settings a source's transition needs.
pub fn rules(polling: &PollingSettings) -> PollRules {
    PollRules { redirect_confirmations: polling.redirect_confirmations, max_items: polling.max_items }
}

/// A finished poll: its report, and the state it left its source in (newer than the stored one
/// when nothing changed that was worth a write).
#[derive(Debug)]
pub struct Polled {
    pub report: PollReport,
    pub state: SourceState,
}

/// A poll's outcome, the state it led to, and the items it merged into stories.
type Done = (PollOutcome, SourceState, usize);

/// Polls `source` once, records what the poll taught about it, and reports; a failure is
/// recorded on the source, never returned.
pub async fn refresh(ctx: &PollContext, source: &SourceSettings, now: DateTime<Utc>) -> Polled {
    let started = Instant::now();
    let before = ctx.store.source_state(&source.id).ok().flatten().unwrap_or_default();
    let url = before.poll_url(&source.url);
    let mut heard = Heard::default();
    let (outcome, mut state, merged) = match run(ctx, source, &url, &before, now, &mut heard).await {
        Ok(done) => done,
        Err(e) => record_failure(ctx, source, &before, heard.outcome(source, Ending::Failed(e.failure())), now).await,
    };
    log_turns(source, &before, &state);
    let mut articles = std::mem::take(&mut heard.articles);
    if source.full_text && state.consecutive_failures == 0 {
        // One poll reads at most `max_articles` pages: new items' first, then rechecks.
        let budget = ctx.polling.max_articles.saturating_sub(articles.read);
        match recheck::run(ctx, source, &mut state, budget, now).await {
            Ok(rechecked) => articles.add(rechecked),
            Err(e) => tracing::warn!(source = %source.id, error = %e, "article recheck failed"),
        }
    }
    let stats = PollStats { merged, elapsed: started.elapsed(), finished: Utc::now() };
    let mut report = PollReport::new(&source.id, &url.to_string(), &outcome, &state, stats);
    report.articles = articles;
    Polled { report, state }
}

/// What the server said before the poll failed, if it got that far.
#[derive(Debug, Default)]
struct Heard {
    answer: Option<Answer>,
    bytes: u64,
    /// What the new items' article pages came to.
    articles: crate::domain::ArticleTally,
}

impl Heard {
    fn outcome(&self, source: &SourceSettings, ending: Ending) -> PollOutcome {
        PollOutcome { configured_url: source.url.to_string(), answer: self.answer.clone(), bytes: self.bytes, ending }
    }
}

async fn run(
    ctx: &PollContext,
    source: &SourceSettings,
    url: &FeedUrl,
    before: &SourceState,
    now: DateTime<Utc>,
    heard: &mut Heard,
) -> Result<Done, PollError> {
    let Some(got) = fetch_document(ctx, source, url, before, heard).await? else {
        return settle(ctx, source, before, heard.outcome(source, Ending::NotModified), now).await;
    };
    if before.body_hash.as_deref() == Some(got.body_hash.as_str()) && before.consecutive_failures == 0 {
        // Same bytes as last time from a server that ignores validators: skip the parse.
        let unchanged = heard.outcome(source, Ending::Unchanged(got.validators.clone()));
        return settle(ctx, source, before, unchanged, now).await;
    }
    let Got { validators, body_hash, content, url: doc_url } = got;
    let mut planned = parse_and_plan(ctx, source, content, doc_url, before, now).await?;
    if before.last_success.is_none() {
        dedup::hold_back_backlog(&mut planned.plan, source.initial_items);
    }
    let mut base = before.clone();
    if source.full_text {
        heard.articles = articles::read_for_plan(ctx, source, &mut planned, now).await;
        base.count_articles(&heard.articles, now);
    }
    let doc = std::mem::take(&mut planned.doc);
    let parsed = Parsed { validators, body_hash, doc, summary: Default::default() };
    let outcome = heard.outcome(source, Ending::Ok(parsed));
    let (state, merged) = commit::commit(ctx, source, planned, base, outcome.clone(), now).await?;
    Ok((outcome.counted(state.last_summary.clone()), state, merged))
}

/// The source's document, fetched as its kind is; `None` when the server says it has not changed.
async fn fetch_document(
    ctx: &PollContext,
    source: &SourceSettings,
    url: &FeedUrl,
    before: &SourceState,
    heard: &mut Heard,
) -> Result<Option<Got>, PollError> {
    match source.kind {
        SourceKind::Feed => fetch_feed(ctx, url, before, heard).await,
        SourceKind::Sitemap => sitemap::gather(ctx, source, url, heard).await.map(Some),
        SourceKind::Page => page::fetch(ctx, source, url, before, heard).await,
    }
}

/// A fetched document, ready to plan.
#[derive(Debug)]
struct Got {
    validators: Validators,
    /// Of every byte read: the document (and a sitemap index's children).
    body_hash: String,
    content: plan::Content,
    /// Where the document came from after redirects.
    url: Option<url::Url>,
}

/// A feed, fetched conditionally; `None` when the server says it has not changed.
async fn fetch_feed(
    ctx: &PollContext,
    url: &FeedUrl,
    before: &SourceState,
    heard: &mut Heard,
) -> Result<Option<Got>, PollError> {
    let fetched = match ctx.fetcher.fetch(url, &before.validators()).await? {
        FetchResult::NotModified(answer) => {
            heard.answer = Some(answer);
            return Ok(None);
        }
        FetchResult::Fetched(f) => f,
    };
    (heard.answer, heard.bytes) = (Some(fetched.answer.clone()), fetched.body.len() as u64);
    let charset = fetched.content_type.as_deref().and_then(crate::parse::charset_of);
    let body_hash = hex_digest(&fetched.body);
    let content = plan::Content::Feed { body: fetched.body, charset };
    Ok(Some(Got { validators: fetched.validators, body_hash, content, url: fetched.final_url }))
}

/// A poll that parsed nothing: a 304 or an unchanged body costs no store write unless it
/// changed what must outlive a restart (pacing, the source's home, a failure streak ended).
async fn settle(
    ctx: &PollContext,
    source: &SourceSettings,
    before: &SourceState,
    outcome: PollOutcome,
    now: DateTime<Utc>,
) -> Result<Done, PollError> {
    let mut state = before.clone();
    state.apply(&outcome, &rules(&ctx.polling), now);
    if state.differs_durably_from(before) {
        save(ctx, source, &state).await?;
    }
    Ok((outcome, state, 0))
}

/// Saves a failed poll on its source; the streak, a Retry-After and a 410 must survive a restart.
async fn record_failure(
    ctx: &PollContext,
    source: &SourceSettings,
    before: &SourceState,
    outcome: PollOutcome,
    now: DateTime<Utc>,
) -> Done {
    let mut state = before.clone();
    state.apply(&outcome, &rules(&ctx.polling), now);
    if let Err(e) = save(ctx, source, &state).await {
        tracing::error!(source = %source.id, error = %e, "cannot record poll failure");
    }
    (outcome, state, 0)
}

async fn save(ctx: &PollContext, source: &SourceSettings, state: &SourceState) -> Result<(), PollError> {
    let (store, id, state) = (ctx.store.clone(), source.id.clone(), state.clone());
    let saved = tokio::task::spawn_blocking(move || store.save_source_state(&id, &state)).await;
    saved.map_err(|e| PollError::Task(e.to_string()))?.map_err(PollError::from)
}

/// The two turns of a source an operator must hear about: it moved for good, or it is gone.
fn log_turns(source: &SourceSettings, before: &SourceState, after: &SourceState) {
    let url = source.url.to_string();
    if let Some(to) = after.effective_url(&url).filter(|to| before.effective_url(&url) != Some(*to)) {
        tracing::warn!(source = %source.id, url = %url, moved_to = %to, "source moved permanently; polling the new URL");
    }
    if after.disabled_reason(&url).is_some() && before.disabled_reason(&url).is_none() {
        tracing::warn!(source = %source.id, url = %url, status = 410, "feed is gone; polling stopped");
    }
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

/// Parsing, normalizing, planning and routing are CPU work: they run off the async workers.
async fn parse_and_plan(
    ctx: &PollContext,
    source: &SourceSettings,
    content: plan::Content,
    url: Option<url::Url>,
    state: &SourceState,
    now: DateTime<Utc>,
) -> Result<Planned, PollError> {
    let (store, router, stories) = (ctx.store.clone(), ctx.router.clone(), ctx.deciders.stories.clone());
    let doc = plan::Document {
        content,
        url,
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

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
