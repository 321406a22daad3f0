use super::*;
use crate::parse::parse_feed;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").expect("date").with_timezone(&Utc)
}

fn run(xml: &str) -> Vec<Entry> {
    let feed = parse_feed(xml.as_bytes()).expect("parses");
    let source = SourceId::parse("src").expect("slug");
    let url = Url::parse("https://news.example/feeds/rss.xml").expect("url");
    normalize_feed(&feed, &FeedContext { source: &source, fetch_url: Some(&url), now: now() })
}

fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://news.example/</link>{items}</channel></rss>"#
    )
}

#[test]
fn keys_prefer_guid_then_link_then_content() {
    let e = run(&rss(r#"
        <item><guid>g-1</guid><title>A</title><link>https://news.example/a</link></item>
        <item><title>B</title><link>https://news.example/b?utm_source=x#frag</link></item>
        <item><title>C</title><description>body</description></item>"#));
    assert_eq!(e.len(), 3);
    assert_eq!((e[0].identity_kind.clone(), e[0].identity.as_str()), (IdentityKind::Guid, "g-1"));
    assert_eq!((e[1].identity_kind.clone(), e[1].identity.as_str()), (IdentityKind::Link, "https://news.example/b"));
    assert_eq!(e[2].identity_kind, IdentityKind::ContentHash);
    // Keys are pure functions of the item: a second parse gives the same ones.
    let again = run(&rss(r#"<item><title>C</title><description>body</description></item>"#));
    assert_eq!(again[0].key, e[2].key);
}

#[test]
fn link_key_survives_title_edit() {
    let a = run(&rss(r#"<item><title>Old</title><link>https://news.example/b</link></item>"#));
    let b = run(&rss(r#"<item><title>New</title><link>https://news.example/b</link></item>"#));
    assert_eq!(a[0].key, b[0].key);
    assert_ne!(a[0].fingerprint, b[0].fingerprint);
}

#[test]
fn duplicate_guids_are_kept_apart() {
    let e = run(&rss(r#"
        <item><guid>same</guid><title>A</title><link>https://news.example/a</link></item>
        <item><guid>same</guid><title>B</title><link>https://news.example/b</link></item>
        <item><guid>same</guid><title>C</title><link>https://news.example/b</link></item>"#));
    assert_eq!(e.len(), 3);
    let keys: std::collections::HashSet<_> = e.iter().map(|x| x.key).collect();
    assert_eq!(keys.len(), 3);
    assert!(e.iter().all(|x| x.identity_kind == IdentityKind::GuidDisambiguated));
}

#[test]
fn links_are_absolute_and_html_is_clean() {
    let e = run(&rss(r#"<item><guid>g</guid><title>T</title><link>/press/1</link>
        <description>&lt;p onmouseover="x()"&gt;Hi &lt;a href="/more"&gt;more&lt;/a&gt;&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</description></item>"#));
    assert_eq!(e[0].link.as_deref(), Some("https://news.example/press/1"));
    let s = e[0].summary.as_deref().expect("summary");
    assert!(s.contains(r#"href="https://news.example/more""#), "{s}");
    assert!(!s.contains("script") && !s.contains("onmouseover"), "{s}");
}

#[test]
fn dates_are_repaired() {
    let e = run(&rss(r#"
        <item><guid>future</guid><title>F</title><pubDate>Thu, 27 Nov 2031 19:45:00 +0000</pubDate></item>
        <item><guid>none</guid><title>N</title></item>
        <item><guid>ok</guid><title>O</title><pubDate>Wed, 25 Nov 2026 10:00:00 +0000</pubDate></item>"#));
    assert_eq!((e[0].published, e[0].date_repaired), (now(), true));
    assert_eq!((e[1].published, e[1].date_repaired), (now(), true));
    assert!(!e[2].date_repaired);
    assert_eq!(e[2].published.to_rfc3339(), "2026-11-25T10:00:00+00:00");
}

#[test]
fn controls_are_removed_and_html_titles_flattened() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>f</id><updated>2026-11-01T00:00:00Z</updated>
        <entry><id>e1</id><title type="html">Fish &amp;amp; &lt;em&gt;chips&lt;/em&gt;&#x7;</title><updated>2026-11-01T00:00:00Z</updated></entry></feed>"#;
    let e = run(xml);
    assert_eq!(e[0].title, "Fish & chips");
}

#[test]
fn whitespace_only_edit_keeps_fingerprint() {
    let a = run(&rss(r#"<item><guid>g</guid><title>A  title</title><description>one two</description></item>"#));
    let b = run(&rss(r#"<item><guid>g</guid><title>A title </title><description>one
        two</description></item>"#));
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
}

#[test]
fn fingerprints_never_change_across_versions_and_body_words_are_the_compared_text() {
    let feed = r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
        <channel><title>T</title><link>https://news.example/</link>
        <item><guid>a</guid><title>Ceasefire, Agreed!</title><description>Short &lt;b&gt;teaser&lt;/b&gt; text</description></item>
        <item><guid>b</guid><title>T2</title><description>A much longer summary than the content here</description>
          <content:encoded>&lt;p&gt;Tiny body&lt;/p&gt;</content:encoded></item>
        </channel></rss>"#;
    let parsed = parse_feed(feed.as_bytes()).expect("parses");
    let source = SourceId::parse("src").expect("slug");
    let ctx = FeedContext { source: &source, fetch_url: None, now: now() };
    let items = normalize_items(&parsed, &ctx, |_| None::<()>);
    let fresh: Vec<(Entry, Vec<String>)> =
        items.into_iter().filter_map(|(_, i)| if let Item::Fresh(e, w) = i { Some((e, w)) } else { None }).collect();
    assert_eq!(fresh.len(), 2);
    for (e, words) in &fresh {
        assert_eq!(*words, crate::text::words(&crate::stories::body_text(e)), "{}", e.identity);
    }
    assert_eq!(fresh[1].1, ["a", "much", "longer", "summary", "than", "the", "content", "here"]);
    // Stored fingerprints are compared with new ones: a change here would mark every stored
    // item edited. Reference: SHA-256 over the length-prefixed (u64 BE) word strings of title,
    // summary text and content text, first 16 bytes (computed independently, in Python).
    assert_eq!(fresh[0].0.fingerprint, "b718f5f669708ac6ac2e8f39f285fca9");
}

#[test]
fn each_sanitization_uses_its_own_base_even_on_one_thread() {
    let base = Url::parse("https://a.example/news/").expect("url");
    let html = r#"<p><a href="x.html">x</a><script>1</script></p>"#;
    let with = html::sanitize_html(html, Some(&base));
    let without = html::sanitize_html(html, None);
    let other = html::sanitize_html(html, Some(&Url::parse("https://b.example/").expect("url")));
    assert!(with.contains(r#"href="https://a.example/news/x.html""#), "{with}");
    assert!(!without.contains("href") && !without.contains("script"), "relative links without a base go: {without}");
    assert!(other.contains(r#"href="https://b.example/x.html""#), "{other}");
    assert_eq!(html::sanitize_html("\u{1}<b>ok</b>\u{85} ", None), "<b>ok</b>");
}

#[test]
fn file_links_are_kept_only_from_documents_read_from_files() {
    let xml = rss(r#"<item><title>Local</title><link>file:///srv/demo/newsroom/a.html</link></item>"#);
    let feed = parse_feed(xml.as_bytes()).expect("parses");
    let source = SourceId::parse("src").expect("slug");
    let file = Url::parse("file:///srv/demo/newsroom/index.html").expect("url");
    let local = normalize_feed(&feed, &FeedContext { source: &source, fetch_url: Some(&file), now: now() });
    assert_eq!(local[0].link.as_deref(), Some("file:///srv/demo/newsroom/a.html"));
    assert_eq!(run(&xml)[0].link, None, "a feed from the web links no files");
    let elsewhere = Url::parse("file:///srv/other/index.html").expect("url");
    let far = normalize_feed(&feed, &FeedContext { source: &source, fetch_url: Some(&elsewhere), now: now() });
    assert_eq!(far[0].link, None, "nor does a file outside the document's directory");
    let doc = Url::parse("file:///srv/demo/index.html").expect("url");
    for (link, beside) in [
        ("file:///srv/demo/a.html", true),
        ("file:///srv/demo/newsroom/b.html", true),
        ("file:///srv/demo/../secret", false),
        ("file:///srv/demo/%2e%2e/secret", false),
        ("file:///srv/demolition/a.html", false),
        ("https://srv.example/demo/a.html", false),
    ] {
        assert_eq!(links::file_beside(&Url::parse(link).expect("url"), &doc), beside, "{link}");
    }
}
