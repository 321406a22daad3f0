//! Serving threads, one per core, each with a single-threaded runtime of its own, all accepting
//! on the one listening socket (as nginx's workers do). A cached answer then never crosses
//! threads: a work-stealing runtime woke a second worker for most requests, which cost more than
//! building the answer. A connection may move once, when it is accepted, to a thread holding
//! fewer (`spread.rs`). Polls keep the main runtime.

use super::site::Site;
use super::spread::{Handed, Held, Spread};
use super::watch::{Activity, Answering, Watched};
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long, after the stop, a connection may take to finish the request it is in.
const DRAIN: Duration = Duration::from_secs(5);

/// How requests are taken in: on how many threads, and how long a client may be silent.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    pub threads: usize,
    /// How long a connection may stay without a request begun, answered or sent before it is
    /// closed: a silent or trickling client must not hold a descriptor for ever.
    pub client_timeout: Duration,
}

/// Serves `site` until `stop` is cancelled and open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    site: impl Site,
    connections: Connections,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let shared = listener.into_std()?;
    // Dropped before the threads end (its runtime went away): they are told to stop, not left
    // serving a state nobody owns.
    let _stop_on_drop = stop.clone().drop_guard();
    let threads = connections.threads.max(1);
    let (spread, inboxes) = Spread::new(threads);
    let mut running = Vec::with_capacity(threads);
    for (i, inbox) in inboxes.into_iter().enumerate() {
        let (socket, site, stop) = (shared.try_clone()?, site.clone(), stop.clone());
        let me = Thread { at: i, spread: spread.clone(), inbox };
        // Each thread reports its end on a channel instead of being joined from the blocking
        // pool: a runtime dropped while serving (a test that panics) must not wait for a join.
        let (done, ended) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("newsriver-http-{i}")).spawn(move || {
            let _ = done.send(serve_one(socket, site, me, connections.client_timeout, stop));
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

/// One serving thread's place among the others: its index, the shared counts, its inbox of
/// connections handed over.
struct Thread {
    at: usize,
    spread: Arc<Spread>,
    inbox: tokio::sync::mpsc::UnboundedReceiver<Handed>,
}

fn serve_one(
    socket: std::net::TcpListener,
    site: impl Site,
    mut me: Thread,
    client_timeout: Duration,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(socket)?;
        let open = TaskTracker::new();
        let Thread { at, spread, inbox } = &mut me;
        loop {
            let (stream, peer, held) = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => match place(spread, *at, stream, peer) {
                        Some(kept) => kept,
                        None => continue,
                    },
                    Err(e) => {
                        pause_after(&e).await;
                        continue;
                    }
                },
                Some((handed, peer, held)) = inbox.recv() => match TcpStream::from_std(handed) {
                    Ok(stream) => (stream, peer, held),
                    Err(_) => continue,
                },
            };
            // As nginx's `tcp_nodelay`: the last segment of an answer leaves with the rest
            // instead of waiting for the client to acknowledge the ones before it.
            let _ = stream.set_nodelay(true);
            let conn = connection(stream, site.clone(), peer, client_timeout, stop.clone());
            open.spawn(async move {
                // Counted for this thread while it is open.
                let _held = held;
                conn.await;
            });
        }
        // No new connections; the open ones finish the request they are in and close.
        drop(listener);
        open.close();
        open.wait().await;
        Ok(())
    })
}

/// Keeps a connection this thread (`at`) accepted, or hands it to a thread that holds fewer;
/// what to serve here, if anything.
fn place(
    spread: &Arc<Spread>,
    at: usize,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<(TcpStream, SocketAddr, Held)> {
    let (to, held) = spread.take(at);
    if to == at {
        return Some((stream, peer, held));
    }
    match spread.hand(to, (stream.into_std().ok()?, peer, held)) {
        Ok(()) => None,
        // That thread has ended (the service is stopping): served here after all.
        Err((handed, peer, held)) => Some((TcpStream::from_std(handed).ok()?, peer, held.moved(at))),
    }
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

/// One HTTP/1.1 connection (the only protocol served: no sniffing for HTTP/2 on each one): plain
/// GETs the site answers directly go the short way (`lane.rs`), the rest of the connection from
/// the first other request goes to hyper. Shut down gracefully when `stop` is cancelled or when
/// nothing moved on it for `client_timeout`.
async fn connection<S: Site>(
    stream: TcpStream,
    site: S,
    peer: SocketAddr,
    client_timeout: Duration,
    stop: CancellationToken,
) {
    let activity = Arc::new(Activity::default());
    let io = Watched::new(super::sendfile::Stream::new(stream), activity.clone());
    let closing = AtomicBool::new(false);
    let lane = std::pin::pin!(super::lane::serve(io, &site, &activity, &closing));
    let watch = Watch { activity: &activity, client_timeout, stop: &stop, peer };
    let Some(Some(io)) = watch.run(lane, |_| closing.store(true, Relaxed)).await else { return };
    let service = WithPeer { site: site.clone(), peer, activity: activity.clone() };
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    let _ = watch.run(std::pin::pin!(conn), |conn| conn.graceful_shutdown()).await;
}

/// What ends a connection: the service stopping, or nothing moving for `client_timeout`.
struct Watch<'a> {
    activity: &'a Activity,
    client_timeout: Duration,
    stop: &'a CancellationToken,
    peer: SocketAddr,
}

impl Watch<'_> {
    /// Runs `conn` to its end, unless it is dropped: `graceful` asks it to end after the request
    /// it is in, which may take `DRAIN` once the service stops. `None` when it was dropped.
    async fn run<F: Future>(&self, mut conn: Pin<&mut F>, mut graceful: impl FnMut(Pin<&mut F>)) -> Option<F::Output> {
        let (mut last, mut still) = (self.activity.mark(), 0);
        loop {
            tokio::select! {
                biased;
                out = conn.as_mut() => return Some(out),
                () = self.stop.cancelled() => break,
                () = tokio::time::sleep(self.client_timeout) => {}
            }
            let now = self.activity.mark();
            // `None`: an answer is being made, which counts as moving.
            still = if now.is_some() && now == last { still + 1 } else { 0 };
            last = now;
            // A first still period: closed at once between requests, else (a head not whole
            // yet, an answer the client does not take) told to close when done; a second: dropped.
            match still {
                0 => {}
                1 => graceful(conn.as_mut()),
                _ => {
                    tracing::debug!(peer = %self.peer, "dropped a connection on which nothing moved");
                    return None;
                }
            }
        }
        graceful(conn.as_mut());
        // The request in flight may finish; a client that has not sent a whole head by then
        // does not hold the shutdown up.
        tokio::time::timeout(DRAIN, conn).await.ok()
    }
}

