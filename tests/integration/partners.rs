//! Partner keys and private channels over real HTTP: every way of sending a key, every refusal,
//! caching that never hands a partner's body to anyone else, and private items kept out of
//! every public channel, listing and link.

use crate::helpers::*;
use newsriver::config::{PartnerSettings, Settings};
use newsriver::domain::{EntryKey, Grant, KeyDigest, PartnerId, SourceId};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, VARY, WWW_AUTHENTICATE};
use std::collections::BTreeSet;
use wiremock::MockServer;

pub const PLANET: &str = "nrp_planet-key-for-tests-only";
pub const AGENCY: &str = "nrp_agency-key-for-tests-only";
pub const ADMIN: &str = "nra_admin-key-for-tests-only";

/// `economy` is public; `clients` (the same rule) is private.
const TOPICS: &str = r#"
[[topic]]
id = "economy"
title = "Economy"
any = ["budget"]

[[topic]]
id = "clients"
title = "Client desk"
any = ["budget"]
private = true
"#;

fn item(guid: &str, title: &str, link: &str, day: u32) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>{link}</link>\
         <description>{title}, as reported.</description><pubDate>{day:02} Nov 2026 10:00:00 +0000</pubDate></item>"
    )
}

/// `daily` (public): d1 on the budget, d2 on the harbour. `wire` (private): w1, the same story
/// as d1 (its article URL) and published earlier, and w2, its own.
pub async fn feeds() -> (MockServer, MockServer) {
    let daily = [
        item("d1", "Council approves the budget", "https://news.example/budget", 20),
        item("d2", "Harbour reopens after the storm", "https://news.example/harbour", 21),
    ];
    let wire = [
        item("w1", "Council approves the budget", "https://news.example/budget", 19),
        item("w2", "Exclusive: budget talks stall", "https://wire.example/w2", 22),
    ];
    let rss_type = "application/rss+xml";
    (
        serve_body("/feed", rss(&daily.concat()), rss_type).await,
        serve_body("/feed", rss(&wire.concat()), rss_type).await,
    )
}

pub fn partner(id: &str, key: &str, channels: Grant, rate_limit: Option<u32>) -> PartnerSettings {
    PartnerSettings {
        id: PartnerId::parse(id).expect("slug"),
        title: format!("Title of {id}"),
        key_sha256: KeyDigest::of_key(key),
        channels,
        rate_limit,
    }
}

/// An app over `daily` and the private `wire`, with the topics, partners `planet` (granted
/// `clients`) and `agency` (`"*"`), the admin key, and `change` made; polled once.
pub async fn spawn_private(change: impl FnOnce(&mut Settings)) -> (TestApp, [MockServer; 2]) {
    let (daily, wire) = feeds().await;
    let sources = [("daily", format!("{}/feed", daily.uri())), ("wire", format!("{}/feed", wire.uri()))];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &sources, |p| p.initial_items = 1000);
    add_topics(dir.path(), &mut settings, TOPICS);
    settings.sources[1].private = true;
    let clients = newsriver::domain::ChannelId::Topic(newsriver::domain::TopicId::parse("clients").expect("slug"));
    settings.partners = vec![
        partner("planet", PLANET, Grant::Channels(vec![clients]), None),
        partner("agency", AGENCY, Grant::All, None),
    ];
    settings.server.admin_key_sha256 = Some(KeyDigest::of_key(ADMIN));
    change(&mut settings);
    let app = spawn_in(dir, settings).await;
    app.poll_now().await;
    (app, [daily, wire])
}

pub fn key(source: &str, guid: &str) -> EntryKey {
    EntryKey::derive(&SourceId::parse(source).expect("slug"), "guid", guid)
}

