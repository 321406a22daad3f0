//! The events step of a commit, after stories: each new story's first report is assigned to an
//! event (or opens one), events an item links are merged, and every changed event is settled:
//! its primary is the earliest visible report, and each report's `EventPlace` says where it
//! shows. Reads go through the commit's view; the records to write are returned.

use super::features::Extract;
use super::index::Assignment;
use super::live::{Live, Report, SharedEvents};
use super::score::Reason;
use crate::domain::{Change, ChannelId, Entry, EntryKey, EventMember, EventPlace, EventRecord, IndexWrite, TopicId};
use crate::store::{StoreError, View};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which channels show one item per event (the others show one per story).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped {
    pub all: bool,
    pub topics: HashSet<TopicId>,
}

impl Grouped {
    /// From `[stories] group` and each topic's own `group`.
    pub fn of(stories: &crate::config::StorySettings, topics: &[crate::config::TopicSettings]) -> Self {
        use crate::config::Grouping::Event;
        let topics = topics.iter().filter(|t| t.group.unwrap_or(stories.group) == Event).map(|t| t.id.clone());
        Self { all: stories.group == Event, topics: topics.collect() }
    }

    /// Whether this channel shows one item per event (a source's channel never does).
    pub fn groups(&self, ch: &ChannelId) -> bool {
        match ch {
            ChannelId::All => self.all,
            ChannelId::Topic(t) => self.topics.contains(t),
            ChannelId::Source(_) => false,
        }
    }

    /// Whether any channel groups by event: if none does, events are not assigned at all.
    pub fn any(&self) -> bool {
        self.all || !self.topics.is_empty()
    }

    /// Where a report shows: the primary in every channel it is routed to, and for the event in
    /// grouped topics only other reports were routed to; another report nowhere grouped.
    pub fn place(&self, id: EntryKey, e: &Entry, primary: bool, others: &[TopicId]) -> EventPlace {
        let grouped = |t: &&TopicId| self.topics.contains(*t);
        if primary {
            let own: HashSet<&TopicId> = e.own_topics().collect();
            let mut topics: Vec<TopicId> =
                others.iter().filter(grouped).filter(|t| !own.contains(t)).cloned().collect();
            topics.sort();
            topics.dedup();
            return EventPlace { id, primary, hidden: Vec::new(), topics };
        }
        let mut hidden: Vec<ChannelId> = e.own_topics().filter(grouped).cloned().map(ChannelId::Topic).collect();
        if self.all {
            hidden.insert(0, ChannelId::All);
        }
        hidden.dedup();
        EventPlace { id, primary, hidden, topics: Vec::new() }
    }
}

/// Events' terms of a poll's new items, read before the commit lock.
pub type Extracts = HashMap<EntryKey, Extract>;

/// An edited report leaves its event when it scores this far below the threshold against the
/// event's other reports: a margin, so that a report on the edge does not come and go.
const SPLIT_MARGIN: f64 = 0.5;

/// Whether an item is news of the window before `now`: only such items open or join events. A
/// backlog of older items (a new source's archive, a bulk import) would be weighed against
/// nothing of its time, and the index, a window over the live stream, would not keep them.
fn live(e: &Entry, now: DateTime<Utc>, window: std::time::Duration) -> bool {
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    now.checked_sub_signed(window).is_none_or(|from| e.published >= from)
}

/// The terms of the changes that may open, join or leave an event: new items of the window
/// and edits of reports in an event.
pub fn extracts(changes: &[Change], now: DateTime<Utc>, window: std::time::Duration) -> Extracts {
    let wanted = |c: &&Change| match c {
        // A private source's items are kept out of events (`pipeline::commit`).
        Change::New(e) => !e.held_back && !e.private && live(e, now, window),
        Change::Updated { edited, previous, .. } => *edited && previous.event.is_some(),
    };
    changes.iter().filter(wanted).map(|c| (c.entry().key, Report::of(c.entry()).extract())).collect()
}

