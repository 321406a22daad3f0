//! The HTTP surface, read by real clients: feed-rs parses every channel back.

use crate::helpers::*;
use std::collections::HashSet;

async fn app_with_two_sources() -> (TestApp, wiremock::MockServer, wiremock::MockServer) {
    let a =
        serve_body("/feed", rss(&(rss_item("a1", "A one", 20) + &rss_item("a2", "A two", 23))), "application/rss+xml")
            .await;
    let b = serve_body("/feed", read_fixture("feeds/atom/relative_links.xml"), "application/atom+xml").await;
    let app = spawn_app(&[("alpha", format!("{}/feed", a.uri())), ("beta", format!("{}/feed", b.uri()))]).await;
    app.poll_now().await;
    (app, a, b)
}

#[tokio::test]
async fn merged_feed_parses_back_newest_first_in_every_format() {
    let (app, _a, _b) = app_with_two_sources().await;
    let want = ["Port strike ends after talks", "Grain estimate raised", "A two", "A one"];
    let mut ids_by_format = Vec::new();
    for (path, ctype) in [
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.headers()["content-type"], ctype, "{path}");
        let feed = app.feed(path).await;
        let titles: Vec<String> =
            feed.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect();
        assert_eq!(titles, want, "{path}");
        let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{path}: unique ids");
        assert!(ids.iter().all(|i| i.starts_with("urn:uuid:")), "{path}: {ids:?}");
        if path != "/feeds/all.json" {
            let self_link = feed.links.iter().find(|l| l.rel.as_deref() == Some("self")).map(|l| l.href.clone());
            assert_eq!(self_link, Some(format!("{PUBLIC_URL}{path}")), "{path}");
        }
        ids_by_format.push(ids);
    }
    assert!(ids_by_format.windows(2).all(|w| w[0] == w[1]), "the same ids in every format");
    app.stop().await;
}

#[tokio::test]
async fn limit_per_source_channels_and_errors() {
    let (app, _a, _b) = app_with_two_sources().await;
    assert_eq!(app.feed("/feeds/all.atom?limit=2").await.entries.len(), 2);
    for bad in
        ["/feeds/all.atom?limit=0", "/feeds/all.atom?limit=-3", "/feeds/all.atom?limit=x", "/feeds/all.atom?limit="]
    {
        assert_eq!(app.get(bad).await.status(), 400, "{bad}");
    }
    // Above the cap (server.max_items 500, or a topic's max_items) serves the cap.
    for over in ["501", "99999999999999999999999"] {
        let feed = app.feed(&format!("/feeds/all.atom?limit={over}")).await;
        let self_link = feed.links.iter().find(|l| l.rel.as_deref() == Some("self")).map(|l| l.href.clone());
        assert_eq!(self_link, Some(format!("{PUBLIC_URL}/feeds/all.atom?limit=500")), "{over}");
    }
    let alpha = app.feed("/sources/alpha.rss").await;
    assert_eq!(alpha.entries.len(), 2);
    let missing = [
        "/feeds/none.atom",
        "/feeds/all.txt",
        "/feeds/all.html",
        "/sources/nobody.atom",
        "/sources/Not%20a%20slug.rss",
        "/topics/alpha.rss",
        "/elsewhere/all.atom",
        "/nope",
        "/api/entries/zzz",
    ];
    for missing in missing {
        let resp = app.get(missing).await;
        assert_eq!(resp.status(), 404, "{missing}");
        let body: serde_json::Value = resp.json().await.expect("json error body");
        assert!(body["error"].is_string(), "{missing}");
    }
    let key = app.all_entries()[0].key;
    let entry: serde_json::Value = app.get(&format!("/api/entries/{key}")).await.json().await.expect("json");
    assert_eq!(entry["title"], "Port strike ends after talks");
    let index = app.get("/").await.text().await.expect("html");
    assert!(index.contains(r#"href="sources/alpha.atom""#) && index.contains(r#"href="feeds/all.rss""#));
    app.stop().await;
}

#[tokio::test]
async fn status_api_and_health() {
    let (app, _a, _b) = app_with_two_sources().await;
    let health: serde_json::Value = app.get("/healthz").await.json().await.expect("json");
    assert_eq!((health["status"].as_str(), health["entries"].as_u64()), (Some("ok"), Some(4)));
    let status: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("json");
    assert_eq!(status.len(), 2);
    for s in &status {
        assert_eq!(s["outcome"], "ok");
        assert!(s["last_poll"].is_string() && s["url"].as_str().is_some_and(|u| u.starts_with("http://127.0.0.1")));
        assert_eq!(s["entry_count"], 2);
    }
    app.stop().await;
}
