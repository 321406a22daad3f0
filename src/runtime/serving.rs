//! Serving threads, one per core, each with a single-threaded runtime of its own, all accepting
//! on the one listening socket (as nginx's workers do). A cached answer then never crosses
//! threads: a work-stealing runtime woke a second worker for most requests, which cost more than
//! building the answer. Polls keep the main runtime.

use axum::extract::{ConnectInfo, Request};
use axum::serve::IncomingStream;
use axum::Router;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `router` on `threads` threads until `stop` is cancelled and open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    threads: usize,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let shared = listener.into_std()?;
    // Dropped before the threads end (its runtime went away): they are told to stop, not left
    // serving a state nobody owns.
    let _stop_on_drop = stop.clone().drop_guard();
    let mut running = Vec::with_capacity(threads);
    for i in 0..threads.max(1) {
        let (socket, router, stop) = (shared.try_clone()?, router.clone(), stop.clone());
        // Each thread reports its end on a channel instead of being joined from the blocking
        // pool: a runtime dropped while serving (a test that panics) must not wait for a join.
        let (done, ended) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("newsriver-http-{i}")).spawn(move || {
            let _ = done.send(serve_one(socket, router, stop));
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

fn serve_one(socket: std::net::TcpListener, router: Router, stop: CancellationToken) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(socket)?;
        // The client's address reaches POST handlers (WebSub's limits, `POST /api/backup`).
        axum::serve(listener, PeerOnPost(router)).with_graceful_shutdown(async move { stop.cancelled().await }).await
    })
}

/// Makes, per connection, the router with the client's address (`ConnectInfo`) added to POST
/// requests, for the handlers that limit per address (WebSub subscriptions). Only to those: on
/// every GET it would cost a cached answer two allocations.
#[derive(Clone)]
struct PeerOnPost(Router);

impl<'a> tower::Service<IncomingStream<'a, TcpListener>> for PeerOnPost {
    type Response = WithPeer;
    type Error = Infallible;
    type Future = std::future::Ready<Result<WithPeer, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: IncomingStream<'a, TcpListener>) -> Self::Future {
        std::future::ready(Ok(WithPeer { router: self.0.clone(), peer: *incoming.remote_addr() }))
    }
}

/// One connection's router and client address.
#[derive(Clone)]
struct WithPeer {
    router: Router,
    peer: SocketAddr,
}

impl tower::Service<Request> for WithPeer {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = <Router as tower::Service<Request>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        if req.method() == axum::http::Method::POST {
            req.extensions_mut().insert(ConnectInfo(self.peer));
        }
        self.router.call(req)
    }
}

/// One serving thread per core (at most 8: beyond that accept contention wins over cores).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8)
}
