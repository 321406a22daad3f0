//! The transitions of the per-source model as one table: a state, a poll's outcome, and the
//! state, write decision, next check and next URL that must follow. No I/O.

use super::*;
use crate::cadence::{next_check, retry_jitter, test_policy, test_source};
use crate::config::{PollingSettings, SourceSettings};
use chrono::{DateTime, Utc};
use std::time::Duration;

const URL: &str = "https://news.example/feed";
const NEW_URL: &str = "https://news.example/rss";
const HOME: &str = "https://feeds.example/news";
const ELSEWHERE: &str = "https://mirror.example/news";

/// The last poll before each case.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z").expect("time").with_timezone(&Utc)
}

/// When each case's poll runs.
fn at() -> DateTime<Utc> {
    t0() + chrono::Duration::hours(1)
}

fn secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// The next check the case must derive (with no schedule jitter, so it is exact).
#[derive(Debug)]
enum Next {
    Never,
    /// The interval after this poll.
    After(i64),
    /// A backoff of this many seconds after this poll, plus its retry jitter.
    Backoff(u64),
}

#[derive(Debug)]
struct Case {
    name: &'static str,
    before: SourceState,
    outcome: PollOutcome,
    want: SourceState,
    /// Worth a write even without a parsed document.
    durable: bool,
    next: Next,
    /// The URL the next poll asks.
    polls: &'static str,
}

fn answer(status: u16, moved_to: Option<&str>, fresh_for: Option<u64>) -> Option<Answer> {
    let moved_to = moved_to.map(|u| url::Url::parse(u).expect("url"));
    Some(Answer { status, moved_to, fresh_for: fresh_for.map(Duration::from_secs) })
}

fn poll(configured: &str, answer: Option<Answer>, ending: Ending) -> PollOutcome {
    PollOutcome { configured_url: configured.to_owned(), answer, bytes: 1000, ending }
}

fn summary(new: usize) -> PollSummary {
    PollSummary { new, updated: 0, unchanged: 1 }
}

fn parsed(etag: &str, new: usize) -> Ending {
    let validators = Validators { etag: some(etag), last_modified: None };
    Ending::Ok(Parsed {
        validators,
        body_hash: format!("hash-{etag}"),
        doc: DocumentNotes::default(),
        summary: summary(new),
    })
}

fn failed(transient: bool, error: &str, http_status: Option<u16>, retry_after: Option<u64>) -> Ending {
    let retry_after = retry_after.map(Duration::from_secs);
    Ending::Failed(Failure { transient, error: error.to_owned(), http_status, retry_after })
}

/// A source whose last poll, at t0, parsed a document.
fn healthy() -> SourceState {
    SourceState {
        etag: some("v1"),
        body_hash: some("hash-v1"),
        last_poll: Some(t0()),
        last_success: Some(t0()),
        first_success: Some(t0() - chrono::Duration::days(1)),
        outcome: Some(FetchOutcome::Ok),
        http_status: Some(200),
        entry_count: 10,
        last_summary: summary(2),
        ..SourceState::default()
    }
}

/// A source whose last `n` polls failed, the last at t0.
fn failing(n: u32) -> SourceState {
    let (last_error, http_status) = (some("HTTP 503"), Some(503));
    let outcome = Some(FetchOutcome::TransientError);
    SourceState { outcome, last_error, http_status, consecutive_failures: n, ..healthy() }
}

/// A source seeing a permanent redirect to `to` for the `n`th time in a row at t0.
fn redirected(to: &str, n: u32) -> SourceState {
    SourceState { moved_to: some(to), moved_streak: n, ..healthy() }
}

fn not_modified(before: SourceState) -> SourceState {
    SourceState { last_poll: Some(at()), outcome: Some(FetchOutcome::NotModified), ..before }
}

fn gone_text() -> Option<String> {
    some(&format!(
        "HTTP 410 Gone on {}: the publisher removed this feed; give the source a new url to poll it again",
        at()
    ))
}

impl Case {
    /// A case worth a write, checked again 15 minutes after its poll, at the configured URL.
    fn new(name: &'static str, before: SourceState, outcome: PollOutcome, want: SourceState) -> Self {
        Self { name, before, outcome, want, durable: true, next: Next::After(900), polls: URL }
    }

    fn then(self, next: Next) -> Self {
        Self { next, ..self }
    }

    fn polling(self, polls: &'static str) -> Self {
        Self { polls, ..self }
    }
}

