//! Value encoding: one version byte, then JSON (`0x01`), or JSON compressed with LZ4 block
//! format, its length first (`0x02`). Entries are written in a binary layout
//! (`entry_codec.rs`): as is (`0x03`) or LZ4-compressed like `0x02` (`0x04`). A newer layout
//! gets a new byte, never a silent change; every layout stays readable.

use super::{entry_codec, StoreError};
use crate::domain::Entry;
use serde::{de::DeserializeOwned, Serialize};

const V1: u8 = 1;
const V2_LZ4: u8 = 2;
const V3_ENTRY: u8 = 3;
const V4_ENTRY_LZ4: u8 = 4;
/// Layout 3 followed by the entry's article record as JSON (rare, and free to grow fields).
const V5_ENTRY_ARTICLE: u8 = 5;
const V6_ENTRY_ARTICLE_LZ4: u8 = 6;
/// Layout 3, the entry's event place (`entry_codec::write_event`), then its article record as
/// JSON when it has one (nothing otherwise).
const V7_ENTRY_EVENT: u8 = 7;
const V8_ENTRY_EVENT_LZ4: u8 = 8;
/// Shorter JSON is stored as is: LZ4 gains little on it (source states, counters).
const COMPRESS_FROM: usize = 256;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Encode(e.to_string()))?;
    if json.len() >= COMPRESS_FROM {
        let packed = lz4_flex::block::compress_prepend_size(&json);
        if packed.len() < json.len() {
            return Ok([&[V2_LZ4], packed.as_slice()].concat());
        }
    }
    Ok([&[V1], json.as_slice()].concat())
}

pub fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { what, detail };
    match bytes.split_first() {
        Some((&V1, rest)) => serde_json::from_slice(rest).map_err(|e| corrupt(e.to_string())),
        Some((&V2_LZ4, rest)) => {
            let json = lz4_flex::block::decompress_size_prepended(rest).map_err(|e| corrupt(e.to_string()))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown value version {v}"))),
        None => Err(corrupt("empty value".into())),
    }
}

pub fn encode_entry(e: &Entry) -> Vec<u8> {
    let mut raw = Vec::with_capacity(512);
    let (plain, packed_version) = match (&e.event, &e.article) {
        (Some(_), _) => (V7_ENTRY_EVENT, V8_ENTRY_EVENT_LZ4),
        (None, None) => (V3_ENTRY, V4_ENTRY_LZ4),
        (None, Some(_)) => (V5_ENTRY_ARTICLE, V6_ENTRY_ARTICLE_LZ4),
    };
    raw.push(plain);
    entry_codec::write(e, &mut raw);
    if let Some(place) = &e.event {
        entry_codec::write_event(place, &mut raw);
    }
    if let Some(a) = &e.article {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_writer(&mut raw, a).unwrap_or_default();
    }
    if raw.len() >= COMPRESS_FROM {
        let packed = lz4_flex::block::compress_prepend_size(&raw[1..]);
        if packed.len() + 1 < raw.len() {
            return [&[packed_version], packed.as_slice()].concat();
        }
    }
    raw
}

/// Reads an entry in any layout ever written (JSON ones from older versions).
pub fn decode_entry(bytes: &[u8]) -> Result<Entry, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { what: "entry", detail };
    match bytes.split_first() {
        Some((&V3_ENTRY, rest)) => entry_codec::read(rest).map_err(corrupt),
        Some((&V4_ENTRY_LZ4, rest)) => {
            let raw = lz4_flex::block::decompress_size_prepended(rest).map_err(|e| corrupt(e.to_string()))?;
            entry_codec::read(&raw).map_err(corrupt)
        }
        Some((&V5_ENTRY_ARTICLE, rest)) => with_article(rest).map_err(corrupt),
        Some((&V6_ENTRY_ARTICLE_LZ4, rest)) => {
            let raw = lz4_flex::block::decompress_size_prepended(rest).map_err(|e| corrupt(e.to_string()))?;
            with_article(&raw).map_err(corrupt)
        }
        Some((&V7_ENTRY_EVENT, rest)) => with_event(rest).map_err(corrupt),
        Some((&V8_ENTRY_EVENT_LZ4, rest)) => {
            let raw = lz4_flex::block::decompress_size_prepended(rest).map_err(|e| corrupt(e.to_string()))?;
            with_event(&raw).map_err(corrupt)
        }
        _ => decode("entry", bytes),
    }
}

fn with_article(bytes: &[u8]) -> Result<Entry, String> {
    let (mut entry, rest) = entry_codec::read_prefix(bytes)?;
    let article = serde_json::from_slice(rest).map_err(|e| format!("article: {e}"))?;
    entry.article = Some(Box::new(article));
    Ok(entry)
}

fn with_event(bytes: &[u8]) -> Result<Entry, String> {
    let (mut entry, rest) = entry_codec::read_prefix(bytes)?;
    let (place, rest) = entry_codec::read_event(rest)?;
    entry.event = Some(place);
    if !rest.is_empty() {
        entry.article = Some(Box::new(serde_json::from_slice(rest).map_err(|e| format!("article: {e}"))?));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_round_trip_and_damage_is_an_error() {
        let small = vec!["a".to_owned()];
        let large: Vec<String> = (0..200).map(|i| format!("paragraph {i} of the statement")).collect();
        let (s, l) = (encode(&small).expect("small"), encode(&large).expect("large"));
        assert_eq!((s[0], l[0]), (V1, V2_LZ4));
        assert!(l.len() * 2 < serde_json::to_vec(&large).expect("json").len(), "compressed: {}", l.len());
        assert_eq!(decode::<Vec<String>>("t", &s).expect("v1"), small);
        assert_eq!(decode::<Vec<String>>("t", &l).expect("v2"), large);
        let legacy = [&[V1], serde_json::to_vec(&large).expect("json").as_slice()].concat();
        assert_eq!(decode::<Vec<String>>("t", &legacy).expect("legacy v1"), large);
        let mut cut = l.clone();
        cut.truncate(l.len() / 2);
        assert!(matches!(decode::<Vec<String>>("t", &cut), Err(StoreError::Corrupt { .. })));
        assert!(decode::<Vec<String>>("t", &[9, 1, 2]).is_err());
        assert!(decode::<Vec<String>>("t", &[]).is_err());
    }
}
