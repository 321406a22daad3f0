//! Full text: a source with `full_text` reads each new item's article page through the guarded
//! fetcher and republishes its body, byline, last update and photo credit in every format; a
//! page that cannot be read fails alone and says why on the entry.

use crate::helpers::*;
use crate::hostile_server::canary;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use newsriver::config::PollingSettings;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The fixture site: a feed of teasers and the article pages its items link to.
#[derive(Clone)]
struct Site {
    canary_port: u16,
    hits: Arc<std::sync::Mutex<Vec<String>>>,
    edited: Arc<AtomicUsize>,
    /// The newsroom corrected the budget article's page (not its feed item).
    page_edited: Arc<AtomicUsize>,
}

const ETAG: &str = "\"page-v1\"";

impl Site {
    fn hits_of(&self, path: &str) -> usize {
        self.hits.lock().map(|h| h.iter().filter(|p| *p == path).count()).unwrap_or(0)
    }

    fn feed(&self, base: &str) -> Vec<u8> {
        let item = |slug: &str, title: &str| {
            format!(
                "<item><guid>{slug}</guid><title>{title}</title><link>{base}/a/{slug}</link>\
                 <description>Teaser of {title}.</description><pubDate>Thu, 07 Dec 2023 09:00:00 +0000</pubDate></item>"
            )
        };
        let title = if self.edited.load(Ordering::SeqCst) > 0 { "Budget passes (corrected)" } else { "Budget passes" };
        let items = [
            item("budget", title),
            item("graph", "Council adopts budget"),
            item("missing", "Gone story"),
            item("pdf", "Annual report"),
            item("stub", "Subscriber story"),
            item("private", "Redirected story"),
            item("members", "Members-only story"),
        ];
        rss(&items.concat())
    }

    fn answer(&self, path: &str, base: &str, headers: &HeaderMap) -> Response {
        let html =
            |body: &[u8]| ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::ETAG, ETAG)], body.to_vec());
        match path {
            "feed" => ([(header::CONTENT_TYPE, "application/rss+xml")], self.feed(base)).into_response(),
            "robots.txt" => "User-agent: *\nDisallow: /a/members\n".into_response(),
            "a/members" => html(&read_fixture("articles/json-ld.html")).into_response(),
            "a/budget" if self.page_edited.load(Ordering::SeqCst) > 0 => {
                let page = String::from_utf8(read_fixture("articles/text-patterns.html")).expect("utf-8");
                let page =
                    page.replace("412 million", "415 million").replace("June 21, 2024 23:23", "June 22, 2024 08:05");
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::ETAG, "\"page-v2\"")], page)
                    .into_response()
            }
            "a/budget" if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == ETAG) => {
                StatusCode::NOT_MODIFIED.into_response()
            }
            "a/budget" => html(&read_fixture("articles/text-patterns.html")).into_response(),
            "a/graph" => html(&read_fixture("articles/json-ld.html")).into_response(),
            "a/pdf" => ([(header::CONTENT_TYPE, "application/pdf")], b"%PDF-1.7 binary".to_vec()).into_response(),
            "a/stub" => html(b"<html><body><div id=app></div><script>load()</script><p>Subscribe.</p></body></html>")
                .into_response(),
            "a/private" => {
                let to = format!("http://127.0.0.2:{}/secret", self.canary_port);
                (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

async fn start_site(canary_port: u16) -> (String, Site) {
    let site = Site { canary_port, hits: Arc::default(), edited: Arc::default(), page_edited: Arc::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fixture");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let (s, b) = (site.clone(), base.clone());
    let handler = move |uri: axum::http::Uri, headers: HeaderMap| {
        let (s, b) = (s.clone(), b.clone());
        async move {
            let path = uri.path().trim_start_matches('/').to_owned();
            s.hits.lock().map(|mut h| h.push(path.clone())).ok();
            s.answer(&path, &b, &headers)
        }
    };
    let router = axum::Router::new().fallback(axum::routing::get(handler));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, site)
}

async fn spawn_full_text(feed: String) -> TestApp {
    spawn_full_text_with(feed, |_| {}).await
}

async fn spawn_full_text_with(feed: String, polling: impl FnOnce(&mut PollingSettings)) -> TestApp {
    spawn_app_with(&[("courier", feed)], |p| {
        polling(p);
        p.full_text = true;
        p.initial_items = 100;
        // Loopback fixtures are allowed by name; every other private address stays refused.
        p.allow_private_networks = false;
        p.allow_hosts = vec!["127.0.0.1".into()];
    })
    .await
}

fn item_by_url<'a>(items: &'a [Value], slug: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with(&format!("/a/{slug}"))))
        .unwrap_or_else(|| panic!("item {slug}"))
}

