//! Bytes to the feed-rs model: RSS 0.9x/1.0/2.0, Atom and JSON Feed (and sitemaps, `sitemap`, and
//! listing pages read with selectors, `page`), with errors a person can act on.

mod decode;
pub mod page;
mod shape;
pub mod sitemap;
pub mod skim;

pub use decode::{charset_of, to_utf8};
use feed_rs::model::Feed;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("got an HTML page, not a feed; the feed URL may have moved or need a different path")]
    HtmlPage,
    #[error("empty response body")]
    Empty,
    #[error("not a feed: {0}")]
    Invalid(String),
    #[error("document refused: {0}")]
    TooComplex(String),
    #[error("not a sitemap: {0}")]
    NotSitemap(String),
    #[error("the page has no element matching `item` selector {0:?}")]
    NoItems(String),
    #[error("{matched} element(s) match `item` selector {item:?}, but none links to an article (http or https)")]
    NoLinks { matched: usize, item: String },
    #[error("`select.{key}` {css:?} is not a CSS selector")]
    Selector { key: &'static str, css: String },
}

/// Parses one feed document. A parser is built per call because feed-rs parsers are not `Send`.
/// Items without an id get an empty one here, so that `normalize` (not feed-rs, whose fallback
/// can be a random UUID) decides their identity.
/// A feed of `entries` and nothing else: what a sitemap or a listing page reads as, so the rest
/// of the pipeline takes it like any feed.
pub fn feed_of(entries: Vec<feed_rs::model::Entry>) -> Feed {
    Feed {
        feed_type: feed_rs::model::FeedType::RSS2,
        id: String::new(),
        title: None,
        updated: None,
        authors: Vec::new(),
        description: None,
        links: Vec::new(),
        categories: Vec::new(),
        contributors: Vec::new(),
        generator: None,
        icon: None,
        language: None,
        logo: None,
        published: None,
        rating: None,
        rights: None,
        ttl: None,
        people: Vec::new(),
        entries,
    }
}

/// An item's link to its article, as feed-rs models one.
pub fn link_of(href: String) -> feed_rs::model::Link {
    feed_rs::model::Link { href, target: None, rel: None, media_type: None, href_lang: None, title: None, length: None }
}

/// An image an item carries, as feed-rs models one (an enclosure once normalized).
pub fn image_of(url: url::Url) -> feed_rs::model::MediaContent {
    feed_rs::model::MediaContent {
        url: Some(url),
        content_type: None,
        height: None,
        width: None,
        duration: None,
        size: None,
        rating: None,
    }
}

pub fn parse_feed(body: &[u8]) -> Result<Feed, ParseError> {
    parse_document(body, None).map(|p| p.feed)
}

/// A parsed document, and whether decoding had to replace invalid bytes.
#[derive(Debug)]
pub struct Parsed {
    pub feed: Feed,
    pub replaced_bytes: bool,
}

/// Parses a document whose HTTP `charset` (if any) is `charset`.
pub fn parse_document(body: &[u8], charset: Option<&'static encoding_rs::Encoding>) -> Result<Parsed, ParseError> {
    let doc = prepare(body, charset)?;
    doc.parse().map(|feed| Parsed { feed, replaced_bytes: doc.replaced_bytes })
}

/// A document decoded to UTF-8 and refused early if it is neither XML nor JSON or built to hurt
/// a parser: ready to parse whole, or (a feed the skim knows) without some of its items.
#[derive(Debug)]
pub struct Prepared<'a> {
    text: std::borrow::Cow<'a, [u8]>,
    /// Where the document starts after a byte-order mark and white space.
    start: usize,
    pub replaced_bytes: bool,
}

