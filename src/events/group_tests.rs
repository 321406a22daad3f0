//! The events step over a real store: a report that links two events merges them (one record
//! left, the other dropped, every report placed under the survivor, its primary delivered again).

use super::*;
use crate::domain::{test_entry, SourceState};
use crate::events::EventSettings;
use crate::store::{Prepared, Store};

const DAIRY: [(&str, &str); 3] = [
    ("Fire destroys old dairy building in Palmer", "The historic Matanuska Maid dairy building in Palmer burned to the ground early Tuesday. Palmer fire chief John Owen said crews fought the blaze for six hours."),
    ("Arson suspected in Matanuska Maid fire", "Alaska State Troopers said arson is suspected in the fire that destroyed the historic Matanuska Maid dairy building in Palmer on Tuesday. Investigator Ken Brooks said an accelerant was found at the site."),
    ("Matanuska Maid building in Palmer destroyed, arson suspected", "The historic Matanuska Maid dairy building in Palmer burned down early Tuesday, fire chief John Owen said, and Alaska State Troopers investigator Ken Brooks said arson is suspected."),
];

/// Ordinary news long before, for rarity to count when the index is first built.
const BACKGROUND: [&str; 4] = [
    "Officials said on Monday that the city council would vote on the budget after a long debate.",
    "Police said on Tuesday a man was arrested after a crash on the highway; two people were taken to hospital.",
    "A strong storm struck the coast on Sunday, officials said Thursday, and thousands of homes lost power.",
    "Residents were evacuated after a fire broke out in a building, the fire department said on Friday.",
];

fn report(source: &str, id: &str, (title, text): (&str, &str), published: &str) -> Entry {
    Entry { title: title.into(), content: Some(format!("<p>{text}</p>")), ..test_entry(source, id, published) }
}

/// Commits `e` as its source's poll would, through the events step; returns what was written.
fn commit(store: &Store, shared: &SharedEvents, e: Entry, now: DateTime<Utc>) -> (Vec<Change>, Vec<IndexWrite>) {
    commit_all(store, shared, vec![e], now)
}

fn commit_all(
    store: &Store,
    shared: &SharedEvents,
    es: Vec<Entry>,
    now: DateTime<Utc>,
) -> (Vec<Change>, Vec<IndexWrite>) {
    let source = es[0].source.clone();
    let grouped = Grouped { all: true, topics: HashSet::new() };
    let mut out = (Vec::new(), Vec::new());
    let news = es.into_iter().map(Change::New).collect();
    store
        .commit_poll_with(&source, |view| {
            let (changes, index) = group(news, &Extracts::default(), view, shared, &grouped, now)?;
            out = (changes.clone(), index.clone());
            Ok(Prepared { changes, index, state: SourceState::default() })
        })
        .expect("commit");
    out
}

fn settings() -> EventSettings {
    EventSettings { day_penalty: 2.0, ..EventSettings::default() }
}

fn now() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().expect("now")
}

/// A store in a temp dir and its event index, after a backlog of older items. The backlog goes
/// through the events step without building the index; the first report of the window builds it
/// from the store, counting the backlog's terms.
fn with_backlog() -> (tempfile::TempDir, Store, SharedEvents) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
    let shared = SharedEvents::new(settings());
    for round in 0..20 {
        let old: Vec<Entry> = (BACKGROUND.iter().enumerate())
            .map(|(i, t)| report("bg", &format!("{round}-{i}"), ("", t), "2026-01-01T00:00:00Z"))
            .collect();
        let (changes, writes) = commit_all(&store, &shared, old, now());
        assert!(writes.is_empty() && changes.iter().all(|c| c.entry().event.is_none()), "{writes:?}");
    }
    (dir, store, shared)
}

/// The one event record among `writes`.
fn record_of(writes: &[IndexWrite]) -> &EventRecord {
    let records: Vec<&EventRecord> =
        writes.iter().filter_map(|w| if let IndexWrite::Event(r) = w { Some(r) } else { None }).collect();
    let [record] = records.as_slice() else { panic!("one event written: {writes:?}") };
    record
}

