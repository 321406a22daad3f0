//! WebSub test parties on 127.0.0.1: a subscriber with many callback paths (`/cb/{name}`) that
//! echoes challenges (or not), records every GET and POST, and answers POSTs as told; and a feed
//! whose items a test changes between polls.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a callback answers a verification GET.
#[derive(Clone, Debug, PartialEq)]
pub enum Echo {
    /// 200 with the challenge: the subscriber confirms.
    Challenge,
    /// 200 with something else.
    Wrong,
    /// 302 to this URL.
    Redirect(String),
}

/// How a callback answers a POST (after the queued ones, 200).
#[derive(Clone, Debug)]
pub enum PostAnswer {
    Status(u16),
    Redirect(String),
}

/// A GET the hub sent: its query.
pub type Verification = HashMap<String, String>;

/// A POST the hub sent, and what the callback answered.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub answered: u16,
}

impl Delivery {
    /// Every value of `Link` with `rel` (`hub`, `self`): the URL between `<` and `>`.
    pub fn links(&self, rel: &str) -> Vec<String> {
        let values = self.headers.get_all("link").iter().filter_map(|v| v.to_str().ok());
        link_targets(values, rel)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body read as a feed, as a subscriber would.
    pub fn feed(&self) -> feed_rs::model::Feed {
        feed_rs::parser::parse(self.body.as_ref()).expect("a delivery parses as a feed")
    }

    /// The titles of the items it carries, in document order.
    pub fn titles(&self) -> Vec<String> {
        self.feed().entries.into_iter().filter_map(|e| e.title.map(|t| t.content)).collect()
    }
}

/// `<url>; rel="x"` values of `Link` headers (RFC 8288), one link per value or comma-separated.
pub fn link_targets<'a>(values: impl Iterator<Item = &'a str>, rel: &str) -> Vec<String> {
    let mut out = Vec::new();
    for value in values {
        for link in value.split(',') {
            let mut parts = link.split(';').map(str::trim);
            let target = parts.next().unwrap_or("").trim_start_matches('<').trim_end_matches('>');
            if parts.any(|p| p.replace(' ', "") == format!("rel=\"{rel}\"") || p == format!("rel={rel}")) {
                out.push(target.to_owned());
            }
        }
    }
    out
}

#[derive(Default)]
struct Inner {
    echo: Mutex<HashMap<String, Echo>>,
    answers: Mutex<HashMap<String, VecDeque<PostAnswer>>>,
    /// Answer every POST with this (after the queued ones), when set.
    always: Mutex<HashMap<String, PostAnswer>>,
    gets: Mutex<HashMap<String, Vec<Verification>>>,
    posts: Mutex<HashMap<String, Vec<Delivery>>>,
}

#[derive(Clone)]
pub struct Subscriber {
    pub base: String,
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().expect("subscriber lock")
}

impl Subscriber {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1").await
    }

    pub async fn start_on(ip: &str) -> Self {
        let inner = Arc::new(Inner::default());
        let router =
            axum::Router::new().route("/cb/{name}", axum::routing::get(verify).post(deliver)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind subscriber");
        let base = format!("http://{ip}:{}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base, inner }
    }

    pub fn callback(&self, name: &str) -> String {
        format!("{}/cb/{name}", self.base)
    }

    pub fn echo(&self, name: &str, echo: Echo) {
        lock(&self.inner.echo).insert(name.to_owned(), echo);
    }

    /// The next POSTs to `name` get these answers, in order.
    pub fn answer(&self, name: &str, answers: impl IntoIterator<Item = PostAnswer>) {
        lock(&self.inner.answers).entry(name.to_owned()).or_default().extend(answers);
    }

    /// Every POST to `name` is answered so until `None` is set.
    pub fn always(&self, name: &str, answer: Option<PostAnswer>) {
        let mut always = lock(&self.inner.always);
        match answer {
            Some(a) => always.insert(name.to_owned(), a),
            None => always.remove(name),
        };
    }

    pub fn verifications(&self, name: &str) -> Vec<Verification> {
        lock(&self.inner.gets).get(name).cloned().unwrap_or_default()
    }

    pub fn deliveries(&self, name: &str) -> Vec<Delivery> {
        lock(&self.inner.posts).get(name).cloned().unwrap_or_default()
    }

    /// Deliveries to `name` answered 2xx.
    pub fn accepted(&self, name: &str) -> Vec<Delivery> {
        self.deliveries(name).into_iter().filter(|d| (200..300).contains(&d.answered)).collect()
    }

    /// Waits (up to 15 s) until `f` gives something.
    pub async fn until<T>(&self, what: &str, f: impl Fn(&Self) -> Option<T>) -> T {
        wait_for(what, || f(self)).await
    }
}

/// Polls `f` every 20 ms for up to 15 s.
pub async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn verify(State(inner): State<Arc<Inner>>, Path(name): Path<String>, Query(q): Query<Verification>) -> Response {
    let echo = lock(&inner.echo).get(&name).cloned().unwrap_or(Echo::Challenge);
    let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
    lock(&inner.gets).entry(name).or_default().push(q);
    match echo {
        Echo::Challenge => challenge.into_response(),
        Echo::Wrong => format!("not-{challenge}").into_response(),
        Echo::Redirect(to) => (StatusCode::FOUND, [("location", to)]).into_response(),
    }
}

async fn deliver(
    State(inner): State<Arc<Inner>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let queued = lock(&inner.answers).get_mut(&name).and_then(VecDeque::pop_front);
    let answer = queued.or_else(|| lock(&inner.always).get(&name).cloned());
    let (answered, response) = match answer {
        None => (200, StatusCode::OK.into_response()),
        Some(PostAnswer::Status(s)) => (s, StatusCode::from_u16(s).expect("status").into_response()),
        Some(PostAnswer::Redirect(to)) => (302, (StatusCode::FOUND, [("location", to)]).into_response()),
    };
    lock(&inner.posts).entry(name).or_default().push(Delivery { headers, body, answered });
    response
}

/// An RSS feed on 127.0.0.1 at `/feed` whose items a test sets between polls.
#[derive(Clone)]
pub struct ItemFeed {
    pub url: String,
    items: Arc<Mutex<Vec<String>>>,
}

impl ItemFeed {
    pub async fn start() -> Self {
        let items: Arc<Mutex<Vec<String>>> = Arc::default();
        let shared = items.clone();
        let handler = move || {
            let items = shared.clone();
            async move {
                let body = super::rss(&lock(&items).concat());
                ([(axum::http::header::CONTENT_TYPE, "application/rss+xml")], body)
            }
        };
        let router = axum::Router::new().route("/feed", axum::routing::get(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind feed");
        let url = format!("http://127.0.0.1:{}/feed", listener.local_addr().expect("addr").port());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, items }
    }

    /// Adds items `guid` (titled "Story {guid}"), newest last.
    pub fn add(&self, guids: &[&str]) {
        let mut items = lock(&self.items);
        for g in guids {
            let day = 1 + items.len() as u32 % 28;
            items.push(super::rss_item(g, &format!("Story {g}"), day));
        }
    }
}
