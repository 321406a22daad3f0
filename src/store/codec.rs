//! Value encoding: one version byte, then JSON. A newer layout gets a new byte, never a silent change.

use super::StoreError;
use serde::{de::DeserializeOwned, Serialize};

const V1: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![V1];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&V1, rest)) => {
            serde_json::from_slice(rest).map_err(|e| StoreError::Corrupt { what, detail: e.to_string() })
        }
        Some((v, _)) => Err(StoreError::Corrupt { what, detail: format!("unknown value version {v}") }),
        None => Err(StoreError::Corrupt { what, detail: "empty value".into() }),
    }
}
