//! `newsriver prune --source ID`: a source removed from the configuration leaves the store with
//! everything that referred to its items, through the running service (`POST /api/prune`) or
//! the store when the service is stopped; a story it stood for is shown by another outlet.

use crate::helpers::*;
use newsriver::prune::Pruned;
use std::collections::HashSet;

const TALKS: &str = "The third round of talks between the delegations of Caldoria and Veshtan on a durable \
    ceasefire will open on Monday in Port Alder, the ministry said, adding that both sides had agreed an \
    agenda covering verification of the truce line, the exchange of detained civilians and the reopening \
    of the river crossings to humanitarian convoys before the winter sets in across the region.";

fn item(guid: &str, link: &str, title: &str, body: &str, day: u32) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>{link}</link>\
         <description>&lt;p&gt;{body}&lt;/p&gt;</description><pubDate>{day:02} Nov 2026 10:00:00 +0000</pubDate></item>"
    )
}

/// Wire (a) and daily (b) carry the talks story, daily a day earlier (so its copy stands for
/// the story); daily has two harbour items of its own, wire one on the budget.
async fn feeds() -> (wiremock::MockServer, wiremock::MockServer) {
    let wire = rss(&(item("w1", "https://wire.example/talks", "Talks to open Monday", TALKS, 21)
        + &item("w2", "https://wire.example/budget", "Council passes budget", "The council passed the budget.", 22)));
    let daily = rss(&(item("d1", "https://daily.example/peace", "Peace talks resume in Port Alder", TALKS, 20)
        + &item(
            "d2",
            "https://daily.example/ferry",
            "New ferry for the harbour",
            "A ferry joins the harbour fleet.",
            23,
        )
        + &item("d3", "https://daily.example/dock", "Harbour dock repaired", "The old harbour dock reopened.", 24)));
    (serve_body("/feed", wire, "application/rss+xml").await, serve_body("/feed", daily, "application/rss+xml").await)
}

const TOPIC: &str = "[[topic]]\nid = \"port\"\ntitle = \"Port\"\nany = [\"harbour\", \"ceasefire\"]\n";

/// The item ids of a channel, read as a feed reader reads them.
async fn ids(app: &TestApp, path: &str) -> Vec<String> {
    app.feed(path).await.entries.iter().map(|e| e.id.trim_start_matches("urn:uuid:").to_owned()).collect()
}

async fn etag(app: &TestApp, path: &str) -> String {
    app.get(path).await.headers()["etag"].to_str().expect("etag").to_owned()
}

async fn prune_over_http(app: &TestApp, body: serde_json::Value) -> (u16, serde_json::Value) {
    let resp = app.client.post(format!("{}/api/prune", app.base)).json(&body).send().await.expect("prune request");
    (resp.status().as_u16(), resp.json().await.expect("json answer"))
}

/// Reloads the app on its settings without the sources `gone`.
async fn remove_sources(app: &TestApp, gone: &[&str]) -> newsriver::config::Settings {
    let mut s = app.settings();
    s.sources.retain(|x| !gone.contains(&x.id.as_str()));
    let s = write_config(&app.config_path(), &s);
    let resp = app.client.post(format!("{}/api/reload", app.base)).send().await.expect("reload");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    s
}

