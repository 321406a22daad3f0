//! The CPU half of a poll, before the commit lock: parse, normalize what changed since the last
//! poll, look up and plan, route, and compute story features.

use super::{items, DocumentNotes, Planned, PollError};
use crate::config::PageSelectors;
use crate::dedup;
use crate::domain::{Change, Entry, EntryKey, SeenItem, SourceId};
use crate::normalize::{self, FeedContext, Item};
use crate::parse::page::parse_page;
use crate::parse::sitemap::{to_feed, SitemapUrl};
use crate::store::Store;
use crate::stories::{self, SharedKeys, Skip, StorySettings};
use crate::topics::TopicRouter;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// One fetched document and what planning it needs to know.
#[derive(Debug)]
pub(super) struct Document {
    pub content: Content,
    pub url: Option<url::Url>,
    pub source: SourceId,
    pub now: DateTime<Utc>,
    pub max_items: usize,
    /// The items of the source's last parsed document.
    pub seen: Vec<SeenItem>,
}

/// A fetched document as planning takes it.
#[derive(Debug)]
pub(super) enum Content {
    /// A feed's bytes and the charset its HTTP answer named.
    Feed { body: Vec<u8>, charset: Option<&'static encoding_rs::Encoding> },
    /// A sitemap's URLs (its children's included), read already, and what reading noticed.
    Sitemap { urls: Vec<SitemapUrl>, notes: DocumentNotes },
    /// A listing page's bytes, the charset its HTTP answer named, and the source's selectors.
    Page { body: Vec<u8>, charset: Option<&'static encoding_rs::Encoding>, selectors: PageSelectors },
}

impl Content {
    /// The document's items, recognised from `memo` or normalized, what reading it noticed, and
    /// whether it is a sitemap. Items past `max_items` are dropped later; a page is read only
    /// that far.
    fn read_items<'m>(
        self,
        ctx: &FeedContext<'_>,
        salt: impl std::hash::Hash + Copy,
        memo: &items::Memo<'m>,
        max_items: usize,
    ) -> Result<(items::Read<'m>, DocumentNotes, bool), PollError> {
        Ok(match self {
            Self::Feed { body, charset } => {
                let doc = crate::parse::prepare(&body, charset)?;
                let notes = DocumentNotes { replaced_bytes: doc.replaced_bytes, ..Default::default() };
                (items::read(&doc, ctx, salt, memo)?, notes, false)
            }
            Self::Sitemap { urls, notes } => (items::of_feed(to_feed(&urls), ctx, salt, memo), notes, true),
            Self::Page { body, charset, selectors } => {
                let page = parse_page(&body, charset, ctx.fetch_url, &selectors, max_items)?;
                let notes = DocumentNotes { dropped_items: page.dropped, ..Default::default() };
                (items::of_feed(page.feed, ctx, salt, memo), notes, false)
            }
        })
    }
}

/// What planning reads and routes with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Planner<'a> {
    pub store: &'a Store,
    pub router: &'a TopicRouter,
    pub stories: &'a StorySettings,
}

/// A fresh item with what the next poll may recognise it by, and its body words.
struct Fresh {
    mark: items::Mark,
    entry: Entry,
    words: Vec<String>,
}

