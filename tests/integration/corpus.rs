//! Robustness: the team's ~4,000 third-party test feeds (`../shared/corpus/`, see its README for
//! origin and licences; read there, never copied here) go through parse + normalize without a
//! panic, and the well-formed feeds of a selection (`tests/fixtures/corpus-selection.tsv`) parse.

use crate::helpers::{fixture, shared};
use newsriver::domain::SeenItem;
use newsriver::domain::SourceId;
use newsriver::normalize::{normalize_feed, FeedContext, Item};
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
    let Some(corpus) = shared("corpus") else { return };
    let manifest = std::fs::read_to_string(fixture("corpus-selection.tsv")).expect("selection");
    let source = SourceId::parse("corpus").expect("slug");
    let base = url::Url::parse("http://www.feedvalidator.org/testcases/").expect("url");
    let (mut files, mut parsed, mut entries) = (0, 0, 0);
    let mut rejected_feeds = Vec::new();
    let mut panics = Vec::new();
    for line in manifest.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(rel), Some(_kind), Some(expect)) = (cols.next(), cols.next(), cols.next()) else { continue };
        let bytes = std::fs::read(corpus.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
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

/// Every file of the shared corpus, whatever its kind (feeds, broken feeds, OPML, schemas,
/// expected outputs): parse + normalize may reject it, but never panic.
#[test]
fn every_corpus_file_is_rejected_or_parsed_never_a_panic() {
    let Some(corpus) = shared("corpus") else { return };
    let mut files = Vec::new();
    collect(&corpus, &mut files);
    let source = SourceId::parse("corpus").expect("slug");
    let base = url::Url::parse("http://www.feedvalidator.org/testcases/").expect("url");
    let (mut parsed, mut panics) = (0, Vec::new());
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| {
            let feed = parse_feed(&bytes).ok()?;
            let ctx = FeedContext { source: &source, fetch_url: Some(&base), now: chrono::Utc::now() };
            Some(normalize_feed(&feed, &ctx).len())
        });
        match outcome {
            Err(_) => panics.push(file.display().to_string()),
            Ok(Some(_)) => parsed += 1,
            Ok(None) => {}
        }
    }
    eprintln!("shared corpus: {} files, {parsed} parsed", files.len());
    assert!(files.len() > 3_500, "{} files under {}", files.len(), corpus.display());
    assert!(parsed > 1_500, "only {parsed} of {} files parsed", files.len());
    assert!(panics.is_empty(), "panicked on: {panics:?}");
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Reading a feed's items by their bytes (only the changed ones parsed) reads what parsing the
/// whole document reads, on every corpus file with items a skim finds: the file with its first
/// item gone and a comment put into its last, read with the memory of the file as it was.
#[test]
fn reading_by_bytes_agrees_with_the_whole_document_on_the_corpus() {
    use newsriver::pipeline::items::{read, whole, Memo, Read};
    let Some(corpus) = shared("corpus") else { return };
    let mut files = Vec::new();
    collect(&corpus, &mut files);
    let source = SourceId::parse("corpus").expect("slug");
    let base = url::Url::parse("http://www.feedvalidator.org/testcases/").expect("url");
    let now = "2026-12-01T00:00:00Z".parse().expect("now");
    let ctx = FeedContext { source: &source, fetch_url: Some(&base), now };
    let (mut compared, mut by_bytes, mut recognised) = (0, 0, 0);
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let Some((seen, changed)) = first_reading(&bytes, &ctx) else { continue };
        let memo: Memo<'_> = seen.iter().map(|s| (s.digest, s)).collect();
        let Ok(doc) = newsriver::parse::prepare(&changed, None) else { continue };
        let Ok(reference) = whole(&doc, doc.skim().as_ref(), &ctx, (true, 40), &memo) else { continue };
        let fast = read(&doc, &ctx, (true, 40), &memo).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(view(&fast), view(&reference), "{}", file.display());
        compared += 1;
        by_bytes += usize::from(fast.by_bytes);
        recognised += fast.items.iter().filter(|(_, i)| matches!(i, Item::Known(_))).count();
        fn view(r: &Read<'_>) -> String {
            format!("{:?} {:?}", r.items, r.marks)
        }
    }
    eprintln!("corpus: {compared} documents compared, {by_bytes} read by bytes, {recognised} items recognised");
    assert!(compared > 500 && by_bytes > 100 && recognised > 200, "{compared} / {by_bytes} / {recognised}");
}

/// What a first poll of `bytes` remembers, and the document changed as a next poll may find it;
/// `None` for files without a skim or items.
fn first_reading(bytes: &[u8], ctx: &FeedContext<'_>) -> Option<(Vec<SeenItem>, Vec<u8>)> {
    let doc = newsriver::parse::prepare(bytes, None).ok()?;
    let skim = doc.skim().filter(|s| !s.items.is_empty())?;
    let first = newsriver::pipeline::items::whole(&doc, Some(&skim), ctx, (true, 40), &Default::default()).ok()?;
    let seen = (first.items.iter())
        .filter_map(|(i, item)| {
            let Item::Fresh(e, _) = item else { return None };
            let mark = first.marks[*i];
            mark.digest.map(|digest| SeenItem { digest, key: e.key, url: None, text: None, guid: mark.guid })
        })
        .collect();
    let shorter = skim.without(doc.bytes(), |i| i == 0);
    if skim.items.len() < 2 {
        return Some((seen, shorter));
    }
    // The last item's bytes changed, not what they parse to: a comment before its end tag, or
    // a space inside a JSON item.
    let again = newsriver::parse::prepare(&shorter, None).ok()?;
    let last = again.skim()?.items.last()?.clone();
    let mut changed = again.bytes().to_vec();
    let (at, edit): (usize, &[u8]) = if skim.json {
        (last.start + 1, b" ")
    } else {
        (last.start + changed.get(last.clone())?.windows(2).rposition(|w| w == b"</")?, b"<!-- edited -->")
    };
    changed.splice(at..at, edit.iter().copied());
    Some((seen, changed))
}
