//! Maintenance passes over the whole store: re-routing topics after the rules changed, pruning
//! the near-duplicate index.

use crate::domain::{ChannelId, Entry, EntryKey};
use crate::events::Grouped;
use crate::store::{Store, StoreError};
use crate::stories::SharedNear;
use crate::topics::TopicRouter;
use std::collections::BTreeSet;

/// What a re-routing pass did.
#[derive(Debug, Default)]
pub struct Reindexed {
    /// Entries whose topic membership changed.
    pub moved: usize,
    /// Channels that gained or lost entries (their render caches are stale).
    pub touched: BTreeSet<ChannelId>,
    /// Stopped before the end (shutdown): the rules' fingerprint is not stored, so the next
    /// start runs the pass again.
    pub interrupted: bool,
}

/// What stored memberships depend on: the topic rules, and which channels group by event (the
/// default, every channel, adds nothing, so stores from before events need no pass).
pub fn routing_fingerprint(router: &TopicRouter, grouped: &Grouped, topics: &[crate::config::TopicSettings]) -> String {
    let everywhere = grouped.all && topics.iter().all(|t| grouped.topics.contains(&t.id));
    if everywhere {
        return router.fingerprint().to_owned();
    }
    let mut by_event: Vec<&str> = grouped.topics.iter().map(|t| t.as_str()).collect();
    by_event.sort_unstable();
    format!("{}+events:{}:{}", router.fingerprint(), grouped.all, by_event.join(","))
}

/// Recomputes topic membership of every stored entry after the topic rules (or the grouping by
/// event) changed, then where each event's reports show. Safe while polls commit: each batch
/// re-reads its entries under the commit lock. `stop` is asked every `BATCH` entries read, so a
/// shutdown does not wait for a pass over a large store. The fingerprint stored at the end is
/// `fingerprint` (`routing_fingerprint`).
pub fn reindex_topics(
    store: &Store,
    router: &TopicRouter,
    grouped: &Grouped,
    fingerprint: &str,
    stop: &dyn Fn() -> bool,
) -> Result<Reindexed, StoreError> {
    const BATCH: usize = 500;
    let mut out = Reindexed::default();
    let mut keys = Vec::with_capacity(BATCH);
    let route = |cur: &Entry| router.rerouted(cur);
    let flush = |keys: &mut Vec<EntryKey>, out: &mut Reindexed| -> Result<(), StoreError> {
        for (old, new) in store.retopic(keys, route)? {
            out.touched.extend(old.channels().into_iter().chain(new.channels()));
            out.moved += 1;
        }
        keys.clear();
        Ok(())
    };
    let mut read = 0usize;
    store.for_each_entry(|e| {
        if router.rerouted(&e).is_some() {
            keys.push(e.key);
        }
        if keys.len() >= BATCH {
            flush(&mut keys, &mut out)?;
        }
        read += 1;
        out.interrupted = read % BATCH == 0 && stop();
        Ok(if out.interrupted { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) })
    })?;
    if out.interrupted {
        return Ok(out);
    }
    flush(&mut keys, &mut out)?;
    replace_events(store, grouped, &mut out, stop)?;
    if !out.interrupted {
        store.set_topics_fingerprint(fingerprint)?;
    }
    Ok(out)
}

/// Settles every stored event again: its reports' topics, or which channels group by event,
/// may have changed.
fn replace_events(
    store: &Store,
    grouped: &Grouped,
    out: &mut Reindexed,
    stop: &dyn Fn() -> bool,
) -> Result<(), StoreError> {
    let mut read = 0usize;
    store.for_each_event(|record| {
        let reports: Vec<Entry> = store.entries_by_key(record.members.iter().map(|m| &m.key))?.into_values().collect();
        if let Some((_, places)) = crate::events::settle(record.id, &reports, grouped) {
            let wanted: std::collections::HashMap<EntryKey, _> = reports.iter().map(|e| e.key).zip(places).collect();
            let stale: Vec<EntryKey> =
                reports.iter().filter(|e| e.event.as_ref() != wanted.get(&e.key)).map(|e| e.key).collect();
            let place = |cur: &Entry| {
                let p = wanted.get(&cur.key).filter(|p| cur.event.as_ref() != Some(*p))?;
                Some(Entry { event: Some(p.clone()), ..cur.clone() })
            };
            for (old, new) in store.retopic(&stale, place)? {
                out.touched.extend(old.channels().into_iter().chain(new.channels()));
                out.moved += 1;
            }
        }
        read += 1;
        out.interrupted = read % 500 == 0 && stop();
        Ok(if out.interrupted { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) })
    })
}

/// Drops near-duplicate signatures too old to match anything new (older than the story
/// window), and the band memory built from them, which the next commit rebuilds.
pub fn prune_near_index(
    store: &Store,
    near: &SharedNear,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let cutoff = now - chrono::Duration::from_std(near.window()).unwrap_or(chrono::Duration::MAX);
    store.drop_signatures_before(cutoff, || near.forget())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Change, SourceId, SourceState};

    #[test]
    fn a_shutdown_stops_a_pass_that_moves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let mut changes: Vec<Change> = (0..1_200)
            .map(|i| Change::New(crate::domain::test_entry("s", &i.to_string(), "2026-11-20T00:00:00Z")))
            .collect();
        store.commit_poll(&SourceId::parse("s").expect("id"), &mut changes, &SourceState::default()).expect("commit");
        let router = TopicRouter::new(&[]).expect("router");
        let asked = std::cell::Cell::new(0);
        let grouped = Grouped::default();
        let fp = routing_fingerprint(&router, &grouped, &[]);
        let stopped = reindex_topics(&store, &router, &grouped, &fp, &|| {
            asked.set(asked.get() + 1);
            true
        })
        .expect("pass");
        assert!(stopped.interrupted && stopped.moved == 0);
        assert_eq!(asked.get(), 1, "asked after the first {BATCH} entries read, then stopped", BATCH = 500);
        assert_eq!(store.topics_fingerprint().expect("read"), None, "an interrupted pass runs again");
        let done = reindex_topics(&store, &router, &grouped, &fp, &|| false).expect("pass");
        assert!(!done.interrupted);
        assert_eq!(store.topics_fingerprint().expect("read").as_deref(), Some(fp.as_str()));
    }
}
