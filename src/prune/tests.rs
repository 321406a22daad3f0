use super::*;
use crate::domain::{test_entry, Change, Entry, EventMember, EventPlace, EventRecord, IndexWrite, Member, Story};
use crate::store::Prepared;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
    (dir, store)
}

fn id(s: &str) -> SourceId {
    SourceId::parse(s).expect("slug")
}

fn commit(store: &Store, entries: &[&Entry], index: Vec<IndexWrite>) {
    let changes = entries.iter().map(|e| Change::New((*e).clone())).collect();
    let p = Prepared { changes, index, ..Prepared::default() };
    store.commit_poll_with(&id("x"), |_| Ok(p)).expect("commit");
}

fn state(store: &Store, source: &str) {
    store.save_source_state(&id(source), &crate::domain::SourceState::default()).expect("state");
}

/// A story of `members`, the first its primary (the rest secondary).
fn story(members: &mut [&mut Entry]) -> Story {
    let sid = members[0].key;
    for (i, e) in members.iter_mut().enumerate() {
        (e.story, e.secondary) = (Some(sid), i > 0);
    }
    let members = members.iter().map(|e| Member::of(e, if e.key == sid { "first" } else { "url" }, 1.0)).collect();
    Story { id: sid, primary: sid, members }
}

fn rules_run(store: &Store, ids: &[&str], dry_run: bool) -> Result<Done, PruneError> {
    let (stories, grouped) = (StorySettings::default(), Grouped { all: true, ..Grouped::default() });
    let ids: Vec<SourceId> = ids.iter().map(|s| id(s)).collect();
    run(store, &ids, Rules { stories: &stories, grouped: &grouped }, dry_run, &|| false)
}

fn get(store: &Store, e: &Entry) -> Option<Entry> {
    store.entry(&e.key).expect("read")
}

#[test]
fn a_story_whose_primary_goes_is_shown_by_the_other_outlets_copy() {
    let (_dir, store) = open();
    let url = "news.example/talks".to_owned();
    let mut b = Entry { story_url: Some(url.clone()), ..test_entry("b", "talks", "2026-11-20T08:00:00Z") };
    let mut a = Entry { story_url: Some(url.clone()), ..test_entry("a", "talks", "2026-11-20T09:00:00Z") };
    let own = test_entry("b", "own", "2026-11-20T10:00:00Z");
    let st = story(&mut [&mut b, &mut a]);
    let sig = [3u32; crate::domain::SIGNATURE_LEN];
    let index =
        vec![IndexWrite::Story(st), IndexWrite::Url(url.clone(), b.key), IndexWrite::Sig(b.key, b.published, sig)];
    commit(&store, &[&b, &a, &own], index);
    state(&store, "b");
    let cursor = store.last_seq().expect("seq");
    assert_eq!(store.latest(&ChannelId::All, 10).expect("read").len(), 2, "b's copy and b's own item");

    let done = rules_run(&store, &["b"], false).expect("prune");
    assert_eq!((done.summary.entries, done.summary.stories_repointed, done.summary.batches), (2, 1, 1));
    assert_eq!((get(&store, &b), get(&store, &own)), (None, None));
    let a_now = get(&store, &a).expect("a stays");
    assert_eq!((a_now.story, a_now.secondary), (Some(a.key), false), "a story of one, named after its item");
    assert_eq!(store.story_record(&b.key).expect("read"), None);
    let all: Vec<EntryKey> = store.latest(&ChannelId::All, 10).expect("read").iter().map(|e| e.key).collect();
    assert_eq!(all, [a.key]);
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 1);
    assert_eq!(store.channel_count(&ChannelId::Source(id("b"))).expect("count"), 0);
    assert_eq!(store.entry_count(), 1);
    assert_eq!(store.url_owner(&url).expect("read"), Some(a.key), "the next copy to match against");
    assert_eq!(store.signature(&b.key).expect("read"), None);
    assert_eq!(store.source_state(&id("b")).expect("read"), None);
    let since = store.since(&ChannelId::All, cursor, 10).expect("since");
    assert_eq!(since.entries.iter().map(|e| e.key).collect::<Vec<_>>(), [a.key], "delivered again, b never");
    let touched: Vec<String> = done.summary.channels;
    assert_eq!(touched, ["all", "source:a", "source:b"]);
}

