use super::*;
use chrono::TimeZone;

fn news() -> String {
    include_str!("../../tests/fixtures/sitemaps/news.xml").replace("{base}", "https://herald.example")
}

fn urls(doc: &str, max_items: usize) -> (Vec<SitemapUrl>, usize) {
    match parse_sitemap(doc.as_bytes(), None, max_items).expect("parses").0 {
        Sitemap::Urls { urls, dropped } => (urls, dropped),
        Sitemap::Index(_) => panic!("not an index"),
    }
}

#[test]
fn news_sitemap_fields() {
    let (urls, dropped) = urls(&news(), 100);
    assert_eq!((urls.len(), dropped), (3, 0));
    let first = &urls[0];
    assert_eq!(first.loc, "https://herald.example/2026/12/01/harbour-reopens?utm_source=sitemap");
    assert_eq!(first.title.as_deref(), Some("Harbour reopens after storm & repairs"));
    assert_eq!(first.published, Some(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()));
    assert_eq!(first.lastmod, Some(Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap()));
    assert_eq!((first.publication.as_deref(), first.language.as_deref()), (Some("Coast Herald"), Some("en")));
    assert_eq!(first.images, vec!["https://herald.example/img/harbour.jpg".to_owned()]);
    assert_eq!(urls[1].title.as_deref(), Some("Council passes <budget>"));
    assert_eq!(urls[2].published, Some(Utc.with_ymd_and_hms(2026, 11, 30, 17, 45, 0).unwrap()));
    assert_eq!(urls[2].lastmod, Some(Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()));
}

#[test]
fn plain_sitemaps_indexes_and_caps() {
    let plain = "<urlset><url><loc>https://a.example/x</loc><lastmod>2026-01-02</lastmod></url>\
                 <url><loc> </loc></url><url><loc>https://a.example/y</loc></url></urlset>";
    let (got, dropped) = urls(plain, 1);
    assert_eq!((got.len(), dropped), (1, 1), "an empty <loc> is no URL; the third is over the cap");
    assert_eq!(got[0].title, None);
    let index = "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>\
                 <sitemap><loc>https://a.example/s1.xml</loc></sitemap><sitemap><loc>/s2.xml</loc></sitemap></sitemapindex>";
    let parsed = parse_sitemap(index.as_bytes(), None, 10).expect("parses").0;
    assert_eq!(parsed, Sitemap::Index(vec!["https://a.example/s1.xml".into(), "/s2.xml".into()]));
}

#[test]
fn hostile_and_wrong_documents_are_errors() {
    let deep = format!("<urlset>{}</urlset>", "<a>".repeat(300));
    let cases: Vec<(&[u8], &str)> = vec![
        (b"", "empty"),
        (b"{\"json\": 1}", "not a sitemap"),
        (b"<rss version=\"2.0\"><channel/></rss>", "root element is <rss>"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "HTML page"),
        (deep.as_bytes(), "nested deeper"),
        (b"<urlset><url><loc>x</lo></url></urlset>", "not a sitemap"),
    ];
    for (doc, why) in cases {
        let err = parse_sitemap(doc, None, 10).expect_err(why).to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    let latin1 = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><urlset><url><loc>https://a.example/\xe9</loc>\
                   <news:news><news:title>Caf\xe9</news:title></news:news></url></urlset>";
    let (got, _) = match parse_sitemap(latin1, None, 10).expect("parses").0 {
        Sitemap::Urls { urls, dropped } => (urls, dropped),
        Sitemap::Index(_) => panic!("not an index"),
    };
    assert_eq!(got[0].title.as_deref(), Some("Café"));
}

#[test]
fn feed_model_carries_what_normalize_reads() {
    let (urls, _) = urls(&news(), 100);
    let feed = to_feed(&urls);
    assert_eq!(feed.entries.len(), 3);
    let e = &feed.entries[0];
    assert_eq!(e.id, "", "no GUID: the canonical link is the identity");
    assert_eq!(e.title.as_ref().map(|t| t.content.as_str()), Some("Harbour reopens after storm & repairs"));
    assert_eq!(e.links[0].href, urls[0].loc);
    assert_eq!((e.published, e.updated), (urls[0].published, urls[0].lastmod));
    assert_eq!(
        e.media[0].content[0].url.as_ref().map(url::Url::as_str),
        Some("https://herald.example/img/harbour.jpg")
    );
    let bare = to_feed(&[SitemapUrl { loc: "https://a.example/x".into(), ..Default::default() }]);
    assert!(bare.entries[0].title.is_none() && bare.entries[0].media.is_empty());
    assert_eq!(w3c_date("2026-12-01T10:00Z"), Some(Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()));
    assert_eq!(w3c_date("yesterday"), None);
}
