//! `newsriver copy-store`: a store with stories, events, a topic, a WebSub subscription and
//! full-text articles goes sled → PostgreSQL → sled; every channel in every format (each parsed
//! by its reader) and every API document is the same before and after each copy, and a `since`
//! cursor taken before the copies continues where it stopped. A non-empty target is refused
//! without `--force`; the database password is never printed. Skipped loudly without PostgreSQL.

use crate::event_channels::{spawn_events_app, OUTLETS};
use crate::helpers::postgres::TEST_PASSWORD;
use crate::helpers::*;
use newsriver::config::Settings;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const FORMATS: [&str; 5] = [".rss", ".atom", ".json", ".ninjs", ""];

/// A loopback site: a feed at `/feed` whose one item's article page is at `/a/graph`.
async fn article_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let b = base.clone();
    let handler = move |uri: axum::http::Uri| {
        let b = b.clone();
        async move {
            use axum::http::header::CONTENT_TYPE;
            match uri.path() {
                "/feed" => {
                    let item = format!(
                        "<item><guid>graph</guid><title>Council adopts budget</title><link>{b}/a/graph</link>\
                         <description>Teaser.</description><pubDate>Thu, 07 Dec 2023 09:00:00 +0000</pubDate></item>"
                    );
                    ([(CONTENT_TYPE, "application/rss+xml")], rss(&item))
                }
                _ => ([(CONTENT_TYPE, "text/html; charset=utf-8")], read_fixture("articles/json-ld.html")),
            }
        }
    };
    let router = axum::Router::new().fallback(axum::routing::get(handler));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Every document the store's state shows in: each channel in each format (parsed as its
/// readers parse it, and kept as bytes), the source and subscription lists, every item, story
/// and event document, and `/healthz`'s entry count.
async fn documents(app: &TestApp) -> BTreeMap<String, Vec<u8>> {
    let settings = app.settings();
    let mut channels = vec!["/feeds/all".to_owned()];
    channels.extend(settings.topics.iter().map(|t| format!("/topics/{}", t.id)));
    channels.extend(settings.sources.iter().map(|s| format!("/sources/{}", s.id)));
    let mut out = BTreeMap::new();
    for ch in &channels {
        for f in FORMATS {
            let path = format!("{ch}{f}");
            let body = body_of(app, &path).await;
            match f {
                ".rss" | ".atom" => drop(feed_rs::parser::parse(body.as_slice()).expect("feed parses")),
                ".json" | ".ninjs" => drop(serde_json::from_slice::<Value>(&body).expect("JSON parses")),
                _ => assert!(body.starts_with(b"<!DOCTYPE html>") || body.starts_with(b"<!doctype html>"), "{path}"),
            }
            out.insert(path, body);
        }
    }
    for path in ["/api/sources", "/api/subscriptions"] {
        let doc: Value = serde_json::from_slice(&body_of(app, path).await).expect("JSON");
        out.insert(path.to_owned(), serde_json::to_vec(&stored_part(doc)).expect("json"));
    }
    let health: Value = serde_json::from_slice(&body_of(app, "/healthz").await).expect("JSON");
    out.insert("/healthz entries".into(), health["entries"].to_string().into_bytes());
    for path in item_documents(app) {
        out.insert(path.clone(), body_of(app, &path).await);
    }
    out
}

async fn body_of(app: &TestApp, path: &str) -> Vec<u8> {
    let resp = app.client.get(format!("{}{path}", app.base)).bearer_auth(crate::partners::ADMIN).send().await;
    let resp = resp.expect("request");
    assert_eq!(resp.status(), 200, "{path}");
    resp.bytes().await.expect("body").to_vec()
}

/// `/api/sources` without what the running process alone knows (how many polls it ran since it
/// started; on sled, which instance polled and when): the rest comes from the store.
fn stored_part(mut doc: Value) -> Value {
    if let Some(list) = doc.as_array_mut() {
        for s in list.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["polls_since_start", "polled_by", "polled_at", "lease"] {
                s.remove(key);
            }
        }
    }
    doc
}

/// Every stored item's, story's and event's API document path.
fn item_documents(app: &TestApp) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for s in app.settings().sources {
        for e in app.source_entries(s.id.as_str()) {
            paths.insert(format!("/api/entries/{}", e.key));
            if let Some(story) = e.story {
                paths.insert(format!("/api/stories/{story}"));
            }
            if let Some(event) = &e.event {
                paths.insert(format!("/api/events/{}", event.id));
            }
        }
    }
    paths
}

/// `since` pages of the merged channel from `cursor` to the end: item ids, and the end cursor.
async fn since_from(app: &TestApp, mut cursor: String) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    loop {
        let resp = app.get(&format!("/feeds/all.json?since={cursor}&limit=2")).await;
        assert_eq!(resp.status(), 200);
        cursor = resp.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
        let doc: Value = resp.json().await.expect("json");
        let items = doc["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return (ids, cursor);
        }
        ids.extend(items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)));
    }
}