#[test]
fn three_outlets_keep_their_story_and_the_event_keeps_the_coverage() {
    let (_dir, store) = open();
    let mut b = test_entry("b", "s", "2026-11-20T08:00:00Z");
    let mut a = test_entry("a", "s", "2026-11-20T09:00:00Z");
    let mut c = test_entry("c", "s", "2026-11-20T10:00:00Z");
    let st = story(&mut [&mut b, &mut a, &mut c]);
    // Another story (d) reports the same event; b stood for its story in it, hiding d.
    let mut d = test_entry("d", "e", "2026-11-20T11:00:00Z");
    b.event = Some(EventPlace { id: b.key, primary: true, hidden: vec![], topics: vec![] });
    d.event = Some(EventPlace { id: b.key, primary: false, hidden: vec![ChannelId::All], topics: vec![] });
    let members = vec![EventMember::of(&b, "first", 0.0), EventMember::of(&d, "event", 2.5)];
    let ev = EventRecord { id: b.key, primary: b.key, members };
    commit(&store, &[&b, &a, &c, &d], vec![IndexWrite::Story(st), IndexWrite::Event(ev)]);
    assert_eq!(store.latest(&ChannelId::All, 10).expect("read").len(), 1, "one item for the event");

    let done = rules_run(&store, &["b"], false).expect("prune");
    assert_eq!((done.summary.stories_repointed, done.summary.events_repointed), (1, 1));
    let record = store.story_record(&b.key).expect("read").expect("two members stay");
    assert_eq!((record.primary, record.members.len()), (a.key, 2));
    let ev = store.event_record(&b.key).expect("read").expect("two reports stay");
    let mut reports: Vec<EntryKey> = ev.members.iter().map(|m| m.key).collect();
    reports.sort();
    let mut want = vec![a.key, d.key];
    want.sort();
    assert_eq!((reports, ev.primary), (want, a.key), "a took b's place and is the earliest");
    assert_eq!(ev.members.iter().find(|m| m.key == a.key).map(|m| m.joined.as_str()), Some("first"));
    let all: Vec<EntryKey> = store.latest(&ChannelId::All, 10).expect("read").iter().map(|e| e.key).collect();
    assert_eq!(all, [a.key]);
    let a_now = get(&store, &a).expect("a");
    assert!(a_now.event.as_ref().is_some_and(|p| p.primary && p.id == b.key));
}

#[test]
fn a_batch_takes_every_entry_of_the_source_its_stories_hold() {
    let (_dir, store) = open();
    let mut b1 = test_entry("b", "1", "2026-11-20T08:00:00Z");
    let mut a = test_entry("a", "1", "2026-11-20T09:00:00Z");
    let mut b2 = test_entry("b", "2", "2026-11-20T10:00:00Z");
    let st = story(&mut [&mut b1, &mut a, &mut b2]);
    commit(&store, &[&b1, &a, &b2], vec![IndexWrite::Story(st)]);
    let (stories, grouped) = (StorySettings::default(), Grouped::default());
    let rules = Rules { stories: &stories, grouped: &grouped };
    let pruned = HashSet::from([id("b")]);
    let planned = plan::plan(&store.view(), &[b1.key], &pruned, &Refs::new(), &rules).expect("plan");
    let mut gone: Vec<EntryKey> = planned.removal.entries.iter().map(|e| e.key).collect();
    gone.sort();
    let mut want = vec![b1.key, b2.key];
    want.sort();
    assert_eq!(gone, want, "b2 is settled with b1, not left in a story without it");
    assert!(planned.removal.index.contains(&IndexWrite::DropStory(b1.key)));
}

#[test]
fn a_dry_run_writes_nothing_and_counts_what_would_go() {
    let (_dir, store) = open();
    let items: Vec<Entry> = (0..3).map(|i| test_entry("b", &i.to_string(), "2026-11-20T08:00:00Z")).collect();
    commit(&store, &items.iter().collect::<Vec<_>>(), vec![]);
    let writes = store.writes();
    let done = rules_run(&store, &["b"], true).expect("dry run");
    assert!(done.summary.dry_run);
    assert_eq!((done.summary.entries, store.writes(), store.entry_count()), (3, writes, 3));
}

#[test]
fn unknown_and_configured_sources_are_refused_before_anything_is_written() {
    let (_dir, store) = open();
    commit(&store, &[&test_entry("b", "1", "2026-11-20T08:00:00Z")], vec![]);
    let writes = store.writes();
    let err = rules_run(&store, &["b", "nobody"], false).expect_err("refused");
    assert!(matches!(&err, PruneError::Unknown(ids) if ids == &["nobody".to_owned()]), "{err}");
    assert_eq!((store.writes(), store.entry_count()), (writes, 1));
    let text = "[[source]]\nid = \"b\"\nurl = \"https://b.example/feed\"\n";
    let settings = Settings::from_toml_checked(text, std::path::Path::new("/srv/n.toml")).expect("config");
    let err = refuse_configured(&[id("b")], &settings).expect_err("refused");
    assert!(err.to_string().contains("remove it from the configuration"), "{err}");
    assert!(matches!(parse_ids(&["Not A Slug".into()]), Err(PruneError::InvalidId(_))));
    assert!(matches!(parse_ids(&[]), Err(PruneError::NoSources)));
}

#[test]
fn a_large_source_goes_in_batches_and_a_stop_between_them_keeps_what_was_done_whole() {
    let (_dir, store) = open();
    let items: Vec<Entry> = (0..BATCH + 20).map(|i| test_entry("b", &i.to_string(), "2026-11-20T08:00:00Z")).collect();
    commit(&store, &items.iter().collect::<Vec<_>>(), vec![]);
    state(&store, "b");
    let (stories, grouped) = (StorySettings::default(), Grouped::default());
    let rules = Rules { stories: &stories, grouped: &grouped };
    let stopped = run(&store, &[id("b")], rules, false, &|| true).expect("first batch");
    assert!(stopped.summary.interrupted);
    assert_eq!((stopped.summary.entries, store.entry_count()), (BATCH, 20));
    assert!(store.source_state(&id("b")).expect("read").is_some(), "the state goes with the last batch");
    let rest = run(&store, &[id("b")], rules, false, &|| false).expect("the rest");
    assert_eq!((rest.summary.entries, rest.summary.batches, store.entry_count()), (20, 1, 0));
    assert_eq!(store.source_state(&id("b")).expect("read"), None);
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 0);
}
