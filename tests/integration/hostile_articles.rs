//! Hostile article pages behind one full-text feed: each fails alone with a clear reason on its
//! entry (or is read safely), the feed's poll succeeds, and no request leaves loopback.
//!
//! | page | what it does | expected on the entry |
//! |---|---|---|
//! | huge | 50 MB of paragraphs | "limit" (capped at `max_body`) |
//! | deep | 100,000 nested `<div>` | "nests elements" |
//! | endless | never ends, a little at a time | "timed out" |
//! | private | 302 to the 127.0.0.2 canary | "address guard", canary untouched |
//! | binary | `text/html` that is random bytes | "not an HTML page (binary content)" |
//! | charset-lie | declares UTF-8, sends windows-1252 | read; body kept, bytes replaced |
//! | jsonld-invalid | broken JSON-LD | read; byline from the visible text |
//! | jsonld-huge | 2 MB of JSON-LD | read; JSON-LD skipped |
//! | jsonld-hostile | script, `javascript:` and control characters in JSON-LD | read; none of them survive |

use crate::helpers::*;
use crate::hostile_server::canary;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const CASES: [&str; 10] = [
    "good",
    "huge",
    "deep",
    "endless",
    "private",
    "binary",
    "charset-lie",
    "jsonld-invalid",
    "jsonld-huge",
    "jsonld-hostile",
];

/// Each page its own text: pages of one poll that share a body are boilerplate to newsriver.
fn paragraphs(case: &str) -> String {
    (0..8)
        .map(|i| format!("<p>Paragraph {i} of the {case} statement says the ministry will publish the audit of the port authority's accounts before the end of the month, as promised.</p>"))
        .collect()
}

fn article(case: &str, head: &str) -> Vec<u8> {
    format!(
        "<html><head><meta charset=\"utf-8\">{head}<title>Audit</title></head><body><h1>Audit to be published</h1>\
         <p class=\"byline\">By Ana Reporter</p>{}</body></html>",
        paragraphs(case)
    )
    .into_bytes()
}

fn jsonld(json: &str) -> String {
    format!("<script type=\"application/ld+json\">{json}</script>")
}

async fn respond(s: &mut TcpStream, path: &str, base: &str, canary_port: u16) -> std::io::Result<()> {
    let ok = |body: Vec<u8>, kind: &str| {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend(body);
        out
    };
    let html = "text/html; charset=utf-8";
    let reply = match path.trim_start_matches("/p/") {
        "/feed" => {
            let items: String = CASES
                .iter()
                .map(|c| format!("<item><guid>{c}</guid><title>Case {c}</title><link>{base}/p/{c}</link><description>Teaser {c}.</description></item>"))
                .collect();
            ok(rss(&items), "application/rss+xml")
        }
        "good" => ok(article("good", ""), html),
        "huge" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>").await?;
            let chunk = "<p>filler text of a page that is far too long</p>".repeat(1000);
            for _ in 0..(50 << 20) / chunk.len() {
                s.write_all(chunk.as_bytes()).await?;
            }
            return Ok(());
        }
        "deep" => ok(format!("<html><body>{}deep</body></html>", "<div>".repeat(100_000)).into_bytes(), html),
        "endless" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>").await?;
            for _ in 0..600 {
                s.write_all(b"<p>more</p>").await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            return Ok(());
        }
        "private" => format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{canary_port}/p\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_bytes(),
        "binary" => ok((0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect(), "text/html"),
        "charset-lie" => {
            let page = String::from_utf8(article("lie", "")).expect("utf-8").replace("port authority", "caf\u{e9} d\u{e9}j\u{e0}");
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
            ok(bytes.into_owned(), html)
        }
        "jsonld-invalid" => ok(article("invalid", &jsonld("{\"@type\": \"NewsArticle\", \"author\": [}")), html),
        "jsonld-huge" => {
            let huge = format!("{{\"@type\":\"NewsArticle\",\"author\":{{\"name\":\"Huge Name\"}},\"x\":\"{}\"}}", "a".repeat(2 << 20));
            ok(article("huge", &jsonld(&huge)), html)
        }
        "jsonld-hostile" => {
            let json = r#"{"@type":"NewsArticle","headline":"Audit\u0007 \u0000to be\u001b published",
                "author":{"name":"\u003cscript\u003ealert(1)\u003c/script\u003eEve"},
                "image":{"url":"javascript:alert(1)","creditText":"\u003cimg src=x onerror=alert(1)\u003e"}}"#;
            ok(article("hostile", &jsonld(json)), html)
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    s.write_all(&reply).await
}

async fn start(canary_port: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let b = base.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let b = b.clone();
            tokio::spawn(async move {
                if let Some(path) = crate::hostile_server::request_path(&mut s).await {
                    let _ = respond(&mut s, &path, &b, canary_port).await;
                }
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_article_pages_fail_alone_and_clearly() {
    let canary = canary("127.0.0.2").await;
    let base = start(canary.port).await;
    let app = spawn_app_with(&[("hostile", format!("{base}/feed"))], |p| {
        p.full_text = true;
        p.initial_items = 100;
        p.timeout = Duration::from_secs(2);
        p.max_body = 4 << 20;
        p.allow_private_networks = false;
        p.allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let started = Instant::now();
    let reports = app.poll_now().await;
    let r = report(&reports, "hostile");
    assert!(r.error.is_none() && r.summary.new == CASES.len(), "one page never fails the poll: {r:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "bounded: {:?}", started.elapsed());
    let articles: Vec<(String, Value)> = app
        .source_entries("hostile")
        .into_iter()
        .map(|e| (e.title.trim_start_matches("Case ").to_owned(), serde_json::to_value(e.article).expect("json")))
        .collect();
    let of = |case: &str| articles.iter().find(|(c, _)| c == case).map(|(_, a)| a.clone()).expect(case);
    let failed = |case: &str| of(case)["failed"].as_str().unwrap_or_default().to_owned();
    for (case, reason) in [
        ("huge", "limit"),
        ("deep", "nests elements"),
        ("endless", "timed out"),
        ("private", "address guard"),
        ("binary", "not an HTML page (binary content)"),
    ] {
        assert!(failed(case).contains(reason), "{case}: {:?}", of(case));
    }
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "nothing reached 127.0.0.2");
    for case in ["good", "charset-lie", "jsonld-invalid", "jsonld-huge", "jsonld-hostile"] {
        let a = of(case);
        assert!(a["failed"].is_null() && a["word_count"].as_u64() > Some(100), "{case}: {a}");
    }
    assert_eq!(of("jsonld-invalid")["byline"], serde_json::json!(["Ana Reporter"]));
    assert_ne!(of("jsonld-huge")["byline"], serde_json::json!(["Huge Name"]), "JSON-LD over its cap is skipped");
    assert!(of("charset-lie")["body_html"].as_str().is_some_and(|b| b.contains("Paragraph 7")));
    let a = of("jsonld-hostile");
    let hostile = serde_json::json!([a["byline"], a["title"], a["image"], a["body_html"]]).to_string();
    for bad in ["<script", "javascript:", "onerror", "\\u0007", "\\u0000", "\\u001b"] {
        assert!(!hostile.contains(bad), "{bad} survived: {hostile}");
    }
    app.stop().await;
}
