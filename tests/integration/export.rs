//! The static export: `newsriver export DIR` against the live server's channels, `[export] dir`
//! kept current by `serve`, and files that are never seen half-written.

use crate::helpers::*;
use newsriver::domain::ChannelId;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const TOPIC: &str = r#"
[[topic]]
id = "ports"
title = "Ports"
any = ["port"]
"#;

const CDN: &str = "https://cdn.example.org/news";

/// Every channel file a config with sources `a`, `b` and topic `ports` exports, as URL paths.
fn channel_paths() -> Vec<String> {
    let names = ["/feeds/all", "/topics/ports", "/sources/a", "/sources/b"];
    names.iter().flat_map(|n| ["rss", "atom", "json"].map(|ext| format!("{n}.{ext}"))).collect()
}

fn ids(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

fn parse_file(path: &Path) -> feed_rs::model::Feed {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    feed_rs::parser::parse(bytes.as_slice()).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

/// Sources `a` (two port items) and `b` (one other), and the topic `ports`.
async fn two_sources() -> (TestApp, wiremock::MockServer, wiremock::MockServer) {
    let a_items = [rss_item("a1", "Port strike ends", 20), rss_item("a2", "Port reopens", 21)].concat();
    let a = serve_body("/feed", rss(&a_items), "application/rss+xml").await;
    let b = serve_body("/feed", rss(&rss_item("b1", "Markets calm", 22)), "application/rss+xml").await;
    let sources = [("a", format!("{}/feed", a.uri())), ("b", format!("{}/feed", b.uri()))];
    let app = spawn_app_with_topics(&sources, TOPIC).await;
    (app, a, b)
}

#[tokio::test]
async fn export_command_writes_what_the_server_serves() {
    let (app, _a, _b) = two_sources().await;
    app.poll_now().await;
    let mut live = Vec::new();
    for path in channel_paths() {
        live.push((path.clone(), ids(&app.feed(&path).await)));
    }
    assert_eq!(live[0].1.len(), 3, "the merged channel holds every item");
    let mut settings = app.settings();
    settings.export.base_url = Some(url::Url::parse(CDN).expect("url"));
    let dir = app.stop_keeping_dir().await;
    let cfg = dir.path().join(CONFIG_FILE);
    write_config(&cfg, &settings);
    let out_dir = dir.path().join("public");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(&cfg)
        .arg("export")
        .arg(&out_dir)
        .output()
        .expect("run newsriver export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 channels, 22 files"), "{out:?}");
    for (path, want) in &live {
        let file = out_dir.join(path.trim_start_matches('/'));
        assert_eq!(&ids(&parse_file(&file)), want, "{path}");
        // The document names where it is hosted, not the server.
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.contains(&format!("{CDN}{path}")), "{path} does not link itself under {CDN}:\n{text}");
        assert!(!text.contains(PUBLIC_URL), "{path} still names the server:\n{text}");
        if let Some(stem) = path.strip_suffix(".json") {
            // ninjs is exported beside the feeds, with the same items.
            let doc: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(out_dir.join(format!("{stem}.ninjs").trim_start_matches('/'))).expect("ninjs"),
            )
            .expect("ninjs parses");
            let uris: Vec<String> = doc["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["uri"].to_string().trim_matches('"').to_owned())
                .collect();
            assert_eq!(&uris, want, "{stem}.ninjs");
        }
    }
    check_opml(&out_dir);
    check_index_links(&out_dir);
}

/// The OPML lists every channel once, under the export's base, and each is a written file.
fn check_opml(dir: &Path) {
    let opml = std::fs::read_to_string(dir.join("channels.opml")).expect("opml");
    let listed: BTreeSet<String> =
        opml.split("xmlUrl=\"").skip(1).filter_map(|s| s.split('"').next()).map(String::from).collect();
    let want: BTreeSet<String> =
        channel_paths().into_iter().filter(|p| p.ends_with(".rss")).map(|p| format!("{CDN}{p}")).collect();
    assert_eq!(listed, want, "{opml}");
    for url in &listed {
        assert!(dir.join(url.trim_start_matches(CDN).trim_start_matches('/')).is_file(), "{url}");
    }
}

/// Every link of the index page resolves to a written file, and every channel file is linked.
fn check_index_links(dir: &Path) {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index");
    let hrefs: BTreeSet<&str> = html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    for href in &hrefs {
        assert!(!href.starts_with('/') && !href.contains("://"), "{href} is not relative");
        assert!(dir.join(href).is_file(), "{href} in index.html is not a written file");
    }
    for path in channel_paths() {
        assert!(hrefs.contains(path.trim_start_matches('/')), "{path} is not linked from the index");
    }
    // Each channel's page is exported beside its feeds and listed by the index.
    for name in ["feeds/all", "topics/ports", "sources/a", "sources/b"] {
        let page = format!("{name}.html");
        assert!(hrefs.contains(page.as_str()), "{page} is not linked from the index");
        let doc = dom_query::Document::from(std::fs::read_to_string(dir.join(&page)).expect("page"));
        let feed = parse_file(&dir.join(format!("{name}.atom")));
        assert_eq!(doc.select("article").length(), feed.entries.len(), "{page} lists what its feed lists");
    }
    assert!(hrefs.contains("channels.opml"));
}

