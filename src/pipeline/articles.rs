//! Full text: the article pages of a poll's new and edited items, and of its recent items due a
//! recheck, fetched like feeds (the guarded fetcher, robots.txt, each host's turn and slot) and
//! read by the extractor into each item's `ArticleRecord`. A page that fails fails alone: the
//! item keeps its feed's text and records why.

use super::{Planned, PollContext};
use crate::config::SourceSettings;
use crate::domain::{ArticleImage, ArticleRecord, ArticleTally, Change, Entry, EntryKey, FeedUrl};
use crate::fetch::{FetchResult, Fetched, Validators};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// Pages read at once in one poll, each on a different host (one host's pages go in turn).
const HOSTS_AT_ONCE: usize = 4;
/// Extraction of one page past this is abandoned (the pool thread finishes it unseen).
const EXTRACT_LIMIT: Duration = Duration::from_secs(10);
/// Fewer words than this is a stub (a paywall, a JavaScript shell, an error page), not a body.
const MIN_BODY_WORDS: usize = 25;

/// One article page to read, and what was read from it before.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub key: EntryKey,
    pub url: FeedUrl,
    pub before: Option<ArticleRecord>,
}

/// How a page read went: a new record, or the one before, confirmed unchanged.
#[derive(Debug)]
pub(super) enum Read {
    Fresh(Box<ArticleRecord>),
    Unchanged,
}

/// Reads the article page of each new (shown) and edited item of the plan, up to the poll's
/// budget, and attaches the records; story features follow the full bodies.
pub(super) async fn read_for_plan(
    ctx: &PollContext,
    source: &SourceSettings,
    planned: &mut Planned,
    now: DateTime<Utc>,
) -> ArticleTally {
    let jobs: Vec<Job> = (planned.plan.changes.iter())
        .filter(|c| match c {
            Change::New(e) => !e.held_back,
            Change::Updated { edited, .. } => *edited,
        })
        .filter_map(|c| job(source, c.entry()))
        .take(ctx.polling.max_articles)
        .collect();
    let mut results = read_all(ctx, source, jobs, now).await;
    drop_shared_bodies(&mut results);
    let mut counts = ArticleTally::default();
    for change in &mut planned.plan.changes {
        let Some(read) = results.remove(&change.entry().key) else { continue };
        let entry = change.entry_mut();
        if let Read::Fresh(record) = read {
            counts.count(&record);
            attach(entry, record, now);
        } else if let Some(a) = entry.article.as_deref_mut() {
            a.checked = now;
        }
        // Planning compared the feed's text; an item with a body from its page compares on that.
        if ctx.deciders.stories.enabled && entry.article.as_deref().is_some_and(ArticleRecord::has_body) {
            planned.features.insert(entry.key, crate::stories::features(entry, &ctx.deciders.stories));
        }
    }
    counts
}

/// Pages of different items rarely share a body; when several do, the extractor found a
/// paywall notice or a template block, not the articles, and story matching must not link the
/// items on it.
fn drop_shared_bodies(results: &mut HashMap<EntryKey, Read>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for read in results.values() {
        if let Read::Fresh(r) = read {
            if let Some(body) = r.body_html.as_deref().filter(|_| r.has_body()) {
                *counts.entry(body).or_default() += 1;
            }
        }
    }
    let shared: std::collections::HashSet<String> =
        counts.into_iter().filter(|(_, n)| *n >= SHARED_BODY).map(|(b, _)| b.to_owned()).collect();
    for read in results.values_mut() {
        if let Read::Fresh(r) = read {
            if r.body_html.as_ref().is_some_and(|b| shared.contains(b)) {
                r.body_html = None;
                r.failed = Some("the page's body is the same as other items' pages (a paywall or template)".into());
            }
        }
    }
}

/// Items of one poll whose pages share a body before it counts as boilerplate.
const SHARED_BODY: usize = 3;

/// The page to read for an entry: its link, when the source may follow it. A web feed's item
/// never leads to a local file; a local feed's may (demo and mirrored sites).
pub(super) fn job(source: &SourceSettings, entry: &Entry) -> Option<Job> {
    let link = entry.link.as_deref()?;
    let url = match FeedUrl::parse(link, std::path::Path::new("/")) {
        Ok(u @ FeedUrl::Http(_)) => u,
        Ok(u @ FeedUrl::File(_)) if matches!(source.url, FeedUrl::File(_)) => u,
        _ => return None,
    };
    Some(Job { key: entry.key, url, before: entry.article.as_deref().cloned() })
}