pub fn prepare<'a>(
    body: &'a [u8],
    charset: Option<&'static encoding_rs::Encoding>,
) -> Result<Prepared<'a>, ParseError> {
    let (text, replaced_bytes) = decode::to_utf8(body, charset);
    let doc = skip_bom_and_space(&text);
    let start = text.len() - doc.len();
    if doc.is_empty() {
        return Err(ParseError::Empty);
    }
    if !matches!(doc[0], b'<' | b'{') {
        return Err(ParseError::Invalid(format!(
            "the body is neither XML nor JSON (it starts with {})",
            describe_start(doc)
        )));
    }
    shape::check(doc)?;
    Ok(Prepared { text, start, replaced_bytes })
}

impl Prepared<'_> {
    /// The document as parsed: UTF-8, from its first `<` or `{`.
    pub fn bytes(&self) -> &[u8] {
        self.text.get(self.start..).unwrap_or_default()
    }

    pub fn parse(&self) -> Result<Feed, ParseError> {
        parse_repaired(self.bytes())
    }

    /// Where a feed's items are (`skim`).
    pub fn skim(&self) -> Option<skim::Skim> {
        skim::skim(self.bytes())
    }

    /// The document parsed without the items of `skim` that `drop` names.
    pub fn parse_without(&self, skim: &skim::Skim, drop: impl FnMut(usize) -> bool) -> Result<Feed, ParseError> {
        parse_repaired(&skim.without(self.bytes(), drop))
    }
}

fn parse_repaired(start: &[u8]) -> Result<Feed, ParseError> {
    match parse_once(start) {
        // feed-rs knows RSS only as 0.91, 0.92 and 2.0 with a version attribute, and stops at a
        // DOCTYPE; real feeds also say 0.93, 0.94, 2.01 or nothing. Retry once, repaired.
        Err(first) => match repair_root(start) {
            Some(fixed) => parse_once(&fixed).map_err(|_| first),
            None => Err(first),
        },
        ok => ok,
    }
    .map_err(|e| if looks_like_html(start) { ParseError::HtmlPage } else { e })
}

fn parse_once(doc: &[u8]) -> Result<Feed, ParseError> {
    let parser = feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build();
    // The XML layer has panicked on some encodings; a hostile document must cost an error, not a worker.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(doc)))
        .map_err(|_| ParseError::Invalid("the feed parser crashed on this document".into()))?
        .map_err(|e| ParseError::Invalid(e.to_string()))
}

/// Drops a DOCTYPE without internal subset, and gives an `<rss>` root an RSS 2.0 version when
/// it has none or one feed-rs does not know. Returns None when there is nothing to repair.
fn repair_root(doc: &[u8]) -> Option<Vec<u8>> {
    let mut out = doc.to_vec();
    let mut changed = false;
    if let Some(at) = find(&out, b"<!DOCTYPE") {
        let end = at + out[at..].iter().position(|&c| c == b'>')?;
        if !out[at..end].contains(&b'[') {
            out.drain(at..=end);
            changed = true;
        }
    }
    let root = (0..out.len()).find(|&i| {
        out[i..].starts_with(b"<rss") && out.get(i + 4).is_some_and(|c| c.is_ascii_whitespace() || *c == b'>')
    })?;
    let tag_end = root + out[root..].iter().position(|&c| c == b'>')?;
    let tag = String::from_utf8_lossy(&out[root..tag_end]).into_owned();
    let known = [
        "version=\"2.0\"",
        "version=\"0.91\"",
        "version=\"0.92\"",
        "version='2.0'",
        "version='0.91'",
        "version='0.92'",
    ];
    if !known.iter().any(|k| tag.contains(k)) {
        let without = strip_version(&tag);
        let fixed = format!("<rss version=\"2.0\"{}", &without[4..]);
        out.splice(root..tag_end, fixed.into_bytes());
        changed = true;
    }
    changed.then_some(out)
}

/// The root tag without its `version` attribute, whatever follows `version=` (a quoted value,
/// a bare one, or nothing: the fuzzer found all three).
fn strip_version(tag: &str) -> String {
    let Some(v) = tag.find("version=") else { return tag.to_owned() };
    let rest = &tag[v + "version=".len()..];
    let end = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or(rest.len(), |c| c + 2),
        _ => rest.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(rest.len()),
    };
    format!("{}{}", &tag[..v], &rest[end..])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn skip_bom_and_space(body: &[u8]) -> &[u8] {
    let b = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    &b[first..]
}