/// Runs the events step over a commit's changes (after story assignment); returns the changes
/// with the entries it rewrote, and the event records to write.
pub fn group(
    changes: Vec<Change>,
    extracts: &Extracts,
    view: &View<'_>,
    shared: &SharedEvents,
    grouped: &Grouped,
    now: DateTime<Utc>,
) -> Result<(Vec<Change>, Vec<IndexWrite>), StoreError> {
    let window = shared.settings().window;
    let fresh = |c: &Change| {
        c.as_new().is_some_and(|e| !e.secondary && !e.held_back && e.event.is_none() && live(e, now, window))
    };
    let mut g = Step::new(view, grouped, changes);
    g.carry_places();
    // Only placing a report or weighing an edit needs the index: a commit of older items (a
    // backlog, an import, a feed's archive) neither waits for its rebuild nor starts one.
    if !g.changes.iter().any(|c| fresh(c) || rechecked(c, extracts)) {
        g.resettle_moved();
        return g.finish();
    }
    shared.with(view, now, |index| {
        for x in g.changes.iter().filter(|c| fresh(c)).filter_map(|c| extracts.get(&c.entry().key)) {
            index.index.count(x);
        }
        for i in 0..g.changes.len() {
            let Some(e) = g.changes[i].as_new().filter(|_| fresh(&g.changes[i])) else { continue };
            let a = match extracts.get(&e.key) {
                // The terms were read off the lock: the index needs only the item's key,
                // time and language besides.
                Some(x) => index.index.assign_counted(&Report::light(e).item(), x),
                None => index.index.assign(&Report::of(e).item()),
            };
            let key = e.key;
            g.joined(index, key, &a)?;
        }
        g.recheck_edits(index, extracts)?;
        g.resettle_moved();
        g.finish()
    })?
}

/// Whether `recheck_edits` weighs this change against its event.
fn rechecked(c: &Change, extracts: &Extracts) -> bool {
    matches!(c, Change::Updated { entry, edited: true, .. } if entry.event.is_some() && extracts.contains_key(&entry.key))
}

/// One commit's events step.
struct Step<'a, 'v> {
    view: &'a View<'v>,
    grouped: &'a Grouped,
    changes: Vec<Change>,
    pending: HashMap<EntryKey, usize>,
    /// Events changed by this commit (`None`: merged into another).
    records: HashMap<EntryKey, Option<EventRecord>>,
    /// Events to settle, and primaries to deliver again (their event merged with another).
    unsettled: BTreeSet<EntryKey>,
    redeliver: HashSet<EntryKey>,
}

impl<'a, 'v> Step<'a, 'v> {
    fn new(view: &'a View<'v>, grouped: &'a Grouped, changes: Vec<Change>) -> Self {
        let pending = changes.iter().enumerate().map(|(i, c)| (c.entry().key, i)).collect();
        let (records, unsettled, redeliver) = Default::default();
        Self { view, grouped, changes, pending, records, unsettled, redeliver }
    }

    /// An edited report keeps its place: planning built its new version without one.
    fn carry_places(&mut self) {
        for c in &mut self.changes {
            if let Change::Updated { previous, entry, .. } = c {
                if entry.event.is_none() {
                    entry.event.clone_from(&previous.event);
                }
            }
        }
    }

    fn entry(&self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        match self.pending.get(key) {
            Some(&i) => Ok(Some(self.changes[i].entry().clone())),
            None => self.view.entry(key),
        }
    }

    fn record(&self, id: &EntryKey) -> Result<Option<EventRecord>, StoreError> {
        match self.records.get(id) {
            Some(r) => Ok(r.clone()),
            None => self.view.event_record(id),
        }
    }

    /// The record of a stored event, or of a lone report's event (made up: it has none yet).
    fn record_or_single(&self, id: &EntryKey) -> Result<Option<EventRecord>, StoreError> {
        if let Some(r) = self.record(id)? {
            return Ok(Some(r));
        }
        Ok(self.entry(id)?.map(|e| EventRecord::single(&e)))
    }

