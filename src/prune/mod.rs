//! Pruning removed sources (`newsriver prune`, `POST /api/prune`): every stored item of a source
//! no longer configured goes, with everything that refers to it, in batches of `BATCH` entries,
//! each one all-or-nothing commit (`plan.rs` decides a batch, the store writes it). A story or
//! event whose primary goes gets another outlet's report as primary, delivered again to `since`
//! readers; the source's state record goes with the last batch.

mod plan;

use crate::config::{Settings, StorySettings};
use crate::domain::{ChannelId, EntryKey, SourceId};
use crate::events::Grouped;
use crate::store::{Store, StoreError};
use plan::{Planned, Refs};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;

/// Entries removed per commit. Each batch holds the commit lock while it is decided and
/// written: polls wait for one batch (120 to 270 ms in a debug build), not the whole prune.
pub const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("no source named: give at least one --source ID")]
    NoSources,
    #[error("{0}")]
    InvalidId(String),
    #[error(
        "{} still configured: remove {} from the configuration (and reload the running service) first; \
         a configured source would be polled again",
        listed("source", .0),
        if .0.len() == 1 { "it" } else { "them" }
    )]
    Configured(Vec<String>),
    #[error("{} not known: the store has no item and no state of {}", listed("source", .0), if .0.len() == 1 { "it" } else { "them" })]
    Unknown(Vec<String>),
    #[error("a poll of {} is still running: try again when it has finished", .0.join(", "))]
    Busy(Vec<String>),
    #[error("the service is stopping")]
    Stopping,
    #[error("pruning failed: {0}")]
    Task(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn listed(what: &str, ids: &[String]) -> String {
    let plural = if ids.len() == 1 { "" } else { "s" };
    format!("{what}{plural} {}", ids.join(", "))
}

/// A request to prune: the sources, and whether to write nothing (`POST /api/prune`'s body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    pub sources: Vec<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// What a prune did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    pub sources: Vec<String>,
    pub dry_run: bool,
    /// Entries removed.
    pub entries: usize,
    /// Stories and events whose primary was removed, now shown by another outlet's report.
    pub stories_repointed: usize,
    pub events_repointed: usize,
    /// Channels whose items changed (`all`, `topic:ID`, `source:ID`).
    pub channels: Vec<String>,
    /// Commits it took.
    pub batches: usize,
    /// Stopped between batches (the service is stopping): what was pruned stays pruned, and
    /// running it again finishes the work.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// What a prune did, with the channels whose render caches it made stale.
#[derive(Debug, Default)]
pub struct Done {
    pub summary: Pruned,
    pub touched: BTreeSet<ChannelId>,
}

/// The decisions a prune reuses from commits: story settings (text fingerprints) and which
/// channels group by event (where event reports show).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub stories: &'a StorySettings,
    pub grouped: &'a Grouped,
}

/// Whoever prunes for the running service (`app`), as HTTP is handed it.
pub trait Prune: Send + Sync + std::fmt::Debug {
    fn prune(&self, ask: Ask) -> Pin<Box<dyn Future<Output = Result<Pruned, PruneError>> + Send + '_>>;
}

