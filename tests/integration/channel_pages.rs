//! Channels for people: `/feeds/all`, `/topics/{id}` and `/sources/{id}` without an extension
//! are HTML pages, read here by a parser and checked against the feeds they offer.

use crate::helpers::*;
use dom_query::Document;

async fn page(app: &TestApp, path: &str) -> Document {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    let ctype = resp.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert!(ctype.starts_with("text/html"), "{path}: {ctype}");
    Document::from(resp.text().await.expect("body"))
}

/// A link's path and query: links are absolute on `server.public_url`, which tests leave at
/// its default.
fn local(href: &str) -> String {
    let u = url::Url::parse(href).expect("absolute link");
    u.query().map_or_else(|| u.path().to_owned(), |q| format!("{}?{q}", u.path()))
}

fn titles(doc: &Document) -> Vec<String> {
    doc.select("article h2").iter().map(|h| h.text().trim().to_owned()).collect()
}

/// Two outlets carrying one story (same link), and a third item of the first alone.
async fn app_with_a_shared_story() -> (TestApp, wiremock::MockServer, wiremock::MockServer) {
    let hostile = "Tides &amp; &lt;script&gt;alert(1)&lt;/script&gt; rise";
    let a = rss(&(rss_item("s1", "Harbour reopens", 20) + &rss_item("a2", hostile, 22)));
    let a = serve_body("/feed", a, "application/rss+xml").await;
    let b = serve_body("/feed", rss(&rss_item("s1", "Harbour reopens after storm", 21)), "application/rss+xml").await;
    let app = spawn_app(&[("alpha", format!("{}/feed", a.uri())), ("beta", format!("{}/feed", b.uri()))]).await;
    app.poll_now().await;
    (app, a, b)
}

#[tokio::test]
async fn channel_page_lists_what_the_feed_lists_with_the_stories_other_outlets() {
    let (app, _a, _b) = app_with_a_shared_story().await;
    let doc = page(&app, "/feeds/all").await;
    let feed = app.feed("/feeds/all.atom").await;
    let want: Vec<String> = feed.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect();
    assert_eq!(titles(&doc), want, "the page lists the channel's items in its order");
    assert!(titles(&doc).contains(&"Tides & <script>alert(1)</script> rise".to_owned()), "titles are text");
    assert_eq!(doc.select("script").length(), 0, "nothing from a feed becomes markup");
    let also: Vec<String> = doc.select("details.others li a").iter().map(|a| a.text().to_string()).collect();
    assert_eq!(also.len(), 1, "the story's other outlet is listed: {also:?}");
    assert!(doc.select(".meta .outlet").iter().any(|o| o.text().contains("alpha") || o.text().contains("beta")));
}

#[tokio::test]
async fn channel_page_offers_every_format_and_pages_like_the_feed() {
    let (app, _a, _b) = app_with_a_shared_story().await;
    let doc = page(&app, "/sources/alpha?limit=1").await;
    let alternates: Vec<String> =
        doc.select("head link[rel=alternate]").iter().filter_map(|l| l.attr("href").map(|h| h.to_string())).collect();
    assert_eq!(alternates.len(), 4, "{alternates:?}");
    for href in &alternates {
        let path = local(href);
        assert_eq!(app.get(&path).await.status(), 200, "{path}");
    }
    assert_eq!(titles(&doc).len(), 1);
    let older = doc.select("nav.paging a[rel=next]").attr("href").expect("a link to older items").to_string();
    let older = page(&app, &local(&older)).await;
    assert_eq!(titles(&older).len(), 1);
    assert_ne!(titles(&older), titles(&doc), "the next page holds the older item");
    assert_eq!(app.get("/topics/no-such-topic").await.status(), 404);
    // The index leads people to the pages.
    let index = page(&app, "/").await;
    let pages: Vec<String> =
        index.select("a.channel").iter().filter_map(|a| a.attr("href").map(|h| h.to_string())).collect();
    assert_eq!(pages, ["feeds/all", "sources/alpha", "sources/beta"]);
    for p in &pages {
        assert!(!titles(&page(&app, &format!("/{p}")).await).is_empty(), "{p}");
    }
}
