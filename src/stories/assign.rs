//! Assigns a poll's changes to stories: new items join the story of their match (or found a
//! new one), items seen under a new identity merge into their stored entry, and the story's
//! primary (the earliest published visible member) is the only member merged channels show.

use super::{features, find_match, sketch, Features, Match, Member, Skip, Story, StoryIndex, StorySettings};
use crate::dedup::{self, Change};
use crate::domain::{Entry, EntryKey, TopicId};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// A write to the story indexes, committed with the poll.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexWrite {
    Url(String, EntryKey),
    Text([u8; 16], EntryKey),
    Band(u8, u64, EntryKey, DateTime<Utc>),
    /// A key an item had before its source changed identities, pointing at its stored entry.
    Alias(EntryKey, EntryKey),
    Story(Story),
}

#[derive(Debug, Default)]
pub struct Assigned {
    pub changes: Vec<Change>,
    pub writes: Vec<IndexWrite>,
    /// Items found again under a new identity with nothing changed.
    pub unchanged: usize,
}

/// The store's view plus this poll's pending writes, so items of one poll see each other.
struct Overlay<'a, I> {
    base: &'a I,
    urls: HashMap<String, EntryKey>,
    texts: HashMap<[u8; 16], EntryKey>,
    bands: super::BandMap,
    stories: HashMap<EntryKey, Story>,
    out: Assigned,
    /// Position in `out.changes` of each entry this poll writes.
    pending: HashMap<EntryKey, usize>,
}

impl<I: StoryIndex> StoryIndex for Overlay<'_, I> {
    fn by_url(&self, url: &str) -> Option<EntryKey> {
        self.urls.get(url).copied().or_else(|| self.base.by_url(url))
    }
    fn by_text(&self, fp: &[u8; 16]) -> Option<EntryKey> {
        self.texts.get(fp).copied().or_else(|| self.base.by_text(fp))
    }
    fn near(&self, bands: &[u64; sketch::BANDS]) -> Vec<super::BandHit> {
        let mut out = self.base.near(bands);
        for (b, h) in bands.iter().enumerate() {
            out.extend(self.bands.get(&(b as u8, *h)).into_iter().flatten().copied());
        }
        out.sort();
        out.dedup();
        out
    }
    fn entry(&self, key: &EntryKey) -> Option<Entry> {
        match self.pending.get(key) {
            Some(&i) => Some(self.out.changes[i].entry().clone()),
            None => self.base.entry(key),
        }
    }
    fn story(&self, id: &EntryKey) -> Option<Story> {
        self.stories.get(id).cloned().or_else(|| self.base.story(id))
    }
}

/// Runs story assignment over a poll's planned changes. `incoming` holds the keys of every
/// item in the fetched feed; `skip` the URLs and texts several of them share.
pub fn assign(
    changes: Vec<Change>,
    incoming: &HashSet<EntryKey>,
    skip: &Skip,
    idx: &impl StoryIndex,
    s: &StorySettings,
    now: DateTime<Utc>,
) -> Assigned {
    let mut o = Overlay {
        base: idx,
        urls: HashMap::new(),
        texts: HashMap::new(),
        bands: HashMap::new(),
        stories: HashMap::new(),
        out: Assigned::default(),
        pending: HashMap::new(),
    };
    for change in changes {
        match change {
            Change::New(e) => o.add_new(e, incoming, skip, s, now),
            Change::Updated { previous, entry, edited } => o.add_update(*previous, entry, edited, s),
        }
    }
    let stories: Vec<Story> = o.stories.drain().map(|(_, st)| st).collect();
    o.out.writes.extend(stories.into_iter().map(IndexWrite::Story));
    o.out
}

