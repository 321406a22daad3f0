//! `newsriver preview`: a page described on the command line, or a configured source, fetched
//! once over loopback and printed with the rule behind each field; nothing is written.

use crate::helpers::*;
use serde_json::Value;

const HTML: &str = "text/html; charset=utf-8";

fn listing() -> String {
    let card = |slug: &str, title: &str, date: &str| {
        format!("<article class=\"release\"><h3><a href=\"/news/{slug}\">{title}</a></h3><time datetime=\"{date}\">x</time></article>")
    };
    format!(
        "<html><body><nav><a href=\"/\">Home</a></nav>{}{}</body></html>",
        card("budget", "Council approves budget", "2026-11-30T09:00:00Z"),
        card("graph", "Council adopts budget", "2026-11-29T08:00:00Z")
    )
}

async fn newsroom() -> Site {
    site(|_| {
        vec![
            ("/news", Reply::ok(HTML, listing())),
            ("/news/budget", Reply::ok(HTML, read_fixture("articles/text-patterns.html"))),
            ("/news/graph", Reply::ok(HTML, read_fixture("articles/json-ld.html"))),
        ]
    })
    .await
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn a_page_described_on_the_command_line_is_previewed_with_its_rules_and_nothing_is_written() {
    let newsroom = newsroom().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let listing_url = format!("{}/news", newsroom.base);
    let args = [
        "--config",
        config.to_str().expect("utf-8"),
        "preview",
        "--url",
        &listing_url,
        "--kind",
        "page",
        "--select",
        "item=article.release",
        "--select",
        "title=h3",
        "--select",
        "link=h3 a",
        "--select",
        "date=time",
        "--articles",
        "1",
        "--json",
    ];
    let doc = json_of(&run_newsriver(&args).await);
    let items = doc["items"].as_array().expect("items");
    let titles: Vec<&str> = items.iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles, ["Council approves budget", "Council adopts budget"]);
    assert_eq!(items[0]["link"], format!("{}/news/budget", newsroom.base));
    assert_eq!(items[0]["published"], "2026-11-30T09:00:00+00:00");
    assert_eq!(
        items[0]["rules"],
        serde_json::json!({ "title": "select.title", "link": "select.link", "published": "select.date" })
    );
    let article = &items[0]["article"];
    assert_eq!(article["byline"], serde_json::json!(["Reporter Name"]));
    assert_eq!(article["sources"]["byline"], "text-pattern");
    assert_eq!(article["image"]["credit"], "Photographer Name / Courtesy");
    assert!(items[0]["body_words"].as_u64() > Some(200), "{}", items[0]);
    assert!(items[1]["article"].is_null(), "only the first --articles pages are read");
    assert_eq!(newsroom.hits("/news/graph"), 0);
    assert!(!dir.path().join("data").exists(), "preview writes no store");

    let bad = [
        "--config",
        config.to_str().expect("utf-8"),
        "preview",
        "--url",
        &listing_url,
        "--kind",
        "page",
        "--select",
        "item=li[[",
    ];
    let out = run_newsriver(&bad).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("select.item") && err.contains("is not a CSS selector"), "{err}");
}

#[tokio::test]
async fn a_configured_source_is_previewed_in_text_with_bylines_and_credits() {
    let newsroom = newsroom().await;
    let feed = format!(
        "<item><guid>g1</guid><title>Budget passes</title><link>{}/news/graph</link><description>Teaser.</description></item>",
        newsroom.base
    );
    let feeds = site(move |_| vec![("/feed", Reply::ok("application/rss+xml", rss(&feed)))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let table = format!("\n[[source]]\nid = \"courier\"\nurl = \"{}/feed\"\nfull_text = true\n", feeds.base);
    std::fs::write(&config, std::fs::read_to_string(&config).expect("read") + &table).expect("write");
    let out = run_newsriver(&["--config", config.to_str().expect("utf-8"), "preview", "--source", "courier"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for want in [
        "courier (feed,",
        "1. Budget passes  [feed]",
        "byline: Reporter Name, Second Writer  [json-ld]",
        "credit: Photographer Name / Courtesy  [json-ld]",
        "last update: 2024-06-22T03:23:00+00:00  [meta]",
    ] {
        assert!(text.contains(want), "{want:?} missing in:\n{text}");
    }
    assert!(!dir.path().join("data").exists(), "preview writes no store");
}
