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
    let listen = match toml::from_str::<toml::Table>(&text) {
        Ok(table) => table.get("server").and_then(|s| s.get("listen")).and_then(|l| l.as_str().map(str::to_owned)),
        // A file broken elsewhere still names the service: `reload` then lets the service
        // report every problem with its place, instead of failing here.
        Err(_) => scan_listen(&text),
    };
    listen.as_deref().unwrap_or("127.0.0.1:8080").parse().ok()
}

/// `listen = "…"` under `[server]`, read line by line from a file TOML cannot parse.
fn scan_listen(text: &str) -> Option<String> {
    let mut in_server = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_server = line == "[server]";
        } else if let Some(rest) = line.strip_prefix("listen").filter(|_| in_server) {
            let value = rest.trim_start().strip_prefix('=')?.trim();
            return value.strip_prefix('"')?.split('"').next().map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_broken_file_still_names_the_service() {
        let text = "[server]\nlisten = \"127.0.0.1:9191\" # here\n[polling]\nevery = [\n";
        assert_eq!(super::scan_listen(text).as_deref(), Some("127.0.0.1:9191"));
        assert_eq!(super::scan_listen("[store]\nlisten = \"x\"\n"), None, "only under [server]");
    }
}
