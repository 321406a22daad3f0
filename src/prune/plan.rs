//! One batch of a prune, decided while no commit decides: which entries go (the batch, and every
//! entry of a pruned source that shares a story or an event with one of them, so that each story
//! and event is settled once, whole), what their stories and events become (`stories::without`,
//! `events::places`: the same decisions commits make), and which identity records move to a
//! surviving copy or go. The result is a `Removal` for the store to write.

use super::Rules;
use crate::domain::{Change, ChannelId, Entry, EntryKey, EventRecord, IndexWrite, SourceId};
use crate::store::{Removal, StoreError, View};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A batch's writes and what they come to.
#[derive(Debug, Default)]
pub(super) struct Planned {
    pub removal: Removal,
    /// Stories and events whose primary was removed and that another report now stands for.
    pub stories_repointed: usize,
    pub events_repointed: usize,
    /// Channels whose items or item lists change.
    pub touched: BTreeSet<ChannelId>,
}

/// The identity records (`Url`, `Text`, `Alias`) pointing at each entry to be pruned.
pub(super) type Refs = HashMap<EntryKey, Vec<IndexWrite>>;

/// Decides the removal of `batch` (entries of the `pruned` sources) and what depends on it.
pub(super) fn plan(
    view: &View<'_>,
    batch: &[EntryKey],
    pruned: &HashSet<SourceId>,
    refs: &Refs,
    rules: &Rules<'_>,
) -> Result<Planned, StoreError> {
    let mut w = Work::new(view);
    w.gather(batch, pruned)?;
    w.stories()?;
    w.events(rules)?;
    w.identities(refs, rules)?;
    Ok(w.finish())
}

struct Work<'a> {
    view: &'a View<'a>,
    /// The entries that go, as stored.
    removed: BTreeMap<EntryKey, Entry>,
    stories: BTreeSet<EntryKey>,
    events: BTreeSet<EntryKey>,
    /// Surviving entries as stored, and the new versions of those that change.
    stored: HashMap<EntryKey, Entry>,
    next: BTreeMap<EntryKey, Entry>,
    /// The surviving members of each story that lost one.
    survivors: HashMap<EntryKey, Vec<EntryKey>>,
    /// A removed story primary, and the member that stands for its story now.
    heirs: HashMap<EntryKey, EntryKey>,
    index: Vec<IndexWrite>,
    out: Planned,
}

impl<'a> Work<'a> {
    fn new(view: &'a View<'a>) -> Self {
        Self {
            view,
            removed: BTreeMap::new(),
            stories: BTreeSet::new(),
            events: BTreeSet::new(),
            stored: HashMap::new(),
            next: BTreeMap::new(),
            survivors: HashMap::new(),
            heirs: HashMap::new(),
            index: Vec::new(),
            out: Planned::default(),
        }
    }

    /// The batch, closed over stories and events: a pruned source's entry in a story or event
    /// that loses a member goes in the same batch.
    fn gather(&mut self, batch: &[EntryKey], pruned: &HashSet<SourceId>) -> Result<(), StoreError> {
        let mut queue: Vec<EntryKey> = batch.to_vec();
        while let Some(key) = queue.pop() {
            if self.removed.contains_key(&key) {
                continue;
            }
            // Gone already: an earlier batch took it with its story.
            let Some(e) = self.view.entry(&key)? else { continue };
            if let Some(sid) = e.story.filter(|s| self.stories.insert(*s)) {
                let record = self.view.story_record(&sid)?;
                let members = record.iter().flat_map(|st| &st.members);
                queue.extend(members.filter(|m| pruned.contains(&m.source)).map(|m| m.key));
            }
            if let Some(id) = e.event.as_ref().map(|p| p.id).filter(|id| self.events.insert(*id)) {
                let record = self.view.event_record(&id)?;
                let members = record.iter().flat_map(|ev| &ev.members);
                queue.extend(members.filter(|m| pruned.contains(&m.source)).map(|m| m.key));
            }
            self.removed.insert(key, e);
        }
        Ok(())
    }

