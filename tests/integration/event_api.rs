//! Events through the API and over time: `/api/events/{id}` says who is in an event and why,
//! events and their coverage survive a restart, a later report that joins an event is never
//! delivered to `since` readers as an item of its own, and story grouping (everywhere, or for one
//! topic) lists every report apart. Fixtures and helpers: `event_channels.rs`.

use crate::event_channels::*;
use crate::helpers::*;
use chrono::DateTime;
use newsriver::config::Grouping;
use newsriver::domain::EntryKey;
use serde_json::Value;
use std::collections::HashSet;

/// The event of an entry key, event id or story id.
async fn event(app: &TestApp, id: &str) -> Value {
    get_json(app, &format!("/api/events/{id}")).await
}

fn members(event: &Value) -> &Vec<Value> {
    event["members"].as_array().unwrap_or_else(|| panic!("members in {event}"))
}

#[tokio::test]
async fn event_api_lists_the_members_and_why_they_joined() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    let a = event_reports("A");
    let doc = get_json(&app, "/feeds/all.json").await;
    let id = item_of(&doc, a[0].key())["_newsriver"]["event"].as_str().expect("event id").to_owned();
    let ev = event(&app, &id).await;
    assert_eq!((ev["id"].as_str(), key_of(&ev["primary"])), (Some(id.as_str()), a[0].key()), "{ev}");
    let listed: HashSet<EntryKey> = members(&ev).iter().map(|m| key_of(&m["key"])).collect();
    assert_eq!(listed, a.iter().map(Told::key).collect::<HashSet<_>>());
    for (m, r) in members(&ev).iter().map(|m| (m, a.iter().find(|r| r.key() == key_of(&m["key"])))) {
        let r = r.expect("a report of A");
        assert_eq!(
            (m["source"].as_str(), m["title"].as_str(), m["link"].as_str()),
            (Some(r.outlet), Some(&*r.title), Some(&*r.link))
        );
        assert_eq!(m["published"].as_str().map(DateTime::parse_from_rfc3339), Some(Ok(r.published.into())));
    }
    assert_eq!(members(&ev)[0]["joined"], "first", "{ev}");
    let threshold = app.settings().stories.event_threshold;
    for m in &members(&ev)[1..] {
        assert_eq!(m["joined"], "event", "{m}");
        assert!(m["score"].as_f64().is_some_and(|s| s >= threshold), "{m}");
        assert!(m["names"].as_array().is_some_and(|n| n.iter().any(Value::is_string)), "a shared name: {m}");
        assert!(m["numbers"].is_array() && m["dates"].is_array(), "{m}");
    }
    // A member's entry key, and its story id, lead to its event.
    assert_eq!(event(&app, &a[2].key().to_string()).await["id"], id.as_str());
    let ministry = get_json(&app, "/sources/ministry.json").await;
    let story = item_of(&ministry, a[1].key())["_newsriver"]["story"].as_str().expect("story id").to_owned();
    assert_eq!(event(&app, &story).await["id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn an_item_alone_is_an_event_of_one_and_unknown_ids_are_not_found() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    for one in alone() {
        let ev = event(&app, &one.key().to_string()).await;
        assert_eq!(key_of(&ev["primary"]), one.key(), "{ev}");
        let listed: Vec<EntryKey> = members(&ev).iter().map(|m| key_of(&m["key"])).collect();
        assert_eq!(listed, [one.key()], "{}", one.title);
    }
    for unknown in ["00000000-0000-8000-8000-000000000000", "nope"] {
        assert_eq!(app.get(&format!("/api/events/{unknown}")).await.status(), 404, "{unknown}");
    }
    app.stop().await;
}

/// What the merged channel shows: each item with its coverage, in channel order.
async fn shown(app: &TestApp) -> Vec<(EntryKey, Vec<Cover>)> {
    let doc = get_json(app, "/feeds/all.json").await;
    doc["items"].as_array().expect("items").iter().map(|i| (key_of(&i["id"]), coverage(i))).collect()
}

#[tokio::test]
async fn events_and_their_coverage_survive_a_restart() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    let before = shown(&app).await;
    assert_eq!(before.iter().map(|s| s.0).collect::<HashSet<_>>(), primaries());
    let settings = app.settings();
    let app = app.restart(settings).await;
    assert_eq!(shown(&app).await, before, "the same items with the same coverage");
    for r in app.poll_now().await {
        assert_eq!((r.summary.new, r.summary.updated), (0, 0), "{}: {:?}", r.source, r.summary);
    }
    assert_eq!(shown(&app).await, before, "polling the same feeds again adds nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_later_report_joins_its_event_and_is_not_delivered_as_an_item() {
    let (app, servers) = spawn_events_app(|_, _| {}).await;
    let cursor = app.get("/feeds/all.json").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let gazette = &servers[OUTLETS.iter().position(|o| *o == "gazette").expect("gazette")];
    gazette.reset().await;
    mount(gazette, "/feed", 200, read_fixture(GAZETTE_UPDATE), "application/rss+xml").await;
    app.poll_now().await;
    let (late, a) = (late_report(), event_reports("A"));
    let page = get_json(&app, &format!("/feeds/all.json?since={cursor}")).await;
    for key in keys(&page) {
        // Re-delivering a primary (its coverage grew) is allowed; any other member is not.
        assert_eq!(key_of(&event(&app, &key.to_string()).await["primary"]), key, "{key} is not a primary");
    }
    assert!(
        !keys(&page).contains(&late.key()) && !keys(&get_json(&app, "/feeds/all.json").await).contains(&late.key())
    );
    assert!(keys(&get_json(&app, "/sources/gazette.json").await).contains(&late.key()));
    let joined = event(&app, &late.key().to_string()).await;
    assert_eq!(key_of(&joined["primary"]), a[0].key(), "the late report joined A: {joined}");
    let mut all_a = a.clone();
    all_a.push(late);
    let doc = get_json(&app, "/feeds/all.json").await;
    assert_eq!(coverage(item_of(&doc, a[0].key())), expected_coverage(&all_a));
    app.stop().await;
}