#[tokio::test]
async fn a_pruned_source_leaves_every_channel_and_its_story_is_shown_by_the_other_outlet() {
    let (wire, daily) = feeds().await;
    let sources = [("a", format!("{}/feed", wire.uri())), ("b", format!("{}/feed", daily.uri()))];
    let app = spawn_app_with_topics(&sources, TOPIC).await;
    app.poll_now().await;
    let b_items = ids(&app, "/sources/b.atom").await;
    let a_items = ids(&app, "/sources/a.atom").await;
    assert_eq!((b_items.len(), a_items.len()), (3, 2));
    let all = ids(&app, "/feeds/all.atom").await;
    let mut story = Vec::new();
    for k in &b_items {
        story = story_members(&app, k).await;
        if story.len() == 2 {
            break;
        }
    }
    // Polls run concurrently: either copy may have founded the story.
    let b_copy = story.iter().find(|k| b_items.contains(k)).cloned().expect("daily's copy");
    let a_copy = story.iter().find(|k| a_items.contains(k)).cloned().expect("wire's copy");
    assert!(all.contains(&b_copy), "daily's copy, the earlier, stands for the story");
    assert!(!all.contains(&a_copy), "wire's copy is listed under daily's");
    // A partner read everything before the prune, and keeps reading from there.
    let before = app.get("/feeds/all.json").await;
    let cursor = before.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();

    // Removed and restarted: daily's items are still served in the merged and topic channels.
    let mut s = app.settings();
    s.sources.retain(|x| x.id.as_str() != "b");
    let app = app.restart(s.clone()).await;
    assert!(ids(&app, "/feeds/all.atom").await.contains(&b_copy));
    let tags = [etag(&app, "/feeds/all.atom").await, etag(&app, "/topics/port.atom").await];
    let (status, answer) = prune_over_http(&app, serde_json::json!({ "sources": ["b"] })).await;
    assert_eq!(status, 200, "{answer}");
    let pruned: Pruned = serde_json::from_value(answer).expect("summary");
    assert_eq!((pruned.entries, pruned.stories_repointed, pruned.dry_run), (3, 1, false));
    assert!(pruned.channels.contains(&"topic:port".to_owned()), "{pruned:?}");

    let gone: HashSet<&String> = b_items.iter().collect();
    for path in ["/feeds/all.atom", "/feeds/all.rss", "/topics/port.atom", "/topics/port.json"] {
        let now = ids(&app, path).await;
        assert!(now.iter().all(|k| !gone.contains(k)), "{path} still shows a pruned item: {now:?}");
        assert!(now.contains(&a_copy), "{path}: wire's copy stands for the story now: {now:?}");
    }
    assert_eq!(app.get("/sources/b.atom").await.status(), 404, "the source is gone");
    for k in &b_items {
        assert_eq!(app.get(&format!("/api/entries/{k}")).await.status(), 404, "entry {k}");
    }
    assert_eq!(story_members(&app, &a_copy).await, std::slice::from_ref(&a_copy), "a story of one now");
    assert_ne!(etag(&app, "/feeds/all.atom").await, tags[0]);
    assert_ne!(etag(&app, "/topics/port.atom").await, tags[1]);
    let since: serde_json::Value =
        app.get(&format!("/feeds/all.json?since={cursor}")).await.json().await.expect("since page");
    let delivered: Vec<String> = since["items"].as_array().expect("items").iter().map(item_key).collect();
    assert_eq!(delivered, std::slice::from_ref(&a_copy), "the new primary is delivered again, no pruned item ever");

    let app = app.restart(s).await;
    app.poll_now().await;
    let all = ids(&app, "/feeds/all.atom").await;
    assert!(all.iter().all(|k| !gone.contains(k)) && all.contains(&a_copy), "{all:?}");
    assert_eq!(app.state.store.entry_count(), 2, "nothing came back");
    app.stop().await;
}

fn item_key(item: &serde_json::Value) -> String {
    item["id"].as_str().unwrap_or_default().trim_start_matches("urn:uuid:").to_owned()
}

