//! The admin key, partners' usage and rate limits, the key commands, and private channels kept
//! out of the static export, events and (after a source is made private) what was stored.

use crate::event_channels::{
    coverage, event_reports, expected_coverage, fixture_items, item_of, keys, spawn_events_app,
};
use crate::helpers::*;
use crate::partners::{key, keys_of, opml_feeds, partner, spawn_private, ADMIN, AGENCY, PLANET};
use newsriver::config::Settings;
use newsriver::domain::{EntryKey, Grant, KeyDigest, PartnerId};
use std::collections::{BTreeSet, HashSet};
use std::process::Command;

fn newsriver(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_newsriver")).args(args).output().expect("run newsriver")
}

#[tokio::test]
async fn the_admin_key_closes_the_api_and_metrics_but_not_health() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let entry = format!("/api/entries/{}", key("wire", "w2"));
    for path in ["/api/sources", "/api/partners", "/metrics", entry.as_str()] {
        let url = format!("{}{path}", app.base);
        let anonymous = app.client.get(&url).send().await.expect("get");
        assert_eq!(anonymous.status(), 401, "{path}");
        assert!(anonymous.headers().contains_key("www-authenticate"), "{path}");
        let partner = app.client.get(&url).bearer_auth(AGENCY).send().await.expect("get");
        assert_eq!(partner.status(), 401, "{path}: a partner's key is no admin key");
        let in_url = app.client.get(format!("{url}?key={ADMIN}")).send().await.expect("get");
        assert_eq!(in_url.status(), 401, "{path}: the admin key is never taken from a URL");
        let bearer = app.client.get(&url).bearer_auth(ADMIN).send().await.expect("get");
        assert_eq!(bearer.status(), 200, "{path}");
        let basic = app.client.get(&url).basic_auth("admin", Some(ADMIN)).send().await.expect("get");
        assert_eq!(basic.status(), 200, "{path}");
    }
    let health: serde_json::Value = app.get("/healthz").await.json().await.expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(app.get("/feeds/all.atom").await.status(), 200, "channels are no admin endpoints");
    app.stop().await;
}

/// One partner's row of `/api/partners`.
async fn usage_of(app: &TestApp, id: &str) -> serde_json::Value {
    let resp = app.client.get(format!("{}/api/partners", app.base)).bearer_auth(ADMIN).send().await.expect("get");
    let rows: Vec<serde_json::Value> = resp.json().await.expect("json");
    rows.into_iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} in /api/partners"))
}

