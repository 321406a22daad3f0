//! `include`: more files of `[[source]]` and `[[topic]]` tables, found by globs relative to the
//! main config's folder and read in sorted order, so source lists can be kept (and written by
//! tools) apart from the main file.

use super::problems::Problems;
use super::raw_source::RawSource;
use super::raw_topic::RawTopic;
use super::{IncludeSettings, IncludedFile};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// The tables of one included file, each with its index there (a table that did not
/// deserialize is left out, and the others keep the key paths the file gives them).
pub(super) struct Included {
    pub(super) label: String,
    pub(super) path: PathBuf,
    pub(super) sources: Vec<(usize, RawSource)>,
    pub(super) topics: Vec<(usize, RawTopic)>,
}

impl Included {
    pub(super) fn summary(&self) -> IncludedFile {
        let (sources, topics) = (self.sources.len(), self.topics.len());
        IncludedFile { path: self.path.clone(), label: self.label.clone(), sources, topics }
    }
}

/// Reads every file the patterns match: in pattern order, each pattern's matches sorted by
/// path, each file once, never the main config itself.
pub(super) fn read_all(patterns: &[String], base: &Path, main: &Path, p: &mut Problems) -> Vec<Included> {
    let main = std::fs::canonicalize(main).ok();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, pattern) in patterns.iter().enumerate() {
        let files = match expand(base, pattern.trim()) {
            Ok(files) => files,
            Err(e) => {
                p.push(format!("include[{i}]"), e);
                continue;
            }
        };
        for path in files {
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if main.as_ref() != Some(&real) && seen.insert(real) {
                out.extend(read_one(&path, label(base, &path), p));
            }
        }
    }
    out
}

/// The files one pattern names. A pattern without wildcards names a file that must exist; one
/// with wildcards may match nothing (an empty or missing folder).
fn expand(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    if pattern.is_empty() {
        return Err("empty pattern".into());
    }
    if pattern.contains("**") {
        return Err(format!("{pattern:?}: `**` is not supported; name each folder level (`sources.d/*/*.toml`)"));
    }
    let path = base.join(pattern);
    if !has_wildcard(pattern) {
        return match path.is_file() {
            true => Ok(vec![path]),
            false => Err(format!("{pattern:?}: no such file ({})", path.display())),
        };
    }
    let parts: Vec<Component> = path.components().collect();
    let mut found = vec![PathBuf::new()];
    for (n, part) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        let name = part.as_os_str().to_string_lossy();
        found = match part {
            Component::Normal(_) if has_wildcard(&name) => {
                found.iter().flat_map(|dir| matches(dir, &name, last)).collect()
            }
            _ => found.into_iter().map(|dir| dir.join(part)).collect(),
        };
    }
    found.retain(|f| f.is_file());
    found.sort();
    Ok(found)
}

/// The entries of `dir` whose names match `pattern`: folders on the way, files at the end.
/// Hidden names (a leading dot: editors' and our own temp files) match only a pattern that
/// starts with a dot.
fn matches(dir: &Path, pattern: &str, last: bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let hidden_ok = pattern.starts_with('.');
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (hidden_ok || !name.starts_with('.')) && glob_match(pattern, &name) && (last || e.path().is_dir())
        })
        .map(|e| e.path())
        .collect()
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Shell-style matching of one path component: `*` any run of characters, `?` one character.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => (pi, ni) = (pi + 1, ni + 1),
            _ => match star {
                Some((sp, sn)) => (pi, ni, star) = (sp + 1, sn + 1, Some((sp, sn + 1))),
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// How problems name a file: its path relative to the main config's folder when inside it.
fn label(base: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(base) else { return path.display().to_string() };
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

fn read_one(path: &Path, label: String, p: &mut Problems) -> Option<Included> {
    let text = std::fs::read_to_string(path).map_err(|e| p.push(&label, format!("cannot read: {e}"))).ok()?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| p.push(&label, syntax(&text, &e))).ok()?;
    let mut included = Included { label, path: path.to_owned(), sources: Vec::new(), topics: Vec::new() };
    for (key, value) in table {
        let at = format!("{}: {key}", included.label);
        match key.as_str() {
            "source" => included.sources = tables(p, &at, value),
            "topic" => included.topics = tables(p, &at, value),
            _ => p.push(at, "an included file holds only [[source]] and [[topic]] tables; set this in the main config"),
        }
    }
    Some(included)
}

/// Each table of an array of tables, with its index; those that do not deserialize are
/// reported under `at[index]`.
fn tables<T: DeserializeOwned>(p: &mut Problems, at: &str, value: toml::Value) -> Vec<(usize, T)> {
    let toml::Value::Array(items) = value else {
        p.push(at, "must be an array of tables ([[...]])");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (j, item) in items.into_iter().enumerate() {
        match typed::<T>(item) {
            Ok(t) => out.push((j, t)),
            Err((key, message)) => p.push(format!("{at}[{j}]{key}"), message),
        }
    }
    out
}

/// One table as `T`; on failure, the key it failed at (`.url`, `.select.item`, or nothing) and
/// why. A table taken out of its file has lost its positions, so it is written out again and
/// read from that text, whose error position leads to the key.
fn typed<T: DeserializeOwned>(item: toml::Value) -> Result<T, (String, String)> {
    let text = match &item {
        toml::Value::Table(t) => toml::to_string(t).unwrap_or_default(),
        _ => return item.try_into().map_err(|e| (String::new(), one_line(e.message()))),
    };
    toml::from_str(&text).map_err(|e| {
        let key = e.span().and_then(|span| key_at(&text, span.start)).map(|k| format!(".{k}"));
        (key.unwrap_or_default(), one_line(e.message()))
    })
}

/// The dotted key of the line holding byte `at` of serialized TOML: its `key =`, under the
/// last `[table]` header above it.
fn key_at(text: &str, at: usize) -> Option<String> {
    let before = &text[..at.min(text.len())];
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let key = line.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_owned())?;
    let header = before.lines().rev().find_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']').map(str::to_owned));
    Some(match header {
        Some(table) => format!("{}.{key}", table.trim_matches(['[', ']'])),
        None => key,
    })
}

