use super::*;
use crate::domain::IdentityKind;
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
}

fn entry(source: &SourceId, id: &str, published: &str) -> Entry {
    Entry {
        key: EntryKey::derive(source, "guid", id),
        source: source.clone(),
        identity_kind: IdentityKind::Guid,
        identity: id.into(),
        title: format!("title {id}"),
        link: Some(format!("https://news.example/{id}")),
        summary: None,
        content: Some("<p>body</p>".into()),
        authors: vec!["A. Writer".into()],
        categories: vec![],
        enclosures: vec![],
        published: at(published),
        updated: at(published),
        first_seen: at(published),
        date_repaired: false,
        fingerprint: id.into(),
    }
}

#[test]
fn commit_survives_reopen_and_orders_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let a = SourceId::parse("a").expect("slug");
    let b = SourceId::parse("b").expect("slug");
    {
        let store = Store::open(&path, 1 << 20).expect("open");
        let state = SourceState { entry_count: 2, ..SourceState::default() };
        let changes = vec![
            Change::New(entry(&a, "1", "2026-11-01T00:00:00Z")),
            Change::New(entry(&a, "2", "2026-11-03T00:00:00Z")),
        ];
        store.commit_poll(&a, &changes, &state).expect("commit");
        store.commit_poll(&b, &[Change::New(entry(&b, "3", "2026-11-02T00:00:00Z"))], &state).expect("commit");
    }
    let store = Store::open(&path, 1 << 20).expect("reopen");
    let titles: Vec<String> = store.latest(None, 10).expect("latest").into_iter().map(|e| e.title).collect();
    assert_eq!(titles, ["title 2", "title 3", "title 1"]);
    assert_eq!(store.latest(Some(&a), 10).expect("latest").len(), 2);
    assert_eq!(store.latest(None, 2).expect("latest").len(), 2);
    assert_eq!(store.source_state(&a).expect("state").map(|s| s.entry_count), Some(2));
}

#[test]
fn an_update_moves_the_entry_in_the_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db"), 1 << 20).expect("open");
    let a = SourceId::parse("a").expect("slug");
    let old = entry(&a, "1", "2026-11-01T00:00:00Z");
    store.commit_poll(&a, &[Change::New(old.clone())], &SourceState::default()).expect("commit");
    let moved = Entry { published: at("2026-11-05T00:00:00Z"), title: "moved".into(), ..old.clone() };
    store
        .commit_poll(
            &a,
            &[Change::Updated { previous_published: old.published, entry: moved }],
            &SourceState::default(),
        )
        .expect("commit");
    let all = store.latest(None, 10).expect("latest");
    assert_eq!(all.len(), 1, "no stale timeline key remains");
    assert_eq!(all[0].title, "moved");
    assert_eq!(store.entry_count(), 1);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).expect("sled");
        db.open_tree("meta").expect("tree").insert(b"schema", &99u32.to_be_bytes()).expect("insert");
        db.flush().expect("flush");
    }
    assert!(matches!(Store::open(&path, 1 << 20), Err(StoreError::Schema { found: 99, .. })));
}
