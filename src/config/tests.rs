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
        load("[[source]]\nid = \"a\"\nkind = \"page\"\nurl = \"https://example.org/\"\n")
    else {
        panic!("an unknown kind is refused")
    };
    assert_eq!(problems[0].path, "source[0].kind");
}
