//! Every shipped config loads, every demo feed (and listing page) ingests, and `check` lists every problem.

use crate::helpers::*;
use newsriver::config::{Settings, SourceKind};
use newsriver::domain::FeedUrl;
use std::path::Path;

fn config_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

#[test]
fn every_config_file_loads_and_every_demo_feed_normalizes() {
    let (mut configs, mut demo_feeds) = (0, 0);
    for entry in std::fs::read_dir(config_dir()).expect("config dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        configs += 1;
        let settings = Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
        for s in &settings.sources {
            let FeedUrl::File(file) = &s.url else { continue };
            demo_feeds += 1;
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let feed = match s.kind {
                SourceKind::Feed => newsriver::parse::parse_feed(&bytes),
                SourceKind::Sitemap => sitemap_feed(&bytes),
                SourceKind::Page => {
                    demo_page(s, file, &bytes);
                    continue;
                }
            };
            let feed = feed.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // Read as the service reads it: relative links resolve against the file's own place.
            let at = url::Url::from_file_path(file).ok();
            let ctx =
                newsriver::normalize::FeedContext { source: &s.id, fetch_url: at.as_ref(), now: chrono::Utc::now() };
            let entries = newsriver::normalize::normalize_feed(&feed, &ctx);
            assert!(entries.len() >= 3, "{}: {} entries", file.display(), entries.len());
            for e in &entries {
                let link = e.link.as_deref().unwrap_or_default();
                if s.full_text {
                    // A full-text demo source's items lead to its article pages beside the feed.
                    let page = url::Url::parse(link).ok().and_then(|u| u.to_file_path().ok());
                    assert!(page.is_some_and(|p| p.is_file()), "{}: {link} is not a page on disk", file.display());
                } else {
                    assert!(link.starts_with("https://"), "{}: {link}", file.display());
                }
            }
        }
    }
    assert!(configs >= 1);
    assert!(demo_feeds >= 8, "the demo config polls six bundled feeds, a sitemap and a page: {demo_feeds} checked");
}

/// A demo listing page read with its source's selectors: every story has an article page beside
/// it, a title, and a date its `date_format` read.
fn demo_page(s: &newsriver::config::SourceSettings, file: &Path, bytes: &[u8]) {
    let url = url::Url::from_file_path(file).expect("file URL");
    let select = s.page.as_ref().expect("a page source has selectors");
    let page = newsriver::parse::page::parse_page(bytes, None, Some(&url), select, 1000)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let entries = &page.feed.entries;
    assert!(entries.len() >= 5, "{}: {} entries", file.display(), entries.len());
    for e in entries {
        let link = url::Url::parse(&e.links[0].href).expect("absolute link");
        let article = link.to_file_path().expect("a file beside the page");
        assert!(article.is_file(), "{} links to {}, which is missing", file.display(), article.display());
        assert!(e.title.is_some() && e.published.is_some() && e.summary.is_some(), "{e:?}");
    }
    let ctx = newsriver::normalize::FeedContext { source: &s.id, fetch_url: Some(&url), now: chrono::Utc::now() };
    let normalized = newsriver::normalize::normalize_feed(&page.feed, &ctx);
    assert_eq!(normalized.len(), entries.len());
    assert!(normalized.iter().all(|e| e.link.as_deref().is_some_and(|l| l.starts_with("file://"))));
}

fn sitemap_feed(bytes: &[u8]) -> Result<feed_rs::model::Feed, newsriver::parse::ParseError> {
    use newsriver::parse::sitemap::{parse_sitemap, to_feed, Sitemap};
    match parse_sitemap(bytes, None, 1000)?.0 {
        Sitemap::Urls { urls, .. } => Ok(to_feed(&urls)),
        Sitemap::Index(_) => panic!("the demo sitemap is a urlset"),
    }
}

