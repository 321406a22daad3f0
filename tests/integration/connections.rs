//! HTTP/1.1 on one connection, spoken byte by byte: pipelined and split requests, a request that
//! needs more than a plain GET in the middle of a keep-alive connection, `Connection: close`,
//! HTTP/1.0, HEAD, 304s without a body, malformed and oversized heads, silent and trickling
//! clients (`server.client_timeout`), and shutdown with idle connections open.

use crate::helpers::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer as read off the wire.
struct Answer {
    version: u8,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A raw connection and what has been read from it but not yet taken as an answer.
struct Wire {
    stream: TcpStream,
    read: Vec<u8>,
}

impl Wire {
    async fn open(app: &TestApp) -> Self {
        let addr = app.base.trim_start_matches("http://");
        Self { stream: TcpStream::connect(addr).await.expect("connect"), read: Vec::new() }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Reads more; false at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .unwrap_or(0);
        self.read.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The next answer; a body only where the status allows one (`head_only` for HEAD).
    async fn answer(&mut self, head_only: bool) -> Answer {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = parsed.parse(&self.read).expect("a valid answer head") {
                let status = parsed.code.expect("status");
                let version = parsed.version.expect("version");
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                self.read.drain(..len);
                let mut answer = Answer { version, status, headers, body: Vec::new() };
                if !head_only && status != 304 && status != 204 {
                    answer.body = self.body(&answer).await;
                }
                return answer;
            }
            assert!(self.fill().await, "the connection closed before a whole answer head");
        }
    }

    async fn body(&mut self, answer: &Answer) -> Vec<u8> {
        let length: usize = answer
            .header("content-length")
            .expect("a sized body (no channel answer is chunked)")
            .parse()
            .expect("a number");
        while self.read.len() < length {
            assert!(self.fill().await, "the connection closed inside a body");
        }
        self.read.drain(..length).collect()
    }

    /// True when the server closed the connection with nothing more to say.
    async fn closed(&mut self) -> bool {
        self.read.is_empty() && !self.fill().await
    }
}

async fn app_with_one_item() -> (TestApp, wiremock::MockServer) {
    let items = "<item><guid>one</guid><title>One</title><link>https://a.example/1</link><pubDate>01 Nov 2026 10:00:00 +0000</pubDate></item>";
    let feed = serve_body("/feed", rss(items), "application/rss+xml").await;
    let app = spawn_app(&[("a", format!("{}/feed", feed.uri()))]).await;
    app.poll_now().await;
    (app, feed)
}

fn entries(answer: &Answer) -> usize {
    assert_eq!(answer.status, 200);
    feed_rs::parser::parse(answer.body.as_slice()).expect("the channel parses").entries.len()
}

#[tokio::test]
async fn pipelined_and_split_requests_are_answered_in_order_and_a_post_between_them_too() {
    let (app, _feed) = app_with_one_item().await;
    let mut wire = Wire::open(&app).await;
    // Two requests in one segment: two answers, in order.
    wire.send(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let first = wire.answer(false).await;
    assert_eq!(entries(&first), 1);
    assert!(first.header("date").is_some() && first.header("etag").is_some());
    assert_eq!(wire.answer(false).await.status, 200);
    // A request split into single bytes.
    for b in b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n" {
        wire.send(&[*b]).await;
    }
    assert_eq!(entries(&wire.answer(false).await), 1);
    // A POST with a body on the same connection, then GETs again: all answered.
    wire.send(b"POST /feeds/all.atom HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").await;
    assert_eq!(wire.answer(false).await.status, 405, "POST on a channel is not allowed");
    wire.send(b"GET /feeds/all.json HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(entries(&wire.answer(false).await), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_304_has_no_body_and_the_connection_goes_on() {
    let (app, _feed) = app_with_one_item().await;
    let mut wire = Wire::open(&app).await;
    wire.send(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let fresh = wire.answer(false).await;
    let etag = fresh.header("etag").expect("etag").to_owned();
    for _ in 0..2 {
        wire.send(format!("GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n").as_bytes()).await;
        let cached = wire.answer(false).await;
        assert_eq!(cached.status, 304);
        assert_eq!(cached.header("etag"), Some(etag.as_str()));
        assert_eq!(cached.header("content-length"), None, "a 304 announces no body");
    }
    // Had a 304 carried a body, this answer would start inside it.
    wire.send(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(wire.answer(false).await.body == fresh.body);
    app.stop().await;
}

#[tokio::test]
async fn close_http10_and_head_are_honoured() {
    let (app, _feed) = app_with_one_item().await;
    let mut wire = Wire::open(&app).await;
    wire.send(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    let answer = wire.answer(false).await;
    assert_eq!((entries(&answer), answer.header("connection")), (1, Some("close")));
    assert!(wire.closed().await, "closed after the answer it asked for");

    let mut wire = Wire::open(&app).await;
    wire.send(b"GET /feeds/all.atom HTTP/1.0\r\nHost: x\r\n\r\n").await;
    let answer = wire.answer(false).await;
    assert_eq!((answer.version, entries(&answer)), (0, 1), "HTTP/1.0 answered in its version");
    assert!(wire.closed().await, "an HTTP/1.0 connection ends with its answer");

    let mut wire = Wire::open(&app).await;
    wire.send(b"HEAD /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\nGET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let head = wire.answer(true).await;
    assert_eq!(head.status, 200);
    let get = wire.answer(false).await;
    assert_eq!(entries(&get), 1, "the GET after a HEAD starts right after the HEAD's head");
    app.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_heads_get_an_error_answer() {
    let (app, _feed) = app_with_one_item().await;
    let mut wire = Wire::open(&app).await;
    wire.send(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n").await;
    assert_eq!(wire.answer(false).await.status, 400);

    let mut wire = Wire::open(&app).await;
    let big = "a".repeat(600 * 1024);
    wire.send(format!("GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes()).await;
    assert_eq!(wire.answer(false).await.status, 431, "a head larger than any buffer is refused");

    // Neither stopped the server.
    assert_eq!(app.get("/feeds/all.atom").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn stopping_closes_idle_keep_alive_connections() {
    let (app, _feed) = app_with_one_item().await;
    let mut idle = Wire::open(&app).await;
    idle.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(idle.answer(false).await.status, 200);
    let mut silent = Wire::open(&app).await;
    let mut partial = Wire::open(&app).await;
    partial.send(b"GET /feeds/all.atom HTTP/1.1\r\nHo").await;
    tokio::time::timeout(Duration::from_secs(10), app.stop()).await.expect("stops within 10 s with connections open");
    for wire in [&mut idle, &mut silent, &mut partial] {
        assert!(wire.closed().await, "each open connection is closed");
    }
}

#[tokio::test]
async fn silent_and_trickling_clients_are_disconnected_after_the_client_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path(), &[], |_| {});
    settings.server.client_timeout = Duration::from_secs(1);
    let app = spawn_in(dir, settings).await;
    let started = std::time::Instant::now();
    let mut silent = Wire::open(&app).await;
    let mut kept_alive = Wire::open(&app).await;
    kept_alive.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(kept_alive.answer(false).await.status, 200);
    // A head that never ends, a byte every 150 ms: reading it does not keep the connection.
    let mut trickling = Wire::open(&app).await;
    trickling.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
    while trickling.stream.write_all(b"a").await.is_ok() {
        assert!(started.elapsed() < Duration::from_secs(8), "a trickling client is still connected");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for wire in [&mut silent, &mut kept_alive] {
        assert!(wire.closed().await, "idle connections are closed too");
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(8), "closed within two or three 1 s periods, not {waited:?}");
    // A client that asks in time is answered as ever.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}
