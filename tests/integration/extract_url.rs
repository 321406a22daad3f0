//! `newsriver extract URL`: the page fetched through the guarded fetcher, decoded by the
//! header's charset, its links resolved where the redirects ended; a redirect to a private
//! address refused.

use crate::helpers::*;
use crate::hostile_server::canary;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// An article in windows-1252 that declares no charset of its own: only the header says so.
fn article() -> Vec<u8> {
    let paragraph = "The harbour board met on Tuesday evening and agreed to rebuild the eastern quay before \
                     the winter storms, after two years of arguments about the cost and the design of the wall. ";
    let html = format!(
        "<html><head><title>Caf\u{e9} owner\u{2019}s harbour plan</title>\
         <meta name=\"author\" content=\"Jos\u{e9} N\u{fa}\u{f1}ez\">\
         <meta property=\"og:image\" content=\"../img/harbour.jpg\"></head>\
         <body><article><h1>Caf\u{e9} owner\u{2019}s harbour plan</h1><p>{}</p><p>{}</p><p>{}</p></article></body></html>",
        paragraph.repeat(2),
        paragraph.repeat(3),
        paragraph
    );
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&html);
    assert!(!unmappable, "the fixture is all windows-1252");
    bytes.into_owned()
}

fn story_site(base: &str) -> Vec<(&'static str, Reply)> {
    vec![
        ("/old/story", Reply::redirect(301, format!("{base}/news/2026/harbour.html"))),
        ("/news/2026/harbour.html", Reply::ok("text/html; charset=windows-1252", article())),
    ]
}

async fn extract_json(args: &[&str]) -> Value {
    let out = run_newsriver(args).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn a_fetched_page_is_decoded_by_its_header_and_resolved_where_it_ended() {
    let site = site(story_site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = fetch_config(dir.path(), LOOPBACK_OK);
    let config = config.to_str().expect("UTF-8");
    let url = format!("{}/old/story", site.base);
    let v = extract_json(&["extract", &url, "--json", "--config", config]).await;
    assert_eq!(v["title"], "Caf\u{e9} owner\u{2019}s harbour plan");
    assert_eq!(v["byline"], serde_json::json!(["Jos\u{e9} N\u{fa}\u{f1}ez"]));
    assert_eq!(v["image"]["url"], format!("{}/news/img/harbour.jpg", site.base));
    assert!(v["body_text"].as_str().unwrap_or_default().contains("eastern quay"), "{v}");

    // `--url` names the base instead of the address the redirects ended at.
    let given =
        extract_json(&["extract", &url, "--url", "https://courier.example/a/b.html", "--json", "--config", config])
            .await;
    assert_eq!(given["image"]["url"], "https://courier.example/img/harbour.jpg");
    assert_eq!(site.hits("/old/story"), 2);
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_refused() {
    let canary = canary("127.0.0.2").await;
    let private = format!("http://127.0.0.2:{}/secret", canary.port);
    let site = site(move |_| vec![("/leak", Reply::redirect(302, private))]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The fixture host is allowed by name; every other private address stays refused.
    let config = fetch_config(dir.path(), "allow_private_networks = false\nallow_hosts = [\"127.0.0.1\"]");
    let config = config.to_str().expect("UTF-8");
    let url = format!("{}/leak", site.base);
    for command in ["extract", "discover"] {
        let out = run_newsriver(&[command, &url, "--config", config]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(err.contains("address guard") && err.contains("127.0.0.2"), "{command}: {err}");
        assert_eq!(err.lines().count(), 1, "{command}: {err}");
    }
    assert_eq!(site.hits("/leak"), 2);
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "no request reached the 127.0.0.2 canary");
}
