//! Cost of event assignment per new item with 10k and 1M items fed to the event index.
//!
//! `cargo bench --bench events` feeds synthetic reports (deterministic: names, numbers, a year
//! and 80 words of a 5,000-word language; four reports per event) to an `EventIndex`, then
//! measures per new item: the decision alone (`decide`: features, candidates from the inverted
//! index, scores against their members), for an item reporting a stored event and for an
//! unrelated one, and the full `assign` (decision, insertion, expiry; the index grows by the
//! measured items). The 10k items span two days, all inside the 3-day window; the 1M span 30
//! days, so the index holds the last three days (about 100k items), as a large service would.
//! Set `NEWSRIVER_BENCH_SIZES=10000` to skip the large one (feeding 1M items takes minutes).

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use newsriver::domain::{EntryKey, SourceId};
use newsriver::events::{EventIndex, EventSettings, Item};

#[path = "common/mod.rs"]
mod common;

use common::Rng;

/// Words of the synthetic language, and names.
const VOCABULARY: u64 = 5_000;
const NAMES: u64 = 50_000;

/// A capitalised name made of letters only (so it reads as a name, not a number).
fn name(k: u64) -> String {
    let mut s = String::from("N");
    let mut k = k;
    loop {
        s.push((b'a' + (k % 26) as u8) as char);
        k /= 26;
        if k == 0 {
            return s;
        }
    }
}

/// One synthetic report of event `event`: (title, text). Reports of one event share its three
/// names, its count and its year; their words differ.
fn report(event: u64, rng: &mut Rng) -> (String, String) {
    // Seeded by a hash of the event, so that neighbouring events draw unrelated names.
    let mut ev = Rng(Rng(event).next());
    let names: Vec<String> = (0..3).map(|_| name(ev.next() % NAMES)).collect();
    let (count, year) = (ev.next() % 500, 1990 + ev.next() % 36);
    let word = |rng: &mut Rng| format!("w{}", rng.next() % VOCABULARY);
    let title = format!("{} {} {} {}", word(rng), names[0], word(rng), names[1]);
    let mut text = String::new();
    for s in 0..7 {
        let words: Vec<String> = (0..11).map(|_| word(rng)).collect();
        text.push_str(&format!("The {} {} {}. ", words[..5].join(" "), names[s % 3], words[5..].join(" ")));
    }
    text.push_str(&format!("Officials said {count} people in {year}."));
    (title, text)
}

fn item<'a>(i: u64, title: &'a str, text: &'a str, published: DateTime<Utc>) -> Item<'a> {
    let source = SourceId::parse(&format!("s{}", i % 500)).expect("slug");
    Item {
        key: EntryKey::derive(&source, "guid", &i.to_string()),
        origin: newsriver::events::origin_of(source.as_str()),
        title,
        lead: None,
        text,
        language: Some("en"),
        published,
    }
}

/// An index fed `n` reports (four per event), published up to `now` over `span`.
fn index_of(n: u64, span: Duration, now: DateTime<Utc>) -> EventIndex {
    let mut index = EventIndex::new(EventSettings::default());
    let mut rng = Rng(n);
    let step = span.num_milliseconds() / n as i64;
    for i in 0..n {
        let (title, text) = report(i / 4, &mut rng);
        let published = now - Duration::milliseconds(step * (n - i) as i64);
        index.assign(&item(i, &title, &text, published));
    }
    index
}

fn bench(c: &mut Criterion) {
    let now = DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").expect("date").with_timezone(&Utc);
    let sizes: Vec<u64> = std::env::var("NEWSRIVER_BENCH_SIZES")
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![10_000, 1_000_000]);
    let mut group = c.benchmark_group("event_assign_per_item");
    for n in sizes {
        let span = if n <= 10_000 { Duration::days(2) } else { Duration::days(30) };
        let started = std::time::Instant::now();
        let mut index = index_of(n, span, now);
        eprintln!("fed {n} items in {:.1?}: {} live events", started.elapsed(), index.len());
        // A further report of the last stored event, and a report of an event never seen.
        let (joining, fresh) = (report((n - 1) / 4, &mut Rng(7)), report(u64::MAX / 2, &mut Rng(8)));
        for (label, (title, text)) in [("decide_joining", &joining), ("decide_new", &fresh)] {
            let it = item(n + 1, title, text, now);
            group.bench_with_input(BenchmarkId::new(label, n), &it, |b, it| b.iter(|| index.decide(it).candidates));
        }
        let mut next = n + 10;
        group.bench_function(BenchmarkId::new("assign_new", n), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    (next, report(next, &mut Rng(next)))
                },
                |(i, (title, text))| index.assign(&item(i, &title, &text, now)).candidates,
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
