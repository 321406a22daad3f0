use super::*;
use crate::domain::{Change, IndexWrite, SourceId, Story};
use crate::store::Prepared;
use std::collections::HashMap;

const WIRE: &str = "The third round of talks between the delegations of Caldoria and Veshtan on a durable \
    ceasefire will open on Monday in Port Alder, the ministry said, adding that both sides had agreed an \
    agenda covering verification of the truce line, the exchange of detained civilians and the reopening \
    of the river crossings to humanitarian convoys before the winter sets in across the region.";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
}

fn item(source: &str, guid: &str, link: &str, title: &str, body: &str, published: &str) -> Entry {
    let url = url::Url::parse(link).expect("url");
    Entry {
        title: title.into(),
        story_url: crate::normalize::links::story_url(&url),
        link: Some(link.into()),
        content: Some(format!("<p>{body}</p>")),
        fingerprint: format!("{title}{body}"),
        revision: format!("{title}{body}"),
        ..crate::domain::test_entry(source, guid, published)
    }
}

/// A real store in a temp dir, with the band memory, fed one poll at a time through the same
/// commit path the pipeline takes. `entries` and `stories` mirror what was written, for asserts.
struct Desk {
    _dir: tempfile::TempDir,
    store: crate::store::Store,
    near: SharedNear,
    entries: HashMap<EntryKey, Entry>,
    stories: HashMap<EntryKey, Story>,
}

impl Default for Desk {
    fn default() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let near = SharedNear::new(StorySettings::default().window);
        Self { _dir: dir, store, near, entries: HashMap::new(), stories: HashMap::new() }
    }
}

impl Desk {
    /// Ingests one poll of one source, as the pipeline does.
    fn poll(&mut self, items: Vec<Entry>) -> Assigned {
        let s = StorySettings::default();
        let incoming = items.iter().map(|e| e.key).collect();
        let features: FeatureMap = items.iter().map(|e| (e.key, super::features(e, &s))).collect();
        let skip =
            Skip::of(items.iter().map(|e| super::SharedKeys::of(e, &crate::text::words(&super::body_text(e)), &s)));
        let source = items.first().map(|e| e.source.clone()).expect("a poll with items");
        let changes = items
            .into_iter()
            .map(|e| match self.entries.get(&e.key) {
                Some(old) => Change::Updated { previous: Box::new(old.clone()), entry: e, edited: true },
                None => Change::New(e),
            })
            .collect();
        let poll = PollItems { changes, incoming, skip, features };
        let mut out = None;
        self.store
            .commit_poll_with(&source, |view| {
                let a = assign(poll, view, &self.near, &s, at("2026-11-28T00:00:00Z"))?;
                let prepared = Prepared { changes: a.changes.clone(), index: a.writes.clone(), ..Prepared::default() };
                out = Some(a);
                Ok(prepared)
            })
            .expect("commit");
        let out = out.expect("assigned");
        for c in &out.changes {
            self.entries.insert(c.entry().key, c.entry().clone());
        }
        for w in &out.writes {
            match w.clone() {
                IndexWrite::Story(st) => drop(self.stories.insert(st.id, st)),
                IndexWrite::DropStory(id) => drop(self.stories.remove(&id)),
                _ => {}
            }
        }
        out
    }

    fn story_of(&self, source: &str, guid: &str) -> Option<EntryKey> {
        let key = EntryKey::derive(&SourceId::parse(source).expect("slug"), "guid", guid);
        let stored = self.store.entry(&key).expect("read")?;
        assert_eq!(self.entries.get(&key).and_then(|e| e.story), stored.story, "the store holds what was decided");
        stored.story
    }
}

