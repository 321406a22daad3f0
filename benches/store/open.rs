//! The store a bench runs on: sled in a temp dir.

use newsriver::store::Store;

pub fn store() -> (Store, &'static str, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db"), 256 << 20).expect("open bench store");
    (store, "sled", dir)
}
