//! The last step of a poll: story assignment and the durable commit, under the store's commit
//! lock, then telling the render caches which channels changed.

use super::{Planned, PollContext, PollError};
use crate::config::SourceSettings;
use crate::domain::{Change, ChannelId, Entry, EntryKey, IndexWrite, PollOutcome, PollSummary, SourceId, SourceState};
use crate::events;
use crate::store::Prepared;
use crate::stories::{self, PollItems};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub(super) async fn commit(
    ctx: &PollContext,
    source: &SourceSettings,
    planned: Planned,
    state: SourceState,
    outcome: PollOutcome,
    now: DateTime<Utc>,
) -> Result<(SourceState, usize), PollError> {
    let (store, deciders) = (ctx.store.clone(), ctx.deciders.clone());
    let rules = super::rules(&ctx.polling);
    let id = source.id.clone();
    let (done, churned_items) = ctx
        .commits
        .run(move || {
            let mut churned = 0;
            let extracts = deciders.extracts(&planned, now);
            let done = store.commit_poll_with(&id, |view| {
                let (mut prepared, summary, n) = decide(view, &id, planned, state, &deciders, &extracts, now)?;
                churned = n;
                prepared.state.apply(&outcome.counted(summary), &rules, now);
                Ok(prepared)
            })?;
            Ok::<_, PollError>((done, churned))
        })
        .await
        .map_err(|e| PollError::Task(e.to_string()))??;
    ctx.versions.bump(touched_channels(ctx, &done.changes, &done.index), Utc::now());
    let joined =
        (done.changes.iter()).filter(|c| matches!(c, Change::New(e) if e.source == source.id && e.secondary)).count();
    Ok((done.state, joined + churned_items))
}

/// Commits changes found outside a poll's document (article rechecks): story assignment as for
/// a poll, the source's state written as given.
pub(super) async fn commit_changes(
    ctx: &PollContext,
    source: &SourceSettings,
    planned: Planned,
    state: SourceState,
    now: DateTime<Utc>,
) -> Result<(), PollError> {
    let (store, deciders) = (ctx.store.clone(), ctx.deciders.clone());
    let id = source.id.clone();
    let done = ctx
        .commits
        .run(move || {
            let extracts = deciders.extracts(&planned, now);
            store.commit_poll_with(&id, |view| Ok(decide(view, &id, planned, state, &deciders, &extracts, now)?.0))
        })
        .await
        .map_err(|e| PollError::Task(e.to_string()))??;
    ctx.versions.bump(touched_channels(ctx, &done.changes, &done.index), Utc::now());
    Ok(())
}

/// What a commit's identity decisions read and extend: story matching and its band memory,
/// and event assignment with its index and which channels group by event.
#[derive(Debug, Clone)]
pub struct Deciders {
    pub stories: Arc<crate::config::StorySettings>,
    pub near: Arc<stories::SharedNear>,
    pub events: Arc<events::SharedEvents>,
    pub grouped: Arc<events::Grouped>,
}

impl Deciders {
    fn events_on(&self) -> bool {
        self.stories.enabled && self.grouped.any()
    }

    /// The event terms of a poll's new items, read before the commit lock.
    fn extracts(&self, planned: &Planned, now: DateTime<Utc>) -> events::Extracts {
        if self.events_on() {
            events::extracts(&planned.plan.changes, now, self.events.settings().window)
        } else {
            events::Extracts::default()
        }
    }
}

/// Beyond this many change-log positions given out by other instances since this process's last
/// commit, its in-memory indexes are rebuilt rather than brought up to date entry by entry.
const FOREIGN_TAKEN_IN: u64 = 5_000;

