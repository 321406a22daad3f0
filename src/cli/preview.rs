//! `newsriver preview`: what a source would bring, fetched once and written nowhere: each item
//! with its title, link, dates, byline, credit and first words, and the rule behind each field.

use super::out::emit;
use crate::config::{ConfigError, Settings, SourceKind, SourceSettings};
use crate::domain::Entry;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

/// The source to preview: one of the config's, or one described on the command line.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub source: Option<String>,
    pub url: Option<String>,
    pub kind: Option<String>,
    /// `KEY=CSS` pairs of `[source.select]`.
    pub select: Vec<String>,
    pub full_text: bool,
    pub content_selector: Option<String>,
    pub remove: Vec<String>,
}

/// What to show.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub articles: usize,
    pub limit: usize,
    pub json: bool,
}

/// Id of a source described on the command line.
const CLI_SOURCE: &str = "preview-from-command-line";

pub async fn preview(config: &Path, target: &Target, shape: Shape) -> anyhow::Result<()> {
    let (settings, source) = resolve(config, target)?;
    // A throwaway store: planning reads one, and the real one may be held by a running service.
    let dir = std::env::temp_dir().join(format!("newsriver-preview-{}", std::process::id()));
    let result = run(&settings, &source, &dir, shape).await;
    let _ = std::fs::remove_dir_all(&dir);
    let preview = result?;
    let items: Vec<&Entry> = preview.items.iter().take(shape.limit).collect();
    if shape.json {
        let doc = json!({ "source": source.id.as_str(), "url": source.url.to_string(),
            "items": items.iter().map(|e| item_json(e, &source)).collect::<Vec<_>>(),
            "total": preview.items.len(), "dropped": preview.notes.dropped_items });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
    }
    let mut out = format!("{} ({}, {}): {} items\n", source.id, source.kind.as_str(), source.url, preview.items.len());
    for (i, e) in items.iter().enumerate() {
        out.push_str(&item_text(i + 1, e, &source));
    }
    if preview.notes.dropped_items > 0 {
        let _ = writeln!(out, "{} more items past polling.max_items were left out", preview.notes.dropped_items);
    }
    emit(&out)
}

async fn run(
    settings: &Settings,
    source: &SourceSettings,
    dir: &Path,
    shape: Shape,
) -> anyhow::Result<crate::pipeline::Preview> {
    let store = crate::store::Store::open(dir, 16 << 20)?;
    let ctx = crate::app::poll_context(settings, store, crate::runtime::CpuShare::Batch)?;
    Ok(crate::pipeline::preview(&ctx, source, shape.articles, chrono::Utc::now()).await?)
}

/// The config (or the defaults) and the source to preview, validated as a config file's are.
fn resolve(config: &Path, target: &Target) -> anyhow::Result<(Settings, SourceSettings)> {
    let (settings, _) = Settings::load_or_defaults(config)?;
    if let Some(id) = &target.source {
        let s = settings.sources.iter().find(|s| s.id.as_str() == id);
        let s = s.cloned().ok_or_else(|| anyhow::anyhow!("no source {id:?} in {}", config.display()))?;
        return Ok((settings, s));
    }
    let Some(url) = &target.url else { anyhow::bail!("name a configured source (--source ID) or a URL (--url)") };
    let text = std::fs::read_to_string(config).unwrap_or_default() + &source_table(url, target);
    let settings = Settings::from_toml_checked(&text, config).map_err(|e| match e {
        ConfigError::Invalid { problems, .. } => {
            anyhow::anyhow!("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
        }
        other => other.into(),
    })?;
    let source = settings.sources.iter().find(|s| s.id.as_str() == CLI_SOURCE).cloned();
    Ok((settings.clone(), source.ok_or_else(|| anyhow::anyhow!("the source did not load"))?))
}

/// The command line's source as a `[[source]]` table appended to the config.
fn source_table(url: &str, t: &Target) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut out = format!("\n[[source]]\nid = \"{CLI_SOURCE}\"\nurl = {}\n", q(url));
    if let Some(kind) = &t.kind {
        let _ = writeln!(out, "kind = {}", q(kind));
    }
    let full_text = t.full_text || t.kind.as_deref() == Some("page");
    let _ = writeln!(out, "full_text = {full_text}");
    if let Some(css) = &t.content_selector {
        let _ = writeln!(out, "content_selector = {}", q(css));
    }
    let remove: Vec<String> = t.remove.iter().map(|r| q(r)).collect();
    let _ = writeln!(out, "remove = [{}]", remove.join(", "));
    if !t.select.is_empty() {
        out.push_str("[source.select]\n");
        for pair in &t.select {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let _ = writeln!(out, "{} = {}", k.trim(), q(v.trim()));
        }
    }
    out
}

