//! Several instances on one PostgreSQL store share polling through leases: 3 instances × 500
//! sources poll each source once per interval, never two at once, spread over all three; one
//! host with `per_host = 1` served by two instances never sees two requests at once nor two
//! closer than `min_gap`; an instance killed with its polls in flight has them taken over once
//! its leases run out, with no item lost or repeated. Skipped loudly without PostgreSQL.

use crate::helpers::*;
use newsriver::config::{PostgresSettings, Settings};
use newsriver::domain::SourceId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the feed server saw it: path, host it was sent to, start and end.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    start: Instant,
    end: Instant,
}

/// Loopback feed servers (one per address) that log every request and answer each `/{feed}`
/// with two fixed items, after `delay_ms`.
#[derive(Clone, Default)]
struct Feeds {
    log: Arc<Mutex<Vec<Seen>>>,
    delay_ms: Arc<AtomicU64>,
    /// Requests begun, answered or not.
    started: Arc<AtomicU64>,
}

impl Feeds {
    /// Serves on each of `addresses`; returns each one's base URL.
    async fn serve(&self, addresses: &[&str]) -> Vec<String> {
        let mut bases = Vec::new();
        for address in addresses {
            let this = self.clone();
            let handler = move |axum::extract::Path(feed): axum::extract::Path<String>| {
                let this = this.clone();
                async move { this.answer(feed).await }
            };
            let router = axum::Router::new().route("/{feed}", axum::routing::get(handler));
            let listener = tokio::net::TcpListener::bind(format!("{address}:0")).await.expect("bind");
            bases.push(format!("http://{address}:{}", listener.local_addr().expect("addr").port()));
            tokio::spawn(async move { axum::serve(listener, router).await });
        }
        bases
    }

    async fn answer(&self, feed: String) -> impl axum::response::IntoResponse {
        let start = Instant::now();
        self.started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))).await;
        let items = format!(
            "{}{}",
            rss_item(&format!("{feed}-a"), &format!("{feed} alpha"), 1),
            rss_item(&format!("{feed}-b"), &format!("{feed} beta"), 2)
        );
        let end = Instant::now();
        self.log.lock().expect("log").push(Seen { path: feed, start, end });
        ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], rss(&items))
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().expect("log").clone()
    }

    /// Each feed's requests, by start.
    fn by_feed(&self) -> HashMap<String, Vec<Seen>> {
        let mut out: HashMap<String, Vec<Seen>> = HashMap::new();
        for s in self.seen() {
            out.entry(s.path.clone()).or_default().push(s);
        }
        out.values_mut().for_each(|v| v.sort_by_key(|s| s.start));
        out
    }
}

/// The settings of one polling instance named `name` on `pg`, in `dir`.
fn instance(
    dir: &std::path::Path,
    name: &str,
    sources: &[(String, String)],
    pg: &PostgresSettings,
    polling: impl FnOnce(&mut newsriver::config::PollingSettings),
) -> Settings {
    let sources: Vec<(&str, String)> = sources.iter().map(|(id, url)| (id.as_str(), url.clone())).collect();
    let mut settings = test_settings(dir, &sources, |p| {
        p.enabled = true;
        p.every = Duration::from_secs(3);
        p.min_every = Duration::from_secs(1);
        p.jitter = Duration::ZERO;
        p.lease = Duration::from_secs(3);
        p.respect_robots = false;
        polling(p);
    });
    settings.store.postgres = Some(pg.clone());
    settings.server.instance = Some(name.to_owned());
    settings
}

