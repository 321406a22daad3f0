//! Being a good citizen, and being watchable: source hints stretch intervals, permanent
//! redirects are followed only once confirmed, one host's requests are spaced by its gap, and
//! `/metrics`, `/api/sources` and `newsriver sources` tell the operator what happened.

use crate::helpers::*;
use newsriver::config::HostLimits;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn status_of<'a>(statuses: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    statuses.iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no status for {id}"))
}

async fn statuses(app: &TestApp) -> Vec<serde_json::Value> {
    app.get("/api/sources").await.json().await.expect("status json")
}

#[tokio::test]
async fn ttl_and_cache_headers_stretch_the_interval_within_bounds() {
    let server = MockServer::start().await;
    let ttl_feed = String::from_utf8(rss(&rss_item("t1", "Ttl", 1)))
        .expect("utf-8")
        .replace("<description>d</description>", "<description>d</description><ttl>120</ttl>");
    Mock::given(path("/ttl"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(ttl_feed, "application/rss+xml"))
        .mount(&server)
        .await;
    let cached = ResponseTemplate::new(200)
        .set_body_raw(rss(&rss_item("c1", "Cached", 1)), "application/rss+xml")
        .insert_header("Cache-Control", "public, max-age=3600");
    Mock::given(path("/cached")).respond_with(cached).mount(&server).await;
    let forever = ResponseTemplate::new(200)
        .set_body_raw(rss(&rss_item("f1", "Forever", 1)), "application/rss+xml")
        .insert_header("Cache-Control", "max-age=31536000");
    Mock::given(path("/forever")).respond_with(forever).mount(&server).await;
    Mock::given(path("/plain"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(rss(&rss_item("p1", "Plain", 1)), "application/rss+xml"))
        .mount(&server)
        .await;
    let sources = ["ttl", "cached", "forever", "plain"].map(|id| (id, format!("{}/{id}", server.uri())));
    let app = spawn_app_with(&sources, |p| {
        p.every = Duration::from_secs(15 * 60);
        p.max_every = Duration::from_secs(12 * 3600);
    })
    .await;
    app.poll_now().await;
    let st = statuses(&app).await;
    let interval = |id: &str| status_of(&st, id)["interval_secs"].as_u64().expect("interval");
    assert_eq!(interval("ttl"), 7200, "{}", status_of(&st, "ttl")["interval_reason"]);
    assert!(status_of(&st, "ttl")["interval_reason"].as_str().is_some_and(|r| r.contains("asks for 2h")));
    assert_eq!(interval("cached"), 3600);
    assert_eq!(interval("forever"), 12 * 3600, "capped at max_every");
    assert!(status_of(&st, "forever")["interval_reason"].as_str().is_some_and(|r| r.contains("max_every")));
    assert_eq!(interval("plain"), 900);
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_redirect_is_followed_once_confirmed_and_a_temporary_one_never() {
    let server = MockServer::start().await;
    let moved = |to: &str, code| ResponseTemplate::new(code).insert_header("Location", to);
    Mock::given(path("/old")).respond_with(moved("/new", 301)).mount(&server).await;
    Mock::given(path("/temp")).respond_with(moved("/new", 302)).mount(&server).await;
    Mock::given(path("/new"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(rss(&rss_item("n1", "Moved", 1)), "application/rss+xml"))
        .mount(&server)
        .await;
    let sources = [("moved", format!("{}/old", server.uri())), ("temp", format!("{}/temp", server.uri()))];
    let app = spawn_app_with(&sources, |p| p.redirect_confirmations = 3).await;
    for round in 1..=3 {
        app.poll_now().await;
        let st = statuses(&app).await;
        let moved = status_of(&st, "moved");
        if round < 3 {
            assert_eq!(moved["effective_url"], format!("{}/old", server.uri()), "round {round}: not yet");
            assert!(moved["redirect_pending"].as_str().is_some_and(|p| p.contains(&format!("seen {round} times"))));
        } else {
            assert_eq!(moved["effective_url"], format!("{}/new", server.uri()), "confirmed after 3 polls");
        }
    }
    app.poll_now().await;
    let requests = server.received_requests().await.unwrap_or_default();
    let old_hits = |p: &str| requests.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(old_hits("/old"), 3, "after the move the old URL is not asked again");
    assert_eq!(old_hits("/temp"), 4, "a temporary redirect never moves the source");
    let st = statuses(&app).await;
    assert_eq!(status_of(&st, "temp")["effective_url"], format!("{}/temp", server.uri()));
    assert_eq!(app.all_entries().len(), 1, "both reach the same item once");
    app.stop().await;
}

#[tokio::test]
async fn requests_to_one_host_keep_the_configured_gap() {
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let t = times.clone();
    let handler = move || {
        let t = t.clone();
        async move {
            t.lock().expect("lock").push(Instant::now());
            ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], rss(&rss_item("g", "Gap", 1)))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(axum::routing::get(handler))).await });
    let sources: Vec<(&str, String)> = ["a", "b", "c", "d"].iter().map(|id| (*id, format!("{base}/{id}"))).collect();
    let app = spawn_app_with(&sources, |p| {
        p.hosts.insert("127.0.0.1".into(), HostLimits { concurrency: 4, min_gap: Duration::from_millis(300) });
    })
    .await;
    let start = Instant::now();
    app.poll_now().await;
    let mut seen = times.lock().expect("lock").clone();
    seen.sort();
    assert_eq!(seen.len(), 4);
    // Times are taken where requests arrive, never before they were sent; gaps between arrivals
    // would judge a late arrival (a busy machine) as a short gap. The k-th request may not be sent
    // before k gaps have passed, so the k-th arrival cannot come sooner either.
    for (k, at) in seen.iter().enumerate() {
        let after = *at - start;
        assert!(after >= Duration::from_millis(300) * k as u32, "request {k} arrived {after:?} after the poll began");
    }
    app.stop().await;
}

#[tokio::test]
async fn metrics_and_the_sources_table_report_what_happened() {
    let good =
        serve_body("/feed", rss(&(rss_item("m1", "One", 1) + &rss_item("m2", "Two", 2))), "application/rss+xml").await;
    let broken = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&broken).await;
    let sources = [("good", format!("{}/feed", good.uri())), ("broken", format!("{}/feed", broken.uri()))];
    let app = spawn_app(&sources).await;
    app.poll_now().await;
    app.poll_now().await;
    app.feed("/feeds/all.atom").await;
    app.feed("/feeds/all.atom").await;
    if have_metrics_parser() {
        let m = metrics_of(app.get("/metrics").await).await;
        let polls = |outcome| m.get("newsriver_polls_total", &[("outcome", outcome)]);
        assert_eq!(polls("ok"), 1.0);
        assert_eq!(polls("unchanged"), 1.0, "same body, no validators");
        assert_eq!(polls("transient_error"), 2.0);
        assert_eq!(m.get("newsriver_fetch_duration_seconds_count", &[]), 4.0);
        assert_eq!(m.get("newsriver_entries_new_total", &[]), 2.0);
        assert_eq!(m.get("newsriver_source_failure_streak", &[("source", "broken")]), 2.0);
        assert_eq!(m.get("newsriver_source_failure_streak", &[("source", "good")]), 0.0);
        assert_eq!(m.get("newsriver_channel_requests_total", &[]), 2.0);
        assert_eq!(m.get("newsriver_channel_cache_hits_total", &[]), 1.0, "the second request is a cache hit");
        assert!(m.get("newsriver_store_size_bytes", &[]) > 0.0);
        assert!(m.get("newsriver_fetched_bytes_total", &[]) > 0.0);
    }
    // The config file the app was started from, written from its settings.
    let config = app.config_path();
    let _dir = app.stop_keeping_dir().await;
    // The service is down: `newsriver sources` reads the store.
    let table = sources_table(&config);
    let row = |id: &str| {
        table.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("no row {id} in\n{table}")).to_owned()
    };
    assert!(row("good").contains(" ok ") && row("good").contains("200"), "{table}");
    assert!(row("broken").contains("failing") && row("broken").contains("HTTP 500"), "{table}");
}

#[tokio::test]
async fn retry_after_outlives_a_restart() {
    let server = MockServer::start().await;
    let busy = ResponseTemplate::new(429).insert_header("Retry-After", "900");
    Mock::given(method("GET")).respond_with(busy).mount(&server).await;
    let sources = [("busy", format!("{}/feed", server.uri()))];
    let app = spawn_app_with(&sources, |p| p.every = Duration::from_secs(60)).await;
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "busy").retry_after, Some(Duration::from_secs(900)));
    let mut settings = app.settings();
    settings.polling.enabled = true;
    let app = app.restart(settings).await;
    let st = statuses(&app).await;
    let busy = status_of(&st, "busy");
    let next: chrono::DateTime<chrono::Utc> = busy["next_poll"].as_str().expect("next poll").parse().expect("time");
    let wait = (next - chrono::Utc::now()).num_seconds();
    assert!(wait >= 850, "the restarted poller still waits for Retry-After: next poll in {wait}s");
    assert_eq!(busy["state"], "backing off");
    assert!(busy["retry_not_before"].is_string());
    app.stop().await;
}