async fn json_items(app: &TestApp, path: &str) -> Vec<Value> {
    let doc: Value = app.get(path).await.json().await.expect("json feed");
    doc["items"].as_array().cloned().unwrap_or_default()
}

async fn article_of(app: &TestApp, item: &Value) -> Value {
    let key = item["id"].as_str().and_then(|i| i.strip_prefix("urn:uuid:")).expect("urn id");
    let entry: Value = app.get(&format!("/api/entries/{key}")).await.json().await.expect("entry json");
    entry["article"].clone()
}

#[tokio::test]
async fn articles_give_body_byline_last_update_and_credit_and_failures_say_why() {
    let canary = canary("127.0.0.2").await;
    let (base, site) = start_site(canary.port).await;
    let app = spawn_full_text(format!("{base}/feed")).await;
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "courier").summary.new, 7, "{:?}", report(&reports, "courier"));

    let items = json_items(&app, "/sources/courier.json").await;
    let budget = item_by_url(&items, "budget");
    assert_eq!(budget["authors"], serde_json::json!([{ "name": "Reporter Name" }]));
    assert_eq!(budget["date_modified"], "2024-06-21T23:23:00+00:00", "the page's last update");
    assert_eq!(budget["date_published"], "2023-12-07T09:00:00+00:00", "the feed's date stays");
    assert_eq!(budget["summary"], "Teaser of Budget passes.", "the feed's summary stays the summary");
    let body = budget["content_html"].as_str().expect("content");
    assert!(body.contains("412 million dollars") && body.contains("river corridor"), "full body: {body}");
    assert!(!body.contains("Get the morning briefing"), "newsletter box left out: {body}");
    let image = &budget["_newsriver"]["image"];
    assert_eq!(image["credit"], "Photographer Name / Courtesy");
    assert_eq!(image["url"], format!("{base}/photos/council-chamber.jpg"), "relative image resolved");
    assert_eq!(budget["image"], image["url"]);

    let graph = article_of(&app, item_by_url(&items, "graph")).await;
    assert_eq!(graph["byline"], serde_json::json!(["Reporter Name", "Second Writer"]));
    assert_eq!(graph["sources"]["byline"], "json-ld");
    assert_eq!(graph["sources"]["modified"], "meta");
    assert_eq!(graph["site_name"], "The Valley Courier");
    assert!(graph["word_count"].as_u64().is_some_and(|n| n > 200), "{graph}");

    let failed = |slug: &'static str| {
        let item = item_by_url(&items, slug).clone();
        let app = &app;
        async move { article_of(app, &item).await["failed"].as_str().unwrap_or_default().to_owned() }
    };
    assert!(failed("missing").await.contains("404"), "{}", failed("missing").await);
    assert!(failed("pdf").await.contains("not an HTML page (application/pdf)"));
    assert_eq!(failed("stub").await, "no article body found");
    assert!(failed("private").await.contains("address guard"), "{}", failed("private").await);
    assert!(failed("members").await.contains("robots.txt"), "{}", failed("members").await);
    assert_eq!(site.hits_of("a/members"), 0, "a page robots.txt disallows is never asked for");
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "the redirect to 127.0.0.2 was never followed");
    let health = &status_of(&app, "courier").await["articles"];
    assert_eq!((health["read"].as_u64(), health["failed"].as_u64()), (Some(7), Some(5)), "{health}");
    assert!(health["last_failure"].as_str().is_some_and(|f| f.contains("/a/")), "{health}");
    let stub = item_by_url(&items, "stub");
    assert_eq!(stub["content_html"], "Teaser of Subscriber story.", "a failed page leaves the feed's text");

    // The next poll reads no page again; an edited item's page is asked for with its validator.
    app.poll_now().await;
    assert_eq!(site.hits_of("a/graph"), 1, "an unchanged item's page is not fetched again");
    site.edited.fetch_add(1, Ordering::SeqCst);
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "courier").summary.updated, 1);
    assert_eq!(site.hits_of("a/budget"), 2, "the edited item's page, asked again");
    let items = json_items(&app, "/sources/courier.json").await;
    let budget = item_by_url(&items, "budget");
    assert_eq!(budget["title"], "Budget passes (corrected)");
    assert_eq!(budget["_newsriver"]["image"]["credit"], "Photographer Name / Courtesy", "a 304 keeps the article");
    let config = app.config_path();
    let _dir = app.stop_keeping_dir().await;
    let table = sources_table(&config);
    let row = table.lines().find(|l| l.starts_with("courier")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("feed+text") && row.contains("5 of 7 article pages not read"), "{table}");
}

