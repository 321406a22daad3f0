//! The same item again, an edit of it, or the same item under a former key: every decision
//! about one item's identity at its own source is made here, pure, over what the caller read.
//! (Story matching across sources builds on it: `stories`, which also uses `revise` when it
//! finds a stored item again under a new identity.)

use crate::domain::{Change, Entry, EntryKey, IndexWrite, SeenItem};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// What a poll will write, and how many items it saw that were already stored unchanged.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

impl Plan {
    pub fn new_count(&self) -> usize {
        self.changes.iter().filter(|c| matches!(c, Change::New(_))).count()
    }

    /// Real edits; metadata-only refreshes count as unchanged.
    pub fn updated_count(&self) -> usize {
        self.changes.iter().filter(|c| matches!(c, Change::Updated { edited: true, .. })).count()
    }

    pub fn unchanged_count(&self) -> usize {
        self.unchanged + self.changes.iter().filter(|c| matches!(c, Change::Updated { edited: false, .. })).count()
    }
}

/// Decides, per incoming entry, whether it is new, an edit of a stored entry, or the same
/// again. `existing` holds the stored entries for the incoming keys.
pub fn plan(incoming: Vec<Entry>, existing: &HashMap<EntryKey, Entry>, now: DateTime<Utc>) -> Plan {
    let mut seen = HashSet::new();
    let mut plan = Plan::default();
    for entry in incoming {
        if !seen.insert(entry.key) {
            // The same item twice in one document (identical content-hash items): one entry.
            continue;
        }
        match existing.get(&entry.key) {
            None => plan.changes.push(Change::New(entry)),
            Some(old) => match revise(old, entry, now) {
                Some(change) => plan.changes.push(change),
                None => plan.unchanged += 1,
            },
        }
    }
    plan
}

/// A stored item seen again: nothing (unchanged), an edit (its text changed: a new change-log
/// position and `updated`), or a metadata-only refresh (stored silently).
pub fn revise(old: &Entry, new: Entry, now: DateTime<Utc>) -> Option<Change> {
    if old.fingerprint == new.fingerprint && old.revision == new.revision {
        return None;
    }
    let edited = old.fingerprint != new.fingerprint;
    let entry = if edited { merge_edit(old, new, now) } else { merge_silent(old, new) };
    Some(Change::Updated { previous: Box::new(old.clone()), entry, edited })
}

/// Under the commit lock: each planned update takes the stored version as it is now (`current`,
/// read through the commit's view of the store) as the version it replaces. Planning read it
/// before the lock, and a commit of another source may since have rewritten the entry's story
/// fields (a merge of stories, a new primary); replacing the older version would undo that and
/// leave its channel positions behind. New items need no second look: only their own source
/// writes their keys, and it is never polled twice at once.
pub fn refresh_previous<E>(
    changes: &mut [Change],
    current: impl Fn(&EntryKey) -> Result<Option<Entry>, E>,
) -> Result<(), E> {
    for change in changes {
        if let Change::Updated { previous, .. } = change {
            if let Some(now) = current(&previous.key)? {
                **previous = now;
            }
        }
    }
    Ok(())
}

/// The key an item is stored under: its own, or the stored item's its former key points to
/// (`alias`, a read of the store's alias records).
pub fn canonical<E>(key: EntryKey, alias: impl Fn(&EntryKey) -> Result<Option<EntryKey>, E>) -> Result<EntryKey, E> {
    Ok(alias(&key)?.unwrap_or(key))
}

/// The document's items under the keys they are stored under: an item recognised under a new
/// identity was merged into its stored entry (the alias records of this commit say which).
pub fn rekeyed(mut seen: Vec<SeenItem>, writes: &[IndexWrite]) -> Vec<SeenItem> {
    for w in writes {
        if let IndexWrite::Alias(from, to) = w {
            seen.iter_mut().filter(|s| s.key == *from).for_each(|s| s.key = *to);
        }
    }
    seen
}

/// A metadata-only change: stored, but as of the same moment as before.
fn merge_silent(old: &Entry, new: Entry) -> Entry {
    Entry {
        first_seen: old.first_seen,
        published: old.published,
        updated: old.updated,
        date_repaired: old.date_repaired,
        held_back: old.held_back,
        seq: old.seq,
        article: new.article.or_else(|| old.article.clone()),
        ..new
    }
}

/// A new source's first poll: only its `initial` newest new items enter channels; the rest of
/// its backlog is stored but held back, so adding a source does not flood every channel.
pub fn hold_back_backlog(plan: &mut Plan, initial: usize) {
    let mut new: Vec<&mut Entry> = plan
        .changes
        .iter_mut()
        .filter_map(|c| match c {
            Change::New(e) => Some(e),
            Change::Updated { .. } => None,
        })
        .collect();
    new.sort_by(|a, b| b.published.cmp(&a.published).then(a.key.cmp(&b.key)));
    for e in new.into_iter().skip(initial) {
        e.held_back = true;
    }
}

