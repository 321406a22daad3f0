//! A commit on PostgreSQL: one transaction that first takes the cluster-wide commit lock (see
//! the module's `//!`), then writes every record of the commit as one multi-row upsert and one
//! multi-row delete. No intent records: the transaction is all-or-nothing by itself.

use super::{discard, PgError, PgKv};
use crate::store::records::Batch;
use crate::store::{keys, StoreError};
use deadpool_postgres::Object;
use std::collections::BTreeMap;

/// The advisory lock every commit of every instance takes in its transaction ("newsrivr").
pub const COMMIT_LOCK: i64 = 0x6e65_7773_7269_7672;

/// An open transaction holding the commit lock; rolled back when dropped uncommitted.
pub struct Txn {
    kv: PgKv,
    client: Option<Object>,
}

impl Drop for Txn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.kv.spawn(async move {
                if client.batch_execute("ROLLBACK").await.is_err() {
                    discard(client);
                }
            });
        }
    }
}

impl PgKv {
    /// Opens a commit's transaction: waits for the commit lock, then reads the last change-log
    /// number given out by any instance (the stored counter, or the newest change-log key).
    pub fn begin_serial(&self) -> Result<(Txn, u64), StoreError> {
        let (client, last) = self.run(|pool| async move {
            let client = pool.get().await?;
            client.batch_execute("BEGIN").await?;
            match lock_and_read_seq(&client).await {
                Ok(last) => Ok((client, last)),
                Err(e) => {
                    discard(client);
                    Err(e)
                }
            }
        })?;
        Ok((Txn { kv: self.clone(), client: Some(client) }, last))
    }

    /// Writes `entries`, then `rest`, in `txn`, and commits it.
    pub fn commit(&self, mut txn: Txn, entries: Vec<(Vec<u8>, Vec<u8>, bool)>, rest: Batch) -> Result<(), StoreError> {
        let Some(client) = txn.client.take() else {
            return Err(StoreError::Io("a commit's transaction was already used".into()));
        };
        let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = entries.into_iter().map(|(k, v, _)| (k, Some(v))).collect();
        writes.extend(rest.0);
        self.run(|_| async move {
            let done = async {
                write_all(&client, writes).await?;
                client.batch_execute("COMMIT").await.map_err(PgError::from)
            };
            match done.await {
                Ok(()) => Ok(()),
                Err(e) => {
                    discard(client);
                    Err(e)
                }
            }
        })
    }
}

async fn lock_and_read_seq(client: &Object) -> Result<u64, PgError> {
    client.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK]).await?;
    let counter = [&[keys::COUNTS][..], keys::LAST_SEQ].concat();
    let stored = client.query_opt("SELECT v FROM newsriver_records WHERE k = $1", &[&counter]).await?;
    let newest = client
        .query_opt(
            "SELECT k FROM newsriver_records WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT 1",
            &[&vec![keys::CHANGES], &vec![keys::CHANGES + 1]],
        )
        .await?;
    let number = |bytes: Option<Vec<u8>>| {
        bytes
            .and_then(|b| b.get(b.len().saturating_sub(8)..).and_then(|t| t.try_into().ok()))
            .map_or(0, u64::from_be_bytes)
    };
    let counter = number(stored.map(|r| r.get(0)));
    let newest = number(newest.map(|r| r.get::<_, Vec<u8>>(0)).filter(|k| k.len() == 9));
    Ok(counter.max(newest))
}

/// Makes `writes` (in order: a later write of a key wins) as one upsert and one delete.
pub async fn write_all(
    client: &impl deadpool_postgres::GenericClient,
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<(), PgError> {
    // One statement may not touch a row twice: keep each key's last write only. In key order, so
    // that writers outside the commit lock take row locks in one order and never deadlock.
    let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for (k, v) in writes {
        last.insert(k, v);
    }
    let (mut put_k, mut put_v, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in last {
        match v {
            Some(v) => {
                put_k.push(k);
                put_v.push(v);
            }
            None => gone.push(k),
        }
    }
    if !put_k.is_empty() {
        let st = client
            .prepare_cached(
                "INSERT INTO newsriver_records (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            )
            .await?;
        client.execute(&st, &[&put_k, &put_v]).await?;
    }
    if !gone.is_empty() {
        let st = client.prepare_cached("DELETE FROM newsriver_records WHERE k = ANY($1::bytea[])").await?;
        client.execute(&st, &[&gone]).await?;
    }
    Ok(())
}