/// Gives an entry what its page said: the record, and a later "last update" as its `updated`.
pub(super) fn attach(entry: &mut Entry, mut record: Box<ArticleRecord>, now: DateTime<Utc>) {
    if let Some(modified) = record.modified.filter(|m| *m > entry.updated && *m <= now) {
        entry.updated = modified;
    }
    // What a news sitemap said of the article stands where the page says nothing.
    if let Some(before) = entry.article.as_deref() {
        for (field, ours, theirs) in
            [("site_name", &mut record.site_name, &before.site_name), ("lang", &mut record.lang, &before.lang)]
        {
            if ours.is_none() && theirs.is_some() {
                ours.clone_from(theirs);
                record.sources.insert(field.to_owned(), before.sources.get(field).cloned().unwrap_or_default());
            }
        }
    }
    entry.article = Some(record);
}

/// Reads every job: hosts in parallel (a few at a time), each host's pages one after another.
pub(super) async fn read_all(
    ctx: &PollContext,
    source: &SourceSettings,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
) -> HashMap<EntryKey, Read> {
    let mut by_host: HashMap<String, Vec<Job>> = HashMap::new();
    for j in jobs {
        by_host.entry(j.url.host_key()).or_default().push(j);
    }
    let own_host = source.url.host_key();
    let mut set = tokio::task::JoinSet::new();
    let mut out = HashMap::new();
    for (host, jobs) in by_host {
        if set.len() >= HOSTS_AT_ONCE {
            collect(set.join_next().await, &mut out);
        }
        let (ctx, source) = (ctx.clone(), source.clone());
        let own = host == own_host;
        set.spawn(async move { read_host(&ctx, &source, &host, own, jobs, now).await });
    }
    while let Some(done) = set.join_next().await {
        collect(Some(done), &mut out);
    }
    out
}

fn collect(done: Option<Result<Vec<(EntryKey, Read)>, tokio::task::JoinError>>, out: &mut HashMap<EntryKey, Read>) {
    match done {
        Some(Ok(reads)) => out.extend(reads),
        Some(Err(e)) => tracing::error!(error = %e, "article reading task failed"),
        None => {}
    }
}

/// One host's pages in turn. The poll already holds a slot of its own host; another host's
/// pages take one of that host's slots, so its budget holds across every source.
async fn read_host(
    ctx: &PollContext,
    source: &SourceSettings,
    host: &str,
    own: bool,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
) -> Vec<(EntryKey, Read)> {
    let _slot = if own { None } else { Some(ctx.fetcher.hosts().slot(host).await) };
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let read = read_one(ctx, source, &job, now).await;
        if let Read::Fresh(r) = &read {
            if let Some(why) = &r.failed {
                tracing::info!(source = %source.id, url = %job.url, reason = %why, "article not read");
            }
        }
        out.push((job.key, read));
    }
    out
}

/// One page: asked of robots.txt, fetched conditionally, and extracted unless its bytes are
/// the ones read before.
async fn read_one(ctx: &PollContext, source: &SourceSettings, job: &Job, now: DateTime<Utc>) -> Read {
    let failed = |why: String| Read::Fresh(Box::new(failure(job, why, now)));
    if source.respect_robots {
        if let Err(e) = ctx.robots.check(&job.url).await {
            return failed(e.to_string());
        }
    }
    let prev = job.before.as_ref().filter(|b| b.failed.is_none()).map(validators).unwrap_or_default();
    let fetched = match ctx.fetcher.fetch(&job.url, &prev).await {
        Ok(FetchResult::NotModified(_)) => return Read::Unchanged,
        Ok(FetchResult::Fetched(f)) => f,
        Err(e) => return failed(e.to_string()),
    };
    let hash = super::hex_digest(&fetched.body);
    if job.before.as_ref().is_some_and(|b| b.failed.is_none() && b.page_hash.as_deref() == Some(hash.as_str())) {
        return Read::Unchanged;
    }
    if let Some(why) = not_html(&fetched) {
        return failed(why);
    }
    let rules = source.article.clone();
    let page = Page { fetched, hash, url: job.url.clone() };
    let work = ctx.cpu.run(move || extract(page, &rules, now));
    match tokio::time::timeout(EXTRACT_LIMIT, work).await {
        Ok(Ok(record)) => Read::Fresh(Box::new(record)),
        Ok(Err(e)) => failed(format!("extraction failed: {e}")),
        Err(_) => failed(format!("extraction took longer than {} s", EXTRACT_LIMIT.as_secs())),
    }
}

fn validators(r: &ArticleRecord) -> Validators {
    Validators { etag: r.etag.clone(), last_modified: r.last_modified.clone() }
}

