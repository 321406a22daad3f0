//! A small web site on 127.0.0.1 for the commands that fetch pages (`discover`, `extract URL`):
//! fixed answers by path, with a count of the requests each path got; and the CLI run on it.

use axum::response::IntoResponse as _;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One fixed answer.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self { status: 200, content_type, location: None, body: body.into() }
    }

    pub fn redirect(status: u16, to: impl Into<String>) -> Self {
        Self { status, content_type: "text/plain", location: Some(to.into()), body: Vec::new() }
    }
}

/// A running site: its base URL and the requests each path got (unknown paths answer 404).
pub struct Site {
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Site {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("hits lock").get(path).copied().unwrap_or(0)
    }
}

/// Starts a site whose answers are made from its own base URL (`replies(base)`).
pub async fn site(replies: impl FnOnce(&str) -> Vec<(&'static str, Reply)>) -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind site");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let routes: Arc<HashMap<String, Reply>> =
        Arc::new(replies(&base).into_iter().map(|(p, r)| (p.to_owned(), r)).collect());
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counted = hits.clone();
    let handler = move |uri: axum::http::Uri| {
        let (routes, hits) = (routes.clone(), counted.clone());
        async move {
            *hits.lock().expect("hits lock").entry(uri.path().to_owned()).or_default() += 1;
            answer(routes.get(uri.path()))
        }
    };
    let router = axum::Router::new().fallback(axum::routing::get(handler));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Site { base, hits }
}

fn answer(reply: Option<&Reply>) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    let Some(r) = reply else { return (StatusCode::NOT_FOUND, "not found").into_response() };
    let mut builder = axum::response::Response::builder().status(r.status).header(header::CONTENT_TYPE, r.content_type);
    if let Some(to) = &r.location {
        builder = builder.header(header::LOCATION, to);
    }
    builder.body(axum::body::Body::from(r.body.clone())).expect("response")
}

/// A config file in `dir` whose `[polling]` section is `polling` (the fixture site is on
/// loopback, which the address guard refuses unless the config allows it).
pub fn fetch_config(dir: &Path, polling: &str) -> std::path::PathBuf {
    let path = dir.join("newsriver.toml");
    std::fs::write(&path, format!("[polling]\ntimeout = \"5s\"\nmin_gap = \"0s\"\n{polling}\n")).expect("write config");
    path
}

/// The config that lets requests reach the loopback fixture site.
pub const LOOPBACK_OK: &str = "allow_private_networks = true";

/// Runs `newsriver` with `args` without blocking the runtime the fixture site answers on.
pub async fn run_newsriver(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_newsriver"))
        .args(args)
        .env_remove("NEWSRIVER_CONFIG")
        .kill_on_drop(true)
        .output()
        .await
        .expect("runs newsriver")
}
