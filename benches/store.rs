//! The store alone: committing polls and reading channels back, per item.
//!
//! `cargo bench --bench store` measures, on a fresh store in a temp dir:
//! - `store_ingest/commit_20`: one `commit_poll` of 20 new entries (made durable, as every poll);
//! - `store_serve/latest_50`: the newest 50 entries of the merged channel of a 10k-entry store;
//! - `store_serve/since_100`: 100 entries of the change log after a cursor.
//!
//! With `NEWSRIVER_BENCH_STORE=postgres` the same runs on PostgreSQL, in a throwaway local cluster
//! (`fsync=off`: it measures the store's work, not the disk), or with
//! `NEWSRIVER_BENCH_DATABASE_URL=postgres://…` on that database (which it only adds to).

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use newsriver::domain::{Change, ChannelId, Entry, SourceId, SourceState};
use newsriver::store::Store;
use synthetic::Synthetic;

#[path = "common/mod.rs"]
mod common;
#[path = "store/open.rs"]
mod open;
#[path = "common/entry.rs"]
mod synthetic;

use common::Rng;

const POLL: usize = 20;
const PRELOAD: u64 = 10_000;

fn words(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| format!("w{}", rng.next() % 5_000)).collect::<Vec<_>>().join(" ")
}

fn entry(i: u64, rng: &mut Rng, now: DateTime<Utc>) -> Entry {
    let source = SourceId::parse(&format!("s{}", i % 100)).expect("slug");
    let link = format!("https://outlet{}.example/news/{i}", i % 100);
    let published = now - Duration::minutes((i % 500_000) as i64);
    let fingerprint = format!("{:016x}{:016x}", rng.next(), rng.next());
    let (title, body) = (words(rng, 8), words(rng, 80));
    let e = synthetic::entry(Synthetic { source, guid: i.to_string(), title, link, body, published, fingerprint });
    Entry { authors: vec!["A. Writer".into()], ..e }
}

/// Commits entries `from..from + n` as one poll of their first entry's source.
fn commit(store: &Store, from: u64, n: usize, rng: &mut Rng, now: DateTime<Utc>) {
    let mut changes: Vec<Change> = (from..from + n as u64).map(|i| Change::New(entry(i, rng, now))).collect();
    let source = changes[0].entry().source.clone();
    store.commit_poll(&source, &mut changes, &SourceState::default()).expect("commit");
}

fn bench(c: &mut Criterion) {
    let now = DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").expect("date").with_timezone(&Utc);
    let (store, label, _dir) = open::store();
    let mut rng = Rng(1);
    // Keys continue after what a reused database holds, so every commit adds new entries.
    let mut next = store.entry_count() as u64 + 1_000_000 * u64::from(store.entry_count() > 0);
    while (store.entry_count() as u64) < PRELOAD {
        commit(&store, next, 500, &mut rng, now);
        next += 500;
    }
    let mut group = c.benchmark_group(format!("store_ingest_{label}"));
    group.throughput(Throughput::Elements(POLL as u64));
    group.bench_function("commit_20", |b| {
        b.iter(|| {
            commit(&store, next, POLL, &mut rng, now);
            next += POLL as u64;
        })
    });
    group.finish();
    let mut group = c.benchmark_group(format!("store_serve_{label}"));
    group.throughput(Throughput::Elements(50));
    group.bench_function("latest_50", |b| b.iter(|| store.latest(&ChannelId::All, 50).expect("read").len()));
    let cursor = store.last_seq().expect("seq").saturating_sub(5_000);
    group.throughput(Throughput::Elements(100));
    group.bench_function("since_100", |b| b.iter(|| store.since(&ChannelId::All, cursor, 100).expect("read").cursor));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
