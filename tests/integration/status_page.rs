//! `GET /status`, read as HTML: by a parser, and once by headless Chromium as a phone shows it.

use crate::helpers::*;
use dom_query::Document;

/// One healthy source and one whose feed is gone, polled once.
async fn app_with_one_failing() -> (TestApp, wiremock::MockServer, wiremock::MockServer) {
    let good = serve_body("/feed", rss(&rss_item("g1", "Budget approved", 20)), "application/rss+xml").await;
    let gone = wiremock::MockServer::start().await;
    mount(&gone, "/feed", 404, b"not here".to_vec(), "text/plain").await;
    let app =
        spawn_app(&[("healthy", format!("{}/feed", good.uri())), ("broken", format!("{}/feed", gone.uri()))]).await;
    app.poll_now().await;
    (app, good, gone)
}

/// The table's rows as (source id, state, problem text), top to bottom.
fn rows(doc: &Document) -> Vec<(String, String, String)> {
    doc.select("#sources tbody tr")
        .iter()
        .map(|tr| {
            let attr = |a: &str| tr.attr(a).map(|v| v.to_string()).unwrap_or_default();
            (attr("data-source"), attr("data-state"), tr.select("td.problem").text().trim().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn status_page_lists_every_source_with_trouble_first() {
    let (app, _good, _gone) = app_with_one_failing().await;
    let resp = app.get("/status").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
    let doc = Document::from(resp.text().await.expect("body"));
    let rows = rows(&doc);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["broken", "healthy"], "the failing source comes first");
    assert_eq!(rows[0].1, "failing");
    assert!(rows[0].2.contains("404"), "the problem is said in words: {:?}", rows[0].2);
    assert_eq!(rows[1].1, "ok");
    assert_eq!(rows[1].2, "", "a healthy source has no problem");
    let last: Vec<String> =
        doc.select("#last-polls li").iter().filter_map(|li| li.attr("data-source").map(|v| v.to_string())).collect();
    assert_eq!(last.len(), 2, "both polls are listed");
    assert!(doc.select("meta[name=viewport]").exists(), "readable on a phone");
    assert_eq!(doc.select("script").length(), 0, "works without JavaScript");
}

/// Runs headless Chromium as a phone-sized window on `url` (blocking: call off the runtime).
fn chromium(profile: &std::path::Path, url: &str, extra: &str) -> std::process::Output {
    std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--window-size=412,915", extra])
        .arg(format!("--user-data-dir={}", profile.join("profile").display()))
        .arg(url)
        .output()
        .expect("run chromium")
}

#[tokio::test]
async fn status_page_renders_in_headless_chromium() {
    if !have_chromium() {
        return;
    }
    let (app, _good, _gone) = app_with_one_failing().await;
    let url = format!("{}/status", app.base);
    let dir = tempfile::tempdir().expect("profile dir");
    let (d, u) = (dir.path().to_owned(), url.clone());
    let dom = tokio::task::spawn_blocking(move || chromium(&d, &u, "--dump-dom")).await.expect("join");
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let doc = Document::from(String::from_utf8_lossy(&dom.stdout).into_owned());
    let ids: Vec<String> = rows(&doc).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, ["broken", "healthy"], "Chromium's DOM holds the table");
    let shot = dir.path().join("status.png");
    let (d, arg) = (dir.path().to_owned(), format!("--screenshot={}", shot.display()));
    let done = tokio::task::spawn_blocking(move || chromium(&d, &url, &arg)).await.expect("join");
    assert!(done.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&done.stderr));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "a real picture, {} bytes", png.len());
}

#[tokio::test]
async fn sources_watch_redraws_the_table_until_stopped() {
    let (app, _good, _gone) = app_with_one_failing().await;
    let dir = app.stop_keeping_dir().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(dir.path().join(CONFIG_FILE))
        .args(["sources", "--watch", "1"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn newsriver sources --watch");
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    child.start_kill().expect("stop it");
    let out = child.wait_with_output().await.expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let tables: Vec<&str> = text.split("Ctrl-C to stop").filter(|t| t.contains("source")).collect();
    assert!(tables.len() >= 2, "the table was drawn again: {text}");
    for t in &tables {
        assert!(t.contains("broken") && t.contains("healthy") && t.contains("failing"), "{t}");
    }
}
