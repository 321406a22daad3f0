//! The online event index: each new item is compared with the few events that share its rarest
//! terms (an inverted index, bounded postings per term, bounded candidates per item), joins the
//! best one when the score clears the threshold, or opens a new event. An item that clears the
//! threshold for two events whose members also agree with each other merges them. Events whose
//! latest item left the time window are forgotten with their postings.

use super::features::{Extract, Features, Item};
use super::hash::Map;
use super::rarity::Rarity;
use super::score::{pair, rarest_shared, Reason};
use super::EventSettings;
use crate::domain::EntryKey;
use chrono::{DateTime, Duration, Utc};
use std::collections::VecDeque;
use std::sync::Arc;

// Rebuilding from stored decisions, and revisiting an edited member: `revisit.rs`.
#[path = "revisit.rs"]
mod revisit;

/// Terms one event is posted under at most: a large event is found by its first members' terms.
const MAX_POSTED_PER_EVENT: usize = 8 * super::features::POSTED;

/// Items counted before `EventSettings::min_rarity` applies. Among few items rarity says little:
/// in a few hundred, one large event's own names are in a tenth of them and look common (on the
/// development set, 462 items, the check at 200 cost 2.5 points of held-out recall).
const RARITY_KNOWN: u64 = 1_000;

/// An event's number, unique within one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub u64);

/// What assigning one item decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub event: EventId,
    /// Joined an existing event (false: opened a new one).
    pub joined: bool,
    /// The best candidate's score and why, whether it was joined or not.
    pub best: Option<(EventId, Reason)>,
    /// Events merged into `event` because this item linked them.
    pub merged: Vec<EventId>,
    /// Events compared (at most `EventSettings::candidates`).
    pub candidates: usize,
}

/// What assigning an item would decide, without assigning it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The event it would join (none: it would open a new one).
    pub join: Option<EventId>,
    pub best: Option<(EventId, Reason)>,
    pub candidates: usize,
}

#[derive(Debug)]
struct Member {
    key: EntryKey,
    origin: u64,
    published: DateTime<Utc>,
    features: Features,
}

#[derive(Debug)]
struct Event {
    language: Option<Box<str>>,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    /// The most recent members, at most `EventSettings::members`.
    members: VecDeque<Arc<Member>>,
    size: usize,
    /// Terms under which the event is posted.
    posted: Vec<u64>,
}

/// Events of the last `window`, their members' features and the inverted index over them.
#[derive(Debug)]
pub struct EventIndex {
    settings: EventSettings,
    rarity: Rarity,
    events: Map<EventId, Event>,
    postings: Map<u64, VecDeque<EventId>>,
    /// (last update, event) in update order: what expiry walks.
    activity: VecDeque<(DateTime<Utc>, EventId)>,
    newest: DateTime<Utc>,
    next: u64,
}

impl EventIndex {
    pub fn new(settings: EventSettings) -> Self {
        Self::with_rarity(settings, Rarity::default())
    }

    /// An index that weighs terms by `rarity` (counted elsewhere, or a smaller sketch).
    pub fn with_rarity(settings: EventSettings, rarity: Rarity) -> Self {
        Self {
            settings,
            rarity,
            events: Map::default(),
            postings: Map::default(),
            activity: VecDeque::new(),
            newest: DateTime::<Utc>::MIN_UTC,
            next: 0,
        }
    }

    pub fn settings(&self) -> &EventSettings {
        &self.settings
    }

    /// Counts an item's terms for rarity without assigning it (warming up on recent items).
    pub fn observe(&mut self, item: &Item<'_>) {
        self.rarity.observe(&Extract::of(item).terms());
    }

    /// `observe`, given the item's terms.
    pub fn observe_terms(&mut self, terms: &[u64]) {
        self.rarity.observe(terms);
    }

    /// Live events (inside the window).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Items assigned to a live event in all (including those no longer compared).
    pub fn size(&self, id: EventId) -> usize {
        self.events.get(&id).map_or(0, |e| e.size)
    }

    /// Members of a live event, most recent last (at most `members` of them).
    pub fn members(&self, id: EventId) -> Vec<EntryKey> {
        self.events.get(&id).map(|e| e.members.iter().map(|m| m.key).collect()).unwrap_or_default()
    }

    /// Assigns one item: joins the best event that clears the threshold or opens a new one.
    pub fn assign(&mut self, item: &Item<'_>) -> Assignment {
        self.assign_extracted(item, &Extract::of(item))
    }

    /// `assign` with the item's terms already read (`Extract::of`, the costly part, which
    /// needs no index and so can run before a commit takes its lock).
    pub fn assign_extracted(&mut self, item: &Item<'_>, extract: &Extract) -> Assignment {
        self.count(extract);
        self.assign_counted(item, extract)
    }

    /// Counts an item's terms for rarity (what `assign` does first).
    pub fn count(&mut self, extract: &Extract) {
        self.rarity.observe(&extract.terms());
    }

