//! Crash safety with the real binary: SIGKILL mid-ingest loses nothing acknowledged and a restart
//! re-adds nothing; SIGTERM stops cleanly; a bulk `poll` leaves a store the next start opens
//! without replaying sled's log.

use crate::helpers::*;
use newsriver::config::StoreSettings;
use newsriver::domain::{ChannelId, SourceId};
use newsriver::store::Store;
use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SOURCES: usize = 40;
const ITEMS: usize = 30;

/// Each source's own items, so no two sources carry the same story.
fn feed_body(name: &str) -> Vec<u8> {
    rss(&(0..ITEMS)
        .map(|i| rss_item(&format!("{name}-item-{i}"), &format!("{name} story {i}"), 1 + (i % 28) as u32))
        .collect::<String>())
}

/// Runs `poll`, returns the sources it acknowledged before `kill_after` acks (then SIGKILL),
/// or all of them when `kill_after` is None.
async fn poll_binary(config: &std::path::Path, kill_after: Option<usize>) -> (HashSet<String>, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(config)
        .arg("poll")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn newsriver");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut acked = HashSet::new();
    while let Ok(Some(line)) =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("poll progresses")
    {
        // "[3/40] s7: ok, 30 new, 0 updated, 0 unchanged" is printed only after the commit is flushed.
        if let Some((_, rest)) = line.split_once("] ") {
            if let Some((id, outcome)) = rest.split_once(": ") {
                if outcome.starts_with("ok") || outcome.starts_with("unchanged") {
                    acked.insert(id.to_owned());
                }
            }
        }
        if kill_after.is_some_and(|n| acked.len() >= n) {
            child.start_kill().expect("SIGKILL");
            break;
        }
    }
    let status = child.wait().await.expect("wait");
    (acked, status.success())
}

fn counts(store: &StoreSettings) -> (Vec<(String, usize)>, usize) {
    let store = Store::open_settings(store).expect("reopen store after kill");
    let per: Vec<(String, usize)> = (0..SOURCES)
        .map(|i| {
            let id = SourceId::parse(&format!("s{i}")).expect("slug");
            let listed = store.latest(&ChannelId::Source(id.clone()), usize::MAX).expect("read").len();
            let counted = store.channel_count(&ChannelId::Source(id.clone())).expect("count");
            assert_eq!(counted, listed as u64, "{id}: the stored counter agrees with the list");
            (id.to_string(), listed)
        })
        .collect();
    let total = store.latest(&ChannelId::All, usize::MAX).expect("read").len();
    assert_eq!(store.entry_count(), total, "the entry counter agrees with the timeline");
    (per, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_loses_nothing_acknowledged_and_restart_readds_nothing() {
    let base = path_server(Duration::from_millis(60), feed_body).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources: Vec<(String, String)> = (0..SOURCES).map(|i| (format!("s{i}"), format!("{base}/f{i}"))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let settings = test_settings(dir.path(), &refs, |p| {
        p.concurrency = 2;
        set_per_host(p, 2);
        p.initial_items = 1000;
        // On PostgreSQL a killed poll's sources stay leased this long: later runs skip them.
        p.lease = Duration::from_secs(1);
    });
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    let store_path = settings.store;

    let mut acked_total = HashSet::new();
    for kill_after in [3, 8, 15] {
        let (acked, _) = poll_binary(&config, Some(kill_after)).await;
        acked_total.extend(acked);
        let (per, total) = counts(&store_path);
        for (id, n) in &per {
            assert!(*n == 0 || *n == ITEMS, "{id} has {n} entries: a poll commits all or nothing");
            if acked_total.contains(id) {
                assert_eq!(*n, ITEMS, "{id} was acknowledged, so all its entries survive SIGKILL");
            }
        }
        assert_eq!(total, per.iter().map(|p| p.1).sum::<usize>(), "timeline and per-source index agree");
    }
    if store_path.postgres.is_some() {
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    }
    let (acked, ok) = poll_binary(&config, None).await;
    assert!(ok, "a full poll exits 0");
    assert_eq!(acked.len(), SOURCES);
    let (per, total) = counts(&store_path);
    assert!(per.iter().all(|(_, n)| *n == ITEMS), "{per:?}");
    assert_eq!(total, SOURCES * ITEMS, "no duplicates after restarts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_serve_cleanly_with_the_store_flushed() {
    let base = path_server(Duration::from_millis(0), feed_body).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = test_settings(dir.path(), &[("s0", format!("{base}/feed"))], |p| {
        p.enabled = true;
        p.initial_items = 1000;
    });
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    let store_path = settings.store;
    let mut served = Served::start(&config);
    assert!(served.wait_for("polled").await.is_some(), "serve polled the source");
    served.signal("-TERM");
    let mut child = served.detach();
    let status =
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops within 15 s").expect("wait");
    assert!(status.success(), "{status:?}");
    let at_exit = store_path.postgres.is_none().then(|| snapshots(&store_path.path));
    let store = Store::open_settings(&store_path).expect("store usable after stop");
    assert_eq!(store.latest(&ChannelId::All, usize::MAX).expect("read").len(), ITEMS);
    if let Some(at_exit) = at_exit {
        assert_eq!(snapshots(&store_path.path), at_exit, "serve closed its store: the next open replays nothing");
    }
}

/// sled's snapshot files (`snap.<log position>`): an open that replays logged writes records a
/// new one, so an unchanged list means the open started from the snapshot alone.
fn snapshots(dir: &std::path::Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).expect("store dir").map(|e| e.expect("entry").file_name());
    let mut snaps: Vec<String> =
        names.map(|n| n.to_string_lossy().into_owned()).filter(|n| n.starts_with("snap.")).collect();
    snaps.sort();
    assert!(!snaps.is_empty(), "sled keeps a snapshot file in {}", dir.display());
    snaps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_poll_leaves_a_store_the_next_start_opens_without_replay() {
    if postgres_selected() {
        return; // sled's log replay: PostgreSQL has none
    }
    let base = path_server(Duration::from_millis(0), feed_body).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources: Vec<(String, String)> = (0..SOURCES).map(|i| (format!("s{i}"), format!("{base}/s{i}"))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(id, url)| (id.as_str(), url.clone())).collect();
    let settings = test_settings(dir.path(), &refs, |p| p.initial_items = 1000);
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    let (acked, ok) = poll_binary(&config, None).await;
    assert!(ok && acked.len() == SOURCES, "{} of {SOURCES} polled", acked.len());
    let at_exit = snapshots(&settings.store.path);
    let (_, total) = counts(&settings.store);
    assert_eq!(total, SOURCES * ITEMS);
    assert_eq!(snapshots(&settings.store.path), at_exit, "the open after the poll had no log to replay");
}
