//! The lane on a duplex stream: what it takes off the wire, what it leaves to hyper, how it
//! writes answers and when it ends.

use super::*;
use axum::extract::Request as HttpRequest;
use std::convert::Infallible;
use std::sync::atomic::AtomicUsize;

fn parsed(bytes: &[u8]) -> (Parsed, BytesMut) {
    let mut buf = BytesMut::from(bytes);
    (parse(&mut buf), buf)
}

#[test]
fn a_plain_get_is_taken_off_the_buffer_with_its_headers_and_the_next_request_stays() {
    let next = b"GET /b HTTP/1.1\r\n\r\n";
    let mut wire = b"GET /feeds/all.atom?limit=5 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"e\"\r\nconnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n".to_vec();
    wire.extend_from_slice(next);
    let (Parsed::Request(req), rest) = parsed(&wire) else { panic!("a plain GET") };
    assert_eq!(req.uri.path(), "/feeds/all.atom");
    assert_eq!(req.uri.query(), Some("limit=5"));
    assert_eq!(req.headers.get(header::IF_NONE_MATCH).map(HeaderValue::as_bytes), Some(&b"\"e\""[..]));
    assert_eq!(req.headers.len(), 4);
    assert!(req.close);
    assert_eq!(&rest[..], next);
    let (Parsed::Request(req), _) = parsed(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n") else { panic!() };
    assert!(!req.close);
}

#[test]
fn anything_but_a_whole_plain_get_is_partial_or_left_to_hyper_untouched() {
    assert!(matches!(parsed(b"GET /feeds/all.atom HTTP/1.1\r\nHo").0, Parsed::Partial));
    let big = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
    for wire in [
        &b"HEAD / HTTP/1.1\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
    ] {
        let (outcome, rest) = parsed(wire);
        assert!(matches!(outcome, Parsed::Hyper), "{:?}", String::from_utf8_lossy(wire));
        assert_eq!(&rest[..], wire, "hyper gets every byte");
    }
    assert!(matches!(parsed(&big).0, Parsed::TooLarge));
    assert!(matches!(parsed(&big[..MAX_HEAD - 1]).0, Parsed::Partial));
}

#[tokio::test]
async fn a_head_too_large_is_refused_with_431_and_the_connection_closed() {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (activity, closing) = (Arc::new(Activity::default()), Arc::new(AtomicBool::new(false)));
    let site = Directly::default();
    let lane = tokio::spawn(async move { serve(server, &site, &activity, &closing).await.is_none() });
    let big = format!("GET /d HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(2 * MAX_HEAD));
    // Sent whole while the answer is read: the refusal must not be lost to what is still coming.
    let (mut reader, mut writer) = tokio::io::split(client);
    let sender = tokio::spawn(async move { writer.write_all(big.as_bytes()).await.is_ok() });
    let mut answer = Vec::new();
    reader.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{text}");
    assert!(text.contains("\r\ncontent-length: 0\r\n") && text.contains("\r\nconnection: close\r\n"), "{text}");
    assert!(lane.await.expect("join"), "closed");
    let _ = sender.await;
}

#[test]
fn heads_are_written_as_hyper_writes_them() {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_static("\"x\""));
    let mut out = Vec::new();
    encode_head(&mut out, StatusCode::OK, &headers, Some(12), false);
    let mut slots = [httparse::EMPTY_HEADER; 8];
    let mut head = httparse::Response::new(&mut slots);
    assert_eq!(head.parse(&out).expect("parses"), httparse::Status::Complete(out.len()));
    assert_eq!((head.version, head.code, head.reason), (Some(1), Some(200), Some("OK")));
    let names: Vec<&str> = head.headers.iter().map(|h| h.name).collect();
    assert_eq!(names, ["etag", "content-length", "date"]);
    assert_eq!(head.headers[1].value, b"12");
    let date = std::str::from_utf8(head.headers[2].value).expect("ascii");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    out.clear();
    encode_head(&mut out, StatusCode::NOT_MODIFIED, &headers, None, true);
    let text = String::from_utf8(out).expect("ascii");
    assert!(text.starts_with("HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\ndate: "), "{text}");
    assert!(text.ends_with("\r\nconnection: close\r\n\r\n") && !text.contains("content-length"), "{text}");
}

/// Answers `/d` directly (its path as the body, after `/d-later` a render's wait); the router
/// is never asked here (hyper's side is `serving.rs`'s).
#[derive(Clone, Default)]
struct Directly(Arc<AtomicUsize>);

impl tower::Service<HttpRequest> for Directly {
    type Response = Response;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: HttpRequest) -> Self::Future {
        unreachable!("the lane never calls the router")
    }
}