    /// `assign_extracted` for an item `count` has counted already: a batch is counted first,
    /// so that its first items are weighed knowing the others (an empty index would weigh the
    /// very first item's terms as seen in every document, and never group it).
    pub fn assign_counted(&mut self, item: &Item<'_>, extract: &Extract) -> Assignment {
        let features = Features::weigh(extract, &self.rarity);
        self.expire(item.published);
        let ranked = self.ranked(item, &features);
        let best = ranked.first().map(|&(s, id, m)| (id, self.reason(&features, id, m, s)));
        let threshold = self.settings.threshold;
        let (event, joined) = match ranked.first() {
            Some(&(s, id, _)) if s >= threshold => (id, true),
            _ => (self.open(item), false),
        };
        self.add_member(event, item, features);
        let bridged: Vec<EventId> =
            ranked.iter().skip(1).filter(|r| r.0 >= threshold + self.settings.merge_margin).map(|r| r.1).collect();
        let merged = bridged.into_iter().filter(|&other| self.try_merge(event, other)).collect();
        Assignment { event, joined, best, merged, candidates: ranked.len() }
    }

    /// Whether an event is still inside the window (not expired or merged away).
    pub fn is_live(&self, id: EventId) -> bool {
        self.events.contains_key(&id)
    }

    fn add_member(&mut self, event: EventId, item: &Item<'_>, mut features: Features) {
        features.labels = Vec::new();
        let member = Member { key: item.key, origin: item.origin, published: item.published, features };
        self.add(event, item.published, Arc::new(member));
    }

    /// What `assign` would decide for `item` now, changing nothing (rarity does not count the
    /// item, and no event expires): the event it would join, if any, and the best candidate.
    pub fn decide(&self, item: &Item<'_>) -> Decision {
        let features = Features::weigh(&Extract::of(item), &self.rarity);
        let ranked = self.ranked(item, &features);
        let best = ranked.first().map(|&(s, id, m)| (id, self.reason(&features, id, m, s)));
        let join = ranked.first().filter(|r| r.0 >= self.settings.threshold).map(|r| r.1);
        Decision { join, best, candidates: ranked.len() }
    }

    /// Candidate events, best first: (aggregate score, event, index of its closest member).
    fn ranked(&self, item: &Item<'_>, f: &Features) -> Vec<(f64, EventId, usize)> {
        let mut out: Vec<(f64, EventId, usize)> = self
            .candidates(item, f)
            .into_iter()
            .filter_map(|id| {
                let e = self.events.get(&id)?;
                // Only other outlets' reports vouch for an item: one outlet's template or
                // follow-ups are not an event of several.
                let scores: Vec<(usize, f64)> = (e.members.iter().enumerate())
                    .filter(|(_, m)| m.origin != item.origin)
                    .map(|(i, m)| (i, self.pair_score(f, item.published, m)))
                    .collect();
                let closest = scores.iter().max_by(|a, b| a.1.total_cmp(&b.1))?.0;
                Some((trimmed_mean(scores.into_iter().map(|x| x.1).collect()), id, closest))
            })
            .collect();
        out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        out
    }

    /// The pair score with a member, less the time penalty for every day beyond the first; 0
    /// (no evidence either way) when they share nothing rare.
    fn pair_score(&self, f: &Features, published: DateTime<Utc>, m: &Member) -> f64 {
        // Nothing rare in common is no evidence of one happening, however alike the rest; with
        // few items counted no term can look rare yet, so the check waits for enough of them.
        if self.rarity_known() && rarest_shared(f, &m.features) < self.settings.min_rarity {
            return 0.0;
        }
        let days = (published - m.published).num_seconds().unsigned_abs() as f64 / 86_400.0;
        self.settings.model.score(&pair(f, &m.features)) - self.settings.day_penalty * (days - 1.0).max(0.0)
    }

    fn rarity_known(&self) -> bool {
        self.rarity.docs() >= RARITY_KNOWN
    }

    /// Whether a term may find candidates: rare enough to be evidence (`min_rarity`).
    fn telling(&self, term: u64) -> bool {
        !self.rarity_known() || self.rarity.rarity(term) >= f64::from(self.settings.min_rarity)
    }

    /// Events sharing at least `min_shared` of the item's posted terms (fewer for an item with
    /// few terms), inside the window and (unless cross-language) in its language: most shared
    /// terms first, at most `candidates`.
    fn candidates(&self, item: &Item<'_>, f: &Features) -> Vec<EventId> {
        let mut hits: Map<EventId, usize> = Map::default();
        let telling = f.posted.iter().filter(|t| self.telling(**t));
        for id in telling.filter_map(|t| self.postings.get(t)).flatten() {
            *hits.entry(*id).or_default() += 1;
        }
        let least = self.settings.min_shared.min(f.posted.len() / 4).max(1);
        let mut ranked: Vec<(usize, EventId)> =
            hits.into_iter().filter(|h| h.1 >= least).map(|(id, n)| (n, id)).collect();
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let (window, language) = (self.window(), item.language.map(primary));
        let fits = |e: &Event| {
            e.first.checked_sub_signed(window).is_none_or(|from| item.published >= from)
                && e.last.checked_add_signed(window).is_none_or(|to| item.published <= to)
                && (self.settings.cross_language || same_language(e.language.as_deref(), language.as_deref()))
        };
        let live = ranked.into_iter().filter(|(_, id)| self.events.get(id).is_some_and(fits));
        live.take(self.settings.candidates).map(|(_, id)| id).collect()
    }

