//! Real clients read every channel: Python feedparser (bozo 0, right ids), xmllint (well-formed
//! XML), JSON Feed structure; tricky titles survive the round trip.

use crate::helpers::*;
use std::collections::HashSet;

const TRICKY: [&str; 4] = [
    "Budget < forecast & deficit ]]> target",
    "Ceasefire 🕊️ holds",
    "مرحبا بالعالم: talks resume",
    "Plain <b>not bold</b>",
];

fn tricky_feed() -> Vec<u8> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let items: String = TRICKY
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "<item><guid>t{i}</guid><title>{}</title><link>https://news.example/{i}</link><description>{}</description><category>Diplomacy</category><pubDate>2{i} Nov 2026 10:00:00 +0000</pubDate></item>",
                esc(t),
                esc(&format!("<p>Body {i} with ]]&gt; and &amp;</p>"))
            )
        })
        .collect();
    rss(&items)
}

const TOPIC: &str = "[[topic]]\nid = \"diplomacy\"\ntitle = \"Diplomacy\"\ncategories = [\"Diplomacy\"]\n";

#[tokio::test]
async fn feedparser_xmllint_and_json_feed_accept_every_channel() {
    if !have_feedparser() {
        return;
    }
    let a = serve_body("/feed", tricky_feed(), "application/rss+xml").await;
    let b = serve_body("/feed", read_fixture("feeds/atom/relative_links.xml"), "application/atom+xml").await;
    let sources = [("tricky", format!("{}/feed", a.uri())), ("wire", format!("{}/feed", b.uri()))];
    let app = spawn_app_with_topics(&sources, TOPIC).await;
    app.poll_now().await;
    let channels = [("/feeds/all", 6), ("/topics/diplomacy", 4), ("/sources/tricky", 4), ("/sources/wire", 2)];
    let mut urls = Vec::new();
    for (path, _) in channels {
        for ext in ["rss", "atom", "json"] {
            urls.push(format!("{}{path}.{ext}", app.base));
        }
    }
    let results = read_with_clients(&urls).await;
    assert_eq!(results.len(), urls.len());
    for (r, url) in results.iter().zip(&urls) {
        let want = channels.iter().find(|(p, _)| url.contains(&format!("{p}."))).map(|c| c.1).expect("channel");
        let ids: Vec<&str> = r["ids"].as_array().expect("ids").iter().filter_map(|i| i.as_str()).collect();
        assert_eq!(ids.len(), want, "{url}: entry count");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "{url}: duplicate ids");
        assert!(ids.iter().all(|i| i.starts_with("urn:uuid:")), "{url}: {ids:?}");
        if r["kind"] == "json" {
            assert_eq!(r["version"], "https://jsonfeed.org/version/1.1", "{url}");
            assert!(r["title"].is_string() && r["all_have_date_published"] == true, "{url}");
        } else {
            assert_eq!(r["bozo"], 0, "{url}: {}", r["bozo_exception"]);
        }
    }
    // Every format yields the same ids for the same channel.
    for chunk in results.chunks(3) {
        let sets: Vec<Vec<&str>> = chunk
            .iter()
            .map(|r| r["ids"].as_array().expect("ids").iter().filter_map(|i| i.as_str()).collect())
            .collect();
        assert!(sets.windows(2).all(|w| w[0] == w[1]), "{sets:?}");
    }
    // Tricky titles survive (feedparser's view of the merged RSS and Atom channels).
    for r in &results[0..2] {
        let titles: HashSet<&str> = r["titles"].as_array().expect("titles").iter().filter_map(|t| t.as_str()).collect();
        for t in TRICKY {
            assert!(titles.contains(t), "{}: {t:?} not in {titles:?}", r["url"]);
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn xmllint_accepts_every_xml_channel() {
    if !have_xmllint() {
        return;
    }
    let a = serve_body("/feed", tricky_feed(), "application/rss+xml").await;
    let app = spawn_app_with_topics(&[("tricky", format!("{}/feed", a.uri()))], TOPIC).await;
    app.poll_now().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for path in [
        "/feeds/all.rss",
        "/feeds/all.atom",
        "/topics/diplomacy.rss",
        "/topics/diplomacy.atom",
        "/sources/tricky.rss",
        "/sources/tricky.atom",
        "/channels.opml",
        "/feeds/all.atom?limit=2",
    ] {
        let body = app.get(path).await.bytes().await.expect("body");
        let file = dir.path().join(format!("f{}.xml", files.len()));
        std::fs::write(&file, &body).expect("write");
        files.push(file);
    }
    let out = std::process::Command::new("xmllint").arg("--noout").args(&files).output().expect("run xmllint");
    assert!(out.status.success(), "xmllint: {}", String::from_utf8_lossy(&out.stderr));
    app.stop().await;
}
