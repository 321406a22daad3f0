//! Source and host leases: how several instances on one PostgreSQL store share polling. The
//! store keeps the rows and runs the conditional claims (`pg/lease.rs`); when to claim, renew
//! and release is the poller's (`lease.rs`, `worker.rs`).
//!
//! A source is polled only by the instance holding its lease, and only while that instance
//! holds the lease of the source's host. The due time of each source lives in its lease row
//! (written after each poll from `cadence::next_check`), so one schedule holds across
//! instances. Host leases rather than a budget kept in the database: the instance holding a
//! host applies its in-process budget (`per_host`, `min_gap`, `[[host]]`, Retry-After) exactly,
//! with no round trip per request, to feed and same-host article fetches alike; a released host
//! stays its last holder's for `min_gap`, so the gap holds across a hand-over too.
//!
//! On sled one process owns the store: claims succeed without any I/O and nothing is stored.

use super::kv::Kv;
use super::pg::LeaseClaim;
use super::{codec, Store, StoreError};
use crate::domain::{SourceId, SourceState};
use chrono::{DateTime, TimeZone, Utc};
use std::time::Duration;

/// A source's lease row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub source: SourceId,
    /// The instance holding the lease, when one is (it may have run out: see `until`).
    pub holder: Option<String>,
    pub until: Option<DateTime<Utc>>,
    /// When the source is next due (none: not by interval).
    pub due: Option<DateTime<Utc>>,
    pub polled_by: Option<String>,
    pub polled_at: Option<DateTime<Utc>>,
}

