//! Assigns a poll's changes to stories: new items join the story of their match (or found a
//! new one), items seen under a new identity merge into their stored entry, and the story's
//! primary (the earliest published visible member) is the only member merged channels show.

use super::layered::Layered;
use super::near::SharedNear;
use super::{features, find_matches, sketch, FeatureMap, Features, Match, Skip, StorySettings};
use crate::dedup;
use crate::domain::{Change, Entry, EntryKey, IndexWrite, Member, Story};
use crate::store::{StoreError, View};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct Assigned {
    pub changes: Vec<Change>,
    pub writes: Vec<IndexWrite>,
    /// Near-duplicate band memberships of the items written, added to the band memory by
    /// `assign` itself.
    pub(super) bands: Vec<(EntryKey, DateTime<Utc>, [u64; sketch::BANDS])>,
    /// Items found again under a new identity with nothing changed.
    pub unchanged: usize,
}

/// What one poll brings to story assignment: its planned changes, the keys of every item in the
/// fetched feed (`incoming`), the URLs and texts several of them share (`skip`), and the
/// features computed before the commit lock.
#[derive(Debug, Default)]
pub struct PollItems {
    pub changes: Vec<Change>,
    pub incoming: HashSet<EntryKey>,
    pub skip: Skip,
    pub features: FeatureMap,
}

/// Runs story assignment over a poll's planned changes, reading through `view` (the store with
/// the commits in flight) and the band memory, which it extends with the items it writes. Call
/// it while deciding a commit: it must see every earlier decision.
pub fn assign(
    poll: PollItems,
    view: &View<'_>,
    near: &SharedNear,
    s: &StorySettings,
    now: DateTime<Utc>,
) -> Result<Assigned, StoreError> {
    near.with(view, now, |memory| {
        let PollItems { changes, incoming, skip, features } = poll;
        let mut o = Layered::new(view, memory, features);
        for change in changes {
            match change {
                Change::New(e) => o.add_new(e, &incoming, &skip, s, now),
                Change::Updated { previous, entry, edited } => o.add_update(*previous, entry, edited, s),
            }
        }
        let out = o.finish();
        for (key, published, bands) in &out.bands {
            memory.add(*key, *published, bands.iter().copied().enumerate());
        }
        out
    })
}

