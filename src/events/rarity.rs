//! How rare a term is: document frequencies counted online over every item seen, in a fixed
//! amount of memory (a count-min sketch with conservative update), halved whenever the count of
//! documents reaches a horizon so that the rarity follows the news of the last weeks.

use super::hash::mix;

/// Rows of the sketch: a term's count is the least of its `DEPTH` counters.
const DEPTH: usize = 4;

/// Document frequencies of hashed terms.
#[derive(Debug, Clone)]
pub struct Rarity {
    counters: Vec<u32>,
    mask: u64,
    docs: u64,
    horizon: u64,
}

impl Default for Rarity {
    /// 2^20 counters a row (16 MiB), halved every 200,000 documents.
    fn default() -> Self {
        Self::new(20, 200_000)
    }
}

impl Rarity {
    /// A sketch of `2^width_bits` counters a row (clamped to 4..=28 bits) that halves every count
    /// once `horizon` documents were counted (at least 2).
    pub fn new(width_bits: u32, horizon: u64) -> Self {
        let bits = width_bits.clamp(4, 28);
        Self { counters: vec![0; DEPTH << bits], mask: (1u64 << bits) - 1, docs: 0, horizon: horizon.max(2) }
    }

    /// Counts one document holding `terms` (each distinct term once; repeats are ignored).
    pub fn observe(&mut self, terms: &[u64]) {
        let mut distinct = terms.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for t in distinct {
            // Conservative update: raise only the counters at the current minimum.
            let slots = self.slots(t);
            let least = slots.iter().map(|&s| self.counters[s]).min().unwrap_or(0);
            for s in slots {
                if self.counters[s] == least {
                    self.counters[s] = least.saturating_add(1);
                }
            }
        }
        self.docs += 1;
        if self.docs >= self.horizon {
            self.counters.iter_mut().for_each(|c| *c /= 2);
            self.docs /= 2;
        }
    }

    /// Documents counted (after halving).
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// An upper bound of the number of documents that held `term`.
    pub fn df(&self, term: u64) -> u64 {
        self.slots(term).iter().map(|&s| u64::from(self.counters[s])).min().unwrap_or(0)
    }

    /// Inverse document frequency: ln((N + 1) / (df + 1)), never negative.
    pub fn idf(&self, term: u64) -> f32 {
        let n = self.docs as f64;
        let df = (self.df(term) as f64).min(n);
        ((n + 1.0) / (df + 1.0)).ln() as f32
    }

    /// How rare a term is on a scale from 0 (in every document) to 1 (never seen): its inverse
    /// document frequency over the largest possible, ln(N + 1). Comparable across corpus sizes.
    pub fn rarity(&self, term: u64) -> f64 {
        self.rarity_of_idf(self.idf(term))
    }

    /// A term's `idf` and `rarity`, with one look into the sketch.
    pub fn both(&self, term: u64) -> (f32, f32) {
        let idf = self.idf(term);
        (idf, self.rarity_of_idf(idf) as f32)
    }

    fn rarity_of_idf(&self, idf: f32) -> f64 {
        let most = (self.docs as f64 + 1.0).ln();
        if most <= 0.0 {
            return 1.0;
        }
        (f64::from(idf) / most).clamp(0.0, 1.0)
    }

    fn slots(&self, term: u64) -> [usize; DEPTH] {
        let width = (self.mask + 1) as usize;
        std::array::from_fn(|row| {
            row * width + (mix(term ^ (row as u64 + 1).wrapping_mul(0x9e37_79b9)) & self.mask) as usize
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_documents_not_occurrences_and_rare_terms_weigh_more() {
        let mut r = Rarity::new(10, 1_000);
        for i in 0..100u64 {
            r.observe(&[1, 1, 1, 2 + i % 2]);
        }
        r.observe(&[99]);
        assert_eq!(r.docs(), 101);
        assert_eq!(r.df(1), 100);
        assert_eq!(r.df(2), 50);
        assert_eq!(r.df(99), 1);
        assert!(r.idf(99) > r.idf(2) && r.idf(2) > r.idf(1));
        assert!(r.idf(12345) >= r.idf(99));
    }

    #[test]
    fn halves_at_the_horizon_so_the_sketch_stays_bounded() {
        let mut r = Rarity::new(6, 10);
        for _ in 0..10 {
            r.observe(&[7]);
        }
        assert_eq!((r.docs(), r.df(7)), (5, 5));
        let idf = r.idf(7);
        assert!(idf.is_finite() && idf >= 0.0);
    }
}
