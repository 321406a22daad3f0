//! The delivery worker. It wakes when a commit moves a channel's version, when a subscription is
//! added or renewed, when deliveries finish and when a retry or a lease end falls due: never on a
//! tick, and with no subscription it reads and renders nothing. A subscription is delivered to
//! from its stored position; the position moves (and is flushed) only after a 2xx, so a crash
//! loses nothing: what was not acknowledged is sent again after the restart.

use super::deliver::{self, Answer, Batch, Outcome};
use super::hub::{lock, Hub};
use super::subscription::{State, Subscription};
use super::topic::Topic;
use crate::domain::ChannelId;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

/// When nothing is due, the worker still looks once an hour (a clock that jumped, say).
const IDLE: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct Worker {
    /// Subscriptions that may have something to deliver.
    dirty: HashSet<String>,
    /// Subscriptions with a delivery under way.
    busy: HashSet<String>,
    /// Each subscribed channel's version when last looked at.
    seen: HashMap<ChannelId, u64>,
    topics: HashMap<String, Option<Topic>>,
    tasks: JoinSet<Outcome>,
    running: HashMap<Id, String>,
    /// The partner each delivery under way goes to, when its key is one: counted as pushed.
    pushes: HashMap<String, crate::domain::PartnerId>,
    /// The configuration the topics above were resolved under; a reload makes a new one.
    settings: Option<Arc<crate::config::Settings>>,
}