/// Starts an in-process instance (its own poller and scheduler) on the shared database.
async fn start(
    name: &str,
    sources: &[(String, String)],
    pg: &PostgresSettings,
    polling: impl FnOnce(&mut newsriver::config::PollingSettings),
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = instance(dir.path(), name, sources, pg, polling);
    spawn_in(dir, settings).await
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Eight threads: the three apps share this runtime, and the store's calls block the thread they
// run on while the database answers (each process has its own runtime in production).
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn three_instances_poll_each_of_500_sources_once_per_interval() {
    let Some(pg) = fresh_postgres() else { return };
    let feeds = Feeds::default();
    // Ten hosts of 50 sources: each host is one instance's at a time, so its sources are polled
    // within that instance's per-host budget (32 here: politeness is the next test's).
    let hosts: Vec<String> = (1..=10).map(|i| format!("127.0.0.{i}")).collect();
    let bases = feeds.serve(&hosts.iter().map(String::as_str).collect::<Vec<_>>()).await;
    // 8 s: 500 sources then need 63 polls a second of three debug builds sharing two cores with
    // the rest of the suite; at 5 s (100 a second) they fall behind there, though not alone.
    let every = Duration::from_secs(8);
    let sources: Vec<(String, String)> =
        (0..500).map(|i| (format!("s{i}"), format!("{}/f{i}", bases[i % bases.len()]))).collect();
    let mut apps = Vec::new();
    let pg = PostgresSettings { pool: 8, ..pg };
    for name in ["one", "two", "three"] {
        apps.push(
            start(name, &sources, &pg, |p| {
                (p.concurrency, p.every) = (64, every);
                p.host_defaults = newsriver::config::HostLimits { concurrency: 32, min_gap: Duration::ZERO };
            })
            .await,
        );
    }
    wait_until("every source polled once", Duration::from_secs(30), || feeds.by_feed().len() == 500).await;
    tokio::time::sleep(3 * every).await;
    let pollers: Vec<_> = apps.iter().map(|a| a.poller.clone()).collect();
    for app in apps {
        app.stop().await;
    }
    let counts: Vec<u64> = (pollers.iter())
        .map(|p| sources.iter().map(|(id, _)| p.metrics().source(&SourceId::parse(id).expect("id")).polls).sum())
        .collect();
    let mut gaps: Vec<Duration> =
        feeds.by_feed().values().flat_map(|v| v.windows(2).map(|p| p[1].start - p[0].start)).collect();
    gaps.sort();
    eprintln!(
        "500 sources, 3 instances: gaps between polls of a source {:?} (min) {:?} (median) {:?} (max)",
        gaps[0],
        gaps[gaps.len() / 2],
        gaps[gaps.len() - 1]
    );
    // Not missed: no interval passes without a poll (a gap of at most two intervals and the 1 s
    // tick a due time may just miss), for 99 % of the gaps; three instances busy on two cores
    // beside the rest of the suite are late now and then (the figures above say by how much).
    let p99 = gaps[gaps.len() * 99 / 100];
    assert!(p99 <= 2 * every + Duration::from_secs(1), "99th percentile gap {p99:?}");
    for (feed, polls) in feeds.by_feed() {
        assert!(polls.len() >= 3, "{feed} polled {} times in 3 intervals and more", polls.len());
        for pair in polls.windows(2) {
            // Never two at once, never early: the next check is the interval after the last poll
            // started (its start in the poller, before it waited for a slot: up to 500 ms earlier
            // than the server saw it on a busy machine). A second instance's poll would come
            // within the same second.
            assert!(pair[1].start >= pair[0].end, "{feed}: two polls at once");
            let gap = pair[1].start - pair[0].start;
            assert!(gap + Duration::from_millis(500) >= every, "{feed} polled again after {gap:?}");
        }
    }
    let total: u64 = counts.iter().sum();
    // Each poll is one request, but for the polls the stop cut short (at most the 3 × 64 in
    // flight), which the server may have answered or not.
    let answered = feeds.seen().len() as u64;
    assert!(total.abs_diff(answered) <= 3 * 64, "{answered} requests, polls {counts:?}");
    // Hosts are leased whole, first come first served (README, "Per-host politeness"): an
    // instance that starts last may hold one host of the ten, a tenth of the sources less what
    // it missed while starting (8.5 % and 5.2 % of the polls in two runs on a loaded VM).
    // Every instance must take part, with at least a quarter of a host's share.
    assert!(counts.iter().all(|c| *c * 40 >= total), "polls spread over all three instances: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_keep_one_hosts_budget() {
    let Some(pg) = fresh_postgres() else { return };
    let feeds = Feeds::default();
    feeds.delay_ms.store(30, Ordering::SeqCst);
    let base = feeds.serve(&["127.0.0.1"]).await.remove(0);
    let sources: Vec<(String, String)> = (0..12).map(|i| (format!("h{i}"), format!("{base}/h{i}"))).collect();
    let gap = Duration::from_millis(300);
    let polite = |p: &mut newsriver::config::PollingSettings| {
        p.host_defaults = newsriver::config::HostLimits { concurrency: 1, min_gap: gap };
    };
    let a = start("left", &sources, &pg, polite).await;
    let b = start("right", &sources, &pg, polite).await;
    wait_until("every source polled twice", Duration::from_secs(30), || {
        let by = feeds.by_feed();
        by.len() == 12 && by.values().all(|v| v.len() >= 2)
    })
    .await;
    let polled_by: u64 =
        (0..12).map(|i| b.poller.metrics().source(&SourceId::parse(&format!("h{i}")).expect("id")).polls).sum();
    a.stop().await;
    b.stop().await;
    let mut seen = feeds.seen();
    seen.sort_by_key(|s| s.start);
    assert!(seen.len() >= 24);
    for pair in seen.windows(2) {
        assert!(pair[1].start >= pair[0].end, "two requests to one host at once: {pair:?}");
        // The budget spaces the sends; the server sees each start a little after its send, and
        // on a busy machine some much later than others: one seen 123 ms late (CI, 2026-12-03)
        // left a gap of 177 ms. Without the shared budget two instances send at once.
        assert!(pair[1].start - pair[0].start >= gap / 2, "two sends within half of min_gap: {pair:?}");
    }
    // A request seen late shortens the gap before it and lengthens the one after: over two
    // gaps the spacing shows whatever lateness there was.
    for three in seen.windows(3) {
        assert!(three[2].start - three[0].start >= gap * 3 / 2, "closer than min_gap twice over: {three:?}");
    }
    eprintln!("one host, two instances: {} requests, {polled_by} by the second", seen.len());
}

/// The item titles of a source's channel, as `/sources/{id}.json` on `base` lists them.
async fn titles(base: &str, id: &str) -> Vec<String> {
    let doc: serde_json::Value =
        reqwest::get(format!("{base}/sources/{id}.json")).await.expect("request").json().await.expect("json");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    items.iter().filter_map(|i| i["title"].as_str().map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_sources_are_taken_over_when_its_leases_run_out() {
    let Some(pg) = fresh_postgres() else { return };
    newsriver::fetch::install_crypto_provider();
    let feeds = Feeds::default();
    feeds.delay_ms.store(60_000, Ordering::SeqCst);
    let base = feeds.serve(&["127.0.0.1"]).await.remove(0);
    let sources: Vec<(String, String)> = (0..6).map(|i| (format!("k{i}"), format!("{base}/k{i}"))).collect();
    let (vdir, sdir) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let config = |dir: &tempfile::TempDir, name: &str| {
        let settings = instance(dir.path(), name, &sources, &pg, |p| p.timeout = Duration::from_secs(120));
        let path = dir.path().join(CONFIG_FILE);
        write_config(&path, &settings);
        path
    };
    let mut victim = Served::start(&config(&vdir, "victim"));
    victim.port().await;
    // Every source's poll is in flight (the server holds the answers): the victim holds them all.
    wait_until("the victim's polls reach the server", Duration::from_secs(20), || {
        feeds.started.load(Ordering::SeqCst) == 6
    })
    .await;
    victim.signal("-KILL");
    feeds.delay_ms.store(0, Ordering::SeqCst);
    let killed_at = Instant::now();
    let mut survivor = Served::start(&config(&sdir, "survivor"));
    let port = survivor.port().await;
    let survivor_base = format!("http://127.0.0.1:{port}");
    let _log = survivor.detach();
    wait_until("the survivor polls every source", Duration::from_secs(20), || feeds.by_feed().len() == 6).await;
    let first = feeds.seen().iter().map(|s| s.start).min().expect("a request");
    // The victim renewed its 3 s leases every second until it died: none ran out sooner than
    // 2 s after.
    assert!(first - killed_at >= Duration::from_millis(1_900), "taken over {:?} after the kill", first - killed_at);
    for (id, _) in &sources {
        let want = [format!("{id} alpha"), format!("{id} beta")];
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The answer is logged before the poll commits: wait for the commit, then compare.
            let mut got = titles(&survivor_base, id).await;
            got.sort();
            if got.len() >= 2 || Instant::now() > deadline {
                assert_eq!(got, want, "{id}: every item, once");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let health: serde_json::Value =
        reqwest::get(format!("{survivor_base}/healthz")).await.expect("healthz").json().await.expect("json");
    assert_eq!(health["instance"], "survivor");
    assert!(health["leases"].is_u64(), "{health}");
    let status: serde_json::Value =
        reqwest::get(format!("{survivor_base}/api/sources")).await.expect("sources").json().await.expect("json");
    let rows = status.as_array().expect("a list");
    assert!(rows.iter().all(|s| s["polled_by"] == "survivor" && s["polled_at"].is_string()), "{status}");
}
