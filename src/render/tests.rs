use super::*;
use crate::domain::{Enclosure, EntryKey, TopicMatch};
use std::sync::LazyLock;

static NO_RELATED: LazyLock<HashMap<EntryKey, Vec<Related>>> = LazyLock::new(HashMap::new);
static TOPICS: LazyLock<HashMap<TopicId, String>> =
    LazyLock::new(|| HashMap::from([(TopicId::parse("diplomacy").expect("slug"), "Diplomacy & talks".into())]));

fn entries() -> Vec<Entry> {
    let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc);
    ["a < b & c ]]> d", "Émoji 📰 و مرحبا"]
        .iter()
        .enumerate()
        .map(|(i, title)| Entry {
            title: (*title).into(),
            link: Some(format!("https://news.example/{i}")),
            summary: Some("<p>Short &amp; sweet</p>".into()),
            content: Some("<p>Body with ]]&gt; and <a href=\"https://x.example/\">a link</a></p>".into()),
            authors: vec!["Ilse Varga".into()],
            categories: vec!["Diplomacy".into()],
            enclosures: vec![Enclosure {
                url: "https://news.example/p.jpg".into(),
                mime_type: Some("image/jpeg".into()),
                length: Some(10),
                credit: None,
            }],
            updated: t("2026-11-26T10:00:00Z"),
            ..crate::domain::test_entry("wire", &i.to_string(), &format!("2026-11-2{}T10:00:00Z", 5 - i))
        })
        .collect()
}

fn channel(sources: &HashMap<SourceId, SourceInfo>) -> Channel<'_> {
    Channel {
        title: "All <stories>",
        description: "Every source",
        self_url: "http://127.0.0.1:8080/feeds/all.atom",
        hub_url: None,
        home_url: "http://127.0.0.1:8080/",
        sources,
        topics: &TOPICS,
        empty_updated: Utc::now(),
        first_url: None,
        next_url: None,
        related: &NO_RELATED,
        coverage: &NO_RELATED,
    }
}

#[test]
fn every_format_parses_back_with_the_same_ids_and_titles() {
    let sources = HashMap::from([(
        SourceId::parse("wire").expect("slug"),
        SourceInfo {
            title: "Wire".into(),
            feed_url: None,
            channel_url: "http://127.0.0.1:8080/sources/wire.atom".into(),
        },
    )]);
    let es = entries();
    for format in [Format::Rss, Format::Atom, Format::Json] {
        let bytes = render(format, &channel(&sources), &es);
        let feed = feed_rs::parser::parse(bytes.as_slice()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        let want: Vec<String> = es.iter().map(|e| e.key.urn()).collect();
        assert_eq!(ids, want, "{format:?}");
        let titles: Vec<String> =
            feed.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect();
        assert_eq!(titles, ["a < b & c ]]> d", "Émoji 📰 و مرحبا"], "{format:?}");
        assert_eq!(
            feed.entries[0].published.map(|d| d.to_rfc3339()),
            Some("2026-11-25T10:00:00+00:00".into()),
            "{format:?}"
        );
        assert_eq!(feed.entries[0].authors.first().and_then(|a| a.name.as_deref()), Some("Ilse Varga"), "{format:?}");
    }
}

#[test]
fn xml_outputs_have_a_self_link() {
    let sources = HashMap::new();
    for format in [Format::Rss, Format::Atom] {
        let feed = feed_rs::parser::parse(render(format, &channel(&sources), &entries()).as_slice()).expect("parses");
        assert!(
            feed.links
                .iter()
                .any(|l| l.rel.as_deref() == Some("self") && l.href == "http://127.0.0.1:8080/feeds/all.atom"),
            "{format:?}: {:?}",
            feed.links
        );
    }
}

fn wire() -> HashMap<SourceId, SourceInfo> {
    HashMap::from([(
        SourceId::parse("wire").expect("slug"),
        SourceInfo {
            title: "Wire".into(),
            feed_url: Some("https://wire.example/feed.rss".into()),
            channel_url: "http://127.0.0.1:8080/sources/wire.rss".into(),
        },
    )])
}

fn ninjs_doc(ch: &Channel<'_>, es: &[Entry]) -> serde_json::Value {
    serde_json::from_slice(&render(Format::Ninjs, ch, es)).expect("ninjs is JSON")
}

#[test]
fn ninjs_items_carry_id_dates_headline_bodies_byline_and_sources() {
    let (sources, mut es) = (wire(), entries());
    es[0].topics = vec![TopicMatch { topic: TopicId::parse("diplomacy").expect("slug"), rule: "any".into() }];
    es[0].authors = vec!["Ilse Varga".into(), "Omar Haddad".into(), "Li Wei".into()];
    let doc = ninjs_doc(&channel(&sources), &es);
    let item = &doc["items"][0];
    assert_eq!(item["uri"], es[0].key.urn());
    assert!(item["uri"].as_str().is_some_and(|u| u.starts_with("urn:uuid:")), "{item}");
    assert_eq!(item["type"], "text");
    assert_eq!(item["firstCreated"], "2026-11-25T10:00:00Z");
    assert_eq!(item["versionCreated"], "2026-11-26T10:00:00Z");
    assert_eq!(item["headlines"], serde_json::json!([{ "role": "main", "value": "a < b & c ]]> d" }]));
    assert_eq!(item["bodies"][0]["contentType"], "text/plain");
    assert_eq!(item["bodies"][0]["value"], "Body with ]]> and a link");
    assert_eq!(item["bodies"][1]["contentType"], "text/html");
    assert_eq!(item["bodies"][1]["value"], es[0].content.as_deref().expect("content"));
    assert_eq!(item["descriptions"][0]["value"], "Short & sweet");
    assert_eq!(item["by"], "Ilse Varga, Omar Haddad and Li Wei");
    assert_eq!(item["subjects"][0]["name"], "Diplomacy & talks");
    assert_eq!(item["subjects"][0]["uri"], "http://127.0.0.1:8080/topics/diplomacy.ninjs");
    assert_eq!(item["subjects"][1], serde_json::json!({ "name": "Diplomacy" }));
    let publisher = &item["infoSources"][0];
    assert_eq!((&publisher["name"], &publisher["uri"]), (&"Wire".into(), &"https://wire.example/feed.rss".into()));
    assert_eq!(item["renditions"][0]["href"], "https://news.example/0");
    // No credited image, no other outlets: nothing to associate.
    assert!(item.get("associations").is_none(), "{item}");
    assert_eq!(doc["items"][1]["by"], "Ilse Varga");
}

#[test]
fn ninjs_associates_the_credited_picture_and_the_other_outlets() {
    let (sources, mut es) = (wire(), entries());
    es[0].enclosures[0].credit = Some("Photo: Ana Ruiz / Wire".into());
    let other = |outlet: &str, link: &str| Related {
        source: SourceId::parse(outlet).expect("slug"),
        outlet: outlet.to_uppercase(),
        title: format!("{outlet} reports"),
        link: link.into(),
        published: es[1].published,
    };
    let related = HashMap::from([(es[0].key, vec![other("gazette", "https://gazette.example/a")])]);
    let coverage = HashMap::from([(es[0].key, vec![other("courier", "https://courier.example/b")])]);
    let ch = Channel { related: &related, coverage: &coverage, ..channel(&sources) };
    let assoc = ninjs_doc(&ch, &es)["items"][0]["associations"].clone();
    let names: Vec<&str> = assoc.as_array().expect("list").iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["mainpic", "related1", "coverage1"]);
    assert_eq!(assoc[0]["type"], "picture");
    assert_eq!(assoc[0]["uri"], "https://news.example/p.jpg");
    assert_eq!(assoc[0]["by"], "Photo: Ana Ruiz / Wire");
    assert_eq!(assoc[1]["uri"], "https://gazette.example/a");
    assert_eq!(assoc[1]["infoSources"][0]["name"], "GAZETTE");
    assert_eq!(assoc[2]["headlines"][0]["value"], "courier reports");
    assert_eq!(assoc[2]["firstCreated"], "2026-11-24T10:00:00Z");
}