    /// Books what assigning report `key` decided: a join adds it to its event's record, a new
    /// event is named after it, and events it linked are merged into its event.
    fn joined(&mut self, live: &mut Live, key: EntryKey, a: &Assignment) -> Result<(), StoreError> {
        let Some(id) = (if a.joined { live.stored_id(a.event) } else { Some(key) }) else { return Ok(()) };
        live.name(a.event, id);
        if a.joined {
            let (Some(mut record), Some(e)) = (self.record_or_single(&id)?, self.entry(&key)?) else { return Ok(()) };
            let reason = a.best.as_ref().map(|(_, r)| r.clone()).unwrap_or_default();
            record.members.push(member(&e, "event", &reason));
            self.records.insert(id, Some(record));
            self.unsettled.insert(id);
        }
        for gone in &a.merged {
            let Some(from) = live.forget(*gone) else { continue };
            self.merge(id, from)?;
        }
        Ok(())
    }

    /// An edited report is scored again against its event's other reports; one that no longer
    /// fits leaves the event (a split) and shows on its own again.
    fn recheck_edits(&mut self, live: &mut Live, extracts: &Extracts) -> Result<(), StoreError> {
        let threshold = live.index.settings().threshold;
        for i in 0..self.changes.len() {
            let Change::Updated { entry, edited: true, .. } = &self.changes[i] else { continue };
            let (Some(place), Some(x)) = (entry.event.clone(), extracts.get(&entry.key)) else { continue };
            let Some(event) = live.event_of(&place.id) else { continue };
            let item = Report::light(entry);
            let fits = live.index.rescore(&item.item(), x, event).is_none_or(|r| r.score >= threshold - SPLIT_MARGIN);
            if !fits {
                let alone = live.index.detach(&item.item(), x, event);
                self.split(live, (event, place.id), (alone, entry.key))?;
            }
        }
        Ok(())
    }

    /// Takes report `key` out of event `id` into event `alone` of its own. An event named after
    /// the report is renamed after its earliest remaining one.
    fn split(
        &mut self,
        live: &mut Live,
        (event, id): (super::EventId, EntryKey),
        (alone, key): (super::EventId, EntryKey),
    ) -> Result<(), StoreError> {
        let Some(mut record) = self.record(&id)? else { return Ok(()) };
        record.members.retain(|m| m.key != key);
        let renamed = record.members.iter().min_by_key(|m| (m.published, m.key)).map(|m| m.key).filter(|_| id == key);
        if let Some(new_id) = renamed {
            live.name(event, new_id);
            record.id = new_id;
            self.records.insert(id, None);
            self.unsettled.remove(&id);
        }
        live.name(alone, key);
        let settled = record.id;
        self.records.insert(settled, Some(record));
        self.unsettled.insert(settled);
        if let Some(current) = self.entry(&key)? {
            let next = Entry { event: None, ..current.clone() };
            self.rewrite(current, next, true);
        }
        Ok(())
    }

    /// Moves every report of event `from` into event `into`.
    fn merge(&mut self, into: EntryKey, from: EntryKey) -> Result<(), StoreError> {
        let (Some(mut target), Some(source)) = (self.record_or_single(&into)?, self.record_or_single(&from)?) else {
            return Ok(());
        };
        for mut m in source.members {
            if m.joined == "first" {
                m.joined = "merge".into();
            }
            if !target.members.iter().any(|t| t.key == m.key) {
                target.members.push(m);
            }
        }
        self.records.insert(into, Some(target));
        self.records.insert(from, None);
        self.unsettled.remove(&from);
        self.unsettled.insert(into);
        self.redeliver.insert(into);
        Ok(())
    }

    /// Events whose reports this commit hid or showed (a story merge, a held-back item let
    /// in) choose their primary again.
    fn resettle_moved(&mut self) {
        for c in &self.changes {
            let (Some(prev), e) = (c.previous(), c.entry()) else { continue };
            if let Some(place) =
                e.event.as_ref().filter(|_| prev.secondary != e.secondary || prev.held_back != e.held_back)
            {
                self.unsettled.insert(place.id);
            }
        }
    }

