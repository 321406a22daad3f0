//! Content codings of channel answers: which one a request accepts, and making each body.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

/// Picks brotli, then gzip, from `Accept-Encoding` (honouring `q=0`).
pub(super) fn negotiate(headers: &HeaderMap) -> Encoding {
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let token = it.next().unwrap_or("").trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            token.eq_ignore_ascii_case(name) && q > 0.0
        })
    };
    if accepts("br") {
        Encoding::Brotli
    } else if accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

pub(super) fn gzip(data: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::default());
    // Writing into memory cannot fail.
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

pub(super) fn brotli(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() / 4);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 8, 22);
        let _ = w.write_all(data);
    }
    Bytes::from(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A request's headers from name/value pairs (the cache's tests use it too).
    pub(in crate::http) fn req(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn negotiation_prefers_brotli_and_honours_q0() {
        assert_eq!(negotiate(&req(&[("accept-encoding", "gzip, deflate, br")])), Encoding::Brotli);
        assert_eq!(negotiate(&req(&[("accept-encoding", "gzip, br;q=0")])), Encoding::Gzip);
        assert_eq!(negotiate(&req(&[("accept-encoding", "identity")])), Encoding::Identity);
        assert_eq!(negotiate(&HeaderMap::new()), Encoding::Identity);
    }
}
