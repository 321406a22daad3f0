//! WebSub fan-out: 1,000 subscribers of one channel, 100 new items committed by one poll; the
//! time until every subscriber has all of them.
//!
//! `cargo bench --bench websub_fanout` runs, on 127.0.0.1 only:
//! - a receiver in a process of its own (this program again, `NEWSRIVER_FANOUT_RECEIVER=1`) with
//!   1,000 callback paths, echoing challenges and counting the `<entry>` elements each path is
//!   sent (it times the moment the last path reaches 100);
//! - newsriver in this process (the release library, `Application` as `serve` runs it), polling
//!   one generated RSS source (100 items of about 600 bytes of text each) from a local server.
//!
//! Every subscriber takes `/feeds/all.atom`, with the default `[websub]` settings but for the
//! abuse limits (one address subscribes 1,000 callbacks on one host). `NEWSRIVER_FANOUT_SUBSCRIBERS`,
//! `_ITEMS`, `_PER_HOST` (`[websub] per_host`, 4 as by default) and `NEWSRIVER_FANOUT_SECRET=1`
//! (every subscriber gave a secret: every delivery signed) change the run.

use chrono::{DateTime, Utc};
use newsriver::app::Application;
use newsriver::config::Settings;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "pipeline/docs.rs"]
mod docs;

const ROLE: &str = "NEWSRIVER_FANOUT_RECEIVER";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn micros_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

fn main() {
    if std::env::var(ROLE).is_ok() {
        return receiver();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run());
}

/// What the receiver process counted.
#[derive(Default)]
struct Counts {
    per_path: Vec<AtomicUsize>,
    complete: AtomicUsize,
    entries: AtomicUsize,
    posts: AtomicUsize,
    bytes: AtomicUsize,
    last_complete_us: AtomicU64,
}

/// The receiver: prints its port, then serves `/cb/{n}` and `/stats` until its stdin closes.
fn receiver() {
    let (subscribers, items) = (env_or("NEWSRIVER_FANOUT_SUBSCRIBERS", 1000), env_or("NEWSRIVER_FANOUT_ITEMS", 100));
    let counts =
        Arc::new(Counts { per_path: (0..subscribers).map(|_| AtomicUsize::new(0)).collect(), ..Counts::default() });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let c = counts.clone();
        let post = move |axum::extract::Path(n): axum::extract::Path<usize>, body: axum::body::Bytes| {
            let c = c.clone();
            async move {
                let got = body.windows(7).filter(|w| *w == b"<entry>").count();
                c.posts.fetch_add(1, SeqCst);
                c.bytes.fetch_add(body.len(), SeqCst);
                c.entries.fetch_add(got, SeqCst);
                let before = c.per_path.get(n).map_or(0, |p| p.fetch_add(got, SeqCst));
                if before < items && before + got >= items {
                    c.complete.fetch_add(1, SeqCst);
                    c.last_complete_us.fetch_max(micros_now(), SeqCst);
                }
            }
        };
        let echo = |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
            q.get("hub.challenge").cloned().unwrap_or_default()
        };
        let c = counts.clone();
        let stats = move || {
            let c = c.clone();
            async move {
                let v = [&c.complete, &c.entries, &c.posts, &c.bytes].map(|a| a.load(SeqCst) as u64);
                format!("{} {} {} {} {}", v[0], v[1], v[2], v[3], c.last_complete_us.load(SeqCst))
            }
        };
        let router = axum::Router::new()
            .route("/cb/{n}", axum::routing::get(echo).post(post))
            .route("/stats", axum::routing::get(stats));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        println!("port {}", listener.local_addr().expect("addr").port());
        let _ = std::io::stdout().flush();
        // Serves until the parent closes stdin (or dies).
        let stop = tokio::task::spawn_blocking(|| std::io::stdin().lock().lines().count());
        tokio::select! {
            _ = axum::serve(listener, router) => {}
            _ = stop => {}
        }
    });
}

/// The generated source: empty until `fill`, then `items` new items.
fn feed_server(items: usize) -> (Arc<Mutex<String>>, String) {
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").expect("date").with_timezone(&Utc);
    let empty = docs::rss(1, &[]);
    let full = docs::rss(1, &docs::items(1, items, start));
    let body = Arc::new(Mutex::new(empty));
    (body, full)
}

