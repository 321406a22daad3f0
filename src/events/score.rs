//! How strongly two items report the same event: a logistic score over what they share (names,
//! numbers, dates, rare words of body, lead and title) and what sets them apart (the latest
//! years they mention lie apart, the measurements of their leads differ). What two items share
//! counts in proportion to how rare it is. The weights are in
//! `weights.rs`, with how they were trained; `Model::score` gives the log-odds of "same event".

use super::features::Features;
use super::vector::Vector;

/// Number of pair features.
pub const FEATURES: usize = 13;

/// The pair features' names, in order (for reasons, the evaluation and the trained weights).
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "names",
    "multiword_names",
    "words",
    "lead",
    "title",
    "numbers",
    "dates",
    "years_apart",
    "years_agree",
    "lead_names_min",
    "lead_names_max",
    "measures_differ",
    "measures_agree",
];

/// Shared rarity (the sum of `Rarity::rarity` over the terms two items share, as the rarer
/// side counted it) at which a
/// feature's agreement counts in full; below it the agreement counts in proportion. Two items
/// that share only common terms (this year, a name in every day's news) have little evidence,
/// however alike their short lists look.
const EVIDENCE: f64 = 0.35;

/// Terms this common (in more than about N^0.85 of N documents: a weekday, this year, the
/// capital in every day's news) add nothing to the shared rarity, however many are shared.
const COMMON: f32 = 0.15;

/// How alike (names, words or lead) two items must be for shared numbers and dates to count
/// in full: the same year or count in two unrelated reports is chance, and only tells apart
/// events that are otherwise alike.
const ALIKE: f64 = 0.25;

/// How alike the words (body or lead) of two items must be for the names they share to count
/// in full: the same people and places in two differently told reports are two events of theirs.
const TOLD: f64 = 0.1;

/// The pair features of two items (symmetric), each weighed by the rarity of its day.
pub fn pair(a: &Features, b: &Features) -> [f64; FEATURES] {
    let (years_apart, years_agree) = match (a.latest_year, b.latest_year) {
        (Some(x), Some(y)) if (x - y).abs() >= 2 => (1.0, 0.0),
        (Some(_), Some(_)) => (0.0, f64::from(a.year_rarity.min(b.year_rarity))),
        _ => (0.0, 0.0),
    };
    let (measures_differ, measures_agree) = if a.measures.is_empty() || b.measures.is_empty() {
        (0.0, 0.0)
    } else if a.measures.iter().any(|&x| b.measures.iter().any(|&y| close(x, y))) {
        (0.0, 1.0)
    } else {
        (1.0, 0.0)
    };
    let agree = agreement;
    let (words, lead) = (a.words.dot(&b.words), a.lead.dot(&b.lead));
    let told = (words.max(lead) / TOLD).min(1.0);
    let (names, ab, ba) = (told * agree(&a.names, &b.names), told * contained(a, b), told * contained(b, a));
    let gate = (names.max(words).max(lead) / ALIKE).min(1.0);
    [
        names,
        told * agree(&a.phrases, &b.phrases),
        words,
        lead,
        agree(&a.title, &b.title),
        gate * agree(&a.numbers, &b.numbers),
        gate * agree(&a.dates, &b.dates),
        years_apart,
        gate * years_agree,
        ab.min(ba),
        ab.max(ba),
        measures_differ,
        gate * measures_agree,
    ]
}

/// The rarity of the rarest name, number or word two items share (as the commoner side counts
/// it): two reports of one happening share at least one rare who, where or how many, while
/// texts that only share many middling words (templates, one beat's vocabulary) share none.
pub fn rarest_shared(a: &Features, b: &Features) -> f32 {
    let mut most = 0.0f32;
    for (x, y) in [(&a.names, &b.names), (&a.phrases, &b.phrases), (&a.numbers, &b.numbers), (&a.words, &b.words)] {
        x.each_shared(y, |p, q| most = most.max(p.rarity.min(q.rarity)));
    }
    most
}

/// Two measurements that agree within 2 % (a magnitude of 6.1 and a revised 6.0 do; 5.6 and
/// 5.9 do not).
fn close(x: f32, y: f32) -> bool {
    (x - y).abs() <= 0.02 * x.abs().max(y.abs())
}

/// The cosine of two term vectors, scaled down when the terms they share are common.
fn agreement(a: &Vector, b: &Vector) -> f64 {
    let (mut dot, mut mass) = (0.0, 0.0);
    a.each_shared(b, |x, y| {
        dot += f64::from(x.weight) * f64::from(y.weight);
        mass += f64::from((x.rarity.min(y.rarity) - COMMON).max(0.0));
    });
    dot * (mass / EVIDENCE).min(1.0)
}

/// The share of `a`'s lead names (by rarity) that `b` names or writes, scaled down when those
/// are common.
fn contained(a: &Features, b: &Features) -> f64 {
    let (mut total, mut found, mut mass) = (0.0, 0.0, 0.0);
    for t in a.lead_names.terms() {
        total += f64::from(t.weight);
        if b.names.contains(t.hash) || b.words.contains(t.hash) {
            found += f64::from(t.weight);
            mass += f64::from((t.rarity - COMMON).max(0.0));
        }
    }
    if total <= 0.0 {
        return 0.0;
    }
    found / total * (mass / EVIDENCE).min(1.0)
}

/// Why an item joined an event: the score, its pair features with the closest member, and the
/// names, numbers and dates they share (most telling first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reason {
    pub score: f64,
    pub features: [f64; FEATURES],
    pub names: Vec<String>,
    pub numbers: Vec<String>,
    pub dates: Vec<String>,
}

/// Shared terms listed per kind in a reason.
const LISTED: usize = 6;

impl Reason {
    /// The reason `new` matches `member`, with the event's aggregate `score`.
    pub fn of(new: &Features, member: &Features, score: f64) -> Self {
        let list = |a: &Vector, b: &Vector| -> Vec<String> {
            a.shared(b).into_iter().filter_map(|t| new.label(t).map(str::to_owned)).take(LISTED).collect()
        };
        let mut names = list(&new.phrases, &member.phrases);
        names.extend(list(&new.names, &member.names));
        names.truncate(LISTED);
        Self {
            score,
            features: pair(new, member),
            names,
            numbers: list(&new.numbers, &member.numbers),
            dates: list(&new.dates, &member.dates),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "score {:.2}", self.score)?;
        for (label, list) in [("names", &self.names), ("numbers", &self.numbers), ("dates", &self.dates)] {
            if !list.is_empty() {
                write!(f, "; {label}: {}", list.join(", "))?;
            }
        }
        Ok(())
    }
}