#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).expect("metadata"))
}

/// Polls `file` until its channel holds `id`, for at most ten seconds.
async fn wait_for_item(file: &Path, title: &str) -> feed_rs::model::Feed {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let feed = std::fs::read(file).ok().and_then(|b| feed_rs::parser::parse(b.as_slice()).ok());
        if let Some(feed) =
            feed.filter(|f| f.entries.iter().any(|e| e.title.as_ref().is_some_and(|t| t.content == title)))
        {
            return feed;
        }
        assert!(Instant::now() < deadline, "{} never got {title:?}", file.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(unix)]
#[tokio::test]
async fn serve_keeps_the_export_folder_current_and_rewrites_only_changed_channels() {
    let a = serve_body("/feed", rss(&rss_item("a1", "Port strike ends", 20)), "application/rss+xml").await;
    let b = serve_body("/feed", rss(&rss_item("b1", "Markets calm", 22)), "application/rss+xml").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [("a", format!("{}/feed", a.uri())), ("b", format!("{}/feed", b.uri()))];
    let mut settings = test_settings(dir.path(), &sources, |_| {});
    let public = dir.path().join("public");
    settings.export.dir = Some(public.clone());
    let app = spawn_in(dir, settings).await;
    // Everything is written at start, before any poll.
    wait_until(|| public.join("index.html").is_file() && public.join("sources/b.json").is_file()).await;
    app.poll_now().await;
    // Channels are written merged first, sources last, then the index: wait for the end.
    wait_for_item(&public.join("sources/b.json"), "Markets calm").await;
    let index = public.join("index.html");
    wait_until(|| std::fs::read_to_string(&index).is_ok_and(|t| t.contains("2026-11-22 10:00 UTC"))).await;
    // A tick that read b's version just before b's commit wrote b's new items and writes b once
    // more on the next tick (the version it recorded was older): let that settle first.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let b_file = public.join("sources/b.rss");
    let (b_before, index_before) = (inode(&b_file), inode(&public.join("index.html")));
    a.reset().await;
    let a_items = [rss_item("a1", "Port strike ends", 20), rss_item("a2", "Port reopens", 23)].concat();
    mount(&a, "/feed", 200, rss(&a_items), "application/rss+xml").await;
    app.poll_now().await;
    for file in ["sources/a.rss", "sources/a.json", "feeds/all.rss"] {
        wait_for_item(&public.join(file), "Port reopens").await;
    }
    // The index is written after the channels: wait for it rather than race it.
    let index = public.join("index.html");
    wait_until(|| inode(&index) != index_before).await;
    assert_eq!(inode(&b_file), b_before, "source b did not change and was written again");
    app.stop().await;
}

async fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readers_never_see_a_partial_file() {
    let items: String = (0..200)
        .map(|i| rss_item(&format!("i{i}"), &format!("Port item {i} {}", "word ".repeat(80)), 1 + i % 28))
        .collect();
    let src = serve_body("/feed", rss(&items), "application/rss+xml").await;
    let app = spawn_app_with(&[("a", format!("{}/feed", src.uri()))], |p| p.initial_items = 1000).await;
    app.poll_now().await;
    let out = tempfile::tempdir().expect("tempdir");
    let handles = newsriver::http::Handles {
        store: app.state.store.clone(),
        board: app.state.board.clone(),
        metrics: app.state.metrics.clone(),
        versions: app.state.versions.clone(),
    };
    let exporter = newsriver::export::Exporter::new(&app.settings(), handles, out.path().to_path_buf());
    exporter.export(&[ChannelId::All]).expect("first export");
    let rounds = 30;
    let writer = std::thread::spawn(move || {
        for _ in 0..rounds {
            exporter.export(&[ChannelId::All]).expect("export");
        }
    });
    let mut reads = 0;
    while !writer.is_finished() {
        for ext in ["rss", "atom", "json"] {
            let feed = parse_file(&out.path().join(format!("feeds/all.{ext}")));
            assert_eq!(feed.entries.len(), 50, "feeds/all.{ext} is cut short");
            reads += 1;
        }
    }
    writer.join().expect("writer");
    assert!(reads >= 3, "the reader ran {reads} times");
    app.stop().await;
}
