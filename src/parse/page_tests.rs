use super::*;
use chrono::TimeZone;

fn select(item: &str) -> PageSelectors {
    PageSelectors { item: item.into(), ..PageSelectors::default() }
}

fn page_url() -> Url {
    Url::parse("https://gov.example/newsroom/").expect("url")
}

fn read(html: &str, select: &PageSelectors) -> Page {
    parse_page(html.as_bytes(), None, Some(&page_url()), select, 100).unwrap_or_else(|e| panic!("{e}"))
}

fn titles(page: &Page) -> Vec<String> {
    page.feed.entries.iter().map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()).collect()
}

fn links(page: &Page) -> Vec<String> {
    page.feed.entries.iter().map(|e| e.links[0].href.clone()).collect()
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single()
}

const LISTING: &str = r#"<!doctype html><html><head><title>Newsroom | Ministry</title></head><body>
<nav><a href="/">Home</a></nav>
<ul class="releases">
  <li class="release">
    <img class="thumb" data-src="/img/a.jpg" src="">
    <span class="kicker">Press release</span>
    <a class="headline" href="/newsroom/2026/05/budget?utm_source=home#top">  Budget
       passes   second reading </a>
    <span class="when">Issued 03/05/2026 - 14h05</span>
    <p class="teaser">The <b>budget</b> passed.</p>
  </li>
  <li class="release">
    <a class="headline" href="https://gov.example/newsroom/2026/05/ferries">Ferry timetable</a>
    <span class="when">02/05/2026</span>
  </li>
</ul></body></html>"#;

#[test]
fn every_selector_reads_its_field() {
    let select = PageSelectors {
        title: Some(".headline".into()),
        link: Some("a.headline".into()),
        date: Some(".when".into()),
        date_format: Some("%d/%m/%Y - %Hh%M".into()),
        summary: Some(".teaser".into()),
        image: Some("img.thumb".into()),
        ..select("li.release")
    };
    let page = read(LISTING, &select);
    assert_eq!(titles(&page), ["Budget passes second reading", "Ferry timetable"]);
    assert_eq!(
        links(&page),
        ["https://gov.example/newsroom/2026/05/budget?utm_source=home", "https://gov.example/newsroom/2026/05/ferries"]
    );
    let first = &page.feed.entries[0];
    assert_eq!(first.id, "https://gov.example/newsroom/2026/05/budget", "the canonical URL is the identity");
    assert_eq!(first.published, at(2026, 5, 3, 14, 5));
    assert_eq!(first.summary.as_ref().map(|s| s.content.as_str()), Some("The <b>budget</b> passed."));
    let image = first.media[0].content[0].url.as_ref().map(Url::as_str);
    assert_eq!(image, Some("https://gov.example/img/a.jpg"), "a lazy image's data-src");
    // The second item's date has no time: the format without its time part does not match it.
    assert_eq!(page.feed.entries[1].published, None);
    assert_eq!((page.feed.entries[1].summary.is_none(), page.feed.entries[1].media.is_empty()), (true, true));
    assert_eq!(page.dropped, 0);
    assert_eq!(page.feed.title.as_ref().map(|t| t.content.as_str()), Some("Newsroom | Ministry"));
}

#[test]
fn defaults_take_the_first_heading_and_link() {
    let html = r##"<div class="card"><a href="#">Share</a><a href="/a"><img src="/i.jpg"></a>
        <h3><a href="/a">Heading <em>one</em></a></h3></div>
        <div class="card"><a href="/b">Only link text</a></div>
        <a class="card" href="/c"><span>The card is the link</span></a>
        <div class="card"><a href="javascript:void(0)">No</a><a href="mailto:x@gov.example">No</a></div>"##;
    let page = read(html, &select(".card"));
    assert_eq!(titles(&page), ["Heading one", "Only link text", "The card is the link"]);
    assert_eq!(
        links(&page),
        ["https://gov.example/a", "https://gov.example/b", "https://gov.example/c"],
        "a link back to the page itself, javascript: and mailto: are no articles"
    );
    assert!(page.feed.entries.iter().all(|e| e.published.is_none() && e.summary.is_none()));
}

