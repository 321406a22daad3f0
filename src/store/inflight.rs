//! Commits decided but not yet applied. A commit decides (its caller's decisions, e.g. story
//! matching, and sequence numbers) under the commit lock, then writes while the next commit
//! decides; that one sees the earlier commit's writes through a `View`. Tickets make commits apply in the order they decided, so
//! change-log positions still become visible in order.

use super::{Store, StoreError};
use crate::domain::{Change, Entry, EntryKey, EventRecord, IndexWrite, Signature, Story};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// What one decided commit will write, indexed for point reads.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// The commit's changes, shared with it rather than copied: `entries` indexes them.
    changes: Arc<Vec<Change>>,
    entries: HashMap<EntryKey, usize>,
    /// `None`: the record is dropped (its item was removed).
    urls: HashMap<String, Option<EntryKey>>,
    texts: HashMap<[u8; 16], Option<EntryKey>>,
    sigs: HashMap<EntryKey, Signature>,
    /// `None`: the story is dropped (merged into another).
    stories: HashMap<EntryKey, Option<Story>>,
    /// `None`: the event is dropped (merged into another).
    events: HashMap<EntryKey, Option<EventRecord>>,
}

impl Pending {
    /// A commit's changes (shared with it) and index writes.
    pub(super) fn of(changes: Arc<Vec<Change>>, index: &[IndexWrite]) -> Self {
        let mut out = Self::default();
        for (i, c) in changes.iter().enumerate() {
            out.entries.insert(c.entry().key, i);
        }
        out.changes = changes;
        for w in index {
            match w {
                IndexWrite::Url(url, key) => drop(out.urls.insert(url.clone(), Some(*key))),
                IndexWrite::Text(fp, key) => drop(out.texts.insert(*fp, Some(*key))),
                IndexWrite::DropUrl(url) => drop(out.urls.insert(url.clone(), None)),
                IndexWrite::DropText(fp) => drop(out.texts.insert(*fp, None)),
                IndexWrite::Sig(key, _, sig) => drop(out.sigs.insert(*key, *sig)),
                IndexWrite::Story(st) => drop(out.stories.insert(st.id, Some(st.clone()))),
                IndexWrite::DropStory(id) => drop(out.stories.insert(*id, None)),
                IndexWrite::Event(ev) => drop(out.events.insert(ev.id, Some(ev.clone()))),
                IndexWrite::DropEvent(id) => drop(out.events.insert(*id, None)),
                // Aliases are read while planning, outside commits: stale reads there are
                // already allowed for.
                IndexWrite::Alias(..) | IndexWrite::DropAlias(_) => {}
            }
        }
        out
    }
}

#[derive(Debug, Default)]
struct Queue {
    issued: u64,
    applied: u64,
    pending: Vec<(u64, Arc<Pending>)>,
    /// Commits with a ticket below this decided on top of a commit that failed to apply.
    doomed_before: u64,
}

/// The tickets and writes of commits in flight.
#[derive(Debug, Default)]
pub(super) struct Inflight {
    queue: Mutex<Queue>,
    turn: Condvar,
}

impl Inflight {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writes not yet applied, oldest first. Called under the commit lock.
    pub(super) fn snapshot(&self) -> Vec<Arc<Pending>> {
        self.lock().pending.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Enters a decided commit; its ticket must be passed to `wait_turn` and then `finish`d.
    /// Called under the commit lock, which orders tickets.
    pub(super) fn register(&self, writes: Pending) -> u64 {
        let mut q = self.lock();
        let ticket = q.issued;
        q.issued += 1;
        q.pending.push((ticket, Arc::new(writes)));
        ticket
    }

    /// Blocks until every earlier commit has applied. Fails when one of them failed after this
    /// commit had decided on its writes.
    pub(super) fn wait_turn(&self, ticket: u64) -> Result<(), StoreError> {
        let q = self.turn.wait_while(self.lock(), |q| q.applied != ticket).unwrap_or_else(PoisonError::into_inner);
        if ticket < q.doomed_before {
            return Err(StoreError::Io("an earlier commit this one built on failed to apply".into()));
        }
        Ok(())
    }

    /// Ends a commit's turn, applied or not; waits for the turn first if it has not come
    /// (a commit that failed before applying), so turns pass strictly in ticket order.
    pub(super) fn finish(&self, ticket: u64, applied: bool) {
        let mut q = self.turn.wait_while(self.lock(), |q| q.applied != ticket).unwrap_or_else(PoisonError::into_inner);
        q.pending.retain(|(t, _)| *t != ticket);
        q.applied = ticket + 1;
        if !applied {
            q.doomed_before = q.issued;
        }
        drop(q);
        self.turn.notify_all();
    }

    /// Waits until nothing is in flight: for writers outside commits (re-routing, pruning),
    /// which hold the commit lock, so nothing new enters meanwhile.
    pub(super) fn drain(&self) {
        drop(self.turn.wait_while(self.lock(), |q| q.applied != q.issued).unwrap_or_else(PoisonError::into_inner));
    }
}

/// Ends a ticket's turn even when applying fails or panics, so later commits never wait forever.
pub(super) struct Turn<'a> {
    inflight: &'a Inflight,
    ticket: u64,
    applied: bool,
}

