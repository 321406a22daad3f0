//! Bytes to the feed-rs model: RSS 0.9x/1.0/2.0, Atom and JSON Feed, with errors a person can act on.

use feed_rs::model::Feed;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("got an HTML page, not a feed; the feed URL may have moved or need a different path")]
    HtmlPage,
    #[error("empty response body")]
    Empty,
    #[error("not a feed: {0}")]
    Invalid(String),
}

/// Parses one feed document. A parser is built per call because feed-rs parsers are not `Send`.
/// Items without an id get an empty one here, so that `normalize` (not feed-rs, whose fallback
/// can be a random UUID) decides their identity.
pub fn parse_feed(body: &[u8]) -> Result<Feed, ParseError> {
    let start = skip_bom_and_space(body);
    if start.is_empty() {
        return Err(ParseError::Empty);
    }
    let parser = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build();
    parser.parse(start).map_err(|e| {
        if looks_like_html(start) {
            ParseError::HtmlPage
        } else {
            ParseError::Invalid(e.to_string())
        }
    })
}

fn skip_bom_and_space(body: &[u8]) -> &[u8] {
    let b = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    &b[first..]
}

fn looks_like_html(b: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&b[..b.len().min(512)]).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_page_is_named() {
        let err = parse_feed(b"<!DOCTYPE html><html><body>hi</body></html>").expect_err("html");
        assert!(matches!(err, ParseError::HtmlPage));
        assert!(matches!(parse_feed(b"  \n"), Err(ParseError::Empty)));
        assert!(matches!(parse_feed(b"garbage"), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn missing_guid_gets_empty_id_not_random() {
        let xml = br#"<rss version="2.0"><channel><title>t</title><item><title>a</title></item></channel></rss>"#;
        let feed = parse_feed(xml).expect("parses");
        assert_eq!(feed.entries[0].id, "");
    }
}
