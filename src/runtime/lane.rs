//! The short way through a connection for what the site answers without its router (a cached
//! channel): a plain HTTP/1.1 GET is read here (`httparse`), handed to `Site::direct`, and its
//! answer written with a head made here. Everything else (another method or version, a body, an
//! upgrade, a head too large or malformed, a URL the site leaves to its router) goes to hyper with
//! the bytes read so far, and the rest of the connection stays with it.
//!
//! A cached answer comes made (`Direct::Wire`: its head kept as bytes beside its body), so here
//! it is only dated and sent: no request or response objects for hyper, no header map cloned and
//! encoded per answer. Measured with `wrk -t2 -c64` on the e2e store, server CPU per answer: a
//! 304 4.32–4.49 µs against 4.69–4.80 through hyper (nginx 4.33), a 26 KB gzip body 6.34–6.39
//! against 6.52–6.78. The same lane handing hyper's `Response`s over instead saved nothing.

use super::site::{Direct, Site};
use super::watch::{Activity, Answering};
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use std::future::Future;
use std::io::{IoSlice, Write};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// A head that has not ended within this many bytes is refused (431), whatever its method:
/// hyper's own limit only holds when a head arrives slowly enough for it to look in between.
const MAX_HEAD: usize = 64 * 1024;
/// How long a refused client may go on sending before the connection is dropped.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// More header lines than this: hyper's (it takes up to 100).
const MAX_HEADERS: usize = 32;

/// Serves requests on `io` while the site answers them directly. `None` when the connection is
/// done (closed by the client, asked to close, or told to by `closing` between requests);
/// otherwise the stream for hyper, starting with the bytes not yet answered.
pub(super) async fn serve<S, T>(
    mut io: S,
    site: &T,
    activity: &Arc<Activity>,
    closing: &AtomicBool,
) -> Option<Rewind<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: Site,
{
    let mut buf = BytesMut::with_capacity(4096);
    let mut head = Vec::with_capacity(512);
    loop {
        let request = match next_request(&mut io, &mut buf, closing).await? {
            Parsed::Request(request) => request,
            Parsed::Hyper | Parsed::Partial => return Some(Rewind::new(io, buf.freeze())),
            Parsed::TooLarge => return refuse(io, &mut head).await,
        };
        let Some(direct) = site.direct(&request.uri, &request.headers) else {
            let mut unread = BytesMut::from(&request.head[..]);
            unread.extend_from_slice(&buf);
            return Some(Rewind::new(io, unread.freeze()));
        };
        let sent = match direct {
            Direct::Wire { head: made, body } => {
                activity.moved();
                write_wire(&mut io, &mut head, (made, body), request.close).await
            }
            Direct::Ready(response) => {
                activity.moved();
                write_answer(&mut io, &mut head, response, request.close).await
            }
            Direct::Later(answer) => {
                let response = Answering::new(answer, activity.clone()).await;
                write_answer(&mut io, &mut head, response, request.close).await
            }
        };
        if sent.is_err() || request.close || closing.load(Relaxed) {
            let _ = io.shutdown().await;
            return None;
        }
    }
}

/// Reads until `buf` holds a whole head (or one that is hyper's). `None`: the connection ended,
/// or `closing` came between requests. Inside a head the client may finish it, as with hyper.
async fn next_request<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut, closing: &AtomicBool) -> Option<Parsed> {
    loop {
        match parse(buf) {
            Parsed::Partial => {}
            done => return Some(done),
        }
        // Looked at whenever the connection's task polls this read: the watch sets it, then polls.
        let between = buf.is_empty();
        let read = std::future::poll_fn(|cx| {
            if between && closing.load(Relaxed) {
                return Poll::Ready(None);
            }
            std::pin::pin!(io.read_buf(buf)).poll(cx).map(Some)
        })
        .await?;
        if !matches!(read, Ok(n) if n > 0) {
            return None;
        }
    }
}

