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

/// Picks brotli, then gzip, from `Accept-Encoding` (honouring `q=0`). One pass over the value's
/// bytes: every channel answer asks, and splitting the value per coding cost ~1,000
/// instructions of an answer's ~16,000.
pub(super) fn negotiate(headers: &HeaderMap) -> Encoding {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING) else { return Encoding::Identity };
    let (mut br, mut gzip) = (false, false);
    for part in accept.as_bytes().split(|&b| b == b',') {
        let mut params = part.split(|&b| b == b';');
        let token = params.next().unwrap_or_default().trim_ascii();
        let (is_br, is_gzip) = (token.eq_ignore_ascii_case(b"br"), token.eq_ignore_ascii_case(b"gzip"));
        if !(is_br || is_gzip) {
            continue;
        }
        let q = params
            .find_map(|p| p.trim_ascii().strip_prefix(b"q="))
            .and_then(|q| std::str::from_utf8(q).ok()?.parse::<f32>().ok())
            .unwrap_or(1.0);
        br |= is_br && q > 0.0;
        gzip |= is_gzip && q > 0.0;
    }
    match (br, gzip) {
        (true, _) => Encoding::Brotli,
        (_, true) => Encoding::Gzip,
        _ => Encoding::Identity,
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
        assert_eq!(negotiate(&req(&[("accept-encoding", " GZIP ;q=0.5 ")])), Encoding::Gzip);
        assert_eq!(negotiate(&req(&[("accept-encoding", "gzip;q=0, br;q=0")])), Encoding::Identity);
        assert_eq!(negotiate(&req(&[("accept-encoding", "br;q=0, gzip, br")])), Encoding::Brotli);
        assert_eq!(negotiate(&req(&[("accept-encoding", "gzip;level=1;q=0.0")])), Encoding::Identity);
        assert_eq!(negotiate(&req(&[("accept-encoding", "x-gzip, brotli, ;q=1")])), Encoding::Identity);
    }
}