/// One connection's site and client address. The address is added (`ConnectInfo`) to POST
/// requests only, for the handlers that limit per address (WebSub subscriptions): on every GET
/// it would cost a cached answer two allocations.
#[derive(Clone)]
struct WithPeer<S> {
    site: S,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl<S: Site> hyper::service::Service<hyper::Request<hyper::body::Incoming>> for WithPeer<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering<S::Future>;

    fn call(&self, req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        let mut req = req.map(axum::body::Body::new);
        if req.method() == axum::http::Method::POST {
            req.extensions_mut().insert(ConnectInfo(self.peer));
        }
        // A site is always ready (a router is, axum documents it), so it is called without asking.
        Answering::new(tower::Service::call(&mut self.site.clone(), req), self.activity.clone())
    }
}

/// One serving thread per core (at most 8: beyond that accept contention wins over cores).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8)
}

#[cfg(test)]
mod tests {
    use super::super::site::Direct;
    use super::*;
    use axum::extract::Request;
    use axum::http::{HeaderMap, Uri};
    use std::collections::HashMap;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Which serving thread answers, as the body; `/lane` is answered directly, with `lane`.
    #[derive(Clone)]
    struct ThreadName;

    impl tower::Service<Request> for ThreadName {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _req: Request) -> Self::Future {
            let name = std::thread::current().name().unwrap_or_default().to_owned();
            std::future::ready(Ok(Response::new(axum::body::Body::from(name))))
        }
    }

    impl Site for ThreadName {
        fn direct(&self, uri: &Uri, _headers: &HeaderMap) -> Option<Direct> {
            (uri.path() == "/lane").then(|| Direct::Ready(Response::new(axum::body::Body::from("lane"))))
        }
    }

    async fn ask(addr: SocketAddr, request: &[u8]) -> String {
        let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
        c.write_all(request).await.expect("send");
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.expect("read");
        answer.split("\r\n\r\n").nth(1).expect("a body").to_owned()
    }

    #[tokio::test]
    async fn plain_gets_the_site_answers_directly_are_answered_below_hyper_and_the_rest_by_hyper() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let connections = Connections { threads: 1, client_timeout: Duration::from_secs(10) };
        let server = tokio::spawn(serve(listener, ThreadName, connections, stop.clone()));
        let lane = ask(addr, b"GET /lane HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await;
        assert_eq!(lane, "lane");
        for request in [&b"GET /lane HTTP/1.0\r\n\r\n"[..], b"GET /other HTTP/1.1\r\nConnection: close\r\n\r\n"] {
            assert_eq!(ask(addr, request).await, "newsriver-http-0", "{}", String::from_utf8_lossy(request));
        }
        stop.cancel();
        server.await.expect("join").expect("served");
    }

    #[tokio::test]
    async fn a_burst_of_connections_is_served_evenly_by_the_serving_threads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let connections = Connections { threads: 2, client_timeout: Duration::from_secs(10) };
        let server = tokio::spawn(serve(listener, ThreadName, connections, stop.clone()));
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
        }
        // Every connection accepted and placed before any request (and any close).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut served: HashMap<String, usize> = HashMap::new();
        for mut c in clients {
            c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.expect("send");
            let mut answer = String::new();
            c.read_to_string(&mut answer).await.expect("read");
            let body = answer.split("\r\n\r\n").nth(1).expect("a body").to_owned();
            *served.entry(body).or_default() += 1;
        }
        stop.cancel();
        server.await.expect("join").expect("served");
        assert_eq!(served.values().sum::<usize>(), 20, "{served:?}");
        for name in ["newsriver-http-0", "newsriver-http-1"] {
            assert!(served.get(name).copied().unwrap_or(0) >= 8, "{served:?}");
        }
    }
}