impl<'a> Turn<'a> {
    pub(super) fn new(inflight: &'a Inflight, ticket: u64) -> Self {
        Self { inflight, ticket, applied: false }
    }

    pub(super) fn wait(&self) -> Result<(), StoreError> {
        self.inflight.wait_turn(self.ticket)
    }

    pub(super) fn applied(mut self) {
        self.applied = true;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.inflight.finish(self.ticket, self.applied);
    }
}

/// The store as a commit deciding now sees it: stored records, then the writes of commits
/// still in flight (newest wins).
#[derive(Debug)]
pub struct View<'a> {
    pub(super) store: &'a Store,
    pub(super) inflight: Vec<Arc<Pending>>,
    /// Stored records read ahead of the commit's decisions (PostgreSQL; see `ahead.rs`).
    pub(super) ahead: super::ahead::ReadAhead,
}

impl View<'_> {
    /// What other instances committed since this process's previous commit, which what this
    /// process remembers of the store does not include yet: `Some(entries)` as stored now, or
    /// `None` when more than `limit` change-log positions went by (then rebuild instead).
    pub fn foreign_entries(&self, limit: u64) -> Result<Option<Vec<Entry>>, StoreError> {
        let range = *self.store.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((mut after, upto)) = range else { return Ok(Some(Vec::new())) };
        if upto - after > limit {
            return Ok(None);
        }
        let mut out = Vec::new();
        while after < upto {
            let (entries, last) = self.store.changed_after(after, 1_000)?;
            out.extend(entries.into_iter().filter(|e| e.seq <= upto));
            if last == after {
                break;
            }
            after = last;
        }
        Ok(Some(out))
    }

    fn newest<T>(&self, f: impl Fn(&Pending) -> Option<T>) -> Option<T> {
        self.inflight.iter().rev().find_map(|p| f(p))
    }

    pub fn url_owner(&self, url: &str) -> Result<Option<EntryKey>, StoreError> {
        self.newest(|p| p.urls.get(url).copied()).map_or_else(|| self.stored_url_owner(url), Ok)
    }

    pub fn text_owner(&self, fp: &[u8; 16]) -> Result<Option<EntryKey>, StoreError> {
        self.newest(|p| p.texts.get(fp).copied()).map_or_else(|| self.stored_text_owner(fp), Ok)
    }

    pub fn entry(&self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        let pending = self.newest(|p| p.entries.get(key).and_then(|i| p.changes.get(*i)).map(|c| c.entry().clone()));
        pending.map_or_else(|| self.stored_entry(key), |e| Ok(Some(e)))
    }

    /// A story's record (stories of one item have none); `None` once a newer commit dropped it.
    pub fn story_record(&self, id: &EntryKey) -> Result<Option<Story>, StoreError> {
        self.newest(|p| p.stories.get(id).cloned()).map_or_else(|| self.stored_story(id), Ok)
    }

    /// An event's record (events of one report have none); `None` once a newer commit dropped it.
    pub fn event_record(&self, id: &EntryKey) -> Result<Option<EventRecord>, StoreError> {
        self.newest(|p| p.events.get(id).cloned()).map_or_else(|| self.store.event_record(id), Ok)
    }

    /// The newest `limit` entries of a channel as stored (commits in flight not included).
    pub fn latest(&self, ch: &crate::domain::ChannelId, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.store.latest(ch, limit)
    }

    /// `Store::map_latest`: the stored entries only, like `latest`.
    pub fn map_latest<T: Send>(
        &self,
        ch: &crate::domain::ChannelId,
        limit: usize,
        f: impl Fn(Entry) -> T + Sync,
    ) -> Result<Vec<T>, StoreError> {
        self.store.map_latest(ch, limit, f)
    }

    /// The stored signatures of items published at `since` or later (in-flight ones are not
    /// included: their deciders keep what they derived from them).
    pub fn signatures_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(EntryKey, chrono::DateTime<chrono::Utc>, Signature)>, StoreError> {
        self.store.signatures_since(since)
    }

    pub fn signature(&self, key: &EntryKey) -> Result<Option<Signature>, StoreError> {
        self.newest(|p| p.sigs.get(key).copied()).map_or_else(|| self.stored_signature(key), |s| Ok(Some(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn turns_pass_in_ticket_order_even_when_a_commit_fails_early() {
        let inflight = Arc::new(Inflight::default());
        let t: Vec<u64> = (0..3).map(|_| inflight.register(Pending::default())).collect();
        let tickets = [t[0], t[1], t[2]];
        assert_eq!(inflight.snapshot().len(), 3);
        let order = Arc::new(Mutex::new(Vec::new()));
        // Ticket 2 waits for its turn; ticket 1 fails before applying; ticket 0 applies last.
        let later = {
            let (inflight, order) = (inflight.clone(), order.clone());
            std::thread::spawn(move || {
                let turn = Turn::new(&inflight, tickets[2]);
                let waited = turn.wait();
                order.lock().expect("order").push(2);
                waited
            })
        };
        // Ticket 1 fails before applying: its turn ends without a wait, so it records nothing
        // itself; ticket 2 can only see the failure if 1's turn ended before 2's came.
        let failing = {
            let inflight = inflight.clone();
            std::thread::spawn(move || drop(Turn::new(&inflight, tickets[1])))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(order.lock().expect("order").is_empty(), "nothing passes before ticket 0");
        assert!(!failing.is_finished(), "a failed commit's turn still waits for ticket 0");
        let first = Turn::new(&inflight, tickets[0]);
        first.wait().expect("ticket 0's turn");
        order.lock().expect("order").push(0);
        first.applied();
        failing.join().expect("join");
        let waited = later.join().expect("join");
        assert_eq!(*order.lock().expect("order"), [0, 2]);
        assert!(waited.is_err(), "ticket 2 decided while ticket 1 was in flight, and 1 failed");
        inflight.drain();
        assert!(inflight.snapshot().is_empty());
    }

    #[test]
    fn a_view_reads_in_flight_writes_before_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let e = crate::domain::test_entry("s", "a", "2026-11-20T00:00:00Z");
        let story = Story::single(&e);
        let sig = [7u32; crate::domain::SIGNATURE_LEN];
        let index = vec![
            IndexWrite::Url("n.example/a".into(), e.key),
            IndexWrite::Text([1; 16], e.key),
            IndexWrite::Sig(e.key, e.published, sig),
            IndexWrite::Story(story.clone()),
        ];
        let first = Arc::new(Pending::of(Arc::new(vec![Change::New(e.clone())]), &index));
        let dropped = Arc::new(Pending::of(Arc::default(), &[IndexWrite::DropStory(story.id)]));
        let view = View { store: &store, inflight: vec![first.clone()], ahead: Default::default() };
        let owners = (view.url_owner("n.example/a").expect("url"), view.text_owner(&[1; 16]).expect("text"));
        assert_eq!(owners, (Some(e.key), Some(e.key)));
        assert_eq!(view.entry(&e.key).expect("entry"), Some(e.clone()));
        assert_eq!(view.signature(&e.key).expect("signature"), Some(sig));
        assert_eq!(view.story_record(&story.id).expect("story"), Some(story.clone()));
        let later = View { store: &store, inflight: vec![first, dropped], ahead: Default::default() };
        assert_eq!(later.story_record(&story.id).expect("story"), None, "the newer commit dropped it");
        let bare = View { store: &store, inflight: Vec::new(), ahead: Default::default() };
        let found = (bare.url_owner("n.example/a").expect("url"), bare.entry(&e.key).expect("entry"));
        assert_eq!(found, (None, None));
    }
}
