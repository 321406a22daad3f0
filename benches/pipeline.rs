//! Per-item cost of the ingest stages and of rendering a channel, without I/O.
//!
//! `cargo bench --bench pipeline` measures, on synthetic newsroom documents shaped like those of
//! `../shared/bench/gen_feeds.py` (8-word titles, 80-word HTML bodies, an author, a category, a GUID):
//! - `parse/{rss,atom,json}`: `parse::parse_feed` of a 20-item document;
//! - `normalize/{rss,atom,json}`: `normalize::normalize_feed` of the parsed document;
//! - `keys/entry_key`, `keys/story_url`, `keys/fingerprint`: the identity and dedup keys of an item;
//! - `poll_read/{rss,atom,json}/{by_bytes,parsed}`: a steady poll's reading of a 20-item document
//!   of which 5 items are new (W2's shape), with the memory of the poll before: the items it
//!   knows by their bytes left out of the parse (`pipeline::items::read`), against every item
//!   parsed and known by its parsed form (`items::of_feed`, as polls read before 2026-12-03);
//! - `render/{rss,atom,json}`: a merged channel of 100 entries (10 sources × 10 items, every fifth
//!   item with an "also reported by" outlet), built as `http::feeds` builds it.
//!
//! Every group reports per item (`Throughput::Elements`): criterion's `thrpt` line is items/s.
//! Quick run: `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`.

use chrono::{DateTime, Duration, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use newsriver::domain::SeenItem;
use newsriver::domain::{Entry, EntryKey, SourceId};
use newsriver::normalize::{self, FeedContext, Item};
use newsriver::parse::{parse_feed, prepare};
use newsriver::pipeline::items::{self as poll_items, Memo, Read};
use newsriver::render::{self, Channel, Format, Related, SourceInfo};
use std::collections::HashMap;
use url::Url;

#[path = "common/mod.rs"]
mod common;
#[path = "pipeline/docs.rs"]
mod docs;

use docs::{atom, items, json, rss};

const ITEMS: usize = 20;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").expect("date").with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").expect("date").with_timezone(&Utc)
}

fn source(feed: u64) -> SourceId {
    SourceId::parse(&format!("f{feed:06}")).expect("slug")
}

fn fetch_url(feed: u64, ext: &str) -> Url {
    Url::parse(&format!("http://127.0.0.1:18080/feed-{feed:06}.{ext}")).expect("url")
}

fn ingest(c: &mut Criterion) {
    let its = items(1, ITEMS, start());
    let docs = [("rss", rss(1, &its), "xml"), ("atom", atom(1, &its), "atom"), ("json", json(1, &its), "json")];
    let src = source(1);

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, doc, _) in &docs {
        let n = parse_feed(doc.as_bytes()).expect("parses").entries.len();
        assert_eq!(n, ITEMS, "{name}: every item parsed");
        group.bench_function(*name, |b| b.iter(|| parse_feed(black_box(doc.as_bytes())).expect("parses")));
    }
    group.finish();

    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(ITEMS as u64));
    for (name, doc, ext) in &docs {
        let feed = parse_feed(doc.as_bytes()).expect("parses");
        let url = fetch_url(1, ext);
        let ctx = FeedContext { source: &src, fetch_url: Some(&url), now: now() };
        assert_eq!(normalize::normalize_feed(&feed, &ctx).len(), ITEMS, "{name}: every item normalized");
        group.bench_function(*name, |b| b.iter(|| normalize::normalize_feed(black_box(&feed), &ctx)));
    }
    group.finish();

    // Identity and dedup keys, over the 20 items of the RSS document.
    let feed = parse_feed(docs[0].1.as_bytes()).expect("parses");
    let url = fetch_url(1, "xml");
    let entries = normalize::normalize_feed(&feed, &FeedContext { source: &src, fetch_url: Some(&url), now: now() });
    // Links as a republisher sends them: tracking parameters, another scheme, a fragment.
    let links: Vec<Url> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let link = e.link.as_deref().expect("link").replacen("https://www.", "http://WWW.", 1);
            Url::parse(&format!("{link}?utm_source=outlet{i}&utm_medium=rss&fbclid=IwAR{i}#top")).expect("url")
        })
        .collect();
    let guids: Vec<&str> = its.iter().map(|i| i.guid.as_str()).collect();
    let mut group = c.benchmark_group("keys");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.bench_function("entry_key", |b| {
        b.iter(|| guids.iter().map(|g| EntryKey::derive(&src, "guid", black_box(g))).collect::<Vec<_>>())
    });
    group.bench_function("story_url", |b| {
        b.iter(|| links.iter().map(|u| normalize::links::story_url(black_box(u))).collect::<Vec<_>>())
    });
    // What a poll computes for every item to recognise the unchanged ones without normalizing.
    let ctx = FeedContext { source: &src, fetch_url: Some(&url), now: now() };
    assert!(normalize::item_digests(&feed, &ctx, (true, 40usize)).iter().all(Option::is_some), "every item digested");
    group
        .bench_function("item_digest", |b| b.iter(|| normalize::item_digests(black_box(&feed), &ctx, (true, 40usize))));
    group.bench_function("fingerprint", |b| {
        b.iter(|| entries.iter().map(|e| normalize::fingerprint(black_box(e))).collect::<Vec<_>>())
    });
    group.finish();
}

/// What a poll remembers of a reading: each normalized item's digest, key and GUID hash.
fn remembered(read: &Read<'_>) -> Vec<SeenItem> {
    (read.items.iter())
        .filter_map(|(i, item)| {
            let Item::Fresh(e, _) = item else { return None };
            let mark = read.marks[*i];
            mark.digest.map(|digest| SeenItem { digest, key: e.key, url: None, text: None, guid: mark.guid })
        })
        .collect()
}