#[tokio::test]
async fn feed_readers_see_bylines_credits_and_full_bodies() {
    if !have_feedparser() {
        return;
    }
    let canary = canary("127.0.0.2").await;
    let (base, _site) = start_site(canary.port).await;
    let app = spawn_full_text(format!("{base}/feed")).await;
    app.poll_now().await;
    let urls: Vec<String> = ["rss", "atom"].iter().map(|x| format!("{}/sources/courier.{x}", app.base)).collect();
    for r in read_with_clients(&urls).await {
        assert_eq!(r["bozo"], 0, "{r}");
        let entries = r["entries"].as_array().expect("entries");
        let budget = entries
            .iter()
            .find(|e| e["link"].as_str().is_some_and(|l| l.ends_with("/a/budget")))
            .unwrap_or_else(|| panic!("{r}"));
        assert_eq!(budget["author"], "Reporter Name", "{}: {budget}", r["url"]);
        assert_eq!(budget["media_credit"], "Photographer Name / Courtesy", "{}: {budget}", r["url"]);
        assert_eq!(budget["media_content"], format!("{base}/photos/council-chamber.jpg"), "{}", r["url"]);
        assert!(budget["content"].as_str().is_some_and(|c| c.contains("river corridor")), "{}: {budget}", r["url"]);
        assert_eq!(budget["summary"], "Teaser of Budget passes.", "{}", r["url"]);
    }
    app.stop().await;
}

#[tokio::test]
async fn an_article_edited_on_its_page_only_is_found_by_a_recheck_and_redelivered() {
    let canary = canary("127.0.0.2").await;
    let (base, site) = start_site(canary.port).await;
    let app = spawn_full_text_with(format!("{base}/feed"), |p| p.recheck_every = Duration::from_millis(1)).await;
    app.poll_now().await;
    let first = app.get("/sources/courier.json?since=0").await;
    let cursor = first.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();

    // Nothing changed: the recheck asks with the page's validator and stores no edit.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "courier").summary.updated, 0);
    assert_eq!(site.hits_of("a/budget"), 2, "rechecked once, conditionally");
    let doc: Value = app.get(&format!("/sources/courier.json?since={cursor}")).await.json().await.expect("json");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(0), "a confirmed page is no news: {doc}");

    site.page_edited.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.poll_now().await;
    let doc: Value = app.get(&format!("/sources/courier.json?since={cursor}")).await.json().await.expect("json");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "only the edited article is re-delivered: {doc}");
    let budget = &items[0];
    assert!(budget["content_html"].as_str().is_some_and(|c| c.contains("415 million")), "{budget}");
    assert_eq!(budget["date_modified"], "2024-06-22T08:05:00+00:00", "the page's new last update");
    assert_eq!(budget["title"], "Budget passes", "the feed's title stays");
    app.stop().await;
}

/// An agency story as two outlets publish it: the same body on each one's own page, each feed
/// carrying only its own short teaser.
fn outlet_page(outlet: &str, furniture: &str) -> Vec<u8> {
    let body = [
        "Rescue teams reached the flooded villages of the upper Ardent valley on Tuesday morning after the river rose four metres overnight.",
        "The regional authority said three hundred and twelve residents had been moved to schools in Marlow and Fennick, and that two bridges were closed.",
        "Forecasters expect the water to fall slowly from Wednesday, but warned that more rain is due over the weekend across the northern hills.",
        "The agriculture ministry will assess the damage to farms along the valley floor, where the harvest had not yet been brought in.",
    ];
    let paragraphs: String = body.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<html><head><title>{outlet}</title></head><body><nav>{furniture} home news sport</nav><main><article>\
         <h1>Floods</h1>{paragraphs}</article></main><footer>{furniture} all rights reserved</footer></body></html>"
    )
    .into_bytes()
}