pub fn keys_of(feed: &feed_rs::model::Feed) -> BTreeSet<EntryKey> {
    feed.entries.iter().map(|e| EntryKey::parse(&e.id).unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn parse(body: &[u8], what: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body).unwrap_or_else(|e| panic!("{what} does not parse: {e}"))
}

/// The app's URL with `user:password@` in front of the host, as feed readers are given it.
fn with_userinfo(app: &TestApp, user: &str, password: &str, path: &str) -> String {
    let mut url = url::Url::parse(&format!("{}{path}", app.base)).expect("url");
    url.set_username(user).expect("user");
    url.set_password(Some(password)).expect("password");
    url.to_string()
}

#[tokio::test]
async fn every_way_of_sending_a_key_reads_a_private_channel() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let want = BTreeSet::from([key("daily", "d1"), key("wire", "w1"), key("wire", "w2")]);
    let path = "/topics/clients.atom";
    let requests = [
        ("bearer", app.client.get(format!("{}{path}", app.base)).bearer_auth(PLANET)),
        ("basic in the URL", app.client.get(with_userinfo(&app, "planet", PLANET, path))),
        ("query", app.client.get(format!("{}{path}?key={PLANET}", app.base))),
    ];
    for (how, request) in requests {
        let resp = request.send().await.expect("request");
        assert_eq!(resp.status(), 200, "{how}");
        let cache = resp.headers()[CACHE_CONTROL].to_str().expect("ascii").to_owned();
        assert!(cache.starts_with("private"), "{how}: Cache-Control {cache}");
        let vary = resp.headers()[VARY].to_str().expect("ascii").to_owned();
        assert!(vary.split(',').any(|v| v.trim() == "Authorization"), "{how}: Vary {vary}");
        let feed = parse(&resp.bytes().await.expect("body"), how);
        assert_eq!(keys_of(&feed), want, "{how}: the public source's item and the private ones");
    }
    // "*" grants every channel, the private source's own too.
    let wire = app.client.get(format!("{}/sources/wire.json", app.base)).bearer_auth(AGENCY).send().await;
    let wire = wire.expect("request");
    assert_eq!(wire.status(), 200);
    assert_eq!(keys_of(&parse(&wire.bytes().await.expect("body"), "wire")).len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn refusals_say_how_to_send_a_key_and_reveal_nothing() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let get = |path: &str, key: Option<&str>| {
        let req = app.client.get(format!("{}{path}", app.base));
        let req = match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        };
        async move { req.send().await.expect("request") }
    };
    for (what, key) in [("no key", None), ("a wrong key", Some("nrp_guessed")), ("the admin key", Some(ADMIN))] {
        let resp = get("/topics/clients.rss", key).await;
        assert_eq!(resp.status(), 401, "{what}");
        let challenges: Vec<String> =
            resp.headers().get_all(WWW_AUTHENTICATE).iter().map(|v| v.to_str().expect("ascii").to_owned()).collect();
        assert_eq!(
            challenges,
            ["Basic realm=\"newsriver\", charset=\"UTF-8\"", "Bearer realm=\"newsriver\""],
            "{what}"
        );
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store", "{what}");
    }
    // A key that does not grant the channel: the answer of a channel that does not exist.
    let (denied, unknown) =
        (get("/sources/wire.atom", Some(PLANET)).await, get("/sources/nosuch.atom", Some(PLANET)).await);
    assert_eq!((denied.status().as_u16(), unknown.status().as_u16()), (404, 404));
    let header_names = |r: &reqwest::Response| -> Vec<String> {
        let mut h: Vec<String> = r.headers().keys().map(|k| k.to_string()).filter(|k| k != "date").collect();
        h.sort();
        h
    };
    assert_eq!(header_names(&denied), header_names(&unknown));
    let unknown_body = unknown.text().await.expect("body").replace("nosuch", "wire");
    assert_eq!(denied.text().await.expect("body"), unknown_body);
    // Public channels never refuse: a key that is no partner's is ignored there.
    assert_eq!(get("/topics/economy.rss", Some("nrp_guessed")).await.status(), 200);
    let basic = app.client.get(format!("{}/feeds/all.rss", app.base)).basic_auth("proxy-user", Some("proxy-pass"));
    assert_eq!(basic.send().await.expect("request").status(), 200, "a proxy's own Basic credentials");
    app.stop().await;
}

#[tokio::test]
async fn private_items_stay_out_of_public_channels_and_their_links() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let (d1, d2) = (key("daily", "d1"), key("daily", "d2"));
    for format in ["atom", "rss", "json", "ninjs"] {
        let all = app.get(&format!("/feeds/all.{format}")).await;
        let body = all.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("wire.example") && !text.contains("Title of wire"), "{format}: {text}");
        assert!(!text.contains("clients") && !text.contains("Client desk"), "{format} names a private topic");
        if format != "ninjs" {
            assert_eq!(keys_of(&parse(&body, format)), BTreeSet::from([d1, d2]), "{format}");
        }
    }
    // d1 and w1 share their article URL: public, they would be one story, w1 (earlier) shown.
    let atom = app.feed("/feeds/all.atom").await;
    for e in &atom.entries {
        let related: Vec<&str> =
            e.links.iter().filter(|l| l.rel.as_deref() == Some("related")).map(|l| l.href.as_str()).collect();
        assert!(related.is_empty(), "{}: related {related:?}", e.id);
    }
    assert_eq!(keys_of(&app.feed("/topics/economy.atom").await), BTreeSet::from([d1]));
    let doc: serde_json::Value = app.get("/feeds/all.json").await.json().await.expect("json");
    for item in doc["items"].as_array().expect("items") {
        let also = &item["_newsriver"]["also_reported_by"];
        assert!(also.is_null() || also.as_array().is_some_and(Vec::is_empty), "{item}");
    }
    app.stop().await;
}

