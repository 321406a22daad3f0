//! Topic channels, caching, paging, `since` cursors, flood protection, OPML and the index.

use crate::helpers::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const TOPICS: &str = r#"
[[topic]]
id = "south-caucasus"
title = "South Caucasus"
description = "Diplomacy and security in Azerbaijan, Armenia and Georgia"
any = ["Azerbaijan", "Armenia", "Karabakh", "/south\\s+caucasus/i"]
none = ["football"]

[[topic]]
id = "economy"
title = "Economy"
categories = ["Economy"]
sources = ["wire"]
"#;

fn news_items() -> Vec<u8> {
    rss(&[
        "<item><guid>n1</guid><title>Armenia and Azerbaijan resume talks</title><pubDate>20 Nov 2026 10:00:00 +0000</pubDate></item>",
        "<item><guid>n2</guid><title>Tirana hosts regional forum</title><pubDate>21 Nov 2026 10:00:00 +0000</pubDate></item>",
        "<item><guid>n3</guid><title>Armenia football team wins</title><pubDate>22 Nov 2026 10:00:00 +0000</pubDate></item>",
        "<item><guid>n4</guid><title>Security in the South  Caucasus</title><category>Economy</category><pubDate>23 Nov 2026 10:00:00 +0000</pubDate></item>",
    ]
    .concat())
}

fn ids_titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().filter_map(|e| e.title.as_ref().map(|t| t.content.clone())).collect()
}

