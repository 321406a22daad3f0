//! Page sources: a newsroom listing without a feed, read with CSS selectors over loopback into
//! items (titles, links, dates in the site's own format), polled again without repeats, with a
//! selector that misses and a robots.txt that disallows shown on the source's status.

use crate::helpers::*;
use newsriver::config::{PageSelectors, SourceKind};
use newsriver::domain::FetchOutcome;
use serde_json::Value;
use wiremock::MockServer;

/// The selectors of the fixture newsroom: dates as "03/05/2026 · 09:30", which only the
/// source's own format reads.
fn newsroom() -> PageSelectors {
    PageSelectors {
        item: "article.release".into(),
        title: Some("h3".into()),
        link: Some("h3 a".into()),
        date: Some(".date".into()),
        date_format: Some("%d/%m/%Y · %H:%M".into()),
        summary: Some("p.lead".into()),
        image: Some("img".into()),
    }
}

/// An app whose sources are page sources read with `select`, every item in channels from the
/// first poll and no article fetched.
async fn spawn_pages(sources: &[(&str, String)], select: PageSelectors) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), sources, |p| p.initial_items = 100);
    for s in &mut settings.sources {
        s.kind = SourceKind::Page;
        s.page = Some(select.clone());
        s.full_text = false;
    }
    spawn_in(dir, settings).await
}