fn one_line(message: &str) -> String {
    message.trim().replace('\n', " ")
}

/// A TOML syntax error on one line: where it is, and what is wrong.
fn syntax(text: &str, e: &toml::de::Error) -> String {
    let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let message = one_line(e.message());
    match line {
        Some(n) => format!("not valid TOML, line {n}: {message}"),
        None => format!("not valid TOML: {message}"),
    }
}

impl IncludeSettings {
    /// Where a file named `name` goes so that the includes read it: the folder of the first
    /// pattern whose folder part has no wildcard and whose file part matches `name`
    /// (`sources.d/*.toml` and `opml.toml` give `{base}/sources.d/opml.toml`).
    pub fn file_named(&self, base: &Path, name: &str) -> Option<PathBuf> {
        self.patterns.iter().find_map(|pattern| {
            let pattern = Path::new(pattern.trim());
            let file = pattern.file_name()?.to_string_lossy();
            let dir = pattern.parent().unwrap_or(Path::new(""));
            let plain_dir = !has_wildcard(&dir.to_string_lossy());
            (plain_dir && glob_match(&file, name) && !name.starts_with('.')).then(|| base.join(dir).join(name))
        })
    }

    /// Whether one of the patterns reads `path` (compared component by component, both made
    /// absolute and `..` folded).
    pub fn covers(&self, base: &Path, path: &Path) -> bool {
        let target = lexical_parts(path);
        self.patterns.iter().any(|pattern| {
            let want = lexical_parts(&base.join(pattern.trim()));
            want.len() == target.len() && want.iter().zip(&target).all(|(w, t)| glob_match(w, t))
        })
    }
}

/// The components of `path` made absolute, with `.` dropped and `..` taking its parent off.
fn lexical_parts(path: &Path) -> Vec<String> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out: Vec<String> = Vec::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => _ = out.pop(),
            other => out.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_one_component() {
        for (p, n, want) in [
            ("*.toml", "opml.toml", true),
            ("*.toml", "opml.toml.bak", false),
            ("a?c*", "abcdef", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbc", false),
            ("exact.toml", "exact.toml", true),
            ("*", "", true),
        ] {
            assert_eq!(glob_match(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn the_target_folder_comes_from_the_first_pattern_that_can_hold_the_name() {
        let inc = |p: &[&str]| IncludeSettings { patterns: p.iter().map(|s| s.to_string()).collect(), files: vec![] };
        let base = Path::new("/etc/nr");
        let got = inc(&["feeds/*.list", "sources.d/*.toml"]).file_named(base, "opml.toml");
        assert_eq!(got, Some(PathBuf::from("/etc/nr/sources.d/opml.toml")));
        assert_eq!(inc(&["*/x.toml"]).file_named(base, "x.toml"), None, "no plain folder to write to");
        assert_eq!(inc(&[]).file_named(base, "x.toml"), None);
        let globs = inc(&["sources.d/*.toml"]);
        assert!(globs.covers(base, Path::new("/etc/nr/sources.d/a.toml")));
        assert!(globs.covers(base, Path::new("/etc/nr/x/../sources.d/./a.toml")));
        assert!(!globs.covers(base, Path::new("/etc/nr/sources.d/a.txt")));
        assert!(!globs.covers(base, Path::new("/etc/nr/a.toml")));
    }
}
