//! The features of one item: who (names), where (names of places), how many (numbers), when
//! (dates, the latest year mentioned), what (rare words of the body, the lead and the title),
//! each as a term vector weighted by rarity (sublinear count × inverse document frequency) and
//! cut to a fixed size, so one item's features cost a bounded few kilobytes.

use super::hash::{term, term_lower, Kind, Map};
use super::names::names;
use super::numbers::numbers;
use super::rarity::Rarity;
use super::tokens::{tokens, Token};
use super::vector::{Term, Vector};
use crate::domain::EntryKey;
use chrono::{DateTime, Utc};

/// One item as event assignment sees it.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub key: EntryKey,
    /// The outlet (`origin_of` its source id): an outlet's own reports never make an event by
    /// themselves, since an event is a happening reported by several outlets.
    pub origin: u64,
    pub title: &'a str,
    /// The standfirst or summary, when the feed gives one apart from the body.
    pub lead: Option<&'a str>,
    /// The body text (plain text).
    pub text: &'a str,
    /// The item's language when known (`en`, `fr-CA`, ...).
    pub language: Option<&'a str>,
    pub published: DateTime<Utc>,
}

/// An outlet's `Item::origin`.
pub fn origin_of(source: &str) -> u64 {
    super::hash::mix(
        source.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)),
    )
}

/// Body tokens in the lead: the title and this many tokens of the lead (or body).
const LEAD_TOKENS: usize = 60;
/// The largest number of terms kept per feature.
const NAMES: usize = 32;
const PHRASES: usize = 16;
const WORDS: usize = 64;
const LEAD: usize = 40;
const TITLE: usize = 16;
const NUMBERS: usize = 24;
const DATES: usize = 12;
/// Terms of an item posted to (and looked up in) the inverted index.
pub const POSTED: usize = 12;

/// What an item says, before weighting: counts of hashed terms per feature.
#[derive(Debug, Default)]
pub struct Extract {
    names: Map<u64, u32>,
    phrases: Map<u64, u32>,
    words: Map<u64, u32>,
    lead: Map<u64, u32>,
    title: Map<u64, u32>,
    numbers: Map<u64, u32>,
    dates: Vec<u64>,
    measures: Vec<f32>,
    latest_year: Option<i32>,
    labels: Vec<(u64, String)>,
}

impl Extract {
    pub fn of(item: &Item<'_>) -> Self {
        let body_text = if item.text.trim().is_empty() { item.lead.unwrap_or("") } else { item.text };
        let (title, body) = (tokens(item.title), tokens(body_text));
        let lead_body = item.lead.map(tokens);
        let lead_part = lead_body.as_deref().unwrap_or(&body);
        let lead_part = &lead_part[..lead_part.len().min(LEAD_TOKENS)];
        let found = names(&title, &body);
        let mut all: Vec<Token<'_>> = title.clone();
        all.extend(lead_part.iter().copied());
        let lead_len = all.len();
        // A lead of the body's own first tokens is not read twice.
        let rest = if item.lead.is_some() { &body[..] } else { &body[lead_part.len()..] };
        let nums = numbers(&[all.as_slice(), rest].concat(), lead_len);
        let mut labels = found.labels;
        labels.extend(nums.labels);
        Self {
            words: counts(title.iter().chain(&body)),
            lead: counts(all.iter()),
            title: counts(title.iter()),
            names: found.words,
            phrases: found.phrases,
            numbers: nums.numbers,
            dates: nums.dates,
            measures: nums.measures,
            latest_year: nums.latest_year,
            labels,
        }
    }

    /// Every distinct term, as rarity counts them.
    pub fn terms(&self) -> Vec<u64> {
        let maps = [&self.words, &self.names, &self.phrases, &self.numbers];
        let mut t: Vec<u64> = maps.iter().flat_map(|m| m.keys().copied()).chain(self.dates.iter().copied()).collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}

/// The `POSTED` heaviest distinct terms of `lists`.
fn most_telling(lists: &[&Vec<Term>]) -> Vec<u64> {
    let mut all: Vec<Term> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    all.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.hash.cmp(&b.hash)));
    let mut out: Vec<u64> = Vec::with_capacity(POSTED);
    for t in all {
        if out.len() == POSTED {
            break;
        }
        if !out.contains(&t.hash) {
            out.push(t.hash);
        }
    }
    out
}

