//! `newsriver add URL`: one source, from a feed's URL or from the page that links to it (found
//! as `discover` finds it), appended to `added.toml` in the include folder and checked.

use super::import::{commit, target};
use super::{check_report, out::emit, WriteTo};
use crate::catalog::files::{self, Mode};
use crate::catalog::{self, Existing, OpmlFeed};
use crate::config::Settings;
use crate::domain::SourceId;
use anyhow::{anyhow, bail};
use std::path::Path;
use url::Url;

/// The file in the include folder that `add` appends to.
const ADDED: &str = "added.toml";

/// What the command line says of the new source.
#[derive(Debug, Clone, Default)]
pub struct AddSource {
    pub id: Option<String>,
    pub title: Option<String>,
    /// Which find (1-based, as `discover` lists them).
    pub pick: Option<usize>,
}

/// Finds the feed `url` is or links to (through the config's fetcher and address guard), adds
/// it as a source and prints the table added and the check of the config.
pub async fn add(config: &Path, url: &Url, wanted: &AddSource, into: &WriteTo) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    let existing = Existing::of(&settings);
    if let Some(id) = &wanted.id {
        SourceId::parse(id).map_err(|e| anyhow!("--id {id:?} {e}"))?;
        if existing.has_id(id) {
            bail!("--id {id:?} is the id of a configured source");
        }
    }
    let target = target(config, &settings, into, ADDED)?;
    let fetcher = crate::app::fetcher(&settings.polling)?;
    let discovery = crate::discover::discover(&fetcher, url).await?;
    let found = catalog::pick(&discovery, wanted.pick)?;
    let feed = OpmlFeed {
        title: wanted.title.clone().unwrap_or_else(|| found.title.clone()),
        xml_url: Some(found.url.to_string()),
        id: wanted.id.clone(),
        source_kind: Some(found.kind.as_str().to_owned()),
        ..OpmlFeed::default()
    };
    let plan = catalog::plan(&[feed], &existing);
    let Some(new) = plan.added.first() else {
        let why = plan.skipped.first().map(|s| s.reason.to_string()).unwrap_or_default();
        bail!("{} is not added: {why}", found.url);
    };
    let note = match discovery.page_is_feed {
        true => "added by `newsriver add`".to_owned(),
        false => format!("found on {url} by `newsriver add`"),
    };
    let block = catalog::source_block(new, Some(&note));
    let before = files::read_if_there(&target.path)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let text = match before.as_deref().map(str::trim_end).filter(|t| !t.is_empty()) {
        Some(old) => format!("{old}\n\n{block}"),
        None => format!("# Sources added by `newsriver add`; read through `include` in the main config.\n\n{block}"),
    };
    let loaded = commit(config, &target, text.as_bytes(), Mode::Replace)?;
    emit(&format!("# added to {}:\n{block}\n{}", target.path.display(), check_report(config, &loaded)))
}
