use super::test_place::{on_both_backends, Place};
use super::*;
use crate::domain::{Entry, TopicId, TopicMatch};
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
}

fn entry(source: &SourceId, id: &str, published: &str) -> Entry {
    Entry {
        link: Some(format!("https://news.example/{id}")),
        content: Some("<p>body</p>".into()),
        authors: vec!["A. Writer".into()],
        ..crate::domain::test_entry(source.as_str(), id, published)
    }
}

fn titles(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.title.clone()).collect()
}

on_both_backends!(
    commit_survives_reopen_and_orders_newest_first,
    pages_walk_every_item_once,
    an_update_moves_the_entry_and_its_change_position,
    held_back_entries_are_stored_but_in_no_channel,
    retopic_moves_topic_membership,
    signatures_survive_a_restart_and_are_dropped_by_age,
    long_pages_and_since_runs_read_every_entry_once,
);

fn reopen(path: &std::path::Path) -> Store {
    open_unlocked(path).expect("reopen")
}

fn open_unlocked(path: &std::path::Path) -> Result<Store, StoreError> {
    for _ in 0..200 {
        match Store::open(path, 1 << 20) {
            Err(StoreError::Open { detail, .. }) if detail.contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
    Store::open(path, 1 << 20)
}

fn commit_survives_reopen_and_orders_newest_first(place: &Place) {
    let a = SourceId::parse("a").expect("slug");
    let b = SourceId::parse("b").expect("slug");
    {
        let store = place.open();
        let mut changes = vec![
            Change::New(entry(&a, "1", "2026-11-01T00:00:00Z")),
            Change::New(entry(&a, "2", "2026-11-03T00:00:00Z")),
        ];
        store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
        let mut more = vec![Change::New(entry(&b, "3", "2026-11-02T00:00:00Z"))];
        store.commit_poll(&b, &mut more, &SourceState::default()).expect("commit");
    }
    let store = place.open();
    assert_eq!(titles(&store.latest(&ChannelId::All, 10).expect("latest")), ["title 2", "title 3", "title 1"]);
    assert_eq!(store.latest(&ChannelId::Source(a.clone()), 10).expect("latest").len(), 2);
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 3);
    assert_eq!(store.channel_count(&ChannelId::Source(a)).expect("count"), 2);
}

fn pages_walk_every_item_once(place: &Place) {
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let mut changes: Vec<Change> =
        (0..25).map(|i| Change::New(entry(&a, &i.to_string(), &format!("2026-11-{:02}T00:00:00Z", 1 + i)))).collect();
    store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
    let mut seen = Vec::new();
    let mut before = None;
    for _ in 0..10 {
        let page = store.page(&ChannelId::All, 10, before.as_ref()).expect("page");
        let Some(last) = page.last() else { break };
        before = Some(keys::position(last.published, &last.key));
        seen.extend(titles(&page));
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<std::collections::HashSet<_>>().len(), 25);
    assert_eq!(seen[0], "title 24");
}

fn an_update_moves_the_entry_and_its_change_position(place: &Place) {
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let mut first =
        vec![Change::New(entry(&a, "1", "2026-11-01T00:00:00Z")), Change::New(entry(&a, "2", "2026-11-02T00:00:00Z"))];
    store.commit_poll(&a, &mut first, &SourceState::default()).expect("commit");
    let cursor = store.last_seq().expect("seq");
    let old = first[0].entry().clone();
    let moved = Entry { published: at("2026-11-05T00:00:00Z"), title: "moved".into(), ..old.clone() };
    let mut upd = vec![Change::Updated { previous: Box::new(old), entry: moved, edited: true }];
    store.commit_poll(&a, &mut upd, &SourceState::default()).expect("commit");
    assert_eq!(titles(&store.latest(&ChannelId::All, 10).expect("latest")), ["moved", "title 2"], "no stale index key");
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 2);
    let since = store.since(&ChannelId::All, cursor, 10).expect("since");
    assert_eq!(titles(&since.entries), ["moved"]);
    let from_start = store.since(&ChannelId::All, 0, 10).expect("since");
    assert_eq!(titles(&from_start.entries), ["title 2", "moved"], "each entry once, at its latest change");
    assert_eq!(store.since(&ChannelId::All, from_start.cursor, 10).expect("since").entries.len(), 0);
}

fn held_back_entries_are_stored_but_in_no_channel(place: &Place) {
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let hidden = Entry { held_back: true, ..entry(&a, "old", "2026-10-01T00:00:00Z") };
    let mut changes = vec![Change::New(hidden.clone()), Change::New(entry(&a, "new", "2026-11-01T00:00:00Z"))];
    store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
    assert_eq!(titles(&store.latest(&ChannelId::All, 10).expect("latest")), ["title new"]);
    assert!(store.entry(&hidden.key).expect("get").is_some());
    assert_eq!(store.since(&ChannelId::All, 0, 10).expect("since").entries.len(), 1);
}

