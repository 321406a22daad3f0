//! Lazy range scans: keyset paging from the front (`ORDER BY k`) and from the back (`ORDER BY k
//! DESC`), each end on its own, so that the newest 50 of a channel of a million records read one
//! page. The range left between the ends shrinks with every page; when one end finds it empty it
//! goes on with what the other end has fetched and not yet given out.

use super::PgKv;
use crate::store::records::{Bytes, Item};
use crate::store::StoreError;
use std::collections::VecDeque;
use std::ops::Bound;

/// Records fetched per page, past the first.
const PAGE: i64 = 256;
/// The first page of each end is smaller: most scans want a few records (a channel's newest
/// items, the last change-log position).
const FIRST_PAGE: i64 = 64;

type Row = (Vec<u8>, Vec<u8>);

pub struct Scan {
    kv: PgKv,
    /// What no end has fetched yet: `lo <= k` and, when set, `k < hi`.
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    /// Fetched from the front, ascending.
    front: VecDeque<Row>,
    /// Fetched from the back, descending.
    back: VecDeque<Row>,
    pages: (u32, u32),
    /// The range between the ends is empty (or a fetch failed: the error was given out once).
    drained: bool,
}

impl Scan {
    pub(super) fn new(kv: PgKv, from: Vec<u8>, to: Bound<Vec<u8>>) -> Self {
        let hi = match to {
            Bound::Excluded(k) => Some(k),
            // The store's ranges end before a key or at the end of the keyspace.
            Bound::Included(mut k) => {
                k.push(0);
                Some(k)
            }
            Bound::Unbounded => None,
        };
        Self { kv, lo: from, hi, front: VecDeque::new(), back: VecDeque::new(), pages: (0, 0), drained: false }
    }

    fn fetch(&mut self, descending: bool) -> Result<(), StoreError> {
        let nth = if descending { &mut self.pages.1 } else { &mut self.pages.0 };
        let limit = if *nth == 0 { FIRST_PAGE } else { PAGE };
        *nth += 1;
        let (lo, hi) = (self.lo.clone(), self.hi.clone());
        let rows = self.kv.run(move |pool| async move {
            let c = pool.get().await?;
            let order = if descending { "DESC" } else { "ASC" };
            let rows = match &hi {
                Some(hi) => {
                    let sql = format!(
                        "SELECT k, v FROM newsriver_records WHERE k >= $1 AND k < $2 ORDER BY k {order} LIMIT $3"
                    );
                    c.query(&c.prepare_cached(&sql).await?, &[&lo, hi, &limit]).await?
                }
                None => {
                    let sql = format!("SELECT k, v FROM newsriver_records WHERE k >= $1 ORDER BY k {order} LIMIT $2");
                    c.query(&c.prepare_cached(&sql).await?, &[&lo, &limit]).await?
                }
            };
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect::<Vec<Row>>())
        })?;
        if (rows.len() as i64) < limit {
            self.drained = true;
        }
        match (descending, rows.last()) {
            // The next front page starts just after this page's last key.
            (false, Some((k, _))) => {
                self.lo = k.clone();
                self.lo.push(0);
            }
            (true, Some((k, _))) => self.hi = Some(k.clone()),
            (_, None) => self.drained = true,
        }
        if descending {
            self.back.extend(rows);
        } else {
            self.front.extend(rows);
        }
        Ok(())
    }

    fn step(&mut self, descending: bool) -> Option<Item> {
        loop {
            let own = if descending { self.back.pop_front() } else { self.front.pop_front() };
            if let Some(row) = own {
                return Some(Ok(owned(row)));
            }
            if self.drained {
                let other = if descending { self.front.pop_back() } else { self.back.pop_back() };
                return other.map(|row| Ok(owned(row)));
            }
            if let Err(e) = self.fetch(descending) {
                self.drained = true;
                self.front.clear();
                self.back.clear();
                return Some(Err(e));
            }
        }
    }
}

fn owned((k, v): Row) -> (Bytes, Bytes) {
    (Bytes::Owned(k), Bytes::Owned(v))
}

impl Iterator for Scan {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.step(false)
    }
}

impl DoubleEndedIterator for Scan {
    fn next_back(&mut self) -> Option<Item> {
        self.step(true)
    }
}