impl Planner<'_> {
    pub fn plan(&self, doc: Document) -> Result<Planned, PollError> {
        let ctx = FeedContext { source: &doc.source, fetch_url: doc.url.as_ref(), now: doc.now };
        let salt = (self.stories.enabled, self.stories.min_words);
        let memo: items::Memo<'_> = doc.seen.iter().map(|s| (s.digest, s)).collect();
        let (read, mut notes, sitemap) = doc.content.read_items(&ctx, salt, &memo, doc.max_items)?;
        let items::Read { feed, mut items, marks, .. } = read;
        notes.dropped_items += items.len().saturating_sub(doc.max_items);
        items.truncate(doc.max_items);
        notes.ttl = feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60));
        if sitemap {
            // A sitemap says an article changed only by its `lastmod`: that makes it an edit. (A
            // sitemap is read whole, so positions are indices into its entries.)
            for (i, item) in &mut items {
                if let (Item::Fresh(entry, _), Some(raw)) = (item, feed.entries.get(*i)) {
                    normalize::date_only_edits(entry, raw);
                    normalize::sitemap_metadata(entry, raw, doc.now);
                }
            }
        }
        let (known, fresh) = self.split(items, &marks)?;
        self.plan_items(known, fresh, notes, doc.now)
    }

    /// Separates unchanged items from fresh ones; a fresh item seen before under another
    /// identity takes its stored key.
    fn split(
        &self,
        items: Vec<(usize, Item<&SeenItem>)>,
        marks: &[items::Mark],
    ) -> Result<(Vec<SeenItem>, Vec<Fresh>), PollError> {
        let (mut known, mut fresh) = (Vec::new(), Vec::new());
        let fresh_keys = items.iter().filter_map(|(_, item)| match item {
            Item::Fresh(entry, _) => Some(&entry.key),
            Item::Known(_) => None,
        });
        let aliases = self.store.aliases(fresh_keys)?;
        for (i, item) in items {
            match item {
                Item::Known(s) => known.push(s.clone()),
                Item::Fresh(mut entry, body_words) => {
                    entry.key = dedup::canonical(entry.key, |k| Ok::<_, PollError>(aliases.get(k).copied()))?;
                    let words = if self.stories.enabled { body_words } else { Vec::new() };
                    let mark = marks.get(i).copied().unwrap_or_default();
                    fresh.push(Fresh { mark, entry, words });
                }
            }
        }
        // One entry per key, as `dedup::plan` keeps: a fresh item carries any edit.
        let fresh_keys: HashSet<EntryKey> = fresh.iter().map(|f| f.entry.key).collect();
        let mut kept = HashSet::new();
        known.retain(|s| !fresh_keys.contains(&s.key) && kept.insert(s.key));
        Ok((known, fresh))
    }

    fn plan_items(
        &self,
        known: Vec<SeenItem>,
        fresh: Vec<Fresh>,
        doc: DocumentNotes,
        now: DateTime<Utc>,
    ) -> Result<Planned, PollError> {
        let s = self.stories;
        let incoming = known.iter().map(|k| k.key).chain(fresh.iter().map(|f| f.entry.key)).collect();
        let fresh_keys: Vec<SharedKeys> = fresh
            .iter()
            .map(|f| if s.enabled { SharedKeys::of(&f.entry, &f.words, s) } else { Default::default() })
            .collect();
        let skip = if s.enabled {
            Skip::of(known.iter().map(shared_keys).chain(fresh_keys.iter().copied()))
        } else {
            Skip::default()
        };
        let mut seen = known.clone();
        seen.extend(fresh.iter().zip(&fresh_keys).filter_map(|(f, k)| seen_item(f, k)));
        let existing = self.store.entries_by_key(fresh.iter().map(|f| &f.entry.key))?;
        let mut words: HashMap<EntryKey, Vec<String>> = HashMap::new();
        let entries = fresh.into_iter().map(|f| {
            // Two items under one key: `dedup::plan` keeps the first, so its words are the ones.
            words.entry(f.entry.key).or_insert(f.words);
            f.entry
        });
        let mut plan = dedup::plan(entries.collect(), &existing, now);
        plan.unchanged += known.len();
        for c in &mut plan.changes {
            self.router.place(c.entry_mut());
        }
        // Only new and edited items are matched: unchanged ones need no features.
        let features = if s.enabled {
            let of = |e: &Entry| {
                (
                    e.key,
                    words.get(&e.key).map_or_else(|| stories::features(e, s), |w| stories::features_of_words(e, w, s)),
                )
            };
            plan.changes.iter().map(Change::entry).map(of).collect()
        } else {
            Default::default()
        };
        Ok(Planned { plan, incoming, skip, doc, features, seen: Some(seen) })
    }
}

fn shared_keys(s: &SeenItem) -> SharedKeys {
    SharedKeys { url: s.url, text: s.text.map(u128::to_be_bytes) }
}

