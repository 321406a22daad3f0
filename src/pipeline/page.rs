//! A page source's fetch: robots.txt first (when the source honours it), then the listing page
//! as a feed is fetched, conditionally, for `plan` to read with the source's selectors.

use super::plan::Content;
use super::{fetch_feed, Got, Heard, PollContext, PollError};
use crate::config::SourceSettings;
use crate::domain::{FeedUrl, SourceState};

/// The listing page at `url`; `None` when the server says it has not changed. A page robots.txt
/// disallows is a permanent failure of the source.
pub(super) async fn fetch(
    ctx: &PollContext,
    source: &SourceSettings,
    url: &FeedUrl,
    before: &SourceState,
    heard: &mut Heard,
) -> Result<Option<Got>, PollError> {
    if source.respect_robots {
        ctx.robots.check(url).await?;
    }
    let Some(got) = fetch_feed(ctx, url, before, heard).await? else { return Ok(None) };
    // Settings built in code may lack selectors; the page's read then fails on the empty `item`.
    let selectors = source.page.clone().unwrap_or_default();
    let content = match got.content {
        Content::Feed { body, charset } => Content::Page { body, charset, selectors },
        other => other,
    };
    Ok(Some(Got { content, ..got }))
}
