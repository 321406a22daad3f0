//! Unit tests of the article extractor on fixtures written for them (`tests/fixtures/articles/`).

use super::*;
use chrono::TimeZone;

const TEXT_PATTERNS: &[u8] = include_bytes!("../../tests/fixtures/articles/text-patterns.html");
const JSON_LD: &[u8] = include_bytes!("../../tests/fixtures/articles/json-ld.html");

fn base() -> Url {
    Url::parse("https://courier.example/news/budget").expect("static URL")
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single()
}

fn sources(pairs: &[(&'static str, Source)]) -> BTreeMap<&'static str, Source> {
    pairs.iter().copied().collect()
}

#[test]
fn visible_text_patterns_give_dates_byline_and_credit() {
    let a = article(TEXT_PATTERNS, Some(&base()), None).expect("extracts");
    assert_eq!(a.title.as_deref(), Some("City council approves record budget after late-night session"));
    assert_eq!(a.byline, vec!["Reporter Name".to_owned()]);
    assert_eq!(a.published, at(2023, 12, 7, 0, 0));
    assert_eq!(a.modified, at(2024, 6, 21, 23, 23));
    assert_eq!(a.site_name, None);
    assert_eq!(a.lang.as_deref(), Some("en"));
    let image = Image {
        url: "https://courier.example/photos/council-chamber.jpg".into(),
        caption: None,
        credit: Some("Photographer Name / Courtesy".into()),
    };
    assert_eq!(a.image, Some(image));
    use Source::*;
    let expected = [
        ("body", Heuristic),
        ("byline", TextPattern),
        ("image", Selector),
        ("image.credit", TextPattern),
        ("lang", Selector),
        ("modified", TextPattern),
        ("published", TextPattern),
        ("title", Selector),
    ];
    assert_eq!(a.sources, sources(&expected));
}

#[test]
fn body_is_the_story_without_furniture() {
    let a = article(TEXT_PATTERNS, Some(&base()), None).expect("extracts");
    assert!(a.body_text.starts_with("The Valley City Council approved a record budget"), "{}", a.body_text);
    assert!(a.body_text.ends_with("zoning changes along the river corridor."), "{}", a.body_text);
    for furniture in [
        "Last update",
        "By Reporter Name",
        "Courtesy",
        "Related stories",
        "Sign up",
        "All rights reserved",
        "Share this",
    ] {
        assert!(!a.body_text.contains(furniture), "{furniture} in {}", a.body_text);
        assert!(!a.body_html.contains(furniture), "{furniture} in {}", a.body_html);
    }
    assert_eq!(a.body_text.matches("\n\n").count(), 11, "12 paragraphs");
    assert_eq!(a.word_count, 321);
    assert!(a.body_html.contains("<p>The council meets next on Tuesday evening"), "{}", a.body_html);
}

#[test]
fn json_ld_outranks_meta_which_outranks_text() {
    let a = article(JSON_LD, Some(&base()), None).expect("extracts");
    assert_eq!(a.title.as_deref(), Some("Council adopts record budget"));
    assert_eq!(a.byline, vec!["Reporter Name".to_owned(), "Second Writer".to_owned()]);
    assert_eq!(a.published, at(2023, 12, 7, 14, 30));
    // article:modified_time beats the visible "Last update" line.
    assert_eq!(a.modified, at(2024, 6, 22, 3, 23));
    assert_eq!(a.site_name.as_deref(), Some("The Valley Courier"));
    assert_eq!(a.lang.as_deref(), Some("en-US"));
    let image = Image {
        url: "https://courier.example/photos/council-chamber.jpg".into(),
        caption: Some("The council chamber during the vote".into()),
        credit: Some("Photographer Name / Courtesy".into()),
    };
    assert_eq!(a.image, Some(image));
    use Source::*;
    let expected = [
        ("body", Heuristic),
        ("byline", JsonLd),
        ("image", JsonLd),
        ("image.caption", JsonLd),
        ("image.credit", JsonLd),
        ("lang", JsonLd),
        ("modified", Meta),
        ("published", JsonLd),
        ("site_name", JsonLd),
        ("title", JsonLd),
    ];
    assert_eq!(a.sources, sources(&expected));
}

#[test]
fn json_contract_has_exactly_the_documented_fields() {
    let a = article(JSON_LD, Some(&base()), None).expect("extracts");
    let v = serde_json::to_value(&a).expect("serializes");
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    let mut expected = [
        "title",
        "byline",
        "published",
        "modified",
        "site_name",
        "lang",
        "image",
        "body_html",
        "body_text",
        "word_count",
        "sources",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(v["published"], "2023-12-07T14:30:00Z");
    assert_eq!(v["sources"]["title"], "json-ld");
    assert_eq!(v["sources"]["modified"], "meta");
}

#[test]
fn meta_tags_and_time_element() {
    let html = br#"<html><head><meta property="og:title" content="OG Headline">
<meta name="author" content="By Jane Doe"><meta property="og:site_name" content="Daily Example">
<meta property="og:image" content="/img/lead.jpg"><meta property="og:locale" content="fr_FR"></head>
<body><h1>Visible</h1><time datetime="2024-03-05T10:00:00+01:00">5 March</time><p>Text.</p></body></html>"#;
    let a = article(html, Some(&base()), None).expect("extracts");
    assert_eq!(a.title.as_deref(), Some("OG Headline"));
    assert_eq!(a.byline, vec!["Jane Doe".to_owned()]);
    assert_eq!(a.site_name.as_deref(), Some("Daily Example"));
    assert_eq!(a.lang.as_deref(), Some("fr-FR"));
    assert_eq!(a.published, at(2024, 3, 5, 9, 0));
    assert_eq!(a.image.map(|i| i.url).as_deref(), Some("https://courier.example/img/lead.jpg"));
    assert_eq!(a.sources.get("published"), Some(&Source::Time));
    assert_eq!(a.sources.get("lang"), Some(&Source::Meta));
    assert_eq!(a.sources.get("title"), Some(&Source::Meta));
}

#[test]
fn photo_credit_forms() {
    let page = |inner: &str| {
        format!("<html><body><h1>T</h1><figure><img src=\"/a.jpg\">{inner}</figure><p>Body.</p></body></html>")
    };
    let credit = |inner: &str| {
        article(page(inner).as_bytes(), Some(&base()), None).ok().and_then(|a| a.image).and_then(|i| i.credit)
    };
    assert_eq!(
        credit("<figcaption>Crowds at dawn. <span class=\"credit\">Ann Lee/Reuters</span></figcaption>").as_deref(),
        Some("Ann Lee/Reuters")
    );
    assert_eq!(credit("<p>Photo: Sam Park</p>").as_deref(), Some("Sam Park"));
    assert_eq!(credit("<p>Sam Park / Courtesy</p>").as_deref(), Some("Sam Park / Courtesy"));
    let caption =
        article(page("<figcaption>Crowds at dawn.</figcaption>").as_bytes(), None, None).ok().and_then(|a| a.image);
    assert_eq!(caption, Some(Image { url: String::new(), caption: None, credit: None }).filter(|_| false));
}

#[test]
fn dateline_and_byline_variants() {
    let run = |lines: &str| {
        let html = format!("<html><body><h1>Headline</h1>{lines}<p>Body text of the story.</p></body></html>");
        article(html.as_bytes(), None, None).expect("extracts")
    };
    let a = run("<p>Updated Jun 21, 2024, 11:23 PM</p><p>By Ann Lee and Bob Stone, June 3, 2024</p>");
    assert_eq!(a.modified, at(2024, 6, 21, 23, 23));
    assert_eq!(a.published, at(2024, 6, 3, 0, 0));
    assert_eq!(a.byline, vec!["Ann Lee".to_owned(), "Bob Stone".to_owned()]);
    let b = run("<div class=\"meta\">Published: March 1, 2024 08:05</div><span>by Émile Zola</span>");
    assert_eq!(b.published, at(2024, 3, 1, 8, 5));
    assert_eq!(b.byline, vec!["Émile Zola".to_owned()], "lower-case 'by', accented names");
    assert_eq!(b.sources.get("published"), Some(&Source::TextPattern));
    let c = run("<p>By <a href=\"/staff/jo\">Jo Park</a> | December 7, 2023</p>");
    assert_eq!(c.byline, vec!["Jo Park".to_owned()]);
    assert_eq!(c.published, at(2023, 12, 7, 0, 0));
    // Prose that merely starts with "By" is not a byline.
    let d = run("<p>By the end of the meeting, the council had voted.</p>");
    assert!(d.byline.is_empty(), "{:?}", d.byline);
}

#[test]
fn a_figcaption_that_is_only_the_credit_is_no_caption() {
    let html =
        b"<html><body><h1>T</h1><figure><img src=\"/a.jpg\"><figcaption>Ana Lens / Courtesy</figcaption></figure>\
        <p>Body.</p></body></html>";
    let a = article(html, Some(&base()), None).expect("extracts");
    let image = a.image.expect("image");
    assert_eq!((image.caption, image.credit.as_deref()), (None, Some("Ana Lens / Courtesy")));
}