#[tokio::test]
async fn topics_route_by_rules_and_show_why() {
    let news = serve_body("/feed", news_items(), "application/rss+xml").await;
    let wire = serve_body("/feed", rss(&rss_item("w1", "Markets calm", 24)), "application/rss+xml").await;
    let sources = [("news", format!("{}/feed", news.uri())), ("wire", format!("{}/feed", wire.uri()))];
    let app = spawn_app_with_topics(&sources, TOPICS).await;
    app.poll_now().await;
    let sc = app.feed("/topics/south-caucasus.atom").await;
    assert_eq!(ids_titles(&sc), ["Security in the South Caucasus", "Armenia and Azerbaijan resume talks"]);
    let econ = app.feed("/topics/economy.rss").await;
    assert_eq!(ids_titles(&econ), ["Markets calm", "Security in the South Caucasus"]);
    let key = app.all_entries().into_iter().find(|e| e.identity == "n4").expect("n4").key;
    let entry: serde_json::Value = app.get(&format!("/api/entries/{key}")).await.json().await.expect("json");
    let rules: Vec<(String, String)> = entry["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| (t["topic"].as_str().unwrap_or("").to_owned(), t["rule"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        rules,
        [
            ("south-caucasus".into(), "any:\"/south\\\\s+caucasus/i\"".into()),
            ("economy".into(), "category:\"Economy\"".into())
        ]
    );
    assert_eq!(app.get("/topics/nope.atom").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn changed_rules_reroute_stored_entries_on_restart() {
    let news = serve_body("/feed", news_items(), "application/rss+xml").await;
    let wire = serve_body("/feed", rss(&rss_item("w1", "Markets calm", 24)), "application/rss+xml").await;
    let sources = [("news", format!("{}/feed", news.uri())), ("wire", format!("{}/feed", wire.uri()))];
    let app = spawn_app_with_topics(&sources, TOPICS).await;
    app.poll_now().await;
    assert_eq!(app.feed("/topics/south-caucasus.atom").await.entries.len(), 2);
    // Football is no longer excluded, and "Tirana" joins via a new word.
    let mut settings = app.settings();
    let topic = topic_mut(&mut settings, "south-caucasus");
    topic.any = vec!["Armenia".into(), "Tirana".into()];
    topic.none.clear();
    let app = app.restart(settings).await;
    // Re-routing runs beside serving; the channel shows it once done (cached renders included).
    let want = ["Armenia football team wins", "Tirana hosts regional forum", "Armenia and Azerbaijan resume talks"];
    let mut titles = Vec::new();
    for _ in 0..100 {
        titles = ids_titles(&app.feed("/topics/south-caucasus.atom").await);
        if titles == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(titles, want);
    app.stop().await;
}

#[tokio::test]
async fn reindex_command_recomputes_membership() {
    let news = serve_body("/feed", news_items(), "application/rss+xml").await;
    let wire = serve_body("/feed", rss(&rss_item("w1", "Markets calm", 24)), "application/rss+xml").await;
    let sources = [("news", format!("{}/feed", news.uri())), ("wire", format!("{}/feed", wire.uri()))];
    let app = spawn_app_with_topics(&sources, TOPICS).await;
    app.poll_now().await;
    let mut settings = app.settings();
    topic_mut(&mut settings, "south-caucasus").any.push("Tirana".into());
    let dir = app.stop_keeping_dir().await;
    let cfg = dir.path().join(CONFIG_FILE);
    write_config(&cfg, &settings);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(&cfg)
        .arg("reindex")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 changed topic membership"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let store = newsriver::store::Store::open_settings(&settings.store).expect("open");
    let topic = newsriver::domain::ChannelId::Topic(newsriver::domain::TopicId::parse("south-caucasus").expect("slug"));
    assert_eq!(store.latest(&topic, 10).expect("read").len(), 3);
}

#[tokio::test]
async fn conditional_get_and_cache_invalidation() {
    let a = serve_body("/feed", rss(&rss_item("a1", "A one", 20)), "application/rss+xml").await;
    let b = serve_body("/feed", rss(&rss_item("b1", "B one", 21)), "application/rss+xml").await;
    let app = spawn_app(&[("a", format!("{}/feed", a.uri())), ("b", format!("{}/feed", b.uri()))]).await;
    app.poll_now().await;
    let first = app.get("/feeds/all.atom").await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let last_modified = first.headers()["last-modified"].to_str().expect("lm").to_owned();
    assert_eq!(first.headers()["cache-control"], "public, max-age=60");
    assert_eq!(first.headers()["vary"], "Accept-Encoding");
    let renders = app.state.cache.renders();
    for (name, value) in [("if-none-match", etag.as_str()), ("if-modified-since", last_modified.as_str())] {
        let resp =
            app.client.get(format!("{}/feeds/all.atom", app.base)).header(name, value).send().await.expect("req");
        assert_eq!(resp.status(), 304, "{name}");
        assert!(resp.bytes().await.expect("body").is_empty());
    }
    app.get("/feeds/all.atom").await;
    assert_eq!(app.state.cache.renders(), renders, "hits and 304s render nothing");
    let b_etag = app.get("/sources/b.atom").await.headers()["etag"].clone();
    let renders = app.state.cache.renders();

    // A new item in source a: the merged channel and a's channel change, b's does not.
    a.reset().await;
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(
                rss(&(rss_item("a2", "A two", 22) + &rss_item("a1", "A one", 20))),
                "application/rss+xml",
            ),
        )
        .mount(&a)
        .await;
    app.poll_now().await;
    let resp = app
        .client
        .get(format!("{}/feeds/all.atom", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), 200, "a commit invalidates the merged channel");
    assert_ne!(resp.headers()["etag"].to_str().expect("etag"), etag);
    let b_again = app.get("/sources/b.atom").await;
    assert_eq!(b_again.headers()["etag"], b_etag);
    assert_eq!(app.state.cache.renders(), renders + 1, "only the touched channel re-rendered");
    app.stop().await;
}

#[tokio::test]
async fn compressed_bodies_decode_to_the_same_feed() {
    use std::io::Read;
    let a = serve_body("/feed", news_items(), "application/rss+xml").await;
    let app = spawn_app(&[("a", format!("{}/feed", a.uri()))]).await;
    app.poll_now().await;
    let plain = app.get("/feeds/all.rss").await.bytes().await.expect("body").to_vec();
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().expect("client");
    for (accept, encoding) in [("gzip", "gzip"), ("gzip, br", "br")] {
        let resp =
            raw.get(format!("{}/feeds/all.rss", app.base)).header("accept-encoding", accept).send().await.expect("req");
        assert_eq!(resp.headers()["content-encoding"], encoding);
        let etag = resp.headers()["etag"].to_str().expect("etag").to_owned();
        let body = resp.bytes().await.expect("body").to_vec();
        let mut decoded = Vec::new();
        if encoding == "gzip" {
            flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut decoded).expect("gunzip");
        } else {
            brotli::Decompressor::new(body.as_slice(), 4096).read_to_end(&mut decoded).expect("unbrotli");
        }
        assert_eq!(decoded, plain, "{encoding}");
        let again = raw
            .get(format!("{}/feeds/all.rss", app.base))
            .header("accept-encoding", accept)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("req");
        assert_eq!(again.status(), 304);
    }
    app.stop().await;
}

#[tokio::test]
async fn paging_walks_every_item_exactly_once() {
    let items: String = (1..=23).map(|i| rss_item(&format!("g{i}"), &format!("Story {i}"), 1 + (i % 28))).collect();
    let a = serve_body("/feed", rss(&items), "application/rss+xml").await;
    let app = spawn_app_with(&[("a", format!("{}/feed", a.uri()))], |p| p.initial_items = 100).await;
    app.poll_now().await;
    for format in ["atom", "rss", "json"] {
        let mut url = Some(format!("{}/feeds/all.{format}?limit=5", app.base));
        let (mut seen, mut pages) = (Vec::new(), 0);
        while let Some(u) = url.take() {
            pages += 1;
            assert!(pages <= 10, "paging loops");
            let body = app.client.get(&u).send().await.expect("req").bytes().await.expect("body");
            let feed = feed_rs::parser::parse(body.as_ref()).expect("parses");
            seen.extend(feed.entries.iter().map(|e| e.id.clone()));
            url = if format == "json" {
                serde_json::from_slice::<serde_json::Value>(&body).expect("json")["next_url"]
                    .as_str()
                    .map(|n| n.replace(PUBLIC_URL, &app.base))
            } else {
                feed.links
                    .iter()
                    .find(|l| l.rel.as_deref() == Some("next"))
                    .map(|l| l.href.replace(PUBLIC_URL, &app.base))
            };
        }
        assert_eq!(seen.len(), 23, "{format}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23, "{format}: no repeats");
        assert_eq!(pages, 5, "{format}");
    }
    assert_eq!(app.get("/feeds/all.atom?before=nonsense").await.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn a_new_source_does_not_flood_channels() {
    let items: String = (1..=25).map(|i| rss_item(&format!("g{i}"), &format!("Story {i}"), 1 + i)).collect();
    let a = serve_body("/feed", rss(&items), "application/rss+xml").await;
    let app = spawn_app(&[("a", format!("{}/feed", a.uri()))]).await;
    let r = app.poll_now().await;
    assert_eq!(report(&r, "a").summary.new, 25, "all stored");
    let feed = app.feed("/feeds/all.atom?limit=100").await;
    assert_eq!(feed.entries.len(), 10, "only initial_items enter channels");
    assert_eq!(ids_titles(&feed)[0], "Story 25");
    assert_eq!(app.feed("/sources/a.atom?limit=100").await.entries.len(), 10);
    assert_eq!(app.state.store.entry_count(), 25);
    // Later polls add new items to channels as usual.
    a.reset().await;
    let more = rss_item("g26", "Story 26", 27) + &items;
    wiremock::Mock::given(wiremock::matchers::path("/feed"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(rss(&more), "application/rss+xml"))
        .mount(&a)
        .await;
    app.poll_now().await;
    assert_eq!(app.feed("/feeds/all.atom?limit=100").await.entries.len(), 11);
    app.stop().await;
}

/// A feed whose item list grows with every request, so ingest and reading interleave.
async fn growing_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let handler = move |axum::extract::Path(feed): axum::extract::Path<String>| {
        let h = h.clone();
        async move {
            let n = h.fetch_add(1, Ordering::SeqCst) + 1;
            let items: String = (0..n.min(60))
                .map(|i| rss_item(&format!("{feed}-{i}"), &format!("{feed} story {i}"), 1 + (i % 27) as u32))
                .collect();
            ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], rss(&items))
        }
    };
    let router = axum::Router::new().route("/{feed}", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_cursor_sees_every_item_once_under_concurrent_ingest() {
    let (base, _hits) = growing_server().await;
    let sources: Vec<(String, String)> = (0..6).map(|i| (format!("s{i}"), format!("{base}/f{i}"))).collect();
    let refs: Vec<(&str, String)> = sources.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let app = Arc::new(spawn_app_with(&refs, |p| p.initial_items = 1000).await);
    let ingest = {
        let app = app.clone();
        tokio::spawn(async move {
            for _ in 0..12 {
                app.poll_now().await;
            }
        })
    };
    let mut cursor = "0".to_owned();
    let mut seen: Vec<String> = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 2000, "since polling did not converge");
        let done = ingest.is_finished();
        let resp = app.get(&format!("/feeds/all.json?since={cursor}&limit=7")).await;
        cursor = resp.headers()["x-newsriver-cursor"].to_str().expect("cursor").to_owned();
        let doc: serde_json::Value = resp.json().await.expect("json");
        let items = doc["items"].as_array().cloned().unwrap_or_default();
        seen.extend(items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)));
        if done && items.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stored: HashSet<String> = app.all_entries().iter().map(|e| e.key.urn()).collect();
    assert_eq!(seen.len(), seen.iter().collect::<HashSet<_>>().len(), "no item repeated");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), stored, "no item missed");
    assert!(stored.len() >= 6 * 12);
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}

