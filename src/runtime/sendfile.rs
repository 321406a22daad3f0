//! Cached bodies leave by `sendfile(2)` from a file of their own, as nginx sends static files:
//! the kernel hands the socket references to the file's pages instead of copying the body out of
//! our memory for every answer (that copy was a fifth of the serving threads' CPU for a 26 KB
//! gzip channel).
//!
//! The file is an unnamed one (`O_TMPFILE`) in the temporary directory. A disk filesystem's
//! page cache can hold it in large folios, a few per body; tmpfs and memfds hold it page by
//! page, and each page costs the sender a lookup and a reference (the likely reason for the
//! figures below). Measured on loopback with `wrk -c64` (ext4, Linux 6.18): from an unnamed
//! ext4 file, 28 KB bodies went 8–16 % faster than copied, 57 KB 19–25 %, 121 KB 2–5 %, 186 KB
//! 5–13 %; from a memfd 28–83 KB went 7–18 % faster but 115–121 KB 10–17 % slower, so
//! page-by-page files take bodies up to 96 KiB only.
//! At 17 KB neither way makes a difference.
//!
//! A body is `register`ed once (a copy into its file); `Stream` then recognises the body's bytes
//! when hyper writes them and sends them from the file. Anything not registered, and any error
//! but a full socket, goes the ordinary way (`writev`), so this only changes how bytes travel.

use arc_swap::ArcSwap;
use axum::body::Bytes;
use rustix::fs::{MemfdFlags, Mode, OFlags, SealFlags};
use rustix::net::SendFlags;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{IoSlice, Write};
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Smaller bodies are copied: one more system call per answer costs more than the copy saves.
const MIN_LEN: usize = 16 * 1024;
/// Larger bodies are copied when their file is held page by page: past this, sending them page
/// by page saves nothing (module note).
const MAX_PAGED_LEN: usize = 96 * 1024;
/// At most this many bodies hold a file (and a descriptor) at once: a cache of thousands of
/// pages must not use up the descriptors connections need.
const MAX_FILES: usize = 256;

/// Registered bodies by the address of their first byte: the length and the file holding a copy.
/// Read on every write of every connection, changed only when the cache keeps or drops a body:
/// a lock's shared counter, written by each read, would bounce between the serving threads.
type Files = BTreeMap<usize, (usize, Arc<File>)>;
static FILES: LazyLock<ArcSwap<Files>> = LazyLock::new(ArcSwap::default);

/// A body sent from its file while this lives; dropping it sends the body the ordinary way.
#[derive(Debug)]
pub struct Registered {
    start: usize,
}

impl Drop for Registered {
    fn drop(&mut self) {
        FILES.rcu(|files| {
            let mut files = Files::clone(files);
            files.remove(&self.start);
            files
        });
    }
}

/// Copies `body` into a file of its own and sends it from there from now on. `None` when the
/// body is small (or large, for page-by-page files), when enough files are open, or when no
/// file can be made.
pub fn register(body: &Bytes) -> Option<Registered> {
    let max = if *PAGED { MAX_PAGED_LEN } else { usize::MAX };
    if !(MIN_LEN..=max).contains(&body.len()) || FILES.load().len() >= MAX_FILES {
        return None;
    }
    let file = Arc::new(copy_to_file(body).ok()?);
    let start = body.as_ptr() as usize;
    let mut kept = false;
    FILES.rcu(|files| {
        let mut files = Files::clone(files);
        kept = files.len() < MAX_FILES;
        if kept {
            files.insert(start, (body.len(), file.clone()));
        }
        files
    });
    kept.then_some(Registered { start })
}

/// Whether body files are held page by page (tmpfs or memfd), found once with a first file.
static PAGED: LazyLock<bool> = LazyLock::new(|| match unnamed_file() {
    Ok(file) => rustix::fs::fstatfs(&file).map_or(true, |fs| fs.f_type == TMPFS_MAGIC),
    Err(_) => true,
});

/// `statfs`'s `f_type` of tmpfs (`linux/magic.h`).
const TMPFS_MAGIC: rustix::fs::FsWord = 0x0102_1994;

/// The body in a file of its own: an unnamed one in the temporary directory (no other process
/// can open it, and nothing writes to it after this), or a memfd sealed against any change.
fn copy_to_file(body: &[u8]) -> std::io::Result<File> {
    match unnamed_file() {
        Ok(mut file) => {
            file.write_all(body)?;
            Ok(file)
        }
        Err(_) => sealed_copy(body),
    }
}

fn unnamed_file() -> std::io::Result<File> {
    let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(std::env::temp_dir(), flags, Mode::from_raw_mode(0o600))?))
}

