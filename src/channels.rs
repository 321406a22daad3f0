//! Which channels changed and when: a version per channel, bumped after every commit that
//! touches it. Render caches compare versions instead of re-reading the store; tasks that act on
//! changes (WebSub delivery) wait on one counter of bumps instead of ticking.

use crate::domain::ChannelId;
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub struct ChannelVersions {
    inner: Mutex<HashMap<ChannelId, (u64, DateTime<Utc>)>>,
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
        self.lock().get(ch).copied().unwrap_or((0, self.started))
    }

    pub fn bump(&self, channels: impl IntoIterator<Item = ChannelId>, now: DateTime<Utc>) {
        let now = now.trunc_subsecs(0);
        let mut moved = false;
        {
            let mut map = self.lock();
            for ch in channels {
                let v = map.entry(ch).or_insert((0, self.started));
                *v = (v.0 + 1, now.max(v.1));
                moved = true;
            }
        }
        if moved {
            self.bumps.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Changes whenever a bump moved a channel: `changed().await` on it waits for the next one.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.bumps.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChannelId, (u64, DateTime<Utc>)>> {
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
}
