//! Keyspaces inside the one record store (sled's `data` tree, or PostgreSQL's records table):
//! each record kind's keys start with its own tag byte. (sled's multi-tree transactions read
//! every key they write and cost a fifth of ingest CPU; commits are made all-or-nothing by
//! `intent.rs` instead, or by one transaction on PostgreSQL.)

use super::kv::{Kv, Scan};
pub(super) use super::records::Batch;
use super::records::{Bytes, Item};
use super::StoreError;
use std::ops::Bound;

/// One record kind: where records live and the tag its keys start with. Keys given to and
/// returned by a space never include the tag.
#[derive(Debug, Clone)]
pub(super) struct Space {
    kv: Kv,
    tag: u8,
}

/// A space's records in key order (reversible), keys without the tag.
pub(super) struct Records(Scan);

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.0.next().map(strip)
    }
}

impl DoubleEndedIterator for Records {
    fn next_back(&mut self) -> Option<Item> {
        self.0.next_back().map(strip)
    }
}

fn strip(item: Item) -> Item {
    item.map(|(k, v)| (k.after_tag(), v))
}

impl Space {
    pub(super) fn new(kv: &Kv, tag: u8) -> Self {
        Self { kv: kv.clone(), tag }
    }

    pub(super) fn key(&self, k: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(k.len() + 1);
        out.push(self.tag);
        out.extend_from_slice(k);
        out
    }

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Bytes>, StoreError> {
        self.kv.get(&self.key(k.as_ref()))
    }

    /// The values of `keys`, in their order (`None` where absent).
    pub(super) fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Bytes>>, StoreError> {
        self.kv.get_many(keys.iter().map(|k| self.key(k)).collect())
    }

    /// A write outside a commit batch (source state alone, meta, maintenance).
    pub(super) fn insert(&self, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Result<(), StoreError> {
        self.kv.insert(self.key(k.as_ref()), v.as_ref())
    }

    pub(super) fn remove(&self, k: impl AsRef<[u8]>) -> Result<(), StoreError> {
        self.kv.remove(self.key(k.as_ref()))
    }

    pub(super) fn put(&self, batch: &mut Batch, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) {
        batch.0.push((self.key(k.as_ref()), Some(v.as_ref().to_vec())));
    }

    pub(super) fn del(&self, batch: &mut Batch, k: impl AsRef<[u8]>) {
        batch.0.push((self.key(k.as_ref()), None));
    }

    /// Records whose key starts with `prefix`, in key order (reversible).
    pub(super) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Records {
        let from = self.key(prefix.as_ref());
        let to = successor(&from).map_or(Bound::Unbounded, Bound::Excluded);
        Records(self.kv.range(from, to))
    }

    /// Records with `from <= key < to` (`to` = `None`: to the end of the space).
    pub(super) fn range(&self, from: &[u8], to: Option<&[u8]>) -> Records {
        let end = match to {
            Some(to) => Bound::Excluded(self.key(to)),
            None if self.tag == u8::MAX => Bound::Unbounded,
            None => Bound::Excluded(vec![self.tag + 1]),
        };
        Records(self.kv.range(self.key(from), end))
    }

    pub(super) fn last(&self) -> Result<Option<(Bytes, Bytes)>, StoreError> {
        self.range(&[], None).next_back().transpose()
    }
}

/// The first key after every key starting with `prefix` (none when it is all `0xff`), as sled's
/// own prefix scan computes it.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < u8::MAX {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_place::{on_both_backends, Place};

    on_both_backends!(spaces_see_only_their_own_keys, scans_meet_in_the_middle);

    fn keys(it: impl Iterator<Item = Item>) -> Vec<Vec<u8>> {
        it.map(|r| r.expect("read").0.to_vec()).collect()
    }

    fn spaces_see_only_their_own_keys(place: &Place) {
        let kv = place.open().kv.clone();
        let (a, b) = (Space::new(&kv, b'a'), Space::new(&kv, b'b'));
        for k in [b"x1", b"x2", b"y1"] {
            a.insert(k, b"A").expect("insert");
            b.insert(k, b"B").expect("insert");
        }
        assert_eq!(keys(a.scan_prefix(b"x")), [b"x1".to_vec(), b"x2".to_vec()]);
        assert_eq!(keys(a.scan_prefix(b"x").rev()), [b"x2".to_vec(), b"x1".to_vec()]);
        assert_eq!(keys(b.range(b"x2", None)), [b"x2".to_vec(), b"y1".to_vec()]);
        assert_eq!(keys(b.range(b"", Some(b"x2"))), [b"x1".to_vec()]);
        assert_eq!(
            a.last().expect("last").map(|(k, v)| (k.to_vec(), v.to_vec())),
            Some((b"y1".to_vec(), b"A".to_vec()))
        );
        a.remove(b"y1").expect("remove");
        assert_eq!(a.get(b"y1").expect("get"), None);
        assert_eq!(b.get(b"y1").expect("get").map(|v| v.to_vec()), Some(b"B".to_vec()));
    }

    /// Reading from both ends at once gives every record once, in order from each end, over
    /// several pages (PostgreSQL reads pages of 256) and keys that are prefixes of others.
    fn scans_meet_in_the_middle(place: &Place) {
        let kv = place.open().kv.clone();
        let s = Space::new(&kv, b'q');
        let mut batch = Batch::default();
        let mut want: Vec<Vec<u8>> = (0..1500u32).map(|i| i.to_be_bytes().to_vec()).collect();
        want.extend((0..20u8).map(|i| vec![0, 0, 1, i, 0]));
        for k in &want {
            s.put(&mut batch, k, b"v");
        }
        for (k, v) in batch.0 {
            kv.insert(k, &v.expect("put")).expect("insert");
        }
        want.sort();
        assert_eq!(keys(s.scan_prefix([])), want);
        assert_eq!(keys(s.scan_prefix([]).rev()), want.iter().rev().cloned().collect::<Vec<_>>());
        let mut scan = s.scan_prefix([]);
        let (mut front, mut back) = (Vec::new(), Vec::new());
        for i in 0.. {
            let item = if i % 3 == 0 { scan.next_back().map(|r| (false, r)) } else { scan.next().map(|r| (true, r)) };
            match item {
                Some((true, r)) => front.push(r.expect("read").0.to_vec()),
                Some((false, r)) => back.push(r.expect("read").0.to_vec()),
                None => break,
            }
        }
        back.reverse();
        front.extend(back);
        assert_eq!(front, want, "each record once, the two ends meeting");
        let from_ten: Vec<u8> = 10u32.to_be_bytes().to_vec();
        assert_eq!(keys(s.range(&from_ten, Some(&13u32.to_be_bytes()))).len(), 3);
    }
}