impl Layered<'_> {
    /// The decisions made, with the stories they changed and dropped.
    fn finish(mut self) -> Assigned {
        let stories: Vec<Story> = self.stories.drain().map(|(_, st)| st).collect();
        self.out.writes.extend(stories.into_iter().map(IndexWrite::Story));
        self.out.writes.extend(self.dropped.drain().map(IndexWrite::DropStory));
        std::mem::take(&mut self.out)
    }

    fn add_new(
        &mut self,
        mut e: Entry,
        incoming: &HashSet<EntryKey>,
        skip: &Skip,
        s: &StorySettings,
        now: DateTime<Utc>,
    ) {
        let f = self.features_of(&e, s);
        let matches = find_matches(&e, &f, self, s, skip);
        let Some(first) = matches.first() else {
            // No story record until a second item joins: most items never get one.
            e.story = Some(e.key);
            e.secondary = false;
            self.push(Change::New(e), &f, skip);
            return;
        };
        if first.is_same_item(&e, incoming.contains(&first.existing.key)) {
            return self.merge_same_item(e, &f, first.clone(), skip, now);
        }
        if let Some(own) = self.own_earlier_copy(&e, &f, &matches, incoming, s) {
            return self.merge_same_item(e, &f, own, skip, now);
        }
        let sid = story_id(&first.existing);
        let mut story = self.story(&sid).unwrap_or_else(|| Story::single(&first.existing));
        story.members.push(Member::of(&e, first.rule.name(), first.rule.score()));
        self.stories.insert(sid, story);
        e.story = Some(sid);
        e.secondary = true;
        self.push(Change::New(e), &f, skip);
        for other in &matches[1..] {
            self.merge_stories(sid, story_id(&other.existing));
        }
        self.settle_primary(sid);
    }

    /// The indexes point at a story's first copy, which may be another outlet's. When the
    /// story holds an item of this same source that has left the feed and is the same text or
    /// article, the new item is that item under a new identity.
    fn own_earlier_copy(
        &self,
        e: &Entry,
        f: &Features,
        matches: &[Match],
        incoming: &HashSet<EntryKey>,
        s: &StorySettings,
    ) -> Option<Match> {
        for m in matches {
            let Some(story) = self.story(&story_id(&m.existing)) else { continue };
            for member in story.members.iter().filter(|x| x.source == e.source && !incoming.contains(&x.key)) {
                let Some(other) = self.entry(&member.key) else { continue };
                let theirs = features(&other, s);
                let same_url = f.story_url.is_some() && f.story_url == theirs.story_url;
                let same_text = f.text_fp.map(|x| x.0) == theirs.text_fp.map(|x| x.0) && f.text_fp.is_some();
                let (jaccard, containment) = sketch::similarity(&f.shingles, &theirs.shingles);
                let rule = if same_url {
                    super::Rule::Url
                } else if same_text {
                    super::Rule::Text
                } else if jaccard >= 0.9 {
                    super::Rule::Near { jaccard, containment }
                } else {
                    continue;
                };
                return Some(Match { existing: other, rule });
            }
        }
        None
    }

    /// The item is a stored entry under a new key: remember the alias and update that entry.
    fn merge_same_item(&mut self, mut e: Entry, f: &Features, m: Match, skip: &Skip, now: DateTime<Utc>) {
        let old = m.existing;
        self.out.writes.push(IndexWrite::Alias(e.key, old.key));
        e.key = old.key;
        e.identity_kind = old.identity_kind.clone();
        e.identity = old.identity.clone();
        carry_story(&old, &mut e);
        match dedup::revise(&old, e, now) {
            Some(change) => self.push(change, f, skip),
            None => self.out.unchanged += 1,
        }
    }

    fn add_update(&mut self, previous: Entry, mut entry: Entry, edited: bool, s: &StorySettings) {
        carry_story(&previous, &mut entry);
        let sid = entry.story;
        if let Some(mut story) = sid.and_then(|id| self.story(&id)).filter(|st| st.members.len() > 1) {
            if let Some(m) = story.members.iter_mut().find(|m| m.key == entry.key) {
                m.title = entry.title.clone();
                m.link = entry.link.clone();
            }
            self.stories.insert(story.id, story);
        }
        let f = self.features_of(&entry, s);
        self.push(Change::Updated { previous: Box::new(previous), entry, edited }, &f, &Skip::default());
        if let Some(sid) = sid {
            self.settle_primary(sid);
        }
    }

    /// Moves every member of story `from` into story `into` (an item linked both).
    fn merge_stories(&mut self, into: EntryKey, from: EntryKey) {
        if into == from {
            return;
        }
        let (Some(mut target), Some(source)) = (self.story(&into), self.story(&from)) else { return };
        for m in &source.members {
            if let Some(current) = self.entry(&m.key) {
                let mut moved = current.clone();
                moved.story = Some(into);
                self.rewrite(current, moved);
            }
        }
        target.members.extend(source.members);
        self.stories.insert(into, target);
        self.stories.remove(&from);
        self.dropped.insert(from);
    }

    /// Makes the earliest published visible member the story's primary (`settle`).
    fn settle_primary(&mut self, sid: EntryKey) {
        let Some(mut story) = self.story(&sid).filter(|st| st.members.len() > 1) else { return };
        let members: Vec<Entry> = story.members.iter().filter_map(|m| self.entry(&m.key)).collect();
        let Some((primary, next)) = super::settle::settle(sid, &members) else { return };
        for (current, next) in members.into_iter().zip(next) {
            if next != current {
                self.rewrite(current, next);
            }
        }
        story.primary = primary;
        self.stories.insert(sid, story);
    }

    /// Changes an entry's story fields: in place when this poll already writes it, else as a
    /// metadata-only update.
    fn rewrite(&mut self, current: Entry, new: Entry) {
        match self.pending.get(&current.key) {
            Some(&i) => *self.out.changes[i].entry_mut() = new,
            None => {
                let i = self.out.changes.len();
                self.pending.insert(new.key, i);
                self.out.changes.push(Change::Updated { previous: Box::new(current), entry: new, edited: false });
            }
        }
    }

    fn push(&mut self, change: Change, f: &Features, skip: &Skip) {
        let e = change.entry();
        let key = e.key;
        if let Some(url) = f.story_url.as_ref().filter(|u| !skip.url(u)) {
            if self.by_url(url).is_none() {
                self.urls.insert(url.clone(), key);
                self.out.writes.push(IndexWrite::Url(url.clone(), key));
            }
        }
        if let Some((fp, _)) = f.text_fp.filter(|(fp, _)| !skip.text(fp)) {
            if self.by_text(&fp).is_none() {
                self.texts.insert(fp, key);
                self.out.writes.push(IndexWrite::Text(fp, key));
            }
        }
        if let Some(bands) = f.bands {
            for (b, h) in bands.iter().enumerate() {
                self.bands.entry((b as u8, *h)).or_default().push((key, e.published));
            }
            self.out.bands.push((key, e.published, bands));
        }
        if let Some(sig) = f.sig {
            self.sigs.insert(key, sig);
            self.out.writes.push(IndexWrite::Sig(key, e.published, sig));
        }
        match self.pending.get(&key) {
            Some(&i) => self.out.changes[i] = change,
            None => {
                self.pending.insert(key, self.out.changes.len());
                self.out.changes.push(change);
            }
        }
    }
}

fn story_id(e: &Entry) -> EntryKey {
    e.story.unwrap_or(e.key)
}

fn carry_story(from: &Entry, to: &mut Entry) {
    to.story = from.story;
    to.secondary = from.secondary;
    to.story_topics = from.story_topics.clone();
}
