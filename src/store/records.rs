//! The neutral forms records take between the store and its backends (`kv.rs`): bytes as read,
//! a scan's items, and a commit's ordered writes.

use super::StoreError;
use std::ops::Deref;

/// A commit's writes, in order: a value to put, or `None` to delete (see `intent.rs`).
#[derive(Debug, Default)]
pub struct Batch(pub Vec<(Vec<u8>, Option<Vec<u8>>)>);

/// A key or value as read: sled's shared buffer, or bytes fetched from PostgreSQL.
#[derive(Debug, Clone)]
pub enum Bytes {
    Sled(sled::IVec),
    Owned(Vec<u8>),
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Sled(v) => v,
            Self::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Bytes {
    /// The bytes after the first (a space's tag).
    pub fn after_tag(self) -> Self {
        match self {
            Self::Sled(v) => Self::Sled(v.subslice(1, v.len().saturating_sub(1))),
            Self::Owned(mut v) => {
                v.remove(0);
                Self::Owned(v)
            }
        }
    }
}

/// One record of a scan, key and value.
pub type Item = Result<(Bytes, Bytes), StoreError>;
