//! Conditional GET, failure isolation, limits, and the scheduler.

use crate::helpers::*;
use newsriver::config::Schedule;
use newsriver::domain::FetchOutcome;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_304_parses_nothing_and_writes_nothing() {
    let server = MockServer::start().await;
    let body = rss(&rss_item("a", "A", 20));
    Mock::given(path("/etag"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/etag"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_raw(body.clone(), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let lm = "Wed, 25 Nov 2026 10:00:00 GMT";
    Mock::given(path("/lm"))
        // wiremock splits header values at commas, so match an HTTP date by presence.
        .and(header_exists("if-modified-since"))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/lm"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("last-modified", lm).set_body_raw(body, "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let app = spawn_app(&[("etag", format!("{}/etag", server.uri())), ("lm", format!("{}/lm", server.uri()))]).await;
    let first = app.poll_now().await;
    let outcomes = |reports: &[newsriver::pipeline::PollReport]| reports.iter().map(|r| r.outcome).collect::<Vec<_>>();
    assert_eq!(outcomes(&first), [FetchOutcome::Ok; 2], "{first:?}");
    let writes = app.state.store.writes();
    let entries = app.all_entries();
    // One story carried by both sources: the merged channel lists it once.
    assert_eq!((app.state.store.entry_count(), entries.len()), (2, 1));
    let second = app.poll_now().await;
    assert_eq!(outcomes(&second), [FetchOutcome::NotModified; 2], "{second:?}");
    assert_eq!(app.state.store.writes(), writes, "a 304 writes nothing");
    assert_eq!(app.all_entries(), entries);
    let user_agents: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.headers.get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .collect();
    assert_eq!(user_agents.len(), 4, "two polls of two sources");
    assert!(user_agents.iter().all(|ua| ua.starts_with("newsriver/")), "{user_agents:?}");
    app.stop().await;
}

#[tokio::test]
async fn failing_sources_are_recorded_and_do_not_stop_the_others() {
    let server = MockServer::start().await;
    let mount = |p: &'static str, t: ResponseTemplate| Mock::given(method("GET")).and(path(p)).respond_with(t);
    mount("/good", ResponseTemplate::new(200).set_body_raw(rss(&rss_item("g", "Good", 20)), "application/rss+xml"))
        .mount(&server)
        .await;
    mount("/500", ResponseTemplate::new(500)).mount(&server).await;
    mount("/404", ResponseTemplate::new(404)).mount(&server).await;
    mount("/slow", ResponseTemplate::new(200).set_delay(Duration::from_secs(5)).set_body_string("late"))
        .mount(&server)
        .await;
    mount(
        "/garbage",
        ResponseTemplate::new(200).set_body_raw(b"\x00\x01 definitely not a feed".to_vec(), "application/rss+xml"),
    )
    .mount(&server)
    .await;
    mount(
        "/html",
        ResponseTemplate::new(200)
            .set_body_raw(b"<!DOCTYPE html><html><body>Welcome</body></html>".to_vec(), "text/html"),
    )
    .mount(&server)
    .await;
    mount(
        "/huge",
        ResponseTemplate::new(200).set_body_raw(rss(&rss_item("h", &"x".repeat(300_000), 20)), "application/rss+xml"),
    )
    .mount(&server)
    .await;
    let routes = [
        ("good", "good"),
        ("e500", "500"),
        ("e404", "404"),
        ("slow", "slow"),
        ("garbage", "garbage"),
        ("html", "html"),
        ("huge", "huge"),
    ];
    let sources: Vec<(&str, String)> =
        routes.iter().map(|(id, route)| (*id, format!("{}/{route}", server.uri()))).collect();
    let app = spawn_app_with(&sources, |p| {
        p.max_body = 100 << 10;
        p.timeout = Duration::from_secs(1);
    })
    .await;
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "good").summary.new, 1);
    let expect = [
        ("e500", FetchOutcome::TransientError, "HTTP 500"),
        ("e404", FetchOutcome::PermanentError, "HTTP 404"),
        ("slow", FetchOutcome::TransientError, "timed out"),
        ("garbage", FetchOutcome::PermanentError, "not a feed"),
        ("html", FetchOutcome::PermanentError, "HTML page"),
        ("huge", FetchOutcome::PermanentError, "limit"),
    ];
    let status: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("json");
    for (id, outcome, words) in expect {
        let r = report(&reports, id);
        assert_eq!(r.outcome, outcome, "{id}: {r:?}");
        assert!(r.error.as_deref().unwrap_or("").contains(words), "{id}: {:?}", r.error);
        let s = status.iter().find(|s| s["id"] == id).expect("listed");
        assert!(s["last_error"].as_str().unwrap_or("").contains(words), "{id}: {s}");
        assert_eq!(s["consecutive_failures"], 1, "{id}");
    }
    let good = status.iter().find(|s| s["id"] == "good").expect("good");
    assert_eq!((good["entry_count"].as_u64(), good["last_error"].is_null()), (Some(1), true));
    assert_eq!(app.get("/healthz").await.status(), 200, "the server still answers");
    assert_eq!(app.feed("/feeds/all.atom").await.entries.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn per_host_and_global_limits_hold() {
    let body = rss(&rss_item("a", "A", 20));
    let fixture = counting_server("127.0.0.1", body.clone(), Duration::from_millis(300)).await;
    let sources: Vec<(String, String)> = (0..6).map(|i| (format!("s{i}"), format!("{}/f{i}", fixture.base))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let app = spawn_app_with(&refs, |p| set_per_host(p, 2)).await;
    app.poll_now().await;
    assert_eq!(fixture.total.load(Ordering::SeqCst), 6);
    assert_eq!(fixture.max_in_flight.load(Ordering::SeqCst), 2, "per_host = 2");
    app.stop().await;

    // Two hosts (127.0.0.1 and 127.0.0.2), generous per-host limit, global limit 3.
    let both = Gauge::default();
    let a = counting_server_shared("127.0.0.1", body.clone(), Duration::from_millis(300), both.clone()).await;
    let b = counting_server_shared("127.0.0.2", body, Duration::from_millis(300), both.clone()).await;
    let sources: Vec<(String, String)> =
        (0..8).map(|i| (format!("s{i}"), format!("{}/f{i}", if i % 2 == 0 { &a.base } else { &b.base }))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(x, y)| (x.as_str(), y.clone())).collect();
    let app = spawn_app_with(&refs, |p| p.concurrency = 3).await;
    app.poll_now().await;
    assert_eq!(both.peak(), 3, "concurrency = 3 across hosts");
    assert!(a.max_in_flight.load(Ordering::SeqCst) >= 1 && b.max_in_flight.load(Ordering::SeqCst) >= 1);
    app.stop().await;
}

#[tokio::test]
async fn the_scheduler_polls_on_cron_and_never_twice_at_once() {
    let fast = counting_server("127.0.0.1", rss(&rss_item("a", "A", 20)), Duration::from_millis(0)).await;
    let slow = counting_server("127.0.0.1", rss(&rss_item("b", "B", 21)), Duration::from_millis(3500)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [("fast", format!("{}/feed", fast.base)), ("slow", format!("{}/feed", slow.base))];
    let mut settings = test_settings(dir.path(), &sources, |p| p.enabled = true);
    for source in &mut settings.sources {
        source.schedule = Schedule::Cron("* * * * * *".into());
    }
    let app = spawn_in(dir, settings).await;
    // Bounded wait: the fast source is polled every second, the slow one's first poll takes
    // 3.5 s while its cron keeps firing.
    let mut entries = 0;
    for _ in 0..100 {
        entries = app.feed("/feeds/all.atom").await.entries.len();
        if fast.total.load(Ordering::SeqCst) >= 3 && entries == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fast.total.load(Ordering::SeqCst) >= 3, "cron fired repeatedly");
    assert_eq!(entries, 2, "both sources' items arrived");
    assert!(slow.total.load(Ordering::SeqCst) >= 1);
    assert_eq!(slow.max_in_flight.load(Ordering::SeqCst), 1, "a source is never polled twice at once");
    app.stop().await;
}

#[tokio::test]
async fn serve_polls_every_source_at_start() {
    let server = serve_body("/feed", rss(&rss_item("a", "A", 20)), "application/rss+xml").await;
    let app = spawn_app_with(&[("src", format!("{}/feed", server.uri()))], |p| {
        p.every = Duration::from_secs(3600);
        p.enabled = true;
    })
    .await;
    let mut entries = 0;
    for _ in 0..50 {
        entries = app.feed("/feeds/all.atom").await.entries.len();
        if entries > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entries, 1);
    let status: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("json");
    let next = status[0]["next_poll"].as_str().expect("next poll scheduled");
    let next = chrono::DateTime::parse_from_rfc3339(next).expect("rfc3339");
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(59), "next poll an interval later: {next}");
    app.stop().await;
}
