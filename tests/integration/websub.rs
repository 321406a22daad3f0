//! The WebSub hub against a subscriber written here, on 127.0.0.1: the websub.rocks hub checks
//! 100–104, verification, leases, retries, 410, the address guard on callbacks, denials, abuse
//! limits, metrics and external-hub pings. (The crash test with the real binary is in
//! `websub_crash.rs`.)

use crate::helpers::*;
use hmac::{Hmac, Mac};
use newsriver::config::{PollingSettings, WebSubSettings};
use std::time::Duration;

pub const TOPIC: &str = "/sources/s.atom";

pub fn topic(path: &str) -> String {
    format!("{PUBLIC_URL}{path}")
}

/// An app whose one source `s` is `feed`, with `[websub]` and `[polling]` changed by the test.
pub async fn hub_app(
    feed: &ItemFeed,
    websub: impl FnOnce(&mut WebSubSettings),
    polling: impl FnOnce(&mut PollingSettings),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[("s", feed.url.clone())], |p| {
        p.initial_items = 1000;
        polling(p);
    });
    websub(&mut settings.websub);
    spawn_in(dir, settings).await
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

pub async fn post_hub(app: &TestApp, pairs: &[(&str, &str)]) -> reqwest::Response {
    (app.client.post(format!("{}/websub", app.base)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("POST /websub")
}

/// The hub's subscriptions, read with the admin key (which an app without one ignores).
pub async fn subscriptions(app: &TestApp) -> Vec<serde_json::Value> {
    let list = app.client.get(format!("{}/api/subscriptions", app.base)).bearer_auth(crate::partners::ADMIN);
    list.send().await.expect("GET /api/subscriptions").json().await.expect("subscriptions json")
}

/// The subscription of `callback` to `path`, once the API lists it.
async fn listed(app: &TestApp, callback: &str, path: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found =
            subscriptions(app).await.into_iter().find(|s| s["callback"] == callback && s["topic"] == topic(path));
        if let Some(s) = found {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "{callback} never subscribed to {path}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Subscribes `name` of `sub` to `path` (with `extra` parameters) and waits until it is active.
pub async fn subscribe(
    app: &TestApp,
    sub: &Subscriber,
    name: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let (cb, t) = (sub.callback(name), topic(path));
    let mut pairs = vec![("hub.callback", cb.as_str()), ("hub.mode", "subscribe"), ("hub.topic", t.as_str())];
    pairs.extend_from_slice(extra);
    let resp = post_hub(app, &pairs).await;
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap_or_default());
    listed(app, &cb, path).await
}

/// Adds items to the feed and polls them in.
async fn publish(app: &TestApp, feed: &ItemFeed, guids: &[&str]) {
    feed.add(guids);
    app.poll_now().await;
}

fn titles(deliveries: &[Delivery]) -> Vec<String> {
    let mut all: Vec<String> = deliveries.iter().flat_map(Delivery::titles).collect();
    all.sort();
    all
}

/// Gives a hub that would wrongly deliver time to do it.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_channel_advertises_the_hub_in_headers_and_documents() {
    let feed = ItemFeed::start().await;
    feed.add(&["a"]);
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    app.poll_now().await;
    let hub = topic("/websub");
    for ext in ["rss", "atom", "json", "ninjs"] {
        for query in ["", "?limit=5", "?since=0"] {
            let resp = app.get(&format!("/feeds/all.{ext}{query}")).await;
            assert_eq!(resp.status(), 200);
            let links = || resp.headers().get_all("link").iter().filter_map(|v| v.to_str().ok());
            assert_eq!(link_targets(links(), "hub"), std::slice::from_ref(&hub), "{ext}{query}");
            assert_eq!(link_targets(links(), "self"), [topic(&format!("/feeds/all.{ext}"))], "{ext}{query}");
        }
    }
    let atom = app.get("/feeds/all.atom").await.bytes().await.expect("body");
    let atom = atom_syndication::Feed::read_from(&atom[..]).expect("atom");
    let rel = |r: &str| atom.links().iter().filter(|l| l.rel() == r).map(|l| l.href().to_owned()).collect::<Vec<_>>();
    assert_eq!((rel("hub"), rel("self")), (vec![hub.clone()], vec![topic("/feeds/all.atom")]));
    let rss = app.get("/feeds/all.rss").await.bytes().await.expect("body");
    let rss = rss::Channel::read_from(&rss[..]).expect("rss");
    let rss_hubs: Vec<String> = rss
        .atom_ext()
        .expect("atom links")
        .links()
        .iter()
        .filter(|l| l.rel() == "hub")
        .map(|l| l.href().to_owned())
        .collect();
    assert_eq!(rss_hubs, std::slice::from_ref(&hub));
    let json: serde_json::Value = app.get("/sources/s.json").await.json().await.expect("json");
    assert_eq!(json["hubs"], serde_json::json!([{ "type": "WebSub", "url": hub }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocks_100_subscribe_and_receive_without_signature() {
    let feed = ItemFeed::start().await;
    feed.add(&["a"]);
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    app.poll_now().await;
    let sub = Subscriber::start().await;
    let listed = subscribe(&app, &sub, "c", TOPIC, &[]).await;
    let v = &sub.verifications("c")[0];
    assert_eq!((v["hub.mode"].as_str(), v["hub.topic"].clone()), ("subscribe", topic(TOPIC)));
    assert_eq!(v["hub.lease_seconds"], "864000", "the default lease, 10 days");
    assert!(v["hub.challenge"].len() >= 32, "a long random challenge");
    assert_eq!((listed["state"].as_str(), listed["signed"].as_bool()), (Some("active"), Some(false)));

    publish(&app, &feed, &["b", "c"]).await;
    let d = sub.until("a delivery", |s| s.accepted("c").first().cloned()).await;
    let channel = app.get(TOPIC).await;
    assert_eq!(d.header("content-type"), channel.headers().get("content-type").and_then(|v| v.to_str().ok()));
    assert_eq!((d.links("hub"), d.links("self")), (vec![topic("/websub")], vec![topic(TOPIC)]));
    assert!(d.header("x-hub-signature").is_none(), "no secret, no signature");
    assert_eq!(titles(&[d]), ["Story b", "Story c"], "what is new since the subscription, not before");

    publish(&app, &feed, &["d"]).await;
    sub.until("a second delivery", |s| (s.accepted("c").len() >= 2).then_some(())).await;
    settle().await;
    assert_eq!(titles(&sub.accepted("c")), ["Story b", "Story c", "Story d"], "each item exactly once");
    if have_metrics_parser() {
        let m = metrics_of(app.get("/metrics").await).await;
        assert_eq!(m.get("newsriver_websub_deliveries_total", &[("outcome", "ok")]), 2.0);
        assert_eq!(m.get("newsriver_websub_subscriptions", &[("state", "active")]), 1.0);
        assert_eq!(m.get("newsriver_websub_delivery_duration_seconds_count", &[]), 2.0);
    }
    let now = subscriptions(&app).await;
    assert_eq!((now[0]["delivered"].as_u64(), now[0]["failures"].as_u64()), (Some(3), Some(0)));
    assert!(now[0]["last_delivery"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocks_101_secret_signs_every_delivery_and_is_never_shown() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    let (secret, key) = ("a-partner-secret-7f3c", "a-partner-key-0b1d");
    let listed = subscribe(&app, &sub, "c", "/feeds/all.json", &[("hub.secret", secret), ("hub.key", key)]).await;
    assert_eq!(listed["signed"], true);
    let api = app.get("/api/subscriptions").await.text().await.expect("api");
    assert!(!api.contains(secret) && !api.contains(key), "secrets and keys are never shown: {api}");

    publish(&app, &feed, &["a"]).await;
    let d = sub.until("a delivery", |s| s.accepted("c").first().cloned()).await;
    let sig = d.header("x-hub-signature").expect("signed").to_owned();
    let hex = sig.strip_prefix("sha256=").expect("sha256 by default");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&d.body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected, "HMAC of the exact body");
    let doc: serde_json::Value = serde_json::from_slice(&d.body).expect("a JSON Feed");
    assert_eq!(doc["items"][0]["title"], "Story a");
    assert_eq!(d.header("content-type"), Some("application/feed+json; charset=utf-8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_subscribers_get_the_signature_method_configured() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |w| w.signature = newsriver::config::Signature::Sha1, |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "c", TOPIC, &[("hub.secret", "old")]).await;
    publish(&app, &feed, &["a"]).await;
    let d = sub.until("a delivery", |s| s.accepted("c").first().cloned()).await;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"old").expect("key");
    mac.update(&d.body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(d.header("x-hub-signature"), Some(format!("sha1={expected}").as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocks_102_unknown_parameters_are_ignored() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "c", TOPIC, &[("foo", "bar"), ("hub.foo", "baz")]).await;
    publish(&app, &feed, &["a"]).await;
    let d = sub.until("a delivery", |s| s.accepted("c").first().cloned()).await;
    assert_eq!(d.titles(), ["Story a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocks_103_resubscribing_before_expiry_gives_one_notification_per_change() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    let first = subscribe(&app, &sub, "c", TOPIC, &[("hub.lease_seconds", "7200")]).await;
    let again = subscribe(&app, &sub, "c", TOPIC, &[("hub.lease_seconds", "86400"), ("hub.secret", "s")]).await;
    sub.until("two verifications", |s| (s.verifications("c").len() == 2).then_some(())).await;
    let renewed = wait_for_value(&app, |all| {
        (all.len() == 1 && all[0]["lease_end"] != first["lease_end"]).then(|| all[0].clone())
    })
    .await;
    assert_eq!((renewed["id"].clone(), renewed["signed"].as_bool()), (again["id"].clone(), Some(true)));

    publish(&app, &feed, &["a"]).await;
    sub.until("a delivery", |s| s.accepted("c").first().cloned()).await;
    settle().await;
    assert_eq!(sub.deliveries("c").len(), 1, "one subscription, one notification");
}

/// Polls `/api/subscriptions` until `f` gives something.
async fn wait_for_value<T>(app: &TestApp, f: impl Fn(&[serde_json::Value]) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f(&subscriptions(app).await) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting on /api/subscriptions");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocks_104_unsubscribe_then_no_notification() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "gone", TOPIC, &[]).await;
    subscribe(&app, &sub, "control", TOPIC, &[]).await;
    let (cb, t) = (sub.callback("gone"), topic(TOPIC));
    let resp = post_hub(&app, &[("hub.callback", &cb), ("hub.mode", "unsubscribe"), ("hub.topic", &t)]).await;
    assert_eq!(resp.status(), 202);
    let v = sub.until("the unsubscribe verification", |s| s.verifications("gone").get(1).cloned()).await;
    assert_eq!(v["hub.mode"], "unsubscribe");
    wait_for_value(&app, |all| (all.len() == 1 && all[0]["callback"] == sub.callback("control")).then_some(())).await;

    publish(&app, &feed, &["a"]).await;
    sub.until("the control's delivery", |s| s.accepted("control").first().cloned()).await;
    settle().await;
    assert!(sub.deliveries("gone").is_empty(), "nothing after unsubscribing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_challenge_echo_creates_nothing() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    sub.echo("liar", Echo::Wrong);
    let (cb, t) = (sub.callback("liar"), topic(TOPIC));
    let resp = post_hub(&app, &[("hub.callback", &cb), ("hub.mode", "subscribe"), ("hub.topic", &t)]).await;
    assert_eq!(resp.status(), 202);
    sub.until("the verification", |s| s.verifications("liar").first().cloned()).await;
    subscribe(&app, &sub, "control", TOPIC, &[]).await;
    publish(&app, &feed, &["a"]).await;
    sub.until("the control's delivery", |s| s.accepted("control").first().cloned()).await;
    settle().await;
    let all = subscriptions(&app).await;
    assert_eq!(all.len(), 1, "only the control: {all:?}");
    assert!(sub.deliveries("liar").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_ends_and_deliveries_stop() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |w| w.min_lease = Duration::from_secs(1), |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "short", TOPIC, &[("hub.lease_seconds", "1")]).await;
    assert_eq!(sub.verifications("short")[0]["hub.lease_seconds"], "1");
    subscribe(&app, &sub, "control", TOPIC, &[]).await;
    wait_for_value(&app, |all| (all.len() == 1).then_some(())).await;
    publish(&app, &feed, &["a"]).await;
    sub.until("the control's delivery", |s| s.accepted("control").first().cloned()).await;
    settle().await;
    assert!(sub.deliveries("short").is_empty(), "an expired lease gets nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_410_ends_the_subscription() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "gone", TOPIC, &[]).await;
    subscribe(&app, &sub, "control", TOPIC, &[]).await;
    sub.answer("gone", [PostAnswer::Status(410)]);
    publish(&app, &feed, &["a"]).await;
    sub.until("the 410", |s| s.deliveries("gone").first().cloned()).await;
    wait_for_value(&app, |all| (all.len() == 1 && all[0]["callback"] == sub.callback("control")).then_some(())).await;
    publish(&app, &feed, &["b"]).await;
    sub.until("the control's second delivery", |s| (s.accepted("control").len() == 2).then_some(())).await;
    settle().await;
    assert_eq!(sub.deliveries("gone").len(), 1, "nothing after 410 Gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_failures_then_success_delivers_exactly_once() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |w| w.retry_min = Duration::from_millis(100), |_| {}).await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "c", TOPIC, &[]).await;
    sub.answer("c", [PostAnswer::Status(500), PostAnswer::Status(500)]);
    publish(&app, &feed, &["a", "b"]).await;
    let failing = wait_for_value(&app, |all| (all[0]["failures"] == 1).then(|| all[0].clone())).await;
    assert_eq!(failing["last_error"], "the callback answered HTTP 500");
    sub.until("the delivery that succeeds", |s| s.accepted("c").first().cloned()).await;
    settle().await;
    let posts = sub.deliveries("c");
    assert_eq!(posts.iter().map(|d| d.answered).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(posts.iter().all(|d| d.body == posts[0].body), "the same items each time");
    assert_eq!(titles(&sub.accepted("c")), ["Story a", "Story b"], "delivered exactly once");
    let now = &subscriptions(&app).await[0];
    assert_eq!((now["failures"].as_u64(), now["last_error"].is_null()), (Some(0), true));
    if have_metrics_parser() {
        let m = metrics_of(app.get("/metrics").await).await;
        assert_eq!(m.get("newsriver_websub_deliveries_total", &[("outcome", "failed")]), 2.0);
        assert_eq!(m.get("newsriver_websub_deliveries_total", &[("outcome", "ok")]), 1.0);
        assert_eq!(m.get("newsriver_websub_delivery_retries_total", &[]), 2.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_failing_too_long_is_suspended_until_it_subscribes_again() {
    let feed = ItemFeed::start().await;
    let app = hub_app(
        &feed,
        |w| {
            w.retry_min = Duration::from_millis(100);
            w.give_up_after = Duration::from_millis(500);
        },
        |_| {},
    )
    .await;
    let sub = Subscriber::start().await;
    subscribe(&app, &sub, "c", TOPIC, &[]).await;
    sub.always("c", Some(PostAnswer::Status(503)));
    publish(&app, &feed, &["a"]).await;
    let suspended = wait_for_value(&app, |all| (all[0]["state"] == "suspended").then(|| all[0].clone())).await;
    assert_eq!(suspended["last_error"], "the callback answered HTTP 503");
    let tries = sub.deliveries("c").len();
    settle().await;
    assert_eq!(sub.deliveries("c").len(), tries, "a suspended callback is left alone");
    sub.always("c", None);
    subscribe(&app, &sub, "c", TOPIC, &[]).await;
    let d = sub.until("the delivery after re-subscribing", |s| s.accepted("c").first().cloned()).await;
    assert_eq!(d.titles(), ["Story a"], "nothing was lost meanwhile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_read_without_subscribers_and_one_render_serves_a_position() {
    if !have_metrics_parser() {
        return;
    }
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let renders = || async { metrics_of(app.get("/metrics").await).await.get("newsriver_websub_renders_total", &[]) };
    for guid in ["a", "b", "c"] {
        publish(&app, &feed, &[guid]).await;
    }
    settle().await;
    assert_eq!(renders().await, 0.0, "no subscription: the hub reads nothing");

    let sub = Subscriber::start().await;
    for name in ["one", "two", "three"] {
        subscribe(&app, &sub, name, TOPIC, &[]).await;
    }
    settle().await;
    let before = renders().await;
    publish(&app, &feed, &["d", "e"]).await;
    for name in ["one", "two", "three"] {
        let d = sub.until("each subscriber's delivery", |s| s.accepted(name).first().cloned()).await;
        assert_eq!(titles(&[d]), ["Story d", "Story e"]);
    }
    settle().await;
    assert_eq!(renders().await - before, 1.0, "three subscribers at one position, one render");
}