fn fresh(read: &Read<'_>) -> usize {
    read.items.iter().filter(|(_, i)| matches!(i, Item::Fresh(..))).count()
}

/// A document writer of `docs`.
type Writer = fn(u64, &[docs::Item]) -> String;

fn poll_read(c: &mut Criterion) {
    const SALT: (bool, usize) = (true, 40);
    let all = items(1, ITEMS + 5, start());
    let src = source(1);
    let mut group = c.benchmark_group("poll_read");
    group.throughput(Throughput::Elements(ITEMS as u64));
    let kinds: [(&str, Writer, &str); 3] = [("rss", rss, "xml"), ("atom", atom, "atom"), ("json", json, "json")];
    for (name, make, ext) in kinds {
        let (before, after) = (make(1, &all[5..]), make(1, &all[..ITEMS]));
        let url = fetch_url(1, ext);
        let ctx = FeedContext { source: &src, fetch_url: Some(&url), now: now() };
        let (doc, empty) = (prepare(before.as_bytes(), None).expect("prepares"), Memo::default());
        let by_bytes = remembered(&poll_items::read(&doc, &ctx, SALT, &empty).expect("reads"));
        let parsed = remembered(&poll_items::of_feed(doc.parse().expect("parses"), &ctx, SALT, &empty));
        let (bytes_memo, parsed_memo): (Memo<'_>, Memo<'_>) =
            (by_bytes.iter().map(|s| (s.digest, s)).collect(), parsed.iter().map(|s| (s.digest, s)).collect());
        let read_fast = || {
            let doc = prepare(black_box(after.as_bytes()), None).expect("prepares");
            let read = poll_items::read(&doc, &ctx, SALT, &bytes_memo).expect("reads");
            (read.by_bytes, fresh(&read))
        };
        let read_parsed = || {
            let feed = prepare(black_box(after.as_bytes()), None).and_then(|d| d.parse()).expect("parses");
            fresh(&poll_items::of_feed(feed, &ctx, SALT, &parsed_memo))
        };
        assert_eq!((read_fast(), read_parsed()), ((true, 5), 5), "{name}: only the 5 new items are normalized");
        group.bench_function(format!("{name}/by_bytes"), |b| b.iter(read_fast));
        group.bench_function(format!("{name}/parsed"), |b| b.iter(read_parsed));
    }
    group.finish();
}

/// Entries, the source table and the "also reported by" map of one channel page.
type ChannelData = (Vec<Entry>, HashMap<SourceId, SourceInfo>, HashMap<EntryKey, Vec<Related>>);

/// 100 entries of a merged channel, newest first, from 10 sources × 10 items, with the source
/// table and "also reported by" map `http::feeds` passes to the renderers.
fn channel_entries() -> ChannelData {
    let mut entries = Vec::new();
    let mut sources = HashMap::new();
    for feed in 1..=10u64 {
        let its = items(feed, 10, start() + Duration::minutes(feed as i64 * 3));
        let feed_doc = parse_feed(rss(feed, &its).as_bytes()).expect("parses");
        let src = source(feed);
        let url = fetch_url(feed, "xml");
        let mut got =
            normalize::normalize_feed(&feed_doc, &FeedContext { source: &src, fetch_url: Some(&url), now: now() });
        for e in &mut got {
            e.story = Some(e.key);
        }
        entries.extend(got);
        sources.insert(
            src.clone(),
            SourceInfo {
                title: format!("Outlet {feed} News"),
                feed_url: Some(url.to_string()),
                channel_url: format!("http://127.0.0.1:8080/sources/{src}.rss"),
            },
        );
    }
    entries.sort_by(|a, b| b.published.cmp(&a.published).then(b.key.cmp(&a.key)));
    let mut related = HashMap::new();
    for (i, e) in entries.iter().enumerate().filter(|(i, _)| i % 5 == 0) {
        let other = source((i as u64 % 10) + 11);
        related.insert(
            e.key,
            vec![Related {
                source: other.clone(),
                outlet: format!("Outlet {} News", i % 10 + 11),
                title: format!("{} - Outlet {}", e.title, i % 10 + 11),
                link: format!("https://www.outlet{}.example/wire/{i}", i % 10 + 11),
                published: e.published,
            }],
        );
    }
    (entries, sources, related)
}

fn rendering(c: &mut Criterion) {
    let (entries, sources, related) = channel_entries();
    assert_eq!(entries.len(), 100);
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(entries.len() as u64));
    for format in [Format::Rss, Format::Atom, Format::Json, Format::Ninjs] {
        let ext = format.extension();
        let self_url = format!("http://127.0.0.1:8080/feeds/all.{ext}?limit=100");
        let next_url = format!("http://127.0.0.1:8080/feeds/all.{ext}?limit=100&before=p0123456789abcdef");
        let channel = Channel {
            title: "All newsroom sources",
            description: "Every newsroom source, merged, newest first",
            self_url: &self_url,
            hub_url: Some("http://127.0.0.1:8080/websub"),
            home_url: "http://127.0.0.1:8080/",
            sources: &sources,
            topics: &HashMap::new(),
            empty_updated: now(),
            first_url: Some(&self_url),
            next_url: Some(&next_url),
            related: &related,
            coverage: &HashMap::new(),
        };
        let bytes = render::render(format, &channel, &entries).len();
        eprintln!("render/{ext}: 100 entries -> {bytes} bytes");
        group.bench_function(ext, |b| b.iter(|| render::render(format, black_box(&channel), black_box(&entries))));
    }
    group.finish();
}

criterion_group!(benches, ingest, poll_read, rendering);
criterion_main!(benches);
