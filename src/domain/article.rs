//! What an item's article page added to it: the body and metadata read from the page, the rule
//! that found each field, and what asking for the page again needs (validators, a body digest).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The article behind one item, as last fetched. A page that yielded no article is recorded
/// too (`failed`), so the entry shows why it carries only its feed's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleRecord {
    /// The page the article was read from, after redirects.
    pub url: String,
    /// When the page was last fetched or confirmed unchanged.
    pub checked: DateTime<Utc>,
    /// Why the page yielded no article (`no article body found`, `HTTP 404`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Sanitized HTML of the main body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byline: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// The page's "last update".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ArticleImage>,
    #[serde(default)]
    pub word_count: usize,
    /// Field name (`byline`, `image.credit`, ...) to the rule that found it (`json-ld`, `meta`,
    /// `text-pattern`, `selector`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
    /// What the source's extractor overrides did not find (a `content_selector` that matched
    /// nothing, so the heuristics chose the body).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Digest of the page's bytes: the same bytes again are not extracted again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_hash: Option<String>,
}

/// The article's lead image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleImage {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
}

impl ArticleRecord {
    /// True when the page gave a body to show in place of the feed's text.
    pub fn has_body(&self) -> bool {
        self.failed.is_none() && self.body_html.as_deref().is_some_and(|b| !b.trim().is_empty())
    }
}

/// What reading article pages came to in one poll (or one recheck).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleTally {
    pub read: usize,
    pub failed: usize,
    pub edited: usize,
    /// The last page that failed, and why (`URL: reason`).
    pub last_failure: Option<String>,
}

impl ArticleTally {
    /// Counts one page read.
    pub fn count(&mut self, record: &ArticleRecord) {
        self.read += 1;
        if let Some(why) = &record.failed {
            self.failed += 1;
            self.last_failure = Some(format!("{}: {why}", record.url));
        }
    }

    pub fn add(&mut self, other: ArticleTally) {
        (self.read, self.failed, self.edited) =
            (self.read + other.read, self.failed + other.failed, self.edited + other.edited);
        self.last_failure = other.last_failure.or(self.last_failure.take());
    }
}

/// A full-text source's article pages over its lifetime: shown on its status, kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArticleHealth {
    pub read: u64,
    pub failed: u64,
    /// Pages found changed by a recheck.
    pub edited: u64,
    pub last_failure: Option<String>,
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl ArticleHealth {
    /// A source that reads no article pages stores nothing of them.
    pub fn is_unused(&self) -> bool {
        *self == Self::default()
    }
}
