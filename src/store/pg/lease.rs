//! The SQL of source and host leases (`migrations/0002_leases.sql`; the why is in
//! `store/leases.rs`). Every time is the database's `now()`; durations come in as seconds and
//! times go out as Unix milliseconds, so no instance clock is ever compared with another.
//!
//! The tick's batch claim is one `UPDATE … WHERE source IN (SELECT … ORDER BY due LIMIT n FOR
//! UPDATE SKIP LOCKED)` that repeats the claim conditions in its own `WHERE`: with SKIP LOCKED,
//! instances claiming at once pass each other's rows by; on an engine that only honours the
//! outer conditions (the claim-style fallback) the same statement is still exact, only slower
//! under contention. The host leases of the claimed sources are then taken in the same
//! transaction with one conditional upsert (hosts in name order, so two claimers never deadlock);
//! sources whose host another instance won meanwhile are handed back before the commit.

use super::{PgError, PgKv};
use crate::store::leases::LeaseRow;
use crate::store::StoreError;
use deadpool_postgres::GenericClient;

/// `now() + $n seconds`, in SQL.
macro_rules! later {
    ($n:literal) => {
        concat!("now() + $", $n, "::float8 * interval '1 second'")
    };
}

/// A time column as Unix milliseconds.
macro_rules! ms {
    ($c:literal) => {
        concat!("(extract(epoch from ", $c, ") * 1000)::int8")
    };
}

const CLAIM_DUE: &str = concat!(
    "UPDATE newsriver_leases SET holder = $1, until = ",
    later!(2),
    " WHERE source IN (SELECT l.source FROM newsriver_leases l \
       LEFT JOIN newsriver_host_leases h ON h.host = l.host \
       WHERE l.source = ANY($3) AND l.due <= now() AND (l.holder IS NULL OR l.until < now()) \
       AND (h.holder IS NULL OR h.holder = $1 OR h.until < now()) \
       ORDER BY l.due LIMIT $4 FOR UPDATE OF l SKIP LOCKED) \
     AND due <= now() AND (holder IS NULL OR until < now()) RETURNING source, host"
);

const CLAIM_HOSTS: &str = concat!(
    "INSERT INTO newsriver_host_leases (host, holder, until) SELECT h, $1, ",
    later!(2),
    " FROM unnest($3::text[]) AS h ORDER BY h \
     ON CONFLICT (host) DO UPDATE SET holder = EXCLUDED.holder, \
       until = GREATEST(EXCLUDED.until, newsriver_host_leases.until) \
     WHERE newsriver_host_leases.holder = EXCLUDED.holder OR newsriver_host_leases.holder IS NULL \
       OR newsriver_host_leases.until < now() RETURNING host"
);

const CLAIM_CRON: &str = concat!(
    "UPDATE newsriver_leases SET holder = $1, until = ",
    later!(2),
    ", fired = to_timestamp($4::float8 / 1000) WHERE source = $3 AND (holder IS NULL OR until < now()) \
     AND (due IS NULL OR due <= now()) AND (fired IS NULL OR fired < to_timestamp($4::float8 / 1000)) \
     RETURNING source, host"
);

const CLAIM_NOW: &str = concat!(
    "UPDATE newsriver_leases SET holder = $1, until = ",
    later!(2),
    " WHERE source = $3 AND (holder IS NULL OR until < now() OR holder = $1) RETURNING source, host"
);

const HAND_BACK: &str =
    "UPDATE newsriver_leases SET holder = NULL, until = NULL WHERE holder = $1 AND source = ANY($2)";

const REGISTER: &str = "INSERT INTO newsriver_leases (source, host, due) \
    SELECT s, h, now() + d * interval '1 second' FROM unnest($1::text[], $2::text[], $3::float8[]) AS x(s, h, d) \
    ON CONFLICT (source) DO UPDATE SET host = EXCLUDED.host WHERE newsriver_leases.host <> EXCLUDED.host";

const RELEASE: &str = concat!(
    "UPDATE newsriver_leases SET holder = NULL, until = NULL, host = $3, polled_by = $1, polled_at = now(), \
     due = CASE WHEN $4::float8 IS NULL THEN NULL ELSE ",
    later!(4),
    " END WHERE source = $2 AND holder = $1"
);

/// A host whose last poll of this instance ended stays this instance's for `min_gap` more, so
/// another instance's first request keeps the gap from this one's last.
const RELEASE_HOST: &str = concat!(
    "UPDATE newsriver_host_leases SET until = ",
    later!(3),
    " WHERE host = $2 AND holder = $1 \
     AND NOT EXISTS (SELECT 1 FROM newsriver_leases l WHERE l.host = $2 AND l.holder = $1)"
);

const RENEW: &str =
    concat!("UPDATE newsriver_leases SET until = ", later!(2), " WHERE holder = $1 AND source = ANY($3)");

const RENEW_HOSTS: &str = concat!(
    "UPDATE newsriver_host_leases SET until = GREATEST(until, ",
    later!(2),
    ") WHERE holder = $1 AND host IN (SELECT host FROM newsriver_leases WHERE holder = $1 AND source = ANY($3))"
);