/// A plain GET taken off the buffer: its target, its headers (values share the head's bytes),
/// whether the client asked to close, and the head itself for hyper if the site leaves it.
struct Request {
    uri: Uri,
    headers: HeaderMap,
    close: bool,
    head: Bytes,
}

#[allow(clippy::large_enum_variant)] // moved once per request, never kept: no box per request
enum Parsed {
    Request(Request),
    /// Not whole yet.
    Partial,
    /// Not a plain GET this path answers: hyper's, with everything read.
    Hyper,
    /// A head larger than `MAX_HEAD`.
    TooLarge,
}

/// Takes the first request off `buf` when it is one this path answers.
fn parse(buf: &mut BytesMut) -> Parsed {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Parsed::Partial,
        Ok(httparse::Status::Partial) => return Parsed::TooLarge,
        Err(_) => return Parsed::Hyper,
    };
    if parsed.method != Some("GET") || parsed.version != Some(1) {
        return Parsed::Hyper;
    }
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| (s.as_ptr() as usize - base)..(s.as_ptr() as usize - base + s.len());
    let Some(path) = parsed.path.map(|p| at(p.as_bytes())) else { return Parsed::Hyper };
    let mut close = false;
    let mut fields: Vec<(HeaderName, Range<usize>)> = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else { return Parsed::Hyper };
        match plain(&name, h.value) {
            Some(asks_close) => close |= asks_close,
            None => return Parsed::Hyper,
        }
        fields.push((name, at(h.value)));
    }
    let head = buf.split_to(len).freeze();
    let Ok(uri) = Uri::from_maybe_shared(head.slice(path)) else { return Parsed::Hyper.back(buf, head) };
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (name, value) in fields {
        let Ok(value) = HeaderValue::from_maybe_shared(head.slice(value)) else { return Parsed::Hyper.back(buf, head) };
        headers.append(name, value);
    }
    Parsed::Request(Request { uri, headers, close, head })
}

impl Parsed {
    /// Puts a head taken off the buffer back in front of it, for hyper.
    fn back(self, buf: &mut BytesMut, head: Bytes) -> Self {
        let mut whole = BytesMut::from(&head[..]);
        whole.extend_from_slice(buf);
        *buf = whole;
        self
    }
}

/// Whether a header leaves the request a plain GET: `Some(asks to close)`, `None` for a body,
/// an expectation or an upgrade, which are hyper's.
fn plain(name: &HeaderName, value: &[u8]) -> Option<bool> {
    if *name == header::CONTENT_LENGTH {
        return (value.trim_ascii() == b"0").then_some(false);
    }
    if [header::TRANSFER_ENCODING, header::EXPECT, header::UPGRADE].contains(name) {
        return None;
    }
    if *name != header::CONNECTION {
        return Some(false);
    }
    let mut close = false;
    for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
        if token.eq_ignore_ascii_case(b"upgrade") {
            return None;
        }
        close |= token.eq_ignore_ascii_case(b"close");
    }
    Some(close)
}

/// Answers a head too large with 431 and closes; what the client still sends meanwhile is read
/// and dropped for a moment, so that the answer is not lost to a reset.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin, T>(mut io: S, head: &mut Vec<u8>) -> Option<T> {
    let mut refusal = Response::new(axum::body::Body::empty());
    *refusal.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    if write_answer(&mut io, head, refusal, true).await.is_ok() && io.shutdown().await.is_ok() {
        let mut sink = [0u8; 8192];
        let drain = async { while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(LINGER, drain).await;
    }
    None
}

/// Writes `response` as HTTP/1.1: its head made in `head` (reused), its body whole behind it.
async fn write_answer<S: AsyncWrite + Unpin>(
    io: &mut S,
    head: &mut Vec<u8>,
    response: Response,
    close: bool,
) -> std::io::Result<()> {
    let (parts, body) = response.into_parts();
    let body = whole(body).await?;
    let bodyless = parts.status == StatusCode::NOT_MODIFIED || parts.status == StatusCode::NO_CONTENT;
    head.clear();
    encode_head(head, parts.status, &parts.headers, (!bodyless).then_some(body.len()), close);
    send(io, head, if bodyless { &[] } else { &body }).await
}

