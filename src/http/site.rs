//! What the serving threads call per request: a channel GET goes straight to its handler (from
//! below hyper for a plain GET, `runtime::Site::direct`, or from hyper), the rest through the
//! router.
//!
//! A cached channel answer is the hot path (feed readers poll it, mostly for a 304); the
//! router's matching, its extractors and their futures cost about as much as the handler itself.

use super::feeds::{self, FeedQuery};
use super::{AppState, Live};
use crate::runtime::{self, Direct};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The router, and the live state channel answers are made from.
#[derive(Clone, Debug)]
pub struct Site {
    live: Live,
    router: Router,
}

impl Site {
    /// `router` must route the channel URLs to `feeds::channel` (as `http::router` does): the
    /// direct path answers them the same way, and leaves the router whatever it cannot.
    pub fn new(live: Live, router: Router) -> Self {
        Self { live, router }
    }
}

/// A cached channel answer is ready when the call returns; anything else is a boxed future.
pub enum Answer {
    Ready(std::future::Ready<Result<Response, Infallible>>),
    Later(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
    Direct(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Answer::Ready(_) => "Answer::Ready",
            Answer::Later(_) => "Answer::Later",
            Answer::Direct(_) => "Answer::Direct",
        })
    }
}

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(ready) => Pin::new(ready).poll(cx),
            Answer::Later(later) => later.as_mut().poll(cx),
            Answer::Direct(direct) => direct.as_mut().poll(cx).map(Ok),
        }
    }
}

impl tower::Service<Request> for Site {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    /// What hyper asks for (every request but the plain GETs the serving threads answer
    /// themselves through `direct`): a channel GET is still answered directly.
    fn call(&mut self, req: Request) -> Answer {
        let made = (req.method() == Method::GET).then(|| self.channel(req.uri(), req.headers()));
        match made.flatten() {
            Some(Made::Served(served, state)) => Answer::Ready(std::future::ready(Ok(served.response(&state)))),
            Some(Made::Ready(response)) => Answer::Ready(std::future::ready(Ok(response))),
            Some(Made::Later(later)) => Answer::Direct(later),
            None => Answer::Later(Box::pin(self.router.call(req))),
        }
    }
}

impl runtime::Site for Site {
    fn direct(&self, uri: &Uri, headers: &HeaderMap) -> Option<Direct> {
        Some(match self.channel(uri, headers)? {
            Made::Served(served, state) => {
                let (head, body) = served.wire(&state);
                Direct::Wire { head, body }
            }
            Made::Ready(response) => Direct::Ready(response),
            Made::Later(later) => Direct::Later(later),
        })
    }
}

/// A channel answer made without the router: a cached body's, decided and counted (written as
/// the caller writes answers), or another (an error, a render).
enum Made {
    Served(feeds::Served, AppState),
    Ready(Response),
    Later(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl Site {
    fn channel(&self, uri: &Uri, headers: &HeaderMap) -> Option<Made> {
        let url = ChannelUrl::direct(uri)?;
        let state = self.live.load();
        let file = uri.path().get(url.file_at..).unwrap_or_default();
        // A cached body is answered here, without a future: that future (over 1 KiB) cost an
        // allocation on mimalloc's slow path per answer.
        let pending = match feeds::begin(&state, url.kind, file, url.query, headers) {
            Ok(feeds::Begun::Answered(served)) => return Some(Made::Served(served, state)),
            Err(e) => return Some(Made::Ready(e.into_response())),
            Ok(feeds::Begun::Render(pending)) => pending,
        };
        let headers = headers.clone();
        let later = async move { feeds::render(&state, *pending, &headers).await.into_response() };
        Some(Made::Later(Box::pin(later)))
    }
}

/// A channel URL taken apart: its kind (`feeds::FEEDS`, `TOPICS`, `SOURCES`), where its file
/// starts in the path (read from the request itself: no copy), and its query.
#[derive(Debug)]
struct ChannelUrl {
    kind: u8,
    file_at: usize,
    query: FeedQuery,
}

impl ChannelUrl {
    /// The channel URL `uri` is, when the router would take it apart the same way: a file that
    /// needs no percent-decoding and a query that parses. Anything else is the router's, so its
    /// answers (and its errors) stay the only ones.
    fn direct(uri: &Uri) -> Option<Self> {
        let path = uri.path();
        let (kind, file) = [("/feeds/", feeds::FEEDS), ("/topics/", feeds::TOPICS), ("/sources/", feeds::SOURCES)]
            .into_iter()
            .find_map(|(prefix, kind)| path.strip_prefix(prefix).map(|file| (kind, file)))?;
        let file_at = path.len() - file.len();
        let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if file.is_empty() || !file.bytes().all(plain) {
            return None;
        }
        let query = match uri.query() {
            None => FeedQuery::default(),
            Some(q) => query(q)?,
        };
        Some(Self { kind, file_at, query })
    }
}

/// The query as the router's `Query` extractor reads it. One needing no decoding (the usual
/// `?limit=100`) is split here: the general parser cost a cached answer ~1,300 instructions.
fn query(q: &str) -> Option<FeedQuery> {
    if q.bytes().any(|b| b == b'%' || b == b'+') {
        return serde_urlencoded::from_str(q).ok();
    }
    let mut out = FeedQuery::default();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(slot) = out.field(name) else { continue };
        // A field given twice is refused, as the extractor refuses it.
        if slot.replace(value.to_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(uri: &str) -> Option<(u8, String, Option<String>)> {
        let uri: Uri = uri.parse().expect("uri");
        let url = ChannelUrl::direct(&uri)?;
        Some((url.kind, uri.path()[url.file_at..].to_owned(), url.query.limit))
    }

    #[test]
    fn channel_urls_the_router_would_take_apart_alike_go_direct() {
        assert_eq!(direct("/feeds/all.atom"), Some((feeds::FEEDS, "all.atom".into(), None)));
        assert_eq!(
            direct("/topics/energy-policy.rss?limit=5"),
            Some((feeds::TOPICS, "energy-policy.rss".into(), Some("5".into())))
        );
        assert_eq!(direct("/sources/wire_agency?unknown=1"), Some((feeds::SOURCES, "wire_agency".into(), None)));
        assert_eq!(direct("/feeds/all.json?"), Some((feeds::FEEDS, "all.json".into(), None)));
    }

    #[test]
    fn queries_split_here_read_as_the_extractor_reads_them() {
        for q in [
            "",
            "limit=5",
            "limit=",
            "limit",
            "&&limit=5&",
            "limit=5&before=abc&since=x_y-z.1&key=k",
            "unknown=1&limit=2",
            "limit=1&limit=2",
            "limit=1&x=1&limit=1",
            "key==a=b",
            "=5",
            "limit=%35",
            "lim%69t=5",
            "key=a+b",
            "limit=5&key=%zz",
            "before=%E2%82%AC",
            "since=a%26b&limit=3",
            "Limit=5",
        ] {
            let ours = query(q);
            let theirs: Option<FeedQuery> = serde_urlencoded::from_str(q).ok();
            assert_eq!(ours, theirs, "{q:?}");
        }
    }

    #[test]
    fn anything_needing_decoding_or_refused_by_the_query_parser_is_left_to_the_router() {
        for uri in [
            "/feeds/all%2Eatom",
            "/feeds/",
            "/feeds/all.atom/",
            "/feeds/a/b.atom",
            "/feedsall.atom",
            "/api/sources",
            "/",
            "/feeds/all.atom?limit=1&limit=2",
        ] {
            assert!(direct(uri).is_none(), "{uri} went direct");
        }
    }
}