#[tokio::test]
async fn opml_and_index_list_every_channel() {
    if !have_feedparser() {
        return;
    }
    let a = serve_body("/feed", news_items(), "application/rss+xml").await;
    let sources = [("news", format!("{}/feed", a.uri())), ("wire", format!("{}/feed", a.uri()))];
    let app = spawn_app_with_topics(&sources, TOPICS).await;
    app.poll_now().await;
    let doc = &read_with_clients(&[format!("{}/channels.opml", app.base)]).await[0];
    let urls: Vec<&str> = doc["xml_urls"].as_array().expect("urls").iter().filter_map(|u| u.as_str()).collect();
    let want: Vec<String> =
        ["/feeds/all", "/topics/south-caucasus", "/topics/economy", "/sources/news", "/sources/wire"]
            .iter()
            .map(|p| format!("{PUBLIC_URL}{p}.rss"))
            .collect();
    assert_eq!(urls, want);
    let page = read_with_clients(&[format!("{}/", app.base)]).await;
    let hrefs: HashSet<&str> = page[0]["hrefs"].as_array().expect("hrefs").iter().filter_map(|h| h.as_str()).collect();
    for p in ["/feeds/all", "/topics/south-caucasus", "/topics/economy", "/sources/news", "/sources/wire"] {
        for ext in ["rss", "atom", "json", "ninjs"] {
            // Relative: the page is at the root, and a static copy may be hosted under a folder.
            let href = format!("{}.{ext}", p.trim_start_matches('/'));
            assert!(hrefs.contains(href.as_str()), "{href} in {hrefs:?}");
        }
    }
    app.stop().await;
}