/// Counts of the words among `tokens`: lowercased, starting with a letter, three characters or more.
fn counts<'a, 'b: 'a>(tokens: impl Iterator<Item = &'a Token<'b>>) -> Map<u64, u32> {
    let mut out = Map::default();
    for t in tokens.filter(|t| t.text.starts_with(char::is_alphabetic) && t.text.chars().nth(2).is_some()) {
        *out.entry(term_lower(Kind::Word, t.text)).or_default() += 1;
    }
    out
}

/// The weighted features of one item, compared with those of another by `score`.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub names: Vector,
    pub phrases: Vector,
    pub words: Vector,
    pub lead: Vector,
    pub title: Vector,
    pub numbers: Vector,
    pub dates: Vector,
    /// Names in the title or lead, weighted by rarity alone (not scaled).
    pub lead_names: Vector,
    /// Decimal numbers of the title and lead (sorted).
    pub measures: Vec<f32>,
    pub latest_year: Option<i32>,
    /// How rare the latest year is (`Rarity::rarity`).
    pub year_rarity: f32,
    /// The item's most telling terms, rarest and most repeated first: what the index posts.
    pub posted: Vec<u64>,
    /// Readable text of name, number and date terms, for reasons; dropped once stored.
    pub labels: Vec<(u64, Box<str>)>,
}

impl Features {
    /// Weighs `x` by the rarity counted so far.
    pub fn weigh(x: &Extract, rarity: &Rarity) -> Self {
        // One sketch lookup per distinct term, whatever the features it is in.
        let known: Map<u64, (f32, f32)> = x.terms().into_iter().map(|t| (t, rarity.both(t))).collect();
        let look = |t: u64| known.get(&t).copied().unwrap_or((0.0, 0.0));
        let weigh = |m: &Map<u64, u32>| -> Vec<Term> {
            m.iter()
                .map(|(&t, &n)| (t, (1.0 + (n as f32).ln()), look(t)))
                .map(|(t, tf, (i, r))| Term::new(t, tf * i, r))
                .collect()
        };
        let (names, phrases, title, lead) = (weigh(&x.names), weigh(&x.phrases), weigh(&x.title), weigh(&x.lead));
        let lead_names: Vec<Term> =
            x.names.keys().filter(|t| x.lead.contains_key(t)).map(|&t| Term::new(t, look(t).0, look(t).1)).collect();
        let posted = most_telling(&[&names, &phrases, &title, &lead]);
        let mut labels: Vec<(u64, Box<str>)> = x.labels.iter().map(|(h, l)| (*h, l.as_str().into())).collect();
        labels.sort();
        labels.dedup_by_key(|l| l.0);
        let mut measures = x.measures.clone();
        measures.sort_by(f32::total_cmp);
        measures.dedup();
        let year_rarity = x.latest_year.map_or(0.0, |y| look(term(Kind::Date, &y.to_string())).1);
        Self {
            names: Vector::top_unit(names, NAMES),
            phrases: Vector::top_unit(phrases, PHRASES),
            words: Vector::top_unit(weigh(&x.words), WORDS),
            lead: Vector::top_unit(lead, LEAD),
            title: Vector::top_unit(title, TITLE),
            numbers: Vector::top_unit(weigh(&x.numbers), NUMBERS),
            dates: Vector::top_unit(x.dates.iter().map(|&t| Term::new(t, look(t).0, look(t).1)).collect(), DATES),
            lead_names: Vector::raw(lead_names, NAMES),
            measures,
            latest_year: x.latest_year,
            year_rarity,
            posted,
            labels,
        }
    }

    /// The readable text of a term, when this item named it.
    pub fn label(&self, term: u64) -> Option<&str> {
        self.labels.binary_search_by_key(&term, |l| l.0).ok().map(|i| &*self.labels[i].1)
    }
}
