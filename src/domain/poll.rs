//! One poll's outcome as plain data, the polling rules its transition needs, and its report.

use super::{FetchOutcome, PollSummary, SourceId, SourceState};
use chrono::{DateTime, Utc};
use std::time::Duration;
use url::Url;

/// Validators from the previous successful fetch, sent back so an unchanged feed costs a 304.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What every answer says besides its body: the status, where the feed has moved for good,
/// and how long the server asks us to wait before asking again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Set when every hop of the redirect chain was permanent (301/308): the final URL.
    pub moved_to: Option<Url>,
    /// `Cache-Control: max-age` or `Expires`, as a wait from now.
    pub fresh_for: Option<Duration>,
}

/// What the document said about itself, beside its items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentNotes {
    /// RSS `<ttl>` (minutes in the feed), as a wait.
    pub ttl: Option<Duration>,
    /// Invalid bytes replaced while decoding, and items beyond `polling.max_items` dropped.
    pub replaced_bytes: bool,
    pub dropped_items: usize,
    /// Anything else survivable the reading noticed, in words (a sitemap index that lists
    /// itself, a child sitemap that failed).
    pub warnings: Vec<String>,
}

/// What one poll found, with everything `SourceState::apply` needs and nothing it must look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOutcome {
    /// The URL the config named when the poll ran: a new one re-enables a gone feed and
    /// forgets a confirmed move.
    pub configured_url: String,
    /// What the server answered before anything else happened; none when no answer came.
    pub answer: Option<Answer>,
    /// Body bytes fetched (after decompression).
    pub bytes: u64,
    pub ending: Ending,
}

/// How the poll ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// A document was parsed and its items committed.
    Ok(Parsed),
    /// The server answered 304, or the file did not change.
    NotModified,
    /// The body was byte-identical to the last one; the validators are the answer's.
    Unchanged(Validators),
    Failed(Failure),
}

/// A parsed document: what the next poll sends back, and what its items came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub validators: Validators,
    /// SHA-256 of the body, to skip work when a server ignores validators.
    pub body_hash: String,
    pub doc: DocumentNotes,
    /// Filled in by the commit, which alone knows what the items came to.
    pub summary: PollSummary,
}

/// A failed poll, classified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// A failure that may go away by itself (timeout, 5xx, 429), as opposed to one that needs a person.
    pub transient: bool,
    /// The error in plain words.
    pub error: String,
    pub http_status: Option<u16>,
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A transient failure with no HTTP answer behind it (a panicked or cancelled poll).
    pub fn transient(error: &str) -> Self {
        Self { transient: true, error: error.to_owned(), ..Self::default() }
    }

    /// 410 Gone: the publisher removed the feed.
    pub fn gone(&self) -> bool {
        self.http_status == Some(410)
    }
}

/// The polling settings a transition needs, as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollRules {
    /// Polls in a row that must see the same permanent redirect before the source follows it.
    pub redirect_confirmations: u32,
    /// Items kept from one document (named in the warning when some were dropped).
    pub max_items: usize,
}

impl PollOutcome {
    /// An outcome without an answer (the fetch failed, or no poll ran).
    pub fn failed(configured_url: String, failure: Failure) -> Self {
        Self { configured_url, answer: None, bytes: 0, ending: Ending::Failed(failure) }
    }

    /// The outcome in the words the status API and the CLI use.
    pub fn kind(&self) -> FetchOutcome {
        match &self.ending {
            Ending::Ok(_) => FetchOutcome::Ok,
            Ending::NotModified => FetchOutcome::NotModified,
            Ending::Unchanged(_) => FetchOutcome::Unchanged,
            Ending::Failed(f) if f.transient => FetchOutcome::TransientError,
            Ending::Failed(_) => FetchOutcome::PermanentError,
        }
    }

    pub fn failure(&self) -> Option<&Failure> {
        match &self.ending {
            Ending::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// The same outcome with the commit's counts (only a parsed document has any).
    pub fn counted(mut self, summary: PollSummary) -> Self {
        if let Ending::Ok(parsed) = &mut self.ending {
            parsed.summary = summary;
        }
        self
    }
}

/// The result of one poll, reported only after its writes are durable.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub source: SourceId,
    pub outcome: FetchOutcome,
    pub summary: PollSummary,
    pub error: Option<String>,
    pub http_status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// The URL polled (the confirmed new home after a permanent redirect).
    pub url: String,
    pub bytes: u64,
    /// New items that joined an existing story, and items recognised under a new identity.
    pub merged: usize,
    pub elapsed: Duration,
    pub finished: DateTime<Utc>,
    /// What the poll's article pages (new items' and rechecked ones) came to.
    pub articles: super::ArticleTally,
}

/// What a report says beyond the outcome and the state: the poll's cost and its merges.
#[derive(Debug, Clone, Copy)]
pub struct PollStats {
    pub merged: usize,
    pub elapsed: Duration,
    pub finished: DateTime<Utc>,
}

impl PollReport {
    /// The report of a poll of `url` that ended with `outcome` and left its source in `state`.
    pub fn new(source: &SourceId, url: &str, outcome: &PollOutcome, state: &SourceState, stats: PollStats) -> Self {
        let failure = outcome.failure();
        let summary = match &outcome.ending {
            Ending::Ok(parsed) => parsed.summary.clone(),
            _ => PollSummary::default(),
        };
        Self {
            source: source.clone(),
            outcome: outcome.kind(),
            summary,
            error: failure.map(|f| f.error.clone()),
            // A failure names its own status (none for a timeout); otherwise the last one known.
            http_status: failure.map_or(state.http_status, |f| f.http_status),
            retry_after: failure.and_then(|f| f.retry_after),
            url: url.to_owned(),
            bytes: outcome.bytes,
            merged: stats.merged,
            elapsed: stats.elapsed,
            finished: stats.finished,
            articles: super::ArticleTally::default(),
        }
    }
}
