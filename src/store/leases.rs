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
use super::{Store, StoreError};
use crate::domain::SourceId;
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