fn seen_item(f: &Fresh, k: &SharedKeys) -> Option<SeenItem> {
    let text = k.text.map(u128::from_be_bytes);
    f.mark.digest.map(|digest| SeenItem { digest, key: f.entry.key, url: k.url, text, guid: f.mark.guid })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(guid: &str, title: &str, date: &str) -> String {
        let date = if date.is_empty() { String::new() } else { format!("<pubDate>{date}</pubDate>") };
        format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://n.example/{guid}</link>\
             <description>Body of {title}, long enough to be a story of its own.</description>{date}</item>"
        )
    }

    fn rss(items: &[String]) -> Vec<u8> {
        format!(
            "<rss version=\"2.0\"><channel><title>T</title><link>https://n.example/</link>{}</channel></rss>",
            items.concat()
        )
        .into_bytes()
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        router: TopicRouter,
        stories: StorySettings,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("store"), 1 << 20).expect("store");
            Self { _dir: dir, store, router: TopicRouter::new(&[]).expect("router"), stories: StorySettings::default() }
        }

        fn plan(&self, body: Vec<u8>, seen: Vec<SeenItem>) -> Planned {
            let doc = Document {
                content: Content::Feed { body, charset: None },
                url: url::Url::parse("https://n.example/feed").ok(),
                source: SourceId::parse("src").expect("id"),
                now: "2026-11-28T12:00:00Z".parse().expect("now"),
                max_items: 100,
                seen,
            };
            Planner { store: &self.store, router: &self.router, stories: &self.stories }.plan(doc).expect("plan")
        }
    }

    const DAY1: &str = "Fri, 27 Nov 2026 10:00:00 +0000";

    #[test]
    fn unchanged_items_are_recognised_and_edits_are_not() {
        let f = Fixture::new();
        let first = f.plan(rss(&[item("a", "A", DAY1), item("b", "B", DAY1)]), Vec::new());
        let seen = first.seen.clone().expect("seen");
        assert_eq!(seen.len(), 2);
        let again = f.plan(rss(&[item("a", "A", DAY1), item("b", "B edited", DAY1), item("c", "C", DAY1)]), seen);
        // `a` comes from memory; `b` and `c` are normalized, so they are the plan's changes
        // (nothing was committed: both are new to the store).
        let titles: Vec<&str> = again.plan.changes.iter().map(|c| c.entry().title.as_str()).collect();
        assert_eq!(titles, ["B edited", "C"]);
        assert_eq!(again.plan.unchanged, 1);
        assert_eq!(
            again.incoming,
            first.incoming.iter().copied().chain(again.plan.changes.iter().map(|c| c.entry().key)).collect()
        );
        assert_eq!(again.seen.expect("seen").len(), 3);
    }

    #[test]
    fn items_with_repaired_dates_or_shared_guids_are_always_normalized() {
        let f = Fixture::new();
        let items = [
            item("a", "Undated", ""),
            item("b", "Future", "Sat, 05 Dec 2026 10:00:00 +0000"),
            item("d", "One", DAY1),
            item("d", "Two", DAY1),
        ];
        let first = f.plan(rss(&items), Vec::new());
        assert_eq!(first.seen.clone().expect("seen"), Vec::new());
        let again = f.plan(rss(&items), first.seen.expect("seen"));
        assert_eq!(again.plan.changes.len(), 4);
    }

    #[test]
    fn shared_keys_count_remembered_items_too() {
        let f = Fixture::new();
        let teaser = |g: &str| {
            format!("<item><guid>{g}</guid><title>{g}</title><link>https://n.example/home</link><pubDate>{DAY1}</pubDate></item>")
        };
        let first = f.plan(rss(&[teaser("a"), teaser("b"), teaser("c")]), Vec::new());
        let home = url::Url::parse("https://n.example/home").ok();
        let home = home.as_ref().and_then(crate::normalize::links::story_url).expect("story url");
        assert!(first.skip.url(&home));
        let again = f.plan(rss(&[teaser("a"), teaser("b"), teaser("c")]), first.seen.expect("seen"));
        assert!(again.plan.changes.is_empty(), "all three came from memory");
        assert!(again.skip.url(&home), "the shared landing page is still skipped");
    }
}