/// Under the commit lock: story assignment, then event assignment (when on), over the view that
/// includes commits in flight, and the remembered items under their stored keys. Returns what to
/// write (the state still to be updated by the outcome), the poll's counts, and how many items
/// were found again under a new identity.
fn decide(
    view: &crate::store::View<'_>,
    id: &SourceId,
    planned: Planned,
    mut state: SourceState,
    d: &Deciders,
    extracts: &events::Extracts,
    now: DateTime<Utc>,
) -> Result<(Prepared, PollSummary, usize), crate::store::StoreError> {
    let Planned { mut plan, incoming, skip, features, seen, .. } = planned;
    // Another instance's commits are in the store but not in the indexes this process built
    // from its own: they take them in (one store, one story per item), or, after very many,
    // are rebuilt from the store.
    match view.foreign_entries(FOREIGN_TAKEN_IN)? {
        Some(entries) if entries.is_empty() => {}
        Some(entries) => {
            d.near.take_in(view, &entries, now)?;
            d.events.take_in(&entries, now);
        }
        None => {
            d.near.forget();
            d.events.forget();
        }
    }
    read_ahead(view, &plan.changes, &features, d, now)?;
    crate::dedup::refresh_previous(&mut plan.changes, |k| view.entry(k))?;
    // A private source's items take no part in stories or events: matched, they would be
    // listed under public items, or become the item a public story or event shows.
    let (private, public): (Vec<Change>, Vec<Change>) = plan.changes.into_iter().partition(|c| c.entry().private);
    let (mut changes, mut index, churned) = if d.stories.enabled {
        let poll = PollItems { changes: public, incoming, skip, features };
        let a = stories::assign(poll, view, &d.near, &d.stories, now)?;
        (a.changes, a.writes, a.unchanged)
    } else {
        (public, Vec::new(), 0)
    };
    if d.events_on() {
        let (grouped, writes) = events::group(changes, extracts, view, &d.events, &d.grouped, now)?;
        changes = grouped;
        index.extend(writes);
    }
    changes.extend(private);
    if let Some(seen) = seen {
        state.seen = crate::dedup::rekeyed(seen, &index);
    }
    let summary = summarize(&changes, plan.unchanged + churned, id);
    Ok((Prepared { changes, index, state }, summary, churned))
}

/// The first reads of the decisions, in one round trip on a remote store: each item as stored,
/// the owners of its story URL and text fingerprint, and its near-duplicate candidates'
/// signatures. Then the items those point to, and their stories.
fn read_ahead(
    view: &crate::store::View<'_>,
    changes: &[Change],
    features: &crate::stories::FeatureMap,
    d: &Deciders,
    now: DateTime<Utc>,
) -> Result<(), crate::store::StoreError> {
    use crate::store::Ahead;
    if !view.reads_ahead() {
        return Ok(());
    }
    let featured = || changes.iter().filter_map(|c| features.get(&c.entry().key).map(|f| (c.entry(), f)));
    let near = if d.stories.enabled {
        stories::near_candidates(view, &d.near, featured(), &d.stories, now)?
    } else {
        Vec::new()
    };
    let owners = featured().flat_map(|(_, f)| {
        let url = f.story_url.as_deref().map(Ahead::Url);
        url.into_iter().chain(f.text_fp.as_ref().map(|(fp, _)| Ahead::Text(fp)))
    });
    let keys = changes.iter().map(|c| &c.entry().key);
    let sigs = near.iter().map(|(k, _)| Ahead::Signature(k));
    view.read_ahead(keys.clone().flat_map(|k| [Ahead::Entry(k), Ahead::Story(k)]).chain(owners).chain(sigs))?;
    let mut owners: Vec<EntryKey> = Vec::new();
    for (_, f) in featured() {
        owners.extend(f.story_url.as_deref().map(|u| view.url_owner(u)).transpose()?.flatten());
        owners.extend(f.text_fp.as_ref().map(|(fp, _)| view.text_owner(fp)).transpose()?.flatten());
    }
    for (k, mine) in &near {
        if stories::worth_loading(mine, view.signature(k)?, &d.stories) {
            owners.push(*k);
        }
    }
    view.read_ahead(owners.iter().map(Ahead::Entry))?;
    let mut stories: Vec<EntryKey> = Vec::new();
    for k in keys.chain(&owners) {
        stories.extend(view.entry(k)?.map(|e| e.story.unwrap_or(e.key)));
    }
    view.read_ahead(stories.iter().flat_map(|k| [Ahead::Story(k), Ahead::Entry(k)]))
}

