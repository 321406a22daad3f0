//! Events through the channels: four outlets' feeds (`tests/fixtures/events/`) where three
//! report one earthquake independently (event A), two report another earthquake of the same day
//! (event B, the hard negative) and three items stand alone. Merged and topic channels show one
//! item per event, its earliest report, with the other reports as its coverage; per-source
//! channels show every item. The fixtures are checked against the pure core first.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use newsriver::config::Settings;
use newsriver::domain::{EntryKey, SourceId};
use newsriver::events::{pair, EventId, EventIndex, EventSettings, Extract, Features, Item, Model, Rarity};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use wiremock::MockServer;

/// The fixture outlets (source ids), in file order.
pub const OUTLETS: [&str; 4] = ["wire", "ministry", "daily", "gazette"];

/// What each fixture item reports, by outlet and guid: event "A", event "B", or "" (alone).
const EXPECTED: [(&str, &str, &str); 9] = [
    ("wire", "tag:wire.example,2026:quake-velmara-1", "A"),
    ("ministry", "ministry-press-2026-1183", "A"),
    ("daily", "https://daily.example/?p=88207", "A"),
    ("gazette", "gazette-2026-11-30-velmara-search-ends", "A"),
    ("gazette", "gazette-2026-11-30-quintara-quake", "B"),
    ("daily", "https://daily.example/?p=88213", "B"),
    ("wire", "tag:wire.example,2026:football-harbour-city", ""),
    ("ministry", "ministry-press-2026-1187", ""),
    ("gazette", "gazette-2026-11-30-rail-strike", ""),
];

/// The second version of the gazette's feed adds a later report of event A.
pub const GAZETTE_UPDATE: &str = "events/gazette-update.xml";
const LATE_GUID: &str = "gazette-2026-11-30-velmara-search-ends";

/// One item of the fixture feeds, as a reader of the feed sees it.
#[derive(Debug, Clone)]
pub struct Told {
    pub outlet: &'static str,
    pub guid: String,
    pub title: String,
    pub link: String,
    /// The description, tags stripped.
    pub text: String,
    pub published: DateTime<Utc>,
    pub event: &'static str,
}

impl Told {
    pub fn key(&self) -> EntryKey {
        EntryKey::derive(&SourceId::parse(self.outlet).expect("outlet id"), "guid", &self.guid)
    }

    fn item(&self) -> Item<'_> {
        let (title, text) = (&self.title, &self.text);
        let origin = newsriver::events::origin_of(self.outlet);
        Item { key: self.key(), origin, title, lead: None, text, language: Some("en"), published: self.published }
    }
}

fn parse_fixture(outlet: &'static str, file: &str) -> Vec<Told> {
    let feed = feed_rs::parser::parse(read_fixture(file).as_slice()).expect("fixture parses");
    let told = |e: feed_rs::model::Entry| Told {
        outlet,
        event: EXPECTED.iter().find(|x| x.0 == outlet && x.1 == e.id).map(|x| x.2).expect("item in EXPECTED"),
        title: e.title.map(|t| t.content).expect("title"),
        link: e.links.first().map(|l| l.href.clone()).expect("link"),
        text: newsriver::text::sanitized_to_text(&e.summary.map(|s| s.content).expect("description")),
        published: e.published.expect("pubDate"),
        guid: e.id,
    };
    feed.entries.into_iter().map(told).collect()
}

/// Every item of the four fixture feeds (first versions), in file order.
pub fn fixture_items() -> Vec<Told> {
    let all: Vec<Told> = OUTLETS.iter().flat_map(|o| parse_fixture(o, &format!("events/{o}.xml"))).collect();
    assert_eq!(all.len(), EXPECTED.len() - 1, "every expected item but the late one is in the feeds");
    all
}

/// The later report of event A that the gazette's second version adds.
pub fn late_report() -> Told {
    let late = parse_fixture("gazette", GAZETTE_UPDATE).into_iter().find(|t| t.guid == LATE_GUID);
    late.expect("the late report")
}

/// The reports of one event (`"A"`, `"B"`), earliest first: the first is the event's primary.
pub fn event_reports(label: &str) -> Vec<Told> {
    let mut v: Vec<Told> = fixture_items().into_iter().filter(|r| r.event == label).collect();
    v.sort_by_key(|r| r.published);
    v
}

pub fn alone() -> Vec<Told> {
    fixture_items().into_iter().filter(|r| r.event.is_empty()).collect()
}

/// What merged channels show: each event's earliest report and every item alone.
pub fn primaries() -> HashSet<EntryKey> {
    let firsts = ["A", "B"].map(|l| event_reports(l)[0].key());
    alone().iter().map(Told::key).chain(firsts).collect()
}