    /// A surviving entry as this batch leaves it so far.
    fn current(&mut self, key: &EntryKey) -> Result<Option<Entry>, StoreError> {
        if let Some(e) = self.next.get(key) {
            return Ok(Some(e.clone()));
        }
        if !self.stored.contains_key(key) {
            let Some(e) = self.view.entry(key)? else { return Ok(None) };
            self.stored.insert(*key, e);
        }
        Ok(self.stored.get(key).cloned())
    }

    fn gone(&self) -> HashSet<EntryKey> {
        self.removed.keys().copied().collect()
    }

    /// Each story that loses members is settled again over the others.
    fn stories(&mut self) -> Result<(), StoreError> {
        let gone = self.gone();
        for sid in std::mem::take(&mut self.stories) {
            let Some(story) = self.view.story_record(&sid)? else { continue };
            let mut survivors = Vec::new();
            for m in story.members.iter().filter(|m| !gone.contains(&m.key)) {
                survivors.extend(self.current(&m.key)?);
            }
            let was = story.primary;
            let (record, next) = crate::stories::without(story, &gone, &survivors);
            let now = next.iter().find(|e| !e.secondary).map(|e| e.key);
            if let Some(heir) = now.filter(|_| gone.contains(&was)) {
                self.heirs.insert(was, heir);
                self.out.stories_repointed += 1;
            }
            self.survivors.insert(sid, next.iter().map(|e| e.key).collect());
            for e in next {
                self.next.insert(e.key, e);
            }
            self.index.push(record.map_or(IndexWrite::DropStory(sid), IndexWrite::Story));
        }
        Ok(())
    }

    /// Each event that loses a report is settled again over the others, and so is each event of
    /// a report whose story changed its primary (it now shows where it did not, or no longer).
    fn events(&mut self, rules: &Rules<'_>) -> Result<(), StoreError> {
        let gone = self.gone();
        let mut heirs: HashMap<EntryKey, Vec<(EntryKey, EntryKey)>> = HashMap::new();
        for e in self.removed.values() {
            let (Some(place), Some(heir)) = (e.event.as_ref(), self.heirs.get(&e.key)) else { continue };
            heirs.entry(place.id).or_default().push((e.key, *heir));
        }
        let moved: Vec<EntryKey> = (self.next.values())
            .filter(|n| self.stored.get(&n.key).is_some_and(|s| s.secondary != n.secondary))
            .filter_map(|n| n.event.as_ref().map(|p| p.id))
            .collect();
        self.events.extend(moved);
        for id in std::mem::take(&mut self.events) {
            let Some(mut record) = self.view.event_record(&id)? else { continue };
            for (from, to) in heirs.remove(&id).unwrap_or_default() {
                self.inherit(&mut record, from, to)?;
            }
            self.settle_event(id, record, &gone, rules)?;
        }
        Ok(())
    }

    /// A removed report that stood for its story hands its place in the event to the story's
    /// new primary, unless that one is in an event already: the event keeps that coverage.
    fn inherit(&mut self, record: &mut EventRecord, from: EntryKey, to: EntryKey) -> Result<(), StoreError> {
        let Some(heir) = self.current(&to)?.filter(|h| h.event.is_none()) else { return Ok(()) };
        let joined = record.members.iter().find(|m| m.key == from).cloned();
        if let Some(mut m) = joined.filter(|_| !record.members.iter().any(|m| m.key == to)) {
            (m.key, m.source, m.title, m.link, m.published) =
                (heir.key, heir.source, heir.title, heir.link, heir.published);
            record.members.push(m);
        }
        Ok(())
    }

