//! `newsriver discover`: a page's feeds and sitemaps, as commented `[[source]]` tables or JSON.

use super::out::emit;
use crate::discover;
use std::path::Path;
use url::Url;

/// Looks at `url` with the fetcher `config` describes and prints what it leads to.
pub async fn discover(config: &Path, url: &Url, json: bool) -> anyhow::Result<()> {
    let fetcher = super::one_off_fetcher(config)?;
    let found = discover::discover(&fetcher, url).await?;
    if json {
        let mut out = serde_json::to_string_pretty(&found)?;
        out.push('\n');
        return emit(&out);
    }
    emit(&discover::summary(&found))
}
