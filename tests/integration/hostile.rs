//! Hostile and broken sources, one table. Every case is a source on the raw-TCP fixture server
//! (`hostile_server.rs`, 127.0.0.1). All are polled at once beside a good source; each must end
//! as the table says, recorded on that source, while the good source is ingested, the server
//! keeps answering, the store stays readable, memory stays bounded and the address-guard
//! canaries (127.0.0.2 and a second port on 127.0.0.1) never see a request.
//!
//! | case | the source sends | expected |
//! |---|---|---|
//! | http-500 | 500 | transient failure "HTTP 500" |
//! | http-404 | 404 | permanent failure "HTTP 404" |
//! | http-410 | 410 Gone | permanent, source disabled, not fetched again |
//! | http-429 | 429, Retry-After: 120 | transient, retry after 120 s |
//! | http-503-date | 503, Retry-After as an HTTP date | transient, retry after ~300 s |
//! | redirect-loop | 302 a → b → a | "redirect loop" |
//! | redirect-chain | endless 301 chain | "more than 5 redirects" |
//! | redirect-no-location | 302 without Location | "without a Location" |
//! | redirect-ftp | 302 to ftp: | "unsupported scheme" |
//! | redirect-canary-ip | 302 to 127.0.0.2 | "address guard", canary untouched |
//! | redirect-canary-name | 302 to localhost (resolves to loopback) | "address guard", canary untouched |
//! | redirect-mapped | 307 to [::ffff:127.0.0.2] | "address guard" |
//! | direct-private | the source URL itself on 127.0.0.2 | "address guard" |
//! | gzip-bomb | 32 MiB of zeros gzipped (~32 KiB) | "limit" (stops at max_body) |
//! | endless | an endless body, no length | "limit" |
//! | length-lie | Content-Length: 99999999999 | "limit" before reading |
//! | drip | one byte per 200 ms | "timed out" |
//! | silent | accepts, never answers | "timed out" |
//! | reset | closes after the request | transient failure |
//! | garbage | binary noise as RSS | "not a feed" |
//! | html | an HTML page | "HTML page" |
//! | empty | 200 with no body | "empty" |
//! | truncated | half a feed | "not a feed" |
//! | deep | 50,000 nested elements | "nested deeper" |
//! | entity-bomb | billion-laughs DTD | "entity bomb" |
//! | huge-attr | a 1.2 MB attribute | "huge attribute" |
//! | many-headers | 300 response headers | failure |
//! | header-bomb | one 2 MiB header | failure |
//! | bad-status-line | not HTTP | failure |
//! | json-deep | JSON nested 100,000 deep | "not a feed" |
//! | latin1-header | ISO-8859-1, charset only in Content-Type | parses, "Café à Noël" |
//! | cp1252-declared | windows-1252 in the XML declaration | parses, “Quoted” € |
//! | koi8r | KOI8-R in Content-Type | parses, "Привет" |
//! | invalid-utf8 | UTF-8 with invalid bytes | parses, bytes replaced, source flagged |
//! | text-plain | a good feed as text/plain | parses |
//! | utf16-bom | UTF-16LE with BOM | parses, "Grüße aus Köln" |
//! | too-many-items | 120 items, max_items 50 | 50 kept, source flagged |
//! | huge-fields | 220 KB title, 750 KB body | title ≤ 1,000 chars, body ≤ 256 KiB |

use crate::helpers::*;
use crate::hostile_server::{self, canary};
use newsriver::domain::{ChannelId, FetchOutcome, SourceId};
use std::sync::atomic::Ordering;
use std::time::Duration;

enum Expect {
    /// Fails; the error contains each word (case-insensitive); `Some(t)`: transient or not.
    Fails(&'static [&'static str], Option<bool>),
    /// Parses into `n` entries; the first title contains the text (when given).
    Parses(usize, Option<&'static str>),
}

use Expect::{Fails, Parses};