/// The members of an item's story, as the story API lists them.
async fn story_members(app: &TestApp, key: &str) -> Vec<String> {
    let story: serde_json::Value = app.get(&format!("/api/stories/{key}")).await.json().await.expect("story json");
    let members = story["members"].as_array().cloned().unwrap_or_default();
    members.iter().filter_map(|m| m["key"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn a_configured_or_unknown_source_is_refused_and_a_dry_run_writes_nothing() {
    let (wire, daily) = feeds().await;
    let sources = [("a", format!("{}/feed", wire.uri())), ("b", format!("{}/feed", daily.uri()))];
    let app = spawn_app(&sources).await;
    app.poll_now().await;
    let (status, answer) = prune_over_http(&app, serde_json::json!({ "sources": ["b"] })).await;
    assert_eq!(status, 409, "{answer}");
    let said = answer["error"].as_str().unwrap_or_default();
    assert!(said.contains("still configured") && said.contains("remove it from the configuration"), "{said}");
    remove_sources(&app, &["b"]).await;
    let (status, answer) = prune_over_http(&app, serde_json::json!({ "sources": ["b", "nobody"] })).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"].as_str().unwrap_or_default().contains("nobody"), "{answer}");
    let (status, answer) = prune_over_http(&app, serde_json::json!({ "sources": ["../b"] })).await;
    assert_eq!(status, 400, "{answer}");
    let (count, tag) = (app.state.store.entry_count(), etag(&app, "/feeds/all.atom").await);
    let (status, answer) = prune_over_http(&app, serde_json::json!({ "sources": ["b"], "dry_run": true })).await;
    assert_eq!(status, 200, "{answer}");
    let dry: Pruned = serde_json::from_value(answer).expect("summary");
    assert_eq!((dry.dry_run, dry.entries, dry.stories_repointed), (true, 3, 1));
    assert_eq!(app.state.store.entry_count(), count, "a dry run removes nothing");
    assert_eq!(ids(&app, "/sources/b.atom").await.len(), 3);
    assert_eq!(etag(&app, "/feeds/all.atom").await, tag, "nor moves a channel");
    app.stop().await;
}

/// A third source (c) with two items of its own.
async fn third_feed() -> wiremock::MockServer {
    let body = rss(&(item("c1", "https://c.example/1", "Rail strike called", "Drivers walk out.", 20)
        + &item("c2", "https://c.example/2", "Rail strike ends", "Drivers return.", 21)));
    serve_body("/feed", body, "application/rss+xml").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_asks_the_running_service_and_opens_the_store_when_it_is_stopped() {
    let ((wire, daily), third) = (feeds().await, third_feed().await);
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [
        ("a", format!("{}/feed", wire.uri())),
        ("b", format!("{}/feed", daily.uri())),
        ("c", format!("{}/feed", third.uri())),
    ];
    let mut settings = test_settings(dir.path(), &sources, |_| {});
    settings.server.listen = ([127, 0, 0, 1], free_port()).into();
    let config = dir.path().join(CONFIG_FILE);
    let settings = write_config(&config, &settings);
    let store = settings.store.clone();
    let app = spawn_in(dir, settings).await;
    app.poll_now().await;
    remove_sources(&app, &["b", "c"]).await;
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || newsriver(&config, args))
    };
    let out = run(&["prune", "--source", "a"]).await.expect("join");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && err.contains("remove it from the configuration"), "{err}");
    let out = run(&["prune", "--source", "b"]).await.expect("join");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("by the service at http://127.0.0.1:"), "{said}");
    assert!(said.lines().any(|l| l.trim() == "entries removed: 3"), "{said}");
    assert_eq!(app.get("/sources/b.atom").await.status(), 404);

    let kept = app.stop_keeping_dir().await;
    let config = kept.path().join(CONFIG_FILE);
    let out = newsriver(&config, &["prune", "--source", "c", "--dry-run"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && said.starts_with("dry run, nothing written"), "{said}");
    assert!(said.lines().any(|l| l.trim() == "entries it would remove: 2"), "{said}");
    assert_eq!(stored_sources(&store), ["a", "c"], "the dry run wrote nothing");
    let out = newsriver(&config, &["prune", "--source", "nobody"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not known"));
    let out = newsriver(&config, &["prune", "--source", "c"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && said.contains("(service not running)"), "{said}");
    assert!(said.lines().any(|l| l.trim() == "entries removed: 2"), "{said}");
    assert_eq!(stored_sources(&store), ["a"]);
}

/// The sources with entries in the store the settings name, and each one's state.
fn stored_sources(settings: &newsriver::config::StoreSettings) -> Vec<String> {
    let store = newsriver::store::Store::open_settings(settings).expect("store");
    let mut out: Vec<String> = Vec::new();
    store
        .for_each_entry(|e| {
            if !out.contains(&e.source.to_string()) {
                out.push(e.source.to_string());
            }
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .expect("read");
    out.sort();
    for id in &out {
        let id = newsriver::domain::SourceId::parse(id).expect("id");
        assert!(store.source_state(&id).expect("read").is_some(), "{id} keeps its state while it has items");
    }
    out
}

#[tokio::test]
async fn the_admin_key_guards_pruning() {
    let (app, _feeds) = crate::partners::spawn_private(|_| {}).await;
    let url = format!("{}/api/prune", app.base);
    let ask = serde_json::json!({ "sources": ["gone"], "dry_run": true });
    assert_eq!(app.client.post(&url).json(&ask).send().await.expect("post").status(), 401);
    let with_key = app.client.post(&url).json(&ask).bearer_auth(crate::partners::ADMIN).send().await.expect("post");
    assert_eq!(with_key.status(), 404, "past the guard: a source the store does not know");
    app.stop().await;
}
