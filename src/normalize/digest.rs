//! Digests of parsed items together with everything their normalization depends on, so a poll
//! can tell an item that came back unchanged without normalizing it again.

use super::{feed_base, FeedContext, FUTURE_TOLERANCE};
use feed_rs::model::{Entry as FeedEntry, Feed};
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Each item's digest, or `None` when normalizing it again could give another result: its
/// dates are missing or ahead of our clock (repaired from `now`), or its GUID is shared.
///
/// The digest covers the parsed item (its `Debug` form names every field feed-rs filled), the
/// source, the fetch URL, the feed's base URL and this build's version, since a new version may
/// normalize differently. A hash that changes between Rust releases only costs a normalization.
/// `salt` names any other setting the caller derives from the item.
pub fn item_digests(feed: &Feed, ctx: &FeedContext<'_>, salt: impl Hash) -> Vec<Option<u64>> {
    let mut seed = DefaultHasher::new();
    salt.hash(&mut seed);
    (env!("CARGO_PKG_VERSION"), ctx.source.as_str(), ctx.fetch_url.map(url::Url::as_str)).hash(&mut seed);
    feed_base(feed, ctx.fetch_url).as_ref().map(url::Url::as_str).hash(&mut seed);
    let shared = super::shared_guids(feed);
    feed.entries
        .iter()
        .map(|e| {
            let stable = dates_are_stable(e, ctx) && !shared.contains(e.id.trim());
            stable.then(|| digest(seed.clone(), e))
        })
        .collect()
}

fn dates_are_stable(e: &FeedEntry, ctx: &FeedContext<'_>) -> bool {
    let dates = [e.published, e.updated];
    dates.iter().any(Option::is_some) && dates.iter().flatten().all(|d| *d <= ctx.now + FUTURE_TOLERANCE)
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
