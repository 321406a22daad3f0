//! Writing sources into the config's files: each file replaced whole (temp file, fsync, rename),
//! a new one never over an existing file unless asked, and every write undone when the config
//! they make does not check.

use crate::export::atomic;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{} exists; choose another with --into, or replace it with --force", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
}

/// How a write treats a file already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fail when the file exists.
    New,
    /// Replace it.
    Replace,
}

/// The writes made so far, with what each file held before, to put back.
#[derive(Debug, Default)]
pub struct Writes {
    before: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Writes {
    /// Writes `bytes` to `path` whole, remembering what was there.
    pub fn write(&mut self, path: &Path, bytes: &[u8], mode: Mode) -> Result<(), FileError> {
        let old = read_if_there(path)?;
        let written = match mode {
            Mode::New => atomic::write_new(path, bytes),
            Mode::Replace => atomic::write(path, bytes),
        };
        written.map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => FileError::Exists(path.to_owned()),
            _ => FileError::Write { path: path.to_owned(), source },
        })?;
        self.before.push((path.to_owned(), old));
        Ok(())
    }

    /// Puts every file back as it was, latest first; says which could not be.
    pub fn undo(self) -> Vec<String> {
        let mut failed = Vec::new();
        for (path, old) in self.before.into_iter().rev() {
            let done = match old {
                Some(bytes) => atomic::write(&path, &bytes),
                None => std::fs::remove_file(&path),
            };
            if let Err(e) = done {
                failed.push(format!("{}: {e}", path.display()));
            }
        }
        failed
    }
}

/// A file's bytes, or `None` when there is no such file.
pub fn read_if_there(path: &Path) -> Result<Option<Vec<u8>>, FileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FileError::Read { path: path.to_owned(), source }),
    }
}

/// The ids of the `[[source]]` tables in a sources file (none when it is missing or does not
/// read): the sources a replaced file takes away.
pub fn source_ids(path: &Path) -> HashSet<String> {
    #[derive(Deserialize)]
    struct Ids {
        #[serde(default)]
        source: Vec<Id>,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let ids: Option<Ids> = toml::from_str(&text).ok();
    ids.map(|i| i.source.into_iter().map(|s| s.id).collect()).unwrap_or_default()
}

/// `text` with `pattern` added to its top-level `include` list: the list rewritten in place
/// when there is one, else an `include` line put before the first key or table (top-level
/// keys must come before any table).
pub fn with_include(text: &str, pattern: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Top {
        include: Option<toml::Spanned<Vec<String>>>,
    }
    let top: Top = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    if let Some(list) = top.include {
        let span = list.span();
        let mut patterns = list.into_inner();
        patterns.push(pattern.to_owned());
        let array = toml::Value::Array(patterns.into_iter().map(toml::Value::String).collect());
        return Ok(format!("{}{array}{}", &text[..span.start], &text[span.end..]));
    }
    let line = include_line(&[pattern.to_owned()]);
    let at = first_statement(text);
    let note = "# More [[source]] and [[topic]] tables (written by `newsriver import` and `newsriver add`).\n";
    Ok(format!("{}{note}{line}\n\n{}", &text[..at], &text[at..]))
}

/// The `include = [...]` line that reads `patterns`.
pub fn include_line(patterns: &[String]) -> String {
    let array = toml::Value::Array(patterns.iter().cloned().map(toml::Value::String).collect());
    format!("include = {array}")
}

/// Where the first line that is neither blank nor a comment starts (the end when none).
fn first_statement(text: &str) -> usize {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') {
            return at;
        }
        at += line.len();
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_include_is_added_where_toml_reads_it_as_top_level() {
        let text = "# demo\n\n[server]\nlisten = \"127.0.0.1:1\"\n";
        let got = with_include(text, "sources.d/*.toml").expect("edit");
        let doc: toml::Table = toml::from_str(&got).unwrap_or_else(|e| panic!("{e}\n{got}"));
        assert_eq!(doc["include"][0].as_str(), Some("sources.d/*.toml"));
        assert!(got.starts_with("# demo\n\n# More"), "{got}");
        let again = with_include(&got, "more/*.toml").expect("edit");
        let doc: toml::Table = toml::from_str(&again).unwrap_or_else(|e| panic!("{e}\n{again}"));
        let list: Vec<&str> = doc["include"].as_array().expect("list").iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(list, ["sources.d/*.toml", "more/*.toml"]);
        assert_eq!(with_include("", "a/*.toml").expect("edit").matches("include = ").count(), 1);
        assert!(with_include("[server\n", "a").is_err());
    }

    #[test]
    fn writes_are_undone_in_reverse() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (old, new) = (dir.path().join("main.toml"), dir.path().join("sources.d/new.toml"));
        std::fs::write(&old, "before").expect("write");
        let mut writes = Writes::default();
        writes.write(&new, b"added", Mode::New).expect("new file");
        assert!(matches!(writes.write(&new, b"again", Mode::New), Err(FileError::Exists(_))));
        writes.write(&old, b"after", Mode::Replace).expect("replace");
        assert_eq!(std::fs::read_to_string(&old).expect("read"), "after");
        assert!(writes.undo().is_empty());
        assert_eq!(std::fs::read_to_string(&old).expect("read"), "before");
        assert!(!new.exists());
    }
}