fn success_cases() -> Vec<Case> {
    let first_doc = Parsed {
        validators: Validators { etag: None, last_modified: some("Fri, 20 Nov 2026 07:00:00 GMT") },
        body_hash: "hash-first".into(),
        doc: DocumentNotes {
            ttl: Some(Duration::from_secs(7200)),
            replaced_bytes: true,
            dropped_items: 5,
            warnings: vec!["a sitemap index lists itself".into()],
        },
        summary: summary(3),
    };
    let first = SourceState {
        last_modified: some("Fri, 20 Nov 2026 07:00:00 GMT"),
        body_hash: some("hash-first"),
        last_poll: Some(at()),
        last_success: Some(at()),
        first_success: Some(at()),
        outcome: Some(FetchOutcome::Ok),
        http_status: Some(200),
        entry_count: 3,
        last_summary: summary(3),
        ttl_secs: Some(7200),
        warning: some(
            "invalid bytes in the document were replaced (check its encoding); \
             5 items over the polling.max_items limit (50) were dropped; a sitemap index lists itself",
        ),
        ..SourceState::default()
    };
    let ok = SourceState { last_poll: Some(at()), last_success: Some(at()), ..healthy() };
    let recovered =
        SourceState { outcome: Some(FetchOutcome::Ok), last_error: None, http_status: Some(200), ..failing(3) };
    let unchanged = Ending::Unchanged(Validators { etag: some("v1b"), last_modified: None });
    vec![
        Case::new(
            "ok: the first document, its ttl and what was wrong with it",
            SourceState::default(),
            poll(URL, answer(200, None, None), Ending::Ok(first_doc)),
            first,
        )
        .then(Next::After(7200)),
        Case::new(
            "ok: a new document counts its items and keeps the first success",
            SourceState { warning: some("old"), ttl_secs: Some(7200), ..healthy() },
            poll(URL, answer(200, None, None), parsed("v2", 3)),
            SourceState {
                etag: some("v2"),
                body_hash: some("hash-v2"),
                entry_count: 13,
                last_summary: summary(3),
                ..ok
            },
        ),
        Case::new(
            "304: only the time, the outcome and the answer's hint change",
            healthy(),
            poll(URL, answer(304, None, Some(3600)), Ending::NotModified),
            SourceState { http_hint_secs: Some(3600), ..not_modified(healthy()) },
        )
        .then(Next::After(3600)),
        Case {
            durable: false,
            ..Case::new(
                "304: nothing that must outlive a restart, no write",
                healthy(),
                poll(URL, answer(304, None, None), Ending::NotModified),
                not_modified(healthy()),
            )
        },
        Case::new(
            "304 after failures: the streak and the served Retry-After end",
            SourceState { retry_not_before: Some(t0() + secs(600)), ..failing(2) },
            poll(URL, answer(304, None, None), Ending::NotModified),
            SourceState { last_error: None, consecutive_failures: 0, ..not_modified(failing(2)) },
        ),
        Case::new(
            "unchanged body: the answer's validators are kept",
            healthy(),
            poll(URL, answer(200, None, None), unchanged),
            SourceState { etag: some("v1b"), outcome: Some(FetchOutcome::Unchanged), ..not_modified(healthy()) },
        ),
        Case::new(
            "a parsed document ends a failure streak",
            failing(3),
            poll(URL, answer(200, None, None), parsed("v2", 1)),
            SourceState {
                etag: some("v2"),
                body_hash: some("hash-v2"),
                last_poll: Some(at()),
                last_success: Some(at()),
                consecutive_failures: 0,
                entry_count: 11,
                last_summary: summary(1),
                ..recovered
            },
        ),
    ]
}

fn failure_cases() -> Vec<Case> {
    let failed_at = |before: SourceState| SourceState { last_poll: Some(at()), consecutive_failures: 1, ..before };
    let transient = failed_at(SourceState { outcome: Some(FetchOutcome::TransientError), ..healthy() });
    let gone = SourceState { disabled: gone_text(), disabled_url: some(URL), ..failing(1) };
    let retry = SourceState { retry_not_before: Some(at() + secs(5000)), ..transient.clone() };
    let gone_now = SourceState {
        outcome: Some(FetchOutcome::PermanentError),
        last_error: some("HTTP 410"),
        http_status: Some(410),
        disabled: gone_text(),
        disabled_url: some(URL),
        ..failed_at(healthy())
    };
    let e503 = SourceState { last_error: some("HTTP 503"), http_status: Some(503), ..transient.clone() };
    vec![
        Case::new(
            "a failure starts the streak",
            healthy(),
            poll(URL, None, failed(true, "HTTP 503", Some(503), None)),
            e503,
        )
        .then(Next::Backoff(1800)),
        Case::new(
            "each failure grows the streak",
            failing(2),
            poll(URL, None, failed(true, "HTTP 503", Some(503), None)),
            SourceState { last_poll: Some(at()), consecutive_failures: 3, ..failing(2) },
        )
        .then(Next::Backoff(7200)),
        Case::new(
            "a failure without a status keeps the last one",
            healthy(),
            poll(URL, None, failed(true, "timed out after 20s", None, None)),
            SourceState { last_error: some("timed out after 20s"), ..transient },
        )
        .then(Next::Backoff(1800)),
        Case::new(
            "Retry-After is kept as a time, and the retry waits for it",
            healthy(),
            poll(URL, None, failed(true, "HTTP 429", Some(429), Some(5000))),
            SourceState { last_error: some("HTTP 429"), http_status: Some(429), ..retry },
        )
        .then(Next::Backoff(5000)),
        Case::new(
            "410 stops polling the configured URL",
            healthy(),
            poll(URL, None, failed(false, "HTTP 410", Some(410), None)),
            gone_now,
        )
        .then(Next::Never),
        Case::new(
            "a new configured URL polls a gone source again",
            gone,
            poll(NEW_URL, answer(304, None, None), Ending::NotModified),
            SourceState { last_error: None, consecutive_failures: 0, ..not_modified(failing(1)) },
        )
        .polling(NEW_URL),
    ]
}

