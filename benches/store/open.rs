//! The store a bench runs on: sled in a temp dir; PostgreSQL at `NEWSRIVER_BENCH_DATABASE_URL`;
//! or, with `NEWSRIVER_BENCH_STORE=postgres`, a fresh database in a throwaway cluster started
//! as the tests start theirs.

use newsriver::config::{DatabaseUrl, PostgresSettings};
use newsriver::store::Store;

#[path = "../../tests/integration/helpers/postgres.rs"]
mod cluster;

pub fn store() -> (Store, &'static str, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("NEWSRIVER_BENCH_DATABASE_URL").ok().or_else(|| {
        let throwaway = std::env::var("NEWSRIVER_BENCH_STORE").is_ok_and(|v| v == "postgres");
        throwaway.then(|| cluster::fresh_database().expect("PostgreSQL binaries for NEWSRIVER_BENCH_STORE=postgres"))
    });
    if let Some(url) = url {
        let url = DatabaseUrl::parse(&url).expect("database URL");
        let store = Store::open_postgres(&PostgresSettings { url, pool: 8 }).expect("open bench database");
        return (store, "postgres", dir);
    }
    let store = Store::open(&dir.path().join("db"), 256 << 20).expect("open bench store");
    (store, "sled", dir)
}
