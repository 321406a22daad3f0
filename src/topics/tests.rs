use super::*;
use crate::config::TopicSettings;
use crate::domain::{SourceId, TopicId};
use chrono::Utc;

fn topic(id: &str) -> TopicSettings {
    TopicSettings {
        id: TopicId::parse(id).expect("slug"),
        title: id.into(),
        description: String::new(),
        any: vec![],
        all: vec![],
        none: vec![],
        categories: vec![],
        sources: vec![],
        fields: vec![TopicField::Title, TopicField::Summary, TopicField::Content, TopicField::Categories],
        max_items: 200,
        group: None,
        private: false,
    }
}

fn entry(source: &str, title: &str, body: &str, categories: &[&str]) -> Entry {
    Entry {
        title: title.into(),
        content: Some(format!("<p>{body}</p>")),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        ..crate::domain::test_entry(source, title, &Utc::now().to_rfc3339())
    }
}

fn routed(t: TopicSettings, e: &Entry) -> Option<String> {
    TopicRouter::new(&[t]).expect("compiles").route(e).first().map(|m| m.rule.clone())
}

#[test]
fn words_match_on_boundaries_case_insensitively() {
    let t = TopicSettings { any: vec!["Iran".into()], ..topic("iran") };
    assert_eq!(routed(t.clone(), &entry("s", "Talks with IRAN resume", "", &[])), Some("any:\"Iran\"".into()));
    assert_eq!(routed(t.clone(), &entry("s", "Tirana hosts summit", "Iranian delegation absent", &[])), None);
    assert_eq!(routed(t, &entry("s", "News", "Envoy in Iran's capital", &[])), Some("any:\"Iran\"".into()));
}

#[test]
fn unicode_words_and_phrases_across_whitespace() {
    let t = TopicSettings { any: vec!["south caucasus".into(), "Ürümqi".into()], ..topic("sc") };
    assert!(routed(t.clone(), &entry("s", "Security in the South\n   Caucasus", "", &[])).is_some());
    assert!(routed(t.clone(), &entry("s", "ÜRÜMQI airport reopens", "", &[])).is_some());
    assert!(routed(t, &entry("s", "Southern Caucasus", "", &[])).is_none());
}

#[test]
fn regex_terms_with_flags() {
    let t = TopicSettings { any: vec![r"/south\s+caucasus/i".into()], ..topic("sc") };
    assert!(routed(t, &entry("s", "SOUTH  CAUCASUS", "", &[])).is_some());
    assert!(Term::parse("/a(/").is_err());
    assert!(Term::parse("/a/q").is_err());
}

#[test]
fn none_excludes_and_all_requires() {
    let t = TopicSettings {
        any: vec!["Azerbaijan".into(), "Armenia".into()],
        all: vec!["talks".into()],
        none: vec!["football".into()],
        ..topic("sc")
    };
    assert!(routed(t.clone(), &entry("s", "Armenia and Azerbaijan resume talks", "", &[])).is_some());
    assert!(routed(t.clone(), &entry("s", "Armenia and Azerbaijan sign deal", "", &[])).is_none(), "all");
    assert!(routed(t, &entry("s", "Armenia football talks", "", &[])).is_none(), "none");
}

#[test]
fn categories_and_sources() {
    let t = TopicSettings { categories: vec!["Diplomacy".into()], none: vec!["football".into()], ..topic("d") };
    assert_eq!(routed(t.clone(), &entry("s", "x", "", &["diplomacy"])), Some("category:\"diplomacy\"".into()));
    assert_eq!(routed(t, &entry("s", "x", "", &["Sport"])), None);
    let t = TopicSettings { sources: vec![SourceId::parse("press").expect("slug")], ..topic("p") };
    assert_eq!(routed(t.clone(), &entry("press", "anything", "", &[])), Some("source:press".into()));
    assert_eq!(routed(t, &entry("other", "anything", "", &[])), None);
}

#[test]
fn fields_limit_where_words_are_looked_for() {
    let t = TopicSettings { any: vec!["budget".into()], fields: vec![TopicField::Title], ..topic("b") };
    assert!(routed(t.clone(), &entry("s", "Budget approved", "", &[])).is_some());
    assert!(routed(t, &entry("s", "Council news", "the budget passed", &[])).is_none());
}

#[test]
fn fingerprint_tracks_rules_only() {
    let a = TopicRouter::new(&[TopicSettings { any: vec!["x".into()], ..topic("t") }]).expect("ok");
    let b =
        TopicRouter::new(&[TopicSettings { any: vec!["x".into()], title: "Other".into(), ..topic("t") }]).expect("ok");
    let c = TopicRouter::new(&[TopicSettings { any: vec!["y".into()], ..topic("t") }]).expect("ok");
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.fingerprint(), c.fingerprint());
}

#[test]
fn a_private_sources_items_route_to_private_topics_only_and_leave_public_channels() {
    use crate::domain::ChannelId;
    let public = TopicSettings { any: vec!["budget".into()], ..topic("economy") };
    let private = TopicSettings { any: vec!["budget".into()], private: true, ..topic("clients") };
    let plain = TopicRouter::new(&[public.clone(), private.clone()]).expect("ok");
    let router = plain.clone().with_private_sources([SourceId::parse("wire").expect("slug")]);
    assert_ne!(plain.fingerprint(), router.fingerprint(), "making a source private re-routes");
    let none_private = TopicRouter::new(std::slice::from_ref(&public)).expect("ok");
    let unchanged = none_private.clone().with_private_sources([]);
    assert_eq!(none_private.fingerprint(), unchanged.fingerprint(), "no private channels, no new pass");
    let mut wire = entry("wire", "Budget approved", "", &[]);
    router.place(&mut wire);
    assert!(wire.private);
    assert_eq!(wire.topics.iter().map(|t| t.topic.as_str()).collect::<Vec<_>>(), ["clients"]);
    let source = ChannelId::Source(wire.source.clone());
    assert_eq!(wire.channels(), [source, ChannelId::Topic(TopicId::parse("clients").expect("slug"))]);
    // What a story or event lent it before its source turned private shows nowhere.
    let lent = Entry { story_topics: vec![TopicId::parse("economy").expect("slug")], ..wire.clone() };
    let economy = ChannelId::Topic(TopicId::parse("economy").expect("slug"));
    assert!(!lent.channels().iter().any(|ch| *ch == ChannelId::All || *ch == economy));
    let mut daily = entry("daily", "Budget approved", "", &[]);
    router.place(&mut daily);
    assert!(!daily.private && daily.topics.len() == 2, "a public source's items go to private topics too");
    assert!(daily.channels().contains(&ChannelId::All));
    assert_eq!(router.rerouted(&daily), None);
    assert!(plain.rerouted(&wire).is_some_and(|e| !e.private && e.topics.len() == 2), "made public again");
}
