//! Per-item cost of the ingest stages and of rendering a channel, without I/O.
//!
//! `cargo bench --bench pipeline` measures, on synthetic newsroom documents shaped like those of
//! `../shared/bench/gen_feeds.py` (8-word titles, 80-word HTML bodies, an author, a category, a GUID):
//! - `parse/{rss,atom,json}`: `parse::parse_feed` of a 20-item document;
//! - `normalize/{rss,atom,json}`: `normalize::normalize_feed` of the parsed document;
//! - `keys/entry_key`, `keys/story_url`, `keys/fingerprint`: the identity and dedup keys of an item;
//! - `render/{rss,atom,json}`: a merged channel of 100 entries (10 sources × 10 items, every fifth
//!   item with an "also reported by" outlet), built as `http::feeds` builds it.
//!
//! Every group reports per item (`Throughput::Elements`): criterion's `thrpt` line is items/s.
//! Quick run: `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`.

use chrono::{DateTime, Duration, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use newsriver::domain::{Entry, EntryKey, SourceId};
use newsriver::normalize::{self, FeedContext};
use newsriver::parse::parse_feed;
use newsriver::render::{self, Channel, Format, Related, SourceInfo};
use std::collections::HashMap;
use std::fmt::Write as _;
use url::Url;

const WORDS: &[&str] = &[
    "government",
    "minister",
    "council",
    "budget",
    "election",
    "court",
    "police",
    "storm",
    "market",
    "shares",
    "energy",
    "climate",
    "health",
    "hospital",
    "school",
    "university",
    "city",
    "region",
    "county",
    "river",
    "bridge",
    "railway",
    "airport",
    "port",
    "team",
    "match",
    "final",
    "league",
    "coach",
    "player",
    "season",
    "company",
    "startup",
    "investors",
    "profits",
    "workers",
    "strike",
    "union",
    "protest",
    "report",
    "study",
    "scientists",
    "researchers",
    "space",
    "mission",
    "launch",
    "satellite",
    "museum",
    "festival",
    "film",
    "music",
    "album",
    "artist",
    "award",
    "ceremony",
    "summit",
    "talks",
    "treaty",
    "border",
    "security",
    "army",
    "ceasefire",
    "refugees",
    "aid",
    "drought",
    "flood",
    "wildfire",
    "earthquake",
    "vaccine",
    "virus",
    "data",
    "privacy",
    "software",
    "chip",
    "phone",
    "network",
    "outage",
    "price",
    "inflation",
    "rates",
    "bank",
    "loan",
    "housing",
    "rent",
    "farmers",
    "harvest",
    "exports",
    "imports",
    "tariff",
    "deal",
    "merger",
    "lawsuit",
    "judge",
    "verdict",
    "appeal",
    "senate",
    "parliament",
    "mayor",
    "governor",
    "president",
    "opposition",
    "poll",
];
const TOPICS: &[&str] = &["politics", "business", "technology", "sports", "world", "science", "health", "culture"];
const ITEMS: usize = 20;

/// A deterministic pseudo-random stream (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn words(&mut self, n: usize) -> Vec<&'static str> {
        (0..n).map(|_| WORDS[(self.next() % WORDS.len() as u64) as usize]).collect()
    }
}

/// One synthetic item, as `gen_feeds.py` makes them.
struct Item {
    title: String,
    link: String,
    guid: String,
    published: DateTime<Utc>,
    author: String,
    category: &'static str,
    body_html: String,
}

