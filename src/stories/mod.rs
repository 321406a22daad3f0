//! One story, one item: recognising the same story across sources (and the same item under a
//! new identity at one source). Pure decisions read through one layered index view
//! (`layered.rs`) and return the records to write; the store stores them.

mod assign;
mod layered;
mod near;
mod settle;
pub mod sketch;

/// The tuning is plain config data; stories reads it from there.
pub use crate::config::StorySettings;
pub use assign::{assign, Assigned, PollItems};
pub use near::SharedNear;
pub use settle::{settle, without};

use crate::domain::{Entry, EntryKey, Signature};
use crate::text::sanitized_to_text;
use chrono::{DateTime, Utc};
use layered::Layered;
use std::collections::{HashMap, HashSet};

/// Why an item matched a stored one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    Url,
    Text,
    TitleText,
    Near { jaccard: f64, containment: f64 },
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Url => "url",
            Self::Text => "text",
            Self::TitleText => "title+text",
            Self::Near { .. } => "near",
        }
    }

    pub fn score(&self) -> f64 {
        match self {
            Self::Near { containment, .. } => *containment,
            _ => 1.0,
        }
    }
}

/// The identity features of one item.
#[derive(Debug, Clone)]
pub struct Features {
    pub story_url: Option<String>,
    /// Fingerprint of the text alone (long texts), or of title + text (short ones).
    pub text_fp: Option<([u8; 16], Rule)>,
    pub shingles: sketch::Shingles,
    pub sig: Option<Signature>,
    pub bands: Option<[u64; sketch::BANDS]>,
}

/// The body text an item is compared on: the longer of its content and summary, or its article's
/// full body when one was read (outlets that carry only teasers in their feeds compare better).
pub fn body_text(e: &Entry) -> String {
    body_text_with(e, &e.summary.as_deref().map(sanitized_to_text).unwrap_or_default())
}

/// `body_text` for a caller that has the summary's text already.
pub fn body_text_with(e: &Entry, summary: &str) -> String {
    if let Some(body) = e.article.as_deref().filter(|a| a.has_body()).and_then(|a| a.body_html.as_deref()) {
        return sanitized_to_text(body);
    }
    let content = e.content.as_deref().map(sanitized_to_text).unwrap_or_default();
    if content.len() >= summary.len() {
        content
    } else {
        summary.to_owned()
    }
}

pub fn features(e: &Entry, s: &StorySettings) -> Features {
    features_of_words(e, &crate::text::words(&body_text(e)), s)
}

/// Features from the item's body words, when the caller has them already.
pub fn features_of_words(e: &Entry, words: &[String], s: &StorySettings) -> Features {
    let text_fp = text_key(e, words, s);
    let shingles = sketch::shingles(words);
    let sig = (words.len() >= s.min_words).then(|| sketch::minhash(&shingles));
    let bands = sig.as_ref().map(sketch::bands);
    Features { story_url: e.story_url.clone(), text_fp, shingles, sig, bands }
}

/// The exact-text key: the text alone when long enough, else title and text together.
fn text_key(e: &Entry, words: &[String], s: &StorySettings) -> Option<([u8; 16], Rule)> {
    if words.len() >= s.min_words {
        return Some((sketch::text_fingerprint(words), Rule::Text));
    }
    let mut all = crate::text::words(&e.title);
    all.extend(words.iter().cloned());
    (all.len() >= 15)
        .then(|| (sketch::text_fingerprint(&[&["\u{1f}title".to_owned()], all.as_slice()].concat()), Rule::TitleText))
}

/// The keys of one item that a feed's items may share: its article URL (hashed) and its
/// exact-text key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedKeys {
    pub url: Option<u64>,
    pub text: Option<[u8; 16]>,
}

impl SharedKeys {
    pub fn of(e: &Entry, words: &[String], s: &StorySettings) -> Self {
        let text = text_key(e, words, s).map(|(fp, _)| fp);
        Self { url: e.story_url.as_deref().map(sketch::url_hash), text }
    }
}

