//! One story, one item: cross-source merging seen through the HTTP surface, GUID churn without
//! re-emission, and stories surviving a restart.

use crate::helpers::*;
use newsriver::domain::FetchOutcome;
use std::collections::HashSet;

const BODY: &str = "The third round of talks between the delegations of Caldoria and Veshtan on a durable \
    ceasefire will open on Monday in Port Alder, the ministry said, adding that both sides had agreed an \
    agenda covering verification of the truce line, the exchange of detained civilians and the reopening \
    of the river crossings to humanitarian convoys before the winter sets in across the region.";

fn item(guid: &str, link: &str, title: &str, body: &str, day: u32) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>{}</title><link>{}</link><description>{}</description><pubDate>{day:02} Nov 2026 10:00:00 +0000</pubDate></item>",
        esc(title),
        esc(link),
        esc(&format!("<p>{body}</p>"))
    )
}

async fn mount(server: &wiremock::MockServer, body: Vec<u8>) {
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(body, "application/rss+xml"))
        .mount(server)
        .await;
}

#[tokio::test]
async fn merged_channels_show_one_item_per_story_with_the_others_listed() {
    let wire = serve_body(
        "/feed",
        rss(&item("w1", "https://wire.example/talks", "Talks to open Monday", BODY, 20)),
        "application/rss+xml",
    )
    .await;
    let daily = serve_body(
        "/feed",
        rss(&(item("d1", "https://daily.example/peace", "Peace talks resume in Port Alder", BODY, 21)
            + &item(
                "d2",
                "https://daily.example/other",
                "Harvest fair draws crowds",
                "A record crowd came to the harvest fair on Saturday.",
                22,
            ))),
        "application/rss+xml",
    )
    .await;
    let app = spawn_app(&[("wire", format!("{}/feed", wire.uri())), ("daily", format!("{}/feed", daily.uri()))]).await;
    app.poll_now().await;

    let atom = app.feed("/feeds/all.atom").await;
    let titles: Vec<String> = atom.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect();
    assert_eq!(
        titles,
        ["Harvest fair draws crowds", "Talks to open Monday"],
        "one item per story, the earliest as primary"
    );
    let related: Vec<(String, Option<String>)> = atom.entries[1]
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("related"))
        .map(|l| (l.href.clone(), l.title.clone()))
        .collect();
    assert_eq!(related, [("https://daily.example/peace".to_owned(), Some("Title of daily".to_owned()))]);

    let json: serde_json::Value = app.get("/feeds/all.json").await.json().await.expect("json");
    let also = &json["items"][1]["_newsriver"]["also_reported_by"];
    assert_eq!(also[0]["url"], "https://daily.example/peace");
    assert_eq!(also[0]["source"], "daily");

    let rss_feed = app.feed("/feeds/all.rss").await;
    let desc = rss_feed.entries[1].summary.as_ref().map(|s| s.content.clone()).unwrap_or_default();
    assert!(desc.contains("Also reported by") && desc.contains("https://daily.example/peace"), "{desc}");

    // Per-source channels still show every member of that source.
    assert_eq!(app.feed("/sources/daily.atom").await.entries.len(), 2);

    // The story API lists every member and why it joined.
    let story_id = json["items"][1]["_newsriver"]["story"].as_str().expect("story id").to_owned();
    let story: serde_json::Value = app.get(&format!("/api/stories/{story_id}")).await.json().await.expect("json");
    let members: Vec<(String, String)> = story["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["source"].as_str().unwrap_or("").to_owned(), m["rule"].as_str().unwrap_or("").to_owned()))
        .collect();
    // Polls run concurrently: either copy may have founded the story; the other joined by text.
    let mut sources: Vec<&str> = members.iter().map(|m| m.0.as_str()).collect();
    sources.sort();
    let mut rules: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
    rules.sort();
    assert_eq!((sources, rules), (vec!["daily", "wire"], vec!["first", "text"]));
    assert_eq!(story["primary"], json["items"][1]["id"].as_str().unwrap_or("").trim_start_matches("urn:uuid:"));
    assert_eq!(app.get("/api/stories/00000000-0000-8000-8000-000000000000").await.status(), 404);

    // An item no other source carried is a story of one (it has no stored record).
    let alone = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["_newsriver"]["also_reported_by"].as_array().is_none_or(Vec::is_empty));
    let alone = alone.expect("an item without other outlets");
    let sid = alone["_newsriver"]["story"].as_str().expect("story id");
    let story: serde_json::Value = app.get(&format!("/api/stories/{sid}")).await.json().await.expect("json");
    assert_eq!(story["members"].as_array().map(Vec::len), Some(1), "{story}");
    assert_eq!(story["primary"].as_str(), Some(sid));
    app.stop().await;
}

