//! Configuration without restarts: the config file of a running app is rewritten and reloaded
//! (`POST /api/reload`, SIGHUP and `newsriver reload` on the real binary); sources and topics
//! come, go and change, a broken file changes nothing, and a poll in flight finishes as it began.

use crate::helpers::*;
use newsriver::reload::{Answer, Changes};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `n` items whose titles say `word`, guids `{prefix}-{i}`.
fn items(prefix: &str, word: &str, n: usize) -> Vec<u8> {
    let items: String = (0..n)
        .map(|i| {
            format!(
                "<item><title>{word} item {prefix} {i}</title><guid>{prefix}-{i}</guid><link>https://fixture.example/{prefix}/{i}</link>\
                 <description>{word} {prefix} body number {i}</description><pubDate>Mon, 0{} Mar 2026 10:00:00 GMT</pubDate></item>",
                1 + i % 9
            )
        })
        .collect();
    rss(&items)
}

async fn feed_server(routes: &[(&str, Vec<u8>)]) -> MockServer {
    let server = MockServer::start().await;
    for (route, body) in routes {
        mount(&server, route, 200, body.clone(), "application/rss+xml").await;
    }
    server
}

async fn reload(app: &TestApp) -> (u16, Answer) {
    let resp = app.client.post(format!("{}/api/reload", app.base)).send().await.expect("reload");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("reload answer"))
}

fn applied(answer: Answer) -> Changes {
    match answer {
        Answer::Applied(c) => c,
        Answer::Invalid(p) => panic!("reload refused: {p:?}"),
    }
}

async fn health(app: &TestApp) -> serde_json::Value {
    app.get("/healthz").await.json().await.expect("healthz json")
}

/// Titles of a channel's items, read as a reader reads them.
async fn titles(app: &TestApp, channel: &str) -> Vec<String> {
    let feed = app.feed(channel).await;
    feed.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect()
}

