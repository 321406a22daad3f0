//! A poll that writes nothing: what a source would bring (its items as normalized, and the first
//! ones' article pages as read), for an editor writing selectors or trying a new source.

use super::{articles, parse_and_plan, Heard, PollContext, PollError};
use crate::config::SourceSettings;
use crate::domain::{Change, DocumentNotes, Entry, SourceState};
use chrono::{DateTime, Utc};

/// What one source would bring now.
#[derive(Debug)]
pub struct Preview {
    /// In document order; the first `articles` of them with their article page read.
    pub items: Vec<Entry>,
    /// What reading the document noticed (items past `max_items`, replaced bytes, ...).
    pub notes: DocumentNotes,
}

/// Fetches `source` once, as a first poll would (no validators), normalizes its items and, for a
/// full-text source, reads the article pages of the first `articles` items. `ctx.store` is only
/// read; nothing is committed, so a throwaway store keeps the result independent of what is stored.
pub async fn preview(
    ctx: &PollContext,
    source: &SourceSettings,
    articles: usize,
    now: DateTime<Utc>,
) -> Result<Preview, PollError> {
    let first = SourceState::default();
    let mut heard = Heard::default();
    let got = super::fetch_document(ctx, source, &source.url, &first, &mut heard).await?;
    let got = got.ok_or_else(|| PollError::Task("the server answered 304 to an unconditional request".into()))?;
    let mut planned = parse_and_plan(ctx, source, got.content, got.url, &first, now).await?;
    let notes = std::mem::take(&mut planned.doc);
    let mut items: Vec<Entry> = planned.plan.changes.into_iter().map(Change::into_entry).collect();
    if source.full_text && articles > 0 {
        let jobs = items.iter().take(articles).filter_map(|e| articles::job(source, e)).collect();
        let mut reads = articles::read_all(ctx, source, jobs, now).await;
        for e in &mut items {
            if let Some(articles::Read::Fresh(record)) = reads.remove(&e.key) {
                articles::attach(e, record, now);
            }
        }
    }
    Ok(Preview { items, notes })
}
