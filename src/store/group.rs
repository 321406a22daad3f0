//! Group commit on PostgreSQL. Commits decide one at a time under the lock every instance
//! shares, and each commit's own round trips (begin, lock, numbering, counters, write, commit
//! and its WAL flush) would be paid per poll. Instead, polls that queue for the commit lock while
//! one decides join its open transaction: each decides on top of the ones before it (through
//! the same `View` of writes in flight that sled's pipelined commits use), and the last one
//! writes the group's records in one statement and commits once. Every member returns only
//! after that commit, so nothing is acknowledged before it is durable.

use super::commit::Staged;
use super::inflight::{Pending, View};
use super::kv::Serial;
use super::{Committed, Prepared, Store, StoreError};
use crate::domain::SourceId;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// At most this many polls share one transaction: the lock every instance shares is held while
/// they all decide, and a failed write fails them all.
const MOST: usize = 16;

/// A transaction with the commits decided in it so far, waiting for more.
pub(super) struct Group {
    serial: Serial,
    pending: Vec<Arc<Pending>>,
    staged: Vec<Staged>,
    done: Arc<Done>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("members", &self.staged.len()).finish_non_exhaustive()
    }
}

/// How a group's commit ended, for the members waiting on it.
#[derive(Debug, Default)]
struct Done {
    outcome: Mutex<Option<Result<(), String>>>,
    ended: Condvar,
}

impl Done {
    fn end(&self, outcome: &Result<(), StoreError>) {
        let shown = outcome.as_ref().copied().map_err(ToString::to_string);
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(shown);
        self.ended.notify_all();
    }

    fn wait(&self) -> Result<(), StoreError> {
        let held = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        let held = self.ended.wait_while(held, |o| o.is_none()).unwrap_or_else(PoisonError::into_inner);
        match held.as_ref() {
            Some(Err(e)) => Err(StoreError::Io(format!("the group commit this poll was in failed: {e}"))),
            _ => Ok(()),
        }
    }
}

/// The commit lock's guard: what it guards is the open group, if any.
pub(super) type Serialized<'a> = MutexGuard<'a, Option<Group>>;

impl Store {
    /// A commit on PostgreSQL, decided in the open group's transaction (or a new one) and
    /// acknowledged once the group commits.
    pub(super) fn commit_in_group(
        &self,
        source: &SourceId,
        prepare: impl FnOnce(&View<'_>) -> Result<Prepared, StoreError>,
    ) -> Result<Committed, StoreError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut slot = self.commit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let mut group = match slot.take() {
            Some(group) => group,
            None => self.begin_group()?,
        };
        let decided = self.decide_in(&mut group, source, prepare);
        let done = group.done.clone();
        // Someone is queued behind this commit: hand them the transaction; they (or whoever
        // comes last) commit it.
        if self.queued.load(Ordering::SeqCst) > 0 && group.staged.len() < MOST {
            *slot = Some(group);
            drop(slot);
            let decided = decided?;
            done.wait()?;
            return Ok(decided);
        }
        self.end_group(group)?;
        drop(slot);
        decided
    }

