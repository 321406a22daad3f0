//! `[store]`: sled in a folder (the default) or a PostgreSQL database, whose URL's password is
//! never shown (`DatabaseUrl` redacts it in `Display` and `Debug`).

use super::problems::Problems;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use url::Url;

/// The environment variable whose URL replaces `[store] url` and selects PostgreSQL.
pub const DATABASE_URL_ENV: &str = "NEWSRIVER_DATABASE_URL";

/// Pooled connections when `[store] pool` is not set.
const DEFAULT_POOL: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct StoreSettings {
    /// The sled folder (unused on PostgreSQL).
    pub path: PathBuf,
    pub cache_capacity: u64,
    /// Set when the store is a PostgreSQL database instead of the sled folder.
    pub postgres: Option<PostgresSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    pub url: DatabaseUrl,
    /// Connections kept open at most.
    pub pool: usize,
}

impl StoreSettings {
    /// Where the store is, for people: the folder, or the database URL without its password.
    pub fn location(&self) -> String {
        match &self.postgres {
            Some(pg) => pg.url.to_string(),
            None => self.path.display().to_string(),
        }
    }
}

/// A `postgres://` URL. Only `expose` gives the password; every other view replaces it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks the form `postgres://user:password@host:port/db?sslmode=…`. Errors never quote the
    /// value (it holds the password).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim())
            .map_err(|e| format!("not a URL ({e}); expected postgres://user:password@host:port/db"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!("scheme {:?} is not postgres:// (or postgresql://)", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("names no host (postgres://user:password@host:port/db)".into());
        }
        for (k, v) in url.query_pairs() {
            if k == "sslmode" && !matches!(v.as_ref(), "disable" | "prefer" | "require") {
                return Err(format!("sslmode={v} is not one of disable, prefer, require"));
            }
        }
        Ok(Self(raw.trim().to_owned()))
    }

    /// The URL with its password, for the database driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        let Ok(mut url) = Url::parse(&self.0) else { return "postgres://(unreadable URL)".into() };
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        // libpq also takes the password as a query parameter.
        if url.query_pairs().any(|(k, _)| k == "password") {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" { "***".to_owned() } else { v.into_owned() };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<String>,
    pub cache: Option<String>,
    pub backend: Option<String>,
    pub url: Option<String>,
    pub pool: Option<usize>,
}

impl RawStore {
    pub(super) fn validate(&self, p: &mut Problems, base: &Path) -> StoreSettings {
        let path = base.join(self.path.as_deref().unwrap_or("data/newsriver.db"));
        let cache_capacity = p.size("store.cache", self.cache.as_deref(), 128 << 20);
        let postgres = match self.backend.as_deref() {
            None | Some("sled") => {
                if self.url.is_some() {
                    p.push("store.url", "is only read with backend = \"postgres\"");
                }
                None
            }
            Some("postgres") => self.postgres(p),
            Some(other) => {
                p.push("store.backend", format!("{other:?} is not \"sled\" or \"postgres\""));
                None
            }
        };
        StoreSettings { path, cache_capacity, postgres }
    }

    fn postgres(&self, p: &mut Problems) -> Option<PostgresSettings> {
        let pool = match self.pool {
            Some(n) if n < 2 => {
                // A commit holds one connection while its decisions read through another.
                p.push("store.pool", "must be at least 2");
                DEFAULT_POOL
            }
            n => n.unwrap_or(DEFAULT_POOL),
        };
        let Some(raw) = self.url.as_deref() else {
            p.push("store.url", format!("is required with backend = \"postgres\" (or set {DATABASE_URL_ENV})"));
            return None;
        };
        let url = DatabaseUrl::parse(raw).map_err(|e| p.push("store.url", e)).ok()?;
        Some(PostgresSettings { url, pool })
    }
}

/// The settings with `NEWSRIVER_DATABASE_URL`'s value (when set) as the store: it selects
/// PostgreSQL whatever the file says. Errors name the variable.
pub(super) fn apply_env_url(store: &mut StoreSettings, value: Option<&str>) -> Result<(), String> {
    let Some(raw) = value.filter(|v| !v.trim().is_empty()) else { return Ok(()) };
    let url = DatabaseUrl::parse(raw)?;
    let pool = store.postgres.as_ref().map_or(DEFAULT_POOL, |pg| pg.pool);
    store.postgres = Some(PostgresSettings { url, pool });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let url = DatabaseUrl::parse("postgres://news:s3cr%40t@db.internal:5433/river?sslmode=require").expect("url");
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
            assert!(shown.contains("news:***@db.internal:5433/river"), "{shown}");
        }
        assert_eq!(url.expose(), "postgres://news:s3cr%40t@db.internal:5433/river?sslmode=require");
        let query = DatabaseUrl::parse("postgresql://db/river?user=a&password=hunter2").expect("url");
        assert!(!query.to_string().contains("hunter2"), "{query}");
    }

    #[test]
    fn bad_urls_are_refused_without_quoting_them() {
        for raw in ["mysql://u:pw@h/db", "postgres://u:pw@h/db?sslmode=verify-full", "postgres:///db", "not a url pw"] {
            let e = DatabaseUrl::parse(raw).expect_err(raw);
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn the_environment_selects_postgres() {
        let mut s = StoreSettings { path: "x".into(), cache_capacity: 1, postgres: None };
        apply_env_url(&mut s, None).expect("unset");
        assert_eq!(s.postgres, None);
        apply_env_url(&mut s, Some("postgres://u:pw@127.0.0.1:5432/db")).expect("set");
        assert_eq!(s.postgres.as_ref().map(|p| p.pool), Some(DEFAULT_POOL));
        assert_eq!(s.location(), "postgres://u:***@127.0.0.1:5432/db");
        assert!(apply_env_url(&mut s, Some("http://x")).is_err());
    }
}
