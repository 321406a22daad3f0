//! `newsriver discover URL` against a fixture newsroom on 127.0.0.1: advertised feeds (relative
//! and absolute), a robots.txt sitemap, usual paths (a feed, an HTML page, one robots.txt
//! forbids), and the printout loaded back as a config.

use crate::helpers::*;
use crate::hostile_server::canary;
use newsriver::config::{Settings, SourceKind};
use newsriver::domain::FeedUrl;
use serde_json::Value;
use std::sync::atomic::Ordering;

const RSS: &str = "application/rss+xml";

fn rss(title: &str, items: usize) -> String {
    let items: String = (0..items).map(|i| format!("<item><guid>g{i}</guid><title>Item {i}</title></item>")).collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>http://x/</link><description>d</description>{items}</channel></rss>")
}

fn atom(title: &str) -> String {
    format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{title}</title><id>urn:wire</id><updated>2026-11-01T10:00:00Z</updated>\
         <entry><id>urn:1</id><title>One</title><updated>2026-11-01T10:00:00Z</updated></entry></feed>"
    )
}

fn page(base: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><title>The Courier</title>
<link rel="stylesheet" href="/site.css">
<link rel="alternate" type="application/rss+xml" title="Courier: top stories" href="top.rss">
<link rel="alternate" type="application/atom+xml" href="{base}/atom/all">
<link rel="alternate" type="application/feed+json" href="/feeds/courier.json">
<link rel="alternate" type="application/rss+xml" href="/gone.rss">
</head><body><h1>The Courier</h1><p>News.</p></body></html>"#
    )
}

fn newsroom(base: &str) -> Vec<(&'static str, Reply)> {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Courier JSON","items":[{"id":"1","content_text":"a"},{"id":"2","content_text":"b"}]}"#;
    let sitemap = format!(
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{base}/news/1</loc></url><url><loc>{base}/news/2</loc></url></urlset>"
    );
    let robots = format!("User-agent: *\nDisallow: /index.xml\n\nSitemap: {base}/sitemaps/news.xml\n");
    vec![
        ("/news/", Reply::ok("text/html; charset=utf-8", page(base))),
        ("/news/top.rss", Reply::ok(RSS, rss("Courier top stories", 3))),
        ("/atom/all", Reply::ok("application/atom+xml", atom("Courier wire"))),
        ("/feeds/courier.json", Reply::ok("application/feed+json", json)),
        ("/robots.txt", Reply::ok("text/plain", robots)),
        ("/sitemaps/news.xml", Reply::ok("application/xml", sitemap)),
        ("/feed", Reply::ok(RSS, rss("Courier everything", 5))),
        ("/rss.xml", Reply::ok("text/html", "<!doctype html><html><body>Our feeds moved</body></html>")),
        ("/index.xml", Reply::ok(RSS, rss("Forbidden by robots.txt", 1))),
    ]
}

