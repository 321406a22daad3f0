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
    assert_eq!(s.server.client_timeout, Duration::from_secs(30));
}

#[test]
fn every_problem_is_listed_with_its_path() {
    let text = r#"
[server]
listen = "nowhere"
client_timeout = "0s"
[polling]
every = "15 fortnights"
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
        "server.client_timeout",
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
fn instance_name_and_lease_length() {
    let s = load("").expect("valid");
    assert_eq!(s.server.instance, None, "the default name is made at start (hostname-pid)");
    assert_eq!(s.polling.lease, Duration::from_secs(60), "three 20 s fetch timeouts");
    let s = load("[server]\ninstance = \" east-1 \"\n[polling]\ntimeout = \"2s\"\n").expect("valid");
    assert_eq!(s.server.instance.as_deref(), Some("east-1"));
    assert_eq!(s.polling.lease, Duration::from_secs(10), "never under 10 s by default");
    assert_eq!(load("[polling]\nlease = \"2m\"\n").expect("valid").polling.lease, Duration::from_secs(120));
    let Err(ConfigError::Invalid { problems, .. }) = load("[server]\ninstance = \"\"\n[polling]\nlease = \"500ms\"\n")
    else {
        panic!("expected Invalid")
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["server.instance", "polling.lease"]);
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

/// A main config and included files written into a temp folder; the settings or problems.
fn load_files(main: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Settings, ConfigError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let path = dir.path().join("newsriver.toml");
    std::fs::write(&path, main).expect("write");
    let loaded = Settings::load_with(&path, &Stub);
    (dir, loaded)
}

fn src(id: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nurl = \"https://example.org/{id}\"\n")
}

#[test]
fn included_files_add_sources_and_topics_in_sorted_order() {
    let main =
        format!("include = [\"sources.d/*.toml\", \"extra.toml\", \"empty.d/*.toml\", \"m*/*.toml\"]\n{}", src("main"));
    let topic = "[[topic]]\nid = \"t\"\nsources = [\"main\", \"b1\"]\n";
    let files = [
        ("sources.d/b.toml", format!("{}{}", src("b1"), topic)),
        ("sources.d/a.toml", format!("{}{}", src("a1"), src("a2"))),
        ("sources.d/.a.toml.123.tmp", "not toml".into()),
        ("sources.d/.hidden.toml", "not toml".into()),
        ("sources.d/notes.txt", "not toml".into()),
        ("extra.toml", src("x")),
        ("more/local.toml", "[[source]]\nid = \"local\"\nurl = \"file:feed.xml\"\n".into()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let (dir, loaded) = load_files(&main, &files);
    let s = loaded.unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = s.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["main", "a1", "a2", "b1", "x", "local"]);
    let local = std::path::absolute(dir.path().join("more/feed.xml")).expect("absolute");
    assert_eq!(s.sources[5].url, FeedUrl::File(local), "an included file's paths resolve against its folder");
    assert_eq!(s.topics[0].sources.len(), 2, "a topic in an included file names sources of any file");
    let files: Vec<(&str, usize, usize)> =
        s.include.files.iter().map(|f| (f.label.as_str(), f.sources, f.topics)).collect();
    assert_eq!(
        files,
        [("sources.d/a.toml", 2, 0), ("sources.d/b.toml", 1, 1), ("extra.toml", 1, 0), ("more/local.toml", 1, 0)]
    );
    assert_eq!(s.include.files[0].path, dir.path().join("sources.d/a.toml"));
    assert_eq!(s.include.patterns.len(), 4);
}

#[test]
fn problems_in_included_files_name_the_file_and_key_path() {
    let main = format!("include = [\"sources.d/*.toml\", \"missing.toml\"]\n{}", src("dup"));
    let bad = format!("{}[[source]]\nid = \"b\"\nurl = \"ftp://example.org/b\"\n{}", src("ok"), src("dup"));
    let files = [
        ("sources.d/a.toml", bad.as_str()),
        ("sources.d/b.toml", "[server]\nlisten = \"x\"\n[[source]]\nid = \"c\"\nurl = 3\n"),
        ("sources.d/c.toml", "[[source]\nid = \"x\"\n"),
        (
            "sources.d/d.toml",
            "[[topic]]\nid = \"t\"\nsources = [\"nope\"]\n[[source]]\nid = \"ok\"\nurl = \"https://x.org/\"\n",
        ),
    ];
    let (_dir, loaded) = load_files(&main, &files);
    let Err(ConfigError::Invalid { problems, .. }) = loaded else { panic!("expected Invalid, got {loaded:?}") };
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "sources.d/b.toml: server",
            "sources.d/b.toml: source[0].url",
            "sources.d/c.toml",
            "include[1]",
            "sources.d/a.toml: source[1].url",
            "sources.d/a.toml: source[2].id",
            "sources.d/d.toml: source[0].id",
            "sources.d/d.toml: topic[0].sources[0]",
        ],
        "{got:#?}"
    );
    assert!(got[3].contains("\"missing.toml\": no such file"), "{}", got[3]);
    assert!(got[2].starts_with("sources.d/c.toml: not valid TOML, line 1: "), "{}", got[2]);
    assert_eq!(
        got[5],
        "sources.d/a.toml: source[2].id: \"dup\" is used by an earlier source (source[0] in newsriver.toml)"
    );
    assert_eq!(
        got[6],
        "sources.d/d.toml: source[0].id: \"ok\" is used by an earlier source (source[0] in sources.d/a.toml)"
    );
}

