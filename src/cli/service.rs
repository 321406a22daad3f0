//! Talking to the running service from the command line: where it listens, and a client that
//! gives up quickly when it is not there.

use crate::config::Settings;
use std::time::Duration;

/// The service's base URL on this machine (`http://127.0.0.1:PORT`), from `server.listen`; none
/// when it binds a random port (it cannot be found then).
pub fn base_url(settings: &Settings) -> Option<String> {
    let addr = settings.server.listen;
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