    fn settle_event(
        &mut self,
        id: EntryKey,
        mut record: EventRecord,
        gone: &HashSet<EntryKey>,
        rules: &Rules<'_>,
    ) -> Result<(), StoreError> {
        let was = record.primary;
        record.members.retain(|m| !gone.contains(&m.key));
        let mut reports = Vec::with_capacity(record.members.len());
        for m in &record.members {
            reports.extend(self.current(&m.key)?);
        }
        let (kept, places) = crate::events::places(record, &reports, rules.grouped);
        if gone.contains(&was) && !reports.is_empty() {
            self.out.events_repointed += 1;
        }
        for (current, place) in reports.into_iter().zip(places) {
            if current.event != place {
                self.next.insert(current.key, Entry { event: place, ..current });
            }
        }
        self.index.push(kept.map_or(IndexWrite::DropEvent(id), IndexWrite::Event));
        Ok(())
    }

    /// The article URL and text records of a removed entry move to a surviving member of its
    /// story with the same URL or text (the next copy to match against), else go; its former
    /// keys go.
    fn identities(&mut self, refs: &Refs, rules: &Rules<'_>) -> Result<(), StoreError> {
        let removed: Vec<Entry> = self.removed.values().cloned().collect();
        for e in &removed {
            let others = e.story.and_then(|s| self.survivors.get(&s)).cloned().unwrap_or_default();
            for r in refs.get(&e.key).into_iter().flatten() {
                let write = match r {
                    IndexWrite::Url(url, _) if self.view.url_owner(url)? == Some(e.key) => {
                        let heir = self.find(&others, |c| c.story_url.as_deref() == Some(url.as_str()))?;
                        heir.map_or_else(|| IndexWrite::DropUrl(url.clone()), |k| IndexWrite::Url(url.clone(), k))
                    }
                    IndexWrite::Text(fp, _) if self.view.text_owner(fp)? == Some(e.key) => {
                        let same =
                            |c: &Entry| crate::stories::features(c, rules.stories).text_fp.map(|t| t.0) == Some(*fp);
                        self.find(&others, same)?.map_or(IndexWrite::DropText(*fp), |k| IndexWrite::Text(*fp, k))
                    }
                    IndexWrite::Alias(from, _) => IndexWrite::DropAlias(*from),
                    // A record a later commit pointed elsewhere is not this entry's any more.
                    _ => continue,
                };
                self.index.push(write);
            }
        }
        Ok(())
    }

    fn find(&mut self, keys: &[EntryKey], wanted: impl Fn(&Entry) -> bool) -> Result<Option<EntryKey>, StoreError> {
        for k in keys {
            if self.current(k)?.is_some_and(|e| wanted(&e)) {
                return Ok(Some(*k));
            }
        }
        Ok(None)
    }

    /// The removal, with a rewritten entry delivered again to `since` readers where it now
    /// shows in a channel it did not (a story's new primary in the merged channel).
    fn finish(mut self) -> Planned {
        let mut touched: BTreeSet<ChannelId> = self.removed.values().flat_map(Entry::channels).collect();
        // A story or event that lost a member lists its others under its primary.
        for w in &self.index {
            let primary = match w {
                IndexWrite::Story(st) => st.primary,
                IndexWrite::Event(ev) => ev.primary,
                _ => continue,
            };
            let shown = self.next.get(&primary).or_else(|| self.stored.get(&primary));
            touched.extend(shown.iter().flat_map(|e| e.channels()));
        }
        let mut changes = Vec::with_capacity(self.next.len());
        for (key, next) in std::mem::take(&mut self.next) {
            let Some(previous) = self.stored.remove(&key).filter(|p| *p != next) else { continue };
            let (before, after) = (previous.channels(), next.channels());
            let edited = after.iter().any(|ch| !before.contains(ch));
            touched.extend(before.into_iter().chain(after));
            changes.push(Change::Updated { previous: Box::new(previous), entry: next, edited });
        }
        self.out.touched = touched;
        let entries = self.removed.into_values().collect();
        self.out.removal = Removal { entries, changes, index: self.index, sources: Vec::new() };
        self.out
    }
}
