//! Feed discovery (`newsriver discover URL`): the feeds and sitemaps a page and its host offer,
//! each fetched and parsed before it is listed, ready to become `[[source]]` tables.

mod html;
mod output;
mod probe;

pub use html::{alternates, Alternate};
pub use output::{assign_ids, slug, source_tables, summary};

use crate::config::SourceKind;
use crate::fetch::{FetchError, Fetcher};
use probe::{Candidate, Shape};
use serde::Serialize;
use url::Url;

/// Paths where sites often serve a feed without advertising it, asked on the page's host.
const COMMON_PATHS: [&str; 7] = ["/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml", "/feed.json"];

/// Where a sitemap is looked for when robots.txt names none at that address.
const SITEMAP_PATH: &str = "/sitemap.xml";

/// Why a page could not be looked at.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0} is not an http(s) URL")]
    Scheme(Url),
    #[error("cannot fetch {url}")]
    Fetch {
        url: Url,
        #[source]
        source: FetchError,
    },
    #[error("{url} is not an HTML page, a feed or a sitemap ({reason})")]
    NotHtml { url: Url, reason: String },
}

/// How a find was come upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// The URL asked about is itself a feed or a sitemap.
    Page,
    /// A `<link rel="alternate">` of the page.
    Alternate,
    /// A `Sitemap:` line of the host's robots.txt.
    Robots,
    /// A path sites often use, asked on the page's host.
    CommonPath,
}

/// What a found document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Rss,
    Atom,
    JsonFeed,
    Sitemap,
    SitemapIndex,
}

/// A feed or sitemap that was fetched and parsed.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// A slug unique within one discovery, for the `[[source]]` table.
    pub id: String,
    pub title: String,
    pub url: Url,
    #[serde(serialize_with = "kind_name")]
    pub kind: SourceKind,
    pub format: Format,
    /// Items of a feed or URLs of a sitemap; child sitemaps of an index.
    pub items: usize,
    pub via: Via,
    /// Where the body came from after every redirect: two addresses serving one document
    /// are one find.
    #[serde(skip)]
    served_from: Option<Url>,
}

/// An advertised address that is not a usable feed or sitemap (guessed paths that miss are not
/// worth a line).
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub url: Url,
    pub via: Via,
    pub reason: String,
}

/// Everything one page led to.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The page's address after redirects.
    pub page: Url,
    /// The URL asked about is itself a feed or a sitemap (then the only find).
    pub page_is_feed: bool,
    pub found: Vec<Found>,
    pub rejected: Vec<Rejected>,
}

impl Found {
    fn same_as(&self, other: &Found) -> bool {
        self.url == other.url || self.served_from.is_some() && self.served_from == other.served_from
    }
}

fn kind_name<S: serde::Serializer>(kind: &SourceKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// Fetches `url` and everything it advertises or its host commonly serves, through `fetcher`
/// (its address guard, redirect and size limits apply to every request).
pub async fn discover(fetcher: &Fetcher, url: &Url) -> Result<Discovery, DiscoverError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DiscoverError::Scheme(url.clone()));
    }
    let page = fetcher.get(url).await.map_err(|source| DiscoverError::Fetch { url: url.clone(), source })?;
    let at = page.final_url.clone().unwrap_or_else(|| url.clone());
    let content_type = page.content_type.as_deref();
    match probe::classify(&page.body, content_type) {
        Shape::Html => {}
        Shape::Found { .. } => {
            let itself = Candidate { url: url.clone(), via: Via::Page, title: None };
            let found =
                probe::found(&page, itself).map_err(|reason| DiscoverError::NotHtml { url: at.clone(), reason })?;
            let mut discovery = Discovery { page: at, page_is_feed: true, found: vec![found], rejected: Vec::new() };
            assign_ids(&mut discovery.found);
            return Ok(discovery);
        }
        Shape::Other(reason) => return Err(DiscoverError::NotHtml { url: at, reason }),
    }
    let charset = content_type.and_then(crate::parse::charset_of).map(encoding_rs::Encoding::name);
    let advertised = alternates(&crate::extract::decode(&page.body, charset), &at);
    let candidates = candidates(fetcher, &at, advertised).await;
    let mut discovery = sort_out(at, probe::probe_all(fetcher, candidates).await);
    assign_ids(&mut discovery.found);
    Ok(discovery)
}

/// The page's advertised feeds, its host's robots.txt sitemaps, then the common paths and the
/// usual sitemap that robots.txt does not forbid, each address once.
async fn candidates(fetcher: &Fetcher, page: &Url, advertised: Vec<Alternate>) -> Vec<Candidate> {
    let robots = probe::read_robots(fetcher, page).await;
    let mut out: Vec<Candidate> =
        advertised.into_iter().map(|a| Candidate { url: a.url, via: Via::Alternate, title: a.title }).collect();
    out.extend(robots.sitemaps.into_iter().map(|url| Candidate { url, via: Via::Robots, title: None }));
    for path in COMMON_PATHS.iter().chain([&SITEMAP_PATH]) {
        if let Ok(url) = page.join(path) {
            if robots.rules.allowed(url.path()) {
                out.push(Candidate { url, via: Via::CommonPath, title: None });
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.url.clone()));
    out
}

/// Keeps each find once (two addresses may lead to one document); an advertised address that
/// failed is reported, a guessed one is not.
fn sort_out(page: Url, probed: Vec<(Candidate, Result<Found, String>)>) -> Discovery {
    let mut discovery = Discovery { page, page_is_feed: false, found: Vec::new(), rejected: Vec::new() };
    for (candidate, result) in probed {
        match result {
            Ok(found) if discovery.found.iter().all(|f| !f.same_as(&found)) => discovery.found.push(found),
            Ok(_) => {}
            Err(reason) if candidate.via != Via::CommonPath => {
                discovery.rejected.push(Rejected { url: candidate.url, via: candidate.via, reason });
            }
            Err(_) => {}
        }
    }
    discovery
}

/// Text as a title or a comment wants it: on one line, without control characters.
fn one_line(s: &str) -> String {
    let spaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}
