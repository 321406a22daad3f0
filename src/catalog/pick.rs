//! Which of a page's feeds `newsriver add` takes: the one the page itself names, or the only
//! one there is; when the page names several that differ, the editor picks by number.

use crate::config::SourceKind;
use crate::discover::{Discovery, Found, Via};
use std::fmt::Write as _;

/// Why no feed was taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error("{0} leads to no feed or sitemap")]
    Nothing(String),
    #[error("{page} leads to {} feeds that differ; run again with --pick N:\n{}", .choices.len(), list(.choices))]
    Several { page: String, choices: Vec<String> },
    #[error("--pick {pick}: there are {count} finds (1 to {count})")]
    OutOfRange { pick: usize, count: usize },
}

fn list(choices: &[String]) -> String {
    let mut out = String::new();
    for (n, c) in choices.iter().enumerate() {
        let _ = writeln!(out, "  {}. {c}", n + 1);
    }
    out.trim_end().to_owned()
}

/// The find to add: number `pick` (1-based, in the order `discover` lists them) when given;
/// else among the feeds (sitemaps only when there is no feed) those the page links to (all
/// of them when it links none): the first, when they are one or all carry one title (an RSS
/// and an Atom rendering of one feed).
pub fn pick(d: &Discovery, pick: Option<usize>) -> Result<&Found, PickError> {
    if let Some(n) = pick {
        let count = d.found.len();
        return n.checked_sub(1).and_then(|i| d.found.get(i)).ok_or(PickError::OutOfRange { pick: n, count });
    }
    let feeds: Vec<&Found> = d.found.iter().filter(|f| f.kind == SourceKind::Feed).collect();
    let pool = if feeds.is_empty() { d.found.iter().collect() } else { feeds };
    let linked: Vec<&Found> = pool.iter().copied().filter(|f| matches!(f.via, Via::Page | Via::Alternate)).collect();
    let pool = if linked.is_empty() { pool } else { linked };
    let first = *pool.first().ok_or_else(|| PickError::Nothing(d.page.to_string()))?;
    let same = |f: &&Found| f.title.trim().eq_ignore_ascii_case(first.title.trim());
    if pool.iter().all(same) {
        return Ok(first);
    }
    let choices = d.found.iter().map(describe).collect();
    Err(PickError::Several { page: d.page.to_string(), choices })
}

fn describe(f: &Found) -> String {
    let via = match f.via {
        Via::Page => "the URL itself",
        Via::Alternate => "linked from the page",
        Via::Robots => "listed in robots.txt",
        Via::CommonPath => "at a usual path",
    };
    format!("{} {:?} {} ({} items, {via})", f.kind.as_str(), f.title, f.url, f.items)
}