#[tokio::test]
async fn each_partners_requests_304s_and_items_are_counted() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let url = format!("{}/topics/clients.atom", app.base);
    let first = app.client.get(&url).bearer_auth(PLANET).send().await.expect("get");
    let etag = first.headers()["etag"].clone();
    let pulled = keys_of(&feed_rs::parser::parse(first.bytes().await.expect("body").as_ref()).expect("atom")).len();
    let again = app.client.get(&url).bearer_auth(PLANET).header("if-none-match", etag).send().await.expect("get");
    assert_eq!(again.status(), 304);
    let all = app.client.get(format!("{}/feeds/all.json?key={PLANET}", app.base)).send().await.expect("get");
    assert_eq!(all.status(), 200, "a partner's key on a public channel is counted too");
    let merged = all.json::<serde_json::Value>().await.expect("json")["items"].as_array().map_or(0, Vec::len);
    app.state.gate.record_push(&PartnerId::parse("planet").expect("slug"), 4);
    let planet = usage_of(&app, "planet").await;
    assert_eq!(planet["requests"], 3, "{planet}");
    assert_eq!(planet["not_modified"], 1, "{planet}");
    assert_eq!(planet["items_pulled"], (pulled + merged) as u64, "{planet}");
    assert_eq!(planet["items_pushed"], 4, "{planet}");
    assert!(planet["last_seen"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{planet}");
    assert_eq!(planet["channels"], serde_json::json!(["topic:clients"]));
    let agency = usage_of(&app, "agency").await;
    assert_eq!((agency["requests"].as_u64(), agency["last_seen"].is_null()), (Some(0), true), "{agency}");
    if have_metrics_parser() {
        let resp = app.client.get(format!("{}/metrics", app.base)).bearer_auth(ADMIN).send().await.expect("get");
        let m = metrics_of(resp).await;
        let (planet, agency) = (&[("partner", "planet")], &[("partner", "agency")]);
        assert_eq!(m.get("newsriver_partner_requests_total", planet), 3.0);
        assert_eq!(m.get("newsriver_partner_not_modified_total", planet), 1.0);
        assert_eq!(m.get("newsriver_partner_items_pulled_total", planet), (pulled + merged) as f64);
        assert_eq!(m.get("newsriver_partner_items_pushed_total", planet), 4.0);
        assert_eq!(m.get("newsriver_partner_requests_total", agency), 0.0);
        assert!(m.get("newsriver_partner_last_seen_seconds", planet) > 1.7e9, "a Unix time");
        assert_eq!(m.get("newsriver_partner_last_seen_seconds", agency), 0.0, "never seen");
        let types =
            ["newsriver_partner_requests", "newsriver_partner_last_seen_seconds"].map(|f| &m.family(f).expect(f).kind);
        assert_eq!(types, ["counter", "gauge"]);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_partners_rate_limit_answers_429_with_retry_after() {
    let (app, _feeds) = spawn_private(|s| s.partners[0].rate_limit = Some(2)).await;
    let get = || app.client.get(format!("{}/topics/clients.rss", app.base)).bearer_auth(PLANET).send();
    assert_eq!(get().await.expect("get").status(), 200);
    assert_eq!(get().await.expect("get").status(), 200);
    let limited = get().await.expect("get");
    assert_eq!(limited.status(), 429, "a minute's worth (2) at once, then one every 30 s");
    let retry: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    let other = app.client.get(format!("{}/topics/clients.rss", app.base)).bearer_auth(AGENCY).send().await;
    assert_eq!(other.expect("get").status(), 200, "another partner has its own budget");
    assert_eq!(usage_of(&app, "planet").await["rate_limited"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_private_report_never_becomes_the_item_a_public_event_shows() {
    let private = event_reports("A")[0].outlet;
    let (app, _servers) = spawn_events_app(|_, s| {
        s.sources.iter_mut().filter(|src| src.id.as_str() == private).for_each(|src| src.private = true);
        s.partners = vec![partner("agency", AGENCY, Grant::All, None)];
    })
    .await;
    let doc: serde_json::Value = app.get("/feeds/all.json").await.json().await.expect("json");
    let public = |label: &str| -> Vec<_> { event_reports(label).into_iter().filter(|r| r.outlet != private).collect() };
    let mut want: HashSet<EntryKey> =
        fixture_items().iter().filter(|r| r.event.is_empty() && r.outlet != private).map(|r| r.key()).collect();
    for label in ["A", "B"] {
        let reports = public(label);
        let Some(first) = reports.first() else { continue };
        want.insert(first.key());
        assert_eq!(coverage(item_of(&doc, first.key())), expected_coverage(&reports), "event {label}");
    }
    assert_eq!(keys(&doc), want, "the earliest public report shows each event; {private}'s items show nowhere");
    let own = app.get(&format!("/sources/{private}.json")).await;
    assert_eq!(own.status(), 401);
    let with_key = app.client.get(format!("{}/sources/{private}.json", app.base)).bearer_auth(AGENCY).send().await;
    let with_key: serde_json::Value = with_key.expect("get").json().await.expect("json");
    let theirs: HashSet<EntryKey> = fixture_items().iter().filter(|r| r.outlet == private).map(|r| r.key()).collect();
    assert_eq!(keys(&with_key), theirs);
    app.stop().await;
}

#[tokio::test]
async fn the_static_export_holds_no_private_channel_or_item() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let dir = app.stop_keeping_dir().await;
    let out_dir = dir.path().join("public");
    let cfg = dir.path().join(CONFIG_FILE);
    let out = newsriver(&["--config", cfg.to_str().expect("utf-8"), "export", out_dir.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for gone in ["topics/clients", "sources/wire"] {
        for ext in ["rss", "atom", "json", "ninjs"] {
            assert!(!out_dir.join(format!("{gone}.{ext}")).exists(), "{gone}.{ext} was exported");
        }
    }
    let all = std::fs::read(out_dir.join("feeds/all.atom")).expect("all.atom");
    let all = feed_rs::parser::parse(all.as_slice()).expect("atom");
    assert_eq!(keys_of(&all), BTreeSet::from([key("daily", "d1"), key("daily", "d2")]));
    let opml = std::fs::read_to_string(out_dir.join("channels.opml")).expect("opml");
    let want: BTreeSet<String> =
        ["/feeds/all", "/topics/economy", "/sources/daily"].iter().map(|p| format!("{PUBLIC_URL}{p}.rss")).collect();
    assert_eq!(opml_feeds(&opml), want);
    let index = std::fs::read_to_string(out_dir.join("index.html")).expect("index");
    assert!(!index.contains("clients") && !index.contains("sources/wire"), "{index}");
}

#[tokio::test]
async fn making_a_source_private_reroutes_what_is_stored() {
    let (app, _feeds) = spawn_private(|s| s.sources[1].private = false).await;
    let w2 = key("wire", "w2");
    assert!(keys_of(&app.feed("/feeds/all.atom").await).contains(&w2));
    assert!(keys_of(&app.feed("/topics/economy.atom").await).contains(&w2));
    // Public, w1 and d1 became one story: d1 lists w1 as another outlet's copy.
    assert_eq!(related_links(&app.feed("/sources/daily.atom").await), ["https://news.example/budget"]);
    let mut settings = app.settings();
    settings.sources[1].private = true;
    let app = app.restart(settings).await;
    // Re-routing runs beside serving; the channels show it once done.
    let mut all = BTreeSet::new();
    for _ in 0..100 {
        all = keys_of(&app.feed("/feeds/all.atom").await);
        if !all.contains(&w2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!all.contains(&w2), "{all:?}");
    assert!(!keys_of(&app.feed("/topics/economy.atom").await).contains(&w2));
    let clients = app.client.get(format!("{}/topics/clients.atom", app.base)).bearer_auth(PLANET).send().await;
    let clients = feed_rs::parser::parse(clients.expect("get").bytes().await.expect("body").as_ref()).expect("atom");
    assert!(keys_of(&clients).contains(&w2));
    // The story formed before stays stored, but the private copy is listed nowhere.
    assert!(related_links(&app.feed("/sources/daily.atom").await).is_empty());
    let stored = app.state.store.entry(&w2).expect("read").expect("stored");
    assert!(stored.private && stored.topics.iter().all(|t| t.topic.as_str() == "clients"), "{stored:?}");
    app.stop().await;
}

/// The `rel="related"` links of every entry of an Atom channel.
fn related_links(feed: &feed_rs::model::Feed) -> Vec<String> {
    let links = feed.entries.iter().flat_map(|e| e.links.iter());
    links.filter(|l| l.rel.as_deref() == Some("related")).map(|l| l.href.clone()).collect()
}

/// `partner new` prints the key once (stderr) and a table whose digest is the key's (stdout),
/// which loads as a config's.
#[test]
fn the_key_commands_print_a_key_and_what_the_config_keeps_of_it() {
    let out = newsriver(&[
        "partner",
        "new",
        "planet",
        "--title",
        "Daily \"Planet\"",
        "--channel",
        "clients",
        "--rate-limit",
        "30",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let key = stderr.lines().find(|l| l.starts_with("nrp_")).unwrap_or_else(|| panic!("no key in {stderr}"));
    assert!(key.len() >= 40 && !stdout.contains(key), "the key is long and never in the table");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("newsriver.toml");
    std::fs::write(&path, format!("[[topic]]\nid = \"clients\"\nany = [\"x\"]\nprivate = true\n{stdout}"))
        .expect("write");
    let s = Settings::load(&path).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    let p = &s.partners[0];
    assert_eq!((p.id.as_str(), p.title.as_str(), p.rate_limit), ("planet", "Daily \"Planet\"", Some(30)));
    assert!(p.key_sha256.matches(&KeyDigest::of_key(key)));
    assert_eq!(p.channels.names(), ["topic:clients"]);
    let admin = newsriver(&["admin-key"]);
    assert!(admin.status.success());
    let admin_key = String::from_utf8_lossy(&admin.stderr).lines().find(|l| l.starts_with("nra_")).map(str::to_owned);
    let admin_key = admin_key.expect("an admin key");
    let line =
        String::from_utf8_lossy(&admin.stdout).lines().find(|l| l.starts_with("admin_key_sha256")).map(str::to_owned);
    std::fs::write(&path, format!("[server]\n{}\n", line.expect("the line"))).expect("write");
    let s = Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.server.admin_key_sha256, Some(KeyDigest::of_key(&admin_key)));
    assert!(!newsriver(&["partner", "new", "Not A Slug"]).status.success());
}

#[test]
fn check_names_partner_problems_and_warns_of_open_admin_endpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("newsriver.toml");
    let cfg = path.to_str().expect("utf-8");
    std::fs::write(&path, "[[topic]]\nid = \"clients\"\nany = [\"x\"]\nprivate = true\n").expect("write");
    let out = newsriver(&["--config", cfg, "check"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: server.admin_key_sha256 is not set"), "{stderr}");
    assert!(stderr.contains("warning: topic:clients is private and no partner may read it"), "{stderr}");
    let bad = "[[partner]]\nid = \"planet\"\nkey_sha256 = \"abc\"\nchannels = [\"nope\"]\n";
    std::fs::write(&path, bad).expect("write");
    let out = newsriver(&["--config", cfg, "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("partner[0].key_sha256: must be 64 hex characters"), "{stderr}");
    assert!(stderr.contains("partner[0].channels[0]: unknown channel \"nope\""), "{stderr}");
}

#[tokio::test]
async fn the_sources_command_asks_a_closed_service_with_the_admin_key() {
    let (app, _feeds) = spawn_private(|_| {}).await;
    let port: u16 = app.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let mut settings = app.settings();
    settings.server.listen = ([127, 0, 0, 1], port).into();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join(CONFIG_FILE);
    write_config(&cfg, &settings);
    let run = |key: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsriver"));
        cmd.args(["--config", cfg.to_str().expect("utf-8"), "sources", "--json"]).env_remove("NEWSRIVER_ADMIN_KEY");
        if let Some(k) = key {
            cmd.env("NEWSRIVER_ADMIN_KEY", k);
        }
        // The service shares this runtime: wait for the command off it.
        tokio::task::spawn_blocking(move || cmd.output().expect("run"))
    };
    let refused = run(None).await.expect("join");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("set NEWSRIVER_ADMIN_KEY"), "{refused:?}");
    let out = run(Some(ADMIN)).await.expect("join");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.len(), 2);
    app.stop().await;
}
