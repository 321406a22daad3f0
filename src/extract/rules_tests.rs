//! Per-source overrides on a page written for them (`fixtures/overrides.html`), where the
//! heuristic body takes a share line, a newsletter box and a spotlight block below the story.

use super::*;

const OVERRIDES: &[u8] = include_bytes!("fixtures/overrides.html");

const STORY: [&str; 4] = [
    "The harbour ferry carried its first passengers",
    "About forty commuters waited on the quay",
    "The operator said the timetable would follow",
    "Repairs were paid for by the harbour board",
];
const SHARE: &str = "Share this story";
const PROMO: &str = "Courier Morning Briefing";
const SPOTLIGHT: &str = "Spotlight: the long history";

fn base() -> Url {
    Url::parse("https://courier.example/news/ferry").expect("static URL")
}

fn rules(content: Option<&str>, remove: &[&str]) -> Options {
    Options { content_selector: content.map(str::to_owned), remove: remove.iter().map(|s| s.to_string()).collect() }
}

fn with(options: &Options) -> Article {
    article_with(OVERRIDES, Some(&base()), None, options).expect("extracts")
}

#[test]
fn heuristics_alone_take_the_furniture() {
    let a = article(OVERRIDES, Some(&base()), None).expect("extracts");
    for block in [SHARE, PROMO, SPOTLIGHT] {
        assert!(a.body_text.contains(block), "{block} missing from {}", a.body_text);
    }
    assert_eq!(a.sources.get("body"), Some(&Source::Heuristic));
    // The newsletter box's sender line reads as a byline.
    assert_eq!(a.byline, vec!["Courier Editors".to_owned()]);
    assert!(a.notes.is_empty(), "{:?}", a.notes);
}

#[test]
fn content_selector_and_removals_give_the_story() {
    let a = with(&rules(Some("div.cv-story"), &[".cv-tools", ".cv-promo"]));
    let paragraphs: Vec<&str> = a.body_text.split("\n\n").collect();
    assert_eq!(paragraphs.len(), STORY.len(), "{}", a.body_text);
    for (p, start) in paragraphs.iter().zip(STORY) {
        assert!(p.starts_with(start), "{p}");
    }
    assert_eq!(a.sources.get("body"), Some(&Source::Selector));
    assert_eq!(a.word_count, 117);
    // Sanitized like the heuristic body, its links made absolute.
    assert!(a.body_html.contains(r#"<a href="https://courier.example/ferry/timetable""#), "{}", a.body_html);
    assert!(!a.body_html.contains("onclick"), "{}", a.body_html);
    assert!(a.notes.is_empty(), "{:?}", a.notes);
}

#[test]
fn removals_apply_to_the_heuristic_body_and_to_metadata() {
    let a = with(&rules(None, &[".cv-tools", ".cv-promo", ".cv-spotlight"]));
    for block in [SHARE, PROMO, SPOTLIGHT] {
        assert!(!a.body_text.contains(block), "{block} in {}", a.body_text);
    }
    for start in STORY {
        assert!(a.body_text.contains(start), "{start} missing from {}", a.body_text);
    }
    assert_eq!(a.sources.get("body"), Some(&Source::Heuristic));
    assert!(a.byline.is_empty(), "the removed box's line is no byline: {:?}", a.byline);
    assert_eq!(a.title.as_deref(), Some("Harbour ferry returns after winter repairs"));
}

#[test]
fn a_selector_matching_nothing_falls_back_to_the_heuristics_with_a_note() {
    let plain = article(OVERRIDES, Some(&base()), None).expect("extracts");
    let a = with(&rules(Some(".story-body"), &[]));
    assert_eq!(a.body_text, plain.body_text);
    assert_eq!(a.sources.get("body"), Some(&Source::Heuristic));
    assert_eq!(a.notes, vec![r#"content_selector ".story-body" matched nothing; body found by heuristics"#.to_owned()]);
    let empty = with(&rules(Some("header + main > h1 + div > div.cv-tools ~ div:empty"), &[]));
    assert_eq!(empty.sources.get("body"), Some(&Source::Heuristic));
    assert_eq!(empty.notes.len(), 1, "{:?}", empty.notes);
}

#[test]
fn selectors_that_do_not_parse_are_noted_not_fatal() {
    let a = with(&rules(Some("div[class="), &["p:nth-child(", ".cv-promo"]));
    assert_eq!(a.sources.get("body"), Some(&Source::Heuristic));
    assert!(!a.body_text.contains(PROMO), "the valid removal still applies");
    assert_eq!(a.notes.len(), 2, "{:?}", a.notes);
    assert!(a.notes.iter().all(|n| n.contains("does not parse")), "{:?}", a.notes);
}

#[test]
fn nested_matches_are_read_once() {
    let page = b"<html><body><div class=\"t\"><p>Outer paragraph of the story.</p>\
        <div class=\"t\"><p>Inner paragraph of the story.</p></div></div></body></html>";
    let a = article_with(page, None, None, &rules(Some(".t"), &[])).expect("extracts");
    assert_eq!(a.body_text, "Outer paragraph of the story.\n\nInner paragraph of the story.");
}

#[test]
fn notes_are_in_the_json_only_when_there_are_some() {
    let plain = serde_json::to_value(with(&Options::default())).expect("serializes");
    assert!(plain.get("notes").is_none());
    let noted = serde_json::to_value(with(&rules(Some(".story-body"), &[]))).expect("serializes");
    assert_eq!(noted["notes"].as_array().map(Vec::len), Some(1));
}

#[test]
fn options_come_from_a_source_s_article_rules() {
    let configured =
        crate::config::ArticleRules { content_selector: Some("div.cv-story".into()), remove: vec![".cv-promo".into()] };
    assert_eq!(Options::from(&configured), rules(Some("div.cv-story"), &[".cv-promo"]));
}