/// Writes an answer made as bytes (`Direct::Wire`): its head, completed in `head`, and its body.
async fn write_wire<S: AsyncWrite + Unpin>(
    io: &mut S,
    head: &mut Vec<u8>,
    (made, body): (Bytes, Bytes),
    close: bool,
) -> std::io::Result<()> {
    head.clear();
    head.extend_from_slice(&made);
    end_head(head, true, close);
    send(io, head, &body).await
}

async fn send<S: AsyncWrite + Unpin>(io: &mut S, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    let mut bufs = [IoSlice::new(head), IoSlice::new(body)];
    let mut left = &mut bufs[..];
    IoSlice::advance_slices(&mut left, 0);
    while !left.is_empty() {
        // The body's own slice, so that `sendfile.rs` recognises a cached body.
        let n = io.write_vectored(left).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut left, n);
    }
    io.flush().await
}

/// A body in one piece: a cached body is one frame already, so this is its `Bytes`, not a copy.
async fn whole(mut body: axum::body::Body) -> std::io::Result<Bytes> {
    let mut first: Option<Bytes> = None;
    let mut more = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(std::io::Error::other)?.into_data() else { continue };
        match &first {
            None => first = Some(data),
            Some(_) => more.extend_from_slice(&data),
        }
    }
    let first = first.unwrap_or_default();
    if more.is_empty() {
        return Ok(first);
    }
    let mut joined = BytesMut::from(&first[..]);
    joined.extend_from_slice(&more);
    Ok(joined.freeze())
}

/// The head hyper would write: status line, the answer's headers, `content-length` (none for a
/// 304 or 204), `date`, and `connection: close` when the connection ends with it.
fn encode_head(out: &mut Vec<u8>, status: StatusCode, headers: &HeaderMap, len: Option<usize>, close: bool) {
    head_lines(out, status, headers, len.filter(|_| !headers.contains_key(header::CONTENT_LENGTH)));
    end_head(out, !headers.contains_key(header::DATE), close);
}

/// An answer's status line, headers and `content-length` (when it has a body) as HTTP/1.1, all
/// but `date` and the blank line: what a cached answer keeps made (`Direct::Wire`).
pub fn head_lines(out: &mut Vec<u8>, status: StatusCode, headers: &HeaderMap, len: Option<usize>) {
    let reason = status.canonical_reason().unwrap_or("");
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", status.as_str());
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = len {
        let _ = write!(out, "content-length: {len}\r\n");
    }
}

/// `date`, `connection: close` when the connection ends with this answer, and the blank line.
fn end_head(out: &mut Vec<u8>, dated: bool, close: bool) {
    if dated {
        out.extend_from_slice(b"date: ");
        date(|d| out.extend_from_slice(d));
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Today's `date` value, made once a second per thread (as hyper caches it).
fn date(f: impl FnOnce(&[u8])) {
    use std::cell::RefCell;
    use std::time::{SystemTime, UNIX_EPOCH};
    thread_local!(static NOW: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) });
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    NOW.with_borrow_mut(|(at, text)| {
        if *at != secs {
            *at = secs;
            *text = httpdate::fmt_http_date(now);
        }
        f(text.as_bytes());
    });
}

/// A stream that reads `unread` first: the bytes this path read and left to hyper.
pub(super) struct Rewind<S> {
    unread: Bytes,
    inner: S,
}

impl<S> Rewind<S> {
    fn new(inner: S, unread: Bytes) -> Self {
        Self { unread, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.unread.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = this.unread.len().min(buf.remaining());
        buf.put_slice(&this.unread[..n]);
        this.unread.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "lane_tests.rs"]
mod tests;
