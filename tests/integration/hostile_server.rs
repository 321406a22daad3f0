//! A raw-TCP fixture server on 127.0.0.1 that misbehaves in every way the hostile-input table
//! needs: wrong statuses, redirect tricks, bombs, drips, silence, resets and odd encodings.
//! Raw TCP because well-behaved HTTP libraries refuse to send most of these answers.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts every request that reaches it: the guard tests assert it stays at zero.
pub struct Canary {
    pub port: u16,
    pub hits: Arc<AtomicUsize>,
}

pub async fn canary(ip: &str) -> Canary {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind canary");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    Canary { port, hits }
}

pub struct HostileServer {
    pub base: String,
    pub hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl HostileServer {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("lock").get(path).copied().unwrap_or(0)
    }
}

/// `canary_ip_port` is the 127.0.0.2 canary, `canary_local_port` one on 127.0.0.1.
pub async fn start(canary_ip_port: u16, canary_local_port: u16) -> HostileServer {
    tokio::task::spawn_blocking(|| BOMB.get_or_init(|| gzip_zeros(BOMB_BYTES)).len()).await.expect("bomb");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let h = hits.clone();
    let ports = (canary_ip_port, canary_local_port);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let h = h.clone();
            tokio::spawn(async move { serve(s, h, ports).await });
        }
    });
    HostileServer { base, hits }
}

/// Reads one request's head and returns its path (`None` when the client went away first).
pub async fn request_path(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
    Some(line.split_whitespace().nth(1).unwrap_or("/").to_owned())
}

async fn serve(mut s: TcpStream, hits: Arc<Mutex<HashMap<String, usize>>>, ports: (u16, u16)) {
    let Some(path) = request_path(&mut s).await else { return };
    *hits.lock().expect("lock").entry(path.clone()).or_default() += 1;
    let _ = respond(&mut s, &path, ports).await;
}

/// An RSS feed of `items` items. Each feed links to its own site: with shared article URLs the
/// feeds' items would be one story each, shown under whichever source happened to commit first.
fn feed(title: &str, items: usize) -> String {
    let site = title.to_lowercase();
    let items: String = (0..items)
        .map(|i| format!("<item><guid>{title}-{i}</guid><title>{title} item {i}</title><link>https://{site}.hostile.example/{i}</link><description>Text {i} of {title}.</description></item>"))
        .collect();
    format!("<rss version=\"2.0\"><channel><title>{title}</title><link>https://hostile.example/</link><description>d</description>{items}</channel></rss>")
}

async fn reply(s: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await
}

async fn ok(s: &mut TcpStream, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    reply(s, "200 OK", &[("Content-Type", content_type.to_owned())], body).await
}

async fn redirect(s: &mut TcpStream, status: &str, to: &str) -> std::io::Result<()> {
    reply(s, status, &[("Location", to.to_owned())], b"").await
}

/// Built once, before any poll starts, so the bomb is delivered at once.
static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        enc.write_all(&chunk).expect("gzip");
    }
    enc.finish().expect("gzip")
}

const RSS: &str = "application/rss+xml";
const BOMB_BYTES: usize = 32 << 20;