#[test]
fn ninjs_document_pages_like_the_other_formats() {
    let sources = wire();
    let next = "http://127.0.0.1:8080/feeds/all.ninjs?limit=2&before=p00";
    let ch = Channel { next_url: Some(next), ..channel(&sources) };
    let doc = ninjs_doc(&ch, &entries());
    assert_eq!(doc["next"], next);
    assert_eq!(doc["self"], "http://127.0.0.1:8080/feeds/all.atom");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(2));
    assert!(ninjs_doc(&channel(&sources), &[])["next"].is_null());
    assert_eq!(Format::from_extension("ninjs"), Some(Format::Ninjs));
    assert!(Format::Ninjs.content_type().starts_with("application/ninjs+json"));
}

#[test]
fn every_feed_format_advertises_the_hub_beside_self() {
    let sources = wire();
    let hub = "http://127.0.0.1:8080/websub";
    let ch = Channel { hub_url: Some(hub), ..channel(&sources) };
    let atom = atom_syndication::Feed::read_from(&render(Format::Atom, &ch, &entries())[..]).expect("atom");
    let rel =
        |rel: &str| atom.links().iter().filter(|l| l.rel() == rel).map(|l| l.href().to_owned()).collect::<Vec<_>>();
    assert_eq!((rel("hub"), rel("self")), (vec![hub.to_owned()], vec![ch.self_url.to_owned()]));
    let rss = ::rss::Channel::read_from(&render(Format::Rss, &ch, &entries())[..]).expect("rss");
    let links = rss.atom_ext().map(|a| a.links().to_vec()).unwrap_or_default();
    let hubs: Vec<&str> = links.iter().filter(|l| l.rel() == "hub").map(|l| l.href()).collect();
    assert_eq!(hubs, [hub]);
    let json: serde_json::Value = serde_json::from_slice(&render(Format::Json, &ch, &entries())).expect("json");
    assert_eq!(json["hubs"], serde_json::json!([{ "type": "WebSub", "url": hub }]));
    let plain: serde_json::Value =
        serde_json::from_slice(&render(Format::Json, &channel(&sources), &entries())).expect("json");
    assert!(plain.get("hubs").is_none(), "no hub, no hubs");
}