fn retopic_moves_topic_membership(place: &Place) {
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let t = TopicId::parse("t").expect("slug");
    let e = entry(&a, "1", "2026-11-01T00:00:00Z");
    let mut changes = vec![Change::New(e)];
    store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
    let old = changes[0].entry().clone();
    let topics = vec![TopicMatch { topic: t.clone(), rule: "any".into() }];
    let moved = store
        .retopic(&[old.key], |cur| (cur.topics != topics).then(|| Entry { topics: topics.clone(), ..cur.clone() }))
        .expect("retopic");
    assert_eq!(moved.len(), 1);
    assert_eq!(store.latest(&ChannelId::Topic(t.clone()), 10).expect("topic").len(), 1);
    assert_eq!(store.channel_count(&ChannelId::Topic(t)).expect("count"), 1);
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 1);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).expect("sled");
        let data = db.open_tree(keys::DATA_TREE).expect("tree");
        data.insert([&[keys::META][..], b"schema"].concat(), &99u32.to_be_bytes()).expect("insert");
        db.flush().expect("flush");
    }
    assert!(matches!(open_unlocked(&path), Err(StoreError::Schema { found: 99, .. })));
}

/// A store written by schema 1 (a tree per record kind) opens with everything in place.
#[test]
fn schema_one_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let a = SourceId::parse("a").expect("slug");
    let mut e = entry(&a, "1", "2026-11-01T00:00:00Z");
    e.seq = 7;
    {
        let db = sled::open(&path).expect("sled");
        let tree = |n: &str| db.open_tree(n).expect("tree");
        let v1 = |json: Vec<u8>| [vec![1u8], json].concat();
        tree("entries").insert(e.key.as_bytes(), v1(serde_json::to_vec(&e).expect("json"))).expect("entry");
        for ch in e.channels() {
            tree("channels").insert(keys::channel_key(&ch, e.published, &e.key), &[]).expect("channel");
            tree("counts").insert(keys::channel_name(&ch), &1u64.to_be_bytes()).expect("count");
        }
        tree("changes").insert(7u64.to_be_bytes(), e.key.as_bytes()).expect("log");
        let state = SourceState { etag: Some("\"v1\"".into()), ..SourceState::default() };
        tree("sources").insert("a", v1(serde_json::to_vec(&state).expect("json"))).expect("state");
        tree("meta").insert(b"schema", &1u32.to_be_bytes()).expect("schema");
        tree("meta").insert(b"topics", b"fp").expect("topics");
        tree("story_idx").insert([b"u".as_slice(), b"news.example/1"].concat(), e.key.as_bytes()).expect("url");
        db.flush().expect("flush");
    }
    for _ in 0..2 {
        let store = reopen(&path);
        assert_eq!(titles(&store.latest(&ChannelId::All, 10).expect("latest")), ["title 1"]);
        assert_eq!(store.channel_count(&ChannelId::Source(a.clone())).expect("count"), 1);
        assert_eq!(store.entry_count(), 1);
        assert_eq!(store.since(&ChannelId::All, 0, 10).expect("since").cursor, 7);
        assert_eq!(store.source_state(&a).expect("state").and_then(|s| s.etag).as_deref(), Some("\"v1\""));
        assert_eq!(store.topics_fingerprint().expect("fp").as_deref(), Some("fp"));
        assert_eq!(store.url_owner("news.example/1").expect("url"), Some(e.key));
        let kv::Kv::Sled { db, .. } = &store.kv else { panic!("a sled store") };
        assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"entries"), "old trees dropped");
        let guard = db.open_tree("meta").expect("meta").get(b"schema").expect("get").map(|v| v.to_vec());
        assert_eq!(guard, Some(keys::SCHEMA_VERSION.to_be_bytes().to_vec()), "schema-1 binaries refuse the store");
    }
}

fn signatures_survive_a_restart_and_are_dropped_by_age(place: &Place) {
    use crate::domain::{IndexWrite, Signature};
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let old = entry(&a, "old", "2026-01-01T00:00:00Z");
    let new = entry(&a, "new", "2026-11-27T00:00:00Z");
    let sig: Signature = std::array::from_fn(|i| i as u32 * 7919);
    let index = [&old, &new, &new].iter().map(|e| IndexWrite::Sig(e.key, e.published, sig)).collect();
    store
        .commit_poll_with(&a, |_| {
            Ok(Prepared {
                changes: vec![Change::New(old.clone()), Change::New(new.clone())],
                index,
                state: SourceState::default(),
            })
        })
        .expect("commit");
    drop(store);
    let store = place.open();
    let mut all = store.signatures_since(at("2000-01-01T00:00:00Z")).expect("scan");
    all.sort_by_key(|(_, t, _)| *t);
    assert_eq!(all, vec![(old.key, old.published, sig), (new.key, new.published, sig)], "one record per entry");
    assert_eq!(store.signatures_since(at("2026-11-20T00:00:00Z")).expect("scan"), vec![(new.key, new.published, sig)]);
    let mut told = false;
    assert_eq!(store.drop_signatures_before(at("2026-11-20T00:00:00Z"), || told = true).expect("prune"), 1);
    assert!(told, "the caller hears of the prune before the next commit decides");
    assert_eq!(store.signature(&old.key).expect("read"), None);
    assert_eq!(store.signature(&new.key).expect("read"), Some(sig));
}

