//! `newsriver import FILE.opml` and `newsriver export-sources FILE.opml`: subscription lists in
//! and out; and where `import` and `add` write (a file the config includes) and how (the whole
//! config checked afterwards, every write undone when it fails).

use super::{out::emit, WriteTo};
use crate::catalog::files::{self, Mode, Writes};
use crate::catalog::{self, Existing, Plan, TopicSuggestion};
use crate::config::Settings;
use anyhow::{bail, Context as _};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The include `--add-include` adds when the config reads no file that fits.
const DEFAULT_PATTERN: &str = "sources.d/*.toml";

/// What an import did, as printed.
#[derive(Debug, Serialize)]
struct Report {
    opml: String,
    title: Option<String>,
    /// The file written; none when nothing was added.
    written: Option<String>,
    #[serde(flatten)]
    plan: Plan,
    topics: Vec<TopicSuggestion>,
    /// `check`'s report of the config with the new file.
    check: Option<String>,
}

/// Reads `file`, writes its new feeds to `sources.d/<name>.toml` (or `--into`), checks the
/// config with them, and reports what was added, skipped and could become a topic.
pub fn import(config: &Path, file: &Path, into: &WriteTo, force: bool, json: bool) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let opml = catalog::read_opml(&bytes).with_context(|| file.display().to_string())?;
    let target = target(config, &settings, into, &format!("{}.toml", file_slug(file)))?;
    let mut existing = Existing::of(&settings);
    if force {
        // The sources of the file being replaced are not "already configured".
        existing = existing.without(&files::source_ids(&target.path));
    }
    let plan = catalog::plan(&opml.feeds, &existing);
    let topics = catalog::suggest_topics(&plan.added, &existing);
    let opml_name = file.display().to_string();
    let mut report = Report { opml: opml_name, title: opml.title, written: None, plan, topics, check: None };
    if !report.plan.added.is_empty() {
        let text = catalog::sources_file(&file_name(file), &file_name(config), &report.plan.added);
        let mode = if force { Mode::Replace } else { Mode::New };
        let loaded = commit(config, &target, text.as_bytes(), mode)?;
        report.written = Some(target.path.display().to_string());
        report.check = Some(super::check_report(config, &loaded));
    }
    if json {
        return emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    }
    emit(&text_of(&report))
}

fn text_of(r: &Report) -> String {
    let mut out = String::new();
    let title = r.title.as_deref().map(|t| format!(" ({t:?})")).unwrap_or_default();
    let (added, skipped) = (r.plan.added.len(), r.plan.skipped.len());
    let _ = writeln!(out, "{}{title}: {added} source(s) added, {skipped} skipped", r.opml);
    match &r.written {
        Some(path) => _ = writeln!(out, "written to {path}"),
        None => _ = writeln!(out, "nothing to add: no file written"),
    }
    for s in &r.plan.skipped {
        let url = s.url.as_deref().map(|u| format!(" <{u}>")).unwrap_or_default();
        let _ = writeln!(out, "  skipped {:?}{url}: {}", s.title, s.reason);
    }
    if !r.topics.is_empty() {
        let _ = writeln!(
            out,
            "\n# Suggested topics, one per folder (not written: paste into the config, add words to narrow them):\n{}",
            catalog::topics_toml(&r.topics)
        );
    }
    if let Some(check) = &r.check {
        let _ = write!(out, "\n{check}");
    }
    out
}

/// Writes the configured feeds as OPML to `file` (replaced whole) or stdout (`-`); the sources
/// left out are named on stderr.
pub fn export_sources(config: &Path, file: &Path) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    let list = catalog::sources_opml(&settings, chrono::Utc::now());
    for (id, why) in &list.left_out {
        let _ = writeln!(std::io::stderr(), "note: source {id} left out: {why}");
    }
    if file == Path::new("-") {
        return emit(&list.text);
    }
    crate::export::atomic::write(file, list.text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    let feeds = settings.sources.len() - list.left_out.len();
    emit(&format!("{feeds} feed(s) written to {} ({} source(s) left out)\n", file.display(), list.left_out.len()))
}

/// Where new tables go, and the include the main config needs to read them (when it has none
/// that does and `--add-include` was given).
pub(super) struct Target {
    pub path: PathBuf,
    pub pattern: Option<String>,
}

/// `--into`, else the file `name` in the first include folder that can hold it; when the config
/// would not read it, the include to add (with `--add-include`) or an error with the exact line.
pub(super) fn target(config: &Path, settings: &Settings, into: &WriteTo, name: &str) -> anyhow::Result<Target> {
    let (base, include) = (settings.config_dir(), &settings.include);
    let (path, pattern) = match &into.file {
        Some(file) if include.covers(base, file) => return Ok(Target { path: file.clone(), pattern: None }),
        Some(file) => (file.clone(), pattern_for(base, file)),
        None => match include.file_named(base, name) {
            Some(path) => return Ok(Target { path, pattern: None }),
            None => (base.join("sources.d").join(name), DEFAULT_PATTERN.to_owned()),
        },
    };
    if into.add_include {
        return Ok(Target { path, pattern: Some(pattern) });
    }
    let mut patterns = include.patterns.clone();
    patterns.push(pattern);
    let how = if include.patterns.is_empty() {
        "add this line at its top, before any [table]"
    } else {
        "change its include to"
    };
    bail!(
        "{} does not include {}; {how}:\n  {}\nor run again with --add-include",
        config.display(),
        path.display(),
        files::include_line(&patterns)
    )
}

/// The include that reads exactly `file`: relative to the config's folder when inside it.
fn pattern_for(base: &Path, file: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let file = abs(file);
    match file.strip_prefix(abs(base)) {
        Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
        Err(_) => file.display().to_string(),
    }
}

/// Writes `bytes` to the target (and the include to the config), then loads the whole config;
/// when it does not check, every write is undone and the problems are the error.
pub(super) fn commit(config: &Path, target: &Target, bytes: &[u8], mode: Mode) -> anyhow::Result<Settings> {
    let mut writes = Writes::default();
    writes.write(&target.path, bytes, mode)?;
    if let Some(pattern) = &target.pattern {
        let edited = (std::fs::read_to_string(config).map_err(anyhow::Error::from))
            .and_then(|text| files::with_include(&text, pattern).map_err(anyhow::Error::msg))
            .and_then(|text| Ok(writes.write(config, text.as_bytes(), Mode::Replace)?));
        if let Err(e) = edited {
            let _ = writes.undo();
            return Err(e.context(format!("cannot add the include to {}; nothing was kept", config.display())));
        }
    }
    match Settings::load(config) {
        Ok(settings) => Ok(settings),
        Err(e) => {
            let failed = writes.undo();
            let failed =
                if failed.is_empty() { String::new() } else { format!(" (but could not undo: {})", failed.join("; ")) };
            bail!("the config does not check with the new sources, so nothing was kept{failed}:\n{e}")
        }
    }
}

/// A file's stem as a file name: `My Feeds (2024).opml` gives `my-feeds-2024`.
fn file_slug(file: &Path) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Some(crate::discover::slug(&stem)).filter(|s| !s.is_empty()).unwrap_or_else(|| "opml".into())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
