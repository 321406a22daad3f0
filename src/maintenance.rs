//! Maintenance passes over the whole store: re-routing topics after the rules changed, pruning
//! the near-duplicate index.

use crate::domain::Entry;
use crate::store::{Store, StoreError};
use crate::topics::TopicRouter;

/// Recomputes topic membership of every stored entry after the topic rules changed.
/// Returns how many entries moved.
pub fn reindex_topics(store: &Store, router: &TopicRouter) -> Result<usize, StoreError> {
    const BATCH: usize = 500;
    let mut pending = Vec::with_capacity(BATCH);
    let mut moved = 0;
    store.for_each_entry(|e| {
        let topics = router.route(&e);
        if topics != e.topics {
            let new = Entry { topics, ..e.clone() };
            pending.push((e, new));
        }
        if pending.len() >= BATCH {
            store.retopic(&pending)?;
            moved += pending.len();
            pending.clear();
        }
        Ok(())
    })?;
    if !pending.is_empty() {
        store.retopic(&pending)?;
        moved += pending.len();
    }
    store.set_topics_fingerprint(router.fingerprint())?;
    Ok(moved)
}

/// Drops near-duplicate index records too old to match anything new.
pub fn prune_near_index(
    store: &Store,
    window: std::time::Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let cutoff = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    store.prune_near_index(cutoff)
}
