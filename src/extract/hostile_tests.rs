//! Hostile and malformed pages: the extractor never panics, and its work stays bounded.

use super::*;
use std::time::{Duration, Instant};

fn timed(html: &[u8]) -> (Result<Article, ExtractError>, Duration) {
    let started = Instant::now();
    let r = article(html, None, None);
    (r, started.elapsed())
}

#[test]
fn too_large_is_refused_before_parsing() {
    let page = vec![b'a'; 50 * 1024 * 1024];
    let (r, took) = timed(&page);
    assert!(matches!(r, Err(ExtractError::TooLarge(n)) if n == page.len()), "{r:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn empty_page_is_an_error() {
    assert!(matches!(article(b"  \n ", None, None), Err(ExtractError::Empty)));
}

#[test]
fn hundred_thousand_nested_divs() {
    let mut page = String::from("<html><body>");
    page.push_str(&"<div>".repeat(100_000));
    page.push_str("<p>Deep text.</p>");
    page.push_str(&"</div>".repeat(100_000));
    // A thread with the default stack: recursion over the depth would overflow it.
    let (r, took) = timed(page.as_bytes());
    assert!(matches!(r, Err(ExtractError::TooDeep(d)) if d >= 100_000), "{r:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn deep_but_plausible_nesting_is_extracted() {
    let mut page = String::from("<html><body>");
    page.push_str(&"<div><span>".repeat(1_000));
    page.push_str("<p>Deep text, still an article.</p>");
    page.push_str(&"</span></div>".repeat(1_000));
    // A thread with the default stack: recursion over the depth would overflow it.
    let run = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(move || timed(page.as_bytes()));
    let (r, took) = run.expect("spawns").join().expect("no panic, no overflow");
    assert!(r.is_ok(), "{r:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn binary_bytes_as_html() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let (r, took) = timed(&bytes);
    assert!(r.is_ok() || matches!(r, Err(ExtractError::Empty)), "{r:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn hostile_json_ld_is_cleaned_or_ignored() {
    let page = "<html><head><script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\
        \"headline\":\"Head\\u0000line\\u0007 with\\u001b controls\",\
        \"image\":\"javascript:alert(1)\",\"author\":{\"name\":\"<script>alert(1)<\\/script>\"},\
        \"datePublished\":\"not a date\"}</script></head><body><p>Body.</p></body></html>";
    let a = article(page.as_bytes(), None, None).expect("extracts");
    assert_eq!(a.title.as_deref(), Some("Head line with controls"));
    assert_eq!(a.image, None, "javascript: URLs are not images");
    assert_eq!(a.published, None);
    // A name is plain text: markup in it is dropped (a script's content with it), which leaves none.
    assert!(a.byline.is_empty(), "{:?}", a.byline);
}

#[test]
fn broken_and_huge_json_ld_is_skipped() {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let huge = format!("{{\"@type\":\"NewsArticle\",\"headline\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let graph: String = (0..5000).map(|i| format!("{{\"@type\":\"Thing\",\"name\":\"{i}\"}},")).collect();
    let many = format!("{{\"@graph\":[{graph}{{\"@type\":\"NewsArticle\",\"headline\":\"late\"}}]}}");
    for script in ["{not json", "</script><script>alert(1)</script>", nested.as_str(), huge.as_str(), many.as_str()] {
        let page = format!("<html><head><title>T</title><script type=\"application/ld+json\">{script}</script></head><body><h1>Visible</h1><p>Body.</p></body></html>");
        let (r, took) = timed(page.as_bytes());
        let a = r.expect("extracts");
        assert_ne!(a.sources.get("title"), Some(&Source::JsonLd), "{}", &script[..script.len().min(40)]);
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}

#[test]
fn charset_from_bom_meta_http_equiv_header_or_utf8() {
    let latin =
        b"<html><head><meta charset=\"iso-8859-1\"><title>Caf\xe9</title></head><body><h1>Caf\xe9</h1></body></html>";
    assert_eq!(article(latin, None, None).expect("ok").title.as_deref(), Some("Café"));
    let equiv =
        b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><h1>\x93Quoted\x94</h1>";
    assert_eq!(article(equiv, None, None).expect("ok").title.as_deref(), Some("\u{201c}Quoted\u{201d}"));
    let header = b"<h1>Caf\xe9</h1>";
    assert_eq!(article(header, None, Some("ISO-8859-1")).expect("ok").title.as_deref(), Some("Café"));
    assert_eq!(article(header, None, None).expect("ok").title.as_deref(), Some("Caf\u{fffd}"));
    let mut bom = vec![0xff, 0xfe];
    bom.extend("<h1>Grüße</h1>".encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(article(&bom, None, Some("iso-8859-1")).expect("ok").title.as_deref(), Some("Grüße"));
    // The page's own declaration beats the header's.
    assert_eq!(article(latin, None, Some("utf-8")).expect("ok").title.as_deref(), Some("Café"));
}

#[test]
fn unusable_image_url_leaves_the_slot_to_the_next_rule() {
    let base = Url::parse("https://news.example/a/b").expect("static URL");
    let page = b"<html><head><meta property=\"og:image\" content=\"javascript:alert(1)\"></head>\
        <body><h1>T</h1><figure><img src=\"/lead.jpg\"></figure></body></html>";
    let a = article(page, Some(&base), None).expect("extracts");
    assert_eq!(a.image.map(|i| i.url).as_deref(), Some("https://news.example/lead.jpg"));
    assert_eq!(a.sources.get("image"), Some(&Source::Selector));
}
