use super::*;

/// Stands in for the runtime parts, which config cannot reach: refuses values starting with
/// "not", so the key paths of their answers can be checked here.
struct Stub;

impl Checks for Stub {
    fn term(&self, term: &str) -> Result<(), String> {
        if term.starts_with("not") {
            Err("refused term".into())
        } else {
            Ok(())
        }
    }

    fn selector(&self, css: &str) -> Result<(), String> {
        if css.starts_with("not") {
            Err("refused selector".into())
        } else {
            Ok(())
        }
    }

    fn cron(&self, expr: &str) -> Result<(), String> {
        if expr.starts_with("not") {
            Err("refused cron".into())
        } else {
            Ok(())
        }
    }
}

fn load(text: &str) -> Result<Settings, ConfigError> {
    Settings::from_toml(text, Path::new("/srv/nr/newsriver.toml"), &Stub)
}

#[test]
fn minimal_config_gets_defaults() {
    let s = load("[[source]]\nid = \"a\"\nurl = \"https://example.org/rss\"\n").expect("valid");
    assert_eq!(s.server.listen, "127.0.0.1:8080".parse().expect("addr"));
    assert_eq!(s.store.path, PathBuf::from("/srv/nr/data/newsriver.db"));
    assert_eq!(s.polling.every, Duration::from_secs(900));
    assert_eq!(s.sources[0].schedule, Schedule::Every(Duration::from_secs(900)));
    assert_eq!(s.sources[0].title, "a");
}

#[test]
fn every_problem_is_listed_with_its_path() {
    let text = r#"
[server]
listen = "nowhere"
[polling]
every = "15 minutes"
concurrency = 0
[[source]]
id = "ok"
url = "https://example.org/a"
[[source]]
id = "Bad Id"
url = "ftp://example.org/b"
[[source]]
id = "ok"
url = "https://example.org/c"
cron = "not a cron"
[[topic]]
id = "t"
any = ["fine", "not fine"]
"#;
    let Err(ConfigError::Invalid { problems, .. }) = load(text) else { panic!("expected Invalid") };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "server.listen",
        "polling.every",
        "polling.concurrency",
        "source[1].id",
        "source[1].url",
        "source[2].id",
        "source[2].cron",
        "topic[0].any[1]",
    ] {
        assert!(paths.contains(&want), "missing {want} in {paths:?}");
    }
}

#[test]
fn unknown_keys_are_errors() {
    let err = load("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n").expect_err("unknown key");
    assert!(matches!(err, ConfigError::Syntax { .. }));
    assert!(err.to_string().contains("lisen"), "{err}");
}

#[test]
fn file_urls_resolve_against_config_dir() {
    let s = load("[[source]]\nid = \"d\"\nurl = \"file:demo/a.xml\"\ncron = \"0 */5 * * * *\"\n").expect("valid");
    assert_eq!(s.sources[0].url, FeedUrl::File(PathBuf::from("/srv/nr/demo/a.xml")));
    assert_eq!(s.sources[0].schedule, Schedule::Cron("0 */5 * * * *".into()));
}

#[test]
fn source_kind_and_robots() {
    let text = "[polling]\nrespect_robots = false\n[[source]]\nid = \"a\"\nurl = \"https://example.org/rss\"\n\
                [[source]]\nid = \"b\"\nkind = \"sitemap\"\nurl = \"https://example.org/news.xml\"\nrespect_robots = true\n";
    let s = load(text).expect("valid");
    assert_eq!((s.sources[0].kind, s.sources[0].respect_robots), (SourceKind::Feed, false));
    assert_eq!((s.sources[1].kind, s.sources[1].respect_robots), (SourceKind::Sitemap, true));
    let s = load("[[source]]\nid = \"a\"\nurl = \"https://example.org/rss\"\n").expect("valid");
    assert!(s.polling.respect_robots && s.sources[0].respect_robots);
    let Err(ConfigError::Invalid { problems, .. }) =
        load("[[source]]\nid = \"a\"\nkind = \"pages\"\nurl = \"https://example.org/\"\n")
    else {
        panic!("an unknown kind is refused")
    };
    assert_eq!(problems[0].path, "source[0].kind");
}

#[test]
fn full_text_article_rules_and_page_selectors() {
    let text = r#"
[polling]
recheck_for = "0s"
[[source]]
id = "feed"
url = "https://example.org/rss"
full_text = true
content_selector = "div.story"
remove = [".share", "aside.related"]
[[source]]
id = "plain"
url = "https://example.org/rss2"
[[source]]
id = "listing"
kind = "page"
url = "https://example.org/news/"
[source.select]
item = "article.teaser"
link = "h2 a"
date = "span.date"
date_format = "%d %B %Y"
"#;
    let s = load(text).expect("valid");
    assert_eq!(s.polling.recheck_for, std::time::Duration::ZERO, "0s turns rechecks off");
    let [feed, plain, listing] = &s.sources[..] else { panic!("three sources") };
    assert!(feed.full_text && !plain.full_text && listing.full_text, "page sources read articles by default");
    assert_eq!(feed.article.content_selector.as_deref(), Some("div.story"));
    assert_eq!(feed.article.remove, [".share", "aside.related"]);
    let sel = listing.page.as_ref().expect("selectors");
    assert_eq!((sel.item.as_str(), sel.link.as_deref(), sel.title.as_deref()), ("article.teaser", Some("h2 a"), None));
    assert_eq!(sel.date_format.as_deref(), Some("%d %B %Y"));
    assert!(feed.page.is_none());
}

