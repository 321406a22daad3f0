//! The exposition as a scraper reads it: each part's metrics registered, encoded, and read back
//! sample by sample, with the series names and buckets of the hand-written exposition it replaced.

use super::*;
use crate::domain::{PollSummary, SourceId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every sample of an exposition by its series (`name{labels}`), and every family's type.
struct Read {
    samples: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
}

fn read(text: &str) -> Read {
    let (mut samples, mut types) = (BTreeMap::new(), BTreeMap::new());
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let (family, kind) = t.split_once(' ').expect("TYPE line names a family and a type");
            types.insert(family.to_owned(), kind.to_owned());
        } else if !line.starts_with('#') {
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            samples.insert(series.to_owned(), value.parse().expect("a number"));
        }
    }
    Read { samples, types }
}

fn encoded(register: impl FnOnce(&mut Registry)) -> String {
    let mut reg = registry();
    register(&mut reg);
    let text = encode(&reg).expect("encodes");
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

fn report(source: &str, outcome: FetchOutcome, new: usize, elapsed_ms: u64) -> PollReport {
    PollReport {
        source: SourceId::parse(source).expect("slug"),
        outcome,
        summary: PollSummary { new, updated: 1, unchanged: 2 },
        error: None,
        http_status: Some(200),
        retry_after: None,
        url: "http://127.0.0.1/feed".into(),
        bytes: 1000,
        merged: 1,
        elapsed: Duration::from_millis(elapsed_ms),
        finished: chrono::Utc::now(),
        articles: Default::default(),
    }
}

#[test]
fn polls_move_their_outcome_latency_bytes_and_entries() {
    let m = Metrics::default();
    m.record_poll(&report("wire", FetchOutcome::Ok, 3, 40));
    m.record_poll(&report("wire", FetchOutcome::NotModified, 0, 400));
    let streaks = vec![(SourceId::parse("wire").expect("slug"), 2)];
    let scraped = Scraped { store_bytes: 4096, entries: 3, failure_streaks: streaks };
    let r = read(&encoded(|reg| m.register(reg, &scraped)));
    let s = |series: &str| r.samples.get(series).copied().unwrap_or_else(|| panic!("no {series}"));
    assert_eq!(s(r#"newsriver_polls_total{outcome="ok"}"#), 1.0);
    assert_eq!(s(r#"newsriver_polls_total{outcome="not_modified"}"#), 1.0);
    assert_eq!(s(r#"newsriver_polls_total{outcome="permanent_error"}"#), 0.0, "every outcome shows, zero too");
    assert_eq!(s(r#"newsriver_fetch_duration_seconds_bucket{le="0.05"}"#), 1.0);
    assert_eq!(s(r#"newsriver_fetch_duration_seconds_bucket{le="0.5"}"#), 2.0, "buckets are cumulative");
    assert_eq!(s(r#"newsriver_fetch_duration_seconds_bucket{le="+Inf"}"#), 2.0);
    assert!((s("newsriver_fetch_duration_seconds_sum") - 0.44).abs() < 1e-9);
    assert_eq!(s("newsriver_fetched_bytes_total"), 2000.0);
    assert_eq!(s("newsriver_entries_new_total"), 3.0);
    assert_eq!((s("newsriver_entries_updated_total"), s("newsriver_entries_unchanged_total")), (2.0, 4.0));
    assert_eq!(s("newsriver_duplicates_merged_total"), 2.0);
    assert_eq!(s("newsriver_not_modified_ratio"), 0.5);
    assert_eq!((s("newsriver_store_size_bytes"), s("newsriver_store_entries")), (4096.0, 3.0));
    assert_eq!(s(r#"newsriver_source_failure_streak{source="wire"}"#), 2.0);
    assert_eq!(r.types["newsriver_polls"], "counter");
    assert_eq!(r.types["newsriver_fetch_duration_seconds"], "histogram");
    assert_eq!(r.types["newsriver_store_size_bytes"], "gauge");
    let wire = m.source(&SourceId::parse("wire").expect("slug"));
    assert_eq!((wire.polls, wire.not_modified_ratio()), (2, 0.5));
}

#[test]
fn the_hub_counts_deliveries_retries_renders_and_subscriptions() {
    let w = WebSubMetrics::default();
    w.record_delivery(true, false, Duration::from_millis(3));
    w.record_delivery(false, true, Duration::from_millis(300));
    w.record_render();
    w.set_subscriptions(4, 1);
    let r = read(&encoded(|reg| w.register(reg)));
    let s = |series: &str| r.samples.get(series).copied().unwrap_or_else(|| panic!("no {series}"));
    assert_eq!(s(r#"newsriver_websub_deliveries_total{outcome="ok"}"#), 1.0);
    assert_eq!(s(r#"newsriver_websub_deliveries_total{outcome="failed"}"#), 1.0);
    assert_eq!(s("newsriver_websub_delivery_retries_total"), 1.0);
    assert_eq!(s("newsriver_websub_renders_total"), 1.0);
    assert_eq!(s(r#"newsriver_websub_delivery_duration_seconds_bucket{le="0.005"}"#), 1.0);
    assert_eq!(s("newsriver_websub_delivery_duration_seconds_count"), 2.0);
    assert_eq!(s(r#"newsriver_websub_subscriptions{state="active"}"#), 4.0);
    assert_eq!(s(r#"newsriver_websub_subscriptions{state="suspended"}"#), 1.0);
    assert_eq!(r.types["newsriver_websub_subscriptions"], "gauge");
}

/// The series names dashboards and alerts were written against before the exposition came from
/// the crate: every one is still there, spelled the same.
#[test]
fn the_series_names_stay_those_of_the_hand_written_exposition() {
    let (m, w) = (Metrics::default(), WebSubMetrics::default());
    let scraped = Scraped { failure_streaks: vec![(SourceId::parse("a").expect("slug"), 0)], ..Scraped::default() };
    let r = read(&encoded(|reg| {
        m.register(reg, &scraped);
        w.register(reg);
    }));
    let names: std::collections::BTreeSet<&str> = r.samples.keys().map(|k| k.split('{').next().unwrap_or(k)).collect();
    let before = [
        "newsriver_polls_total",
        "newsriver_fetch_duration_seconds_bucket",
        "newsriver_fetch_duration_seconds_sum",
        "newsriver_fetch_duration_seconds_count",
        "newsriver_fetched_bytes_total",
        "newsriver_entries_new_total",
        "newsriver_entries_updated_total",
        "newsriver_entries_unchanged_total",
        "newsriver_duplicates_merged_total",
        "newsriver_not_modified_ratio",
        "newsriver_store_size_bytes",
        "newsriver_store_entries",
        "newsriver_source_failure_streak",
        "newsriver_websub_deliveries_total",
        "newsriver_websub_renders_total",
        "newsriver_websub_delivery_retries_total",
        "newsriver_websub_delivery_duration_seconds_bucket",
        "newsriver_websub_delivery_duration_seconds_sum",
        "newsriver_websub_delivery_duration_seconds_count",
        "newsriver_websub_subscriptions",
    ];
    assert_eq!(names, before.into_iter().collect());
    let buckets = |family: &str| {
        let keys = r.samples.keys().filter(|k| k.starts_with(&format!("{family}_bucket{{")));
        keys.map(|k| k.split('"').nth(1).unwrap_or_default().to_owned()).collect::<std::collections::BTreeSet<_>>()
    };
    let fetch = ["0.01", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "+Inf"];
    assert_eq!(buckets("newsriver_fetch_duration_seconds"), fetch.map(str::to_owned).into());
    let delivery = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "10.0", "+Inf"];
    assert_eq!(buckets("newsriver_websub_delivery_duration_seconds"), delivery.map(str::to_owned).into());
}
