//! Each input format ingests with the right fields; re-polls, edits, missing and duplicate GUIDs.

use crate::helpers::*;
use newsriver::domain::{FetchOutcome, IdentityKind};

async fn ingest_fixture(rel: &str, content_type: &str) -> (TestApp, wiremock::MockServer) {
    let server = serve_body("/feed", read_fixture(rel), content_type).await;
    let app = spawn_app(&[("src", format!("{}/feed", server.uri()))]).await;
    let reports = app.poll_now().await;
    assert_eq!(report(&reports, "src").outcome, FetchOutcome::Ok, "{:?}", reports);
    (app, server)
}

#[tokio::test]
async fn rss2_fields_are_normalized() {
    let (app, _s) = ingest_fixture("feeds/rss2/newsroom.xml", "application/rss+xml").await;
    let e = app.all_entries();
    assert_eq!(e.len(), 2);
    let pier = &e[0];
    assert_eq!(pier.title, "Pier 4 reopens after storm repairs");
    assert_eq!(pier.identity, "ha-2026-101");
    assert_eq!(
        pier.link.as_deref(),
        Some("https://harbour.example/news/pier-4-reopens?utm_source=rss&utm_medium=feed")
    );
    assert_eq!(pier.authors, ["Marta Lind"]);
    assert_eq!(pier.categories, ["Infrastructure"]);
    assert_eq!(pier.published.to_rfc3339(), "2026-11-24T09:30:00+00:00");
    let content = pier.content.as_deref().expect("content:encoded kept");
    assert!(content.contains("<strong>six weeks</strong>") && !content.contains("script"), "{content}");
    assert!(content.contains(r#"src="https://harbour.example/img/pier4.jpg""#), "{content}");
    assert_eq!(pier.enclosures[0].url, "https://harbour.example/img/pier4-large.jpg");
    assert_eq!(pier.enclosures[0].mime_type.as_deref(), Some("image/jpeg"));
    app.stop().await;
}

#[tokio::test]
async fn rss1_rss091_atom_and_json_ingest() {
    let cases = [
        ("feeds/rss1/rdf.xml", 2, "Tram line 3 extension approved", "2026-11-25T09:00:00+00:00"),
        ("feeds/rss0/rss091.xml", 1, "Library hours extended", ""),
        ("feeds/atom/relative_links.xml", 2, "Port strike ends after talks", "2026-11-25T08:00:00+00:00"),
        ("feeds/json/feed.json", 2, "Cold weather alert", "2026-11-27T10:00:00+00:00"),
    ];
    for (rel, count, first_title, first_published) in cases {
        let (app, _s) = ingest_fixture(rel, "application/xml").await;
        let e = app.all_entries();
        assert_eq!(e.len(), count, "{rel}");
        assert!(
            e.iter().any(|x| x.title == first_title),
            "{rel}: {:?}",
            e.iter().map(|x| &x.title).collect::<Vec<_>>()
        );
        if !first_published.is_empty() {
            let x = e.iter().find(|x| x.title == first_title).expect("found");
            assert_eq!(x.published.to_rfc3339(), first_published, "{rel}");
        } else {
            assert!(e.iter().all(|x| x.date_repaired), "{rel}: undated items get their first-seen time");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn atom_relative_links_resolve_against_xml_base() {
    let (app, _s) = ingest_fixture("feeds/atom/relative_links.xml", "application/atom+xml").await;
    let e = app.all_entries();
    let strike = e.iter().find(|x| x.identity == "tag:wire.example,2026:story-7").expect("story 7");
    assert_eq!(strike.link.as_deref(), Some("https://wire.example/stories/port-strike-ends"));
    assert!(
        strike.content.as_deref().unwrap_or("").contains(r#"href="https://wire.example/photos/port.html""#),
        "{:?}",
        strike.content
    );
    assert_eq!(strike.updated.to_rfc3339(), "2026-11-26T10:00:00+00:00");
    let grain = e.iter().find(|x| x.identity == "tag:wire.example,2026:story-8").expect("story 8");
    assert_eq!(grain.link.as_deref(), Some("https://wire.example/other/grain"));
    assert_eq!(grain.content.as_deref(), Some("<p>Late rains lifted yields &amp; prices.</p>"));
    app.stop().await;
}

#[tokio::test]
async fn second_poll_adds_nothing_and_restart_readds_nothing() {
    let server = serve_body("/feed", read_fixture("feeds/rss2/newsroom.xml"), "application/rss+xml").await;
    let app = spawn_app(&[("src", format!("{}/feed", server.uri()))]).await;
    app.poll_now().await;
    let first: Vec<_> = app.all_entries().into_iter().map(|e| e.key).collect();
    let again = app.poll_now().await;
    // wiremock sends no validators, so this is a full 200 with the same bytes.
    assert_eq!(report(&again, "src").outcome, FetchOutcome::Unchanged);
    assert_eq!(app.all_entries().into_iter().map(|e| e.key).collect::<Vec<_>>(), first);
    app.stop().await;
}

#[tokio::test]
async fn missing_guid_items_keep_one_key_across_polls() {
    let body = read_fixture("feeds/rss2/missing_guid.xml");
    let server = serve_body("/feed", body.clone(), "application/rss+xml").await;
    let app = spawn_app(&[("src", format!("{}/feed", server.uri()))]).await;
    app.poll_now().await;
    let mut keys: Vec<_> = app.all_entries().iter().map(|e| (e.key, e.identity_kind.clone())).collect();
    keys.sort_by_key(|k| k.0);
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.1 == IdentityKind::Link));
    assert!(keys.iter().any(|k| k.1 == IdentityKind::ContentHash));
    // Same items, different bytes (whitespace), so the body hash misses and the items are re-keyed.
    server.reset().await;
    let mut changed = body.clone();
    changed.extend_from_slice(b"\n<!-- regenerated -->\n");
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(changed, "application/rss+xml"))
        .mount(&server)
        .await;
    let r = app.poll_now().await;
    assert_eq!((report(&r, "src").summary.new, report(&r, "src").summary.unchanged), (0, 2));
    let mut again: Vec<_> = app.all_entries().iter().map(|e| (e.key, e.identity_kind.clone())).collect();
    again.sort_by_key(|k| k.0);
    assert_eq!(again, keys);
    let linked = app.all_entries().into_iter().find(|e| e.identity_kind == IdentityKind::Link).expect("linked");
    assert_eq!(linked.link.as_deref(), Some("https://gazette.example/news/council-thursday"));
    app.stop().await;
}

#[tokio::test]
async fn duplicate_guids_in_one_feed_keep_every_item() {
    let (app, _s) = ingest_fixture("feeds/rss2/duplicate_guids.xml", "application/rss+xml").await;
    let titles: Vec<String> = app.all_entries().into_iter().map(|e| e.title).collect();
    assert_eq!(titles, ["Third story", "Second story", "First story"]);
    let feed = app.feed("/feeds/all.rss").await;
    let ids: std::collections::HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 3, "three distinct output GUIDs");
    app.stop().await;
}

#[tokio::test]
async fn an_edited_item_updates_in_place() {
    let server = serve_body(
        "/feed",
        rss(&(rss_item("a", "Original headline", 20) + &rss_item("b", "Other", 21))),
        "application/rss+xml",
    )
    .await;
    let app = spawn_app(&[("src", format!("{}/feed", server.uri()))]).await;
    app.poll_now().await;
    let before = app.all_entries();
    server.reset().await;
    let edited = rss(&(rss_item("a", "Corrected headline", 20) + &rss_item("b", "Other", 21)));
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(edited, "application/rss+xml"))
        .mount(&server)
        .await;
    let r = app.poll_now().await;
    let s = &report(&r, "src").summary;
    assert_eq!((s.new, s.updated, s.unchanged), (0, 1, 1));
    let after = app.all_entries();
    assert_eq!(after.len(), 2, "an edit is not a second item");
    let a_before = before.iter().find(|e| e.identity == "a").expect("a");
    let a_after = after.iter().find(|e| e.identity == "a").expect("a");
    assert_eq!((a_after.key, a_after.title.as_str()), (a_before.key, "Corrected headline"));
    assert!(a_after.updated > a_before.updated, "updated time moves");
    assert_eq!(a_after.published, a_before.published);
    app.stop().await;
}

#[tokio::test]
async fn items_that_drop_out_of_the_feed_stay() {
    let server =
        serve_body("/feed", rss(&(rss_item("a", "A", 20) + &rss_item("b", "B", 21))), "application/rss+xml").await;
    let app = spawn_app(&[("src", format!("{}/feed", server.uri()))]).await;
    app.poll_now().await;
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(rss(&rss_item("c", "C", 22)), "application/rss+xml"),
        )
        .mount(&server)
        .await;
    app.poll_now().await;
    let titles: Vec<String> = app.all_entries().into_iter().map(|e| e.title).collect();
    assert_eq!(titles, ["C", "B", "A"]);
    app.stop().await;
}