/// `xml` with the item whose link is `link` rewritten: a new title and a body on another subject.
fn rewritten(xml: &str, link: &str) -> String {
    let at = xml.find(&format!("<link>{link}</link>")).expect("the item");
    let (from, to) =
        (xml[..at].rfind("<item>").expect("item start"), at + xml[at..].find("</item>").expect("item end"));
    let body = "<p>The Harbour Jazz Festival opened on Monday with a sold-out concert by the Lindqvist Quartet \
        at the Old Customs Hall, the organisers said. Tickets for the closing night are still on sale.</p>"
        .repeat(4);
    let item = format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>Harbour Jazz Festival opens with a sold-out night</title>\
         <link>{link}</link><pubDate>Mon, 30 Nov 2026 09:20:00 +0000</pubDate><description><![CDATA[{body}]]></description></item>",
        guid = &xml[from..to].split("<guid isPermaLink=\"false\">").nth(1).and_then(|g| g.split('<').next()).expect("guid"),
    );
    [&xml[..from], item.as_str(), &xml[to + "</item>".len()..]].concat()
}

#[tokio::test]
async fn an_edited_report_that_no_longer_fits_leaves_its_event_and_is_delivered_again() {
    let (app, servers) = spawn_events_app(|_, _| {}).await;
    let cursor = app.get("/feeds/all.json").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
    let a = event_reports("A");
    let daily = a.iter().find(|t| t.outlet == "daily").expect("daily's report of A");
    assert!(!keys(&get_json(&app, "/feeds/all.json").await).contains(&daily.key()), "listed under A's primary");
    let xml = String::from_utf8(read_fixture("events/daily.xml")).expect("utf-8");
    let server = &servers[OUTLETS.iter().position(|o| *o == "daily").expect("daily")];
    server.reset().await;
    mount(server, "/feed", 200, rewritten(&xml, &daily.link).into_bytes(), "application/rss+xml").await;
    app.poll_now().await;
    let page = get_json(&app, &format!("/feeds/all.json?since={cursor}")).await;
    assert!(keys(&page).contains(&daily.key()), "the report that left is delivered again: {page}");
    let doc = get_json(&app, "/feeds/all.json").await;
    assert!(keys(&doc).contains(&daily.key()), "it shows on its own");
    let left: Vec<Cover> = expected_coverage(&a).into_iter().filter(|c| c.3 != daily.link).collect();
    assert_eq!(coverage(item_of(&doc, a[0].key())), left, "A's coverage no longer lists it");
    assert_eq!(members(&event(&app, &daily.key().to_string()).await).len(), 1, "an event of its own");
    app.stop().await;
}

#[tokio::test]
async fn reports_older_than_the_event_window_open_no_events() {
    let hour = std::time::Duration::from_secs(3_600);
    let (app, _servers) = spawn_events_app(|_, s| s.stories.event_window = hour).await;
    let doc = get_json(&app, "/feeds/all.json").await;
    let every: HashSet<EntryKey> = fixture_items().iter().map(Told::key).collect();
    assert_eq!(keys(&doc), every, "a backlog older than the window is shown item by item");
    assert!(doc["items"].as_array().expect("items").iter().all(|i| coverage(i).is_empty()));
    let alone = get_json(&app, &format!("/api/events/{}", fixture_items()[0].key())).await;
    assert_eq!(alone["members"].as_array().map(Vec::len), Some(1), "{alone}");
    app.stop().await;
}

#[tokio::test]
async fn story_grouping_lists_every_report_apart() {
    let (app, _servers) = spawn_events_app(|_, s| s.stories.group = Grouping::Story).await;
    let doc = get_json(&app, "/feeds/all.json").await;
    let every: HashSet<EntryKey> = fixture_items().iter().map(Told::key).collect();
    assert_eq!(keys(&doc), every, "A's three reports and B's two apart, and the three alone");
    for item in doc["items"].as_array().expect("items") {
        assert_eq!(coverage(item), [], "no coverage in story grouping: {item}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_topic_grouped_by_story_lists_reports_apart_while_all_groups_by_event() {
    let topic = format!("{QUAKES_TOPIC}group = \"story\"\n");
    let (app, _servers) = spawn_events_app(|dir, s| add_topics(dir, s, &topic)).await;
    let doc = get_json(&app, "/topics/quakes.json").await;
    let reports = fixture_items().into_iter().filter(|r| !r.event.is_empty());
    assert_eq!(keys(&doc), reports.map(|r| r.key()).collect::<HashSet<_>>(), "every earthquake report");
    for item in doc["items"].as_array().expect("items") {
        assert_eq!(coverage(item), [], "{item}");
    }
    assert_eq!(keys(&get_json(&app, "/feeds/all.json").await), primaries(), "/feeds/all still groups");
    app.stop().await;
}
