//! The ECB+ development set of `../shared/stories-events/` as event assignment sees it, and how
//! a grouping of it is scored (pairs of items from different outlets). Shared by the integration
//! test (`events.rs`) and the evaluation example (`examples/events_eval.rs`).

use chrono::{DateTime, Duration, Utc};
use newsriver::domain::{EntryKey, SourceId};
use newsriver::events::{EventId, EventIndex, EventSettings, Item};
use std::collections::HashMap;
use std::path::Path;

/// One article of the set.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: String,
    /// The outlet's domain, or the article's own id when the corpus gives no URL.
    pub outlet: String,
    pub title: String,
    pub text: String,
    pub event: String,
    pub topic: String,
    pub published: DateTime<Utc>,
}

impl Article {
    pub fn item(&self) -> Item<'_> {
        let source = SourceId::parse("ecbplus").expect("slug");
        Item {
            key: EntryKey::derive(&source, "id", &self.id),
            origin: newsriver::events::origin_of(&self.outlet),
            title: &self.title,
            lead: None,
            text: &self.text,
            language: Some("en"),
            published: self.published,
        }
    }
}

/// Reads the set; every topic gets its own day (topics a day apart, in topic order), articles
/// of a topic ten minutes apart in file order.
pub fn load(path: &Path) -> Result<Vec<Article>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut rows: Vec<serde_json::Value> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        rows.push(serde_json::from_str(line).map_err(|e| e.to_string())?);
    }
    let field = |r: &serde_json::Value, k: &str| match &r[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let mut topics: Vec<String> = rows.iter().map(|r| field(r, "topic")).collect();
    topics.sort_by_key(|t| (t.parse::<u64>().unwrap_or(u64::MAX), t.clone()));
    topics.dedup();
    let start: DateTime<Utc> = "2026-01-05T06:00:00Z".parse().map_err(|e: chrono::ParseError| e.to_string())?;
    let mut seen: HashMap<String, i64> = HashMap::new();
    Ok(rows
        .iter()
        .map(|r| {
            let topic = field(r, "topic");
            let day = topics.iter().position(|t| *t == topic).unwrap_or(0) as i64;
            let n = seen.entry(topic.clone()).or_default();
            *n += 1;
            let id = field(r, "item_id");
            let outlet = Some(field(r, "outlet")).filter(|o| !o.is_empty()).unwrap_or_else(|| id.clone());
            let published = start + Duration::days(day) + Duration::minutes(10 * *n);
            Article {
                outlet,
                title: field(r, "title"),
                text: field(r, "text"),
                event: field(r, "cluster_id"),
                topic,
                published,
                id,
            }
        })
        .collect())
}

/// An arrival order: a name and the articles' indexes.
pub type Order = (&'static str, fn(&[Article]) -> Vec<usize>);

/// The orders measured: topics always by day; within a topic file order, reversed, and two
/// shuffles.
pub fn orders() -> Vec<Order> {
    vec![
        ("file", |a| within_topics(a, |v| v)),
        ("reversed", |a| within_topics(a, |v| v.into_iter().rev().collect())),
        ("shuffle-1", |a| within_topics(a, |v| shuffle(v, 1))),
        ("shuffle-2", |a| within_topics(a, |v| shuffle(v, 2))),
    ]
}

fn within_topics(articles: &[Article], arrange: impl Fn(Vec<usize>) -> Vec<usize>) -> Vec<usize> {
    let mut days: Vec<DateTime<Utc>> =
        articles.iter().map(|a| a.published.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc()).collect();
    days.sort();
    days.dedup();
    days.into_iter()
        .flat_map(|d| {
            arrange((0..articles.len()).filter(|&i| articles[i].published.date_naive() == d.date_naive()).collect())
        })
        .collect()
}

/// A deterministic shuffle (Fisher-Yates over splitmix64).
fn shuffle(mut v: Vec<usize>, seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for i in (1..v.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        v.swap(i, ((z ^ (z >> 31)) % (i as u64 + 1)) as usize);
    }
    v
}

/// Assigns the articles in `order` (rarity warmed on the whole set first when `warm`) and
/// scores the grouping; also returns how many event merges happened.
pub fn run(articles: &[Article], settings: &EventSettings, order: &Order, warm: bool) -> (Scores, usize) {
    let (labels, merges) = group(articles, settings, order, warm);
    (Scores::of(articles, &labels), merges)
}

/// The event each article ends in (after merges), and the number of merges.
pub fn group(
    articles: &[Article],
    settings: &EventSettings,
    order: &Order,
    warm: bool,
) -> (Vec<Option<EventId>>, usize) {
    let mut index = EventIndex::new(settings.clone());
    if warm {
        articles.iter().for_each(|a| index.observe(&a.item()));
    }
    let mut parent: HashMap<EventId, EventId> = HashMap::new();
    let mut assigned: Vec<Option<EventId>> = vec![None; articles.len()];
    let mut merges = 0;
    for i in (order.1)(articles) {
        let a = index.assign(&articles[i].item());
        for m in &a.merged {
            parent.insert(*m, a.event);
            merges += 1;
        }
        assigned[i] = Some(a.event);
    }
    let root = |mut e: EventId| {
        while let Some(p) = parent.get(&e) {
            e = *p;
        }
        e
    };
    (assigned.into_iter().map(|e| e.map(root)).collect(), merges)
}

/// Pairwise scores of a grouping over pairs of items from different outlets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Share of hard negatives (same topic, different event) grouped together.
    pub hard: f64,
}

impl Scores {
    pub fn of(articles: &[Article], labels: &[Option<EventId>]) -> Self {
        let (mut tp, mut fp, mut fn_, mut hard, mut hard_merged) = (0usize, 0usize, 0usize, 0usize, 0usize);
        for i in 0..articles.len() {
            for j in i + 1..articles.len() {
                let (a, b) = (&articles[i], &articles[j]);
                if a.outlet == b.outlet {
                    continue;
                }
                let together = labels[i].is_some() && labels[i] == labels[j];
                let same = a.event == b.event;
                match (same, together) {
                    (true, true) => tp += 1,
                    (true, false) => fn_ += 1,
                    (false, true) => fp += 1,
                    _ => {}
                }
                if !same && a.topic == b.topic {
                    hard += 1;
                    hard_merged += usize::from(together);
                }
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        Self { precision, recall, f1, hard: if hard == 0 { 0.0 } else { hard_merged as f64 / hard as f64 } }
    }

    pub fn mean<'a>(all: impl Iterator<Item = &'a Scores>) -> Self {
        let all: Vec<&Scores> = all.collect();
        let n = all.len().max(1) as f64;
        Self {
            precision: all.iter().map(|s| s.precision).sum::<f64>() / n,
            recall: all.iter().map(|s| s.recall).sum::<f64>() / n,
            f1: all.iter().map(|s| s.f1).sum::<f64>() / n,
            hard: all.iter().map(|s| s.hard).sum::<f64>() / n,
        }
    }

    /// The lowest F1 and the highest hard-negative rate of any order.
    pub fn worst<'a>(all: impl Iterator<Item = &'a Scores>) -> Self {
        all.fold(Self { precision: 1.0, recall: 1.0, f1: 1.0, hard: 0.0 }, |w, s| Self {
            precision: w.precision.min(s.precision),
            recall: w.recall.min(s.recall),
            f1: w.f1.min(s.f1),
            hard: w.hard.max(s.hard),
        })
    }
}