/// One run of the pure core over `order`: each item's final event, the scores of the joins, and
/// the best score an item of one event had with the other event as candidate.
struct Run {
    events: HashMap<EntryKey, EventId>,
    joins: Vec<f64>,
    across: f64,
}

/// Assigns `order` to a fresh index; `warm`: its rarity counted over all of them first.
fn run_core(order: &[&Told], warm: bool) -> Run {
    let mut index = EventIndex::new(EventSettings::default());
    if warm {
        order.iter().for_each(|r| index.observe(&r.item()));
    }
    let mut run = Run { events: HashMap::new(), joins: Vec::new(), across: f64::NEG_INFINITY };
    for r in order {
        let a = index.assign(&r.item());
        if let Some((best, reason)) = &a.best {
            let mut with = order.iter().filter(|o| run.events.get(&o.key()) == Some(best));
            if a.joined {
                run.joins.push(reason.score);
            } else if !r.event.is_empty() && with.any(|o| !o.event.is_empty() && o.event != r.event) {
                run.across = run.across.max(reason.score);
            }
        }
        for gone in &a.merged {
            run.events.values_mut().filter(|e| *e == gone).for_each(|e| *e = a.event);
        }
        run.events.insert(r.key(), a.event);
    }
    run
}

fn assert_grouped(items: &[&Told], events: &HashMap<EntryKey, EventId>, what: &str) {
    let of = |label: &str| -> HashSet<EventId> {
        items.iter().filter(|r| r.event == label).map(|r| events[&r.key()]).collect()
    };
    let (a, b) = (of("A"), of("B"));
    assert_eq!((a.len(), b.len()), (1, 1), "{what}: A in {a:?}, B in {b:?}");
    assert!(a.is_disjoint(&b), "{what}: A and B are one event");
    for one in items.iter().filter(|r| r.event.is_empty()) {
        let with = items.iter().filter(|r| events[&r.key()] == events[&one.key()]).count();
        assert_eq!(with, 1, "{what}: {} is not alone", one.title);
    }
}