#[test]
fn relative_links_resolve_against_the_page_or_its_base() {
    let html = r#"<li><a href="story-1">One</a></li><li><a href="//cdn.example/two">Two</a></li>"#;
    assert_eq!(links(&read(html, &select("li"))), ["https://gov.example/newsroom/story-1", "https://cdn.example/two"]);
    let based = format!(r#"<head><base href="/archive/2026/"></head>{html}"#);
    assert_eq!(links(&read(&based, &select("li")))[0], "https://gov.example/archive/2026/story-1");
    let absolute = format!(r#"<head><base href="https://press.example/p/"></head>{html}"#);
    assert_eq!(links(&read(&absolute, &select("li")))[0], "https://press.example/p/story-1");
    // Without a URL for the page, only absolute links are usable.
    let mixed = format!(r#"{html}<li><a href="https://gov.example/three">Three</a></li>"#);
    let page = parse_page(mixed.as_bytes(), None, None, &select("li"), 100).expect("one absolute link");
    assert_eq!(links(&page), ["https://gov.example/three"]);
}

#[test]
fn files_link_to_files_beside_them_but_web_pages_do_not() {
    let html = r#"<li><a href="budget.html">Budget</a></li><li><a href="file:///etc/passwd">Secret</a></li>
        <li><a href="../../../etc/passwd">Climb</a></li><li><a href="2026/ferries.html">Ferries</a></li>"#;
    let file = Url::parse("file:///srv/demo/newsroom/index.html").expect("url");
    let page = parse_page(html.as_bytes(), None, Some(&file), &select("li"), 100).expect("page");
    assert_eq!(
        links(&page),
        ["file:///srv/demo/newsroom/budget.html", "file:///srv/demo/newsroom/2026/ferries.html"],
        "files beside the page, never elsewhere on the disk"
    );
    let web = parse_page(html.as_bytes(), None, Some(&page_url()), &select("li"), 100).expect("page");
    assert_eq!(
        links(&web),
        [
            "https://gov.example/newsroom/budget.html",
            "https://gov.example/etc/passwd",
            "https://gov.example/newsroom/2026/ferries.html"
        ],
        "a page from the web links to no file"
    );
}

#[test]
fn dates_from_attributes_or_text() {
    let html = r#"
        <article><a href="/1">One</a><time datetime="2026-05-03T09:30:00+02:00">3 May</time></article>
        <article><a href="/2">Two</a><meta itemprop="datePublished" content="2026-05-02"></article>
        <article><a href="/3">Three</a><span class="d">Published May 1, 2026</span></article>
        <article><a href="/4">Four</a><span class="d">last Tuesday</span></article>
        <article><a href="/5">Five</a><time datetime="">30 April 2026, 18:00</time></article>"#;
    let s = PageSelectors { date: Some("time, meta, .d".into()), ..select("article") };
    let dates: Vec<_> = read(html, &s).feed.entries.iter().map(|e| e.published).collect();
    assert_eq!(
        dates,
        [at(2026, 5, 3, 7, 30), at(2026, 5, 2, 0, 0), at(2026, 5, 1, 0, 0), None, at(2026, 4, 30, 18, 0)]
    );
    let own = PageSelectors { date_format: Some("%e %B %Y".into()), ..s };
    let html = r#"<article><a href="/1">One</a><span class="d">Le 3 May 2026</span></article>"#;
    assert_eq!(read(html, &own).feed.entries[0].published, at(2026, 5, 3, 0, 0));
}

#[test]
fn one_item_per_article_and_the_duplicate_fills_gaps() {
    let html = r#"<div class="s"><a href="/a?utm_campaign=x"><img src="/a.jpg"></a></div>
        <div class="s"><h2><a href="/a#comments">Headline A</a></h2><time datetime="2026-05-03">x</time></div>
        <div class="s"><h2><a href="/b">Headline B</a></h2></div>
        <div class="s"><h2><a href="/a">Another headline for A</a></h2></div>"#;
    let s = PageSelectors { date: Some("time".into()), image: Some("img".into()), ..select(".s") };
    let page = read(html, &s);
    assert_eq!(titles(&page), ["Headline A", "Headline B"]);
    let a = &page.feed.entries[0];
    assert_eq!((a.published, a.media.len()), (at(2026, 5, 3, 0, 0), 1));
}

#[test]
fn items_are_bounded_and_the_rest_counted() {
    let mut html = String::from("<ul>");
    for i in 0..10_000 {
        html.push_str(&format!("<li><a href=\"/story/{i}\">Story {i}</a></li>"));
    }
    html.push_str("</ul>");
    let started = std::time::Instant::now();
    let page = parse_page(html.as_bytes(), None, Some(&page_url()), &select("li"), 250).expect("page");
    assert_eq!((page.feed.entries.len(), page.dropped), (250, 9_750));
    assert_eq!(titles(&page)[249], "Story 249");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_page_the_selector_misses_is_a_clear_error() {
    let err = parse_page(LISTING.as_bytes(), None, Some(&page_url()), &select("div.story"), 100).expect_err("none");
    assert!(matches!(err, ParseError::NoItems(_)));
    assert_eq!(err.to_string(), "the page has no element matching `item` selector \"div.story\"");
    let err =
        parse_page(b"<ul><li>no link</li></ul>", None, Some(&page_url()), &select("li"), 100).expect_err("no link");
    assert!(err.to_string().contains("1 element(s) match `item` selector \"li\""), "{err}");
    let err = parse_page(LISTING.as_bytes(), None, None, &select("li["), 100).expect_err("bad selector");
    assert_eq!(err.to_string(), "`select.item` \"li[\" is not a CSS selector");
    assert!(matches!(parse_page(b" \n", None, None, &select("li"), 100), Err(ParseError::Empty)));
}

#[test]
fn charsets_from_the_page_or_the_header() {
    let mut latin1 = b"<meta charset=\"windows-1252\"><li><a href=\"/x\">Caf".to_vec();
    latin1.extend([0xE9, b'<']);
    latin1.extend(b"/a></li>");
    assert_eq!(titles(&parse_page(&latin1, None, Some(&page_url()), &select("li"), 9).expect("page")), ["Café"]);
    let header = encoding_rs::Encoding::for_label(b"iso-8859-7");
    let greek = [b"<li><a href=\"/x\">".as_slice(), &[0xE1, 0xE2], b"</a></li>"].concat();
    assert_eq!(titles(&parse_page(&greek, header, Some(&page_url()), &select("li"), 9).expect("page")), ["αβ"]);
}

#[test]
fn garbage_and_hostile_input_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = Vec::with_capacity(64 * 1024);
    for _ in 0..64 * 1024 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        noise.push(seed.to_le_bytes()[0]);
    }
    let deep = format!("{}<a href=\"/deep\">Deep</a>{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
    let huge_title = format!("<li><a href=\"/t\">{}</a></li>", "word ".repeat(200_000));
    let inputs: [&[u8]; 7] = [
        &noise,
        b"\xFF\xFE<\x00l\x00i\x00>",
        b"<li><a href=\"http://[::1\">broken</a></li>",
        b"<li><a href=\"https://gov.example/\xF0\x9F\x92\xA9?q=\xE9\">emoji</a></li>",
        deep.as_bytes(),
        huge_title.as_bytes(),
        b"<li><a href='/x'><time datetime='9999999999-99-99'>99 Undecember 99999</time></a></li>",
    ];
    let s = PageSelectors { date: Some("time".into()), date_format: Some("%Y %Q".into()), ..select("li, div") };
    for input in inputs {
        let _ = parse_page(input, None, Some(&page_url()), &s, 100);
        let _ = parse_page(input, None, None, &select("*"), 3);
    }
    let page = parse_page(huge_title.as_bytes(), None, Some(&page_url()), &select("li"), 9).expect("page");
    assert!(titles(&page)[0].len() <= MAX_TEXT_BYTES);
    let refused = parse_page(deep.as_bytes(), None, Some(&page_url()), &select("div"), 9).expect_err("too deep");
    assert!(refused.to_string().contains("nests elements about 10000"), "{refused}");
}