#[test]
fn selector_problems_carry_their_key_paths() {
    let text = r#"
[[source]]
id = "a"
url = "https://example.org/rss"
remove = ["ok", "not a selector"]
[source.select]
item = "x"
[[source]]
id = "b"
kind = "page"
url = "https://example.org/"
[[source]]
id = "c"
kind = "page"
url = "https://example.org/c"
[source.select]
title = "h2"
date_format = "%d"
"#;
    let Err(ConfigError::Invalid { problems, .. }) = load(text) else { panic!("refused") };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "source[0].remove[1]",
            "source[0].select",
            "source[1].select",
            "source[2].select.item",
            "source[2].select.date_format"
        ]
    );
}

#[test]
fn grouping_by_event_is_the_default_and_each_key_is_checked() {
    let source = "[[source]]\nid = \"a\"\nurl = \"https://example.org/rss\"\n";
    let s = load(source).expect("valid");
    assert_eq!((s.stories.group, s.stories.event_threshold, s.stories.cross_language), (Grouping::Event, 1.5, false));
    let set = format!(
        "[stories]\ngroup = \"story\"\nevent_threshold = 2.25\ncross_language = true\nevent_window = \"2d\"\n{source}\
         [[topic]]\nid = \"t\"\nany = [\"x\"]\ngroup = \"event\"\n"
    );
    let s = load(&set).expect("valid");
    assert_eq!((s.stories.group, s.stories.event_threshold, s.stories.cross_language), (Grouping::Story, 2.25, true));
    assert_eq!((s.stories.event_window, s.topics[0].group), (Duration::from_secs(2 * 86_400), Some(Grouping::Event)));
    let bad = format!(
        "[stories]\ngroup = \"events\"\nevent_threshold = 99.0\nevent_window = \"0s\"\n{source}\
         [[topic]]\nid = \"t\"\nany = [\"x\"]\ngroup = \"all\"\n"
    );
    let Err(ConfigError::Invalid { problems, .. }) = load(&bad) else { panic!("expected Invalid") };
    let mut paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["stories.event_threshold", "stories.event_window", "stories.group", "topic[0].group"]);
}

#[test]
fn export_keys_resolve_and_are_checked_with_their_paths() {
    let s = load("").expect("valid");
    assert!(s.export.dir.is_none());
    assert_eq!(s.export_base_url(), &s.server.public_url);
    let s = load("[export]\ndir = \"public\"\nbase_url = \"https://cdn.example.org/news/\"\n").expect("valid");
    assert_eq!(s.export.dir, Some(PathBuf::from("/srv/nr/public")));
    assert_eq!(s.export_base_url().as_str(), "https://cdn.example.org/news");
    let Err(ConfigError::Invalid { problems, .. }) = load("[export]\ndir = \"\"\nbase_url = \"ftp://x.org\"\n") else {
        panic!("an empty folder and a non-http base are refused");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["export.dir", "export.base_url"]);
    assert!(matches!(load("[export]\nfolder = \"x\"\n"), Err(ConfigError::Syntax { .. })));
}

#[test]
fn websub_defaults_and_every_key_checked_with_its_path() {
    let s = load("").expect("valid");
    assert_eq!(s.websub, WebSubSettings::default());
    assert!(s.websub.enabled);
    assert_eq!((s.websub.default_lease, s.websub.signature), (Duration::from_secs(10 * 86_400), Signature::Sha256));
    let set = "[websub]\nenabled = false\nmin_lease = \"2s\"\ndefault_lease = \"1h\"\nmax_lease = \"2d\"\n\
               signature = \"sha1\"\nrequests_per_minute = 5\nmax_per_host = 3\nmax_subscriptions = 9\n\
               max_callback_length = 100\nbatch_items = 20\nbatch_bytes = \"64KiB\"\nper_host = 2\n\
               external_hubs = [\"https://hub.example/\"]\npublish_every = \"30s\"\nretry_min = \"1s\"\n\
               retry_max = \"1m\"\ngive_up_after = \"1h\"\ntimeout = \"3s\"\nconcurrency = 8\n";
    let w = load(set).expect("valid").websub;
    assert_eq!((w.enabled, w.min_lease, w.signature), (false, Duration::from_secs(2), Signature::Sha1));
    assert_eq!((w.max_per_host, w.max_subscriptions, w.max_callback_length, w.batch_bytes), (3, 9, 100, 64 << 10));
    assert_eq!(w.external_hubs.iter().map(Url::as_str).collect::<Vec<_>>(), ["https://hub.example/"]);
    let bad = "[websub]\nmin_lease = \"3d\"\nmax_lease = \"1d\"\nsignature = \"md5\"\nrequests_per_minute = 0\n\
               max_callback_length = 4\nbatch_bytes = \"10B\"\nexternal_hubs = [\"ok\", \"ftp://x.org\"]\n\
               retry_min = \"2h\"\nretry_max = \"1h\"\n";
    let Err(ConfigError::Invalid { problems, .. }) = load(bad) else { panic!("expected Invalid") };
    let mut paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    paths.sort_unstable();
    let expected = [
        "websub.batch_bytes",
        "websub.external_hubs[0]",
        "websub.external_hubs[1]",
        "websub.max_callback_length",
        "websub.min_lease",
        "websub.requests_per_minute",
        "websub.retry_min",
        "websub.signature",
    ];
    assert_eq!(paths, expected);
    assert!(matches!(load("[websub]\nhub = \"x\"\n"), Err(ConfigError::Syntax { .. })));
}