/// Serves the source at `/feed.xml`; returns its URL.
async fn serve_feed(body: Arc<Mutex<String>>) -> String {
    let handler = move || {
        let body = body.clone();
        async move {
            let text = body.lock().map(|b| b.clone()).unwrap_or_default();
            ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], text)
        }
    };
    let router = axum::Router::new().route("/feed.xml", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind feed");
    let url = format!("http://127.0.0.1:{}/feed.xml", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn settings(dir: &std::path::Path, feed: &str, per_host: usize) -> Settings {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"http://newsriver.bench\"\n[store]\npath = \"store\"\n\
         [polling]\nenabled = false\nallow_private_networks = true\ninitial_items = 100000\nmin_gap = \"0s\"\n\
         [websub]\nrequests_per_minute = 1000000\nmax_per_host = 1000000\nper_host = {per_host}\n\
         [[source]]\nid = \"wire\"\nurl = \"{feed}\"\n"
    );
    let path = dir.join("newsriver.toml");
    std::fs::write(&path, text).expect("write config");
    Settings::load(&path).expect("config")
}

/// The receiver's counts: subscribers complete, entries, posts, bytes, last completion (µs).
async fn stats(client: &reqwest::Client, receiver: &str) -> [u64; 5] {
    let text = client.get(format!("{receiver}/stats")).send().await.expect("stats").text().await.expect("text");
    let v: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    [v[0], v[1], v[2], v[3], v[4]]
}

async fn subscribe_all(client: &reqwest::Client, app: &str, receiver: &str, n: usize, secret: bool) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (client, app) = (client.clone(), app.to_owned());
        let cb = format!("{receiver}/cb/{i}");
        tasks.spawn(async move {
            let body = {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("hub.mode", "subscribe")
                    .append_pair("hub.topic", "http://newsriver.bench/feeds/all.atom")
                    .append_pair("hub.callback", &cb);
                if secret {
                    form.append_pair("hub.secret", &format!("secret-of-subscriber-{i}"));
                }
                form.finish()
            };
            let resp = client
                .post(format!("{app}/websub"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("subscribe");
            assert_eq!(resp.status(), 202);
        });
        if tasks.len() >= 32 {
            tasks.join_next().await;
        }
    }
    while tasks.join_next().await.is_some() {}
    loop {
        let list: Vec<serde_json::Value> =
            client.get(format!("{app}/api/subscriptions")).send().await.expect("api").json().await.expect("json");
        if list.iter().filter(|s| s["state"] == "active").count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run() {
    newsriver::fetch::install_crypto_provider();
    let (n, items) = (env_or("NEWSRIVER_FANOUT_SUBSCRIBERS", 1000), env_or("NEWSRIVER_FANOUT_ITEMS", 100));
    let per_host = env_or("NEWSRIVER_FANOUT_PER_HOST", 4);
    let secret = std::env::var("NEWSRIVER_FANOUT_SECRET").is_ok_and(|v| v == "1");
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .env(ROLE, "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the receiver");
    let mut line = String::new();
    let out = child.stdout.take().expect("receiver stdout");
    std::io::BufReader::new(out).read_line(&mut line).expect("receiver port");
    let receiver = format!("http://127.0.0.1:{}", line.trim().trim_start_matches("port ").trim());

    let (body, full) = feed_server(items);
    let feed = serve_feed(body.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = Application::build(settings(dir.path(), &feed, per_host)).await.expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let poller = app.poller().clone();
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(stop.clone()));
    let client = reqwest::Client::new();
    poller.poll_all(&CancellationToken::new(), |_| {}).await;
    let t = Instant::now();
    subscribe_all(&client, &base, &receiver, n, secret).await;
    eprintln!("{n} subscribers verified and active in {:.2} s", t.elapsed().as_secs_f64());

    *body.lock().expect("feed") = full;
    let (start_us, started) = (micros_now(), Instant::now());
    poller.poll_all(&CancellationToken::new(), |_| {}).await;
    let (polled_us, poll_ms) = (micros_now(), started.elapsed().as_secs_f64() * 1000.0);
    let deadline = Instant::now() + Duration::from_secs(120);
    let s = loop {
        let s = stats(&client, &receiver).await;
        if s[0] as usize >= n || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let after_poll = s[4].saturating_sub(polled_us) as f64 / 1000.0;
    let after_start = s[4].saturating_sub(start_us) as f64 / 1000.0;
    println!(
        "websub fan-out: {} of {n} subscribers have all {items} items {after_start:.0} ms after the poll started \
         ({after_poll:.0} ms after it returned; the poll with its commit took {poll_ms:.0} ms); \
         {} entries in {} POSTs, {:.1} MB; per_host {per_host}, signed: {secret}",
        s[0],
        s[1],
        s[2],
        s[3] as f64 / 1e6,
    );
    assert_eq!(s[0] as usize, n, "every subscriber complete");
    assert_eq!(s[1] as usize, n * items, "each item exactly once per subscriber");
    stop.cancel();
    let _ = running.await;
    drop(child.stdin.take());
    let _ = child.wait();
}
