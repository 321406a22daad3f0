//! Cost of story matching per incoming item against stores of 10k and 1M entries.
//!
//! `cargo bench --bench dedup` builds each store once under `target/bench-stores/` (1M entries
//! take a few minutes; later runs reuse it), then measures, per item: computing its features
//! (text fingerprint, MinHash bands) and looking up URL, text and near-duplicate candidates —
//! for an item that duplicates a stored one and for a new one.
//! Set `NEWSRIVER_BENCH_SIZES=10000` to skip the large store.

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use newsriver::domain::{Change, Entry, EntryKey, IndexWrite, SourceId, SourceState};
use newsriver::store::{Prepared, Store};
use newsriver::stories::{self, SharedNear, StorySettings};
use std::path::PathBuf;
use synthetic::Synthetic;

#[path = "common/mod.rs"]
mod common;
#[path = "common/entry.rs"]
mod synthetic;

use common::Rng;

/// Vocabulary size of the synthetic texts: large enough that unrelated items share few
/// word triples, as real news copy does.
const VOCABULARY: u64 = 5_000;

/// Synthetic copy: `words` words of a `VOCABULARY`-word language.
fn text(rng: &mut Rng, words: usize) -> String {
    (0..words).map(|_| format!("w{}", rng.next() % VOCABULARY)).collect::<Vec<_>>().join(" ")
}

fn entry(i: u64, rng: &mut Rng, now: DateTime<Utc>) -> Entry {
    let source = SourceId::parse(&format!("s{}", i % 500)).expect("slug");
    let link = format!("https://outlet{}.example/news/{i}", i % 500);
    // Drawn in the order the stores built before were (body, digests, title).
    let body = text(rng, 80);
    let fingerprint = format!("{:016x}{:016x}", rng.next(), rng.next());
    let title = text(rng, 8);
    let published = now - Duration::minutes((i % (60 * 24 * 365)) as i64);
    let story_url = url::Url::parse(&link).ok().and_then(|u| newsriver::normalize::links::story_url(&u));
    let e = synthetic::entry(Synthetic { source, guid: i.to_string(), title, link, body, published, fingerprint });
    Entry { story_url, ..e }
}

/// Opens (building on first use) a store of `n` entries with their story indexes.
fn store_of(n: u64, now: DateTime<Utc>) -> Store {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-stores/{n}"));
    let done = dir.join("complete");
    let store = Store::open(&dir.join("db"), 256 << 20).expect("open bench store");
    if done.exists() {
        return store;
    }
    let settings = StorySettings::default();
    let window = Duration::from_std(settings.window).expect("window");
    let mut rng = Rng(n);
    let batch = 5_000;
    for start in (0..n).step_by(batch) {
        let mut index = Vec::new();
        let items: Vec<Entry> = (start..(start + batch as u64).min(n))
            .map(|i| {
                let mut e = entry(i, &mut rng, now);
                e.story = Some(e.key);
                index.extend(writes_for(&e, &settings, now - e.published <= window));
                e
            })
            .collect();
        let source = items[0].source.clone();
        let changes = items.into_iter().map(Change::New).collect();
        store
            .commit_poll_with(&source, |_| Ok(Prepared { changes, index, state: SourceState::default() }))
            .expect("commit");
    }
    // Closed and opened again, as a bulk load that exits cleanly leaves it: sled's snapshot then
    // sits at the log's tip, so the next open (a first `serve`, W10) replays nothing.
    store.close().expect("close bench store");
    std::fs::write(&done, n.to_string()).expect("marker");
    Store::open(&dir.join("db"), 256 << 20).expect("reopen bench store")
}

/// The index records a story's first item gets: URL and text keys, and its near-duplicate
/// signature (from which the band memory is built) only while it is inside the matching window (pruning drops older ones).
/// A story of one item has no story record.
fn writes_for(e: &Entry, settings: &StorySettings, recent: bool) -> Vec<IndexWrite> {
    let f = stories::features(e, settings);
    let mut w = Vec::new();
    w.extend(f.story_url.map(|u| IndexWrite::Url(u, e.key)));
    w.extend(f.text_fp.map(|(fp, _)| IndexWrite::Text(fp, e.key)));
    if recent {
        w.extend(f.sig.map(|sig| IndexWrite::Sig(e.key, e.published, sig)));
    }
    w
}

fn bench(c: &mut Criterion) {
    let now = DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").expect("date").with_timezone(&Utc);
    let sizes: Vec<u64> = std::env::var("NEWSRIVER_BENCH_SIZES")
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![10_000, 1_000_000]);
    let settings = StorySettings::default();
    let mut group = c.benchmark_group("story_match_per_item");
    for n in sizes {
        let store = store_of(n, now);
        let near = SharedNear::new(settings.window);
        let view = store.view();
        // A republished copy of a recent stored item (exact text), and an item never seen.
        let mut rng = Rng(n);
        let stored = entry(0, &mut rng, now); // published `now`: inside the window
        let mut copy = stored.clone();
        copy.key = EntryKey::derive(&SourceId::parse("elsewhere").expect("slug"), "guid", "copy");
        copy.source = SourceId::parse("elsewhere").expect("slug");
        copy.story_url = Some("elsewhere.example/copy".into());
        let fresh = entry(n + 1, &mut Rng(u64::MAX - n), now);
        for (label, item) in [("duplicate", copy), ("new", fresh)] {
            group.bench_with_input(BenchmarkId::new(label, n), &item, |b, item| {
                b.iter(|| stories::matches_of(item, &view, &near, &settings, now).expect("read").len())
            });
        }
        // sled rewrote pages while these reads ran: the close records them, so the store is
        // left as a bulk load that exits cleanly leaves it.
        drop(view);
        store.close().expect("close bench store");
    }
    group.finish();
    let item = entry(7, &mut Rng(7), now);
    c.bench_function("story_features_per_item", |b| b.iter(|| stories::features(&item, &settings).shingles.len()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
