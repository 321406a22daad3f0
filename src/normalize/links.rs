//! Link resolution and canonical URLs: absolute, http(s) only, no fragment, no tracking parameters.

use url::Url;

/// Query parameters that identify a campaign or a click, never the article. Documented in the
/// README; every `utm_*` and `pk_*` parameter is dropped as well.
#[rustfmt::skip]
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "_ga", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wt_mc", "ref", "ref_src",
    "ref_url", "cmpid", "ncid", "s_cid", "at_medium", "at_campaign", "__twitter_impression",
];

/// Query parameters that select an AMP rendering of the same article.
const AMP_PARAMS: &[&str] = &["amp", "outputtype", "amp_js_v"];

fn is_tracking(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_") || n.starts_with("pk_") || TRACKING_PARAMS.contains(&n.as_str())
}

/// Resolves `href` against `base` and keeps it only if it is a web link (http/https), or a local
/// file beside a local document (`file_beside`: a demo or mirrored site read from disk; a web
/// document never leads to a local file).
pub fn resolve(href: &str, base: Option<&Url>) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = match Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    let local = base.is_some_and(|b| file_beside(&url, b));
    (matches!(url.scheme(), "http" | "https") || local).then_some(url)
}

/// Whether `url` is a file in the directory of the file `doc` or below it: a document read from
/// a file may link to its own pages (a local newsroom's articles), never to the rest of the disk.
/// Dot segments are resolved by the URL parser, so `../` cannot climb out.
pub fn file_beside(url: &Url, doc: &Url) -> bool {
    let dir = &doc.path()[..doc.path().rfind('/').map_or(0, |i| i + 1)];
    url.scheme() == "file" && doc.scheme() == "file" && url.host() == doc.host() && url.path().starts_with(dir)
}

/// The form of a link used for identity: tracking parameters and fragment removed. Scheme, host
/// case and default ports are already normalized by the URL parser.
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> =
            u.query_pairs().filter(|(k, _)| !is_tracking(k)).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    u
}

/// The form of a link used to recognise the same article anywhere: no scheme, no `www.`/`m.`/
/// `amp.` host prefix, no default port, fragment, tracking or AMP parameters, no AMP path
/// variant or trailing slash, remaining parameters sorted. `None` for a site's home page,
/// which identifies no article.
pub fn story_url(url: &Url) -> Option<String> {
    let c = canonical(url);
    let host = c.host_str()?.to_ascii_lowercase();
    let host = ["www.", "m.", "amp."].iter().find_map(|p| host.strip_prefix(p)).unwrap_or(&host).to_owned();
    let mut path = c.path().to_owned();
    if let Some(stem) = path.strip_suffix(".amp.html") {
        path = format!("{stem}.html");
    }
    for suffix in ["/amp/", "/amp"] {
        if let Some(stem) = path.strip_suffix(suffix) {
            path = stem.to_owned();
        }
    }
    let path = path.trim_end_matches('/');
    let mut query: Vec<(String, String)> = c
        .query_pairs()
        .filter(|(k, _)| !AMP_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if path.is_empty() && query.is_empty() {
        return None;
    }
    query.sort();
    let port = c.port().map(|p| format!(":{p}")).unwrap_or_default();
    let q: Vec<String> = query.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect();
    let sep = if q.is_empty() { "" } else { "?" };
    Some(format!("{host}{port}{path}{sep}{}", q.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_document_links_to_local_files() {
        let web = Url::parse("https://news.example/feed.xml").expect("url");
        let local = Url::parse("file:///srv/demo/feed.xml").expect("url");
        assert_eq!(resolve("a/1.html", Some(&local)).map(String::from).as_deref(), Some("file:///srv/demo/a/1.html"));
        assert_eq!(resolve("a/1.html", Some(&web)).map(String::from).as_deref(), Some("https://news.example/a/1.html"));
        assert_eq!(resolve("file:///etc/passwd", Some(&web)), None, "a web feed never leads to a local file");
        assert_eq!(resolve("file:///etc/passwd", None), None);
        assert_eq!(resolve("file:///etc/passwd", Some(&local)), None, "only files beside the document");
        assert_eq!(resolve("../../etc/passwd", Some(&local)), None);
        assert_eq!(resolve("javascript:alert(1)", Some(&local)), None);
    }

    #[test]
    fn canonical_table() {
        let cases = [
            ("HTTPS://News.Example:443/a?utm_source=x&id=7#top", "https://news.example/a?id=7"),
            ("http://news.example:80/a?fbclid=abc", "http://news.example/a"),
            ("https://news.example/a?b=2&a=1&gclid=z", "https://news.example/a?b=2&a=1"),
            ("https://news.example/a", "https://news.example/a"),
        ];
        for (input, want) in cases {
            let got = canonical(&Url::parse(input).expect("url"));
            assert_eq!(got.as_str(), want, "{input}");
        }
    }

    #[test]
    fn story_url_table() {
        let same = [
            "https://www.outlet1.example/news/0/budget-vote-123",
            "http://WWW.Outlet1.example/news/0/budget-vote-123#comments",
            "https://outlet1.example/news/0/budget-vote-123/?utm_source=rss&utm_medium=feed",
            "https://outlet1.example:443/news/0/budget-vote-123?fbclid=IwAR1&ref=outlet7",
            "https://m.outlet1.example/news/0/budget-vote-123/amp/",
            "https://amp.outlet1.example/news/0/budget-vote-123?amp=1",
            "https://outlet1.example/news/0/budget-vote-123?gclid=x&utm_content=y",
        ];
        let want = "outlet1.example/news/0/budget-vote-123";
        for u in same {
            assert_eq!(story_url(&Url::parse(u).expect("url")).as_deref(), Some(want), "{u}");
        }
        let amp_html = Url::parse("https://news.example/a/story.amp.html").expect("url");
        assert_eq!(story_url(&amp_html).as_deref(), Some("news.example/a/story.html"));
        let q = Url::parse("https://news.example/item?b=2&id=7&a=1").expect("url");
        assert_eq!(story_url(&q).as_deref(), Some("news.example/item?a=1&b=2&id=7"));
        assert_eq!(
            story_url(&Url::parse("https://www.news.example/").expect("url")),
            None,
            "home pages identify nothing"
        );
        let other_port = Url::parse("http://news.example:8080/a").expect("url");
        assert_eq!(story_url(&other_port).as_deref(), Some("news.example:8080/a"));
    }

    #[test]
    fn resolution() {
        let base = Url::parse("https://news.example/press/").expect("url");
        assert_eq!(resolve("item-1", Some(&base)).map(String::from), Some("https://news.example/press/item-1".into()));
        assert_eq!(resolve("/x", Some(&base)).map(String::from), Some("https://news.example/x".into()));
        assert_eq!(resolve("javascript:alert(1)", Some(&base)), None);
        assert_eq!(resolve("data:text/html,hi", Some(&base)), None);
        assert_eq!(resolve("/x", None), None);
        assert_eq!(resolve("  ", Some(&base)), None);
    }
}