/// Features of a poll's items by key, computed before the commit lock is taken.
pub type FeatureMap = HashMap<EntryKey, Features>;

/// An item in a near-duplicate band bucket, with its published time.
pub type BandHit = (EntryKey, DateTime<Utc>);
/// Band buckets: (band number, band hash) to the items in it.
pub type BandMap = std::collections::HashMap<(u8, u64), Vec<BandHit>>;

/// Candidates checked exactly per item, most band hits first: bounds the cost when common
/// phrases put many unrelated items into one bucket.
const MAX_NEAR_CANDIDATES: usize = 32;

/// A stored entry the new item matches, and why.
#[derive(Debug, Clone)]
pub struct Match {
    pub existing: Entry,
    pub rule: Rule,
}

impl Match {
    /// The same item under a new identity at the same source (GUID scheme, URL structure or
    /// domain changed): to be merged into the stored entry, not added. Only when the stored
    /// entry is not itself still in the feed, which would make them two items.
    pub fn is_same_item(&self, e: &Entry, still_in_feed: bool) -> bool {
        let strong = match self.rule {
            Rule::Near { jaccard, .. } => jaccard >= 0.9,
            _ => true,
        };
        self.existing.source == e.source && strong && !still_in_feed
    }
}

/// Finds stored entries this item is the same story as: by article URL, by exact text and by
/// near-duplicate text published within the window. Several matches in different stories mean
/// this item bridges them; reporting every one keeps the grouping independent of the order in
/// which sources are polled. Never matches the item itself.
fn find_matches(e: &Entry, f: &Features, idx: &Layered<'_>, s: &StorySettings, skip: &Skip) -> Vec<Match> {
    let found = |key: Option<EntryKey>, rule: Rule| {
        key.filter(|k| *k != e.key).and_then(|k| idx.entry(&k)).map(|existing| Match { existing, rule })
    };
    let mut out: Vec<Match> = Vec::new();
    if let Some(url) = f.story_url.as_deref().filter(|u| !skip.url(u)) {
        out.extend(found(idx.by_url(url), Rule::Url));
    }
    let text = f.text_fp.as_ref().filter(|(fp, _)| !skip.text(fp));
    out.extend(text.and_then(|(fp, rule)| found(idx.by_text(fp), *rule)));
    out.extend(near_matches(e, f, idx, s));
    let mut seen = HashSet::new();
    out.retain(|m| seen.insert(m.existing.story.unwrap_or(m.existing.key)));
    out
}

/// The stored items `e` is the same story as, read through `view` and the band memory: what
/// assignment would join it to (assignment runs the same search itself; this one is for
/// measuring it and for diagnostics).
pub fn matches_of(
    e: &Entry,
    view: &crate::store::View<'_>,
    near: &SharedNear,
    s: &StorySettings,
    now: DateTime<Utc>,
) -> Result<Vec<EntryKey>, crate::store::StoreError> {
    let f = features(e, s);
    near.with(view, now, |memory| {
        let idx = Layered::new(view, memory, FeatureMap::default());
        find_matches(e, &f, &idx, s, &Skip::default()).into_iter().map(|m| m.existing.key).collect()
    })
}

/// Every near-duplicate candidate that passes both thresholds, best containment first.
fn near_matches(e: &Entry, f: &Features, idx: &Layered<'_>, s: &StorySettings) -> Vec<Match> {
    let (Some(bands), Some(sig)) = (f.bands.as_ref(), f.sig.as_ref()) else { return Vec::new() };
    let mut out: Vec<Match> = Vec::new();
    for key in ranked_candidates(e, idx.near(bands), s) {
        if !worth_loading(sig, idx.signature(&key), s) {
            continue;
        }
        let Some(other) = idx.entry(&key) else { continue };
        let theirs = sketch::shingles(&crate::text::words(&body_text(&other)));
        let (jaccard, containment) = sketch::similarity(&f.shingles, &theirs);
        if jaccard >= s.near_jaccard && containment >= s.near_containment {
            out.push(Match { existing: other, rule: Rule::Near { jaccard, containment } });
        }
    }
    out.sort_by(|a, b| b.rule.score().total_cmp(&a.rule.score()).then(a.existing.key.cmp(&b.existing.key)));
    out
}