/// Runs until `stop`; deliveries under way then are cut short (and made again after a restart).
pub async fn run(hub: Arc<Hub>, stop: CancellationToken) {
    let mut bumps = hub.state().versions.watch();
    let mut bumps_open = true;
    let mut w = Worker::default();
    loop {
        let next = w.pass(&hub).await;
        let wait = next.map_or(IDLE, |t| (t - Utc::now()).to_std().unwrap_or_default());
        tokio::select! {
            () = stop.cancelled() => break,
            changed = bumps.changed(), if bumps_open => bumps_open = changed.is_ok(),
            () = hub.wake.notified() => {}
            Some(done) = w.tasks.join_next_with_id(), if !w.tasks.is_empty() => {
                let mut finished = vec![done];
                while let Some(more) = w.tasks.try_join_next_with_id() {
                    finished.push(more);
                }
                w.settle(&hub, finished).await;
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
    w.tasks.shutdown().await;
}

impl Worker {
    /// Drops expired subscriptions, marks those whose channel moved, delivers to every due one
    /// and returns when it must look again at the latest.
    async fn pass(&mut self, hub: &Arc<Hub>) -> Option<DateTime<Utc>> {
        let now = Utc::now();
        self.dirty.extend(lock(&hub.touched).drain());
        let expired = hub.with_table(|t| {
            let gone: Vec<String> = t.values().filter(|s| s.expired(now)).map(|s| s.id.clone()).collect();
            gone.iter().for_each(|id| drop(t.remove(id)));
            gone
        });
        if !expired.is_empty() {
            tracing::info!(count = expired.len(), "WebSub leases ended");
            hub.persist(expired).await;
        }
        self.follow_reload(hub).await;
        let subs = hub.subscriptions();
        let active = subs.iter().filter(|s| s.state == State::Active).count() as u64;
        hub.state().websub.set_subscriptions(active, subs.len() as u64 - active);
        if subs.is_empty() {
            return None;
        }
        self.mark_moved(hub, &subs);
        let mut groups: HashMap<(String, u64), Vec<&Subscription>> = HashMap::new();
        for s in subs.iter().filter(|s| self.dirty.contains(&s.id) && !self.busy.contains(&s.id) && s.due(now)) {
            groups.entry((s.topic.clone(), s.position)).or_default().push(s);
        }
        for ((topic, position), members) in groups {
            self.deliver_group(hub, &topic, position, &members).await;
        }
        self.next_look(&subs, now)
    }

    /// After a reload: topics are resolved again, and a subscription whose channel is gone or
    /// whose key no longer grants it ends now (§5.2 `denied`), not silently at its lease's end.
    async fn follow_reload(&mut self, hub: &Arc<Hub>) {
        let settings = hub.settings();
        let Some(before) = self.settings.replace(settings.clone()) else { return };
        if Arc::ptr_eq(&before, &settings) {
            return;
        }
        self.topics.clear();
        let state = hub.state();
        let refused = |s: &Subscription| match Topic::from_path(&settings, &s.topic) {
            None => Some("topic removed: no longer a channel of this hub"),
            Some(t) => {
                let key = s.key.as_ref().map(|k| k.0.as_str());
                (!super::allowed(super::may_subscribe(&settings, &state.gate, &t.channel, key)))
                    .then_some("not allowed: the key no longer grants this channel")
            }
        };
        let ended: Vec<(Subscription, &str)> = hub.with_table(|t| {
            let gone: Vec<(String, &str)> = t.values().filter_map(|s| refused(s).map(|r| (s.id.clone(), r))).collect();
            gone.into_iter().filter_map(|(id, r)| t.remove(&id).map(|s| (s, r))).collect()
        });
        if ended.is_empty() {
            return;
        }
        tracing::info!(count = ended.len(), "WebSub subscriptions ended by the reload");
        let base = hub.base();
        for (s, reason) in &ended {
            let Ok(callback) = url::Url::parse(&s.callback) else { continue };
            let deny =
                super::hub::Task::Deny { callback, topic: format!("{base}{}", s.topic), reason: (*reason).into() };
            if hub.queue.try_send(deny).is_err() {
                tracing::debug!(id = %s.id, "WebSub queue full: the subscriber is not told its subscription ended");
            }
        }
        hub.persist(ended.into_iter().map(|(s, _)| s.id).collect()).await;
    }

    /// Every subscription whose channel's version moved since the last look (all, at start).
    fn mark_moved(&mut self, hub: &Hub, subs: &[Subscription]) {
        let mut moved: HashSet<ChannelId> = HashSet::new();
        for s in subs {
            let Some(topic) = self.topic(hub, &s.topic) else { continue };
            if moved.contains(&topic.channel) {
                self.dirty.insert(s.id.clone());
                continue;
            }
            let version = hub.state().versions.get(&topic.channel).0;
            let last = self.seen.get(&topic.channel).copied();
            if last != Some(version) {
                self.seen.insert(topic.channel.clone(), version);
                moved.insert(topic.channel);
                self.dirty.insert(s.id.clone());
            }
        }
    }

    fn topic(&mut self, hub: &Hub, path: &str) -> Option<Topic> {
        let known = self.topics.entry(path.to_owned()).or_insert_with(|| Topic::from_path(&hub.settings(), path));
        known.clone()
    }

    /// Renders once for the subscribers at one (topic, position) and posts to each.
    async fn deliver_group(&mut self, hub: &Arc<Hub>, path: &str, position: u64, members: &[&Subscription]) {
        let ids = || members.iter().map(|s| s.id.clone());
        // A topic no longer configured has nothing to deliver until it is again.
        let Some(topic) = self.topic(hub, path) else {
            for id in ids() {
                self.dirty.remove(&id);
            }
            return;
        };
        let channel = topic.channel.clone();
        let (state, w) = (hub.state(), &hub.settings().websub);
        let (items, bytes) = (w.batch_items, w.batch_bytes);
        hub.state().websub.record_render();
        let rendered =
            tokio::task::spawn_blocking(move || deliver::render(&state, &topic, position, items, bytes)).await;
        let batch = match rendered {
            Ok(Ok(b)) => Arc::new(b),
            Ok(Err(e)) => return self.give_up_for_now(ids(), &e.to_string()),
            Err(e) => return self.give_up_for_now(ids(), &e.to_string()),
        };
        if batch.items == 0 {
            return self.nothing_new(hub, ids().collect(), &batch).await;
        }
        // The configuration of now, loaded once for the batch (a reload swaps it).
        let now_state = hub.state();
        for s in members {
            self.dirty.remove(&s.id);
            // Asked again for every delivery: a key withdrawn from the config stops the pushes.
            let key = s.key.as_ref().map(|k| k.0.as_str());
            let access = super::may_subscribe(&now_state.settings, &now_state.gate, &channel, key);
            if !super::allowed(access) {
                tracing::debug!(id = %s.id, "WebSub subscription's key no longer grants its channel: not sent");
                continue;
            }
            if let Some(p) = access.partner().and_then(|i| now_state.gate.partners.get(i)) {
                self.pushes.insert(s.id.clone(), p.id.clone());
            }
            self.busy.insert(s.id.clone());
            let job = deliver::post(
                hub.clone(),
                s.id.clone(),
                s.callback.clone(),
                s.secret.clone(),
                batch.clone(),
                s.failures > 0,
            );
            let handle = self.tasks.spawn(job);
            self.running.insert(handle.id(), s.id.clone());
        }
    }

    /// Nothing of the topic's after the position: the subscribers move past what was scanned.
    async fn nothing_new(&mut self, hub: &Arc<Hub>, ids: Vec<String>, batch: &Batch) {
        let advanced = hub.with_table(|t| {
            let mut moved = Vec::new();
            for id in &ids {
                if let Some(s) = t.get_mut(id).filter(|s| s.position < batch.cursor) {
                    s.advance(batch.cursor);
                    moved.push(id.clone());
                }
            }
            moved
        });
        // Moved past a stretch of the log: look again from there; else all caught up.
        for id in ids.iter().filter(|id| !advanced.contains(id)) {
            self.dirty.remove(id);
        }
        hub.persist(advanced).await;
    }

    fn give_up_for_now(&mut self, ids: impl Iterator<Item = String>, error: &str) {
        tracing::error!(error = %error, "cannot render a WebSub delivery");
        for id in ids {
            self.dirty.remove(&id);
        }
    }

    /// Applies finished deliveries, then stores every subscription they changed (one flush).
    async fn settle(&mut self, hub: &Arc<Hub>, finished: Vec<Result<(Id, Outcome), tokio::task::JoinError>>) {
        let now = Utc::now();
        let mut changed = Vec::with_capacity(finished.len());
        for done in finished {
            let outcome = match done {
                Ok((task, o)) => {
                    self.running.remove(&task);
                    o
                }
                Err(e) => {
                    // A delivery task that panicked: its subscription is free to be tried again.
                    if let Some(id) = self.running.remove(&e.id()) {
                        self.busy.remove(&id);
                        self.dirty.insert(id);
                    }
                    continue;
                }
            };
            self.busy.remove(&outcome.id);
            changed.push(outcome.id.clone());
            hub.state().websub.record_delivery(outcome.answer == Answer::Delivered, outcome.retry, outcome.elapsed);
            hub.with_table(|t| self.apply(hub, t, outcome, now));
        }
        hub.persist(changed).await;
    }

    fn apply(&mut self, hub: &Hub, table: &mut HashMap<String, Subscription>, o: Outcome, now: DateTime<Utc>) {
        // Unsubscribed meanwhile: nothing to record.
        let partner = self.pushes.remove(&o.id);
        let Some(s) = table.get_mut(&o.id) else { return };
        match o.answer {
            Answer::Delivered => {
                s.delivered(now, o.batch.cursor, o.batch.items);
                if let Some(p) = partner {
                    hub.state().gate.record_push(&p, o.batch.items as u64);
                }
                if o.batch.full {
                    self.dirty.insert(o.id);
                }
            }
            Answer::Gone => {
                tracing::info!(id = %o.id, "WebSub callback answered 410 Gone: subscription ended");
                table.remove(&o.id);
            }
            Answer::Failed(error) => {
                s.failed(now, error, &hub.retry, jitter());
                if s.state == State::Suspended {
                    tracing::warn!(id = %o.id, error = ?s.last_error, "WebSub callback failing too long: suspended");
                } else {
                    self.dirty.insert(o.id);
                }
            }
        }
    }

    /// The earliest lease end, and the earliest attempt due of a subscription with something to
    /// deliver (now, for one that moved past a stretch of the log and goes on from there).
    fn next_look(&self, subs: &[Subscription], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let waiting = (subs.iter())
            .filter(|s| s.state == State::Active && self.dirty.contains(&s.id) && !self.busy.contains(&s.id))
            .map(|s| s.next_attempt.unwrap_or(now));
        subs.iter().map(|s| s.lease_end).chain(waiting).min()
    }
}

/// A fraction in 0..1 from the OS's randomness, so callbacks that failed together spread out.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).map_or(0.5, |()| f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX))
}
