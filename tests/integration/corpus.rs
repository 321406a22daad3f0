//! Robustness: ~400 third-party test feeds (tests/fixtures/corpus, see its README for origin and
//! licences) go through parse + normalize without a panic, and well-formed feeds parse.

use crate::helpers::fixture;
use newsriver::domain::SourceId;
use newsriver::normalize::{normalize_feed, FeedContext};
use newsriver::parse::parse_feed;

/// Well-formed feeds we reject, each with the reason. A change here is news.
const KNOWN_UNSUPPORTED: &[&str] = &[
    // feed-rs rejects an Atom title with `type=""`.
    "feedparser/tests/wellformed/atom10/entry_title_type_empty-no-crash.xml",
    // feed-rs rejects atom:content with `src` that also has child content.
    "w3c-feedvalidator/testcases/atom/4.1.3.2/content-src-extra-child.xml",
];

/// `<rss>` documents without a `<channel>` carry no items a reader could see; rejecting them
/// with a clear error is correct.
fn rss_without_channel(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).replace('\0', "");
    text.contains("<rss") && !text.contains("<channel")
}

#[test]
fn corpus_parses_and_normalizes_without_panics() {
    let manifest = std::fs::read_to_string(fixture("corpus/MANIFEST.tsv")).expect("manifest");
    let source = SourceId::parse("corpus").expect("slug");
    let base = url::Url::parse("http://www.feedvalidator.org/testcases/").expect("url");
    let (mut files, mut parsed, mut entries) = (0, 0, 0);
    let mut rejected_feeds = Vec::new();
    let mut panics = Vec::new();
    for line in manifest.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(rel), Some(_kind), Some(expect)) = (cols.next(), cols.next(), cols.next()) else { continue };
        let bytes = std::fs::read(fixture(&format!("corpus/{rel}"))).unwrap_or_else(|e| panic!("{rel}: {e}"));
        files += 1;
        let outcome = std::panic::catch_unwind(|| {
            let feed = parse_feed(&bytes).ok()?;
            let ctx = FeedContext { source: &source, fetch_url: Some(&base), now: chrono::Utc::now() };
            Some(normalize_feed(&feed, &ctx).len())
        });
        match outcome {
            Err(_) => panics.push(rel.to_owned()),
            Ok(Some(n)) => {
                parsed += 1;
                entries += n;
            }
            Ok(None) if expect == "feed" && !KNOWN_UNSUPPORTED.contains(&rel) && !rss_without_channel(&bytes) => {
                rejected_feeds.push(rel.to_owned())
            }
            Ok(None) => {}
        }
    }
    assert!(panics.is_empty(), "panicked on: {panics:?}");
    assert!(files > 300, "{files} corpus files");
    eprintln!(
        "corpus: {files} files, {parsed} parsed, {entries} entries, {} well-formed feeds rejected",
        rejected_feeds.len()
    );
    assert!(rejected_feeds.is_empty(), "well-formed feeds rejected: {rejected_feeds:#?}");
}
