//! TLS for database connections: rustls with the system's root certificates. `sslmode` in the
//! URL decides whether it is used (`disable`, `prefer` — the default — or `require`); a
//! certificate is always verified against those roots and the URL's host name.

use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

pub fn connector() -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    // A machine without a readable root store can still connect with sslmode=disable or prefer.
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