    fn reason(&self, f: &Features, id: EventId, member: usize, s: f64) -> Reason {
        match self.events.get(&id).and_then(|e| e.members.get(member)) {
            Some(m) => Reason::of(f, &m.features, s),
            None => Reason { score: s, ..Reason::default() },
        }
    }

    fn open(&mut self, item: &Item<'_>) -> EventId {
        let id = EventId(self.next);
        self.next += 1;
        let language = item.language.map(|l| primary(l).into());
        let event = Event {
            language,
            first: item.published,
            last: item.published,
            members: VecDeque::new(),
            size: 0,
            posted: Vec::new(),
        };
        self.events.insert(id, event);
        id
    }

    fn add(&mut self, id: EventId, published: DateTime<Utc>, m: Arc<Member>) {
        let (max_members, max_posted) = (self.settings.members, self.settings.postings);
        let terms = m.features.posted.clone();
        let Some(e) = self.events.get_mut(&id) else { return };
        e.first = e.first.min(published);
        e.last = e.last.max(published);
        e.size += 1;
        e.members.push_back(m);
        while e.members.len() > max_members.max(1) {
            e.members.pop_front();
        }
        for t in terms {
            if !e.posted.contains(&t) {
                if e.posted.len() >= MAX_POSTED_PER_EVENT {
                    continue;
                }
                e.posted.push(t);
            }
            let list = self.postings.entry(t).or_default();
            if !list.contains(&id) {
                list.push_back(id);
                if list.len() > max_posted.max(1) {
                    list.pop_front();
                }
            }
        }
        self.activity.push_back((published, id));
        self.newest = self.newest.max(published);
    }

    /// Merges `other` into `into` when their members agree (the trimmed mean of their pair
    /// scores clears the threshold): one item linking two events is not enough on its own.
    fn try_merge(&mut self, into: EventId, other: EventId) -> bool {
        let (Some(a), Some(b)) = (self.events.get(&into), self.events.get(&other)) else { return false };
        let cap = self.settings.merge_members.max(1);
        let cross: Vec<f64> = a
            .members
            .iter()
            .rev()
            .take(cap)
            .flat_map(|x| b.members.iter().rev().take(cap).map(move |y| (x, y)))
            .filter(|(x, y)| x.origin != y.origin)
            .map(|(x, y)| self.pair_score(&x.features, x.published, y))
            .collect();
        if cross.is_empty() || trimmed_mean(cross) < self.settings.threshold {
            return false;
        }
        let Some(gone) = self.events.remove(&other) else { return false };
        for t in &gone.posted {
            if let Some(list) = self.postings.get_mut(t) {
                list.retain(|id| *id != other);
            }
        }
        let (moved, size, first) = (gone.members.len(), gone.size, gone.first);
        for m in gone.members {
            self.add(into, m.published, m);
        }
        if let Some(e) = self.events.get_mut(&into) {
            // `add` counted each moved member once; the merged event had `size` in all.
            e.size = e.size - moved + size;
            e.first = e.first.min(first);
        }
        true
    }

    /// Forgets events whose latest member is older than the window before the newest item.
    fn expire(&mut self, published: DateTime<Utc>) {
        // No horizon before the earliest time there is: nothing can be that old.
        let Some(horizon) = self.newest.max(published).checked_sub_signed(self.window()) else { return };
        while let Some(&(t, id)) = self.activity.front().filter(|(t, _)| *t < horizon) {
            self.activity.pop_front();
            if self.events.get(&id).is_some_and(|e| e.last <= t) {
                self.drop_event(id);
            }
        }
    }

    fn drop_event(&mut self, id: EventId) {
        let Some(e) = self.events.remove(&id) else { return };
        for t in e.posted {
            if let Some(list) = self.postings.get_mut(&t) {
                list.retain(|x| *x != id);
                if list.is_empty() {
                    self.postings.remove(&t);
                }
            }
        }
    }

    fn window(&self) -> Duration {
        Duration::from_std(self.settings.window).unwrap_or(Duration::MAX)
    }
}

/// The mean of the higher three quarters of `scores`: one odd member (a sidebar, a storyline's
/// other day) does not keep an item out, but most members must agree.
fn trimmed_mean(mut scores: Vec<f64>) -> f64 {
    if scores.is_empty() {
        return f64::NEG_INFINITY;
    }
    scores.sort_by(|a, b| b.total_cmp(a));
    let kept = scores.len() - scores.len() / 4;
    scores[..kept].iter().sum::<f64>() / kept as f64
}

/// The primary language subtag, lowercased: `en-GB` and `EN` are both `en`.
fn primary(language: &str) -> String {
    language.split(['-', '_']).next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Same language (primary subtags), or one of them unknown (no evidence that they differ).
fn same_language(event: Option<&str>, item: Option<&str>) -> bool {
    match (event, item) {
        (Some(e), Some(i)) => e == i,
        _ => true,
    }
}