/// An edit keeps the item's first-seen time, its channel visibility and, when the feed gives no real date, its
/// original published time; `updated` moves to the feed's newer date, or to now.
fn merge_edit(old: &Entry, mut new: Entry, now: DateTime<Utc>) -> Entry {
    new.first_seen = old.first_seen;
    // The feed knows nothing of the article page read for the item: keep it until it is read again.
    new.article = new.article.or_else(|| old.article.clone());
    new.held_back = old.held_back;
    if new.date_repaired {
        new.published = old.published;
        new.date_repaired = old.date_repaired;
    }
    new.updated = if new.updated > old.updated && !new.date_repaired { new.updated } else { now.max(old.updated) };
    new.updated = new.updated.max(new.published);
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
    }

    fn entry(id: &str, title: &str, published: &str) -> Entry {
        Entry {
            title: title.into(),
            fingerprint: format!("fp-{title}"),
            revision: format!("rev-{title}"),
            ..crate::domain::test_entry("s", id, published)
        }
    }

    #[test]
    fn new_unchanged_and_edited() {
        let now = at("2026-11-28T12:00:00Z");
        let old_a = entry("a", "A", "2026-11-20T00:00:00Z");
        let old_b = entry("b", "B", "2026-11-21T00:00:00Z");
        let existing: HashMap<_, _> = [(old_a.key, old_a.clone()), (old_b.key, old_b.clone())].into();
        let incoming = vec![
            old_a.clone(),
            entry("b", "B edited", "2026-11-21T00:00:00Z"),
            entry("c", "C", "2026-11-22T00:00:00Z"),
        ];
        let p = plan(incoming, &existing, now);
        assert_eq!((p.new_count(), p.updated_count(), p.unchanged_count()), (1, 1, 1));
        let Some(Change::Updated { entry, .. }) = p.changes.iter().find(|c| matches!(c, Change::Updated { .. })) else {
            panic!("no update")
        };
        assert_eq!(entry.title, "B edited");
        assert_eq!(entry.updated, now, "an edit without a newer feed date is dated now");
        assert_eq!(entry.first_seen, old_b.first_seen);
    }

    #[test]
    fn metadata_only_changes_are_stored_silently() {
        let now = at("2026-11-28T12:00:00Z");
        let old = Entry { seq: 7, ..entry("a", "A", "2026-11-20T00:00:00Z") };
        let refreshed = Entry { revision: "rev-new-category".into(), ..entry("a", "A", "2026-11-20T00:00:00Z") };
        let p = plan(vec![refreshed], &[(old.key, old.clone())].into(), now);
        assert_eq!((p.new_count(), p.updated_count(), p.unchanged_count()), (0, 0, 1));
        let Change::Updated { entry, edited: false, .. } = &p.changes[0] else { panic!("silent update expected") };
        assert_eq!((entry.updated, entry.seq, entry.revision.as_str()), (old.updated, 7, "rev-new-category"));
    }

    #[test]
    fn repaired_dates_keep_the_first_sighting() {
        let old = Entry { date_repaired: true, ..entry("x", "X", "2026-11-20T00:00:00Z") };
        let mut again = entry("x", "X2", "2026-11-28T00:00:00Z");
        again.date_repaired = true;
        let p = plan(vec![again], &[(old.key, old.clone())].into(), at("2026-11-28T00:00:00Z"));
        assert_eq!(p.changes[0].entry().published, old.published);
    }

    #[test]
    fn first_poll_holds_back_all_but_the_newest() {
        let entries: Vec<Entry> =
            (1..=5).map(|d| entry(&d.to_string(), "T", &format!("2026-11-0{d}T00:00:00Z"))).collect();
        let mut p = plan(entries, &HashMap::new(), at("2026-11-28T00:00:00Z"));
        hold_back_backlog(&mut p, 2);
        let visible: Vec<&str> =
            p.changes.iter().map(Change::entry).filter(|e| !e.held_back).map(|e| e.identity.as_str()).collect();
        assert_eq!(visible, ["4", "5"]);
    }

    #[test]
    fn duplicates_within_a_poll_count_once() {
        let e = entry("a", "A", "2026-11-20T00:00:00Z");
        let p = plan(vec![e.clone(), e], &HashMap::new(), at("2026-11-28T00:00:00Z"));
        assert_eq!(p.changes.len(), 1);
    }

    #[test]
    fn remembered_items_take_the_keys_they_were_merged_into() {
        let key = |n: &str| crate::domain::test_entry("s", n, "2026-11-20T00:00:00Z").key;
        let seen = |k| SeenItem { digest: 1, key: k, url: None, text: None, guid: 0 };
        let writes = [IndexWrite::Alias(key("new"), key("old")), IndexWrite::Url("x".into(), key("other"))];
        let keys: Vec<EntryKey> =
            rekeyed(vec![seen(key("new")), seen(key("b"))], &writes).iter().map(|s| s.key).collect();
        assert_eq!(keys, [key("old"), key("b")]);
        let alias = |k: &EntryKey| Ok::<_, ()>((*k == key("new")).then(|| key("old")));
        assert_eq!((canonical(key("new"), alias), canonical(key("b"), alias)), (Ok(key("old")), Ok(key("b"))));
    }
}
