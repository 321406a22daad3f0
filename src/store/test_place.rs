//! Where a store test's store lives: a sled folder or a fresh PostgreSQL database in the test
//! process's throwaway cluster. `on_both_backends!` runs each listed test on both.

use super::{Store, StoreError};
use crate::config::{DatabaseUrl, PostgresSettings};

#[path = "../../tests/integration/helpers/postgres.rs"]
mod cluster;

pub(super) enum Place {
    Sled(tempfile::TempDir),
    Pg(PostgresSettings),
}

impl Place {
    pub(super) fn sled() -> Self {
        Self::Sled(tempfile::tempdir().expect("tempdir"))
    }

    /// `None` when PostgreSQL is not installed (the test is skipped, loudly).
    pub(super) fn pg() -> Option<Self> {
        let url = DatabaseUrl::parse(&cluster::fresh_database()?).expect("test URL");
        Some(Self::Pg(PostgresSettings { url, pool: 4 }))
    }

    /// Opens the store (again: a handle just dropped may still hold sled's file lock a moment).
    pub(super) fn open(&self) -> Store {
        self.try_open().expect("open store")
    }

    pub(super) fn try_open(&self) -> Result<Store, StoreError> {
        match self {
            Self::Sled(dir) => {
                let path = dir.path().join("db");
                for _ in 0..200 {
                    match Store::open(&path, 1 << 20) {
                        Err(StoreError::Open { detail, .. }) if detail.contains("lock") => {
                            std::thread::sleep(std::time::Duration::from_millis(10));
                        }
                        other => return other,
                    }
                }
                Store::open(&path, 1 << 20)
            }
            Self::Pg(settings) => Store::open_postgres(settings),
        }
    }
}

/// `#[test]`s named after the functions listed, each taking `&Place`: one module per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sled {
            $( #[test] fn $name() { super::$name(&$crate::store::test_place::Place::sled()) } )*
        }
        mod on_postgres {
            $( #[test] fn $name() {
                if let Some(place) = $crate::store::test_place::Place::pg() { super::$name(&place) }
            } )*
        }
    };
}
pub(crate) use on_both_backends;