impl<I: StoryIndex> Overlay<'_, I> {
    fn add_new(
        &mut self,
        mut e: Entry,
        incoming: &HashSet<EntryKey>,
        skip: &Skip,
        s: &StorySettings,
        now: DateTime<Utc>,
    ) {
        let f = features(&e, s);
        match find_match(&e, &f, self, s, skip) {
            Some(m) if m.is_same_item(&e, incoming.contains(&m.existing.key)) => {
                self.merge_same_item(e, &f, m, skip, now)
            }
            Some(m) => {
                self.join(&mut e, &m);
                self.push(Change::New(e), &f, skip);
            }
            None => {
                e.story = Some(e.key);
                e.secondary = false;
                let story = Story { id: e.key, primary: e.key, members: vec![member(&e, "first", 1.0)] };
                self.stories.insert(e.key, story);
                self.push(Change::New(e), &f, skip);
            }
        }
    }

    /// The item is a stored entry under a new key: remember the alias and update that entry.
    fn merge_same_item(&mut self, mut e: Entry, f: &Features, m: Match, skip: &Skip, now: DateTime<Utc>) {
        let old = m.existing;
        self.out.writes.push(IndexWrite::Alias(e.key, old.key));
        e.key = old.key;
        e.identity_kind = old.identity_kind.clone();
        e.identity = old.identity.clone();
        carry_story(&old, &mut e);
        if old.fingerprint == e.fingerprint && old.revision == e.revision {
            self.out.unchanged += 1;
            return;
        }
        let edited = old.fingerprint != e.fingerprint;
        let e = if edited { dedup::merge_edit(&old, e, now) } else { dedup::merge_silent(&old, e) };
        self.push(Change::Updated { previous: Box::new(old), entry: e, edited }, f, skip);
    }

    fn add_update(&mut self, previous: Entry, mut entry: Entry, edited: bool, s: &StorySettings) {
        carry_story(&previous, &mut entry);
        if let Some(sid) = entry.story {
            if let Some(mut story) = self.story(&sid) {
                if let Some(m) = story.members.iter_mut().find(|m| m.key == entry.key) {
                    m.title = entry.title.clone();
                    m.link = entry.link.clone();
                }
                if entry.secondary {
                    self.widen_primary_topics(&story, &entry.topics);
                }
                self.stories.insert(sid, story);
            }
        }
        let f = features(&entry, s);
        self.push(Change::Updated { previous: Box::new(previous), entry, edited }, &f, &Skip::default());
    }

    /// Adds `e` to the story of its match; `e` becomes the primary if it was published earlier.
    fn join(&mut self, e: &mut Entry, m: &Match) {
        let sid = m.existing.story.unwrap_or(m.existing.key);
        let mut story = self.story(&sid).unwrap_or_else(|| Story {
            id: sid,
            primary: m.existing.key,
            members: vec![member(&m.existing, "first", 1.0)],
        });
        e.story = Some(sid);
        let primary = self.entry(&story.primary).unwrap_or_else(|| m.existing.clone());
        if !e.held_back && (primary.held_back || e.published < primary.published) {
            e.secondary = false;
            e.story_topics = union(&primary.topics, &primary.story_topics);
            let mut demoted = primary.clone();
            demoted.secondary = true;
            demoted.story_topics.clear();
            self.rewrite(primary, demoted);
            story.primary = e.key;
        } else {
            e.secondary = true;
            self.widen_primary_topics(&story, &e.topics);
        }
        story.members.push(member(e, m.rule.name(), m.rule.score()));
        self.stories.insert(sid, story);
    }

    /// A secondary member's topics make the story appear in those topic channels too.
    fn widen_primary_topics(&mut self, story: &Story, topics: &[crate::domain::TopicMatch]) {
        let Some(primary) = self.entry(&story.primary) else { return };
        let wider = union(&topics.iter().map(|t| t.topic.clone()).collect::<Vec<_>>(), &primary.story_topics);
        let missing =
            wider.iter().any(|t| !primary.story_topics.contains(t) && !primary.topics.iter().any(|m| &m.topic == t));
        if missing {
            let mut p = primary.clone();
            p.story_topics = wider.into_iter().filter(|t| !primary.topics.iter().any(|m| &m.topic == t)).collect();
            self.rewrite(primary, p);
        }
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
        if let Some(url) = f.story_url.as_ref().filter(|u| !skip.urls.contains(*u)) {
            if self.by_url(url).is_none() {
                self.urls.insert(url.clone(), key);
                self.out.writes.push(IndexWrite::Url(url.clone(), key));
            }
        }
        if let Some((fp, _)) = f.text_fp.filter(|(fp, _)| !skip.texts.contains(fp)) {
            if self.by_text(&fp).is_none() {
                self.texts.insert(fp, key);
                self.out.writes.push(IndexWrite::Text(fp, key));
            }
        }
        for (b, h) in f.bands.iter().flatten().enumerate() {
            self.bands.entry((b as u8, *h)).or_default().push((key, e.published));
            self.out.writes.push(IndexWrite::Band(b as u8, *h, key, e.published));
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

fn carry_story(from: &Entry, to: &mut Entry) {
    to.story = from.story;
    to.secondary = from.secondary;
    to.story_topics = from.story_topics.clone();
}

fn member(e: &Entry, rule: &str, score: f64) -> Member {
    Member {
        key: e.key,
        source: e.source.clone(),
        title: e.title.clone(),
        link: e.link.clone(),
        published: e.published,
        rule: rule.to_owned(),
        score,
    }
}

fn union(a: &[impl AsTopic], b: &[TopicId]) -> Vec<TopicId> {
    let mut out: Vec<TopicId> = a.iter().map(AsTopic::topic).collect();
    for t in b {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

trait AsTopic {
    fn topic(&self) -> TopicId;
}

impl AsTopic for TopicId {
    fn topic(&self) -> TopicId {
        self.clone()
    }
}

impl AsTopic for crate::domain::TopicMatch {
    fn topic(&self) -> TopicId {
        self.topic.clone()
    }
}
