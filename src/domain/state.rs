//! What newsriver remembers about each source between polls, and the outcome of one poll.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one poll ended, in the words the status API and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    /// New or updated items were found (or the feed parsed with nothing new).
    Ok,
    /// The server answered 304, or the file did not change: nothing parsed, nothing written.
    NotModified,
    /// The body was byte-identical to the last one: nothing parsed, nothing written.
    Unchanged,
    /// A failure that may go away by itself (timeout, 5xx, 429, connection refused).
    TransientError,
    /// A failure that needs a person (404, 410, not a feed, body too large).
    PermanentError,
}

impl FetchOutcome {
    pub fn is_failure(self) -> bool {
        matches!(self, Self::TransientError | Self::PermanentError)
    }
}

/// Counts of one poll, reported once its writes are durable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Persistent per-source state: validators for conditional GET, and the last outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the last body parsed, to skip work when a server ignores validators.
    pub body_hash: Option<String>,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub outcome: Option<FetchOutcome>,
    pub last_error: Option<String>,
    pub http_status: Option<u16>,
    pub consecutive_failures: u32,
    pub entry_count: u64,
    pub polls: u64,
    pub not_modified: u64,
    pub last_summary: PollSummary,
}
