use super::*;
use crate::domain::test_entry;
use crate::store::codec::{decode_entry, encode_entry};

fn full() -> Entry {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc);
    let e = test_entry("press-office", "tag:gov,2026:statement/17", "2026-11-20T08:30:00Z");
    Entry {
        identity_kind: IdentityKind::GuidDisambiguated,
        title: "Statement on Karabakh — «ceasefire» ✓".into(),
        link: Some("https://gov.example/news/17?lang=en".into()),
        story_url: Some("gov.example/news/17".into()),
        summary: Some(String::new()),
        content: Some("<p>Body with <a href=\"https://gov.example/x\">a link</a>.</p>".repeat(20)),
        authors: vec!["Press Office".into(), "A. Writer".into()],
        categories: vec!["Diplomacy".into(), String::new()],
        enclosures: vec![
            Enclosure {
                url: "https://gov.example/p.jpg".into(),
                mime_type: Some("image/jpeg".into()),
                length: Some(0),
                credit: Some("Photo: A. Lens".into()),
            },
            Enclosure {
                url: "https://gov.example/a.mp3".into(),
                mime_type: None,
                length: Some(u64::MAX),
                credit: None,
            },
            Enclosure { url: String::new(), mime_type: None, length: None, credit: None },
        ],
        published: at("1969-07-20T20:17:40.123456789Z"),
        updated: at("2026-11-21T09:00:00.5+04:00"),
        first_seen: at("9999-12-31T23:59:59.999999999Z"),
        date_repaired: true,
        fingerprint: "00ff7a0e9b1c2d3e4f5a6b7c8d9e0fa1".into(),
        revision: "Not-Hex".into(),
        topics: vec![TopicMatch { topic: TopicId::parse("caucasus").expect("topic"), rule: "any:\"Karabakh\"".into() }],
        held_back: true,
        seq: u64::MAX,
        story: Some(EntryKey::derive(&e.source, "guid", "other")),
        secondary: true,
        story_topics: vec![TopicId::parse("world").expect("topic")],
        private: true,
        ..e
    }
}

#[test]
fn every_field_round_trips_exactly() {
    let plain = test_entry("s", "a", "2026-11-20T00:00:00Z");
    let public = Entry { private: false, ..full() };
    for e in [full(), plain, public, Entry { fingerprint: "ABCD".into(), revision: "abc".into(), ..full() }] {
        let mut raw = Vec::new();
        write(&e, &mut raw);
        assert_eq!(read(&raw).expect("binary"), e);
        assert_eq!(decode_entry(&encode_entry(&e)).expect("stored"), e);
    }
}

#[test]
fn entries_are_stored_smaller_than_as_json_and_json_ones_stay_readable() {
    let e = full();
    let json = serde_json::to_vec(&e).expect("json");
    let stored = encode_entry(&e);
    assert_eq!(stored[0], 4, "a long entry is compressed");
    assert!(stored.len() * 2 < json.len(), "{} vs {} bytes of JSON", stored.len(), json.len());
    let v1 = [&[1u8], json.as_slice()].concat();
    let v2 = [&[2u8], lz4_flex::block::compress_prepend_size(&json).as_slice()].concat();
    assert_eq!(decode_entry(&v1).expect("v1"), e);
    assert_eq!(decode_entry(&v2).expect("v2"), e);
    let short = test_entry("s", "a", "2026-11-20T00:00:00Z");
    assert_eq!(encode_entry(&short)[0], 3, "a short one is stored as is");
}

#[test]
fn damaged_values_are_errors_never_panics() {
    let mut raw = Vec::new();
    write(&full(), &mut raw);
    for cut in 0..raw.len() {
        assert!(read(&raw[..cut]).is_err(), "cut at {cut} of {}", raw.len());
    }
    assert!(read(&[raw.as_slice(), &[0]].concat()).is_err(), "trailing byte");
    // Flipping any byte either still reads (a changed string) or fails cleanly.
    for i in 0..raw.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = raw.clone();
            bad[i] ^= flip;
            let _ = read(&bad);
        }
    }
    let huge_count = [&raw[..16], &[0xff; 10]].concat();
    assert!(read(&huge_count).is_err());
    for bad in [&[3u8, 1, 2][..], &[4, 9, 0, 0, 0, 1], &[]] {
        assert!(matches!(decode_entry(bad), Err(crate::store::StoreError::Corrupt { what: "entry", .. })));
    }
}

#[test]
fn an_article_record_round_trips_in_both_layouts_and_damage_is_an_error() {
    use crate::domain::{ArticleImage, ArticleRecord};
    let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc);
    let article = ArticleRecord {
        url: "https://gov.example/news/17".into(),
        checked: at("2026-11-21T09:00:00Z"),
        body_html: Some("<p>Full body.</p>".into()),
        byline: vec!["Ana Reporter".into()],
        modified: Some(at("2026-11-22T10:00:00Z")),
        image: Some(ArticleImage {
            url: "https://gov.example/p.jpg".into(),
            caption: None,
            credit: Some("A. Lens / Courtesy".into()),
        }),
        sources: [("byline".to_owned(), "json-ld".to_owned())].into(),
        ..ArticleRecord::default()
    };
    let small = Entry { article: Some(Box::new(article.clone())), ..test_entry("s", "a", "2026-11-20T00:00:00Z") };
    let large = Entry { article: Some(Box::new(article)), ..full() };
    for e in [small, large] {
        let stored = encode_entry(&e);
        assert!(matches!(stored[0], 5 | 6), "layout {}", stored[0]);
        assert_eq!(decode_entry(&stored).expect("stored"), e);
    }
    let mut raw = vec![5];
    write(&test_entry("s", "a", "2026-11-20T00:00:00Z"), &mut raw);
    raw.extend_from_slice(b"{not json");
    assert!(decode_entry(&raw).is_err(), "a damaged article record is an error, not a silent loss");
}

#[test]
fn an_event_place_round_trips_with_and_without_an_article_and_damage_is_an_error() {
    use crate::domain::{ArticleRecord, ChannelId, EventPlace};
    let topic = |t: &str| TopicId::parse(t).expect("topic");
    let hidden = EventPlace {
        id: EntryKey::from_bytes([7; 16]),
        primary: false,
        hidden: vec![ChannelId::All, ChannelId::Topic(topic("quakes"))],
        topics: vec![],
    };
    let primary =
        EventPlace { primary: true, hidden: vec![], topics: vec![topic("asia"), topic("disasters")], ..hidden.clone() };
    let plain = test_entry("s", "a", "2026-11-20T00:00:00Z");
    let article = Some(Box::new(ArticleRecord { url: "https://x.example/a".into(), ..ArticleRecord::default() }));
    let cases = [
        Entry { event: Some(hidden.clone()), ..plain.clone() },
        Entry { event: Some(primary.clone()), article: article.clone(), ..plain.clone() },
        Entry { event: Some(primary), article, ..full() },
    ];
    for e in cases {
        let stored = encode_entry(&e);
        assert!(matches!(stored[0], 7 | 8), "layout {}", stored[0]);
        assert_eq!(decode_entry(&stored).expect("stored"), e);
    }
    let mut raw = vec![7];
    write(&plain, &mut raw);
    write_event(&hidden, &mut raw);
    let (whole, place_at) = (raw.len(), encode_entry(&plain).len());
    for cut in [whole - 1, whole - 8, place_at] {
        assert!(decode_entry(&raw[..cut]).is_err(), "cut at {cut} of {whole}");
    }
    raw.push(b'{');
    assert!(decode_entry(&raw).is_err(), "bytes after the place must be an article record");
}