/// The rule behind an item's own (not its article page's) field.
fn item_rule(source: &SourceSettings, field: &str) -> String {
    match (source.kind, source.page.as_ref()) {
        (SourceKind::Page, Some(sel)) => {
            let (key, set) = match field {
                "title" => ("title", sel.title.is_some()),
                "link" => ("link", sel.link.is_some()),
                "published" => ("date", sel.date.is_some()),
                _ => (field, false),
            };
            if set {
                format!("select.{key}")
            } else {
                "page default".into()
            }
        }
        (kind, _) => kind.as_str().into(),
    }
}

fn article_rule(e: &Entry, field: &str) -> String {
    e.article.as_deref().and_then(|a| a.sources.get(field).cloned()).unwrap_or_else(|| "-".into())
}

fn first_words(html: &str, n: usize) -> (String, usize) {
    let words = crate::text::sanitized_to_text(html);
    let all: Vec<&str> = words.split_whitespace().collect();
    let head = all.iter().take(n).copied().collect::<Vec<_>>().join(" ");
    (if all.len() > n { format!("{head} …") } else { head }, all.len())
}

fn item_text(n: usize, e: &Entry, source: &SourceSettings) -> String {
    let shown = |f: &str| item_rule(source, f);
    let mut out = format!("\n{n}. {}  [{}]\n", e.title, shown("title"));
    let _ = writeln!(out, "   link: {}  [{}]", e.link.as_deref().unwrap_or("-"), shown("link"));
    let date = if e.date_repaired { "none (first seen)".to_owned() } else { e.published.to_rfc3339() };
    let _ = writeln!(out, "   published: {date}  [{}]", shown("published"));
    if let Some(a) = e.article.as_deref() {
        article_text(&mut out, e, a);
    } else if source.full_text {
        out.push_str("   article page: not read (past --articles)\n");
    }
    let body = crate::render::shown::content(e).or(e.summary.as_deref()).unwrap_or("");
    let (start, words) = first_words(body, 30);
    let _ = writeln!(out, "   body ({words} words): {start}");
    out
}

fn article_text(out: &mut String, e: &Entry, a: &crate::domain::ArticleRecord) {
    if let Some(why) = &a.failed {
        let _ = writeln!(out, "   article page: FAILED: {why}");
    }
    if let Some(m) = a.modified {
        let _ = writeln!(out, "   last update: {}  [{}]", m.to_rfc3339(), article_rule(e, "modified"));
    }
    if !a.byline.is_empty() {
        let _ = writeln!(out, "   byline: {}  [{}]", a.byline.join(", "), article_rule(e, "byline"));
    }
    if let Some(i) = &a.image {
        let _ = writeln!(out, "   image: {}  [{}]", i.url, article_rule(e, "image"));
        if let Some(c) = &i.credit {
            let _ = writeln!(out, "   credit: {c}  [{}]", article_rule(e, "image.credit"));
        }
    }
}

fn item_json(e: &Entry, source: &SourceSettings) -> Value {
    let body = crate::render::shown::content(e).or(e.summary.as_deref()).unwrap_or("");
    let (start, words) = first_words(body, 30);
    json!({
        "title": e.title, "link": e.link,
        "published": (!e.date_repaired).then(|| e.published.to_rfc3339()),
        "rules": { "title": item_rule(source, "title"), "link": item_rule(source, "link"),
                   "published": item_rule(source, "published") },
        "summary": e.summary.as_deref().map(crate::text::sanitized_to_text),
        "body_start": start, "body_words": words, "article": e.article,
    })
}