fn redirect_cases() -> Vec<Case> {
    let moved = |to: &str| poll(URL, answer(304, Some(to), None), Ending::NotModified);
    let plain = poll(URL, answer(304, None, None), Ending::NotModified);
    let home = SourceState { effective_url: some(HOME), configured_url: some(URL), ..healthy() };
    vec![
        Case::new(
            "a permanent redirect is noted, not followed",
            healthy(),
            moved(HOME),
            not_modified(redirected(HOME, 1)),
        ),
        Case::new(
            "the same redirect again grows its streak",
            redirected(HOME, 1),
            moved(HOME),
            not_modified(redirected(HOME, 2)),
        ),
        Case::new(
            "redirect_confirmations identical redirects move the source",
            redirected(HOME, 2),
            moved(HOME),
            not_modified(home.clone()),
        )
        .polling(HOME),
        Case::new(
            "another target starts the count again",
            redirected(HOME, 2),
            moved(ELSEWHERE),
            not_modified(redirected(ELSEWHERE, 1)),
        ),
        Case::new("an answer without the redirect forgets it", redirected(HOME, 2), plain, not_modified(healthy())),
        Case::new(
            "a new configured URL after a move is polled, not the old one's home",
            home,
            poll(NEW_URL, answer(304, None, None), Ending::NotModified),
            not_modified(healthy()),
        )
        .polling(NEW_URL),
    ]
}

/// The source as configured for the case's poll, and the policy without schedule jitter.
fn configured(case: &Case) -> (SourceSettings, PollingSettings) {
    let url = FeedUrl::Http(url::Url::parse(&case.outcome.configured_url).expect("url"));
    (SourceSettings { url, ..test_source(900) }, PollingSettings { jitter: Duration::ZERO, ..test_policy() })
}

#[test]
fn each_outcome_leaves_exactly_the_state_write_next_check_and_url_of_its_row() {
    let rules = PollRules { redirect_confirmations: 3, max_items: 50 };
    for case in success_cases().into_iter().chain(failure_cases()).chain(redirect_cases()) {
        let mut state = case.before.clone();
        state.apply(&case.outcome, &rules, at());
        assert_eq!(state, case.want, "{}", case.name);
        assert_eq!(state.differs_durably_from(&case.before), case.durable, "{}: write", case.name);
        let (source, policy) = configured(&case);
        let want = match case.next {
            Next::Never => None,
            Next::After(s) => Some(at() + secs(s)),
            Next::Backoff(s) => {
                let wait = Duration::from_secs(s);
                let jitter = retry_jitter(&source.id, state.consecutive_failures, wait);
                Some(at() + chrono::Duration::from_std(wait + jitter).expect("span"))
            }
        };
        assert_eq!(next_check(&state, &source, &policy, at()), want, "{}: next check", case.name);
        assert_eq!(state.poll_url(&source.url).to_string(), case.polls, "{}: next URL", case.name);
    }
}

#[test]
fn a_report_is_the_outcome_in_words() {
    let state = failing(1);
    let stats = PollStats { merged: 2, elapsed: Duration::from_millis(5), finished: at() };
    let id = SourceId::parse("s").expect("id");
    let r = PollReport::new(&id, URL, &poll(URL, None, failed(true, "timed out", None, None)), &state, stats);
    assert_eq!((r.outcome, r.error.as_deref(), r.http_status), (FetchOutcome::TransientError, Some("timed out"), None));
    let ok = poll(URL, answer(200, None, None), parsed("v2", 4));
    let r = PollReport::new(&id, URL, &ok, &healthy(), stats);
    assert_eq!((r.outcome, r.summary.new, r.http_status, r.bytes, r.merged), (FetchOutcome::Ok, 4, Some(200), 1000, 2));
}
