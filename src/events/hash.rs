//! Stable 64-bit hashes of terms (FNV-1a, then splitmix64): the same term gets the same hash on
//! every machine and in every version, so rarity counts and postings stay comparable.

/// Which family a term belongs to: the same text is a different term as a number or a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Lowercased words and the single words of names share their rarity.
    Word = 0,
    /// A multiword name, words joined by one space.
    Phrase = 1,
    Number = 2,
    Date = 3,
}

/// The hash of `text` as a term of `kind`.
pub fn term(kind: Kind, text: &str) -> u64 {
    let seed = 0xcbf2_9ce4_8422_2325u64 ^ (kind as u64).wrapping_mul(0x100_0000_01b3);
    mix(text.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)))
}

/// The hash of `text` lowercased, without allocating for ASCII text.
pub fn term_lower(kind: Kind, text: &str) -> u64 {
    if text.is_ascii() {
        let seed = 0xcbf2_9ce4_8422_2325u64 ^ (kind as u64).wrapping_mul(0x100_0000_01b3);
        mix(text.bytes().fold(seed, |h, b| (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)))
    } else {
        term(kind, &text.to_lowercase())
    }
}

/// A `Hasher` for 64-bit keys (term hashes, event numbers): one splitmix64 round, where SipHash
/// would cost more than the rest of a lookup.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mixed(u64);

impl std::hash::Hasher for Mixed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are expected; anything else still hashes rather than collides.
        self.0 = mix(bytes
            .iter()
            .fold(self.0 ^ 0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }
}

/// A map keyed by term hashes or event numbers.
pub type Map<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Mixed>>;
/// A set of term hashes.
pub type Set = std::collections::HashSet<u64, std::hash::BuildHasherDefault<Mixed>>;

/// splitmix64's finaliser: spreads every input bit over the output.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_separate_equal_text_and_hashes_are_fixed() {
        assert_ne!(term(Kind::Word, "2009"), term(Kind::Number, "2009"));
        assert_eq!(term(Kind::Word, "paris"), term(Kind::Word, "paris"));
        // Stored postings and counts rely on these never changing.
        assert_eq!(term(Kind::Word, ""), mix(0xcbf2_9ce4_8422_2325));
        assert_eq!(term_lower(Kind::Word, "PaRiS"), term(Kind::Word, "paris"));
        assert_eq!(term_lower(Kind::Word, "ÉCOLE"), term(Kind::Word, "école"));
    }
}
