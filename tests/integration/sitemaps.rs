//! Sitemap sources: news sitemaps republished like feed items, `lastmod` edits, sitemap indexes
//! (children, cycles), robots.txt honoured (a disallowed sitemap is a permanent failure).

use crate::helpers::*;
use newsriver::config::{PollingSettings, SourceKind};
use newsriver::domain::FetchOutcome;
use serde_json::Value;
use wiremock::MockServer;

/// An app whose sources are all sitemaps, with every item in channels from the first poll.
async fn spawn_sitemaps(sources: &[(&str, String)]) -> TestApp {
    spawn_sitemaps_with(sources, |_| {}).await
}

async fn spawn_sitemaps_with(sources: &[(&str, String)], polling: impl FnOnce(&mut PollingSettings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), sources, |p| {
        p.initial_items = 100;
        polling(p);
    });
    for s in &mut settings.sources {
        s.kind = SourceKind::Sitemap;
    }
    spawn_in(dir, settings).await
}

/// A fixture sitemap with its `{base}` filled in.
fn sitemap(name: &str, base: &str) -> Vec<u8> {
    String::from_utf8(read_fixture(&format!("sitemaps/{name}"))).expect("utf-8").replace("{base}", base).into_bytes()
}

async fn serve(server: &MockServer, route: &str, status: u16, body: Vec<u8>) {
    mount(server, route, status, body, "application/xml").await;
}

#[tokio::test]
async fn news_sitemap_items_are_republished_and_a_newer_lastmod_is_an_edit() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/news.xml", 200, sitemap("news.xml", &base)).await;
    let app = spawn_sitemaps(&[("herald", format!("{base}/news.xml"))]).await;

    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "herald").summary.new, 3, "{:?}", report(&reports, "herald"));
    let feed = app.feed("/sources/herald.atom").await;
    let mut got: Vec<(String, String, String)> = feed
        .entries
        .iter()
        .map(|e| {
            let title = e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default();
            let published = e.published.map(|d| d.to_rfc3339()).unwrap_or_default();
            (title, e.links[0].href.clone(), published)
        })
        .collect();
    got.sort();
    let want = [
        ("Council passes <budget>", "/2026/12/01/council-budget", "2026-12-01T07:15:00+00:00"),
        (
            "Harbour reopens after storm & repairs",
            "/2026/12/01/harbour-reopens?utm_source=sitemap",
            "2026-12-01T08:00:00+00:00",
        ),
        ("New ferry timetable", "/2026/11/30/ferry-timetable", "2026-11-30T17:45:00+00:00"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(t, l, d)| (t.to_string(), format!("{base}{l}"), d.to_string())).collect();
    assert_eq!(got, want);
    assert_eq!(hits(&server, "/robots.txt").await, 1, "robots.txt asked (a 404: everything allowed)");
    for format in ["rss", "json"] {
        assert_eq!(app.feed(&format!("/sources/herald.{format}")).await.entries.len(), 3, "{format}");
    }
    let atom = app.feed("/feeds/all.atom").await;
    let enclosure = atom.entries.iter().flat_map(|e| &e.links).find(|l| l.rel.as_deref() == Some("enclosure"));
    assert_eq!(enclosure.map(|l| l.href.clone()), Some(format!("{base}/img/harbour.jpg")), "the image is an enclosure");

    let herald: Value = app.get("/sources/herald.json").await.json().await.expect("json");
    let with_publication = herald["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["language"] == "en" && i["_newsriver"]["site_name"] == "Coast Herald");
    assert_eq!(with_publication.count(), 3, "news:language and news:name are republished: {herald}");
    let cursor =
        app.get("/sources/herald.json").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let edited = String::from_utf8(sitemap("news.xml", &base))
        .expect("utf-8")
        .replace("<lastmod>2026-11-30</lastmod>", "<lastmod>2026-12-01T11:00:00Z</lastmod>");
    server.reset().await;
    serve(&server, "/news.xml", 200, edited.into_bytes()).await;
    let reports = app.poll_now().await;
    let summary = &report(&reports, "herald").summary;
    assert_eq!((summary.new, summary.updated, summary.unchanged), (0, 1, 2), "{summary:?}");
    assert_eq!(hits(&server, "/robots.txt").await, 0, "robots.txt is kept for a day");

    let doc: Value = app.get(&format!("/sources/herald.json?since={cursor}")).await.json().await.expect("json");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "only the edited article is re-delivered: {doc}");
    assert_eq!(items[0]["url"], format!("{base}/2026/11/30/ferry-timetable"));
    assert_eq!(items[0]["date_modified"], "2026-12-01T11:00:00+00:00");
    assert_eq!(items[0]["date_published"], "2026-11-30T17:45:00+00:00");
    app.stop().await;
}

