//! Digests of items together with everything their normalization depends on, so a poll can tell
//! an item that came back unchanged without normalizing it again (or, by its bytes, parsing it).

use super::{feed_base, FeedContext, FUTURE_TOLERANCE};
use feed_rs::model::{Entry as FeedEntry, Feed};
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};

/// What every item digest of a document starts from: this build's version (a new version may
/// normalize differently), `salt` (any other setting the caller derives from an item), the
/// source, the fetch URL and the feed's base URL. A hash that changes between Rust releases only
/// costs a normalization.
pub fn digest_seed(feed: &Feed, ctx: &FeedContext<'_>, salt: impl Hash) -> DefaultHasher {
    let mut seed = DefaultHasher::new();
    salt.hash(&mut seed);
    (env!("CARGO_PKG_VERSION"), ctx.source.as_str(), ctx.fetch_url.map(url::Url::as_str)).hash(&mut seed);
    feed_base(feed, ctx.fetch_url).as_ref().map(url::Url::as_str).hash(&mut seed);
    seed
}

/// Each item's digest by its parsed form (its `Debug` form names every field feed-rs filled), or
/// `None` when the item must always be normalized again (`may_remember`).
pub fn item_digests(feed: &Feed, ctx: &FeedContext<'_>, salt: impl Hash) -> Vec<Option<u64>> {
    let mut seed = digest_seed(feed, ctx, salt);
    "parsed".hash(&mut seed);
    let shared = super::shared_guids(feed);
    feed.entries
        .iter()
        .map(|e| may_remember(e, ctx, shared.contains(e.id.trim())).then(|| digest(seed.clone(), e)))
        .collect()
}

/// Digests of items by their bytes, each read within the same `context` bytes (`parse::skim`):
/// equal bytes in an equal context parse to the same item.
pub fn byte_digests<'a>(
    mut seed: DefaultHasher,
    context: impl IntoIterator<Item = &'a [u8]>,
    items: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u64> {
    "bytes".hash(&mut seed);
    for c in context {
        c.hash(&mut seed);
    }
    items
        .into_iter()
        .map(|bytes| {
            let mut h = seed.clone();
            h.write(bytes);
            h.finish()
        })
        .collect()
}

/// Whether an item may be recognised next time rather than normalized again: not when its
/// dates are missing or ahead of our clock (repaired from `now`), nor when its GUID is `shared`
/// with another item of the feed (its identity then depends on its order).
pub fn may_remember(e: &FeedEntry, ctx: &FeedContext<'_>, shared: bool) -> bool {
    let dates = [e.published, e.updated];
    !shared && dates.iter().any(Option::is_some) && dates.iter().flatten().all(|d| *d <= ctx.now + FUTURE_TOLERANCE)
}

/// A hash of an item's GUID as `normalize` compares GUIDs (trimmed).
pub fn guid_hash(e: &FeedEntry) -> u64 {
    let mut h = DefaultHasher::new();
    e.id.trim().hash(&mut h);
    h.finish()
}

fn digest(mut h: DefaultHasher, e: &FeedEntry) -> u64 {
    // Formatting straight into the hasher: no copy of the item is made.
    let _ = write!(HashWriter(&mut h), "{e:?}");
    h.finish()
}

struct HashWriter<'a>(&'a mut DefaultHasher);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}