/// The first bytes, as text when they are text and as hex when they are not.
fn describe_start(b: &[u8]) -> String {
    let head = &b[..b.len().min(16)];
    match std::str::from_utf8(head) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => format!("{s:?}"),
        _ => head.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" "),
    }
}

fn looks_like_html(b: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&b[..b.len().min(512)]).to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_regressions_are_errors_not_panics() {
        // Inputs found by `cargo fuzz` (fuzz/crashes): the root repair sliced past `version=`.
        let cases: [&[u8]; 4] = [
            include_bytes!("../../fuzz/crashes/repair-root-version-eq-min.bin"),
            include_bytes!("../../fuzz/crashes/repair-root-version-eq-char-boundary.bin"),
            include_bytes!("../../fuzz/crashes/repair-root-version-eq-oob.bin"),
            include_bytes!("../../fuzz/crashes/quickxml-set-encoding-caught.bin"),
        ];
        for input in cases {
            let _ = parse_feed(input);
        }
        assert_eq!(strip_version("<rss version="), "<rss ");
        assert_eq!(strip_version("<rss version=\u{e9}"), "<rss ");
        assert_eq!(strip_version("<rss a=\"1\" version='0.94' b=\"2\""), "<rss a=\"1\"  b=\"2\"");
        assert_eq!(strip_version("<rss version=\"2.01"), "<rss ");
        assert_eq!(strip_version("<rss version=3 x=\"y\""), "<rss  x=\"y\"");
        let feed = parse_feed(b"<rss version=><channel><title>T</title><item><title>I</title></item></channel></rss>");
        assert_eq!(feed.expect("repaired").entries.len(), 1);
    }

    #[test]
    fn html_page_is_named() {
        let err = parse_feed(b"<!DOCTYPE html><html><body>hi</body></html>").expect_err("html");
        assert!(matches!(err, ParseError::HtmlPage));
        assert!(matches!(parse_feed(b"  \n"), Err(ParseError::Empty)));
        assert!(matches!(parse_feed(b"garbage"), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn utf16_documents_are_transcoded() {
        let xml = "<?xml version='1.0' encoding='utf-16'?><rss version=\"2.0\"><channel><title>Ü</title><item><guid>g</guid><title>Straße</title></item></channel></rss>";
        for bom_be in [true, false] {
            let mut bytes: Vec<u8> = if bom_be { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
            for unit in xml.encode_utf16() {
                bytes.extend(if bom_be { unit.to_be_bytes() } else { unit.to_le_bytes() });
            }
            let feed = parse_feed(&bytes).expect("utf-16 parses");
            assert_eq!(feed.entries[0].title.as_ref().map(|t| t.content.as_str()), Some("Straße"));
        }
        assert_eq!(
            decode::declare_utf8("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>"
        );
    }

    #[test]
    fn unversioned_and_unknown_rss_versions_and_doctypes_parse() {
        let docs = [
            "<rss><channel><title>t</title><item><title>a</title></item></channel></rss>",
            "<rss version=\"0.94\"><channel><title>t</title><item><title>a</title></item></channel></rss>",
            "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \"http://x/rss-0.91.dtd\">\n<rss version=\"0.91\"><channel><title>t</title><item><title>a</title></item></channel></rss>",
        ];
        for d in docs {
            let feed = parse_feed(d.as_bytes()).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert_eq!(feed.entries.len(), 1, "{d}");
        }
    }

    #[test]
    fn missing_guid_gets_empty_id_not_random() {
        let xml = br#"<rss version="2.0"><channel><title>t</title><item><title>a</title></item></channel></rss>"#;
        let feed = parse_feed(xml).expect("parses");
        assert_eq!(feed.entries[0].id, "");
    }
}