const CASES: &[(&str, Expect)] = &[
    ("http-500", Fails(&["http 500"], Some(true))),
    ("http-404", Fails(&["http 404"], Some(false))),
    ("http-410", Fails(&["410"], Some(false))),
    ("http-429", Fails(&["http 429", "retry after 120s"], Some(true))),
    ("http-503-date", Fails(&["http 503"], Some(true))),
    ("redirect-loop", Fails(&["redirect loop"], Some(false))),
    ("redirect-chain", Fails(&["more than 5 redirects"], Some(false))),
    ("redirect-no-location", Fails(&["without a location"], Some(false))),
    ("redirect-ftp", Fails(&["unsupported scheme"], Some(false))),
    ("redirect-canary-ip", Fails(&["address guard", "127.0.0.2", "loopback"], Some(false))),
    ("redirect-canary-name", Fails(&["address guard", "localhost"], Some(false))),
    ("redirect-mapped", Fails(&["address guard"], Some(false))),
    ("direct-private", Fails(&["address guard"], Some(false))),
    ("gzip-bomb", Fails(&["limit"], Some(false))),
    ("endless", Fails(&["limit"], Some(false))),
    ("length-lie", Fails(&["limit"], Some(false))),
    ("drip", Fails(&["timed out"], Some(true))),
    ("silent", Fails(&["timed out"], Some(true))),
    ("reset", Fails(&[], Some(true))),
    ("garbage", Fails(&["not a feed"], Some(false))),
    ("html", Fails(&["html page"], Some(false))),
    ("empty", Fails(&["empty"], Some(false))),
    ("truncated", Fails(&["not a feed"], Some(false))),
    ("deep", Fails(&["nested deeper"], Some(false))),
    ("entity-bomb", Fails(&["entity bomb"], Some(false))),
    ("huge-attr", Fails(&["huge attribute"], Some(false))),
    ("many-headers", Fails(&[], None)),
    ("header-bomb", Fails(&[], None)),
    ("bad-status-line", Fails(&[], None)),
    ("json-deep", Fails(&["not a feed"], Some(false))),
    ("latin1-header", Parses(1, Some("Café à Noël"))),
    ("cp1252-declared", Parses(1, Some("\u{201c}Quoted\u{201d} \u{20ac} 5"))),
    ("koi8r", Parses(1, Some("Привет"))),
    ("invalid-utf8", Parses(1, Some("Broken \u{fffd}"))),
    ("text-plain", Parses(2, Some("Plain item"))),
    ("utf16-bom", Parses(1, Some("Grüße aus Köln"))),
    ("too-many-items", Parses(50, None)),
    ("huge-fields", Parses(1, Some("Long title"))),
];

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_sources_fail_clearly_and_harm_nothing() {
    // Alone in a process of its own, so the memory it measures is its own, not other tests'.
    if !in_own_process("hostile::hostile_sources_fail_clearly_and_harm_nothing") {
        return;
    }
    let (canary_ip, canary_local) = (canary("127.0.0.2").await, canary("127.0.0.1").await);
    let server = hostile_server::start(canary_ip.port, canary_local.port).await;
    let mut sources: Vec<(&str, String)> = vec![("good", format!("{}/good", server.base))];
    for (id, _) in CASES {
        let url = match *id {
            "direct-private" => format!("http://127.0.0.2:{}/feed", canary_ip.port),
            "redirect-chain" => format!("{}/redirect-chain/0", server.base),
            _ => format!("{}/{id}", server.base),
        };
        sources.push((id, url));
    }
    let app = spawn_app_with(&sources, |p| {
        p.timeout = Duration::from_secs(2);
        p.max_body = 4 << 20;
        p.max_items = 50;
        p.initial_items = 500;
        p.concurrency = 64;
        set_per_host(p, 64);
        p.allow_private_networks = false;
        p.allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let rss_before = rss_kib();
    let reports = app.poll_now().await;
    let rss_growth_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert_eq!(reports.len(), CASES.len() + 1);
    assert_eq!(report(&reports, "good").summary.new, 3, "the good source is ingested beside the hostile ones");

    let statuses: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("status json");
    for (id, expect) in CASES {
        let r = report(&reports, id);
        let status = statuses.iter().find(|s| s["id"] == *id).unwrap_or_else(|| panic!("{id} in /api/sources"));
        match expect {
            Fails(words, transient) => check_failure(id, r, status, words, *transient),
            Parses(n, title) => check_parse(&app, id, r, *n, *title),
        }
    }
    check_details(&app, &reports, &statuses, &server).await;
    assert_eq!(canary_ip.hits.load(Ordering::SeqCst), 0, "no request reached the 127.0.0.2 canary");
    assert_eq!(canary_local.hits.load(Ordering::SeqCst), 0, "no request reached the localhost canary");
    assert!(rss_growth_mib < 200, "memory stayed bounded: grew {rss_growth_mib} MiB");
    assert_eq!(app.get("/healthz").await.status(), 200, "the server still answers");
    let good = app.feed("/sources/good.atom").await;
    assert_eq!(good.entries.len(), 3, "the store serves the good source intact");
    let all = app.feed("/feeds/all.atom?limit=500").await;
    assert!(all.entries.iter().any(|e| e.title.as_ref().is_some_and(|t| t.content.contains("Good item"))));
    app.stop().await;
}

fn check_failure(
    id: &str,
    r: &newsriver::pipeline::PollReport,
    status: &serde_json::Value,
    words: &[&str],
    transient: Option<bool>,
) {
    assert!(r.outcome.is_failure(), "{id} must fail, got {:?}", r.outcome);
    let err = r.error.clone().unwrap_or_default().to_lowercase();
    assert!(!err.is_empty(), "{id}: an error in words");
    for w in words {
        assert!(err.contains(w), "{id}: error {err:?} should mention {w:?}");
    }
    if let Some(t) = transient {
        let want = if t { FetchOutcome::TransientError } else { FetchOutcome::PermanentError };
        assert_eq!(r.outcome, want, "{id}: {err}");
    }
    assert!(status["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{id}: error recorded on the source");
    let state = status["state"].as_str().unwrap_or_default();
    assert!(["backing off", "failing", "disabled"].contains(&state), "{id}: state {state}");
}

fn check_parse(app: &TestApp, id: &str, r: &newsriver::pipeline::PollReport, n: usize, title: Option<&str>) {
    assert_eq!(r.outcome, FetchOutcome::Ok, "{id}: {:?}", r.error);
    let ch = ChannelId::Source(SourceId::parse(id).expect("id"));
    let entries = app.state.store.latest(&ch, usize::MAX).expect("store");
    assert_eq!(entries.len(), n, "{id}: stored entries");
    if let Some(t) = title {
        assert!(
            entries.iter().any(|e| e.title.contains(t)),
            "{id}: titles {:?}",
            entries.iter().map(|e| &e.title).collect::<Vec<_>>()
        );
    }
}

/// The cases whose consequences go beyond the report.
async fn check_details(
    app: &TestApp,
    reports: &[newsriver::pipeline::PollReport],
    statuses: &[serde_json::Value],
    server: &hostile_server::HostileServer,
) {
    let status = |id: &str| statuses.iter().find(|s| s["id"] == id).cloned().unwrap_or_default();
    assert_eq!(report(reports, "http-429").retry_after, Some(Duration::from_secs(120)));
    let ra = report(reports, "http-503-date").retry_after.expect("date Retry-After").as_secs();
    assert!((240..=300).contains(&ra), "Retry-After date read as {ra}s");
    assert_eq!(status("http-410")["state"], "disabled");
    assert!(status("invalid-utf8")["warning"].as_str().is_some_and(|w| w.contains("invalid bytes")));
    assert!(status("too-many-items")["warning"].as_str().is_some_and(|w| w.contains("70 items")));
    let ch = ChannelId::Source(SourceId::parse("huge-fields").expect("id"));
    let huge = app.state.store.latest(&ch, 1).expect("store").pop().expect("entry");
    assert!(huge.title.chars().count() <= 1_000, "title capped");
    let body = huge.content.or(huge.summary).unwrap_or_default();
    assert!(body.len() <= 300 * 1024 && body.len() > 100 * 1024, "body capped at about 256 KiB: {}", body.len());
    // A disabled source is not fetched again, and says why when asked.
    let again = app.poll_now().await;
    assert!(report(&again, "http-410").error.as_deref().is_some_and(|e| e.contains("410")));
    assert_eq!(server.hits("/http-410"), 1, "a 410 source is not polled again");
}
