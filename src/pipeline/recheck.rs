//! Article rechecks: newsrooms edit articles after publishing, often without touching their
//! feeds. A full-text source's article pages younger than `recheck_for` are asked for again
//! (conditionally) every `recheck_every`; a changed body or a later "last update" is an edit,
//! stored in place and re-delivered to `since` readers like a feed edit.

use super::articles::{self, Read};
use super::{Planned, PollContext, PollError};
use crate::config::SourceSettings;
use crate::domain::{ArticleRecord, ArticleTally, Change, ChannelId, Entry, SourceState};
use chrono::{DateTime, Utc};

/// Newest items of the source looked at for rechecks; older ones are past `recheck_for` in all
/// but the busiest sources.
const LOOK_AT: usize = 500;

/// Rechecks the source's due article pages (and reads those a poll left for later), at most
/// `budget` of them, commits what changed, and counts the pages read on the source's `state`.
pub(super) async fn run(
    ctx: &PollContext,
    source: &SourceSettings,
    state: &mut SourceState,
    budget: usize,
    now: DateTime<Utc>,
) -> Result<ArticleTally, PollError> {
    let polling = &ctx.polling;
    let mut tally = ArticleTally::default();
    if polling.recheck_for.is_zero() || budget == 0 {
        return Ok(tally);
    }
    let (store, id) = (ctx.store.clone(), ChannelId::Source(source.id.clone()));
    let recent = tokio::task::spawn_blocking(move || store.latest(&id, LOOK_AT))
        .await
        .map_err(|e| PollError::Task(e.to_string()))??;
    let due: Vec<Entry> = recent.into_iter().filter(|e| is_due(e, polling, now)).take(budget).collect();
    if due.is_empty() {
        return Ok(tally);
    }
    let jobs = due.iter().filter_map(|e| articles::job(source, e)).collect();
    let mut reads = articles::read_all(ctx, source, jobs, now).await;
    let mut planned = Planned::default();
    for old in due {
        let Some(read) = reads.remove(&old.key) else { continue };
        if let Read::Fresh(r) = &read {
            tally.count(r);
        }
        let change = revise(&old, read, now);
        tally.edited += usize::from(matches!(change, Change::Updated { edited: true, .. }));
        if ctx.deciders.stories.enabled && matches!(change, Change::Updated { edited: true, .. }) {
            planned.features.insert(old.key, crate::stories::features(change.entry(), &ctx.deciders.stories));
        }
        planned.incoming.insert(old.key);
        planned.plan.changes.push(change);
    }
    state.count_articles(&tally, now);
    super::commit::commit_changes(ctx, source, planned, state.clone(), now).await?;
    Ok(tally)
}

/// An item is due when it was first seen within `recheck_for` and its page was not read since
/// `recheck_every`, or never (a poll past its `max_articles` budget left it for later).
fn is_due(e: &Entry, polling: &crate::config::PollingSettings, now: DateTime<Utc>) -> bool {
    let young = now.signed_duration_since(e.first_seen).to_std().is_ok_and(|age| age < polling.recheck_for);
    let stale = e
        .article
        .as_deref()
        .is_none_or(|a| now.signed_duration_since(a.checked).to_std().is_ok_and(|age| age >= polling.recheck_every));
    young && stale && e.link.is_some() && !e.held_back
}

/// What a recheck makes of a stored item: an edit when the page now says something new, else
/// the same item with the check's time.
fn revise(old: &Entry, read: Read, now: DateTime<Utc>) -> Change {
    let before = old.article.as_deref().cloned().unwrap_or_default();
    let mut entry = old.clone();
    let edited = match read {
        Read::Fresh(new) if is_edit(&before, &new) => {
            // The page's own "last update" when it moved, else the time the change was seen.
            let stated = new.modified.filter(|m| Some(*m) > before.modified && *m <= now);
            entry.article = Some(new);
            entry.updated = old.updated.max(stated.unwrap_or(now));
            true
        }
        // A page that fails now keeps the article read before (and a failure its newest reason).
        Read::Fresh(new) if !before.has_body() => {
            entry.article = Some(new);
            false
        }
        Read::Fresh(_) | Read::Unchanged => {
            entry.article = Some(Box::new(ArticleRecord { checked: now, ..before }));
            false
        }
    };
    Change::Updated { previous: Box::new(old.clone()), entry, edited }
}

