//! Serving threads, one per core, each with a single-threaded runtime of its own, all accepting
//! on the one listening socket (as nginx's workers do). A cached answer then never crosses
//! threads: a work-stealing runtime woke a second worker for most requests, which cost more than
//! building the answer. Polls keep the main runtime.

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What answers the requests: axum's `Router`, or a front that answers some requests itself.
pub trait Site:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
}

impl<S> Site for S where
    S: tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
}

/// Serves `site` on `threads` threads until `stop` is cancelled and open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    site: impl Site,
    threads: usize,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let shared = listener.into_std()?;
    // Dropped before the threads end (its runtime went away): they are told to stop, not left
    // serving a state nobody owns.
    let _stop_on_drop = stop.clone().drop_guard();
    let mut running = Vec::with_capacity(threads);
    for i in 0..threads.max(1) {
        let (socket, site, stop) = (shared.try_clone()?, site.clone(), stop.clone());
        // Each thread reports its end on a channel instead of being joined from the blocking
        // pool: a runtime dropped while serving (a test that panics) must not wait for a join.
        let (done, ended) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("newsriver-http-{i}")).spawn(move || {
            let _ = done.send(serve_one(socket, site, stop));
        })?;
        running.push(ended);
    }
    let mut result = Ok(());
    for ended in running {
        // A dropped sender means the thread panicked before reporting.
        let outcome = ended.await.unwrap_or_else(|_| Err(std::io::Error::other("a serving thread panicked")));
        if outcome.is_err() {
            // One thread failing stops them all: a half-serving process is worse than none.
            stop.cancel();
            result = result.and(outcome);
        }
    }
    result
}

fn serve_one(socket: std::net::TcpListener, site: impl Site, stop: CancellationToken) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(socket)?;
        let open = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            };
            // As nginx's `tcp_nodelay`: the last segment of an answer leaves with the rest
            // instead of waiting for the client to acknowledge the ones before it.
            let _ = stream.set_nodelay(true);
            open.spawn(connection(stream, WithPeer { site: site.clone(), peer }, stop.clone()));
        }
        // No new connections; the open ones finish the request they are in and close.
        drop(listener);
        open.close();
        open.wait().await;
        Ok(())
    })
}

/// Backs off after a failed accept: a client that gave up is nothing, but running out of file
/// descriptors would otherwise spin this thread.
async fn pause_after(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::error!("accept failed: {e}");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// One HTTP/1.1 connection (the only protocol served: no sniffing for HTTP/2 on each one), shut
/// down gracefully when `stop` is cancelled.
async fn connection<S: Site>(stream: TcpStream, service: WithPeer<S>, stop: CancellationToken) {
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// One connection's site and client address. The address is added (`ConnectInfo`) to POST
/// requests only, for the handlers that limit per address (WebSub subscriptions): on every GET
/// it would cost a cached answer two allocations.
#[derive(Clone)]
struct WithPeer<S> {
    site: S,
    peer: SocketAddr,
}

impl<S: Site> hyper::service::Service<hyper::Request<hyper::body::Incoming>> for WithPeer<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = S::Future;

    fn call(&self, req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        let mut req = req.map(axum::body::Body::new);
        if req.method() == axum::http::Method::POST {
            req.extensions_mut().insert(ConnectInfo(self.peer));
        }
        // A site is always ready (a router is, axum documents it), so it is called without asking.
        tower::Service::call(&mut self.site.clone(), req)
    }
}

/// One serving thread per core (at most 8: beyond that accept contention wins over cores).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8)
}
