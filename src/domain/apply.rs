//! The one transition of a source's model: what a poll's outcome changes in its `SourceState`.
//! Pure: the caller saves the result and logs what changed.

use super::poll::{Answer, DocumentNotes, Ending, Failure, Parsed, PollOutcome, PollRules};
use super::SourceState;
use chrono::{DateTime, Utc};

impl SourceState {
    /// Applies one poll's outcome: failure streak, Retry-After, a feed gone for its configured
    /// URL, a move confirmed after `redirect_confirmations` identical permanent redirects, the
    /// source's pacing hints, warnings about the document, and what its items came to.
    pub fn apply(&mut self, outcome: &PollOutcome, rules: &PollRules, now: DateTime<Utc>) {
        self.forget_other_url(&outcome.configured_url);
        self.last_poll = Some(now);
        self.outcome = Some(outcome.kind());
        if let Some(answer) = &outcome.answer {
            self.note_answer(answer, &outcome.configured_url, rules);
        }
        match &outcome.ending {
            Ending::Ok(parsed) => self.note_parsed(parsed, outcome.answer.as_ref(), rules, now),
            Ending::NotModified => self.note_healthy(),
            Ending::Unchanged(v) => {
                (self.etag, self.last_modified) = (v.etag.clone(), v.last_modified.clone());
                self.note_healthy();
            }
            Ending::Failed(f) => self.note_failure(f, &outcome.configured_url, now),
        }
    }

    /// Counts what one poll's (or recheck's) article pages came to.
    pub fn count_articles(&mut self, tally: &super::ArticleTally, now: DateTime<Utc>) {
        let a = &mut self.articles;
        a.read += tally.read as u64;
        a.failed += tally.failed as u64;
        a.edited += tally.edited as u64;
        if let Some(why) = &tally.last_failure {
            (a.last_failure, a.last_failure_at) = (Some(why.clone()), Some(now));
        }
    }

    /// Whether this state differs from `before` in what must outlive a restart even when the
    /// feed did not change: validators, pacing, the source's home, polling stopped, the failure
    /// streak. The time and outcome of the last poll alone are not worth a write.
    pub fn differs_durably_from(&self, before: &SourceState) -> bool {
        let pacing = (self.http_hint_secs, self.moved_streak, self.consecutive_failures);
        let home = (&self.moved_to, &self.effective_url, &self.configured_url, &self.disabled_url);
        pacing != (before.http_hint_secs, before.moved_streak, before.consecutive_failures)
            || home != (&before.moved_to, &before.effective_url, &before.configured_url, &before.disabled_url)
            || (&self.etag, &self.last_modified) != (&before.etag, &before.last_modified)
    }

    /// A config that names another URL starts over: the old URL's move and 410 no longer apply.
    fn forget_other_url(&mut self, configured: &str) {
        if self.configured_url.as_deref().is_some_and(|u| u != configured) {
            (self.effective_url, self.configured_url) = (None, None);
        }
        if self.disabled_url.as_deref().is_some_and(|u| u != configured) {
            (self.disabled, self.disabled_url) = (None, None);
        }
    }

    /// An answer, whatever its body: a past Retry-After is served, and the server says how
    /// long to wait and whether the feed moved for good.
    fn note_answer(&mut self, answer: &Answer, configured: &str, rules: &PollRules) {
        self.retry_not_before = None;
        self.http_hint_secs = answer.fresh_for.map(|d| d.as_secs()).filter(|s| *s > 0);
        match &answer.moved_to {
            Some(to) if self.moved_to.as_deref() == Some(to.as_str()) => {
                self.moved_streak = self.moved_streak.saturating_add(1);
            }
            Some(to) => (self.moved_to, self.moved_streak) = (Some(to.to_string()), 1),
            None => (self.moved_to, self.moved_streak) = (None, 0),
        }
        // One redirect may be a mistake being fixed; only a streak of them moves the source.
        if self.moved_streak >= rules.redirect_confirmations {
            if let Some(to) = self.moved_to.take() {
                (self.effective_url, self.configured_url) = (Some(to), Some(configured.to_owned()));
                self.moved_streak = 0;
            }
        }
    }

    fn note_parsed(&mut self, parsed: &Parsed, answer: Option<&Answer>, rules: &PollRules, now: DateTime<Utc>) {
        self.ttl_secs = parsed.doc.ttl.map(|d| d.as_secs()).filter(|s| *s > 0);
        self.warning = warning(&parsed.doc, rules.max_items);
        self.etag = parsed.validators.etag.clone();
        self.last_modified = parsed.validators.last_modified.clone();
        self.body_hash = Some(parsed.body_hash.clone());
        self.http_status = answer.map(|a| a.status).or(self.http_status);
        self.last_success = Some(now);
        self.first_success.get_or_insert(now);
        self.entry_count += parsed.summary.new as u64;
        self.last_summary = parsed.summary.clone();
        self.note_healthy();
    }

    fn note_healthy(&mut self) {
        self.last_error = None;
        self.consecutive_failures = 0;
    }

    /// A failure: the error in plain words, the streak, a Retry-After that must survive a
    /// restart, and a 410 that stops polling the configured URL.
    fn note_failure(&mut self, f: &Failure, configured: &str, now: DateTime<Utc>) {
        self.last_error = Some(f.error.clone());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.http_status = f.http_status.or(self.http_status);
        let wait = f.retry_after.and_then(|d| chrono::Duration::from_std(d).ok());
        self.retry_not_before = wait.and_then(|d| now.checked_add_signed(d));
        if f.gone() {
            self.disabled = Some(format!(
                "HTTP 410 Gone on {now}: the publisher removed this feed; give the source a new url to poll it again"
            ));
            self.disabled_url = Some(configured.to_owned());
        }
    }
}

/// Something wrong but survivable in the document, in words.
fn warning(doc: &DocumentNotes, max_items: usize) -> Option<String> {
    let mut warnings = Vec::new();
    if doc.replaced_bytes {
        warnings.push("invalid bytes in the document were replaced (check its encoding)".to_owned());
    }
    if doc.dropped_items > 0 {
        warnings
            .push(format!("{} items over the polling.max_items limit ({max_items}) were dropped", doc.dropped_items));
    }
    warnings.extend(doc.warnings.iter().cloned());
    (!warnings.is_empty()).then(|| warnings.join("; "))
}
