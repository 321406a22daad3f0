//! One politeness budget per host, shared by every request newsriver makes there: how many polls
//! may run at once, and the minimum gap between two requests (redirect hops included).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The budgets are built from the config's plain limits.
pub use crate::config::HostLimits;

#[derive(Debug, Default)]
struct Budget {
    slots: Option<Arc<Semaphore>>,
    next_request: Option<Instant>,
}

#[derive(Debug)]
struct Limits {
    default: HostLimits,
    overrides: HashMap<String, HostLimits>,
}

impl Limits {
    fn new(default: HostLimits, overrides: HashMap<String, HostLimits>) -> Self {
        let overrides = overrides.into_iter().map(|(h, l)| (h.to_ascii_lowercase(), l)).collect();
        Self { default, overrides }
    }

    fn of(&self, host: &str) -> HostLimits {
        self.overrides.get(host).copied().unwrap_or(self.default)
    }
}

#[derive(Debug)]
pub struct HostBudgets {
    limits: RwLock<Limits>,
    budgets: Mutex<HashMap<String, Budget>>,
}

impl HostBudgets {
    pub fn new(default: HostLimits, overrides: HashMap<String, HostLimits>) -> Self {
        Self { limits: RwLock::new(Limits::new(default, overrides)), budgets: Mutex::default() }
    }

    pub fn limits(&self, host: &str) -> HostLimits {
        self.limits.read().unwrap_or_else(PoisonError::into_inner).of(host)
    }

    /// New limits from a reload. A host whose concurrency changed gets new slots: polls holding
    /// the old ones finish under them, later polls wait on the new. Booked turns stay booked.
    pub fn reconfigure(&self, default: HostLimits, overrides: HashMap<String, HostLimits>) {
        let new = Limits::new(default, overrides);
        let mut all = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        for (host, b) in all.iter_mut() {
            if self.limits(host).concurrency != new.of(host).concurrency {
                b.slots = None;
            }
        }
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = new;
    }

    fn with_budget<T>(&self, host: &str, f: impl FnOnce(&mut Budget) -> T) -> T {
        // Each update is a single assignment, so a poisoned lock still holds consistent data.
        let mut all = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        f(all.entry(host.to_owned()).or_default())
    }

    /// Waits for one of the host's poll slots; the slot is held until the permit drops.
    pub async fn slot(&self, host: &str) -> OwnedSemaphorePermit {
        let limit = self.limits(host).concurrency;
        let sem = self.with_budget(host, |b| b.slots.get_or_insert_with(|| Arc::new(Semaphore::new(limit))).clone());
        sem.acquire_owned().await.expect("host semaphores are never closed")
    }

    /// Waits until the host's minimum gap since the previous request has passed, and books the
    /// next turn, so concurrent callers queue up one gap apart instead of all waking together.
    pub async fn wait_turn(&self, host: &str) {
        let gap = self.limits(host).min_gap;
        if gap.is_zero() {
            return;
        }
        let now = Instant::now();
        let turn = self.with_budget(host, |b| {
            let turn = b.next_request.map_or(now, |n| n.max(now));
            b.next_request = Some(turn + gap);
            turn
        });
        tokio::time::sleep_until(turn).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_by_the_gap() {
        let limits = HostLimits { concurrency: 2, min_gap: Duration::ZERO };
        let slow = HostLimits { concurrency: 1, min_gap: Duration::from_secs(2) };
        let budgets = Arc::new(HostBudgets::new(limits, HashMap::from([("Slow.Example".to_owned(), slow)])));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..3 {
            let b = budgets.clone();
            handles.push(tokio::spawn(async move {
                b.wait_turn("slow.example").await;
                Instant::now() - start
            }));
        }
        let mut waits = Vec::new();
        for h in handles {
            waits.push(h.await.expect("join").as_secs());
        }
        waits.sort_unstable();
        assert_eq!(waits, vec![0, 2, 4]);
        budgets.wait_turn("fast.example").await;
        assert_eq!(budgets.limits("fast.example"), limits);
        let _one = budgets.slot("slow.example").await;
        let second = tokio::time::timeout(Duration::from_secs(1), budgets.slot("slow.example")).await;
        assert!(second.is_err(), "concurrency 1 holds the second poll");
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_changes_the_limits_of_later_requests() {
        let one = HostLimits { concurrency: 1, min_gap: Duration::ZERO };
        let budgets = HostBudgets::new(one, HashMap::new());
        let _held = budgets.slot("wire.example").await;
        let wait = Duration::from_secs(1);
        assert!(tokio::time::timeout(wait, budgets.slot("wire.example")).await.is_err(), "one slot");
        let two = HostLimits { concurrency: 2, min_gap: Duration::from_secs(3) };
        budgets.reconfigure(one, HashMap::from([("Wire.Example".to_owned(), two)]));
        assert_eq!(budgets.limits("wire.example"), two);
        let (_a, _b) = (budgets.slot("wire.example").await, budgets.slot("wire.example").await);
        assert!(tokio::time::timeout(wait, budgets.slot("wire.example")).await.is_err(), "two new slots");
        let start = Instant::now();
        budgets.wait_turn("wire.example").await;
        budgets.wait_turn("wire.example").await;
        assert_eq!((Instant::now() - start).as_secs(), 3, "the new gap");
    }
}
