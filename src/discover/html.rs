//! What a page's HTML advertises: its `<link rel="alternate">` feeds, resolved against the page
//! and its `<base href>` (pure).

use url::Url;

/// Feed types a `rel="alternate"` link may name (RSS 1.0 as `rdf+xml` too: old sites say so).
const FEED_TYPES: [&str; 5] =
    ["application/rss+xml", "application/atom+xml", "application/feed+json", "application/json", "application/rdf+xml"];

/// Advertised feeds kept from one page; a page listing more is a link farm, not a newsroom.
const MAX_LINKS: usize = 20;

/// Only the head is parsed (the links live there), and at most this much of a page without one.
const MAX_HEAD_BYTES: usize = 1 << 20;

/// One advertised feed: its absolute URL and the type and title the link gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternate {
    pub url: Url,
    pub mime: String,
    pub title: Option<String>,
}

/// The feeds `html` advertises, in document order without repeats; `page` is the address it
/// came from (after redirects).
pub fn alternates(html: &str, page: &Url) -> Vec<Alternate> {
    let doc = dom_query::Document::from(head(html));
    let base = doc
        .select("base[href]")
        .iter()
        .next()
        .and_then(|b| b.attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let mut out: Vec<Alternate> = Vec::new();
    for link in doc.select("link[rel][href]").iter() {
        let rel = link.attr("rel").unwrap_or_default().to_ascii_lowercase();
        let mime = link.attr("type").unwrap_or_default();
        let mime = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !rel.split_ascii_whitespace().any(|r| r == "alternate") || !FEED_TYPES.contains(&mime.as_str()) {
            continue;
        }
        let Some(url) = link.attr("href").and_then(|h| web_url(&base, &h)) else { continue };
        if out.iter().any(|a| a.url == url) {
            continue;
        }
        let title = link.attr("title").map(|t| super::one_line(&t));
        out.push(Alternate { url, mime, title: title.filter(|t| !t.is_empty()) });
        if out.len() == MAX_LINKS {
            break;
        }
    }
    out
}

/// `href` against `base`, when that gives an http(s) address; the fragment goes (it names a
/// place in a document, not another document).
fn web_url(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href.trim()).ok()?;
    url.set_fragment(None);
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some()).then_some(url)
}

/// The page up to its body, where the head ends; a page without either is cut at a char boundary.
fn head(html: &str) -> &str {
    let cap = html.len().min(MAX_HEAD_BYTES);
    let mut end = (0..=cap).rev().find(|&i| html.is_char_boundary(i)).unwrap_or(0);
    let lower = html[..end].to_ascii_lowercase();
    if let Some(at) = ["</head", "<body"].iter().filter_map(|tag| lower.find(tag)).min() {
        end = at;
    }
    &html[..end]
}

/// Whether a body without a telling Content-Type is an HTML page: a doctype or an `<html>`,
/// `<head>` or `<body>` tag near its start.
pub fn looks_like_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body"].iter().any(|tag| start.contains(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://news.example/section/index.html").expect("static URL")
    }

    fn urls(found: &[Alternate]) -> Vec<&str> {
        found.iter().map(|a| a.url.as_str()).collect()
    }

    #[test]
    fn alternate_feeds_resolve_against_the_page_and_skip_the_rest() {
        let html = r#"<!doctype html><html><head>
            <link rel="alternate" type="application/rss+xml" title=" Top
                stories " href="feed.rss">
            <link rel="Alternate Feed" type="application/atom+xml; charset=utf-8" href="/atom.xml#top">
            <link rel="alternate" type="application/feed+json" href="https://cdn.example/feed.json">
            <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
            <link rel="stylesheet" type="application/rss+xml" href="/not-a-feed">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <link rel="alternate" type="application/rss+xml" href="feed.rss">
            </head><body><link rel="alternate" type="application/rss+xml" href="/in-body"></body></html>"#;
        let found = alternates(html, &page());
        let want =
            ["https://news.example/section/feed.rss", "https://news.example/atom.xml", "https://cdn.example/feed.json"];
        assert_eq!(urls(&found), want);
        assert_eq!(found[0].title.as_deref(), Some("Top stories"));
        assert_eq!(found[1].mime, "application/atom+xml");
        assert_eq!(found[1].title, None);
    }

    #[test]
    fn base_href_changes_where_relative_links_point() {
        let html = r#"<head><base href="https://static.news.example/v2/"><link rel=alternate type=application/rss+xml href=rss.xml></head>"#;
        assert_eq!(urls(&alternates(html, &page())), ["https://static.news.example/v2/rss.xml"]);
        let relative_base =
            r#"<head><base href="/feeds/"><link rel=alternate type=application/json href=all.json></head>"#;
        assert_eq!(urls(&alternates(relative_base, &page())), ["https://news.example/feeds/all.json"]);
    }

    #[test]
    fn odd_pages_give_nothing_and_do_not_fail() {
        assert!(alternates("", &page()).is_empty());
        assert!(alternates("not html at all <<<>>>", &page()).is_empty());
        let farm: String =
            (0..100).map(|i| format!("<link rel=alternate type=application/rss+xml href=/f{i}>")).collect();
        assert_eq!(alternates(&farm, &page()).len(), MAX_LINKS);
        let multibyte = "é".repeat(MAX_HEAD_BYTES);
        assert!(alternates(&multibyte, &page()).is_empty());
    }

    #[test]
    fn html_is_recognised_near_the_start() {
        assert!(looks_like_html(b"\n<!DOCTYPE html><title>x</title>"));
        assert!(looks_like_html(b"<HTML lang=en>"));
        assert!(!looks_like_html(b"<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>"));
        assert!(!looks_like_html(b"{\"version\": \"https://jsonfeed.org/version/1.1\"}"));
    }
}