fn copy_store(config: &Path, args: &[&str]) -> (bool, String) {
    let out = newsriver(config, &[&["copy-store"], args].concat());
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!said.contains(TEST_PASSWORD), "the password was shown: {said}");
    (out.status.success(), said)
}

/// Runs an app on `settings` with its store moved to `store` (a database, or a sled folder).
async fn app_on(settings: &Settings, pg: Option<&newsriver::config::PostgresSettings>) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings.clone();
    settings.store.path = dir.path().join("store");
    settings.store.postgres = pg.cloned();
    spawn_in(dir, settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_goes_to_postgres_and_back_with_every_document_the_same() {
    let Some(pg) = fresh_postgres() else { return };
    let site = article_site().await;
    let feed = ItemFeed::start().await;
    feed.add(&["x1", "x2", "x3"]);
    let (app, _servers) = spawn_events_app(|dir, s| {
        s.store.postgres = None;
        s.polling.allow_hosts = vec!["127.0.0.1".into()];
        let mut courier = s.sources[0].clone();
        (courier.id, courier.url, courier.full_text) = (
            newsriver::domain::SourceId::parse("courier").expect("slug"),
            parse_url(&format!("{site}/feed"), dir),
            true,
        );
        courier.title = "Courier".into();
        let mut extra = s.sources[0].clone();
        (extra.id, extra.url) = (newsriver::domain::SourceId::parse("extra").expect("slug"), parse_url(&feed.url, dir));
        extra.title = "Extra".into();
        s.sources.extend([courier, extra]);
        add_topics(dir, s, &format!("[[topic]]\nid = \"quakes\"\ntitle = \"Quakes\"\nsources = {OUTLETS:?}\n"));
    })
    .await;
    assert!(app.source_entries("courier").iter().any(|e| e.article.is_some()), "the store has an article");
    assert!(
        app.settings().topics.iter().any(|t| !app
            .state
            .store
            .latest(&newsriver::domain::ChannelId::Topic(t.id.clone()), 1)
            .expect("read")
            .is_empty()),
        "the topic has items"
    );
    let sub = Subscriber::start().await;
    crate::websub::subscribe(&app, &sub, "reader", "/feeds/all.atom", &[]).await;
    let (first, cursor) = {
        let resp = app.get("/feeds/all.json?since=0&limit=3").await;
        let cursor = resp.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
        (resp.json::<Value>().await.expect("json")["items"].as_array().expect("items").len(), cursor)
    };
    assert_eq!(first, 3);
    let before = documents(&app).await;
    assert!(before.keys().any(|k| k.starts_with("/api/events/")), "the store has events");
    assert!(before.keys().any(|k| k.starts_with("/api/stories/")), "the store has stories");
    let subscriptions: Value = serde_json::from_slice(&before["/api/subscriptions"]).expect("json");
    assert_eq!(subscriptions.as_array().map(Vec::len), Some(1), "the store has a subscription");
    let (rest, _) = since_from(&app, cursor.clone()).await;
    let settings = app.settings();
    let dir = app.stop_keeping_dir().await;
    let config = dir.path().join(CONFIG_FILE);
    let url = pg.url.expose().to_owned();

    let (ok, said) = copy_store(&config, &["--to", &url]);
    assert!(ok && said.contains("copied "), "{said}");
    let on_pg = app_on(&settings, Some(&pg)).await;
    compare(&before, &documents(&on_pg).await, "on PostgreSQL");
    assert_eq!(since_from(&on_pg, cursor.clone()).await.0, rest, "the cursor continues on PostgreSQL");
    on_pg.stop().await;

    let (ok, said) = copy_store(&config, &["--to", &url]);
    assert!(!ok && said.contains("already holds"), "a non-empty target is refused: {said}");
    let (ok, said) = copy_store(&config, &["--to", &url, "--force"]);
    assert!(ok && said.contains("replaced"), "{said}");

    let back = tempfile::tempdir().expect("tempdir");
    let sled_path = back.path().join("store");
    let (ok, said) = copy_store(&config, &["--from", &url, "--to", &sled_path.display().to_string()]);
    assert!(ok, "{said}");
    let mut again = settings.clone();
    again.store.path = sled_path;
    again.store.postgres = None;
    let on_sled = spawn_in(back, again).await;
    compare(&before, &documents(&on_sled).await, "back on sled");
    let (tail, end) = since_from(&on_sled, cursor).await;
    assert_eq!(tail, rest, "the cursor continues back on sled");
    feed.add(&["x4"]);
    on_sled.poll_now().await;
    let (new, _) = since_from(&on_sled, end).await;
    assert_eq!(new.len(), 1, "a new item after the copies follows the copied change log: {new:?}");
    on_sled.stop().await;
}

fn parse_url(url: &str, dir: &Path) -> newsriver::domain::FeedUrl {
    newsriver::domain::FeedUrl::parse(url, dir).expect("url")
}

fn compare(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "the same documents {what}");
    for (path, body) in before {
        assert!(
            &after[path] == body,
            "{path} differs {what}:\n{}\n---\n{}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&after[path])
        );
    }
}
