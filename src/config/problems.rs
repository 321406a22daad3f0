//! The problem collector every part of config validation writes to, with the value checks they share.

use super::units::{parse_duration, parse_size};
use super::Problem;
use std::time::Duration;

/// Collects problems instead of stopping at the first, so `check` can list them all.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    pub(super) fn duration(&mut self, path: &str, raw: Option<&str>, default: Duration) -> Duration {
        match raw.map(parse_duration) {
            None => default,
            Some(Ok(d)) if d.is_zero() => {
                self.push(path, "must be greater than zero");
                default
            }
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                self.push(path, e);
                default
            }
        }
    }

    /// A `group` value: `"story"` or `"event"`; a problem under `path` otherwise.
    pub(super) fn grouping(&mut self, path: &str, raw: Option<&str>) -> Option<super::Grouping> {
        super::Grouping::parse(raw?).map_err(|e| self.push(path, e)).ok()
    }

    /// A key's SHA-256 as 64 hex characters; a problem under `path` otherwise (with a hint when
    /// the value looks like the key itself).
    pub(super) fn digest(&mut self, path: &str, raw: &str) -> Option<crate::domain::KeyDigest> {
        if raw.trim().starts_with("nr") && raw.contains('_') {
            self.push(path, "this looks like the key itself: give its SHA-256 (never the key)");
            return None;
        }
        crate::domain::KeyDigest::parse_hex(raw).map_err(|e| self.push(path, e)).ok()
    }

    pub(super) fn size(&mut self, path: &str, raw: Option<&str>, default: u64) -> u64 {
        match raw.map(parse_size) {
            None => default,
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                self.push(path, e);
                default
            }
        }
    }

    pub(super) fn positive(&mut self, path: &str, raw: Option<usize>, default: usize) -> usize {
        match raw {
            Some(0) => {
                self.push(path, "must be at least 1");
                default
            }
            Some(n) => n,
            None => default,
        }
    }
}

/// Where a `[[source]]` or `[[topic]]` table is: which file, and its index there.
#[derive(Debug, Clone)]
pub(super) struct Place {
    /// The main config's file name, or an included file's label.
    pub(super) file: String,
    /// What key paths start with: nothing in the main file, `sources.d/a.toml: ` in an
    /// included one.
    pub(super) prefix: String,
    pub(super) index: usize,
    /// An included file's folder, which its relative paths resolve against.
    pub(super) dir: Option<std::path::PathBuf>,
}

impl Place {
    /// The key path of `key` in this `kind` table: `source[3].url`, or
    /// `sources.d/a.toml: source[3].url` in an included file.
    pub(super) fn key(&self, kind: &str, key: &str) -> String {
        format!("{}{kind}[{}].{key}", self.prefix, self.index)
    }

    /// How a message names `earlier`, the table that first used an id: nothing more when it is
    /// in the same file, ` (source[1] in newsriver.toml)` when in another.
    pub(super) fn elsewhere(&self, kind: &str, earlier: &Place) -> String {
        if earlier.file == self.file {
            String::new()
        } else {
            format!(" ({kind}[{}] in {})", earlier.index, earlier.file)
        }
    }
}
