//! The render cache: one render per change, readers served meanwhile, and each answer's
//! headers and bytes as its request asks.

use super::super::encoding::tests::req;
use super::*;

#[test]
fn one_render_per_change_and_readers_meanwhile_get_the_previous_body() {
    let cache = Arc::new(RenderCache::default());
    let key = CacheKey { channel: ChannelId::All, format: Format::Atom, limit: 10, before: None, links_for: None };
    let body = |v: u64| Rendered::new(v, format!("v{v}").into_bytes(), Utc::now(), Format::Atom, String::new());
    let version_of = |l: Lookup| match l {
        Lookup::Hit(r) => ("hit", r.version),
        Lookup::Stale(r) => ("stale", r.version),
        Lookup::Render(_) => ("render", 0),
    };
    let Lookup::Render(t1) = cache.lookup(key.clone(), 1) else { panic!("first request renders") };
    cache.finish(t1, body(1));
    assert_eq!(version_of(cache.lookup(key.clone(), 1)), ("hit", 1));
    let Lookup::Render(t2) = cache.lookup(key.clone(), 2) else { panic!("a change is rendered") };
    assert_eq!(version_of(cache.lookup(key.clone(), 2)), ("stale", 1), "no second render meanwhile");
    drop(t2);
    let Lookup::Render(t3) = cache.lookup(key.clone(), 2) else { panic!("a failed render frees the page") };
    cache.finish(t3, body(2));
    assert_eq!(version_of(cache.lookup(key.clone(), 2)), ("hit", 2));
    // With nothing cached yet, two requests may both render: the newer version stays.
    let other = CacheKey { limit: 20, ..key };
    let Lookup::Render(old) = cache.lookup(other.clone(), 1) else { panic!("renders") };
    let Lookup::Render(new) = cache.lookup(other.clone(), 2) else { panic!("renders") };
    cache.finish(new, body(2));
    cache.finish(old, body(1));
    assert_eq!(version_of(cache.lookup(other, 2)), ("hit", 2), "an older render never replaces a newer");
    assert_eq!(cache.renders(), 4);
}

#[test]
fn validators() {
    let t = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("date").with_timezone(&Utc);
    let r = Rendered::new(1, b"body".to_vec(), t, Format::Atom, "c1".into());
    let tag = format!("\"{}\"", r.etag);
    assert!(not_modified(&req(&[("if-none-match", &tag)]), &r));
    assert!(not_modified(&req(&[("if-none-match", &format!("W/\"{}-gz\", \"x\"", r.etag))]), &r));
    assert!(!not_modified(&req(&[("if-none-match", "\"other\"")]), &r));
    assert!(not_modified(&req(&[("if-modified-since", "Sat, 28 Nov 2026 10:00:00 GMT")]), &r));
    assert!(!not_modified(&req(&[("if-modified-since", "Sat, 28 Nov 2026 09:59:59 GMT")]), &r));
    // If-None-Match decides when both are present.
    assert!(!not_modified(
        &req(&[("if-none-match", "\"other\""), ("if-modified-since", "Sat, 28 Nov 2026 10:00:00 GMT")]),
        &r
    ));
}

#[test]
fn each_answer_keeps_its_own_headers_when_they_are_made_once_and_copied() {
    let t = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("date").with_timezone(&Utc);
    let r = Arc::new(Rendered::new(1, b"body".to_vec(), t, Format::Atom, "c1".into()));
    let (public, private) =
        (CacheHeaders::public(Duration::from_secs(60)), CacheHeaders::private(Duration::from_secs(60)));
    let head = |pairs: &[(&'static str, &str)], cache: &CacheHeaders| {
        let answer = reply(&req(pairs), r.clone()).response(cache);
        let h = |name: header::HeaderName| answer.headers().get(name).map(|v| v.to_str().expect("ascii").to_owned());
        (
            answer.status(),
            h(header::ETAG),
            h(header::CACHE_CONTROL),
            h(header::CONTENT_ENCODING),
            h(header::CONTENT_TYPE),
        )
    };
    let tag = format!("\"{}\"", r.etag);
    for _ in 0..2 {
        let plain = head(&[], &public);
        assert_eq!((plain.0, plain.1.as_deref(), plain.3.as_deref()), (StatusCode::OK, Some(tag.as_str()), None));
        assert_eq!(plain.2.as_deref(), Some("public, max-age=60"));
        let gz = head(&[("accept-encoding", "gzip")], &public);
        assert_eq!((gz.1, gz.3.as_deref()), (Some(format!("\"{}-gz\"", r.etag)), Some("gzip")));
        let not_modified = head(&[("if-none-match", &tag)], &public);
        assert_eq!((not_modified.0, not_modified.3, not_modified.4), (StatusCode::NOT_MODIFIED, None, None));
        // A partner's answer to the same body: its own caching headers, not the copy's.
        let theirs = head(&[], &private);
        assert_eq!(theirs.2.as_deref(), Some("private, max-age=60"));
    }
}

#[test]
fn an_answer_as_bytes_says_what_its_response_says() {
    let t = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("date").with_timezone(&Utc);
    let r = Rendered::new(1, b"<feed>body</feed>".repeat(100), t, Format::Atom, "c1".into());
    let r = Arc::new(r.with_links(Some("https://hub.example/"), "https://feeds.example/all.atom"));
    let tag = format!("\"{}\"", r.etag);
    let caches = [CacheHeaders::public(Duration::from_secs(60)), CacheHeaders::private(Duration::from_secs(9))];
    let requests: [&[(&'static str, &str)]; 4] =
        [&[], &[("accept-encoding", "gzip")], &[("accept-encoding", "br")], &[("if-none-match", &tag)]];
    for (cache, pairs) in caches.iter().flat_map(|c| requests.iter().map(move |p| (c, p))) {
        for _ in 0..2 {
            let decided = reply(&req(pairs), r.clone());
            let (head, body) = decided.wire(cache);
            let response = decided.response(cache);
            let mut slots = [httparse::EMPTY_HEADER; 16];
            let mut parsed = httparse::Response::new(&mut slots);
            let mut whole = head.to_vec();
            whole.extend_from_slice(b"\r\n");
            assert_eq!(parsed.parse(&whole).expect("parses"), httparse::Status::Complete(whole.len()));
            assert_eq!(parsed.code, Some(response.status().as_u16()), "{pairs:?}");
            let mut wire: Vec<(String, Vec<u8>)> =
                parsed.headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect();
            let mut made: Vec<(String, Vec<u8>)> =
                response.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
            if response.status() == StatusCode::OK {
                made.push(("content-length".into(), body.len().to_string().into_bytes()));
            } else {
                assert!(body.is_empty(), "a 304 has no body");
            }
            wire.sort();
            made.sort();
            assert_eq!(wire, made, "{pairs:?}");
            let sent = futures_body(response);
            assert_eq!(sent, body, "{pairs:?}");
        }
    }
}

fn futures_body(response: Response) -> Bytes {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).expect("body")
}
