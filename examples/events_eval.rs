//! Measures event grouping on the shared ECB+ development set (`../shared/stories-events/`):
//! articles arrive topic by topic (one day per topic, topics a day apart), each is assigned
//! online, and pairs of items from different outlets are scored against the true events:
//! precision, recall, F1 and the share of hard negatives (same topic, other event) merged,
//! over a range of thresholds and several arrival orders.
//!
//! ```text
//! cargo run --release --example events_eval                # the curve with the shipped weights
//! cargo run --release --example events_eval -- --train     # fit the weights on every topic
//! cargo run --release --example events_eval -- --cv        # fit on half the topics, measure on the rest
//! cargo run --release --example events_eval -- --cold     # rarity counted only from items seen so far
//! ```
//! `NEWSRIVER_EVENTS_SET` names another file in the same format.

use newsriver::events::{pair, EventSettings, Extract, Features, Model, Rarity, FEATURES, FEATURE_NAMES};
use std::path::PathBuf;

#[path = "../tests/integration/events_set.rs"]
#[allow(dead_code)]
mod events_set;

use events_set::{group, orders, run, Article, Scores};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = std::env::var_os("NEWSRIVER_EVENTS_SET").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/stories-events/ecbplus-dev.jsonl")
    });
    let articles = match events_set::load(&path) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            std::process::exit(2);
        }
    };
    let warm = !args.iter().any(|a| a == "--cold");
    let base = settings_from(&args);
    println!(
        "{} articles, {} events, {} topics from {}",
        articles.len(),
        count(&articles, |a| &a.event),
        count(&articles, |a| &a.topic),
        path.display()
    );
    if args.iter().any(|a| a == "--train") {
        let model = train(&articles, &articles.iter().map(|a| a.topic.clone()).collect::<Vec<_>>());
        print_model(&model);
    } else if let Some(t) = args.iter().position(|a| a == "--detail").and_then(|i| args.get(i + 1)) {
        detail(&articles, &EventSettings { threshold: t.parse().unwrap_or(1.0), ..base }, warm);
    } else if args.iter().any(|a| a == "--cv") {
        cross_validate(&articles, &base, warm);
    } else {
        println!("weights: shipped; rarity: {}", if warm { "warmed on the whole set" } else { "cold" });
        curve(&articles, &base, warm);
    }
}

/// The default settings with `--set name=value` overrides (members, candidates, postings,
/// min_shared, merge_members, merge_margin, day_penalty, min_rarity).
fn settings_from(args: &[String]) -> EventSettings {
    let mut s = EventSettings::default();
    for kv in args.windows(2).filter(|w| w[0] == "--set").map(|w| w[1].as_str()) {
        let Some((k, v)) = kv.split_once('=') else { continue };
        let (n, f) = (v.parse::<usize>().unwrap_or(0), v.parse::<f64>().unwrap_or(0.0));
        match k {
            "members" => s.members = n,
            "candidates" => s.candidates = n,
            "postings" => s.postings = n,
            "min_shared" => s.min_shared = n,
            "merge_members" => s.merge_members = n,
            "merge_margin" => s.merge_margin = f,
            "day_penalty" => s.day_penalty = f,
            "min_rarity" => s.min_rarity = f as f32,
            _ => eprintln!("unknown setting {k}"),
        }
    }
    s
}

fn count(articles: &[Article], key: impl Fn(&Article) -> &String) -> usize {
    articles.iter().map(key).collect::<std::collections::HashSet<_>>().len()
}

/// Thresholds of the printed curve.
fn thresholds() -> Vec<f64> {
    (-4..=12).map(|i| f64::from(i) * 0.25).collect()
}

/// Prints precision, recall, F1 and hard negatives merged per threshold: the mean over the
/// arrival orders, and the worst order.
fn curve(articles: &[Article], settings: &EventSettings, warm: bool) -> Vec<(f64, Scores, Scores)> {
    println!("threshold  precision  recall     F1  hard-merged | worst order: F1  hard-merged | merges");
    let mut out = Vec::new();
    for t in thresholds() {
        let s = EventSettings { threshold: t, ..settings.clone() };
        let runs: Vec<(Scores, usize)> = orders().iter().map(|o| run(articles, &s, o, warm)).collect();
        let mean = Scores::mean(runs.iter().map(|r| &r.0));
        let worst = Scores::worst(runs.iter().map(|r| &r.0));
        let merges = runs.iter().map(|r| r.1).sum::<usize>() as f64 / runs.len() as f64;
        println!(
            "{t:9.2}  {:9.3}  {:6.3}  {:5.3}  {:10.1} % | {:14.3}  {:9.1} % | {merges:.1}",
            mean.precision,
            mean.recall,
            mean.f1,
            100.0 * mean.hard,
            worst.f1,
            100.0 * worst.hard
        );
        out.push((t, mean, worst));
    }
    out
}

