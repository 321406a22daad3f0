//! WebSub subscriptions to private channels: the partner's key travels as `hub.key` or in the
//! `Authorization` header, is checked exactly as a reader's `GET` is, and what is pushed to it is
//! counted as that partner's.

use crate::helpers::*;
use crate::partners::{partner, ADMIN, AGENCY, PLANET};
use crate::websub::{post_hub, subscribe, topic};
use newsriver::domain::{ChannelId, Grant, KeyDigest, SourceId};
use std::time::Duration;

const PRIVATE: &str = "/sources/s.atom";

/// An app whose source `s` (the feed) is private, read by `planet` (granted `s`) but not by
/// `agency` (granted only the public `elsewhere`).
async fn private_hub(feed: &ItemFeed, public: &ItemFeed) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [("s", feed.url.clone()), ("elsewhere", public.url.clone())];
    let mut settings = test_settings(dir.path(), &sources, |p| p.initial_items = 1000);
    settings.sources[0].private = true;
    let s = ChannelId::Source(SourceId::parse("s").expect("slug"));
    let other = ChannelId::Source(SourceId::parse("elsewhere").expect("slug"));
    settings.partners = vec![
        partner("planet", PLANET, Grant::Channels(vec![s]), None),
        partner("agency", AGENCY, Grant::Channels(vec![other]), None),
    ];
    settings.server.admin_key_sha256 = Some(KeyDigest::of_key(ADMIN));
    spawn_in(dir, settings).await
}

async fn denied(app: &TestApp, sub: &Subscriber, name: &str, extra: &[(&str, &str)]) {
    let (cb, t) = (sub.callback(name), topic(PRIVATE));
    let mut pairs = vec![("hub.callback", cb.as_str()), ("hub.mode", "subscribe"), ("hub.topic", t.as_str())];
    pairs.extend_from_slice(extra);
    assert_eq!(post_hub(app, &pairs).await.status(), 202, "answered at once, decided at the callback");
    let v = sub.until("the denial", |s| s.verifications(name).first().cloned()).await;
    assert_eq!(v["hub.mode"], "denied", "{name}: {v:?}");
    assert!(!v.contains_key("hub.challenge"), "a denial asks nothing");
}

async fn pushed_to(app: &TestApp, id: &str) -> u64 {
    let resp = app.client.get(format!("{}/api/partners", app.base)).bearer_auth(ADMIN).send().await.expect("get");
    let all: Vec<serde_json::Value> = resp.json().await.expect("json");
    all.iter().find(|p| p["id"] == id).and_then(|p| p["items_pushed"].as_u64()).expect("the partner is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_channels_are_pushed_only_to_keys_that_grant_them() {
    let feed = ItemFeed::start().await;
    feed.add(&["a"]);
    let public = ItemFeed::start().await;
    let app = private_hub(&feed, &public).await;
    app.poll_now().await;
    let sub = Subscriber::start().await;
    denied(&app, &sub, "anonymous", &[]).await;
    denied(&app, &sub, "unknown-key", &[("hub.key", "nrp_no-such-key")]).await;
    denied(&app, &sub, "not-granted", &[("hub.key", AGENCY)]).await;
    subscribe(&app, &sub, "by-param", PRIVATE, &[("hub.key", PLANET)]).await;
    let (cb, t) = (sub.callback("by-header"), topic(PRIVATE));
    let form = crate::websub::form(&[("hub.callback", &cb), ("hub.mode", "subscribe"), ("hub.topic", &t)]);
    let resp = (app.client.post(format!("{}/websub", app.base)))
        .header("content-type", "application/x-www-form-urlencoded")
        .bearer_auth(PLANET)
        .body(form)
        .send()
        .await
        .expect("POST /websub");
    assert_eq!(resp.status(), 202);
    sub.until("the header's subscription verified", |s| s.verifications("by-header").first().cloned()).await;

    feed.add(&["b", "c"]);
    app.poll_now().await;
    for name in ["by-param", "by-header"] {
        let d = sub.until("a delivery", |s| s.accepted(name).first().cloned()).await;
        assert_eq!(d.titles(), ["Story b", "Story c"], "{name}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for name in ["anonymous", "unknown-key", "not-granted"] {
        assert!(sub.deliveries(name).is_empty(), "{name} is sent nothing");
    }
    assert_eq!(pushed_to(&app, "planet").await, 4, "two items to each of planet's two subscriptions");
    assert_eq!(pushed_to(&app, "agency").await, 0);
    let list = app.get("/api/subscriptions").await;
    assert_eq!(list.status(), 401, "the subscription list is behind the admin key");
}

/// The hub's answer to `POST /api/reload` (the app has the admin key).
async fn reload(app: &TestApp) {
    let resp = app.client.post(format!("{}/api/reload", app.base)).bearer_auth(ADMIN).send().await.expect("reload");
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_ends_subscriptions_to_removed_topics_and_withdrawn_grants_with_a_denial() {
    let (feed, public) = (ItemFeed::start().await, ItemFeed::start().await);
    feed.add(&["a"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let app = {
        let app = private_hub(&feed, &public).await;
        let mut s = app.settings();
        add_topics(dir.path(), &mut s, "[[topic]]\nid = \"port\"\ntitle = \"Port\"\nany = [\"story\"]\n");
        write_config(&app.config_path(), &s);
        reload(&app).await;
        app
    };
    app.poll_now().await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "private", PRIVATE, &[("hub.key", PLANET)]).await;
    subscribe(&app, &sub, "port", "/topics/port.atom", &[]).await;
    subscribe(&app, &sub, "all", "/feeds/all.atom", &[]).await;
    assert_eq!(crate::websub::subscriptions(&app).await.len(), 3);

    let mut s = app.settings();
    s.topics.clear();
    s.partners[0].channels = Grant::Channels(vec![ChannelId::Source(SourceId::parse("elsewhere").expect("slug"))]);
    write_config(&app.config_path(), &s);
    reload(&app).await;
    for (name, reason) in [("private", "not allowed"), ("port", "topic removed")] {
        let v =
            sub.until("the denial", |s| s.verifications(name).into_iter().find(|v| v["hub.mode"] == "denied")).await;
        assert!(v["hub.reason"].starts_with(reason), "{name}: {v:?}");
        assert!(v["hub.topic"].ends_with(if name == "port" { "/topics/port.atom" } else { PRIVATE }), "{v:?}");
    }
    let left = crate::websub::subscriptions(&app).await;
    let topics: Vec<&str> = left.iter().filter_map(|x| x["topic"].as_str()).collect();
    assert_eq!(topics.len(), 1, "{left:?}");
    assert!(topics[0].ends_with("/feeds/all.atom"), "{left:?}");
    public.add(&["p"]);
    app.poll_now().await;
    sub.until("the remaining subscription's delivery", |s| s.accepted("all").first().cloned()).await;
    assert!(sub.deliveries("private").is_empty() && sub.deliveries("port").is_empty(), "ended ones get nothing");
}
