//! Test harness: a real app on 127.0.0.1:0 with a sled store in a temp dir, fixture feed servers,
//! and `poll_now()` to drive polls deterministically instead of sleeping.

use newsriver::app::Application;
use newsriver::config::{PollingSettings, Settings};
use newsriver::domain::{ChannelId, Entry};
use newsriver::http::AppState;
use newsriver::pipeline::PollReport;
use newsriver::worker::Poller;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod metrics;
pub mod postgres;
mod process;
mod settings;
mod site;
mod subscriber;
pub use metrics::*;
pub use process::*;
pub use settings::*;
pub use site::*;
pub use subscriber::*;

pub const PUBLIC_URL: &str = "http://feeds.newsriver.test";

/// Whether this run's test apps keep their stores in PostgreSQL (`NEWSRIVER_TEST_STORE=postgres`)
/// instead of sled.
pub fn postgres_selected() -> bool {
    std::env::var("NEWSRIVER_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// True (with one line saying why) when the run is on PostgreSQL and the test is about what only
/// sled has (its files, `compact`, `backup`): the caller then returns.
pub fn sled_only(why: &str) -> bool {
    let skip = postgres_selected();
    if skip {
        eprintln!("SKIPPED on PostgreSQL: {why}");
    }
    skip
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

pub fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// A running application. Dropped without `stop` (a test that fails early), it is told to stop
/// all the same: its serving threads, pools and blocking tasks end, and the test's runtime can
/// shut down instead of waiting for them forever.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    /// Drives polls (the tests' apps poll on demand, not on a schedule).
    pub poller: Poller,
    /// Keeps the temp store alive for as long as the app runs; taken by `stop_keeping_dir`.
    dir: Option<TempDir>,
    token: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    pub client: reqwest::Client,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

pub async fn spawn_app(sources: &[(&str, String)]) -> TestApp {
    spawn_app_with(sources, |_| {}).await
}

/// An app on the base settings with `polling` changed, e.g. `|p| p.initial_items = 1000`.
pub async fn spawn_app_with(sources: &[(&str, String)], polling: impl FnOnce(&mut PollingSettings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = test_settings(dir.path(), sources, polling);
    spawn_in(dir, settings).await
}

/// An app on the base settings with `tables` (`[[topic]]` tables) added; see `add_topics`.
pub async fn spawn_app_with_topics(sources: &[(&str, String)], tables: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), sources, |_| {});
    add_topics(dir.path(), &mut settings, tables);
    spawn_in(dir, settings).await
}

/// Starts an app on `settings` in `dir`, whose config file is rewritten to say them (so
/// `newsriver --config` runs on what the app ran on).
pub async fn spawn_in(dir: TempDir, settings: Settings) -> TestApp {
    // The test's directory is removed with it; a store anywhere else would outlive the test.
    let store = &settings.store.path;
    assert!(store.starts_with(dir.path()), "store {} is outside the test's directory", store.display());
    let settings = write_config(&dir.path().join(CONFIG_FILE), &settings);
    let app = Application::build(settings).await.expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (state, poller) = (app.state().clone(), app.poller().clone());
    let token = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(token.clone()));
    newsriver::fetch::install_crypto_provider();
    TestApp { base, state, poller, dir: Some(dir), token, handle: Some(handle), client: reqwest::Client::new() }
}

impl TestApp {
    pub async fn poll_now(&self) -> Vec<PollReport> {
        let mut reports = self.poller.poll_all(&CancellationToken::new(), |_| {}).await;
        reports.sort_by(|a, b| a.source.cmp(&b.source));
        reports
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    /// Fetches a channel and parses it with feed-rs, as a reader would.
    pub async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let bytes = resp.bytes().await.expect("body");
        feed_rs::parser::parse(bytes.as_ref()).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
    }

    pub fn all_entries(&self) -> Vec<Entry> {
        self.state.store.latest(&ChannelId::All, usize::MAX).expect("store")
    }

    /// Every shown entry of one source, story members included.
    pub fn source_entries(&self, id: &str) -> Vec<Entry> {
        let id = newsriver::domain::SourceId::parse(id).expect("source id");
        self.state.store.latest(&ChannelId::Source(id), usize::MAX).expect("store")
    }

    pub async fn stop(self) {
        self.stop_keeping_dir().await;
    }

    /// Stops the app and hands back its directory (config and store), e.g. for `newsriver --config`.
    pub async fn stop_keeping_dir(mut self) -> TempDir {
        self.token.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("join").expect("clean stop");
        }
        self.dir.take().expect("the directory is kept until the app stops")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.as_ref().expect("app directory").path().join(CONFIG_FILE)
    }

    /// The settings the app runs on, to change and restart with.
    pub fn settings(&self) -> Settings {
        Settings::clone(&self.state.settings)
    }

    /// Stops the app and starts it again on `settings`, with the same directory and store.
    pub async fn restart(self, settings: Settings) -> TestApp {
        let dir = self.stop_keeping_dir().await;
        spawn_in(dir, settings).await
    }
}