/// Open files that hold a cached body for `sendfile` (the app runs in this process): unnamed
/// files in the temporary directory (`/tmp/#12345 (deleted)`), or memfds where there are none.
fn body_files() -> usize {
    let unnamed = std::env::temp_dir().join("#").to_string_lossy().into_owned();
    let is_body = |t: &str| t.contains("newsriver-body") || (t.starts_with(&unnamed) && t.ends_with("(deleted)"));
    let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
    fds.iter().filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| is_body(&t.to_string_lossy()))).count()
}

#[tokio::test]
async fn a_large_cached_channel_arrives_whole_in_every_encoding_again_and_again() {
    use std::io::Read;
    // Text that compresses little, so even the compressed bodies are large.
    let mut seed = 7u64;
    let mut noise = |n: usize| {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                char::from(b'a' + (seed >> 59) as u8 % 26)
            })
            .collect::<String>()
    };
    let items: String = (1..=100)
        .map(|i| {
            let text = noise(900);
            format!("<item><guid>big{i}</guid><title>Story {i}</title><description>{text}</description><pubDate>{:02} Nov 2026 10:{:02}:00 +0000</pubDate></item>", 1 + i % 28, i % 60)
        })
        .collect();
    let a = serve_body("/feed", rss(&items), "application/rss+xml").await;
    let app = spawn_app_with(&[("a", format!("{}/feed", a.uri()))], |p| p.initial_items = 100).await;
    app.poll_now().await;
    let url = format!("{}/feeds/all.atom?limit=100", app.base);
    let raw = reqwest::Client::builder().no_gzip().no_brotli().build().expect("client");
    let get = |accept: &'static str| {
        let req = raw.get(&url).header("accept-encoding", accept).send();
        async move { req.await.expect("req").bytes().await.expect("body").to_vec() }
    };
    let plain = get("identity").await;
    assert!(plain.len() > 64 * 1024, "a large body: {}", plain.len());
    assert_eq!(feed_rs::parser::parse(plain.as_slice()).expect("parses").entries.len(), 100);
    for _ in 0..3 {
        assert!(get("identity").await == plain, "the cached body again, byte for byte");
        let gz = get("gzip").await;
        assert!(gz.len() > 16 * 1024, "compressed, still large: {}", gz.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut decoded).expect("gunzip");
        assert!(decoded == plain, "gzip");
        let mut decoded = Vec::new();
        brotli::Decompressor::new(get("br").await.as_slice(), 4096).read_to_end(&mut decoded).expect("unbrotli");
        assert!(decoded == plain, "brotli");
    }
    // Bodies of 16 KiB or more are sent from files (on tmpfs, up to 96 KiB).
    assert!(body_files() >= 1, "the cached compressed bodies are sent from files");
    app.stop().await;
}

