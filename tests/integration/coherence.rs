//! Several instances on one PostgreSQL database keep their render caches coherent: a commit on
//! one is served by another within a second (new ETag, new item), both serve the same bytes and
//! ETag for the same store (a client behind a load balancer gets 304s from either), a `since`
//! reader sees every item of two instances' concurrent commits exactly once, and invalidation
//! goes on when the listening connection is killed. Skipped loudly without PostgreSQL binaries.

use crate::helpers::*;
use newsriver::config::PostgresSettings;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An app with `sources` on the database `pg`, serving only (`[polling] enabled = false`): the
/// tests poll on demand, through `poll_now`.
async fn instance(sources: &[(&str, String)], pg: &PostgresSettings) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), sources, |p| {
        p.initial_items = 1000;
        p.enabled = false;
    });
    settings.store.postgres = Some(pg.clone());
    spawn_in(dir, settings).await
}

/// The channel's ETag, body, and parsed item titles.
async fn fetch(app: &TestApp, path: &str) -> (String, Vec<u8>, HashSet<String>) {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    let etag = resp.headers()["etag"].to_str().expect("etag").to_owned();
    let body = resp.bytes().await.expect("body").to_vec();
    let feed = feed_rs::parser::parse(body.as_slice()).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
    (etag, body, feed.entries.into_iter().filter_map(|e| e.title.map(|t| t.content)).collect())
}

async fn status_with_etag(app: &TestApp, path: &str, etag: &str) -> u16 {
    let resp = app.client.get(format!("{}{path}", app.base)).header("if-none-match", etag).send().await.expect("get");
    resp.status().as_u16()
}

/// Polls `app`'s channel every 50 ms until its ETag is not `old` and it lists `title`; how long
/// that took. Fails after `limit`.
async fn until_served(app: &TestApp, path: &str, old: &str, title: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (etag, _, titles) = fetch(app, path).await;
        if etag != old && titles.contains(title) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{path} still without {title:?} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_on_one_instance_is_served_by_another_within_a_second() {
    let Some(pg) = fresh_postgres() else { return };
    let base = growing_feeds(2).await;
    let sources = [("wire", format!("{base}/wire")), ("quiet", format!("{base}/never-polled"))];
    let a = instance(&sources[..1], &pg).await;
    let b = instance(&sources, &pg).await;
    a.poll_now().await;
    let path = "/feeds/all.atom";
    // B renders (and caches) the channel before each of A's commits.
    let (mut tag, body, _) = fetch(&b, path).await;
    assert_eq!(fetch(&a, path).await.1, body, "one store, the same bytes on both");
    for round in 0..3 {
        a.poll_now().await;
        let newest = format!("wire report {}", 2 * (round + 2) - 1);
        let took = until_served(&b, path, &tag, &newest, Duration::from_secs(1)).await;
        eprintln!("coherence: round {round}: the other instance served the commit after {} ms", took.as_millis());
        let (a_tag, a_body, _) = fetch(&a, path).await;
        let (b_tag, b_body, _) = fetch(&b, path).await;
        assert_eq!(a_body, b_body, "the same bytes on both after the commit");
        assert_eq!(a_tag, b_tag);
        assert_eq!(status_with_etag(&a, path, &b_tag).await, 304, "B's ETag is good at A");
        assert_eq!(status_with_etag(&b, path, &a_tag).await, 304, "A's ETag is good at B");
        tag = b_tag;
    }
    // An empty channel too: rendered a second apart, by two processes started apart.
    let (_, first, titles) = fetch(&b, "/sources/quiet.atom").await;
    assert!(titles.is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let c = instance(&sources, &pg).await;
    assert_eq!(fetch(&c, "/sources/quiet.atom").await.1, first, "an empty channel's bytes are the store's");
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

/// Reads `/feeds/all.json?since=` pages from `app` until no item comes; returns the cursor.
async fn read_since(app: &TestApp, mut cursor: String, seen: &mut Vec<String>) -> String {
    loop {
        let resp = app.get(&format!("/feeds/all.json?since={cursor}&limit=7")).await;
        assert_eq!(resp.status(), 200);
        cursor = resp.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
        let doc: serde_json::Value = resp.json().await.expect("json");
        let items = doc["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return cursor;
        }
        seen.extend(items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_since_reader_sees_every_item_of_two_instances_once() {
    let Some(pg) = fresh_postgres() else { return };
    let base = growing_feeds(1).await;
    let names = ["n1", "n2", "n3", "n4"];
    let sources: Vec<(&str, String)> = names.iter().map(|n| (*n, format!("{base}/{n}"))).collect();
    let a = Arc::new(instance(&sources[..2], &pg).await);
    let b = Arc::new(instance(&sources[2..], &pg).await);
    let rounds = 12;
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|app| {
            tokio::spawn(async move {
                for _ in 0..rounds {
                    app.poll_now().await;
                }
            })
        })
        .collect();
    let (mut cursor, mut seen, mut turn) = ("0".to_owned(), Vec::new(), 0usize);
    // Alternating between the instances, as a reader behind a load balancer does.
    while writers.iter().any(|w| !w.is_finished()) {
        let app = if turn % 2 == 0 { &a } else { &b };
        cursor = read_since(app, cursor, &mut seen).await;
        turn += 1;
    }
    for w in writers {
        w.await.expect("writer");
    }
    read_since(&b, cursor, &mut seen).await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an item seen twice");
    let stored: HashSet<String> = a.all_entries().iter().map(|e| e.key.urn()).collect();
    assert_eq!(stored.len(), names.len() * rounds, "every poll brought one item");
    assert_eq!(unique, stored.iter().collect(), "an item missed");
    assert!(turn > 2, "the reader read while the instances committed ({turn} turns)");
    let (a, b) = (Arc::into_inner(a).expect("one owner"), Arc::into_inner(b).expect("one owner"));
    a.stop().await;
    b.stop().await;
}

/// Ends every listening connection of `pg`'s database; how many there were.
async fn kill_listeners(pg: &PostgresSettings) -> u64 {
    let (client, conn) = tokio_postgres::connect(pg.url.expose(), tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
               WHERE application_name = $1 AND datname = current_database()";
    let row = client.query_one(sql, &[&newsriver::store::LISTENER_NAME]).await.expect("terminate");
    row.get::<_, i64>(0).unsigned_abs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_goes_on_when_the_listening_connection_is_killed() {
    let Some(pg) = fresh_postgres() else { return };
    let base = growing_feeds(1).await;
    let sources = [("wire", format!("{base}/wire"))];
    let a = instance(&sources, &pg).await;
    let b = instance(&sources, &pg).await;
    a.poll_now().await;
    let path = "/sources/wire.json";
    let (mut tag, _, _) = fetch(&b, path).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while kill_listeners(&pg).await < 2 {
        assert!(Instant::now() < deadline, "the instances never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for round in 0..3 {
        a.poll_now().await;
        let newest = format!("wire report {}", round + 1);
        // Within the change-log check's period even if nothing was heard.
        let limit = newsriver::coherence::CHECK_EVERY + Duration::from_secs(1);
        let took = until_served(&b, path, &tag, &newest, limit).await;
        eprintln!("coherence: after the LISTEN connection was killed: served after {} ms", took.as_millis());
        tag = fetch(&b, path).await.0;
        kill_listeners(&pg).await;
    }
    a.stop().await;
    b.stop().await;
}
