//! Talking to the running service from the command line: where it listens, and a client that
//! gives up quickly when it is not there.

use crate::config::Settings;
use std::time::Duration;

/// The service's base URL on this machine (`http://127.0.0.1:PORT`), from `server.listen`; none
/// when it binds a random port (it cannot be found then).
pub fn base_url(settings: &Settings) -> Option<String> {
    base_url_of(settings.server.listen)
}

/// The base URL of a service listening on `addr`.
pub fn base_url_of(addr: std::net::SocketAddr) -> Option<String> {
    if addr.port() == 0 {
        return None;
    }
    let ip = if addr.ip().is_unspecified() { "127.0.0.1".parse().ok()? } else { addr.ip() };
    Some(format!("http://{}", std::net::SocketAddr::new(ip, addr.port())))
}

/// A client for the service: `timeout` bounds the whole request, connecting gives up at once.
pub fn client(timeout: Duration) -> Option<reqwest::Client> {
    crate::fetch::install_crypto_provider();
    reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(2)).no_proxy().build().ok()
}

/// The environment variable holding the admin key, for a service that needs one.
pub const ADMIN_KEY_ENV: &str = "NEWSRIVER_ADMIN_KEY";

/// Sends the admin key from `NEWSRIVER_ADMIN_KEY` when it is set (a service with
/// `server.admin_key_sha256` answers `401` without it).
pub fn with_admin_key(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match std::env::var(ADMIN_KEY_ENV) {
        Ok(key) => request.bearer_auth(key.trim()),
        Err(_) => request,
    }
}

/// Where the service of the config file at `path` listens, read from `server.listen` alone (the
/// default when absent): a file that no longer checks as a whole still names its service, which
/// runs on its last good configuration and can say what is wrong.
pub fn listen_of(path: &std::path::Path) -> Option<std::net::SocketAddr> {
    let text = std::fs::read_to_string(path).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let listen = table.get("server").and_then(|s| s.get("listen")).and_then(|l| l.as_str());
    listen.unwrap_or("127.0.0.1:8080").parse().ok()
}