    /// Takes the commit lock for a writer outside polls (re-routing, pruning, backups): the
    /// open group is committed first, and nothing is left in flight.
    pub(super) fn serialize(&self) -> Result<Serialized<'_>, StoreError> {
        let mut slot = self.commit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(group) = slot.take() {
            self.end_group(group)?;
        }
        self.inflight.drain();
        Ok(slot)
    }

    fn begin_group(&self) -> Result<Group, StoreError> {
        let serial = self.kv.serial()?;
        if let Serial::Pg { last_seq, .. } = &serial {
            self.note_foreign(*last_seq);
        }
        self.resume_seq(&serial);
        Ok(Group { serial, pending: Vec::new(), staged: Vec::new(), done: Arc::default() })
    }

    /// Decides one poll on top of the group's earlier members, and stages its writes.
    fn decide_in(
        &self,
        group: &mut Group,
        source: &SourceId,
        prepare: impl FnOnce(&View<'_>) -> Result<Prepared, StoreError>,
    ) -> Result<Committed, StoreError> {
        let mut p = prepare(&View { store: self, inflight: group.pending.clone(), ahead: Default::default() })?;
        // This decision took in what other instances committed before the group began; the
        // group's later members must not take it in again.
        *self.foreign.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let before = self.seq.load(Ordering::Relaxed);
        self.number(&mut p.changes);
        let after = self.seq.load(Ordering::Relaxed);
        if after > before {
            self.note_given(before + 1, after);
        }
        let changes = Arc::new(std::mem::take(&mut p.changes));
        let staged = self.stage_changes(&changes, &p.index, Some((source, &p.state)))?;
        group.pending.push(Arc::new(Pending::of(changes.clone(), &p.index)));
        group.staged.push(staged);
        Ok(Committed { changes, index: p.index, state: p.state })
    }

    /// Writes and commits a group (a group whose every member failed to decide is rolled
    /// back), then tells its waiting members how it went.
    fn end_group(&self, group: Group) -> Result<(), StoreError> {
        let Group { serial, staged, done, .. } = group;
        let outcome = match Staged::merge(staged) {
            Some(all) => self.apply(all, serial),
            None => Ok(()),
        };
        done.end(&outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{test_entry, Change, Entry};
    use crate::store::test_place::Place;
    use std::sync::Barrier;
    use std::time::Duration;

    /// One shared entry whose title counts the commits that saw it.
    fn counter() -> Entry {
        test_entry("count", "shared", "2026-11-20T10:00:00Z")
    }

    /// Commits `n` polls at once, each rewriting the shared entry from what its view shows
    /// (the first decides slowly, so the others queue behind it).
    fn commit_at_once(store: &Store, n: usize) -> Vec<Result<Committed, StoreError>> {
        let start = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (store, start) = (store.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 30 }));
                    let id = SourceId::parse(&format!("s{i}")).expect("slug");
                    store.commit_poll_with(&id, |view| {
                        if i == 0 {
                            std::thread::sleep(Duration::from_millis(150));
                        }
                        let now = view.entry(&counter().key)?.expect("seeded");
                        let seen: u32 = now.title.parse().expect("a count");
                        let next = Entry { title: (seen + 1).to_string(), ..now.clone() };
                        let change = Change::Updated { previous: Box::new(now), entry: next, edited: true };
                        Ok(Prepared { changes: vec![change], ..Prepared::default() })
                    })
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("join")).collect()
    }

    fn seed(store: &Store) {
        let id = SourceId::parse("count").expect("slug");
        let first = Entry { title: "0".into(), ..counter() };
        let prepared = Prepared { changes: vec![Change::New(first)], ..Prepared::default() };
        store.commit_poll_with(&id, |_| Ok(prepared)).expect("seed");
    }

    fn each_commit_decides_on_the_ones_before_it(place: &Place) {
        let store = place.open();
        seed(&store);
        let before = store.writes();
        let done = commit_at_once(&store, 8);
        assert!(done.iter().all(Result::is_ok), "{done:?}");
        let stored = store.entry(&counter().key).expect("read").expect("stored");
        assert_eq!(stored.title, "8", "every commit saw the one before it");
        let seqs: std::collections::BTreeSet<u64> = done.iter().flatten().map(|c| c.changes[0].entry().seq).collect();
        assert_eq!(seqs.len(), 8, "each commit took its own change-log position");
        let written = store.writes() - before;
        if store.is_shared() {
            assert!(written < 8, "queued commits shared transactions: {written} for 8 polls");
        }
        drop(store);
        let again = place.open();
        let reopened = again.entry(&counter().key).expect("read").expect("stored");
        assert_eq!(reopened.title, "8", "what was acknowledged is stored");
    }

    fn a_member_that_fails_to_decide_leaves_the_others_committed(place: &Place) {
        let store = place.open();
        seed(&store);
        let done = commit_at_once(&store, 4);
        assert!(done.iter().all(Result::is_ok));
        let queued = store.clone();
        store.queued.fetch_add(1, Ordering::SeqCst);
        let failing = std::thread::spawn(move || {
            let id = SourceId::parse("broken").expect("slug");
            queued.commit_poll_with(&id, |_| Err(StoreError::Io("a decision failed".into())))
        });
        std::thread::sleep(Duration::from_millis(100));
        store.queued.fetch_sub(1, Ordering::SeqCst);
        assert!(failing.join().expect("join").is_err());
        let done = commit_at_once(&store, 3);
        assert!(done.iter().all(Result::is_ok), "{done:?}");
        let stored = store.entry(&counter().key).expect("read").expect("stored");
        assert_eq!(stored.title, "7");
    }

    /// A writer outside polls takes the commit lock while a group is open (its member was
    /// told someone queued): the group is committed first, and its member acknowledged.
    fn a_writer_outside_polls_commits_the_open_group_first(place: &Place) {
        let store = place.open();
        seed(&store);
        store.queued.fetch_add(1, Ordering::SeqCst);
        let member = store.clone();
        let waiting = std::thread::spawn(move || commit_at_once(&member, 1));
        std::thread::sleep(Duration::from_millis(300));
        if store.is_shared() {
            assert!(!waiting.is_finished(), "the member waits for its group's commit");
        }
        let removed = store.drop_signatures_before(chrono::DateTime::UNIX_EPOCH, || ()).expect("writer");
        store.queued.fetch_sub(1, Ordering::SeqCst);
        assert_eq!(removed, 0);
        let done = waiting.join().expect("join");
        assert!(done.iter().all(Result::is_ok), "{done:?}");
        let stored = store.entry(&counter().key).expect("read").expect("stored");
        assert_eq!(stored.title, "1");
    }

    use crate::store::test_place::on_both_backends;
    on_both_backends!(
        each_commit_decides_on_the_ones_before_it,
        a_member_that_fails_to_decide_leaves_the_others_committed,
        a_writer_outside_polls_commits_the_open_group_first,
    );
}
