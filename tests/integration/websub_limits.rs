//! The WebSub hub's refusals: unknown topics denied (§5.2), the address guard on callbacks (a
//! redirect to a canary on 127.0.0.2 reaches nothing), abuse limits answered 429/4xx; and its
//! pings to external hubs, debounced.

use crate::helpers::*;
use crate::websub::{form, hub_app, post_hub, subscribe, subscriptions, topic, TOPIC};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_topic_is_denied_at_the_callback() {
    let feed = ItemFeed::start().await;
    let app = hub_app(&feed, |_| {}, |_| {}).await;
    let sub = Subscriber::start().await;
    for (name, t) in [
        ("a", topic("/topics/nope.atom")),
        ("b", topic("/feeds/all.atom?since=0")),
        ("c", "https://elsewhere.example/feeds/all.atom".into()),
    ] {
        let cb = sub.callback(name);
        let resp = post_hub(&app, &[("hub.callback", &cb), ("hub.mode", "subscribe"), ("hub.topic", &t)]).await;
        assert_eq!(resp.status(), 202, "answered at once, denied at the callback");
        let v = sub.until("the denial", |s| s.verifications(name).first().cloned()).await;
        assert_eq!((v["hub.mode"].as_str(), v["hub.topic"].clone()), ("denied", t.clone()));
        assert!(v["hub.reason"].contains("unknown topic"), "{v:?}");
        assert!(!v.contains_key("hub.challenge"), "a denial asks nothing");
    }
    assert!(subscriptions(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_guard_keeps_callbacks_off_private_addresses() {
    let feed = ItemFeed::start().await;
    let guarded = |p: &mut newsriver::config::PollingSettings| {
        p.allow_private_networks = false;
        p.allow_hosts = vec!["127.0.0.1".into()];
    };
    let app = hub_app(&feed, |w| w.retry_min = Duration::from_millis(200), guarded).await;
    let (sub, canary) = (Subscriber::start().await, Subscriber::start_on("127.0.0.2").await);

    // A callback on a refused address is refused before anything is sent.
    let (direct, t) = (canary.callback("direct"), topic(TOPIC));
    let resp = post_hub(&app, &[("hub.callback", &direct), ("hub.mode", "subscribe"), ("hub.topic", &t)]).await;
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.expect("body").contains("address guard"));

    // A verification redirected to the canary verifies nothing.
    let redirecting = sub.callback("hop");
    sub.echo("hop", Echo::Redirect(format!("{}?hub.challenge=x", canary.callback("canary"))));
    let resp = post_hub(&app, &[("hub.callback", &redirecting), ("hub.mode", "subscribe"), ("hub.topic", &t)]).await;
    assert_eq!(resp.status(), 202);

    // A subscriber that verified, then redirects deliveries to the canary: refused, and said why.
    subscribe(&app, &sub, "c", TOPIC, &[]).await;
    sub.always("c", Some(PostAnswer::Redirect(canary.callback("canary"))));
    feed.add(&["a"]);
    app.poll_now().await;
    let failed = wait_on_api(&app, |s| s["last_error"].as_str().map(str::to_owned)).await;
    assert!(failed.contains("redirecting to http://127.0.0.2"), "{failed}");
    assert!(failed.contains("blocked by the address guard: 127.0.0.2 is a loopback address"), "{failed}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(sub.deliveries("c").len() >= 2, "retried as a failure");
    for name in ["direct", "canary"] {
        assert!(
            canary.deliveries(name).is_empty() && canary.verifications(name).is_empty(),
            "the canary got a request"
        );
    }
    assert_eq!(sub.verifications("hop").len(), 1, "asked once");
    assert!(subscriptions(&app).await.iter().all(|s| s["callback"] != redirecting), "the redirect verified nothing");
}

/// Polls `/api/subscriptions` until the first subscription gives something.
async fn wait_on_api<T>(app: &TestApp, f: impl Fn(&serde_json::Value) -> Option<T>) -> T {
    for _ in 0..750 {
        if let Some(v) = subscriptions(app).await.first().and_then(&f) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting on /api/subscriptions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_limits_are_answered_with_clear_refusals() {
    let feed = ItemFeed::start().await;
    let limits = |w: &mut newsriver::config::WebSubSettings| {
        w.requests_per_minute = 5;
        w.max_per_host = 2;
        w.max_callback_length = 60;
    };
    let app = hub_app(&feed, limits, |_| {}).await;
    let sub = Subscriber::start().await;
    let t = topic(TOPIC);
    let ask = |cb: String| {
        let (app, t) = (&app, t.clone());
        async move { post_hub(app, &[("hub.callback", &cb), ("hub.mode", "subscribe"), ("hub.topic", &t)]).await }
    };
    assert_eq!(ask(sub.callback("one")).await.status(), 202);
    assert_eq!(ask(sub.callback("two")).await.status(), 202);
    let full = ask(sub.callback("three")).await;
    assert_eq!(full.status(), 403);
    assert!(full.text().await.expect("body").contains("already has 2 subscriptions"));
    let long = ask(format!("{}/{}", sub.callback("x"), "y".repeat(60))).await;
    assert_eq!(long.status(), 400);
    assert!(long.text().await.expect("body").contains("at most 60 are accepted"));
    let bad = (app.client.post(format!("{}/websub", app.base)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("hub.mode", "publish"), ("hub.url", &t)]))
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 400, "fifth request: a bad one still counts");
    let limited = ask(sub.callback("four")).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after));
    assert!(limited.text().await.expect("body").contains("at most 5 a minute"));
    let json = (app.client.post(format!("{}/websub", app.base))).header("content-type", "application/json").body("{}");
    assert_eq!(json.send().await.expect("post").status(), 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_hubs_are_pinged_once_per_change_window() {
    let feed = ItemFeed::start().await;
    let external = Subscriber::start().await;
    let hub_url = external.callback("hub");
    let app = hub_app(
        &feed,
        |w| {
            w.external_hubs = vec![url::Url::parse(&hub_url).expect("url")];
            w.publish_every = Duration::from_secs(60);
        },
        |_| {},
    )
    .await;
    feed.add(&["a"]);
    app.poll_now().await;
    let pings = external.until("eight pings", |s| (s.deliveries("hub").len() >= 8).then(|| s.deliveries("hub"))).await;
    let mut urls: Vec<String> = pings
        .iter()
        .map(|d| {
            let fields: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(&d.body).into_owned().collect();
            assert_eq!(fields["hub.mode"], "publish");
            fields["hub.url"].clone()
        })
        .collect();
    urls.sort();
    let mut expected: Vec<String> = ["/feeds/all", "/sources/s"]
        .iter()
        .flat_map(|c| ["atom", "json", "ninjs", "rss"].map(|e| topic(&format!("{c}.{e}"))))
        .collect();
    expected.sort();
    assert_eq!(urls, expected, "each format of each changed channel");
    feed.add(&["b"]);
    app.poll_now().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(external.deliveries("hub").len(), 8, "a second change within the window waits");
}