pub fn report<'a>(reports: &'a [PollReport], id: &str) -> &'a PollReport {
    reports.iter().find(|r| r.source.as_str() == id).unwrap_or_else(|| panic!("no report for {id}"))
}

/// `newsriver sources` on a stopped app's config: the table it prints from the store.
pub fn sources_table(config: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .arg("--config")
        .arg(config)
        .arg("sources")
        .output()
        .expect("run newsriver sources");
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{table}{}", String::from_utf8_lossy(&out.stderr));
    table
}

/// Answers GET `route` on `server` with `status`, `body` and `content_type`.
pub async fn mount(server: &MockServer, route: &str, status: u16, body: Vec<u8>, content_type: &str) {
    let resp = ResponseTemplate::new(status).set_body_raw(body, content_type);
    Mock::given(method("GET")).and(path(route)).respond_with(resp).mount(server).await;
}

/// How many requests `server` has had for `route`.
pub async fn hits(server: &MockServer, route: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| r.url.path() == route).count()
}

/// One source's document in `/api/sources`.
pub async fn status_of(app: &TestApp, id: &str) -> serde_json::Value {
    let all: Vec<serde_json::Value> = app.get("/api/sources").await.json().await.expect("status json");
    all.into_iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id} in /api/sources"))
}

/// Serves `body` at `route` on a fresh fixture server.
pub async fn serve_body(route: &str, body: Vec<u8>, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, content_type))
        .mount(&server)
        .await;
    server
}

/// An RSS 2.0 document with the given `<item>` elements.
pub fn rss(items: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fixture</title><link>https://fixture.example/</link><description>d</description>
{items}
</channel></rss>"#
    )
    .into_bytes()
}

pub fn rss_item(guid: &str, title: &str, day: u32) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>https://fixture.example/{guid}</link><description>Body of {title}</description><pubDate>{day:02} Nov 2026 10:00:00 +0000</pubDate></item>"
    )
}

