//! Fetch failures, classified: transient ones are retried with backoff, permanent ones need a person.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("HTTP {status}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Status { status: u16, retry_after: Option<Duration> },
    #[error("body larger than the {limit}-byte limit (counted after decompression)")]
    TooLarge { limit: u64 },
    #[error("redirect failed: {0}")]
    Redirect(String),
    #[error(transparent)]
    Blocked(#[from] super::Blocked),
    #[error("cannot read file {path}: {message}")]
    File { path: String, message: String },
    #[error("request failed: {0}")]
    Request(String),
}

impl FetchError {
    /// Transient failures may heal without anyone acting; permanent ones will not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Connect(_) | Self::Request(_) => true,
            Self::Status { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            Self::TooLarge { .. } | Self::Redirect(_) | Self::File { .. } | Self::Blocked(_) => false,
        }
    }

    /// The HTTP status behind the failure, for the status API.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn from_reqwest(e: &reqwest::Error, timeout: Duration) -> Self {
        if let Some(blocked) = find_blocked(e) {
            Self::Blocked(blocked)
        } else if e.is_timeout() {
            Self::Timeout(timeout)
        } else if e.is_redirect() {
            Self::Redirect(e.to_string())
        } else if e.is_connect() {
            Self::Connect(root_cause(e))
        } else {
            Self::Request(root_cause(e))
        }
    }
}

/// The guard's refusal, from inside the connector's error chain.
fn find_blocked(e: &(dyn std::error::Error + 'static)) -> Option<super::Blocked> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<super::Blocked>() {
            return Some(b.clone());
        }
        cur = err.source();
    }
    None
}

/// reqwest's top-level message ("error sending request") hides the useful part.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        msg = inner.to_string();
        cur = inner.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let status = |s| FetchError::Status { status: s, retry_after: None };
        assert!(status(503).is_transient());
        assert!(status(429).is_transient());
        assert!(!status(404).is_transient());
        assert!(!status(410).is_transient());
        assert!(FetchError::Timeout(Duration::from_secs(1)).is_transient());
        assert!(!FetchError::TooLarge { limit: 1 }.is_transient());
    }
}
