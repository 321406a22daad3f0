//! Link resolution and canonical URLs: absolute, http(s) only, no fragment, no tracking parameters.

use url::Url;

/// Query parameters that identify a campaign or a click, never the article. Documented in the README.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wt_mc",
    "ref_src",
    "cmpid",
    "__twitter_impression",
];

fn is_tracking(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_") || n.starts_with("pk_") || TRACKING_PARAMS.contains(&n.as_str())
}

/// Resolves `href` against `base` and keeps it only if it is a web link (http/https).
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
    matches!(url.scheme(), "http" | "https").then_some(url)
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

#[cfg(test)]
mod tests {
    use super::*;

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