#[tokio::test]
async fn sitemap_index_reads_its_children_once_and_warns_of_a_cycle() {
    let server = MockServer::start().await;
    let base = server.uri();
    for name in ["index.xml", "politics.xml", "sport.xml"] {
        serve(&server, &format!("/sitemaps/{name}"), 200, sitemap(name, &base)).await;
    }
    let app = spawn_sitemaps(&[("wire", format!("{base}/sitemaps/index.xml"))]).await;
    let reports = app.poll_now().await;
    let r = report(&reports, "wire");
    assert_eq!((r.outcome, r.summary.new), (FetchOutcome::Ok, 3), "{r:?}");
    assert_eq!(hits(&server, "/sitemaps/index.xml").await, 1, "the index that lists itself is read once");
    assert_eq!(hits(&server, "/sitemaps/sport.xml").await, 1, "a relative child resolves against the index");
    let warning = status_of(&app, "wire").await["warning"].as_str().unwrap_or_default().to_owned();
    assert!(warning.contains("a cycle"), "{warning}");
    let links: Vec<String> =
        app.feed("/sources/wire.atom").await.entries.iter().map(|e| e.links[0].href.clone()).collect();
    assert!(links.contains(&format!("{base}/sport/cup-final")), "{links:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_plain_sitemap_edit_keeps_the_published_time_lastmod_gave() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/politics.xml", 200, sitemap("politics.xml", &base)).await;
    let app = spawn_sitemaps(&[("plain", format!("{base}/politics.xml"))]).await;
    assert_eq!(report(&app.poll_now().await, "plain").summary.new, 2);
    let cursor =
        app.get("/sources/plain.json").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let touched = String::from_utf8(sitemap("politics.xml", &base))
        .expect("utf-8")
        .replace("2026-11-29T12:00:00Z", "2026-11-30T08:00:00Z");
    server.reset().await;
    serve(&server, "/politics.xml", 200, touched.into_bytes()).await;
    let summary = report(&app.poll_now().await, "plain").summary.clone();
    assert_eq!((summary.new, summary.updated, summary.unchanged), (0, 1, 1), "{summary:?}");
    let doc: Value = app.get(&format!("/sources/plain.json?since={cursor}")).await.json().await.expect("json");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{doc}");
    assert_eq!(items[0]["url"], format!("{base}/politics/vote-count"));
    assert_eq!(items[0]["date_published"], "2026-11-29T12:00:00+00:00", "the edit does not move the item up");
    assert_ne!(items[0]["date_modified"], "2026-11-29T12:00:00+00:00", "{doc}");
    app.stop().await;
}

#[tokio::test]
async fn robots_txt_disallowing_the_sitemap_is_a_permanent_failure() {
    let server = MockServer::start().await;
    let base = server.uri();
    let robots = "User-agent: *\nAllow: /\n\nUser-agent: newsriver\nDisallow: /private/\n";
    serve(&server, "/robots.txt", 200, robots.into()).await;
    serve(&server, "/private/news.xml", 200, sitemap("news.xml", &base)).await;
    serve(&server, "/news.xml", 200, sitemap("news.xml", &base)).await;
    let sources = [("hidden", format!("{base}/private/news.xml")), ("open", format!("{base}/news.xml"))];
    let app = spawn_sitemaps(&sources).await;
    let reports = app.poll_now().await;
    let r = report(&reports, "hidden");
    assert_eq!(r.outcome, FetchOutcome::PermanentError, "{r:?}");
    let reason = format!("disallowed by robots.txt: {base}/private/news.xml");
    assert_eq!(r.error.as_deref(), Some(reason.as_str()));
    assert_eq!(status_of(&app, "hidden").await["last_error"], reason);
    assert_eq!(hits(&server, "/private/news.xml").await, 0, "the disallowed sitemap is never fetched");
    assert_eq!(report(&reports, "open").summary.new, 3, "the rest of the host stays allowed");
    assert_eq!(hits(&server, "/robots.txt").await, 1, "one robots.txt read per host");
    app.stop().await;
}

#[tokio::test]
async fn unavailable_robots_txt_waits_and_files_need_none() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/robots.txt", 503, Vec::new()).await;
    serve(&server, "/news.xml", 200, sitemap("news.xml", &base)).await;
    let dir = std::fs::canonicalize(fixture("sitemaps")).expect("fixture dir");
    let file = format!("file:{}", dir.join("file-news.xml").display());
    let app = spawn_sitemaps(&[("flaky", format!("{base}/news.xml")), ("local", file)]).await;
    let reports = app.poll_now().await;
    let r = report(&reports, "flaky");
    assert_eq!(r.outcome, FetchOutcome::TransientError, "{r:?}");
    assert!(r.error.as_deref().unwrap_or_default().contains("robots.txt"), "{r:?}");
    assert_eq!(hits(&server, "/news.xml").await, 0, "nothing is fetched while robots.txt fails");
    assert_eq!(report(&reports, "local").summary.new, 2, "{:?}", report(&reports, "local"));
    app.stop().await;
}

#[tokio::test]
async fn oversized_sitemaps_fail_the_source_or_warn_as_a_child() {
    let server = MockServer::start().await;
    let base = server.uri();
    let huge = format!("<urlset>{}</urlset>", "<url><loc>https://x.example/a</loc></url>".repeat(2000)).into_bytes();
    serve(&server, "/huge.xml", 200, huge).await;
    let index = format!("<sitemapindex><sitemap><loc>{base}/huge.xml</loc></sitemap></sitemapindex>");
    serve(&server, "/index.xml", 200, index.into_bytes()).await;
    let sources = [("big", format!("{base}/huge.xml")), ("parent", format!("{base}/index.xml"))];
    let app = spawn_sitemaps_with(&sources, |p| p.max_body = 16 * 1024).await;
    let reports = app.poll_now().await;
    let big = report(&reports, "big");
    assert_eq!(big.outcome, FetchOutcome::PermanentError, "{big:?}");
    assert!(big.error.as_deref().unwrap_or_default().contains("larger than"), "{big:?}");
    assert_eq!(report(&reports, "parent").outcome, FetchOutcome::Ok);
    let warning = status_of(&app, "parent").await["warning"].as_str().unwrap_or_default().to_owned();
    assert!(warning.contains("child sitemap") && warning.contains("larger than"), "{warning}");
    app.stop().await;
}
