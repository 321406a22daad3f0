//! `newsriver backup`: a consistent copy of the store while ingest runs, made by the running
//! service (which holds the store open) or from the store when the service is stopped.

use crate::helpers::*;
use newsriver::domain::{ChannelId, SourceId};
use newsriver::store::Store;
use std::collections::HashSet;
use std::time::Duration;

const SOURCES: usize = 30;
const ITEMS: usize = 20;

fn feed_body(name: &str) -> Vec<u8> {
    rss(&(0..ITEMS)
        .map(|i| rss_item(&format!("{name}-{i}"), &format!("{name} report {i}"), 1 + i as u32))
        .collect::<String>())
}

/// The entry ids in the merged channel of the store at `path`, after checking the copy is whole:
/// every source has all of its items or none (a poll commits all or nothing) and the counters
/// agree with the lists.
fn whole_store_ids(path: &std::path::Path) -> HashSet<String> {
    let store = Store::open(path, 1 << 20).expect("the backup opens as a store");
    for i in 0..SOURCES {
        let ch = ChannelId::Source(SourceId::parse(&format!("s{i}")).expect("slug"));
        let n = store.latest(&ch, usize::MAX).expect("read").len();
        assert!(n == 0 || n == ITEMS, "s{i} has {n} items in the copy: a commit was copied in part");
        assert_eq!(store.channel_count(&ch).expect("count"), n as u64, "s{i}: counter and list agree");
    }
    let all = store.latest(&ChannelId::All, usize::MAX).expect("read");
    assert_eq!(store.entry_count(), all.len(), "the entry counter agrees with the timeline");
    all.into_iter().map(|e| e.key.to_string()).collect()
}

/// Every item the running store has acknowledged.
fn stored_ids(app: &TestApp) -> HashSet<String> {
    app.all_entries().into_iter().map(|e| e.key.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_ingest_holds_every_acknowledged_item_and_no_partial_commit() {
    if sled_only("backup copies sled's files; PostgreSQL is backed up with pg_dump") {
        return;
    }
    let base = path_server(Duration::from_millis(40), feed_body).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources: Vec<(String, String)> = (0..SOURCES).map(|i| (format!("s{i}"), format!("{base}/f{i}"))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let settings = test_settings(dir.path(), &refs, |p| {
        p.concurrency = 3;
        set_per_host(p, 3);
        p.initial_items = 1000;
    });
    let app = spawn_in(dir, settings).await;
    let poller = app.poller.clone();
    let ingest =
        tokio::spawn(async move { poller.poll_all(&tokio_util::sync::CancellationToken::new(), |_| {}).await });
    // Let some polls land, then copy while the others are still committing.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let before = stored_ids(&app);
    let copy = tempfile::tempdir().expect("backup dir");
    let target = copy.path().join("store");
    let resp =
        app.client.post(format!("{}/api/backup", app.base)).json(&serde_json::json!({ "dir": target })).send().await;
    let resp = resp.expect("backup request");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let reports = ingest.await.expect("ingest");
    assert!(!ingest_finished_before(&before), "the copy was made while ingest ran");
    assert_eq!(reports.len(), SOURCES);
    let copied = whole_store_ids(&target);
    assert!(before.is_subset(&copied), "every item acknowledged before the backup is in it");
    assert!(copied.is_subset(&stored_ids(&app)), "the copy holds nothing the store does not");
    let again = app.client.post(format!("{}/api/backup", app.base)).json(&serde_json::json!({ "dir": target })).send();
    assert_eq!(again.await.expect("request").status(), 400, "a backup never writes into a used folder");
    let relative =
        app.client.post(format!("{}/api/backup", app.base)).json(&serde_json::json!({ "dir": "rel" })).send();
    assert_eq!(relative.await.expect("request").status(), 400, "the folder must be absolute");
}

/// Whether every item had been stored before the backup: then the test proved nothing.
fn ingest_finished_before(before: &HashSet<String>) -> bool {
    before.len() == SOURCES * ITEMS
}

fn backup_cli(config: &std::path::Path, dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(config)
        .arg("backup")
        .arg(dir)
        .output()
        .expect("run newsriver backup")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_command_asks_the_running_service_and_reads_the_store_when_it_is_stopped() {
    if sled_only("backup copies sled's files; PostgreSQL is backed up with pg_dump") {
        return;
    }
    let base = path_server(Duration::from_millis(0), feed_body).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[("s0", format!("{base}/feed"))], |p| p.initial_items = 1000);
    // The command finds the service at `server.listen`: a fixed port, free a moment ago.
    settings.server.listen = ([127, 0, 0, 1], free_port()).into();
    let config = dir.path().join(CONFIG_FILE);
    let settings = write_config(&config, &settings);
    let app = spawn_in(dir, settings).await;
    app.poll_now().await;
    let copies = tempfile::tempdir().expect("backups");
    let (live, cold) = (copies.path().join("live"), copies.path().join("cold"));
    let (c, l) = (config.clone(), live.clone());
    let out = tokio::task::spawn_blocking(move || backup_cli(&c, &l)).await.expect("join");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(&format!("backed up {ITEMS} entries")) && said.contains("by the service"), "{said}");
    let (c, l) = (config.clone(), live.clone());
    let refused = tokio::task::spawn_blocking(move || backup_cli(&c, &l)).await.expect("join");
    assert!(!refused.status.success(), "a used folder is refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    let kept = app.stop_keeping_dir().await;
    let out = backup_cli(&kept.path().join(CONFIG_FILE), &cold);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && said.contains("service not running"), "{said}");
    let (live_ids, cold_ids) = (restored_ids(&live), restored_ids(&cold));
    assert_eq!(live_ids.len(), ITEMS);
    assert_eq!(live_ids, cold_ids, "both ways copy the same store");
}

fn restored_ids(path: &std::path::Path) -> HashSet<String> {
    let store = Store::open(path, 1 << 20).expect("the backup opens as a store");
    store.latest(&ChannelId::All, usize::MAX).expect("read").into_iter().map(|e| e.key.to_string()).collect()
}
