//! A document's items with the last poll's memory: an item whose bytes (or, where its bytes
//! cannot be told apart, its parsed form) came back unchanged is recognised, not parsed or
//! normalized again; only the others are.

use crate::domain::SeenItem;
use crate::normalize::{self, byte_digests, digest_seed, guid_hash, may_remember, FeedContext, Item};
use crate::parse::skim::Skim;
use crate::parse::{ParseError, Prepared};
use feed_rs::model::Feed;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// The last poll's items by digest.
pub type Memo<'m> = HashMap<u64, &'m SeenItem>;

/// What a document's items came to.
#[derive(Debug)]
pub struct Read<'m> {
    /// The document as parsed: whole, or, when items were recognised by their bytes, without them.
    pub feed: Feed,
    /// Each item with its position in the document: recognised, or normalized.
    pub items: Vec<(usize, Item<&'m SeenItem>)>,
    /// By position: what the next poll may recognise each item by.
    pub marks: Vec<Mark>,
    /// Whether items were recognised by their bytes and left unparsed.
    pub by_bytes: bool,
}

/// What a poll remembers of an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    /// `None` when the item must be normalized again each time (`normalize::may_remember`).
    pub digest: Option<u64>,
    pub guid: u64,
}

/// Reads a feed document's items. An XML feed of a known layout whose items the memo knows by
/// their bytes is parsed without them; whatever makes that unsure reads the whole document.
pub fn read<'m>(
    doc: &Prepared<'_>,
    ctx: &FeedContext<'_>,
    salt: impl Hash + Copy,
    memo: &Memo<'m>,
) -> Result<Read<'m>, ParseError> {
    let skim = doc.skim();
    if let Some(read) = skim.as_ref().filter(|_| !memo.is_empty()).and_then(|s| by_bytes(doc, s, ctx, salt, memo)) {
        return Ok(read);
    }
    whole(doc, skim.as_ref(), ctx, salt, memo)
}

/// The reference reading: every item parsed; those the memo knows are not normalized again. Where
/// the skim's items are the parsed ones, digests are of bytes, so that the next poll may skip them.
pub fn whole<'m>(
    doc: &Prepared<'_>,
    skim: Option<&Skim>,
    ctx: &FeedContext<'_>,
    salt: impl Hash,
    memo: &Memo<'m>,
) -> Result<Read<'m>, ParseError> {
    let feed = doc.parse()?;
    let Some(skim) = skim.filter(|s| s.items.len() == feed.entries.len()) else {
        return Ok(of_feed(feed, ctx, salt, memo));
    };
    let digests = byte_digests(digest_seed(&feed, ctx, salt), context(doc, skim), spans(doc, skim));
    let shared = normalize::shared_guids(&feed);
    let marks: Vec<Mark> = (feed.entries.iter().zip(digests))
        .map(|(e, d)| Mark {
            digest: may_remember(e, ctx, shared.contains(e.id.trim())).then_some(d),
            guid: guid_hash(e),
        })
        .collect();
    Ok(recall(feed, marks, ctx, memo))
}

/// Items of a document read already (a sitemap, a listing page, or a feed without a skim), known
/// by their parsed form.
pub fn of_feed<'m>(feed: Feed, ctx: &FeedContext<'_>, salt: impl Hash, memo: &Memo<'m>) -> Read<'m> {
    let digests = normalize::item_digests(&feed, ctx, salt);
    let marks = digests.iter().zip(&feed.entries).map(|(d, e)| Mark { digest: *d, guid: guid_hash(e) }).collect();
    recall(feed, marks, ctx, memo)
}

/// A whole document's items: those the memo knows by their marks recognised, the rest normalized.
fn recall<'m>(feed: Feed, marks: Vec<Mark>, ctx: &FeedContext<'_>, memo: &Memo<'m>) -> Read<'m> {
    let items = normalize::normalize_items(&feed, ctx, |i| marks[i].digest.and_then(|d| memo.get(&d).copied()));
    Read { feed, items, marks, by_bytes: false }
}

/// Items recognised by their bytes, the others parsed without them; `None` when that would not
/// read what the whole document reads: the header or the parse of the rest holds other items than
/// the skim found, or a GUID is shared (identities then depend on order).
fn by_bytes<'m>(
    doc: &Prepared<'_>,
    skim: &Skim,
    ctx: &FeedContext<'_>,
    salt: impl Hash,
    memo: &Memo<'m>,
) -> Option<Read<'m>> {
    // The header alone gives the base URL every digest depends on.
    let header = doc.parse_without(skim, |_| true).ok().filter(|h| h.entries.is_empty())?;
    let digests = byte_digests(digest_seed(&header, ctx, salt), context(doc, skim), spans(doc, skim));
    let known: Vec<Option<&'m SeenItem>> = digests.iter().map(|d| memo.get(d).copied()).collect();
    let misses: Vec<usize> = (0..known.len()).filter(|&i| known[i].is_none()).collect();
    let feed = if misses.is_empty() { header } else { doc.parse_without(skim, |i| known[i].is_some()).ok()? };
    if feed.entries.len() != misses.len() {
        return None;
    }
    let fresh_guids: Vec<u64> = feed.entries.iter().map(guid_hash).collect();
    let mut guids = HashSet::new();
    if !known.iter().flatten().map(|s| s.guid).chain(fresh_guids.iter().copied()).all(|g| guids.insert(g)) {
        return None;
    }
    let mut marks: Vec<Mark> =
        (known.iter().zip(&digests)).map(|(k, d)| Mark { digest: Some(*d), guid: k.map_or(0, |s| s.guid) }).collect();
    for ((&i, e), guid) in misses.iter().zip(&feed.entries).zip(fresh_guids) {
        marks[i] = Mark { digest: may_remember(e, ctx, false).then_some(digests[i]), guid };
    }
    let mut items: Vec<(usize, Item<&'m SeenItem>)> =
        known.iter().enumerate().filter_map(|(i, k)| k.map(|s| (i, Item::Known(s)))).collect();
    let fresh = normalize::normalize_items(&feed, ctx, |_| None::<&'m SeenItem>);
    items.extend(fresh.into_iter().map(|(j, item)| (misses[j], item)));
    items.sort_by_key(|(i, _)| *i);
    Some(Read { feed, items, marks, by_bytes: true })
}

fn context<'d>(doc: &'d Prepared<'_>, skim: &'d Skim) -> impl Iterator<Item = &'d [u8]> {
    skim.context.iter().map(|r| doc.bytes().get(r.clone()).unwrap_or_default())
}

fn spans<'d>(doc: &'d Prepared<'_>, skim: &'d Skim) -> impl Iterator<Item = &'d [u8]> {
    skim.items.iter().map(|r| doc.bytes().get(r.clone()).unwrap_or_default())
}

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