#[tokio::test]
async fn a_channel_url_answers_alike_whether_it_needs_decoding_or_not() {
    let items = "<item><guid>one</guid><title>One</title><link>https://a.example/1</link><pubDate>01 Nov 2026 10:00:00 +0000</pubDate></item>";
    let a = serve_body("/feed", rss(items), "application/rss+xml").await;
    let app = spawn_app_with(&[("a", format!("{}/feed", a.uri()))], |_| {}).await;
    app.poll_now().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", app.base)).send();
    // The plain URL is answered without the router; the encoded ones and the refused query go
    // through it: every pair must agree.
    let plain = get("/feeds/all.atom?limit=5").await.expect("plain");
    let encoded = get("/feeds/all%2Eatom?limit=5").await.expect("encoded");
    assert_eq!((plain.status().as_u16(), encoded.status().as_u16()), (200, 200));
    let (plain, encoded) = (plain.bytes().await.expect("body"), encoded.bytes().await.expect("body"));
    let parsed = feed_rs::parser::parse(plain.as_ref()).expect("plain parses");
    assert_eq!(parsed.entries.len(), 1);
    assert!(plain == encoded, "the same cached body either way");
    let source = get("/sources/a.json").await.expect("source");
    let source_encoded = get("/sources/%61.json").await.expect("source, encoded");
    assert_eq!((source.status().as_u16(), source_encoded.status().as_u16()), (200, 200));
    assert!(source.bytes().await.expect("body") == source_encoded.bytes().await.expect("body"));
    for (path, status) in [
        ("/feeds/all.atom?limit=1&limit=2", 400),
        ("/feeds/all.atom?limit=0", 400),
        ("/feeds/nothing.atom", 404),
        ("/feeds/all.atom/", 404),
        ("/topics/no-such-topic.rss", 404),
    ] {
        assert_eq!(get(path).await.expect("req").status(), status, "{path}");
    }
    let head = client.head(format!("{}/feeds/all.atom", app.base)).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.expect("body").is_empty(), "HEAD has no body");
    app.stop().await;
}