/// The items sharing bands with `e` within the window, most shared bands first, at most
/// `MAX_NEAR_CANDIDATES`.
fn ranked_candidates(e: &Entry, hits: Vec<BandHit>, s: &StorySettings) -> Vec<EntryKey> {
    let window = chrono::Duration::from_std(s.window).unwrap_or(chrono::Duration::MAX);
    let mut counted: HashMap<EntryKey, usize> = HashMap::new();
    for (key, published) in hits {
        if key != e.key && (published - e.published).abs() <= window {
            *counted.entry(key).or_default() += 1;
        }
    }
    let mut ranked: Vec<(EntryKey, usize)> = counted.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(MAX_NEAR_CANDIDATES).map(|(k, _)| k).collect()
}

/// Whether a candidate is worth loading: the signatures estimate Jaccard within about ±0.15,
/// so clear misses are skipped (a candidate without a stored signature is loaded).
pub fn worth_loading(mine: &Signature, theirs: Option<Signature>, s: &StorySettings) -> bool {
    theirs.map_or(1.0, |theirs| sketch::estimate(mine, &theirs)) + 0.2 >= s.near_jaccard
}

/// The stored near-duplicate candidates of items about to be decided, with each item's
/// signature: what the decisions will read, for a remote store to read ahead in one go.
pub fn near_candidates<'a>(
    view: &crate::store::View<'_>,
    near: &SharedNear,
    items: impl Iterator<Item = (&'a Entry, &'a Features)>,
    s: &StorySettings,
    now: DateTime<Utc>,
) -> Result<Vec<(EntryKey, Signature)>, crate::store::StoreError> {
    near.with(view, now, |memory| {
        let mut out = Vec::new();
        for (e, f) in items {
            let (Some(bands), Some(sig)) = (f.bands.as_ref(), f.sig) else { continue };
            out.extend(ranked_candidates(e, memory.near(bands), s).into_iter().map(|k| (k, sig)));
        }
        out
    })
}

/// Keys that must not link items: article URLs and texts that many items of one feed share
/// (a feed whose every item links to its home page, a "read more" teaser).
#[derive(Debug, Default, Clone)]
pub struct Skip {
    urls: HashSet<u64>,
    texts: HashSet<[u8; 16]>,
}

impl Skip {
    /// A key shared by three or more items of one feed is a landing page or a stock teaser;
    /// two items sharing one are most likely the same article listed twice.
    pub fn of(items: impl IntoIterator<Item = SharedKeys>) -> Self {
        let mut urls: HashMap<u64, usize> = HashMap::new();
        let mut texts: HashMap<[u8; 16], usize> = HashMap::new();
        for k in items {
            if let Some(u) = k.url {
                *urls.entry(u).or_default() += 1;
            }
            if let Some(t) = k.text {
                *texts.entry(t).or_default() += 1;
            }
        }
        Self {
            urls: urls.into_iter().filter(|(_, n)| *n >= SHARED).map(|(u, _)| u).collect(),
            texts: texts.into_iter().filter(|(_, n)| *n >= SHARED).map(|(t, _)| t).collect(),
        }
    }

    pub fn url(&self, url: &str) -> bool {
        self.urls.contains(&sketch::url_hash(url))
    }

    pub fn text(&self, fp: &[u8; 16]) -> bool {
        self.texts.contains(fp)
    }
}

const SHARED: usize = 3;

#[cfg(test)]
mod tests;
