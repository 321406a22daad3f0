//! Writing `[[source]]` tables as the config reads them, for the commands that print or write
//! sources (`discover`, `import`, `add`).

use super::SourceKind;
use serde::Serialize;

/// One source as a table: `kind` is written only when it is not the default (a feed).
#[derive(Debug, Serialize)]
pub struct SourceTable<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

impl<'a> SourceTable<'a> {
    pub fn new(id: &'a str, title: &'a str, url: &'a str, kind: SourceKind) -> Self {
        Self { id, title, url, kind: (kind != SourceKind::Feed).then(|| kind.as_str()) }
    }
}

#[derive(Serialize)]
struct Tables<'a> {
    source: &'a [SourceTable<'a>],
}

/// The tables as TOML; nothing for none.
pub fn source_tables(tables: &[SourceTable<'_>]) -> String {
    if tables.is_empty() {
        return String::new();
    }
    // Strings only: serialization cannot fail, so the fallback is never printed.
    toml::to_string(&Tables { source: tables }).unwrap_or_default()
}
