//! The hub's shared state: the subscriptions (in memory, each change written through to the
//! store and flushed), the callback client, the abuse limits and the queue of requests waiting
//! for verification. The endpoint, the verifier and the delivery worker all go through it.

use super::client::Callbacks;
use super::limits::RateLimiter;
use super::request::Mode;
use super::subscription::{Retry, Secret, Subscription};
use super::topic::Topic;
use crate::config::Settings;
use crate::http::{AppState, Live};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use url::Url;

/// Requests waiting for verification (or a denial) at once; past that the endpoint answers 503.
const QUEUE: usize = 1024;

/// A request accepted by the endpoint, for the verifier.
#[derive(Debug)]
pub enum Task {
    Verify(Pending),
    /// §5.2: the subscriber is told its request was refused.
    Deny {
        callback: Url,
        topic: String,
        reason: String,
    },
}

/// A request whose intent is being verified: nothing changes until the callback confirms.
#[derive(Debug)]
pub struct Pending {
    pub id: String,
    pub mode: Mode,
    pub callback: Url,
    pub topic: Topic,
    pub secret: Option<Secret>,
    pub key: Option<Secret>,
    pub lease: Duration,
}

/// Why the hub cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read the stored WebSub subscriptions: {0}")]
    Store(#[from] crate::store::StoreError),
}

#[derive(Debug)]
pub struct Hub {
    /// HTTP's state: the store, channel versions, rendering and the settings, shared with the
    /// server and swapped by a reload (channels, partners and keys follow it; the `[websub]`
    /// limits, client and queues below are built once).
    live: Live,
    pub callbacks: Callbacks,
    pub retry: Retry,
    table: Mutex<HashMap<String, Subscription>>,
    /// Serializes writes to the store, each of which re-reads the table: the last write of a
    /// subscription is always its latest state.
    persisting: Mutex<()>,
    pub(super) limiter: Mutex<RateLimiter>,
    /// Verifications under way: id → callback host (they count against the caps).
    pub(super) pending: Mutex<HashMap<String, String>>,
    pub(super) queue: mpsc::Sender<Task>,
    inbox: Mutex<Option<mpsc::Receiver<Task>>>,
    /// Wakes the delivery worker when a subscription was added or renewed.
    pub(super) wake: Notify,
    /// Ids (re)activated since the worker last looked.
    pub(super) touched: Mutex<HashSet<String>>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// The hub over `state`'s store, with the stored subscriptions loaded.
    pub fn open(live: Live) -> Result<Self, OpenError> {
        let state = live.load();
        let settings = state.settings.clone();
        let w = &settings.websub;
        let stored: Vec<Subscription> = state.store.subscriptions()?;
        let table = stored.into_iter().map(|s| (s.id.clone(), s)).collect();
        let (queue, inbox) = mpsc::channel(QUEUE);
        Ok(Self {
            callbacks: Callbacks::new(&settings),
            retry: Retry { first: w.retry_min, max: w.retry_max, give_up_after: w.give_up_after },
            limiter: Mutex::new(RateLimiter::new(w.requests_per_minute)),
            table: Mutex::new(table),
            persisting: Mutex::default(),
            pending: Mutex::default(),
            queue,
            inbox: Mutex::new(Some(inbox)),
            wake: Notify::new(),
            touched: Mutex::default(),
            live,
        })
    }

    /// The serving state of now (a request or a delivery loads it once).
    pub fn state(&self) -> AppState {
        self.live.load()
    }

    /// The serving state as reloads keep it.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The settings of now.
    pub fn settings(&self) -> Arc<Settings> {
        self.live.load().settings.clone()
    }

    /// `server.public_url` without a trailing slash: topics are named under it.
    pub fn base(&self) -> String {
        self.state().base_url().to_owned()
    }

    /// The verifier's end of the queue (once).
    pub(super) fn take_inbox(&self) -> Option<mpsc::Receiver<Task>> {
        lock(&self.inbox).take()
    }

    /// Every subscription as it is now.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        lock(&self.table).values().cloned().collect()
    }

    /// Reads or changes the subscriptions under their lock (callers persist what they changed).
    pub(super) fn with_table<T>(&self, f: impl FnOnce(&mut HashMap<String, Subscription>) -> T) -> T {
        f(&mut lock(&self.table))
    }

    /// A verified subscribe: a new subscription from `position`, or the renewal of the one that
    /// callback already has for the topic. Returns its id.
    pub(super) fn activate(&self, p: &Pending, now: chrono::DateTime<chrono::Utc>, position: u64) -> String {
        let mut table = lock(&self.table);
        let sub = table
            .entry(p.id.clone())
            .or_insert_with(|| Subscription::activate(p.callback.as_str(), &p.topic.path(), now, p.lease, position));
        sub.renew(p.secret.clone(), p.key.clone(), now, p.lease);
        drop(table);
        lock(&self.touched).insert(p.id.clone());
        self.wake.notify_one();
        p.id.clone()
    }

    /// Writes the subscriptions under `ids` as they are now (removing those gone) and flushes.
    /// Blocking: called off the async workers.
    pub(super) fn persist_now(&self, ids: &[String]) -> Result<(), crate::store::StoreError> {
        let _serial = lock(&self.persisting);
        let (kept, gone): (Vec<_>, Vec<_>) = {
            let table = lock(&self.table);
            let (kept, gone): (Vec<_>, Vec<_>) = ids.iter().partition(|id| table.contains_key(*id));
            (kept.into_iter().filter_map(|id| table.get(id).cloned()).collect(), gone)
        };
        let puts: Vec<(&str, &Subscription)> = kept.iter().map(|s: &Subscription| (s.id.as_str(), s)).collect();
        if !puts.is_empty() {
            self.state().store.put_subscriptions(&puts)?;
        }
        if !gone.is_empty() {
            self.state().store.delete_subscriptions(&gone.iter().map(|id| id.as_str()).collect::<Vec<_>>())?;
        }
        Ok(())
    }

    /// `persist_now` on a blocking thread; a failure is logged (the change is then lost at the
    /// next restart: a position written later, delivered again).
    pub(super) async fn persist(self: &Arc<Self>, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let hub = self.clone();
        match tokio::task::spawn_blocking(move || hub.persist_now(&ids)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot store WebSub subscriptions"),
            Err(e) => tracing::error!(error = %e, "storing WebSub subscriptions failed"),
        }
    }
}