#[tokio::test]
async fn cached_private_bodies_are_never_served_without_a_key() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let url = format!("{}/topics/clients.atom", app.base);
    let keyed = app.client.get(&url).bearer_auth(PLANET).send().await.expect("request");
    assert_eq!(keyed.status(), 200);
    let etag = keyed.headers()["etag"].clone();
    let again = app.client.get(&url).bearer_auth(PLANET).header("if-none-match", etag.clone()).send().await;
    assert_eq!(again.expect("request").status(), 304, "the partner's own revalidation");
    let anonymous = app.client.get(&url).send().await.expect("request");
    assert_eq!(anonymous.status(), 401, "the cached body is not handed out");
    let guessed = app.client.get(&url).header("if-none-match", etag).send().await.expect("request");
    assert_eq!(guessed.status(), 401, "nor a 304 for its validators");
    let renders = app.state.cache.renders();
    let query = app.client.get(format!("{url}?key={PLANET}")).send().await.expect("request");
    assert_eq!(query.status(), 200);
    assert_eq!(app.state.cache.renders(), renders + 1, "a ?key= body is rendered apart (its links keep the key)");
    assert_eq!(app.client.get(&url).send().await.expect("request").status(), 401);
    app.stop().await;
}

/// The path and query of a link the app made (its public URL is not where the test reaches it).
fn local(app: &TestApp, link: &str) -> String {
    let u = url::Url::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    format!("{}{}?{}", app.base, u.path(), u.query().unwrap_or_default())
}

#[tokio::test]
async fn a_query_key_is_kept_in_the_links_of_its_own_answer_only() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let first: serde_json::Value = app
        .client
        .get(format!("{}/topics/clients.json?limit=1&key={PLANET}", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let next = first["next_url"].as_str().expect("a next page");
    assert!(next.contains(&format!("key={PLANET}")) && next.contains("limit=1"), "{next}");
    assert!(first["feed_url"].as_str().is_some_and(|s| s.contains("key=")), "{first}");
    let second = app.client.get(local(&app, next)).send().await.expect("get");
    assert_eq!(second.status(), 200, "a reader that only sends ?key= follows the link");
    let bearer: serde_json::Value = app
        .client
        .get(format!("{}/topics/clients.json?limit=1", app.base))
        .bearer_auth(PLANET)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let plain = bearer["next_url"].as_str().expect("a next page");
    assert!(!plain.contains("key="), "a key sent in a header is never written into a body: {plain}");
    let since: serde_json::Value = app
        .client
        .get(format!("{}/topics/clients.json?since=0&key={PLANET}", app.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(since["next_url"].as_str().is_some_and(|s| s.contains("key=")), "{since}");
    app.stop().await;
}

/// The `xmlUrl` of every outline of an OPML document, read with an XML parser.
pub fn opml_feeds(body: &str) -> BTreeSet<String> {
    let mut reader = quick_xml::Reader::from_str(body);
    let mut out = BTreeSet::new();
    loop {
        match reader.read_event().expect("OPML is XML") {
            quick_xml::events::Event::Empty(e) | quick_xml::events::Event::Start(e)
                if e.local_name().into_inner() == "outline" =>
            {
                let url = e.try_get_attribute("xmlUrl").expect("attribute").expect("xmlUrl");
                out.insert(url.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("value").into_owned());
            }
            quick_xml::events::Event::Eof => return out,
            _ => {}
        }
    }
}

#[tokio::test]
async fn listings_show_private_channels_only_to_partners_granted_them() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let feeds = |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| format!("{PUBLIC_URL}{n}.rss")).collect() };
    let public = ["/feeds/all", "/topics/economy", "/sources/daily"];
    let anonymous = app.get("/channels.opml").await;
    assert!(anonymous.headers().get(CACHE_CONTROL).is_none_or(|v| !v.to_str().unwrap_or("").contains("private")));
    assert_eq!(opml_feeds(&anonymous.text().await.expect("body")), feeds(&public));
    let opml = |key: &'static str| {
        let req = app.client.get(format!("{}/channels.opml", app.base)).header(AUTHORIZATION, format!("Bearer {key}"));
        async move { req.send().await.expect("request") }
    };
    let planet = opml(PLANET).await;
    assert!(planet.headers()[CACHE_CONTROL].to_str().expect("ascii").starts_with("private"));
    let with_clients = ["/feeds/all", "/topics/economy", "/topics/clients", "/sources/daily"];
    assert_eq!(opml_feeds(&planet.text().await.expect("body")), feeds(&with_clients));
    let every = ["/feeds/all", "/topics/economy", "/topics/clients", "/sources/daily", "/sources/wire"];
    assert_eq!(opml_feeds(&opml(AGENCY).await.text().await.expect("body")), feeds(&every));
    let index = app.get("/").await.text().await.expect("html");
    let links: BTreeSet<String> = dom_query::Document::from(index.as_str())
        .select("a[href]")
        .nodes()
        .iter()
        .filter_map(|a| a.attr("href").map(|h| h.to_string()))
        .filter(|h| h.ends_with(".rss"))
        .collect();
    let want: BTreeSet<String> = public.iter().map(|p| format!("{}.rss", p.trim_start_matches('/'))).collect();
    assert_eq!(links, want, "the index lists public channels only");
    let keyed = app.client.get(format!("{}/?key={PLANET}", app.base)).send().await.expect("get");
    assert!(keyed.text().await.expect("html").contains("topics/clients.rss"));
    app.stop().await;
}