/// The body in a memfd sealed against any change: what the socket reads can only be `body`.
fn sealed_copy(body: &[u8]) -> std::io::Result<File> {
    let fd = rustix::fs::memfd_create("newsriver-body", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = File::from(fd);
    file.write_all(body)?;
    let seals = SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
    rustix::fs::fcntl_add_seals(&file, seals)?;
    Ok(file)
}

/// The file and offset holding `slice`, when it lies within a registered body.
fn file_of(slice: &[u8]) -> Option<(Arc<File>, u64)> {
    if slice.len() < MIN_LEN / 4 {
        return None;
    }
    let at = slice.as_ptr() as usize;
    let files = FILES.load();
    let (&start, (len, file)) = files.range(..=at).next_back()?;
    (at + slice.len() <= start + len).then(|| (file.clone(), (at - start) as u64))
}

/// A connection's socket, sending registered bodies from their files.
#[derive(Debug)]
pub struct Stream(TcpStream);

impl Stream {
    pub fn new(socket: TcpStream) -> Self {
        Self(socket)
    }

    /// Sends up to `len` bytes of `file` from `offset`; `None` when the socket is full.
    fn try_sendfile(&self, file: &File, mut offset: u64, len: usize) -> Option<std::io::Result<usize>> {
        let sent =
            self.0.try_io(Interest::WRITABLE, || Ok(rustix::fs::sendfile(&self.0, file, Some(&mut offset), len)?));
        match sent {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            other => Some(other),
        }
    }

    /// Bytes before a body (the head): sent with `MSG_MORE`, so they leave in one packet with
    /// the start of the body, as one `writev` would have sent them.
    fn try_send_more(&self, head: &[u8]) -> Option<std::io::Result<usize>> {
        let sent = self.0.try_io(Interest::WRITABLE, || Ok(rustix::net::send(&self.0, head, SendFlags::MORE)?));
        match sent {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            other => Some(other),
        }
    }

    /// Writes `bufs` when one of them is a registered body; `None` to write them the ordinary way.
    fn poll_zero_copy(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Option<Poll<std::io::Result<usize>>> {
        let (at, (file, offset)) = bufs.iter().enumerate().find_map(|(i, b)| file_of(b).map(|f| (i, f)))?;
        // Only a single head is sent apart; several slices before the body go as usual.
        if at > 1 {
            return None;
        }
        let mut written = 0;
        if at == 1 {
            match self.try_send_more(&bufs[0]) {
                Some(Ok(n)) if n == bufs[0].len() => written = n,
                Some(Ok(n)) => return Some(Poll::Ready(Ok(n))),
                Some(Err(_)) => return None,
                None => return Some(self.poll_writable(cx)),
            }
        }
        match self.try_sendfile(&file, offset, bufs[at].len()) {
            Some(Ok(n)) => Some(Poll::Ready(Ok(written + n))),
            // The head went out: report it; the body is asked for again.
            None if written > 0 => Some(Poll::Ready(Ok(written))),
            None => Some(self.poll_writable(cx)),
            Some(Err(_)) if written > 0 => Some(Poll::Ready(Ok(written))),
            Some(Err(_)) => None,
        }
    }

    /// Pending until the socket can take more (and then asked again); a failure is the socket's.
    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        match self.0.poll_write_ready(cx) {
            Poll::Ready(Ok(())) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Some(done) = self.poll_zero_copy(cx, &[IoSlice::new(buf)]) {
            return done;
        }
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(done) = self.poll_zero_copy(cx, bufs) {
            return done;
        }
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use tokio::io::AsyncReadExt;

    /// A body no two runs of a pattern would mistake for another: each 8 bytes its own offset.
    fn body(len: usize) -> Bytes {
        (0..len.div_ceil(8)).flat_map(|i| (i as u64).to_le_bytes()).take(len).collect::<Vec<u8>>().into()
    }

    async fn connected() -> (Stream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        (Stream::new(server), client)
    }

    /// Writes `head` then `body` as hyper does (one vectored write, then what is left), counting
    /// the writes that took the file's way.
    async fn write_response(stream: &mut Stream, head: &[u8], body: &[u8]) -> usize {
        let (mut head, mut body, mut from_file) = (head, body, 0);
        while !head.is_empty() || !body.is_empty() {
            let bufs = [IoSlice::new(head), IoSlice::new(body)];
            let bufs = if head.is_empty() { &bufs[1..] } else { &bufs[..] };
            let n = poll_fn(|cx| match stream.poll_zero_copy(cx, bufs) {
                Some(done) => {
                    from_file += usize::from(done.is_ready());
                    done
                }
                None => Pin::new(&mut stream.0).poll_write_vectored(cx, bufs),
            });
            let n = n.await.expect("write");
            let from_head = n.min(head.len());
            head = &head[from_head..];
            body = &body[n - from_head..];
        }
        from_file
    }

    #[tokio::test]
    async fn a_registered_body_is_sent_from_its_file_intact_even_to_a_slow_reader() {
        let big = body(MAX_PAGED_LEN);
        let registered = register(&big).expect("a large body gets a file");
        let (mut server, mut client) = connected().await;
        // A small send buffer: the body cannot leave in one call.
        rustix::net::sockopt::set_socket_send_buffer_size(&server.0, 4096).expect("SO_SNDBUF");
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {MAX_PAGED_LEN}\r\n\r\n").into_bytes();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = vec![0; 64 * 1024];
            // Slow at first, so the socket fills and sends come back partial or refused.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            loop {
                let n = client.read(&mut chunk).await.expect("read");
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&chunk[..n]);
            }
        });
        let from_file = write_response(&mut server, &head, &big).await;
        drop(server);
        let got = reader.await.expect("reader");
        assert_eq!(got.len(), head.len() + big.len());
        assert!(got[..head.len()] == head[..] && got[head.len()..] == big[..], "the bytes arrive as written");
        assert!(from_file >= 2, "the body went by sendfile, in several sends");
        // A slice inside the body is found at its offset in the file.
        let (_, offset) = file_of(&big[10_000..40_000]).expect("inside");
        assert_eq!(offset, 10_000);
        drop(registered);
        assert!(file_of(&big).is_none(), "dropped: sent the ordinary way");
    }

    #[tokio::test]
    async fn small_or_unregistered_bodies_go_the_ordinary_way() {
        assert!(register(&body(MIN_LEN - 1)).is_none(), "too small to be worth a file");
        if *PAGED {
            assert!(register(&body(MAX_PAGED_LEN + 1)).is_none(), "large enough to be copied faster");
        }
        let plain = body(200_000);
        let (mut server, mut client) = connected().await;
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.expect("read");
            got
        });
        assert_eq!(write_response(&mut server, b"head", &plain).await, 0);
        drop(server);
        let got = reader.await.expect("reader");
        assert_eq!(&got[..4], b"head");
        assert!(got[4..] == plain[..]);
    }
}