/// Counts requests in flight and the highest number seen at once.
#[derive(Clone, Default)]
pub struct Gauge {
    now: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub max: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Gauge {
    fn enter(&self) {
        use std::sync::atomic::Ordering;
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn peak(&self) -> usize {
        self.max.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A fixture server that serves one body on every path after `delay`, and records the highest
/// number of requests it had in flight at once (also into `shared`, for limits across hosts).
pub struct CountingServer {
    pub base: String,
    pub max_in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub total: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

pub async fn counting_server(ip: &str, body: Vec<u8>, delay: std::time::Duration) -> CountingServer {
    counting_server_shared(ip, body, delay, Gauge::default()).await
}

pub async fn counting_server_shared(
    ip: &str,
    body: Vec<u8>,
    delay: std::time::Duration,
    shared: Gauge,
) -> CountingServer {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let own = Gauge::default();
    let total = std::sync::Arc::new(AtomicUsize::new(0));
    let (g, tot) = (own.clone(), total.clone());
    let handler = move || {
        let (g, shared, tot, body) = (g.clone(), shared.clone(), tot.clone(), body.clone());
        async move {
            g.enter();
            shared.enter();
            tot.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            g.leave();
            shared.leave();
            ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], body)
        }
    };
    let router = axum::Router::new().fallback(axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind fixture");
    let base = format!("http://{ip}:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    CountingServer { base, max_in_flight: own.max, total }
}

/// Whether a third-party client or data set a test needs is present. When it is not, the test
/// is skipped with one loud line naming it and how to get it (written past the test harness's
/// capture, so it shows in a passing run), unless `NEWSRIVER_REQUIRE_CLIENTS=1` (CI), where a
/// missing one fails the test.
pub fn require(what: &str, how: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let required = std::env::var("NEWSRIVER_REQUIRE_CLIENTS").is_ok_and(|v| v == "1");
    assert!(!required, "{what} is missing ({how}) and NEWSRIVER_REQUIRE_CLIENTS=1 requires it");
    let test = std::thread::current().name().unwrap_or("test").to_owned();
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {what} is missing ({how})");
    false
}

fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// Python with feedparser, for `read_with_clients`.
pub fn have_feedparser() -> bool {
    require("Python feedparser", "pip install feedparser", runs("python3", &["-c", "import feedparser"]))
}

pub fn have_xmllint() -> bool {
    require("xmllint", "apt-get install libxml2-utils", runs("xmllint", &["--version"]))
}

/// Headless Chromium, for pages people read (`/status`).
pub fn have_chromium() -> bool {
    require("chromium", "apt-get install chromium", runs("chromium", &["--version"]))
}

/// A folder of the team's shared data (`../shared/<name>` beside the project), if present.
pub fn shared(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(name);
    require(&format!("../shared/{name}"), "the team's shared data, checked out beside the project", dir.is_dir())
        .then_some(dir)
}

/// Reads URLs with `tests/clients/read_feeds.py` (Python feedparser, json, xml.etree, html.parser)
/// and returns one JSON object per URL. Callers check `have_feedparser()` first.
pub async fn read_with_clients(urls: &[String]) -> Vec<serde_json::Value> {
    let urls = urls.to_vec();
    // The app under test shares this runtime: run the client off it so the server can answer.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/read_feeds.py"))
            .args(&urls)
            .output()
    })
    .await
    .expect("join")
    .expect("python3 is needed for the real-client tests");
    assert!(
        out.status.success(),
        "read_feeds.py failed (pip install feedparser): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

/// A fixture server whose body depends on the request path (`/{name}`), after `delay`.
pub async fn path_server(delay: std::time::Duration, body: fn(&str) -> Vec<u8>) -> String {
    let handler = move |axum::extract::Path(name): axum::extract::Path<String>| async move {
        tokio::time::sleep(delay).await;
        ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], body(&name))
    };
    let router = axum::Router::new().route("/{name}", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fixture");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Runs the calling test again, alone, in a child process of this test binary (so what it
/// measures of the process, such as its memory, is its own), and returns true inside that child.
/// In the parent it waits for the child, fails when the child failed or did not run the test,
/// and returns false.
pub fn in_own_process(test: &str) -> bool {
    const MARK: &str = "NEWSRIVER_OWN_PROCESS";
    if std::env::var(MARK).is_ok_and(|t| t == test) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(MARK, test)
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{test}, run in its own process, failed:\n{report}");
    assert!(stdout.contains("1 passed"), "{test} did not run in its own process:\n{report}");
    false
}

/// A feed server whose every document at `/{feed}` has `per_poll` items more than its last,
/// titled "{feed} report {i}".
pub async fn growing_feeds(per_poll: usize) -> String {
    let hits: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Default::default();
    let handler = move |axum::extract::Path(feed): axum::extract::Path<String>| {
        let n = {
            let mut hits = hits.lock().expect("lock");
            let n = hits.entry(feed.clone()).or_default();
            *n += 1;
            *n
        };
        let items: String = (0..per_poll * n)
            .map(|i| rss_item(&format!("{feed}-{i}"), &format!("{feed} report {i}"), 1 + (i % 27) as u32))
            .collect();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], rss(&items)) }
    };
    let router = axum::Router::new().route("/{feed}", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}