#[test]
fn a_report_linking_two_events_merges_them_and_their_primary_is_delivered_again() {
    let (_dir, store, shared) = with_backlog();
    let now = now();
    assert!(!shared.is_loaded(), "no report of the window yet: the index is not built");
    // Two days apart the first two score too low to join; the third, between them, agrees with both.
    let a = report("a", "a", DAIRY[0], "2026-11-20T06:00:00Z");
    let b = report("b", "b", DAIRY[1], "2026-11-22T06:00:00Z");
    let c = report("c", "c", DAIRY[2], "2026-11-21T06:00:00Z");
    let (_, none) = commit(&store, &shared, a.clone(), now);
    let (_, still_none) = commit(&store, &shared, b.clone(), now);
    assert!(shared.is_loaded(), "built for the first report of the window");
    assert!(none.is_empty() && still_none.is_empty(), "two events of one report: no records");
    let (changes, writes) = commit(&store, &shared, c.clone(), now);
    let record = record_of(&writes);
    assert_eq!(record.members.len(), 3);
    assert_eq!(record.primary, a.key, "the earliest report");
    let joined: HashMap<EntryKey, &str> = record.members.iter().map(|m| (m.key, m.joined.as_str())).collect();
    assert_eq!(joined[&c.key], "event");
    assert!(joined.values().any(|j| *j == "merge"), "{joined:?}");
    for key in [a.key, b.key, c.key] {
        let stored = store.entry(&key).expect("read").expect("stored");
        let place = stored.event.clone().expect("placed");
        assert_eq!((place.id, place.primary), (record.id, key == a.key));
        assert_eq!(stored.channels().contains(&crate::domain::ChannelId::All), key == a.key);
    }
    let again = changes.iter().find(|ch| ch.entry().key == a.key).expect("the primary is rewritten");
    assert!(matches!(again, Change::Updated { edited: true, .. }), "delivered again to `since` readers");
    let gone = if record.id == a.key { b.key } else { a.key };
    assert!(store.event_record(&gone).expect("read").is_none());
}

/// A fourth report on the dairy fire, from another outlet.
const DAIRY_LATER: (&str, &str) = (
    "Palmer dairy fire: troopers name arson investigator",
    "Alaska State Troopers investigator Ken Brooks is leading the arson inquiry into the fire that destroyed the \
     historic Matanuska Maid dairy building in Palmer on Tuesday, fire chief John Owen said.",
);

#[test]
fn after_a_restart_a_report_joins_the_event_the_rebuilt_index_put_back() {
    let (_dir, store, shared) = with_backlog();
    let now = now();
    for (i, (source, published)) in [("a", "2026-11-21T06:00:00Z"), ("b", "2026-11-21T08:00:00Z")].iter().enumerate() {
        commit(&store, &shared, report(source, source, DAIRY[i], published), now);
    }
    let (_, writes) = commit(&store, &shared, report("c", "c", DAIRY[2], "2026-11-21T09:00:00Z"), now);
    let before = record_of(&writes).clone();
    assert_eq!(before.members.len(), 3, "{before:?}");
    // A new process: its index is rebuilt from the store, where only the event's primary is in
    // the merged channel and the other reports are read from the event's record.
    let restarted = SharedEvents::new(settings());
    let d = report("d", "d", DAIRY_LATER, "2026-11-21T12:00:00Z");
    let (_, writes) = commit(&store, &restarted, d.clone(), now);
    let after = record_of(&writes);
    assert_eq!(after.id, before.id, "the same event");
    let joined: HashMap<EntryKey, &str> = after.members.iter().map(|m| (m.key, m.joined.as_str())).collect();
    assert_eq!((after.members.len(), joined.get(&d.key).copied()), (4, Some("event")), "{after:?}");
    // Its closest member is one the merged channel does not show (only `b` and `c` name the
    // investigator): the rebuild read them from the event's record.
    let member = after.members.iter().find(|m| m.key == d.key).expect("d");
    assert!(member.names.iter().any(|n| n == "ken brooks"), "{member:?}");
}
