//! WebSub deliveries survive `kill -9` of the real binary: a delivery the callback has not
//! acknowledged when the process dies is made after the restart.

use crate::helpers::*;
use crate::websub::{form, topic, TOPIC};
use std::time::Duration;
use tokio::process::Child;

/// Starts `newsriver serve` and returns it with the port it listens on (from its log).
async fn serve(config: &std::path::Path) -> (Child, u16) {
    let mut served = Served::start(config);
    let port = served.port().await;
    (served.detach(), port)
}

async fn api(client: &reqwest::Client, port: u16) -> Vec<serde_json::Value> {
    let url = format!("http://127.0.0.1:{port}/api/subscriptions");
    client.get(url).send().await.expect("api").json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_a_delivery_pending_delivers_it_after_the_restart() {
    let feed = ItemFeed::start().await;
    feed.add(&["a"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[("s", feed.url.clone())], |p| {
        p.enabled = true;
        p.every = Duration::from_secs(1);
        p.min_every = Duration::from_secs(1);
        p.jitter = Duration::ZERO;
        p.initial_items = 1000;
    });
    settings.websub.retry_min = Duration::from_millis(200);
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    newsriver::fetch::install_crypto_provider();
    let (client, sub) = (reqwest::Client::new(), Subscriber::start().await);

    let (mut first, port) = serve(&config).await;
    // Subscribed after the first poll took "a" in: what is new from then on is "b" and "c".
    let channel = format!("http://127.0.0.1:{port}/sources/s.json");
    wait_for_async(|| async {
        let doc: serde_json::Value = client.get(&channel).send().await.ok()?.json().await.ok()?;
        (doc["items"].as_array()?.len() == 1).then_some(())
    })
    .await;
    let (cb, t) = (sub.callback("c"), topic(TOPIC));
    let body = form(&[("hub.callback", &cb), ("hub.mode", "subscribe"), ("hub.topic", &t)]);
    let resp = (client.post(format!("http://127.0.0.1:{port}/websub")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("subscribe");
    assert_eq!(resp.status(), 202);
    wait_for_async(|| async { (api(&client, port).await.len() == 1).then_some(()) }).await;

    sub.always("c", Some(PostAnswer::Status(500)));
    feed.add(&["b", "c"]);
    let refused = sub.until("a delivery the callback refuses", |s| s.deliveries("c").first().cloned()).await;
    assert_eq!(refused.titles().len(), 2, "{:?}", refused.titles());
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("killed");

    sub.always("c", None);
    let (_second, _) = serve(&config).await;
    let d = sub.until("the delivery after the restart", |s| s.accepted("c").first().cloned()).await;
    let mut titles = d.titles();
    titles.sort();
    assert_eq!(titles, ["Story b", "Story c"], "nothing lost: the unacknowledged items, and only those");
}

/// Polls an async check every 50 ms for up to 15 s.
async fn wait_for_async<T, F: std::future::Future<Output = Option<T>>>(f: impl Fn() -> F) -> T {
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out");
}
