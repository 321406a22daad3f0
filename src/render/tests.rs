use super::*;
use crate::domain::{Enclosure, EntryKey};
use std::sync::LazyLock;

static NO_RELATED: LazyLock<HashMap<EntryKey, Vec<Related>>> = LazyLock::new(HashMap::new);

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
        home_url: "http://127.0.0.1:8080/",
        sources,
        now: Utc::now(),
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
