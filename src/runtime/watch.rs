//! Whether anything moves on a connection: requests begun or being answered, bytes sent. The
//! serving threads close a connection on which nothing moved for `server.client_timeout`.
//!
//! One timer per connection, re-armed once per timeout, instead of one per request (hyper's
//! header timer costs a boxed sleep registered and cancelled per request, a tenth of a cached
//! answer's instructions).

use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What one connection has done: a count that moves with each request begun and each write,
/// and the requests its handlers are still working on.
#[derive(Debug, Default)]
pub(super) struct Activity {
    moved: AtomicU64,
    in_flight: AtomicU64,
}

impl Activity {
    /// A mark to compare with the next one: equal marks mean nothing moved in between. Bytes
    /// read do not count, so a client trickling a head it never finishes is not kept alive by it.
    pub(super) fn mark(&self) -> Option<u64> {
        (self.in_flight.load(Relaxed) == 0).then(|| self.moved.load(Relaxed))
    }

    pub(super) fn moved(&self) {
        self.moved.fetch_add(1, Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// A handler's answer being made: the connection is busy until it is ready (or dropped).
    pub(super) struct Answering<F> {
        #[pin]
        inner: F,
        activity: Arc<Activity>,
    }

    impl<F> PinnedDrop for Answering<F> {
        fn drop(this: Pin<&mut Self>) {
            this.activity.in_flight.fetch_sub(1, Relaxed);
        }
    }
}

impl<F> Answering<F> {
    pub(super) fn new(inner: F, activity: Arc<Activity>) -> Self {
        activity.moved();
        activity.in_flight.fetch_add(1, Relaxed);
        Self { inner, activity }
    }
}

impl<F: Future> Future for Answering<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// A stream whose writes count as activity.
pub(super) struct Watched<S> {
    stream: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub(super) fn new(stream: S, activity: Arc<Activity>) -> Self {
        Self { stream, activity }
    }

    fn count(&self, written: &Poll<std::io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.moved();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, data);
        this.count(&written);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.count(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mark_moves_with_requests_and_writes_and_is_none_while_an_answer_is_made() {
        let activity = Arc::new(Activity::default());
        let start = activity.mark();
        assert!(start.is_some());
        let answering = Answering::new(std::future::ready(1), activity.clone());
        assert_eq!(activity.mark(), None, "busy while the handler works");
        assert_eq!(answering.await, 1);
        let after_request = activity.mark();
        assert!(after_request.is_some() && after_request != start, "a request moved it");
        let (client, server) = tokio::io::duplex(64);
        let mut watched = Watched::new(server, activity.clone());
        tokio::io::AsyncWriteExt::write_all(&mut watched, b"answer").await.expect("write");
        assert_ne!(activity.mark(), after_request, "a write moved it");
        drop(client);
        let idle = activity.mark();
        assert_eq!(activity.mark(), idle, "nothing moved");
    }
}
