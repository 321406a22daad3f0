//! Which channels changed and when: a version per channel, bumped after every commit that
//! touches it. Render caches compare versions instead of re-reading the store; tasks that act on
//! changes (WebSub delivery) wait on one counter of bumps instead of ticking. Commits of other
//! instances on a shared database arrive through `coherence.rs` as `bump_remote`/`bump_everything`.

use crate::domain::ChannelId;
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
struct Versions {
    per_channel: HashMap<ChannelId, (u64, DateTime<Utc>)>,
    /// Added to every channel's version: "everything changed" (a commit elsewhere whose
    /// channels are unknown) is one bump here.
    everything: (u64, Option<DateTime<Utc>>),
    /// Channels this process's own bumps moved since `take_local`, when someone collects them.
    local: Option<BTreeSet<ChannelId>>,
}

#[derive(Debug)]
pub struct ChannelVersions {
    inner: Mutex<Versions>,
    /// Until a channel changes, its last-modified time is when this process started: a restart
    /// costs each reader one full download, never a stale 304.
    started: DateTime<Utc>,
    /// How many bumps there were: a waiter wakes within microseconds of a commit.
    bumps: tokio::sync::watch::Sender<u64>,
}

impl Default for ChannelVersions {
    fn default() -> Self {
        let bumps = tokio::sync::watch::Sender::new(0);
        Self { inner: Mutex::default(), started: Utc::now().trunc_subsecs(0), bumps }
    }
}

impl ChannelVersions {
    /// The channel's version and the time (whole seconds, as HTTP dates have) it last changed.
    pub fn get(&self, ch: &ChannelId) -> (u64, DateTime<Utc>) {
        let inner = self.lock();
        let (v, t) = inner.per_channel.get(ch).copied().unwrap_or((0, self.started));
        let (all, all_t) = inner.everything;
        (v.wrapping_add(all), all_t.map_or(t, |a| a.max(t)))
    }

    /// This process's commits (and reloads) moved `channels`.
    pub fn bump(&self, channels: impl IntoIterator<Item = ChannelId>, now: DateTime<Utc>) {
        self.bump_with(channels, now, true);
    }

    /// Another instance's commit moved `channels`: bumped like `bump`, never collected by
    /// `take_local` (so it is not announced back).
    pub fn bump_remote(&self, channels: impl IntoIterator<Item = ChannelId>, now: DateTime<Utc>) {
        self.bump_with(channels, now, false);
    }

    /// Something changed whose channels are unknown (a notification too long to name them, or
    /// one that may have been missed): every channel moves.
    pub fn bump_everything(&self, now: DateTime<Utc>) {
        let now = now.trunc_subsecs(0);
        {
            let mut inner = self.lock();
            let (n, t) = inner.everything;
            inner.everything = (n + 1, Some(t.map_or(now, |t| t.max(now))));
        }
        self.bumps.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn bump_with(&self, channels: impl IntoIterator<Item = ChannelId>, now: DateTime<Utc>, local: bool) {
        let now = now.trunc_subsecs(0);
        let mut moved = false;
        {
            let mut inner = self.lock();
            let Versions { per_channel, local: collected, .. } = &mut *inner;
            for ch in channels {
                let v = per_channel.entry(ch.clone()).or_insert((0, self.started));
                *v = (v.0 + 1, now.max(v.1));
                if let Some(set) = collected.as_mut().filter(|_| local) {
                    set.insert(ch);
                }
                moved = true;
            }
        }
        if moved {
            self.bumps.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// The channels this process's own bumps moved since the last call (none before the first:
    /// collecting starts with it).
    pub fn take_local(&self) -> BTreeSet<ChannelId> {
        self.lock().local.replace(BTreeSet::new()).unwrap_or_default()
    }

    /// Changes whenever a bump moved a channel: `changed().await` on it waits for the next one.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.bumps.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Versions> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_moves_only_named_channels() {
        let v = ChannelVersions::default();
        let (v0, t0) = v.get(&ChannelId::All);
        v.bump([ChannelId::All], t0 + chrono::Duration::seconds(5));
        assert_eq!(v.get(&ChannelId::All).0, v0 + 1);
        assert_eq!(v.get(&ChannelId::All).1, t0 + chrono::Duration::seconds(5));
        let other = ChannelId::Topic(crate::domain::TopicId::parse("t").expect("slug"));
        assert_eq!(v.get(&other), (0, t0));
    }

    #[test]
    fn a_bump_wakes_watchers_and_an_empty_one_does_not() {
        let v = ChannelVersions::default();
        let mut w = v.watch();
        v.bump([], Utc::now());
        assert!(!w.has_changed().expect("open"), "nothing moved");
        v.bump([ChannelId::All], Utc::now());
        assert!(w.has_changed().expect("open"));
        w.mark_unchanged();
        assert!(!w.has_changed().expect("open"));
    }

    #[test]
    fn only_own_bumps_are_collected_and_everything_moves_every_channel() {
        let v = ChannelVersions::default();
        let topic = ChannelId::Topic(crate::domain::TopicId::parse("t").expect("slug"));
        v.bump([ChannelId::All], Utc::now());
        assert!(v.take_local().is_empty(), "collecting starts with the first call");
        v.bump([ChannelId::All], Utc::now());
        v.bump_remote([topic.clone()], Utc::now());
        assert_eq!(v.take_local(), BTreeSet::from([ChannelId::All]));
        let (before_all, before_topic) = (v.get(&ChannelId::All).0, v.get(&topic).0);
        let w = v.watch();
        v.bump_everything(Utc::now());
        assert!(w.has_changed().expect("open"));
        assert_eq!(v.get(&ChannelId::All).0, before_all + 1);
        assert_eq!(v.get(&topic).0, before_topic + 1);
        assert!(v.take_local().is_empty(), "nothing of this process moved");
    }
}