#[tokio::test]
async fn sources_and_topics_added_removed_and_changed_under_a_running_app() {
    let server = feed_server(&[
        ("/a", items("a", "harbour", 3)),
        ("/a2", items("a2", "harbour", 2)),
        ("/b", items("b", "rail", 3)),
        ("/c", items("c", "harbour", 6)),
    ])
    .await;
    let base = server.uri();
    let app =
        spawn_app_with(&[("a", format!("{base}/a")), ("b", format!("{base}/b"))], |p| p.initial_items = 1000).await;
    assert_eq!(app.poll_now().await.len(), 2);
    let mut s = app.settings();
    s.sources.retain(|x| x.id.as_str() != "b");
    s.sources[0].url =
        newsriver::domain::FeedUrl::parse(&format!("{base}/a2"), std::path::Path::new(".")).expect("url");
    let mut c = s.sources[0].clone();
    c.id = newsriver::domain::SourceId::parse("c").expect("id");
    c.url = newsriver::domain::FeedUrl::parse(&format!("{base}/c"), std::path::Path::new(".")).expect("url");
    c.initial_items = 2;
    s.sources.push(c);
    write_config(&app.config_path(), &s);
    std::fs::write(
        app.config_path(),
        std::fs::read_to_string(app.config_path()).expect("config")
            + "\n[[topic]]\nid = \"port\"\ntitle = \"Port\"\nany = [\"harbour\"]\n",
    )
    .expect("write");
    let (status, answer) = reload(&app).await;
    assert_eq!(status, 200);
    let changes = applied(answer);
    assert_eq!(changes.sources_added, ["c"]);
    assert_eq!(changes.sources_removed, ["b"]);
    assert_eq!(changes.sources_changed, ["a"]);
    assert_eq!(changes.topics_added, ["port"]);
    assert!(changes.rerouting && changes.needs_restart.is_empty(), "{changes:?}");

    let b_hits = hits(&server, "/b").await;
    let reports = app.poll_now().await;
    let polled: Vec<&str> = reports.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(polled, ["a", "c"], "the removed source is not polled, the added one is");
    assert_eq!(report(&reports, "a").url, format!("{base}/a2"), "the changed URL is polled");
    assert_eq!((hits(&server, "/a").await, hits(&server, "/a2").await), (1, 1));
    assert_eq!(hits(&server, "/b").await, b_hits, "no request to the removed source");

    // The new source entered the channels with its initial items only: no flood.
    let merged = titles(&app, "/feeds/all.rss").await;
    assert_eq!(merged.iter().filter(|t| t.contains(" item c ")).count(), 2, "{merged:?}");
    // The removed source's items are still stored and served, in its channel and the merged one.
    assert_eq!(titles(&app, "/sources/b.rss").await.len(), 3);
    assert_eq!(merged.iter().filter(|t| t.contains(" item b ")).count(), 3);
    // The new topic's channel exists, and stored items are re-routed into it in the background.
    let mut port = Vec::new();
    for _ in 0..100 {
        port = titles(&app, "/topics/port.rss").await;
        if port.iter().any(|t| t.contains(" item a ")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(port.iter().any(|t| t.contains(" item a ")), "items stored before the topic existed: {port:?}");
    assert!(port.iter().all(|t| t.starts_with("harbour")), "{port:?}");
    let sources: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("json");
    assert!(sources.iter().any(|x| x["id"] == "c"));
    app.stop().await;
}

#[tokio::test]
async fn a_broken_config_changes_nothing_and_is_shown_until_a_valid_one_loads() {
    let server = feed_server(&[("/a", items("a", "harbour", 2))]).await;
    let app = spawn_app(&[("a", format!("{}/a", server.uri()))]).await;
    let good = std::fs::read_to_string(app.config_path()).expect("config");
    let broken = format!("{good}\n[[source]]\nid = \"bad\"\nurl = \"ftp://example.org/feed\"\n[[topic]]\nid = \"t\"\nsources = [\"nowhere\"]\n");
    std::fs::write(app.config_path(), &broken).expect("write");
    let (status, answer) = reload(&app).await;
    assert_eq!(status, 422);
    let Answer::Invalid(problems) = answer else { panic!("accepted a broken config") };
    assert!(problems.iter().any(|p| p.starts_with("source[1].url: ")), "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("topic[0].sources")), "{problems:?}");
    let h = health(&app).await;
    assert_eq!(h["status"], "ok");
    let shown: Vec<String> = serde_json::from_value(h["config_error"].clone()).expect("config_error list");
    assert_eq!(shown, problems);
    // The old configuration runs on: its source is polled, the broken one is not there.
    let reports = app.poll_now().await;
    assert_eq!(reports.iter().map(|r| r.source.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(app.get("/sources/bad.rss").await.status(), 404);
    std::fs::write(app.config_path(), &good).expect("write");
    let (status, answer) = reload(&app).await;
    assert_eq!(status, 200);
    assert!(applied(answer).is_empty());
    assert!(health(&app).await.get("config_error").is_none(), "cleared by a valid config");
    app.stop().await;
}

#[tokio::test]
async fn a_poll_in_flight_finishes_under_its_settings_and_runs_once() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_raw(items("old", "harbour", 2), "application/rss+xml")
        .set_delay(Duration::from_millis(1500));
    Mock::given(method("GET")).and(path("/old")).respond_with(slow).mount(&server).await;
    mount(&server, "/new", 200, items("new", "harbour", 2), "application/rss+xml").await;
    let app = spawn_app_with(&[("a", format!("{}/old", server.uri()))], |p| p.initial_items = 1000).await;
    let poller = app.poller.clone();
    let first = tokio::spawn(async move { poller.poll_all(&Default::default(), |_| {}).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status_of(&app, "a").await["state"], "polling");
    let mut s = app.settings();
    s.sources[0].url =
        newsriver::domain::FeedUrl::parse(&format!("{}/new", server.uri()), std::path::Path::new(".")).expect("url");
    write_config(&app.config_path(), &s);
    let (status, answer) = reload(&app).await;
    assert_eq!((status, applied(answer).sources_changed), (200, vec!["a".to_owned()]));
    // While it is in flight, the source is not polled again (not even under its new URL).
    assert!(app.poll_now().await.is_empty(), "a source in flight is skipped");
    let reports = first.await.expect("poll");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].url, format!("{}/old", server.uri()), "finished under the settings it started with");
    assert_eq!(reports[0].summary.new, 2, "and committed");
    assert_eq!(report(&app.poll_now().await, "a").url, format!("{}/new", server.uri()));
    assert_eq!((hits(&server, "/old").await, hits(&server, "/new").await), (1, 1), "no poll ran twice");
    let stored: Vec<String> = app.source_entries("a").iter().map(|e| e.title.clone()).collect();
    assert_eq!(stored.len(), 4, "{stored:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_admin_key_guards_reloads() {
    let (app, _feeds) = crate::partners::spawn_private(|_| {}).await;
    let url = format!("{}/api/reload", app.base);
    assert_eq!(app.client.post(&url).send().await.expect("post").status(), 401);
    let with_key = app.client.post(&url).bearer_auth(crate::partners::ADMIN).send().await.expect("post");
    assert_eq!(with_key.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_and_the_reload_command_reach_the_real_service() {
    let server = feed_server(&[("/s0", items("s0", "harbour", 2)), ("/s1", items("s1", "rail", 2))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[("s0", format!("{}/s0", server.uri()))], |p| p.enabled = true);
    settings.server.listen = ([127, 0, 0, 1], free_port()).into();
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    let mut served = Served::start(&config);
    served.expect_line("source=s0").await;
    let mut with_s1 = settings.clone();
    with_s1
        .sources
        .push(test_settings(dir.path(), &[("s1", format!("{}/s1", server.uri()))], |_| {}).sources[0].clone());
    write_config(&config, &with_s1);
    served.signal("-HUP");
    let reloaded = served.expect_line("configuration reloaded").await;
    assert!(reloaded.contains("sources_added=s1"), "{reloaded}");
    served.expect_line("source=s1").await;

    // A broken file: `reload` fails and names the problem; `sources` shows it above the table.
    let good = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{good}\n[[source]]\nid = \"s2\"\nurl = \"ftp://example.org/x\"\n"))
        .expect("write");
    let out = newsriver(&config, &["reload"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.lines().any(|l| l.trim().starts_with("source[2].url: ")), "{err}");
    let out = newsriver(&config, &["sources"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("config_error:"), "{table}");
    assert!(lines.iter().any(|l| l.split_whitespace().next() == Some("s1")), "{table}");
    std::fs::write(&config, &good).expect("write");
    let out = newsriver(&config, &["reload"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    let out = newsriver(&config, &["sources"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("config_error"));
    served.signal("-TERM");
    let mut child = served.detach();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").expect("wait");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_fetchers_limits_take_effect_at_a_reload() {
    let server = feed_server(&[("/big", items("big", "harbour", 20))]).await;
    let app = spawn_app_with(&[("big", format!("{}/big", server.uri()))], |p| {
        p.max_body = 1024;
        p.initial_items = 1000;
    })
    .await;
    let first = app.poll_now().await;
    assert_eq!(report(&first, "big").outcome, newsriver::domain::FetchOutcome::PermanentError, "{first:?}");
    assert!(titles(&app, "/sources/big.rss").await.is_empty());

    let mut s = app.settings();
    (s.polling.max_body, s.polling.concurrency, s.polling.host_defaults.concurrency) = (1 << 20, 3, 1);
    write_config(&app.config_path(), &s);
    let (status, answer) = reload(&app).await;
    assert_eq!(status, 200);
    let changes = applied(answer);
    assert!(changes.needs_restart.is_empty(), "{changes:?}");
    for key in ["polling.concurrency", "polling.max_body", "polling.per_host"] {
        assert!(changes.settings_changed.iter().any(|k| k == key), "{key} took effect: {changes:?}");
    }
    let second = app.poll_now().await;
    assert_eq!(report(&second, "big").outcome, newsriver::domain::FetchOutcome::Ok, "{second:?}");
    assert_eq!(titles(&app, "/sources/big.rss").await.len(), 20, "the larger cap lets the feed in");
}
