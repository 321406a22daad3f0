//! Event grouping measured on the shared ECB+ development set (`../shared/stories-events/`,
//! read there): the default threshold must keep F1 at 0.85 or more with at most 3 % of hard
//! negatives (same topic, other event) merged, in every arrival order, so the floor cannot
//! regress. The full curve: `cargo run --release --example events_eval`.

use crate::events_set::{load, orders, run, Scores};
use crate::helpers::shared;
use newsriver::events::EventSettings;

#[test]
fn default_threshold_keeps_the_floor_on_the_ecb_plus_development_set() {
    let Some(dir) = shared("stories-events") else { return };
    let articles = load(&dir.join("ecbplus-dev.jsonl")).expect("the development set");
    assert!(articles.len() >= 400, "{} articles", articles.len());
    let settings = EventSettings::default();
    let mut all = Vec::new();
    for order in orders() {
        let (s, merges) = run(&articles, &settings, &order, true);
        eprintln!(
            "events, order {}: precision {:.3}, recall {:.3}, F1 {:.3}, hard negatives merged {:.1} %, {merges} merges",
            order.0,
            s.precision,
            s.recall,
            s.f1,
            100.0 * s.hard
        );
        all.push(s);
    }
    let (mean, worst) = (Scores::mean(all.iter()), Scores::worst(all.iter()));
    eprintln!("events, mean of the orders: F1 {:.3}, hard negatives merged {:.1} %", mean.f1, 100.0 * mean.hard);
    assert!(worst.f1 >= 0.85, "an order's F1 is {:.3}", worst.f1);
    assert!(worst.hard <= 0.03, "an order merged {:.1} % of hard negatives", 100.0 * worst.hard);
}
