//! What the serving threads serve: a site is a router (a `tower` service of requests) that may
//! also answer some GETs itself, below hyper (`lane.rs`).

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

/// What answers the requests: a router, and what the site answers without it (`direct`).
pub trait Site:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + Sync + 'static
{
    /// The answer to a GET of `uri` when the site makes it without its router (a cached
    /// channel), or `None` to leave the request to the router: nothing is counted or decided
    /// then. A plain GET is answered below hyper (`lane.rs`) when this gives one.
    fn direct(&self, uri: &Uri, headers: &HeaderMap) -> Option<Direct>;
}

/// An answer the site makes without its router: at once, or later (a render).
pub enum Direct {
    /// Made as HTTP/1.1 already: the head as `lane::head_lines` makes it (no `date`, no blank
    /// line), and the body (empty for a 304).
    Wire {
        head: Bytes,
        body: Bytes,
    },
    Ready(Response),
    Later(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direct::Wire { .. } => "Direct::Wire",
            Direct::Ready(_) => "Direct::Ready",
            Direct::Later(_) => "Direct::Later",
        })
    }
}