impl Site for Directly {
    fn direct(&self, uri: &Uri, _headers: &HeaderMap) -> Option<Direct> {
        self.0.fetch_add(1, Relaxed);
        let body = uri.path().to_owned();
        match uri.path() {
            "/d" => Some(Direct::Ready(Response::new(body.into()))),
            "/d-later" => Some(Direct::Later(Box::pin(async move {
                tokio::task::yield_now().await;
                Response::new(body.into())
            }))),
            _ => None,
        }
    }
}

async fn answers(client: &mut tokio::io::DuplexStream, n: usize) -> Vec<(u16, String)> {
    let mut read = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        let mut slots = [httparse::EMPTY_HEADER; 8];
        let mut head = httparse::Response::new(&mut slots);
        if let Ok(httparse::Status::Complete(len)) = head.parse(&read) {
            let code = head.code.unwrap_or_default();
            let size = head
                .headers
                .iter()
                .find(|h| h.name == "content-length")
                .map_or(0, |h| std::str::from_utf8(h.value).ok().and_then(|v| v.parse().ok()).unwrap_or(0));
            if read.len() >= len + size {
                out.push((code, String::from_utf8_lossy(&read[len..len + size]).into_owned()));
                read.drain(..len + size);
                continue;
            }
        }
        let mut chunk = [0u8; 4096];
        let got = client.read(&mut chunk).await.expect("read");
        assert!(got > 0, "closed after {out:?}");
        read.extend_from_slice(&chunk[..got]);
    }
    out
}

#[tokio::test]
async fn pipelined_direct_answers_come_in_order_and_the_first_other_request_goes_to_hyper_whole() {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let site = Directly::default();
    let (activity, closing) = (Arc::new(Activity::default()), Arc::new(AtomicBool::new(false)));
    let lane = tokio::spawn({
        let site = site.clone();
        async move { serve(server, &site, &activity, &closing).await }
    });
    let rest = b"GET /other HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
    let mut wire = b"GET /d HTTP/1.1\r\n\r\nGET /d-later HTTP/1.1\r\n\r\n".to_vec();
    wire.extend_from_slice(rest);
    client.write_all(&wire).await.expect("send");
    let got = answers(&mut client, 2).await;
    assert_eq!(got, [(200, "/d".to_owned()), (200, "/d-later".to_owned())]);
    let mut handed = lane.await.expect("join").expect("handed to hyper");
    let mut unread = vec![0u8; rest.len()];
    handed.read_exact(&mut unread).await.expect("the rest");
    assert_eq!(unread, rest, "hyper reads the request the lane left, and what came after it");
    assert_eq!(site.0.load(Relaxed), 3, "asked once per request it read, never for the one after");
}

#[tokio::test]
async fn a_closing_connection_ends_between_requests_and_close_is_honoured() {
    let (mut client, server) = tokio::io::duplex(4096);
    let (activity, closing) = (Arc::new(Activity::default()), AtomicBool::new(false));
    let site = Directly::default();
    let mut lane = std::pin::pin!(serve(server, &site, &activity, &closing));
    client.write_all(b"GET /d HTTP/1.1\r\n\r\n").await.expect("send");
    let got = tokio::select! {
        _ = lane.as_mut() => panic!("ended with the client still there"),
        got = answers(&mut client, 1) => got,
    };
    assert_eq!(got, [(200, "/d".to_owned())]);
    // Set, then polled again: as the connection's watch does.
    closing.store(true, Relaxed);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), lane).await;
    assert!(matches!(ended, Ok(None)), "closed between requests, not handed over");

    let (mut client, server) = tokio::io::duplex(4096);
    let (activity, closing) = (Arc::new(Activity::default()), Arc::new(AtomicBool::new(false)));
    let site = Directly::default();
    let lane = tokio::spawn(async move { serve(server, &site, &activity, &closing).await.is_none() });
    client.write_all(b"GET /d HTTP/1.1\r\nConnection: close\r\n\r\nGET /d HTTP/1.1\r\n\r\n").await.expect("send");
    assert_eq!(answers(&mut client, 1).await, [(200, "/d".to_owned())]);
    assert!(lane.await.expect("join"), "closed after the answer");
    let mut more = Vec::new();
    client.read_to_end(&mut more).await.expect("end");
    assert!(more.is_empty(), "nothing answered after a close");
}