fn items(feed: u64, n: usize, start: DateTime<Utc>) -> Vec<Item> {
    let mut rng = Rng(feed);
    (0..n)
        .rev() // newest first
        .map(|i| {
            let title_words = rng.words(8);
            let mut title = title_words.join(" ");
            title[..1].make_ascii_uppercase();
            let slug = title_words[..5].join("-");
            let mut body = rng.words(80).join(" ");
            body[..1].make_ascii_uppercase();
            Item {
                title,
                link: format!("https://www.outlet{feed}.example/news/0/{slug}-{}", rng.next() % 100_000_000),
                guid: format!("urn:feed{feed}:item{i}:{}", rng.next() % 10_000_000_000),
                published: start + Duration::minutes(30 * i as i64),
                author: format!("Desk {}", rng.next() % 40),
                category: TOPICS[(rng.next() % TOPICS.len() as u64) as usize],
                body_html: format!("<p>{body}.</p>"),
            }
        })
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn rss(feed: u64, items: &[Item]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n\
         <title>Outlet {feed} News</title>\n<link>https://www.outlet{feed}.example/</link>\n\
         <atom:link href=\"http://127.0.0.1:18080/feed-{feed:06}.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n\
         <description>Synthetic newsroom feed {feed}</description>\n<language>en</language>\n"
    );
    for it in items {
        let _ = write!(
            out,
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n\
             <dc:creator>{}</dc:creator>\n<category>{}</category>\n<description>{}</description>\n</item>\n",
            esc(&it.title),
            esc(&it.link),
            esc(&it.guid),
            it.published.to_rfc2822(),
            esc(&it.author),
            it.category,
            esc(&it.body_html)
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn atom(feed: u64, items: &[Item]) -> String {
    let updated = items.first().map_or_else(Utc::now, |i| i.published).to_rfc3339();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>Outlet {feed} News</title>\n<id>urn:outlet{feed}:feed</id>\n<updated>{updated}</updated>\n\
         <link rel=\"alternate\" href=\"https://www.outlet{feed}.example/\"/>\n\
         <link rel=\"self\" href=\"http://127.0.0.1:18080/feed-{feed:06}.atom\"/>\n"
    );
    for it in items {
        let date = it.published.to_rfc3339();
        let _ = write!(
            out,
            "<entry>\n<title>{}</title>\n<link rel=\"alternate\" href=\"{}\"/>\n<id>{}</id>\n\
             <published>{date}</published>\n<updated>{date}</updated>\n<author><name>{}</name></author>\n\
             <category term=\"{}\"/>\n<summary type=\"html\">{}</summary>\n</entry>\n",
            esc(&it.title),
            esc(&it.link),
            esc(&it.guid),
            esc(&it.author),
            it.category,
            esc(&it.body_html)
        );
    }
    out.push_str("</feed>\n");
    out
}

fn json(feed: u64, items: &[Item]) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|it| {
            serde_json::json!({
                "id": it.guid,
                "url": it.link,
                "title": it.title,
                "content_html": it.body_html,
                "date_published": it.published.to_rfc3339(),
                "authors": [{"name": it.author}],
                "tags": [it.category],
            })
        })
        .collect();
    let doc = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": format!("Outlet {feed} News"),
        "home_page_url": format!("https://www.outlet{feed}.example/"),
        "feed_url": format!("http://127.0.0.1:18080/feed-{feed:06}.json"),
        "items": items,
    });
    serde_json::to_string_pretty(&doc).expect("json")
}

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
    for format in [Format::Rss, Format::Atom, Format::Json] {
        let ext = format.extension();
        let self_url = format!("http://127.0.0.1:8080/feeds/all.{ext}?limit=100");
        let next_url = format!("http://127.0.0.1:8080/feeds/all.{ext}?limit=100&before=p0123456789abcdef");
        let channel = Channel {
            title: "All newsroom sources",
            description: "Every newsroom source, merged, newest first",
            self_url: &self_url,
            home_url: "http://127.0.0.1:8080/",
            sources: &sources,
            now: now(),
            first_url: Some(&self_url),
            next_url: Some(&next_url),
            related: &related,
        };
        let bytes = render::render(format, &channel, &entries).len();
        eprintln!("render/{ext}: 100 entries -> {bytes} bytes");
        group.bench_function(ext, |b| b.iter(|| render::render(format, black_box(&channel), black_box(&entries))));
    }
    group.finish();
}

criterion_group!(benches, ingest, rendering);
criterion_main!(benches);
