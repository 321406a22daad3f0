//! Bring your sources: `newsriver import` of six feed readers' OPML exports into include files,
//! `export-sources` and back, and `newsriver add` finding a page's feed on a site on 127.0.0.1
//! behind the address guard.

use crate::helpers::*;
use crate::hostile_server::canary;
use newsriver::config::{Settings, SourceKind};
use newsriver::domain::FeedUrl;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::Ordering;

/// A main config reading `sources.d/*.toml`, its store inside the temp folder.
pub const MAIN: &str = "include = [\"sources.d/*.toml\"]\n\n[store]\npath = \"store\"\n";

pub fn config_with(main: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("newsriver.toml");
    std::fs::write(&path, main).expect("write config");
    (dir, path)
}

pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

pub fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure, got {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// `import FILE --json` with `extra` arguments; the parsed report.
fn import(config: &Path, file: &Path, extra: &[&str]) -> Value {
    let file = file.to_str().expect("UTF-8 path");
    let out = newsriver(config, &[&["import", file, "--json"], extra].concat());
    serde_json::from_str(&ok(&out)).expect("JSON report")
}

fn opml(name: &str) -> PathBuf {
    fixture(&format!("opml/{name}.opml"))
}

/// (id, url, title) of every configured source, as the config loads.
fn sources(config: &Path) -> Vec<(String, String, String)> {
    let settings = Settings::load(config).unwrap_or_else(|e| panic!("{e}"));
    settings.sources.iter().map(|s| (s.id.to_string(), s.url.to_string(), s.title.clone())).collect()
}

fn ids(config: &Path) -> Vec<String> {
    sources(config).into_iter().map(|(id, _, _)| id).collect()
}

/// The `reason` tags of the report's skipped outlines.
fn reasons(report: &Value) -> Vec<String> {
    let skipped = report["skipped"].as_array().expect("skipped list");
    skipped.iter().map(|s| s["reason"].as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn every_readers_export_imports_with_readable_ids() {
    let want: [(&str, &[&str], &[&str]); 8] = [
        (
            "miniflux",
            &[
                "harbour-gazette",
                "the-mayors-office",
                "rail-transit-updates",
                "open-lab-notes",
                "weather-service-alerts",
                "space-agency-newsroom",
            ],
            &[],
        ),
        (
            "freshrss",
            &["freshrss-releases", "city-council-minutes", "valley-courier", "riverside-weekly"],
            &["scraper", "no-url"],
        ),
        (
            "feedly",
            &[
                "parliament-press-releases",
                "election-commission",
                "valley-courier",
                "exchange-announcements",
                "central-bank",
                "ports-authority",
            ],
            &["duplicate"],
        ),
        (
            "inoreader",
            &[
                "toms-repair-shop",
                "ars-machina-everything",
                "zurich-tagesbericht",
                "harbour-gazette",
                "museum-quarter-whats-on",
                "opera-ballet",
            ],
            &[],
        ),
        (
            "netnewswire",
            &[
                "daily-briefing",
                "north-shore-times",
                "fjord-radio",
                "delta-herald",
                "coast-guard-notices",
                "cafe-europa",
            ],
            &[],
        ),
        ("newsboat", &["project-updates", "blog-example-com", "security-advisories", "mirror-releases"], &["bad-url"]),
        ("latin1", &["le-journal-de-la-region", "meteo-francaise"], &[]),
        ("utf16", &["zh-example-com", "el-example-net"], &[]),
    ];
    for (name, want_ids, want_skipped) in want {
        let (dir, config) = config_with(MAIN);
        let report = import(&config, &opml(name), &[]);
        let written = dir.path().join(format!("sources.d/{name}.toml"));
        assert_eq!(report["written"].as_str(), written.to_str(), "{name}");
        assert_eq!(ids(&config), want_ids, "{name}");
        assert_eq!(reasons(&report), want_skipped, "{name}");
        let reported: Vec<&str> =
            report["added"].as_array().expect("added").iter().filter_map(|a| a["id"].as_str()).collect();
        assert_eq!(reported, want_ids, "{name}: the report lists what the config now holds");
    }
}

#[test]
fn titles_urls_and_folders_are_read_as_the_readers_wrote_them() {
    let (dir, config) = config_with(MAIN);
    import(&config, &opml("inoreader"), &[]);
    let feedly = import(&config, &opml("feedly"), &[]);
    let nnw = import(&config, &opml("netnewswire"), &[]);
    let all = sources(&config);
    let title = |id: &str| all.iter().find(|s| s.0 == id).map(|s| s.2.as_str()).unwrap_or_default();
    let url = |id: &str| all.iter().find(|s| s.0 == id).map(|s| s.1.as_str()).unwrap_or_default();
    assert_eq!(title("toms-repair-shop"), "Tom's Repair Shop", "escaped twice");
    assert_eq!(title("ars-machina-everything"), "Ars Machina » Everything");
    assert_eq!(title("museum-quarter-whats-on"), "Museum Quarter – What’s on");
    assert_eq!(title("opera-ballet"), "Opera & Ballet");
    assert_eq!(url("ports-authority"), "http://ports.example.net/news.rss", "feed:// is the web address");
    assert_eq!(feedly["skipped"][0]["source"], "valley-courier", "the second listing names the first");
    let topics: Vec<(&str, &str, usize)> = (nnw["topics"].as_array().expect("topics").iter())
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default(),
                t["title"].as_str().unwrap_or_default(),
                t["sources"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(
        topics,
        [("regions-north", "Regions / North", 2), ("regions-south", "Regions / South", 1), ("regions", "Regions", 1)]
    );
    let file = std::fs::read_to_string(dir.path().join("sources.d/netnewswire.toml")).expect("written file");
    assert!(file.contains("# folder: Regions / North\n# site: https://northshore.example.org/\n[[source]]\nid = \"north-shore-times\""), "{file}");
    // The suggested topics are valid config: pasted in, the whole config checks.
    let suggested = toml::to_string(&serde_json::json!({ "topic": nnw["topics"] })).expect("topics as TOML");
    std::fs::write(dir.path().join("sources.d/topics.toml"), suggested).expect("write topics");
    assert_eq!(Settings::load(&config).unwrap_or_else(|e| panic!("{e}")).topics.len(), 3);
}

#[test]
fn feeds_already_configured_are_skipped_and_ids_are_the_same_every_time() {
    let (_a, first) = config_with(MAIN);
    let (_b, second) = config_with(MAIN);
    import(&first, &opml("miniflux"), &[]);
    import(&second, &opml("miniflux"), &[]);
    assert_eq!(sources(&first), sources(&second), "the same list gives the same sources in any fresh config");

    // The Inoreader list has the Miniflux list's Harbour Gazette at http:// with a slash more.
    let ino = import(&first, &opml("inoreader"), &[]);
    assert_eq!(reasons(&ino), ["configured"]);
    assert_eq!(ino["skipped"][0]["source"], "harbour-gazette");
    assert_eq!(ids(&first).iter().filter(|id| id.starts_with("harbour-gazette")).count(), 1);

    // Again: everything is configured, nothing is written, the file stays.
    let again = import(&first, &opml("miniflux"), &[]);
    assert_eq!(again["written"], Value::Null);
    assert_eq!(reasons(&again), ["configured"; 6]);
    let total = ids(&first).len();
    // --force replaces the file: its own sources are not "configured", and their ids come back.
    let forced = import(&first, &opml("miniflux"), &["--force"]);
    assert_eq!(forced["added"].as_array().map(Vec::len), Some(6));
    assert_eq!(ids(&first).len(), total);
    let all = sources(&first);
    assert!(sources(&second).iter().all(|s| all.contains(s)), "{all:?}");
}

#[test]
fn a_new_file_is_never_written_over_without_force() {
    let (dir, config) = config_with(MAIN);
    let into = dir.path().join("sources.d/mine.toml");
    std::fs::create_dir_all(into.parent().expect("parent")).expect("mkdir");
    std::fs::write(&into, "# my own notes\n").expect("write");
    let err = failed(&newsriver(
        &config,
        &["import", opml("newsboat").to_str().expect("path"), "--into", into.to_str().expect("path")],
    ));
    assert!(err.contains("exists; choose another with --into, or replace it with --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&into).expect("read"), "# my own notes\n");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("sources.d"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["mine.toml"], "no temp file is left behind");
}

#[test]
fn without_an_include_the_exact_line_is_given_or_added() {
    let (dir, config) = config_with("[store]\npath = \"store\"\n");
    let file = opml("newsboat");
    let err = failed(&newsriver(&config, &["import", file.to_str().expect("path")]));
    assert!(err.contains("\n  include = [\"sources.d/*.toml\"]\n"), "{err}");
    assert!(!dir.path().join("sources.d").exists(), "nothing written");
    let report = import(&config, &file, &["--add-include"]);
    assert_eq!(report["added"].as_array().map(Vec::len), Some(4));
    let settings = Settings::load(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(settings.include.patterns, ["sources.d/*.toml"]);
    assert_eq!(settings.store.path, dir.path().join("store"), "the rest of the file is as it was");
}

#[test]
fn an_import_that_breaks_the_config_is_undone() {
    // A topic names a source of the file being replaced; the new list no longer has it.
    let main = format!("{MAIN}\n[[topic]]\nid = \"watch\"\nsources = [\"old-feed\"]\n");
    let (dir, config) = config_with(&main);
    let list = dir.path().join("sources.d/newsboat.toml");
    std::fs::create_dir_all(list.parent().expect("parent")).expect("mkdir");
    let before = "[[source]]\nid = \"old-feed\"\nurl = \"https://old.example.org/rss\"\n";
    std::fs::write(&list, before).expect("write");
    let err = failed(&newsriver(&config, &["import", opml("newsboat").to_str().expect("path"), "--force"]));
    assert!(err.contains("the config does not check with the new sources, so nothing was kept"), "{err}");
    assert!(err.contains("topic[0].sources[0]: unknown source \"old-feed\""), "{err}");
    assert_eq!(std::fs::read_to_string(&list).expect("read"), before, "the replaced file is back");
    assert_eq!(ids(&config), ["old-feed"]);
}

#[test]
fn exported_sources_import_back_with_the_same_urls_and_ids() {
    let main = format!(
        "{MAIN}\n[[source]]\nid = \"po\"\ntitle = \"Press Office & Co\"\nurl = \"https://press.example.org/rss?lang=en&page=1\"\n\
         [[source]]\nid = \"wire-1\"\ntitle = \"Wire\"\nurl = \"https://wire.example.net/atom\"\n\
         [[source]]\nid = \"untitled\"\nurl = \"https://untitled.example.com/feed\"\n\
         [[source]]\nid = \"news-map\"\nkind = \"sitemap\"\nurl = \"https://press.example.org/sitemap.xml\"\n\
         [[source]]\nid = \"local\"\nurl = \"file:demo/feed.xml\"\n\
         [[topic]]\nid = \"gov\"\ntitle = \"Government\"\nsources = [\"po\", \"news-map\"]\n"
    );
    let (dir, config) = config_with(&main);
    let exported = dir.path().join("out/sources.opml");
    let out = newsriver(&config, &["export-sources", exported.to_str().expect("path")]);
    assert!(ok(&out).starts_with("3 feed(s) written to"));
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("source news-map left out") && notes.contains("source local left out"), "{notes}");
    let stdout = ok(&newsriver(&config, &["export-sources", "-"]));
    assert_eq!(stdout.lines().count(), std::fs::read_to_string(&exported).expect("read").lines().count());

    let list = newsriver::catalog::read_opml(&std::fs::read(&exported).expect("read")).expect("our OPML reads");
    assert_eq!(list.version.as_deref(), Some("2.0"));
    let folders: Vec<Vec<String>> = list.feeds.iter().map(|f| f.folders.clone()).collect();
    assert_eq!(folders, [vec!["Government".to_owned()], vec![], vec![]]);

    let (_empty, fresh) = config_with(MAIN);
    let report = import(&fresh, &exported, &[]);
    assert!(reasons(&report).is_empty());
    let web = |config: &Path| -> Vec<(String, String)> {
        let settings = Settings::load(config).unwrap_or_else(|e| panic!("{e}"));
        let feeds = settings.sources.iter().filter(|s| s.kind == SourceKind::Feed && matches!(s.url, FeedUrl::Http(_)));
        feeds.map(|s| (s.id.to_string(), s.url.to_string())).collect()
    };
    let mut before = web(&config);
    before.sort();
    let mut after = web(&fresh);
    after.sort();
    assert_eq!(after, before);
    assert_eq!(sources(&fresh).iter().find(|s| s.0 == "po").map(|s| s.2.as_str()), Some("Press Office & Co"));
}

/// A newsroom on loopback: a page linking its RSS feed, the feed, and a page linking two
/// feeds that differ.
fn newsroom(base: &str) -> Vec<(&'static str, Reply)> {
    let rss = |title: &str| {
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>{base}/</link><description>d</description>\
                 <item><guid>1</guid><title>One</title></item></channel></rss>")
    };
    let page = |links: &str| {
        format!("<!DOCTYPE html><html><head><title>Courier</title>{links}</head><body><p>News.</p></body></html>")
    };
    let top = r#"<link rel="alternate" type="application/rss+xml" title="Top" href="/feeds/top.rss">"#;
    let sport = r#"<link rel="alternate" type="application/rss+xml" title="Sport" href="/feeds/sport.rss">"#;
    vec![
        ("/news/", Reply::ok("text/html; charset=utf-8", page(top))),
        ("/sections/", Reply::ok("text/html; charset=utf-8", page(&format!("{top}{sport}")))),
        ("/feeds/top.rss", Reply::ok("application/rss+xml", rss("Valley Courier: top stories"))),
        ("/feeds/sport.rss", Reply::ok("application/rss+xml", rss("Valley Courier: sport"))),
    ]
}

/// A config that lets the fetcher reach 127.0.0.1 only.
fn loopback_config() -> (tempfile::TempDir, PathBuf) {
    config_with(&format!("{MAIN}\n[polling]\ntimeout = \"5s\"\nmin_gap = \"0s\"\nallow_hosts = [\"127.0.0.1\"]\n"))
}

async fn add(config: &Path, args: &[&str]) -> Output {
    run_newsriver(&[&["add", "--config", config.to_str().expect("path")], args].concat()).await
}

#[tokio::test]
async fn add_finds_the_feed_a_page_links_to_and_checks_the_config() {
    let site = site(newsroom).await;
    let (dir, config) = loopback_config();
    let page = format!("{}/news/", site.base);
    let text = ok(&add(&config, &[&page]).await);
    let added = dir.path().join("sources.d/added.toml");
    let block = text.split_once(":\n").map(|(_, rest)| rest).unwrap_or_default();
    let table: toml::Table = toml::from_str(block.split("\n\n").next().unwrap_or_default()).expect("the printed table");
    assert_eq!(table["source"][0]["url"].as_str(), Some(format!("{}/feeds/top.rss", site.base).as_str()));
    let top = format!("{}/feeds/top.rss", site.base);
    let want = ("valley-courier-top-stories".to_owned(), top, "Valley Courier: top stories".to_owned());
    assert_eq!(sources(&config), [want]);
    assert!(std::fs::read_to_string(&added)
        .expect("added.toml")
        .contains(&format!("# found on {page} by `newsriver add`")));

    // The same feed again, by its own URL: refused, the file unchanged.
    let before = std::fs::read_to_string(&added).expect("read");
    let err = failed(&add(&config, &[&format!("{}/feeds/top.rss", site.base)]).await);
    assert!(err.contains("already configured as source \"valley-courier-top-stories\""), "{err}");
    assert_eq!(std::fs::read_to_string(&added).expect("read"), before);

    // A page that links two feeds that differ: listed, then picked by number.
    let sections = format!("{}/sections/", site.base);
    let err = failed(&add(&config, &[&sections]).await);
    assert!(err.contains("leads to 2 feeds that differ; run again with --pick N"), "{err}");
    assert!(err.contains(&format!("  2. feed \"Valley Courier: sport\" {}/feeds/sport.rss", site.base)), "{err}");
    ok(&add(&config, &[&sections, "--pick", "2", "--id", "sport", "--title", "Sport desk"]).await);
    let all = sources(&config);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], ("sport".to_owned(), format!("{}/feeds/sport.rss", site.base), "Sport desk".to_owned()));
    let err = failed(&add(&config, &[&sections, "--pick", "2", "--id", "sport"]).await);
    assert!(err.contains("--id \"sport\" is the id of a configured source"), "{err}");
}

#[tokio::test]
async fn add_goes_through_the_address_guard() {
    let canary = canary("127.0.0.2").await;
    let (dir, config) = loopback_config();
    let url = format!("http://127.0.0.2:{}/news/", canary.port);
    let err = failed(&add(&config, &[&url]).await);
    assert!(err.contains("address guard"), "{err}");
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "the canary never saw a request");
    assert!(!dir.path().join("sources.d").exists(), "nothing written");
}