async fn respond(s: &mut TcpStream, path: &str, (canary_ip, canary_local): (u16, u16)) -> std::io::Result<()> {
    let http_date = |secs: i64| {
        (chrono::Utc::now() + chrono::Duration::seconds(secs)).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    };
    match path {
        "/good" => ok(s, RSS, feed("Good", 3).as_bytes()).await,
        "/http-500" => reply(s, "500 Internal Server Error", &[], b"oops").await,
        "/http-404" => reply(s, "404 Not Found", &[], b"").await,
        "/http-410" => reply(s, "410 Gone", &[], b"").await,
        "/http-429" => reply(s, "429 Too Many Requests", &[("Retry-After", "120".into())], b"").await,
        "/http-503-date" => reply(s, "503 Service Unavailable", &[("Retry-After", http_date(300))], b"").await,
        "/redirect-loop" => redirect(s, "302 Found", "/redirect-loop-b").await,
        "/redirect-loop-b" => redirect(s, "302 Found", "/redirect-loop").await,
        p if p.starts_with("/redirect-chain") => {
            let n: usize = p.rsplit('/').next().and_then(|x| x.parse().ok()).unwrap_or(0);
            redirect(s, "301 Moved Permanently", &format!("/redirect-chain/{}", n + 1)).await
        }
        "/redirect-no-location" => reply(s, "302 Found", &[], b"").await,
        "/redirect-ftp" => redirect(s, "302 Found", "ftp://127.0.0.1/feed.xml").await,
        "/redirect-canary-ip" => redirect(s, "302 Found", &format!("http://127.0.0.2:{canary_ip}/feed")).await,
        "/redirect-canary-name" => redirect(s, "302 Found", &format!("http://localhost:{canary_local}/feed")).await,
        "/redirect-mapped" => {
            redirect(s, "307 Temporary Redirect", &format!("http://[::ffff:127.0.0.2]:{canary_ip}/feed")).await
        }
        "/gzip-bomb" => {
            let body = BOMB.get_or_init(|| gzip_zeros(BOMB_BYTES));
            reply(s, "200 OK", &[("Content-Type", RSS.into()), ("Content-Encoding", "gzip".into())], body).await
        }
        "/endless" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n<rss version=\"2.0\"><channel>").await?;
            let chunk = "<item><title>again</title></item>".repeat(1000);
            for _ in 0..100_000 {
                s.write_all(chunk.as_bytes()).await?;
            }
            Ok(())
        }
        "/length-lie" => {
            s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\nContent-Type: application/rss+xml\r\n\r\n<rss>",
            )
            .await
        }
        "/drip" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n")
                .await?;
            for b in feed("Drip", 50).bytes() {
                s.write_all(&[b]).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(())
        }
        "/silent" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }
        "/reset" => Ok(()),
        "/garbage" => {
            ok(s, RSS, &(0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>()).await
        }
        "/html" => {
            ok(
                s,
                "text/html",
                b"<!DOCTYPE html><html><head><title>Newsroom</title></head><body><h1>Welcome</h1></body></html>",
            )
            .await
        }
        "/empty" => ok(s, RSS, b"").await,
        "/truncated" => ok(s, RSS, &feed("Cut", 10).as_bytes()[..600]).await,
        "/deep" => {
            ok(s, RSS, format!("<rss version=\"2.0\"><channel>{}</channel></rss>", "<x>".repeat(50_000)).as_bytes())
                .await
        }
        "/entity-bomb" => {
            let mut dtd = String::from("<!ENTITY a0 \"lollollollollol\">");
            for i in 1..10 {
                dtd.push_str(&format!("<!ENTITY a{i} \"{}\">", format!("&a{};", i - 1).repeat(10)));
            }
            let doc = format!("<?xml version=\"1.0\"?><!DOCTYPE rss [{dtd}]><rss version=\"2.0\"><channel><title>&a9;</title></channel></rss>");
            ok(s, RSS, doc.as_bytes()).await
        }
        "/huge-attr" => {
            ok(s, RSS, format!("<rss version=\"2.0\" x=\"{}\"><channel/></rss>", "a".repeat(1_200_000)).as_bytes())
                .await
        }
        "/many-headers" => {
            let headers: Vec<(&str, String)> = (0..300).map(|i| ("X-Filler", format!("value-{i}"))).collect();
            reply(s, "200 OK", &headers, feed("Headers", 1).as_bytes()).await
        }
        "/header-bomb" => reply(s, "200 OK", &[("X-Bomb", "b".repeat(2 << 20))], feed("Bomb", 1).as_bytes()).await,
        "/bad-status-line" => s.write_all(b"HTTP/1.1 two hundred\r\nwhat even\r\n\r\n").await,
        "/json-deep" => {
            ok(s, "application/feed+json", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes()).await
        }
        _ => respond_content(s, path).await,
    }
}

/// The cases that must parse: encodings, content types and oversized documents.
async fn respond_content(s: &mut TcpStream, path: &str) -> std::io::Result<()> {
    let one = |title: &[u8]| -> Vec<u8> {
        let mut b = b"<rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid><title>".to_vec();
        b.extend_from_slice(title);
        b.extend_from_slice(b"</title><description>body</description></item></channel></rss>");
        b
    };
    match path {
        "/latin1-header" => ok(s, "application/rss+xml; charset=ISO-8859-1", &one(b"Caf\xe9 \xe0 No\xebl")).await,
        "/cp1252-declared" => {
            let mut doc = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>".to_vec();
            doc.extend(one(b"\x93Quoted\x94 \x80 5"));
            ok(s, RSS, &doc).await
        }
        "/koi8r" => ok(s, "text/xml; charset=koi8-r", &one(b"\xf0\xd2\xc9\xd7\xc5\xd4")).await,
        "/invalid-utf8" => ok(s, RSS, &one(b"Broken \xff\xfe bytes")).await,
        "/text-plain" => ok(s, "text/plain", feed("Plain", 2).as_bytes()).await,
        "/utf16-bom" => {
            let text = String::from_utf8(one("Grüße aus Köln".as_bytes())).expect("utf-8");
            let mut doc = vec![0xFF, 0xFE];
            doc.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            ok(s, RSS, &doc).await
        }
        "/too-many-items" => ok(s, RSS, feed("Many", 120).as_bytes()).await,
        "/huge-fields" => {
            let doc = format!(
                "<rss version=\"2.0\"><channel><title>T</title><item><guid>h</guid><title>{}</title><description><![CDATA[<p>{}</p>]]></description></item></channel></rss>",
                "Long title ".repeat(20_000),
                "word ".repeat(150_000)
            );
            ok(s, RSS, doc.as_bytes()).await
        }
        _ => reply(s, "404 Not Found", &[], b"").await,
    }
}
