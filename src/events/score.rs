//! How strongly two items report the same event: a logistic score over what they share (names,
//! numbers, dates, rare words of body, lead and title) and what sets them apart (the latest
//! years they mention lie apart, the measurements of their leads differ). The weights are in
//! `weights.rs`, with how they were trained; `Model::score` gives the log-odds of "same event".

use super::features::Features;

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

/// The pair features of two items (symmetric).
pub fn pair(a: &Features, b: &Features) -> [f64; FEATURES] {
    let (years_apart, years_agree) = match (a.latest_year, b.latest_year) {
        (Some(x), Some(y)) if (x - y).abs() >= 2 => (1.0, 0.0),
        (Some(_), Some(_)) => (0.0, 1.0),
        _ => (0.0, 0.0),
    };
    let (measures_differ, measures_agree) = if a.measures.is_empty() || b.measures.is_empty() {
        (0.0, 0.0)
    } else if a.measures.iter().any(|m| b.measures.binary_search(m).is_ok()) {
        (0.0, 1.0)
    } else {
        (1.0, 0.0)
    };
    let ab = a.lead_names.contained_in(&b.names, &b.words);
    let ba = b.lead_names.contained_in(&a.names, &a.words);
    [
        a.names.dot(&b.names),
        a.phrases.dot(&b.phrases),
        a.words.dot(&b.words),
        a.lead.dot(&b.lead),
        a.title.dot(&b.title),
        a.numbers.dot(&b.numbers),
        a.dates.dot(&b.dates),
        years_apart,
        years_agree,
        ab.min(ba),
        ab.max(ba),
        measures_differ,
        measures_agree,
    ]
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
        let list = |a: &super::vector::Vector, b: &super::vector::Vector| -> Vec<String> {
            a.shared(b).into_iter().filter_map(|(t, _)| new.label(t).map(str::to_owned)).take(LISTED).collect()
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