/// A new body, or a later "last update", is an edit; the same body under another page hash is not.
fn is_edit(before: &ArticleRecord, new: &ArticleRecord) -> bool {
    new.has_body() && (new.body_html != before.body_html || new.modified > before.modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_entry;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn record(body: Option<&str>, modified: Option<&str>) -> ArticleRecord {
        ArticleRecord {
            url: "https://n.example/a".into(),
            checked: at("2026-11-28T00:00:00Z"),
            body_html: body.map(str::to_owned),
            modified: modified.map(at),
            failed: body.is_none().then(|| "http 503".to_owned()),
            ..ArticleRecord::default()
        }
    }

    fn stored(article: ArticleRecord) -> Entry {
        Entry { article: Some(Box::new(article)), ..test_entry("s", "a", "2026-11-28T00:00:00Z") }
    }

    #[test]
    fn a_new_body_or_later_update_is_an_edit_and_a_failure_keeps_the_body() {
        let now = at("2026-11-28T06:00:00Z");
        let old = stored(record(Some("<p>v1</p>"), Some("2026-11-28T01:00:00Z")));
        let cases = [
            (Read::Fresh(Box::new(record(Some("<p>v2</p>"), Some("2026-11-28T01:00:00Z")))), true, "<p>v2</p>"),
            (Read::Fresh(Box::new(record(Some("<p>v1</p>"), Some("2026-11-28T05:00:00Z")))), true, "<p>v1</p>"),
            (Read::Fresh(Box::new(record(Some("<p>v1</p>"), Some("2026-11-28T01:00:00Z")))), false, "<p>v1</p>"),
            (Read::Fresh(Box::new(record(None, None))), false, "<p>v1</p>"),
            (Read::Unchanged, false, "<p>v1</p>"),
        ];
        for (i, (read, want_edit, want_body)) in cases.into_iter().enumerate() {
            let Change::Updated { entry, edited, .. } = revise(&old, read, now) else { panic!("an update") };
            let a = entry.article.as_deref().expect("article");
            assert_eq!((edited, a.body_html.as_deref()), (want_edit, Some(want_body)), "case {i}");
            assert!(a.has_body(), "case {i}: the body is never lost");
            if !want_edit {
                assert_eq!((a.checked, entry.updated), (now, old.updated), "case {i}: checked, not updated");
            }
        }
        let Change::Updated { entry, .. } =
            revise(&old, Read::Fresh(Box::new(record(Some("<p>v1</p>"), Some("2026-11-28T05:00:00Z")))), now)
        else {
            panic!("an update")
        };
        assert_eq!(entry.updated, at("2026-11-28T05:00:00Z"), "the page's last update");
    }

    #[test]
    fn a_page_that_failed_before_is_an_edit_once_it_gives_a_body() {
        let now = at("2026-11-28T06:00:00Z");
        let old = stored(record(None, None));
        let Change::Updated { edited, entry, .. } =
            revise(&old, Read::Fresh(Box::new(record(Some("<p>b</p>"), None))), now)
        else {
            panic!("an update")
        };
        assert!(edited && entry.article.is_some_and(|a| a.has_body()));
    }

    #[test]
    fn only_young_pages_not_checked_lately_are_due() {
        let polling = crate::cadence::test_policy();
        let now = at("2026-11-28T12:00:00Z");
        let entry = |first_seen: &str, checked: &str| Entry {
            first_seen: at(first_seen),
            link: Some("https://n.example/a".into()),
            article: Some(Box::new(ArticleRecord { checked: at(checked), ..ArticleRecord::default() })),
            ..test_entry("s", "a", "2026-11-27T00:00:00Z")
        };
        assert!(is_due(&entry("2026-11-28T00:00:00Z", "2026-11-28T09:00:00Z"), &polling, now));
        assert!(!is_due(&entry("2026-11-28T00:00:00Z", "2026-11-28T11:00:00Z"), &polling, now), "checked lately");
        assert!(!is_due(&entry("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"), &polling, now), "too old");
        let unread = Entry { article: None, ..entry("2026-11-28T00:00:00Z", "2026-11-28T11:00:00Z") };
        assert!(is_due(&unread, &polling, now), "a page left for later by a poll's budget");
        assert!(!is_due(&Entry { link: None, ..unread.clone() }, &polling, now), "no page to read");
        assert!(!is_due(&Entry { held_back: true, ..unread }, &polling, now), "held back");
    }
}
