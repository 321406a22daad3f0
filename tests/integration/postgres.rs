//! The PostgreSQL store, always (whatever `NEWSRIVER_TEST_STORE` says): apps on a fresh database of
//! the tests' throwaway cluster ingest, serve, restart and page `since`; two apps on one database
//! (two instances) commit the same stories at once, and one takes in the near-duplicates the other
//! committed; `newsriver migrate` run twice at once applies
//! each migration once; the password is never shown. Skipped loudly without PostgreSQL binaries.

use crate::helpers::*;
use newsriver::domain::ChannelId;
use std::collections::{HashMap, HashSet};

/// An app with `sources` on a fresh database; `None` without PostgreSQL.
async fn pg_app(sources: &[(&str, String)], pg: &newsriver::config::PostgresSettings) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), sources, |p| p.initial_items = 1000);
    settings.store.postgres = Some(pg.clone());
    spawn_in(dir, settings).await
}

fn ids(feed: &feed_rs::model::Feed) -> HashSet<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_serve_and_a_restart_that_readds_nothing() {
    let Some(pg) = fresh_postgres() else { return };
    let items: String = (0..6).map(|i| rss_item(&format!("p{i}"), &format!("Story {i}"), 1 + i)).collect();
    let feed = serve_body("/feed", rss(&items), "application/rss+xml").await;
    let app = pg_app(&[("paper", format!("{}/feed", feed.uri()))], &pg).await;
    assert_eq!(report(&app.poll_now().await, "paper").summary.new, 6);
    let before = ids(&app.feed("/feeds/all.atom").await);
    assert_eq!(before.len(), 6);
    let settings = app.settings();
    let app = app.restart(settings).await;
    assert_eq!(ids(&app.feed("/feeds/all.atom").await), before, "served from the database after a restart");
    let again = app.poll_now().await;
    assert_eq!(report(&again, "paper").summary.new, 0, "a restart re-adds nothing");
    assert_eq!(app.state.store.entry_count(), 6);
    assert_eq!(app.state.store.channel_count(&ChannelId::All).expect("count"), 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_pages_see_every_item_once() {
    let Some(pg) = fresh_postgres() else { return };
    let base = growing_feeds(3).await;
    let app = pg_app(&[("a", format!("{base}/a")), ("b", format!("{base}/b"))], &pg).await;
    let (mut cursor, mut seen) = ("0".to_owned(), Vec::new());
    for _ in 0..4 {
        app.poll_now().await;
        loop {
            let resp = app.get(&format!("/feeds/all.json?since={cursor}&limit=4")).await;
            assert_eq!(resp.status(), 200);
            cursor = resp.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
            let doc: serde_json::Value = resp.json().await.expect("json");
            let items = doc["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                break;
            }
            seen.extend(items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)));
        }
    }
    let stored: HashSet<String> = app.all_entries().iter().map(|e| e.key.urn()).collect();
    assert!(stored.len() >= 2 * 12, "{} stored", stored.len());
    assert_eq!(seen.len(), stored.len(), "no item repeated");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), stored, "no item missed");
    app.stop().await;
}

/// `n` items whose links are shared with the other outlet's feed: each pair is one story.
fn shared_stories(outlet: &str, n: usize) -> Vec<u8> {
    let item = |i: usize| {
        format!(
            "<item><guid isPermaLink=\"false\">{outlet}-{i}</guid><title>{outlet} on story {i}</title>\
             <link>https://wire.example/story-{i}</link><description>Report {i} by {outlet}</description>\
             <pubDate>0{} Nov 2026 10:00:00 +0000</pubDate></item>",
            1 + i % 9
        )
    };
    rss(&(0..n).map(item).collect::<String>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_committing_one_story_at_once_make_one_story() {
    let Some(pg) = fresh_postgres() else { return };
    let (n, outlets) = (8, ["alpha", "beta", "gamma", "delta", "omega", "sigma"]);
    let mut servers = Vec::new();
    for outlet in outlets {
        servers.push(serve_body("/feed", shared_stories(outlet, n), "application/rss+xml").await);
    }
    let sources: Vec<(&str, String)> =
        outlets.iter().zip(&servers).map(|(id, s)| (*id, format!("{}/feed", s.uri()))).collect();
    // Each instance polls half of the outlets; all of them carry the same stories.
    let first = pg_app(&sources[..3], &pg).await;
    let second = pg_app(&sources[3..], &pg).await;
    let (ra, rb) = tokio::join!(first.poll_now(), second.poll_now());
    assert!(ra.iter().chain(&rb).all(|r| r.summary.new == n), "{ra:?} {rb:?}");
    let store = &first.state.store;
    let merged = store.latest(&ChannelId::All, usize::MAX).expect("read");
    assert_eq!(merged.len(), n, "the merged channel shows each story once");
    let source = |id: &str| ChannelId::Source(newsriver::domain::SourceId::parse(id).expect("slug"));
    let mut all = Vec::new();
    for outlet in outlets {
        all.extend(store.latest(&source(outlet), usize::MAX).expect("read"));
    }
    let mut stories: HashMap<_, usize> = HashMap::new();
    for e in &all {
        *stories.entry(e.story.unwrap_or(e.key)).or_default() += 1;
    }
    assert_eq!(all.len(), outlets.len() * n);
    assert_eq!(stories.len(), n, "each shared link is one story: {stories:?}");
    let seqs: HashSet<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), all.len(), "every change-log number given out once");
    let mut log = 0;
    for outlet in outlets {
        log += second.state.store.since(&source(outlet), 0, 1000).expect("since").entries.len();
    }
    assert_eq!(log, all.len(), "the change log holds every item once");
    first.stop().await;
    second.stop().await;
}