/// Every order the pipeline may plausibly see: by date, reversed, and as the files list them.
fn orders(items: &[Told]) -> [(&'static str, Vec<&Told>); 3] {
    let mut published: Vec<&Told> = items.iter().collect();
    published.sort_by_key(|r| r.published);
    let reverse = published.iter().rev().copied().collect();
    [("published", published), ("reverse", reverse), ("file", items.iter().collect())]
}

#[test]
fn events_fixtures_group_as_written_in_the_pure_core() {
    let items = fixture_items();
    for (name, order) in orders(&items) {
        for warm in [false, true] {
            let what = format!("{name} order, rarity {}", if warm { "counted first" } else { "cold" });
            let run = run_core(&order, warm);
            eprintln!("{what}: joins {:.2?}, best score across A and B {:.2}", run.joins, run.across);
            assert_grouped(&order, &run.events, &what);
            // Well clear of the threshold (1.5): the pipeline counts rarity over what it stored.
            assert_eq!(run.joins.len(), 3, "{what}: two reports join A, one joins B");
            assert!(run.joins.iter().all(|s| *s >= 2.5), "{what}: joins {:?}", run.joins);
            assert!(run.across <= 0.5, "{what}: A and B scored {:.2}", run.across);
        }
    }
    // Whether or not the index compares them, every pair across A and B scores far below.
    let cross = scores_across(&items);
    eprintln!("pair scores across A and B: {cross:.2?}");
    assert!(cross.len() == 6 && cross.iter().all(|s| *s <= 0.5), "{cross:?}");
}

/// The pair score of every report of A with every report of B, rarity counted over `items`.
fn scores_across(items: &[Told]) -> Vec<f64> {
    let mut rarity = Rarity::default();
    let x: Vec<Extract> = items.iter().map(|r| Extract::of(&r.item())).collect();
    x.iter().for_each(|e| rarity.observe(&e.terms()));
    let f: Vec<(&str, Features)> = items.iter().zip(&x).map(|(r, e)| (r.event, Features::weigh(e, &rarity))).collect();
    let (a, b) = (f.iter().filter(|x| x.0 == "A"), f.iter().filter(|x| x.0 == "B"));
    a.flat_map(|x| b.clone().map(|y| Model::default().score(&pair(&x.1, &y.1)))).collect()
}

#[test]
fn events_fixtures_late_report_joins_event_a_in_the_pure_core() {
    let (items, late) = (fixture_items(), late_report());
    for warm in [false, true] {
        let mut order: Vec<&Told> = items.iter().collect();
        order.sort_by_key(|r| r.published);
        order.push(&late);
        let run = run_core(&order, warm);
        eprintln!("late report, rarity counted first {warm}: joins {:.2?}", run.joins);
        assert_grouped(&order, &run.events, &format!("late report, warm {warm}"));
        assert!(run.joins.len() == 4 && run.joins[3] >= 2.5, "late report: joins {:?}", run.joins);
    }
}

#[test]
fn events_fixtures_are_independent_reports_not_copies() {
    use newsriver::stories::sketch::shingles;
    let mut items = fixture_items();
    items.push(late_report());
    for (i, x) in items.iter().enumerate() {
        let words = newsriver::text::words(&x.text);
        assert!((120..=250).contains(&words.len()), "{}: {} words", x.title, words.len());
        for y in &items[i + 1..] {
            let (a, b) = (shingles(&words), shingles(&newsriver::text::words(&y.text)));
            let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
            // Near-duplicates need 0.5: these share a few names and figures, no sentences.
            assert!(jaccard < 0.1, "{} and {}: word 3-gram Jaccard {jaccard:.2}", x.title, y.title);
        }
    }
}

/// Serves each outlet's fixture feed at `/feed` of its own server, in `OUTLETS` order.
pub async fn serve_fixtures() -> Vec<MockServer> {
    let mut servers = Vec::new();
    for o in OUTLETS {
        servers.push(serve_body("/feed", read_fixture(&format!("events/{o}.xml")), "application/rss+xml").await);
    }
    servers
}

/// An app with the four outlets as sources (nothing held back) and `change` made to its
/// settings, after its first poll. The servers must live as long as the app polls them.
pub async fn spawn_events_app(change: impl FnOnce(&Path, &mut Settings)) -> (TestApp, Vec<MockServer>) {
    let servers = serve_fixtures().await;
    let sources: Vec<(&str, String)> =
        OUTLETS.iter().zip(&servers).map(|(o, s)| (*o, format!("{}/feed", s.uri()))).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &sources, |p| p.initial_items = 1000);
    // Only news of the window before now opens events: the fixtures' day must stay inside it
    // whenever the suite runs.
    settings.stories.event_window = std::time::Duration::from_secs(50 * 365 * 86_400);
    change(dir.path(), &mut settings);
    let app = spawn_in(dir, settings).await;
    app.poll_now().await;
    (app, servers)
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn key_of(id: &Value) -> EntryKey {
    EntryKey::parse(id.as_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// The entry keys of a JSON Feed's items.
pub fn keys(doc: &Value) -> HashSet<EntryKey> {
    doc["items"].as_array().expect("items").iter().map(|i| key_of(&i["id"])).collect()
}

pub fn item_of(doc: &Value, key: EntryKey) -> &Value {
    let items = doc["items"].as_array().expect("items");
    items.iter().find(|i| key_of(&i["id"]) == key).unwrap_or_else(|| panic!("{key} is not in the channel"))
}

/// One report listed in an item's coverage: source, outlet, title, link, published.
pub type Cover = (String, String, String, String, DateTime<Utc>);

/// The coverage of a JSON Feed item (none when the key is missing).
pub fn coverage(item: &Value) -> Vec<Cover> {
    let list = item["_newsriver"]["coverage"].as_array().cloned().unwrap_or_default();
    let s = |c: &Value, k: &str| c[k].as_str().unwrap_or_else(|| panic!("coverage {k} in {c}")).to_owned();
    let at = |c: &Value| DateTime::parse_from_rfc3339(&s(c, "published")).expect("RFC 3339").to_utc();
    list.iter().map(|c| (s(c, "source"), s(c, "outlet"), s(c, "title"), s(c, "link"), at(c))).collect()
}

/// The coverage an event's primary should list: its other reports, earliest first.
pub fn expected_coverage(reports: &[Told]) -> Vec<Cover> {
    let outlet = |r: &Told| format!("Title of {}", r.outlet);
    reports[1..].iter().map(|r| (r.outlet.into(), outlet(r), r.title.clone(), r.link.clone(), r.published)).collect()
}

#[tokio::test]
async fn merged_channels_show_one_item_per_event_and_sources_every_item() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    for format in ["json", "atom", "rss"] {
        let feed = app.feed(&format!("/feeds/all.{format}")).await;
        let ids: Vec<EntryKey> = feed.entries.iter().map(|e| EntryKey::parse(&e.id).expect("entry key")).collect();
        assert_eq!(ids.len(), 5, "{format}: A once, B once, three items alone");
        assert_eq!(ids.into_iter().collect::<HashSet<_>>(), primaries(), "{format}");
    }
    for outlet in OUTLETS {
        let want: HashSet<EntryKey> = fixture_items().iter().filter(|r| r.outlet == outlet).map(Told::key).collect();
        assert_eq!(keys(&get_json(&app, &format!("/sources/{outlet}.json")).await), want, "{outlet}");
    }
    app.stop().await;
}

#[tokio::test]
async fn json_feed_lists_the_other_reports_as_coverage() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    let doc = get_json(&app, "/feeds/all.json").await;
    let (a, b) = (event_reports("A"), event_reports("B"));
    let (item_a, item_b) = (item_of(&doc, a[0].key()), item_of(&doc, b[0].key()));
    assert_eq!(coverage(item_a), expected_coverage(&a));
    assert_eq!(coverage(item_b), expected_coverage(&b));
    let b_links: HashSet<String> = b.iter().map(|r| r.link.clone()).collect();
    assert!(coverage(item_a).iter().all(|c| !b_links.contains(&c.3)), "the other earthquake is not A's coverage");
    let event = |item: &Value| item["_newsriver"]["event"].as_str().map(str::to_owned);
    assert!(event(item_a).is_some() && event(item_b).is_some(), "{item_a} {item_b}");
    assert_ne!(event(item_a), event(item_b));
    for one in alone() {
        let cov = &item_of(&doc, one.key())["_newsriver"]["coverage"];
        assert!(cov.is_null() || cov.as_array().is_some_and(Vec::is_empty), "{}: {cov}", one.title);
    }
    app.stop().await;
}

#[tokio::test]
async fn atom_links_the_other_reports_as_related() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    let feed = app.feed("/feeds/all.atom").await;
    let related = |key: EntryKey| -> HashSet<(String, Option<String>)> {
        let entry = feed.entries.iter().find(|e| EntryKey::parse(&e.id) == Ok(key)).expect("entry");
        let links = entry.links.iter().filter(|l| l.rel.as_deref() == Some("related"));
        links.map(|l| (l.href.clone(), l.title.clone())).collect()
    };
    for label in ["A", "B"] {
        let reports = event_reports(label);
        let want = reports[1..].iter().map(|r| (r.link.clone(), Some(r.title.clone()))).collect();
        assert_eq!(related(reports[0].key()), want, "event {label}");
    }
    for one in alone() {
        assert!(related(one.key()).is_empty(), "{}", one.title);
    }
    app.stop().await;
}