/// Fits the weights on half the topics and draws the curve on the other half, both ways.
fn cross_validate(articles: &[Article], base: &EventSettings, warm: bool) {
    let mut topics: Vec<String> = articles.iter().map(|a| a.topic.clone()).collect();
    topics.sort_by_key(|t| t.parse::<u32>().unwrap_or(u32::MAX));
    topics.dedup();
    let halves: [Vec<String>; 2] =
        [topics.iter().step_by(2).cloned().collect(), topics.iter().skip(1).step_by(2).cloned().collect()];
    for (fit, held) in [(&halves[0], &halves[1]), (&halves[1], &halves[0])] {
        let model = train(articles, fit);
        let test: Vec<Article> = articles.iter().filter(|a| held.contains(&a.topic)).cloned().collect();
        println!("\nfitted on topics {fit:?}, measured on topics {held:?}");
        print_model(&model);
        curve(&test, &EventSettings { model, ..base.clone() }, warm);
    }
}

/// Logistic regression of "same event" on the pair features of every pair of items from
/// different outlets within the given topics (positives and hard negatives), full-batch
/// gradient descent from zero with a small L2 penalty: deterministic.
fn train(articles: &[Article], topics: &[String]) -> Model {
    let mut rarity = Rarity::default();
    for a in articles {
        rarity.observe(&Extract::of(&a.item()).terms());
    }
    let feats: Vec<Features> = articles.iter().map(|a| Features::weigh(&Extract::of(&a.item()), &rarity)).collect();
    let mut xs: Vec<([f64; FEATURES], f64)> = Vec::new();
    for i in 0..articles.len() {
        for j in i + 1..articles.len() {
            let (a, b) = (&articles[i], &articles[j]);
            if a.topic == b.topic && topics.contains(&a.topic) && a.outlet != b.outlet {
                xs.push((pair(&feats[i], &feats[j]), if a.event == b.event { 1.0 } else { 0.0 }));
            }
        }
    }
    fit(&xs)
}

/// Features whose weight is set from domain knowledge, not fitted: a measurement in the lead
/// (a magnitude, a percentage) that differs is strong evidence of two events, but the set holds
/// too few such pairs (two topics) to estimate it.
const FIXED: [(&str, f64); 1] = [("measures_differ", -3.0)];

/// Evidence against: these weights are kept at or below zero, every other at or above.
const AGAINST: [&str; 2] = ["years_apart", "measures_differ"];

fn fit(xs: &[([f64; FEATURES], f64)]) -> Model {
    let (rate, l2, steps) = (2.0, 1e-3, 3000);
    let mut m = Model { weights: [0.0; FEATURES], bias: 0.0 };
    let fixed: Vec<Option<f64>> = FEATURE_NAMES.iter().map(|n| FIXED.iter().find(|f| f.0 == *n).map(|f| f.1)).collect();
    let n = xs.len().max(1) as f64;
    for _ in 0..steps {
        let mut grad = [0.0; FEATURES];
        let mut grad_bias = 0.0;
        for (x, y) in xs {
            let p = 1.0 / (1.0 + (-m.score(x).clamp(-30.0, 30.0)).exp());
            for k in 0..FEATURES {
                grad[k] += (p - y) * x[k];
            }
            grad_bias += p - y;
        }
        for k in 0..FEATURES {
            m.weights[k] -= rate * (grad[k] / n + l2 * m.weights[k]);
            m.weights[k] = match fixed[k] {
                Some(w) => w,
                None if AGAINST.contains(&FEATURE_NAMES[k]) => m.weights[k].min(0.0),
                None => m.weights[k].max(0.0),
            };
        }
        m.bias -= rate * grad_bias / n;
    }
    m
}

fn print_model(m: &Model) {
    for (name, w) in FEATURE_NAMES.iter().zip(m.weights) {
        println!("  {name:16} {w:7.3}");
    }
    println!("  {:16} {:7.3}", "bias", m.bias);
    let list: Vec<String> = m.weights.iter().map(|w| format!("{w:.3}")).collect();
    println!("  pub const WEIGHTS: [f64; FEATURES] = [{}];\n  pub const BIAS: f64 = {:.3};", list.join(", "), m.bias);
}

/// Prints, for the file order at threshold `t`, every true event split over several groups and
/// every group mixing events (with a few titles).
fn detail(articles: &[Article], settings: &EventSettings, warm: bool) {
    let (labels, merges) = group(articles, settings, &orders()[0], warm);
    println!("threshold {}: {merges} merges", settings.threshold);
    let mut by_event: std::collections::BTreeMap<&str, std::collections::BTreeMap<String, usize>> = Default::default();
    let mut by_group: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, a) in articles.iter().enumerate() {
        let g = labels[i].map_or("none".into(), |e| e.0.to_string());
        *by_event.entry(a.event.as_str()).or_default().entry(g.clone()).or_default() += 1;
        by_group.entry(g).or_default().push(i);
    }
    for (event, groups) in &by_event {
        let mut sizes: Vec<usize> = groups.values().copied().collect();
        sizes.sort_by(|a, b| b.cmp(a));
        if sizes.len() > 1 {
            println!("split  {event}: {sizes:?}");
        }
    }
    for (g, members) in &by_group {
        let mut events: Vec<&str> = members.iter().map(|&i| articles[i].event.as_str()).collect();
        events.sort();
        events.dedup();
        if events.len() > 1 {
            println!("mixed  group {g}: {events:?}");
            for &i in members {
                println!(
                    "         {} {} | {}",
                    articles[i].event,
                    articles[i].id,
                    articles[i].title.chars().take(80).collect::<String>()
                );
            }
        }
    }
}