    fn finish(mut self) -> Result<(Vec<Change>, Vec<IndexWrite>), StoreError> {
        for id in std::mem::take(&mut self.unsettled) {
            self.settle(id)?;
        }
        let mut writes = Vec::with_capacity(self.records.len());
        for (id, record) in self.records {
            writes.push(match record {
                Some(r) => IndexWrite::Event(r),
                None => IndexWrite::DropEvent(id),
            });
        }
        Ok((self.changes, writes))
    }

    /// Chooses the event's primary and rewrites each report whose place changed.
    fn settle(&mut self, id: EntryKey) -> Result<(), StoreError> {
        let Some(record) = self.record(&id)? else { return Ok(()) };
        let mut reports = Vec::with_capacity(record.members.len());
        for m in &record.members {
            reports.extend(self.entry(&m.key)?);
        }
        let (kept, places) = places(record, &reports, self.grouped);
        let primary = kept.as_ref().map(|r| r.primary);
        for (current, place) in reports.into_iter().zip(places) {
            let again = Some(current.key) == primary && self.redeliver.contains(&id);
            if current.event != place || again {
                let next = Entry { event: place, ..current.clone() };
                self.rewrite(current, next, again);
            }
        }
        self.records.insert(id, kept);
        Ok(())
    }

    /// Writes a report's new place: in the change this commit makes of it already, else as a
    /// change of its own. A report that now shows where it did not, or a primary whose event
    /// grew by a merge, takes a new change-log position so that `since` readers get it again.
    fn rewrite(&mut self, current: Entry, next: Entry, again: bool) {
        let shows_more = next.channels().iter().any(|ch| !current.channels().contains(ch));
        let redeliver = again || shows_more;
        match self.pending.get(&current.key) {
            Some(&i) => {
                if let Change::Updated { edited, .. } = &mut self.changes[i] {
                    *edited |= redeliver;
                }
                *self.changes[i].entry_mut() = next;
            }
            None => {
                self.pending.insert(next.key, self.changes.len());
                let previous = Box::new(current);
                self.changes.push(Change::Updated { previous, entry: next, edited: redeliver });
            }
        }
    }
}

/// An event's primary (the earliest published visible report; the earliest of all when none is
/// visible) and each report's place, in the order of `reports`.
pub fn settle(id: EntryKey, reports: &[Entry], grouped: &Grouped) -> Option<(EntryKey, Vec<EventPlace>)> {
    let earliest = |visible: bool| {
        let shown = |e: &&Entry| !visible || (!e.held_back && !e.secondary);
        reports.iter().filter(shown).min_by_key(|e| (e.published, e.key)).map(|e| e.key)
    };
    let primary = earliest(true).or_else(|| earliest(false))?;
    let others: Vec<TopicId> =
        reports.iter().filter(|e| e.key != primary).flat_map(|e| e.own_topics().cloned()).collect();
    let places = reports.iter().map(|e| grouped.place(id, e, e.key == primary, &others)).collect();
    Some((primary, places))
}

/// An event's record once its reports changed, and each report's place, in the order of
/// `reports`: an event left with one report is an event of one (no record, no place).
pub fn places(
    mut record: EventRecord,
    reports: &[Entry],
    grouped: &Grouped,
) -> (Option<EventRecord>, Vec<Option<EventPlace>>) {
    if record.members.len() < 2 {
        return (None, vec![None; reports.len()]);
    }
    match settle(record.id, reports, grouped) {
        Some((primary, places)) => {
            record.primary = primary;
            (Some(record), places.into_iter().map(Some).collect())
        }
        None => (Some(record), reports.iter().map(|e| e.event.clone()).collect()),
    }
}

fn member(e: &Entry, joined: &str, reason: &Reason) -> EventMember {
    EventMember {
        score: (reason.score * 1000.0).round() / 1000.0,
        names: reason.names.clone(),
        numbers: reason.numbers.clone(),
        dates: reason.dates.clone(),
        features: (super::FEATURE_NAMES.iter().zip(reason.features))
            .filter(|(_, x)| *x != 0.0)
            .map(|(name, x)| ((*name).to_owned(), (x * 1000.0).round() / 1000.0))
            .collect(),
        ..EventMember::of(e, joined, 0.0)
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