/// A story on the listing: its slug, headline and "dd/mm/yyyy · hh:mm" date.
type Story = (&'static str, &'static str, &'static str);

const STORIES: [Story; 3] = [
    ("ferry-subsidy", "Ferry subsidy extended to island routes", "03/05/2026 · 09:30"),
    ("flood-defences", "Minister opens new flood defences", "02/05/2026 · 16:05"),
    ("school-meals", "Free school meals reach every district", "30/04/2026 · 11:00"),
];

/// The listing page: navigation, a featured box repeating the first story (without its date,
/// linked to a fragment), the stories (each image linked with a tracking parameter), and a footer
/// that says when the page was built.
fn listing(stories: &[Story], built: &str) -> Vec<u8> {
    let featured = stories.first().map_or_else(String::new, |(slug, title, _)| {
        format!("<article class=\"release featured\"><h3><a href=\"/news/{slug}#top\">{title}</a></h3></article>")
    });
    let items: String = stories
        .iter()
        .map(|(slug, title, date)| {
            format!(
                "<article class=\"release\"><a href=\"/news/{slug}?utm_source=listing\"><img src=\"/img/{slug}.jpg\" alt=\"\"></a>\
                 <h3><a href=\"/news/{slug}\">{title}</a></h3><span class=\"date\">{date}</span>\
                 <p class=\"lead\">The ministry announced <b>{title}</b> today.</p></article>"
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Newsroom</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/news/\">News</a></nav><main>{featured}{items}</main>\
         <footer>Page built {built}</footer></body></html>"
    )
    .into_bytes()
}

async fn serve(server: &MockServer, route: &str, status: u16, body: Vec<u8>) {
    mount(server, route, status, body, "text/html; charset=utf-8").await;
}

/// The source's JSON Feed items as (title, url, date_published), newest first.
async fn items(app: &TestApp, id: &str) -> Vec<(String, String, String)> {
    let doc: Value = app.get(&format!("/sources/{id}.json")).await.json().await.expect("json feed");
    let items = doc["items"].as_array().cloned().unwrap_or_default();
    let field = |i: &Value, k: &str| i[k].as_str().unwrap_or_default().to_owned();
    items.iter().map(|i| (field(i, "title"), field(i, "url"), field(i, "date_published"))).collect()
}

#[tokio::test]
async fn a_listing_page_becomes_items_and_a_new_story_is_added_once() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/newsroom", 200, listing(&STORIES, "10:00")).await;
    let app = spawn_pages(&[("ministry", format!("{base}/newsroom"))], newsroom()).await;

    let r = app.poll_now().await;
    assert_eq!(report(&r, "ministry").summary.new, 3, "{:?}", report(&r, "ministry"));
    let want = [
        ("Ferry subsidy extended to island routes", "ferry-subsidy", "2026-05-03T09:30:00+00:00"),
        ("Minister opens new flood defences", "flood-defences", "2026-05-02T16:05:00+00:00"),
        ("Free school meals reach every district", "school-meals", "2026-04-30T11:00:00+00:00"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(t, slug, d)| (t.to_string(), format!("{base}/news/{slug}"), d.to_string())).collect();
    assert_eq!(items(&app, "ministry").await, want, "the featured story is one item, dated by its listing");
    let doc: Value = app.get("/sources/ministry.json").await.json().await.expect("json feed");
    let first = &doc["items"][0];
    assert!(first["content_html"].as_str().unwrap_or_default().contains("<b>Ferry subsidy"), "{first}");
    assert_eq!(first["attachments"][0]["url"], format!("{base}/img/ferry-subsidy.jpg"), "{first}");

    // The same bytes again are not read; the same stories on a rebuilt page are read, and known.
    let again = app.poll_now().await;
    assert_eq!(report(&again, "ministry").summary.new, 0, "{:?}", report(&again, "ministry"));
    server.reset().await;
    serve(&server, "/newsroom", 200, listing(&STORIES, "10:15")).await;
    let rebuilt = app.poll_now().await;
    let r = report(&rebuilt, "ministry");
    assert_eq!((r.outcome, r.summary.new, r.summary.updated), (FetchOutcome::Ok, 0, 0), "{r:?}");

    let fresh: Story = ("harbour-works", "Harbour works begin next week", "04/05/2026 · 08:00");
    server.reset().await;
    serve(&server, "/newsroom", 200, listing(&[fresh, STORIES[0], STORIES[1], STORIES[2]], "10:30")).await;
    let newer = app.poll_now().await;
    assert_eq!(report(&newer, "ministry").summary.new, 1, "{:?}", report(&newer, "ministry"));
    let got = items(&app, "ministry").await;
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].0, "Harbour works begin next week");
    assert_eq!(got[0].2, "2026-05-04T08:00:00+00:00");
    app.stop().await;
}

#[tokio::test]
async fn a_page_the_item_selector_misses_shows_an_error_on_its_status() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/newsroom", 200, listing(&STORIES, "10:00")).await;
    let missing = PageSelectors { item: "div.press-release".into(), ..newsroom() };
    let app = spawn_pages(&[("redesigned", format!("{base}/newsroom"))], missing).await;
    let reports = app.poll_now().await;
    let r = report(&reports, "redesigned");
    assert_eq!(r.outcome, FetchOutcome::PermanentError, "{r:?}");
    let reason = "the page has no element matching `item` selector \"div.press-release\"";
    assert_eq!(r.error.as_deref(), Some(reason));
    assert_eq!(status_of(&app, "redesigned").await["last_error"], reason);
    assert!(items(&app, "redesigned").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn robots_txt_disallowing_the_page_is_a_permanent_failure() {
    let server = MockServer::start().await;
    let base = server.uri();
    serve(&server, "/robots.txt", 200, b"User-agent: *\nDisallow: /private/\n".to_vec()).await;
    serve(&server, "/private/newsroom", 200, listing(&STORIES, "10:00")).await;
    serve(&server, "/newsroom", 200, listing(&STORIES, "10:00")).await;
    let sources = [("hidden", format!("{base}/private/newsroom")), ("open", format!("{base}/newsroom"))];
    let app = spawn_pages(&sources, newsroom()).await;
    let reports = app.poll_now().await;
    let r = report(&reports, "hidden");
    assert_eq!(r.outcome, FetchOutcome::PermanentError, "{r:?}");
    let reason = format!("disallowed by robots.txt: {base}/private/newsroom");
    assert_eq!(status_of(&app, "hidden").await["last_error"], reason);
    assert_eq!(hits(&server, "/private/newsroom").await, 0, "the disallowed page is never fetched");
    assert_eq!(report(&reports, "open").summary.new, 3, "the rest of the host stays allowed");
    assert_eq!(hits(&server, "/robots.txt").await, 1, "one robots.txt read per host");
    app.stop().await;
}