const WIRE: &str = "The third round of talks between the delegations of Caldoria and Veshtan on a durable \
    ceasefire will open on Monday in Port Alder, the ministry said, adding that both sides had agreed an \
    agenda covering verification of the truce line, the exchange of detained civilians and the reopening \
    of the river crossings to humanitarian convoys before the winter sets in across the region.";

/// One item at `link` with `body`, published an hour ago.
fn one_item(guid: &str, link: &str, body: &str) -> Vec<u8> {
    let published = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc2822();
    rss(&format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>Talks in Port Alder</title><link>{link}</link>\
         <description>{body}</description><pubDate>{published}</pubDate></item>"
    ))
}

/// An instance whose near-duplicate index is loaded already must still see what another
/// instance committed since: a repost with its own introduction joins the other's story.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_duplicate_joins_a_story_another_instance_committed() {
    let Some(pg) = fresh_postgres() else { return };
    let intro = "Readers asked us to publish the complete text, so here it is without edits, as received \
        from the press office shortly after noon; our correspondent will report from the hall.";
    let early = serve_body(
        "/feed",
        one_item(
            "e1",
            "https://early.example/1",
            "Markets were calm today, traders said, \
        as the central bank left its rates unchanged for the fourth month in a row.",
        ),
        "application/rss+xml",
    )
    .await;
    let wire = serve_body("/feed", one_item("w1", "https://wire.example/talks", WIRE), "application/rss+xml").await;
    let daily = serve_body("/feed", rss(""), "application/rss+xml").await;
    let a = pg_app(&[("wire", format!("{}/feed", wire.uri()))], &pg).await;
    let b =
        pg_app(&[("early", format!("{}/feed", early.uri())), ("daily", format!("{}/feed", daily.uri()))], &pg).await;
    // B commits first (its index is loaded then), A next, then B's repost.
    assert_eq!(report(&b.poll_now().await, "early").summary.new, 1);
    assert_eq!(report(&a.poll_now().await, "wire").summary.new, 1);
    daily.reset().await;
    let repost = one_item("r1", "https://daily.example/r", &format!("{intro} {WIRE}"));
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(repost, "application/rss+xml"))
        .mount(&daily)
        .await;
    assert_eq!(report(&b.poll_now().await, "daily").summary.new, 1);
    let story = |source: &str| b.source_entries(source).first().map(|e| e.story.unwrap_or(e.key));
    assert!(story("wire").is_some());
    assert_eq!(story("daily"), story("wire"), "the repost is in the wire's story");
    assert_ne!(story("early"), story("wire"));
    a.stop().await;
    b.stop().await;
}

fn newsriver_with(config: &std::path::Path, command: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"));
    cmd.arg("--config").arg(config).arg(command);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    cmd
}

fn newsriver(config: &std::path::Path, command: &str) -> std::process::Child {
    newsriver_with(config, command).spawn().expect("run newsriver")
}

fn finish(child: std::process::Child) -> String {
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains(postgres::TEST_PASSWORD) && !stderr.contains(postgres::TEST_PASSWORD), "{stdout}{stderr}");
    stdout.into_owned()
}

#[test]
fn migrations_run_once_when_two_processes_start_at_once() {
    let Some(pg) = fresh_postgres() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[], |_| {});
    settings.store.postgres = Some(pg);
    let config = dir.path().join(CONFIG_FILE);
    write_config(&config, &settings);
    let both = [newsriver(&config, "migrate"), newsriver(&config, "migrate")].map(finish);
    let applied: Vec<&str> = both.iter().flat_map(|out| out.lines()).filter(|l| l.starts_with("applied ")).collect();
    assert_eq!(applied, ["applied 0001 records", "applied 0002 leases"], "{both:?}");
    assert!(finish(newsriver(&config, "migrate")).contains("(0 migration(s) applied now)"));
    let check = finish(newsriver(&config, "check"));
    assert!(check.contains("store postgres://postgres:***@127.0.0.1:"), "{check}");
}

/// `NEWSRIVER_DATABASE_URL` selects PostgreSQL over a sled config, and is never shown either.
#[test]
fn the_environment_url_selects_postgres_without_showing_its_password() {
    let Some(pg) = fresh_postgres() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join(CONFIG_FILE);
    let mut settings = test_settings(dir.path(), &[], |_| {});
    settings.store.postgres = None;
    write_config(&config, &settings);
    let run = |command: &str| {
        let mut child = newsriver_with(&config, command);
        child.env(newsriver::config::DATABASE_URL_ENV, pg.url.expose());
        finish(child.spawn().expect("run newsriver"))
    };
    assert!(run("check").contains("store postgres://postgres:***@127.0.0.1:"));
    assert!(run("migrate").contains("applied 0001 records"), "the database named by the variable is used");
    assert!(!dir.path().join("store").exists(), "no sled store was made");
}
