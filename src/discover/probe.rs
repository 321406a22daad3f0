//! Fetching what discovery found: each candidate through the guarded fetcher, kept when it parses
//! as a feed or a sitemap; and the host's robots.txt, for its `Sitemap:` lines and its rules.

use super::html::looks_like_html;
use super::{one_line, Format, Found, Via};
use crate::config::SourceKind;
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::parse::sitemap::{parse_sitemap, Sitemap};
use crate::robots::{self, Rules, MAX_BYTES, PRODUCT};
use feed_rs::model::FeedType;
use url::Url;

/// URLs a sitemap is read to, for its count: enough to tell a live sitemap from an empty one.
const MAX_SITEMAP_URLS: usize = 1000;

/// `Sitemap:` lines followed from one robots.txt.
const MAX_ROBOTS_SITEMAPS: usize = 20;

/// What a fetched body turned out to be.
#[derive(Debug)]
pub(super) enum Shape {
    Found {
        kind: SourceKind,
        format: Format,
        title: Option<String>,
        items: usize,
    },
    Html,
    /// Neither a page nor a feed nor a sitemap, and why the feed parser said no.
    Other(String),
}

/// A URL to fetch, why it is asked, and the title its link gave.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub url: Url,
    pub via: Via,
    pub title: Option<String>,
}

/// Reads a body as a feed, then as a sitemap, unless it is plainly an HTML page.
pub(super) fn classify(body: &[u8], content_type: Option<&str>) -> Shape {
    let html_type = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if looks_like_html(body) {
        return Shape::Html;
    }
    let charset = content_type.and_then(crate::parse::charset_of);
    let feed_error = match crate::parse::parse_document(body, charset) {
        Ok(parsed) => {
            let feed = parsed.feed;
            let title = feed.title.map(|t| t.content);
            let format = match feed.feed_type {
                FeedType::Atom => Format::Atom,
                FeedType::JSON => Format::JsonFeed,
                FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => Format::Rss,
            };
            return Shape::Found { kind: SourceKind::Feed, format, title, items: feed.entries.len() };
        }
        Err(e) => e.to_string(),
    };
    match parse_sitemap(body, charset, MAX_SITEMAP_URLS) {
        Ok((Sitemap::Urls { urls, dropped }, _)) => {
            let items = urls.len() + dropped;
            Shape::Found { kind: SourceKind::Sitemap, format: Format::Sitemap, title: None, items }
        }
        Ok((Sitemap::Index(children), _)) => {
            let items = children.len();
            Shape::Found { kind: SourceKind::Sitemap, format: Format::SitemapIndex, title: None, items }
        }
        Err(_) if html_type => Shape::Html,
        Err(_) => Shape::Other(feed_error),
    }
}

/// A fetched body as a discovery, or why it is not one. A URL that moved for good is listed at
/// its new address, the one a poll would settle on.
pub(super) fn found(fetched: &Fetched, candidate: Candidate) -> Result<Found, String> {
    let url = fetched.answer.moved_to.clone().unwrap_or(candidate.url);
    match classify(&fetched.body, fetched.content_type.as_deref()) {
        Shape::Found { kind, format, title, items } => {
            let title = title.map(|t| one_line(&t)).filter(|t| !t.is_empty());
            let title = title.or(candidate.title).unwrap_or_else(|| default_title(&url, kind));
            let served_from = fetched.final_url.clone();
            Ok(Found { id: String::new(), title, url, kind, format, items, via: candidate.via, served_from })
        }
        Shape::Html => Err("an HTML page, not a feed or a sitemap".into()),
        Shape::Other(reason) => Err(reason),
    }
}

/// A sitemap has no title of its own: its host and path say which one it is.
fn default_title(url: &Url, kind: SourceKind) -> String {
    let host = url.host_str().unwrap_or_default();
    match kind {
        SourceKind::Sitemap => format!("{host}{}", url.path()),
        SourceKind::Feed | SourceKind::Page => host.to_owned(),
    }
}