/// `discover --json` on `url` with `config`; the parsed JSON.
async fn discover_json(config: &std::path::Path, url: &str) -> Value {
    let config = config.to_str().expect("UTF-8 path");
    let out = run_newsriver(&["discover", url, "--json", "--config", config]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn finds(v: &Value) -> Vec<(String, String, String, u64, String)> {
    let found = v["found"].as_array().expect("found list");
    let text = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_owned();
    let row = |f: &Value| {
        (text(f, "url"), text(f, "kind"), text(f, "via"), f["items"].as_u64().unwrap_or(0), text(f, "title"))
    };
    found.iter().map(row).collect()
}

#[tokio::test]
async fn a_page_leads_to_its_feeds_sitemaps_and_usual_paths() {
    let site = site(newsroom).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let v = discover_json(&config, &format!("{}/news/", site.base)).await;
    let b = &site.base;
    let want = [
        (format!("{b}/news/top.rss"), "feed", "alternate", 3, "Courier top stories"),
        (format!("{b}/atom/all"), "feed", "alternate", 1, "Courier wire"),
        (format!("{b}/feeds/courier.json"), "feed", "alternate", 2, "Courier JSON"),
        (format!("{b}/sitemaps/news.xml"), "sitemap", "robots", 2, "127.0.0.1/sitemaps/news.xml"),
        (format!("{b}/feed"), "feed", "common-path", 5, "Courier everything"),
    ];
    let want: Vec<_> =
        want.into_iter().map(|(u, k, via, n, t)| (u, k.to_owned(), via.to_owned(), n, t.to_owned())).collect();
    assert_eq!(finds(&v), want);
    let formats: Vec<&str> =
        v["found"].as_array().expect("found").iter().filter_map(|f| f["format"].as_str()).collect();
    assert_eq!(formats, ["rss", "atom", "json-feed", "sitemap", "rss"]);
    assert_eq!(v["page_is_feed"], false);
    let rejected = v["rejected"].as_array().expect("rejected list");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["url"], format!("{b}/gone.rss"));
    assert_eq!(rejected[0]["reason"], "HTTP 404");
    assert_eq!(site.hits("/rss.xml"), 1, "the HTML page at a usual path was asked and left out");
    assert_eq!(site.hits("/index.xml"), 0, "a usual path robots.txt forbids is not asked");
    assert_eq!(site.hits("/robots.txt"), 1);
}

#[tokio::test]
async fn the_printout_is_a_config_that_check_accepts() {
    let site = site(newsroom).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let url = format!("{}/news/", site.base);
    let v = discover_json(&config, &url).await;
    let out = run_newsriver(&["discover", &url, "--config", config.to_str().expect("UTF-8")]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).expect("UTF-8 printout");
    assert!(printed.starts_with(&format!("# {url} leads to 5 feed(s) and sitemap(s):\n")), "{printed}");

    let pasted = dir.path().join("pasted.toml");
    std::fs::write(&pasted, format!("[store]\npath = \"store\"\n\n{printed}")).expect("write pasted config");
    let settings = Settings::load(&pasted).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    let loaded: Vec<(String, String, SourceKind, String)> = settings
        .sources
        .iter()
        .map(|s| {
            let url = match &s.url {
                FeedUrl::Http(u) => u.to_string(),
                FeedUrl::File(p) => p.display().to_string(),
            };
            (s.id.as_str().to_owned(), url, s.kind, s.title.clone())
        })
        .collect();
    let listed: Vec<(String, String, SourceKind, String)> = v["found"]
        .as_array()
        .expect("found")
        .iter()
        .map(|f| {
            let kind = if f["kind"] == "sitemap" { SourceKind::Sitemap } else { SourceKind::Feed };
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("url"), kind, text("title"))
        })
        .collect();
    assert_eq!(loaded, listed);
    assert_eq!(loaded[0].0, "courier-top-stories");
    let check = run_newsriver(&["check", "--config", pasted.to_str().expect("UTF-8")]).await;
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

#[tokio::test]
async fn a_feed_url_is_its_own_find() {
    let site = site(newsroom).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let v = discover_json(&config, &format!("{}/feed", site.base)).await;
    assert_eq!(v["page_is_feed"], true);
    let want = vec![(format!("{}/feed", site.base), "feed".into(), "page".into(), 5, "Courier everything".into())];
    assert_eq!(finds(&v), want);
    assert_eq!(v["found"][0]["id"], "courier-everything");
    assert_eq!(site.hits("/robots.txt"), 0, "nothing beyond the feed is asked");
}

/// stderr of a failed run: one `error:` line, no panic.
fn failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure, got {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(!err.contains("panic"), "{err}");
    errors[0].to_owned()
}

#[tokio::test]
async fn unreachable_blocked_and_non_html_urls_are_one_line_errors() {
    let site = site(|_| vec![("/logo.png", Reply::ok("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let config = config.to_str().expect("UTF-8");
    let png = failure(&run_newsriver(&["discover", &format!("{}/logo.png", site.base), "--config", config]).await);
    assert!(png.contains("is not an HTML page, a feed or a sitemap"), "{png}");

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let refused = failure(&run_newsriver(&["discover", &format!("http://{closed}/"), "--config", config]).await);
    assert!(refused.contains(&format!("cannot fetch http://{closed}/: could not connect")), "{refused}");

    // No config file: the default guard refuses loopback before connecting.
    let canary = canary("127.0.0.2").await;
    let url = format!("http://127.0.0.2:{}/", canary.port);
    let absent = dir.path().join("absent.toml");
    let blocked = run_newsriver(&["discover", &url, "--config", absent.to_str().expect("UTF-8")]).await;
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("note: no config at"));
    assert!(failure(&blocked).contains("address guard"));
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "the canary never saw a request");
}