const ROWS: &str = concat!(
    "SELECT source, holder, ",
    ms!("until"),
    ", ",
    ms!("due"),
    ", polled_by, ",
    ms!("polled_at"),
    ", (extract(epoch from now()) * 1000)::int8 FROM newsriver_leases \
     WHERE source = ANY($1) AND (holder IS NOT NULL OR polled_at >= to_timestamp($2::float8 / 1000))"
);

/// How a single source is claimed.
pub enum One {
    /// A cron job fired at this time (Unix ms, the same second on every instance).
    Cron(i64),
    /// `newsriver poll`: whenever no other instance holds it.
    Now,
}

impl PgKv {
    /// Makes sure every source has a row: new ones due `due_in` seconds from now (none: not
    /// due by interval); known ones keep theirs, only their host follows.
    pub fn lease_register(&self, rows: Vec<(String, String, Option<f64>)>) -> Result<(), StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            let (mut s, mut h, mut d) = (Vec::new(), Vec::new(), Vec::new());
            for (source, host, due) in rows {
                s.push(source);
                h.push(host);
                d.push(due);
            }
            c.execute(REGISTER, &[&s, &h, &d]).await?;
            Ok(())
        })
    }

    /// Claims up to `limit` due sources among `known` whose host this instance may fetch from,
    /// with their host leases; returns them.
    pub fn lease_claim_due(
        &self,
        me: String,
        lease: f64,
        known: Vec<String>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            let tx = c.transaction().await?;
            let rows = tx.query(CLAIM_DUE, &[&me, &lease, &known, &limit]).await?;
            let claimed: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let kept = with_hosts(&tx, &me, lease, claimed).await?;
            tx.commit().await?;
            Ok(kept)
        })
    }

    /// Claims one source (a cron firing, with its host lease; or a manual poll, without).
    pub fn lease_claim_one(&self, me: String, lease: f64, source: String, how: One) -> Result<bool, StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            let tx = c.transaction().await?;
            let kept = match how {
                One::Now => !tx.query(CLAIM_NOW, &[&me, &lease, &source]).await?.is_empty(),
                One::Cron(fire) => {
                    let rows = tx.query(CLAIM_CRON, &[&me, &lease, &source, &(fire as f64)]).await?;
                    let claimed = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                    !with_hosts(&tx, &me, lease, claimed).await?.is_empty()
                }
            };
            tx.commit().await?;
            Ok(kept)
        })
    }

    /// Extends this instance's leases on `sources` and their hosts.
    pub fn lease_renew(&self, me: String, lease: f64, sources: Vec<String>) -> Result<(), StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            let tx = c.transaction().await?;
            tx.execute(RENEW, &[&me, &lease, &sources]).await?;
            tx.execute(RENEW_HOSTS, &[&me, &lease, &sources]).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Ends a poll's lease: next due `due_in` seconds from now (none: not by interval), polled
    /// by `me` now; the host stays this instance's for `gap` seconds when none of its polls remain.
    pub fn lease_release(
        &self,
        me: String,
        source: String,
        host: String,
        due_in: Option<f64>,
        gap: f64,
    ) -> Result<(), StoreError> {
        self.run(|pool| async move {
            let mut c = pool.get().await?;
            let tx = c.transaction().await?;
            tx.execute(RELEASE, &[&me, &source, &host, &due_in]).await?;
            tx.execute(RELEASE_HOST, &[&me, &host, &gap]).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The rows of `known` sources held now or polled since `since` (Unix ms), and the
    /// database's clock.
    pub fn lease_rows(&self, known: Vec<String>, since: i64) -> Result<(i64, Vec<Option<LeaseRow>>), StoreError> {
        self.run(|pool| async move {
            let c = pool.get().await?;
            let rows = c.query(ROWS, &[&known, &(since as f64)]).await?;
            let mut now = 0;
            let out = (rows.iter())
                .map(|r| {
                    now = r.get(6);
                    LeaseRow::from_parts(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
                })
                .collect();
            if rows.is_empty() {
                now = c.query_one(concat!("SELECT ", ms!("now()")), &[]).await?.get(0);
            }
            Ok((now, out))
        })
    }
}

/// Takes the host leases of `claimed` sources; hands back the sources whose host another
/// instance holds. Returns the sources kept.
async fn with_hosts(
    tx: &impl GenericClient,
    me: &str,
    lease: f64,
    claimed: Vec<(String, String)>,
) -> Result<Vec<String>, PgError> {
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut hosts: Vec<&str> = claimed.iter().map(|(_, h)| h.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let won: Vec<String> = tx.query(CLAIM_HOSTS, &[&me, &lease, &hosts]).await?.iter().map(|r| r.get(0)).collect();
    let (kept, lost): (Vec<_>, Vec<_>) = claimed.into_iter().partition(|(_, h)| won.contains(h));
    if !lost.is_empty() {
        let lost: Vec<String> = lost.into_iter().map(|(s, _)| s).collect();
        tx.execute(HAND_BACK, &[&me, &lost]).await?;
    }
    Ok(kept.into_iter().map(|(s, _)| s).collect())
}