#[tokio::test]
async fn outlets_with_teaser_feeds_merge_on_their_full_article_bodies() {
    let server = wiremock::MockServer::start().await;
    let base = server.uri();
    let feed = |outlet: &str, teaser: &str| {
        rss(&format!(
            "<item><guid>{outlet}-1</guid><title>{teaser}</title><link>{base}/{outlet}/floods</link>\
             <description>{teaser}</description><pubDate>Tue, 01 Dec 2026 09:00:00 +0000</pubDate></item>"
        ))
    };
    let routes = [
        ("/north/feed", feed("north", "Valley flooded, hundreds moved"), "application/rss+xml"),
        ("/south/feed", feed("south", "River rises four metres overnight"), "application/rss+xml"),
        ("/north/floods", outlet_page("North Courier", "North Courier"), "text/html"),
        ("/south/floods", outlet_page("South Herald", "South Herald"), "text/html"),
    ];
    for (route, body, kind) in routes {
        let resp = wiremock::ResponseTemplate::new(200).set_body_raw(body, kind);
        wiremock::Mock::given(wiremock::matchers::path(route)).respond_with(resp).mount(&server).await;
    }
    let sources = [("north", format!("{base}/north/feed")), ("south", format!("{base}/south/feed"))];
    for full_text in [false, true] {
        let app = spawn_app_with(&sources, |p| p.full_text = full_text).await;
        app.poll_now().await;
        let items = json_items(&app, "/feeds/all.json").await;
        let want = if full_text { 1 } else { 2 };
        assert_eq!(items.len(), want, "full_text = {full_text}: {items:#?}");
        if full_text {
            let also = &items[0]["_newsriver"]["also_reported_by"];
            assert_eq!(also.as_array().map(Vec::len), Some(1), "{also}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn pages_past_a_polls_budget_are_read_by_the_next_polls() {
    let canary = canary("127.0.0.2").await;
    let (base, _site) = start_site(canary.port).await;
    let app = spawn_full_text_with(format!("{base}/feed"), |p| p.max_articles = 3).await;
    let mut read = Vec::new();
    for _ in 0..4 {
        app.poll_now().await;
        read.push(status_of(&app, "courier").await["articles"]["read"].as_u64().unwrap_or_default());
    }
    assert_eq!(read, [3, 6, 7, 7], "three pages a poll until all seven are read, then none again");
    for item in json_items(&app, "/sources/courier.json").await {
        assert!(article_of(&app, &item).await["checked"].is_string(), "{item}: its page was read");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_sources_extractor_overrides_choose_the_body_and_drop_elements() {
    let canary = canary("127.0.0.2").await;
    let (base, _site) = start_site(canary.port).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [("whole", format!("{base}/feed")), ("missing", format!("{base}/feed"))];
    let mut settings = test_settings(dir.path(), &sources, |p| {
        p.full_text = true;
        p.initial_items = 100;
        p.allow_private_networks = false;
        p.allow_hosts = vec!["127.0.0.1".into()];
    });
    settings.sources[0].article = newsriver::config::ArticleRules {
        content_selector: Some("main".into()),
        remove: vec!["p.byline".into(), ".lead-photo".into()],
    };
    settings.sources[1].article.content_selector = Some("div.no-such-body".into());
    let app = spawn_in(dir, settings).await;
    app.poll_now().await;
    let whole = item_by_url(&json_items(&app, "/sources/whole.json").await, "budget").clone();
    let article = article_of(&app, &whole).await;
    assert_eq!(article["sources"]["body"], "selector", "{article}");
    let body = article["body_html"].as_str().unwrap_or_default();
    assert!(body.contains("Get the morning briefing"), "the whole <main>, newsletter box included: {body}");
    assert!(article["byline"].is_null() && article["image"].is_null(), "removed before reading: {article}");
    let missing = item_by_url(&json_items(&app, "/sources/missing.json").await, "budget").clone();
    let article = article_of(&app, &missing).await;
    assert_eq!(article["sources"]["body"], "heuristic");
    assert!(article["notes"].to_string().contains("div.no-such-body"), "{article}");
    app.stop().await;
}
