//! `/metrics` as Prometheus reads it: OpenMetrics text that Prometheus's own parser accepts,
//! every documented family with its type and unit, and values that move as the service polls
//! and serves.

use crate::helpers::*;
use crate::partners::{spawn_private, ADMIN, PLANET};
use std::collections::BTreeSet;

/// Every family the README documents, with its type. An OpenMetrics family is named without a
/// counter's `_total`, which its sample carries.
const DOCUMENTED: [(&str, &str); 25] = [
    ("newsriver_polls", "counter"),
    ("newsriver_fetch_duration_seconds", "histogram"),
    ("newsriver_fetched_bytes", "counter"),
    ("newsriver_entries_new", "counter"),
    ("newsriver_entries_updated", "counter"),
    ("newsriver_entries_unchanged", "counter"),
    ("newsriver_duplicates_merged", "counter"),
    ("newsriver_not_modified_ratio", "gauge"),
    ("newsriver_store_size_bytes", "gauge"),
    ("newsriver_store_entries", "gauge"),
    ("newsriver_channel_requests", "counter"),
    ("newsriver_channel_cache_hits", "counter"),
    ("newsriver_channel_not_modified", "counter"),
    ("newsriver_source_failure_streak", "gauge"),
    ("newsriver_partner_requests", "counter"),
    ("newsriver_partner_not_modified", "counter"),
    ("newsriver_partner_items_pulled", "counter"),
    ("newsriver_partner_items_pushed", "counter"),
    ("newsriver_partner_rate_limited", "counter"),
    ("newsriver_partner_last_seen_seconds", "gauge"),
    ("newsriver_websub_deliveries", "counter"),
    ("newsriver_websub_delivery_retries", "counter"),
    ("newsriver_websub_delivery_duration_seconds", "histogram"),
    ("newsriver_websub_subscriptions", "gauge"),
    ("newsriver_websub_renders", "counter"),
];

async fn scrape(app: &TestApp) -> Exposition {
    metrics_of(app.client.get(format!("{}/metrics", app.base)).bearer_auth(ADMIN).send().await.expect("get")).await
}

#[tokio::test]
async fn every_documented_family_is_served_with_its_type_and_unit() {
    if !have_metrics_parser() {
        return;
    }
    let (app, _feeds) = spawn_private(|_| {}).await;
    let m = scrape(&app).await;
    let served: BTreeSet<(&str, &str)> = m.0.iter().map(|f| (f.name.as_str(), f.kind.as_str())).collect();
    assert_eq!(served, DOCUMENTED.into_iter().collect(), "what is served is what the README lists");
    for (family, unit) in [
        ("newsriver_fetch_duration_seconds", "seconds"),
        ("newsriver_fetched_bytes", "bytes"),
        ("newsriver_store_size_bytes", "bytes"),
        ("newsriver_partner_last_seen_seconds", "seconds"),
        ("newsriver_websub_delivery_duration_seconds", "seconds"),
    ] {
        assert_eq!(m.family(family).map(|f| f.unit.as_str()), Some(unit), "{family}");
    }
    let outcomes: BTreeSet<&str> = (m.family("newsriver_polls").expect("polls").samples.iter())
        .filter_map(|s| s.labels.get("outcome").map(String::as_str))
        .collect();
    let every = ["ok", "not_modified", "unchanged", "transient_error", "permanent_error"];
    assert_eq!(outcomes, every.into_iter().collect(), "every outcome, zero or not");
    app.stop().await;
}

#[tokio::test]
async fn polls_and_channel_requests_move_the_counters() {
    if !have_metrics_parser() {
        return;
    }
    // Polled once already: both feeds' items are stored.
    let (app, _feeds) = spawn_private(|_| {}).await;
    let before = scrape(&app).await;
    let entries = app.get("/healthz").await.json::<serde_json::Value>().await.expect("json")["entries"].as_f64();
    assert_eq!(Some(before.get("newsriver_store_entries", &[])), entries);
    assert_eq!(before.get("newsriver_polls_total", &[("outcome", "ok")]), 2.0);
    assert_eq!(before.get("newsriver_entries_new_total", &[]), 4.0);

    app.poll_now().await;
    let url = format!("{}/feeds/all.atom", app.base);
    let first = app.client.get(&url).send().await.expect("get");
    let etag = first.headers()["etag"].clone();
    assert_eq!(app.client.get(&url).send().await.expect("get").status(), 200);
    let again = app.client.get(&url).header("if-none-match", etag).send().await.expect("get");
    assert_eq!(again.status(), 304);
    let private = app.client.get(format!("{}/topics/clients.atom", app.base)).bearer_auth(PLANET).send().await;
    assert_eq!(private.expect("get").status(), 200);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    assert_eq!(moved("newsriver_polls_total", &[("outcome", "unchanged")]), 2.0, "the same bodies again");
    assert_eq!(moved("newsriver_polls_total", &[("outcome", "ok")]), 0.0);
    assert_eq!(moved("newsriver_fetch_duration_seconds_count", &[]), 2.0);
    assert_eq!(moved("newsriver_fetch_duration_seconds_bucket", &[("le", "+Inf")]), 2.0);
    assert!(moved("newsriver_fetched_bytes_total", &[]) > 0.0, "unchanged bodies are fetched all the same");
    assert_eq!(moved("newsriver_entries_new_total", &[]), 0.0);
    assert_eq!(moved("newsriver_channel_requests_total", &[]), 4.0);
    assert_eq!(moved("newsriver_channel_cache_hits_total", &[]), 2.0, "the second and the conditional request");
    assert_eq!(moved("newsriver_channel_not_modified_total", &[]), 1.0);
    assert_eq!(moved("newsriver_partner_requests_total", &[("partner", "planet")]), 1.0);
    assert!(moved("newsriver_partner_items_pulled_total", &[("partner", "planet")]) > 0.0);
    assert_eq!(moved("newsriver_partner_requests_total", &[("partner", "agency")]), 0.0);
    assert_eq!(after.get("newsriver_source_failure_streak", &[("source", "daily")]), 0.0);
    assert!(after.get("newsriver_store_size_bytes", &[]) > 0.0);
    app.stop().await;
}

#[tokio::test]
async fn without_the_hub_there_are_no_websub_families() {
    if !have_metrics_parser() {
        return;
    }
    let (app, _feeds) = spawn_private(|s| s.websub.enabled = false).await;
    let m = scrape(&app).await;
    let websub: Vec<&str> = m.0.iter().map(|f| f.name.as_str()).filter(|n| n.contains("websub")).collect();
    assert!(websub.is_empty(), "{websub:?}");
    assert!(m.family("newsriver_polls").is_some());
    app.stop().await;
}