#[tokio::test]
async fn the_demo_config_serves_a_merged_feed() {
    let mut settings = Settings::load(&config_dir().join("newsriver.toml")).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    // Same sources (their file: paths resolved against the shipped config), but a free port and
    // a temp store.
    settings.server.listen = ([127, 0, 0, 1], 0).into();
    settings.store.path = dir.path().join("store");
    let app = spawn_in(dir, settings).await;
    let mut n = 0;
    for _ in 0..50 {
        n = app.feed("/feeds/all.atom").await.entries.len();
        if n >= 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(n >= 30, "demo feed has {n} entries");
    let mut gazette = 0;
    for _ in 0..50 {
        gazette = app.feed("/sources/harbour-gazette.atom").await.entries.len();
        if gazette == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(gazette, 5, "the demo sitemap source serves its five articles");
    let port = demo_full_text(&app).await;
    let dredging = port.iter().find(|i| i["title"] == "Outer harbour dredging to start on 2 December").expect("item");
    assert_eq!(dredging["authors"], serde_json::json!([{ "name": "Mirela Oduya" }]));
    assert_eq!(dredging["date_modified"], "2026-11-27T16:40:00+00:00", "the page's last update");
    assert_eq!(dredging["_newsriver"]["image"]["credit"], "Tomas Brenn / Courtesy");
    assert!(port.iter().all(|i| i["content_html"].as_str().is_some_and(|c| c.len() > 1000)), "full bodies");
    let mut newsroom = 0;
    for _ in 0..50 {
        newsroom = app.feed("/sources/environment-ministry.atom").await.entries.len();
        if newsroom == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(newsroom, 6, "the demo listing page serves its six stories");
    app.stop().await;
}

#[test]
fn check_lists_every_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[polling]\nevery = \"soon\"\n[[source]]\nid = \"a\"\nurl = \"ftp://x/\"\n[[source]]\nid = \"a\"\nurl = \"https://x.example/\"\nevery = \"5q\"\nkind = \"pages\"\n")
        .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .args(["--config"])
        .arg(&cfg)
        .arg("check")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for path in ["polling.every", "source[0].url", "source[1].id", "source[1].every", "source[1].kind"] {
        assert!(err.contains(&format!("{path}: ")), "missing {path} in:\n{err}");
    }
    let good = dir.path().join("good.toml");
    write_config(&good, &test_settings(dir.path(), &[("a", "https://x.example/feed".into())], |_| {}));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .env("NEWSRIVER_CONFIG", &good)
        .arg("check")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_report_nobody_reads_is_not_a_failure() {
    // `newsriver poll 2>&1 | head -1`: the reader leaves before the report and logs are written.
    let feed = serve_body("/feed", rss(&rss_item("p1", "Piped", 20)), "application/rss+xml").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("poll.toml");
    let settings = test_settings(dir.path(), &[("piped", format!("{}/feed", feed.uri()))], |_| {});
    write_config(&cfg, &settings);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(&cfg)
        .arg("poll")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("wait");
    assert!(out.status.success(), "{:?}", out.status);
    let store = newsriver::store::Store::open_settings(&settings.store).expect("open");
    assert_eq!(store.entry_count(), 1, "the poll was committed whatever became of its report");
}

/// The demo's full-text source once its three articles have been read.
async fn demo_full_text(app: &TestApp) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let doc: serde_json::Value = app.get("/sources/port-authority.json").await.json().await.expect("json");
        let items = doc["items"].as_array().cloned().unwrap_or_default();
        if items.len() == 3 && items.iter().all(|i| i["authors"].is_array()) {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the demo's full-text source did not serve its three articles with bylines")
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver")).args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let commands = [
        "serve",
        "poll",
        "check",
        "sources",
        "export",
        "backup",
        "extract",
        "discover",
        "preview",
        "import",
        "add",
        "export-sources",
        "completions",
        "partner",
        "man",
    ];
    let bash = run(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("newsriver.bash");
    std::fs::write(&script, &bash).expect("write");
    let syntax = std::process::Command::new("bash").arg("-n").arg(&script).status().expect("bash");
    assert!(syntax.success(), "the bash completion script parses");
    for shell in ["zsh", "fish"] {
        let text = run(&["completions", shell]);
        assert!(commands.iter().all(|c| text.contains(c)), "{shell}: {text}");
    }
    let man = run(&["man"]);
    assert!(man.contains(".TH newsriver 1"), "{man}");
    // roff writes a hyphen as `\-`.
    assert!(commands.iter().all(|c| bash.contains(c) && man.contains(&c.replace('-', "\\-"))), "{man}");
    assert!(bash.contains("admin-key") && man.contains("admin\\-key"), "{man}");
}