/// Counts of this source's items; story bookkeeping on other sources' entries is not counted.
fn summarize(changes: &[Change], unchanged: usize, source: &SourceId) -> PollSummary {
    let mut s = PollSummary { unchanged, ..PollSummary::default() };
    for c in changes.iter().filter(|c| &c.entry().source == source) {
        match c {
            Change::New(_) => s.new += 1,
            Change::Updated { edited: true, .. } => s.updated += 1,
            Change::Updated { edited: false, .. } => s.unchanged += 1,
        }
    }
    s
}

/// The channels a commit changed: those of every written entry, before and after, and, since a
/// story or event that gained a member lists it under its primary, wherever each such primary
/// shows.
fn touched_channels(ctx: &PollContext, changes: &[Change], index: &[IndexWrite]) -> BTreeSet<ChannelId> {
    let mut touched: BTreeSet<ChannelId> =
        changes.iter().flat_map(|c| c.previous().into_iter().chain([c.entry()]).flat_map(Entry::channels)).collect();
    let primaries: BTreeSet<EntryKey> = (index.iter())
        .filter_map(|w| match w {
            IndexWrite::Story(st) => Some(st.primary),
            IndexWrite::Event(ev) => Some(ev.primary),
            _ => None,
        })
        .collect();
    // A primary this commit wrote is known as stored; the others are read in one go.
    let written: HashMap<EntryKey, &Entry> = changes.iter().map(|c| (c.entry().key, c.entry())).collect();
    let stored = ctx.store.entries_by_key(primaries.iter().filter(|k| !written.contains_key(k))).unwrap_or_default();
    for p in &primaries {
        let primary = written.get(p).copied().or_else(|| stored.get(p));
        touched.extend(primary.into_iter().flat_map(Entry::channels));
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::Plan;
    use crate::domain::{test_entry, EntryKey};
    use crate::store::Store;

    fn write(store: &Store, source: &str, change: Change) {
        let id = SourceId::parse(source).expect("slug");
        store.commit_poll_with(&id, |_| Ok(Prepared { changes: vec![change], ..Prepared::default() })).expect("commit");
    }

    /// An edit planned before the commit lock replaces the entry as stored when the commit
    /// decides, not as planning read it: another source's commit rewrote its story fields
    /// in between, and the edit must neither undo that nor leave stale channel positions.
    #[test]
    fn an_edit_replaces_the_entry_as_stored_now_not_as_planned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db"), 1 << 20).expect("store");
        let a = SourceId::parse("a").expect("slug");
        let read =
            Entry { fingerprint: "v1".into(), revision: "v1".into(), ..test_entry("a", "x", "2026-11-20T10:00:00Z") };
        write(&store, "a", Change::New(read.clone()));
        let story = EntryKey::from_bytes([9; 16]);
        let merged = Entry { story: Some(story), secondary: true, ..read.clone() };
        let meanwhile = Change::Updated { previous: Box::new(read.clone()), entry: merged.clone(), edited: false };
        write(&store, "b", meanwhile);
        let edited = Entry { title: "edited".into(), fingerprint: "v2".into(), revision: "v2".into(), ..read.clone() };
        let change = Change::Updated { previous: Box::new(read.clone()), entry: edited, edited: true };
        let planned = Planned { plan: Plan { changes: vec![change], unchanged: 0 }, ..Planned::default() };
        let settings = crate::config::StorySettings::default();
        let deciders = Deciders {
            near: Arc::new(stories::SharedNear::new(settings.window)),
            events: Arc::new(events::SharedEvents::new(events::EventSettings::default())),
            grouped: Arc::default(),
            stories: Arc::new(settings),
        };
        let now = "2026-11-28T00:00:00Z".parse().expect("now");
        let mut decided = Vec::new();
        let none = events::Extracts::default();
        store
            .commit_poll_with(&a, |view| {
                let (prepared, ..) = decide(view, &a, planned, SourceState::default(), &deciders, &none, now)?;
                decided.clone_from(&prepared.changes);
                Ok(prepared)
            })
            .expect("commit");
        let [Change::Updated { previous, entry, .. }] = decided.as_slice() else { panic!("{decided:?}") };
        assert_eq!(**previous, merged, "the version stored now is the one replaced");
        assert_eq!((entry.story, entry.secondary), (Some(story), true), "the story fields survive the edit");
        let after = store.entry(&read.key).expect("read").expect("stored");
        assert_eq!((after.title.as_str(), after.story), ("edited", Some(story)));
    }
}