/// Every record of every tree, by tree name and key.
fn every_record(store: &Store) -> std::collections::BTreeMap<(Vec<u8>, Vec<u8>), Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let kv::Kv::Sled { db, .. } = &store.kv else { panic!("a sled store") };
    for name in db.tree_names() {
        for item in db.open_tree(&name).expect("tree").iter() {
            let (k, v) = item.expect("record");
            out.insert((name.to_vec(), k.to_vec()), v.to_vec());
        }
    }
    out
}

/// Compaction keeps every record and the change-log order: a commit afterwards still sorts
/// after everything a partner has seen.
#[test]
fn compaction_keeps_records_and_sequence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let a = SourceId::parse("a").expect("slug");
    let (last_before, records_before);
    {
        let store = Store::open(&path, 1 << 20).expect("open");
        for round in 0..20 {
            let mut changes: Vec<Change> = (0..50)
                .map(|i| {
                    Change::New(entry(&a, &format!("{round}-{i}"), &format!("2026-11-{:02}T00:00:00Z", 1 + i % 28)))
                })
                .collect();
            store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
        }
        last_before = store.last_seq().expect("seq");
        records_before = every_record(&store);
    }
    let c = compact(&path, 1 << 20).expect("compact");
    assert!(c.after > 0 && c.before > 0, "{c:?}");
    assert!(!dir.path().join("db.compact").exists() && !dir.path().join("db.old").exists());
    let store = reopen(&path);
    let records_after = every_record(&store);
    assert!(records_after.len() > 4_000, "{} records: several copy streams", records_after.len());
    assert!(records_after == records_before, "every record of every tree is copied, unchanged");
    assert_eq!(store.entry_count(), 1000);
    assert_eq!(store.channel_count(&ChannelId::All).expect("count"), 1000);
    assert_eq!(store.latest(&ChannelId::Source(a.clone()), 2000).expect("latest").len(), 1000);
    assert_eq!(store.last_seq().expect("seq"), last_before);
    let mut more = vec![Change::New(entry(&a, "after", "2026-11-28T00:00:00Z"))];
    store.commit_poll(&a, &mut more, &SourceState::default()).expect("commit");
    let page = store.since(&ChannelId::All, last_before, 10).expect("since");
    assert_eq!(titles(&page.entries), ["title after"]);
    assert!(page.cursor > last_before);
}

/// More entries than one batched read (256 on PostgreSQL): pages keep the order, and `since` in
/// small steps sees each entry once.
fn long_pages_and_since_runs_read_every_entry_once(place: &Place) {
    let store = place.open();
    let a = SourceId::parse("a").expect("slug");
    let mut changes: Vec<Change> = (0..600)
        .map(|i| Change::New(entry(&a, &i.to_string(), &format!("2026-11-{:02}T{:02}:00:00Z", 1 + i / 24, i % 24))))
        .collect();
    store.commit_poll(&a, &mut changes, &SourceState::default()).expect("commit");
    let newest = store.latest(&ChannelId::All, 500).expect("latest");
    assert_eq!(newest.len(), 500);
    assert!(newest.windows(2).all(|w| w[0].published > w[1].published), "newest first");
    assert_eq!(newest[0].title, "title 599");
    // Read on every core, a batch of reads at a time: the same entries, in the same order.
    let mapped = store.map_latest(&ChannelId::All, 550, |e| e.title).expect("map_latest");
    assert_eq!(mapped, titles(&store.latest(&ChannelId::All, 550).expect("latest")));
    assert_eq!(store.map_latest(&ChannelId::All, 1_000, |e| e.key).expect("all").len(), 600);
    let (mut cursor, mut seen) = (0, std::collections::HashSet::new());
    loop {
        let page = store.since(&ChannelId::Source(a.clone()), cursor, 7).expect("since");
        if page.entries.is_empty() {
            break;
        }
        assert!(page.entries.iter().all(|e| seen.insert(e.key)), "no entry twice");
        cursor = page.cursor;
    }
    assert_eq!(seen.len(), 600);
}