#[tokio::test]
async fn guid_and_domain_churn_re_emit_nothing() {
    let other = "The city council approved the 2027 budget of 412 million by 31 votes to 12 on Thursday, with \
        more money for school maintenance and the municipal housing fund, after a debate that lasted more than \
        six hours and ended shortly before midnight with a vote on the final amendments.";
    let original = rss(&(item("w1", "https://wire.example/talks", "Talks", BODY, 20)
        + &item("w2", "https://wire.example/budget", "Budget", other, 21)));
    let wire = serve_body("/feed", original, "application/rss+xml").await;
    let app = spawn_app(&[("wire", format!("{}/feed", wire.uri()))]).await;
    app.poll_now().await;
    let first_ids: HashSet<String> = app.feed("/feeds/all.atom").await.entries.iter().map(|e| e.id.clone()).collect();
    let cursor = app.get("/feeds/all.atom").await.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();

    // New GUID scheme, same links; then a domain move with new GUIDs and URLs; then whitespace.
    let variants = [
        rss(&(item("urn:wire:2026:1", "https://wire.example/talks", "Talks", BODY, 20)
            + &item("urn:wire:2026:2", "https://wire.example/budget", "Budget", other, 21))),
        rss(&(item("nw-1", "https://newswire.example/2026/11/talks", "Talks", BODY, 20)
            + &item("nw-2", "https://newswire.example/2026/11/budget", "Budget", other, 21))),
        rss(&(item(
            "nw-1",
            "https://newswire.example/2026/11/talks?utm_source=rss",
            "Talks",
            &BODY.replace(", ", " ,  "),
            20,
        ) + &item("nw-2", "https://newswire.example/2026/11/budget", "Budget ", other, 21))),
    ];
    for body in variants {
        mount(&wire, body).await;
        let r = app.poll_now().await;
        let s = &report(&r, "wire").summary;
        assert_eq!(report(&r, "wire").outcome, FetchOutcome::Ok);
        assert_eq!((s.new, s.updated), (0, 0), "{s:?}");
    }
    let ids: HashSet<String> = app.feed("/feeds/all.atom").await.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, first_ids, "the same items under the same ids");
    assert_eq!(app.state.store.entry_count(), 2);
    let since: serde_json::Value =
        app.get(&format!("/feeds/all.json?since={cursor}")).await.json().await.expect("json");
    assert_eq!(since["items"].as_array().map(Vec::len), Some(0), "nothing re-emitted to partners");
    app.stop().await;
}

#[tokio::test]
async fn stories_survive_a_restart() {
    let wire =
        serve_body("/feed", rss(&item("w1", "https://wire.example/talks", "Talks", BODY, 20)), "application/rss+xml")
            .await;
    let daily = serve_body("/feed", rss(""), "application/rss+xml").await;
    let app = spawn_app(&[("wire", format!("{}/feed", wire.uri())), ("daily", format!("{}/feed", daily.uri()))]).await;
    app.poll_now().await;
    let settings = app.settings();
    let app = app.restart(settings).await;
    mount(&daily, rss(&item("d1", "https://daily.example/peace", "Peace talks resume", BODY, 21))).await;
    app.poll_now().await;
    let atom = app.feed("/feeds/all.atom").await;
    assert_eq!(atom.entries.len(), 1, "the daily copy joined the story stored before the restart");
    assert!(atom.entries[0]
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("related") && l.href == "https://daily.example/peace"));
    app.stop().await;
}
