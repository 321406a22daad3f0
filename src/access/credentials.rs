//! The key a request presents: `Authorization: Bearer KEY`, HTTP Basic (the password is the
//! key, as feed readers send `https://id:KEY@host/…`), or `?key=KEY` for readers that can do
//! neither. Pure: header and query values in, the key and how it came out.

use base64::Engine as _;

/// How a key came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Basic,
    /// In the URL: the links of the answer keep it, or the reader could not follow them.
    Query,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub key: String,
    pub via: Via,
}

/// The key of a request, from its `Authorization` header first, then `?key=`. A header in a
/// scheme other than Bearer or Basic, or one that does not decode, presents no key.
pub fn presented(authorization: Option<&[u8]>, query_key: Option<&str>) -> Option<Presented> {
    let from_header = authorization.and_then(|raw| std::str::from_utf8(raw).ok()).and_then(from_authorization);
    from_header.or_else(|| {
        let key = query_key?.trim();
        (!key.is_empty()).then(|| Presented { key: key.to_owned(), via: Via::Query })
    })
}

fn from_authorization(value: &str) -> Option<Presented> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| Presented { key: rest.to_owned(), via: Via::Bearer });
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (user, password) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
    // The password is the key; a client that can only fill in a user name may put it there.
    let key = if password.is_empty() { user } else { password };
    (!key.is_empty()).then(|| Presented { key: key.to_owned(), via: Via::Basic })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(pair: &str) -> Vec<u8> {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)).into_bytes()
    }

    fn key(auth: Option<&[u8]>, query: Option<&str>) -> Option<(String, Via)> {
        presented(auth, query).map(|p| (p.key, p.via))
    }

    #[test]
    fn every_way_of_sending_a_key() {
        assert_eq!(key(Some(b"Bearer nrp_abc"), None), Some(("nrp_abc".into(), Via::Bearer)));
        assert_eq!(key(Some(b"bearer   nrp_abc  "), None), Some(("nrp_abc".into(), Via::Bearer)));
        assert_eq!(key(Some(&basic("daily:nrp_abc")), None), Some(("nrp_abc".into(), Via::Basic)));
        assert_eq!(key(Some(&basic("nrp_abc:")), None), Some(("nrp_abc".into(), Via::Basic)));
        assert_eq!(key(Some(&basic("nrp_abc")), None), Some(("nrp_abc".into(), Via::Basic)));
        assert_eq!(key(Some(&basic("daily:a:b")), None), Some(("a:b".into(), Via::Basic)));
        assert_eq!(key(None, Some("nrp_abc")), Some(("nrp_abc".into(), Via::Query)));
        // The header wins over the query.
        assert_eq!(key(Some(b"Bearer h"), Some("q")), Some(("h".into(), Via::Bearer)));
    }

    #[test]
    fn nothing_usable_is_no_key() {
        for auth in [&b"Bearer"[..], b"Bearer  ", b"Digest abc", b"Basic !!!", b"Basic", b"\xff\xfe", b""] {
            assert_eq!(key(Some(auth), None), None, "{}", String::from_utf8_lossy(auth));
        }
        assert_eq!(key(Some(&basic(":")), None), None);
        assert_eq!(key(None, Some("")), None);
        assert_eq!(key(None, None), None);
        // An unusable header does not hide a usable query key.
        assert_eq!(key(Some(b"Digest x"), Some("q")), Some(("q".into(), Via::Query)));
    }
}
