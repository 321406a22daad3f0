//! Keyspaces inside the one sled tree: each record kind's keys start with its own tag byte.
//! (sled's multi-tree transactions read every key they write and cost a fifth of ingest CPU;
//! commits are made all-or-nothing by `intent.rs` instead.)

use sled::{IVec, Tree};
use std::ops::Bound;

/// A commit's writes, in order: a value to put, or `None` to delete (see `intent.rs`).
#[derive(Debug, Default)]
pub(super) struct Batch(pub(super) Vec<(Vec<u8>, Option<Vec<u8>>)>);

/// One record kind: the tree and the tag its keys start with. Keys given to and returned by
/// a space never include the tag.
#[derive(Debug, Clone)]
pub(super) struct Space {
    tree: Tree,
    tag: u8,
}

impl Space {
    pub(super) fn new(tree: &Tree, tag: u8) -> Self {
        Self { tree: tree.clone(), tag }
    }

    pub(super) fn key(&self, k: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(k.len() + 1);
        out.push(self.tag);
        out.extend_from_slice(k);
        out
    }

    fn strip(&self, item: sled::Result<(IVec, IVec)>) -> sled::Result<(IVec, IVec)> {
        item.map(|(k, v)| (k.subslice(1, k.len().saturating_sub(1)), v))
    }

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.get(self.key(k.as_ref()))
    }

    /// A write outside a commit batch (source state alone, meta, maintenance).
    pub(super) fn insert(&self, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> sled::Result<()> {
        self.tree.insert(self.key(k.as_ref()), v.as_ref()).map(drop)
    }

    pub(super) fn remove(&self, k: impl AsRef<[u8]>) -> sled::Result<()> {
        self.tree.remove(self.key(k.as_ref())).map(drop)
    }

    pub(super) fn put(&self, batch: &mut Batch, k: impl AsRef<[u8]>, v: impl AsRef<[u8]>) {
        batch.0.push((self.key(k.as_ref()), Some(v.as_ref().to_vec())));
    }

    pub(super) fn del(&self, batch: &mut Batch, k: impl AsRef<[u8]>) {
        batch.0.push((self.key(k.as_ref()), None));
    }

    /// Records whose key starts with `prefix`, in key order (reversible).
    pub(super) fn scan_prefix(
        &self,
        prefix: impl AsRef<[u8]>,
    ) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> + '_ {
        self.tree.scan_prefix(self.key(prefix.as_ref())).map(|item| self.strip(item))
    }

    /// Records with `from <= key < to` (`to` = `None`: to the end of the space).
    pub(super) fn range(
        &self,
        from: &[u8],
        to: Option<&[u8]>,
    ) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> + '_ {
        let end = match to {
            Some(to) => Bound::Excluded(self.key(to)),
            None if self.tag == u8::MAX => Bound::Unbounded,
            None => Bound::Excluded(vec![self.tag + 1]),
        };
        self.tree.range::<Vec<u8>, _>((Bound::Included(self.key(from)), end)).map(|item| self.strip(item))
    }

    pub(super) fn last(&self) -> sled::Result<Option<(IVec, IVec)>> {
        self.range(&[], None).next_back().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_see_only_their_own_keys() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let tree = db.open_tree("data").expect("tree");
        let (a, b) = (Space::new(&tree, b'a'), Space::new(&tree, b'b'));
        let mut batch = Batch::default();
        for k in [b"x1", b"x2", b"y1"] {
            a.put(&mut batch, k, b"A");
            b.put(&mut batch, k, b"B");
        }
        for (k, v) in batch.0 {
            tree.insert(k, v.expect("put")).expect("insert");
        }
        let keys = |it: Vec<sled::Result<(IVec, IVec)>>| -> Vec<Vec<u8>> {
            it.into_iter().map(|r| r.expect("read").0.to_vec()).collect()
        };
        assert_eq!(keys(a.scan_prefix(b"x").collect()), [b"x1".to_vec(), b"x2".to_vec()]);
        assert_eq!(keys(a.scan_prefix(b"x").rev().collect()), [b"x2".to_vec(), b"x1".to_vec()]);
        assert_eq!(keys(b.range(b"x2", None).collect()), [b"x2".to_vec(), b"y1".to_vec()]);
        assert_eq!(keys(b.range(b"", Some(b"x2")).collect()), [b"x1".to_vec()]);
        assert_eq!(
            a.last().expect("last").map(|(k, v)| (k.to_vec(), v.to_vec())),
            Some((b"y1".to_vec(), b"A".to_vec()))
        );
        a.remove(b"y1").expect("remove");
        assert_eq!(a.get(b"y1").expect("get"), None);
        assert_eq!(b.get(b"y1").expect("get").map(|v| v.to_vec()), Some(b"B".to_vec()));
    }
}
