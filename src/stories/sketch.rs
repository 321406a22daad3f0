//! Text features for story identity: normalized words, an exact text fingerprint, word-shingle
//! MinHash signatures with LSH bands, and exact shingle similarity. Pure and deterministic
//! (fixed hash functions, so stored band keys stay valid across versions and machines).

use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A set of shingle hashes. They are hashes already (FNV-1a), so the set only mixes them
/// (splitmix64) instead of hashing them again with SipHash.
pub type Shingles = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// A `Hasher` for keys that are well-mixed 64-bit hashes already.
#[derive(Debug, Default, Clone, Copy)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are expected; anything else still hashes rather than collides.
        self.0 = splitmix(self.0 ^ fnv1a(bytes));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = splitmix(n);
    }
}

/// Words per shingle.
pub const SHINGLE: usize = 3;
/// MinHash signature length and LSH banding: 16 bands of 3 rows. A pair with shingle Jaccard
/// 0.5 becomes a candidate with probability 0.88, at 0.6 0.98, at 0.05 0.002.
pub const HASHES: usize = 48;
pub const BANDS: usize = 16;
const ROWS: usize = HASHES / BANDS;

/// SHA-256 of the normalized words: equal for texts that differ only in case, punctuation,
/// whitespace or markup.
pub fn text_fingerprint(words: &[String]) -> [u8; 16] {
    let mut h = Sha256::new();
    for w in words {
        h.update(w.as_bytes());
        h.update(b" ");
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// A stable 64-bit hash of an article URL (kept in source state, so it must not change).
pub fn url_hash(url: &str) -> u64 {
    splitmix(fnv1a(url.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

const fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hashes of every run of `SHINGLE` consecutive words.
pub fn shingles(words: &[String]) -> Shingles {
    words
        .windows(SHINGLE)
        .map(|w| {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for (i, word) in w.iter().enumerate() {
                if i > 0 {
                    h = (h ^ u64::from(b' ')).wrapping_mul(0x0100_0000_01b3);
                }
                h = word.bytes().fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
            }
            h
        })
        .collect()
}

/// Multipliers and offsets of the signature's hash functions: h_i(x) = (a_i·x + b_i) >> 32 over
/// the mixed shingle hash x, a cheap universal family (fixed, so stored bands stay valid).
const fn family() -> [(u64, u64); HASHES] {
    let mut out = [(0u64, 0u64); HASHES];
    let mut i = 0;
    while i < HASHES {
        out[i] = (splitmix(2 * i as u64 + 1) | 1, splitmix(2 * i as u64 + 2));
        i += 1;
    }
    out
}

const FAMILY: [(u64, u64); HASHES] = family();

pub fn minhash(shingles: &Shingles) -> [u32; HASHES] {
    let mut sig = [u32::MAX; HASHES];
    for &s in shingles {
        let x = splitmix(s);
        for (slot, (a, b)) in sig.iter_mut().zip(FAMILY.iter()) {
            let h = (x.wrapping_mul(*a).wrapping_add(*b) >> 32) as u32;
            *slot = (*slot).min(h);
        }
    }
    sig
}

/// One key per band: texts that agree on all rows of any band are candidates.
pub fn bands(sig: &[u32; HASHES]) -> [u64; BANDS] {
    let mut out = [0u64; BANDS];
    for (b, slot) in out.iter_mut().enumerate() {
        let mut bytes = [0u8; 1 + 4 * ROWS];
        bytes[0] = b as u8;
        for (chunk, v) in bytes[1..].chunks_exact_mut(4).zip(&sig[b * ROWS..(b + 1) * ROWS]) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        *slot = fnv1a(&bytes);
    }
    out
}

/// Jaccard similarity estimated from two signatures: the share of equal minimums.
pub fn estimate(a: &[u32; HASHES], b: &[u32; HASHES]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / HASHES as f64
}

/// Exact similarity of two shingle sets: (Jaccard, containment of the smaller in the larger).
pub fn similarity(a: &Shingles, b: &Shingles) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (0.0, 0.0);
    }
    let inter = a.intersection(b).count() as f64;
    let union = (a.len() + b.len()) as f64 - inter;
    (inter / union, inter / a.len().min(b.len()) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        crate::text::words(s)
    }

    const BODY: &str = "The third round of talks between the delegations of Caldoria and Veshtan on a durable \
        ceasefire will open on Monday in Port Alder, the ministry said, adding that both sides had agreed \
        an agenda covering verification of the truce line, the exchange of detained civilians and the \
        reopening of the river crossings to humanitarian convoys before the winter.";

    #[test]
    fn fingerprints_ignore_case_punctuation_and_whitespace() {
        let a = text_fingerprint(&w(BODY));
        let b = text_fingerprint(&w(&BODY.to_uppercase().replace(',', " ;  ")));
        assert_eq!(a, b);
        assert_ne!(a, text_fingerprint(&w(&BODY.replace("Monday", "Tuesday"))));
    }

    #[test]
    fn near_duplicates_share_a_band_and_score_high() {
        let base = shingles(&w(BODY));
        let footer = shingles(&w(&format!("{BODY} Follow us for more news. © 2026 The Tribune. All rights reserved.")));
        let (j, c) = similarity(&base, &footer);
        assert!(c > 0.99 && j > 0.7, "j={j} c={c}");
        let (sa, sb) = (bands(&minhash(&base)), bands(&minhash(&footer)));
        assert!(sa.iter().zip(&sb).any(|(x, y)| x == y), "candidates share a band");
        let other = shingles(&w("The central bank held its key rate at 3.25 percent on Thursday and said \
            inflation was moving in the right direction, but the board wanted to see wage data first."));
        let (j, c) = similarity(&base, &other);
        assert!(j < 0.05 && c < 0.1, "j={j} c={c}");
    }

    #[test]
    fn band_keys_are_fnv_of_band_number_and_rows() {
        // Bands are rebuilt from stored signatures and compared with new ones: pin the layout.
        let sig: [u32; HASHES] = std::array::from_fn(|i| (i as u32).wrapping_mul(0x9e37_79b9));
        let b = bands(&sig);
        for band in [0, 7, BANDS - 1] {
            let mut bytes = vec![band as u8];
            (0..ROWS).for_each(|r| bytes.extend_from_slice(&sig[band * ROWS + r].to_be_bytes()));
            assert_eq!(b[band], fnv1a(&bytes));
        }
        let set: Shingles = [1u64, 2, 3].into_iter().collect();
        assert!(set.contains(&2) && !set.contains(&4));
    }

    #[test]
    fn signatures_are_deterministic() {
        let s = shingles(&w(BODY));
        assert_eq!(minhash(&s), minhash(&s));
        assert!(s.contains(&fnv1a(b"the third round")), "a shingle hashes its words joined by spaces");
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
