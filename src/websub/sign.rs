//! `X-Hub-Signature` (WebSub §7.1): `<method>=<hex HMAC of the exact body, keyed by the
//! subscriber's hub.secret>`.

use crate::config::Signature;
use hmac::{Hmac, Mac};

/// The header value for `body` signed with `secret`.
pub fn signature(method: Signature, secret: &[u8], body: &[u8]) -> String {
    let mac = match method {
        Signature::Sha1 => hmac_of!(sha1::Sha1, secret, body),
        Signature::Sha256 => hmac_of!(sha2::Sha256, secret, body),
        Signature::Sha384 => hmac_of!(sha2::Sha384, secret, body),
        Signature::Sha512 => hmac_of!(sha2::Sha512, secret, body),
    };
    let mut out = String::with_capacity(method.as_str().len() + 1 + mac.len() * 2);
    out.push_str(method.as_str());
    out.push('=');
    for b in mac {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// HMAC takes a key of any length (a long one is hashed first), so keying cannot fail.
macro_rules! hmac_of {
    ($digest:ty, $secret:expr, $body:expr) => {
        match <Hmac<$digest> as Mac>::new_from_slice($secret) {
            Ok(mut mac) => {
                mac.update($body);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    };
}
use hmac_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // RFC 2202 and RFC 4231, test case 2 ("Jefe").
        let (key, data) = (b"Jefe".as_slice(), b"what do ya want for nothing?".as_slice());
        assert_eq!(signature(Signature::Sha1, key, data), "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(
            signature(Signature::Sha256, key, data),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sha384 = signature(Signature::Sha384, key, data);
        assert!(sha384.starts_with("sha384=af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"));
        let sha512 = signature(Signature::Sha512, key, data);
        assert!(sha512.starts_with("sha512=164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"));
        assert_eq!((sha384.len(), sha512.len()), (7 + 96, 7 + 128));
    }
}