/// The links of the "More coverage" list in an item's HTML (none without the heading).
fn more_coverage(html: &str) -> HashSet<String> {
    let doc = dom_query::Document::from(html);
    if !doc.text().contains("More coverage") {
        return HashSet::new();
    }
    // The fixtures' bodies hold no lists: every list link is coverage.
    doc.select("li a[href]").nodes().iter().filter_map(|a| a.attr("href")).map(|h| h.to_string()).collect()
}

#[tokio::test]
async fn rss_lists_the_other_reports_under_more_coverage() {
    let (app, _servers) = spawn_events_app(|_, _| {}).await;
    let feed = app.feed("/feeds/all.rss").await;
    let html = |key: EntryKey| -> Vec<String> {
        let entry = feed.entries.iter().find(|e| EntryKey::parse(&e.id) == Ok(key)).expect("item");
        let description = entry.summary.as_ref().map(|s| s.content.clone());
        let encoded = entry.content.as_ref().and_then(|c| c.body.clone());
        description.into_iter().chain(encoded).collect()
    };
    for label in ["A", "B"] {
        let reports = event_reports(label);
        let want: HashSet<String> = reports[1..].iter().map(|r| r.link.clone()).collect();
        let bodies = html(reports[0].key());
        assert!(!bodies.is_empty(), "event {label} has a description");
        for body in bodies {
            assert_eq!(more_coverage(&body), want, "event {label}: {body}");
        }
    }
    for one in alone() {
        assert!(html(one.key()).iter().all(|b| more_coverage(b).is_empty()), "{}", one.title);
    }
    app.stop().await;
}

pub const QUAKES_TOPIC: &str = r#"
[[topic]]
id = "quakes"
title = "Earthquakes"
any = ["earthquake", "quake"]
"#;

#[tokio::test]
async fn topic_channels_show_one_item_per_event() {
    let (app, _servers) = spawn_events_app(|dir, s| add_topics(dir, s, QUAKES_TOPIC)).await;
    let doc = get_json(&app, "/topics/quakes.json").await;
    let (a, b) = (event_reports("A"), event_reports("B"));
    assert_eq!(keys(&doc), HashSet::from([a[0].key(), b[0].key()]));
    assert_eq!(coverage(item_of(&doc, a[0].key())), expected_coverage(&a));
    assert_eq!(coverage(item_of(&doc, b[0].key())), expected_coverage(&b));
    for format in ["atom", "rss"] {
        assert_eq!(app.feed(&format!("/topics/quakes.{format}")).await.entries.len(), 2, "{format}");
    }
    app.stop().await;
}