fn at(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

impl LeaseRow {
    /// A row from its columns (times in Unix ms); none for a source id no longer valid.
    pub(super) fn from_parts(
        source: String,
        holder: Option<String>,
        until: Option<i64>,
        due: Option<i64>,
        polled_by: Option<String>,
        polled_at: Option<i64>,
    ) -> Option<Self> {
        let source = SourceId::parse(&source).ok()?;
        Some(Self { source, holder, until: at(until), due: at(due), polled_by, polled_at: at(polled_at) })
    }

    /// The holder while the lease runs at `now` (the database's clock).
    pub fn held_by(&self, now: DateTime<Utc>) -> Option<&str> {
        self.holder.as_deref().filter(|_| self.until.is_some_and(|u| u > now))
    }
}

fn names(ids: &[SourceId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

impl Store {
    /// Whether other instances may poll from this store (PostgreSQL), so polls need leases.
    pub fn shares_polling(&self) -> bool {
        self.kv.is_remote()
    }

    /// Gives new sources a lease row: (id, host, due in; none: not due by interval).
    pub fn lease_register(&self, rows: &[(SourceId, String, Option<Duration>)]) -> Result<(), StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(()) };
        let rows = rows.iter().map(|(id, host, due)| (id.to_string(), host.clone(), due.map(|d| d.as_secs_f64())));
        pg.lease_register(rows.collect())
    }

    /// Claims up to `limit` of the `known` sources that are due, for `me`, with their hosts.
    /// On sled there is nothing to claim from: the poller's own board says what is due.
    pub fn claim_due(
        &self,
        me: &str,
        lease: Duration,
        known: &[SourceId],
        limit: usize,
    ) -> Result<Vec<SourceId>, StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(Vec::new()) };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let claimed = pg.lease_claim_due(me.to_owned(), lease.as_secs_f64(), names(known), limit)?;
        Ok(claimed.iter().filter_map(|s| SourceId::parse(s).ok()).collect())
    }

    /// Claims a cron source for its firing at `fire` (one instance per firing), with its host.
    pub fn claim_cron(
        &self,
        me: &str,
        lease: Duration,
        id: &SourceId,
        fire: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(true) };
        pg.lease_claim_one(
            me.to_owned(),
            lease.as_secs_f64(),
            id.to_string(),
            LeaseClaim::Cron(fire.timestamp_millis()),
        )
    }

    /// Claims a source for a manual poll, unless another instance holds it.
    pub fn claim_now(&self, me: &str, lease: Duration, id: &SourceId) -> Result<bool, StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(true) };
        pg.lease_claim_one(me.to_owned(), lease.as_secs_f64(), id.to_string(), LeaseClaim::Now)
    }

    /// Extends `me`'s leases on `ids` (polls in flight) and on their hosts.
    pub fn renew_leases(&self, me: &str, lease: Duration, ids: &[SourceId]) -> Result<(), StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(()) };
        pg.lease_renew(me.to_owned(), lease.as_secs_f64(), names(ids))
    }

    /// Ends `me`'s lease on a polled source: due again in `due_in` (none: not by interval); its
    /// host stays `me`'s for `gap` when no other poll of it is in flight here.
    pub fn release_lease(
        &self,
        me: &str,
        id: &SourceId,
        host: &str,
        due_in: Option<Duration>,
        gap: Duration,
    ) -> Result<(), StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok(()) };
        let due_in = due_in.map(|d| d.as_secs_f64());
        pg.lease_release(me.to_owned(), id.to_string(), host.to_owned(), due_in, gap.as_secs_f64())
    }

    /// The stored states of `ids` (one query on PostgreSQL), for a refresh after other
    /// instances' polls; sources without one are left out.
    pub fn source_states(&self, ids: &[SourceId]) -> Result<Vec<(SourceId, SourceState)>, StoreError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| id.as_str().as_bytes().to_vec()).collect();
        let values = self.sources.get_many(&keys)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, v) in ids.iter().zip(values) {
            if let Some(v) = v {
                out.push((id.clone(), codec::decode("source state", &v)?));
            }
        }
        Ok(out)
    }

    /// The rows of `known` sources held now or polled since `since`, and the database's clock.
    pub fn lease_rows(
        &self,
        known: &[SourceId],
        since: Option<DateTime<Utc>>,
    ) -> Result<(DateTime<Utc>, Vec<LeaseRow>), StoreError> {
        let Kv::Pg(pg) = &self.kv else { return Ok((Utc::now(), Vec::new())) };
        let since = since.map_or(0, |t| t.timestamp_millis());
        let (now, rows) = pg.lease_rows(names(known), since)?;
        Ok((at(Some(now)).unwrap_or_else(Utc::now), rows.into_iter().flatten().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_place::Place;

    fn id(s: &str) -> SourceId {
        SourceId::parse(s).expect("id")
    }

    const LEASE: Duration = Duration::from_secs(30);

    fn register(store: &Store, rows: &[(&str, &str, Option<u64>)]) {
        let rows: Vec<_> = rows.iter().map(|(s, h, d)| (id(s), (*h).to_owned(), d.map(Duration::from_secs))).collect();
        store.lease_register(&rows).expect("register");
    }

    fn claim(store: &Store, me: &str, known: &[&str]) -> Vec<String> {
        let known: Vec<SourceId> = known.iter().map(|s| id(s)).collect();
        let mut got: Vec<String> =
            store.claim_due(me, LEASE, &known, 10).expect("claim").iter().map(ToString::to_string).collect();
        got.sort();
        got
    }

    fn pg() -> Option<Store> {
        Place::pg().map(|p| p.open())
    }

    #[test]
    fn on_sled_every_claim_succeeds_and_nothing_is_stored() {
        let place = Place::sled();
        let store = place.open();
        assert!(!store.shares_polling());
        register(&store, &[("a", "h1", Some(0))]);
        assert!(store.claim_now("x", LEASE, &id("a")).expect("claim"));
        assert!(store.claim_cron("x", LEASE, &id("a"), Utc::now()).expect("claim"));
        assert!(store.claim_cron("y", LEASE, &id("a"), Utc::now()).expect("claim"), "one process owns sled");
        assert!(store.lease_rows(&[id("a")], None).expect("rows").1.is_empty());
    }

    #[test]
    fn a_held_source_is_never_claimed_twice_and_its_release_sets_the_next_due() {
        let Some(store) = pg() else { return };
        assert!(store.shares_polling());
        register(&store, &[("a", "h1", Some(0)), ("b", "h1", Some(0)), ("c", "h2", Some(0)), ("d", "h3", Some(600))]);
        let all = ["a", "b", "c", "d"];
        assert_eq!(claim(&store, "x", &all), ["a", "b", "c"], "d is not due");
        assert!(claim(&store, "y", &all).is_empty(), "all held by x");
        store.release_lease("x", &id("a"), "h1", Some(Duration::from_secs(60)), Duration::ZERO).expect("release");
        assert!(claim(&store, "y", &all).is_empty(), "a is due in a minute; b and c are held");
        store.release_lease("x", &id("b"), "h1", Some(Duration::ZERO), Duration::ZERO).expect("release");
        assert_eq!(claim(&store, "y", &all), ["b"], "due again, and h1 is free once x has no poll on it");
        let (now, rows) = store.lease_rows(&all.map(id), None).expect("rows");
        let row = |s: &str| rows.iter().find(|r| r.source.as_str() == s).cloned().expect("row");
        assert_eq!(row("a").polled_by.as_deref(), Some("x"));
        assert!(row("a").held_by(now).is_none());
        let due = row("a").due.expect("due") - now;
        assert!((59..=60).contains(&due.num_seconds()), "next due from the database's clock: {due}");
        assert_eq!(row("b").held_by(now), Some("y"));
        assert_eq!(row("c").held_by(now), Some("x"));
    }

    #[test]
    fn a_host_is_one_instances_and_stays_so_for_its_gap() {
        let Some(store) = pg() else { return };
        register(&store, &[("a", "h1", Some(0)), ("b", "h1", Some(600))]);
        assert_eq!(claim(&store, "x", &["a", "b"]), ["a"]);
        store
            .release_lease("x", &id("a"), "h1", Some(Duration::from_secs(600)), Duration::from_millis(600))
            .expect("release");
        register(&store, &[("c", "h1", Some(0))]);
        assert!(claim(&store, "y", &["c"]).is_empty(), "h1 stays x's for its min_gap");
        assert_eq!(claim(&store, "x", &["c"]), ["c"], "x keeps its own gap in process");
        store.release_lease("x", &id("c"), "h1", Some(Duration::ZERO), Duration::ZERO).expect("release");
        assert_eq!(claim(&store, "y", &["c"]), ["c"]);
    }

    #[test]
    fn a_lapsed_lease_is_taken_over_and_a_renewed_one_is_not() {
        let Some(store) = pg() else { return };
        register(&store, &[("a", "h1", Some(0)), ("b", "h2", Some(0))]);
        // Margins of 400 ms and more, for a busy machine.
        let short = Duration::from_secs(2);
        let got = store.claim_due("x", short, &[id("a"), id("b")], 10).expect("claim");
        assert_eq!(got.len(), 2);
        std::thread::sleep(Duration::from_millis(1_200));
        store.renew_leases("x", short, &[id("a")]).expect("renew");
        std::thread::sleep(Duration::from_millis(1_200));
        assert_eq!(claim(&store, "y", &["a", "b"]), ["b"], "b lapsed; a was renewed");
    }

    #[test]
    fn one_instance_claims_each_cron_firing() {
        let Some(store) = pg() else { return };
        register(&store, &[("a", "h1", None)]);
        let fire: DateTime<Utc> = "2026-01-01T00:10:00Z".parse().expect("time");
        assert!(store.claim_cron("x", LEASE, &id("a"), fire).expect("claim"));
        assert!(!store.claim_cron("y", LEASE, &id("a"), fire).expect("claim"), "held");
        store.release_lease("x", &id("a"), "h1", None, Duration::ZERO).expect("release");
        assert!(!store.claim_cron("y", LEASE, &id("a"), fire).expect("claim"), "that firing was polled");
        assert!(claim(&store, "y", &["a"]).is_empty(), "a cron source is not due by interval");
        let next = fire + chrono::Duration::minutes(10);
        assert!(store.claim_cron("y", LEASE, &id("a"), next).expect("claim"));
        assert!(!store.claim_now("x", LEASE, &id("a")).expect("claim"), "a manual poll skips it while y holds it");
    }
}