/// The ids asked for, each a valid source id, each once.
pub fn parse_ids(asked: &[String]) -> Result<Vec<SourceId>, PruneError> {
    if asked.is_empty() {
        return Err(PruneError::NoSources);
    }
    let mut out: Vec<SourceId> = Vec::with_capacity(asked.len());
    for a in asked {
        let id = SourceId::parse(a).map_err(|e| PruneError::InvalidId(format!("source id {a:?}: {e}")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Refuses sources `settings` still configures: they would be polled again.
pub fn refuse_configured(ids: &[SourceId], settings: &Settings) -> Result<(), PruneError> {
    let configured: Vec<String> =
        ids.iter().filter(|id| settings.source(id).is_some()).map(|id| id.to_string()).collect();
    if configured.is_empty() {
        Ok(())
    } else {
        Err(PruneError::Configured(configured))
    }
}

/// Prunes every stored item of `ids` (or, `dry_run`, says what that would do), batch by batch;
/// polls of other sources commit between batches. Sources with neither items nor a state are
/// refused before anything is written. `stop` is asked between batches. Interrupted (by `stop`
/// or a crash), what was pruned stays pruned and whole, and running it again finishes the work.
pub fn run(
    store: &Store,
    ids: &[SourceId],
    rules: Rules<'_>,
    dry_run: bool,
    stop: &dyn Fn() -> bool,
) -> Result<Done, PruneError> {
    let wanted: HashSet<SourceId> = ids.iter().cloned().collect();
    let keys = stored_keys(store, ids, &wanted)?;
    let mut refs = Refs::new();
    for r in store.index_refs(&keys.iter().copied().collect())? {
        if let Some(to) = target(&r) {
            refs.entry(to).or_default().push(r);
        }
    }
    let sources = ids.iter().map(ToString::to_string).collect();
    let mut done = Done { summary: Pruned { sources, dry_run, ..Pruned::default() }, touched: BTreeSet::new() };
    let job = Job { store, ids, wanted: &wanted, refs: &refs, rules };
    if dry_run {
        let planned = plan::plan(&store.view(), &keys, &wanted, &refs, &rules)?;
        add(&mut done, &planned, planned.removal.entries.len());
    } else {
        job.batches(keys, &mut done, stop)?;
    }
    Ok(finish(done))
}

/// The keys of every stored entry of the sources (one pass over the entries: a source's channel
/// does not list its held-back backlog); refuses sources with neither entries nor a state.
fn stored_keys(store: &Store, ids: &[SourceId], wanted: &HashSet<SourceId>) -> Result<Vec<EntryKey>, PruneError> {
    let mut keys: Vec<EntryKey> = Vec::new();
    let mut found: HashSet<SourceId> = HashSet::new();
    store.for_each_entry(|e| {
        if wanted.contains(&e.source) {
            keys.push(e.key);
            found.insert(e.source);
        }
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    let mut unknown = Vec::new();
    for id in ids.iter().filter(|id| !found.contains(*id)) {
        if store.source_state(id)?.is_none() {
            unknown.push(id.to_string());
        }
    }
    if unknown.is_empty() {
        Ok(keys)
    } else {
        Err(PruneError::Unknown(unknown))
    }
}

/// One prune's inputs, shared by its batches.
struct Job<'a> {
    store: &'a Store,
    ids: &'a [SourceId],
    wanted: &'a HashSet<SourceId>,
    refs: &'a Refs,
    rules: Rules<'a>,
}

impl Job<'_> {
    /// Removes `keys` in batches of `BATCH` (and whatever shares their stories and events), the
    /// sources' states with the last one.
    fn batches(&self, keys: Vec<EntryKey>, done: &mut Done, stop: &dyn Fn() -> bool) -> Result<(), PruneError> {
        let mut gone: HashSet<EntryKey> = HashSet::new();
        let mut rest = keys.into_iter();
        loop {
            let batch: Vec<EntryKey> = rest.by_ref().filter(|k| !gone.contains(k)).take(BATCH).collect();
            let last = batch.len() < BATCH;
            let mut planned = Planned::default();
            let removal = self.store.remove_with(|view| {
                planned = plan::plan(view, &batch, self.wanted, self.refs, &self.rules)?;
                let mut removal = std::mem::take(&mut planned.removal);
                if last {
                    // The state goes last: until then a `sources` listing still names what is left.
                    removal.sources = self.ids.to_vec();
                }
                Ok(removal)
            })?;
            gone.extend(removal.entries.iter().map(|e| e.key));
            add(done, &planned, removal.entries.len());
            if last {
                return Ok(());
            }
            if stop() {
                done.summary.interrupted = true;
                return Ok(());
            }
        }
    }
}

fn target(r: &crate::domain::IndexWrite) -> Option<EntryKey> {
    use crate::domain::IndexWrite::{Alias, Text, Url};
    match r {
        Url(_, to) | Text(_, to) | Alias(_, to) => Some(*to),
        _ => None,
    }
}

fn add(done: &mut Done, p: &Planned, removed: usize) {
    let s = &mut done.summary;
    s.entries += removed;
    s.stories_repointed += p.stories_repointed;
    s.events_repointed += p.events_repointed;
    s.batches += 1;
    done.touched.extend(p.touched.iter().cloned());
}

fn finish(mut done: Done) -> Done {
    if done.summary.dry_run {
        done.summary.batches = done.summary.entries.div_ceil(BATCH).max(1);
    }
    done.summary.channels = done.touched.iter().map(crate::domain::channel_name).collect();
    done
}

#[cfg(test)]
mod tests;