/// Why a fetched body is not an HTML page worth extracting, if it is not.
fn not_html(f: &Fetched) -> Option<String> {
    let essence = f.content_type.as_deref().map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match essence.as_deref() {
        None | Some("" | "text/html" | "application/xhtml+xml" | "text/plain") => {}
        Some(other) => return Some(format!("not an HTML page ({other})")),
    }
    let head = &f.body[..f.body.len().min(1024)];
    (head.contains(&0) || head.starts_with(b"%PDF")).then(|| "not an HTML page (binary content)".to_owned())
}

/// A fetched page, ready for the extractor.
struct Page {
    fetched: Fetched,
    hash: String,
    url: FeedUrl,
}

/// The extractor's reading of a page as a record; a page without a real body is a failure
/// that still keeps the metadata found.
fn extract(page: Page, rules: &crate::config::ArticleRules, now: DateTime<Utc>) -> ArticleRecord {
    let Page { fetched, hash, url } = page;
    let base = fetched.final_url.clone().or_else(|| url.base_url());
    let charset = fetched.content_type.as_deref().and_then(crate::parse::charset_of).map(|e| e.name());
    let options = crate::extract::Options::from(rules);
    let mut record = ArticleRecord {
        url: base.as_ref().map_or_else(|| url.to_string(), ToString::to_string),
        checked: now,
        etag: fetched.validators.etag.clone(),
        last_modified: fetched.validators.last_modified.clone(),
        page_hash: Some(hash),
        ..ArticleRecord::default()
    };
    match crate::extract::article_with(&fetched.body, base.as_ref(), charset, &options) {
        Ok(a) => fill(&mut record, a),
        Err(e) => record.failed = Some(e.to_string()),
    }
    record
}

fn fill(r: &mut ArticleRecord, a: crate::extract::Article) {
    r.sources = (a.sources.iter())
        .map(|(k, v)| ((*k).to_owned(), serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned))))
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    if a.word_count < MIN_BODY_WORDS {
        r.failed = Some("no article body found".into());
    } else {
        r.body_html = Some(a.body_html);
    }
    (r.byline, r.title, r.published, r.modified) = (a.byline, a.title, a.published, a.modified);
    (r.site_name, r.lang, r.word_count, r.notes) = (a.site_name, a.lang, a.word_count, a.notes);
    r.image = a.image.map(|i| ArticleImage { url: i.url, caption: i.caption, credit: i.credit });
}

/// A page that could not be read: when, and why.
fn failure(job: &Job, why: String, now: DateTime<Utc>) -> ArticleRecord {
    ArticleRecord { url: job.url.to_string(), checked: now, failed: Some(why), ..ArticleRecord::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(body: &str) -> Read {
        Read::Fresh(Box::new(ArticleRecord { body_html: Some(body.into()), ..ArticleRecord::default() }))
    }

    #[test]
    fn a_news_sitemaps_name_and_language_stand_where_the_page_says_nothing() {
        let now = "2026-12-01T12:00:00Z".parse().expect("now");
        let sitemap = ArticleRecord {
            site_name: Some("Coast Herald".into()),
            lang: Some("en".into()),
            sources: [("site_name".to_owned(), "sitemap".to_owned()), ("lang".to_owned(), "sitemap".to_owned())].into(),
            ..ArticleRecord::default()
        };
        let mut entry =
            Entry { article: Some(Box::new(sitemap)), ..crate::domain::test_entry("s", "a", "2026-12-01T08:00:00Z") };
        let page = ArticleRecord {
            lang: Some("en-GB".into()),
            sources: [("lang".to_owned(), "meta".to_owned())].into(),
            ..ArticleRecord::default()
        };
        attach(&mut entry, Box::new(page), now);
        let a = entry.article.expect("article");
        assert_eq!((a.site_name.as_deref(), a.lang.as_deref()), (Some("Coast Herald"), Some("en-GB")));
        assert_eq!((a.sources["site_name"].as_str(), a.sources["lang"].as_str()), ("sitemap", "meta"));
    }

    #[test]
    fn a_body_three_pages_share_is_boilerplate_and_two_alike_are_kept() {
        let key = |n: u8| EntryKey::from_bytes([n; 16]);
        let mut results: HashMap<EntryKey, Read> = HashMap::new();
        for n in 0..3 {
            results.insert(key(n), fresh("<p>Subscribe to read this article.</p>"));
        }
        results.insert(key(3), fresh("<p>Copy</p>"));
        results.insert(key(4), fresh("<p>Copy</p>"));
        results.insert(key(5), Read::Unchanged);
        drop_shared_bodies(&mut results);
        for n in 0..6 {
            let Some(Read::Fresh(r)) = results.get(&key(n)) else { continue };
            assert_eq!(r.has_body(), n >= 3, "page {n}: {r:?}");
            assert_eq!(r.failed.is_some(), n < 3, "page {n}");
        }
    }
}
