//! The source list as files people bring and take away: OPML from any feed reader read into
//! new `[[source]]` tables (`newsriver import`), a page's feed added by discovery
//! (`newsriver add`), and the configured sources written back as OPML
//! (`newsriver export-sources`). Pure, but for `files`, which writes into the include folder.

mod entities;
pub mod files;
mod opml_read;
mod opml_write;
mod pick;
mod plan;
mod toml_out;

pub use opml_read::{read_opml, Opml, OpmlError, OpmlFeed};
pub use opml_write::{sources_opml, SourcesOpml};
pub use pick::{pick, PickError};
pub use plan::{plan, suggest_topics, Existing, NewSource, Plan, SkipReason, Skipped, TopicSuggestion};
pub use toml_out::{source_block, sources_file, topics_toml};

use url::Url;

/// The form of a feed address two lists are compared by: the crate's canonical URL (no
/// fragment, no tracking parameters), without scheme, `www.` or trailing slash, parameters
/// sorted. `http://www.example.org/feed/?utm_source=x` and `https://example.org/feed` are one
/// feed.
pub fn feed_key(url: &Url) -> String {
    let c = crate::normalize::links::canonical(url);
    let host = c.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let port = c.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut query: Vec<(String, String)> = c.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let sep = if query.is_empty() { "" } else { "?" };
    format!("{host}{port}{}{sep}{}", c.path().trim_end_matches('/'), query.join("&"))
}

/// A feed address as OPML files write it, made a URL: trimmed, `feed://` and `feed:https://`
/// (the old feed scheme some readers export) read as the web address they stand for.
pub fn feed_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    let web = match raw.get(..5) {
        Some(s) if s.eq_ignore_ascii_case("feed:") => match raw[5..].strip_prefix("//") {
            Some(rest) if !rest.starts_with("http:") && !rest.starts_with("https:") => format!("http://{rest}"),
            Some(rest) => rest.to_owned(),
            None => raw[5..].to_owned(),
        },
        _ => raw.to_owned(),
    };
    match Url::parse(&web) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(u),
        Ok(u) => Err(format!("not an http(s) URL (scheme {:?})", u.scheme())),
        Err(url::ParseError::RelativeUrlWithoutBase) => Err("not an absolute URL".into()),
        Err(e) => Err(format!("not a URL: {e}")),
    }
}

/// Text as a title or a comment line wants it: one line, no control characters, no runs of
/// spaces.
fn one_line(s: &str) -> String {
    let spaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_feed_under_its_many_spellings_has_one_key() {
        let key = |s: &str| feed_key(&feed_url(s).unwrap_or_else(|e| panic!("{s}: {e}")));
        let want = "example.org/feed";
        for s in [
            "https://example.org/feed",
            "http://www.example.org/feed/",
            "HTTPS://Example.ORG/feed?utm_source=opml#top",
            "feed://example.org/feed",
            "feed:https://example.org/feed",
            "  https://example.org/feed  ",
        ] {
            assert_eq!(key(s), want, "{s}");
        }
        assert_eq!(key("https://example.org/feed?b=2&a=1"), "example.org/feed?a=1&b=2");
        assert_ne!(key("https://example.org:8443/feed"), want);
        assert_ne!(key("https://example.org/feed.xml"), want);
    }

    #[test]
    fn only_web_addresses_are_feeds() {
        for (raw, why) in [
            ("exec:~/bin/weather", "not an http(s) URL"),
            ("ftp://example.org/feed", "not an http(s) URL"),
            ("/feed.xml", "not an absolute URL"),
            ("http://", "not a URL"),
            ("", "not an absolute URL"),
        ] {
            let err = feed_url(raw).expect_err(raw);
            assert!(err.starts_with(why), "{raw}: {err}");
        }
    }
}
