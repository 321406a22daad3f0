//! Stores written before schema 2 kept each record kind in its own sled tree. On first open
//! their records are copied into the one data tree under their kind's tag, then the old trees
//! are dropped. A crash midway repeats the copy (it is idempotent) on the next open.

use super::{keys, StoreError};

/// The schema-1 trees and the tag their records take.
const OLD_TREES: [(&str, u8); 7] = [
    ("entries", keys::ENTRIES),
    ("channels", keys::CHANNELS),
    ("counts", keys::COUNTS),
    ("changes", keys::CHANGES),
    ("sources", keys::SOURCES),
    ("meta", keys::META),
    ("story_idx", keys::STORY_INDEX),
];

/// Records copied per batch: bounds the memory a migration of a large store needs.
const BATCH: usize = 10_000;

pub(super) fn from_trees(db: &sled::Db, data: &sled::Tree) -> Result<(), StoreError> {
    let names = db.tree_names();
    let has = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
    // A `meta` tree saying schema 2 or later is the guard below, not schema-1 data.
    let legacy_meta = has("meta") && schema_of(&db.open_tree("meta")?)?.is_none_or(|v| v < 2);
    let present: Vec<(&str, u8)> =
        OLD_TREES.into_iter().filter(|(name, _)| has(name) && (*name != "meta" || legacy_meta)).collect();
    if !present.is_empty() {
        move_trees(db, data, &present)?;
    }
    guard_old_binaries(db)
}

/// Schema-1 binaries read their version from a `meta` tree; one saying the current schema makes
/// them refuse this store ("schema version 2 is newer") instead of showing it empty.
fn guard_old_binaries(db: &sled::Db) -> Result<(), StoreError> {
    let meta = db.open_tree("meta")?;
    if schema_of(&meta)?.is_none_or(|v| v < keys::SCHEMA_VERSION) {
        meta.insert(b"schema", &keys::SCHEMA_VERSION.to_be_bytes())?;
        db.flush()?;
    }
    Ok(())
}

fn schema_of(meta: &sled::Tree) -> Result<Option<u32>, StoreError> {
    Ok(meta.get(b"schema")?.and_then(|v| v.as_ref().try_into().ok()).map(u32::from_be_bytes))
}

fn move_trees(db: &sled::Db, data: &sled::Tree, present: &[(&str, u8)]) -> Result<(), StoreError> {
    let migrated = data.get([&[keys::META][..], b"schema"].concat())?.is_some();
    if !migrated {
        tracing::info!("store: moving schema-1 trees into one tree (once)");
        let mut copied = 0usize;
        for (name, tag) in present {
            let old = db.open_tree(name)?;
            copied += copy(&old, data, *tag, name)?;
        }
        data.insert([&[keys::META][..], b"schema"].concat(), &keys::SCHEMA_VERSION.to_be_bytes())?;
        db.flush()?;
        tracing::info!(records = copied, "store: migration to schema 2 done");
    }
    for (name, _) in present {
        db.drop_tree(*name)?;
    }
    db.flush()?;
    Ok(())
}

fn copy(old: &sled::Tree, data: &sled::Tree, tag: u8, name: &str) -> Result<usize, StoreError> {
    let mut batch = sled::Batch::default();
    let (mut n, mut pending) = (0, 0);
    for item in old.iter() {
        let (k, v) = item?;
        // The old schema marker is replaced by the new one once everything is copied.
        if name == "meta" && k.as_ref() == b"schema" {
            continue;
        }
        batch.insert([&[tag][..], k.as_ref()].concat(), v);
        (n, pending) = (n + 1, pending + 1);
        if pending == BATCH {
            data.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    data.apply_batch(batch)?;
    Ok(n)
}