#[test]
fn same_url_with_tracking_variants_joins_one_story() {
    let mut m = Desk::default();
    m.poll(vec![item("daily", "d1", "https://www.daily.example/news/talks", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    let teaser = "Short teaser only.";
    m.poll(vec![item(
        "herald",
        "h1",
        "http://DAILY.example/news/talks/?utm_source=x#c",
        "Talks | Herald",
        teaser,
        "2026-11-20T11:00:00Z",
    )]);
    assert!(m.story_of("daily", "d1").is_some());
    assert_eq!(m.story_of("daily", "d1"), m.story_of("herald", "h1"));
}

#[test]
fn republished_copy_with_new_headline_or_footer_joins() {
    let mut m = Desk::default();
    m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks to open Monday", WIRE, "2026-11-20T10:00:00Z")]);
    m.poll(vec![item("daily", "d1", "https://daily.example/x", "Peace talks resume", WIRE, "2026-11-20T12:00:00Z")]);
    let footer =
        format!("{WIRE} Follow The Herald on every platform for the latest news from the region. © 2026 The Herald.");
    let out = m.poll(vec![item("herald", "h1", "https://herald.example/y", "Talks", &footer, "2026-11-20T13:00:00Z")]);
    let s = m.story_of("wire", "w1");
    assert_eq!(s, m.story_of("daily", "d1"));
    assert_eq!(s, m.story_of("herald", "h1"));
    let story = m.stories.get(&s.expect("story")).expect("record");
    let rules: Vec<&str> = story.members.iter().map(|x| x.rule.as_str()).collect();
    assert_eq!(rules, ["first", "text", "near"]);
    let herald: Vec<&Entry> = out.changes.iter().map(Change::entry).filter(|e| e.source.as_str() == "herald").collect();
    assert_eq!(herald.len(), 1, "{:?}", out.changes);
    assert!(herald[0].secondary, "the later copy is listed under the story's primary");
}

#[test]
fn different_stories_and_translations_stay_apart() {
    let mut m = Desk::default();
    m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    let other = "The central bank left its main refinancing rate unchanged at 3.25 percent on Thursday, its \
        third consecutive hold, and described the economic outlook as cautiously stable while it waited for \
        fourth quarter wage data before considering any cut to borrowing costs next year, the governor said.";
    let french = "Le troisième cycle de pourparlers entre les délégations de Caldoria et de Veshtan sur un \
        cessez-le-feu durable s'ouvrira lundi à Port Alder, a indiqué le ministère, ajoutant que les deux parties \
        avaient convenu d'un ordre du jour couvrant la vérification de la ligne de trêve et l'échange de civils.";
    m.poll(vec![item("daily", "d1", "https://daily.example/b", "Bank holds", other, "2026-11-20T11:00:00Z")]);
    m.poll(vec![item("radio", "r1", "https://radio.example/fr", "Pourparlers", french, "2026-11-20T11:00:00Z")]);
    let w = m.story_of("wire", "w1");
    assert_ne!(w, m.story_of("daily", "d1"));
    assert_ne!(w, m.story_of("radio", "r1"));
}

#[test]
fn earliest_published_member_is_primary() {
    let mut m = Desk::default();
    m.poll(vec![item("daily", "d1", "https://daily.example/x", "Peace talks resume", WIRE, "2026-11-20T12:00:00Z")]);
    m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks to open", WIRE, "2026-11-20T10:00:00Z")]);
    let d = m.entries.values().find(|e| e.source.as_str() == "daily").expect("daily").clone();
    let w = m.entries.values().find(|e| e.source.as_str() == "wire").expect("wire").clone();
    assert!(d.secondary && !w.secondary, "the earlier wire copy took over as primary");
    assert_eq!(m.stories.get(&d.story.expect("story")).map(|s| s.primary), Some(w.key));
}

#[test]
fn a_new_guid_for_the_same_item_is_the_same_entry() {
    let mut m = Desk::default();
    m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    let out = m.poll(vec![item("wire", "urn:new:w1", "https://wire.example/a", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(out.unchanged, 1);
    assert!(out.writes.iter().any(|w| matches!(w, IndexWrite::Alias(..))));
    // A domain move with new GUIDs: found by text, still one entry.
    let out = m.poll(vec![item("wire", "g2", "https://newwire.example/2026/a", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    assert!(out.changes.is_empty(), "{:?}", out.changes);
    assert_eq!(out.unchanged, 1, "the moved item is the stored one, unchanged");
    assert!(out.writes.iter().any(|w| matches!(w, IndexWrite::Alias(..))));
    assert_eq!(m.entries.len(), 1);
}

#[test]
fn items_of_one_feed_sharing_a_landing_page_link_stay_apart() {
    let mut m = Desk::default();
    let home = "https://ministry.example/press/releases";
    let other = "The ministry will open a consular hotline for nationals affected by the flooding in the delta \
        region, with embassy staff in Port Alder in contact with thirty seven citizens who asked for help and \
        families able to call the crisis centre at any hour of the day or the night this week.";
    let third = "The foreign minister will travel to Estrava on Monday for two days of talks on inland \
        shipping, cultural exchange and the reopening of the consulate in the northern port city, the \
        ministry said, adding that a joint declaration was expected to be signed on Tuesday afternoon.";
    let out = m.poll(vec![
        item("mfa", "a", home, "Talks", WIRE, "2026-11-20T10:00:00Z"),
        item("mfa", "b", home, "Hotline", other, "2026-11-21T10:00:00Z"),
        item("mfa", "c", home, "Visit", third, "2026-11-22T10:00:00Z"),
    ]);
    assert_eq!(out.changes.iter().filter(|c| matches!(c, Change::New(_))).count(), 3);
    assert_ne!(m.story_of("mfa", "a"), m.story_of("mfa", "b"));
}

/// Two reposts with long, different introductions are each a near-duplicate of the statement
/// but not of each other: in whatever order the three sources are polled, one story results.
#[test]
fn grouping_does_not_depend_on_poll_order() {
    let intro_a = "The foreign ministry issued the following statement on Wednesday morning about the talks, \
        which diplomats in the capital described as the most promising opening since the fighting began two \
        winters ago, while opposition leaders warned that earlier rounds had collapsed within days of signing.";
    let intro_b = "Readers asked us to publish the complete text, so here it is without edits, as received \
        from the press office shortly after noon; our correspondent in Port Alder will report on the first \
        session from the conference hall and our analysts will assess the agenda in tomorrow's print edition.";
    let items = [
        ("ministry", "https://ministry.example/s", WIRE.to_owned(), "2026-11-20T10:00:00Z"),
        ("gazette", "https://gazette.example/g", format!("{intro_a} {WIRE}"), "2026-11-20T11:00:00Z"),
        ("daily", "https://daily.example/d", format!("{intro_b} {WIRE}"), "2026-11-20T12:00:00Z"),
    ];
    for order in [[0, 1, 2], [1, 2, 0], [2, 1, 0], [1, 0, 2]] {
        let mut m = Desk::default();
        for i in order {
            let (source, link, body, published) = &items[i];
            m.poll(vec![item(source, "x1", link, "Talks", body, published)]);
        }
        let story = m.story_of("ministry", "x1");
        assert!(story.is_some());
        assert_eq!(story, m.story_of("gazette", "x1"), "order {order:?}");
        assert_eq!(story, m.story_of("daily", "x1"), "order {order:?}");
        assert_eq!(m.stories.len(), 1, "order {order:?}");
    }
}

/// Most items never share a story: they get no story record until a second item joins.
#[test]
fn a_story_record_is_written_only_when_a_second_item_joins() {
    let mut m = Desk::default();
    let out = m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks", WIRE, "2026-11-20T10:00:00Z")]);
    assert!(!out.writes.iter().any(|w| matches!(w, IndexWrite::Story(_))), "{:?}", out.writes);
    assert_eq!(m.story_of("wire", "w1"), Some(m.entries.keys().copied().next().expect("entry")));
    m.poll(vec![item("daily", "d1", "https://daily.example/x", "Talks resume", WIRE, "2026-11-20T12:00:00Z")]);
    let sid = m.story_of("wire", "w1").expect("story");
    assert_eq!(m.story_of("daily", "d1"), Some(sid));
    let members: Vec<&str> = m.stories[&sid].members.iter().map(|x| x.source.as_str()).collect();
    assert_eq!(members, ["wire", "daily"]);
}

/// What a remote store reads ahead for near-duplicate matching is what matching then reads: the
/// stored copy sharing bands with a new item, worth loading by its signature; an unrelated
/// item is not a candidate.
#[test]
fn near_candidates_are_the_stored_copies_matching_will_compare() {
    let mut m = Desk::default();
    let s = StorySettings::default();
    m.poll(vec![item("wire", "w1", "https://wire.example/a", "Talks to open Monday", WIRE, "2026-11-20T10:00:00Z")]);
    let other = "Flooding closed the coastal road between Brenmouth and Tillery for a second day, as crews \
        cleared debris and the weather service warned of more heavy rain over the weekend in the northern hills.";
    m.poll(vec![item("gazette", "g1", "https://gazette.example/f", "Floods", other, "2026-11-20T10:30:00Z")]);
    let footer = format!("{WIRE} Follow The Herald for the latest news from the region. © 2026 The Herald.");
    let copy = item("herald", "h1", "https://herald.example/y", "Talks", &footer, "2026-11-20T13:00:00Z");
    let f = features(&copy, &s);
    let view = m.store.view();
    let now = at("2026-11-28T00:00:00Z");
    let found = near_candidates(&view, &m.near, [(&copy, &f)].into_iter(), &s, now).expect("candidates");
    let wire = EntryKey::derive(&SourceId::parse("wire").expect("slug"), "guid", "w1");
    let keys: Vec<EntryKey> = found.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, [wire], "the wire copy only");
    let (_, mine) = found[0];
    assert!(worth_loading(&mine, view.signature(&wire).expect("read"), &s));
    let gazette = EntryKey::derive(&SourceId::parse("gazette").expect("slug"), "guid", "g1");
    assert!(!worth_loading(&mine, view.signature(&gazette).expect("read"), &s), "a clear miss is not loaded");
}