#[test]
fn an_include_in_an_included_file_is_refused_and_the_main_file_is_not_read_twice() {
    let main = format!("include = [\"*.toml\"]\n{}", src("main"));
    let (_dir, loaded) = load_files(&main, &[("other.toml", "include = [\"x.toml\"]\n")]);
    let Err(ConfigError::Invalid { problems, .. }) = loaded else { panic!("expected Invalid, got {loaded:?}") };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "other.toml: include");
}

#[test]
fn a_table_that_does_not_read_is_named_down_to_its_key() {
    let main = "include = [\"s/*.toml\"]\n";
    let files = [
        ("s/a.toml", "[[source]]\nid = \"a\"\nurl = \"https://a.org/\"\nurll = \"x\"\n"),
        ("s/b.toml", "[[source]]\nid = \"b\"\nurl = \"https://b.org/\"\nkind = \"page\"\n[source.select]\nitem = 3\n"),
        ("s/c.toml", "source = 3\ntopic = [1]\n"),
    ];
    let (_dir, loaded) = load_files(main, &files);
    let Err(ConfigError::Invalid { problems, .. }) = loaded else { panic!("expected Invalid, got {loaded:?}") };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["s/a.toml: source[0].urll", "s/b.toml: source[0].select.item", "s/c.toml: source", "s/c.toml: topic[0]"]
    );
    assert!(problems[0].message.contains("unknown field `urll`"), "{}", problems[0]);
}

const PRIVATE: &str = r#"
[[source]]
id = "wire"
url = "https://wire.example/rss"
private = true
[[source]]
id = "both"
url = "https://both.example/rss"
[[topic]]
id = "clients"
any = ["x"]
private = true
[[topic]]
id = "both"
any = ["y"]
"#;

fn problems(text: &str) -> Vec<String> {
    match load(text) {
        Err(ConfigError::Invalid { problems, .. }) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn partners_grant_channels_by_id_and_keep_only_key_digests() {
    let digest = "ab".repeat(32);
    let text = format!(
        "[server]\nadmin_key_sha256 = \"{}\"\n{PRIVATE}\
         [[partner]]\nid = \"planet\"\nkey_sha256 = \"{}\"\nchannels = [\"clients\", \"source:wire\", \"topic:both\"]\nrate_limit = 60\n\
         [[partner]]\nid = \"agency\"\ntitle = \"The Agency\"\nkey_sha256 = \"{digest}\"\nchannels = \"*\"\n",
        "cd".repeat(32),
        "EF".repeat(32)
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let topic = |id: &str| ChannelId::Topic(TopicId::parse(id).expect("slug"));
    let source = |id: &str| ChannelId::Source(SourceId::parse(id).expect("slug"));
    assert_eq!(s.partners[0].channels, Grant::Channels(vec![topic("clients"), source("wire"), topic("both")]));
    assert_eq!((s.partners[0].title.as_str(), s.partners[0].rate_limit), ("planet", Some(60)));
    assert_eq!(s.partners[0].key_sha256.to_hex(), "ef".repeat(32));
    assert_eq!((s.partners[1].title.as_str(), &s.partners[1].channels), ("The Agency", &Grant::All));
    assert!(s.is_private(&topic("clients")) && s.is_private(&source("wire")));
    assert!(!s.is_private(&topic("both")) && !s.is_private(&ChannelId::All));
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
}

#[test]
fn partner_problems_are_named_by_key_path() {
    let d = "ab".repeat(32);
    let text = format!(
        "[server]\nadmin_key_sha256 = \"xyz\"\n{PRIVATE}\
         [[partner]]\nid = \"Planet\"\nkey_sha256 = \"nrp_itself\"\nchannels = [\"both\", \"nope\", \"topic:wire\"]\nrate_limit = 0\n\
         [[partner]]\nid = \"b\"\nkey_sha256 = \"{d}\"\nchannels = []\n\
         [[partner]]\nid = \"b\"\nkey_sha256 = \"{d}\"\n"
    );
    let got = problems(&text);
    let paths: Vec<&str> = got.iter().map(|p| p.split(": ").next().unwrap_or_default()).collect();
    let want = [
        "server.admin_key_sha256",
        "partner[0].id",
        "partner[0].key_sha256",
        "partner[0].channels[0]",
        "partner[0].channels[1]",
        "partner[0].channels[2]",
        "partner[0].rate_limit",
        "partner[1].channels",
        "partner[2].id",
        "partner[2].key_sha256",
        "partner[2].channels",
    ];
    assert_eq!(paths, want, "{got:#?}");
    assert!(got[2].contains("the key itself"), "{}", got[2]);
    assert!(got[3].contains("\"topic:both\" or \"source:both\""), "{}", got[3]);
    assert!(got[9].contains("partner[1]'s key too"), "{}", got[9]);
}

#[test]
fn private_channels_without_an_admin_key_or_a_reader_are_warned_of() {
    let s = load(PRIVATE).unwrap_or_else(|e| panic!("{e}"));
    let w = s.warnings();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].starts_with("server.admin_key_sha256 is not set"), "{}", w[0]);
    assert_eq!(
        w[1..],
        ["topic:clients is private and no partner may read it", "source:wire is private and no partner may read it"]
    );
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