/// Fetches every candidate, several at once within the host's budget, and answers in their order.
pub(super) async fn probe_all(
    fetcher: &Fetcher,
    candidates: Vec<Candidate>,
) -> Vec<(Candidate, Result<Found, String>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, candidate) in candidates.into_iter().enumerate() {
        let fetcher = fetcher.clone();
        tasks.spawn(async move {
            let host = crate::domain::FeedUrl::Http(candidate.url.clone()).host_key();
            let _slot = fetcher.hosts().slot(&host).await;
            let result = match fetcher.get(&candidate.url).await {
                Ok(fetched) => found(&fetched, candidate.clone()),
                Err(e) => Err(e.to_string()),
            };
            (i, candidate, result)
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // A probe that panicked is one candidate lost, not the whole discovery.
        if let Ok(one) = joined {
            done.push(one);
        }
    }
    done.sort_by_key(|(i, _, _)| *i);
    done.into_iter().map(|(_, c, r)| (c, r)).collect()
}

/// What the host's robots.txt says: its rules for us and its sitemaps.
#[derive(Debug)]
pub(super) struct Robots {
    pub rules: Rules,
    pub sitemaps: Vec<Url>,
}

/// Reads `page`'s robots.txt as the poller does: a 4xx (or a failed redirect) means no rules;
/// any other failure means nothing beyond the page may be guessed at until it answers.
pub(super) async fn read_robots(fetcher: &Fetcher, page: &Url) -> Robots {
    let none = |rules| Robots { rules, sitemaps: Vec::new() };
    let Ok(at) = page.join("/robots.txt") else { return none(Rules::allow_all()) };
    match fetcher.with_max_body(MAX_BYTES).get(&at).await {
        Ok(f) => {
            let text = String::from_utf8_lossy(&f.body);
            let listed = robots::sitemaps(&text);
            let sitemaps = listed.iter().filter_map(|s| web_url(&at, s)).take(MAX_ROBOTS_SITEMAPS).collect();
            Robots { rules: Rules::parse(&text, PRODUCT), sitemaps }
        }
        Err(FetchError::Status { status: 429, .. }) => none(Rules::disallow_all()),
        Err(FetchError::Status { status: 400..=499, .. } | FetchError::Redirect(_)) => none(Rules::allow_all()),
        Err(_) => none(Rules::disallow_all()),
    }
}

fn web_url(base: &Url, s: &str) -> Option<Url> {
    base.join(s.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_items(shape: Shape) -> (SourceKind, Format, usize) {
        match shape {
            Shape::Found { kind, format, items, .. } => (kind, format, items),
            other => panic!("expected a find, got {other:?}"),
        }
    }

    #[test]
    fn bodies_are_told_apart() {
        let rss = b"<rss version=\"2.0\"><channel><title>T</title><item><title>a</title></item></channel></rss>";
        assert_eq!(kind_and_items(classify(rss, Some("text/xml"))), (SourceKind::Feed, Format::Rss, 1));
        let json =
            br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","content_text":"x"}]}"#;
        assert_eq!(kind_and_items(classify(json, None)), (SourceKind::Feed, Format::JsonFeed, 1));
        let sitemap = b"<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>https://a.example/1</loc></url></urlset>";
        assert_eq!(kind_and_items(classify(sitemap, None)), (SourceKind::Sitemap, Format::Sitemap, 1));
        let index = b"<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>";
        assert_eq!(kind_and_items(classify(index, None)), (SourceKind::Sitemap, Format::SitemapIndex, 1));
        assert!(matches!(classify(b"<!doctype html><p>hi", None), Shape::Html));
        assert!(matches!(classify(b"<p>hi</p>", Some("text/html; charset=utf-8")), Shape::Html));
        assert!(matches!(classify(b"\x89PNG\r\n", Some("image/png")), Shape::Other(_)));
        assert!(matches!(classify(br#"{"posts": []}"#, Some("application/json")), Shape::Other(_)));
    }

    #[test]
    fn a_find_takes_its_permanent_address_and_a_one_line_title() {
        let rss = "<rss version=\"2.0\"><channel><title>\n Top\u{7}\tstories </title></channel></rss>";
        let moved = Url::parse("https://b.example/feed/").expect("URL");
        let fetched = Fetched {
            body: rss.as_bytes().to_vec(),
            answer: crate::fetch::Answer { status: 200, moved_to: Some(moved.clone()), fresh_for: None },
            validators: Default::default(),
            content_type: None,
            final_url: Some(moved.clone()),
        };
        let asked =
            Candidate { url: Url::parse("https://b.example/feed").expect("URL"), via: Via::CommonPath, title: None };
        let f = found(&fetched, asked.clone()).expect("a feed");
        assert_eq!((f.title.as_str(), &f.url, f.items), ("Top stories", &moved, 0));
        let page = Fetched { body: b"<!doctype html><p>x".to_vec(), ..fetched };
        assert_eq!(found(&page, asked).expect_err("a page"), "an HTML page, not a feed or a sitemap");
    }
}
