//! Paging cursors, opaque to clients: `p` + hex position for `before`, `c` + hex change-log
//! sequence for `since`.

use super::ApiError;
use crate::store::keys::POS_LEN;

pub fn encode_before(pos: &[u8; POS_LEN]) -> String {
    format!("p{}", hex(pos))
}

pub fn decode_before(raw: &str) -> Result<[u8; POS_LEN], ApiError> {
    let bad = || ApiError::BadRequest(format!("invalid before cursor {raw:?}"));
    let bytes = unhex(raw.strip_prefix('p').ok_or_else(bad)?).ok_or_else(bad)?;
    bytes.try_into().map_err(|_| bad())
}

pub fn encode_since(seq: u64) -> String {
    format!("c{seq:016x}")
}

pub fn decode_since(raw: &str) -> Result<u64, ApiError> {
    if raw == "0" || raw.is_empty() {
        return Ok(0);
    }
    let bad = || ApiError::BadRequest(format!("invalid since cursor {raw:?}"));
    let hexpart = raw.strip_prefix('c').filter(|h| h.len() == 16).ok_or_else(bad)?;
    u64::from_str_radix(hexpart, 16).map_err(|_| bad())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let pos = [7u8; POS_LEN];
        assert_eq!(decode_before(&encode_before(&pos)).ok(), Some(pos));
        assert!(decode_before("p12").is_err());
        assert!(decode_before("zz").is_err());
        assert_eq!(decode_since(&encode_since(42)).ok(), Some(42));
        assert_eq!(decode_since("0").ok(), Some(0));
        assert!(decode_since("c12").is_err());
        assert!(decode_since("cxxxxxxxxxxxxxxxx").is_err());
    }
}
